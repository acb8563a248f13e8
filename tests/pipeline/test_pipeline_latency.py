"""Delivery latency on the notify side (bot/latency.py): every alert Slack shows as something new
has a ``DeliveryLatency`` figure, storm lines included, and a whole batch costs one table write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pipeline_env import BASE_CONFIG, event

from bot.latency import latency_ms

ARN = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"


@pytest.mark.config(
    {
        **BASE_CONFIG,
        "routing": {"default": {"channel": "#ops", "mode": "notify"}},
        "storm": {"threshold_per_minute": 2, "alerts_per_reply": 50, "burst_to_summary": False},
    }
)
def test_posts_and_storm_lines_are_measured_with_one_table_write_per_batch(notify_env, monkeypatch):
    measured: list[tuple[str, float]] = []
    real_measure = notify_env.rt.measure
    # Wrap (not replace) Runtime.measure: the EMF metric is still added, the figures are kept too.
    monkeypatch.setattr(
        notify_env.rt, "measure", lambda name, ms: (measured.append((name, ms)), real_measure(name, ms))
    )
    writes: list[str] = []

    def on_write(params, **_):  # an UpdateItem, or the batch's figures together (Store.record_figures)
        for update in [params] if "Key" in params else [t["Update"] for t in params["TransactItems"] if "Update" in t]:
            if update["Key"]["pk"]["S"].startswith("LATENCY#"):
                writes.append(update["Key"]["pk"]["S"])

    for op in ("UpdateItem", "TransactWriteItems"):
        notify_env.rt.store.client.meta.events.register(f"before-parameter-build.dynamodb.{op}", on_write)
    sent = datetime.now(UTC) - timedelta(seconds=90)
    events = [event(detail_type=f"Check {i}", resources=[f"{ARN[:-2]}{i:02x}"], time=sent) for i in range(6)]

    assert notify_env.handle(events) == {"batchItemFailures": []}

    top = notify_env.top("#ops")
    storm = [m for m in top if m.metadata and m.metadata.get("event_type") == "eventops_storm"]
    assert len(storm) == 1 and len(top) == 3  # two posted on their own, four listed in the storm thread
    figures = [ms for name, ms in measured if name == "DeliveryLatency"]
    assert len(figures) == 6 and all(90_000 <= ms < 100_000 for ms in figures), figures
    assert writes == ["LATENCY#delivery"]  # one write for the batch
    summary = notify_env.rt.store.delivery_latency()
    assert summary is not None and summary.count == 6


def test_clock_skew_counts_as_zero_never_negative():
    sent = datetime.now(UTC)
    assert latency_ms(sent, sent.timestamp() - 5) == 0.0
    assert latency_ms(sent, sent.timestamp() + 1.5) == pytest.approx(1500.0)
