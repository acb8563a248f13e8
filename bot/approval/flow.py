"""Clicks → decisions → jobs → outcomes. The interactive half of EventOps.

Two halves, one rule each:

* **The ack path** (``handle_action``, inside Slack's 3 seconds): parse → authorize (fail
  closed) → one conditional DynamoDB write → SQS send → ``chat.update`` of the message. Nothing
  touches AWS resources here. A refusal answers with an ephemeral reason; a refused click
  writes a ``DENIED`` audit record but leaves the proposal open, so a stranger's click cannot
  lock the people who *are* allowed out of it.
* **The worker** (``process_job``, from the jobs queue): re-read the proposal, re-authorize
  (policy, team, approvals — fail closed), ``APPROVED → RUNNING`` (conditional: the only way in),
  kill switch, blast radius, run, ``RUNNING → outcome`` (conditional), one audit record, then
  ``chat.update`` (channel + ts, never a response_url) and a thread reply with an Undo button.

At most once (RELIABILITY 2): every transition is conditional on (state, version), so of five
concurrent deliveries of a click one wins and four are told who did it; a re-delivered job finds
``RUNNING`` or a terminal state and never runs the remediation again.

A job that finds ``RUNNING`` is a duplicate or the re-delivery of a crashed worker. We never
re-run it and never guess: if the ``RUNNING`` write is older than ``RUNNING_STALE_S`` (the Lambda
maximum, so the first worker is certainly dead) it becomes ``FAILED`` with "worker interrupted;
state unknown — check the resource"; if younger, the record is returned to SQS and looked at
again later. Housekeeping sweeps stale ``RUNNING`` proposals the same way, so nothing stays
RUNNING when a job went to the DLQ.

HIGH risk (RELIABILITY 9): the remediate button's confirm dialog shows the plan (rendered by
``bot.pipeline.alert_buttons``). The click records the *request* (the proposal stays
``PROPOSED``, ``requester`` set) and queues a ``dry_run`` job: the worker asks AWS (``DryRun``)
as the requester and posts, in the thread, the plan, the dry-run result and an **Approve**
button whose confirm dialog repeats both. So approvers see what AWS said before they approve,
and the dry run happens outside the 3-second ack. Approvals count only from distinct people
other than the requester, each within the tier's ``approval_ttl_minutes``; the proposal becomes
``APPROVED`` with the last needed approval, and the worker checks the approvals again.

Example::

    decision = handle_action(rt, parse_action(body))   # in handlers/slack.py via Bolt
    outcome = process_job(rt, Job.from_body(record.body))  # in handlers/worker.py
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.approval import audit
from bot.approval.authz import Verdict, approvals_needed, in_org, may_act, may_approve, tier_for
from bot.approval.jobs import Job, JobKind, enqueue
from bot.approval.states import OPEN, TERMINAL
from bot.errors import ConflictError, EventOpsError, NotFoundError, RetryLaterError, SlackError
from bot.models import Actor, Approval, Outcome, Proposal, ProposalState, Risk
from bot.slack.payloads import ActionRequest

log = logging.getLogger("eventops.flow")

S = ProposalState
KILL_SWITCH_MESSAGE = "kill switch is on: notify-only"
# A RUNNING write older than this means the worker that made it is dead (Lambda max is 900 s).
RUNNING_STALE_S = 900
# An APPROVED proposal this old without a worker picking it up: its SQS send failed; re-queue.
APPROVED_STUCK_S = 300
# Approvals are re-checked in the worker; allow for the queue's delay.
APPROVAL_GRACE_S = 300
SNOOZE_SECONDS = {"1h": 3600, "4h": 4 * 3600, "24h": 24 * 3600}
VALUE_TTL_S = 90 * 86400
# Dismissing an alert writes the decision back to its source, when the dismisser may do that:
# the Security Hub finding is SUPPRESSED, the GuardDuty finding archived.
WRITE_BACK_ON_DISMISS: dict[str, dict[str, Any]] = {
    "securityhub.set-workflow-status": {"status": "SUPPRESSED"},
    "guardduty.archive-finding": {},
}
_GROUP_CACHE_S = 300


class JobFailedError(EventOpsError):
    """The job ended in an unexpected error; its SQS record must fail (and reach the DLQ)."""


@dataclass(frozen=True)
class Decision:
    """What a click led to (for logs, metrics and tests)."""

    outcome: str
    message: str = ""


# --- small helpers -----------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _clock(dt: datetime | float | None) -> str:
    if dt is None:
        return "?"
    if isinstance(dt, int | float):
        dt = datetime.fromtimestamp(dt, UTC)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%H:%M UTC")


def who(actor: Actor | None) -> str:
    """``@alice`` for people, ``EventOps (auto)`` for the bot itself."""
    if actor is None:
        return "someone"
    if actor.is_system:
        return actor.user_name or "EventOps (auto)"
    return "@" + (actor.user_name or actor.user_id)


def _catalog() -> Any:
    """The remediation registry, with the catalog modules imported (they register on import)."""
    try:
        import bot.remediations  # noqa: F401 - registers the catalog
    except ImportError:  # pragma: no cover - catalog not installed
        log.warning("bot.remediations is not importable; only already-registered remediations exist")
    from bot.remediations.base import remediations

    return remediations


def _title(p: Proposal) -> str:
    rem = _catalog().get(p.remediation)
    return rem.title if rem is not None else p.remediation


_group_cache: dict[str, tuple[float, list[str]]] = {}


def _resolver(rt: Any):
    """Slack user group → members (usergroups.users.list), cached a few minutes per container."""

    def resolve(group: str) -> list[str]:
        hit = _group_cache.get(group)
        if hit and time.monotonic() - hit[0] < _GROUP_CACHE_S:
            return hit[1]
        members = rt.slack.users_in_group(group)
        _group_cache[group] = (time.monotonic(), members)
        return members

    return resolve


def _policy(rt: Any) -> Any:
    return rt.config.policy


def _ephemeral(rt: Any, click: ActionRequest, text: str) -> None:
    from bot.slack.render import render_ephemeral

    payload = render_ephemeral(text)
    if click.thread_ts:
        payload["thread_ts"] = click.thread_ts
    try:
        rt.slack.post_ephemeral(click.channel, click.actor.user_id, payload)
    except Exception as exc:  # noqa: BLE001 - the decision stands; the note is best effort
        log.warning("ephemeral reply to %s failed: %s", click.actor.user_id, type(exc).__name__)


def _refresh(rt: Any, alert_id: str, status: str | None, *, raise_errors: bool = False) -> None:
    """Re-render the alert's message (chat.update by channel + ts) with a status line."""
    from bot.pipeline import refresh_alert_message

    try:
        refresh_alert_message(rt, alert_id, status)
    except (SlackError, NotFoundError) as exc:
        rt.count("message_update_failed")
        log.warning("updating the message of alert %s failed: %s", alert_id, exc)
        if raise_errors:
            raise


