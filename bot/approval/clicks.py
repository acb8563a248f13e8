"""Decisions at ack time: one click (or one ``/ops run``, or auto mode) → one conditional write.

Inside Slack's 3 seconds: parse → authorize (fail closed) → one conditional DynamoDB write →
SQS send. Nothing touches AWS resources here. Acknowledge, Snooze, Dismiss, Remediate and
Approve leave their audit record (triage) and their message update to the worker
(``bot.approval.followups``), so the ack never waits on, or loses to, a 429; Undo and refusals
still call Slack in the request. A refusal answers with an ephemeral reason; a refused click writes a ``DENIED`` audit record but leaves the
proposal open, so a stranger's click cannot lock the people who *are* allowed out of it.

At most once: every transition is conditional on (state, version), so of five concurrent
deliveries of a click one wins and four are told who did it.

HIGH risk: the remediate button's confirm dialog shows the plan (``bot.messages``). The click
records the *request* (the proposal stays ``PROPOSED``, ``requester`` set) and queues a
``dry_run`` job; the worker posts the plan, the dry run's answer and an **Approve** button in the
thread. Approvals count only from distinct people other than the requester, each within the
tier's ``approval_ttl_minutes``; the last needed approval makes the proposal ``APPROVED``.

Undo follows the rules of the action it reverses: the clicker must be allowed to act at the
proposal's risk; the request is recorded on the SUCCEEDED proposal (``Proposal.undo``). Where
the tier needs approvals (``undo_approvals_needed``), the UNDO job only posts an **Approve undo**
button, approvals are gathered like the change's (``may_approve`` on ``undo_view``), and the last
one queues the UNDO job that runs it; the worker re-checks all of it.

Triage (Acknowledge, Snooze, Dismiss) follows ``policy.triage`` (``may_triage``), from the
alert's own channel; a refused triage click writes a DENIED record like any other.

Example::

    decision = handle_action(rt, parse_action(body))   # handlers/slack.py, via Bolt
    answer = request_action(rt, proposal, actor, channel)  # /ops run
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.approval import audit
from bot.approval.authz import (
    approvals_needed,
    may_act,
    may_approve,
    may_triage,
    snooze_refusal,
    triage_of,
    undo_approvals_needed,
)
from bot.approval.followups import follow_up
from bot.approval.jobs import AuditNote, Job, JobKind
from bot.approval.proposal import (
    KILL_SWITCH_MESSAGE,
    S,
    already_message,
    expire_proposal,
    group_resolver,
    is_expired,
    now_utc,
    policy_of,
    queue_job,
    refresh_message,
    refresh_undo_reply,
    undo_view,
    valid_approvals,
)
from bot.approval.states import OPEN
from bot.errors import ConflictError, NotFoundError
from bot.messages import (
    awaiting_line,
    clock,
    requested_line,
    storm_ack_key,
    storm_snooze_target,
    storm_summary,
    title_of,
    undo_status_line,
    who,
)
from bot.models import Actor, Approval, Proposal, Risk, UndoRequest
from bot.runtime import Runtime
from bot.slack.modals import DISMISS_REASONS, dismiss_view, seal, snooze_view
from bot.slack.payloads import ActionRequest
from bot.slack.render import SNOOZE_CUSTOM, render_ephemeral
from bot.store import StoredAlert

log = logging.getLogger("eventops.approval")
SNOOZE_SECONDS = {"1h": 3600, "4h": 4 * 3600, "24h": 24 * 3600}
# Dismissing an alert writes the decision back to its source, when the dismisser may run the
# write-back (the worker re-checks it) and the source has a word for the reason given: a Security
# Hub finding is SUPPRESSED (false positive, accepted risk) or RESOLVED (fixed elsewhere), with a
# note naming the person and the reason; a GuardDuty finding is archived (not when fixed elsewhere:
# the finding is true, and stays visible until GuardDuty sees it gone).
WRITE_BACK_ON_DISMISS: dict[str, dict[str, dict[str, Any]]] = {
    "securityhub.set-workflow-status": {
        "false_positive": {"status": "SUPPRESSED"},
        "accepted_risk": {"status": "SUPPRESSED"},
        "fixed_elsewhere": {"status": "RESOLVED"},
    },
    "guardduty.archive-finding": {"false_positive": {}, "accepted_risk": {}},
}
WRITE_BACK_NOTES = ("securityhub.set-workflow-status",)  # their params take a ``note``


@dataclass(frozen=True)
class DismissReason:
    """Why an alert was dismissed: one of ``DISMISS_REASONS`` and the person's own words."""

    code: str
    note: str = ""

    @property
    def label(self) -> str:
        return DISMISS_REASONS.get(self.code, self.code)

    def sentence(self) -> str:
        return f"{self.label}: {self.note}" if self.note else self.label


