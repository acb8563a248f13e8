"""The generic fallback parser."""

from __future__ import annotations

from tests.sources.source_events import parse


def test_generic_shows_at_most_ten_detail_fields() -> None:
    alert = parse("generic-backup-job")
    assert alert.source_kind == "generic" and alert.parse_error is None
    assert 0 < len(alert.fields) <= 10
    assert "aws.backup" in alert.title
