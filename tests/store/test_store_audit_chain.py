"""The audit trail's hash chain (bot.store.audit_log): once-only appends, no forks, tampering named."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import boto3
import pytest

from bot.models import Actor, AuditEntry
from bot.store import Store, create_table
from bot.store.audit_log import GENESIS, audit_table_name, record_hash

TABLE = "eventops-test"
ALICE = Actor(user_id="UALICE001", user_name="alice")


@pytest.fixture
def store(aws):
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_table(client, TABLE)
    return Store(client, TABLE)


def entry(i: int, result: str = "Stopped i-0abc") -> AuditEntry:
    return AuditEntry(
        id=f"e{i}",
        at=datetime(2025, 1, 1, 0, i, tzinfo=UTC),
        action="remediate",
        outcome="SUCCEEDED",
        actor=ALICE,
        remediation="ec2.stop-instance",
        resource="i-0abc",
        result=result,
    )


def chain_items(store: Store) -> list[dict]:
    items = store.client.scan(TableName=audit_table_name(TABLE))["Items"]
    return sorted((i for i in items if i["pk"]["S"].startswith("CHAIN#")), key=lambda i: i["sk"]["S"])


def test_records_are_chained_in_order_and_each_hash_covers_the_previous(store):
    for i in range(3):
        assert store.append_audit(entry(i), unique_key=f"k{i}")
    items = chain_items(store)
    assert [i["sk"]["S"] for i in items] == ["0000000001", "0000000002", "0000000003"]
    assert items[0]["prev"]["S"] == GENESIS
    for before, after in zip(items, items[1:], strict=False):
        assert after["prev"]["S"] == before["hash"]["S"]
    first = items[0]
    assert first["hash"]["S"] == record_hash(first["pk"]["S"], 1, GENESIS, "k0", first["data"]["S"])
    report = store.verify_audit()
    assert report.ok and sum(report.days.values()) == 3


def test_unique_key_keeps_append_once_only(store):
    assert store.append_audit(entry(1), unique_key="p1:SUCCEEDED") is True
    assert store.append_audit(entry(2), unique_key="p1:SUCCEEDED") is False
    assert [e.id for e in store.recent_audit()] == ["e1"]
    assert len(chain_items(store)) == 1


def test_the_main_table_holds_no_audit_items(store):
    store.append_audit(entry(1))
    assert not store.client.scan(TableName=TABLE)["Items"]


class OneCallAtATime:
    """moto's backend is not thread-safe: serialize each API call, so appends still interleave
    between their head read and their write as real concurrent writers do."""

    def __init__(self, client) -> None:
        self.client = client
        self.lock = threading.Lock()

    def __getattr__(self, name: str):
        method = getattr(self.client, name)

        def call(*args, **kwargs):
            with self.lock:
                return method(*args, **kwargs)

        return call


def test_concurrent_appends_never_fork_the_chain(store):
    errors: list[BaseException] = []
    shared = Store(OneCallAtATime(store.client), TABLE)

    def append(i: int) -> None:
        try:
            assert shared.append_audit(entry(i), unique_key=f"c{i}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    items = chain_items(store)
    assert [int(i["sk"]["S"]) for i in items] == list(range(1, 9))
    assert store.verify_audit().ok


def test_a_lost_slot_race_retries_on_the_next_slot(store, monkeypatch):
    """Another writer takes slot 2 between our head read and our write: we chain after it."""
    store.append_audit(entry(1), unique_key="a")
    real_head = store.audit._head
    raced = []

    def head(chain):
        seq, prev = real_head(chain)
        if not raced:
            raced.append(True)
            store.append_audit(entry(2), unique_key="b")  # the rival lands first
        return seq, prev

    monkeypatch.setattr(store.audit, "_head", head)
    assert store.append_audit(entry(3), unique_key="c")
    items = chain_items(store)
    assert [(i["sk"]["S"], i["key"]["S"]) for i in items] == [
        ("0000000001", "a"),
        ("0000000002", "b"),
        ("0000000003", "c"),
    ]
    assert store.verify_audit().ok


def _overwrite(store: Store, item: dict, **changes) -> None:
    data = json.loads(item["data"]["S"])
    data.update(changes)
    store.client.put_item(TableName=audit_table_name(TABLE), Item={**item, "data": {"S": json.dumps(data)}})


def test_an_overwritten_result_is_named_with_expected_and_found(store):
    for i in range(3):
        store.append_audit(entry(i), unique_key=f"k{i}")
    item = chain_items(store)[1]
    _overwrite(store, item, result="nothing happened")
    report = store.verify_audit()
    (b,) = report.breaks
    assert (b.seq, b.entry_id, b.problem) == (2, "e1", "does not match its hash")
    assert b.expected == item["hash"]["S"] and b.found != b.expected


def test_a_rewritten_record_with_a_recomputed_hash_is_caught_by_its_successor(store):
    for i in range(3):
        store.append_audit(entry(i), unique_key=f"k{i}")
    item = chain_items(store)[1]
    data = json.loads(item["data"]["S"])
    data["result"] = "nothing happened"
    forged = json.dumps(data)
    digest = record_hash(item["pk"]["S"], 2, item["prev"]["S"], "k1", forged)
    store.client.put_item(
        TableName=audit_table_name(TABLE), Item={**item, "data": {"S": forged}, "hash": {"S": digest}}
    )
    (b,) = store.verify_audit().breaks
    assert (b.seq, b.entry_id) == (2, "e1") and "changed after #3" in b.problem
    assert b.expected == item["hash"]["S"] and b.found == digest


def test_a_missing_record_is_named(store):
    for i in range(3):
        store.append_audit(entry(i), unique_key=f"k{i}")
    item = chain_items(store)[1]
    store.client.delete_item(TableName=audit_table_name(TABLE), Key={"pk": item["pk"], "sk": item["sk"]})
    (b,) = store.verify_audit().breaks
    assert (b.seq, b.problem, b.expected, b.found) == (2, "is missing", "#2", "#3 follows")
