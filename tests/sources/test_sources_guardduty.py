"""GuardDuty findings: severity bands, context, grouping, resources."""

from __future__ import annotations

import pytest

from bot.models import Severity
from bot.sources import parse_event
from tests.sources.source_events import load, parse


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (0.1, Severity.LOW),
        (3.9, Severity.LOW),
        (4, Severity.MEDIUM),
        (6.9, Severity.MEDIUM),
        (7, Severity.HIGH),
        (8.9, Severity.HIGH),
        (9, Severity.CRITICAL),
    ],
)
def test_guardduty_severity_bands(score: float, severity: Severity) -> None:
    raw = load("guardduty-ec2-ssh-bruteforce")
    raw["detail"]["severity"] = score
    assert parse_event(raw).severity is severity


def test_guardduty_finding_context_and_grouping() -> None:
    first = parse("guardduty-ec2-ssh-bruteforce")
    archived = parse("guardduty-ec2-ssh-bruteforce-archived")
    assert first.context["guardduty"] == {
        "detector_id": "123456789012345678901234567890ab",
        "finding_id": "16afba5c5c43e07c9e3e5e2e544e95df",
    }
    assert first.fingerprint == archived.fingerprint
    assert first.active and not archived.active
    assert first.primary_resource.type == "AwsEc2Instance"
    assert first.primary_resource.id == "i-99999999"
    # GuardDuty sample findings carry placeholder security group ids: not resources.
    assert [r.type for r in first.resources] == ["AwsEc2Instance"]


def test_guardduty_access_key_and_user() -> None:
    alert = parse("guardduty-iam-maliciousipcaller")
    assert alert.context["access_key"] == {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "user_name": "alice"}
    assert {(r.type, r.id) for r in alert.resources} == {
        ("AwsIamAccessKey", "AKIAIOSFODNN7EXAMPLE"),
        ("AwsIamUser", "alice"),
    }
    assert alert.region == "eu-west-1"


def test_guardduty_instance_name_tag_and_security_group() -> None:
    alert = parse("guardduty-ec2-cryptocurrency-critical")
    assert alert.severity is Severity.CRITICAL
    inst = alert.primary_resource
    assert inst.name == "build-runner-3"
    assert inst.arn == "arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f6a7b8"
    assert ("AwsEc2SecurityGroup", "sg-0a1b2c3d4e5f6a7b8") in {(r.type, r.id) for r in alert.resources}


def test_guardduty_s3_bucket() -> None:
    alert = parse("guardduty-s3-anonymous-access")
    assert alert.severity is Severity.HIGH
    assert ("AwsS3Bucket", "customer-exports") in {(r.type, r.id) for r in alert.resources}
    assert "access_key" in alert.context  # ASIA… temporary key of the role that made the change
