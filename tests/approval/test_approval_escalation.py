"""Escalation and reminders end to end: events through handlers/notify.py (SQS records), the clock
moved forward, handlers/housekeeping.py run, what the Slack fake received and what DynamoDB holds;
the Acknowledge button clicked through the signed front door (handlers/slack.py)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import escalation
from bot.config import DefaultRoute, Escalation, EscalationDefaults, Routing
from bot.sandbox.slack_fake import SlackFake
from handlers import housekeeping
from tests.approval.world import ALICE, CHANNEL, World, make_config, world_in

EVENTS = Path(__file__).resolve().parents[1] / "events"
ESCALATE = EscalationDefaults(after_minutes=15, mention=["S0ONCALL"], then_after_minutes=30, then_mention=["here"])


def _config(**escalation_keys: Any) -> Any:
    top = EscalationDefaults(**escalation_keys) if escalation_keys else ESCALATE
    return make_config(routing=Routing(default=DefaultRoute(channel=CHANNEL)), escalation=top)


@pytest.fixture
def esc_world(aws: None, slack: SlackFake, request: pytest.FixtureRequest) -> Iterator[World]:
    marker = request.node.get_closest_marker("escalation")
    config = _config(**marker.kwargs) if marker else _config()
    with world_in(slack, config) as w:
        yield w


def _event(name: str, at: datetime, **detail: Any) -> dict[str, Any]:
    ev = json.loads((EVENTS / name).read_text())
    ev["id"] = str(uuid.uuid4())
    ev["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    ev["detail"].update(detail)
    return ev


def _notify(world: World, *events: dict[str, Any]) -> None:
    for ev in events:
        world.sqs.send_message(QueueUrl=world.alerts_url, MessageBody=json.dumps(ev))
    responses = world.deliver_alerts()
    assert responses and all(r == {"batchItemFailures": []} for r in responses)


def _housekeep(world: World, monkeypatch: pytest.MonkeyPatch, at: float) -> dict[str, Any]:
    monkeypatch.setattr(escalation, "_now", lambda: at)
    housekeeping.set_runtime(world.rt)
    try:
        return housekeeping.handler({}, None)
    finally:
        housekeeping.set_runtime(None)


def _top(world: World) -> Any:
    (msg,) = [m for m in world.slack.messages[CHANNEL] if not m.thread_ts or m.thread_ts == m.ts]
    return msg


def _replies(world: World, ts: str) -> list[Any]:
    return [m for m in world.slack.messages[CHANNEL] if m.thread_ts == ts and m.ts != ts]


def _button(msg: Any, label: str) -> dict[str, Any]:
    for block in msg.blocks:
        for el in block.get("elements", []):
            if el.get("type") == "button" and el["text"]["text"] == label:
                return el
    raise AssertionError(f"no {label!r} button in {msg.blocks}")


def _due_item(world: World, alert_id: str, kind: str) -> dict[str, Any] | None:
    resp = world.rt.store.client.get_item(
        TableName="eventops-test", Key={"pk": {"S": f"DUE#{alert_id}"}, "sk": {"S": kind}}, ConsistentRead=True
    )
    return resp.get("Item")


def _alert_id(msg: Any) -> str:
    return msg.metadata["event_payload"]["alert_id"]


def test_unacknowledged_high_finding_is_escalated_to_the_group_then_here(esc_world, monkeypatch):
    start = time.time()
    _notify(esc_world, _event("guardduty-s3-anonymous-access.json", datetime.now(UTC)))
    msg = _top(esc_world)
    assert "HIGH" in msg.text
    item = _due_item(esc_world, _alert_id(msg), "ESCALATION")
    assert item is not None and item["step"]["N"] == "0"

    assert _housekeep(esc_world, monkeypatch, start + 14 * 60)["escalations_posted"] == 0
    assert _replies(esc_world, msg.ts) == []

    assert _housekeep(esc_world, monkeypatch, start + 16 * 60)["escalations_posted"] == 1
    (first,) = _replies(esc_world, msg.ts)
    assert first.text.startswith("<!subteam^S0ONCALL> ") and "Nobody has acknowledged" in first.text
    assert "<!here>" not in first.text

    assert _housekeep(esc_world, monkeypatch, start + 30 * 60)["escalations_posted"] == 0  # second step at 45
    assert _housekeep(esc_world, monkeypatch, start + 46 * 60)["escalations_posted"] == 1
    second = _replies(esc_world, msg.ts)[-1]
    assert second.text.startswith("<!here> ") and "Still nobody has acknowledged" in second.text
    assert "S0ONCALL" not in second.text

    assert _housekeep(esc_world, monkeypatch, start + 600 * 60)["escalations_posted"] == 0  # two steps, no more
    assert len(_replies(esc_world, msg.ts)) == 2
    item = _due_item(esc_world, _alert_id(msg), "ESCALATION")
    assert item is not None and item["step"]["N"] == "2" and "gsi1pk" not in item


@pytest.mark.parametrize("label", ["Acknowledge", "Dismiss"])
def test_acknowledged_or_dismissed_before_the_due_time_is_not_escalated(esc_world, monkeypatch, label):
    start = time.time()
    _notify(esc_world, _event("securityhub-imported-multi-resource.json", datetime.now(UTC)))
    msg = _top(esc_world)
    esc_world.message_ts = msg.ts
    button = _button(msg, label)
    resp = esc_world.click(button["action_id"], button["value"], ALICE)
    assert resp["statusCode"] == 200
    if label == "Dismiss":  # Dismiss asks why first (a modal): submitting the form dismisses
        assert esc_world.submit_view({"reason": "false_positive", "note": ""}, ALICE)["statusCode"] == 200
    decided = esc_world.rt.store.acked_by if label == "Acknowledge" else esc_world.rt.store.dismissed_by
    assert decided(_alert_id(msg)) is not None

    assert _housekeep(esc_world, monkeypatch, start + 60 * 60)["escalations_posted"] == 0
    assert _replies(esc_world, msg.ts) == []
    assert _due_item(esc_world, _alert_id(msg), "ESCALATION") is None  # dropped, not just skipped


def test_snoozed_alert_escalates_only_after_the_snooze(esc_world, monkeypatch):
    start = time.time()
    _notify(esc_world, _event("guardduty-s3-anonymous-access.json", datetime.now(UTC)))
    msg = _top(esc_world)
    esc_world.message_ts = msg.ts
    esc_world.choose("eventops:snooze", f"1h {_alert_id(msg)}", ALICE)
    assert esc_world.rt.store.snoozed_until(msg.metadata["event_payload"]["fingerprint"]) is not None

    assert _housekeep(esc_world, monkeypatch, start + 20 * 60)["escalations_posted"] == 0
    assert _replies(esc_world, msg.ts) == []
    item = _due_item(esc_world, _alert_id(msg), "ESCALATION")
    assert item is not None and float(item["due"]["N"]) >= start + 3599  # moved to the snooze's end
    # housekeeping's clock past the snooze's end
    assert _housekeep(esc_world, monkeypatch, start + 61 * 60)["escalations_posted"] == 1
    assert "<!subteam^S0ONCALL>" in _replies(esc_world, msg.ts)[-1].text


@pytest.fixture
def atomic_moto_writes(monkeypatch):
    """DynamoDB evaluates a condition and writes atomically; moto's in-process backend does not
    (two threads can both pass the same condition). Make its writes atomic, as the service's are,
    so the race below tests the bot's conditional write and not moto's lack of locking."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("update_item", "put_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def locked(self, *a, _original=original, **kw):
            with lock:
                return _original(self, *a, **kw)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


