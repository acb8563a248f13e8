"""Auto Scaling launch/terminate failures."""

from __future__ import annotations

from bot.models import Severity
from tests.sources.source_events import parse


def test_autoscaling() -> None:
    launch = parse("autoscaling-launch-unsuccessful")
    assert launch.severity is Severity.HIGH
    assert launch.context == {"asg": {"name": "my-asg"}}
    assert launch.primary_resource.type == "AwsAutoScalingAutoScalingGroup"
    assert parse("autoscaling-terminate-unsuccessful").severity is Severity.MEDIUM
