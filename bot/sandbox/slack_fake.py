"""A loopback HTTP server that behaves like the Slack Web API, for tests and the sandbox.

It keeps a small workspace model (channels → messages, users, user groups, ephemerals,
response_urls), validates blocks the way Slack does, enforces Slack's ~1 message/second/channel
limit with real 429s, and can inject faults. Its limit table is deliberately its own (not
imported from ``bot.slack.blocks``): the fake plays Slack and must not trust our code.

Example::

    with SlackFake(bot_token="xoxb-test") as slack:
        poster = SlackPoster("xoxb-test", slack.url)
        ts = poster.post_message({"channel": "C0ALERTS", "text": "hi"})
        assert slack.messages["C0ALERTS"][0].ts == ts
        slack.fail_next("chat.update", status=500, times=2)
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.sandbox.socket_mode import SocketModeServer

# -- Slack's limits, as Slack enforces them ----------------------------------------------------

LIMITS = {
    "blocks": 50,
    "modal_blocks": 100,
    "section_text": 3000,
    "fields": 10,
    "field_text": 2000,
    "header_text": 150,
    "context_elements": 10,
    "actions_elements": 25,
    "button_text": 75,
    "button_value": 2000,
    "button_url": 3000,
    "action_id": 255,
    "block_id": 255,
    "confirm_title": 100,
    "confirm_text": 300,
    "confirm_button": 30,
    "total_block_text": 12000,
    "message_text": 40000,
}
MESSAGE_BLOCK_TYPES = {"section", "header", "context", "divider", "actions", "image", "rich_text", "video", "file"}
# chat.postMessage: about 1 message per second per channel. chat.update is a Tier 3 method:
# about 50 calls per minute per workspace, whatever the channel.
RATE_LIMITED_METHODS = {"chat.postMessage", "chat.update"}
# Web API methods that take the app-level token (xapp-…), not the bot token.
APP_TOKEN_METHODS = {"apps.connections.open"}
UPDATES_PER_MINUTE = 50
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL = 30 * 60


class BlockError(Exception):
    """A block list Slack would refuse; ``code`` is Slack's error, ``detail`` its pointer."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def _check_text(obj: Any, where: str, limit: int, *, plain_only: bool = False) -> int:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        raise BlockError("invalid_blocks", f"{where}: must be a text object")
    if plain_only and obj["type"] != "plain_text":
        raise BlockError("invalid_blocks", f"{where}: must be plain_text")
    text = obj.get("text")
    if not isinstance(text, str) or len(text) == 0:
        raise BlockError("invalid_blocks", f"{where}/text: must be at least 1 character")
    if len(text) > limit:
        raise BlockError("invalid_blocks", f"{where}/text: must be less than {limit + 1} characters")
    if obj["type"] == "mrkdwn" and "emoji" in obj:
        raise BlockError("invalid_blocks", f"{where}: emoji is only allowed on plain_text")
    return len(text)


def _check_confirm(conf: Any, where: str) -> int:
    if not isinstance(conf, dict):
        raise BlockError("invalid_blocks", f"{where}: must be an object")
    n = _check_text(conf.get("title"), f"{where}/title", LIMITS["confirm_title"], plain_only=True)
    n += _check_text(conf.get("text"), f"{where}/text", LIMITS["confirm_text"])
    n += _check_text(conf.get("confirm"), f"{where}/confirm", LIMITS["confirm_button"], plain_only=True)
    n += _check_text(conf.get("deny"), f"{where}/deny", LIMITS["confirm_button"], plain_only=True)
    if conf.get("style") not in (None, "primary", "danger"):
        raise BlockError("invalid_blocks", f"{where}/style: must be primary or danger")
    return n


def _check_element(elem: Any, where: str, seen_action_ids: set[str]) -> int:
    if not isinstance(elem, dict):
        raise BlockError("invalid_blocks", f"{where}: must be an object")
    kind = elem.get("type")
    if kind == "image":
        if not elem.get("image_url") or not elem.get("alt_text"):
            raise BlockError("invalid_blocks", f"{where}: image needs image_url and alt_text")
        return 0
    if kind != "button":
        # Other interactive elements exist; the fake only checks what EventOps sends.
        if kind not in ("static_select", "overflow", "datepicker", "users_select", "conversations_select"):
            raise BlockError("invalid_blocks", f"{where}/type: unsupported element {kind!r}")
        return 0
    n = _check_text(elem.get("text"), f"{where}/text", LIMITS["button_text"], plain_only=True)
    action_id = elem.get("action_id")
    if action_id is not None:
        if not isinstance(action_id, str) or not 0 < len(action_id) <= LIMITS["action_id"]:
            raise BlockError("invalid_blocks", f"{where}/action_id: must be 1..{LIMITS['action_id']} characters")
        if action_id in seen_action_ids:
            raise BlockError("invalid_blocks", f"{where}/action_id: duplicate action_id {action_id!r}")
        seen_action_ids.add(action_id)
    value = elem.get("value")
    if value is not None and (not isinstance(value, str) or len(value) > LIMITS["button_value"]):
        raise BlockError("invalid_blocks", f"{where}/value: must be less than {LIMITS['button_value'] + 1} characters")
    url = elem.get("url")
    if url is not None and (not isinstance(url, str) or len(url) > LIMITS["button_url"]):
        raise BlockError("invalid_blocks", f"{where}/url: must be less than {LIMITS['button_url'] + 1} characters")
    if elem.get("style") not in (None, "primary", "danger"):
        raise BlockError("invalid_blocks", f"{where}/style: must be primary or danger")
    if "confirm" in elem:
        n += _check_confirm(elem["confirm"], f"{where}/confirm")
    return n


