"""AWS Config rule compliance changes."""

from __future__ import annotations

from bot.models import Severity
from tests.sources.source_events import parse


def test_config_compliance() -> None:
    bad = parse("config-noncompliant")
    assert bad.severity is Severity.MEDIUM and bad.active
    assert (bad.primary_resource.type, bad.primary_resource.id) == ("AwsEc2SecurityGroup", "sg-0123456789abcdef0")
    good = parse("config-compliant")
    assert not good.active and good.primary_resource.type == "AwsS3Bucket"
