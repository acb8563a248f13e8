"""moto, one request at a time: what the sandbox and the tests need from a fake AWS.

A real DynamoDB table evaluates a condition and writes atomically, and a read never sees a
table half-written. moto's backends are plain Python dicts with no locking: two requests at
once can both pass the same condition, and its TransactWriteItems deep-copies a table while
another thread writes to it ("dictionary changed size during iteration"). A notify batch
delivers several channels at once (``delivery.parallel_channels``), and the sandbox's moto
server answers each request in its own thread, so moto's request handling is serialized here —
for the in-process mock and the server alike, every service.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.RLock()
_installed = False


def serialize_moto() -> None:
    """Make moto handle one request at a time, process-wide (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        # moto only where the sandbox or the tests run: never on the deployed path
        from moto.core.responses import BaseResponse

        original = BaseResponse.call_action

        def call_action(self: Any) -> Any:
            with _lock:
                return original(self)

        BaseResponse.call_action = call_action  # type: ignore[method-assign]
        _installed = True
