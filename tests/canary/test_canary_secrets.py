"""Secret canaries (docs/reliability.md #13): run notify, clicks, the worker, /ops and error paths with
recognizable fake secrets, capture everything (every log record at DEBUG, stdout/stderr where
powertools writes, exception text, what the Slack fake received) and look for the canaries.

The bot token legitimately travels in the ``Authorization`` header to Slack; nowhere else."""

from __future__ import annotations

import dataclasses
import json
import logging
import urllib.parse
import uuid

from botocore.exceptions import ClientError

from bot.errors import EventOpsError
from bot.slack.client import SlackPoster
from tests.approval.world import (
    ALICE,
    CHANNEL,
    MALLORY,
    REMEDIATE,
    command_event,
    form_body,
    http_event,
    interact_world,
    new_instance,
)
from tests.bench.bench_env import sqs_record

CANARY_TOKEN = "xoxb-CANARY-7431-9876-ZZtokenZZ"
CANARY_SIGNING = "CANARY-SIGNING-4f0c2e9d"
CANARY_AWS_SECRET = "CANARYawsSECRETkey0000000000000000000000"
CANARIES = (CANARY_TOKEN, CANARY_SIGNING, CANARY_AWS_SECRET)
# Fragments long enough to be recognizable if a secret is cut or re-encoded.
FRAGMENTS = ("CANARY-7431", "ZZtokenZZ", "CANARY-SIGNING", "4f0c2e9d", "CANARYawsSECRET")
LOUD = ("", "eventops", "slack_sdk", "slack_bolt", "botocore", "boto3", "urllib3", "aws_lambda_powertools")


def _leaks(text: str) -> list[str]:
    return [f for f in FRAGMENTS if f in text]


def _canary_world(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY_AWS_SECRET)
    ctx = interact_world()
    world = ctx.__enter__()
    rt = world.rt
    rt.settings = dataclasses.replace(rt.settings, slack_bot_token=CANARY_TOKEN, slack_signing_secret=CANARY_SIGNING)
    rt._secrets = None
    rt._slack = None
    world.slack.bot_token = CANARY_TOKEN
    from handlers import slack as slack_handler
    from handlers import worker

    slack_handler.set_runtime(rt)  # rebuilds the Bolt app with the canary signing secret
    worker.set_runtime(rt)
    return ctx, world


def _click(world, action_id: str, value: str, user: str = ALICE, **kw) -> dict:
    from handlers import slack as slack_handler

    body = form_body(world.click_body(action_id, value, user))
    return slack_handler.handler(http_event(body, secret=kw.pop("secret", CANARY_SIGNING), **kw), None)


def _every_flow(world) -> list[str]:
    """Representative flows and error paths; returns the text of every exception raised."""
    from handlers import notify
    from handlers import slack as slack_handler

    errors: list[str] = []
    rt = world.rt
    # notify: a few real-looking events, one malformed, one Slack failure
    notify.set_runtime(rt)
    events = [
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Disk Full",
            "source": "acme.monitoring",
            "account": "123456789012",
            "time": "2024-05-01T12:00:00Z",
            "region": "eu-west-1",
            "resources": [],
            "detail": {"host": "db-1", "usage": "97%"},
        },
        "{not json",
    ]
    notify.handler({"Records": [sqs_record(e) for e in events]}, None)
    world.slack.fail_next("chat.postMessage", status=500, times=3)
    notify.handler({"Records": [sqs_record({**events[0], "id": str(uuid.uuid4()), "detail-type": "CPU"})]}, None)

    # clicks: allowed, refused, forged; the worker executes and announces
    p = world.post_alert()
    _click(world, REMEDIATE, p.id, ALICE)
    _click(world, REMEDIATE, p.id, MALLORY)
    _click(world, REMEDIATE, p.id, ALICE, secret="forged-secret")
    _click(world, "eventops:ack", p.alert_id, ALICE)
    world.drain()

    # a remediation that fails in AWS, then Slack refusing our token
    p2 = world.post_alert(instance_id=new_instance(world))
    _click(world, REMEDIATE, p2.id, ALICE)
    world.sessions.failures["StopInstances"] = ClientError(
        {"Error": {"Code": "UnauthorizedOperation", "Message": "not allowed"}}, "StopInstances"
    )
    for _ in range(4):
        world.drain(rounds=1)
    world.sessions.failures.clear()

    # /ops: quick, failing, and deferred (answered by the worker through the response_url)
    for text in ("help", "status", "nonsense", "audit", "snooze"):
        slack_handler.handler(command_event(text, secret=CANARY_SIGNING), None)
    url = world.slack.response_url(CHANNEL)
    slack_handler.handler(command_event("alarms", response_url=url, secret=CANARY_SIGNING), None)
    world.drain()

    # Slack says our token is wrong / the fake is gone: the error text must not carry it
    world.slack.bot_token = "xoxb-some-other-token"
    for call in (
        lambda: rt.slack.post_message({"channel": CHANNEL, "text": "x"}),
        lambda: SlackPoster(CANARY_TOKEN, "http://127.0.0.1:9/api/", timeout=1).post_message(
            {"channel": CHANNEL, "text": "x"}
        ),
    ):
        try:
            call()
        except EventOpsError as exc:
            errors.append(f"{exc!s} {exc!r} {exc.__cause__!r} {exc.__context__!r}")
    world.slack.bot_token = CANARY_TOKEN
    return errors