@dataclass(frozen=True)
class Decision:
    """What a click led to (for logs, metrics and tests)."""

    outcome: str
    message: str = ""


def _ephemeral(rt: Runtime, click: ActionRequest, text: str) -> None:
    payload = render_ephemeral(text)
    if click.thread_ts:
        payload["thread_ts"] = click.thread_ts
    try:
        rt.slack.post_ephemeral(click.channel, click.actor.user_id, payload)
    except Exception as exc:  # noqa: BLE001 - the decision stands; the note is best effort
        log.warning("ephemeral reply to %s failed: %s", click.actor.user_id, type(exc).__name__)


# --- the ack path: one click -------------------------------------------------------------------


def handle_action(rt: Runtime, click: ActionRequest) -> Decision:
    """Decide one click within Slack's ack budget. Never raises; refusals go to the clicker."""
    handlers = {
        "remediate": _remediate,
        "approve": _approve,
        "undo": _undo_click,
        "approve-undo": _approve_undo,
        "ack": _ack,
        "snooze": _snooze,
        "dismiss": _dismiss,
        "storm-ack": _storm_ack,
        "storm-snooze": _storm_snooze,
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


def _refuse(rt: Runtime, click: ActionRequest, outcome: str, message: str) -> Decision:
    _ephemeral(rt, click, message)
    return Decision(outcome, message)


def _deny(
    rt: Runtime, click: ActionRequest, p: Proposal | None, reason: str, *, alert_id: str | None = None
) -> Decision:
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


def _load(rt: Runtime, click: ActionRequest) -> Proposal | None:
    try:
        return rt.store.get_proposal(click.value)
    except NotFoundError:
        return None


def _common_refusal(rt: Runtime, click: ActionRequest, p: Proposal | None) -> Decision | None:
    if p is None:
        return _refuse(rt, click, "missing", "This button is no longer valid: its proposal was not found.")
    if click.channel and p.channel and click.channel != p.channel:
        return _refuse(rt, click, "refused", "This button does not belong to this channel; nothing was changed.")
    if rt.kill_switch_on():
        return _refuse(rt, click, "kill_switch", f"Refused: {KILL_SWITCH_MESSAGE}. Nothing was changed.")
    return None


def _remediate(rt: Runtime, click: ActionRequest) -> Decision:
    p = _load(rt, click)
    refusal = _common_refusal(rt, click, p)
    if refusal:
        return refusal
    assert p is not None
    if click.arg and click.arg != p.remediation:
        return _refuse(rt, click, "refused", "This button does not match its proposal; nothing was changed.")
    decision = _request(rt, p, click.actor, click.channel or p.channel)
    if decision.outcome == "denied":
        return _deny(rt, click, p, decision.message)
    if decision.message:
        _ephemeral(rt, click, decision.message)
    return decision


def request_action(rt: Runtime, proposal_id: str, actor: Actor, channel: str) -> Decision:
    """``/ops run``: request a proposal made by hand, exactly as its remediate button would.

    The decision's message is what the requester is told; a refusal writes one DENIED record.

    Example::

        decision = request_action(rt, proposal.id, inv.actor, inv.channel)   # → "queued"
    """
    if rt.kill_switch_on():
        return Decision("kill_switch", f"Refused: {KILL_SWITCH_MESSAGE}. Nothing was changed.")
    try:
        p = rt.store.get_proposal(proposal_id)
    except NotFoundError:
        return Decision("missing", "The proposal was not found; nothing was changed.")
    decision = _request(rt, p, actor, channel)
    if decision.outcome == "denied":
        audit.record(
            rt,
            key=f"denied:{p.id}:run",
            action=p.remediation,
            outcome="DENIED",
            actor=actor,
            proposal=p,
            result=decision.message,
            channel=channel,
        )
        rt.count("denied")
        return Decision("denied", f"Not allowed: {decision.message}.")
    return decision


def _request(rt: Runtime, p: Proposal, actor: Actor, channel: str) -> Decision:
    """PROPOSED → requested, for the remediate button and ``/ops run`` alike.

    No approvals needed: APPROVED (conditional) and an execute job. HIGH risk: the requester is
    recorded (still PROPOSED) and a dry-run job posts the Approve button. The decision's message
    is what the requester is told (empty when the message update says it all); ``denied``
    carries the reason, for the caller to audit.
    """
    if p.state != S.PROPOSED:
        return Decision("already", already_message(p))
    if is_expired(p):
        expire_proposal(rt, p)
        refresh_message(rt, p.alert_id, f"⌛ {title_of(p)}: the offer expired at {clock(p.expires_at)}")
        return Decision("expired", f"This proposal expired at {clock(p.expires_at)}; nothing was changed.")
    policy = policy_of(rt)
    verdict = may_act(policy, actor, p.risk, channel, group_resolver(rt))
    if not verdict:
        return Decision("denied", verdict.reason)
    needed = approvals_needed(policy, p.risk)
    if needed == 0:
        try:
            saved = rt.store.save_proposal(
                p.model_copy(update={"state": S.APPROVED, "requester": actor}), S.PROPOSED, p.version
            )
        except ConflictError:
            return Decision("already", already_message(rt.store.get_proposal(p.id)))
        note = queue_job(rt, Job(kind=JobKind.EXECUTE, proposal_id=saved.id, actor=actor))
        _show(rt, saved, actor, requested_line(p, actor))
        return Decision("queued", note or "")
    if p.requester is not None:
        if p.requester.user_id == actor.user_id:
            return Decision("already", f"You already requested this; it needs {needed} approval(s).")
        return Decision(
            "already", f"Already requested by {who(p.requester)} at {clock(p.updated_at)}; use Approve in the thread."
        )
    try:
        saved = rt.store.save_proposal(
            p.model_copy(update={"requester": actor, "approvals": []}), S.PROPOSED, p.version
        )
    except ConflictError:
        fresh = rt.store.get_proposal(p.id)
        if fresh.state == S.PROPOSED and fresh.requester:
            return Decision("already", f"Already requested by {who(fresh.requester)}; use Approve.")
        return Decision("already", already_message(fresh))
    note = queue_job(rt, Job(kind=JobKind.DRY_RUN, proposal_id=saved.id, actor=actor))
    _show(rt, saved, actor, awaiting_line(p, actor, 0, needed))
    return Decision("awaiting_approval", note or "")


def _show(rt: Runtime, p: Proposal, actor: Actor, status: str) -> None:
    """A remediation click's status line on its alert's message, from the worker's ``message``
    job (``bot.approval.followups``): it follows the job this click queued, and a line the
    job's outcome wrote later stands. An ``/ops run`` proposal has no alert message."""
    if p.is_manual:
        return
    follow_up(rt, p.alert_id, actor, status, message=(p.channel, p.message_ts), proposal_id=p.id)


def _approve(rt: Runtime, click: ActionRequest) -> Decision:
    p = _load(rt, click)
    refusal = _common_refusal(rt, click, p)
    if refusal:
        return refusal
    assert p is not None
    policy = policy_of(rt)
    needed = approvals_needed(policy, p.risk)
    for _attempt in range(5):
        if p.state != S.PROPOSED:
            return _refuse(rt, click, "already", already_message(p))
        if p.requester is None:
            return _refuse(rt, click, "refused", "Nobody has requested this change yet; nothing to approve.")
        if is_expired(p):
            expire_proposal(rt, p)
            return _refuse(rt, click, "expired", f"This proposal expired at {clock(p.expires_at)}.")
        verdict = may_approve(policy, click.actor, p, click.channel or p.channel, group_resolver(rt))
        if not verdict:
            return _deny(rt, click, p, verdict.reason)
        now = now_utc()
        approvals = [*valid_approvals(rt, p, now), Approval(actor=click.actor, at=now)]
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
    title = title_of(saved)
    names = ", ".join(who(a.actor) for a in saved.approvals)
    if saved.state == S.APPROVED:
        note = queue_job(rt, Job(kind=JobKind.EXECUTE, proposal_id=saved.id, actor=saved.requester or click.actor))
        _show(rt, saved, click.actor, f"⏳ {title} — requested by {who(saved.requester)}, approved by {names}")
        _ephemeral(rt, click, note or f"Approved ({len(saved.approvals)}/{needed}); {title} is queued.")
        return Decision("approved")
    status = f"🔐 {title} — requested by {who(saved.requester)}; approved by {names} ({len(saved.approvals)}/{needed})"
    _show(rt, saved, click.actor, status)
    _ephemeral(rt, click, f"Approved ({len(saved.approvals)}/{needed}); waiting for another approver.")
    return Decision("approval_recorded")


def _undo_click(rt: Runtime, click: ActionRequest) -> Decision:
    """Undo follows the rules of the action it reverses: the clicker may act at the proposal's
    risk, and a tier that needs approvals gets an Approve undo button in the thread first."""
    p = _load(rt, click)
    refusal = _common_refusal(rt, click, p) or (_undo_refusal(rt, click, p) if p else None)
    if refusal:
        return refusal
    assert p is not None
    policy = policy_of(rt)
    verdict = may_act(policy, click.actor, p.risk, click.channel or p.channel, group_resolver(rt))
    if not verdict:
        return _deny(rt, click, p, verdict.reason)
    if p.undo is not None or not rt.store.claim_undo_request(p.id, click.actor):
        prior = p.undo.requester if p.undo else rt.store.undo_requested_by(p.id)
        return _refuse(rt, click, "already", f"Undo was already requested by {who(prior)}.")
    needed = undo_approvals_needed(policy, p.risk)
    reply_ts = click.message_ts if click.message_ts != p.message_ts else None
    request = UndoRequest(requester=click.actor, reply_ts=reply_ts, queued=needed == 0)
    saved = _save_undo(rt, p, request)
    if saved is None:
        return _refuse(rt, click, "already", "The remediation changed meanwhile; nothing to undo.")
    refresh_undo_reply(rt, saved)
    refresh_message(rt, saved.alert_id, undo_status_line(saved, 0, needed))
    # With approvals needed, the job only posts the Approve undo button (a post can be rate
    # limited, which the ack cannot wait out); the last approval queues the job that runs it.
    note = queue_job(rt, Job(kind=JobKind.UNDO, proposal_id=p.id, actor=click.actor))
    if needed:
        _ephemeral(rt, click, note or f"Undo requested; it needs {needed} approvals from people other than you.")
        return Decision("undo_awaiting_approval")
    if note:
        _ephemeral(rt, click, note)
    return Decision("undo_queued")


def _undo_refusal(rt: Runtime, click: ActionRequest, p: Proposal) -> Decision | None:
    """Why there is nothing to undo (the state, an undo already over, the window closed), or None."""
    if p.state == S.UNDONE:
        return _refuse(rt, click, "already", f"Already undone (at {clock(p.updated_at)}).")
    if p.state != S.SUCCEEDED:
        return _refuse(rt, click, "refused", f"Nothing to undo: the remediation is {p.state.value.lower()}.")
    if p.undo is not None and p.undo.closed:
        return _refuse(rt, click, "refused", f"Undo is no longer possible: {p.undo.closed}.")
    if p.undo_until is None or now_utc() >= p.undo_until:
        closed = f"the undo window closed at {clock(p.undo_until)}"
        if p.undo is None:  # take the Undo button off the reply it was clicked on
            refresh_undo_reply(rt, p.model_copy(update={"undo": _closed_request(click, p, closed)}))
        return _refuse(rt, click, "refused", f"The undo window closed at {clock(p.undo_until)}; nothing was changed.")
    return None


def _closed_request(click: ActionRequest, p: Proposal, closed: str) -> UndoRequest:
    reply_ts = click.message_ts if click.message_ts != p.message_ts else None
    return UndoRequest(requester=click.actor, reply_ts=reply_ts, closed=closed)


def _save_undo(rt: Runtime, p: Proposal, request: UndoRequest) -> Proposal | None:
    """Record the undo request on the SUCCEEDED proposal (conditional); None when it moved on."""
    for _attempt in range(5):
        if p.state != S.SUCCEEDED:
            return None
        try:
            return rt.store.save_proposal(p.model_copy(update={"undo": request}), S.SUCCEEDED, p.version)
        except ConflictError:
            p = rt.store.get_proposal(p.id)
    return None


def _approve_undo(rt: Runtime, click: ActionRequest) -> Decision:
    """One approval of an undo: the change's approval rules, judged on the undo's request."""
    p = _load(rt, click)
    refusal = _common_refusal(rt, click, p)
    if refusal:
        return refusal
    assert p is not None
    policy = policy_of(rt)
    needed = undo_approvals_needed(policy, p.risk)
    for _attempt in range(5):
        refusal = _undo_approval_refusal(rt, click, p)
        if refusal:
            return refusal
        assert p.undo is not None
        view = undo_view(p)
        verdict = may_approve(policy, click.actor, view, click.channel or p.channel, group_resolver(rt))
        if not verdict:
            return _deny(rt, click, p, verdict.reason)
        now = now_utc()
        approvals = [*valid_approvals(rt, view, now), Approval(actor=click.actor, at=now)]
        request = p.undo.model_copy(update={"approvals": approvals, "queued": len(approvals) >= needed})
        try:
            saved = rt.store.save_proposal(p.model_copy(update={"undo": request}), S.SUCCEEDED, p.version)
            break
        except ConflictError:
            p = rt.store.get_proposal(p.id)  # another approver was faster: look again
    else:
        return _refuse(rt, click, "conflict", "Too many simultaneous approvals; please press Approve undo again.")
    refresh_message(rt, saved.alert_id, undo_status_line(saved, len(approvals), needed))
    if request.queued:
        note = queue_job(rt, Job(kind=JobKind.UNDO, proposal_id=saved.id, actor=request.requester))
        _ephemeral(rt, click, note or f"Approved ({len(approvals)}/{needed}); the undo of {title_of(saved)} is queued.")
        return Decision("undo_approved")
    _ephemeral(rt, click, f"Approved ({len(approvals)}/{needed}); waiting for another approver.")
    return Decision("undo_approval_recorded")


def _undo_approval_refusal(rt: Runtime, click: ActionRequest, p: Proposal) -> Decision | None:
    if p.state == S.UNDONE:
        return _refuse(rt, click, "already", f"Already undone (at {clock(p.updated_at)}).")
    if p.state != S.SUCCEEDED or p.undo is None:
        return _refuse(rt, click, "refused", "Nobody has requested this undo; nothing to approve.")
    if p.undo.closed:
        return _refuse(rt, click, "refused", f"Undo is no longer possible: {p.undo.closed}.")
    if p.undo.queued:
        return _refuse(rt, click, "already", "This undo has all its approvals; it is queued.")
    if p.undo_until is None or now_utc() >= p.undo_until:
        return _refuse(rt, click, "expired", f"The undo window closed at {clock(p.undo_until)}; nothing was changed.")
    return None


def _alert_for(rt: Runtime, click: ActionRequest) -> StoredAlert | None:
    try:
        return rt.store.get_alert(click.value)
    except NotFoundError:
        return None


def _triage_alert(rt: Runtime, click: ActionRequest) -> StoredAlert | Decision:
    """The clicked alert, if it is known and the clicker may triage it (``policy.triage``, fail
    closed) from this channel; else the refusal (a refused click writes one DENIED record)."""
    found = _alert_for(rt, click)
    if found is None:
        return _refuse(rt, click, "missing", "This alert is no longer known to EventOps.")
    if click.channel and found.channel and click.channel != found.channel:
        return _refuse(rt, click, "refused", "This button does not belong to this channel; nothing was changed.")
    verdict = may_triage(policy_of(rt), click.actor, click.channel or found.channel, group_resolver(rt))
    if not verdict:
        return _deny(rt, click, None, verdict.reason, alert_id=found.alert.id)
    return found


def _first_to(
    rt: Runtime,
    click: ActionRequest,
    claim: Callable[[str, Actor], bool],
    first: Callable[[str], Actor | None],
    alert_id: str,
    done: str,
) -> Decision | None:
    """Record that the clicker did this first (``claim``, a conditional write); else tell them
    who did (``first``). E.g. ``_first_to(rt, click, rt.store.claim_ack, rt.store.acked_by, …)``."""
    if claim(alert_id, click.actor):
        return None
    prior = first(alert_id)
    by = who(prior) if prior else "someone"
    return _refuse(rt, click, "already", f"Already {done} by {by}.")


def _ack(rt: Runtime, click: ActionRequest) -> Decision:
    """Acknowledge: before the ack, one read (the alert, for the triage check) and one
    conditional write (the first-to-acknowledge claim); the audit record and the message's
    status line follow in a queued ``message`` job (``bot.approval.followups``)."""
    found = _triage_alert(rt, click)
    if isinstance(found, Decision):
        return found
    alert = found.alert
    refusal = _first_to(rt, click, rt.store.claim_ack, rt.store.acked_by, alert.id, "acknowledged")
    if refusal:
        return refusal
    note = AuditNote(key=f"ack:{alert.id}", action="alert.acknowledge", outcome="ACKNOWLEDGED")
    status = f"👀 Acknowledged by {who(click.actor)} at {clock(now_utc())}"
    follow_up(rt, alert.id, click.actor, status, note, message=(found.channel, found.ts))
    return Decision("acknowledged")


def _snooze(rt: Runtime, click: ActionRequest) -> Decision:
    if click.arg == SNOOZE_CUSTOM:
        return _open_modal(rt, click, "snooze")
    seconds = SNOOZE_SECONDS.get(click.arg)
    if seconds is None:
        return _refuse(rt, click, "refused", f"Unknown snooze duration {click.arg!r}.")
    return snooze_alert(rt, click, seconds, click.arg)


def snooze_alert(rt: Runtime, click: ActionRequest, seconds: float, label: str, reason: str = "") -> Decision:
    """Snooze the clicked alert for ``seconds`` (a preset, or the Snooze modal's custom duration).

    Re-checks everything from the store: the alert, the clicker's triage permission from its
    channel, and ``policy.triage.max_snooze_hours``."""
    found = _triage_alert(rt, click)
    if isinstance(found, Decision):
        return found
    alert, channel, ts = found.alert, found.channel, found.ts
    too_long = snooze_refusal(policy_of(rt), seconds)
    if too_long:
        return _deny(rt, click, None, too_long, alert_id=alert.id)
    until = time.time() + seconds
    rt.store.snooze(
        alert.fingerprint,
        until,
        click.actor,
        reason=reason or f"Snoozed {label} from Slack",
        channel=channel or click.channel,
        ts=ts or click.message_ts or "",
    )
    for p in rt.store.alert_proposals(alert.id):
        if p.state == S.PROPOSED:
            try:
                rt.store.save_proposal(p.model_copy(update={"state": S.SNOOZED}), S.PROPOSED, p.version)
            except ConflictError:
                continue
    result = f"until {datetime.fromtimestamp(until, UTC).isoformat()}" + (f"; reason: {reason}" if reason else "")
    note = AuditNote(key=f"snooze:{alert.id}:{click.click_id}", action=f"alert.snooze.{label}", outcome="SNOOZED")
    status = f"😴 Snoozed by {who(click.actor)} until {clock(until)}"
    follow_up(rt, alert.id, click.actor, status, note.model_copy(update={"result": result}), message=(channel, ts))
    return Decision("snoozed")


def _open_modal(rt: Runtime, click: ActionRequest, kind: str) -> Decision:
    """Dismiss and a custom Snooze ask first: check the click as the action itself would be
    checked (refusals are audited), then open the modal with the click's trigger_id (3 s, once).
    Nothing is decided until the form is submitted (``bot.approval.modals``)."""
    found = _triage_alert(rt, click)
    if isinstance(found, Decision):
        return found
    if kind == "dismiss":
        prior = rt.store.dismissed_by(found.alert.id)
        if prior is not None:
            return _refuse(rt, click, "already", f"Already dismissed by {who(prior)}.")
    if not click.trigger_id:
        return _refuse(rt, click, "refused", "Slack sent no trigger for a form; nothing was changed.")
    meta = seal(
        rt.secrets.signing_secret,
        {
            "kind": kind,
            "alert": found.alert.id,
            "user": click.actor.user_id,
            "channel": click.channel,
            "ts": click.message_ts,
        },
    )
    title = found.alert.title
    view = dismiss_view(title, meta) if kind == "dismiss" else snooze_view(title, meta, _max_snooze_hours(rt))
    try:
        rt.slack.open_view(click.trigger_id, view)
    except Exception as exc:  # noqa: BLE001 - say so; the click changed nothing
        log.warning("views.open for %s on %s failed: %s", kind, found.alert.id, exc)
        return _refuse(rt, click, "error", f"The {kind} form could not be opened ({exc}); please click again.")
    return Decision("form_opened")


def _max_snooze_hours(rt: Runtime) -> float:
    policy = policy_of(rt)
    return triage_of(policy).max_snooze_hours if policy else 0


# --- a storm summary's Acknowledge all / Snooze all… ------------------------------------------
def _triage_storm(rt: Runtime, click: ActionRequest) -> tuple[str, int, str, str] | Decision:
    """The clicked storm — (channel, bucket, summary channel id, ts) — if its summary exists,
    the click came from it, and the clicker may triage in this channel; else the refusal."""
    bucket_text, _, channel = click.value.partition(" ")
    posted = rt.store.storm_message(channel, int(bucket_text)) if bucket_text.isdigit() and channel else None
    if posted is None:
        return _refuse(rt, click, "missing", "This storm is no longer known to EventOps.")
    channel_id, ts = posted
    if click.channel and click.channel != channel_id:
        return _refuse(rt, click, "refused", "This button does not belong to this channel; nothing was changed.")
    verdict = may_triage(policy_of(rt), click.actor, click.channel or channel_id, group_resolver(rt))
    if not verdict:
        return _deny(rt, click, None, verdict.reason, alert_id=storm_ack_key(channel, int(bucket_text)))
    return channel, int(bucket_text), channel_id, ts


def _refresh_storm(rt: Runtime, channel: str, bucket: int, channel_id: str, ts: str) -> None:
    rt.slack.update_message(channel_id, ts, storm_summary(rt, channel, bucket, rt.store.storm_tally(channel, bucket)))


def _storm_ack(rt: Runtime, click: ActionRequest) -> Decision:
    """Acknowledge all: "I'm on this storm" — claimed once, audited, shown on the summary."""
    found = _triage_storm(rt, click)
    if isinstance(found, Decision):
        return found
    channel, bucket, channel_id, ts = found
    key = storm_ack_key(channel, bucket)
    refusal = _first_to(rt, click, rt.store.claim_ack, rt.store.acked_by, key, "acknowledged")
    if refusal:
        return refusal
    audit.record(
        rt,
        key=f"ack:{key}",
        action="storm.acknowledge",
        outcome="ACKNOWLEDGED",
        actor=click.actor,
        alert_id=key,
        channel=channel_id,
        ts=ts,
    )
    _refresh_storm(rt, channel, bucket, channel_id, ts)
    return Decision("acknowledged")


def _storm_snooze(rt: Runtime, click: ActionRequest) -> Decision:
    """Snooze all…: the channel's storm alerts are counted on the summary, not listed in its
    thread, until the snooze ends (a new problem after the storm still posts on its own)."""
    seconds = SNOOZE_SECONDS.get(click.arg)
    if seconds is None:
        return _refuse(rt, click, "refused", f"Unknown snooze duration {click.arg!r}.")
    found = _triage_storm(rt, click)
    if isinstance(found, Decision):
        return found
    channel, bucket, channel_id, ts = found
    too_long = snooze_refusal(policy_of(rt), seconds)
    if too_long:
        return _deny(rt, click, None, too_long, alert_id=storm_ack_key(channel, bucket))
    until = time.time() + seconds
    target = storm_snooze_target(channel)
    rt.store.snooze(
        target, until, click.actor, reason=f"Storm snoozed {click.arg} from Slack", channel=channel_id, ts=ts
    )
    audit.record(
        rt,
        key=f"snooze:{target}:{click.click_id}",
        action=f"storm.snooze.{click.arg}",
        outcome="SNOOZED",
        actor=click.actor,
        alert_id=storm_ack_key(channel, bucket),
        result=f"until {datetime.fromtimestamp(until, UTC).isoformat()}",
        channel=channel_id,
        ts=ts,
    )
    _refresh_storm(rt, channel, bucket, channel_id, ts)
    return Decision("snoozed")


def _dismiss(rt: Runtime, click: ActionRequest) -> Decision:
    return _open_modal(rt, click, "dismiss")


def dismiss_alert(rt: Runtime, click: ActionRequest, reason: DismissReason) -> Decision:
    """Dismiss the clicked alert for ``reason`` (the Dismiss modal's submission).

    The decision is stored first (the first-to-dismiss claim); only then are the proposals
    closed and the source write-backs queued. The audit record with the reason and the message
    update follow in a queued ``message`` job (``bot.approval.followups``)."""
    found = _triage_alert(rt, click)
    if isinstance(found, Decision):
        return found
    alert, channel, ts = found.alert, found.channel, found.ts
    refusal = _first_to(rt, click, rt.store.claim_dismissal, rt.store.dismissed_by, alert.id, "dismissed")
    if refusal:
        return refusal
    note = AuditNote(
        key=f"dismiss:{alert.id}",
        action="alert.dismiss",
        outcome="DISMISSED",
        result=f"reason: {reason.sentence()}",
        params={"reason": reason.code, "note": reason.note},
    )
    written_back = []
    for p in rt.store.alert_proposals(alert.id):
        if p.state not in OPEN:
            continue
        try:
            if _write_back(rt, click, p, reason):
                written_back.append(title_of(p))
                continue
            rt.store.save_proposal(p.model_copy(update={"state": S.DISMISSED}), p.state, p.version)
        except ConflictError:
            continue
    status = f"🚫 Dismissed by {who(click.actor)} at {clock(now_utc())} ({reason.label})"
    if written_back:
        status += " — writing back: " + ", ".join(written_back)
    follow_up(rt, alert.id, click.actor, status, note, message=(channel, ts))
    return Decision("dismissed")


def _write_back(rt: Runtime, click: ActionRequest, p: Proposal, reason: DismissReason) -> bool:
    """Queue the source write-back for a dismissed alert, as the dismisser, if they may run it
    and the source has a status for the reason."""
    extra = WRITE_BACK_ON_DISMISS.get(p.remediation, {}).get(reason.code)
    if extra is None or p.state != S.PROPOSED or rt.kill_switch_on():
        return False
    if not may_act(policy_of(rt), click.actor, p.risk, click.channel or p.channel, group_resolver(rt)):
        return False
    params = {**p.params, **extra}
    if p.remediation in WRITE_BACK_NOTES:
        params["note"] = f"Dismissed in Slack by {who(click.actor)} ({click.actor.user_id}): {reason.sentence()}"[:512]
    approved = rt.store.save_proposal(
        p.model_copy(update={"state": S.APPROVED, "requester": click.actor, "params": params}),
        p.state,
        p.version,
    )
    queue_job(rt, Job(kind=JobKind.EXECUTE, proposal_id=approved.id, actor=click.actor))
    return True


# --- auto mode ---------------------------------------------------------------------------------


def auto_execute(rt: Runtime, proposal: Proposal) -> Decision:
    """Run ``proposal`` without a click (a route in ``mode: auto``), as the system actor.

    Same limits as a click: the kill switch refuses here and again in the worker, the blast
    radius is counted in the worker, and HIGH-risk remediations are never automatic (they need
    two human approvers). The worker posts the result with an Undo button when reversible.

    Example::

        auto_execute(rt, proposal)   # → Decision("queued") and a job on the jobs queue
    """
    title = title_of(proposal)
    if rt.kill_switch_on():
        rt.count("auto_refused")
        refresh_message(rt, proposal.alert_id, f"🛑 Auto {title} not run: {KILL_SWITCH_MESSAGE}")
        return Decision("kill_switch", KILL_SWITCH_MESSAGE)
    if proposal.risk == Risk.HIGH:
        rt.count("auto_refused")
        msg = "HIGH-risk remediations need two human approvers; auto mode does not run them"
        refresh_message(rt, proposal.alert_id, f"🔐 Auto {title} not run: {msg}")
        return Decision("refused", msg)
    system = Actor.system()
    try:
        current = rt.store.get_proposal(proposal.id)
        saved = rt.store.save_proposal(
            current.model_copy(update={"state": S.APPROVED, "requester": system}), S.PROPOSED, current.version
        )
    except (ConflictError, NotFoundError) as exc:
        return Decision("already", str(exc))
    note = queue_job(rt, Job(kind=JobKind.EXECUTE, proposal_id=saved.id, actor=system))
    refresh_message(rt, proposal.alert_id, f"⏳ {title} — running automatically (route mode: auto)")
    return Decision("queued", note or "")
