"""Event-to-Slack latency (issue "Operate it"), through the real entry points against moto and the
loopback Slack fake: an event with a known ``time`` goes through handlers/notify.py, which emits a
``DeliveryLatency`` EMF metric on stdout and records the sample in the table; ``/ops status``,
signed through handlers/slack.py and answered by handlers/worker.py, shows the last hour's p95
against the alarm's bound.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import Routing
from bot.sandbox.pollers import sqs_event
from bot.sandbox.slack_fake import SlackFake
from handlers import slack as slack_handler
from tests.approval.world import ACCOUNT, CHANNEL, REGION, World, command_event, make_config, world_in


@pytest.fixture
def notify_world(aws: None, slack: SlackFake, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    # EMF goes to stdout unless metrics are disabled (the sandbox CLI disables them).
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    routing = Routing.model_validate({"default": {"channel": CHANNEL, "mode": "notify"}})
    with world_in(slack, make_config(routing=routing)) as w:
        yield w


def disk_full(at: datetime | str | None, host: str = "db-1") -> dict[str, Any]:
    ev: dict[str, Any] = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Disk Full",
        "source": "acme.monitoring",
        "account": ACCOUNT,
        "region": REGION,
        # one resource: a repeat is the same problem (the generic parser's fingerprint)
        "resources": [f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0"],
        "detail": {"host": host, "usage": "97%"},
    }
    if at is not None:
        ev["time"] = at if isinstance(at, str) else at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return ev


def notify_via_sqs(world: World, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Put the events on an alerts queue in moto and run handlers.notify on what SQS delivers."""
    from handlers import notify

    url = world.sqs.create_queue(QueueName="alerts")["QueueUrl"]
    for ev in events:
        world.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(ev))
    msgs = world.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    for m in msgs:
        world.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    notify.set_runtime(world.rt)
    try:
        return notify.handler(sqs_event(msgs, f"arn:aws:sqs:{REGION}:{ACCOUNT}:alerts", REGION), None)
    finally:
        notify.set_runtime(None)


def emf_values(stdout: str, name: str) -> list[float]:
    """Every value of metric ``name`` in the EMF lines powertools printed, checking its unit."""
    values: list[float] = []
    for line in stdout.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        blob = json.loads(line)
        (directive,) = blob["_aws"]["CloudWatchMetrics"]
        units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
        if name in units:
            assert directive["Namespace"] == "EventOps"
            assert units[name] == "Milliseconds"
            assert blob["service"] == "eventops"
            raw = blob[name]
            values += raw if isinstance(raw, list) else [raw]
    return values


def status(world: World) -> str:
    """``/ops status`` through the signed front door; the worker answers on the response_url."""
    url = world.slack.response_url(CHANNEL)
    resp = slack_handler.handler(command_event("status", response_url=url), None)
    assert resp["statusCode"] == 200
    world.drain()
    answers = [r.params for r in world.slack.requests if r.method.startswith("response_url:")]
    assert answers, "the worker answered nothing"
    return json.dumps(answers[-1], ensure_ascii=False)


def top_level(world: World) -> list[Any]:
    return [m for m in world.slack.messages[CHANNEL] if m.thread_ts is None]


def test_a_post_emits_its_delivery_latency_and_status_shows_the_p95(notify_world, capsys):
    world = notify_world
    sent = datetime.now(UTC) - timedelta(seconds=42)
    assert notify_via_sqs(world, [disk_full(sent)]) == {"batchItemFailures": []}

    assert len(top_level(world)) == 1
    (latency,) = emf_values(capsys.readouterr().out, "DeliveryLatency")
    # EventBridge times have whole seconds: 42 s back, truncated, plus the time this took.
    assert 42_000 <= latency < 52_000, latency

    answer = status(world)
    assert re.search(r"Delivery latency:\*? p95 4\d s over the last hour \(1 posted\)", answer), answer
    assert "bound" not in answer  # no alarm bound configured for this world

    world.rt.settings = dataclasses.replace(world.rt.settings, latency_alarm_seconds=30)
    assert re.search(r"p95 4\d s over the last hour \(1 posted\), bound 30 s — :warning: over", status(world))
    world.rt.settings = dataclasses.replace(world.rt.settings, latency_alarm_seconds=60)
    within = status(world)
    assert "(1 posted), bound 60 s" in within and ":warning: over" not in within


def test_a_repeat_is_measured_as_a_grouped_update_not_as_a_delivery(notify_world, capsys):
    world = notify_world
    now = datetime.now(UTC)
    notify_via_sqs(world, [disk_full(now - timedelta(seconds=5))])
    capsys.readouterr()
    notify_via_sqs(world, [disk_full(now - timedelta(seconds=20))])  # same problem: counted in

    out = capsys.readouterr().out
    assert len(top_level(world)) == 1 and top_level(world)[0].edited
    assert emf_values(out, "DeliveryLatency") == []
    (grouped,) = emf_values(out, "GroupedUpdateLatency")
    assert 20_000 <= grouped < 30_000, grouped
    assert "(1 posted)" in status(world)  # /ops status counts what was posted, not repeats


@pytest.mark.parametrize("when", [None, "", "yesterday at noon", 1764763200])
def test_an_event_without_a_usable_time_is_posted_without_a_figure(notify_world, capsys, caplog, when):
    world = notify_world
    ev = disk_full(None)
    if when is not None:
        ev["time"] = when
    with caplog.at_level("DEBUG", logger="eventops.latency"):
        assert notify_via_sqs(world, [ev]) == {"batchItemFailures": []}

    assert len(top_level(world)) == 1
    assert emf_values(capsys.readouterr().out, "DeliveryLatency") == []
    assert [r.message for r in caplog.records if r.name == "eventops.latency"][0].startswith("no latency")
    assert "no alerts posted in the last hour" in status(world)