def _slack_received(world) -> str:
    """Everything the fake Slack got, except the Authorization header (where the token belongs)."""
    out = []
    for r in world.slack.requests:
        headers = {k: v for k, v in r.headers.items() if k.lower() != "authorization"}
        out.append(json.dumps({"method": r.method, "params": r.params, "headers": headers}, default=str))
    for ch in world.slack.workspace.channels.values():
        out += [json.dumps(m.to_dict(), default=str) for m in ch.messages]
    out += [json.dumps(dataclasses.asdict(e), default=str) for e in world.slack.ephemerals]
    return "\n".join(out)


def test_no_canary_in_logs_output_exceptions_or_slack(monkeypatch, caplog, capfd):
    """As configured: every logger the bot does not silence, captured at DEBUG."""
    caplog.set_level(logging.DEBUG)
    ctx, world = _canary_world(monkeypatch)
    try:
        errors = _every_flow(world)
        seen = _slack_received(world)
        authorized = [r for r in world.slack.requests if CANARY_TOKEN in r.headers.get("authorization", "")]
    finally:
        ctx.__exit__(None, None, None)
    out, err = capfd.readouterr()
    assert authorized, "the flows never reached Slack with the canary token: the test proves nothing"
    assert len(caplog.records) > 100
    assert _leaks(caplog.text) == []
    assert _leaks("\n".join(r.getMessage() for r in caplog.records)) == []
    assert _leaks(out + err) == []
    assert errors and _leaks("\n".join(errors)) == []
    assert _leaks(seen) == []


def test_no_canary_even_with_every_library_logger_at_debug(monkeypatch, caplog, capfd):
    """Someone sets LOG_LEVEL=DEBUG everywhere: slack_sdk, slack_bolt, botocore, urllib3 at DEBUG."""
    caplog.set_level(logging.DEBUG)
    ctx, world = _canary_world(monkeypatch)
    before = {name: logging.getLogger(name).level for name in LOUD[1:]}
    try:
        for name in LOUD:
            logging.getLogger(name).setLevel(logging.DEBUG)
        errors = _every_flow(world)
    finally:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)
        ctx.__exit__(None, None, None)
    out, err = capfd.readouterr()
    assert _leaks(caplog.text) == []
    assert _leaks(out + err) == []
    assert _leaks("\n".join(errors)) == []


BUG_G = (
    "bug G: nothing pins botocore's loggers (bot/slack/client.py and bot/slack/app.py pin only slack_sdk "
    "and slack_bolt to WARNING). With the root logger at DEBUG (Lambda's application log level DEBUG), "
    "botocore logs every request and response body: SQS job bodies carry the response_url (a bearer "
    "credential for 30 minutes) and Secrets Manager's GetSecretValue response carries the bot token and "
    "signing secret. Pinning 'botocore' (and 'urllib3') at INFO/WARNING where the runtime is built fixes it"
)


def test_response_urls_are_not_logged(monkeypatch, caplog):
    """response_urls are bearer credentials for 30 minutes (docs/reliability.md #13)."""
    caplog.set_level(logging.DEBUG)
    ctx, world = _canary_world(monkeypatch)
    try:
        _every_flow(world)
        urls = [f"/response/{rid}" for rid in world.slack.workspace.response_urls]
    finally:
        ctx.__exit__(None, None, None)
    assert urls
    assert [u for u in urls if u in caplog.text] == []


def test_settings_and_runtime_reprs_hide_the_secrets(monkeypatch):
    from bot.config import Settings

    settings = Settings.from_env(
        {"SLACK_BOT_TOKEN": CANARY_TOKEN, "SLACK_SIGNING_SECRET": CANARY_SIGNING, "SLACK_APP_TOKEN": "xapp-CANARY-7431"}
    )
    assert _leaks(repr(settings)) == []


def test_the_bot_token_reaches_slack_only_in_the_authorization_header(monkeypatch):
    ctx, world = _canary_world(monkeypatch)
    try:
        p = world.post_alert()
        _click(world, REMEDIATE, p.id, ALICE)
        world.drain()
        raw = [urllib.parse.unquote(json.dumps(r.params, default=str)) for r in world.slack.requests]
    finally:
        ctx.__exit__(None, None, None)
    assert raw and not any(CANARY_TOKEN in r for r in raw)


def test_secrets_from_secrets_manager_are_not_logged(monkeypatch, caplog):
    """Deployed, the token and signing secret come from Secrets Manager (docs/design.md "Contracts")."""
    import boto3
    from moto import mock_aws

    from bot.config import Settings, parse_config
    from bot.runtime import Runtime

    caplog.set_level(logging.DEBUG)
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        sm.create_secret(
            Name="eventops/slack",
            SecretString=json.dumps({"bot_token": CANARY_TOKEN, "signing_secret": CANARY_SIGNING}),
        )
        rt = Runtime(settings=Settings(slack_secret_id="eventops/slack"), config=parse_config({}))
        assert rt.secrets.bot_token == CANARY_TOKEN
    assert _leaks(caplog.text) == []
