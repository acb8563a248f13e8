"""EC2 instance state changes and Spot interruption warnings; tag enrichment."""

from __future__ import annotations

from bot.models import Severity
from bot.sources.base import ParseContext
from tests.sources.source_events import parse


def test_ec2_state_changes_group_per_instance_and_use_tags() -> None:
    calls = []

    def lookup(rtype: str, rid: str, account: str, region: str) -> dict[str, str]:
        calls.append((rtype, rid, account, region))
        return {"Name": "web-1", "team": "platform"}

    ctx = ParseContext(lookup_tags=lookup)
    alerts = {
        s: parse(f"ec2-state-{s}", ctx) for s in ("running", "stopping", "stopped", "shutting-down", "terminated")
    }
    assert len({a.fingerprint for a in alerts.values()}) == 1
    assert alerts["stopped"].primary_resource.name == "web-1"
    assert "web-1" in alerts["stopped"].title
    assert calls[0] == ("AwsEc2Instance", "i-abcd1111", "123456789012", "us-west-1")
    assert not alerts["running"].active and alerts["terminated"].active
    assert alerts["terminated"].severity is Severity.MEDIUM


def test_failed_tag_lookup_never_fails_the_alert() -> None:
    def lookup(*_: str) -> dict[str, str]:
        raise RuntimeError("AccessDenied")

    ctx = ParseContext(lookup_tags=lookup)
    alert = parse("ec2-state-stopped", ctx)
    assert alert.source_kind == "ec2" and alert.primary_resource.name is None
    assert ctx.warnings


def test_spot_interruption() -> None:
    alert = parse("ec2-spot-interruption")
    assert alert.severity is Severity.MEDIUM
    assert alert.fingerprint != parse("ec2-state-stopped").fingerprint
