"""moto, one request at a time: what the sandbox and the tests need from a fake AWS.

A real DynamoDB table evaluates a condition and writes atomically, and a read never sees a
table half-written. moto's backends are plain Python dicts with no locking: two requests at
once can both pass the same condition, and its TransactWriteItems deep-copies a table while
another thread writes to it ("dictionary changed size during iteration"). A notify batch
delivers several channels at once (``delivery.parallel_channels``), and the sandbox's moto
server answers each request in its own thread, so moto's DynamoDB request handling is
serialized here, for the in-process mock and the server alike.

Only DynamoDB: moto's SQS ReceiveMessage long-polls inside the request (up to 20 s of
WaitTimeSeconds against an empty queue), and a process-wide lock held through that wait stalled
every other AWS call in the sandbox for as long — the worker's next job, the click's remediation.

And its TransactWriteItems snapshots (for rollback) the whole table once per item: 100 copies
of the table per call, minutes of CPU once a table holds thousands of items. Here each table is
copied once per call — the same snapshot, since the copies are all taken before any item of the
transaction is written (and, serialized, nothing else writes meanwhile).
"""

from __future__ import annotations

import copy as real_copy
import threading
import types
from typing import Any

_lock = threading.RLock()
_installed = False


def serialize_moto() -> None:
    """Make moto handle one DynamoDB request at a time, process-wide (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        # moto only where the sandbox or the tests run: never on the deployed path
        from moto.core.responses import BaseResponse

        original = BaseResponse.call_action

        def call_action(self: Any) -> Any:
            if self.service_name != "dynamodb":
                return original(self)
            with _lock:
                return original(self)

        BaseResponse.call_action = call_action  # type: ignore[method-assign]
        _one_snapshot_per_transaction()
        _installed = True


def _one_snapshot_per_transaction() -> None:
    # moto only where the sandbox or the tests run: never on the deployed path
    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table  # moto, as above

    memo = threading.local()

    def deepcopy(obj: Any, *args: Any) -> Any:
        snapshots = getattr(memo, "tables", None)
        if snapshots is None or not isinstance(obj, Table):
            return real_copy.deepcopy(obj, *args)
        if id(obj) not in snapshots:
            snapshots[id(obj)] = real_copy.deepcopy(obj, *args)
        return snapshots[id(obj)]

    original = models.DynamoDBBackend.transact_write_items

    def transact(self: Any, transact_items: Any) -> Any:
        memo.tables = {}
        try:
            return original(self, transact_items)
        finally:
            memo.tables = None

    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=real_copy.copy)  # type: ignore[assignment]
    models.DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]
