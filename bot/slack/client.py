"""A thin, budget-aware wrapper around slack_sdk's WebClient.

Retries connection errors, 5xx and 429s. A 429 whose Retry-After does not fit in what is left
of the Lambda invocation raises ``RetryLaterError`` instead of sleeping, so the SQS record is
re-queued rather than timing out half-done. Errors surface as ``SlackError`` carrying Slack's
error code and never the token.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from http.client import RemoteDisconnected
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient

from bot.errors import RetryLaterError, SlackError

# docs/reliability.md #13: slack_sdk/slack_bolt debug logs carry request bodies and response_urls.
for _name in ("slack_sdk", "slack_bolt"):
    logging.getLogger(_name).setLevel(logging.WARNING)

log = logging.getLogger("eventops.slack")

_RETRY_AFTER_DEFAULT = 1.0
# Where Slack's slash-command response_urls point (https://hooks.slack.com/commands/…).
SLACK_RESPONSE_HOST = "hooks.slack.com"


def _retry_after(response: HttpResponse) -> float:
    for key, values in response.headers.items():
        if key.lower() == "retry-after":
            value = values[0] if isinstance(values, list) else values
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                break
    return _RETRY_AFTER_DEFAULT


def _method_of(request: HttpRequest) -> str:
    return request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class BudgetedRateLimitRetryHandler(RetryHandler):
    """Sleeps Retry-After on a 429 when the invocation has time for it, else RetryLaterError.

    Example::

        handler = BudgetedRateLimitRetryHandler(time_left=lambda: ctx.get_remaining_time_in_millis() / 1000)
    """

    def __init__(
        self,
        *,
        time_left: Callable[[], float] | None = None,
        margin: float = 2.0,
        max_retry_count: int = 3,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        on_limited: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.time_left = time_left
        self.margin = margin
        self.max_wait = max_wait
        self.sleep = sleep
        self.on_limited = on_limited  # told the method of every 429

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if self.on_limited is not None:
            self.on_limited(_method_of(request))
        wait = _retry_after(response) if response is not None else _RETRY_AFTER_DEFAULT
        left = self.time_left() if self.time_left is not None else self.max_wait + self.margin
        if wait + self.margin > left or wait > self.max_wait:
            raise RetryLaterError(
                f"{_method_of(request)}: Slack asked us to wait {wait:g}s but this invocation has only "
                f"{left:.1f}s left (keeping a {self.margin:g}s margin), so it does not wait here",
                retry_after=wait,
            )
        state.next_attempt_requested = True
        self.sleep(wait + random.random() * 0.1)
        state.increment_current_attempt()


class BudgetedServerErrorRetryHandler(RetryHandler):
    """Retries 500/502/503/504 and connection errors with a short backoff, within the budget."""

    def __init__(
        self,
        *,
        time_left: Callable[[], float] | None = None,
        margin: float = 2.0,
        max_retry_count: int = 2,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.time_left = time_left
        self.margin = margin
        self.backoff = backoff
        self.sleep = sleep

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None:
            retry = response.status_code in (500, 502, 503, 504)
        else:
            # Not read timeouts: Slack may have posted already, and a retry would post twice.
            retry = isinstance(error, (URLError, ConnectionError, RemoteDisconnected)) and not isinstance(
                error, TimeoutError
            )
        if retry and self.time_left is not None:
            retry = self.time_left() > self._delay(state) + self.margin
        return retry

    def _delay(self, state: RetryState) -> float:
        return self.backoff * (2**state.current_attempt)

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self.sleep(self._delay(state) * (1 + random.random() * 0.2))
        state.increment_current_attempt()


class SlackPoster:
    """Posts and updates messages; the only object outside Bolt that calls Slack.

    Example::

        poster = SlackPoster(settings.slack_bot_token, settings.slack_api_url,
                             time_left=lambda: context.get_remaining_time_in_millis() / 1000)
        ts = poster.post_message(render_alert(alert, channel="C0123"))
        poster.update_message("C0123", ts, render_alert(alert, channel="C0123", count=2))
    """

    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        time_left: Callable[[], float] | None = None,
        timeout: int = 10,
        margin: float = 2.0,
        server_error_retries: int = 2,
        backoff: float = 0.5,
        pace_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url.endswith("/"):
            base_url += "/"
        self._token = token
        # Slack takes about one message per second per channel (chat.postMessage). Once Slack
        # has answered a post to a channel with 429, this poster spaces its posts to that
        # channel by ``pace_s``: the rest of a burst waits a fraction of a second per post
        # instead of a whole Retry-After per 429 (0 turns pacing off).
        self._pace_s = pace_s
        self._time_left = time_left
        self._pace_margin = margin + timeout
        self._sleep = sleep
        self._last_post: dict[str, float] = {}
        self._paced: set[str] = set()  # channels Slack rate-limited this poster's posts to
        self._posting = threading.local()  # .channel: where this thread is posting (a batch posts from several)
        self._base = urlsplit(base_url)
        self._retry_handlers: list[RetryHandler] = [
            BudgetedRateLimitRetryHandler(time_left=time_left, margin=margin + timeout, on_limited=self._limited),
            BudgetedServerErrorRetryHandler(
                time_left=time_left, margin=margin + timeout, max_retry_count=server_error_retries, backoff=backoff
            ),
        ]
        self._client = WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=self._retry_handlers)
        # Counter refreshes that can wait (``update_message(patient=False)``): 5xx are retried,
        # a 429 is not waited out; until its Retry-After has passed, they do not call Slack.
        self._impatient = WebClient(
            token=token, base_url=base_url, timeout=timeout, retry_handlers=self._retry_handlers[1:]
        )
        self._updates_resume_at = 0.0

    # -- public API ----------------------------------------------------------------------------

    def post_message(self, payload: dict[str, Any]) -> str:
        """chat.postMessage with a payload from ``render_*`` (must hold ``channel``); returns ts."""
        return self.post(payload)[1]

    def post(self, payload: dict[str, Any]) -> tuple[str, str]:
        """chat.postMessage; returns (channel id, ts). chat.update needs the id, not a #name."""
        channel = str(payload["channel"])
        self._pace(channel)
        try:
            resp = self._call("chat.postMessage", _message_args(payload))
        finally:
            self._posted(channel)
        channel_id = str(resp.get("channel") or channel)
        if channel in self._paced:
            self._paced.add(channel_id)  # chat.update and replies name the channel by id
        self._posted(channel_id)
        return channel_id, str(resp["ts"])

    def update_message(self, channel: str, ts: str, payload: dict[str, Any], *, patient: bool = True) -> None:
        """chat.update: replace the text, blocks and metadata of an existing message.

        ``patient=False`` is for an update that a later one supersedes (a repeat counter): on a
        429 it raises ``RetryLaterError`` at once instead of sleeping Retry-After (chat.update's
        limit is per workspace, so the next update would wait too), and until that Retry-After
        has passed further impatient updates raise without calling Slack. The caller leaves the
        message dirty; the next batch or housekeeping shows the count."""
        if not patient and time.monotonic() < self._updates_resume_at:
            wait = self._updates_resume_at - time.monotonic()
            raise RetryLaterError(f"chat.update: rate-limited for {wait:.1f}s more; not sent", retry_after=wait)
        args = _message_args({**payload, "channel": channel})
        args["ts"] = ts
        for key in ("thread_ts", "unfurl_links", "unfurl_media", "reply_broadcast"):
            args.pop(key, None)
        try:
            self._call("chat.update", args, client=self._client if patient else self._impatient)
        except RetryLaterError as exc:
            if not patient:
                self._updates_resume_at = time.monotonic() + max(exc.retry_after, _RETRY_AFTER_DEFAULT)
            raise

    def post_reply(self, channel: str, thread_ts: str, payload: dict[str, Any]) -> str:
        """chat.postMessage in the thread of ``thread_ts``; returns the reply's ts."""
        args = _message_args({**payload, "channel": channel})
        args["thread_ts"] = thread_ts
        self._pace(channel)
        try:
            resp = self._call("chat.postMessage", args)
        finally:
            self._posted(channel)
        return str(resp["ts"])

    def post_ephemeral(self, channel: str, user: str, payload: dict[str, Any]) -> None:
        """chat.postEphemeral: a message only ``user`` sees."""
        args = _message_args({**payload, "channel": channel})
        args["user"] = user
        args.pop("metadata", None)
        self._call("chat.postEphemeral", args)

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        """views.open: show a modal to the user whose click or command carried ``trigger_id``
        (valid for 3 s, once); returns the view's id."""
        resp = self._call("views.open", {"trigger_id": trigger_id, "view": view})
        return str((resp.get("view") or {}).get("id") or "")

    def permalink(self, channel: str, ts: str) -> str | None:
        """The message's permalink, or None if Slack cannot give one (never raises SlackError)."""
        try:
            resp = self._call("chat.getPermalink", {"channel": channel, "message_ts": ts})
        except RetryLaterError:
            raise
        except SlackError as exc:
            log.warning("chat.getPermalink failed: %s", exc)
            return None
        link = resp.get("permalink")
        return str(link) if link else None

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        """views.publish: ``view`` (type ``home``) becomes ``user_id``'s App Home tab."""
        self._call("views.publish", {"user_id": user_id, "view": view})

    def users_in_group(self, group_id: str) -> list[str]:
        """User ids in a Slack user group (usergroups.users.list)."""
        resp = self._call("usergroups.users.list", {"usergroup": group_id})
        return [str(u) for u in resp.get("users") or []]

    def respond(self, response_url: str, body: dict[str, Any], *, timeout: int = 10) -> None:
        """POST a reply to a slash command's ``response_url`` (a bearer URL: never logged).

        Only to Slack's response_url host (https://hooks.slack.com/…) or, for the sandbox and
        tests, the host of ``SLACK_API_URL``: a URL from anywhere else is refused (SlackError),
        so a job can never make the bot post command output to an arbitrary host."""
        if not self.is_response_url(response_url):
            raise _slack_error("response_url: not a Slack response_url host; refused", "bad_response_url")
        try:
            client = WebhookClient(response_url, timeout=timeout, retry_handlers=self._retry_handlers)
            resp = client.send_dict(body)
        except (SlackClientError, OSError, ValueError) as exc:
            raise _slack_error(f"response_url: {type(exc).__name__}", "connection_error") from None
        if resp.status_code >= 400:
            raise _slack_error(f"response_url: HTTP {resp.status_code}", f"http_{resp.status_code}")

    def upload_file(
        self,
        channel: str,
        thread_ts: str,
        *,
        filename: str,
        content: bytes,
        title: str,
        initial_comment: str = "",
    ) -> str:
        """Share ``content`` as a file in the thread of ``thread_ts`` (Slack's upload v2:
        files.getUploadURLExternal → POST the bytes to its upload_url →
        files.completeUploadExternal, through slack_sdk's ``files_upload_v2``). Needs the
        ``files:write`` scope. Returns the file id; raises SlackError."""
        self._pace(channel)
        try:
            resp = self._client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                filename=filename,
                content=content,
                title=title,
                initial_comment=initial_comment or None,
            )
        except RetryLaterError:
            raise
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            code = str(data.get("error") or f"http_{exc.response.status_code}")
            raise _slack_error(self._redact(f"files upload: {code} (HTTP {exc.response.status_code})"), code) from None
        except (SlackClientError, OSError, ValueError) as exc:
            raise _slack_error(self._redact(f"files upload: {type(exc).__name__}: {exc}"), "upload_failed") from None
        finally:
            self._posted(channel)
        file = resp.get("file") if isinstance(resp.data, dict) else None
        return str(file.get("id", "")) if isinstance(file, dict) else ""

    def is_response_url(self, url: str) -> bool:
        """Is ``url`` on Slack's response_url host, or on the configured API's host?"""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        if parts.scheme == "https" and parts.hostname == SLACK_RESPONSE_HOST and port in (None, 443):
            return True
        base = self._base
        return bool(base.hostname) and (parts.scheme, parts.hostname, port) == (base.scheme, base.hostname, base.port)

    # -- internals -----------------------------------------------------------------------------

    def _limited(self, method: str) -> None:
        channel = getattr(self._posting, "channel", "")
        if method == "chat.postMessage" and channel:
            self._paced.add(channel)

    def _pace(self, channel: str) -> None:
        """For a channel Slack rate-limited: wait out the rest of ``pace_s`` since this poster's
        last post to it, when the invocation has the time (else post now: a 429 is handled)."""
        self._posting.channel = channel
        last = self._last_post.get(channel)
        if last is None or self._pace_s <= 0 or channel not in self._paced:
            return
        wait = last + self._pace_s - time.monotonic()
        if wait > 0 and (self._time_left is None or self._time_left() - self._pace_margin > wait):
            self._sleep(wait)

    def _posted(self, channel: str) -> None:
        self._last_post[channel] = time.monotonic()

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "xox?-***") if self._token else text

    def _call(self, method: str, args: dict[str, Any], client: WebClient | None = None) -> dict[str, Any]:
        try:
            resp = (client or self._client).api_call(method, json=args)
        except RetryLaterError:
            raise
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            code = str(data.get("error") or f"http_{exc.response.status_code}")
            status = exc.response.status_code
            if status == 429 or code == "ratelimited":
                retry_after = _header_retry_after(exc.response.headers)
                raise RetryLaterError(f"{method}: ratelimited (still after retries)", retry_after=retry_after) from None
            raise _slack_error(self._redact(f"{method}: {code} (HTTP {status})"), code) from None
        except (SlackClientError, OSError, ValueError) as exc:
            # Connection failures after retries; the message may hold the URL, never the token.
            raise _slack_error(self._redact(f"{method}: {type(exc).__name__}: {exc}"), "connection_error") from None
        data = resp.data if isinstance(resp.data, dict) else {}
        return data


def _slack_error(message: str, code: str) -> SlackError:
    err = SlackError(message)
    err.code = code  # type: ignore[attr-defined]  # Slack's error code, e.g. "message_not_found"
    return err


def _header_retry_after(headers: Any) -> float:
    try:
        for key, value in dict(headers or {}).items():
            if key.lower() == "retry-after":
                return float(value[0] if isinstance(value, list) else value)
    except (TypeError, ValueError):
        pass
    return _RETRY_AFTER_DEFAULT


_MESSAGE_KEYS = (
    "channel",
    "text",
    "blocks",
    "metadata",
    "thread_ts",
    "reply_broadcast",
    "unfurl_links",
    "unfurl_media",
)


def _message_args(payload: dict[str, Any]) -> dict[str, Any]:
    if not payload.get("channel"):
        raise ValueError("payload has no channel")
    args = {k: payload[k] for k in _MESSAGE_KEYS if k in payload and payload[k] is not None}
    # Console links should not unfold into large previews under every alert.
    args.setdefault("unfurl_links", False)
    args.setdefault("unfurl_media", False)
    return args
