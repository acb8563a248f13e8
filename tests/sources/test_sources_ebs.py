"""EBS volume and snapshot notifications: failures MEDIUM, completions resolve the same message."""

from __future__ import annotations

from bot.models import Severity
from bot.sources import parse_event
from tests.sources.source_events import load, parse


def test_failed_create_volume_is_medium_with_the_kms_key() -> None:
    alert = parse("ebs-volume-create-failed")
    assert alert.severity is Severity.MEDIUM and alert.active
    assert alert.title == "EBS volume vol-01234567: creation failed"
    assert [(r.type, r.id) for r in alert.resources] == [
        ("AwsEc2Volume", "vol-01234567"),
        ("AwsKmsKey", "01234567-0123-0123-0123-0123456789ab"),
    ]
    assert alert.problems == ["ebs:createVolume-failed", "ebs:kms-key-disabled"]
    assert alert.context == {"kms": {"key_id": "01234567-0123-0123-0123-0123456789ab"}}
    assert alert.fields["Cause"].endswith("is disabled.")
    assert alert.links[0].url == (
        "https://sa-east-1.console.aws.amazon.com/ec2/home?region=sa-east-1#VolumeDetails:volumeId=vol-01234567"
    )


def test_available_resolves_the_failed_create() -> None:
    failed, available = parse("ebs-volume-create-failed"), parse("ebs-volume-create-available")
    assert available.severity is Severity.INFO and not available.active
    assert available.fingerprint == failed.fingerprint
    assert "Cause" not in available.fields and "KMS key" not in available.fields


def test_attach_failure_for_a_key_pending_deletion() -> None:
    raw = load("ebs-volume-create-failed")
    raw["detail"].update(
        event="attachVolume",
        cause="arn:aws:kms:sa-east-1:123456789012:key/01234567-0123-0123-0123-0123456789ab is pending deletion.",
    )
    alert = parse_event(raw)
    assert alert.problems == ["ebs:attachVolume-failed", "ebs:kms-key-pending-deletion"]
    assert alert.fingerprint != parse("ebs-volume-create-failed").fingerprint


def test_snapshot_succeeded_is_info_with_its_source_volume() -> None:
    alert = parse("ebs-snapshot-create-succeeded")
    assert alert.severity is Severity.INFO and not alert.active
    assert [(r.type, r.id) for r in alert.resources] == [
        ("AwsEc2Snapshot", "snap-01234567"),
        ("AwsEc2Volume", "vol-01234567"),
    ]
    assert alert.resources[0].arn == "arn:aws:ec2:us-east-1::snapshot/snap-01234567"
    assert alert.fields["Source"] == "vol-01234567"
    assert alert.problems == ["ebs:createSnapshot-succeeded"]
    assert alert.links[0].label == "Snapshot snap-01234567"


def test_snapshot_failure_shares_the_message_with_its_retry_result() -> None:
    raw = load("ebs-snapshot-create-succeeded")
    raw["detail"].update(event="copySnapshot", result="failed", cause="Source snapshot ID is not valid")
    raw["detail"]["source"] = "arn:aws:ec2:eu-west-1::snapshot/snap-76543210"
    failed = parse_event(raw)
    assert failed.severity is Severity.MEDIUM and failed.active
    assert failed.fields["Source"] == "snap-76543210"
    raw["detail"].update(result="succeeded", cause="")
    assert parse_event(raw).fingerprint == failed.fingerprint


def test_multi_volume_failure_lists_each_snapshot() -> None:
    alert = parse("ebs-multi-volume-snapshots")
    assert alert.severity is Severity.MEDIUM and alert.active
    assert alert.title == "EBS multi-volume snapshot of 2 volumes failed"
    assert [r.id for r in alert.resources] == ["snap-01234567", "snap-89abcdef", "vol-01234567", "vol-89abcdef"]
    assert alert.fields["Snapshots"] == "snap-01234567 of vol-01234567 (error), snap-89abcdef of vol-89abcdef (error)"
    raw = load("ebs-multi-volume-snapshots")
    raw["detail"]["result"] = "succeeded"
    ok = parse_event(raw)
    assert not ok.active and ok.severity is Severity.INFO and ok.fingerprint == alert.fingerprint


def test_no_volume_id_falls_back_to_generic() -> None:
    raw = load("ebs-volume-create-failed")
    raw["resources"] = []
    assert parse_event(raw).parse_error
