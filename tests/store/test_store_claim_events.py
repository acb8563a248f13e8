"""``Store.claim_events``: a batch's event claims in TransactWriteItems of 100, with exactly the
outcomes ``claim_event`` gives one by one (CLAIMED, SEEN, IN_FLIGHT, a dead lease taken over)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from bot.store import EventClaim, Store, create_table
from bot.store import table as table_mod
from tests.approval.world import interact_world

TABLE = "eventops-test"


@pytest.fixture
def store(aws) -> Store:
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_table(client, TABLE)
    return Store(client, TABLE)


def _calls(store: Store) -> list[str]:
    seen: list[str] = []
    store.client.meta.events.register("before-call.dynamodb", lambda model, **_: seen.append(model.name))
    return seen


def test_new_ids_are_claimed_in_one_transaction_per_100(store: Store) -> None:
    calls = _calls(store)
    ids = [f"e-{i:03d}" for i in range(250)]
    claims = store.claim_events(ids, ttl_hours=48, lease_s=60)
    assert claims == {i: EventClaim.CLAIMED for i in ids}
    assert calls == ["TransactWriteItems"] * 3
    assert store.claim_event("e-007", 48, 60) == EventClaim.IN_FLIGHT, "the claim is the one claim_event makes"


def test_done_and_in_flight_ids_are_told_apart_and_the_rest_claimed(store: Store) -> None:
    store.claim_event("flying", 48, 60)
    store.claim_event("done", 48, 60)
    store.complete_event("done")
    calls = _calls(store)
    claims = store.claim_events(["new-1", "flying", "done", "new-2"], 48, 60)
    assert claims == {
        "new-1": EventClaim.CLAIMED,
        "flying": EventClaim.IN_FLIGHT,
        "done": EventClaim.SEEN,
        "new-2": EventClaim.CLAIMED,
    }
    assert calls == ["TransactWriteItems", "TransactWriteItems"], "one cancelled, one without the two"


def test_a_dead_lease_is_taken_over(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table_mod, "_now", lambda: 1_700_000_000.0)
    store.claim_event("orphan", 48, lease_s=5)
    monkeypatch.setattr(table_mod, "_now", lambda: 1_700_000_100.0)  # its invocation died long ago
    assert store.claim_events(["orphan", "fresh"], 48, 60) == {
        "orphan": EventClaim.CLAIMED,
        "fresh": EventClaim.CLAIMED,
    }


def test_an_id_given_twice_is_claimed_once(store: Store) -> None:
    assert store.claim_events(["twice", "twice"], 48, 60) == {"twice": EventClaim.CLAIMED}


@pytest.fixture
def world() -> Iterator[Any]:
    with interact_world() as w:
        yield w


def _cert(i: int) -> dict[str, Any]:
    from pathlib import Path

    ev = json.loads((Path(__file__).resolve().parents[1] / "events" / "acm-approaching-expiration.json").read_text())
    ev["id"] = f"batch-claim-{i}"
    ev["resources"] = [f"arn:aws:acm:us-east-1:123456789012:certificate/c{i}"]
    return ev


def test_a_notify_batch_claims_its_events_together_and_duplicates_stay_duplicates(world: Any) -> None:
    """Through handlers.notify: ten events, one of them sent twice, and one already delivered
    before: one TransactWriteItems claims them, no per-event claim PutItem, each posted once."""
    store = world.rt.store
    world.sqs.send_message(QueueUrl=world.alerts_url, MessageBody=json.dumps(_cert(0)))
    world.deliver_alerts()
    posted_before = len(world.slack.messages["#eventops"]) if "#eventops" in world.slack.messages else 0
    calls: list[tuple[str, str]] = []

    def seen(model: Any, params: dict[str, Any], **_: Any) -> None:
        item = params.get("Item") or {}
        calls.append((model.name, str(item.get("pk", {}).get("S", ""))))

    store.client.meta.events.register("before-call.dynamodb", seen)
    for ev in [_cert(i) for i in range(10)] + [_cert(3)]:
        world.sqs.send_message(QueueUrl=world.alerts_url, MessageBody=json.dumps(ev))
    world.deliver_alerts()
    names = [n for n, _ in calls]
    assert names.count("TransactWriteItems") >= 1
    assert not [pk for n, pk in calls if n == "PutItem" and pk.startswith("EVENT#") and pk != "EVENT#batch-claim-3"]
    channel = next(iter(world.slack.messages))
    titles = [m.text for m in world.slack.messages[channel]]
    assert len(world.slack.messages[channel]) - posted_before == 9, titles  # 1..9 new; 0 and the second 3 duplicates
    assert store.claim_event("batch-claim-5", 48, 60) == EventClaim.SEEN
