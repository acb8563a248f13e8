"""Security Hub remediations: set a finding's workflow status (RESOLVED, SUPPRESSED, …).

Example::

    run(remediations["securityhub.set-workflow-status"], ctx,
        {"finding_id": "arn:aws:securityhub:...", "product_arn": "arn:aws:securityhub:...", "status": "RESOLVED"})
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from bot.errors import NotFoundError, PreconditionError
from bot.models import Alert, Risk
from bot.remediations.base import Remediation, RemediationContext, RemediationParams, register
from bot.remediations.common import coerce_params, where


class WorkflowParams(RemediationParams):
    finding_id: str = Field(min_length=1, max_length=512)
    product_arn: str = Field(min_length=1, max_length=512)
    status: Literal["NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"] = "RESOLVED"
    # The finding's note (Security Hub keeps one, ≤ 512 characters), e.g. who dismissed it and why.
    note: str | None = Field(default=None, min_length=1, max_length=512)


@register
class SetWorkflowStatus(Remediation):
    """Set the workflow status of a Security Hub finding (default RESOLVED); undo restores the previous one.

    The resource itself is untouched. Security Hub resets a RESOLVED finding to NEW when the
    provider updates it with a new failing record, so a resolved finding can come back.

    Example::

        run(remediations["securityhub.set-workflow-status"], ctx,
            {"finding_id": "arn:aws:securityhub:eu-west-1:123456789012:finding/abc",
             "product_arn": "arn:aws:securityhub:eu-west-1::product/aws/securityhub", "status": "SUPPRESSED"})
    """

    name = "securityhub.set-workflow-status"
    fixes = ("securityhub:finding",)
    title = "Set finding workflow status"
    risk = Risk.LOW
    permissions = ("securityhub:GetFindings", "securityhub:BatchUpdateFindings")
    resource_types = ()
    reversible = True
    Params = WorkflowParams

    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        hub = alert.context.get("securityhub") or {}
        if hub.get("finding_id") and hub.get("product_arn"):
            return {"finding_id": hub["finding_id"], "product_arn": hub["product_arn"], "status": "RESOLVED"}
        return None

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        p = coerce_params(self, params)
        return [
            f"Would set the workflow status of Security Hub finding {p.finding_id} to {p.status} {where(account, region)}".rstrip()
        ]

    def example_params(self) -> dict[str, Any]:
        return {
            "finding_id": "arn:aws:securityhub:eu-west-1:123456789012:finding/0abc",
            "product_arn": "arn:aws:securityhub:eu-west-1::product/aws/securityhub",
            "status": "RESOLVED",
        }

    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        resp = ctx.client("securityhub").get_findings(
            Filters={
                "Id": [{"Value": params.finding_id, "Comparison": "EQUALS"}],
                "ProductArn": [{"Value": params.product_arn, "Comparison": "EQUALS"}],
            },
            MaxResults=1,
        )
        findings = resp.get("Findings", [])
        if not findings:
            raise NotFoundError(f"Security Hub finding {params.finding_id} does not exist")
        return {"finding_id": params.finding_id, "workflow_status": (findings[0].get("Workflow") or {}).get("Status")}

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        return state.get("workflow_status") == params.status

    def _set(self, ctx: RemediationContext, params: Any, status: str, note: str | None = None) -> None:
        resp = ctx.client("securityhub").batch_update_findings(
            FindingIdentifiers=[{"Id": params.finding_id, "ProductArn": params.product_arn}],
            Workflow={"Status": status},
            Note={
                "Text": note or f"Workflow set to {status} via EventOps by {ctx.actor.user_id}",
                "UpdatedBy": "eventops",
            },
        )
        unprocessed = resp.get("UnprocessedFindings") or []
        if unprocessed:
            first = unprocessed[0]
            raise PreconditionError(
                f"Security Hub did not update {params.finding_id}: {first.get('ErrorCode')}: {first.get('ErrorMessage')}"
            )

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        self._set(ctx, params, params.status, params.note)
        return f"Set finding {params.finding_id} to {params.status} (was {pre_state.get('workflow_status')})"

    def undo(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        previous = pre_state.get("workflow_status") or "NEW"
        self._set(ctx, params, previous)
        return f"Set finding {params.finding_id} back to {previous}"
