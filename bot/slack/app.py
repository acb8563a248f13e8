"""The Bolt app: signature check, Slack-retry guard, and listeners that hand plain data over.

``bot/slack`` never imports boto3, so the app knows nothing about DynamoDB or SQS: the caller
injects callbacks (``handlers/slack.py`` wires ``bot.approval.clicks`` and ``bot.commands``).
Every request is signature-checked by Bolt's ``RequestVerification`` (timestamp within 300 s,
HMAC over the raw body); Bolt's ``SslCheck`` answers ``ssl_check=1`` with an empty 200 and
runs nothing. A request Slack *retries* (``X-Slack-Retry-Num``) is answered 200 after the
signature check and runs nothing: Bolt itself would run the listener again (docs/design.md "Measured facts"), and
Slack only retries when our first answer was late, i.e. the first delivery is still running.
Even if it were not, every decision is a conditional write, so a second run could not act twice.

No network call is made by the app itself: ``token_verification_enabled=False`` and an
``authorize`` function that only echoes the request's ids (no ``auth.test``).

Example::

    app = build_app(secret, on_action=lambda click: flow.handle_action(rt, click),
                    on_command=lambda cmd: CommandReply("hi"), on_view=lambda view: None)
    response = app.dispatch(BoltRequest(body=raw_body, headers=headers))
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.middleware import Middleware

from bot.slack.home import HomeOpened, parse_home_opened
from bot.slack.payloads import (
    ACTION_PREFIX,
    EXPLAIN_SHORTCUT_ID,
    ActionRequest,
    CommandReply,
    CommandRequest,
    OptionsReply,
    ShortcutRequest,
    ViewRequest,
    parse_action,
    parse_command,
    parse_message_shortcut,
    parse_view,
    payload_problem,
)

# docs/reliability.md #13: Bolt's INFO log of an invalid signature prints the whole body.
for _name in ("slack_bolt", "slack_sdk"):
    logging.getLogger(_name).setLevel(logging.WARNING)

log = logging.getLogger("eventops.slack")

RETRY_HEADER = "x-slack-retry-num"

OnAction = Callable[[ActionRequest], object]  # what it returns is for logs and tests
OnCommand = Callable[[CommandRequest], CommandReply]
OnView = Callable[[ViewRequest], "dict[str, Any] | None"]
OnOptions = Callable[[dict[str, Any]], OptionsReply]
OnHomeOpened = Callable[[HomeOpened], object]
OnShortcut = Callable[[ShortcutRequest], object]  # answers the user itself (an ephemeral)


def _authorize(enterprise_id: str | None = None, team_id: str | None = None, user_id: str | None = None, **_: Any):
    # Single-workspace app: nothing to look up; the bot token lives in bot.runtime, not here.
    return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)


class _SkipRetries(Middleware):
    """Answer Slack's retries 200 without running listeners, and malformed payloads 400 (both
    after the signature check).

    A ``Middleware`` subclass, not a function for ``app.use``: Bolt builds a function
    middleware's arguments from the body (``body["actions"][0]``…), which raises on a signed but
    malformed payload and turns it into a 500.
    """

    def process(self, *, req: Any, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        retry = req.headers.get(RETRY_HEADER)
        # Socket Mode sends every events_api envelope with retry_attempt 0 (Bolt turns it into
        # the header): only a retry number above 0 is a retry.
        if retry and retry[0] not in ("", "0"):
            reason = (req.headers.get("x-slack-retry-reason") or ["?"])[0]
            log.info("Slack retry #%s (%s) answered without running listeners", retry[0], reason)
            return BoltResponse(status=200, body="")
        problem = payload_problem(req.body)
        if problem:
            # Bolt's own listener matchers index into these (body["actions"][0]) and would 500.
            log.warning("refusing a signed but malformed Slack payload: %s", problem)
            return BoltResponse(status=400, body=f"malformed payload: {problem}")
        return next()


def build_app(
    signing_secret: str,
    *,
    on_action: OnAction,
    on_command: OnCommand,
    on_view: OnView,
    on_options: OnOptions | None = None,
    on_home_opened: OnHomeOpened | None = None,
    on_shortcut: OnShortcut | None = None,
) -> App:
    """A Bolt ``App`` whose listeners parse the body and call the injected callbacks.

    ``on_action`` runs after ``ack()`` but before the HTTP response is sent
    (``process_before_response=True``, as Lambda requires), so it must finish well within
    Slack's 3 seconds: record the decision and enqueue, nothing slow.
    """
    if not signing_secret:
        raise ValueError("a signing secret is required: requests are never served unverified")
    app = App(
        signing_secret=signing_secret,
        authorize=_authorize,
        token_verification_enabled=False,
        request_verification_enabled=True,
        ssl_check_enabled=True,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )
    app.use(_SkipRetries())

    @app.action(re.compile("^" + re.escape(ACTION_PREFIX)))
    def _eventops_action(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        on_action(parse_action(body, action))

    @app.action(re.compile(".*"))
    def _foreign_action(ack: Any, action: dict[str, Any]) -> None:
        ack()
        log.warning("ignoring a click on an element EventOps did not send (action_id %r)", action.get("action_id"))

    @app.command(re.compile(".*"))
    def _command(ack: Any, body: dict[str, Any]) -> None:
        reply = on_command(parse_command(body))
        ack(**reply.body())

    @app.view(re.compile("^" + re.escape(ACTION_PREFIX)))
    def _view(ack: Any, body: dict[str, Any]) -> None:
        result = on_view(parse_view(body))
        ack(**result) if result else ack()

    @app.view_closed(re.compile(".*"))
    def _view_closed(ack: Any) -> None:
        ack()

    @app.options(re.compile(".*"))
    def _options(ack: Any, body: dict[str, Any]) -> None:
        reply = on_options(body) if on_options else OptionsReply()
        ack(options=reply.options)

    _explain_shortcut(app, on_shortcut)

    @app.shortcut(re.compile(".*"))
    def _shortcut(ack: Any, body: dict[str, Any]) -> None:
        ack()
        log.warning("ignoring shortcut %r: EventOps defines no such shortcut", body.get("callback_id"))

    if on_home_opened is not None:
        _listen_home_opened(app, on_home_opened)
    return app


def _listen_home_opened(app: App, on_home_opened: OnHomeOpened) -> None:
    """``app_home_opened`` (Events API): publish the user's Home tab. Bolt acks an event itself;
    with ``process_before_response`` the listener runs before the 200, so it must fit in 3 s."""

    @app.event("app_home_opened")
    def _home_opened(body: dict[str, Any]) -> None:
        opened = parse_home_opened(body)
        if isinstance(opened, str):
            log.info("app_home_opened not answered: %s", opened)
            return
        on_home_opened(opened)


def _explain_shortcut(app: App, on_shortcut: OnShortcut | None) -> None:
    """The "Explain with EventOps" message shortcut: ack, then ``on_shortcut`` answers the user."""
    if on_shortcut is None:
        return

    @app.message_shortcut(EXPLAIN_SHORTCUT_ID)
    def _explain(ack: Any, body: dict[str, Any]) -> None:
        ack()
        on_shortcut(parse_message_shortcut(body))
