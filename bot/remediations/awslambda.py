"""Lambda remediations: throttle a function to zero concurrency (module name avoids the keyword).

Example::

    run(remediations["lambda.throttle-function"], ctx, {"function_name": "ingest"})
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.models import Alert, Risk
from bot.remediations.base import Remediation, RemediationContext, RemediationParams, register
from bot.remediations.common import coerce_params, not_found_as, where


class FunctionParams(RemediationParams):
    function_name: str = Field(min_length=1, max_length=170)


@register
class ThrottleFunction(Remediation):
    """Throttle a Lambda function: reserved concurrency 0, so every invocation is refused.

    Stops a runaway function (recursive loop, cost spike, abused endpoint) without deleting it.
    Asynchronous events are retried by Lambda and then sent to the function's failure
    destination or DLQ. Undo restores the previous reserved concurrency, or removes it.

    Example::

        run(remediations["lambda.throttle-function"], ctx, {"function_name": "ingest"})
    """

    name = "lambda.throttle-function"
    fixes = (
        "cloudwatch-alarm:AWS/Lambda/Invocations",
        "cloudwatch-alarm:AWS/Lambda/ConcurrentExecutions",
        "cloudwatch-alarm:AWS/Lambda/Errors",
        "cloudwatch-alarm:AWS/Lambda/RecursiveInvocationsDropped",
        "guardduty:*:Lambda/*",
    )
    title = "Throttle function (concurrency 0)"
    risk = Risk.MEDIUM
    permissions = (
        "lambda:GetFunction",
        "lambda:GetFunctionConcurrency",
        "lambda:PutFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency",
    )
    resource_types = ("AwsLambdaFunction",)
    reversible = True
    Params = FunctionParams

    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        for res in alert.resources:
            if res.type == "AwsLambdaFunction" and res.id:
                return {"function_name": res.id}
        return None

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        p = coerce_params(self, params)
        return [
            f"Would set the reserved concurrency of Lambda function {p.function_name} to 0 "
            f"{where(account, region)}, refusing every invocation".replace("  ", " ")
        ]

    def example_params(self) -> dict[str, Any]:
        return {"function_name": "ingest"}

    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        lam = ctx.client("lambda")
        with not_found_as({"ResourceNotFoundException"}, f"Lambda function {params.function_name}"):
            fn = lam.get_function(FunctionName=params.function_name)
            conc = lam.get_function_concurrency(FunctionName=params.function_name)
        return {
            "function_name": params.function_name,
            "reserved_concurrency": conc.get("ReservedConcurrentExecutions"),
            "tags": dict(fn.get("Tags") or {}),
        }

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        return state.get("reserved_concurrency") == 0

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        ctx.client("lambda").put_function_concurrency(FunctionName=params.function_name, ReservedConcurrentExecutions=0)
        return f"Throttled {params.function_name} (reserved concurrency 0, was {pre_state.get('reserved_concurrency')})"

    def undo(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        lam = ctx.client("lambda")
        previous = pre_state.get("reserved_concurrency")
        if previous is None:
            lam.delete_function_concurrency(FunctionName=params.function_name)
            return f"Removed the reserved concurrency of {params.function_name} (it had none before)"
        lam.put_function_concurrency(FunctionName=params.function_name, ReservedConcurrentExecutions=previous)
        return f"Restored the reserved concurrency of {params.function_name} to {previous}"
