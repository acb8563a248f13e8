"""Security Hub findings: every ASFF resource, workflow state, severity labels, custom actions."""

from __future__ import annotations

import pytest

from bot.models import Severity
from bot.sources import parse_event
from tests.sources.source_events import load, parse


def test_securityhub_maps_every_resource() -> None:
    alert = parse("securityhub-imported-multi-resource")
    assert [(r.type, r.id) for r in alert.resources] == [
        ("AwsEc2SecurityGroup", "sg-0123456789abcdef0"),
        ("AwsEc2Instance", "i-0abcdef1234567890"),
        ("AwsS3Bucket", "customer-exports"),
        ("AwsIamUser", "alice"),
        ("AwsIamAccessKey", "AKIAIOSFODNN7EXAMPLE"),
        ("AwsLambdaFunction", "export-job"),
        ("AwsAccount", "123456789012"),
    ]
    assert alert.resources[0].name == "launch-wizard-1"
    assert alert.resources[1].name == "bastion"
    assert alert.severity is Severity.HIGH
    assert alert.context["securityhub"]["product_arn"] == "arn:aws:securityhub:us-east-1::product/aws/securityhub"
    assert alert.context["access_key"] == {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "user_name": "alice"}
    assert alert.context["open_ingress"] == [
        {"group_id": "sg-0123456789abcdef0", "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr": "0.0.0.0/0"}
    ]


def test_securityhub_resolved_and_archived_are_inactive_and_group_with_the_finding() -> None:
    new = parse("securityhub-imported-multi-resource")
    resolved = parse("securityhub-imported-resolved")
    archived = parse("securityhub-imported-archived")
    assert new.active and not resolved.active and not archived.active
    assert new.fingerprint == resolved.fingerprint == archived.fingerprint
    assert resolved.severity is Severity.INFO


def test_securityhub_guardduty_access_key_id_format() -> None:
    alert = parse("securityhub-imported-guardduty-accesskey")
    assert alert.primary_resource.id == "ASIASBP34UWCXYDP5SM5"
    assert alert.context["access_key"]["access_key_id"] == "ASIASBP34UWCXYDP5SM5"
    assert alert.severity is Severity.LOW


def test_securityhub_custom_action() -> None:
    alert = parse("securityhub-custom-action")
    assert alert.fields["Custom action"] == "SendToSlack"
    assert alert.fields["Findings in event"].startswith("2")
    assert alert.severity is Severity.CRITICAL


@pytest.mark.parametrize(
    ("label", "severity"),
    [("CRITICAL", Severity.CRITICAL), ("MEDIUM", Severity.MEDIUM), ("INFORMATIONAL", Severity.INFO)],
)
def test_securityhub_severity_from_label(label: str, severity: Severity) -> None:
    raw = load("securityhub-imported-multi-resource")
    raw["detail"]["findings"][0]["Severity"] = {"Label": label}
    assert parse_event(raw).severity is severity
