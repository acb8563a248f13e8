"""Fuzz handlers/notify with what an SQS alerts queue could hold: mutated real events, the
malformed samples, random JSON, random text. Every record is handled (never an unhandled
exception), none is reported failed (parseable-but-bad input becomes a generic alert: nothing is
lost), each gets exactly one outcome, unparsed ones get a warning naming the reason, Slack
accepts everything sent, and no event text can ping a channel."""

from __future__ import annotations

import json
import logging
import uuid

from hypothesis import given
from hypothesis import strategies as st

from tests.bench.bench_env import sqs_record
from tests.fuzz.capture import capture_logs
from tests.fuzz.conftest import FUZZ
from tests.fuzz.strategies import INJECTIONS, notify_bodies

OUTCOMES = ("posted", "grouped", "grouped_late", "threaded", "storm", "snoozed", "dropped", "duplicates_suppressed")


def _outcomes(counts) -> int:
    return sum(counts[k] for k in OUTCOMES)


@FUZZ
@given(bodies=st.lists(notify_bodies, min_size=1, max_size=4))
def test_any_alerts_queue_record_is_handled_and_none_is_lost(notify, bodies):
    rt, slack = notify.rt, notify.slack
    before_outcomes, before_unparsed = _outcomes(rt.counts), rt.counts["unparsed"]
    seen_requests = len(slack.requests)
    with capture_logs() as logs:
        resp = notify.run({"Records": [sqs_record(b, str(uuid.uuid4())) for b in bodies]})

    assert resp == {"batchItemFailures": []}, logs.messages(logging.WARNING)
    assert _outcomes(rt.counts) - before_outcomes == len(bodies)
    unparsed = rt.counts["unparsed"] - before_unparsed
    warned = [m for m in logs.messages(logging.WARNING) if "parsed as generic" in m]
    assert len(warned) == unparsed  # each unparsed event says why, once
    assert all(m.split("parsed as generic:", 1)[1].strip() for m in warned)

    for call in slack.requests[seen_requests:]:
        assert call.status == 200 and call.error is None, (call.method, call.error)
        sent = json.dumps(call.params.get("blocks") or "") + str(call.params.get("text") or "")
        for raw in INJECTIONS:
            assert raw not in sent, f"{raw} reached Slack unescaped"
