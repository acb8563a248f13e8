"""Auto Scaling remediations: set an Auto Scaling group's desired capacity.

Example::

    run(remediations["autoscaling.set-desired-capacity"], ctx, {"group_name": "web", "desired": 4})
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.errors import NotFoundError, PreconditionError
from bot.models import Alert, Risk
from bot.remediations.base import Remediation, RemediationContext, RemediationParams, register
from bot.remediations.common import coerce_params, tag_dict, where


class CapacityParams(RemediationParams):
    group_name: str = Field(min_length=1, max_length=255)
    # None: the group's current MinSize (scale in to the floor), resolved when it runs.
    desired: int | None = Field(default=None, ge=0)


@register
class SetDesiredCapacity(Remediation):
    """Set the desired capacity of an Auto Scaling group (within its min and max).

    Without ``desired`` the group is scaled to its minimum size. Cooldowns are not honoured
    (HonorCooldown=False), so the change starts at once; scaling policies may move the group
    again afterwards. Undo sets the previous desired capacity.

    Example::

        run(remediations["autoscaling.set-desired-capacity"], ctx, {"group_name": "web", "desired": 4})
    """

    name = "autoscaling.set-desired-capacity"
    fixes = ("autoscaling:EC2 Instance Launch Unsuccessful",)
    title = "Set desired capacity"
    risk = Risk.MEDIUM
    permissions = ("autoscaling:DescribeAutoScalingGroups", "autoscaling:SetDesiredCapacity")
    resource_types = ("AwsAutoScalingAutoScalingGroup",)
    reversible = True
    Params = CapacityParams

    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        for res in alert.resources:
            if res.type == "AwsAutoScalingAutoScalingGroup" and res.id:
                return {"group_name": res.id}
        name = (alert.context.get("asg") or {}).get("name")
        return {"group_name": name} if name else None

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        p = coerce_params(self, params)
        target = str(p.desired) if p.desired is not None else "its minimum size"
        return [
            f"Would set the desired capacity of Auto Scaling group {p.group_name} to {target} {where(account, region)}".rstrip()
        ]

    def example_params(self) -> dict[str, Any]:
        return {"group_name": "web", "desired": 2}

    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        resp = ctx.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[params.group_name])
        groups = resp.get("AutoScalingGroups", [])
        if not groups:
            raise NotFoundError(f"Auto Scaling group {params.group_name} does not exist")
        group = groups[0]
        return {
            "group_name": params.group_name,
            "desired": group.get("DesiredCapacity"),
            "min_size": group.get("MinSize"),
            "max_size": group.get("MaxSize"),
            "tags": tag_dict(group.get("Tags")),
        }

    @staticmethod
    def target(state: dict[str, Any], params: Any) -> int:
        return params.desired if params.desired is not None else int(state.get("min_size") or 0)

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        return state.get("desired") == self.target(state, params)

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        target = self.target(pre_state, params)
        low, high = pre_state.get("min_size"), pre_state.get("max_size")
        if low is not None and high is not None and not low <= target <= high:
            raise PreconditionError(
                f"{target} is outside the size of {params.group_name} (min {low}, max {high}); change the group's limits first"
            )
        ctx.client("autoscaling").set_desired_capacity(
            AutoScalingGroupName=params.group_name, DesiredCapacity=target, HonorCooldown=False
        )
        return f"Set the desired capacity of {params.group_name} to {target} (was {pre_state.get('desired')})"

    def undo(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        previous = pre_state.get("desired")
        ctx.client("autoscaling").set_desired_capacity(
            AutoScalingGroupName=params.group_name, DesiredCapacity=previous, HonorCooldown=False
        )
        return f"Set the desired capacity of {params.group_name} back to {previous}"
