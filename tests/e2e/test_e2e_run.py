"""/ops run by hand: MEDIUM runs at once through the worker; HIGH posts an approval request."""

from __future__ import annotations

import re

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
    answer = clean(ops.command(OPERATOR, f"run ec2.isolate-instance {iid} account={PROD}"))
    assert "Requested" in answer, answer
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


def test_back_to_back_runs_in_one_channel_each_get_their_thread(ops: Ops) -> None:
    """Slack allows about one post per second per channel (the fake enforces it). The command
    answers at once all the same; each request gets its own message, with its outcome in its thread."""
    iid = ops.sb.estate.prod.instances["web-1"]
    answers = [clean(ops.command(OPERATOR, f"run ec2.reboot-instance {iid} account={PROD}")) for _ in range(3)]
    assert all("Queued" in a for a in answers), answers
    ids = [m[1] for a in answers if (m := re.search(r"proposal `([0-9a-f]{32})`", a))]
    assert len(set(ids)) == 3, answers
    for pid in ids:
        request = ops.wait_for(
            lambda s, pid=pid: next((m for m in s["messages"] if not m["thread_ts"] and pid in str(m["blocks"])), None),
            timeout=30,
        )
        ops.wait_for(lambda s, ts=request["ts"]: any("succeeded" in m["text"] for m in ops.replies(s, ts)), timeout=30)
