"""GuardDuty remediations: archive a finding.

Example::

    run(remediations["guardduty.archive-finding"], ctx, {"detector_id": "12abc34d", "finding_id": "5ef678"})
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.errors import NotFoundError
from bot.models import Alert, Risk
from bot.remediations.base import Remediation, RemediationContext, RemediationParams, register
from bot.remediations.common import coerce_params, not_found_as, where


class FindingParams(RemediationParams):
    detector_id: str = Field(min_length=1, max_length=300)
    finding_id: str = Field(min_length=1, max_length=300)


@register
class ArchiveFinding(Remediation):
    """Archive a GuardDuty finding (hide it from the active list); undo unarchives it.

    The threat itself is untouched: archive once it is handled or judged benign. A repeat of
    the same activity updates the archived finding, which stays archived; for recurring benign
    activity a suppression rule is the better tool.

    Example::

        run(remediations["guardduty.archive-finding"], ctx, {"detector_id": "12abc34d", "finding_id": "5ef678"})
    """

    name = "guardduty.archive-finding"
    fixes = ("guardduty:*",)
    title = "Archive finding"
    risk = Risk.LOW
    permissions = ("guardduty:GetFindings", "guardduty:ArchiveFindings", "guardduty:UnarchiveFindings")
    resource_types = ()
    reversible = True
    Params = FindingParams

    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        gd = alert.context.get("guardduty") or {}
        if gd.get("detector_id") and gd.get("finding_id"):
            return {"detector_id": gd["detector_id"], "finding_id": gd["finding_id"]}
        return None

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        p = coerce_params(self, params)
        return [
            f"Would archive GuardDuty finding {p.finding_id} of detector {p.detector_id} {where(account, region)}".rstrip()
        ]

    def example_params(self) -> dict[str, Any]:
        return {"detector_id": "12abc34d567e8fa901bc2d34e56789f0", "finding_id": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"}

    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        what = f"GuardDuty finding {params.finding_id}"
        # GuardDuty answers an unknown detector with a 400 BadRequestException.
        with not_found_as({"BadRequestException"}, f"{what} (or detector {params.detector_id})"):
            resp = ctx.client("guardduty").get_findings(DetectorId=params.detector_id, FindingIds=[params.finding_id])
        findings = resp.get("Findings", [])
        if not findings:
            raise NotFoundError(f"{what} does not exist")
        return {"finding_id": params.finding_id, "archived": bool((findings[0].get("Service") or {}).get("Archived"))}

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        return state.get("archived") is True

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        ctx.client("guardduty").archive_findings(DetectorId=params.detector_id, FindingIds=[params.finding_id])
        return f"Archived GuardDuty finding {params.finding_id}"

    def undo(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        ctx.client("guardduty").unarchive_findings(DetectorId=params.detector_id, FindingIds=[params.finding_id])
        return f"Unarchived GuardDuty finding {params.finding_id}"
