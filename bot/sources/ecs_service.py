"""ECS service action events: a service can't start or place tasks, or is back at a steady state."""

from __future__ import annotations

from pydantic import Field

from bot.models import Alert, Resource, Severity
from bot.sources import console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers
from bot.sources.ecs import _cluster_service_from_service_arn, _name


class ServiceAction(Detail):
    event_type: str = Field("", alias="eventType")
    event_name: str = Field(alias="eventName", min_length=1)
    cluster_arn: str = Field("", alias="clusterArn")
    reason: str | None = None
    capacity_provider_arns: list[str] = Field([], alias="capacityProviderArns")
    container_instance_arns: list[str] = Field([], alias="containerInstanceArns")


# eventType → severity (the event's own classification).
_SEVERITY = {"INFO": Severity.INFO, "WARN": Severity.MEDIUM, "ERROR": Severity.HIGH}

# The service is healthy again: these resolve a start-impaired / placement-failure message.
STEADY = {"SERVICE_STEADY_STATE", "TASKSET_STEADY_STATE", "CAPACITY_PROVIDER_STEADY_STATE"}

_WHAT = {
    "SERVICE_STEADY_STATE": "back at a steady state",
    "TASKSET_STEADY_STATE": "task set at a steady state",
    "CAPACITY_PROVIDER_STEADY_STATE": "capacity provider at a steady state",
    "SERVICE_DESIRED_COUNT_UPDATED": "desired count updated by the scheduler",
    "TASKS_STOPPED": "the service stopped running tasks",
    "SERVICE_TASK_START_IMPAIRED": "unable to consistently start tasks",
    "SERVICE_DISCOVERY_INSTANCE_UNHEALTHY": "a task is unhealthy in service discovery",
    "VPC_LATTICE_TARGET_UNHEALTHY": "a VPC Lattice target is unhealthy",
    "SERVICE_TASK_PLACEMENT_FAILURE": "unable to place tasks",
    "SERVICE_TASK_CONFIGURATION_FAILURE": "unable to place tasks (configuration error)",
    "SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED": "a daemon task violates the placement constraints",
    "ECS_OPERATION_THROTTLED": "the scheduler is throttled by ECS API limits",
    "SERVICE_DISCOVERY_OPERATION_THROTTLED": "the scheduler is throttled by Cloud Map API limits",
    "SERVICE_HEALTH_UNKNOWN": "task health unknown",
}


def _severity(d: ServiceAction) -> Severity:
    if d.event_type.upper() in _SEVERITY:
        return _SEVERITY[d.event_type.upper()]
    return Severity.INFO if d.event_name in STEADY else Severity.MEDIUM


@parsers.register(("aws.ecs", "ECS Service Action"))
class EcsServiceActionParser(Parser):
    """An ECS service action event. Example: SERVICE_TASK_START_IMPAIRED for servicetest → MEDIUM; SERVICE_STEADY_STATE resolves it."""

    kind = "ecs"
    doc = SourceDoc(
        label="ECS service action",
        severity="eventType ERROR HIGH (task placement failure), WARN MEDIUM (task start impaired, unhealthy task), INFO INFO",
        resolved="SERVICE_STEADY_STATE, TASKSET_STEADY_STATE, CAPACITY_PROVIDER_STEADY_STATE; other INFO events are notices",
        fingerprint="account, region, cluster, service (problems and the steady state share one; other INFO notices: + event name)",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = ServiceAction.model_validate(event.detail)
        region, account = event.region, event.account
        name = d.event_name.upper()
        service_arn = next((r for r in event.resources if ":service/" in r), None)
        cluster, service = _cluster_service_from_service_arn(service_arn) if service_arn else ("", "")
        if d.cluster_arn:
            cluster = _name(d.cluster_arn)
        if not cluster and not service:
            raise ValueError("ECS service action without a cluster or service")
        severity = _severity(d)
        problem = severity is not Severity.INFO
        resources = []
        if service:
            resources.append(
                Resource(type="AwsEcsService", id=service, arn=service_arn, region=region, account=account)
            )
        if cluster:
            resources.append(
                Resource(type="AwsEcsCluster", id=cluster, arn=d.cluster_arn or None, region=region, account=account)
            )
        what = _WHAT.get(name, name.replace("_", " ").lower())
        owner = f"ECS service {service}" if service else "ECS cluster"
        title = f"{owner}" + (f" in {cluster}" if cluster else "") + f": {what}"
        summary_bits = []
        if d.reason:
            summary_bits.append(f"Reason: {d.reason}.")
        if name == "SERVICE_TASK_START_IMPAIRED":
            summary_bits.append("Tasks keep failing to start; check the stopped tasks' stop reasons.")
        if problem or name in STEADY:
            # One message per service: a start-impaired/placement problem, updated by the steady state.
            fingerprint = Alert.make_fingerprint(self.kind, account, region, cluster, service, "service-action")
        else:
            fingerprint = Alert.make_fingerprint(self.kind, account, region, cluster, service, "service-action", name)
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=fingerprint,
            title=title,
            summary=" ".join(summary_bits),
            severity=severity,
            resources=resources,
            fields={
                "Cluster": cluster,
                "Service": service,
                "Event": d.event_name,
                "Reason": d.reason,
                "Capacity providers": ", ".join(_name(a) for a in d.capacity_provider_arns),
                "Container instances": ", ".join(_name(a) for a in d.container_instance_arns[:5]),
            },
            links=console.keep(console.ecs_service(region, cluster, service) if cluster and service else None),
            context={"ecs": {"cluster": cluster or None, "service": service or None}},
            problems=[f"ecs:{name}"],
            active=problem,
        )