def validate_blocks(blocks: Any, *, max_blocks: int = LIMITS["blocks"]) -> int:
    """Raise BlockError if Slack would refuse ``blocks``; return the total text length."""
    if not isinstance(blocks, list):
        raise BlockError("invalid_blocks_format", "blocks must be a JSON array")
    if len(blocks) > max_blocks:
        raise BlockError("invalid_blocks", f"no more than {max_blocks} items allowed [json-pointer:/blocks]")
    total = 0
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"/blocks/{i}"
        if not isinstance(block, dict) or block.get("type") not in MESSAGE_BLOCK_TYPES:
            raise BlockError("invalid_blocks", f"{where}/type: unsupported block type")
        if "block_id" in block:
            bid = block["block_id"]
            if not isinstance(bid, str) or not 0 < len(bid) <= LIMITS["block_id"] or bid in block_ids:
                raise BlockError("invalid_blocks", f"{where}/block_id: invalid or duplicate")
            block_ids.add(bid)
        kind = block["type"]
        if kind == "header":
            total += _check_text(block.get("text"), f"{where}/text", LIMITS["header_text"], plain_only=True)
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                raise BlockError("invalid_blocks", f"{where}: must have text or fields")
            if "text" in block:
                total += _check_text(block["text"], f"{where}/text", LIMITS["section_text"])
            if "fields" in block:
                flds = block["fields"]
                if not isinstance(flds, list) or not 0 < len(flds) <= LIMITS["fields"]:
                    raise BlockError("invalid_blocks", f"{where}/fields: 1..{LIMITS['fields']} items")
                for j, f in enumerate(flds):
                    total += _check_text(f, f"{where}/fields/{j}", LIMITS["field_text"])
            if "accessory" in block:
                total += _check_element(block["accessory"], f"{where}/accessory", set())
        elif kind == "context":
            elems = block.get("elements")
            if not isinstance(elems, list) or not 0 < len(elems) <= LIMITS["context_elements"]:
                raise BlockError("invalid_blocks", f"{where}/elements: 1..{LIMITS['context_elements']} items")
            for j, e in enumerate(elems):
                if isinstance(e, dict) and e.get("type") == "image":
                    _check_element(e, f"{where}/elements/{j}", set())
                else:
                    total += _check_text(e, f"{where}/elements/{j}", LIMITS["section_text"])
        elif kind == "actions":
            elems = block.get("elements")
            if not isinstance(elems, list) or not 0 < len(elems) <= LIMITS["actions_elements"]:
                raise BlockError("invalid_blocks", f"{where}/elements: 1..{LIMITS['actions_elements']} items")
            seen: set[str] = set()
            for j, e in enumerate(elems):
                total += _check_element(e, f"{where}/elements/{j}", seen)
        elif kind == "image":
            if not block.get("image_url") or not block.get("alt_text"):
                raise BlockError("invalid_blocks", f"{where}: image needs image_url and alt_text")
    if total > LIMITS["total_block_text"]:
        raise BlockError("msg_blocks_too_long", f"block text totals {total} characters")
    return total


def validate_message(params: Mapping[str, Any], *, require_content: bool = True) -> None:
    """Raise BlockError for a text/blocks/metadata combination Slack would refuse."""
    text, blocks = params.get("text"), params.get("blocks")
    if require_content and not text and not blocks and not params.get("attachments"):
        raise BlockError("no_text", "text or blocks is required")
    if text is not None and (not isinstance(text, str) or len(text) > LIMITS["message_text"]):
        raise BlockError("msg_too_long", "text is longer than 40000 characters")
    if blocks is not None:
        validate_blocks(blocks)
    meta = params.get("metadata")
    if meta is not None:
        if (
            not isinstance(meta, dict)
            or not isinstance(meta.get("event_type"), str)
            or not isinstance(meta.get("event_payload"), dict)
        ):
            raise BlockError("invalid_metadata_format", "metadata needs event_type and event_payload")


# -- the workspace model -----------------------------------------------------------------------


@dataclass
class Message:
    """One message in a channel, as the fake stores it (``msg["text"]`` works too)."""

    channel: str
    ts: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    user: str = ""
    bot_id: str = ""
    edited: bool = False
    edit_count: int = 0
    # A file share (files.completeUploadExternal): the shared files, as Slack lists them.
    files: list[dict[str, Any]] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Ephemeral:
    channel: str
    user: str
    ts: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    messages: list[Message] = field(default_factory=list)

    def find(self, ts: str) -> Message | None:
        return next((m for m in self.messages if m.ts == ts), None)

    def top_level(self) -> list[Message]:
        return [m for m in self.messages if m.thread_ts in (None, m.ts)]

    def replies(self, thread_ts: str) -> list[Message]:
        return [m for m in self.messages if m.thread_ts == thread_ts and m.ts != thread_ts]


