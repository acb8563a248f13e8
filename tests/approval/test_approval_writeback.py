"""Dismissing a Security Hub / GuardDuty alert writes the decision back to the source."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from bot.models import Proposal, ProposalState, Risk
from tests.approval.world import ACCOUNT, ALICE, BOB, CHANNEL, REGION, make_policy


def _write_backs(world) -> list[dict]:
    """The queued jobs but the dismissal's own message job (its audit record, the message update)."""
    return [j for j in world.queued_jobs() if j["kind"] != "message"]


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
    world.dismiss(ALICE, "false_positive", "scanner test host")
    assert world.rt.store.get_proposal(p.id).state == ProposalState.DISMISSED
    queued = world.rt.store.get_proposal(hub.id)
    assert queued.state == ProposalState.APPROVED
    assert queued.params["status"] == "SUPPRESSED"
    assert queued.params["note"] == "Dismissed in Slack by @alice (U0ALICE): False positive: scanner test host"
    assert queued.requester.user_id == ALICE
    assert [j["proposal_id"] for j in _write_backs(world)] == [hub.id]
    [message_job] = [j for j in world.queued_jobs() if j["kind"] == "message"]
    assert "writing back" in message_job["status"] and message_job["audit"]["outcome"] == "DISMISSED"
    world.drain()  # the write-back, then the message job (its audit record)
    [dismissed] = [e for e in world.audit() if e.outcome == "DISMISSED"]
    assert dismissed.result == "reason: False positive: scanner test host"
    assert dismissed.actor.user_id == ALICE and dismissed.params == {
        "reason": "false_positive",
        "note": "scanner test host",
    }


def test_dismiss_by_someone_who_may_not_write_back_only_dismisses(world):
    world.rt.config.policy = make_policy(tiers={Risk.MEDIUM: make_policy().tiers[Risk.MEDIUM]})  # no LOW tier
    p, hub = _with_finding_proposal(world)
    world.dismiss(ALICE, "accepted_risk")
    assert world.rt.store.get_proposal(hub.id).state == ProposalState.DISMISSED
    assert _write_backs(world) == []


def test_fixed_elsewhere_resolves_the_finding(world):
    p, hub = _with_finding_proposal(world)
    world.dismiss(ALICE, "fixed_elsewhere", "patched by the platform team")
    queued = world.rt.store.get_proposal(hub.id)
    assert queued.state == ProposalState.APPROVED and queued.params["status"] == "RESOLVED"
    assert "Fixed elsewhere: patched by the platform team" in queued.params["note"]


def _with_guardduty_proposal(world) -> Proposal:
    world.post_alert()
    now = datetime.now(UTC)
    gd = Proposal(
        id=uuid.uuid4().hex,
        alert_id=world.alert.id,
        fingerprint=world.alert.fingerprint,
        remediation="guardduty.archive-finding",
        params={"detector_id": "d-1", "finding_id": "f-1"},
        risk=Risk.LOW,
        account=ACCOUNT,
        region=REGION,
        channel=CHANNEL,
        message_ts=world.message_ts,
        created_at=now,
        expires_at=now + timedelta(hours=1),
    )
    world.rt.store.put_proposal(gd)
    world.rt.store.put_alert(world.alert, channel=CHANNEL, ts=world.message_ts, proposal_ids=[gd.id])
    return gd


def test_guardduty_is_archived_for_a_false_positive_not_when_fixed_elsewhere(world):
    gd = _with_guardduty_proposal(world)
    world.dismiss(ALICE, "false_positive")
    assert world.rt.store.get_proposal(gd.id).state == ProposalState.APPROVED
    assert [j["proposal_id"] for j in _write_backs(world)] == [gd.id]


def test_guardduty_fixed_elsewhere_stays_active(world):
    gd = _with_guardduty_proposal(world)
    world.dismiss(ALICE, "fixed_elsewhere")
    assert world.rt.store.get_proposal(gd.id).state == ProposalState.DISMISSED
    assert _write_backs(world) == []


def test_the_form_needs_a_reason_and_nothing_is_decided_before(world):
    p, hub = _with_finding_proposal(world)
    world.click("eventops:dismiss", world.alert.id, ALICE)
    [view] = world.slack.open_views(ALICE)
    assert view["callback_id"] == "eventops:modal:dismiss"
    assert world.rt.store.dismissed_by(world.alert.id) is None, "the click alone decides nothing"
    resp = world.submit_view({"note": "no reason picked"}, ALICE)
    assert json.loads(resp["body"]) == {
        "response_action": "errors",
        "errors": {"reason": "Pick why this is not a problem."},
    }
    assert view["open"] and world.rt.store.dismissed_by(world.alert.id) is None


def test_a_forged_or_foreign_form_changes_nothing(world):
    p, hub = _with_finding_proposal(world)
    world.click("eventops:dismiss", world.alert.id, ALICE)
    [view] = world.slack.open_views(ALICE)
    view["user"] = BOB  # BOB submits ALICE's form (its sealed state names ALICE)
    world.submit_view({"reason": "false_positive"}, BOB)
    assert "no longer valid" in str(world.slack.open_views(BOB)[0]["blocks"]), "told, in the modal"
    world.click("eventops:dismiss", world.alert.id, ALICE)
    view = world.slack.open_views(ALICE)[-1]
    view["private_metadata"] = "x" + view["private_metadata"][1:]  # tampered
    world.submit_view({"reason": "false_positive"}, ALICE)
    assert world.rt.store.dismissed_by(world.alert.id) is None
    assert world.queued_jobs() == []
