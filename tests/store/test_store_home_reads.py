"""The App Home's bounded reads (``Store.recent_stored_alerts`` … ``recent_audit_by``): what each
returns, and that each is one bounded request whatever the table holds."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from bot.models import Actor, Alert, AuditEntry, Proposal, ProposalState
from bot.store import Store, create_table

ALICE = Actor(user_id="U0ALICE", team_id="T0A")
BOB = Actor(user_id="U0BOB", team_id="T0A")


@pytest.fixture
def store(aws) -> Store:
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_table(client, "eventops-test")
    return Store(client, "eventops-test")


def _alert(i: int) -> Alert:
    return Alert(
        id=f"a-{i}",
        source="aws.test",
        source_kind="test",
        detail_type="Test",
        account="111111111111",
        region="us-east-1",
        time=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i),
        title=f"t{i}",
        fingerprint=f"fp{i}",
    )


def _requests(store: Store) -> list[tuple[str, dict]]:
    seen: list[tuple[str, dict]] = []
    store.client.meta.events.register(
        "before-call.dynamodb.*", lambda model, params, **_: seen.append((model.name, json.loads(params["body"])))
    )
    return seen


def test_recent_stored_alerts_is_one_limited_query_newest_first(store):
    for i in range(8):
        store.put_alert(_alert(i), channel="C0OPS" if i % 2 else None, ts=f"170000000{i}.000100" if i % 2 else None)
    seen = _requests(store)
    got = store.recent_stored_alerts(5)
    assert [s.alert.id for s in got] == ["a-7", "a-6", "a-5", "a-4", "a-3"]
    assert (got[0].channel, got[0].ts, got[1].channel) == ("C0OPS", "1700000007.000100", None)
    assert [(name, body["Limit"]) for name, body in seen] == [("Query", 5)]


def test_messages_for_and_dismissed_among_are_one_batch_get_each(store):
    store.claim_message("fp1", "C0OPS", _alert(1), 3600, 60)
    store.mark_message_posted("fp1", "1700000000.000100", "C0OPS")
    store.claim_dismissal("a-2", ALICE)
    seen = _requests(store)
    records = store.messages_for(["fp1", "fp2", "fp1"])
    assert list(records) == ["fp1"] and records["fp1"].ts == "1700000000.000100"
    assert store.dismissed_among(["a-1", "a-2", "a-3"]) == {"a-2"}
    assert [name for name, _ in seen] == ["BatchGetItem", "BatchGetItem"]
    with pytest.raises(ValueError):
        store.dismissed_among([f"a-{i}" for i in range(101)])


def test_latest_proposals_in_is_newest_first_and_limited(store):
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(4):
        store.put_proposal(
            Proposal(
                id=f"p-{i}", alert_id="a-1", fingerprint="fp1", remediation="x", created_at=base + timedelta(minutes=i)
            )
        )
    assert [p.id for p in store.latest_proposals_in(ProposalState.PROPOSED, 2)] == ["p-3", "p-2"]
    assert store.latest_proposals_in(ProposalState.SUCCEEDED) == []


def test_active_snoozes_leave_out_the_ended_ones_soonest_first(store):
    now = time.time()
    store.snooze("fp-old", now - 10, ALICE)
    store.snooze("fp-later", now + 7200, ALICE, reason="deploy", channel="C0OPS", ts="1700000000.000100")
    store.snooze("fp-soon", now + 600, BOB)
    got = store.active_snoozes(10)
    assert [s["target"] for s in got] == ["fp-soon", "fp-later"]
    assert got[1]["reason"] == "deploy" and got[1]["by"] == ALICE and got[1]["channel"] == "C0OPS"
    assert [s["target"] for s in store.snoozes()] == [s["target"] for s in store.snoozes() if s["until"] > now]
    assert len(store.snoozes(include_expired=True)) == 3


def test_recent_audit_by_looks_at_the_window_only(store):
    for i in range(6):
        actor = ALICE if i % 2 else BOB
        store.append_audit(
            AuditEntry(id=f"e{i}", action="remediate", outcome="SUCCEEDED", actor=actor, resource=f"i-{i}")
        )
    entries, total = store.recent_audit_by("U0ALICE", limit=2, window=100)
    assert [e.id for e in entries] == ["e5", "e3"] and total == 3
    entries, total = store.recent_audit_by("U0ALICE", limit=10, window=2)  # the 2 newest: e5 (Alice), e4 (Bob)
    assert [e.id for e in entries] == ["e5"] and total == 1


def test_active_maintenance_is_empty_until_windows_are_stored(store):
    assert store.active_maintenance() == []
