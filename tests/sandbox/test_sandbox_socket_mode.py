"""Socket Mode end to end: the real slack_bolt SocketModeHandler against the sandbox's Socket Mode fake.

The sandbox runs with ``socket_mode=True`` (what ``make run ARGS=--socket-mode`` starts): the Bolt
app of ``handlers/slack.py`` opens its connection with ``apps.connections.open`` (app-level token)
and the console's clicks and commands reach it as envelopes on that WebSocket, never as POSTs to
``/slack/events``. Each test checks that every envelope it caused was acked within Slack's 3 s,
and what changed: the fake's messages, the store, moto.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sandbox_helpers import SIGNING_SECRET, Console, button, find_message

from bot.__main__ import build_parser
from bot.sandbox.runner import Sandbox, SandboxOptions
from bot.sandbox.socket_mode import ACK_DEADLINE_S, Envelope, SocketModeServer, encode_frame

OPERATOR, OUTSIDER = "U0OPERATOR", "U0OUTSIDER"
REVOKE = "Revoke open ingress rule"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(SandboxOptions(port=0, aws_port=0, demo=True, signing_secret=SIGNING_SECRET, socket_mode=True))
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="module")
def socket_mode(sandbox: Sandbox) -> SocketModeServer:
    assert sandbox.server is not None and sandbox.server.socket_mode is not None
    return sandbox.server.socket_mode


@pytest.fixture
def http_posts(sandbox: Sandbox) -> Iterator[list[dict[str, Any]]]:
    """Every request that reached the HTTP front door (/slack/events) during the test."""
    assert sandbox.server is not None
    seen: list[dict[str, Any]] = []
    door = sandbox.server.front_door
    assert door is not None

    def counting(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return door(event, context)

    sandbox.server.front_door = counting
    try:
        yield seen
    finally:
        sandbox.server.front_door = door


@pytest.fixture
def envelopes(socket_mode: SocketModeServer) -> Iterator[Callable[[], list[Envelope]]]:
    """The envelopes sent during the test; afterwards, each must have been acked in time."""
    first = len(socket_mode.envelopes)

    def sent() -> list[Envelope]:
        return socket_mode.envelopes[first:]

    yield sent
    late = [(e.type, e.envelope_id, e.latency_s) for e in sent() if not e.in_time(ACK_DEADLINE_S)]
    assert not late, f"envelopes not acked within {ACK_DEADLINE_S} s: {late}"


def poll(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.05)


def _channel_id(console: Console, name: str) -> str:
    return next(c["id"] for c in console.messages()["channels"] if c["name"] == name)


def _click(console: Console, user: str, message: dict[str, Any], label: str) -> dict[str, Any]:
    el = button(message, label)
    status, body = console.post(
        "/console/click",
        {
            "user": user,
            "channel": message["channel"],
            "ts": message["ts"],
            "action_id": el["action_id"],
            "value": el.get("value"),
        },
    )
    assert status == 200 and body["status"] == 200, body
    return body


def _help(console: Console, channel: str) -> dict[str, Any]:
    status, body = console.post("/console/command", {"user": OPERATOR, "channel": channel, "text": "/ops help"})
    assert status == 200 and body["status"] == 200, body
    return body


# --- connecting ----------------------------------------------------------------------------------


def test_the_app_connects_with_its_app_level_token(sandbox: Sandbox, socket_mode: SocketModeServer) -> None:
    opens = sandbox.fake.calls("apps.connections.open")
    assert opens and all(r.status == 200 and r.error is None for r in opens)
    assert opens[0].headers["authorization"] == f"Bearer {sandbox.app_token}", "the xapp- token, not the bot token"
    assert sandbox.app_token.startswith("xapp-")
    conn = socket_mode.wait_connected()
    assert conn.ready and conn.peer.startswith("127.0.0.1:")
    poll(lambda: conn.pings >= 1, what="the client's first ping")  # answered with a pong (else it goes stale)


def test_apps_connections_open_takes_only_the_app_token(sandbox: Sandbox, socket_mode: SocketModeServer) -> None:
    console = Console(sandbox)
    assert console.post_api("apps.connections.open", {})[1] == {"ok": False, "error": "not_allowed_token_type"}
    url = f"{sandbox.server.api_url}apps.connections.open"  # type: ignore[union-attr]

    def call(token: str | None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with urllib.request.urlopen(urllib.request.Request(url, data=b"", headers=headers), timeout=10) as resp:
            return json.loads(resp.read())

    assert call(None)["error"] == "not_authed"
    assert call("xapp-1-A0EVENTOPS-0-wrong")["error"] == "invalid_auth"
    answer = call(sandbox.app_token)
    assert answer["ok"] and answer["url"].startswith(f"ws://127.0.0.1:{socket_mode.port}/link/?ticket=")


def test_the_websocket_refuses_a_used_ticket_and_unmasked_frames(
    sandbox: Sandbox, socket_mode: SocketModeServer
) -> None:
    """The fake holds clients to RFC 6455 and to Slack's one-time URLs."""
    url = socket_mode.open_url()
    path = url.split(str(socket_mode.port), 1)[1]

    def handshake(client: _RawClient) -> bytes:
        client.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        return client.until(b"\r\n\r\n")

    with _RawClient(socket_mode.port) as client:
        head = handshake(client)
        assert head.startswith(b"HTTP/1.1 101") and b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
        opcode, data = client.frame()
        assert opcode == 0x1 and json.loads(data)["type"] == "hello"
        client.sock.sendall(encode_frame(0x9, b"hi", mask=b"abcd"))  # a masked ping: answered with a pong
        assert client.frame() == (0xA, b"hi")
        client.sock.sendall(encode_frame(0x1, b'{"envelope_id": "x"}'))  # unmasked: a protocol error
        opcode, data = client.frame()
        assert opcode == 0x8 and struct.unpack("!H", data[:2])[0] == 1002
    with _RawClient(socket_mode.port) as client:
        assert handshake(client).startswith(b"HTTP/1.1 401"), "a ticket opens one connection only"
    assert any("ticket" in why for why in socket_mode.refused)
    socket_mode.wait_connected()  # the app's own connection is untouched


