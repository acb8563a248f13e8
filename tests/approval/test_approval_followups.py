"""The ack with latency (issue 13, item 5): a triage click does its authorization read and the one
write that is its decision, answers Slack, and leaves the audit record and the message update to
a sealed ``message`` job that ``handlers.worker`` runs (``bot.approval.followups``).

Signed clicks through ``handlers.slack.handler``; the worker driven with SQS-shaped records
(``World.drain``); moto and the loopback Slack fake behind both.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from botocore.exceptions import ClientError

from bot.approval.jobs import Job, JobKind, sealed
from bot.models import Actor, ProposalState
from bot.sandbox.pollers import sqs_event
from handlers import slack as slack_handler
from handlers import worker
from tests.approval.world import (
    ACCOUNT,
    ALICE,
    BOB,
    CAROL,
    DAVE,
    MALLORY,
    REGION,
    REMEDIATE,
    TEAM,
    World,
    form_body,
    http_event,
)

ACK = "eventops:ack"


def _calls_during(world: World, fn: Any) -> tuple[Any, list[str]]:
    before = len(world.sessions.calls)
    out = fn()
    return out, [f"{svc}.{name}" for svc, name, _ in world.sessions.calls[before:]]


def _updates(world: World) -> int:
    return len(world.slack.calls("chat.update"))


def _posts(world: World) -> int:
    return len(world.slack.calls("chat.postMessage")) + len(world.slack.calls("chat.postEphemeral"))


def _acked(world: World) -> list[Any]:
    return [e for e in world.audit() if e.outcome == "ACKNOWLEDGED"]


def _run_records(world: World, bodies: list[str]) -> dict[str, Any]:
    """``bodies`` as one SQS batch to handlers.worker (as Lambda's event source delivers it)."""
    msgs = [{"MessageId": f"m-{i}", "ReceiptHandle": f"r-{i}", "Body": b} for i, b in enumerate(bodies)]
    return worker.handler(sqs_event(msgs, f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs", REGION), None)


def test_acknowledge_answers_after_one_read_and_one_write_and_the_worker_updates_the_message(world: World) -> None:
    world.post_alert()
    before = world.message().blocks
    clicked_at = time.time()
    resp, calls = _calls_during(world, lambda: world.click(ACK, world.alert.id, ALICE))
    took = time.time() - clicked_at

    assert resp["statusCode"] == 200 and took < 2.0
    assert calls == ["dynamodb.GetItem", "dynamodb.PutItem", "sqs.SendMessage"], calls
    assert world.rt.store.acked_by(world.alert.id).user_id == ALICE, "the decision is stored before the ack"
    assert world.slack.calls("chat.update") == [] and world.message().blocks == before, "no Slack call in the ack"
    assert _acked(world) == [] and world.ephemerals_for(ALICE) == []
    [job] = world.queued_jobs()
    assert job["kind"] == "message" and job["alert_id"] == world.alert.id and job["signature"]
    assert job["status"].startswith("👀 Acknowledged by @alice at ")

    drained_at = time.time()
    [batch] = world.drain()
    assert batch == {"batchItemFailures": []}
    assert "Acknowledged by @alice" in str(world.message().blocks)
    assert "eventops:remediate" in str(world.message().blocks), "Acknowledge keeps the remediation buttons"
    [entry] = _acked(world)
    assert entry.actor.user_id == ALICE and entry.alert_id == world.alert.id
    assert entry.action == "alert.acknowledge" and entry.permalink == f"slack:C0ALERTS/{world.message_ts}"
    assert clicked_at <= entry.at.timestamp() <= drained_at, "recorded at the click's time, not the worker's"
    assert world.depth(world.queue_url) == 0


def test_a_429_on_the_message_update_fails_the_record_and_the_redelivery_updates_it(world: World) -> None:
    world.post_alert()
    world.click(ACK, world.alert.id, ALICE)
    # longer than the worker waits in place: the record must go back to SQS, not be dropped
    world.slack.fail_next("chat.update", status=429, retry_after=45)

    first, second = world.drain(rounds=2)

    assert len(first["batchItemFailures"]) == 1, "the 429 fails the record (SQS delivers it again)"
    assert second == {"batchItemFailures": []}
    assert [r.status for r in world.slack.calls("chat.update")] == [429, 200]
    assert "Acknowledged by @alice" in str(world.message().blocks)
    assert len(_acked(world)) == 1, "the redelivery wrote no second audit record"
    assert world.depth(world.queue_url) == 0 and world.depth(world.dlq_url) == 0


def test_a_short_retry_after_is_waited_out_in_the_worker(world: World) -> None:
    world.post_alert()
    world.click(ACK, world.alert.id, ALICE)
    world.slack.fail_next("chat.update", status=429, retry_after=1)
    [batch] = world.drain()
    assert batch == {"batchItemFailures": []}
    assert [r.status for r in world.slack.calls("chat.update")] == [429, 200]
    assert "Acknowledged by @alice" in str(world.message().blocks)


def test_a_duplicated_job_posts_nothing_and_writes_no_second_record(world: World) -> None:
    world.post_alert()
    world.click(ACK, world.alert.id, ALICE)
    [job] = world.queued_jobs()
    body = json.dumps(job)
    posts = _posts(world)

    assert _run_records(world, [body, body]) == {"batchItemFailures": []}  # one batch, twice the job
    assert _run_records(world, [body]) == {"batchItemFailures": []}  # and a late redelivery

    assert _posts(world) == posts, "no message or ephemeral posted by a duplicate"
    assert len(_acked(world)) == 1
    rendered = {json.dumps(r.params.get("blocks"), sort_keys=True) for r in world.slack.calls("chat.update")}
    assert len(rendered) == 1, "every copy renders the same message"
    assert "Acknowledged by @alice" in str(world.message().blocks)


def test_five_concurrent_acks_one_claim_one_job_one_record(world: World) -> None:
    world.post_alert()
    users = [ALICE, BOB, CAROL, DAVE, ALICE]
    bodies = [
        form_body(world.click_body(ACK, world.alert.id, u, action_ts=f"1700000000.00000{i}"))
        for i, u in enumerate(users)
    ]
    start = threading.Barrier(len(bodies))
    results: list[int] = []

    def deliver(body: str) -> None:
        start.wait()
        results.append(slack_handler.handler(http_event(body), None)["statusCode"])

    threads = [threading.Thread(target=deliver, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 5
    winner = world.rt.store.acked_by(world.alert.id)
    assert winner is not None
    assert [j["kind"] for j in world.queued_jobs()] == ["message"], "only the winner queues a job"
    told = [e.text for e in world.slack.ephemerals]
    assert len(told) == 4 and all(t == f"Already acknowledged by @{winner.user_name}." for t in told), told

    world.drain()
    [entry] = _acked(world)
    assert entry.actor.user_id == winner.user_id
    assert f"Acknowledged by @{winner.user_name}" in str(world.message().blocks)


def test_when_the_job_cannot_be_queued_the_click_does_it_itself(world: World) -> None:
    world.post_alert()
    world.sessions.failures["SendMessage"] = ClientError(
        {"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessage"
    )
    try:
        resp = world.click(ACK, world.alert.id, ALICE)
    finally:
        world.sessions.failures.clear()
    assert resp["statusCode"] == 200
    assert "Acknowledged by @alice" in str(world.message().blocks), "updated in the request instead"
    assert len(_acked(world)) == 1 and world.depth(world.queue_url) == 0


def test_snooze_preset_and_dismiss_follow_the_same_path(world: World) -> None:
    p = world.post_alert()
    world.click("eventops:snooze:1h", world.alert.id, ALICE)
    assert world.rt.store.get_proposal(p.id).state == ProposalState.SNOOZED, "the decision is stored at once"
    assert world.slack.calls("chat.update") == []
    world.drain()
    assert "Snoozed by @alice until" in str(world.message().blocks)
    assert "eventops:remediate" not in str(world.message().blocks)
    assert [e.outcome for e in world.audit()] == ["SNOOZED"]

    other = world.post_alert()
    world.dismiss(BOB, "accepted_risk", "known bastion")
    assert world.rt.store.get_proposal(other.id).state == ProposalState.DISMISSED
    assert "Dismissed by @bob" not in str(world.message().blocks)
    world.drain()
    assert "Dismissed by @bob" in str(world.message().blocks)
    [dismissed] = [e for e in world.audit() if e.outcome == "DISMISSED"]
    assert dismissed.actor.user_id == BOB and dismissed.result == "reason: Accepted risk: known bastion"


def test_a_late_ack_job_does_not_overwrite_a_newer_outcome_line(world: World) -> None:
    p = world.post_alert()
    world.click(ACK, world.alert.id, ALICE)
    [ack_job] = world.queued_jobs()
    world.sqs.purge_queue(QueueUrl=world.queue_url)  # the ack's job is late: it runs last
    world.click(REMEDIATE, p.id, BOB)
    world.drain()
    assert world.rt.store.get_proposal(p.id).state == ProposalState.SUCCEEDED
    assert _run_records(world, [json.dumps(ack_job)]) == {"batchItemFailures": []}
    blocks = str(world.message().blocks)
    assert "succeeded" in blocks and "Acknowledged by" not in blocks, "the newer line stands"
    assert len(_acked(world)) == 1, "the late job still writes the audit record"


def test_a_forged_message_job_is_refused(world: World) -> None:
    world.post_alert()
    actor = Actor(user_id=MALLORY, team_id=TEAM)
    job = Job(kind=JobKind.MESSAGE, alert_id=world.alert.id, actor=actor, status="👀 Acknowledged by @mallory")
    forged = sealed(world.rt, job).model_copy(update={"status": "🚫 Dismissed by @boss"})
    assert _run_records(world, [forged.body()]) == {"batchItemFailures": []}
    assert world.slack.calls("chat.update") == []
    assert [e.outcome for e in world.audit()] == ["JOB_REFUSED"]


def test_a_message_job_for_an_unknown_alert_is_dropped_with_a_reason(world: World) -> None:
    job = sealed(world.rt, Job(kind=JobKind.MESSAGE, alert_id="evt-gone", actor=Actor(user_id=ALICE, team_id=TEAM)))
    assert _run_records(world, [job.body()]) == {"batchItemFailures": []}
    assert world.slack.calls("chat.update") == []
