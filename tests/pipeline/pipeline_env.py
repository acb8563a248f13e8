"""Fixtures for the notify side: moto (table, queues), the loopback Slack fake, a Runtime."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bot.config import Settings, parse_config
from bot.runtime import Runtime
from bot.sandbox.pollers import sqs_event
from bot.sandbox.slack_fake import SlackFake
from bot.store import create_table

TOKEN = "xoxb-test-token-0000"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:alerts"
SIGNING = "test-signing-secret-0000"

BASE_CONFIG: dict[str, Any] = {
    # EventOps offers actions only in a configured account with a role (bot.aws): moto's own.
    "accounts": [
        {
            "id": "123456789012",
            "alias": "prod",
            "role_arn": "arn:aws:iam::123456789012:role/eventops-member",
            "regions": ["us-east-1"],
        }
    ],
    "routing": {
        "team_channels": {"payments": "#team-payments"},
        "rules": [
            {"name": "security", "match": {"source": ["aws.guardduty", "aws.securityhub"]}, "channel": "#sec"},
        ],
        "default": {"channel": "#ops", "mode": "propose"},
    },
    "storm": {"threshold_per_minute": 1000},
}


@dataclass
class NotifyEnv:
    rt: Runtime
    slack: SlackFake
    sqs: Any
    queue_url: str

    def send(self, events: list[Any]) -> dict[str, Any]:
        """Put events on the alerts queue and run the handler on what SQS delivers."""
        from handlers import notify

        for ev in events:
            body = ev if isinstance(ev, str) else json.dumps(ev)
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)
        received = []
        while True:
            resp = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
            msgs = resp.get("Messages", [])
            if not msgs:
                break
            for m in msgs:
                received.append(m)
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        notify.set_runtime(self.rt)
        return notify.handler(sqs_event(received, QUEUE_ARN, "us-east-1"), None)

    def handle(self, events: list[Any]) -> dict[str, Any]:
        """Run the handler on a batch built directly (no queue round trip)."""
        from handlers import notify

        notify.set_runtime(self.rt)
        messages = [
            {"MessageId": str(uuid.uuid4()), "ReceiptHandle": "rh", "Body": e if isinstance(e, str) else json.dumps(e)}
            for e in events
        ]
        return notify.handler(sqs_event(messages, QUEUE_ARN, "us-east-1"), None)

    def top(self, channel: str) -> list[Any]:
        ch = self.slack.workspace.channel(channel, create=False)
        return ch.top_level() if ch else []

    def replies(self, channel: str, ts: str) -> list[Any]:
        ch = self.slack.workspace.channel(channel, create=False)
        return ch.replies(ts) if ch else []


def make_runtime(slack: SlackFake, config: dict[str, Any] | None = None) -> Runtime:
    settings = Settings(
        table_name="eventops-test",
        slack_api_url=slack.url,
        slack_bot_token=TOKEN,
        slack_signing_secret=SIGNING,
        aws_region="us-east-1",
    )
    return Runtime(settings=settings, config=parse_config(config or BASE_CONFIG))


@pytest.fixture
def notify_env(request) -> Iterator[NotifyEnv]:
    marker = request.node.get_closest_marker("config")
    config = marker.args[0] if marker else BASE_CONFIG
    rate = request.node.get_closest_marker("rate_limited") is not None
    with mock_aws(), SlackFake(rate_limit=rate, bot_token=TOKEN) as slack:
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(ddb, "eventops-test")
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        rt = make_runtime(slack, config)
        yield NotifyEnv(rt=rt, slack=slack, sqs=sqs, queue_url=url)


def event(
    source: str = "acme.monitoring",
    detail_type: str = "Disk Full",
    detail: dict[str, Any] | None = None,
    *,
    event_id: str | None = None,
    resources: list[str] | None = None,
    time: datetime | None = None,
    account: str = "123456789012",
    region: str = "us-east-1",
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": (time or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": resources or [],
        "detail": detail if detail is not None else {"host": "db-1", "usage": "97%"},
    }
