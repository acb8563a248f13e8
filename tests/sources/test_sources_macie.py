"""Macie findings: severity, bucket/object resources, archived → resolved, s3.block-public-access offer."""

from __future__ import annotations

from bot.models import Severity
from bot.pipeline import fitting_offers
from bot.remediations import remediations
from bot.remediations.base import fits
from bot.sources import parse_event
from tests.sources.source_events import load, parse


def test_public_bucket_finding() -> None:
    alert = parse("macie-s3-bucket-public")
    assert alert.source_kind == "macie" and alert.active
    assert alert.severity is Severity.HIGH
    assert alert.problems == ["macie:Policy:IAMUser/S3BucketPublic"]
    assert [(r.type, r.id, r.arn) for r in alert.resources] == [
        ("AwsS3Bucket", "amzn-s3-demo-bucket", "arn:aws:s3:::amzn-s3-demo-bucket")
    ]
    assert alert.context["bucket"] == {"name": "amzn-s3-demo-bucket"}
    assert "amzn-s3-demo-bucket" in alert.title
    assert alert.fields["Finding type"] == "Policy:IAMUser/S3BucketPublic"
    assert alert.fields["Occurrences"] == "2"
    assert "Object" not in alert.fields
    assert alert.links[0].label == "Macie finding"
    assert alert.links[0].url.startswith("https://us-east-1.console.aws.amazon.com/macie/home?region=us-east-1#")
    assert "64b917aa-3843-014c-91d8-937ffexample" in alert.links[0].url


def test_public_bucket_is_fixed_by_block_public_access() -> None:
    alert = parse("macie-s3-bucket-public")
    rem = remediations["s3.block-public-access"]
    assert fits(rem, alert)
    assert rem.applies_to(alert) == {"bucket": "amzn-s3-demo-bucket"}
    assert [o.name for o in fitting_offers(alert)] == ["s3.block-public-access"]
    raw = load("macie-s3-bucket-public")
    raw["detail"]["type"] = "Policy:IAMUser/S3BlockPublicAccessDisabled"
    assert fits(rem, parse_event(raw))
    raw["detail"]["type"] = "Policy:IAMUser/S3BucketEncryptionDisabled"
    assert not fits(rem, parse_event(raw))


def test_sensitive_data_finding_names_the_object() -> None:
    alert = parse("macie-sensitive-data")
    assert alert.severity is Severity.MEDIUM
    assert alert.problems == ["macie:SensitiveData:S3Object/Personal"]
    assert [r.type for r in alert.resources] == ["AwsS3Bucket", "AwsS3Object"]
    assert alert.resources[1].id == "amzn-s3-demo-bucket/2020/06/Sample.csv"
    assert alert.fields["Object"] == "2020/06/Sample.csv"
    assert "USA_SOCIAL_SECURITY_NUMBER ×2" in alert.fields["Sensitive data"]
    assert "Occurrences" not in alert.fields
    assert fitting_offers(alert) == []


def test_severity_mapping_and_archived() -> None:
    raw = load("macie-s3-bucket-public")
    for description, expected in (("Low", Severity.LOW), ("Medium", Severity.MEDIUM), ("High", Severity.HIGH)):
        raw["detail"]["severity"]["description"] = description
        assert parse_event(raw).severity is expected
    active = parse_event(raw)
    raw["detail"]["archived"] = True
    archived = parse_event(raw)
    assert not archived.active and archived.severity is Severity.INFO
    assert archived.fingerprint == active.fingerprint
    assert fitting_offers(archived) == []


def test_fingerprint_without_id_groups_type_and_bucket() -> None:
    raw = load("macie-s3-bucket-public")
    other = parse("macie-sensitive-data")
    assert parse_event(raw).fingerprint != other.fingerprint
    raw["detail"]["id"] = ""
    a = parse_event(raw)
    raw["id"] = "another-event"
    assert parse_event(raw).fingerprint == a.fingerprint


def test_finding_without_bucket_falls_back() -> None:
    raw = load("macie-sensitive-data")
    raw["detail"]["resourcesAffected"] = {}
    alert = parse_event(raw)
    assert alert.source_kind == "generic" and alert.parse_error
