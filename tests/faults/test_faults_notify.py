"""Faults on the notify side: Slack 429 / 500 / timeouts and DynamoDB throttling while an event
is delivered. Whatever fails, the record is reported in batchItemFailures (so SQS re-delivers it),
the failure is visible (``delivery_failed`` metric and an error log line), and the re-delivery
posts the alert exactly once."""

from __future__ import annotations

import uuid

import pytest

from bot.slack.client import SlackPoster
from tests.bench.bench_env import TOKEN, notify_config, notify_world, sqs_record
from tests.faults.fault_env import Throttle
from tests.fuzz.capture import capture_logs

NOTIFY_ONLY = notify_config()
NOTIFY_ONLY["routing"]["default"]["mode"] = "notify"


def _event(n: int) -> dict:
    iid = f"i-{n:017x}"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "123456789012",
        "time": "2024-05-01T12:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:ec2:us-east-1:123456789012:instance/{iid}"],
        "detail": {"instance-id": iid, "state": "stopped"},
    }


def _messages_about(world, iid: str) -> list:
    ch = world.slack.workspace.channel("#ops", create=False)
    with world.slack.lock:
        msgs = list(ch.messages) if ch else []
    return [m for m in msgs if iid in m.text + str(m.blocks) and m.thread_ts in (None, m.ts)]


def _deliver_until_done(world, ev: dict, rounds: int = 4) -> list[dict]:
    """Deliver one SQS record; re-deliver it (same message id) while it is reported failed."""
    rec = sqs_record(ev, str(uuid.uuid4()))
    responses = []
    for _ in range(rounds):
        resp = world.run({"Records": [rec]})
        responses.append(resp)
        if not resp["batchItemFailures"]:
            break
    return responses


@pytest.fixture
def world():
    with notify_world(NOTIFY_ONLY) as w:
        yield w


def test_slack_429_short_retry_after_is_waited_out(world):
    world.slack.fail_next("chat.postMessage", status=429, retry_after=0.2, times=2)
    [resp] = _deliver_until_done(world, _event(1))
    assert resp == {"batchItemFailures": []}
    assert len(_messages_about(world, "i-" + f"{1:017x}")) == 1
    assert world.slack.rate_limited == 2


def test_slack_429_longer_than_the_invocation_requeues_then_posts_once(world):
    world.slack.fail_next("chat.postMessage", status=429, retry_after=120)
    with capture_logs() as logs:
        first, second = _deliver_until_done(world, _event(2))
    assert first["batchItemFailures"] and not second["batchItemFailures"]
    assert world.rt.counts["delivery_failed"] == 1
    assert any("will be retried" in m for m in logs.messages())
    assert len(_messages_about(world, f"i-{2:017x}")) == 1


def test_slack_500_then_recovery_posts_once(world):
    world.slack.fail_next("chat.postMessage", status=500, times=3)  # the poster's 2 retries + 1
    first, second = _deliver_until_done(world, _event(3))
    assert first["batchItemFailures"] and not second["batchItemFailures"]
    assert world.rt.counts["delivery_failed"] == 1
    assert len(_messages_about(world, f"i-{3:017x}")) == 1


def test_slack_timeout_is_retried_by_sqs_and_never_lost(world):
    """A read timeout is ambiguous: Slack may have posted. The poster does not retry it (a retry
    could post twice); SQS re-delivers the record. At-least-once: never lost, at most one extra."""
    world.rt.slack = SlackPoster(TOKEN, world.slack.url, timeout=1)
    world.slack.fail_next("chat.postMessage", delay=1.5)
    responses = _deliver_until_done(world, _event(4))
    assert responses[0]["batchItemFailures"] and not responses[-1]["batchItemFailures"]
    assert world.rt.counts["delivery_failed"] == 1
    assert 1 <= len(_messages_about(world, f"i-{4:017x}")) <= 2


def test_dynamodb_throttling_at_every_write_never_loses_or_doubles_a_post(world):
    """Throttle the 1st, 2nd, … DynamoDB write of a delivery in turn (one new alert each time)."""
    throttle = Throttle(world.rt.sessions)
    world.run({"Records": [sqs_record(_event(100))]})  # warm: clients exist, counts make sense
    throttle.disarm()
    world.run({"Records": [sqs_record(_event(101))]})
    writes_per_event = throttle.writes
    assert writes_per_event >= 3
    doubled, lost = [], []
    for k in range(1, writes_per_event + 1):
        n = 200 + k
        failed_before = world.rt.counts["delivery_failed"]
        throttle.arm(nth_write=k)
        rec = sqs_record(_event(n), str(uuid.uuid4()))
        first = world.run({"Records": [rec]})
        throttle.disarm()
        second = world.run({"Records": [rec]}) if first["batchItemFailures"] else first
        posted = len(_messages_about(world, f"i-{n:017x}"))
        if first["batchItemFailures"]:
            assert world.rt.counts["delivery_failed"] == failed_before + 1  # visible
        assert not second["batchItemFailures"]
        if posted == 0:
            lost.append((k, throttle.raised[-1]))
        if posted > 1:
            doubled.append((k, throttle.raised[-1]))
    assert lost == [], f"alerts lost: {lost}"
    assert doubled == [], f"posted twice: {doubled}"


