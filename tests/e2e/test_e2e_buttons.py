"""Acknowledge, Snooze and Dismiss on a posted alert: signed block_actions over HTTP."""

from __future__ import annotations

import time

from tests.e2e.conftest import OPERATOR, OUTSIDER, Ops, clean, find_message


def _alert(ops: Ops, text: str) -> dict:
    return ops.wait_for(lambda s: find_message(s, text))


def _edited(ops: Ops, ts: str, word: str) -> dict:
    return ops.wait_for(lambda s: next((m for m in s["messages"] if m["ts"] == ts and word in str(m["blocks"])), None))


def test_outsider_cannot_dismiss(ops: Ops) -> None:
    """README, demo users: the outsider may do nothing; every click is refused, with the reason."""
    alert = _alert(ops, "Alarm:")
    ops.click(OUTSIDER, alert, "Dismiss")
    time.sleep(2)  # the click's outcome is written before the ack; give the message update time too
    done = [e for e in ops.audit() if e.outcome == "DISMISSED" and e.actor.user_id == OUTSIDER]
    assert not done, "the outsider's Dismiss was carried out and audited as DISMISSED"
    assert ops.message(alert["ts"])["blocks"] == alert["blocks"], "the alert message was changed"
    refusal = ops.wait_for(lambda s: next((e for e in s["ephemerals"] if e["user"] == OUTSIDER), None), 5)
    assert any(w in refusal["text"].lower() for w in ("not allowed", "may not", "not permitted")), refusal["text"]


def _remediations(message: dict) -> list[str]:
    return [
        e["action_id"]
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("eventops:remediate:")
    ]


def test_acknowledge_keeps_the_remediation_buttons(ops: Ops) -> None:
    """README: Acknowledge ("I'm on it") keeps them."""
    alert = _alert(ops, "SSH brute force")
    offered = _remediations(alert)
    assert offered
    ops.click(OPERATOR, alert, "Acknowledge")
    edited = _edited(ops, alert["ts"], "cknowledged")
    assert _remediations(edited) == offered, "same buttons, same order"


def test_snooze_hides_the_remediation_buttons(ops: Ops) -> None:
    """README: Snooze ("not now") hides them until it ends."""
    alert = _alert(ops, "Alarm:")
    assert _remediations(alert), "the CPU alarm offers Reboot"
    ops.click(OPERATOR, alert, "Snooze 1 hour")
    edited = _edited(ops, alert["ts"], "Snoozed by")  # the worker's message job (the menu says "Snooze" too)
    assert _remediations(edited) == []
    assert ops.sb.runtime().store.snoozes(), "the snooze is stored"
    ops.audited("snoozed")
    assert "1h" in clean(ops.command(OPERATOR, "snoozes")) or ops.sb.runtime().store.snoozes()


def test_dismiss_and_status_no_longer_counts_it(ops: Ops) -> None:
    alert = _alert(ops, "opened to the internet")
    ops.click(OPERATOR, alert, "Dismiss")
    assert ops.submit(OPERATOR, {"reason": "accepted_risk", "note": "bastion, by design"})["closed"]
    assert _remediations(_edited(ops, alert["ts"], "ismissed")) == []
    ops.audited("dismissed")
    alert_id = ops.sb.fake.workspace.channel(alert["channel"]).find(alert["ts"]).metadata["event_payload"]["alert_id"]
    status = clean(ops.command(OPERATOR, "status"))
    assert alert_id not in status
    # three demo alerts; one dismissed → at most two open
    assert "3 open" not in status, status[:600]
