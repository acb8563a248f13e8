"""Cost Anomaly Detection."""

from __future__ import annotations

from bot.models import Severity
from tests.sources.source_events import parse


def test_cost_anomaly() -> None:
    cost = parse("costanomaly-detected")
    assert cost.severity is Severity.HIGH
    assert cost.links[0].url.endswith("/anomalies/12345678-abcd-ef12-3456-987654321a12")
