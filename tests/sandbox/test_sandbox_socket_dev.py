"""``python -m bot dev --socket-mode`` against the Slack fake's Socket Mode, and the fake's ``events_api`` envelopes.

``dev`` runs in the test's main thread as it runs in a terminal (its SIGINT/SIGTERM handlers
included); a second thread plays Slack: it waits for the connection, sends ``/ops help`` as a
``slash_commands`` envelope, and stops ``dev`` with SIGTERM once the ack is in.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.sandbox import cli
from bot.sandbox.slack_fake import SlackFake
from bot.sandbox.socket_mode import Envelope

BOT_TOKEN = "xoxb-dev-test"
APP_TOKEN = "xapp-1-A0EVENTOPS-1-devtest"


@pytest.fixture
def slack() -> Iterator[SlackFake]:
    fake = SlackFake(rate_limit=False, bot_token=BOT_TOKEN).start()
    fake.workspace.add_user("U0OPERATOR", "operator")
    fake.workspace.channel("ops")
    fake.enable_socket_mode(APP_TOKEN)
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def dev_env(slack: SlackFake, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from handlers import slack as slack_handler

    for key in ("EVENTOPS_CONFIG", "EVENTOPS_ALERTS_QUEUE_URL", "EVENTOPS_JOBS_QUEUE_URL", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    try:
        yield
    finally:
        slack_handler.set_runtime(None)  # dev installed its own; the next user builds a fresh one


def _help_form(slack: SlackFake) -> dict[str, str]:
    ch = slack.workspace.channel("ops")
    assert ch is not None
    return {
        "token": "x",
        "team_id": slack.workspace.team_id,
        "channel_id": ch.id,
        "channel_name": ch.name,
        "user_id": "U0OPERATOR",
        "user_name": "operator",
        "command": "/ops",
        "text": "help",
        "api_app_id": "A0EVENTOPS",
        "response_url": slack.response_url(ch.id, None, "U0OPERATOR"),
        "trigger_id": "1.2.3",
    }


def test_dev_socket_mode_serves_envelopes_until_sigterm(
    slack: SlackFake, dev_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    server = slack.socket_mode
    assert server is not None
    seen: dict[str, Any] = {}

    def play_slack() -> None:
        try:
            server.wait_connected(timeout=20)
        except TimeoutError as exc:
            seen["error"] = exc  # dev returns by itself when it cannot connect
            return
        try:
            seen["envelope"] = server.deliver("slash_commands", _help_form(slack), wait=10)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # dev's own handler: stop cleanly

    driver = threading.Thread(target=play_slack, daemon=True)
    driver.start()
    code = cli.dev(argparse.Namespace(socket_mode=True))
    driver.join(10)
    assert "error" not in seen, seen.get("error")
    assert code == 0, capsys.readouterr().err
    env: Envelope = seen["envelope"]
    assert env.in_time() and "/ops commands" in (env.ack_payload or {}).get("text", ""), env
    opened = slack.calls("apps.connections.open")
    assert [r.headers["authorization"] for r in opened] == [f"Bearer {APP_TOKEN}"]
    assert "connected (session" in capsys.readouterr().out
    assert server.wait_until(lambda: not server.live(), 5), "dev closed its connection on SIGTERM"


def test_dev_socket_mode_with_a_wrong_app_token_says_so(
    slack: SlackFake, dev_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0EVENTOPS-1-wrong")
    assert cli.dev(argparse.Namespace(socket_mode=True)) == 1
    err = capsys.readouterr().err
    assert "apps.connections.open" in err and "invalid_auth" in err and "Traceback" not in err


def test_events_api_envelopes_carry_the_retry_fields_and_take_acks(slack: SlackFake) -> None:
    """The fake's events_api envelopes, read by slack_sdk's builtin SocketModeClient."""
    server = slack.socket_mode
    assert server is not None
    got: list[SocketModeRequest] = []

    def listener(client: SocketModeClient, req: SocketModeRequest) -> None:
        got.append(req)
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

    client = SocketModeClient(app_token=APP_TOKEN, web_client=WebClient(base_url=slack.url), ping_interval=1)
    client.socket_mode_request_listeners.append(listener)  # type: ignore[arg-type]
    try:
        client.connect()
        server.wait_connected()
        event = {"type": "event_callback", "team_id": "T0EVENTOPS", "event": {"type": "app_home_opened"}}
        first = server.deliver("events_api", event, wait=5)
        again = server.deliver("events_api", event, retry_attempt=1, wait=5)
    finally:
        client.auto_reconnect_enabled = client.default_auto_reconnect_enabled = False
        slack.stop_socket_mode()  # the server closes first, so the client's close need not wait out a read
        client.close()
    assert first.in_time() and again.in_time() and first.ack_payload is None
    assert [(r.type, r.retry_attempt, r.retry_reason, r.accepts_response_payload) for r in got] == [
        ("events_api", 0, "", False),
        ("events_api", 1, "timeout", False),
    ]
    assert got[0].payload == event and got[0].envelope_id == first.envelope_id
