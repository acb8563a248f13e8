"""ECS task stops (failures) and service deployment state changes."""

from __future__ import annotations

from pydantic import Field

from bot.models import Alert, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers


class Container(Detail):
    name: str = ""
    exit_code: int | None = Field(None, alias="exitCode")
    reason: str | None = None
    last_status: str | None = Field(None, alias="lastStatus")


class TaskStateChange(Detail):
    cluster_arn: str = Field(alias="clusterArn")
    task_arn: str = Field(alias="taskArn")
    task_definition_arn: str | None = Field(None, alias="taskDefinitionArn")
    last_status: str = Field(alias="lastStatus")
    desired_status: str | None = Field(None, alias="desiredStatus")
    stop_code: str | None = Field(None, alias="stopCode")
    stopped_reason: str | None = Field(None, alias="stoppedReason")
    group: str | None = None
    launch_type: str | None = Field(None, alias="launchType")
    containers: list[Container] = []


class DeploymentStateChange(Detail):
    event_type: str = Field("", alias="eventType")
    event_name: str = Field(alias="eventName")
    deployment_id: str = Field("", alias="deploymentId")
    reason: str | None = None
    updated_at: str | None = Field(None, alias="updatedAt")


def _name(arn: str) -> str:
    parsed = arns.parse_arn(arn)
    return parsed.resource_id if parsed else arn.rsplit("/", 1)[-1]


def _cluster_service_from_service_arn(arn: str) -> tuple[str, str]:
    """``…:service/cluster/name`` (new format) or ``…:service/name`` (old format, no cluster)."""
    parsed = arns.parse_arn(arn)
    parts = parsed.resource.split("/") if parsed else arn.split("/")
    if len(parts) >= 3:
        return parts[-2], parts[-1]
    return "", parts[-1]


def task_failure(d: TaskStateChange) -> tuple[Severity, str | None]:
    """Severity of a task event and why it failed (None when it didn't).

    A task that stopped because every container exited 0, or because a person / the service
    scheduler stopped it, is a normal stop (INFO).
    """
    if d.last_status != "STOPPED":
        return Severity.INFO, None
    if d.stop_code == "TaskFailedToStart":
        return Severity.HIGH, d.stopped_reason or "task failed to start"
    if d.stop_code == "SpotInterruption":
        return Severity.LOW, "Fargate Spot interruption"
    bad = [c for c in d.containers if c.exit_code not in (None, 0)]
    if bad:
        c = bad[0]
        return Severity.MEDIUM, f"container {c.name} exited with code {c.exit_code}" + (
            f" ({c.reason})" if c.reason else ""
        )
    crashed = [c for c in d.containers if c.reason and c.exit_code is None]
    if crashed:
        return Severity.MEDIUM, f"container {crashed[0].name}: {crashed[0].reason}"
    return Severity.INFO, None


