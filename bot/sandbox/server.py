"""The sandbox's one HTTP server: console, its JSON API, the fake Slack Web API and the bot's front door.

Routes (all on ``--port``)::

    GET  /                      the console (console/index.html, .js, .css)
    GET  /api/messages          the workspace as JSON: channels, users, messages, ephemerals
    *    /api/<method>          the loopback Slack Web API (SlackFake.handle_api); SLACK_API_URL points here
    POST /response/<id>         response_url (SlackFake.handle_response_url)
    POST /slack/events          the bot's front door: request → API Gateway v2 event → handlers.slack
    POST /console/click         {user, channel, ts, action_id, value} → a signed block_actions request
    POST /console/command       {user, channel, text} → a signed /ops slash command
    POST /console/shortcut      {user, channel, ts} → a signed message_action ("Explain with EventOps")
    POST /console/say           {user, channel, text, thread_ts?} → a plain user message
    POST /console/view          {user, view, values} → a signed view_submission of an open modal
    POST /console/view-close    {user, view} → the modal's Cancel
    POST /console/fire          {sample} or {events} → onto the alerts queue
    POST /console/home          {user} → a signed app_home_opened event; answers the published view
    GET  /console/samples       the sample names ``fire`` accepts

The console acts as Slack's servers would: a click or a command becomes a request signed with
the signing secret (``v0=HMAC-SHA256(secret, "v0:{ts}:{body}")``) and POSTed to ``/slack/events``
over real HTTP, so the bot's signature check, Bolt and the handler run exactly as deployed.
In socket mode (``socket_mode`` set, ``python -m bot sandbox --socket-mode``) the same payloads
go to the connected app as Socket Mode envelopes instead (``to_app``); the ack's payload stands in
for the HTTP answer.

Example::

    server = ConsoleServer(fake, signing_secret="s3cret", front_door=handlers.slack.handler, port=0).start()
    server.url  # "http://127.0.0.1:<port>/"
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import mimetypes
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from bot.errors import EventOpsError
from bot.sandbox.modals import apply_ack, submission_payload
from bot.sandbox.modals import close as close_view
from bot.sandbox.pollers import LambdaContext
from bot.sandbox.slack_fake import (
    Ephemeral,
    Message,
    ResponseURL,
    SlackFake,
    file_content,
    handle_upload,
    issue_trigger,
)
from bot.sandbox.socket_mode import NotConnectedError, SocketModeServer
from bot.slack.payloads import EXPLAIN_SHORTCUT_ID

log = logging.getLogger("eventops.sandbox")

CONSOLE_DIR = Path(__file__).parent / "console"
SLACK_TIMEOUT_S = 3.0  # Slack shows an error when the app's HTTP answer takes longer
APP_ID = "A0EVENTOPS"

FrontDoor = Callable[[dict[str, Any], Any], dict[str, Any]]
Fire = Callable[[dict[str, Any]], list[str]]


class PortInUseError(EventOpsError):
    """A port the sandbox needs is taken. The message names the port and the flag to change it."""

    def __init__(self, port: int, flag: str) -> None:
        super().__init__(f"port {port} is already in use; stop whatever uses it or pick another with {flag} PORT")
        self.port = port
        self.flag = flag


def sign(secret: str, timestamp: str, body: str) -> str:
    """Slack's v0 request signature.

    >>> sign("8f742231b10e8888abcd99yyyzzz85a5", "1531420618",
    ...      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J")[:10]
    'v0=0e2ed0'
    """
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def apigw_v2_event(method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """An HTTP request as API Gateway HTTP API (payload format 2.0) hands it to Lambda.

    Like API Gateway, bodies that are not JSON or text are base64-encoded (Slack's form posts
    arrive that way), so the handler's base64 path is exercised.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    ctype = lowered.get("content-type", "")
    textual = ctype.startswith("text/") or "json" in ctype
    now = datetime.now(UTC)
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": lowered,
        "queryStringParameters": {k: ",".join(v) for k, v in parse_qs(query).items()} if query else None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "sandbox",
            "domainName": lowered.get("host", "127.0.0.1"),
            "domainPrefix": "sandbox",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": body.decode("utf-8") if textual else base64.b64encode(body).decode("ascii"),
        "isBase64Encoded": not textual,
    }


