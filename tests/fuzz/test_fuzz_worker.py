"""Fuzz handlers/worker with what the jobs queue could hold. A body that is not a job is reported
in ``batchItemFailures`` (so SQS re-delivers it and, after maxReceiveCount, dead-letters it),
logged as "is not a job" and counted (``job_unreadable``). A well-formed job for a proposal that
does not exist is dropped with a warning. Nothing is ever executed."""

from __future__ import annotations

import json
import logging
import uuid

from hypothesis import given
from hypothesis import strategies as st

from bot.approval.jobs import Job, sealed
from handlers import worker
from tests.bench.bench_env import sqs_record
from tests.fuzz.capture import capture_logs
from tests.fuzz.conftest import FUZZ
from tests.fuzz.strategies import json_values, nasty_text

actors = st.fixed_dictionaries(
    {"user_id": st.sampled_from(["U0ALICE", "U0MALLORY", ""]) | nasty_text},
    optional={"team_id": st.sampled_from(["T0OURS", "T0OTHER"]) | st.none()},
)
job_like = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["execute", "undo", "dry_run", "command", "explode"]) | nasty_text,
        "proposal_id": st.uuids().map(lambda u: u.hex) | nasty_text | json_values,
        "actor": actors | json_values,
        "correlation_id": nasty_text,
        "enqueued_at": st.sampled_from(["2024-01-01T00:00:00Z", "yesterday"]) | json_values,
        "text": nasty_text,
        "channel": nasty_text,
        "response_url": st.none() | st.just("not a url") | st.just("http://127.0.0.1:9/closed"),
    },
)
bodies = st.one_of(
    job_like.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
)


def _is_job(body: str) -> bool:
    try:
        Job.from_body(body)
    except ValueError:
        return False
    return True


@FUZZ
@given(batch=st.lists(bodies, min_size=1, max_size=4))
def test_any_jobs_queue_record_is_handled_failed_visibly_and_never_executed(world, batch):
    worker.set_runtime(world.rt)
    records = [sqs_record(b, str(uuid.uuid4())) for b in batch]
    unreadable_before = world.rt.counts["job_unreadable"]
    with capture_logs() as logs:
        resp = worker.handler({"Records": records}, None)

    failed = {f["itemIdentifier"] for f in resp["batchItemFailures"]}
    errors = logs.messages(logging.ERROR)
    garbage = [r for r in records if not _is_job(r["body"])]
    for rec in garbage:
        assert rec["messageId"] in failed
        assert any(f"record {rec['messageId']} is not a job" in m for m in errors)
    assert world.rt.counts["job_unreadable"] - unreadable_before == len(garbage)
    for rec in records:
        if rec["messageId"] in failed and rec not in garbage:
            assert any(rec["messageId"] in m for m in errors), "a failed job must say why"
    assert world.sessions.mutations() == []


def test_a_job_for_a_proposal_that_does_not_exist_is_dropped_with_a_warning(world):
    worker.set_runtime(world.rt)
    # sealed as EventOps seals its own jobs: the proposal, not the seal, is what is missing
    job = sealed(world.rt, Job(kind="execute", proposal_id="p-nope", actor={"user_id": "U0ALICE", "team_id": "T0OURS"}))
    with capture_logs() as logs:
        resp = worker.handler({"Records": [sqs_record(job.body())]}, None)
    assert resp == {"batchItemFailures": []}
    assert any("unknown proposal p-nope" in m for m in logs.messages(logging.WARNING))
