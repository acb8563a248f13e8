"""ECS remediations: force a new deployment of a service (replace its tasks).

Example::

    run(remediations["ecs.force-new-deployment"], ctx, {"cluster": "prod", "service": "web"})
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.errors import NotFoundError
from bot.models import Alert, Risk
from bot.remediations.base import Remediation, RemediationContext, RemediationParams, register
from bot.remediations.common import coerce_params, not_found_as, run_notes, tag_dict, where


class ServiceParams(RemediationParams):
    cluster: str = Field(min_length=1, max_length=2048)
    service: str = Field(min_length=1, max_length=2048)


@register
class ForceNewDeployment(Remediation):
    """Force a new deployment of an ECS service: same task definition, fresh tasks.

    Useful for tasks stuck on a bad host, a leaked connection pool or a rotated secret. Tasks
    are replaced gradually per the service's deployment configuration. Verified by a new
    PRIMARY deployment id; not reversible (there is nothing to put back).

    Example::

        run(remediations["ecs.force-new-deployment"], ctx, {"cluster": "prod", "service": "web"})
    """

    name = "ecs.force-new-deployment"
    fixes = (
        "ecs:SERVICE_DEPLOYMENT_FAILED",
        "ecs:task-failed",
        "ecs:SERVICE_TASK_*",
        # A new deployment retries the same placement: it can't add capacity or fix a task definition.
        "!ecs:SERVICE_TASK_PLACEMENT_FAILURE",
        "!ecs:SERVICE_TASK_CONFIGURATION_FAILURE",
    )
    title = "Force new deployment"
    risk = Risk.MEDIUM
    permissions = ("ecs:DescribeServices", "ecs:UpdateService")
    resource_types = ("AwsEcsService",)
    Params = ServiceParams

    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        ecs = alert.context.get("ecs") or {}
        if ecs.get("cluster") and ecs.get("service"):
            return {"cluster": ecs["cluster"], "service": ecs["service"]}
        return None

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        p = coerce_params(self, params)
        return [
            f"Would start a new deployment of ECS service {p.service} in cluster {p.cluster} "
            f"{where(account, region)}, replacing its tasks gradually".replace("  ", " ")
        ]

    def example_params(self) -> dict[str, Any]:
        return {"cluster": "prod", "service": "web"}

    def _note_key(self, params: Any) -> str:
        return f"ecs:{params.cluster}/{params.service}"

    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        what = f"ECS service {params.service} in cluster {params.cluster}"
        with not_found_as({"ClusterNotFoundException", "ServiceNotFoundException"}, what):
            resp = ctx.client("ecs").describe_services(
                cluster=params.cluster, services=[params.service], include=["TAGS"]
            )
        services = resp.get("services", [])
        if not services or services[0].get("status") == "INACTIVE":
            raise NotFoundError(f"{what} does not exist")
        svc = services[0]
        primary = next((d["id"] for d in svc.get("deployments", []) if d.get("status") == "PRIMARY"), None)
        return {
            "cluster": params.cluster,
            "service": params.service,
            "primary_deployment": primary,
            "replaced_deployment": run_notes.pop(ctx, self._note_key(params)),
            "tags": tag_dict(svc.get("tags"), "key", "value"),
        }

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        replaced = state.get("replaced_deployment")
        return bool(replaced) and state.get("primary_deployment") not in (None, replaced)

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        resp = ctx.client("ecs").update_service(cluster=params.cluster, service=params.service, forceNewDeployment=True)
        run_notes.put(ctx, self._note_key(params), pre_state.get("primary_deployment") or "none")
        new = next(
            (d["id"] for d in resp.get("service", {}).get("deployments", []) if d.get("status") == "PRIMARY"), None
        )
        return f"Started a new deployment{f' {new}' if new else ''} of {params.service} in {params.cluster}"
