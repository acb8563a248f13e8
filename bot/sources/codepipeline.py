"""CodePipeline pipeline, stage and action execution state changes."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.models import Alert, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

_SEVERITY = {
    "FAILED": Severity.HIGH,
    "CANCELED": Severity.LOW,
    "STOPPED": Severity.LOW,
    "ABANDONED": Severity.LOW,
}
_RESOLVED = ("SUCCEEDED",)


class PipelineExecution(Detail):
    pipeline: str = Field(min_length=1)
    execution_id: str | None = Field(None, alias="execution-id")
    state: str
    stage: str | None = None
    action: str | None = None
    type: dict[str, Any] = Field(default_factory=dict)


@parsers.register(
    ("aws.codepipeline", "CodePipeline Pipeline Execution State Change"),
    ("aws.codepipeline", "CodePipeline Stage Execution State Change"),
    ("aws.codepipeline", "CodePipeline Action Execution State Change"),
)
class CodePipelineParser(Parser):
    """A pipeline/stage/action execution changed state. Example: pipeline deploy-web FAILED → HIGH; SUCCEEDED → INFO."""

    kind = "codepipeline"
    doc = SourceDoc(
        label="CodePipeline",
        severity="FAILED HIGH, CANCELED/STOPPED/ABANDONED LOW, others INFO",
        resolved="SUCCEEDED",
        fingerprint="account, region, pipeline (+ stage, action)",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = PipelineExecution.model_validate(event.detail)
        state = d.state.upper()
        where = d.pipeline + (f" / {d.stage}" if d.stage else "") + (f" / {d.action}" if d.action else "")
        arn = next((r for r in event.resources if ":codepipeline:" in r), None)
        return make_alert(
            event,
            ctx,
            self.kind,
            # Per pipeline (stage, action): a failure and the next success share one message.
            fingerprint=Alert.make_fingerprint(self.kind, event.account, event.region, d.pipeline, d.stage, d.action),
            title=f"Pipeline {where}: {state.lower()}",
            summary=f"CodePipeline execution {d.execution_id or ''} is {state}.".replace("  ", " "),
            severity=_SEVERITY.get(state, Severity.INFO),
            resources=[
                Resource(
                    type="AwsCodePipelinePipeline",
                    id=d.pipeline,
                    arn=arn or arns.build_arn("codepipeline", event.region, event.account, d.pipeline),
                    region=event.region,
                    account=event.account,
                )
            ],
            fields={
                "Pipeline": d.pipeline,
                "Stage": d.stage,
                "Action": d.action,
                "State": state,
                "Provider": d.type.get("provider"),
                "Execution": d.execution_id,
            },
            links=console.keep(console.codepipeline_execution(event.region, d.pipeline, d.execution_id)),
            active=state not in _RESOLVED,
        )