def _expired(p: Proposal, now: datetime | None = None) -> bool:
    return p.expires_at is not None and (now or _now()) >= p.expires_at


def _decider(p: Proposal) -> tuple[Actor | None, datetime]:
    if p.approvals:
        return p.approvals[-1].actor, p.approvals[-1].at
    return p.requester, p.updated_at


def already_message(p: Proposal) -> str:
    """What a late clicker is told, e.g. "Already done by @bob at 10:42 (succeeded)."."""
    actor, at = _decider(p)
    if p.state in (S.APPROVED, S.RUNNING):
        return f"Already done by {who(actor)} at {_clock(at)} (it is {p.state.value.lower()} now)."
    if p.state in (S.SUCCEEDED, S.FAILED, S.NOOP, S.UNDONE):
        return f"Already done by {who(actor)} at {_clock(at)} ({p.state.value.lower()})."
    if p.state == S.EXPIRED:
        return f"This proposal expired at {_clock(p.expires_at)}; nothing was changed."
    return f"This proposal is {p.state.value.lower()} (since {_clock(p.updated_at)}); nothing was changed."


def _in_org(rt: Any, actor: Actor) -> Verdict:
    """Ack / Snooze / Dismiss: anyone in the organization's Slack team (fail closed)."""
    return in_org(_policy(rt), actor)


def _valid_approvals(rt: Any, p: Proposal, now: datetime, grace_s: float = 0) -> list[Approval]:
    """Distinct approvers, none the requester, each within the tier's TTL and still allowed."""
    tier = tier_for(_policy(rt), p.risk)
    ttl = timedelta(minutes=tier.approval_ttl_minutes if tier else 0, seconds=grace_s)
    seen: set[str] = set()
    out: list[Approval] = []
    requester = p.requester.user_id if p.requester else None
    for a in p.approvals:
        if a.actor.user_id in seen or a.actor.user_id == requester or now - a.at > ttl:
            continue
        others = p.model_copy(update={"approvals": [x for x in p.approvals if x.actor.user_id != a.actor.user_id]})
        if not may_approve(_policy(rt), a.actor, others, p.channel, _resolver(rt)):
            continue
        seen.add(a.actor.user_id)
        out.append(a)
    return out


# --- the ack path: one click -------------------------------------------------------------------


def handle_action(rt: Any, click: ActionRequest) -> Decision:
    """Decide one click within Slack's ack budget. Never raises; refusals go to the clicker."""
    handlers = {
        "remediate": _remediate,
        "approve": _approve,
        "undo": _undo_click,
        "ack": _ack,
        "snooze": _snooze,
        "dismiss": _dismiss,
    }
    fn = handlers.get(click.kind)
    if fn is None:
        log.warning("unknown EventOps action %r", click.action_id)
        _ephemeral(rt, click, "This button is not one EventOps knows; nothing was changed.")
        return Decision("unknown")
    try:
        decision = fn(rt, click)
    except Exception as exc:  # the clicker hears about it; the log has the trace
        log.exception("handling %s on %s failed", click.kind, click.value)
        rt.count("action_failed")
        _ephemeral(rt, click, f"Something went wrong handling that click ({type(exc).__name__}); see the bot's log.")
        return Decision("error", type(exc).__name__)
    rt.count(f"click_{decision.outcome}")
    return decision


def _refuse(rt: Any, click: ActionRequest, outcome: str, message: str) -> Decision:
    _ephemeral(rt, click, message)
    return Decision(outcome, message)


def _deny(rt: Any, click: ActionRequest, p: Proposal | None, reason: str, *, alert_id: str | None = None) -> Decision:
    """A refused click: one DENIED audit record per click, an ephemeral reason, nothing else."""
    target = p.id if p else alert_id
    audit.record(
        rt,
        key=f"denied:{target}:{click.kind}:{click.click_id}",
        action=click.action_id,
        outcome="DENIED",
        actor=click.actor,
        proposal=p,
        alert_id=alert_id,
        result=reason,
        channel=click.channel,
        ts=click.message_ts,
    )
    rt.count("denied")
    return _refuse(rt, click, "denied", f"Not allowed: {reason}.")


def _load(rt: Any, click: ActionRequest) -> Proposal | None:
    try:
        return rt.store.get_proposal(click.value)
    except NotFoundError:
        return None


def _expire(rt: Any, p: Proposal) -> None:
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


