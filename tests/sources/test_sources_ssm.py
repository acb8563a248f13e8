"""SSM Automation and Run Command status changes: failures MEDIUM, cancelled LOW, success resolves."""

from __future__ import annotations

import pytest

from bot.models import Severity
from bot.sources import parse_event
from bot.sources.base import ParseContext
from tests.sources.source_events import load, parse

EXEC = "333ba70b-2333-48db-b17e-a5e69c6f4d1c"
CMD = "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b"


def test_failed_automation_is_medium_and_success_resolves_it() -> None:
    failed, success = parse("ssm-automation-failed"), parse("ssm-automation-success")
    assert failed.severity is Severity.MEDIUM and failed.active
    assert failed.title == "SSM Automation runcommand1: Failed"
    assert failed.problems == ["ssm:failed"]
    assert failed.resources[0].id == EXEC and failed.resources[0].name == "runcommand1"
    assert failed.fields["Runbook"] == "runcommand1" and failed.fields["Execution"] == EXEC
    assert failed.fields["Started by"] == "arn:aws:iam::123456789012:user/userName"
    assert failed.links[0].url == (
        f"https://us-east-1.console.aws.amazon.com/systems-manager/automation/execution/{EXEC}?region=us-east-1"
    )
    assert success.severity is Severity.INFO and not success.active
    assert success.problems == ["ssm:success"]
    assert success.fingerprint == failed.fingerprint


@pytest.mark.parametrize(
    "status, severity, active",
    [
        ("TimedOut", Severity.MEDIUM, True),
        ("Cancelled", Severity.LOW, True),
        ("InProgress", Severity.INFO, False),
        ("Pending", Severity.INFO, False),
    ],
)
def test_automation_status_mapping(status: str, severity: Severity, active: bool) -> None:
    raw = load("ssm-automation-failed")
    raw["detail"]["Status"] = status
    alert = parse_event(raw)
    assert (alert.severity, alert.active) == (severity, active)
    assert alert.problems == [f"ssm:{status.lower()}"]


def test_step_failure_is_its_own_message_per_step() -> None:
    step = parse("ssm-automation-step-failed")
    assert step.severity is Severity.MEDIUM and step.active
    assert step.title == "SSM Automation runcommand1, step runFixedCmds: Failed"
    assert step.fields["Step"] == "runFixedCmds" and step.fields["Action"] == "aws:runCommand"
    assert step.fingerprint != parse("ssm-automation-failed").fingerprint
    raw = load("ssm-automation-step-failed")
    raw["detail"]["Status"] = "Success"
    assert parse_event(raw).fingerprint == step.fingerprint
    raw["detail"]["StepName"] = "other"
    assert parse_event(raw).fingerprint != step.fingerprint


def test_failed_command_has_the_instance_with_tags_and_a_command_link() -> None:
    ctx = ParseContext(lookup_tags=lambda rtype, rid, acct, region: {"Name": "web-1"})
    alert = parse("ssm-command-failed", ctx)
    assert alert.severity is Severity.MEDIUM and alert.active
    assert alert.title == "SSM Run Command AWS-RunPowerShellScript on web-1: Failed"
    assert [(r.type, r.id, r.name) for r in alert.resources] == [("AwsEc2Instance", "i-abcd1111", "web-1")]
    assert alert.fields == {"Document": "AWS-RunPowerShellScript", "Command": CMD}
    assert alert.links[0].url == (
        f"https://us-east-1.console.aws.amazon.com/systems-manager/run-command/{CMD}?region=us-east-1"
    )
    raw = load("ssm-command-failed")
    raw["detail"]["status"] = "Success"
    ok = parse_event(raw)
    assert not ok.active and ok.severity is Severity.INFO and ok.fingerprint == alert.fingerprint


def test_timed_out_invocation_is_per_instance() -> None:
    alert = parse("ssm-command-invocation-timedout")
    assert alert.severity is Severity.MEDIUM and alert.active
    assert alert.problems == ["ssm:timedout"]
    assert alert.title == "SSM Run Command AWS-RunPowerShellScript on i-abcd1111: TimedOut"
    assert alert.links[0].url.endswith(f"/systems-manager/run-command/{CMD}/i-abcd1111?region=us-east-1")
    assert alert.fingerprint != parse("ssm-command-failed").fingerprint
    raw = load("ssm-command-invocation-timedout")
    raw["detail"]["instance-id"] = raw["resources"][0] = "i-0123456789abcdef0"
    assert parse_event(raw).fingerprint != alert.fingerprint


@pytest.mark.parametrize(
    "status, severity, active, problem",
    [
        ("Delivery Timed Out", Severity.MEDIUM, True, "ssm:delivery-timed-out"),
        ("Cancelled", Severity.LOW, True, "ssm:cancelled"),
        ("InProgress", Severity.INFO, False, "ssm:inprogress"),
        ("Success", Severity.INFO, False, "ssm:success"),
    ],
)
def test_command_status_mapping(status: str, severity: Severity, active: bool, problem: str) -> None:
    raw = load("ssm-command-invocation-timedout")
    raw["detail"]["status"] = status
    alert = parse_event(raw)
    assert (alert.severity, alert.active, alert.problems) == (severity, active, [problem])


def test_missing_ids_fall_back_to_generic() -> None:
    raw = load("ssm-command-failed")
    del raw["detail"]["command-id"]
    assert parse_event(raw).parse_error
    raw = load("ssm-automation-failed")
    del raw["detail"]["ExecutionId"]
    assert parse_event(raw).parse_error
