"""Every /ops sub-command of the README table, signed slash-command forms over HTTP, for the demo users."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.e2e.conftest import APPROVER, OPERATOR, OUTSIDER, PLACEHOLDER, Ops, clean, find_message


def everything_said(ops: Ops, user: str, text: str, settle: float = 1.5) -> list[dict[str, Any]]:
    """``/ops <text>`` as ``user``; every ephemeral it produced (placeholders included), once quiet."""
    before = len(ops.ephemerals(user))
    ops.command(user, text)
    time.sleep(settle)  # a deferred worker answer or a second post would land by now
    return ops.ephemerals(user)[before:]


def test_help_lists_the_commands(ops: Ops) -> None:
    answer = clean(ops.command(OPERATOR, "help"))
    for sub in ("whoami", "status", "instances", "audit", "snooze", "run", "doctor"):
        assert sub in answer, sub
    assert "instances" in clean(ops.command(OPERATOR, "help instances"))


def test_whoami_names_the_user_and_the_tiers(ops: Ops) -> None:
    answer = clean(ops.command(OPERATOR, "whoami"))
    assert OPERATOR in answer and "MEDIUM" in answer and "HIGH" in answer
    assert OUTSIDER in clean(ops.command(OUTSIDER, "whoami"))


def test_status_counts_open_alerts(ops: Ops) -> None:
    answer = clean(ops.command(OPERATOR, "status"))
    assert re.search(r"\d", answer) and ("HIGH" in answer or "open" in answer.lower()), answer[:400]


def test_alarms_lists_the_demo_alarms(ops: Ops) -> None:
    answer = clean(ops.command(OPERATOR, "alarms"))
    assert "ALARM" in answer or "CPU" in answer, answer[:400]
    assert "staging" in answer or "210987654321" in answer, "both accounts are asked"


def test_findings_answers(ops: Ops) -> None:
    answer = clean(ops.command(OPERATOR, "findings"))
    assert answer.strip(), "an answer, even if moto holds no findings"


def test_instances_lists_both_accounts(ops: Ops) -> None:
    answer = clean(ops.command(OPERATOR, "instances"))
    assert "web-1" in answer and "web-staging" in answer
    filtered = clean(ops.command(OPERATOR, "instances team=platform"))
    assert "api-1" in filtered and "web-1" not in filtered


def test_health_answers_without_html(ops: Ops) -> None:
    answer = clean(ops.command(OPERATOR, "health"))
    assert "health" in answer.lower() or "support plan" in answer.lower(), answer[:400]


def test_alert_shows_an_alert_again_with_its_buttons(ops: Ops) -> None:
    alert = find_message(ops.console.messages(), "SSH brute force")
    alert_id = ops.sb.fake.workspace.channel(alert["channel"]).find(alert["ts"]).metadata["event_payload"]["alert_id"]
    answer = clean(ops.command(OPERATOR, f"alert {alert_id}"))
    assert "SSH brute force" in answer and "Acknowledge" in answer


def test_audit_answers(ops: Ops) -> None:
    answer = clean(ops.command(OPERATOR, "audit"))
    assert answer.strip()
    clean(ops.command(OPERATOR, f"audit <@{OPERATOR}> 5"))


def test_snooze_snoozes_unsnooze_cycle(ops: Ops) -> None:
    snap = ops.console.messages()
    alert = find_message(snap, "Alarm:")
    alert_id = ops.sb.fake.workspace.channel(alert["channel"]).find(alert["ts"]).metadata["event_payload"]["alert_id"]
    clean(ops.command(OPERATOR, f"snooze {alert_id} 2h planned maintenance"))
    snoozes = ops.sb.runtime().store.snoozes()
    assert snoozes, "the snooze is in the store"
    listed = clean(ops.command(OPERATOR, "snoozes"))
    assert "planned maintenance" in listed
    clean(ops.command(OPERATOR, f"unsnooze {snoozes[0]['id']}"))
    assert ops.sb.runtime().store.snoozes() == [], "unsnooze ended it"


@pytest.mark.parametrize("text", ["snooze security-critical 1h", "unsnooze whatever", "run ec2.stop-instance i-0abc"])
def test_mutating_commands_refuse_the_outsider(ops: Ops, text: str) -> None:
    before = len(ops.sb.runtime().store.snoozes())
    answer = clean(ops.command(OUTSIDER, text))
    assert "not allowed" in answer.lower() or "may not" in answer.lower() or "permission" in answer.lower(), answer
    assert len(ops.sb.runtime().store.snoozes()) == before


def test_approver_may_read(ops: Ops) -> None:
    assert "web-1" in clean(ops.command(APPROVER, "instances"))


def test_doctor_has_no_false_warnings(ops: Ops) -> None:
    answer = clean(ops.command(OPERATOR, "doctor"))
    assert "table" in answer.lower()
    assert "approver" not in answer.lower() or ":warning:" not in answer, answer[:800]


@pytest.mark.parametrize("text", ["audit", "snoozes"])
def test_dynamodb_reads_answer_without_a_placeholder(ops: Ops, text: str) -> None:
    said = everything_said(ops, OPERATOR, text)
    assert len(said) == 1, [e["text"] for e in said]
    assert not said[0]["text"].startswith(PLACEHOLDER), said[0]["text"]
    clean(said[0]["text"] + str(said[0]["blocks"]))


def test_a_usage_error_is_the_one_answer(ops: Ops) -> None:
    said = everything_said(ops, OPERATOR, "instances eu-west-9")
    assert len(said) == 1, [e["text"] for e in said]
    answer = clean(said[0]["text"] + str(said[0]["blocks"]))
    assert "`eu-west-9` is not a configured account or region." in answer and PLACEHOLDER not in answer


def test_a_fan_out_is_acked_with_the_placeholder_then_answered(ops: Ops) -> None:
    said = everything_said(ops, OPERATOR, "instances")
    placeholders = [e for e in said if e["text"].startswith(PLACEHOLDER)]
    answers = [e for e in said if not e["text"].startswith(PLACEHOLDER)]
    assert len(placeholders) == 1 and len(answers) == 1, [e["text"] for e in said]
    assert "web-1" in answers[0]["text"] + str(answers[0]["blocks"])