def _queue(rt: Any, job: Job) -> str | None:
    """Enqueue; on failure say so. Housekeeping re-queues APPROVED proposals nobody picked up."""
    try:
        enqueue(rt, job)
        return None
    except Exception as exc:  # noqa: BLE001 - the decision is recorded; the job is retried later
        log.error("queueing %s for %s failed: %s", job.kind.value, job.proposal_id, type(exc).__name__)
        rt.count("enqueue_failed")
        return "The job could not be queued right now; it will be retried automatically within a few minutes."


def _common_refusal(rt: Any, click: ActionRequest, p: Proposal | None) -> Decision | None:
    if p is None:
        return _refuse(rt, click, "missing", "This button is no longer valid: its proposal was not found.")
    if click.channel and p.channel and click.channel != p.channel:
        return _refuse(rt, click, "refused", "This button does not belong to this channel; nothing was changed.")
    if rt.kill_switch_on():
        return _refuse(rt, click, "kill_switch", f"Refused: {KILL_SWITCH_MESSAGE}. Nothing was changed.")
    return None


def _remediate(rt: Any, click: ActionRequest) -> Decision:
    p = _load(rt, click)
    refusal = _common_refusal(rt, click, p)
    if refusal:
        return refusal
    assert p is not None
    if click.arg and click.arg != p.remediation:
        return _refuse(rt, click, "refused", "This button does not match its proposal; nothing was changed.")
    if p.state != S.PROPOSED:
        return _refuse(rt, click, "already", already_message(p))
    if _expired(p):
        _expire(rt, p)
        _refresh(rt, p.alert_id, f"⌛ {_title(p)}: the offer expired at {_clock(p.expires_at)}")
        return _refuse(rt, click, "expired", f"This proposal expired at {_clock(p.expires_at)}; nothing was changed.")
    policy = _policy(rt)
    verdict = may_act(policy, click.actor, p.risk, click.channel or p.channel, _resolver(rt))
    if not verdict:
        return _deny(rt, click, p, verdict.reason)
    needed = approvals_needed(policy, p.risk)
    title = _title(p)
    if needed == 0:
        try:
            saved = rt.store.save_proposal(
                p.model_copy(update={"state": S.APPROVED, "requester": click.actor}), S.PROPOSED, p.version
            )
        except ConflictError:
            return _refuse(rt, click, "already", already_message(rt.store.get_proposal(p.id)))
        note = _queue(rt, Job(kind=JobKind.EXECUTE, proposal_id=saved.id, actor=click.actor))
        _refresh(rt, p.alert_id, f"⏳ {title} — requested by {who(click.actor)}")
        if note:
            _ephemeral(rt, click, note)
        return Decision("queued")
    if p.requester is not None:
        if p.requester.user_id == click.actor.user_id:
            return _refuse(rt, click, "already", f"You already requested this; it needs {needed} approval(s).")
        return _refuse(
            rt,
            click,
            "already",
            f"Already requested by {who(p.requester)} at {_clock(p.updated_at)}; use Approve in the thread.",
        )
    try:
        saved = rt.store.save_proposal(
            p.model_copy(update={"requester": click.actor, "approvals": []}), S.PROPOSED, p.version
        )
    except ConflictError:
        fresh = rt.store.get_proposal(p.id)
        if fresh.state == S.PROPOSED and fresh.requester:
            return _refuse(rt, click, "already", f"Already requested by {who(fresh.requester)}; use Approve.")
        return _refuse(rt, click, "already", already_message(fresh))
    note = _queue(rt, Job(kind=JobKind.DRY_RUN, proposal_id=saved.id, actor=click.actor))
    _refresh(rt, p.alert_id, f"🔐 {title} — requested by {who(click.actor)}; needs {needed} approvals (0/{needed})")
    if note:
        _ephemeral(rt, click, note)
    return Decision("awaiting_approval")


def _approve(rt: Any, click: ActionRequest) -> Decision:
    p = _load(rt, click)
    refusal = _common_refusal(rt, click, p)
    if refusal:
        return refusal
    assert p is not None
    policy = _policy(rt)
    needed = approvals_needed(policy, p.risk)
    for _attempt in range(5):
        if p.state != S.PROPOSED:
            return _refuse(rt, click, "already", already_message(p))
        if p.requester is None:
            return _refuse(rt, click, "refused", "Nobody has requested this change yet; nothing to approve.")
        if _expired(p):
            _expire(rt, p)
            return _refuse(rt, click, "expired", f"This proposal expired at {_clock(p.expires_at)}.")
        verdict = may_approve(policy, click.actor, p, click.channel or p.channel, _resolver(rt))
        if not verdict:
            return _deny(rt, click, p, verdict.reason)
        now = _now()
        approvals = [*_valid_approvals(rt, p, now), Approval(actor=click.actor, at=now)]
        state = S.APPROVED if len(approvals) >= needed else S.PROPOSED
        try:
            saved = rt.store.save_proposal(
                p.model_copy(update={"approvals": approvals, "state": state}), S.PROPOSED, p.version
            )
            break
        except ConflictError:
            p = rt.store.get_proposal(p.id)  # another approver was faster: look again
    else:
        return _refuse(rt, click, "conflict", "Too many simultaneous approvals; please press Approve again.")
    title = _title(saved)
    names = ", ".join(who(a.actor) for a in saved.approvals)
    if saved.state == S.APPROVED:
        note = _queue(rt, Job(kind=JobKind.EXECUTE, proposal_id=saved.id, actor=saved.requester or click.actor))
        _refresh(rt, saved.alert_id, f"⏳ {title} — requested by {who(saved.requester)}, approved by {names}")
        _ephemeral(rt, click, note or f"Approved ({len(saved.approvals)}/{needed}); {title} is queued.")
        return Decision("approved")
    status = f"🔐 {title} — requested by {who(saved.requester)}; approved by {names} ({len(saved.approvals)}/{needed})"
    _refresh(rt, saved.alert_id, status)
    _ephemeral(rt, click, f"Approved ({len(saved.approvals)}/{needed}); waiting for another approver.")
    return Decision("approval_recorded")


