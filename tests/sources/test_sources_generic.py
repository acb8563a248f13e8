"""The generic fallback parser."""

from __future__ import annotations

from bot.sources import parse_event
from tests.sources.source_events import load


def test_generic_shows_at_most_ten_detail_fields() -> None:
    # An AWS Backup job event from a source without a parser (the sample's own source has one now).
    raw = load("backup-job-failed")
    raw["source"] = "aws.backup-unparsed"
    alert = parse_event(raw)
    assert alert.source_kind == "generic" and alert.parse_error is None
    assert 0 < len(alert.fields) <= 10
    assert "aws.backup-unparsed" in alert.title