class _RawClient:
    """A bare TCP client speaking just enough WebSocket to poke at the server."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def __enter__(self) -> _RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def _exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(4096)
            assert chunk, "the server closed the connection mid-frame"
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        out, _, self.buf = self.buf.partition(marker)
        return out

    def frame(self) -> tuple[int, bytes]:
        b1, b2 = self._exactly(2)
        assert not b2 & 0x80, "server frames are unmasked"
        n = b2 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self._exactly(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self._exactly(8))
        return b1 & 0x0F, self._exactly(n)


# --- envelopes reach the same listeners ----------------------------------------------------------


def test_ops_help_over_the_socket(
    sandbox: Sandbox, envelopes: Callable[[], list[Envelope]], http_posts: list[dict[str, Any]]
) -> None:
    console = Console(sandbox)
    ops = _channel_id(console, "ops")
    before = len(console.messages()["ephemerals"])
    _help(console, ops)
    (env,) = envelopes()
    assert env.type == "slash_commands" and env.accepts_response_payload
    assert env.payload["command"] == "/ops" and env.payload["text"] == "help"
    assert env.acked and "/ops commands" in (env.ack_payload or {}).get("text", ""), "the answer is the ack's payload"
    answer = poll(lambda: [e for e in console.messages()["ephemerals"][before:] if e["user"] == OPERATOR])
    assert "/ops commands" in answer[0]["text"] and answer[0]["channel"] == ops
    assert http_posts == [], "nothing went to the HTTP front door"


def test_acknowledge_click_over_the_socket_updates_the_message_and_the_store(
    sandbox: Sandbox, envelopes: Callable[[], list[Envelope]], http_posts: list[dict[str, Any]]
) -> None:
    console = Console(sandbox)
    alert = console.wait_for(lambda s: find_message(s, "SSH brute force"))
    alert_id = sandbox.fake.workspace.channel(alert["channel"]).find(alert["ts"]).metadata["event_payload"]["alert_id"]
    assert sandbox.runtime().store.acked_by(alert_id) is None
    _click(console, OPERATOR, alert, "Acknowledge")
    (env,) = envelopes()
    assert env.type == "interactive" and env.payload["type"] == "block_actions" and not env.accepts_response_payload
    assert env.payload["actions"][0]["action_id"] == button(alert, "Acknowledge")["action_id"]
    console.wait_for(
        lambda s: next((m for m in s["messages"] if m["ts"] == alert["ts"] and "cknowledged" in str(m["blocks"])), None)
    )
    acked = sandbox.runtime().store.acked_by(alert_id)
    assert acked is not None and acked.user_id == OPERATOR, "the store records who acknowledged it"
    assert http_posts == []


def test_remediate_click_over_the_socket_changes_moto(
    sandbox: Sandbox, envelopes: Callable[[], list[Envelope]], http_posts: list[dict[str, Any]]
) -> None:
    console = Console(sandbox)
    group = sandbox.estate.prod.security_group_id  # type: ignore[union-attr]
    ec2 = sandbox.runtime().sessions.client("ec2")

    def ingress() -> list[Any]:
        rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])
        return [r for r in rules["SecurityGroupRules"] if not r["IsEgress"]]

    assert ingress(), "the demo's open rule is there"
    alert = console.wait_for(lambda s: find_message(s, group))
    _click(console, OPERATOR, alert, REVOKE)
    assert [e.type for e in envelopes()] == ["interactive"]
    poll(lambda: not ingress(), timeout=20, what="the ingress rule revoked in moto")
    console.wait_for(
        lambda s: next((m for m in s["messages"] if m["ts"] == alert["ts"] and "succeeded" in str(m["blocks"])), None)
    )
    assert http_posts == []


def test_a_refused_click_is_acked_and_explained(sandbox: Sandbox, envelopes: Callable[[], list[Envelope]]) -> None:
    console = Console(sandbox)
    alert = console.wait_for(lambda s: find_message(s, "Alarm:"))
    _click(console, OUTSIDER, alert, "Dismiss")
    assert [e.acked for e in envelopes()] == [True]
    console.wait_for(
        lambda s: next((e for e in s["ephemerals"] if e["user"] == OUTSIDER and "not allowed" in e["text"]), None)
    )


def test_a_malformed_envelope_is_refused_with_a_log_line_and_the_app_carries_on(
    sandbox: Sandbox, socket_mode: SocketModeServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Bad input from outside: one clear log line naming the envelope; the next envelope is served."""
    with caplog.at_level(logging.WARNING, logger="eventops.handlers.slack"):
        bad = socket_mode.deliver("interactive", {"type": "block_actions", "actions": "not a list"}, wait=None)
        line = poll(
            lambda: next((r.getMessage() for r in caplog.records if bad.envelope_id in r.getMessage()), None),
            what="the refusal's log line",
        )
    assert "refused" in line and "actions" in line, line
    assert socket_mode.unacked() == [bad], "the HTTP door answers 400; over the socket there is no ack"
    console = Console(sandbox)
    assert _help(console, _channel_id(console, "ops"))["status"] == 200


