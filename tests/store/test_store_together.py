"""``Store.writes_together``: a block's writes as one TransactWriteItems (per 100), sent one by
one when DynamoDB refuses it, a write whose condition fails then skipped; reads pass through."""

from __future__ import annotations

from collections import Counter

import boto3
import pytest
from botocore.exceptions import ClientError

from bot.store import Store, create_table
from bot.store.together import WriteGroup, cancelled_on_condition


@pytest.fixture
def store(aws) -> Store:
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_table(client, "eventops-test")
    return Store(client, "eventops-test")


def _calls(store: Store) -> Counter[str]:
    seen: Counter[str] = Counter()
    store.client.meta.events.register("before-call.dynamodb.*", lambda model, **_: seen.update([model.name]))
    return seen


def test_the_blocks_writes_are_one_transaction(store):
    calls = _calls(store)
    with store.writes_together() as group:
        store.mark_message_updated("fp-1", dirty=True)
        store.set_resource_thread("#ops", "i-1", "111.1", 60)
        store.complete_event("ev-1")
        assert store.resource_thread("#ops", "i-1") is None  # reads pass through: not written yet
    assert group.together and group.conflicts == 0
    assert calls == Counter({"GetItem": 1, "TransactWriteItems": 1})
    assert store.resource_thread("#ops", "i-1").ts == "111.1"


def test_a_failed_condition_sends_them_one_by_one_and_skips_that_write(store):
    assert store.claim_scorecard("2026-W49")  # written first, by someone else
    with store.writes_together() as group:
        store.set_resource_thread("#ops", "i-2", "222.2", 60)
        store.claim_scorecard("2026-W49")  # conditional: exists already → skipped
        store.complete_event("ev-2")
    assert not group.together and group.conflicts == 1
    assert store.resource_thread("#ops", "i-2").ts == "222.2"


def test_more_than_100_writes_go_in_transactions_of_100(store):
    calls = _calls(store)
    with store.writes_together():
        for i in range(150):
            store.complete_event(f"ev-{i}")
    assert calls["TransactWriteItems"] == 2


def test_a_write_that_needs_an_answer_is_refused_inside(store):
    with pytest.raises(ValueError, match="ReturnValues"), store.writes_together():
        store.count_channel_posts("#ops")


def test_writes_before_a_failure_in_the_block_are_still_sent(store):
    with pytest.raises(RuntimeError), store.writes_together():
        store.set_resource_thread("#ops", "i-3", "333.3", 60)
        raise RuntimeError("boom")
    assert store.resource_thread("#ops", "i-3").ts == "333.3"


def test_nested_blocks_send_once_with_the_outer_one(store):
    calls = _calls(store)
    with store.writes_together() as outer:
        store.complete_event("ev-a")
        with store.writes_together() as inner:
            store.complete_event("ev-b")
        assert inner is outer and calls["TransactWriteItems"] == 0
    assert calls["TransactWriteItems"] == 1
    assert isinstance(outer, WriteGroup)


def test_a_cancelled_transaction_says_which_condition_failed_from_its_reasons_or_its_message():
    def cancelled(**error):
        return ClientError({"Error": {"Code": "TransactionCanceledException", **error.pop("err", {})}, **error}, "T")

    reasons = [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}]
    assert cancelled_on_condition(cancelled(CancellationReasons=reasons)) == [False, True]
    in_message = cancelled(err={"Message": "Transaction cancelled [ConditionalCheckFailed, None]"})
    assert cancelled_on_condition(in_message) == [True, False]
    throttled = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "T")
    assert cancelled_on_condition(throttled) == []
