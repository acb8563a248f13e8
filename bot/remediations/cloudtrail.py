"""CloudTrail remediations: start logging on a trail someone stopped.

Example::

    run(remediations["cloudtrail.start-logging"], ctx, {"trail": "org-trail"})
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.errors import NotFoundError
from bot.models import Alert, Risk
from bot.remediations.base import Remediation, RemediationContext, RemediationParams, register
from bot.remediations.common import coerce_params, not_found_as, tag_dict, where

TRAIL_GONE = {"TrailNotFoundException", "InvalidTrailNameException"}


class TrailParams(RemediationParams):
    trail: str = Field(min_length=3, max_length=2048, description="trail name or ARN")


@register
class StartLogging(Remediation):
    """Start logging on a CloudTrail trail (the usual answer to a StopLogging call).

    Not reversible on purpose: stopping a trail is what an intruder does, never a fix. Events
    from the gap while the trail was stopped are not recovered; the Event history (90 days of
    management events) still has them.

    Example::

        run(remediations["cloudtrail.start-logging"], ctx, {"trail": "org-trail"})
    """

    name = "cloudtrail.start-logging"
    fixes = (
        "securityhub-control:CloudTrail.1",
        "config-rule:*cloudtrail-enabled*",
        "cloudtrail-call:StopLogging",
        "guardduty:Stealth:IAMUser/CloudTrailLoggingDisabled",
    )
    title = "Start CloudTrail logging"
    risk = Risk.LOW
    permissions = (
        "cloudtrail:GetTrailStatus",
        "cloudtrail:DescribeTrails",
        "cloudtrail:ListTags",
        "cloudtrail:StartLogging",
    )
    resource_types = ("AwsCloudTrailTrail",)
    Params = TrailParams

    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        trail = alert.context.get("trail") or {}
        if trail.get("arn") or trail.get("name"):
            return {"trail": trail.get("arn") or trail.get("name")}
        for res in alert.resources:
            if res.type == "AwsCloudTrailTrail" and (res.arn or res.id):
                return {"trail": res.arn or res.id}
        return None

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        p = coerce_params(self, params)
        return [f"Would start logging on trail {p.trail} {where(account, region)}".rstrip()]

    def example_params(self) -> dict[str, Any]:
        return {"trail": "org-trail"}

    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        ct = ctx.client("cloudtrail")
        what = f"trail {params.trail}"
        with not_found_as(TRAIL_GONE, what):
            status = ct.get_trail_status(Name=params.trail)
            trails = ct.describe_trails(trailNameList=[params.trail]).get("trailList", [])
        # Match by name or ARN ourselves: some implementations return every trail whatever the filter.
        trail = next((t for t in trails if params.trail in (t.get("Name"), t.get("TrailARN"))), None)
        if trail is None:
            raise NotFoundError(f"{what} does not exist")
        arn = trail["TrailARN"]
        with not_found_as(TRAIL_GONE, what):
            listed = ct.list_tags(ResourceIdList=[arn]).get("ResourceTagList", [])
        tags = tag_dict(listed[0].get("TagsList")) if listed else {}
        return {"trail_arn": arn, "is_logging": bool(status.get("IsLogging")), "tags": tags}

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        return state.get("is_logging") is True

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        ctx.client("cloudtrail").start_logging(Name=pre_state.get("trail_arn") or params.trail)
        return f"Started logging on trail {params.trail}"
