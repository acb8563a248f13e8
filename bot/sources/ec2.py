"""EC2 instance state changes and Spot interruption warnings."""

from __future__ import annotations

from pydantic import Field

from bot.models import Alert, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

_STATE_SEVERITY = {
    "pending": Severity.INFO,
    "running": Severity.INFO,
    "stopping": Severity.LOW,
    "stopped": Severity.LOW,
    "shutting-down": Severity.MEDIUM,
    "terminated": Severity.MEDIUM,
}


class StateChange(Detail):
    instance_id: str = Field(alias="instance-id", pattern=arns.INSTANCE_ID_RE.pattern)
    state: str


class SpotWarning(Detail):
    instance_id: str = Field(alias="instance-id", pattern=arns.INSTANCE_ID_RE.pattern)
    instance_action: str = Field("terminate", alias="instance-action")


def instance_resource(event: EventEnvelope, ctx: ParseContext, instance_id: str) -> Resource:
    """The instance, its ARN from the envelope (or built), and its tags via ``ctx.tags_for``."""
    arn = next((r for r in event.resources if isinstance(r, str) and r.endswith(f"instance/{instance_id}")), None)
    tags = ctx.tags_for("AwsEc2Instance", instance_id, event.account, event.region)
    return Resource(
        type="AwsEc2Instance",
        id=instance_id,
        arn=arn or arns.build_arn("ec2", event.region, event.account, f"instance/{instance_id}"),
        name=tags.get("Name"),
        region=event.region,
        account=event.account,
        tags=tags,
    )


def _label(res: Resource) -> str:
    return f"{res.name} ({res.id})" if res.name else res.id


@parsers.register(("aws.ec2", "EC2 Instance State-change Notification"))
class InstanceStateParser(Parser):
    """An instance changed state. Example: i-0abc "stopped" → LOW; "running" again marks it resolved."""

    kind = "ec2"
    doc = SourceDoc(
        label="EC2 state change",
        severity="shutting-down/terminated MEDIUM, stopping/stopped LOW, pending/running INFO",
        resolved="running, pending",
        fingerprint="account, region, instance id (not the state)",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = StateChange.model_validate(event.detail)
        state = d.state.lower()
        res = instance_resource(event, ctx, d.instance_id)
        return make_alert(
            event,
            ctx,
            self.kind,
            # Instance id only (not the state): stopping → stopped → running update one message.
            fingerprint=Alert.make_fingerprint(self.kind, event.account, event.region, d.instance_id, "state"),
            title=f"Instance {_label(res)} is {state}",
            summary=f"EC2 instance {d.instance_id} changed state to {state}.",
            severity=_STATE_SEVERITY.get(state, Severity.INFO),
            resources=[res],
            fields={"Instance": d.instance_id, "Name": res.name, "State": state},
            links=console.keep(console.ec2_instance(event.region, d.instance_id)),
            problems=[f"ec2-state:{state}"],
            active=state not in ("running", "pending"),
        )


@parsers.register(("aws.ec2", "EC2 Spot Instance Interruption Warning"))
class SpotInterruptionParser(Parser):
    """Two-minute warning before a Spot instance is reclaimed. Example: i-0abc will terminate → MEDIUM."""

    kind = "ec2"
    doc = SourceDoc(
        label="EC2 Spot interruption",
        severity="MEDIUM",
        resolved="—",
        fingerprint="account, region, instance id",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = SpotWarning.model_validate(event.detail)
        res = instance_resource(event, ctx, d.instance_id)
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(
                self.kind, event.account, event.region, d.instance_id, "spot-interruption"
            ),
            title=f"Spot instance {_label(res)} will {d.instance_action} in 2 minutes",
            summary=f"EC2 is reclaiming Spot capacity; the instance action is {d.instance_action}.",
            severity=Severity.MEDIUM,
            resources=[res],
            fields={"Instance": d.instance_id, "Name": res.name, "Action": d.instance_action},
            links=console.keep(console.ec2_instance(event.region, d.instance_id)),
        )
