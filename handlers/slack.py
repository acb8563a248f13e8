"""Lambda entry point: Slack's HTTP requests (API Gateway HTTP API v2 or REST v1) → Bolt.

Translation only: normalize the event (base64 bodies, a missing ``isBase64Encoded`` — Bolt's
own adapter raises KeyError on that —, v1 and v2 header shapes, ``null`` query strings), build a
``BoltRequest``, let the Bolt app from ``bot.slack.app`` verify the signature and dispatch, and
return its response. Clicks go to ``bot.approval.clicks.handle_action``; modal submissions to
``bot.views.handle_view``; slash commands to ``bot.commands.answer_request`` (slow ones are queued
for the worker and answered via response_url); the Events API's ``app_home_opened`` to
``bot.home.publish_home`` (the viewer's Home tab).

Built once per cold start: the Runtime and the Bolt app (Bolt is imported on first request).
Log lines are JSON (``bot.logs``); once a request's signature checks out, each carries what it
is as ``correlation_id``: the button's target (a proposal or alert id) or the ``/ops``
sub-command, with the action id or command as ``interaction``.

Example event (HTTP API v2)::

    {"version": "2.0", "requestContext": {"http": {"method": "POST"}}, "isBase64Encoded": true,
     "headers": {"x-slack-signature": "v0=…", "x-slack-request-timestamp": "1700000000"},
     "body": "cGF5bG9hZD0lN0IuLi4="}
"""

from __future__ import annotations

import gc

# Cold start: the imports below create objects that live as long as the process; collecting
# garbage among them is wasted time (a quarter of the import, measured: README "Performance").
# Collection comes back, with those objects frozen out of it, at the end of this module.
gc.disable()

import base64
import binascii
import copy
import json
import logging
import re
import threading
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode

from slack_sdk.signature import SignatureVerifier

from bot.approval.clicks import handle_action
from bot.commands import answer_request
from bot.commands.explain import answer_shortcut
from bot.config import Settings
from bot.home import publish_home
from bot.logs import begin_invocation, configure_logging, set_correlation
from bot.runtime import Runtime, RuntimeSlot
from bot.slack.payloads import (
    PROPOSAL_ACTIONS,
    CommandReply,
    CommandRequest,
    ShortcutRequest,
    ViewRequest,
    parse_action,
    payload_problem,
)
from bot.views import handle_view

configure_logging(Settings.from_env().log_level)
log = logging.getLogger("eventops.handlers.slack")

_slot = RuntimeSlot()
_app: tuple[Runtime, Any] | None = None  # (the Runtime it was built for, the Bolt app)
_ack_poster: tuple[int, Any] | None = None


class _Request(threading.local):
    """The request being served on this thread (tests deliver from threads)."""

    rt: Runtime | None = None  # the per-request Runtime view (a Slack poster within the ack budget)
    deadline: float = 0.0


_local = _Request()

# Slack wants the HTTP answer within 3 s. Everything this handler sends to Slack (the message
# update, an ephemeral refusal) must fit in that, so it gets a short-timeout poster without
# server-error retries, and a budget counted from the start of the request.
ACK_BUDGET_S = 2.5
ACK_SLACK_TIMEOUT_S = 2


# Built once per cold start; tests put their own in with set_runtime().
runtime, set_runtime = _slot.get, _slot.set


def _on_command(rt: Runtime, cmd: CommandRequest) -> CommandReply:
    reply = answer_request(cmd.text, cmd.actor, cmd.channel, rt, cmd.response_url, cmd.trigger_id)
    body = reply.payload()
    return CommandReply(body["text"], body.get("blocks"), reply.public)


def _on_shortcut(rt: Runtime, req: ShortcutRequest) -> None:
    """ "Explain with EventOps" on a message: the explanation, only to the user who asked
    (chat.postEphemeral in that channel)."""
    if not req.channel:
        log.warning("explain shortcut without a channel (message %r): nothing to answer in", req.message_ts)
        return
    body = answer_shortcut(rt, req.actor, req.channel, req.message_ts).payload()
    try:
        rt.slack.post_ephemeral(req.channel, req.actor.user_id, {"text": body["text"], "blocks": body.get("blocks")})
    except Exception as exc:  # noqa: BLE001 - the ack is sent; the failure is the log line
        log.warning("answering the explain shortcut on %s failed: %s", req.message_ts, type(exc).__name__)


def _on_view(rt: Runtime, view: ViewRequest) -> dict[str, Any] | None:
    return handle_view(rt, view)


def _request_runtime() -> Runtime:
    return _local.rt or runtime()


def app() -> Any:
    """The Bolt app with EventOps' listeners, built on first use."""
    global _app
    rt = runtime()
    if _app is None or _app[0] is not rt:
        from bot.slack.app import build_app  # imports slack_bolt (measured ≈0.1 s): on first request

        bolt_app = build_app(
            rt.secrets.signing_secret,
            on_action=lambda click: handle_action(_request_runtime(), click),
            on_command=lambda cmd: _on_command(_request_runtime(), cmd),
            on_view=lambda view: _on_view(_request_runtime(), view),
            on_home_opened=lambda opened: publish_home(_request_runtime(), opened),
            on_shortcut=lambda req: _on_shortcut(_request_runtime(), req),
        )
        _app = (rt, bolt_app)
    return _app[1]