def test_two_overlapping_housekeeping_runs_post_each_step_once(esc_world, monkeypatch, atomic_moto_writes):
    start = time.time()
    _notify(esc_world, _event("guardduty-s3-anonymous-access.json", datetime.now(UTC)))
    msg = _top(esc_world)
    monkeypatch.setattr(escalation, "_now", lambda: start + 16 * 60)
    housekeeping.set_runtime(esc_world.rt)
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        results.append(escalation.run_due(esc_world.rt))

    try:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        again = housekeeping.handler({}, None)  # a rerun (after a crash, say) at the same time
    finally:
        housekeeping.set_runtime(None)
    assert sorted(results) == [0, 1] and again["escalations_posted"] == 0
    assert len(_replies(esc_world, msg.ts)) == 1


def test_a_taken_step_is_not_posted_again_by_a_run_that_read_it_before(esc_world, monkeypatch):
    """The conditional write on the step number: a run holding a stale read cannot take it."""
    start = time.time()
    _notify(esc_world, _event("guardduty-s3-anonymous-access.json", datetime.now(UTC)))
    msg = _top(esc_world)
    (stale,) = esc_world.rt.store.due_steps(start + 16 * 60, limit=10)
    assert escalation.run_due(esc_world.rt, now=start + 16 * 60) == 1
    assert not esc_world.rt.store.advance_due(stale, None)
    assert escalation._take(esc_world.rt, stale, start + 16 * 60) == 0
    assert len(_replies(esc_world, msg.ts)) == 1


