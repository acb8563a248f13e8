"""A storm summary says what it holds back and can be triaged as one: Acknowledge all and
Snooze all… on the summary, guarded like the alert buttons and audited; a snoozed storm is
counted, not listed; a storm that outlives its first minute stays one summary. Events through
handlers.notify (SQS in moto), clicks signed through handlers.slack, the Slack fake behind."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bot.config import DefaultRoute, Routing, Storm
from bot.sandbox.pollers import sqs_event
from bot.sandbox.slack_fake import SlackFake
from tests.approval.world import ACCOUNT, ALICE, CHANNEL, MALLORY, REGION, World, make_config, world_in


@pytest.fixture
def storm_world(aws: None, slack: SlackFake, test_remediation: Any) -> Iterator[World]:
    config = make_config(
        routing=Routing(default=DefaultRoute(channel=CHANNEL)),
        storm=Storm(threshold_per_minute=3, alerts_per_reply=50, burst_to_summary=False),  # 3 posted first
    )
    with world_in(slack, config) as world:
        yield world


def _events(n: int, title: str = "api") -> list[dict[str, Any]]:
    return [
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": f"{title}-{i} 5xx rate high",
            "source": "acme.monitoring",
            "account": ACCOUNT,
            "region": REGION,
            "time": "2026-01-01T00:00:00Z",
            "resources": [],
            "detail": {"service": f"{title}-{i}"},
        }
        for i in range(n)
    ]


def _notify(world: World, events: list[dict[str, Any]]) -> None:
    from handlers import notify

    url = world.sqs.create_queue(QueueName="alerts")["QueueUrl"]
    for i in range(0, len(events), 10):
        for ev in events[i : i + 10]:
            world.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(ev))
        msgs = world.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
        for m in msgs:
            world.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        notify.set_runtime(world.rt)
        try:
            resp = notify.handler(sqs_event(msgs, f"arn:aws:sqs:{REGION}:{ACCOUNT}:alerts", REGION), None)
        finally:
            notify.set_runtime(None)
        assert resp["batchItemFailures"] == []


def _summary(world: World) -> Any:
    (summary,) = [
        m
        for m in world.slack.messages[CHANNEL]
        if m.thread_ts is None and m.metadata and m.metadata.get("event_type") == "eventops_storm"
    ]
    return summary


def _thread_lines(world: World, ts: str) -> list[str]:
    lines = []
    for m in world.slack.messages[CHANNEL]:
        if m.thread_ts == ts and m.ts != ts:
            for b in m.blocks:
                head, *rest = b["text"]["text"].split("\n") if b["type"] == "section" else [""]
                if " more alert" in head:  # the listing replies, not a "Snooze ended" reply
                    lines += rest
    return lines


def _elements(msg: Any) -> list[dict[str, Any]]:
    return [e for b in msg.blocks if b["type"] == "actions" for e in b["elements"]]


def test_storm_summary_says_what_it_holds_back_and_lines_read_well(storm_world: World) -> None:
    _notify(storm_world, _events(5))
    summary = _summary(storm_world)
    text = json.dumps(summary.blocks, ensure_ascii=False)
    assert "Held back: a message and buttons per alert" in text
    assert [e.get("text", {}).get("text") or e.get("placeholder", {}).get("text") for e in _elements(summary)] == [
        "Acknowledge all",
        "Snooze all…",
    ]
    lines = _thread_lines(storm_world, summary.ts)
    assert len(lines) == 2  # 3 posted on their own, then the storm
    for line in lines:
        title = line.split("] ", 1)[1].split(" (", 1)[0]
        assert " — " not in title  # the title names the service: it is not repeated
        assert line.rstrip().endswith("`")  # the alert id, for /ops alert
    heads = [
        b["text"]["text"].split("\n")[0]
        for m in storm_world.slack.messages[CHANNEL]
        if m.thread_ts == summary.ts and m.ts != summary.ts
        for b in m.blocks
    ]
    assert heads == ["*2 more alerts*"]
    _notify(storm_world, _events(1, title="db"))
    heads = [
        b["text"]["text"].split("\n")[0]
        for m in storm_world.slack.messages[CHANNEL]
        if m.thread_ts == summary.ts and m.ts != summary.ts
        for b in m.blocks
    ]
    assert heads[-1] == "*1 more alert*"


def test_acknowledge_all_is_guarded_claimed_once_audited_and_shown(storm_world: World) -> None:
    _notify(storm_world, _events(5))
    summary = _summary(storm_world)
    storm_world.message_ts = summary.ts
    (ack,) = [e for e in _elements(summary) if e.get("action_id") == "eventops:storm-ack"]

    assert storm_world.click("eventops:storm-ack", ack["value"], user=MALLORY)["statusCode"] == 200
    assert any("Not allowed" in t for t in storm_world.ephemerals_for(MALLORY))
    assert "Acknowledged by" not in json.dumps(_summary(storm_world).blocks)

    assert storm_world.click("eventops:storm-ack", ack["value"], user=ALICE)["statusCode"] == 200
    after = _summary(storm_world)
    assert "👀 Acknowledged by @alice" in json.dumps(after.blocks, ensure_ascii=False)
    assert [e.get("action_id") for e in _elements(after)] == ["eventops:storm-snooze"]
    storm_world.click("eventops:storm-ack", ack["value"], user="U0BOB")
    assert any("Already acknowledged by @alice" in t for t in storm_world.ephemerals_for("U0BOB"))
    actions = [(e.action, e.outcome) for e in storm_world.rt.store.recent_audit(limit=100)]
    assert actions.count(("storm.acknowledge", "ACKNOWLEDGED")) == 1
    assert ("eventops:storm-ack", "DENIED") in actions


def test_snooze_all_counts_the_storm_without_listing_it_until_the_snooze_ends(storm_world: World) -> None:
    from bot.approval.sweeps import end_snoozes

    _notify(storm_world, _events(5))
    summary = _summary(storm_world)
    storm_world.message_ts = summary.ts
    (menu,) = [e for e in _elements(summary) if e.get("action_id") == "eventops:storm-snooze"]
    assert [o["text"]["text"] for o in menu["options"]] == [
        "Snooze all 1 hour",
        "Snooze all 4 hours",
        "Snooze all 24 hours",
    ]
    assert storm_world.choose("eventops:storm-snooze", menu["options"][0]["value"], user=ALICE)["statusCode"] == 200
    assert "😴 Snoozed until" in json.dumps(_summary(storm_world).blocks, ensure_ascii=False)
    listed = len(_thread_lines(storm_world, summary.ts))

    _notify(storm_world, _events(4, title="cache"))
    assert len(_thread_lines(storm_world, summary.ts)) == listed  # counted, not listed
    after = _summary(storm_world)
    assert after.text.startswith("Alert storm: 6 alerts")
    assert "4 counted while snoozed, not listed" in json.dumps(after.blocks, ensure_ascii=False)
    actions = [(e.action, e.outcome) for e in storm_world.rt.store.recent_audit(limit=100)]
    assert ("storm.snooze.1h", "SNOOZED") in actions

    assert end_snoozes(storm_world.rt, now=10**12) == 1
    ended = [m for m in storm_world.slack.messages[CHANNEL] if m.thread_ts == summary.ts and "Snooze ended" in m.text]
    assert ended and "listed in its thread again" in json.dumps(ended[0].blocks, ensure_ascii=False)
    _notify(storm_world, _events(2, title="queue"))
    assert len(_thread_lines(storm_world, summary.ts)) == listed + 2


def test_a_storm_that_outlives_its_first_minute_stays_one_summary(storm_world: World, monkeypatch) -> None:
    import bot.pipeline as pipeline
    import bot.store.table as table

    start = (int(table._now()) // table.STORM_BUCKET_S + 1) * table.STORM_BUCKET_S + 5  # one storm bucket
    for module in (table, pipeline):
        monkeypatch.setattr(module, "_now", lambda: start)
    _notify(storm_world, _events(5))
    posted_alone = [m for m in storm_world.slack.messages[CHANNEL] if m.thread_ts is None]
    assert len(posted_alone) == 4  # 3 alerts and the summary
    for module in (table, pipeline):  # the next minute: its counter starts at 0, the storm goes on
        monkeypatch.setattr(module, "_now", lambda: start + 60)
    _notify(storm_world, _events(3, title="web"))
    assert [m for m in storm_world.slack.messages[CHANNEL] if m.thread_ts is None] == posted_alone
