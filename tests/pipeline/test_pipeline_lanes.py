"""A notify batch delivers several channels at once (``delivery.parallel_channels``): one lane
per channel, each lane in arrival order, Slack requests to different channels in flight
together; every record's log lines still name its own event.

Through ``handlers.notify.handler`` with SQS-shaped records, moto and the loopback Slack fake
(which answers each request after ``latency_s``, as slack.com would)."""

from __future__ import annotations

import io
import json
import logging

import pytest
from pipeline_env import BASE_CONFIG, event

LATENCY_S = 0.25
CHANNELS = ["#lane-a", "#lane-b", "#lane-c", "#lane-d"]
ACCOUNTS = [f"{300000000000 + i:012d}" for i in range(len(CHANNELS))]


def _config(parallel: int) -> dict:
    return {
        **BASE_CONFIG,
        "accounts": [{"id": a, "alias": f"team{i}", "regions": ["us-east-1"]} for i, a in enumerate(ACCOUNTS)],
        "routing": {
            "rules": [
                {"name": f"lane-{i}", "match": {"account": [a]}, "channel": ch, "mode": "notify"}
                for i, (a, ch) in enumerate(zip(ACCOUNTS, CHANNELS, strict=True))
            ],
            "default": {"channel": "#elsewhere", "mode": "notify"},
        },
        "delivery": {"parallel_channels": parallel},
    }


def _events(per_channel: int) -> list[dict]:
    """``per_channel`` distinct problems for each channel, interleaved across channels."""
    out = []
    for n in range(per_channel):
        for i, acct in enumerate(ACCOUNTS):
            out.append(event(detail={"host": f"host-{i}-{n}", "usage": f"seq-{n}"}, account=acct))
    return out


def _post_gaps(slack, channels: list[str]) -> list[float]:
    """Seconds between consecutive chat.postMessage requests (as the fake handled them)."""
    ids = {slack.workspace.channel(c, create=False).id for c in channels} | set(channels)
    with slack.lock:
        at = sorted(r.at for r in slack.requests if r.method == "chat.postMessage" and r.params.get("channel") in ids)
    return [b - a for a, b in zip(at, at[1:], strict=False)]


@pytest.mark.config(_config(parallel=4))
def test_a_batch_over_several_channels_is_posted_at_once_each_channel_in_order(notify_env):
    notify_env.slack.latency_s = LATENCY_S
    resp = notify_env.handle(_events(per_channel=3))
    assert resp == {"batchItemFailures": []}
    for ch in CHANNELS:
        texts = [json.dumps(m.blocks) for m in notify_env.top(ch)]
        assert len(texts) == 3, ch
        # each channel's alerts in the order they arrived
        assert [next(f"seq-{n}" for n in range(3) if f"seq-{n}" in t) for t in texts] == ["seq-0", "seq-1", "seq-2"]
    gaps = _post_gaps(notify_env.slack, CHANNELS)
    # one after another, each post waits a full round trip; at once, posts to other channels
    # are answered while one waits
    assert min(gaps) < LATENCY_S / 2, gaps


@pytest.mark.config(_config(parallel=1))
def test_parallel_channels_1_delivers_one_record_after_another(notify_env):
    notify_env.slack.latency_s = LATENCY_S
    assert notify_env.handle(_events(per_channel=2)) == {"batchItemFailures": []}
    assert all(len(notify_env.top(ch)) == 2 for ch in CHANNELS)
    assert min(_post_gaps(notify_env.slack, CHANNELS)) >= LATENCY_S * 0.9


@pytest.mark.config(_config(parallel=4))
def test_each_records_log_lines_name_its_own_event_while_lanes_run_at_once(notify_env):
    from handlers import notify  # configures the eventops Logger (powertools) on import

    notify_env.slack.latency_s = 0.05
    events = _events(per_channel=2)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(notify.logger.registered_formatter)  # the JSON lines Lambda writes
    logging.getLogger("eventops").addHandler(handler)
    try:
        notify_env.handle(events)
    finally:
        logging.getLogger("eventops").removeHandler(handler)
    lines = [json.loads(x) for x in out.getvalue().splitlines() if x.startswith("{")]
    done = [ln for ln in lines if ln.get("message", "").startswith("record ") and ln["message"].endswith(": posted")]
    assert len(done) == len(events)
    for ln in done:
        mid = ln["message"].split()[1].rstrip(":")
        assert ln.get("sqs_message_id") == mid
    # every event's id is on exactly one "posted" line: no line carries another record's id
    assert sorted(ln["correlation_id"] for ln in done) == sorted(e["id"] for e in events)


@pytest.mark.config(_config(parallel=4))
def test_a_record_that_is_not_json_is_delivered_beside_the_lanes(notify_env):
    resp = notify_env.handle(["not json at all", *_events(per_channel=1)])
    assert resp == {"batchItemFailures": []}
    assert all(len(notify_env.top(ch)) == 1 for ch in CHANNELS)
    assert len(notify_env.top("#elsewhere")) == 1  # the generic alert, routed by default


WIDE = [f"{310000000000 + i:012d}" for i in range(20)]


@pytest.mark.config(
    {
        **BASE_CONFIG,
        "accounts": [],
        "routing": {
            "rules": [
                {"name": f"w-{i}", "match": {"account": [a]}, "channel": f"#wide-{i}", "mode": "notify"}
                for i, a in enumerate(WIDE)
            ],
            "default": {"channel": "#elsewhere", "mode": "notify"},
        },
    }
)
def test_a_wide_batch_keeps_every_posts_bookkeeping(notify_env):
    """20 channels × 6 new alerts in one batch, 8 lanes at once: every post's bookkeeping
    transaction lands (moto handles one request at a time: bot/sandbox/moto_serial.py)."""
    events = [event(detail={"host": f"h-{i}"}, account=WIDE[i % 20]) for i in range(120)]
    assert notify_env.handle(events) == {"batchItemFailures": []}
    assert notify_env.rt.counts["posted"] == 120 and notify_env.rt.counts["bookkeeping_failed"] == 0
    for e in events:
        stored = notify_env.rt.store.get_alert(e["id"])
        assert stored.ts and notify_env.rt.store.alert_for_message(stored.channel, stored.ts) == e["id"]
