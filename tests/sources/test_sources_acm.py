"""ACM certificate expiry: days-to-expiry severity, expired HIGH, available resolves; one message per certificate."""

from __future__ import annotations

from bot.models import Severity
from bot.pipeline import fitting_offers
from bot.sources import parse_event
from tests.sources.source_events import load, parse

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/61f50cd4-45b9-4259-b049-d0a53682fa4b"


def test_approaching_expiration() -> None:
    alert = parse("acm-approaching-expiration")
    assert alert.source_kind == "acm" and alert.active
    assert alert.severity is Severity.LOW
    assert alert.title == "Certificate for example.com expires in 31 days"
    assert [(r.type, r.id, r.arn, r.name) for r in alert.resources] == [
        ("AwsCertificateManagerCertificate", "61f50cd4-45b9-4259-b049-d0a53682fa4b", ARN, "example.com")
    ]
    assert alert.fields == {"Domain": "example.com", "Days to expiry": "31"}
    assert alert.problems == ["acm:approaching-expiration"]
    assert [link.url for link in alert.links] == [
        "https://us-east-1.console.aws.amazon.com/acm/home?region=us-east-1"
        "#/certificates/61f50cd4-45b9-4259-b049-d0a53682fa4b"
    ]
    assert fitting_offers(alert) == []


def test_days_to_expiry_severity() -> None:
    raw = load("acm-approaching-expiration")
    for days, expected in ((45, Severity.LOW), (30, Severity.MEDIUM), (8, Severity.MEDIUM), (7, Severity.HIGH)):
        raw["detail"]["DaysToExpiry"] = days
        assert parse_event(raw).severity is expected, days
    raw["detail"]["DaysToExpiry"] = 1
    assert parse_event(raw).title.endswith("expires in 1 day")


def test_expired_and_available_share_the_message() -> None:
    approaching, expired, available = (
        parse("acm-approaching-expiration"),
        parse("acm-expired"),
        parse("acm-certificate-available"),
    )
    assert expired.severity is Severity.HIGH and expired.active
    assert expired.title == "Certificate for example.com has expired"
    assert expired.problems == ["acm:expired"]
    assert expired.fields["In use"] == "yes" and expired.fields["Certificate type"] == "AMAZON_ISSUED"
    assert not available.active and available.severity is Severity.INFO
    assert "renewal" in available.title
    assert approaching.fingerprint == expired.fingerprint == available.fingerprint


def test_other_certificates_are_other_messages() -> None:
    raw = load("acm-expired")
    raw["resources"] = [ARN.replace("61f50cd4", "71f50cd4")]
    assert parse_event(raw).fingerprint != parse("acm-expired").fingerprint


def test_without_certificate_arn_falls_back() -> None:
    raw = load("acm-expired")
    raw["resources"] = []
    assert parse_event(raw).source_kind == "generic"
