"""Records that exhaust their retries are visible and recoverable (docs/reliability.md #6).

End to end in moto with the loopback Slack fake: an alert Slack refuses three times lands in the
alerts DLQ (maxReceiveCount 3 in the world); ``/ops status``, ``/ops doctor`` and the heartbeat
show the depth; ``/ops redrive`` (a signed slash command through handlers/slack.py, run by
handlers/worker.py) puts it back; handlers/notify.py posts it once, and a second redrive of the
same event posts nothing more. Jobs keep their seal byte for byte and act once however often
they are redriven. ``python -m bot redrive`` does the same from a terminal.
"""

from __future__ import annotations

import getpass
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bot.__main__ import main
from bot.models import ProposalState
from handlers import housekeeping
from handlers import slack as slack_handler
from tests.approval.world import (
    ACCOUNT,
    ALICE,
    BOB,
    CHANNEL,
    MALLORY,
    REGION,
    REMEDIATE,
    World,
    command_event,
    interact_world,
)

ROUTE_CHANNEL = "#eventops"  # make_config()'s default route


@pytest.fixture
def world():
    with interact_world() as w:
        yield w


def _event(iid: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{iid}"],
        "detail": {"instance-id": iid, "state": "stopped"},
    }


def _posts_about(world: World, text: str) -> list[Any]:
    """Top-level messages in the route's channel that mention ``text``."""
    ch = world.slack.workspace.channel(ROUTE_CHANNEL, create=False)
    with world.slack.lock:
        msgs = list(ch.messages) if ch else []
    return [m for m in msgs if text in m.text + str(m.blocks) and m.thread_ts in (None, m.ts)]


def _ops(world: World, text: str, user: str = ALICE) -> str:
    """``/ops <text>`` as ``user``: the signed request, then the worker; the ack and every
    response_url post it caused, as one string."""
    before = len(world.slack.requests)
    url = world.slack.response_url(CHANNEL)
    resp = slack_handler.handler(command_event(text, user, response_url=url), None)
    assert resp["statusCode"] == 200, resp
    world.drain()
    posts = [r.params for r in world.slack.requests[before:] if r.method.startswith("response_url:")]
    return resp.get("body", "") + json.dumps(posts, ensure_ascii=False)


def _dead_lettered_alert(world: World) -> tuple[str, dict[str, Any]]:
    """An alert whose three deliveries Slack refused: it waits in the alerts DLQ."""
    iid = f"i-{uuid.uuid4().hex[:17]}"
    body = json.dumps(_event(iid))
    world.sqs.send_message(
        QueueUrl=world.alerts_url,
        MessageBody=body,
        MessageAttributes={"origin": {"DataType": "String", "StringValue": "central-bus"}},
    )
    world.slack.fail_next("chat.postMessage", error="internal_error", times=3)
    responses = world.deliver_alerts()
    assert [len(r["batchItemFailures"]) for r in responses] == [1, 1, 1], responses
    assert world.depth(world.alerts_dlq_url) == 1 and world.depth(world.alerts_url) == 0
    assert _posts_about(world, iid) == []
    return iid, {"body": body}


def test_a_dead_lettered_alert_is_shown_redriven_and_posted_exactly_once(world: World) -> None:
    iid, sent = _dead_lettered_alert(world)

    status = _ops(world, "status")
    assert "1 alert in the dead-letter queue — `/ops redrive alerts`" in status, status
    assert "jobs empty" in status

    answer = _ops(world, "redrive alerts")
    assert "moved 1 alert from the alerts dead-letter queue back to the alerts queue" in answer, answer
    assert world.depth(world.alerts_dlq_url) == 0 and world.depth(world.alerts_url) == 1
    [back] = world.sqs.receive_message(QueueUrl=world.alerts_url, MessageAttributeNames=["All"], VisibilityTimeout=0)[
        "Messages"
    ]
    assert back["Body"] == sent["body"], "the body is moved byte for byte"
    assert back["MessageAttributes"]["origin"]["StringValue"] == "central-bus"
    [audited] = [e for e in world.audit() if e.action == "command.redrive"]
    assert (audited.outcome, audited.actor.user_id, audited.params["moved"]) == ("REDRIVEN", ALICE, 1)

    world.deliver_alerts()
    assert len(_posts_about(world, iid)) == 1
    assert world.depth(world.alerts_url) == 0

    # The same event dead-lettered again (a second copy) and redriven again: posted once in all.
    world.sqs.send_message(QueueUrl=world.alerts_dlq_url, MessageBody=sent["body"])
    assert "moved 1 alert" in _ops(world, "redrive alerts")
    world.deliver_alerts()
    assert len(_posts_about(world, iid)) == 1
    assert "alerts empty" in _ops(world, "status")


