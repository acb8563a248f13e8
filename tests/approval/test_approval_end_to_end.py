"""From a posted alert message to a stopped instance: signed click → ack → SQS → worker → Slack."""

from __future__ import annotations

from bot.models import ProposalState
from tests.approval.world import ACCOUNT, ALICE, TEST_REMEDIATION


def test_click_stops_instance_end_to_end(world):
    p = world.post_alert()
    assert world.state() == "running"

    resp = world.click(f"eventops:remediate:{TEST_REMEDIATION}", p.id, ALICE)
    assert resp["statusCode"] == 200
    # the ack changed nothing in AWS; it recorded the decision and queued the job
    assert world.sessions.mutations() == []
    assert world.rt.store.get_proposal(p.id).state == ProposalState.APPROVED
    assert world.slack.calls("chat.update") == [], "the ack makes no Slack call"
    [shown] = [j for j in world.queued_jobs() if j["kind"] == "message"]  # the status line, from the worker
    assert "requested by @alice" in shown["status"]

    world.drain()

    assert world.state() == "stopped"
    assert world.sessions.mutations() == ["StopInstances"]
    final = world.rt.store.get_proposal(p.id)
    assert final.state == ProposalState.SUCCEEDED
    assert final.undo_until is not None
    # the message was updated in place (chat.update by channel + ts) and the thread got details
    blocks = str(world.message().blocks)
    assert "succeeded" in blocks
    reply = world.replies()[-1]
    assert "Stopped" in str(reply.blocks)
    assert "eventops:undo" in str(reply.blocks)
    assert not world.slack.calls("chat.update") or all(
        c.params.get("ts") == world.message_ts for c in world.slack.calls("chat.update")
    )
    # one audit record, naming who, what, where, before and after
    [entry] = world.audit(p.id)
    assert entry.outcome == "SUCCEEDED"
    assert (entry.actor.user_id, entry.actor.team_id) == (ALICE, "T0OURS")
    assert entry.params == {"instance_id": world.instance_id}
    assert entry.account == ACCOUNT and entry.pre_state["state"] == "running"
    assert entry.verification and entry.correlation_id and entry.permalink
    # the change ran as Alice in the member account: AssumeRole with ExternalId and SourceIdentity
    assume = [params for svc, name, params in world.sessions.calls if name == "AssumeRole"]
    assert assume and assume[0]["SourceIdentity"] == ALICE and assume[0]["ExternalId"] == "ext-1234"


def test_undo_restarts_instance_and_refuses_twice(world):
    p = world.post_alert()
    world.click(f"eventops:remediate:{TEST_REMEDIATION}", p.id, ALICE)
    world.drain()
    assert world.state() == "stopped"

    world.click("eventops:undo", p.id, ALICE)
    world.click("eventops:undo", p.id, ALICE)
    world.drain()

    assert world.state() == "running"
    assert world.sessions.mutations() == ["StopInstances", "StartInstances"]
    assert world.rt.store.get_proposal(p.id).state == ProposalState.UNDONE
    assert any("Undo was already requested" in t for t in world.ephemerals_for(ALICE))
    outcomes = sorted(e.outcome for e in world.audit(p.id))
    assert outcomes == ["SUCCEEDED", "UNDONE"]


def test_undo_refuses_on_drift(world):
    p = world.post_alert()
    world.click(f"eventops:remediate:{TEST_REMEDIATION}", p.id, ALICE)
    world.drain()
    world.ec2.start_instances(InstanceIds=[world.instance_id])  # someone changed it by hand since
    before = list(world.sessions.mutations())

    world.click("eventops:undo", p.id, ALICE)
    world.drain()

    assert world.sessions.mutations() == before
    assert world.rt.store.get_proposal(p.id).state == ProposalState.SUCCEEDED
    assert "Undo refused" in str(world.replies()[-1].blocks)
    assert any(e.outcome == "UNDO_REFUSED" for e in world.audit(p.id))  # refused by run_undo, nothing changed


def test_undo_refused_when_tagged_exempt_since(world):
    """Issue "Locked down" 4: Stop → someone tags the instance eventops:exempt=true → Undo must not start it."""
    p = world.post_alert()
    world.click(f"eventops:remediate:{TEST_REMEDIATION}", p.id, ALICE)
    world.drain()
    world.ec2.create_tags(Resources=[world.instance_id], Tags=[{"Key": "eventops:exempt", "Value": "true"}])
    before = list(world.sessions.mutations())

    world.click("eventops:undo", p.id, ALICE)
    world.drain()

    assert world.state() == "stopped"
    assert world.sessions.mutations() == before
    assert world.rt.store.get_proposal(p.id).state == ProposalState.SUCCEEDED
    assert "Undo refused: the resource is now tagged eventops:exempt=true" in str(world.replies()[-1].blocks)
    refused = [e for e in world.audit(p.id) if e.outcome == "UNDO_REFUSED"]
    assert len(refused) == 1 and "eventops:exempt=true" in (refused[0].result or "")
