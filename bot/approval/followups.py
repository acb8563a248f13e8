"""What a triage click leaves for the worker once its decision is stored.

Slack wants the HTTP answer within 3 seconds, and ``chat.update`` costs a Slack round trip and
can be refused with 429 (Slack limits updates per message and per minute). So Acknowledge,
Snooze (a preset or the modal's duration) and Dismiss (the modal's submission) do, before the
ack, only the reads their authorization needs and the write that *is* the decision (the
first-to-acknowledge claim, the snooze, the first-to-dismiss claim and the offers it closes);
then ``follow_up`` queues one sealed ``message`` job (``bot.approval.jobs``) and the click is
answered. The worker (``handlers/worker.py`` → ``run_message_job``):

1. writes the click's audit record (``AuditNote``: once, under its unique key; at the click's
   time, by the clicker);
2. re-renders the alert's message from the store with the click's status line (``chat.update``;
   a status line is not written over one a later decision left, see
   ``bot.messages.refresh_alert_message``).

A 429 that Slack asks to wait out longer than the worker may wait fails the record, and SQS
delivers it again (the message is never left stale, the record reaches the DLQ only after
``maxReceiveCount``). A redelivered or duplicated job writes no second audit record and posts
nothing: ``chat.update`` renders the same message from the same store.

If the job cannot be queued (no queue configured, SQS refused), the click does both itself,
as before: the decision stands and the clicker sees the message change.

Example::

    follow_up(rt, alert.id, click.actor, f"👀 Acknowledged by {who(click.actor)} at …",
              AuditNote(key=f"ack:{alert.id}", action="alert.acknowledge", outcome="ACKNOWLEDGED"))
    run_message_job(rt, Job.from_body(record["body"]))   # the worker → "message_updated"
"""

from __future__ import annotations

import logging

from bot.approval import audit
from bot.approval.jobs import AuditNote, Job, JobKind, enqueue
from bot.errors import NotFoundError
from bot.messages import refresh_alert_message
from bot.models import Actor
from bot.runtime import Runtime

log = logging.getLogger("eventops.approval")


def follow_up(
    rt: Runtime,
    alert_id: str,
    actor: Actor,
    status: str,
    note: AuditNote | None = None,
    *,
    message: tuple[str | None, str | None] = (None, None),
    proposal_id: str = "",
) -> str:
    """After a click's decision is stored: queue its audit record and message update, or do
    them now when nothing can be queued. ``message``: the alert message's (channel, ts), as
    the audit record names it; ``proposal_id``: the proposal a remediation click decided (the
    worker logs the job under it, as it logs that proposal's own job). Returns "queued" or "inline". Never raises for a Slack failure
    (the decision is stored; inline, the message update is best effort as it always was)."""
    channel, ts = message
    job = Job(
        kind=JobKind.MESSAGE,
        alert_id=alert_id,
        proposal_id=proposal_id,
        actor=actor,
        status=status,
        audit=note,
        channel=channel or "",
        thread_ts=ts or "",
    )
    if rt.settings.jobs_queue_url:
        try:
            enqueue(rt, job)
            return "queued"
        except Exception as exc:  # noqa: BLE001 - the decision is stored: do the rest here
            log.warning("queueing the message update of alert %s failed (%s); doing it now", alert_id, exc)
            rt.count("enqueue_failed")
    _record(rt, job)
    _refresh(rt, job, raise_errors=False)
    return "inline"


def run_message_job(rt: Runtime, job: Job) -> str:
    """Worker: a click's audit record, then its alert's message re-rendered. Raises SlackError
    (``RetryLaterError`` on a 429) so the SQS record is delivered again."""
    if not job.alert_id:
        log.warning("message job %s names no alert; dropped", job.correlation_id)
        return "message_no_alert"
    _record(rt, job)
    return _refresh(rt, job, raise_errors=True)


def _record(rt: Runtime, job: Job) -> None:
    note = job.audit
    if note is None:
        return
    audit.record(
        rt,
        key=note.key,
        action=note.action,
        outcome=note.outcome,
        actor=job.actor,
        alert_id=job.alert_id,
        result=note.result,
        channel=job.channel or None,
        ts=job.thread_ts or None,
        params=note.params,
        correlation_id=job.correlation_id,
        at=job.enqueued_at,
    )


def _refresh(rt: Runtime, job: Job, *, raise_errors: bool) -> str:
    try:
        refresh_alert_message(rt, job.alert_id, job.status or None, since=job.enqueued_at)
    except NotFoundError:
        log.info("alert %s has no stored message to update", job.alert_id)
        return "message_no_alert"
    except Exception as exc:
        rt.count("message_update_failed")
        log.warning("updating the message of alert %s failed: %s", job.alert_id, exc)
        if raise_errors:
            raise
        return "message_update_failed"
    return "message_updated"
