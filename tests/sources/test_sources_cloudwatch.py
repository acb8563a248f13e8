"""CloudWatch alarm state changes: states, grouping, alarm kinds, links."""

from __future__ import annotations

import pytest

from bot.models import Severity
from tests.sources.source_events import parse


def test_cloudwatch_states_and_grouping() -> None:
    alarm, ok, insufficient = (
        parse("cloudwatch-metric-alarm"),
        parse("cloudwatch-metric-ok"),
        parse("cloudwatch-metric-insufficient-data"),
    )
    assert (alarm.severity, ok.severity, insufficient.severity) == (Severity.HIGH, Severity.INFO, Severity.LOW)
    assert alarm.active and not ok.active and insufficient.active
    assert alarm.fingerprint == ok.fingerprint == insufficient.fingerprint
    assert alarm.resources[0].type == "AwsCloudWatchAlarm"
    assert alarm.resources[0].arn == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"
    assert ("AwsEc2Instance", "i-12345678901234567") in {(r.type, r.id) for r in alarm.resources}


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("cloudwatch-metric-alarm", "metric"),
        ("cloudwatch-metric-math", "metric math"),
        ("cloudwatch-anomaly-detection", "anomaly detection"),
        ("cloudwatch-composite", "composite"),
    ],
)
def test_cloudwatch_alarm_kinds(name: str, kind: str) -> None:
    assert parse(name).fields["Alarm type"] == kind


def test_cloudwatch_alarm_name_with_spaces_is_encoded_in_link() -> None:
    alert = parse("cloudwatch-anomaly-detection")
    assert any("alarm/EC2%20CPU%20Utilization%20Anomaly" in link.url for link in alert.links)