@dataclass
class ResponseURL:
    id: str
    channel: str
    message_ts: str | None
    user: str | None
    created: float
    uses: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RecordedRequest:
    """One HTTP call the fake received. ``params`` merges query, form and JSON body."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int = 200
    error: str | None = None
    at: float = 0.0

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


_ID_RE = re.compile(r"^[CGD][A-Z0-9]+$")


class Workspace:
    """Channels, users and user groups of the fake Slack. All access under ``lock``.

    Example::

        ws = Workspace()
        ws.add_user("U0ALICE", "alice")
        ws.add_usergroup("S0SECOPS", ["U0ALICE"])
        ws.channel("#alerts").id  # created on first use, e.g. "C3F2A9B10"
    """

    def __init__(self, team_id: str = "T0EVENTOPS", team: str = "eventops-sandbox") -> None:
        self.lock = threading.RLock()
        self.team_id = team_id
        self.team = team
        self.bot_user_id = "U0EVENTOPSBOT"
        self.bot_id = "B0EVENTOPS"
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: list[dict[str, Any]] = []
        self.home_views: dict[str, dict[str, Any]] = {}  # user id → the Home tab views.publish set
        # trigger_id → (user, issued at): what a click or command hands the app for views.open
        self.triggers: dict[str, tuple[str, float]] = {}
        self.response_urls: dict[str, ResponseURL] = {}
        self.files: dict[str, UploadedFile] = {}  # files upload v2 (see "file uploads" below)
        self._last_ts = 0.0

    def next_ts(self) -> str:
        with self.lock:
            now = max(time.time(), self._last_ts + 0.000001)
            self._last_ts = now
            return f"{now:.6f}"

    def channel(self, ref: str, *, create: bool = True) -> Channel | None:
        """Find a channel by id, name or #name; create it on first use unless ``create=False``."""
        with self.lock:
            if ref in self.channels:
                return self.channels[ref]
            name = ref.lstrip("#")
            for ch in self.channels.values():
                if ch.name == name:
                    return ch
            if not create or not name:
                return None
            cid = ref if _ID_RE.match(ref) else "C" + uuid.uuid5(uuid.NAMESPACE_DNS, name).hex[:10].upper()
            ch = Channel(id=cid, name=name if cid != ref else ref.lower())
            self.channels[cid] = ch
            return ch

    def add_user(self, user_id: str, name: str, **profile: Any) -> dict[str, Any]:
        with self.lock:
            user = {
                "id": user_id,
                "team_id": profile.pop("team_id", self.team_id),
                "name": name,
                "real_name": profile.pop("real_name", name),
                "is_bot": profile.pop("is_bot", False),
                "deleted": profile.pop("deleted", False),
                "profile": {"display_name": name, **profile},
            }
            self.users[user_id] = user
            return user

    def add_usergroup(self, group_id: str, members: list[str]) -> None:
        with self.lock:
            self.usergroups[group_id] = list(members)


