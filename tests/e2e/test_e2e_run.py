"""/ops run by hand: MEDIUM runs at once through the worker; HIGH posts an approval request."""

from __future__ import annotations

from bot.remediations.base import remediations
from bot.sandbox.estate import PROD
from tests.e2e.conftest import OPERATOR, Ops, button, clean


def test_run_medium_stops_the_instance(ops: Ops) -> None:
    iid = ops.sb.estate.prod.instances["api-1"]
    assert ops.instance_state(iid) == "running"
    clean(ops.command(OPERATOR, f"run ec2.stop-instance {iid} account={PROD}"))
    ops.wait_for(lambda s: ops.instance_state(iid) in ("stopping", "stopped"), timeout=30)
    ops.audited("succeeded", remediation="ec2.stop-instance", params=iid)


def test_run_high_posts_an_approval_request(ops: Ops) -> None:
    assert remediations["ec2.isolate-instance"].risk.value == "HIGH"
    iid = ops.sb.estate.prod.instances["db-1"]
    clean(ops.command(OPERATOR, f"run ec2.isolate-instance {iid} account={PROD}"))
    request = ops.wait_for(
        lambda s: next(
            (
                m
                for m in s["messages"]
                if m["channel_name"] == "ops" and iid in str(m) and "Approve" in str(m["blocks"])
            ),
            None,
        )
    )
    assert button(request, "Approve")
    assert ops.instance_state(iid) == "running", "nothing runs before two approvals"