def _undo_click(rt: Any, click: ActionRequest) -> Decision:
    p = _load(rt, click)
    refusal = _common_refusal(rt, click, p)
    if refusal:
        return refusal
    assert p is not None
    if p.state == S.UNDONE:
        return _refuse(rt, click, "already", f"Already undone (at {_clock(p.updated_at)}).")
    if p.state != S.SUCCEEDED:
        return _refuse(rt, click, "refused", f"Nothing to undo: the remediation is {p.state.value.lower()}.")
    if p.undo_until is None or _now() >= p.undo_until:
        return _refuse(rt, click, "refused", f"The undo window closed at {_clock(p.undo_until)}; nothing was changed.")
    verdict = may_act(_policy(rt), click.actor, p.risk, click.channel or p.channel, _resolver(rt))
    if not verdict:
        return _deny(rt, click, p, verdict.reason)
    if not rt.store.put_value(f"UNDO#{p.id}", click.actor.model_dump_json(), VALUE_TTL_S, only_if_absent=True):
        prior = rt.store.get_value(f"UNDO#{p.id}")
        by = who(Actor.model_validate_json(prior)) if prior else "someone"
        return _refuse(rt, click, "already", f"Undo was already requested by {by}.")
    note = _queue(rt, Job(kind=JobKind.UNDO, proposal_id=p.id, actor=click.actor))
    _refresh(rt, p.alert_id, f"⏳ Undoing {_title(p)} — requested by {who(click.actor)}")
    if note:
        _ephemeral(rt, click, note)
    return Decision("undo_queued")


def _alert_for(rt: Any, click: ActionRequest) -> tuple[Any, str | None, str | None] | None:
    try:
        return rt.store.get_alert(click.value)
    except NotFoundError:
        return None


def _org_alert(rt: Any, click: ActionRequest) -> tuple[Any, str | None, str | None] | Decision:
    """The clicked alert, if it is known and the clicker is in the organization; else the refusal."""
    found = _alert_for(rt, click)
    if found is None:
        return _refuse(rt, click, "missing", "This alert is no longer known to EventOps.")
    verdict = _in_org(rt, click.actor)
    if not verdict:
        return _deny(rt, click, None, verdict.reason, alert_id=found[0].id)
    return found


def _first_to(rt: Any, click: ActionRequest, key: str, done: str) -> Decision | None:
    """Record that the clicker did this first (conditional write); else tell them who did."""
    if rt.store.put_value(key, click.actor.model_dump_json(), VALUE_TTL_S, only_if_absent=True):
        return None
    prior = rt.store.get_value(key)
    by = who(Actor.model_validate_json(prior)) if prior else "someone"
    return _refuse(rt, click, "already", f"Already {done} by {by}.")


def _ack(rt: Any, click: ActionRequest) -> Decision:
    found = _org_alert(rt, click)
    if isinstance(found, Decision):
        return found
    alert, channel, ts = found
    refusal = _first_to(rt, click, f"ACK#{alert.id}", "acknowledged")
    if refusal:
        return refusal
    audit.record(
        rt,
        key=f"ack:{alert.id}",
        action="alert.acknowledge",
        outcome="ACKNOWLEDGED",
        actor=click.actor,
        alert_id=alert.id,
        channel=channel,
        ts=ts,
    )
    _refresh(rt, alert.id, f"👀 Acknowledged by {who(click.actor)} at {_clock(_now())}")
    return Decision("acknowledged")


def _snooze(rt: Any, click: ActionRequest) -> Decision:
    seconds = SNOOZE_SECONDS.get(click.arg)
    if seconds is None:
        return _refuse(rt, click, "refused", f"Unknown snooze duration {click.arg!r}.")
    found = _org_alert(rt, click)
    if isinstance(found, Decision):
        return found
    alert, channel, ts = found
    until = time.time() + seconds
    rt.store.snooze(
        alert.fingerprint,
        until,
        click.actor,
        reason=f"Snoozed {click.arg} from Slack",
        channel=channel or click.channel,
        ts=ts or click.message_ts or "",
    )
    for p in rt.store.alert_proposals(alert.id):
        if p.state == S.PROPOSED:
            try:
                rt.store.save_proposal(p.model_copy(update={"state": S.SNOOZED}), S.PROPOSED, p.version)
            except ConflictError:
                continue
    audit.record(
        rt,
        key=f"snooze:{alert.id}:{click.click_id}",
        action=f"alert.snooze.{click.arg}",
        outcome="SNOOZED",
        actor=click.actor,
        alert_id=alert.id,
        result=f"until {datetime.fromtimestamp(until, UTC).isoformat()}",
        channel=channel,
        ts=ts,
    )
    _refresh(rt, alert.id, f"😴 Snoozed by {who(click.actor)} until {_clock(until)}")
    return Decision("snoozed")