def test_a_job_redriven_twice_keeps_its_seal_and_acts_once(world: World) -> None:
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    [job] = world.sqs.receive_message(QueueUrl=world.queue_url, VisibilityTimeout=0)["Messages"]
    world.sqs.delete_message(QueueUrl=world.queue_url, ReceiptHandle=job["ReceiptHandle"])
    for _ in range(2):  # dead-lettered twice (e.g. a second redrive raced the first)
        world.sqs.send_message(QueueUrl=world.dlq_url, MessageBody=job["Body"])
    assert "2 jobs in the dead-letter queue — `/ops redrive jobs`" in _ops(world, "status")
    calls_before = len(world.sessions.calls)

    answer = _ops(world, "redrive jobs")

    assert "moved 2 jobs" in answer, answer
    resent = [
        params["MessageBody"]
        for _, name, params in world.sessions.calls[calls_before:]
        if name == "SendMessage" and params["QueueUrl"] == world.queue_url and "command" not in params["MessageBody"]
    ]
    assert resent == [job["Body"], job["Body"]], "byte-identical: the HMAC seal still verifies"
    assert world.sessions.mutations() == ["StopInstances"]
    assert world.rt.store.get_proposal(p.id).state == ProposalState.SUCCEEDED
    assert world.depth(world.dlq_url) == 0 and world.depth(world.queue_url) == 0
    assert not [e for e in world.audit() if e.outcome == "JOB_REFUSED"]


def test_redrive_needs_the_high_tier_and_a_refusal_is_audited(world: World) -> None:
    _dead_lettered_alert(world)

    refused = _ops(world, "redrive alerts", user=BOB)  # BOB may run LOW and MEDIUM only

    assert "Not allowed: redrive needs the HIGH-risk tier" in refused, refused
    assert "Looking up" not in refused, "refused in the ack: nothing was queued"
    [denied] = [e for e in world.audit() if e.action == "command.redrive"]
    assert (denied.outcome, denied.actor.user_id) == ("DENIED", BOB)
    outsider = _ops(world, "redrive alerts", user=MALLORY)
    assert "You are not allowed to use `/ops redrive`" in outsider
    assert world.depth(world.alerts_dlq_url) == 1 and world.depth(world.alerts_url) == 0
    assert "redrive" not in _ops(world, "help", user=MALLORY)


def test_dry_run_describes_and_moves_nothing(world: World) -> None:
    _dead_lettered_alert(world)
    bodies = [
        json.loads(world.sqs.receive_message(QueueUrl=world.alerts_dlq_url, VisibilityTimeout=0)["Messages"][0]["Body"])
    ]

    answer = _ops(world, "redrive alerts --dry-run")

    assert "dry run: 1 alert in the alerts dead-letter queue would be moved back; nothing was moved" in answer
    assert f"event {bodies[0]['id']} (aws.ec2 / EC2 Instance State-change Notification)" in answer
    assert world.depth(world.alerts_dlq_url) == 1, "given back at once, not after the visibility timeout"
    assert world.depth(world.alerts_url) == 0
    assert not [e for e in world.audit() if e.action == "command.redrive"]


