"""Lambda entry point: the SQS alerts queue → bot.pipeline.handle_event, one record at a time.

Reports partial batch failures, so only the records whose delivery failed are retried (and
reach the DLQ after the queue's maxReceiveCount). A record that cannot be parsed still becomes
a generic alert; it never fails the batch.
"""

from __future__ import annotations

import gc

# Cold start: the imports below create objects that live as long as the process; collecting
# garbage among them is wasted time (a quarter of the import, measured: README "Performance").
# Collection comes back, with those objects frozen out of it, at the end of this module.
gc.disable()

import json
from typing import Any

from bot.config import Settings
from bot.logs import begin_invocation, configure_logging, set_correlation
from bot.pipeline import NotifyBatch, handle_event
from bot.runtime import RuntimeSlot
from bot.sqs_batch import PartialBatchResponse, body, message_id, process_lanes

# JSON lines at EVENTOPS_LOG_LEVEL; every line carries the event id as correlation_id.
logger = configure_logging(Settings.from_env().log_level)
_slot = RuntimeSlot()
# Built once per cold start; tests put their own in with set_runtime().
runtime, set_runtime = _slot.get, _slot.set


def _body(record: dict[str, Any]) -> Any:
    text, mid = body(record), message_id(record)
    try:
        return json.loads(text)
    except RecursionError:
        logger.warning("record %s: body is nested too deeply to read; posting it as a generic alert", mid)
        return text
    except (TypeError, ValueError) as exc:
        logger.warning("record %s: body is not JSON (%s); posting it as a generic alert", mid, exc)
        return text


def handler(event: dict[str, Any], context: Any) -> PartialBatchResponse:
    records = event.get("Records", [])
    # Lines about the whole batch (flush, metrics) are named after its first record.
    batch_id = f"batch:{records[0].get('messageId', '')}" if records and isinstance(records[0], dict) else "batch"
    begin_invocation(context, batch_id)
    rt = runtime()
    rt.time_left = (lambda: context.get_remaining_time_in_millis() / 1000) if context else None
    batch = NotifyBatch(rt)
    bodies = {message_id(r): _body(r) for r in records if isinstance(r, dict)}
    batch.preclaim(list(bodies.items()))  # the batch's event ids claimed together

    def record_handler(record: dict[str, Any]) -> str:
        mid = message_id(record)
        set_correlation(None, sqs_message_id=mid)
        raw = bodies[mid] if mid in bodies else _body(record)
        event_id = raw.get("id") if isinstance(raw, dict) else None
        set_correlation(event_id if isinstance(event_id, str) else None)
        try:
            outcome = handle_event(raw, rt, batch, mid)
        except Exception as exc:
            logger.error("record %s failed, will be retried: %s: %s", mid, type(exc).__name__, exc)
            rt.count("delivery_failed")
            raise
        logger.info("record %s: %s", mid, outcome)
        return outcome

    # One lane per channel, delivered at once (bot.config Delivery); each lane in order.
    lanes: dict[str, list[Any]] = {}
    for record in records if isinstance(records, list) else []:
        lanes.setdefault(batch.channel_of(message_id(record)), []).append(record)
    response = process_lanes(list(lanes.values()), record_handler, rt.config.delivery.parallel_channels)
    set_correlation(batch_id, sqs_message_id=None)
    for record_id in batch.flush():
        response["batchItemFailures"].append({"itemIdentifier": record_id})
    try:
        rt.metrics.flush_metrics()
    except Exception as exc:  # noqa: BLE001 - metrics must never fail the batch
        logger.warning("metrics flush failed: %s", exc)
    return response


gc.freeze()  # what the import created leaves the collected generations for good
gc.enable()
