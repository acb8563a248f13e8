"""docs/reliability.md #1–#6, #8, #9 and #15, one named test (or a few) per row.

Each runs through the real entry points: signed API Gateway events into handlers.slack.handler,
jobs drained from moto SQS into handlers.worker.handler, AWS state in moto, Slack in the fake.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, ReadTimeoutError

from bot.approval import clicks, worker
from bot.approval.jobs import Job, JobKind
from bot.config import Config
from bot.models import Actor, Approval, ProposalState, Risk
from tests.approval.world import (
    ACCOUNT,
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    DAVE,
    MALLORY,
    REGION,
    SECRET,
    TEAM,
    TEST_REMEDIATION,
    form_body,
    http_event,
    make_policy,
)

REMEDIATE = f"eventops:remediate:{TEST_REMEDIATION}"


def _dlq_bodies(world) -> list[dict]:
    msgs = world.sqs.receive_message(QueueUrl=world.dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in msgs]


# --- row 1: authorization fails closed, in the worker too -------------------------------------


@pytest.mark.parametrize(
    "case",
    ["user_not_allowed", "slack_connect_outsider", "empty_policy", "no_policy", "policy_without_teams"],
)
def test_row1_unauthorized_click_changes_nothing(world, case):
    p = world.post_alert()
    user, team = ALICE, TEAM
    if case == "user_not_allowed":
        user = MALLORY
    elif case == "slack_connect_outsider":
        team = "T0THEIRS"  # Alice's user id, but clicking from another organization's team
    elif case == "empty_policy":
        world.rt.config = Config(accounts=world.rt.config.accounts, policy=make_policy(tiers={}))
    elif case == "no_policy":
        world.rt.config = Config(accounts=world.rt.config.accounts, policy=None)
    elif case == "policy_without_teams":
        world.rt.config = Config(accounts=world.rt.config.accounts, policy=make_policy(teams=[]))
    from handlers import slack as slack_handler

    body = form_body(world.click_body(REMEDIATE, p.id, user, team=team))
    assert slack_handler.handler(http_event(body), None)["statusCode"] == 200
    world.drain()

    assert world.sessions.mutations() == []
    assert world.state() == "running"
    assert world.rt.store.get_proposal(p.id).state == ProposalState.PROPOSED  # others may still act
    [entry] = world.audit(p.id)
    assert entry.outcome == "DENIED" and entry.actor.user_id == user and entry.actor.team_id == team
    [note] = world.ephemerals_for(user)
    assert note.startswith("Not allowed:")


def test_row1_worker_reauthorizes_and_denies(world):
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    assert world.rt.store.get_proposal(p.id).state == ProposalState.APPROVED
    # Alice loses her permission between the click and the worker
    world.rt.config = Config(
        accounts=world.rt.config.accounts,
        policy=make_policy(tiers={Risk.MEDIUM: make_policy().tiers[Risk.LOW].model_copy(update={"users": [BOB]})}),
    )
    world.drain()

    assert world.sessions.mutations() == []
    final = world.rt.store.get_proposal(p.id)
    assert final.state == ProposalState.DENIED
    assert [e.outcome for e in world.audit(p.id)] == ["DENIED"]
    assert "denied" in str(world.message().blocks)


def test_row1_forged_job_for_unapproved_proposal_does_nothing(world):
    p = world.post_alert()
    job = Job(kind=JobKind.EXECUTE, proposal_id=p.id, actor=Actor(user_id=ALICE, team_id=TEAM))
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=job.body())
    world.drain()
    assert world.sessions.mutations() == []
    assert world.rt.store.get_proposal(p.id).state == ProposalState.PROPOSED


# --- row 2: at most one change per proposal ---------------------------------------------------


def test_row2_five_concurrent_deliveries_one_mutation(world):
    p = world.post_alert()
    body = form_body(world.click_body(REMEDIATE, p.id, ALICE, action_ts="1700000000.000001"))
    from handlers import slack as slack_handler

    results: list[int] = []
    start = threading.Barrier(5)

    def deliver() -> None:
        start.wait()
        results.append(slack_handler.handler(http_event(body), None)["statusCode"])

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 5
    world.drain()

    assert world.sessions.mutations() == ["StopInstances"]
    assert [e.outcome for e in world.audit(p.id)] == ["SUCCEEDED"]


def test_row2_second_person_told_who_did_it(world):
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    world.click(REMEDIATE, p.id, BOB)
    world.drain()
    world.click(REMEDIATE, p.id, CAROL)

    assert world.sessions.mutations() == ["StopInstances"]
    bob, carol = world.ephemerals_for(BOB), world.ephemerals_for(CAROL)
    assert bob and bob[0].startswith("Already done by @alice at ") and "UTC" in bob[0]
    assert carol and "Already done by @alice" in carol[0] and "succeeded" in carol[0]


def test_row2_slack_retry_runs_nothing(world):
    p = world.post_alert()
    from handlers import slack as slack_handler

    body = form_body(world.click_body(REMEDIATE, p.id, ALICE, action_ts="1700000000.000002"))
    assert slack_handler.handler(http_event(body), None)["statusCode"] == 200
    jobs_before = len(world.slack.calls("chat.update"))
    for retry in (1, 2):
        assert slack_handler.handler(http_event(body, retry=retry), None)["statusCode"] == 200
    assert len(world.slack.calls("chat.update")) == jobs_before  # the listener did not run again
    world.drain()
    assert world.sessions.mutations() == ["StopInstances"]
    assert len(world.audit(p.id)) == 1


def test_row2_redelivered_job_runs_once(world):
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    [job] = [j for j in world.queued_jobs() if j["kind"] == "execute"]  # (and the click's message job)
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=json.dumps(job))  # SQS at-least-once
    world.drain()
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=json.dumps(job))  # and much later
    world.drain()

    assert world.sessions.mutations() == ["StopInstances"]
    assert [e.outcome for e in world.audit(p.id)] == ["SUCCEEDED"]
    assert len([r for r in world.replies() if "succeeded" in str(r.blocks)]) == 1


def test_row2_running_guard_never_reruns(world):
    """A re-delivered job that finds RUNNING never runs again; stale RUNNING becomes FAILED."""
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    approved = world.rt.store.get_proposal(p.id)
    world.rt.store.save_proposal(approved.model_copy(update={"state": ProposalState.RUNNING}), approved.state, 1)
    # the worker that wrote RUNNING "crashed"; its job comes back while RUNNING is young
    responses = world.drain(rounds=1)
    assert responses[0]["batchItemFailures"]  # returned to SQS, not run
    assert world.sessions.mutations() == []
    [job] = world.queued_jobs()
    assert worker.process_job(world.rt, Job.model_validate(job), running_stale_s=0) == "failed"

    final = world.rt.store.get_proposal(p.id)
    assert final.state == ProposalState.FAILED
    assert final.result == "worker interrupted; state unknown — check the resource"
    assert world.sessions.mutations() == []
    assert "worker interrupted" in str(world.message().blocks)
    assert [e.outcome for e in world.audit(p.id)] == ["FAILED"]


# --- row 3: only genuine Slack requests are served ----------------------------------------------


def _ack_event(world, **kw):
    body = form_body(world.click_body("eventops:ack", world.alert.id, ALICE, action_ts="1700000000.1"))
    return http_event(body, **kw)


@pytest.mark.parametrize(
    "shape",
    [
        {"version": "2.0"},
        {"version": "1.0"},
        {"version": "2.0", "b64": True},
        {"version": "1.0", "b64": True},
        {"version": "2.0", "omit_b64_flag": True},
        {"version": "1.0", "omit_b64_flag": True},
    ],
    ids=["v2", "v1", "v2-base64", "v1-base64", "v2-no-isBase64Encoded", "v1-no-isBase64Encoded"],
)
def test_row3_genuine_requests_served(world, shape):
    world.post_alert()
    from handlers import slack as slack_handler

    resp = slack_handler.handler(_ack_event(world, **shape), None)
    assert resp["statusCode"] == 200
    world.drain()  # the click's message job writes its audit record
    assert [e.outcome for e in world.audit()] == ["ACKNOWLEDGED"]


@pytest.mark.parametrize(
    "forgery",
    ["wrong_secret", "timestamp_minus_301", "timestamp_plus_301", "no_headers", "no_signature", "tampered_body"],
)
def test_row3_forged_requests_get_401_and_run_nothing(world, forgery):
    import time

    world.post_alert()
    from handlers import slack as slack_handler

    now = int(time.time())
    kw: dict = {}
    if forgery == "wrong_secret":
        kw["secret"] = SECRET + "x"
    elif forgery == "timestamp_minus_301":
        kw["ts"] = now - 301
    elif forgery == "timestamp_plus_301":
        kw["ts"] = now + 301
    elif forgery == "no_headers":
        kw["headers"] = {}
    elif forgery == "no_signature":
        kw["headers"] = {"x-slack-request-timestamp": str(now)}
    event = _ack_event(world, **kw)
    if forgery == "tampered_body":
        event["body"] = event["body"].replace("U0ALICE", "U0BOB")
    resp = slack_handler.handler(event, None)

    assert resp["statusCode"] == 401
    assert world.audit() == []
    assert world.rt.store.acked_by(world.alert.id) is None
    assert world.slack.ephemerals == []


def test_row3_ssl_check_answered_without_listener(world):
    world.post_alert()
    from handlers import slack as slack_handler

    body = "ssl_check=1&token=legacy"
    unsigned = http_event(body, headers={"content-type": "application/x-www-form-urlencoded"})
    resp = slack_handler.handler(unsigned, None)
    assert resp["statusCode"] == 200 and resp["body"] == ""
    # ssl_check=1 smuggled into a click: still nothing runs unsigned
    click = form_body(world.click_body("eventops:ack", world.alert.id, ALICE)) + "&ssl_check=1"
    slack_handler.handler(http_event(click, headers={"content-type": "application/x-www-form-urlencoded"}), None)
    assert world.audit() == []


def test_row3_non_post_and_bad_base64(world):
    from handlers import slack as slack_handler

    assert slack_handler.handler({"requestContext": {"http": {"method": "GET"}}}, None)["statusCode"] == 405
    bad = http_event("not base64!!", b64=False)
    bad["isBase64Encoded"] = True
    assert slack_handler.handler(bad, None)["statusCode"] == 400


# --- row 4: live state re-read before every change ---------------------------------------------


def test_row4_already_compliant_is_noop(world):
    p = world.post_alert()
    world.ec2.stop_instances(InstanceIds=[world.instance_id])  # fixed by hand after the message
    world.click(REMEDIATE, p.id, ALICE)
    world.drain()
    assert world.sessions.mutations() == []
    assert world.rt.store.get_proposal(p.id).state == ProposalState.NOOP
    assert "Already compliant" in str(world.message().blocks)
    assert [e.outcome for e in world.audit(p.id)] == ["NOOP"]


def test_row4_exempt_tag_refuses(world):
    p = world.post_alert()
    world.ec2.create_tags(Resources=[world.instance_id], Tags=[{"Key": "eventops:exempt", "Value": "true"}])
    world.click(REMEDIATE, p.id, ALICE)
    world.drain()
    assert world.sessions.mutations() == []
    assert world.state() == "running"
    final = world.rt.store.get_proposal(p.id)
    assert final.state == ProposalState.FAILED and "exempt" in (final.result or "")
    assert "exempt" in str(world.message().blocks)


def test_row4_resource_gone_says_why(world):
    p = world.post_alert(instance_id="i-0000000000000dead")
    world.click(REMEDIATE, p.id, ALICE)
    world.drain()
    assert world.sessions.mutations() == []
    final = world.rt.store.get_proposal(p.id)
    assert final.state == ProposalState.FAILED and "Resource gone" in (final.result or "")
    assert "Resource gone" in str(world.message().blocks)


def test_row4_expired_button_refuses(world):
    p = world.post_alert(ttl_hours=-1)
    world.click(REMEDIATE, p.id, ALICE)
    world.drain()
    assert world.sessions.mutations() == []
    assert world.rt.store.get_proposal(p.id).state == ProposalState.EXPIRED
    assert "expired" in world.ephemerals_for(ALICE)[0]
    assert [e.outcome for e in world.audit(p.id)] == ["EXPIRED"]


# --- row 5: every change verified ----------------------------------------------------------------


def test_row5_ok_that_changed_nothing_is_failed(world):
    p = world.post_alert()
    client = world.sessions.client("ec2", region=REGION, account=ACCOUNT, identity=ALICE)

    def pretend_ok(**kwargs):  # AWS answers 200 but nothing happens
        if kwargs.get("params", {}).get("DryRun"):
            return None
        return AWSResponse("https://ec2", 200, {}, None), {"StoppingInstances": []}

    client.meta.events.register("before-call.ec2.StopInstances", pretend_ok)
    world.click(REMEDIATE, p.id, ALICE)
    world.drain()

    assert world.state() == "running"
    final = world.rt.store.get_proposal(p.id)
    assert final.state == ProposalState.FAILED
    assert final.verification == "FAILED: state unchanged after an OK response"
    assert "verification shows no change" in str(world.message().blocks)


def test_row5_success_is_verified(world):
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    world.drain()
    final = world.rt.store.get_proposal(p.id)
    assert final.state == ProposalState.SUCCEEDED and final.verification
    calls = [name for svc, name, _ in world.sessions.calls if svc == "ec2"]
    assert calls.index("StopInstances") < len(calls) - 1 and calls[-1] == "DescribeInstances"


# --- row 6: no failure is silent -----------------------------------------------------------------


@pytest.mark.parametrize("failure", ["client_error", "timeout"])
def test_row6_exception_fails_announces_and_reaches_dlq(world, failure):
    p = world.post_alert()
    if failure == "client_error":
        exc: Exception = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeInstances")
    else:
        exc = ReadTimeoutError(endpoint_url="https://ec2.eu-west-1.amazonaws.com")
    world.click(REMEDIATE, p.id, ALICE)
    world.sessions.failures["DescribeInstances"] = exc
    for _ in range(5):
        world.drain(rounds=1)

    final = world.rt.store.get_proposal(p.id)
    assert final.state == ProposalState.FAILED and final.result.startswith("AWS ")
    assert ("AccessDenied" if failure == "client_error" else "timeout") in final.result
    assert world.rt.counts["remediation_error"] == 1
    assert world.rt.counts["job_failed"] >= 3
    assert "failed" in str(world.message().blocks)
    assert [j["proposal_id"] for j in _dlq_bodies(world)] == [p.id]
    assert world.sessions.mutations() == []
    assert [e.outcome for e in world.audit(p.id)] == ["FAILED"]


def test_row6_timeout_during_change_is_failed_announced_and_dlqd(world):
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    world.sessions.failures["StopInstances"] = ReadTimeoutError(endpoint_url="https://ec2")
    for _ in range(5):
        world.drain(rounds=1)
    final = world.rt.store.get_proposal(p.id)
    assert final.state == ProposalState.FAILED and "AWS call failed while making the change" in final.result
    assert world.rt.counts["remediation_failed"] == 1 and world.rt.counts["remediation_error"] == 1
    assert "failed" in str(world.message().blocks)
    assert [j["proposal_id"] for j in _dlq_bodies(world)] == [p.id]
    assert [e.outcome for e in world.audit(p.id)] == ["FAILED"]


def test_row6_bug_in_remediation_is_failed_and_dlqd(world, test_remediation, monkeypatch):
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    monkeypatch.setattr(type(test_remediation), "is_compliant", lambda self, state, params: 1 / 0)
    for _ in range(5):
        world.drain(rounds=1)
    final = world.rt.store.get_proposal(p.id)
    assert final.state == ProposalState.FAILED and "ZeroDivisionError" in final.result
    assert [j["proposal_id"] for j in _dlq_bodies(world)] == [p.id]
    assert world.sessions.mutations() == []


def test_row6_slack_500_retried_until_told_never_rerun(world):
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    world.slack.fail_next("chat.update", status=500, times=3)  # the poster's own retries + 1 delivery
    first = world.drain(rounds=1)
    assert first[0]["batchItemFailures"]  # the record goes back to SQS
    assert world.rt.store.get_proposal(p.id).state == ProposalState.SUCCEEDED  # the truth is recorded
    assert world.rt.counts["message_update_failed"] == 1
    world.drain()

    assert world.sessions.mutations() == ["StopInstances"]
    assert "succeeded" in str(world.message().blocks)
    assert len([r for r in world.replies() if "succeeded" in str(r.blocks)]) == 1
    assert [e.outcome for e in world.audit(p.id)] == ["SUCCEEDED"]


def test_row6_slack_down_reaches_dlq(world):
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    world.slack.fail_next("chat.update", status=500, times=1000)
    for _ in range(5):
        world.drain(rounds=1)
    dead = _dlq_bodies(world)
    assert [j["proposal_id"] for j in dead if j["kind"] == "execute"] == [p.id]
    assert [j["alert_id"] for j in dead if j["kind"] == "message"] == [p.alert_id], "the status line is not lost"
    assert world.sessions.mutations() == ["StopInstances"]


# --- row 8: blast radius and kill switch ---------------------------------------------------------


def test_row8_blast_radius_refuses_and_announces(world):
    world.rt.config.blast_radius.max_executions_per_account_per_hour = 2
    ids = [
        world.ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        for _ in range(3)
    ]
    proposals = []
    for iid in ids:
        p = world.post_alert(instance_id=iid)
        world.click(REMEDIATE, p.id, ALICE)
        proposals.append(p)
    world.drain()

    assert world.sessions.mutations() == ["StopInstances", "StopInstances"]
    states = [world.rt.store.get_proposal(p.id).state for p in proposals]
    assert states.count(ProposalState.SUCCEEDED) == 2 and states.count(ProposalState.FAILED) == 1
    refused = next(p for p in proposals if world.rt.store.get_proposal(p.id).state == ProposalState.FAILED)
    replies = [m for m in world.slack.messages[CHANNEL] if m.thread_ts == refused.message_ts]
    assert any("blast radius" in str(r.blocks) for r in replies)
    assert world.rt.counts["blast_radius_refused"] == 1


def test_row8_kill_switch_makes_every_path_notify_only(world):
    p = world.post_alert()
    done = world.post_alert()
    world.click(REMEDIATE, done.id, ALICE)
    world.drain()  # one success, so Undo exists
    queued = world.post_alert()
    world.click(REMEDIATE, queued.id, ALICE)  # approved and queued just before the switch
    world.rt.config.kill_switch = True
    before = list(world.sessions.mutations())

    world.click(REMEDIATE, p.id, ALICE)
    world.click("eventops:undo", done.id, ALICE)
    world.click("eventops:approve", p.id, BOB)
    decision = clicks.auto_execute(world.rt, world.rt.store.get_proposal(p.id))
    world.drain()

    assert world.sessions.mutations() == before
    assert decision.outcome == "kill_switch"
    notes = world.ephemerals_for(ALICE) + world.ephemerals_for(BOB)
    assert len(notes) == 3 and all("kill switch is on: notify-only" in n for n in notes)
    assert world.rt.store.get_proposal(queued.id).state == ProposalState.FAILED
    assert "kill switch is on: notify-only" in (world.rt.store.get_proposal(queued.id).result or "")


# --- row 9: approvals can't be abused ------------------------------------------------------------


def test_row9_high_risk_needs_two_distinct_approvers(world):
    p = world.post_alert(risk=Risk.HIGH)
    world.click(REMEDIATE, p.id, ALICE)
    world.drain()  # the dry run
    assert world.sessions.mutations() == []
    state = world.rt.store.get_proposal(p.id)
    assert state.state == ProposalState.PROPOSED and state.requester.user_id == ALICE

    # the thread shows plan + dry run, and the Approve button's confirm dialog repeats both
    [reply] = world.replies()
    approve = next(
        e for b in reply.blocks if b["type"] == "actions" for e in b["elements"] if e["action_id"] == "eventops:approve"
    )
    confirm = approve["confirm"]["text"]["text"]
    assert f"Would stop {world.instance_id}" in confirm and "would succeed" in confirm

    world.click("eventops:approve", p.id, ALICE, thread_ts=reply.ts)  # the requester
    world.click("eventops:approve", p.id, BOB, thread_ts=reply.ts)
    world.click("eventops:approve", p.id, BOB, thread_ts=reply.ts)  # twice
    world.click("eventops:approve", p.id, MALLORY, thread_ts=reply.ts)  # not an approver
    world.drain()
    assert world.sessions.mutations() == []
    assert world.rt.store.get_proposal(p.id).state == ProposalState.PROPOSED
    assert "cannot approve" in world.ephemerals_for(ALICE)[-1]
    assert "already approved" in world.ephemerals_for(BOB)[-1]
    assert world.ephemerals_for(MALLORY)[-1].startswith("Not allowed")

    world.click("eventops:approve", p.id, CAROL, thread_ts=reply.ts)
    assert world.rt.store.get_proposal(p.id).state == ProposalState.APPROVED
    world.drain()
    assert world.sessions.mutations() == ["StopInstances"]
    final = world.rt.store.get_proposal(p.id)
    assert {a.actor.user_id for a in final.approvals} == {BOB, CAROL}
    # late updates went through chat.update, never a response_url
    assert all(not r.posts for r in world.slack.workspace.response_urls.values())


def test_row9_stale_approval_does_not_count(world):
    p = world.post_alert(risk=Risk.HIGH)
    world.click(REMEDIATE, p.id, ALICE)
    world.drain()
    cur = world.rt.store.get_proposal(p.id)
    old = Approval(
        actor=Actor(user_id=BOB, team_id=TEAM, user_name="bob"), at=datetime.now(UTC) - timedelta(minutes=31)
    )
    world.rt.store.save_proposal(cur.model_copy(update={"approvals": [old]}), cur.state, cur.version)

    world.click("eventops:approve", p.id, CAROL)
    after = world.rt.store.get_proposal(p.id)
    assert after.state == ProposalState.PROPOSED
    assert [a.actor.user_id for a in after.approvals] == [CAROL]
    world.click("eventops:approve", p.id, DAVE)
    assert world.rt.store.get_proposal(p.id).state == ProposalState.APPROVED


def test_row9_auto_mode_never_runs_high_risk(world):
    p = world.post_alert(risk=Risk.HIGH)
    assert clicks.auto_execute(world.rt, p).outcome == "refused"
    world.drain()
    assert world.sessions.mutations() == []


# --- row 15: the audit trail is complete --------------------------------------------------------


def test_row15_every_terminal_path_writes_exactly_one_record(world):
    world.rt.config.policy.enterprise_id = None
    outcomes: dict[str, str] = {}

    ok = world.post_alert()
    world.click(REMEDIATE, ok.id, ALICE)
    world.drain()
    outcomes[ok.id] = "SUCCEEDED"
    world.click("eventops:undo", ok.id, ALICE)
    world.drain()

    noop = world.post_alert()
    world.ec2.stop_instances(InstanceIds=[world.instance_id])
    world.click(REMEDIATE, noop.id, BOB)
    world.drain()
    outcomes[noop.id] = "NOOP"

    expired = world.post_alert(ttl_hours=-1)
    world.click(REMEDIATE, expired.id, ALICE)
    outcomes[expired.id] = "EXPIRED"

    denied = world.post_alert()
    world.click(REMEDIATE, denied.id, MALLORY)
    outcomes[denied.id] = "DENIED"

    snoozed = world.post_alert()
    world.click("eventops:snooze:4h", world.alert.id, ALICE)
    dismissed = world.post_alert()
    world.dismiss(BOB)
    world.click("eventops:dismiss", world.alert.id, CAROL)  # second dismiss: told, not recorded
    world.click("eventops:ack", world.alert.id, CAROL)
    world.click("eventops:ack", world.alert.id, ALICE)
    world.drain()  # the triage clicks' message jobs write their audit records

    for pid, outcome in outcomes.items():
        entries = world.audit(pid)
        assert [e.outcome for e in entries if e.outcome == outcome] == [outcome], pid
    assert sorted(e.outcome for e in world.audit(ok.id)) == ["SUCCEEDED", "UNDONE"]
    by_outcome = {}
    for e in world.audit():
        by_outcome.setdefault(e.outcome, []).append(e)
    assert len(by_outcome["SNOOZED"]) == 1 and by_outcome["SNOOZED"][0].alert_id == snoozed.alert_id
    assert len(by_outcome["DISMISSED"]) == 1 and by_outcome["DISMISSED"][0].alert_id == dismissed.alert_id
    assert len(by_outcome["ACKNOWLEDGED"]) == 1
    for e in world.audit():
        assert e.actor.user_id and (e.actor.team_id or e.actor.is_system), e
        assert e.action and e.permalink, e
        if e.proposal_id:
            assert e.correlation_id and e.params and e.account == ACCOUNT, e
    succeeded = by_outcome["SUCCEEDED"][0]
    assert succeeded.pre_state and succeeded.result and succeeded.verification
    assert succeeded.permalink.startswith("http")  # resolved with chat.getPermalink by the worker