# --- reconnection ----------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["refresh_requested", "warning"])
def test_a_disconnect_message_makes_the_app_reconnect(
    sandbox: Sandbox, socket_mode: SocketModeServer, envelopes: Callable[[], list[Envelope]], reason: str
) -> None:
    opens = len(sandbox.fake.calls("apps.connections.open"))
    old = socket_mode.disconnect(reason)
    new = socket_mode.wait_connected(newer_than=old)
    assert new.id != old.id and old.disconnects == [reason]
    assert len(sandbox.fake.calls("apps.connections.open")) == opens + 1, "a new URL for the new connection"
    poll(lambda: old.closed, what="the replaced connection closed")
    assert [c.id for c in socket_mode.live()] == [new.id]
    console = Console(sandbox)
    _help(console, _channel_id(console, "ops"))
    (env,) = envelopes()
    assert env.connection == new.id and env.ack_connection == new.id


def test_the_app_reconnects_after_the_socket_is_dropped(
    sandbox: Sandbox, socket_mode: SocketModeServer, envelopes: Callable[[], list[Envelope]]
) -> None:
    opens = len(sandbox.fake.calls("apps.connections.open"))
    dropped = socket_mode.drop()
    assert dropped.closed and dropped.closed_by == "server"
    # the handler notices the close and reconnects on its next check (SandboxOptions.socket_ping_interval)
    new = socket_mode.wait_connected(newer_than=dropped, timeout=15)
    assert len(sandbox.fake.calls("apps.connections.open")) == opens + 1
    console = Console(sandbox)
    alert = console.wait_for(lambda s: find_message(s, "Alarm:"))
    _click(console, OPERATOR, alert, "Acknowledge")
    (env,) = envelopes()
    assert env.connection == new.id and env.acked
    console.wait_for(
        lambda s: next((m for m in s["messages"] if m["ts"] == alert["ts"] and "cknowledged" in str(m["blocks"])), None)
    )


# --- the command line ------------------------------------------------------------------------------


def test_make_run_socket_mode_flag_reaches_the_sandbox() -> None:
    """``make run ARGS=--socket-mode`` runs ``python -m bot sandbox --socket-mode``."""
    args = build_parser().parse_args(["sandbox", "--socket-mode", "--port", "0"])
    assert args.socket_mode is True
    assert build_parser().parse_args(["sandbox"]).socket_mode is False