def _dismiss(rt: Any, click: ActionRequest) -> Decision:
    found = _org_alert(rt, click)
    if isinstance(found, Decision):
        return found
    alert, channel, ts = found
    refusal = _first_to(rt, click, f"DISMISS#{alert.id}", "dismissed")
    if refusal:
        return refusal
    written_back = []
    for p in rt.store.alert_proposals(alert.id):
        if p.state not in OPEN:
            continue
        try:
            if _write_back(rt, click, p):
                written_back.append(_title(p))
                continue
            rt.store.save_proposal(p.model_copy(update={"state": S.DISMISSED}), p.state, p.version)
        except ConflictError:
            continue
    audit.record(
        rt,
        key=f"dismiss:{alert.id}",
        action="alert.dismiss",
        outcome="DISMISSED",
        actor=click.actor,
        alert_id=alert.id,
        channel=channel,
        ts=ts,
    )
    status = f"🚫 Dismissed by {who(click.actor)} at {_clock(_now())}"
    if written_back:
        status += " — writing back: " + ", ".join(written_back)
    _refresh(rt, alert.id, status)
    return Decision("dismissed")


def _write_back(rt: Any, click: ActionRequest, p: Proposal) -> bool:
    """Queue the source write-back for a dismissed alert, as the dismisser, if they may run it."""
    extra = WRITE_BACK_ON_DISMISS.get(p.remediation)
    if extra is None or p.state != S.PROPOSED or rt.kill_switch_on():
        return False
    if not may_act(_policy(rt), click.actor, p.risk, click.channel or p.channel, _resolver(rt)):
        return False
    approved = rt.store.save_proposal(
        p.model_copy(update={"state": S.APPROVED, "requester": click.actor, "params": {**p.params, **extra}}),
        p.state,
        p.version,
    )
    _queue(rt, Job(kind=JobKind.EXECUTE, proposal_id=approved.id, actor=click.actor))
    return True


# --- auto mode ---------------------------------------------------------------------------------


def auto_execute(rt: Any, proposal: Proposal) -> Decision:
    """Run ``proposal`` without a click (a route in ``mode: auto``), as the system actor.

    Same limits as a click: the kill switch refuses here and again in the worker, the blast
    radius is counted in the worker, and HIGH-risk remediations are never automatic (they need
    two human approvers). The worker posts the result with an Undo button when reversible.

    Example::

        auto_execute(rt, proposal)   # → Decision("queued") and a job on the jobs queue
    """
    title = _title(proposal)
    if rt.kill_switch_on():
        rt.count("auto_refused")
        _refresh(rt, proposal.alert_id, f"🛑 Auto {title} not run: {KILL_SWITCH_MESSAGE}")
        return Decision("kill_switch", KILL_SWITCH_MESSAGE)
    if proposal.risk == Risk.HIGH:
        rt.count("auto_refused")
        msg = "HIGH-risk remediations need two human approvers; auto mode does not run them"
        _refresh(rt, proposal.alert_id, f"🔐 Auto {title} not run: {msg}")
        return Decision("refused", msg)
    system = Actor.system()
    try:
        current = rt.store.get_proposal(proposal.id)
        saved = rt.store.save_proposal(
            current.model_copy(update={"state": S.APPROVED, "requester": system}), S.PROPOSED, current.version
        )
    except (ConflictError, NotFoundError) as exc:
        return Decision("already", str(exc))
    note = _queue(rt, Job(kind=JobKind.EXECUTE, proposal_id=saved.id, actor=system))
    _refresh(rt, proposal.alert_id, f"⏳ {title} — running automatically (route mode: auto)")
    return Decision("queued", note or "")


# --- the worker --------------------------------------------------------------------------------


def process_job(rt: Any, job: Job, *, running_stale_s: float = RUNNING_STALE_S) -> str:
    """Run one job. Returns what happened; raises when the SQS record must be retried / DLQ'd."""
    if job.kind == JobKind.EXECUTE:
        return _execute(rt, job, running_stale_s)
    if job.kind == JobKind.UNDO:
        return _undo(rt, job)
    if job.kind == JobKind.DRY_RUN:
        return _dry_run(rt, job)
    if job.kind == JobKind.COMMAND:
        return _command(rt, job)
    raise JobFailedError(f"unknown job kind {job.kind!r}")  # pragma: no cover - enum


def _reauthorize(rt: Any, p: Proposal) -> str | None:
    """Why ``p`` may not run now, or None. Fail closed: every doubt is a reason."""
    requester = p.requester
    if requester is None:
        return "nobody requested it"
    if requester.is_system:
        return "auto mode never runs HIGH-risk remediations" if p.risk == Risk.HIGH else None
    policy = _policy(rt)
    verdict = may_act(policy, requester, p.risk, p.channel, _resolver(rt))
    if not verdict:
        return f"{who(requester)} may no longer run it: {verdict.reason}"
    needed = approvals_needed(policy, p.risk)
    if needed:
        valid = _valid_approvals(rt, p, _now(), grace_s=APPROVAL_GRACE_S)
        if len(valid) < needed:
            return f"it needs {needed} valid approvals from people other than the requester, and has {len(valid)}"
    return None


