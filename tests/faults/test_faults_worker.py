"""Faults on the worker side, end to end in moto: Slack 429 / 500 / timeouts while announcing,
DynamoDB throttling at every write the worker makes, and a worker killed mid-run (the change made,
nothing recorded, the job re-delivered). States end correct, messages are updated, the change is
made at most once, and every failure is visible (a metric in rt.counts and the Slack message)."""

from __future__ import annotations

import pytest

from bot.approval import sweeps
from bot.models import ProposalState
from bot.slack.client import SlackPoster
from tests.approval.world import ALICE, REMEDIATE, TOKEN, interact_world, new_instance
from tests.faults.fault_env import Throttle, WorkerKilled, kill_after

TERMINAL = {ProposalState.SUCCEEDED, ProposalState.FAILED, ProposalState.NOOP, ProposalState.DENIED}


@pytest.fixture
def world():
    with interact_world() as w:
        yield w


def _stops(world, iid: str) -> int:
    return sum(
        1
        for svc, name, params in world.sessions.calls
        if name == "StopInstances" and not params.get("DryRun") and iid in params.get("InstanceIds", [])
    )


def _message_for(world, p) -> str:
    ch = world.slack.workspace.channel("C0ALERTS", create=False)
    with world.slack.lock:
        msg = next(m for m in ch.messages if m.ts == p.message_ts)
        return msg.text + str(msg.blocks)


def _drain_all(world, rounds: int = 6) -> None:
    for _ in range(rounds):
        world.drain(rounds=1)


@pytest.mark.parametrize(
    "method, fault",
    [
        ("chat.update", {"status": 429, "retry_after": 120}),
        ("chat.update", {"status": 500, "times": 3}),
        ("chat.postMessage", {"status": 500, "times": 3}),
        ("chat.update", {"delay": 1.5}),
    ],
    ids=["update-429-long", "update-500", "reply-500", "update-timeout"],
)
def test_slack_faults_while_announcing_never_rerun_the_change(world, method, fault):
    world.rt.slack = SlackPoster(TOKEN, world.slack.url, timeout=1)  # so a 1.5 s delay is a timeout
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    world.slack.fail_next(method, **fault)
    first = world.drain(rounds=1)
    assert first[0]["batchItemFailures"], "the record must go back to SQS until Slack is told"
    assert world.rt.counts["job_failed"] >= 1
    _drain_all(world)

    assert _stops(world, world.instance_id) == 1
    assert world.rt.store.get_proposal(p.id).state == ProposalState.SUCCEEDED
    assert "succeeded" in _message_for(world, p)
    outcome_replies = [r for r in world.replies() if "succeeded" in str(r.blocks)]
    assert 1 <= len(outcome_replies) <= (2 if "delay" in fault else 1)  # a timed-out post may have landed
    assert [e.outcome for e in world.audit(p.id)] == ["SUCCEEDED"]


def test_dynamodb_throttling_at_every_worker_write(world):
    """Throttle the k-th DynamoDB write of the worker's first attempt, for every k. Then SQS
    re-delivers (and dead-letters after 3 receives) and housekeeping sweeps what stayed RUNNING."""
    throttle = Throttle(world.rt.sessions)
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    throttle.arm()
    world.drain()
    writes = throttle.writes
    assert writes >= 3
    problems = []
    for k in range(1, writes + 1):
        iid = new_instance(world)
        p = world.post_alert(instance_id=iid)
        world.click(REMEDIATE, p.id, ALICE)
        failed_before = world.rt.counts["job_failed"]
        throttle.arm(nth_write=k)
        first = world.drain(rounds=1)
        throttle.disarm()
        what = throttle.raised[-1] if throttle.raised else "nothing"
        if first and first[0]["batchItemFailures"] and world.rt.counts["job_failed"] == failed_before:
            problems.append((k, what, "failed record without a job_failed metric"))
        _drain_all(world)
        sweeps.sweep_running(world.rt, stale_s=0)  # housekeeping, once the worker is surely dead
        final = world.rt.store.get_proposal(p.id)
        stops = _stops(world, iid)
        if stops > 1:
            problems.append((k, what, f"StopInstances ran {stops} times"))
        if final.state not in TERMINAL:
            problems.append((k, what, f"ended {final.state.value}"))
        elif final.state.value.lower() not in _message_for(world, p):
            problems.append((k, what, f"message does not say {final.state.value.lower()}"))
        if final.state == ProposalState.FAILED and not final.result:
            problems.append((k, what, "FAILED without a reason"))
    assert problems == []


def test_worker_killed_after_the_change_is_never_rerun_and_ends_visibly_failed(world):
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    revive = kill_after(world.sessions, "StopInstances")
    with pytest.raises(WorkerKilled):
        world.drain(rounds=1)  # the Lambda dies: SQS keeps the record
    revive()
    assert world.state() in ("stopping", "stopped")  # the change happened
    assert world.rt.store.get_proposal(p.id).state == ProposalState.RUNNING  # nothing recorded

    again = world.drain(rounds=1)  # re-delivered while RUNNING (young): looked at again later
    assert again[0]["batchItemFailures"]
    assert _stops(world, world.instance_id) == 1

    assert sweeps.sweep_running(world.rt, stale_s=0) == 1  # housekeeping, 15 min later
    final = world.rt.store.get_proposal(p.id)
    assert final.state == ProposalState.FAILED and "worker interrupted" in final.result
    assert world.rt.counts["worker_interrupted"] == 1
    assert "failed" in _message_for(world, p)
    assert [e.outcome for e in world.audit(p.id)] == ["FAILED"]

    _drain_all(world)  # the record's last deliveries find FAILED: nothing runs again
    assert _stops(world, world.instance_id) == 1
    assert world.rt.store.get_proposal(p.id).state == ProposalState.FAILED