class _MessagesView(Mapping[str, list[Message]]):
    """Read-only ``channel → messages`` view; looks channels up by id, name or #name."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws

    def __getitem__(self, key: str) -> list[Message]:
        with self._ws.lock:
            ch = self._ws.channel(key, create=False)
            if ch is None:
                raise KeyError(key)
            return list(ch.messages)

    def __iter__(self) -> Iterator[str]:
        with self._ws.lock:
            return iter(list(self._ws.channels))

    def __len__(self) -> int:
        return len(self._ws.channels)


@dataclass
class _Fault:
    status: int | None
    error: str | None
    delay: float | None
    retry_after: float | None
    times: int


# -- the server --------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) resets connections when dozens of clients post at once.
    request_queue_size = 128
    daemon_threads = True


class SlackFake:
    """The Slack Web API on ``127.0.0.1:<free port>``.

    ``url`` ends in ``/api/`` so ``WebClient(base_url=fake.url)`` works. Every call is in
    ``requests``; messages in ``messages[channel]``; 429s in ``rate_limited``.

    Example::

        with SlackFake(rate_limit=True, bot_token="xoxb-test") as slack:
            WebClient(token="xoxb-test", base_url=slack.url).chat_postMessage(channel="#a", text="hi")
            slack.fail_next("chat.postMessage", status=429, retry_after=30)
            slack.response_url("C0ALERTS", ts)  # → "http://127.0.0.1:.../response/<id>"
    """

    def __init__(
        self,
        rate_limit: bool = True,
        bot_token: str | None = None,
        *,
        min_interval: float = 1.0,
        retry_after: float | None = None,
        workspace: Workspace | None = None,
        latency_s: float = 0.0,
    ) -> None:
        self.rate_limit = rate_limit
        # Network latency: every request (Web API and response_url) waits this long before it is
        # handled, as a round trip to slack.com would (0: answered at once). ``latency_slept_s``
        # sums the waits, so a benchmark can tell time spent on the wire from its own.
        self.latency_s = latency_s
        self.latency_slept_s = 0.0
        self.bot_token = bot_token
        self.min_interval = min_interval
        self.retry_after = retry_after
        self.workspace = workspace or Workspace()
        self.requests: list[RecordedRequest] = []
        self.rate_limited = 0
        self._faults: dict[str, list[_Fault]] = {}
        self._last_post: dict[str, float] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Socket Mode (enable_socket_mode): the app-level token and the WebSocket server.
        self.app_token: str | None = None
        self.socket_mode: SocketModeServer | None = None
        # Where upload_urls and file URLs point: the sandbox console serves the fake (set there).
        self.public_base: str | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> SlackFake:
        if self._server is not None:
            return self
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-fake", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stop_socket_mode()
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SlackFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        if self._server is None:
            raise RuntimeError("SlackFake is not started")
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):  # typeshed allows a bytes host; an AF_INET server has a str one
            host = host.decode()
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        return self.base + "/api/"

    # -- inspection and control ----------------------------------------------------------------

    @property
    def lock(self) -> threading.RLock:
        return self.workspace.lock

    @property
    def messages(self) -> Mapping[str, list[Message]]:
        return _MessagesView(self.workspace)

    @property
    def ephemerals(self) -> list[Ephemeral]:
        with self.lock:
            return list(self.workspace.ephemerals)

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab ``views.publish`` last set for ``user_id`` (None: never published)."""
        with self.lock:
            return self.workspace.home_views.get(user_id)

    def calls(self, method: str) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.method == method]

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        delay: float | None = None,
        retry_after: float | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail (HTTP ``status`` or ``{"ok": false,
        "error": error}``) or just be slow (``delay`` seconds, then handled normally)."""
        if status is None and error is None and delay is None:
            status = 500
        with self.lock:
            self._faults.setdefault(method, []).append(_Fault(status, error, delay, retry_after, times))

    def trigger(self, user_id: str) -> str:
        """A trigger_id as a click or command by ``user_id`` carries it (one views.open, 3 s)."""
        return issue_trigger(self.workspace, user_id)

    def open_views(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """The modals views.open showed and nobody closed or submitted yet (``user_id``'s only)."""
        with self.lock:
            return [v for v in self.workspace.views if v["open"] and user_id in (None, v["user"])]

    def response_url(self, channel: str, message_ts: str | None = None, user: str | None = None) -> str:
        """A response_url bound to a message (as in a block_actions payload)."""
        ch = self.workspace.channel(channel)
        assert ch is not None
        rid = uuid.uuid4().hex
        with self.lock:
            self.workspace.response_urls[rid] = ResponseURL(rid, ch.id, message_ts, user, time.time())
        return f"{self.base}/response/{rid}"

    # -- request handling (called from server threads) -----------------------------------------

    def _take_fault(self, method: str) -> _Fault | None:
        with self.lock:
            queue = self._faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    def _check_rate(self, method: str, params: Mapping[str, Any]) -> float | None:
        """Seconds to wait if this call breaks 1 message/s/channel, else None (and count it)."""
        if not self.rate_limit or method not in RATE_LIMITED_METHODS:
            return None
        if method == "chat.update":
            return self._check_update_rate()
        ch = self.workspace.channel(str(params.get("channel") or ""), create=method == "chat.postMessage")
        key = ch.id if ch else str(params.get("channel"))
        now = time.monotonic()
        with self.lock:
            last = self._last_post.get(key)
            if last is not None and now - last < self.min_interval:
                return self.min_interval - (now - last)
            self._last_post[key] = now
        return None

    def _check_update_rate(self) -> float | None:
        now = time.monotonic()
        with self.lock:
            window = self._updates = [t for t in getattr(self, "_updates", []) if now - t < 60.0]
            if len(window) >= UPDATES_PER_MINUTE:
                return 60.0 - (now - window[0])
            window.append(now)
        return None

    def handle_api(self, method: str, params: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict, dict]:
        """Return (HTTP status, JSON body, extra headers) for one Web API call."""
        rec = RecordedRequest(method, params, headers, at=time.time())
        with self.lock:
            self.requests.append(rec)
        status, body, extra = self._dispatch(method, params, headers)
        rec.status = status
        rec.error = None if body.get("ok") else body.get("error")
        return status, body, extra

    def _dispatch(self, method: str, params: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict, dict]:
        fault = self._take_fault(method)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None:
                if fault.status == 429:
                    with self.lock:
                        self.rate_limited += 1
                    retry = fault.retry_after if fault.retry_after is not None else 1
                    return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": _fmt_seconds(retry)}
                return fault.status, {"ok": False, "error": fault.error or "internal_error"}, {}
            if fault.error is not None:
                return 200, {"ok": False, "error": fault.error}, {}

        if method in APP_TOKEN_METHODS:
            return self._app_token_call(method, params, headers)
        auth_error = self._check_auth(params, headers)
        if auth_error:
            return 200, {"ok": False, "error": auth_error}, {}
        handler = _METHODS.get(method)
        if handler is None:
            return 404, {"ok": False, "error": "unknown_method"}, {}
        wait = self._check_rate(method, params)
        if wait is not None:
            with self.lock:
                self.rate_limited += 1
            after = self.retry_after if self.retry_after is not None else max(1, math.ceil(wait))
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": _fmt_seconds(after)}
        try:
            with self.lock:
                body = handler(self, params)
        except BlockError as exc:
            body = {"ok": False, "error": exc.code, "response_metadata": {"messages": [f"[ERROR] {exc.detail}"]}}
        return 200, body, {}

    def _check_auth(self, params: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
        if self.bot_token is None:
            return None
        auth = headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else params.get("token")
        if not token:
            return "not_authed"
        return None if token == self.bot_token else "invalid_auth"

    # -- Socket Mode: apps.connections.open (app-level token) and its WebSocket ------------------

    def enable_socket_mode(self, app_token: str, *, app_id: str = "A0EVENTOPS") -> SocketModeServer:
        """Serve ``apps.connections.open`` for ``app_token`` (an app-level ``xapp-…`` token) and
        start the loopback WebSocket server its URLs point to (``bot.sandbox.socket_mode``)."""
        if not app_token.startswith("xapp-"):
            raise ValueError("an app-level token starts with xapp-")
        with self.lock:
            self.app_token = app_token
            if self.socket_mode is None:
                self.socket_mode = SocketModeServer(app_id=app_id).start()
            return self.socket_mode

    def stop_socket_mode(self) -> None:
        with self.lock:
            server, self.socket_mode = self.socket_mode, None
        if server is not None:
            server.stop()

    def _app_token_call(
        self, method: str, params: Mapping[str, Any], headers: Mapping[str, str]
    ) -> tuple[int, dict, dict]:
        """``apps.connections.open``: only the app-level token opens a Socket Mode connection."""
        auth = headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else params.get("token")
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if not str(token).startswith("xapp-"):
            return 200, {"ok": False, "error": "not_allowed_token_type"}, {}
        server = self.socket_mode
        if server is None or token != self.app_token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        return 200, {"ok": True, "url": server.open_url()}, {}

    def handle_response_url(self, rid: str, body: dict[str, Any]) -> tuple[int, dict]:
        with self.lock:
            self.requests.append(RecordedRequest(f"response_url:{rid}", body, {}, at=time.time()))
            ru = self.workspace.response_urls.get(rid)
            if ru is None:
                return 404, {"ok": False, "error": "no_such_response_url"}
            if ru.uses >= RESPONSE_URL_MAX_USES or time.time() - ru.created > RESPONSE_URL_TTL:
                return 404, {"ok": False, "error": "expired_url"}
            ru.uses += 1
            ru.posts.append(body)
            ws = self.workspace
            ch = ws.channels[ru.channel]
            try:
                validate_message(body, require_content=not body.get("delete_original"))
            except BlockError as exc:
                return 400, {"ok": False, "error": exc.code}
            target = ch.find(ru.message_ts) if ru.message_ts else None
            if body.get("delete_original"):
                if target:
                    ch.messages.remove(target)
            elif _truthy(body.get("replace_original")):
                if target is None:
                    return 404, {"ok": False, "error": "message_not_found"}
                _apply_update(target, body)
            elif body.get("response_type") == "in_channel":
                ch.messages.append(_new_message(ws, ch, body))
            else:
                ws.ephemerals.append(
                    Ephemeral(ch.id, ru.user or "", ws.next_ts(), body.get("text") or "", body.get("blocks") or [])
                )
            return 200, {"ok": True}


def _fmt_seconds(s: float) -> str:
    return str(int(s)) if float(s).is_integer() else f"{s:g}"


def _truthy(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.lower() in ("1", "true"))


def _new_message(ws: Workspace, ch: Channel, params: Mapping[str, Any]) -> Message:
    thread_ts = params.get("thread_ts") or None
    return Message(
        channel=ch.id,
        ts=ws.next_ts(),
        text=params.get("text") or "",
        blocks=list(params.get("blocks") or []),
        metadata=params.get("metadata"),
        thread_ts=str(thread_ts) if thread_ts else None,
        user=ws.bot_user_id,
        bot_id=ws.bot_id,
    )


def _apply_update(msg: Message, params: Mapping[str, Any]) -> None:
    if "text" in params:
        msg.text = params.get("text") or ""
    if "blocks" in params:
        msg.blocks = list(params.get("blocks") or [])
    if "metadata" in params:
        msg.metadata = params.get("metadata")
    msg.edited = True
    msg.edit_count += 1


def _message_json(msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "message", "user": msg.user, "bot_id": msg.bot_id, "ts": msg.ts, "text": msg.text}
    if msg.blocks:
        out["blocks"] = msg.blocks
    if msg.thread_ts:
        out["thread_ts"] = msg.thread_ts
    if msg.metadata:
        out["metadata"] = msg.metadata
    if msg.edited:
        out["edited"] = {"user": msg.user, "ts": msg.ts}
    if msg.files:
        out["files"] = msg.files
        out["upload"] = True
    return out


# -- Web API methods: (fake, params) -> body; run under the workspace lock ---------------------


def _auth_test(fake: SlackFake, p: dict[str, Any]) -> dict[str, Any]:
    ws = fake.workspace
    return {
        "ok": True,
        "url": f"https://{ws.team}.slack.com/",
        "team": ws.team,
        "user": "eventops",
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def _require_channel(fake: SlackFake, p: dict[str, Any], *, create: bool) -> Channel:
    ref = p.get("channel")
    ch = fake.workspace.channel(str(ref), create=create) if ref else None
    if ch is None:
        raise BlockError("channel_not_found", f"channel {ref!r}")
    return ch


def _post_message(fake: SlackFake, p: dict[str, Any]) -> dict[str, Any]:
    validate_message(p)
    ch = _require_channel(fake, p, create=True)
    msg = _new_message(fake.workspace, ch, p)
    ch.messages.append(msg)
    return {"ok": True, "channel": ch.id, "ts": msg.ts, "message": _message_json(msg)}


def _update(fake: SlackFake, p: dict[str, Any]) -> dict[str, Any]:
    ch = _require_channel(fake, p, create=False)
    msg = ch.find(str(p.get("ts") or ""))
    if msg is None:
        raise BlockError("message_not_found", f"ts {p.get('ts')!r}")
    validate_message(p, require_content=False)
    _apply_update(msg, p)
    return {"ok": True, "channel": ch.id, "ts": msg.ts, "text": msg.text, "message": _message_json(msg)}


def _post_ephemeral(fake: SlackFake, p: dict[str, Any]) -> dict[str, Any]:
    validate_message(p)
    ch = _require_channel(fake, p, create=True)
    if not p.get("user"):
        raise BlockError("user_not_in_channel", "user is required")
    eph = Ephemeral(
        ch.id,
        str(p["user"]),
        fake.workspace.next_ts(),
        p.get("text") or "",
        list(p.get("blocks") or []),
        p.get("thread_ts"),
    )
    fake.workspace.ephemerals.append(eph)
    return {"ok": True, "message_ts": eph.ts}


def _get_permalink(fake: SlackFake, p: dict[str, Any]) -> dict[str, Any]:
    ch = _require_channel(fake, p, create=False)
    ts = str(p.get("message_ts") or "")
    if ch.find(ts) is None:
        raise BlockError("message_not_found", f"ts {ts!r}")
    return {
        "ok": True,
        "channel": ch.id,
        "permalink": f"https://{fake.workspace.team}.slack.com/archives/{ch.id}/p{ts.replace('.', '')}",
    }


def _delete(fake: SlackFake, p: dict[str, Any]) -> dict[str, Any]:
    ch = _require_channel(fake, p, create=False)
    msg = ch.find(str(p.get("ts") or ""))
    if msg is None:
        raise BlockError("message_not_found", f"ts {p.get('ts')!r}")
    ch.messages.remove(msg)
    return {"ok": True, "channel": ch.id, "ts": msg.ts}


def _users_info(fake: SlackFake, p: dict[str, Any]) -> dict[str, Any]:
    user = fake.workspace.users.get(str(p.get("user") or ""))
    if user is None:
        raise BlockError("user_not_found", f"user {p.get('user')!r}")
    return {"ok": True, "user": user}


def _usergroup_users(fake: SlackFake, p: dict[str, Any]) -> dict[str, Any]:
    members = fake.workspace.usergroups.get(str(p.get("usergroup") or ""))
    if members is None:
        raise BlockError("no_such_subteam", f"usergroup {p.get('usergroup')!r}")
    return {"ok": True, "users": list(members)}


def _conversations_info(fake: SlackFake, p: dict[str, Any]) -> dict[str, Any]:
    ch = _require_channel(fake, p, create=False)
    return {
        "ok": True,
        "channel": {
            "id": ch.id,
            "name": ch.name,
            "is_channel": not ch.is_private,
            "is_private": ch.is_private,
            "is_member": True,
            "is_ext_shared": False,
            "is_shared": False,
        },
    }


# A trigger_id is good for one views.open within 3 seconds of the click or command (Slack's rule).
TRIGGER_TTL_S = 3.0
VIEW_TITLE_MAX = 24
VIEW_SUBMIT_MAX = 24
PRIVATE_METADATA_MAX = 3000
INPUT_ELEMENT_TYPES = {
    "plain_text_input",
    "number_input",
    "static_select",
    "radio_buttons",
    "checkboxes",
    "datepicker",
    "users_select",
    "conversations_select",
}


def issue_trigger(ws: Workspace, user_id: str) -> str:
    """A fresh trigger_id for a click or command by ``user_id`` (Slack's servers make these)."""
    trigger = f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex[:32]}"
    with ws.lock:
        ws.triggers[trigger] = (user_id, time.monotonic())
    return trigger


def _check_view(view: Any) -> None:
    """Raise BlockError for a modal Slack would refuse: title/submit text, input blocks, limits."""
    if not isinstance(view, dict) or view.get("type") != "modal":
        raise BlockError("invalid_arguments", "view must be a modal")
    for key, limit in (("title", VIEW_TITLE_MAX), ("submit", VIEW_SUBMIT_MAX), ("close", VIEW_SUBMIT_MAX)):
        if key in view or key == "title":
            _check_text(view.get(key), f"/view/{key}", limit, plain_only=True)
    meta = view.get("private_metadata", "")
    if not isinstance(meta, str) or len(meta) > PRIVATE_METADATA_MAX:
        raise BlockError("invalid_arguments", f"private_metadata must be at most {PRIVATE_METADATA_MAX} characters")
    blocks = view.get("blocks") or []
    if not isinstance(blocks, list) or len(blocks) > LIMITS["modal_blocks"]:
        raise BlockError(
            "invalid_blocks", f"no more than {LIMITS['modal_blocks']} items allowed [json-pointer:/blocks]"
        )
    inputs = [b for b in blocks if isinstance(b, dict) and b.get("type") == "input"]
    if inputs and "submit" not in view:
        raise BlockError("invalid_arguments", "a view with input blocks needs a submit button")
    ids: set[str] = set()
    for i, block in enumerate(inputs):
        where = f"/view/blocks/{i}"
        _check_text(block.get("label"), f"{where}/label", 2000, plain_only=True)
        bid, element = block.get("block_id"), block.get("element")
        if not isinstance(bid, str) or not bid or bid in ids or len(bid) > LIMITS["block_id"]:
            raise BlockError("invalid_blocks", f"{where}/block_id: invalid or duplicate")
        ids.add(bid)
        if not isinstance(element, dict) or element.get("type") not in INPUT_ELEMENT_TYPES:
            raise BlockError("invalid_blocks", f"{where}/element: unsupported input element")
        if not element.get("action_id"):
            raise BlockError("invalid_blocks", f"{where}/element/action_id: required")
    validate_blocks([b for b in blocks if b not in inputs], max_blocks=LIMITS["modal_blocks"])


def _views_open(fake: SlackFake, p: dict[str, Any]) -> dict[str, Any]:
    trigger = p.get("trigger_id")
    if not trigger:
        raise BlockError("invalid_trigger_id", "trigger_id is required")
    issued = fake.workspace.triggers.pop(str(trigger), None)
    if issued is None:
        raise BlockError("invalid_trigger_id", "this trigger_id was never issued or was used already")
    user, at = issued
    if time.monotonic() - at > TRIGGER_TTL_S:
        raise BlockError("expired_trigger_id", f"the trigger_id is older than {TRIGGER_TTL_S:g} s")
    view = p.get("view")
    _check_view(view)
    assert isinstance(view, dict)
    view_id = "V" + uuid.uuid4().hex[:10].upper()
    shown = {**view, "id": view_id, "state": {"values": {}}, "hash": uuid.uuid4().hex[:16]}
    # what the fake keeps: the view as shown, whose it is, and what happened to it since
    fake.workspace.views.append({**shown, "trigger_id": trigger, "user": user, "open": True, "errors": {}})
    return {"ok": True, "view": shown}


def _views_publish(fake: SlackFake, p: dict[str, Any]) -> dict[str, Any]:
    """views.publish as Slack checks it: a known ``user_id``, a ``home`` view, ≤ 100 valid blocks."""
    user = p.get("user_id")
    if not isinstance(user, str) or not user:
        raise BlockError("invalid_arguments", "user_id is required")
    if user not in fake.workspace.users:
        raise BlockError("user_not_found", f"user {user!r}")
    view = p.get("view")
    if not isinstance(view, dict) or view.get("type") != "home":
        raise BlockError("invalid_arguments", "view must be an object with type home")
    for key, limit in (("private_metadata", 3000), ("callback_id", 255), ("external_id", 255)):
        if key in view and (not isinstance(view[key], str) or len(view[key]) > limit):
            raise BlockError("invalid_arguments", f"view.{key} must be a string of at most {limit} characters")
    validate_blocks(view.get("blocks"), max_blocks=LIMITS["modal_blocks"])
    previous = fake.workspace.home_views.get(user)
    if p.get("hash") and previous is not None and p["hash"] != previous["hash"]:
        raise BlockError("hash_conflict", "the view was published again since that hash")
    stored = {**view, "id": (previous or {}).get("id") or "V" + uuid.uuid4().hex[:10].upper()}
    stored["hash"] = f"{time.time():.6f}.{uuid.uuid4().hex[:8]}"
    fake.workspace.home_views[user] = stored
    return {"ok": True, "view": stored}


_METHODS = {
    "auth.test": _auth_test,
    "chat.postMessage": _post_message,
    "chat.update": _update,
    "chat.postEphemeral": _post_ephemeral,
    "chat.getPermalink": _get_permalink,
    "chat.delete": _delete,
    "users.info": _users_info,
    "usergroups.users.list": _usergroup_users,
    "conversations.info": _conversations_info,
    "views.open": _views_open,
    "views.publish": _views_publish,
}

# Form-encoded calls carry these as JSON strings.
_JSON_PARAMS = ("blocks", "metadata", "view", "attachments")


def _decode_body(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    if "application/json" in content_type:
        data = json.loads(raw.decode("utf-8"))
        return data if isinstance(data, dict) else {}
    params = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
    for key in _JSON_PARAMS:
        if isinstance(params.get(key), str) and params[key]:
            try:
                params[key] = json.loads(params[key])
            except json.JSONDecodeError:
                pass  # left as a string; validation reports it the way Slack would
    return params


class _Handler(BaseHTTPRequestHandler):
    fake: SlackFake
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the fake's own record is `requests`; stderr noise (and URLs) stay out of test logs

    def _send(self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if parts.path.startswith(("/upload/", "/files/")):
            self._file_route(parts.path, raw)
            return
        try:
            params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            params.update(_decode_body(self.headers.get("Content-Type", ""), raw))
        except (ValueError, UnicodeDecodeError):
            self._send(400, {"ok": False, "error": "invalid_json"})
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        delay = self.fake.latency_s
        if delay > 0:
            time.sleep(delay)
            with self.fake.lock:
                self.fake.latency_slept_s += delay
        if parts.path.startswith("/api/"):
            status, body, extra = self.fake.handle_api(parts.path[len("/api/") :], params, headers)
            self._send(status, body, extra)
        elif parts.path.startswith("/response/"):
            status, body = self.fake.handle_response_url(parts.path[len("/response/") :], params)
            self._send(status, body)
        else:
            self._send(404, {"ok": False, "error": "not_found"})

    def _file_route(self, path: str, raw: bytes) -> None:
        """Upload v2's upload_url (POST) and the shared file's bytes (GET)."""
        if self.command == "POST" and path.startswith("/upload/"):
            status, body = handle_upload(self.fake, path[len("/upload/") :], raw)
            self._send(status, body)
            return
        found = file_content(self.fake, path[len("/files/") :]) if self.command == "GET" else None
        if found is None:
            self._send(404, {"ok": False, "error": "file_not_found"})
            return
        data, ctype = found
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()


# -- file uploads (Slack's upload v2) ----------------------------------------------------------
#
# files.getUploadURLExternal(filename, length) → {upload_url, file_id}; POST the bytes to
# upload_url (``/upload/<file_id>`` on the fake: the length must match, faults via
# ``fail_next("upload")``); files.completeUploadExternal(files=[{id, title}], channel_id,
# thread_ts, initial_comment) shares them as one message (a thread reply with thread_ts) whose
# ``files`` entries point at ``/files/<file_id>/<filename>``, where the bytes are served.

FILE_MAX_BYTES = 1024 * 1024 * 1024  # Slack's 1 GB file limit


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    title: str = ""
    content: bytes | None = None  # None until the upload_url received the bytes
    shared_in: list[str] = field(default_factory=list)  # "<channel>/<message ts>"

    @property
    def mimetype(self) -> str:
        return "image/png" if self.filename.lower().endswith(".png") else "application/octet-stream"


def _file_base(fake: SlackFake) -> str:
    return fake.public_base or fake.base


def _file_json(fake: SlackFake, f: UploadedFile) -> dict[str, Any]:
    url = f"{_file_base(fake)}/files/{f.id}/{f.filename}"
    return {
        "id": f.id,
        "name": f.filename,
        "title": f.title or f.filename,
        "mimetype": f.mimetype,
        "filetype": f.filename.rsplit(".", 1)[-1].lower() if "." in f.filename else "binary",
        "size": f.length,
        "url_private": url,
        "url_private_download": url,
        "is_external": False,
    }


def _get_upload_url(fake: SlackFake, p: dict[str, Any]) -> dict[str, Any]:
    filename = p.get("filename")
    if not isinstance(filename, str) or not filename:
        raise BlockError("invalid_arguments", "filename is required")
    try:
        length = int(p.get("length") or 0)
    except (TypeError, ValueError):
        length = 0
    if length <= 0 or length > FILE_MAX_BYTES:
        raise BlockError("invalid_arguments", "length must be 1 byte to 1 GB")
    fid = "F" + uuid.uuid4().hex[:10].upper()
    fake.workspace.files[fid] = UploadedFile(fid, filename, length)
    return {"ok": True, "upload_url": f"{_file_base(fake)}/upload/{fid}", "file_id": fid}


def _complete_upload(fake: SlackFake, p: dict[str, Any]) -> dict[str, Any]:
    try:
        entries = json.loads(p["files"]) if isinstance(p.get("files"), str) else p.get("files")
    except (KeyError, ValueError):
        entries = None
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise BlockError("invalid_arguments", "files must be a JSON list of {id, title}")
    ws = fake.workspace
    shared: list[UploadedFile] = []
    for entry in entries:
        f = ws.files.get(str(entry.get("id")))
        if f is None:
            raise BlockError("file_not_found", f"file {entry.get('id')!r}")
        if f.content is None:
            raise BlockError("file_upload_not_complete", f"file {f.id}: its bytes were never uploaded")
        f.title = str(entry.get("title") or f.title)
        shared.append(f)
    channel_id = p.get("channel_id")
    if channel_id:
        ch = _require_channel(fake, {"channel": channel_id}, create=False)
        thread_ts = p.get("thread_ts") or None
        if thread_ts and ch.find(str(thread_ts)) is None:
            raise BlockError("invalid_thread_ts", f"no message {thread_ts} in {ch.id}")
        msg = _new_message(ws, ch, {"text": p.get("initial_comment") or "", "thread_ts": thread_ts})
        msg.files = [_file_json(fake, f) for f in shared]
        ch.messages.append(msg)
        for f in shared:
            f.shared_in.append(f"{ch.id}/{msg.ts}")
    return {"ok": True, "files": [_file_json(fake, f) for f in shared]}


_METHODS["files.getUploadURLExternal"] = _get_upload_url
_METHODS["files.completeUploadExternal"] = _complete_upload


def handle_upload(fake: SlackFake, file_id: str, raw: bytes) -> tuple[int, dict[str, Any]]:
    """The upload_url's POST: store the bytes when the file is known and the length matches."""
    rec = RecordedRequest("upload", {"file_id": file_id, "bytes": len(raw)}, {}, at=time.time())
    with fake.lock:
        fake.requests.append(rec)
    fault = fake._take_fault("upload")
    if fault is not None and fault.status is not None:
        rec.status, rec.error = fault.status, fault.error or "upload_failed"
        return fault.status, {"ok": False, "error": rec.error}
    with fake.lock:
        f = fake.workspace.files.get(file_id)
        if f is None:
            rec.status, rec.error = 404, "file_not_found"
        elif f.content is not None:
            rec.status, rec.error = 409, "already_uploaded"
        elif len(raw) != f.length:
            rec.status, rec.error = 400, f"length_mismatch: {len(raw)} bytes, {f.length} declared"
        else:
            f.content = bytes(raw)
            return 200, {"ok": True, "file_id": file_id, "bytes": len(raw)}
    return rec.status, {"ok": False, "error": rec.error}


def file_content(fake: SlackFake, path: str) -> tuple[bytes, str] | None:
    """(bytes, content type) of ``<file_id>[/<filename>]`` once uploaded, else None."""
    with fake.lock:
        f = fake.workspace.files.get(path.split("/", 1)[0])
        if f is None or f.content is None:
            return None
        return f.content, f.mimetype