def _execute(rt: Any, job: Job, running_stale_s: float) -> str:
    try:
        p = rt.store.get_proposal(job.proposal_id)
    except NotFoundError:
        log.warning("job for unknown proposal %s dropped", job.proposal_id)
        return "missing"
    if p.state in TERMINAL:
        failure = rt.store.get_value(f"JOBFAIL#{p.id}")
        if failure:  # keep failing the record until SQS moves it to the DLQ; never re-run
            raise JobFailedError(f"proposal {p.id} failed earlier: {failure}")
        _notify(rt, p)  # a no-op unless the earlier delivery died before telling Slack
        return "already_done"
    if p.state == S.RUNNING:
        age = (_now() - p.updated_at).total_seconds()
        if age < running_stale_s:
            raise RetryLaterError(f"proposal {p.id} is RUNNING since {age:.0f}s; looking again later")
        return _interrupted(rt, p)
    if p.state != S.APPROVED:
        log.warning("job for proposal %s in state %s: nothing to do", p.id, p.state.value)
        return f"skipped_{p.state.value.lower()}"

    reason = _reauthorize(rt, p)
    if reason:
        try:
            denied = rt.store.save_proposal(
                p.model_copy(update={"state": S.DENIED, "result": reason}), S.APPROVED, p.version
            )
        except ConflictError:
            return "duplicate"
        audit.record(
            rt,
            key=f"{p.id}:DENIED",
            action=p.remediation,
            outcome="DENIED",
            actor=p.requester or job.actor,
            proposal=denied,
            result=reason,
            resolve_permalink=True,
        )
        rt.count("denied")
        _notify(rt, denied)
        return "denied"

    try:
        running = rt.store.save_proposal(p.model_copy(update={"state": S.RUNNING}), S.APPROVED, p.version)
    except ConflictError:
        return "duplicate"

    if rt.kill_switch_on():
        return _finish(rt, running, Outcome(state=S.FAILED, message=f"Refused: {KILL_SWITCH_MESSAGE}"))
    limit = rt.config.blast_radius.max_executions_per_account_per_hour
    hour = _now().strftime("%Y%m%d%H")
    count = rt.store.incr(f"RATE#{p.account or 'default'}#{hour}", ttl_s=2 * 3600)
    if count > limit:
        rt.count("blast_radius_refused")
        msg = (
            f"Refused: blast radius limit reached — at most {limit} executions per hour in account "
            f"{p.account or '(default)'}; this would have been number {count}"
        )
        return _finish(rt, running, Outcome(state=S.FAILED, message=msg))

    rem = _catalog().get(p.remediation)
    if rem is None:
        return _finish(rt, running, Outcome(state=S.FAILED, message=f"Unknown remediation {p.remediation}"))
    from bot.remediations.base import RemediationContext, run

    ctx = RemediationContext(rt.sessions, p.account, p.region, actor=p.requester or job.actor)
    try:
        outcome = run(rem, ctx, p.params)
    except Exception as exc:  # recorded, announced, and the record goes to the DLQ
        log.exception("remediation %s on proposal %s raised", p.remediation, p.id)
        outcome = Outcome(state=S.FAILED, message=f"Error while running: {type(exc).__name__}: {str(exc)[:300]}")
    if not is_error(outcome):
        return _finish(rt, running, outcome)
    # An AWS error or a bug: FAILED and announced like any failure, and the SQS record fails too,
    # on every delivery, so it lands in the DLQ where an alarm sees it. It never runs again.
    rt.count("remediation_error")
    rt.store.put_value(f"JOBFAIL#{p.id}", outcome.message[:500], VALUE_TTL_S)
    _finish(rt, running, outcome, slack_errors=False)
    raise JobFailedError(f"proposal {p.id}: {outcome.message[:300]}")


# bot.remediations.base.run() turns AWS exceptions into FAILED outcomes with these openings.
_AWS_ERROR_PREFIXES = ("AWS refused while ", "AWS call failed while ", "Error while running: ")


def is_error(outcome: Outcome) -> bool:
    """A FAILED outcome caused by an error (AWS refused or unreachable, a bug), not by a finding
    such as "resource gone", "exempt" or "verification shows no change".

    >>> is_error(Outcome(state=S.FAILED, message="AWS refused while making the change: AccessDenied: no"))
    True
    >>> is_error(Outcome(state=S.FAILED, message="Resource gone: instance i-1 does not exist"))
    False
    """
    return outcome.state == S.FAILED and outcome.message.startswith(_AWS_ERROR_PREFIXES)


def _interrupted(rt: Any, p: Proposal) -> str:
    msg = "worker interrupted; state unknown — check the resource"
    rt.count("worker_interrupted")
    return _finish(rt, p, Outcome(state=S.FAILED, message=msg, verification="unknown"))


def _finish(rt: Any, running: Proposal, outcome: Outcome, *, slack_errors: bool = True) -> str:
    """RUNNING → outcome (conditional), one audit record, then the message and a thread reply."""
    undo_until = None
    if outcome.state == S.SUCCEEDED and outcome.reversible:
        window = rt.config.policy.undo_window_minutes if rt.config.policy else 60
        undo_until = _now() + timedelta(minutes=window)
    final = running.model_copy(
        update={
            "state": outcome.state,
            "pre_state": outcome.pre_state,
            "result": outcome.message,
            "verification": outcome.verification,
            "undo_until": undo_until,
        }
    )
    try:
        saved = rt.store.save_proposal(final, S.RUNNING, running.version)
    except ConflictError:
        log.warning("proposal %s was finished by someone else", running.id)
        return "duplicate"
    if outcome.post_state is not None:
        rt.store.put_value(f"POST#{saved.id}", json.dumps(outcome.post_state, default=str), VALUE_TTL_S)
    actor = saved.requester or Actor.system()
    audit.record(
        rt,
        key=f"{saved.id}:{saved.state.value}",
        action=saved.remediation,
        outcome=saved.state.value,
        actor=actor,
        proposal=saved,
        result=_result_line(saved),
        verification=outcome.verification,
        pre_state=outcome.pre_state,
        resolve_permalink=True,
    )
    rt.count(f"remediation_{saved.state.value.lower()}")
    try:
        _notify(rt, saved)
    except (SlackError, RetryLaterError):
        if slack_errors:
            raise
    return saved.state.value.lower()


def _result_line(p: Proposal) -> str:
    parts = [p.result or ""]
    if p.approvals:
        parts.append("approved by " + ", ".join(a.actor.user_id for a in p.approvals))
    return "; ".join(x for x in parts if x)


_STATUS_ICON = {
    S.SUCCEEDED: "✅",
    S.NOOP: "➖",
    S.FAILED: "❌",
    S.DENIED: "🚫",
    S.UNDONE: "↩️",
    S.EXPIRED: "⌛",
}