# Slack Web API calls sent form-encoded carry these as JSON strings.
_JSON_PARAMS = ("blocks", "metadata", "view", "attachments")


def decode_params(content_type: str, raw: bytes) -> dict[str, Any]:
    """A Web API or response_url body (JSON or form-encoded) → params."""
    if not raw:
        return {}
    if "json" in content_type:
        data = json.loads(raw.decode("utf-8"))
        return data if isinstance(data, dict) else {}
    params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
    for key in _JSON_PARAMS:
        if isinstance(params.get(key), str) and params[key]:
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                pass  # left as a string; the fake refuses it the way Slack would
    return params


def _message_json(ws_users: dict[str, Any], channel_name: str, m: Message) -> dict[str, Any]:
    user = ws_users.get(m.user) or {}
    return {
        "channel": m.channel,
        "channel_name": channel_name,
        "ts": m.ts,
        "thread_ts": m.thread_ts,
        "text": m.text,
        "blocks": m.blocks,
        "edited": m.edited,
        "user": m.user,
        "user_name": user.get("real_name") or ("EventOps" if m.bot_id else m.user),
        "bot": bool(m.bot_id),
        "files": m.files,
    }


class ConsoleServer:
    """One ThreadingHTTPServer for the console, the Slack fake, response_urls and the front door.

    ``front_door(event, context)`` is the Lambda handler behind ``POST /slack/events``;
    ``fire(request)`` puts events on the alerts queue (the Sandbox supplies both).
    """

    def __init__(
        self,
        fake: SlackFake,
        *,
        signing_secret: str,
        front_door: FrontDoor | None = None,
        fire: Fire | None = None,
        samples: Callable[[], list[dict[str, str]]] | None = None,
        host: str = "127.0.0.1",
        port: int = 3000,
        command: str = "/ops",
    ) -> None:
        self.fake = fake
        self.signing_secret = signing_secret
        self.front_door = front_door
        self.fire = fire
        self.samples = samples
        self.host = host
        self.port = port
        self.command = command
        self.activity: list[dict[str, Any]] = []
        # Set in socket mode: clicks and commands go to the connected app as envelopes (to_app).
        self.socket_mode: SocketModeServer | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> ConsoleServer:
        server = self

        class Handler(_Handler):
            pass

        Handler.server_ref = server
        try:
            httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        except OSError as exc:
            if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
                raise PortInUseError(self.port, "--port") from None
            raise
        httpd.daemon_threads = True
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self.fake.public_base = self.base  # upload_urls and file URLs point here (files upload v2)
        self._thread = threading.Thread(target=httpd.serve_forever, name="sandbox-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(5)
        self._httpd = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base + "/"

    @property
    def api_url(self) -> str:
        return self.base + "/api/"

    def note(self, kind: str, text: str) -> None:
        """One line of the console's activity log (kept short)."""
        with self.fake.lock:
            self.activity.append({"at": time.time(), "kind": kind, "text": text})
            del self.activity[:-200]

    # -- the JSON view of the workspace ----------------------------------------------------------

    def snapshot(self, channel: str | None = None) -> dict[str, Any]:
        ws = self.fake.workspace
        with ws.lock:
            channels = [
                {"id": c.id, "name": c.name, "count": len(c.top_level())}
                for c in sorted(ws.channels.values(), key=lambda c: c.name)
            ]
            messages = [
                _message_json(ws.users, c.name, m)
                for c in ws.channels.values()
                if channel in (None, c.id, c.name, f"#{c.name}")
                for m in c.messages
            ]
            ephemerals = [
                {
                    "channel": e.channel,
                    "ts": e.ts,
                    "thread_ts": e.thread_ts,
                    "user": e.user,
                    "text": e.text,
                    "blocks": e.blocks,
                    "ephemeral": True,
                }
                for e in ws.ephemerals
            ]
            users = [
                {"id": u["id"], "name": u["name"], "real_name": u["real_name"], "title": u["profile"].get("title", "")}
                for u in ws.users.values()
                if not u.get("is_bot")
            ]
            activity = list(self.activity[-50:])
            home_views = {uid: {"blocks": v.get("blocks") or []} for uid, v in ws.home_views.items()}
            views = [_view_json(v) for v in ws.views if v.get("open")]
        messages.sort(key=lambda m: float(m["ts"]))
        return {
            "team": {"id": ws.team_id, "name": ws.team},
            "channels": channels,
            "users": users,
            "messages": messages,
            "ephemerals": ephemerals,
            "activity": activity,
            "home_views": home_views,
            "views": views,
        }

    # -- Slack's side of the interactions --------------------------------------------------------

    def _response_url(self, channel: str, message_ts: str | None, user: str) -> str:
        rid = uuid.uuid4().hex
        with self.fake.lock:
            self.fake.workspace.response_urls[rid] = ResponseURL(rid, channel, message_ts, user, time.time())
        return f"{self.base}/response/{rid}"

    def _trigger_id(self, user_id: str) -> str:
        return issue_trigger(self.fake.workspace, user_id)  # the fake's views.open checks it (3 s, once)

    def _user(self, user_id: str) -> dict[str, Any]:
        user = self.fake.workspace.users.get(user_id)
        if user is None:
            raise ValueError(f"unknown user {user_id!r}")
        return user

    def post_signed(
        self, body: str, *, retry: int | None = None, content_type: str = "application/x-www-form-urlencoded"
    ) -> tuple[int, str, float]:
        """POST a body (a form, or an Events API JSON body) to our own /slack/events, signed as
        Slack signs. Returns (status, text, seconds)."""
        ts = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(self.signing_secret, ts, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if retry:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        req = urllib.request.Request(self.base + "/slack/events", data=body.encode(), headers=headers, method="POST")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, text = resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode("utf-8", "replace")
        return status, text, time.monotonic() - started

    def to_app(self, kind: str, payload: dict[str, Any], body: str) -> tuple[int, str, float]:
        """Hand one interaction to the bot as Slack would: a signed POST of ``body`` to /slack/events,
        or, in socket mode, ``payload`` as a ``kind`` envelope on the app's Socket Mode connection.
        Returns (status, response body, seconds) either way: 200 and the ack's payload as JSON once
        acked, 503 when no app is connected, 504 when no ack came."""
        if self.socket_mode is None:
            return self.post_signed(body)
        try:
            env = self.socket_mode.deliver(kind, payload, wait=30.0, connect_timeout=5.0)
        except NotConnectedError:
            self.note("socket", f"{kind}: no app connected over Socket Mode (dispatch_failed)")
            return 503, "", 0.0
        took = env.latency_s
        if took is None:
            self.note("socket", f"{kind} envelope {env.envelope_id[:8]}: no ack")
            return 504, "", 30.0
        self.note("socket", f"{kind} envelope {env.envelope_id[:8]} acked in {took * 1000:.0f} ms")
        return 200, json.dumps(env.ack_payload) if env.ack_payload else "", took

    def click(self, user_id: str, channel: str, ts: str, action_id: str, value: str | None) -> dict[str, Any]:
        """A button click, sent to the bot as Slack sends a block_actions payload.

        Long because the payload is written out field by field, as Slack sends it.
        """
        ws = self.fake.workspace
        user = self._user(user_id)
        with ws.lock:
            ch = ws.channel(channel, create=False)
            if ch is None:
                raise ValueError(f"unknown channel {channel!r}")
            msg = ch.find(ts)
            eph = None if msg else next((e for e in ws.ephemerals if e.ts == ts and e.channel == ch.id), None)
            if msg is None and eph is None:
                raise ValueError(f"no message {ts} in #{ch.name}")
            blocks = msg.blocks if msg else eph.blocks  # type: ignore[union-attr]
            block_id, element = _find_button(blocks, action_id, value)
            container: dict[str, Any] = {
                "type": "message",
                "message_ts": ts,
                "channel_id": ch.id,
                "is_ephemeral": msg is None,
            }
            thread_ts = (msg.thread_ts if msg else eph.thread_ts) if (msg or eph) else None  # type: ignore[union-attr]
            if thread_ts:
                container["thread_ts"] = thread_ts
            message = _slack_message_json(msg) if msg else None
            channel_json = {"id": ch.id, "name": ch.name}
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user["id"], "username": user["name"], "name": user["name"], "team_id": user["team_id"]},
            "api_app_id": APP_ID,
            "token": "sandbox-verification-token",
            "container": container,
            "trigger_id": self._trigger_id(user["id"]),
            "team": {"id": ws.team_id, "domain": ws.team},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": channel_json,
            "state": {"values": {}},
            "response_url": self._response_url(ch.id, ts if msg else None, user["id"]),
            "actions": [_action_json(element, action_id, block_id, value)],
        }
        if message is not None:
            payload["message"] = message
        body = urlencode({"payload": json.dumps(payload)})
        status, text, took = self.to_app("interactive", payload, body)
        label = (element.get("text") or {}).get("text") or next(
            (o["text"]["text"] for o in element.get("options") or [] if o.get("value") == value), action_id
        )
        self.note("click", f"{user['name']} clicked “{label}” in #{ch.name} → HTTP {status} in {took * 1000:.0f} ms")
        return {
            "ok": status == 200,
            "status": status,
            "body": text,
            "ms": round(took * 1000),
            "late": took > SLACK_TIMEOUT_S,
        }

    def message_action(self, user_id: str, channel: str, ts: str) -> dict[str, Any]:
        """ "Explain with EventOps" from a message's ⋯ menu, sent as Slack sends a message_action."""
        ws = self.fake.workspace
        user = self._user(user_id)
        with ws.lock:
            ch = ws.channel(channel, create=False)
            if ch is None:
                raise ValueError(f"unknown channel {channel!r}")
            msg = ch.find(ts)
            if msg is None:
                raise ValueError(f"no message {ts} in #{ch.name}")
            message, channel_json = _slack_message_json(msg), {"id": ch.id, "name": ch.name}
        payload: dict[str, Any] = {
            "type": "message_action",
            "callback_id": EXPLAIN_SHORTCUT_ID,
            "user": {"id": user["id"], "username": user["name"], "name": user["name"], "team_id": user["team_id"]},
            "api_app_id": APP_ID,
            "token": "sandbox-verification-token",
            "trigger_id": self._trigger_id(user["id"]),
            "team": {"id": ws.team_id, "domain": ws.team},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": channel_json,
            "message_ts": ts,
            "message": message,
            "response_url": self._response_url(ch.id, None, user["id"]),
            "action_ts": f"{time.time():.6f}",
        }
        status, text, took = self.to_app("interactive", payload, urlencode({"payload": json.dumps(payload)}))
        self.note("shortcut", f"{user['name']} chose “Explain with EventOps” in #{ch.name} → HTTP {status}")
        return {"ok": status == 200, "status": status, "body": text, "ms": round(took * 1000)}

    def slash_command(self, user_id: str, channel: str, text: str) -> dict[str, Any]:
        """``/ops <text>`` as Slack sends it; the ack body is shown as Slack would show it."""
        ws = self.fake.workspace
        user = self._user(user_id)
        command, _, rest = text.strip().partition(" ")
        if not command.startswith("/"):
            command, rest = self.command, text.strip()
        with ws.lock:
            ch = ws.channel(channel, create=False)
            if ch is None:
                raise ValueError(f"unknown channel {channel!r}")
            ch_id, ch_name = ch.id, ch.name
        form = {
            "token": "sandbox-verification-token",
            "team_id": ws.team_id,
            "team_domain": ws.team,
            "channel_id": ch_id,
            "channel_name": ch_name,
            "user_id": user["id"],
            "user_name": user["name"],
            "command": command,
            "text": rest.strip(),
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self._response_url(ch_id, None, user["id"]),
            "trigger_id": self._trigger_id(user["id"]),
        }
        status, body, took = self.to_app("slash_commands", form, urlencode(form))
        self.note("command", f"{user['name']} ran {command} {rest.strip()} in #{ch_name} → HTTP {status}")
        reply: dict[str, Any] = {}
        if status == 200 and body.strip():
            try:
                reply = json.loads(body)
            except ValueError:
                reply = {"text": body}
        elif status != 200:
            reply = {"text": f"{command} failed with the error \u201cdispatch_failed\u201d (HTTP {status})"}
        if reply.get("text") or reply.get("blocks"):
            with ws.lock:
                if reply.get("response_type") == "in_channel":
                    ch = ws.channels[ch_id]
                    ch.messages.append(
                        Message(
                            channel=ch_id,
                            ts=ws.next_ts(),
                            text=reply.get("text") or "",
                            blocks=list(reply.get("blocks") or []),
                            user=ws.bot_user_id,
                            bot_id=ws.bot_id,
                        )
                    )
                else:
                    ws.ephemerals.append(
                        Ephemeral(
                            ch_id, user["id"], ws.next_ts(), reply.get("text") or "", list(reply.get("blocks") or [])
                        )
                    )
        return {"ok": status == 200, "status": status, "ms": round(took * 1000), "late": took > SLACK_TIMEOUT_S}

    def post_event(self, event: dict[str, Any], *, team_id: str | None = None) -> tuple[int, str, float]:
        """An Events API ``event_callback`` carrying ``event``, JSON and signed, as Slack sends it."""
        ws = self.fake.workspace
        team = team_id or ws.team_id
        body = {
            "token": "sandbox-verification-token",
            "team_id": team,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team,
                    "user_id": ws.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return self.post_signed(json.dumps(body), content_type="application/json")

    def open_home(self, user_id: str) -> dict[str, Any]:
        """The user opens the app's Home tab: Slack sends ``app_home_opened`` (with the view it
        shows now, if any); answers the HTTP result and the view the bot published."""
        user = self._user(user_id)
        shown = self.fake.home_view(user_id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user["id"],
            "channel": "D" + uuid.uuid5(uuid.NAMESPACE_OID, user["id"]).hex[:10].upper(),
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        if shown is not None:
            event["view"] = shown
        status, text, took = self.post_event(event)
        view = self.fake.home_view(user_id)
        self.note("home", f"{user['name']} opened the Home tab → HTTP {status} in {took * 1000:.0f} ms")
        return {
            "ok": status == 200,
            "status": status,
            "body": text,
            "ms": round(took * 1000),
            "late": took > SLACK_TIMEOUT_S,
            "view": view,
        }

    def say(self, user_id: str, channel: str, text: str, thread_ts: str | None = None) -> dict[str, Any]:
        """A plain message typed by a demo user (the bot does not read messages; this is for people)."""
        ws = self.fake.workspace
        self._user(user_id)
        with ws.lock:
            ch = ws.channel(channel, create=False)
            if ch is None:
                raise ValueError(f"unknown channel {channel!r}")
            msg = Message(channel=ch.id, ts=ws.next_ts(), text=text, thread_ts=thread_ts or None, user=user_id)
            ch.messages.append(msg)
        return {"ok": True, "ts": msg.ts}

    def submit_view(self, user_id: str, view_id: str, answers: dict[str, Any]) -> dict[str, Any]:
        """The person presses a modal's submit button: a signed ``view_submission`` to the front
        door; field errors in the ack stay on the view (``bot.sandbox.modals.apply_ack``)."""
        ws = self.fake.workspace
        user = self._user(user_id)
        with ws.lock:
            view = next((v for v in ws.views if v["id"] == view_id and v.get("open")), None)
            if view is None or view["user"] != user["id"]:
                raise ValueError(f"no open view {view_id!r} for {user_id}")
            payload = submission_payload(ws, view, answers)
        status, text, took = self.post_signed(urlencode({"payload": json.dumps(payload)}))
        result = apply_ack(ws, view, status, text)
        title = (view.get("title") or {}).get("text", "a form")
        outcome = "closed" if result["closed"] else f"{len(result['errors'])} field error(s)"
        self.note("view", f"{user['name']} submitted “{title}” → HTTP {status} in {took * 1000:.0f} ms, {outcome}")
        return {"ok": status == 200, "status": status, "ms": round(took * 1000), **result}

    def close_view(self, user_id: str, view_id: str) -> dict[str, Any]:
        ws = self.fake.workspace
        with ws.lock:
            view = next((v for v in ws.views if v["id"] == view_id and v["user"] == user_id), None)
            if view is None:
                raise ValueError(f"no view {view_id!r} for {user_id}")
            close_view(ws, view)
        return {"ok": True}


def _view_json(v: dict[str, Any]) -> dict[str, Any]:
    """An open modal as the console draws it."""
    keys = ("id", "user", "title", "submit", "close", "blocks", "errors", "callback_id")
    return {k: v.get(k) for k in keys}


def _find_button(blocks: list[dict[str, Any]], action_id: str, value: str | None) -> tuple[str, dict[str, Any]]:
    """(block_id, element) of the interactive element with ``action_id`` (and ``value`` if given:
    a button's value, or the value of one of a select menu's options)."""
    for i, block in enumerate(blocks):
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for el in elements:
            chosen = [o for o in el.get("options") or [] if isinstance(o, dict) and o.get("value") == value]
            if (
                isinstance(el, dict)
                and el.get("action_id") == action_id
                and (value is None or el.get("value") == value or chosen)
            ):
                # Slack generates a block_id when the app sent none.
                return str(block.get("block_id") or f"b{i}{uuid.uuid5(uuid.NAMESPACE_OID, action_id).hex[:4]}"), el
    raise ValueError(f"no button {action_id!r} on that message")


def _action_json(element: dict[str, Any], action_id: str, block_id: str, value: str | None) -> dict[str, Any]:
    """One entry of a block_actions payload's ``actions``, as Slack writes it for a button
    (``text``, ``value``) or a select menu (``selected_option``, ``placeholder``)."""
    out: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": element.get("type", "button"),
        "action_ts": f"{time.time():.6f}",
    }
    if element.get("type") == "static_select":
        option = next(o for o in element.get("options") or [] if o.get("value") == value)
        out["selected_option"] = {"text": option["text"], "value": option["value"]}
        out["placeholder"] = element.get("placeholder")
        return out
    out["text"] = element.get("text") or {"type": "plain_text", "text": action_id}
    out["value"] = element.get("value", value or "")
    if element.get("style"):
        out["style"] = element["style"]
    return out


def _slack_message_json(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "message", "user": m.user, "ts": m.ts, "text": m.text}
    if m.bot_id:
        out["bot_id"] = m.bot_id
        out["app_id"] = APP_ID
    if m.blocks:
        out["blocks"] = m.blocks
    if m.thread_ts:
        out["thread_ts"] = m.thread_ts
    if m.metadata:
        out["metadata"] = m.metadata
    if m.edited:
        out["edited"] = {"user": m.user, "ts": m.ts}
    return out


def _from_lambda(result: Any) -> tuple[int, dict[str, str], bytes]:
    """A Lambda proxy response → (status, headers, body)."""
    if not isinstance(result, dict):
        return 200, {"Content-Type": "application/json"}, json.dumps(result).encode()
    status = int(result.get("statusCode", 200))
    headers = {str(k): ",".join(v) if isinstance(v, list) else str(v) for k, v in (result.get("headers") or {}).items()}
    for k, v in (result.get("multiValueHeaders") or {}).items():
        headers[str(k)] = ",".join(str(x) for x in v)
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    return status, headers, raw


class _Handler(BaseHTTPRequestHandler):
    server_ref: ConsoleServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the console's activity log says what happened; request lines would bury the URL

    # -- plumbing ----------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            if k.lower() not in ("content-length", "content-type"):
                self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

    def _read(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self, raw: bytes) -> dict[str, Any]:
        data = json.loads(raw.decode("utf-8") or "{}")
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return data

    # -- routes ----------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        srv = self.server_ref
        parts = urlsplit(self.path)
        path = parts.path
        raw = self._read() if method == "POST" else b""
        try:
            if method == "GET" and path in ("/", "/index.html"):
                self._static("index.html")
            elif method == "GET" and path.startswith("/console/static/"):
                self._static(path[len("/console/static/") :])
            elif method == "GET" and path == "/api/messages":
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                self._json(200, srv.snapshot(query.get("channel")))
            elif path.startswith("/api/"):
                self._slack_api(path[len("/api/") :], parts.query, raw)
            elif method == "POST" and path.startswith("/response/"):
                params = decode_params(self.headers.get("Content-Type", "application/json"), raw)
                status, body = srv.fake.handle_response_url(path[len("/response/") :], params)
                self._json(status, body)
            elif path == "/slack/events" and method == "POST":
                self._front_door(method, path, parts.query, raw)
            elif method == "POST" and path.startswith("/console/"):
                self._console_action(path[len("/console/") :], self._json_body(raw))
            elif method == "GET" and path == "/console/samples":
                self._json(200, {"samples": srv.samples() if srv.samples else []})
            elif path.startswith(("/upload/", "/files/")):
                self._file(method, path, raw)
            elif method == "GET" and path == "/healthz":
                self._json(200, {"ok": True})
            else:
                self._json(404, {"ok": False, "error": "not_found"})
        except ValueError as exc:
            self._json(400, {"ok": False, "error": str(exc)})
        except Exception as exc:  # one request must never take the sandbox down (logged, answered 500)
            log.exception("sandbox request %s %s failed", method, path)
            self._json(500, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})

    def _static(self, name: str) -> None:
        target = (CONSOLE_DIR / name).resolve()
        if CONSOLE_DIR.resolve() not in target.parents or not target.is_file():
            self._json(404, {"ok": False, "error": "not_found"})
            return
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype.endswith("javascript"):
            ctype += "; charset=utf-8"
        self._send(200, target.read_bytes(), ctype)

    def _slack_api(self, method: str, query: str, raw: bytes) -> None:
        params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query).items()}
        try:
            params.update(decode_params(self.headers.get("Content-Type", ""), raw))
        except (ValueError, UnicodeDecodeError):
            self._json(400, {"ok": False, "error": "invalid_json"})
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, body, extra = self.server_ref.fake.handle_api(method, params, headers)
        self._json(status, body, extra)

    def _file(self, method: str, path: str, raw: bytes) -> None:
        """Files upload v2 as the fake plays it: POST bytes to an upload_url, GET a shared file."""
        fake = self.server_ref.fake
        if method == "POST" and path.startswith("/upload/"):
            status, body = handle_upload(fake, path[len("/upload/") :], raw)
            self._json(status, body)
            return
        found = file_content(fake, path[len("/files/") :]) if method == "GET" else None
        if found is None:
            self._json(404, {"ok": False, "error": "file_not_found"})
            return
        self._send(200, found[0], found[1])

    def _front_door(self, method: str, path: str, query: str, raw: bytes) -> None:
        srv = self.server_ref
        if srv.front_door is None:
            self._json(503, {"ok": False, "error": "the bot's front door (handlers.slack) is not available"})
            return
        event = apigw_v2_event(method, path, query, dict(self.headers.items()), raw)
        result = srv.front_door(event, LambdaContext(function_name="eventops-slack", timeout_s=10))
        status, headers, body = _from_lambda(result)
        self._send(status, body, headers.pop("Content-Type", headers.pop("content-type", "text/plain")), headers)

    def _console_action(self, action: str, data: dict[str, Any]) -> None:
        srv = self.server_ref

        def need(key: str) -> str:
            value = data.get(key)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{key} is required")
            return value

        if action == "click":
            value = data.get("value")
            self._json(
                200,
                srv.click(need("user"), need("channel"), need("ts"), need("action_id"), value if value else None),
            )
        elif action == "command":
            self._json(200, srv.slash_command(need("user"), need("channel"), need("text")))
        elif action == "home":
            self._json(200, srv.open_home(need("user")))
        elif action == "shortcut":
            self._json(200, srv.message_action(need("user"), need("channel"), need("ts")))
        elif action == "view":
            raw = data.get("values")
            answers: dict[str, Any] = raw if isinstance(raw, dict) else {}
            self._json(200, srv.submit_view(need("user"), need("view"), answers))
        elif action == "view-close":
            self._json(200, srv.close_view(need("user"), need("view")))
        elif action == "say":
            self._json(200, srv.say(need("user"), need("channel"), need("text"), data.get("thread_ts")))
        elif action == "fire":
            if srv.fire is None:
                self._json(503, {"ok": False, "error": "firing events is not available"})
                return
            ids = srv.fire(data)
            self._json(200, {"ok": True, "fired": ids})
        else:
            self._json(404, {"ok": False, "error": f"no console action {action!r}"})