def socket_mode_handler(app_token: str, *, ping_interval: float = 10.0) -> Any:
    """The same Bolt app over Socket Mode: slack_bolt's builtin ``SocketModeHandler``.

    ``python -m bot dev --socket-mode`` and the sandbox's ``--socket-mode`` use it. Its Web API
    client (``apps.connections.open``) uses ``Settings.slack_api_url``. Each envelope reaches the
    listeners ``handler`` serves, with the same per-request Slack poster and ack budget and the
    same log keys; an envelope ``handler`` would refuse with a 400 is logged (with its
    ``envelope_id``) and not acked. Call ``.connect()`` (returns) or ``.start()`` (blocks).
    """
    # deferred: Bolt's Socket Mode adapter loads only for Socket Mode, never in Lambda
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk import WebClient

    class _EventOpsSocketModeHandler(SocketModeHandler):
        def handle(self, client: Any, req: Any) -> None:
            begin_invocation(None, None)
            body, headers = _envelope_as_request(req.type, req.payload)
            problem = _unsupported(body, headers)
            if problem:
                log.warning("Socket Mode envelope %s (%s) refused: %s", req.envelope_id, req.type, problem)
                return
            set_correlation(**_interaction(body, headers), envelope_id=req.envelope_id)
            view = _local.rt = _ack_runtime(runtime())
            try:
                super().handle(client, req)
            finally:
                _local.rt = None
            view.flush_metrics()

    rt = runtime()
    return _EventOpsSocketModeHandler(
        app(), app_token, web_client=WebClient(base_url=rt.settings.slack_api_url), ping_interval=ping_interval
    )


def _envelope_as_request(kind: str, payload: Any) -> tuple[str, dict[str, str]]:
    """A Socket Mode envelope's payload as the HTTP body and headers Slack would have POSTed."""
    form = {"content-type": "application/x-www-form-urlencoded"}
    if not isinstance(payload, dict):
        return "", form
    if kind == "events_api":
        return json.dumps(payload), {"content-type": "application/json"}
    if kind == "slash_commands":
        return urlencode({str(k): str(v) for k, v in payload.items()}), form
    if kind == "interactive":
        return urlencode({"payload": json.dumps(payload)}), form
    return "", form


def _method(event: dict[str, Any]) -> str | None:
    ctx = event.get("requestContext") or {}
    return (ctx.get("http") or {}).get("method") or ctx.get("httpMethod") or event.get("httpMethod")


def _headers(event: dict[str, Any]) -> dict[str, str]:
    """One value per lower-cased header name, from v2 ``headers`` or v1 (multiValue)headers."""
    out: dict[str, str] = {}
    for name, values in (event.get("multiValueHeaders") or {}).items():
        if values:
            out[name.lower()] = values[-1]
    for name, value in (event.get("headers") or {}).items():
        if value is not None:
            out[name.lower()] = value
    return out


def _body(event: dict[str, Any]) -> str | None:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
    return body


