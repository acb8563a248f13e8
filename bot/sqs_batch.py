"""SQS partial batch responses for the two queue-fed functions (notify, worker).

Lambda's SQS event source retries only the records a handler names in ``batchItemFailures``
(the functions enable ``ReportBatchItemFailures``). This is all of it: run each record, name
the ones that raised. Powertools' ``BatchProcessor`` does the same, but importing it (and the
asyncio and data-class modules under it) cost ~65 ms of every cold start — measured with
``python -X importtime``; ``make bench`` reports the cold start ratios.

Example::

    response = process_records(event.get("Records", []), lambda record: handle(record["body"]))
    # {"batchItemFailures": [{"itemIdentifier": "<messageId of each record that raised>"}]}
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypedDict

log = logging.getLogger("eventops")


class ItemFailure(TypedDict):
    itemIdentifier: str


class PartialBatchResponse(TypedDict):
    batchItemFailures: list[ItemFailure]


def message_id(record: object) -> str:
    """The record's SQS ``messageId`` ("" when it has none)."""
    value = record.get("messageId") if isinstance(record, dict) else None
    return value if isinstance(value, str) else ""


def body(record: object) -> str:
    """The record's ``body`` as SQS delivers it (a string; "" when missing)."""
    value = record.get("body") if isinstance(record, dict) else None
    return value if isinstance(value, str) else ""


def process_records(records: object, handle: Callable[[dict[str, Any]], object]) -> PartialBatchResponse:
    """``handle`` each record in order; a record that raises is reported for retry, the rest
    of the batch goes on. A record that is not an SQS record (no dict, no ``messageId``) cannot
    be named for retry: it is logged and skipped, never retried forever."""
    failures: list[ItemFailure] = []
    for record in records if isinstance(records, list) else []:
        mid = message_id(record)
        if not isinstance(record, dict) or not mid:
            log.error("skipping a record that is not an SQS message (no messageId): %r", str(record)[:200])
            continue
        try:
            handle(record)
        except Exception:  # noqa: BLE001 - the handler logged why; SQS retries this record
            failures.append({"itemIdentifier": mid})
    return {"batchItemFailures": failures}


def process_lanes(
    lanes: list[list[dict[str, Any]]], handle: Callable[[dict[str, Any]], object], workers: int
) -> PartialBatchResponse:
    """``process_records`` over lanes (lists of records, each handled in order), ``workers``
    threads at once: the notify function makes one lane per channel. A thread takes the lane
    at the head of the line, handles its next record and puts the lane back at the end, so no
    lane is handled by two threads at once (a channel's alerts keep their order) and one
    channel's posts are spaced by the other channels' (Slack takes ~1 post/s per channel) while
    all wait on Slack together. One lane, or ``workers`` 1: in order, no thread at all."""
    if workers <= 1 or len(lanes) <= 1:
        return process_records([r for lane in lanes for r in lane], handle)
    # Threads only for a batch that spans channels: the cold path of one alert does not load them.
    import threading
    from collections import deque

    line = deque(deque(lane) for lane in lanes if lane)
    lock = threading.Lock()
    failures: list[ItemFailure] = []

    def work() -> None:
        while True:
            with lock:
                if not line:
                    return  # the lanes still being handled go on in their own threads
                lane = line.popleft()
            failed = process_records([lane.popleft()], handle)["batchItemFailures"]
            with lock:
                failures.extend(failed)
                if lane:
                    line.append(lane)

    threads = [threading.Thread(target=work, name=f"lane-{i}") for i in range(min(workers, len(line)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"batchItemFailures": failures}
