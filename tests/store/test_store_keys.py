"""The store owns its keys (``bot/store/table.py`` lists the families): named methods round-trip,
message records say their state, and records written before ``state`` existed still read."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from bot.errors import NotFoundError
from bot.models import Actor, Alert, ProposalState
from bot.store import MessageState, Store, create_table

ROOT = Path(__file__).resolve().parents[2]
ALICE = Actor(user_id="U0ALICE", name="alice")


@pytest.fixture
def store(aws) -> Store:
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_table(client, "eventops-test")
    return Store(client, "eventops-test")


def _alert(alert_id: str = "a-1") -> Alert:
    return Alert(
        id=alert_id,
        source="aws.test",
        source_kind="test",
        detail_type="Test",
        account="111111111111",
        region="us-east-1",
        time=datetime.now(UTC),
        title="t",
        fingerprint="fp1",
    )


def test_message_record_states(store):
    rec = store.claim_message("fp1", "C1", _alert(), 3600, 60)
    assert rec is not None and rec.state == MessageState.CLAIMED and rec.ts is None and not rec.has_message
    store.mark_message_posted("fp1", "1700000000.000100", "C0OPS")
    rec = store.get_message("fp1")
    assert rec is not None and rec.state == MessageState.POSTED and rec.ts == "1700000000.000100"
    assert rec.channel == "C0OPS" and rec.has_message
    for mark, state in [
        (store.mark_message_threaded, MessageState.THREADED),
        (store.mark_message_storm, MessageState.STORM),
        (store.mark_message_snoozed, MessageState.SNOOZED),
    ]:
        mark("fp1")
        rec = store.get_message("fp1")
        assert rec is not None and rec.state == state and rec.ts is None and not rec.has_message


@pytest.mark.parametrize(
    ("old_ts", "state", "ts"),
    [
        (None, MessageState.CLAIMED, None),
        ("1700000000.000100", MessageState.POSTED, "1700000000.000100"),
        ("thread:1700000000.000200", MessageState.THREADED, None),
        ("storm:2833333", MessageState.STORM, None),
        ("snoozed:", MessageState.SNOOZED, None),
    ],
)
def test_records_written_before_state_existed_still_read(store, old_ts, state, ts):
    now = int(time.time())
    item = {
        "pk": {"S": "FP#old"},
        "sk": {"S": "MSG"},
        "channel": {"S": "C1"},
        "count": {"N": "3"},
        "first_seen": {"N": str(now)},
        "last_seen": {"N": str(now)},
        "last_event_time": {"S": "2026-01-01T00:00:00+00:00"},
        "alert_id": {"S": "a-1"},
        "ttl": {"N": str(now + 3600)},
    }
    if old_ts is not None:
        item["ts"] = {"S": old_ts}
    store.client.put_item(TableName=store.table, Item=item)
    rec = store.get_message("old")
    assert rec is not None and (rec.state, rec.ts) == (state, ts)


def test_first_click_claims(store):
    assert store.acked_by("a-1") is None
    assert store.claim_ack("a-1", ALICE) and not store.claim_ack("a-1", Actor(user_id="U0BOB"))
    assert store.acked_by("a-1") == ALICE
    assert store.claim_dismissal("a-1", ALICE) and store.dismissed_by("a-1") == ALICE
    assert store.claim_undo_request("p-1", ALICE) and not store.claim_undo_request("p-1", ALICE)
    assert store.undo_requested_by("p-1") == ALICE


def test_job_markers(store):
    assert store.claim_undo_run("p-1", "job-1") and not store.claim_undo_run("p-1", "job-2")
    assert store.undo_run_by("p-1") == "job-1"
    assert store.claim_dry_run("p-1", "job-1") and not store.claim_dry_run("p-1", "job-1")
    assert store.claim_dry_run("p-1", "job-2")
    assert store.job_failure("p-1") is None
    store.record_job_failure("p-1", "x" * 600)
    assert store.job_failure("p-1") == "x" * 500
    assert store.post_state("p-1") is None
    store.record_post_state("p-1", {"a": [1]})
    assert store.post_state("p-1") == {"a": [1]}
    assert not store.was_notified("p-1", ProposalState.SUCCEEDED)
    store.mark_notified("p-1", ProposalState.SUCCEEDED)
    assert store.was_notified("p-1", ProposalState.SUCCEEDED)
    assert not store.was_notified("p-1", ProposalState.UNDONE)
    assert [store.count_execution(None) for _ in range(3)] == [1, 2, 3]
    assert store.count_execution("222222222222") == 1


def test_storm_counters_and_message(store, monkeypatch):
    import bot.store.table as table

    monkeypatch.setattr(table, "_now", lambda: 1_800_000_010.0)  # one minute throughout
    minute, first = store.count_channel_posts("C1")
    assert first == 1 and store.count_channel_posts("C1", 5) == (minute, 6)
    store.uncount_channel_posts("C1", minute, 2)  # two of the five were not posted
    assert store.channel_posts_this_minute("C1") == 4
    tally = store.count_storm("C1", 7, {"HIGH": 2, "LOW": 1})
    assert tally.total == 3 and tally.by_severity == {"CRITICAL": 0, "HIGH": 2, "MEDIUM": 0, "LOW": 1, "INFO": 0}
    assert store.count_storm("C1", 7, {"LOW": 1}).total == 4
    assert store.storm_message("C1", 7) is None
    store.set_storm_message("C1", 7, "C0ID", "1.2")
    assert store.storm_message("C1", 7) == ("C0ID", "1.2")


def test_a_batchs_reads_bring_the_storm_counters_of_the_minute_before(store, monkeypatch):
    import bot.store.table as table
    from bot.store.table import Lookup

    monkeypatch.setattr(table, "_now", lambda: 1_800_000_010.0)
    store.count_channel_posts("#ops", 7)
    monkeypatch.setattr(table, "_now", lambda: 1_800_000_070.0)  # the minute after
    calls = []
    store.client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    request = Lookup("fp-1", ("fp-1",), "#ops", None)
    reads = store.read_for_batch([request], ["#ops", "#quiet"])
    assert calls == ["BatchGetItem"]
    assert (
        reads.posts_last_minute
        == {"#ops": 7, "#quiet": 0}
        == {c: store.channel_posts_last_minute(c) for c in ("#ops", "#quiet")}
    )
    assert reads.minute == 1_800_000_070 // 60 - 1 and reads.found == {request: (None, False, None)}


def test_a_claim_with_its_alert_is_one_write_and_all_or_nothing(store):
    calls = []
    store.client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    mine = store.claim_message_with_alert("fp1", "#ops", _alert("a-1"), 3600, 60, [])
    assert mine is not None and mine.owner_id == "a-1" and calls == ["TransactWriteItems"]
    assert store.get_alert("a-1").channel == "#ops"
    # someone else's live claim: None, and neither the claim nor the alert is written
    assert store.claim_message_with_alert("fp1", "#ops", _alert("a-2"), 3600, 60, []) is None
    assert store.get_message("fp1").owner_id == "a-1"
    with pytest.raises(NotFoundError):
        store.get_alert("a-2")


def test_housekeeping_run(store):
    assert store.last_housekeeping_run() is None
    store.record_housekeeping_run()
    assert store.last_housekeeping_run() == pytest.approx(time.time(), abs=5)


def test_delivery_latency_is_the_last_hours_p95_from_one_write_per_batch(store, monkeypatch):
    import bot.store.table as table

    writes = []
    store.client.meta.events.register(
        "before-parameter-build.dynamodb.UpdateItem", lambda params, **_: writes.append(params)
    )
    now = 1_800_000_000.0
    assert store.delivery_latency() is None
    monkeypatch.setattr(table, "_now", lambda: now - 3700)  # more than an hour ago: left out
    store.record_latencies([900_000.0] * 50)
    monkeypatch.setattr(table, "_now", lambda: now - 1800)
    store.record_latencies([float(ms) for ms in range(1_000, 51_000, 1_000)])  # 1 s … 50 s
    monkeypatch.setattr(table, "_now", lambda: now)
    store.record_latencies([float(ms) for ms in range(51_000, 101_000, 1_000)])  # 51 s … 100 s
    store.record_latencies([])  # a batch that posted nothing writes nothing
    assert len(writes) == 3

    summary = store.delivery_latency()
    assert summary is not None and summary.count == 100
    # nearest rank: the 95th of 1 s … 100 s is 95 s; a bin's upper edge is at most 4.5 % above it
    assert 95_000 <= summary.p95_ms <= 95_000 * 1.045
    item = store.client.get_item(
        TableName="eventops-test", Key={"pk": {"S": "LATENCY#delivery"}, "sk": {"S": f"{int(now // 60):010d}"}}
    )["Item"]
    assert 0 < float(item["ttl"]["N"]) - now <= 2 * 3600


# A key family's prefix in a string: "RATE#", f"UNDO#{…}" (Slack channel refs like "<#C1>" or f"#{name}" are not).
_KEY = re.compile(r"""["'][A-Z][A-Z0-9_]+#""")


