"""AWS Health events: severity per category, affected entities, closing."""

from __future__ import annotations

from bot.models import Severity
from bot.sources import parse_event
from tests.sources.source_events import load, parse


def test_health() -> None:
    assert parse("health-issue").severity is Severity.HIGH
    assert parse("health-issue").region == "us-west-2"
    retirement = parse("health-scheduled-change-retirement")
    assert retirement.severity is Severity.MEDIUM
    assert retirement.primary_resource.type == "AwsEc2Instance"
    assert retirement.primary_resource.name == "web-1"
    assert parse("health-account-notification").severity is Severity.LOW
    assert parse("health-risk-credentials-exposed").severity is Severity.CRITICAL
    closed = load("health-issue")
    closed["detail"]["statusCode"] = "closed"
    closed_alert = parse_event(closed)
    assert not closed_alert.active and closed_alert.severity is Severity.INFO
    assert closed_alert.fingerprint == parse("health-issue").fingerprint
