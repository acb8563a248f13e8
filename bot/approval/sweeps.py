"""Housekeeping sweeps: expired offers, ended snoozes, stuck jobs.

Run by ``handlers/housekeeping.py`` on a schedule. Each sweep is idempotent: the same
conditional writes as a click or a job, so a sweep racing a worker changes a proposal once.

Example::

    expire_proposals(rt); end_snoozes(rt); sweep_running(rt); requeue_stuck(rt)
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from bot.approval.jobs import Job, JobKind
from bot.approval.proposal import (
    APPROVED_STUCK_S,
    RUNNING_STALE_S,
    S,
    expire_proposal,
    is_expired,
    now_utc,
    queue_job,
    refresh_message,
)
from bot.approval.worker import interrupted
from bot.errors import ConflictError, RetryLaterError, SlackError
from bot.messages import who
from bot.models import Actor
from bot.runtime import Runtime
from bot.slack.render import render_outcome_reply

log = logging.getLogger("eventops.approval")


# --- housekeeping ------------------------------------------------------------------------------


def expire_proposals(rt: Runtime, now: datetime | None = None) -> int:
    """PROPOSED / SNOOZED proposals past ``expires_at`` → EXPIRED, audited, message updated."""
    now = now or now_utc()
    alerts: set[str] = set()
    n = 0
    for p in rt.store.proposals_in({S.PROPOSED, S.SNOOZED}):
        if not is_expired(p, now):
            continue
        expire_proposal(rt, p)
        alerts.add(p.alert_id)
        n += 1
    for alert_id in alerts:
        refresh_message(rt, alert_id, "⌛ The remediation offers expired; nothing was changed.")
    if n:
        rt.count("proposals_expired", n)
    return n


def end_snoozes(rt: Runtime, now: float | None = None) -> int:
    """Snoozes whose time is up: remind the thread, reopen snoozed proposals, forget the snooze."""
    now = now if now is not None else time.time()
    n = 0
    for s in rt.store.snoozes(include_expired=True):
        if s["until"] > now:
            continue
        if s["channel"] and s["ts"]:
            title = f"⏰ Snooze ended (set by {who(s['by'])})"
            again = (
                "New alerts of this storm will be listed in its thread again."
                if s["target"].startswith("storm:")
                else "New events for this problem will be posted again."
            )
            lines = [s["reason"] or "", again]
            try:
                rt.slack.post_reply(s["channel"], s["ts"], render_outcome_reply(title, lines))
            except SlackError as exc:
                log.warning("snooze reminder for %s failed (retried next run): %s", s["target"], exc)
                continue
        reopened: set[str] = set()
        for p in rt.store.proposals_in({S.SNOOZED}):
            if p.fingerprint != s["target"]:
                continue
            state = S.EXPIRED if is_expired(p) else S.PROPOSED
            try:
                rt.store.save_proposal(p.model_copy(update={"state": state}), S.SNOOZED, p.version)
                reopened.add(p.alert_id)
            except ConflictError:
                continue
        rt.store.unsnooze(s["id"])
        for alert_id in reopened:  # the remediation buttons come back
            refresh_message(rt, alert_id, f"⏰ Snooze ended (set by {who(s['by'])})")
        n += 1
    return n


def sweep_running(rt: Runtime, stale_s: float = RUNNING_STALE_S) -> int:
    """RUNNING longer than any worker can live → FAILED, "worker interrupted; state unknown"."""
    n = 0
    for p in rt.store.proposals_in({S.RUNNING}):
        if (now_utc() - p.updated_at).total_seconds() >= stale_s:
            try:
                interrupted(rt, p)
            except (SlackError, RetryLaterError) as exc:
                log.warning("announcing interrupted proposal %s failed: %s", p.id, exc)
            n += 1
    return n


def requeue_stuck(rt: Runtime, stuck_s: float = APPROVED_STUCK_S) -> int:
    """APPROVED proposals no worker picked up (the SQS send failed) are queued again.

    Safe because the worker's ``APPROVED → RUNNING`` write admits exactly one job.
    """
    n = 0
    for p in rt.store.proposals_in({S.APPROVED}):
        if (now_utc() - p.updated_at).total_seconds() >= stuck_s:
            if queue_job(rt, Job(kind=JobKind.EXECUTE, proposal_id=p.id, actor=p.requester or Actor.system())) is None:
                n += 1
    return n
