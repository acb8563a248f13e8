"""Bench and test hooks for the ``/ops`` fan-out: a latency model on every AWS request and a
timed alarms query over every configured account × region (``make bench``)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bot.commands.alarms import alarms_in
from bot.commands.fanout import fan_out, targets


@dataclass
class CallCounter:
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, **_: Any) -> None:
        with self.lock:
            self.calls += 1


def delay_every_call(rt: Any, seconds: float) -> CallCounter:
    """Sleep ``seconds`` before every AWS HTTP request made by clients created from now on.

    Registered first on botocore's ``before-send`` so it runs before moto's own handler
    (which answers the request and stops the chain). Returns a counter of the calls delayed.
    """
    counter = CallCounter()

    def hook(**kwargs: Any) -> None:
        counter(**kwargs)
        time.sleep(seconds)

    rt.sessions.base.events.register_first("before-send", hook)
    return counter


@dataclass
class FanoutMeasurement:
    seconds: float
    targets: int
    answered: int
    rows: int
    errors: dict[str, str]


def measure_fanout(rt: Any) -> FanoutMeasurement:
    """Time the alarms query over every configured account × region (``make bench`` calls this)."""
    where = targets(rt)
    started = time.monotonic()
    result = fan_out(rt, where, "cloudwatch", alarms_in)
    return FanoutMeasurement(
        seconds=time.monotonic() - started,
        targets=len(where),
        answered=len(result.answered),
        rows=len(result.items),
        errors={t.label: e for t, e in result.errors.items()},
    )
