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


# --- the latency model (tests/bench/test_bench_latency.py) ------------------------------------
# moto answers in zero time and the loopback fake in well under a millisecond, so the figures
# above flatter. The model: every AWS call costs AWS_MS (Lambda → DynamoDB/SQS in-region), every
# Slack request SLACK_MS (Lambda → slack.com and back), and the fake enforces Slack's real rate
# limits (1 message/s/channel, chat.update per minute, 429 + Retry-After).
AWS_MS = 5.0
SLACK_MS = 100.0


@dataclass
class LatencyModel:
    aws_ms: float
    slack_ms: float
    calls: Counter[str]
    aws_slept_s: float = 0.0
    aws_call_s: float = 0.0  # before-call → after-call: botocore + moto + the modelled sleep
    moto_wall_s: float = 0.0  # inside moto's in-process backend (what the modelled sleep stands for)
    moto_cpu_s: float = 0.0  # the same, CPU time of the calling threads
    threads: bool = False  # several threads made the calls (lanes): moto_s is its CPU time
    retry_after_s: float = 0.0  # the bot's Slack client sleeping Retry-After on 429s
    slack: SlackFake | None = None
    active: bool = True

    @property
    def slack_slept_s(self) -> float:
        return self.slack.latency_slept_s if self.slack is not None else 0.0

    def ddb_calls(self) -> int:
        return sum(n for op, n in self.calls.items() if op.startswith("dynamodb."))

    @property
    def moto_s(self) -> float:
        """moto's time the modelled figure leaves out: its wall time when one thread made the
        calls (on the critical path: exact), its CPU time when several did (a thread waiting
        for the GIL inside moto is not moto's work, and the threads' wall times overlap)."""
        return self.moto_cpu_s if self.threads else self.moto_wall_s

    def modelled_s(self, wall_s: float) -> float:
        """``wall_s`` as deployed: minus moto's in-process backend time (``moto_s``), which the
        modelled ``aws_ms`` per call stands for (DynamoDB answers in ~5 ms whatever the table
        holds; moto's TransactWriteItems copies the whole table, so on a 10 000-event table
        its time says nothing about AWS). botocore's own work stays counted. With several
        threads (lanes) this is an estimate: moto's CPU holds the GIL the others need, so
        removing it shortens the run by up to that much; the wall figure with moto in is
        reported beside it."""
        return max(1e-9, wall_s - self.moto_s)

    def split(self, wall_s: float) -> dict[str, float]:
        """Wall seconds: AWS (modelled sleeps; botocore around them; moto's backend, which the
        modelled figure leaves out), Slack (modelled sleeps, incl. requests answered 429;
        Retry-After waits the bot sat through), and the rest (ours, slack_sdk and the fake's
        own work)."""
        aws, slack, waits = self.aws_slept_s, self.slack_slept_s, self.retry_after_s
        return {
            "wall_s": round(wall_s, 2),
            "modelled_s": round(self.modelled_s(wall_s), 2),
            "aws_sleep_s": round(aws, 2),
            "aws_botocore_s": round(max(0.0, self.aws_call_s - aws - self.moto_s), 2),
            "moto_backend_s (not in modelled_s)": round(self.moto_s, 2),
            "moto_backend_wall_s": round(self.moto_wall_s, 2),
            "moto_backend_cpu_s": round(self.moto_cpu_s, 2),
            "slack_sleep_s": round(slack, 2),
            "slack_retry_after_wait_s": round(waits, 2),
            "rest_s": round(max(0.0, wall_s - self.aws_call_s - slack - waits), 2),
        }


