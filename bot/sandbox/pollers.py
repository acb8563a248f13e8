"""SQS → handler pollers: what Lambda's SQS event source mapping does, on a thread.

Each poller long-polls one queue, hands up to ``batch_size`` messages to a Lambda handler as an
SQS event (the same record shape Lambda builds), deletes the records that succeeded, and leaves
the rest for redelivery after the visibility timeout (and, after maxReceiveCount, the DLQ).
``ReportBatchItemFailures`` is honoured: only ``batchItemFailures`` stay; a handler that raises
leaves the whole batch.

Example::

    poller = SqsPoller("notify", sqs, alerts_url, notify.handler).start()
    ...
    poller.stop()
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("eventops.sandbox")

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """The parts of Lambda's context object the handlers and Bolt read."""

    function_name: str
    timeout_s: float = 30.0
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "sandbox"
    function_version: str = "$LATEST"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS API message attribute → Lambda record attribute (camelCase keys)."""
    out: dict[str, Any] = {"dataType": value.get("DataType", "String")}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = value["BinaryValue"]
    out["stringListValues"], out["binaryListValues"] = [], []
    return out


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """ReceiveMessage results → the event Lambda passes to an SQS-triggered function."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m.get("Body", ""),
                "attributes": dict(m.get("Attributes") or {}),
                "messageAttributes": {k: _attribute(v) for k, v in (m.get("MessageAttributes") or {}).items()},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


class SqsPoller:
    """Feeds one SQS queue to one handler, as an event source mapping with batch size ``batch_size``.

    ``on_batch(name, delivered, failed)`` is called after each batch (the console's activity
    log uses it). ``idle`` tells whether the last receive came back empty (tests wait on it).
    """

    def __init__(
        self,
        name: str,
        sqs: Any,
        queue_url: str,
        handler: Handler,
        *,
        region: str = "us-east-1",
        batch_size: int = 10,
        wait_s: int = 1,
        function_timeout_s: float = 30.0,
        on_batch: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.name = name
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.region = region
        self.batch_size = batch_size
        self.wait_s = wait_s
        self.function_timeout_s = function_timeout_s
        self.on_batch = on_batch
        self.batches = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    def start(self) -> SqsPoller:
        self._thread = threading.Thread(target=self._run, name=f"poller-{self.name}", daemon=True)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Ask the loop to end after the current receive (so several pollers stop together)."""
        self._stop.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # noqa: BLE001 - a poller must outlive one bad batch or a moto hiccup
                log.warning("%s poller: %s: %s", self.name, type(exc).__name__, exc)
                self._stop.wait(1.0)

    def poll_once(self) -> int:
        """Receive one batch, run the handler, delete what succeeded. Returns the batch size."""
        resp = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = resp.get("Messages") or []
        if not messages:
            return 0
        event = sqs_event(messages, self._queue_arn, self.region)
        context = LambdaContext(function_name=f"eventops-{self.name}", timeout_s=self.function_timeout_s)
        failed: set[str] = set()
        try:
            result = self.handler(event, context)
        except Exception as exc:  # noqa: BLE001 - as Lambda: the whole batch is retried
            log.error("%s handler raised %s: %s; the batch will be redelivered", self.name, type(exc).__name__, exc)
            failed = {m["MessageId"] for m in messages}
        else:
            for item in (result or {}).get("batchItemFailures") or []:
                failed.add(str(item.get("itemIdentifier")))
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        self.batches += 1
        self.failures += len(failed)
        if self.on_batch:
            self.on_batch(self.name, len(done), len(failed))
        return len(messages)


class Schedule:
    """What EventBridge Scheduler does for housekeeping, on a thread: call ``fn`` every
    ``interval_s`` (the first call one interval after ``start``) until ``stop``; a failure is
    logged and the next tick comes anyway (the deployed schedule retries the same way)."""

    def __init__(self, name: str, interval_s: float, fn: Callable[[], Any]) -> None:
        self.name, self.interval_s, self.fn = name, interval_s, fn
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"schedule-{name}", daemon=True)

    def start(self) -> Schedule:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.fn()
            except Exception as exc:  # noqa: BLE001 - a failed run is logged; the schedule goes on
                log.warning("sandbox: scheduled %s failed: %s: %s", self.name, type(exc).__name__, exc)
            self.runs += 1

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
