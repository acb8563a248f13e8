"""ECS service actions: start impaired / placement failure and the steady state are one message per service."""

from __future__ import annotations

import pytest

from bot.models import Severity
from bot.sources import parse_event
from tests.sources.source_events import load, parse


def test_start_impaired_is_medium_and_resolved_by_steady_state() -> None:
    impaired, steady = parse("ecs-service-task-start-impaired"), parse("ecs-service-steady-state")
    assert impaired.severity is Severity.MEDIUM and impaired.active
    assert impaired.title == "ECS service servicetest in default: unable to consistently start tasks"
    assert impaired.problems == ["ecs:SERVICE_TASK_START_IMPAIRED"]
    assert impaired.context == {"ecs": {"cluster": "default", "service": "servicetest"}}
    assert [(r.type, r.id) for r in impaired.resources] == [
        ("AwsEcsService", "servicetest"),
        ("AwsEcsCluster", "default"),
    ]
    assert impaired.links[0].url.startswith("https://us-west-2.console.aws.amazon.com/ecs/v2/clusters/default/")
    assert steady.severity is Severity.INFO and not steady.active
    assert steady.fingerprint == impaired.fingerprint


def test_placement_failure_is_high_with_reason_and_capacity_provider() -> None:
    alert = parse("ecs-service-task-placement-failure")
    assert alert.severity is Severity.HIGH and alert.active
    assert alert.fields["Reason"] == "RESOURCE:FARGATE"
    assert alert.fields["Capacity providers"] == "FARGATE_SPOT"
    assert alert.problems == ["ecs:SERVICE_TASK_PLACEMENT_FAILURE"]
    assert alert.fingerprint == parse("ecs-service-task-start-impaired").fingerprint


def test_other_info_notices_do_not_replace_the_problem_message() -> None:
    raw = load("ecs-service-steady-state")
    raw["detail"]["eventName"] = "SERVICE_DESIRED_COUNT_UPDATED"
    notice = parse_event(raw)
    assert notice.severity is Severity.INFO and not notice.active
    assert notice.fingerprint != parse("ecs-service-steady-state").fingerprint


@pytest.mark.parametrize(
    "event_type, severity", [("INFO", Severity.INFO), ("WARN", Severity.MEDIUM), ("ERROR", Severity.HIGH)]
)
def test_event_type_maps_to_severity(event_type: str, severity: Severity) -> None:
    raw = load("ecs-service-task-start-impaired")
    raw["detail"]["eventType"] = event_type
    raw["detail"]["eventName"] = "SERVICE_DISCOVERY_INSTANCE_UNHEALTHY"
    assert parse_event(raw).severity is severity


def test_without_service_arn_the_cluster_identifies_it() -> None:
    raw = load("ecs-service-task-start-impaired")
    raw["resources"] = []
    alert = parse_event(raw)
    assert alert.parse_error is None
    assert [r.type for r in alert.resources] == ["AwsEcsCluster"]
    assert alert.links == []
    raw["detail"].pop("clusterArn")
    assert parse_event(raw).parse_error