def _notify(rt: Any, p: Proposal) -> None:
    """chat.update of the alert message + one thread reply, once per terminal state.

    Raises SlackError so the SQS record is retried; the retry finds the state recorded and
    only repeats what Slack did not get (the ``NOTIFIED#`` marker is written after the reply).
    """
    marker = f"NOTIFIED#{p.id}:{p.state.value}"
    if rt.store.get_value(marker):
        return
    from bot.slack import blocks as bk
    from bot.slack.render import Button, render_outcome_reply

    title = _title(p)
    icon = _STATUS_ICON.get(p.state, "ℹ️")
    by = who(p.requester)
    status = f"{icon} {title}: {p.state.value.lower()} — requested by {by}. {p.result or ''}".strip()
    _refresh(rt, p.alert_id, status, raise_errors=True)
    lines = [
        p.result or "",
        f"Verification: {p.verification}" if p.verification else "",
        f"Requested by {by}" + (", approved by " + ", ".join(who(a.actor) for a in p.approvals) if p.approvals else ""),
        f"Account {p.account or '-'} · region {p.region or '-'}",
        f"Undo available until {_clock(p.undo_until)}" if p.undo_until else "",
        f"Correlation id {p.correlation_id}" if p.correlation_id else "",
    ]
    payload = render_outcome_reply(f"{icon} {title}: {p.state.value.lower()}", lines)
    if p.state == S.SUCCEEDED and p.undo_until:
        payload["blocks"] = [*payload["blocks"], bk.actions([Button.undo(p.id).to_block()])]
    if p.channel and p.message_ts:
        rt.slack.post_reply(p.channel, p.message_ts, payload)
    rt.store.put_value(marker, "1", VALUE_TTL_S)


def _undo(rt: Any, job: Job) -> str:
    try:
        p = rt.store.get_proposal(job.proposal_id)
    except NotFoundError:
        return "missing"
    if p.state == S.UNDONE:
        _notify(rt, p)
        return "already_done"
    if p.state != S.SUCCEEDED:
        return f"skipped_{p.state.value.lower()}"
    refusal = None
    if rt.kill_switch_on():
        refusal = f"Undo refused: {KILL_SWITCH_MESSAGE}"
    else:
        verdict = may_act(_policy(rt), job.actor, p.risk, p.channel, _resolver(rt))
        if not verdict:
            refusal = f"Undo refused: {who(job.actor)} may not: {verdict.reason}"
        elif p.undo_until is None or _now() >= p.undo_until:
            refusal = f"Undo refused: the undo window closed at {_clock(p.undo_until)}"
    if refusal:
        return _undo_reply(rt, p, job, "UNDO_REFUSED", refusal)
    if not rt.store.put_value(f"UNDORUN#{p.id}", job.correlation_id, VALUE_TTL_S, only_if_absent=True):
        if rt.store.get_value(f"UNDORUN#{p.id}") != job.correlation_id:
            return "duplicate"
        return _undo_reply(rt, p, job, "UNDO_FAILED", "Undo interrupted; state unknown — check the resource")
    rem = _catalog().get(p.remediation)
    if rem is None:
        return _undo_reply(rt, p, job, "UNDO_FAILED", f"Unknown remediation {p.remediation}")
    from bot.remediations.base import RemediationContext, run_undo

    raw_post = rt.store.get_value(f"POST#{p.id}")
    post = json.loads(raw_post) if raw_post else None
    ctx = RemediationContext(rt.sessions, p.account, p.region, actor=job.actor)
    try:
        outcome = run_undo(rem, ctx, p.params, p.pre_state or {}, post)
    except Exception as exc:  # announced; the record goes to the DLQ
        log.exception("undo of proposal %s raised", p.id)
        rt.count("undo_error")
        _undo_reply(rt, p, job, "UNDO_FAILED", f"Undo failed: {type(exc).__name__}: {str(exc)[:300]}")
        raise JobFailedError(f"undo of {p.id} raised {type(exc).__name__}") from None
    if outcome.state != S.UNDONE:
        return _undo_reply(rt, p, job, "UNDO_FAILED", outcome.message)
    try:
        saved = rt.store.save_proposal(
            p.model_copy(update={"state": S.UNDONE, "result": outcome.message, "requester": p.requester}),
            S.SUCCEEDED,
            p.version,
        )
    except ConflictError:
        return "duplicate"
    audit.record(
        rt,
        key=f"{p.id}:UNDONE",
        action=f"{p.remediation}.undo",
        outcome="UNDONE",
        actor=job.actor,
        proposal=saved,
        result=outcome.message,
        pre_state=outcome.pre_state,
        resolve_permalink=True,
    )
    rt.count("remediation_undone")
    _notify(rt, saved)
    return "undone"


def _undo_reply(rt: Any, p: Proposal, job: Job, outcome: str, message: str) -> str:
    from bot.slack.render import render_outcome_reply

    audit.record(
        rt,
        key=f"{p.id}:{outcome}:{job.correlation_id}",
        action=f"{p.remediation}.undo",
        outcome=outcome,
        actor=job.actor,
        proposal=p,
        result=message,
        resolve_permalink=True,
    )
    if p.channel and p.message_ts:
        rt.slack.post_reply(p.channel, p.message_ts, render_outcome_reply(f"↩️ {message}", [f"By {who(job.actor)}"]))
    return outcome.lower()


