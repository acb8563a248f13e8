"""Dismissing a Security Hub / GuardDuty alert writes the decision back to the source."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from bot.models import Proposal, ProposalState, Risk
from tests.approval.world import ACCOUNT, ALICE, CHANNEL, REGION, make_policy


def _with_finding_proposal(world) -> tuple[Proposal, Proposal]:
    p = world.post_alert()
    now = datetime.now(UTC)
    hub = Proposal(
        id=uuid.uuid4().hex,
        alert_id=world.alert.id,
        fingerprint=world.alert.fingerprint,
        remediation="securityhub.set-workflow-status",
        params={
            "finding_id": "arn:aws:securityhub:us-east-1:123:finding/abc",
            "product_arn": "arn:p",
            "status": "RESOLVED",
        },
        risk=Risk.LOW,
        account=ACCOUNT,
        region=REGION,
        channel=CHANNEL,
        message_ts=world.message_ts,
        created_at=now,
        expires_at=now + timedelta(hours=1),
    )
    world.rt.store.put_proposal(hub)
    world.rt.store.put_alert(world.alert, channel=CHANNEL, ts=world.message_ts, proposal_ids=[p.id, hub.id])
    return p, hub


def test_dismiss_suppresses_the_security_hub_finding_as_the_dismisser(world):
    p, hub = _with_finding_proposal(world)
    world.click("eventops:dismiss", world.alert.id, ALICE)
    assert world.rt.store.get_proposal(p.id).state == ProposalState.DISMISSED
    queued = world.rt.store.get_proposal(hub.id)
    assert queued.state == ProposalState.APPROVED
    assert queued.params["status"] == "SUPPRESSED"
    assert queued.requester.user_id == ALICE
    jobs = world.queued_jobs()
    assert [j["proposal_id"] for j in jobs] == [hub.id]
    assert "writing back" in str(world.message().blocks)


def test_dismiss_by_someone_who_may_not_write_back_only_dismisses(world):
    world.rt.config.policy = make_policy(tiers={Risk.MEDIUM: make_policy().tiers[Risk.MEDIUM]})  # no LOW tier
    p, hub = _with_finding_proposal(world)
    world.click("eventops:dismiss", world.alert.id, ALICE)
    assert world.rt.store.get_proposal(hub.id).state == ProposalState.DISMISSED
    assert world.queued_jobs() == []