def test_throttled_bookkeeping_after_the_post_is_written_one_by_one(world):
    throttle = Throttle(world.rt.sessions)
    rec = sqs_record(_event(997), str(uuid.uuid4()))
    # claim_event, count_channel_posts, the message claim with the alert and its proposals, the
    # post, then the post's bookkeeping in one TransactWriteItems
    throttle.arm(nth_write=4)
    first = world.run({"Records": [rec]})
    throttle.disarm()
    assert throttle.raised == ["TransactWriteItems in Store.writes_together"]
    assert first["batchItemFailures"] == [] and world.rt.counts["bookkeeping_failed"] == 0
    (msg,) = _messages_about(world, f"i-{997:017x}")
    alert_id = msg.metadata["event_payload"]["alert_id"]
    assert world.rt.store.get_alert(alert_id).ts == msg.ts  # written one by one instead
    world.run({"Records": [rec]})  # an SQS redelivery is a duplicate
    assert len(_messages_about(world, f"i-{997:017x}")) == 1


def test_throttled_write_after_the_post_does_not_post_twice(world):
    throttle = Throttle(world.rt.sessions)
    rec = sqs_record(_event(998), str(uuid.uuid4()))
    # the bookkeeping transaction and, one by one then, its first write (mark_message_posted)
    throttle.arm(nth_write=4, and_next=1)
    first = world.run({"Records": [rec]})
    throttle.disarm()
    assert throttle.raised == [
        "TransactWriteItems in Store.writes_together",
        "UpdateItem in Store.writes_together",
    ]
    # Slack has the message: the record is not retried (that would post twice); the failure is counted
    assert first["batchItemFailures"] == []
    assert world.rt.counts["bookkeeping_failed"] == 1
    world.run({"Records": [rec]})  # and an SQS redelivery anyway is a duplicate
    assert len(_messages_about(world, f"i-{998:017x}")) == 1


def test_a_throttled_claim_with_its_alert_goes_one_by_one(world):
    throttle = Throttle(world.rt.sessions)
    rec = sqs_record(_event(999), str(uuid.uuid4()))
    throttle.arm(nth_write=3)  # claim_event, count_channel_posts, the claim with the alert and its proposals
    first = world.run({"Records": [rec]})
    throttle.disarm()
    assert throttle.raised == ["TransactWriteItems in Store.claim_message_with_alert"]
    assert first["batchItemFailures"] == []  # claimed, then stored, one by one: posted
    (msg,) = _messages_about(world, f"i-{999:017x}")
    alert_id = msg.metadata["event_payload"]["alert_id"]
    assert world.rt.store.get_alert(alert_id).ts == msg.ts
    world.run({"Records": [rec]})
    assert len(_messages_about(world, f"i-{999:017x}")) == 1


def test_throttled_put_alert_after_the_claim_does_not_lose_the_alert(world):
    throttle = Throttle(world.rt.sessions)
    rec = sqs_record(_event(996), str(uuid.uuid4()))
    # the claim with its alert refused; one by one, the claim goes through and the alert does not
    real = world.rt.store.claim_message

    def claim_then_throttle(*args, **kwargs):
        record = real(*args, **kwargs)
        throttle.arm(nth_write=1)  # the next write: put_alert_with_proposals
        return record

    world.rt.store.claim_message = claim_then_throttle  # type: ignore[method-assign]
    try:
        throttle.arm(nth_write=3)
        first = world.run({"Records": [rec]})
    finally:
        del world.rt.store.claim_message
        throttle.disarm()
    assert throttle.raised == [
        "TransactWriteItems in Store.claim_message_with_alert",
        "BatchWriteItem in Store.put_alert_with_proposals",
    ]
    assert first["batchItemFailures"]  # nothing posted: the claim was dropped, the retry posts it
    world.run({"Records": [rec]})
    assert len(_messages_about(world, f"i-{996:017x}")) == 1
