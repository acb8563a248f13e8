"""ECS task state changes and deployments."""

from __future__ import annotations

from bot.models import Severity
from tests.sources.source_events import parse


def test_ecs_task_stops() -> None:
    failed = parse("ecs-task-stopped-failure")
    assert failed.severity is Severity.MEDIUM and failed.active
    assert failed.context == {"ecs": {"cluster": "FargateCluster", "service": "web"}}
    assert {r.type for r in failed.resources} == {"AwsEcsTask", "AwsEcsCluster", "AwsEcsService"}
    normal = parse("ecs-task-stopped-normal")
    assert normal.severity is Severity.INFO and not normal.active
    assert "nightly-report" in normal.title
    start = parse("ecs-task-failed-to-start")
    assert start.severity is Severity.HIGH
    # a crash loop of one service is one message
    assert start.fingerprint == failed.fingerprint
    assert parse("ecs-task-running").severity is Severity.INFO


def test_ecs_deployments() -> None:
    failed = parse("ecs-deployment-failed")
    assert failed.severity is Severity.HIGH
    assert failed.context == {"ecs": {"cluster": "default", "service": "servicetest"}}
    assert not parse("ecs-deployment-completed").active
