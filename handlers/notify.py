"""Lambda entry point: the SQS alerts queue → bot.pipeline.handle_event, one record at a time.

Reports partial batch failures, so only the records whose delivery failed are retried (and
reach the DLQ after the queue's maxReceiveCount). A record that cannot be parsed still becomes
a generic alert; it never fails the batch.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bot.config import Settings
from bot.logs import begin_invocation, configure_logging, set_correlation
from bot.pipeline import NotifyBatch, handle_event
from bot.runtime import RuntimeSlot

# JSON lines at EVENTOPS_LOG_LEVEL; every line carries the event id as correlation_id.
logger = configure_logging(Settings.from_env().log_level)
_slot = RuntimeSlot()
# Built once per cold start; tests put their own in with set_runtime().
runtime, set_runtime = _slot.get, _slot.set


def _body(record: SQSRecord) -> Any:
    try:
        return json.loads(record.body)
    except RecursionError:
        logger.warning("record %s: body is nested too deeply to read; posting it as a generic alert", record.message_id)
        return record.body
    except (TypeError, ValueError) as exc:
        logger.warning("record %s: body is not JSON (%s); posting it as a generic alert", record.message_id, exc)
        return record.body


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    records = event.get("Records", [])
    # Lines about the whole batch (flush, metrics) are named after its first record.
    batch_id = f"batch:{records[0].get('messageId', '')}" if records and isinstance(records[0], dict) else "batch"
    begin_invocation(context, batch_id)
    rt = runtime()
    rt.time_left = (lambda: context.get_remaining_time_in_millis() / 1000) if context else None
    batch = NotifyBatch(rt)
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> str:
        set_correlation(None, sqs_message_id=record.message_id)
        raw = _body(record)
        event_id = raw.get("id") if isinstance(raw, dict) else None
        set_correlation(event_id if isinstance(event_id, str) else None)
        try:
            outcome = handle_event(raw, rt, batch, record.message_id)
        except Exception as exc:
            logger.error("record %s failed, will be retried: %s: %s", record.message_id, type(exc).__name__, exc)
            rt.count("delivery_failed")
            raise
        logger.info("record %s: %s", record.message_id, outcome)
        return outcome

    with processor(records, record_handler):
        processor.process()
    set_correlation(batch_id, sqs_message_id=None)
    response = processor.response()
    for record_id in batch.flush():
        response["batchItemFailures"].append({"itemIdentifier": record_id})
    try:
        rt.metrics.flush_metrics()
    except Exception as exc:  # noqa: BLE001 - metrics must never fail the batch
        logger.warning("metrics flush failed: %s", exc)
    return response
