"""What every stage of the click side asks of a proposal: is it expired, who decided it, which
approvals still count; expire it, queue its job, re-render its alert's message.

The stages themselves are ``clicks`` (decisions at ack time), ``worker`` (jobs: execute, verify,
undo, dry run) and ``sweeps`` (housekeeping). They share these rules so a click, a job and a
sweep judge a proposal the same way.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.approval import audit
from bot.approval.authz import may_approve, tier_for
from bot.approval.jobs import Job, enqueue
from bot.errors import ConflictError, NotFoundError, SlackError
from bot.messages import clock, outcome_reply, refresh_alert_message, who
from bot.models import Actor, Approval, Proposal, ProposalState
from bot.runtime import Runtime

log = logging.getLogger("eventops.approval")

S = ProposalState
KILL_SWITCH_MESSAGE = "kill switch is on: notify-only"
# A RUNNING write older than this means the worker that made it is dead (Lambda max is 900 s).
RUNNING_STALE_S = 900
# An APPROVED proposal this old without a worker picking it up: its SQS send failed; re-queue.
APPROVED_STUCK_S = 300
# Approvals are re-checked in the worker; allow for the queue's delay.
APPROVAL_GRACE_S = 300
_GROUP_CACHE_S = 300


# --- small helpers -----------------------------------------------------------------------------


def now_utc() -> datetime:
    return datetime.now(UTC)


_group_cache: dict[str, tuple[float, list[str]]] = {}


def group_resolver(rt: Runtime):
    """Slack user group → members (usergroups.users.list), cached a few minutes per container."""

    def resolve(group: str) -> list[str]:
        hit = _group_cache.get(group)
        if hit and time.monotonic() - hit[0] < _GROUP_CACHE_S:
            return hit[1]
        members = rt.slack.users_in_group(group)
        _group_cache[group] = (time.monotonic(), members)
        return members

    return resolve


def policy_of(rt: Runtime) -> Any:
    return rt.config.policy


def refresh_message(rt: Runtime, alert_id: str, status: str | None, *, raise_errors: bool = False) -> None:
    """Re-render the alert's message (chat.update by channel + ts) with a status line."""
    try:
        refresh_alert_message(rt, alert_id, status)
    except NotFoundError:
        log.info("alert %s has no stored message to update (an /ops run proposal)", alert_id)
    except SlackError as exc:
        rt.count("message_update_failed")
        log.warning("updating the message of alert %s failed: %s", alert_id, exc)
        if raise_errors:
            raise


def is_expired(p: Proposal, now: datetime | None = None) -> bool:
    return p.expires_at is not None and (now or now_utc()) >= p.expires_at


def decider(p: Proposal) -> tuple[Actor | None, datetime]:
    if p.approvals:
        return p.approvals[-1].actor, p.approvals[-1].at
    return p.requester, p.updated_at


def already_message(p: Proposal) -> str:
    """What a late clicker is told, e.g. "Already done by @bob at 10:42 (succeeded)."."""
    actor, at = decider(p)
    if p.state in (S.APPROVED, S.RUNNING):
        return f"Already done by {who(actor)} at {clock(at)} (it is {p.state.value.lower()} now)."
    if p.state in (S.SUCCEEDED, S.FAILED, S.NOOP, S.UNDONE):
        return f"Already done by {who(actor)} at {clock(at)} ({p.state.value.lower()})."
    if p.state == S.EXPIRED:
        return f"This proposal expired at {clock(p.expires_at)}; nothing was changed."
    return f"This proposal is {p.state.value.lower()} (since {clock(p.updated_at)}); nothing was changed."


def valid_approvals(rt: Runtime, p: Proposal, now: datetime, grace_s: float = 0) -> list[Approval]:
    """Distinct approvers, none the requester, each within the tier's TTL and still allowed."""
    tier = tier_for(policy_of(rt), p.risk)
    ttl = timedelta(minutes=tier.approval_ttl_minutes if tier else 0, seconds=grace_s)
    seen: set[str] = set()
    out: list[Approval] = []
    requester = p.requester.user_id if p.requester else None
    for a in p.approvals:
        if a.actor.user_id in seen or a.actor.user_id == requester or now - a.at > ttl:
            continue
        others = p.model_copy(update={"approvals": [x for x in p.approvals if x.actor.user_id != a.actor.user_id]})
        if not may_approve(policy_of(rt), a.actor, others, p.channel, group_resolver(rt)):
            continue
        seen.add(a.actor.user_id)
        out.append(a)
    return out


def expire_proposal(rt: Runtime, p: Proposal) -> None:
    try:
        saved = rt.store.save_proposal(p.model_copy(update={"state": S.EXPIRED}), p.state, p.version)
    except ConflictError:
        return
    audit.record(
        rt,
        key=f"{p.id}:EXPIRED",
        action=p.remediation,
        outcome="EXPIRED",
        actor=Actor.system(),
        proposal=saved,
        result=f"expired at {saved.expires_at.isoformat() if saved.expires_at else '?'}",
    )


def queue_job(rt: Runtime, job: Job) -> str | None:
    """Enqueue; on failure say so. Housekeeping re-queues APPROVED proposals nobody picked up."""
    try:
        enqueue(rt, job)
        return None
    except Exception as exc:  # noqa: BLE001 - the decision is recorded; the job is retried later
        log.error("queueing %s for %s failed: %s", job.kind.value, job.proposal_id, type(exc).__name__)
        rt.count("enqueue_failed")
        return "The job could not be queued right now; it will be retried automatically within a few minutes."


# --- undo: it follows the rules of the action it reverses ---------------------------------------


def undo_view(p: Proposal) -> Proposal:
    """``p`` as its undo request: requester and approvals are the undo's, so ``may_approve`` and
    ``valid_approvals`` judge an undo exactly as they judge the change."""
    if p.undo is None:
        return p.model_copy(update={"requester": None, "approvals": []})
    return p.model_copy(update={"requester": p.undo.requester, "approvals": p.undo.approvals})


def refresh_undo_reply(rt: Runtime, succeeded: Proposal) -> None:
    """Re-render the outcome reply that carried the Undo button (``succeeded``: the SUCCEEDED
    proposal with its undo request): the button and "Undo available until" go. Best effort."""
    undo = succeeded.undo
    if undo is None or not undo.reply_ts or not succeeded.channel or undo.reply_ts == succeeded.message_ts:
        return
    try:
        rt.slack.update_message(succeeded.channel, undo.reply_ts, outcome_reply(succeeded))
    except SlackError as exc:
        rt.count("message_update_failed")
        log.warning("updating the outcome reply of proposal %s failed: %s", succeeded.id, exc)
