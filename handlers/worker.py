"""Lambda entry point: the SQS jobs queue → the worker, one record each.

Every job is checked first (``job_refusal``: sealed by the bot, actor in ``policy.teams``); a
refused one is audited and dropped. Remediation jobs (execute, undo, dry run) go to
``bot.approval.worker.process_job``; a queued ``/ops`` sub-command goes to
``bot.commands.answer_job``, which answers through the request's response_url; an alarm graph
goes to ``bot.graphs.draw.run_graph_job`` (imported on that path only); a ``context`` job (a
posted alert's "what changed?" reply) goes to ``bot.context.job.run_context_job``; a ``message``
job (a triage click's audit record and message update, after its ack) goes to
``bot.approval.followups.run_message_job``.

Partial batch failures (``bot.sqs_batch``): a record whose job raised is reported
failed, SQS delivers it again after the visibility timeout and, after the queue's
maxReceiveCount, moves it to the DLQ. A re-delivered job never runs a remediation twice (see
``bot.approval.worker``).
"""

from __future__ import annotations

import gc

# Cold start: the imports below create objects that live as long as the process; collecting
# garbage among them is wasted time (a quarter of the import, measured: README "Performance").
# Collection comes back, with those objects frozen out of it, at the end of this module.
gc.disable()

import logging
from typing import Any

from bot.approval import audit
from bot.approval.followups import run_message_job
from bot.approval.jobs import Job, JobKind, job_refusal
from bot.approval.worker import process_job
from bot.commands import answer_job
from bot.config import Settings
from bot.context.job import run_context_job
from bot.logs import begin_invocation, configure_logging, set_correlation
from bot.runtime import Runtime, RuntimeSlot
from bot.sqs_batch import PartialBatchResponse, body, message_id, process_records

configure_logging(Settings.from_env().log_level)  # JSON lines; correlation_id: the job's proposal or command
log = logging.getLogger("eventops.handlers.worker")
_slot = RuntimeSlot()
# Built once per cold start; tests put their own in with set_runtime().
runtime, set_runtime = _slot.get, _slot.set


def job_correlation(job: Job) -> str:
    """What a job's log lines are found by: its proposal id, or ``/ops <sub-command>`` for a
    queued command (only the first word: the rest is the user's text)."""
    if job.proposal_id:
        return job.proposal_id
    if job.kind == JobKind.GRAPH:
        return job.alert_id or "graph"
    if job.alert_id:
        return job.alert_id
    words = job.text.split()
    return f"/ops {words[0][:40]}" if words else "/ops"


def run_job(rt: Runtime, job: Job) -> str:
    """One job, to the stage that owns its kind, once its seal and actor are checked (every
    kind: anyone with SendMessage on the queue could write one; ``bot.approval.jobs``)."""
    refusal = job_refusal(rt, job)
    if refusal:
        return refuse_job(rt, job, refusal)
    if job.kind == JobKind.COMMAND:
        return answer_job(rt, job)
    if job.kind == JobKind.GRAPH:
        from bot.graphs.draw import run_graph_job  # alarm graphs only: zlib drawing off other paths

        return run_graph_job(rt, job)
    if job.kind == JobKind.CONTEXT:
        return run_context_job(rt, job)
    if job.kind == JobKind.MESSAGE:
        return run_message_job(rt, job)
    return process_job(rt, job)


def refuse_job(rt: Runtime, job: Job, reason: str) -> str:
    """Drop a job the worker must not act on: logged, counted and audited, never retried."""
    log.error("job %s refused: %s", job, reason)
    rt.count("job_refused")
    audit.record(
        rt,
        key=f"JOBREFUSED:{job.kind.value}:{job.correlation_id}",
        action=f"job.{job.kind.value}",
        outcome="JOB_REFUSED",
        actor=job.actor,
        result=f"{reason}; proposal {job.proposal_id or '-'}",
        correlation_id=job.correlation_id,
    )
    return "refused"


def handler(event: dict[str, Any], context: Any) -> PartialBatchResponse:
    begin_invocation(context, None)
    rt = runtime()
    rt.time_left = (lambda: context.get_remaining_time_in_millis() / 1000) if context else None

    def record_handler(record: dict[str, Any]) -> str:
        mid = message_id(record)
        set_correlation(None, sqs_message_id=mid, job_kind=None, job_id=None)
        try:
            job = Job.from_body(body(record))
        except ValueError:
            log.error("record %s is not a job; failing it so it reaches the DLQ", mid)
            rt.count("job_unreadable")
            raise
        set_correlation(job_correlation(job), job_kind=job.kind.value, job_id=job.correlation_id)
        try:
            outcome = run_job(rt, job)
        except Exception as exc:
            log.error("job %s (record %s) failed: %s: %s", job, mid, type(exc).__name__, exc)
            rt.count("job_failed")
            raise
        log.info("job %s → %s", job, outcome)
        return outcome

    response = process_records(event.get("Records", []), record_handler)
    rt.flush_metrics()
    return response


gc.freeze()  # what the import created leaves the collected generations for good
gc.enable()
