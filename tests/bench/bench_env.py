"""Worlds the benchmarks run in: moto in-process as AWS, the loopback Slack fake as Slack.

The notify world follows tests/pipeline/pipeline_env.py (same Settings, same record shape);
the interactive world reuses tests/approval/world.py's builders (signed requests, jobs
queue with a DLQ, a stand-in EC2 stop remediation).
"""

from __future__ import annotations

import copy
import cProfile
import io
import json
import pstats
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from bot.config import Settings, parse_config
from bot.runtime import Runtime
from bot.sandbox.slack_fake import SlackFake
from bot.store import create_table

EVENTS = Path(__file__).resolve().parents[1] / "events"
TOKEN = "xoxb-bench-token-0000"
SIGNING = "bench-signing-secret-0000"
TABLE = "eventops-bench"


class _Null(io.TextIOBase):
    def write(self, s: str) -> int:
        return len(s)


_NULL = _Null()


def corpus() -> list[dict[str, Any]]:
    """Every sample event under tests/events (the malformed ones under bad/ excluded)."""
    return [json.loads(p.read_text()) for p in sorted(EVENTS.glob("*.json"))]


def with_unique_ids(events: list[dict[str, Any]], copies: int) -> list[dict[str, Any]]:
    """``copies`` rounds of ``events``, each event with a fresh id (so none is a duplicate)."""
    out = []
    for _ in range(copies):
        for ev in events:
            e = copy.deepcopy(ev)
            e["id"] = str(uuid.uuid4())
            out.append(e)
    return out


def sqs_record(body: Any, message_id: str | None = None) -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "rh",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:alerts",
        "awsRegion": "us-east-1",
    }


def batches(events: list[Any], size: int) -> list[dict[str, Any]]:
    """SQS-shaped Lambda events of ``size`` records each (Lambda's default batch size is 10)."""
    return [{"Records": [sqs_record(e) for e in events[i : i + size]]} for i in range(0, len(events), size)]


def notify_config(**overrides: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "accounts": [{"id": "123456789012", "alias": "prod", "regions": ["us-east-1"]}],
        "routing": {
            "rules": [
                {"name": "security", "match": {"source": ["aws.guardduty", "aws.securityhub"]}, "channel": "#sec"},
                {"name": "pipelines", "match": {"source_kind": ["codepipeline", "codebuild"]}, "channel": "#ci"},
            ],
            "default": {"channel": "#ops", "mode": "propose"},
        },
    }
    cfg.update(overrides)
    return cfg


@dataclass
class NotifyWorld:
    rt: Runtime
    slack: SlackFake

    def run(self, lambda_event: dict[str, Any]) -> dict[str, Any]:
        from handlers import notify

        notify.set_runtime(self.rt)
        # powertools prints CloudWatch EMF metrics to stdout: still produced (and timed), not shown
        with redirect_stdout(_NULL):
            return notify.handler(lambda_event, None)


def make_runtime(slack_url: str, config: dict[str, Any], **settings: Any) -> Runtime:
    return Runtime(
        settings=Settings(
            table_name=TABLE,
            slack_api_url=slack_url,
            slack_bot_token=settings.pop("token", TOKEN),
            slack_signing_secret=settings.pop("signing", SIGNING),
            aws_region="us-east-1",
            **settings,
        ),
        config=parse_config(config, "bench"),
    )


@contextmanager
def notify_world(config: dict[str, Any], *, rate_limit: bool = False) -> Iterator[NotifyWorld]:
    with mock_aws(), SlackFake(rate_limit=rate_limit, bot_token=TOKEN) as slack:
        create_table(boto3.client("dynamodb", region_name="us-east-1"), TABLE)
        yield NotifyWorld(make_runtime(slack.url, config), slack)
    from handlers import notify

    notify.set_runtime(None)


# Where time goes: AWS (botocore serialization + moto answering in-process) vs Slack (slack_sdk
# + a loopback HTTP round trip) vs everything else (ours: parse, route, render, store logic,
# plus pydantic and powertools under it).
BOUNDARIES = {
    "aws": ("botocore/client.py", "_make_api_call"),
    "slack": ("slack_sdk/web/base_client.py", "api_call"),
}


def count_aws_calls(rt: Runtime) -> Counter[str]:
    """Count AWS operations made by clients ``rt`` creates from now on (``service.Operation``)."""
    calls: Counter[str] = Counter()

    def hook(model: Any, **_: Any) -> None:
        calls[f"{model.service_model.service_name}.{model.name}"] += 1

    rt.sessions.base.events.register("before-call.*.*", hook)
    return calls


def profile_shares(fn: Any) -> dict[str, float]:
    """Run ``fn()`` under cProfile; the share of wall time inside each boundary, and ours."""
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    shares: dict[str, float] = {}
    for label, (path, func) in BOUNDARIES.items():
        cum = sum(
            st[3]  # cumulative time
            for (filename, _line, name), st in stats.stats.items()  # type: ignore[attr-defined]
            if name == func and filename.endswith(path)
        )
        shares[label] = cum / total if total else 0.0
    shares["ours"] = max(0.0, 1.0 - sum(shares.values()))
    return {k: round(v, 3) for k, v in shares.items()}
