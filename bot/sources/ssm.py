"""Systems Manager Automation executions/steps and Run Command commands/invocations that changed status."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.models import Alert, Link, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers


class AutomationStatus(Detail):
    execution_id: str = Field(alias="ExecutionId", min_length=1)
    definition: str = Field("", alias="Definition")
    definition_version: Any = Field(None, alias="DefinitionVersion")
    status: str = Field("", alias="Status")
    executed_by: str | None = Field(None, alias="ExecutedBy")
    step_name: str | None = Field(None, alias="StepName")
    action: str | None = Field(None, alias="Action")
    failure_message: str | None = Field(None, alias="FailureMessage")


class CommandStatus(Detail):
    command_id: str = Field(alias="command-id", min_length=1)
    document_name: str = Field("", alias="document-name")
    status: str = ""
    instance_id: str | None = Field(None, alias="instance-id")


_FAILED = {
    "failed",
    "timedout",
    "timed out",
    "delivery timed out",
    "execution timed out",
    "undeliverable",
    "terminated",
    "completedwithfailure",
    "rejected",
}
_CANCELLED = {"cancelled", "cancelling"}


def status_severity(status: str) -> tuple[Severity, bool]:
    """(severity, active): failures MEDIUM, cancelled LOW, success and in-progress/pending INFO and over."""
    s = status.strip().lower()
    if s in _FAILED:
        return Severity.MEDIUM, True
    if s in _CANCELLED:
        return Severity.LOW, True
    return Severity.INFO, False


def _problem(status: str) -> str:
    return "ssm:" + ("-".join(status.lower().split()) or "unknown")


def _uuid_link(region: str, value: str, label: str, path: str) -> Link | None:
    if not (arns.is_region(region) and arns.matches(arns.UUID_RE, value)):
        return None
    return Link(label=label, url=f"{console._host(region)}/systems-manager/{path}?region={region}")


def _automation_link(region: str, execution_id: str) -> Link | None:
    return _uuid_link(region, execution_id, "Automation execution", f"automation/execution/{execution_id}")


def _command_link(region: str, command_id: str, instance_id: str | None = None) -> Link | None:
    if instance_id and arns.matches(arns.INSTANCE_ID_RE, instance_id):
        return _uuid_link(region, command_id, "Command output", f"run-command/{command_id}/{instance_id}")
    return _uuid_link(region, command_id, "Run Command command", f"run-command/{command_id}")


def _automation_resource(event: EventEnvelope, d: AutomationStatus) -> Resource:
    arn = next((r for r in event.resources if ":automation-execution/" in r), None)
    return Resource(
        type="Other",
        id=d.execution_id,
        arn=arn or arns.build_arn("ssm", event.region, event.account, f"automation-execution/{d.execution_id}"),
        name=d.definition or None,
        region=event.region,
        account=event.account,
    )


def _instances(event: EventEnvelope, ctx: ParseContext, instance_id: str | None) -> list[Resource]:
    ids = [instance_id] if instance_id else []
    if not ids:
        ids = [r.rsplit("/", 1)[-1] for r in event.resources if ":instance/" in r]
    out = []
    for iid in dict.fromkeys(ids):
        if not arns.matches(arns.INSTANCE_ID_RE, iid):
            out.append(Resource(type="Other", id=iid, region=event.region, account=event.account))
            continue
        tags = ctx.tags_for("AwsEc2Instance", iid, event.account, event.region)
        out.append(
            Resource(
                type="AwsEc2Instance",
                id=iid,
                arn=arns.build_arn("ec2", event.region, event.account, f"instance/{iid}"),
                name=tags.get("Name"),
                region=event.region,
                account=event.account,
                tags=tags,
            )
        )
    return out


@parsers.register(("aws.ssm", "EC2 Automation Execution Status-change Notification"))
class SsmAutomationExecutionParser(Parser):
    """An SSM Automation runbook execution changed status (EventOps's own runbook runs from bot/remediations/ssm.py too). Example: AWS-RestartEC2Instance Failed → MEDIUM."""

    kind = "ssm"
    doc = SourceDoc(
        label="SSM Automation execution",
        severity="Failed/TimedOut MEDIUM, Cancelled LOW, Success and in progress INFO",
        resolved="Success (and non-final statuses)",
        fingerprint="account, region, execution id",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = AutomationStatus.model_validate(event.detail)
        severity, active = status_severity(d.status)
        runbook = d.definition or "runbook"
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.account, event.region, d.execution_id, "automation"),
            title=f"SSM Automation {runbook}: {d.status or 'status changed'}",
            summary=d.failure_message or "",
            severity=severity,
            resources=[_automation_resource(event, d)],
            fields={
                "Runbook": d.definition,
                "Version": d.definition_version,
                "Execution": d.execution_id,
                "Started by": d.executed_by,
            },
            links=console.keep(_automation_link(event.region, d.execution_id)),
            problems=[_problem(d.status)],
            active=active,
        )


