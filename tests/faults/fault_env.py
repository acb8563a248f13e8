"""Fault injectors: DynamoDB throttling through a botocore hook, a worker process 'killed' mid-run."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError


def hook_all_clients(sessions: Any, event: str, fn: Any) -> None:
    """Register ``fn`` for ``event`` on every client ``sessions`` has made or will make
    (assumed-role clients included: they come from other boto3 sessions than ``base``)."""
    hooked: set[int] = set()

    def hook(client: Any) -> Any:
        if id(client) not in hooked:
            hooked.add(id(client))
            client.meta.events.register(event, fn)
        return client

    for c in list(sessions._clients.values()):
        hook(c)
    make = sessions.client

    def client(*a: Any, **kw: Any) -> Any:
        return hook(make(*a, **kw))

    sessions.client = client


WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


def throttled(operation: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeds"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        operation,
    )


class Throttle:
    """Raise ProvisionedThroughputExceededException on chosen DynamoDB calls (what a caller sees
    once botocore's own retries are exhausted).

    Example::

        t = Throttle(rt.sessions)
        t.arm(nth_write=3)        # the 3rd DynamoDB write from now fails
        t.arm(every=True)         # every DynamoDB call fails until disarm()
    """

    def __init__(self, sessions: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.writes = 0
        self.raised: list[str] = []
        self._nth: int | None = None
        self._also = 0
        self._every = False
        self._lock = threading.Lock()
        hook_all_clients(sessions, "before-call.dynamodb.*", self._hook)

    def arm(self, *, nth_write: int | None = None, every: bool = False, and_next: int = 0) -> None:
        """``and_next``: the ``and_next`` writes after the nth fail too."""
        with self._lock:
            self.writes = 0
            self._nth = nth_write
            self._also = and_next
            self._every = every

    def disarm(self) -> None:
        self.arm()

    def _hook(self, model: Any, **_: Any) -> None:
        name = model.name
        with self._lock:
            self.calls[name] += 1
            fail = self._every
            if name in WRITES:
                self.writes += 1
                fail = fail or (self._nth is not None and self._nth <= self.writes <= self._nth + self._also)
            if fail:
                self.raised.append(f"{name} in Store.{_store_method()}")
        if fail:
            raise throttled(name)


def _store_method() -> str:
    """The bot.store method making the current call (for naming what was throttled)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename.replace("\\", "/").endswith("bot/store/table.py"):
            name = frame.f_code.co_name
            if not name.startswith("_"):
                return name
        frame = frame.f_back
    return "?"


class WorkerKilled(BaseException):
    """Stands for the Lambda runtime dying (timeout, OOM): no except Exception sees it."""


def kill_after(sessions: Any, operation: str) -> Callable[[], None]:
    """The process dies right after ``operation`` returned (the change is made, nothing recorded).
    Returns a function that stops the killing (the next Lambda is healthy)."""
    armed = [True]

    def hook(model: Any, parsed: Any = None, **_: Any) -> None:
        dry_run = isinstance(parsed, dict) and (parsed.get("Error") or {}).get("Code") == "DryRunOperation"
        if armed[0] and model.name == operation and not dry_run:
            raise WorkerKilled(operation)

    hook_all_clients(sessions, "after-call.*.*", hook)
    return lambda: armed.__setitem__(0, False)
