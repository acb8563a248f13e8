"""A notify process killed between claiming an event and posting it loses nothing.

A real child process runs ``handlers.notify.handler`` (configured from the environment, as in
Lambda) against moto's server and the loopback Slack fake. The fake holds ``chat.postMessage``
open; the test SIGKILLs the child while it waits — after the event and message claims, before
anything reached Slack. Then the record comes again (SQS's redelivery) or housekeeping runs: the
alert is posted exactly once either way.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from bot.config import Settings, parse_config
from bot.pipeline import CLAIM_MARGIN_S
from bot.runtime import Runtime
from bot.sandbox.runner import _MotoServer
from bot.sandbox.slack_fake import SlackFake
from bot.store import create_table
from tests.bench.bench_env import TOKEN, notify_config, sqs_record

ROOT = Path(__file__).resolve().parents[2]
REMAINING_MS = 1500  # the child's "time left": its claims hold this long plus the margin
LEASE_S = REMAINING_MS / 1000 + CLAIM_MARGIN_S + 2  # + 2: DynamoDB numbers hold whole seconds
EVENT = json.loads((ROOT / "tests/events/cloudwatch-metric-alarm.json").read_text())


@dataclass
class Deployed:
    endpoint: str
    slack: SlackFake
    config_path: Path
    table: str

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "EVENTOPS_TABLE": self.table,
            "EVENTOPS_AWS_ENDPOINT_URL": self.endpoint,
            "EVENTOPS_CONFIG": str(self.config_path),
            "SLACK_API_URL": self.slack.url,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": "kill-test-secret",
            "POWERTOOLS_METRICS_NAMESPACE": "EventOps",
        }

    def runtime(self) -> Runtime:
        settings = Settings(
            table_name=self.table,
            aws_endpoint_url=self.endpoint,
            slack_api_url=self.slack.url,
            slack_bot_token=TOKEN,
            slack_signing_secret="kill-test-secret",
            aws_region="us-east-1",
        )
        return Runtime(settings=settings, config=parse_config(yaml.safe_load(self.config_path.read_text()), "kill"))

    def posts(self) -> list[Any]:
        return [m for m in self.slack.workspace.channel("#ops").messages if not m.thread_ts]

    def event_item(self, event_id: str) -> dict[str, Any]:
        ddb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=self.endpoint)
        return ddb.get_item(TableName=self.table, Key={"pk": {"S": f"EVENT#{event_id}"}, "sk": {"S": "EVENT"}})["Item"]


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[Deployed]:
    server = _MotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    table = f"eventops-kill-{uuid.uuid4().hex[:8]}"  # moto's server keeps its state for the whole process
    create_table(boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint), table)
    config_path = tmp_path / "eventops.yml"
    config_path.write_text(yaml.safe_dump(notify_config()))
    try:
        with SlackFake(rate_limit=False, bot_token=TOKEN) as slack:
            yield Deployed(endpoint, slack, config_path, table)
    finally:
        server.stop()


def kill_mid_delivery(d: Deployed, event: dict[str, Any]) -> None:
    """Run the notify process on ``event`` and SIGKILL it while its chat.postMessage is in flight."""
    d.slack.fail_next("chat.postMessage", delay=15, status=500)  # held open; never recorded as a post
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/faults/notify_process.py"), str(REMAINING_MS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=d.env(),
        cwd=ROOT,
    )
    assert child.stdin is not None
    child.stdin.write(json.dumps(event).encode())
    child.stdin.close()
    deadline = time.monotonic() + 60
    while not d.slack.calls("chat.postMessage"):
        if child.poll() is not None:
            pytest.fail(f"the notify process ended before posting: {child.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the notify process never tried to post"
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    assert d.posts() == [], "nothing reached Slack before the kill"


def deliver(d: Deployed, event: dict[str, Any]) -> dict[str, Any]:
    from handlers import notify

    notify.set_runtime(d.runtime())
    try:
        return notify.handler(event, None)
    finally:
        notify.set_runtime(None)


def lambda_event(record: dict[str, Any]) -> dict[str, Any]:
    return {"Records": [record]}


def test_a_redelivery_after_the_kill_posts_the_alert_exactly_once(deployed: Deployed) -> None:
    record = sqs_record(EVENT)
    kill_mid_delivery(deployed, lambda_event(record))
    assert deployed.event_item(EVENT["id"])["status"]["S"] == "in_progress"

    # While the dead invocation's lease lasts, the redelivery is told to come back (not "duplicate")
    early = deliver(deployed, lambda_event(record))
    assert early["batchItemFailures"] == [{"itemIdentifier": record["messageId"]}]
    assert deployed.posts() == []

    time.sleep(LEASE_S)  # the lease: the child's time left + the claim margin
    assert deliver(deployed, lambda_event(record)) == {"batchItemFailures": []}
    assert len(deployed.posts()) == 1
    assert deployed.event_item(EVENT["id"])["status"]["S"] == "done"

    # EventBridge's own retry of the same event id, later: a duplicate, not a second post
    assert deliver(deployed, lambda_event(sqs_record(EVENT))) == {"batchItemFailures": []}
    assert len(deployed.posts()) == 1


def test_housekeeping_posts_an_alert_whose_delivery_died_and_was_never_redelivered(deployed: Deployed) -> None:
    from handlers import housekeeping

    kill_mid_delivery(deployed, lambda_event(sqs_record(EVENT)))
    time.sleep(LEASE_S)
    housekeeping.set_runtime(deployed.runtime())
    try:
        summary = housekeeping.handler({}, None)
    finally:
        housekeeping.set_runtime(None)
    assert summary["abandoned_repaired"] == 1
    assert len(deployed.posts()) == 1
    # a late redelivery of the record (or EventBridge's retry) does not post it again
    assert deliver(deployed, lambda_event(sqs_record(EVENT))) == {"batchItemFailures": []}
    assert len(deployed.posts()) == 1


def test_a_new_event_of_the_same_problem_is_posted_not_grouped_into_a_message_that_never_was(
    deployed: Deployed,
) -> None:
    kill_mid_delivery(deployed, lambda_event(sqs_record(EVENT)))
    time.sleep(LEASE_S)
    repeat = {**EVENT, "id": EVENT["id"] + "-2", "time": "2030-01-01T00:00:00Z"}
    assert deliver(deployed, lambda_event(sqs_record(repeat))) == {"batchItemFailures": []}
    assert len(deployed.posts()) == 1
