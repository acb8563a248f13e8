"""Ack latency and click-to-verified, with moto (in-process) behind the handlers.

``ack_p50_ms`` / ``ack_p99_ms``: ``handlers/slack.handler`` wall time, warm, over signed
requests as API Gateway v2 delivers them: remediate clicks (each on a fresh proposal: a
conditional write, an SQS send, a chat.update), Acknowledge clicks, and slash commands
(``/ops help``; ``/ops status`` and ``/ops alarms`` read AWS, so they are queued for the worker
and answered through the response_url Slack always sends).

``click_to_verified_p50_ms``: from the signed click to the alert message saying "succeeded":
ack → job on SQS → ``handlers/worker.handler`` (re-read, re-authorize, assume role, DryRun,
StopInstances, describe again to verify, audit) → chat.update + thread reply. Each run stops a
fresh moto instance. SQS polling latency is not included (the queue is drained at once).
"""

from __future__ import annotations

import os
import statistics
import time
from collections import defaultdict

from handlers import slack as slack_handler
from tests.approval.world import ALICE, CHANNEL, REMEDIATE, command_event, interact_world, new_instance

ACKS = int(os.environ.get("EVENTOPS_BENCH_ACKS", "60"))
CLICKS = int(os.environ.get("EVENTOPS_BENCH_CLICKS", "20"))


def _pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, max(0, round(q / 100 * len(s) + 0.5) - 1))]


def test_ack_latency(bench):
    with interact_world() as world:
        proposals = [world.post_alert(instance_id=world.instance_id) for _ in range(ACKS + 2)]
        # warm: Bolt app built, clients created, listeners imported
        world.click(REMEDIATE, proposals[-1].id, ALICE)
        slack_handler.handler(command_event("help"), None)
        by_kind: dict[str, list[float]] = defaultdict(list)
        statuses: dict[int, int] = defaultdict(int)
        url = world.slack.response_url(CHANNEL)
        for p in proposals[:ACKS]:
            requests = {
                "remediate": lambda p=p: world.click(REMEDIATE, p.id, ALICE),
                "acknowledge": lambda p=p: world.click("eventops:ack", p.alert_id, ALICE),
                "/ops help": lambda: slack_handler.handler(command_event("help"), None),
                "/ops status (queued)": lambda: slack_handler.handler(command_event("status", response_url=url), None),
                "/ops alarms (queued)": lambda: slack_handler.handler(command_event("alarms", response_url=url), None),
            }
            for kind, call in requests.items():
                t0 = time.perf_counter()
                resp = call()
                by_kind[kind].append((time.perf_counter() - t0) * 1000)
                statuses[resp["statusCode"]] += 1
    every = [x for xs in by_kind.values() for x in xs]
    per_kind = {
        k: {"p50": round(_pct(v, 50), 2), "p99": round(_pct(v, 99), 2), "n": len(v)} for k, v in by_kind.items()
    }
    bench.record("ack_p50_ms", _pct(every, 50), requests=len(every), statuses=dict(statuses), per_kind=per_kind)
    bench.record("ack_p99_ms", _pct(every, 99), max_ms=round(max(every), 2))
    print(f"# ack per kind: {per_kind}")


def test_click_to_verified(bench):
    with interact_world() as world:
        samples = []
        verified = 0
        for i in range(CLICKS + 1):
            iid = new_instance(world)
            p = world.post_alert(instance_id=iid)
            t0 = time.perf_counter()
            world.click(REMEDIATE, p.id, ALICE)
            world.drain()
            took = (time.perf_counter() - t0) * 1000
            ok = "succeeded" in str(world.message().blocks) and world.rt.store.get_proposal(p.id).state == "SUCCEEDED"
            if i == 0:
                continue  # warm-up
            verified += ok
            samples.append(took)
    bench.record(
        "click_to_verified_p50_ms",
        statistics.median(samples),
        runs=len(samples),
        verified=verified,
        p90_ms=round(_pct(samples, 90), 1),
    )
