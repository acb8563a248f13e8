"""SSM remediations: run an Automation runbook named in the config's ``runbooks``.

Config (YAML)::

    runbooks:
      - document: AWS-RestartEC2Instance
        title: Restart with SSM
        resource_types: [AwsEc2Instance]
        parameters: {InstanceId: "{resource.id}"}

At start-up the worker calls ``configure_runbooks(config.runbooks)``; until then this
remediation applies to nothing and refuses to run.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from bot.config import Runbook
from bot.errors import NotFoundError, PreconditionError
from bot.models import Alert, Resource, Risk
from bot.remediations.base import Remediation, RemediationContext, RemediationParams, register, remediations
from bot.remediations.common import coerce_params, not_found_as, run_notes, where

PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[A-Za-z0-9_\-]+)*)\}")
# Statuses meaning AWS accepted the execution and it has not failed (yet).
STARTED = {
    "Pending",
    "InProgress",
    "Waiting",
    "Success",
    "PendingApproval",
    "Approved",
    "Scheduled",
    "RunbookInProgress",
    "PendingChangeCalendarOverride",
    "ChangeCalendarOverrideApproved",
    "CompletedWithSuccess",
}


def render_template(template: str, alert: Alert, resource: Resource | None) -> str | None:
    """Fill ``{resource.id}``, ``{resource.arn}``, ``{account}``, ``{region}``, ``{alert.id}``,
    ``{context.ecs.cluster}``…; None when a placeholder has no value.

    >>> render_template("{resource.id}", alert, Resource(type="AwsEc2Instance", id="i-0abc"))
    'i-0abc'
    """
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        head, *rest = match.group(1).split(".")
        found: Any = None
        if head == "resource" and resource is not None and len(rest) == 1:
            found = (
                getattr(resource, rest[0], None)
                if rest[0] in ("id", "arn", "name", "type", "region", "account")
                else None
            )
        elif head in ("account", "region") and not rest:
            found = getattr(alert, head) or None
        elif head == "alert" and rest in (["id"], ["title"], ["source_kind"]):
            found = getattr(alert, rest[0])
        elif head == "context":
            found = alert.context
            for part in rest:
                found = found.get(part) if isinstance(found, dict) else None
        if found is None or isinstance(found, (dict, list)) or found == "":
            missing = True
            return ""
        return str(found)

    rendered = PLACEHOLDER.sub(value, template)
    return None if missing else rendered


class AutomationParams(RemediationParams):
    document: str = Field(min_length=3, max_length=128, pattern=r"^[A-Za-z0-9_\-.:/]+$")
    parameters: dict[str, list[str]] = Field(default_factory=dict)


@register
class RunAutomation(Remediation):
    """Start an SSM Automation runbook listed in the config, with parameters taken from the alert.

    Only documents named in ``runbooks`` run, whatever the params say. Verified by reading the
    execution back (started, not failed); the runbook's own outcome arrives later. The runbook's
    steps run with its ``AutomationAssumeRole`` (the bot then also needs iam:PassRole on that
    role) or with the bot's own permissions. The per-runbook ``risk`` in the config is available
    from ``runbook_risk()``; the class risk is MEDIUM.

    Example::

        configure_runbooks([Runbook(document="AWS-RestartEC2Instance", resource_types=["AwsEc2Instance"],
                                    parameters={"InstanceId": "{resource.id}"})])
        run(remediations["ssm.run-automation"], ctx,
            {"document": "AWS-RestartEC2Instance", "parameters": {"InstanceId": ["i-0abc"]}})
    """

    name = "ssm.run-automation"
    # Runbooks fit by their own config (``runbooks:`` resource types and parameters).
    fixes = ("*",)
    title = "Run SSM Automation runbook"
    risk = Risk.MEDIUM
    permissions = ("ssm:DescribeDocument", "ssm:StartAutomationExecution", "ssm:GetAutomationExecution")
    resource_types = ()
    Params = AutomationParams

    def __init__(self) -> None:
        self.runbooks: list[Runbook] = []

    def configure(self, runbooks: list[Runbook]) -> None:
        self.runbooks = list(runbooks)

    def runbook(self, document: str) -> Runbook | None:
        return next((rb for rb in self.runbooks if rb.document == document), None)

    def runbook_risk(self, document: str) -> Risk:
        rb = self.runbook(document)
        return rb.risk if rb else self.risk

    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        for rb in self.runbooks:
            if rb.resource_types:
                resource = next((r for r in alert.resources if r.type in rb.resource_types), None)
                if resource is None:
                    continue
            else:
                resource = alert.primary_resource
            rendered = {k: render_template(v, alert, resource) for k, v in rb.parameters.items()}
            if all(v is not None for v in rendered.values()):
                return {"document": rb.document, "parameters": {k: [v] for k, v in rendered.items() if v is not None}}
        return None

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        p = coerce_params(self, params)
        args = ", ".join(f"{k}={','.join(v)}" for k, v in sorted(p.parameters.items()))
        with_args = f" with {args}" if args else ""
        return [f"Would start SSM Automation runbook {p.document}{with_args} {where(account, region)}".rstrip()]

    def example_params(self) -> dict[str, Any]:
        return {"document": "AWS-RestartEC2Instance", "parameters": {"InstanceId": ["i-0abc1234def567890"]}}

    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        ssm = ctx.client("ssm")
        with not_found_as({"InvalidDocument"}, f"SSM document {params.document}"):
            doc = ssm.describe_document(Name=params.document)["Document"]
        execution_id = run_notes.pop(ctx, f"ssm:{params.document}")
        status = None
        if execution_id:
            with not_found_as({"AutomationExecutionNotFoundException"}, f"automation execution {execution_id}"):
                status = ssm.get_automation_execution(AutomationExecutionId=execution_id)["AutomationExecution"].get(
                    "AutomationExecutionStatus"
                )
        return {
            "document": params.document,
            "document_status": doc.get("Status"),
            "execution_id": execution_id,
            "execution_status": status,
        }

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        return state.get("execution_status") in STARTED

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        if self.runbook(params.document) is None:
            raise PreconditionError(f"Refused: runbook {params.document} is not listed in the config's runbooks")
        if pre_state.get("document_status") not in (None, "Active"):
            raise PreconditionError(f"SSM document {params.document} is {pre_state.get('document_status')}")
        resp = ctx.client("ssm").start_automation_execution(
            DocumentName=params.document, Parameters=dict(params.parameters)
        )
        execution_id = resp.get("AutomationExecutionId")
        if not execution_id:
            raise NotFoundError(f"SSM did not return an execution id for {params.document}")
        run_notes.put(ctx, f"ssm:{params.document}", execution_id)
        return f"Started runbook {params.document} (execution {execution_id})"


def configure_runbooks(runbooks: list[Runbook]) -> None:
    """Tell ``ssm.run-automation`` which runbooks the config offers."""
    rem = remediations["ssm.run-automation"]
    assert isinstance(rem, RunAutomation)
    rem.configure(runbooks)