@pytest.mark.escalation(max_posts_per_run=2, after_minutes=15, mention=["S0ONCALL"])
def test_a_run_posts_at_most_its_cap_and_the_next_run_the_rest(esc_world, monkeypatch):
    start = time.time()
    samples = [
        "guardduty-s3-anonymous-access.json",
        "securityhub-imported-multi-resource.json",
        "guardduty-ec2-cryptocurrency-critical.json",
    ]
    findings = [_event(name, datetime.now(UTC)) for name in samples]
    _notify(esc_world, *findings)
    tops = [m for m in esc_world.slack.messages[CHANNEL] if not m.thread_ts]
    assert len(tops) == 3
    assert _housekeep(esc_world, monkeypatch, start + 16 * 60)["escalations_posted"] == 2
    assert _housekeep(esc_world, monkeypatch, start + 17 * 60)["escalations_posted"] == 1
    assert sorted(len(_replies(esc_world, m.ts)) for m in tops) == [1, 1, 1]


@pytest.mark.escalation(remind_every_hours=4, max_reminders=3)
def test_cloudwatch_alarm_still_in_alarm_is_reminded_until_ok_resolves_it(esc_world, monkeypatch):
    t0 = datetime.now(UTC) - timedelta(seconds=10)
    start = time.time()
    _notify(esc_world, _event("cloudwatch-metric-alarm.json", t0))
    msg = _top(esc_world)
    alert_id = _alert_id(msg)
    assert _due_item(esc_world, alert_id, "REMINDER") is not None
    assert _due_item(esc_world, alert_id, "ESCALATION") is None  # no escalation configured here

    assert _housekeep(esc_world, monkeypatch, start + 3 * 3600)["escalations_posted"] == 0
    assert _housekeep(esc_world, monkeypatch, start + 4 * 3600 + 600)["escalations_posted"] == 1
    (reminder,) = _replies(esc_world, msg.ts)
    assert "ServerCpuTooHigh" in reminder.text and "is still in ALARM for 4h 10m" in reminder.text
    assert "(reminder 1 of 3)" in reminder.text

    ok = _event("cloudwatch-metric-ok.json", t0 + timedelta(hours=5, minutes=12))
    _notify(esc_world, ok)
    updated = _top(esc_world)
    assert updated.edited
    rendered = json.dumps(updated.blocks)
    assert "Resolved after 5h 12m" in rendered and "Recovered: ServerCpuTooHigh" in rendered
    assert _due_item(esc_world, alert_id, "REMINDER") is None

    assert _housekeep(esc_world, monkeypatch, start + 8 * 3600 + 600)["escalations_posted"] == 0
    assert _housekeep(esc_world, monkeypatch, start + 30 * 3600)["escalations_posted"] == 0
    assert len(_replies(esc_world, msg.ts)) == 1

    # the OK event delivered again (a new id, same state) adds no second line
    _notify(esc_world, _event("cloudwatch-metric-ok.json", t0 + timedelta(hours=5, minutes=20)))
    assert json.dumps(_top(esc_world).blocks).count("Resolved after") == 1


