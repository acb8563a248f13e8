"""The buttons an alert message carries: one row, at most one primary, HIGH ones danger, one
Snooze menu, and confirm dialogs that read as sentences within Slack's limits."""

from __future__ import annotations

import re

import pytest

from bot.messages import alert_buttons, plan_text, remediation_button
from bot.models import Proposal, Risk
from bot.remediations import remediations
from bot.slack.blocks import MAX_CONFIRM_BUTTON, MAX_CONFIRM_TEXT


def _proposal(name: str, risk: Risk | None = None) -> Proposal:
    rem = remediations[name]
    return Proposal(
        id=f"p-{name}",
        alert_id="a-1",
        fingerprint="f",
        remediation=name,
        params=rem.example_params(),
        risk=risk or rem.risk,
        account="111122223333",
        region="eu-west-1",
    )


@pytest.mark.parametrize("name", sorted(str(n) for n in remediations), ids=str)
def test_confirm_dialogs_read_as_sentences_within_slacks_limits(name: str) -> None:
    p = _proposal(name, Risk.HIGH)
    button = remediation_button(p)
    assert button is not None and button.confirm is not None
    confirm = button.confirm
    assert len(confirm.confirm) <= MAX_CONFIRM_BUTTON
    title = remediations[name].title
    assert title.startswith(confirm.confirm), "the label is the title, cut at a word"
    assert title[len(confirm.confirm) : len(confirm.confirm) + 1] in ("", " "), f"cut mid-word: {confirm.confirm!r}"
    assert not confirm.confirm.endswith((" and", " or", "(")), confirm.confirm
    text = plan_text(p)
    assert not re.search(r"<[a-z-]+>", text), f"a placeholder in the plan: {text}"
    assert all(s.strip().endswith(".") for s in re.split(r"(?<=\.) (?=Would)", text))
    assert len(confirm.text) <= MAX_CONFIRM_TEXT


def test_one_row_with_at_most_one_primary_and_high_as_danger() -> None:
    proposals = [
        _proposal("ec2.isolate-instance"),  # HIGH
        _proposal("ec2.stop-instance"),  # MEDIUM: the primary
        _proposal("ec2.snapshot-volumes"),  # LOW
    ]
    elements = [e.to_block() for e in alert_buttons("a-1", proposals)]
    styles = {e["action_id"].rsplit(":", 1)[-1]: e.get("style") for e in elements}
    assert list(styles.values()).count("primary") == 1
    assert styles["ec2.stop-instance"] == "primary"  # the first (catalog order) that is not HIGH
    assert styles["ec2.isolate-instance"] == "danger"
    assert styles["ec2.snapshot-volumes"] is None
    assert [e["type"] for e in elements].count("static_select") == 1
    assert [e["action_id"] for e in elements][-3:] == ["eventops:ack", "eventops:snooze", "eventops:dismiss"]
    assert len(elements) <= 7, "one row: remediations, Acknowledge, the Snooze menu, Dismiss"


def test_only_high_remediations_means_no_primary() -> None:
    elements = [e.to_block() for e in alert_buttons("a-1", [_proposal("ec2.isolate-instance")])]
    assert [e.get("style") for e in elements].count("primary") == 0