def test_a_batchs_figures_go_in_one_round_trip(store):
    """Latencies and scorecard counters of a batch: one TransactWriteItems, and both read back."""
    calls = []
    store.client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    store.record_figures([1_200.0, 3_400.0], {"e.HIGH": 2, "f.fp1": 2, "posted": 2}, {"fp1": "Open port 22"})
    assert calls == ["TransactWriteItems"]
    summary = store.delivery_latency()
    assert summary is not None and summary.count == 2
    counts, titles = store.stats_since(time.time() - 60)
    assert (counts["e.HIGH"], counts["f.fp1"], counts["posted"]) == (2, 2, 2) and titles["fp1"] == "Open port 22"


def test_a_batchs_figures_refused_together_go_one_by_one(store):
    """Refused together (throttled, a full hour's item), nothing was written: the figures go
    as before, one update after another, and all of them count."""
    store.client.meta.events.register(
        "before-call.dynamodb.TransactWriteItems",
        lambda **_: (_ for _ in ()).throw(
            ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "x"}}, "TransactWriteItems")
        ),
    )
    store.record_figures([1_200.0], {"e.HIGH": 1, "f.fp1": 1}, {"fp1": "t"})
    summary = store.delivery_latency()
    assert summary is not None and summary.count == 1
    counts, _ = store.stats_since(time.time() - 60)
    assert counts["e.HIGH"] == 1 and counts["f.fp1"] == 1


def test_many_counters_take_the_one_by_one_path(store):
    """More names than one update holds: the totals and the per-problem counters split, as
    ``record_stats`` writes them, and none is lost."""
    counts = {f"f.fp{i:03d}": 1 for i in range(60)} | {"e.LOW": 60}
    store.record_figures([500.0], counts, {f"fp{i:03d}": "t" for i in range(60)})
    got, titles = store.stats_since(time.time() - 60)
    assert got["e.LOW"] == 60 and sum(1 for k in got if k.startswith("f.")) == 60 and len(titles) == 60


def test_no_module_outside_bot_store_builds_a_key():
    offenders = []
    for path in sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]):
        rel = path.relative_to(ROOT)
        if rel.parts[:2] == ("bot", "store"):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if _KEY.search(line):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == []
