"""``eventops.custom``: the schema, dropped links, resolution."""

from __future__ import annotations

from bot.models import Alert, Severity
from bot.sources import parse_event
from bot.sources.base import ParseContext
from tests.sources.source_events import load, parse


def test_custom_schema() -> None:
    ctx = ParseContext()
    alert = parse("custom-backup-failed", ctx)
    assert alert.severity is Severity.HIGH
    assert alert.fields["Attempt"] == "3" and "Retrying" not in alert.fields  # false: says nothing
    assert [link.label for link in alert.links] == ["Runbook"]  # javascript: dropped
    assert ctx.warnings
    assert alert.fingerprint == Alert.make_fingerprint("custom", "123456789012", "backup-orders")
    assert parse("custom-minimal").severity is Severity.INFO
    resolved = load("custom-backup-failed")
    resolved["detail"]["resolved"] = True
    assert not parse_event(resolved).active
