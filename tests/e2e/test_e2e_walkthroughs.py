"""The README's demo walkthroughs, step by step, against moto and the Slack fake."""

from __future__ import annotations

from tests.e2e.conftest import APPROVER, APPROVER2, OPERATOR, OUTSIDER, Ops, find_message

REVOKE = "Revoke open ingress rule"
ISOLATE = "Isolate instance (quarantine security group)"


def test_revoke_verified_then_undo(ops: Ops) -> None:
    prod = ops.sb.estate.prod
    assert ops.ingress_rules(prod.security_group_id), "the open rule is there at start"
    alert = ops.wait_for(lambda s: find_message(s, prod.security_group_id))
    ops.click(OPERATOR, alert, REVOKE)

    def verified(snap):
        msg = next(m for m in snap["messages"] if m["ts"] == alert["ts"])
        reply = next((r for r in ops.replies(snap, alert["ts"]) if "verified" in str(r)), None)
        return msg["edited"] and "succeeded" in str(msg["blocks"]) and reply

    reply = ops.wait_for(verified)
    assert ops.ingress_rules(prod.security_group_id) == [], "the rule is gone in moto"
    ops.audited("succeeded", remediation="ec2.revoke-ingress")

    undo_msg = reply if "Undo" in str(reply["blocks"]) else ops.message(alert["ts"])
    ops.click(OPERATOR, undo_msg, "Undo")
    ops.wait_for(lambda s: any("undone" in str(r).lower() for r in ops.replies(s, alert["ts"])) or None)
    rules = ops.ingress_rules(prod.security_group_id)
    assert any(r.get("CidrIpv4") == "0.0.0.0/0" and r["FromPort"] == 22 for r in rules), "the rule is back"
    ops.audited("undone")


def test_high_needs_two_distinct_approvers(ops: Ops) -> None:
    alert = ops.wait_for(lambda s: find_message(s, "SSH brute force"))
    ops.click(OPERATOR, alert, ISOLATE)
    request = ops.wait_for(
        lambda s: next((m for m in ops.replies(s, alert["ts"]) if "Approve" in str(m["blocks"])), None)
    )
    ops.click(OPERATOR, request, "Approve")
    ops.said_to(OPERATOR, "you requested this change")
    ops.click(OUTSIDER, request, "Approve")
    ops.said_to(OUTSIDER, "not an approver")
    ops.click(APPROVER, request, "Approve")
    ops.said_to(APPROVER, "(1/2)")
    ops.click(APPROVER, request, "Approve")
    ops.said_to(APPROVER, "already approved")
    ops.click(APPROVER2, request, "Approve")
    ops.wait_for(
        lambda s: any("Isolate instance" in r["text"] and "succeeded" in r["text"] for r in ops.replies(s, alert["ts"]))
    )
    ops.audited("succeeded", remediation="ec2.isolate-instance")


def test_undo_of_a_high_change_needs_two_approvers_too(ops: Ops) -> None:
    """Undo follows the rules of the change: the isolation above is undone only after two approvals."""
    alert = ops.wait_for(lambda s: find_message(s, "SSH brute force"))

    def outcome(snap):
        return next((r for r in ops.replies(snap, alert["ts"]) if "eventops:undo" in str(r["blocks"])), None)

    reply = ops.wait_for(outcome)  # the isolation of test_high_needs_two_distinct_approvers
    ops.click(OUTSIDER, reply, "Undo")
    ops.said_to(OUTSIDER, "Not allowed")
    ops.click(OPERATOR, reply, "Undo")
    request = ops.wait_for(
        lambda s: next((m for m in ops.replies(s, alert["ts"]) if "Approve undo" in str(m["blocks"])), None)
    )
    edited = ops.message(reply["ts"])
    assert "eventops:undo" not in str(edited["blocks"]) and "Undo available until" not in str(edited["blocks"])
    ops.click(APPROVER, request, "Approve undo")
    ops.said_to(APPROVER, "(1/2)")
    assert not any("undone" in str(r).lower() for r in ops.replies(ops.console.messages(), alert["ts"]))
    ops.click(APPROVER2, request, "Approve undo")
    ops.wait_for(lambda s: any("undone" in str(r).lower() for r in ops.replies(s, alert["ts"])) or None)
    ops.audited("undone", remediation="ec2.isolate-instance")
