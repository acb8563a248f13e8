"""EC2 Auto Scaling launch and terminate failures."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.models import Alert, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers


class ScalingActivity(Detail):
    group_name: str = Field(alias="AutoScalingGroupName", min_length=1)
    status_code: str | None = Field(None, alias="StatusCode")
    status_message: str | None = Field(None, alias="StatusMessage")
    cause: str | None = Field(None, alias="Cause")
    activity_id: str | None = Field(None, alias="ActivityId")
    instance_id: str | None = Field(None, alias="EC2InstanceId")
    details: dict[str, Any] = Field(default_factory=dict, alias="Details")


@parsers.register(
    ("aws.autoscaling", "EC2 Instance Launch Unsuccessful"),
    ("aws.autoscaling", "EC2 Instance Terminate Unsuccessful"),
)
class AutoScalingFailureParser(Parser):
    """An Auto Scaling group failed to launch or terminate an instance. Example: launch failed in web-asg → HIGH."""

    kind = "autoscaling"
    doc = SourceDoc(
        label="Auto Scaling",
        severity="launch failure HIGH, terminate failure MEDIUM",
        resolved="—",
        fingerprint="account, region, group, launch/terminate",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = ScalingActivity.model_validate(event.detail)
        launch = "Launch" in event.detail_type
        group_arn = next((r for r in event.resources if "autoScalingGroup" in r), None)
        resources = [
            Resource(
                type="AwsAutoScalingAutoScalingGroup",
                id=d.group_name,
                arn=group_arn,
                region=event.region,
                account=event.account,
            )
        ]
        if d.instance_id and arns.INSTANCE_ID_RE.match(d.instance_id):
            resources.append(
                Resource(
                    type="AwsEc2Instance",
                    id=d.instance_id,
                    arn=arns.build_arn("ec2", event.region, event.account, f"instance/{d.instance_id}"),
                    region=event.region,
                    account=event.account,
                )
            )
        verb = "launch" if launch else "terminate"
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.account, event.region, d.group_name, verb),
            title=f"Auto Scaling group {d.group_name} could not {verb} an instance",
            summary=d.status_message or d.cause or "",
            severity=Severity.HIGH if launch else Severity.MEDIUM,
            resources=resources,
            fields={
                "Group": d.group_name,
                "Status": d.status_code,
                "Instance": d.instance_id,
                "Availability Zone": d.details.get("Availability Zone"),
                "Subnet": d.details.get("Subnet ID"),
                "Cause": d.cause,
            },
            links=console.keep(console.autoscaling_group(event.region, d.group_name)),
            context={"asg": {"name": d.group_name}},
        )
