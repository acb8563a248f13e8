"""IAM Access Analyzer findings: public HIGH, cross-account MEDIUM, archived/resolved INFO and over."""

from __future__ import annotations

from bot.models import Severity
from bot.pipeline import fitting_offers
from bot.remediations import remediations
from bot.remediations.base import fits
from bot.sources import parse_event
from tests.sources.source_events import load, parse


def test_public_bucket_finding() -> None:
    alert = parse("accessanalyzer-s3-public")
    assert alert.source_kind == "accessanalyzer" and alert.active
    assert alert.severity is Severity.HIGH
    assert alert.account == "111122223333" and alert.region == "us-west-2"
    assert alert.problems == [
        "accessanalyzer:AWS::S3::Bucket",
        "accessanalyzer:public",
        "accessanalyzer:public:AWS::S3::Bucket",
    ]
    assert [(r.type, r.id, r.arn) for r in alert.resources] == [("AwsS3Bucket", "my-bucket", "arn:aws:s3:::my-bucket")]
    assert alert.context["bucket"] == {"name": "my-bucket"}
    assert alert.title == "my-bucket is publicly accessible"
    assert alert.fields["Principal"] == "AWS: *"
    assert alert.fields["Actions"] == "s3:GetObject"
    assert "Status" not in alert.fields and "Condition" not in alert.fields
    assert alert.links[0].url == (
        "https://us-west-2.console.aws.amazon.com/access-analyzer/home?region=us-west-2"
        "#/findings/details/MyAnalyzer/22222222-dcba-4444-dcba-333333333333"
    )


def test_public_bucket_offers_block_public_access() -> None:
    alert = parse("accessanalyzer-s3-public")
    rem = remediations["s3.block-public-access"]
    assert fits(rem, alert) and rem.applies_to(alert) == {"bucket": "my-bucket"}
    assert [o.name for o in fitting_offers(alert)] == ["s3.block-public-access"]


def test_public_kms_key_is_high_but_not_a_bucket_fix() -> None:
    raw = load("accessanalyzer-s3-public")
    raw["detail"]["resourceType"] = "AWS::KMS::Key"
    raw["detail"]["resource"] = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    alert = parse_event(raw)
    assert alert.severity is Severity.HIGH
    assert alert.resources[0].type == "AwsKmsKey" and alert.resources[0].id == "1234abcd-12ab-34cd-56ef-1234567890ab"
    assert "bucket" not in alert.context
    assert not fits(remediations["s3.block-public-access"], alert)


def test_cross_account_is_medium() -> None:
    raw = load("accessanalyzer-archived")
    raw["detail"]["status"] = "ACTIVE"
    alert = parse_event(raw)
    assert alert.active and alert.severity is Severity.MEDIUM
    assert alert.problems == ["accessanalyzer:AWS::S3::Bucket"]
    assert alert.fields["Principal"] == "AWS: 999988887777"
    assert fitting_offers(alert) == []


def test_archived_and_resolved_end_the_finding() -> None:
    archived = parse("accessanalyzer-archived")
    assert not archived.active and archived.severity is Severity.INFO
    assert archived.fields["Status"] == "ARCHIVED"
    assert archived.fingerprint == parse("accessanalyzer-s3-public").fingerprint
    raw = load("accessanalyzer-s3-public")
    raw["detail"]["status"] = "RESOLVED"
    resolved = parse_event(raw)
    assert not resolved.active and resolved.severity is Severity.INFO
    assert fitting_offers(resolved) == []
    raw["detail"]["status"] = "ACTIVE"
    raw["detail"]["isDeleted"] = True
    assert not parse_event(raw).active


def test_other_resource_types_and_errors() -> None:
    raw = load("accessanalyzer-s3-public")
    raw["detail"]["resourceType"] = "AWS::IAM::Role"
    raw["detail"]["resource"] = "arn:aws:iam::111122223333:role/CrossAccountRole"
    raw["detail"]["isPublic"] = False
    raw["detail"]["principal"] = {"AWS": ["444455556666", "777788889999"]}
    role = parse_event(raw)
    assert (role.resources[0].type, role.resources[0].id) == ("AwsIamRole", "CrossAccountRole")
    assert role.fields["Principal"] == "AWS: 444455556666, AWS: 777788889999"
    raw["detail"]["error"] = "ACCESS_DENIED"
    assert parse_event(raw).severity is Severity.LOW


def test_finding_without_resource_falls_back() -> None:
    raw = load("accessanalyzer-s3-public")
    del raw["detail"]["resource"]
    assert parse_event(raw).source_kind == "generic"