def test_a_failed_send_leaves_the_record_in_the_dlq(world: World) -> None:
    _dead_lettered_alert(world)
    url = world.slack.response_url(CHANNEL)
    slack_handler.handler(command_event("redrive alerts", response_url=url), None)  # the command job is queued
    world.sessions.failures["SendMessage"] = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "SendMessage"
    )
    before = len(world.slack.requests)
    world.drain()
    answer = json.dumps([r.params for r in world.slack.requests[before:] if r.method.startswith("response_url:")])

    assert "stopped: SendMessage failed (AccessDenied: not allowed)" in answer, answer
    assert world.depth(world.alerts_dlq_url) == 1, "deleted only after a send that succeeded"
    assert world.depth(world.alerts_url) == 0
    [failed] = [e for e in world.audit() if e.action == "command.redrive"]
    assert failed.outcome == "REDRIVE_FAILED"


def test_usage_errors_are_answered_in_the_ack(world: World) -> None:
    for text, error in [
        ("redrive", "needs more arguments"),
        ("redrive everything", "Unexpected `everything`"),
        ("redrive alerts --max 0", "`--max` takes a number from 1 to 1000."),
    ]:
        answer = _ops(world, text)
        assert error in answer and "Looking up" not in answer, (text, answer)
    assert world.queued_jobs() == []


def test_the_heartbeat_and_doctor_show_dead_letters(world: World) -> None:
    world.sqs.send_message(QueueUrl=world.dlq_url, MessageBody="{}")
    housekeeping.set_runtime(world.rt)
    try:
        housekeeping.handler({"task": "heartbeat"}, None)
    finally:
        housekeeping.set_runtime(None)
    [beat] = _posts_about(world, "EventOps heartbeat")
    assert "Dead-letter queues: alerts empty; 1 job in the dead-letter queue — `/ops redrive jobs`" in str(beat.blocks)

    doctor = _ops(world, "doctor")
    assert ":warning: 1 job in the dead-letter queue — `/ops redrive jobs`" in doctor, doctor
    assert ":white_check_mark: alerts dead-letter queue: empty" in doctor


# --- python -m bot redrive ----------------------------------------------------------------------


@pytest.fixture
def deployed_env(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """The environment serverless.yml gives the functions, pointing at the world's moto queues."""
    for key, value in {
        "EVENTOPS_TABLE": world.rt.settings.table_name,
        "EVENTOPS_ALERTS_QUEUE_URL": world.alerts_url,
        "EVENTOPS_ALERTS_DLQ_URL": world.alerts_dlq_url,
        "EVENTOPS_JOBS_QUEUE_URL": world.queue_url,
        "EVENTOPS_JOBS_DLQ_URL": world.dlq_url,
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("EVENTOPS_CONFIG", "EVENTOPS_KILL_SWITCH_PARAMETER", "EVENTOPS_AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    return world


def test_cli_redrive_moves_the_records_back_and_audits_the_local_user(deployed_env: World, capsys) -> None:
    world = deployed_env
    iid, sent = _dead_lettered_alert(world)

    assert main(["redrive", "--queue", "alerts", "--dry-run"]) == 0
    assert "dry run: 1 alert" in capsys.readouterr().out
    assert world.depth(world.alerts_dlq_url) == 1

    assert main(["redrive", "--queue", "alerts", "--max", "5"]) == 0
    out = capsys.readouterr().out
    assert "moved 1 alert from the alerts dead-letter queue back to the alerts queue; 0 alerts still waiting" in out
    world.deliver_alerts()
    assert len(_posts_about(world, iid)) == 1
    [audited] = [e for e in world.audit() if e.action == "command.redrive"]
    assert (audited.outcome, audited.actor.user_id) == ("REDRIVEN", f"cli:{getpass.getuser()}")


def test_cli_redrive_names_the_missing_setting(deployed_env: World, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("EVENTOPS_JOBS_DLQ_URL")
    assert main(["redrive", "--queue", "jobs"]) == 2
    assert "EVENTOPS_JOBS_DLQ_URL: not set" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["redrive", "--queue", "alerts", "--max", "0"])
