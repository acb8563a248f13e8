"""Trusted Advisor check item refreshes."""

from __future__ import annotations

from bot.models import Severity
from tests.sources.source_events import parse


def test_trusted_advisor() -> None:
    assert parse("trustedadvisor-exposed-access-keys").severity is Severity.HIGH
    ta = parse("trustedadvisor-security-groups-unrestricted")
    assert ta.primary_resource.type == "AwsEc2SecurityGroup" and ta.region == "us-west-2"
