"""The /ops run form from a remediation's params model: types → inputs, defaults → initial values,
pydantic errors → field errors by block id; and the Slack fake accepts every form it builds."""

from __future__ import annotations

import pytest

from bot.commands.forms import form_fields, missing_required, params_from_form
from bot.remediations import remediations
from bot.sandbox.slack_fake import _check_view
from bot.slack.modals import dismiss_view, params_view, seal, snooze_view, unseal


def _inputs(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def test_types_defaults_and_choices_become_inputs() -> None:
    hub = remediations["securityhub.set-workflow-status"]
    fields = {f.name: f for f in form_fields(hub, {"finding_id": "arn:f"})}
    assert fields["finding_id"].initial == "arn:f" and fields["finding_id"].required
    assert fields["status"].kind == "select" and fields["status"].initial == "RESOLVED"
    assert list(fields["status"].choices) == ["NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"]
    assert fields["note"].required is False
    view = params_view("Set status", "summary", list(fields.values()), "meta")
    inputs = _inputs(view)
    assert inputs["status"]["element"]["type"] == "static_select"
    assert inputs["status"]["element"]["initial_option"]["value"] == "RESOLVED"
    assert inputs["finding_id"]["element"]["initial_value"] == "arn:f"
    assert inputs["note"]["optional"] is True
    ports = {f.name: f for f in form_fields(remediations["ec2.revoke-ingress"], {})}["ports"]
    assert ports.initial == "22" and not ports.required  # list[int] → comma-separated text
    desired = {f.name: f for f in form_fields(remediations["autoscaling.set-desired-capacity"], {})}
    assert any(f.kind == "number" for f in desired.values())


def test_submitted_values_are_validated_by_the_model() -> None:
    stop = remediations["ec2.stop-instance"]
    assert missing_required(stop, {}) and not missing_required(stop, {"instance_id": "i-0123456789abcdef0"})
    parsed, errors = params_from_form(stop, {"instance_id": "nope"})
    assert parsed is None and list(errors) == ["instance_id"]
    parsed, errors = params_from_form(stop, {})
    assert errors == {"instance_id": "Required."}
    parsed, errors = params_from_form(stop, {"instance_id": "i-0123456789abcdef0"})
    assert errors == {} and parsed.instance_id == "i-0123456789abcdef0"
    revoke = remediations["ec2.revoke-ingress"]
    parsed, errors = params_from_form(revoke, {"group_id": "sg-0123456789abcdef0", "ports": "22, 3389"})
    assert errors == {} and parsed.ports == [22, 3389]
    _, errors = params_from_form(revoke, {"group_id": "sg-0123456789abcdef0", "ports": "22, ssh"})
    assert list(errors) == ["ports"]


@pytest.mark.parametrize("name", sorted(str(n) for n in remediations.keys()))
def test_every_remediation_form_is_one_slack_accepts(name: str) -> None:
    rem = remediations[name]
    _check_view(params_view(rem.title, "s", form_fields(rem, {}), seal("s", {"kind": "run"})))


def test_dismiss_and_snooze_forms_pass_the_fake_and_the_seal_holds() -> None:
    meta = seal("secret", {"kind": "dismiss", "alert": "a-1", "user": "U1"})
    _check_view(dismiss_view("t" * 3000, meta))
    _check_view(snooze_view("title", meta, 24))
    assert unseal("secret", meta)["alert"] == "a-1"
    assert unseal("secret", meta[:-1] + ("0" if meta[-1] != "0" else "1")) is None
    assert unseal("secret", meta, now=10**12) is None  # expired