def _dry_run(rt: Any, job: Job) -> str:
    """HIGH risk: ask AWS, then post plan + dry run + an Approve button in the thread."""
    try:
        p = rt.store.get_proposal(job.proposal_id)
    except NotFoundError:
        return "missing"
    if p.state != S.PROPOSED or p.requester is None:
        return "skipped"
    if not rt.store.put_value(f"DRYRUN#{p.id}:{job.correlation_id}", "1", VALUE_TTL_S, only_if_absent=True):
        return "duplicate"
    from bot.remediations.base import RemediationContext
    from bot.slack import blocks as bk
    from bot.slack.render import Button, ConfirmSpec, render_outcome_reply

    rem = _catalog()[p.remediation]
    params = rem.parse_params(p.params)
    plan = rem.plan(params, p.account, p.region)
    ctx = RemediationContext(rt.sessions, p.account, p.region, actor=p.requester)
    try:
        result = rem.check_dry_run(ctx, params)
    except Exception as exc:  # noqa: BLE001 - a failed dry run is information for the approvers
        code = getattr(exc, "response", {}).get("Error", {}).get("Code") if hasattr(exc, "response") else None
        result = f"dry run failed: {code or type(exc).__name__}"
    rt.store.put_value(f"DRYRUNRESULT#{p.id}", result, VALUE_TTL_S)
    needed = approvals_needed(_policy(rt), p.risk)
    tier = tier_for(_policy(rt), p.risk)
    ttl = tier.approval_ttl_minutes if tier else 0
    lines = [
        *plan,
        f"Dry run: {result}",
        f"Needs {needed} approvals from people other than {who(p.requester)}, within {ttl} minutes.",
    ]
    payload = render_outcome_reply(f"🔐 {rem.title} requested by {who(p.requester)}", lines)
    confirm = ConfirmSpec(
        title=f"Approve {rem.title}?"[:100],
        text=" ".join(plan) + f" Dry run: {result}",
        confirm="Approve",
        style="danger",
    )
    approve = Button("Approve", "eventops:approve", p.id, "primary", confirm)
    payload["blocks"] = [*payload["blocks"], bk.actions([approve.to_block()])]
    if p.channel and p.message_ts:
        rt.slack.post_reply(p.channel, p.message_ts, payload)
    return "dry_run_posted"


def _command(rt: Any, job: Job) -> str:
    """A slow /ops sub-command, answered through its response_url (read-only)."""
    from bot.commands import run_deferred

    def post(url: str, body: dict[str, Any]) -> None:
        req = urllib.request.Request(
            url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()

    if not job.response_url:
        return "no_response_url"
    run_deferred(
        job.text, job.actor, job.channel, rt, job.response_url, post=post, acked_at=job.enqueued_at.timestamp()
    )
    return "answered"


# --- housekeeping ------------------------------------------------------------------------------


def expire_proposals(rt: Any, now: datetime | None = None) -> int:
    """PROPOSED / SNOOZED proposals past ``expires_at`` → EXPIRED, audited, message updated."""
    now = now or _now()
    alerts: set[str] = set()
    n = 0
    for p in rt.store.proposals_in({S.PROPOSED, S.SNOOZED}):
        if not _expired(p, now):
            continue
        _expire(rt, p)
        alerts.add(p.alert_id)
        n += 1
    for alert_id in alerts:
        _refresh(rt, alert_id, "⌛ The remediation offers expired; nothing was changed.")
    if n:
        rt.count("proposals_expired", n)
    return n


def end_snoozes(rt: Any, now: float | None = None) -> int:
    """Snoozes whose time is up: remind the thread, reopen snoozed proposals, forget the snooze."""
    from bot.slack.render import render_outcome_reply

    now = now if now is not None else time.time()
    n = 0
    for s in rt.store.snoozes(include_expired=True):
        if s["until"] > now:
            continue
        if s["channel"] and s["ts"]:
            title = f"⏰ Snooze ended (set by {who(s['by'])})"
            lines = [s["reason"] or "", "New events for this problem will be posted again."]
            try:
                rt.slack.post_reply(s["channel"], s["ts"], render_outcome_reply(title, lines))
            except SlackError as exc:
                log.warning("snooze reminder for %s failed (retried next run): %s", s["target"], exc)
                continue
        reopened: set[str] = set()
        for p in rt.store.proposals_in({S.SNOOZED}):
            if p.fingerprint != s["target"]:
                continue
            state = S.EXPIRED if _expired(p) else S.PROPOSED
            try:
                rt.store.save_proposal(p.model_copy(update={"state": state}), S.SNOOZED, p.version)
                reopened.add(p.alert_id)
            except ConflictError:
                continue
        rt.store.unsnooze(s["id"])
        for alert_id in reopened:  # the remediation buttons come back
            _refresh(rt, alert_id, f"⏰ Snooze ended (set by {who(s['by'])})")
        n += 1
    return n


def sweep_running(rt: Any, stale_s: float = RUNNING_STALE_S) -> int:
    """RUNNING longer than any worker can live → FAILED, "worker interrupted; state unknown"."""
    n = 0
    for p in rt.store.proposals_in({S.RUNNING}):
        if (_now() - p.updated_at).total_seconds() >= stale_s:
            try:
                _interrupted(rt, p)
            except (SlackError, RetryLaterError) as exc:
                log.warning("announcing interrupted proposal %s failed: %s", p.id, exc)
            n += 1
    return n


def requeue_stuck(rt: Any, stuck_s: float = APPROVED_STUCK_S) -> int:
    """APPROVED proposals no worker picked up (the SQS send failed) are queued again.

    Safe because the worker's ``APPROVED → RUNNING`` write admits exactly one job.
    """
    n = 0
    for p in rt.store.proposals_in({S.APPROVED}):
        if (_now() - p.updated_at).total_seconds() >= stuck_s:
            if _queue(rt, Job(kind=JobKind.EXECUTE, proposal_id=p.id, actor=p.requester or Actor.system())) is None:
                n += 1
    return n