@parsers.register(("aws.ssm", "EC2 Automation Step Status-change Notification"))
class SsmAutomationStepParser(Parser):
    """A step of an SSM Automation execution changed status (EventOps's own runbook runs too). Example: step runFixedCmds of runcommand1 Failed → MEDIUM."""

    kind = "ssm"
    doc = SourceDoc(
        label="SSM Automation step",
        severity="Failed/TimedOut MEDIUM, Cancelled LOW, Success and in progress INFO",
        resolved="Success (and non-final statuses)",
        fingerprint="account, region, execution id, step name",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = AutomationStatus.model_validate(event.detail)
        severity, active = status_severity(d.status)
        step = d.step_name or "step"
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(
                self.kind, event.account, event.region, d.execution_id, d.step_name, "automation-step"
            ),
            title=f"SSM Automation {d.definition or 'runbook'}, step {step}: {d.status or 'status changed'}",
            summary=d.failure_message or "",
            severity=severity,
            resources=[_automation_resource(event, d)],
            fields={
                "Runbook": d.definition,
                "Step": d.step_name,
                "Action": d.action,
                "Execution": d.execution_id,
            },
            links=console.keep(_automation_link(event.region, d.execution_id)),
            problems=[_problem(d.status)],
            active=active,
        )


@parsers.register(
    ("aws.ssm", "EC2 Command Status-change Notification"),
    ("aws.ssm", "EC2 Command Invocation Status-change Notification"),
)
class SsmCommandParser(Parser):
    """A Run Command command, or its invocation on one instance, changed status (EventOps's own runbook runs can send these too). Example: AWS-RunShellScript on i-0abc… TimedOut → MEDIUM."""

    kind = "ssm"
    doc = SourceDoc(
        label="SSM Run Command",
        severity="Failed/TimedOut/Delivery Timed Out MEDIUM, Cancelled LOW, Success/InProgress/Pending INFO",
        resolved="Success (and InProgress/Pending)",
        fingerprint="account, region, command id (+ instance id for invocations)",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = CommandStatus.model_validate(event.detail)
        invocation = "Invocation" in event.detail_type
        severity, active = status_severity(d.status)
        instances = _instances(event, ctx, d.instance_id if invocation else None)
        instance = instances[0] if invocation and instances else None
        document = d.document_name or "command"
        where = f" on {instance.name or instance.id}" if instance else ""
        if not invocation and len(instances) > 1:
            where = f" on {len(instances)} instances"
        elif not invocation and instances:
            where = f" on {instances[0].name or instances[0].id}"
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(
                self.kind,
                event.account,
                event.region,
                d.command_id,
                instance.id if instance else None,
                "command-invocation" if invocation else "command",
            ),
            title=f"SSM Run Command {document}{where}: {d.status or 'status changed'}",
            severity=severity,
            resources=instances[:20],
            fields={
                "Document": d.document_name,
                "Command": d.command_id,
                "Instances": ", ".join(r.id for r in instances[:10]) if not invocation and len(instances) > 1 else None,
            },
            links=console.keep(
                _command_link(event.region, d.command_id, instance.id if instance else None),
                console.ec2_instance(event.region, instance.id) if instance else None,
            ),
            problems=[_problem(d.status)],
            active=active,
        )
