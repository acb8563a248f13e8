"""Sub-commands over the EventOps table: status, alert, audit, snooze/snoozes/unsnooze, run."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from commands_support import ALICE, BOB, MALLORY, texts

from bot.commands import dispatch
from bot.commands.status import open_problems
from bot.models import Actor, Alert, AuditEntry, Proposal, ProposalState, Resource, Risk, Severity


def make_alert(aid: str, severity: Severity = Severity.HIGH, fp: str | None = None, active: bool = True, **kw) -> Alert:
    return Alert(
        id=aid,
        fingerprint=fp or Alert.make_fingerprint("test", aid),
        source_kind="guardduty",
        source="aws.guardduty",
        detail_type="GuardDuty Finding",
        title=kw.pop("title", f"Problem {aid}"),
        severity=severity,
        account="111111111111",
        region="eu-west-1",
        active=active,
        resources=[Resource(type="AwsEc2Instance", id="i-0abc1234def567890", region="eu-west-1")],
        **kw,
    )


# --- status ---------------------------------------------------------------------------------------


def test_open_problems_keeps_the_newest_per_fingerprint():
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    old = make_alert("a1", fp="f1", time=t0)
    resolved = make_alert("a2", fp="f1", active=False, time=t0 + timedelta(minutes=5))
    other = make_alert("a3", fp="f2", time=t0)
    assert [a.id for a in open_problems([old, resolved, other])] == ["a3"]


def test_status(rt):
    store = rt.store
    store.put_alert(make_alert("a1", Severity.CRITICAL), channel="C0SEC", ts="1.1")
    store.put_alert(make_alert("a2", Severity.HIGH), channel="C0SEC", ts="1.2")
    store.put_alert(make_alert("a3", Severity.HIGH), channel="C0OPS", ts="1.3")
    store.put_alert(make_alert("a4", Severity.LOW, active=False), channel="C0OPS", ts="1.4")
    store.put_proposal(
        Proposal(
            id="p1",
            alert_id="a1",
            fingerprint="f",
            remediation="ec2.stop-instance",
            state=ProposalState.RUNNING,
            account="111111111111",
        )
    )
    store.put_proposal(Proposal(id="p2", alert_id="a2", fingerprint="f", remediation="ec2.stop-instance"))
    store.snooze("f" * 32, time.time() + 3600, ALICE, reason="deploy")

    body = texts(dispatch("status", ALICE, "C0OPS", rt))
    assert "3 problems" in body
    assert "Critical *1*" in body and "High *2*" in body and "Low" not in body
    assert "<#C0SEC> 2" in body and "<#C0OPS> 1" in body
    assert "1 running, 1 waiting" in body and "`p1`" in body
    assert "*Snoozes:* 1 active" in body
    assert "Kill switch:* off" in body


def test_status_leaves_out_dismissed_and_fixed_alerts_and_their_proposals(rt):
    store = rt.store
    t0 = datetime.now(UTC) - timedelta(hours=1)
    for aid in ("open1", "dismissed1", "fixed1", "fixed-then-back"):
        store.put_alert(make_alert(aid, Severity.HIGH, time=t0), channel="C0OPS", ts=f"1.{len(aid)}")
    # Dismissed from Slack: the first-to-dismiss record, and an APPROVED write-back still queued
    store.claim_dismissal("dismissed1", BOB)
    store.put_proposal(
        Proposal(
            id="pd",
            alert_id="dismissed1",
            fingerprint="f",
            remediation="ec2.stop-instance",
            state=ProposalState.APPROVED,
        )
    )
    # Fixed by a verified remediation; another offer on the same alert is left unclicked
    done = Proposal(id="pf", alert_id="fixed1", fingerprint="f", remediation="ec2.stop-instance")
    store.put_proposal(done.model_copy(update={"state": ProposalState.SUCCEEDED, "verification": "verified"}))
    store.put_proposal(Proposal(id="pf2", alert_id="fixed1", fingerprint="f", remediation="ec2.reboot-instance"))
    # Fixed an hour ago, but the problem came back since: open again
    store.put_proposal(
        Proposal(
            id="pb",
            alert_id="fixed-then-back",
            fingerprint="f",
            remediation="ec2.stop-instance",
            state=ProposalState.SUCCEEDED,
            updated_at=t0 - timedelta(minutes=5),
        )
    )
    store.put_proposal(Proposal(id="po", alert_id="open1", fingerprint="f", remediation="ec2.stop-instance"))

    body = texts(dispatch("status", ALICE, "C0OPS", rt))
    assert "(2 problems" in body and "High *2*" in body
    assert "<#C0OPS> 2" in body
    assert "0 running, 1 waiting" in body


def test_status_shows_kill_switch(make_rt):
    rt = make_rt({"kill_switch": True})
    assert ":octagonal_sign: ON" in texts(dispatch("status", ALICE, "C0OPS", rt))


# --- alert ----------------------------------------------------------------------------------------


def test_alert_is_shown_again_with_its_buttons(rt):
    alert = make_alert("a-77", title="Port probe on <i-0abc> & friends")
    rt.store.put_alert(alert, channel="C0SEC", ts="171.1")
    rt.store.put_proposal(
        Proposal(
            id="p-stop",
            alert_id="a-77",
            fingerprint=alert.fingerprint,
            remediation="ec2.stop-instance",
            params={"instance_id": "i-0abc1234def567890"},
            account="111111111111",
            region="eu-west-1",
            risk=Risk.MEDIUM,  # as the catalog declares it: MEDIUM and HIGH buttons confirm
        )
    )
    rt.store.put_proposal(
        Proposal(
            id="p-term",
            alert_id="a-77",
            fingerprint=alert.fingerprint,
            remediation="ec2.terminate-instance",
            params={"instance_id": "i-0abc1234def567890"},
            risk=Risk.HIGH,
        )
    )
    rt.store.put_proposal(
        Proposal(
            id="p-done",
            alert_id="a-77",
            fingerprint="f",
            remediation="ec2.stop-instance",
            state=ProposalState.SUCCEEDED,
        )
    )
    rt.store.put_proposal(Proposal(id="p-other", alert_id="a-other", fingerprint="f", remediation="ec2.stop-instance"))

    reply = dispatch("alert a-77", ALICE, "C0OPS", rt)
    body = texts(reply)
    assert "Port probe on &lt;i-0abc&gt; &amp; friends" in body
    assert "Originally posted in <#C0SEC>" in body
    actions = [b for b in reply.blocks if b["type"] == "actions"]
    assert len(actions) == 1
    values = {(e["action_id"], e.get("value")) for e in actions[0]["elements"]}
    assert ("eventops:remediate:ec2.stop-instance", "p-stop") in values
    assert ("eventops:remediate:ec2.terminate-instance", "p-term") in values
    assert ("eventops:ack", "a-77") in values and ("eventops:dismiss", "a-77") in values
    assert not any(v in ("p-done", "p-other") for _, v in values)
    stop = next(e for e in actions[0]["elements"] if e.get("value") == "p-stop")
    assert "Would stop i-0abc1234def567890" in stop["confirm"]["text"]["text"]
    term = next(e for e in actions[0]["elements"] if e.get("value") == "p-term")
    assert term["style"] == "danger"
    assert not reply.public


def test_alert_not_found(rt):
    body = texts(dispatch("alert nope", ALICE, "C0OPS", rt))
    assert "alert nope not found" in body


def test_resolved_alert_has_no_buttons(rt):
    rt.store.put_alert(make_alert("a-5", active=False))
    reply = dispatch("alert a-5", ALICE, "C0OPS", rt)
    assert not [b for b in reply.blocks if b["type"] == "actions"]


# --- audit ----------------------------------------------------------------------------------------


def _audit(rt, n: int, resource: str, actor: Actor, outcome: str = "SUCCEEDED") -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    for i in range(n):
        rt.store.append_audit(
            AuditEntry(
                id=f"{actor.user_id}-{resource}-{i}",
                at=base + timedelta(minutes=i),
                action="remediate",
                outcome=outcome,
                actor=actor,
                remediation="ec2.stop-instance",
                resource=resource,
                result="Stopped <it> & more",
            )
        )


def test_audit_recent_by_resource_by_user_and_n(rt):
    _audit(rt, 12, "i-0aaa", ALICE)
    _audit(rt, 3, "i-0bbb", BOB, outcome="FAILED")

    body = texts(dispatch("audit", ALICE, "C0OPS", rt))
    assert body.count("`ec2.stop-instance`") == 10
    assert "more records exist" in body and "`/ops audit  50`" not in body
    assert "Stopped &lt;it&gt; &amp; more" in body

    body = texts(dispatch("audit i-0bbb", ALICE, "C0OPS", rt))
    assert body.count("`ec2.stop-instance`") == 3 and ":x:" in body and "i-0aaa" not in body

    body = texts(dispatch("audit <@UBOB00001|bob> 2", ALICE, "C0OPS", rt))
    assert body.count("`ec2.stop-instance`") == 2 and "by <@UBOB00001>" in body and "UALICE001" not in body

    body = texts(dispatch("audit 50", ALICE, "C0OPS", rt))
    assert body.count("`ec2.stop-instance`") == 15 and "more records exist" not in body

    assert "No audit records" in texts(dispatch("audit i-0zzz", ALICE, "C0OPS", rt))


# --- snoozes --------------------------------------------------------------------------------------


def test_snooze_an_alert_lists_and_unsnoozes(make_rt):
    rt = make_rt({"routing": {"rules": [{"name": "noisy-rule", "channel": "#ops"}]}})
    alert = make_alert("a-9")
    rt.store.put_alert(alert)

    body = texts(dispatch('snooze a-9 4h "deploy in progress"', ALICE, "C0OPS", rt))
    assert ":zzz: Snoozed alert `a-9`" in body and "deploy in progress" in body
    assert rt.store.snoozed_until(alert.fingerprint) == pytest.approx(time.time() + 4 * 3600, abs=60)

    dispatch("snooze noisy-rule 30m", ALICE, "C0OPS", rt)
    assert rt.store.snoozed_until("rule:noisy-rule") is not None
    dispatch("snooze " + "ab" * 16 + " 1d", ALICE, "C0OPS", rt)
    assert rt.store.snoozed_until("ab" * 16) is not None

    body = texts(dispatch("snoozes", MALLORY, "C0OPS", rt))  # reading is for everyone
    assert body.count(":zzz:") == 3 and "by <@UALICE001>" in body and "deploy in progress" in body

    snooze_id = next(s["id"] for s in rt.store.snoozes() if s["target"] == "rule:noisy-rule")
    assert "You are not allowed" in texts(dispatch(f"unsnooze {snooze_id}", MALLORY, "C0OPS", rt))
    assert "ended" in texts(dispatch(f"unsnooze {snooze_id}", ALICE, "C0OPS", rt))
    assert rt.store.snoozed_until("rule:noisy-rule") is None
    assert "No snooze `nope`" in texts(dispatch("unsnooze nope", ALICE, "C0OPS", rt))


def test_snooze_unknown_target(rt):
    body = texts(dispatch("snooze what-is-this 1h", ALICE, "C0OPS", rt))
    assert "is not an alert id, a fingerprint or a routing rule" in body
    assert rt.store.snoozes() == []


# --- run ------------------------------------------------------------------------------------------


# /ops run acts only in a configured account with a role (bot.aws)
ONE_ACCOUNT = {
    "accounts": [
        {
            "id": "111111111111",
            "alias": "prod",
            "role_arn": "arn:aws:iam::111111111111:role/eventops-member",
            "regions": ["eu-west-1"],
        }
    ]
}


def test_run_argument_errors(make_rt):
    rt = make_rt({"accounts": [*ONE_ACCOUNT["accounts"], {"id": "222222222222", "alias": "stage"}]})
    assert "Did you mean `ec2.stop-instance`" in texts(
        dispatch("run ec2.stop-instanse i-0abc1234def567890", ALICE, "C", rt)
    )
    assert "Which account?" in texts(dispatch("run ec2.stop-instance i-0abc1234def567890", ALICE, "C", rt))
    assert "bad parameter instance_id" in texts(
        dispatch("run ec2.stop-instance not-an-id account=prod", ALICE, "C", rt)
    )
    assert "is not key=value" in texts(
        dispatch("run ec2.stop-instance i-0abc1234def567890 account=prod oops", ALICE, "C", rt)
    )
    assert "Account `nope` is not configured" in texts(
        dispatch("run ec2.stop-instance i-0abc1234def567890 account=nope", ALICE, "C", rt)
    )
    assert "222222222222 is configured in EventOps without a role_arn" in texts(
        dispatch("run ec2.stop-instance i-0abc1234def567890 account=stage", ALICE, "C", rt)
    )
    assert rt.store.proposals_in({ProposalState.PROPOSED}) == []  # a usage error proposes nothing


def test_run_refused_by_risk_tier(make_rt):
    rt = make_rt(ONE_ACCOUNT)
    # BOB may act at HIGH only: sees /ops run, but a MEDIUM remediation is refused before any proposal
    body = texts(dispatch("run ec2.stop-instance i-0abc1234def567890", BOB, "C0OPS", rt))
    assert "You may not run `ec2.stop-instance` (MEDIUM risk)" in body
    assert rt.store.proposals_in({ProposalState.PROPOSED}) == []


def test_audit_verify_intact_and_empty(rt):
    assert "No audit records in the last 7 days" in texts(dispatch("audit --verify", ALICE, "C0OPS", rt))
    _audit(rt, 3, "i-0aaa", ALICE)
    body = texts(dispatch("audit —verify 2", ALICE, "C0OPS", rt))  # a Slack client's em dash
    assert "The chain holds: 3 records over 1 of the last 2 days" in body
    assert "between 1 and 90" in texts(dispatch("audit --verify 0", ALICE, "C0OPS", rt))