def _response(status: int, body: str = "", headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"statusCode": status, "body": body, "headers": headers or {}}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway (v1 or v2) event → Bolt → API Gateway response."""
    from slack_bolt.request import BoltRequest  # Bolt (measured ≈0.1 s) loads on the first request

    begin_invocation(context, None)
    rt = runtime()
    method = (_method(event) or "").upper()
    if method != "POST":
        return _response(404 if not method else 405, "EventOps accepts Slack's POST requests only")
    body = _body(event)
    if body is None:
        return _response(400, "body is not valid base64")
    headers = _headers(event)
    if not _TIMESTAMP.fullmatch(headers.get("x-slack-request-timestamp", "0")):
        # slack_sdk's verifier would raise on int(timestamp) (str.isdigit() accepts "²") → 500
        return _response(401, "invalid request")
    if _is_ssl_check(body):
        return _response(200, "")  # Slack's certificate check comes unsigned and runs nothing
    # Verify the signature before parsing anything: nothing from an unsigned request reaches
    # Bolt's parser or listeners (Bolt verifies again; that's fine).
    if not _signed(rt, body, headers):
        return _response(401, "invalid request")
    problem = _unsupported(body, headers)
    if problem:
        log.warning("signed Slack request refused: %s", problem)
        return _response(400, problem)
    set_correlation(**_interaction(body, headers))
    query: dict[str, Sequence[str]] = {
        str(k): [str(v)] for k, v in (event.get("queryStringParameters") or {}).items() if v is not None
    }
    bolt_app = app()
    try:
        request = BoltRequest(body=body, query=query, headers=dict(headers))  # parses the body
    except Exception:  # noqa: BLE001 - signed but unreadable: a clear 400, never a crash
        return _response(400, "unreadable request body")
    view = _local.rt = _ack_runtime(rt)
    try:
        resp = bolt_app.dispatch(request)
    finally:
        _local.rt = None
    view.flush_metrics()
    log.info("answered Slack with HTTP %s", resp.status)
    return _response(resp.status, resp.body, resp.first_headers())


_TIMESTAMP = re.compile(r"[0-9]{1,15}")  # ASCII digits only; Slack sends Unix seconds

# What Slack sends: interactivity payloads by type, slash commands, Events API envelopes, ssl_check.
_PAYLOAD_TYPES = {
    "block_actions",
    "block_suggestion",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
    "interactive_message",
}
_EVENT_TYPES = {"url_verification", "event_callback", "app_rate_limited"}


def _is_ssl_check(body: str) -> bool:
    form = parse_qs(body, keep_blank_values=True)
    return form.get("ssl_check") == ["1"] and set(form) <= {"ssl_check", "token"}


def _unsupported(body: str, headers: dict[str, str]) -> str | None:
    """Why a (signed) request is not one Slack sends, or None when it is."""
    ctype = headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            data = json.loads(body)
        except RecursionError:
            return "the body is nested too deeply"
        except ValueError:
            return "the body is not JSON"
        if not isinstance(data, dict) or data.get("type") not in _EVENT_TYPES:
            return "not an Events API request"
        return None
    form = parse_qs(body, keep_blank_values=True)
    if "ssl_check" in form or "command" in form:
        return None
    raw = form.get("payload", [None])[0]
    if raw is None:
        return "neither a slash command nor an interactivity payload"
    try:
        payload = json.loads(raw)
    except RecursionError:
        return "the payload is nested too deeply"
    except ValueError:
        return "the payload is not JSON"
    if not isinstance(payload, dict) or payload.get("type") not in _PAYLOAD_TYPES:
        return "unknown interactivity payload type"
    return payload_problem(payload)


_WORD = re.compile(r"[A-Za-z0-9_.:-]{1,40}")


def _interaction(body: str, headers: dict[str, str]) -> dict[str, str | None]:
    """The log keys of a signed, supported request: ``correlation_id`` (a button's target, or
    ``/ops <sub-command>``), ``interaction`` (the action id, command or payload type) and
    ``proposal_id`` for buttons that act on a proposal. Only the first word of a command's text
    is kept: the rest is what the user typed."""
    if headers.get("content-type", "").startswith("application/json"):
        data = json.loads(body)  # _unsupported checked it is an object with a known type
        inner = data.get("event")
        kind = str((inner.get("type") if isinstance(inner, dict) else None) or data.get("type"))
        return {"correlation_id": f"event:{kind}"[:60], "interaction": kind[:60], "proposal_id": None}
    form = parse_qs(body, keep_blank_values=True)
    if "command" in form:
        command = form["command"][0][:40]
        words = (form.get("text") or [""])[0].split()
        sub = words[0] if words and _WORD.fullmatch(words[0]) else ""
        return {"correlation_id": f"{command} {sub}".strip(), "interaction": command, "proposal_id": None}
    if "payload" not in form:
        return {"correlation_id": "ssl_check", "interaction": "ssl_check", "proposal_id": None}
    payload = json.loads(form["payload"][0])
    if payload.get("type") != "block_actions":
        kind = str(payload.get("type"))
        return {"correlation_id": kind, "interaction": kind, "proposal_id": None}
    click = parse_action(payload)
    target = click.value if _WORD.fullmatch(click.value) else None
    return {
        "correlation_id": target or click.action_id[:80],
        "interaction": click.action_id[:80],
        "proposal_id": target if click.kind in PROPOSAL_ACTIONS else None,
    }


def _signed(rt: Runtime, body: str, headers: dict[str, str]) -> bool:
    verifier = SignatureVerifier(signing_secret=rt.secrets.signing_secret)
    return verifier.is_valid(body, headers.get("x-slack-request-timestamp", "0"), headers.get("x-slack-signature", ""))


def _ack_time_left() -> float:
    return _local.deadline - time.monotonic()


def _ack_runtime(rt: Runtime) -> Runtime:
    """A per-request view of ``rt`` whose Slack calls fit in the ack budget (shares everything else)."""
    global _ack_poster
    _local.deadline = time.monotonic() + ACK_BUDGET_S
    if _ack_poster is None or _ack_poster[0] != id(rt):
        from bot.slack.client import SlackPoster  # slack_sdk's WebClient: only once a request needs it

        poster = SlackPoster(
            rt.secrets.bot_token,
            rt.settings.slack_api_url,
            time_left=_ack_time_left,
            timeout=ACK_SLACK_TIMEOUT_S,
            margin=0.2,
            server_error_retries=0,
        )
        _ack_poster = (id(rt), poster)
    view = copy.copy(rt)
    view.slack = _ack_poster[1]
    view.time_left = _ack_time_left
    return view


gc.freeze()  # what the import created leaves the collected generations for good
gc.enable()
