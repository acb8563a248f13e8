"""CodeDeploy deployment and instance state changes."""

from __future__ import annotations

from pydantic import Field

from bot.models import Alert, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

_SEVERITY = {"FAILURE": Severity.HIGH, "STOP": Severity.LOW}


class DeploymentStateChange(Detail):
    deployment_id: str = Field(alias="deploymentId", min_length=1)
    state: str
    application: str | None = None
    deployment_group: str | None = Field(None, alias="deploymentGroup")
    instance_id: str | None = Field(None, alias="instanceId")


@parsers.register(
    ("aws.codedeploy", "CodeDeploy Deployment State-change Notification"),
    ("aws.codedeploy", "CodeDeploy Instance State-change Notification"),
)
class CodeDeployParser(Parser):
    """A CodeDeploy deployment (or one instance of it) changed state. Example: d-ABC123XYZ FAILURE → HIGH."""

    kind = "codedeploy"
    doc = SourceDoc(
        label="CodeDeploy",
        severity="FAILURE HIGH, STOP LOW, others INFO",
        resolved="SUCCESS, READY",
        fingerprint="account, region, application/group (+ instance)",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = DeploymentStateChange.model_validate(event.detail)
        state = d.state.upper()
        target = f"{d.application}/{d.deployment_group}" if d.application and d.deployment_group else d.deployment_id
        resources = [
            Resource(type="AwsCodeDeployDeployment", id=d.deployment_id, region=event.region, account=event.account)
        ]
        scope = "deployment"
        if d.instance_id and arns.INSTANCE_ID_RE.match(d.instance_id.rsplit("/", 1)[-1]):
            iid = d.instance_id.rsplit("/", 1)[-1]
            scope = f"instance {iid}"
            resources.append(
                Resource(
                    type="AwsEc2Instance",
                    id=iid,
                    arn=arns.build_arn("ec2", event.region, event.account, f"instance/{iid}"),
                    region=event.region,
                    account=event.account,
                )
            )
        return make_alert(
            event,
            ctx,
            self.kind,
            # Per application/deployment group: a failure and the next success share one message.
            fingerprint=Alert.make_fingerprint(
                self.kind, event.account, event.region, target, scope if d.instance_id else None
            ),
            title=f"CodeDeploy {target}: {scope} {state.lower()}",
            summary=f"Deployment {d.deployment_id} reported {state}.",
            severity=_SEVERITY.get(state, Severity.INFO),
            resources=resources,
            fields={
                "Application": d.application,
                "Deployment group": d.deployment_group,
                "Deployment": d.deployment_id,
                "Instance": d.instance_id,
                "State": state,
            },
            links=console.keep(console.codedeploy_deployment(event.region, d.deployment_id)),
            active=state not in ("SUCCESS", "READY"),
        )
