"""run() / run_undo() turn every AWS failure into a FAILED outcome instead of raising."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from bot.errors import RemediationError
from bot.models import Actor, ProposalState
from bot.remediations.base import Remediation, RemediationContext, RemediationParams, run, run_undo


def _denied(op: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, op)


class _Flaky(Remediation):
    name = "test.flaky"
    title = "Flaky"
    reversible = True

    class Params(RemediationParams):
        target: str

    def __init__(self, fail_at: str, exc: Exception) -> None:
        self.fail_at, self.exc, self.reads, self.state = fail_at, exc, 0, {"on": False}

    def read_state(self, ctx: Any, params: Any) -> dict[str, Any]:
        self.reads += 1
        if self.fail_at == f"read{self.reads}":
            raise self.exc
        return dict(self.state)

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        return state.get("on") is True

    def execute(self, ctx: Any, params: Any, pre_state: dict[str, Any]) -> str:
        if self.fail_at == "execute":
            raise self.exc
        self.state["on"] = True
        return "turned on"

    def undo(self, ctx: Any, params: Any, pre_state: dict[str, Any]) -> str:
        if self.fail_at == "undo":
            raise self.exc
        self.state["on"] = False
        return "turned off"


CTX = RemediationContext(sessions=None, account="123456789012", region="us-east-1", actor=Actor(user_id="U1"))


@pytest.mark.parametrize(
    ("fail_at", "exc", "says"),
    [
        ("read1", _denied("DescribeThing"), "reading the resource: AccessDenied"),
        ("execute", _denied("ChangeThing"), "making the change: AccessDenied"),
        ("execute", ReadTimeoutError(endpoint_url="https://x"), "making the change"),
        ("execute", RemediationError("refused: the thing is busy"), "refused: the thing is busy"),
        ("read2", _denied("DescribeThing"), "verifying the change: AccessDenied"),
    ],
)
def test_run_reports_aws_failures_as_failed(fail_at, exc, says):
    out = run(_Flaky(fail_at, exc), CTX, {"target": "x"})
    assert out.state == ProposalState.FAILED
    assert says in out.message


@pytest.mark.parametrize("fail_at", ["read1", "undo", "read2"])
def test_run_undo_reports_aws_failures_as_failed(fail_at):
    rem = _Flaky("none", _denied("X"))
    done = run(rem, CTX, {"target": "x"})
    assert done.state == ProposalState.SUCCEEDED
    rem.fail_at, rem.reads = fail_at, 0
    out = run_undo(rem, CTX, {"target": "x"}, done.pre_state, done.post_state)
    assert out.state == ProposalState.FAILED
