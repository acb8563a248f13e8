"""Event-to-Slack latency: from the EventBridge envelope's ``time`` to the moment Slack accepted
the post, in milliseconds. Slowness is a failure too (docs/reliability.md #6).

Two figures, named for what they measure:

- ``DeliveryLatency``: an event that Slack shows as something new — its own message, a reply in
  its resource's thread, or a line in a storm summary's thread. This is the figure the stack
  alarms on (serverless.yml ``DeliveryLatencyAlarm``) and ``/ops status`` shows as a p95.
- ``GroupedUpdateLatency``: a repeat of a known problem, counted into the existing message by
  the batch's ``chat.update``. Kept apart because an update is coalesced per batch (and capped
  per channel), so it measures something else and would blur the first figure.

Both are CloudWatch EMF metrics (``Runtime.measure``). The p95 in ``/ops status`` is not read
back from CloudWatch, because that would only work in AWS: moto (the tests, the sandbox) keeps
what ``PutMetricData`` sends but computes no percentiles (moto 5.2: ``GetMetricStatistics``
answers datapoints without their ``ExtendedStatistics``, ``GetMetricData`` with ``Stat: p95``
fails), and EMF lines, which CloudWatch Logs turns into metrics, never reach it at all. So each
notify invocation also adds its
``DeliveryLatency`` samples to a per-minute histogram in the table (``bot.store`` key family
``LATENCY#``, one write per invocation, not per event), and the p95 of the last hour is computed
from those histograms, the same way in moto and in AWS.

The histogram's bins grow by a factor of ``2 ** (1 / 16)`` (about 4.4 %), so the p95 it gives
is the upper edge of the bin holding the 95th percentile: never below the true value and at
most 4.4 % above it. EventBridge's ``time`` has whole seconds, so a figure can be up to a second
short; a negative one (clock skew) counts as 0.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("eventops.latency")

DELIVERY_METRIC = "DeliveryLatency"
GROUPED_UPDATE_METRIC = "GroupedUpdateLatency"

# Bin i holds latencies in (EDGE ** (i - 1), EDGE ** i] milliseconds; bin 0 holds 0 to 1 ms.
_BINS_PER_DOUBLING = 16
_EDGE = 2 ** (1 / _BINS_PER_DOUBLING)
# A day, in bins: anything slower is counted in the last bin (it is over any sane bound anyway).
MAX_BIN = math.ceil(math.log(86_400_000, _EDGE))


def event_time(raw: Any) -> datetime | None:
    """The envelope's ``time`` as an aware datetime, or None when it is missing or unparseable
    (then no latency is measured; one debug line says why)."""
    value = raw.get("time") if isinstance(raw, dict) else None
    if not isinstance(value, str) or not value:
        log.debug("no latency for this event: it has no time")
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        log.debug("no latency for this event: its time %.40r is not ISO 8601", value)
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def latency_ms(event_at: datetime, done_at: float) -> float:
    """Milliseconds from ``event_at`` to ``done_at`` (unix time); clock skew counts as 0."""
    return max(0.0, (done_at - event_at.timestamp()) * 1000.0)


def bin_of(ms: float) -> int:
    if ms <= 1.0:
        return 0
    return min(MAX_BIN, math.ceil(math.log(ms, _EDGE) - 1e-9))


def bin_upper_ms(index: int) -> float:
    return float(_EDGE**index)


def histogram(samples_ms: Iterable[float]) -> dict[int, int]:
    """Samples → {bin index: count}."""
    out: dict[int, int] = {}
    for ms in samples_ms:
        i = bin_of(ms)
        out[i] = out.get(i, 0) + 1
    return out


@dataclass(frozen=True)
class LatencySummary:
    """What ``/ops status`` shows: how many posts were measured, and their p95."""

    count: int
    p95_ms: float


def summarize(bins: Mapping[int, int], quantile: float = 0.95) -> LatencySummary | None:
    """The nearest-rank ``quantile`` of a merged histogram (the upper edge of its bin); None
    when it holds nothing."""
    total = sum(bins.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(quantile * total))
    ordered = sorted(bins.items())
    running = itertools.accumulate(n for _, n in ordered)
    index = next(i for (i, _), seen in zip(ordered, running, strict=True) if seen >= rank)
    return LatencySummary(count=total, p95_ms=bin_upper_ms(index))