@pytest.mark.escalation(remind_every_hours=1, max_reminders=2)
def test_reminders_are_bounded(esc_world, monkeypatch):
    start = time.time()
    _notify(esc_world, _event("cloudwatch-metric-alarm.json", datetime.now(UTC)))
    msg = _top(esc_world)
    posted = [_housekeep(esc_world, monkeypatch, start + h * 3600 + 60)["escalations_posted"] for h in range(1, 6)]
    assert posted == [1, 1, 0, 0, 0]
    assert [("reminder 1 of 2" in r.text, "reminder 2 of 2" in r.text) for r in _replies(esc_world, msg.ts)] == [
        (True, False),
        (False, True),
    ]


def test_a_medium_finding_is_not_escalated(esc_world, monkeypatch):
    start = time.time()
    _notify(esc_world, _event("guardduty-iam-maliciousipcaller.json", datetime.now(UTC)))
    msg = _top(esc_world)
    assert _due_item(esc_world, _alert_id(msg), "ESCALATION") is None
    assert _housekeep(esc_world, monkeypatch, start + 3600)["escalations_posted"] == 0
    assert _replies(esc_world, msg.ts) == []


def test_route_block_overrides_the_keys_it_sets():
    cfg = make_config(
        escalation=ESCALATE,
        routing=Routing(
            rules=[{"name": "sec", "escalation": Escalation(after_minutes=5)}],  # type: ignore[list-item]
            default=DefaultRoute(channel=CHANNEL, escalation=Escalation(mention=["S0OTHER"])),
        ),
    )
    sec = escalation.policy_for(cfg, "sec")
    assert (sec.after_minutes, sec.mention, sec.then_mention) == (5, ["S0ONCALL"], ["here"])
    default = escalation.policy_for(cfg, "default")
    assert (default.after_minutes, default.mention) == (15, ["S0OTHER"])
    assert escalation.duration(4320) == "1h 12m" and escalation.duration(15 * 60 + 59) == "15m"


@pytest.mark.escalation(remind_every_hours=4, max_reminders=3)
def test_a_flapping_alarm_is_reopened_and_resolved_again(esc_world, monkeypatch):
    t0 = datetime.now(UTC) - timedelta(seconds=10)
    start = time.time()
    _notify(esc_world, _event("cloudwatch-metric-alarm.json", t0))
    alert_id = _alert_id(_top(esc_world))
    _notify(esc_world, _event("cloudwatch-metric-ok.json", t0 + timedelta(minutes=20)))
    assert "Resolved after 20m" in json.dumps(_top(esc_world).blocks)

    _notify(esc_world, _event("cloudwatch-metric-alarm.json", t0 + timedelta(minutes=30)))
    rendered = json.dumps(_top(esc_world).blocks)
    assert "Resolved after" not in rendered and "Alarm: ServerCpuTooHigh" in rendered
    assert _due_item(esc_world, alert_id, "REMINDER") is not None  # reminders again, from now
    assert _housekeep(esc_world, monkeypatch, start + 4 * 3600 + 60)["escalations_posted"] == 1

    _notify(esc_world, _event("cloudwatch-metric-ok.json", t0 + timedelta(hours=5)))
    rendered = json.dumps(_top(esc_world).blocks)
    assert rendered.count("Resolved after") == 1 and "Resolved after 5h 0m" in rendered
    assert _due_item(esc_world, alert_id, "REMINDER") is None


def test_a_remediation_that_succeeded_stops_the_escalation(test_remediation, esc_world, monkeypatch):
    """An alert with a remediation offered (the world's stand-in stop, as notify would post it),
    scheduled as notify schedules it; the remediation clicked through the front door and run
    by the worker before the due time."""
    from bot.models import Route

    start = time.time()
    p = esc_world.post_alert()
    assert escalation.schedule(
        esc_world.rt, esc_world.alert, Route(rule="default", channel=CHANNEL), CHANNEL, p.message_ts
    )
    esc_world.click(f"eventops:remediate:{p.remediation}", p.id, ALICE)
    esc_world.drain()
    assert esc_world.state() == "stopped"
    assert _housekeep(esc_world, monkeypatch, start + 60 * 60)["escalations_posted"] == 0
    assert not any("Nobody has" in r.text for r in esc_world.replies())
    assert _due_item(esc_world, esc_world.alert.id, "ESCALATION") is None
