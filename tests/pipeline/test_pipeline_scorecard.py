"""The scorecard's figures from real notify batches, and its weekly post through housekeeping.

Events go through ``handlers.notify.handler`` from the moto alerts queue; what the scorecard
says was posted must equal what the Slack fake received, storm summaries and lists included.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import scorecard
from bot.config import ScorecardConfig, Storm
from bot.stats import TOP_PER_BATCH, Tally
from handlers import housekeeping
from tests.approval.world import World, interact_world, make_config

EVENTS = Path(__file__).resolve().parents[1] / "events"


def _cert(name: str) -> dict[str, Any]:
    ev = json.loads((EVENTS / "acm-approaching-expiration.json").read_text())
    ev["id"] = str(uuid.uuid4())
    ev["resources"] = [f"arn:aws:acm:us-east-1:123456789012:certificate/{name}"]
    ev["detail"]["CommonName"] = f"{name}.example.com"
    ev["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return ev


def _send(world: World, events: list[dict[str, Any]]) -> None:
    for ev in events:
        world.sqs.send_message(QueueUrl=world.alerts_url, MessageBody=json.dumps(ev))


def _posts(world: World) -> int:
    """Every message the bot put in Slack: top-level ones and thread replies."""
    return sum(len(ch.messages) for ch in world.slack.workspace.channels.values())


@pytest.fixture
def world() -> Iterator[World]:
    cfg = make_config(
        storm=Storm(threshold_per_minute=3, alerts_per_reply=25, burst_to_summary=False),
        scorecard=ScorecardConfig(channel="#leads"),
    )
    with interact_world(cfg) as w:
        yield w


def test_messages_posted_equal_what_slack_received_through_a_storm(world: World) -> None:
    _send(world, [_cert(f"storm-{i}") for i in range(8)])
    world.deliver_alerts()
    card = scorecard.build(world.rt, 7)
    assert card.total_events == 8
    assert card.total_messages == _posts(world), (card.messages, _posts(world))
    assert card.messages.get("STORM", 0) >= 2, card.messages  # the summary and its list
    assert sum(n for sev, n in card.messages.items() if sev != "STORM") == 3  # the threshold's full posts
    text = json.dumps(scorecard.render(card))
    assert "8 events" in text and "Storm summaries and their lists" in text


def test_repeats_are_events_not_messages_and_the_noisiest_problem_leads(world: World) -> None:
    loud = _cert("loud")
    _send(world, [loud])
    world.deliver_alerts()
    _send(world, [dict(_cert("loud"), id=str(uuid.uuid4())) for _ in range(4)] + [_cert("quiet")])
    world.deliver_alerts()
    card = scorecard.build(world.rt, 7)
    assert card.total_events == 6 and card.total_messages == 2 == _posts(world)
    (fp, title, n), *_ = card.problems
    assert n == 5 and "loud" in title, card.problems
    assert card.rules[0][1] == 6, card.rules
    assert card.reduction == pytest.approx(3.0)


def test_the_weekly_post_goes_out_once_per_week(world: World) -> None:
    _send(world, [_cert("weekly")])
    world.deliver_alerts()
    housekeeping.set_runtime(world.rt)
    try:
        assert housekeeping.handler({"task": "scorecard"}, None) == {"scorecard_posted": 1}
        assert housekeeping.handler({"task": "scorecard"}, None) == {"scorecard_posted": 0}
    finally:
        housekeeping.set_runtime(None)
    leads = world.slack.workspace.channel("#leads", create=False)
    assert leads is not None
    [post] = leads.messages
    assert "EventOps scorecard, last 7 days" in post.text and "1 events → 1 messages" in post.text


def test_a_failed_weekly_post_is_posted_by_the_next_run(world: World) -> None:
    world.slack.fail_next("chat.postMessage", error="channel_not_found")
    housekeeping.set_runtime(world.rt)
    try:
        with pytest.raises(housekeeping.HousekeepingError):
            housekeeping.handler({"task": "scorecard"}, None)
        assert housekeeping.handler({"task": "scorecard"}, None) == {"scorecard_posted": 1}
    finally:
        housekeeping.set_runtime(None)


def test_no_channel_no_weekly_post(world: World) -> None:
    world.rt.config = world.rt.config.model_copy(update={"scorecard": ScorecardConfig()})
    assert scorecard.post_weekly(world.rt) == 0


@pytest.mark.parametrize("together", [False, True], ids=["record_stats", "record_figures"])
def test_an_hour_outgrowing_its_item_keeps_the_totals(world: World, together: bool) -> None:
    """Thousands of distinct problems in one hour: DynamoDB refuses the growing item (400 KB);
    the totals still count, the per-problem counters stop — also when the batch's figures
    are sent together (refused together, they go one by one)."""
    store = world.rt.store
    big = "x" * 2000
    for batch in range(8):
        counts = {f"f.{batch:03d}{i:02d}{big}": 1 for i in range(39)}
        counts["e.HIGH"] = 39
        titles = {k[2:]: "t" * 80 for k in counts if k.startswith("f.")}
        if together:
            store.record_figures([1_000.0], counts, titles)
        else:
            store.record_stats(counts, titles)
    got, _ = store.stats_since(time.time() - 3600)
    assert got["e.HIGH"] == 8 * 39
    assert 0 < len([k for k in got if k.startswith("f.")]) < 8 * 39, "the per-problem counters stopped at 400 KB"


def test_tally_counts_settled_events_only_and_keeps_the_noisiest() -> None:
    from bot.models import Alert, Severity

    tally = Tally()
    alerts = [
        Alert(
            id=f"a{i}",
            source="aws.acm",
            source_kind="acm",
            detail_type="d",
            title=f"t{i % 12}",
            severity=Severity.LOW,
            fingerprint=f"fp{i % 12}",
        )
        for i in range(30)
    ]
    for a in alerts:
        tally.seen(a, "certs")
    for a in alerts[:29]:  # the last one's delivery failed: SQS retries it, it is counted then
        tally.settled(a.id, "posted" if a.id == "a0" else "grouped")
    tally.settled("dup", "duplicate")
    counts, titles = tally.take()
    assert counts["e.LOW"] == 29 and counts["m.LOW"] == 1 and counts["d"] == 1 and counts["r.certs"] == 29
    assert len([k for k in counts if k.startswith("f.")]) == TOP_PER_BATCH
    assert set(titles) == {k[2:] for k in counts if k.startswith("f.")}
    assert tally.take() == ({}, {})


@pytest.mark.parametrize(
    ("word", "days"), [(None, 7), ("7d", 7), ("30", 30), ("1d", 1), ("0d", None), ("31d", None), ("x", None)]
)
def test_parse_days(word: str | None, days: int | None) -> None:
    assert scorecard.parse_days(word) == days


def test_message_time_from_either_reference() -> None:
    from bot.models import Actor, AuditEntry

    def entry(ref: str) -> AuditEntry:
        return AuditEntry(id="x", action="a", outcome="o", actor=Actor(user_id="U1"), permalink=ref)

    assert scorecard.message_time(entry("slack:C1/1700000000.000100")) == 1700000000.0001
    assert scorecard.message_time(entry("https://t.slack.com/archives/C1/p1700000000000100")) == 1700000000.0001
    assert (
        scorecard.message_time(entry("https://t.slack.com/archives/C1/p1700000000000100?thread_ts=1"))
        == 1700000000.0001
    )
    assert scorecard.message_time(entry("nothing")) is None
