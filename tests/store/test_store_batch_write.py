"""``Store.put_proposals``: BatchWriteItem, 25 per request, the very items ``put_proposal`` writes."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from bot.errors import StoreError
from bot.models import Proposal
from bot.store import Store, create_table
from bot.store import table as table_mod

TABLE = "eventops-test"


@pytest.fixture
def store(aws) -> Store:
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_table(client, TABLE)
    return Store(client, TABLE)


def _proposal(i: int) -> Proposal:
    return Proposal(id=f"p-{i:03d}", alert_id="a-1", fingerprint="f", remediation="ec2.stop-instance", params={"n": i})


def _counting(store: Store) -> list[int]:
    sizes: list[int] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        sizes.append(len(params["RequestItems"][TABLE]))

    store.client.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", hook)
    return sizes


def test_put_proposals_writes_the_same_items_as_put_proposal(store, monkeypatch):
    monkeypatch.setattr(table_mod, "_now", lambda: 1_700_000_000.0)
    create_table(store.client, "eventops-other")
    other = Store(store.client, "eventops-other")
    p = _proposal(1)
    store.put_proposal(p)
    other.put_proposals([p])
    key = {"pk": {"S": f"PROPOSAL#{p.id}"}, "sk": {"S": "PROPOSAL"}}
    single = store.client.get_item(TableName=TABLE, Key=key)["Item"]
    batched = store.client.get_item(TableName="eventops-other", Key=key)["Item"]
    assert batched == single
    assert other.get_proposal(p.id) == p


def test_put_proposals_sends_at_most_25_per_request_and_reads_back_equal(store):
    sizes = _counting(store)
    proposals = [_proposal(i) for i in range(30)]
    store.put_proposals(proposals)
    assert sizes == [25, 5]
    assert [store.get_proposal(p.id) for p in proposals] == proposals
    store.put_proposals([])
    assert sizes == [25, 5]


class _Throttled:
    """A client whose BatchWriteItem leaves the first item unprocessed ``times`` times."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.calls: list[int] = []

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        items = RequestItems[TABLE]
        self.calls.append(len(items))
        if self.times > 0:
            self.times -= 1
            return {"UnprocessedItems": {TABLE: items[:1]}}
        return {"UnprocessedItems": {}}


def test_unprocessed_items_are_sent_again_with_a_backoff(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(table_mod.time, "sleep", slept.append)
    client = _Throttled(times=2)
    store = Store(client, TABLE)
    store.put_proposals([_proposal(i) for i in range(3)])
    assert client.calls == [3, 1, 1]
    assert slept == [0.05, 0.1]


def test_items_left_unprocessed_every_time_raise(monkeypatch):
    monkeypatch.setattr(table_mod.time, "sleep", lambda _s: None)
    client = _Throttled(times=99)
    store = Store(client, TABLE)
    with pytest.raises(StoreError, match="unprocessed"):
        store.put_proposals([_proposal(1), _proposal(2)])
    assert len(client.calls) == table_mod._BATCH_WRITE_TRIES
