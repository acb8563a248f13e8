"""CodeBuild build state changes."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.models import Alert, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

_SEVERITY = {
    "FAILED": Severity.HIGH,
    "FAULT": Severity.HIGH,
    "TIMED_OUT": Severity.HIGH,
    "STOPPED": Severity.LOW,
}


class BuildStateChange(Detail):
    build_status: str = Field(alias="build-status")
    project_name: str = Field(alias="project-name", min_length=1)
    build_id: str | None = Field(None, alias="build-id")
    current_phase: str | None = Field(None, alias="current-phase")
    current_phase_context: str | None = Field(None, alias="current-phase-context")
    additional_information: dict[str, Any] = Field(default_factory=dict, alias="additional-information")


@parsers.register(("aws.codebuild", "CodeBuild Build State Change"))
class CodeBuildParser(Parser):
    """A CodeBuild build changed state. Example: project api-tests FAILED → HIGH."""

    kind = "codebuild"
    doc = SourceDoc(
        label="CodeBuild",
        severity="FAILED/FAULT/TIMED_OUT HIGH, STOPPED LOW, others INFO",
        resolved="SUCCEEDED",
        fingerprint="account, region, project",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = BuildStateChange.model_validate(event.detail)
        status = d.build_status.upper()
        build_uuid = d.build_id.rsplit(":", 1)[-1] if d.build_id else None
        info = d.additional_information
        initiator = info.get("initiator") if isinstance(info.get("initiator"), str) else None
        project_arn = arns.build_arn("codebuild", event.region, event.account, f"project/{d.project_name}")
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.account, event.region, d.project_name),
            title=f"Build {d.project_name}: {status.lower().replace('_', ' ')}",
            summary=d.current_phase_context if d.current_phase_context not in (None, "[]", "[: ]") else "",
            severity=_SEVERITY.get(status, Severity.INFO),
            resources=[
                Resource(
                    type="AwsCodeBuildProject",
                    id=d.project_name,
                    arn=project_arn,
                    region=event.region,
                    account=event.account,
                )
            ],
            fields={
                "Project": d.project_name,
                "Status": status,
                "Phase": d.current_phase,
                "Initiator": initiator,
                "Build": build_uuid,
            },
            links=console.keep(console.codebuild_build(event.region, event.account, d.project_name, build_uuid)),
            active=status != "SUCCEEDED",
        )
