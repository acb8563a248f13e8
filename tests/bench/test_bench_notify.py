"""Notify throughput: handlers/notify over a mixed corpus of the real sample events
(tests/events, unique ids), Slack fake rate limit off, DynamoDB in moto; and parse + render alone.

Lambda's default SQS batch size (10) is used. The corpus is replayed ``COPIES`` times with fresh
ids: the first round is mostly new problems (posted), later rounds repeat known fingerprints
(grouped: counter bumped, one chat.update per message per batch). A second figure, every event a
new problem (a distinct account per round), is in details.json. Time shares (ours vs moto vs
Slack HTTP) come from a separate cProfile run: the profiler slows everything, the shares hold.
"""

from __future__ import annotations

import os
import time
from collections import Counter

from tests.bench.bench_env import (
    batches,
    corpus,
    count_aws_calls,
    notify_config,
    notify_world,
    profile_shares,
    with_unique_ids,
)

COPIES = int(os.environ.get("EVENTOPS_BENCH_NOTIFY_COPIES", "10"))
RENDER_ROUNDS = int(os.environ.get("EVENTOPS_BENCH_RENDER_ROUNDS", "40"))
NO_STORM = {"threshold_per_minute": 1_000_000}


def _throughput(events, config) -> tuple[float, Counter, int]:
    with notify_world(config) as world:
        world.run(batches(events[:10], 10)[0])  # warm: clients, imports, first table reads
        world.rt.counts.clear()
        todo = batches(events[10:], 10)
        failures = 0
        started = time.perf_counter()
        for ev in todo:
            failures += len(world.run(ev)["batchItemFailures"])
        took = time.perf_counter() - started
        outcomes = Counter({k: v for k, v in world.rt.counts.items() if v})
    return (len(events) - 10) / took, outcomes, failures


def test_notify_events_per_s(bench):
    base = corpus()
    events = with_unique_ids(base, COPIES)
    rate, outcomes, failures = _throughput(events, notify_config(storm=NO_STORM))

    # Every event a new problem: each round under its own account id (fingerprints include it).
    fresh = with_unique_ids(base, max(2, COPIES // 2))
    for i, ev in enumerate(fresh):
        ev["account"] = f"{100000000000 + i // len(base):012d}"
    new_rate, new_outcomes, new_failures = _throughput(fresh, notify_config(storm=NO_STORM))

    with notify_world(notify_config(storm=NO_STORM)) as world:
        aws_calls = count_aws_calls(world.rt)
        profiled = with_unique_ids(base, 3)
        shares = profile_shares(lambda: [world.run(ev) for ev in batches(profiled, 10)])
        slack_calls = len(world.slack.requests)
    per_event = {op: round(n / len(profiled), 2) for op, n in aws_calls.most_common()}

    bench.record(
        "notify_events_per_s",
        rate,
        events=len(events) - 10,
        batch_size=10,
        outcomes=dict(outcomes),
        batch_item_failures=failures,
        all_new_problems_events_per_s=round(new_rate, 1),
        all_new_problems_outcomes=dict(new_outcomes),
        all_new_problems_failures=new_failures,
        time_shares=shares,
        aws_calls_per_event=round(sum(aws_calls.values()) / len(profiled), 2),
        aws_calls_per_event_by_operation=per_event,
        slack_calls_per_event=round(slack_calls / len(profiled), 2),
    )
    print(f"# notify: {rate:.0f}/s repeats-heavy mix, {new_rate:.0f}/s all new problems; time shares {shares}")


def test_render_events_per_s(bench):
    from bot.slack.render import render_alert
    from bot.sources import parse_event
    from bot.sources.base import ParseContext

    events = corpus()
    for ev in events:  # warm
        render_alert(parse_event(ev, ParseContext()), channel="#ops")
    parse_s = render_s = 0.0
    n = 0
    for _ in range(RENDER_ROUNDS):
        for ev in events:
            t0 = time.perf_counter()
            alert = parse_event(ev, ParseContext())
            t1 = time.perf_counter()
            render_alert(alert, channel="#ops")
            t2 = time.perf_counter()
            parse_s += t1 - t0
            render_s += t2 - t1
            n += 1
    bench.record(
        "render_events_per_s",
        n / (parse_s + render_s),
        events=n,
        corpus=len(events),
        parse_only_per_s=round(n / parse_s, 1),
        render_only_per_s=round(n / render_s, 1),
    )