@contextmanager
def latency_model(
    rt: Runtime, aws_ms: float = AWS_MS, slack_ms: float = SLACK_MS, *, slack: SlackFake | None = None
) -> Iterator[LatencyModel]:
    """Sleep ``aws_ms`` before every AWS call ``rt``'s clients make (botocore ``before-call``,
    registered on the base session, so clients made from now on carry it, and on the clients
    already cached) and ``slack_ms`` in the fake before every request it handles, with its rate
    limits on. Counts AWS operations (``service.Operation``) in ``.calls``. Undone on exit."""
    import threading
    import time

    lm = LatencyModel(aws_ms, slack_ms, Counter(), slack=slack)
    lock = threading.Lock()
    started = threading.local()

    def after(**_: Any) -> None:
        t0 = getattr(started, "t0", None)
        if t0 is not None and lm.active:
            with lock:
                lm.aws_call_s += time.perf_counter() - t0
        started.t0 = None

    def hook(model: Any, **_: Any) -> None:  # botocore passes ``model=`` by name
        if not lm.active:
            return
        started.t0 = time.perf_counter()
        op = f"{model.service_model.service_name}.{model.name}"
        delay = lm.aws_ms / 1000
        if delay > 0:
            time.sleep(delay)
        with lock:
            lm.calls[op] += 1
            lm.aws_slept_s += delay

    uid = f"bench-latency-{id(lm)}"
    for events in [rt.sessions.base.events, *(c.meta.events for c in list(rt.sessions._clients.values()))]:
        events.register("before-call.*.*", hook, unique_id=uid)
        events.register("after-call.*.*", after, unique_id=uid + "-after")
    # Retry-After waits: timed around the bot's 429 handler (class-level: existing clients too)
    from bot.slack.client import BudgetedRateLimitRetryHandler as _RL

    orig_prepare = _RL.prepare_for_next_attempt

    def prepare(self: Any, **kw: Any) -> None:
        t0 = time.perf_counter()
        try:
            orig_prepare(self, **kw)
        finally:
            with lock:
                lm.retry_after_s += time.perf_counter() - t0

    _RL.prepare_for_next_attempt = prepare  # type: ignore[method-assign]
    # moto's backend: timed around its request processing (class-level: every client's calls)
    from moto.core.botocore_stubber import BotocoreStubber

    orig_process = BotocoreStubber.process_request

    def process(self: Any, request: Any) -> Any:
        # wall and CPU time of this thread inside moto (see LatencyModel.modelled_s)
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            return orig_process(self, request)
        finally:
            if lm.active:
                with lock:
                    lm.moto_wall_s += time.perf_counter() - t0
                    lm.moto_cpu_s += time.thread_time() - c0

    BotocoreStubber.process_request = process  # type: ignore[method-assign]
    saved = (slack.latency_s, slack.rate_limit) if slack is not None else None
    if slack is not None:
        slack.latency_s, slack.rate_limit = slack_ms / 1000, True
        slack.latency_slept_s = 0.0
    try:
        yield lm
    finally:
        lm.active = False
        _RL.prepare_for_next_attempt = orig_prepare  # type: ignore[method-assign]
        BotocoreStubber.process_request = orig_process  # type: ignore[method-assign]
        if slack is not None and saved is not None:
            slack.latency_s, slack.rate_limit = saved


def slack_view(slack: SlackFake, channels: list[str]) -> dict[str, int]:
    """What a person could count in ``channels``: alert messages, thread replies, lines listed
    in storm threads, storm summaries."""
    alerts = threaded = listed = summaries = 0
    for ch in channels:
        channel = slack.workspace.channel(ch, create=False)
        if channel is None:
            continue
        with slack.lock:
            msgs = list(channel.messages)
        for m in msgs:
            etype = (m.metadata or {}).get("event_type")
            top = m.thread_ts in (None, m.ts)
            if top and etype == "eventops_alert":
                alerts += 1
            elif top and etype == "eventops_storm":
                summaries += 1
            elif not top and etype == "eventops_alert":
                threaded += 1
            elif not top:
                listed += sum(len(b["text"]["text"].split("\n")) - 1 for b in m.blocks if b.get("type") == "section")
    return {"alert_messages": alerts, "thread_replies": threaded, "storm_listed": listed, "storm_summaries": summaries}