@parsers.register(("aws.ecs", "ECS Task State Change"))
class EcsTaskParser(Parser):
    """An ECS task changed state. Example: a task of service web stopped with exit code 137 → MEDIUM."""

    kind = "ecs"
    doc = SourceDoc(
        label="ECS task",
        severity="failed to start HIGH; stopped with a non-zero exit code or a container error MEDIUM; Fargate Spot interruption LOW; a normal stop (all exit 0, user/scheduler stop) and other states INFO",
        resolved="normal stop",
        fingerprint="failures: cluster + service (or task family); other: task ARN",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = TaskStateChange.model_validate(event.detail)
        region = event.region
        cluster = _name(d.cluster_arn)
        task_id = _name(d.task_arn)
        service = d.group.split(":", 1)[1] if d.group and d.group.startswith("service:") else None
        family = (
            d.task_definition_arn.rsplit("task-definition/", 1)[-1].split(":")[0] if d.task_definition_arn else None
        )
        severity, failure = task_failure(d)
        resources = [
            Resource(type="AwsEcsTask", id=task_id, arn=d.task_arn, region=region, account=event.account),
            Resource(type="AwsEcsCluster", id=cluster, arn=d.cluster_arn, region=region, account=event.account),
        ]
        if service:
            resources.append(Resource(type="AwsEcsService", id=service, region=region, account=event.account))
        owner = f"service {service}" if service else f"task {family or task_id}"
        if failure:
            title = f"ECS {owner} in {cluster}: task stopped — {failure}"
            # Failures group per service (or task family), so a crash loop is one message.
            fingerprint = Alert.make_fingerprint(self.kind, d.cluster_arn, service or family, "task-failed")
        elif d.last_status == "STOPPED":
            title = f"ECS {owner} in {cluster}: task stopped normally"
            fingerprint = Alert.make_fingerprint(self.kind, d.task_arn, "task")
        else:
            title = f"ECS {owner} in {cluster}: task {d.last_status.lower()}"
            fingerprint = Alert.make_fingerprint(self.kind, d.task_arn, "task")
        exit_codes = ", ".join(f"{c.name}={c.exit_code}" for c in d.containers if c.exit_code is not None)
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=fingerprint,
            title=title,
            summary=d.stopped_reason or "",
            severity=severity,
            resources=resources,
            fields={
                "Cluster": cluster,
                "Service": service,
                "Task": task_id,
                "Task definition": d.task_definition_arn.rsplit("/", 1)[-1] if d.task_definition_arn else None,
                "Status": f"{d.last_status} (desired {d.desired_status})" if d.desired_status else d.last_status,
                "Stop code": d.stop_code,
                "Exit codes": exit_codes,
                "Launch type": d.launch_type,
            },
            links=console.keep(
                console.ecs_task(region, cluster, task_id),
                console.ecs_service(region, cluster, service) if service else None,
            ),
            context={"ecs": {"cluster": cluster, "service": service}},
            problems=["ecs:task-failed" if failure else f"ecs:task-{d.last_status.lower()}"],
            active=failure is not None,
        )


@parsers.register(("aws.ecs", "ECS Deployment State Change"))
class EcsDeploymentParser(Parser):
    """An ECS service deployment changed state. Example: SERVICE_DEPLOYMENT_FAILED for web → HIGH."""

    kind = "ecs"
    doc = SourceDoc(
        label="ECS deployment",
        severity="failed HIGH, in progress/completed INFO",
        resolved="completed",
        fingerprint="service ARN, deployment id",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = DeploymentStateChange.model_validate(event.detail)
        service_arn = next((r for r in event.resources if ":service/" in r), None)
        if service_arn is None:
            raise ValueError("ECS deployment event without a service ARN in resources")
        cluster, service = _cluster_service_from_service_arn(service_arn)
        name = d.event_name.upper()
        if name == "SERVICE_DEPLOYMENT_FAILED":
            severity, what = Severity.HIGH, "failed"
        elif name == "SERVICE_DEPLOYMENT_COMPLETED":
            severity, what = Severity.INFO, "completed"
        else:
            severity, what = Severity.INFO, "in progress"
        resources = [
            Resource(type="AwsEcsService", id=service, arn=service_arn, region=event.region, account=event.account)
        ]
        if cluster:
            resources.append(Resource(type="AwsEcsCluster", id=cluster, region=event.region, account=event.account))
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, service_arn, "deployment", d.deployment_id),
            title=f"ECS deployment {what}: {service}" + (f" in {cluster}" if cluster else ""),
            summary=d.reason or "",
            severity=severity,
            resources=resources,
            fields={"Service": service, "Cluster": cluster, "Deployment": d.deployment_id, "Event": d.event_name},
            links=console.keep(console.ecs_service(event.region, cluster, service) if cluster else None),
            context={"ecs": {"cluster": cluster or None, "service": service}},
            problems=[f"ecs:{name}"],
            active=name != "SERVICE_DEPLOYMENT_COMPLETED",
        )
