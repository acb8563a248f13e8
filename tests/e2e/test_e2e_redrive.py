"""README "Records that exhausted their retries: `/ops redrive`", over real HTTP in the sandbox.

An alert waits in the sandbox's alerts DLQ; ``/ops status`` (signed form, answered by the
worker poller) shows it; ``/ops redrive alerts`` moves it back; the notify poller posts it once,
and redriving the same event again posts nothing more.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3

from tests.e2e.conftest import OPERATOR, OUTSIDER, Ops, clean


def _event(iid: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:ec2:us-east-1:123456789012:instance/{iid}"],
        "detail": {"instance-id": iid, "state": "stopped"},
    }


def _posts(ops: Ops, text: str) -> list[dict[str, Any]]:
    return [
        m for m in ops.console.messages()["messages"] if text in m["text"] + str(m["blocks"]) and not m["thread_ts"]
    ]


def _wait_until_handled(sqs: Any, url: str, timeout: float = 10.0) -> None:
    """Until the notify poller has taken and deleted everything on the alerts queue."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        if not any(int(attrs[n]) for n in names):
            return
        time.sleep(0.2)
    raise AssertionError(f"the alerts queue was not drained within {timeout:.0f} s")


def test_ops_redrive_alerts_moves_a_dead_letter_back_and_it_is_posted_once(ops: Ops) -> None:
    estate = ops.sb.estate
    assert estate is not None
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=ops.sb.aws_url)
    iid = f"i-{uuid.uuid4().hex[:17]}"
    body = json.dumps(_event(iid))
    sqs.send_message(QueueUrl=estate.alerts_dlq_url, MessageBody=body)

    assert "1 alert in the dead-letter queue — `/ops redrive alerts`" in clean(ops.command(OPERATOR, "status"))
    assert "not allowed" in clean(ops.command(OUTSIDER, "redrive alerts")).lower()

    answer = clean(ops.command(OPERATOR, "redrive alerts"))
    assert "moved 1 alert from the alerts dead-letter queue back to the alerts queue" in answer, answer
    ops.wait_for(lambda s: _posts(ops, iid))
    assert ops.audited("REDRIVEN", action="command.redrive").actor.user_id == OPERATOR

    sqs.send_message(QueueUrl=estate.alerts_dlq_url, MessageBody=body)  # the same event, dead-lettered again
    assert "moved 1 alert" in clean(ops.command(OPERATOR, "redrive alerts"))
    _wait_until_handled(sqs, estate.alerts_queue_url)
    assert len(_posts(ops, iid)) == 1
    assert "alerts empty" in clean(ops.command(OPERATOR, "status"))
