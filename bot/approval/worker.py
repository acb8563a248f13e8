"""Jobs from the jobs queue: execute, verify, undo, dry run.

``process_job``: re-read the proposal, re-authorize (policy, team, approvals — fail closed),
``APPROVED → RUNNING`` (conditional: the only way in), kill switch, blast radius, run,
``RUNNING → outcome`` (conditional), one audit record, then ``chat.update`` (channel + ts, never
a response_url) and a thread reply with an Undo button.

A job that finds ``RUNNING`` is a duplicate or the re-delivery of a crashed worker. We never
re-run it and never guess: if the ``RUNNING`` write is older than ``RUNNING_STALE_S`` (the Lambda
maximum, so the first worker is certainly dead) it becomes ``FAILED`` with "worker interrupted;
state unknown — check the resource"; if younger, the record is returned to SQS and looked at
again later.

Example::

    outcome = process_job(rt, Job.from_body(record.body))  # handlers/worker.py
"""

from __future__ import annotations

import logging
from datetime import timedelta

from botocore.exceptions import ClientError

from bot.approval import audit
from bot.approval.authz import approvals_needed, may_act, tier_for, undo_approvals_needed
from bot.approval.jobs import Job, JobKind
from bot.approval.proposal import (
    APPROVAL_GRACE_S,
    KILL_SWITCH_MESSAGE,
    RUNNING_STALE_S,
    S,
    group_resolver,
    now_utc,
    policy_of,
    refresh_message,
    refresh_undo_reply,
    undo_view,
    valid_approvals,
)
from bot.approval.states import TERMINAL
from bot.aws import remediation_refusal
from bot.errors import ConflictError, EventOpsError, NotFoundError, RetryLaterError, SlackError
from bot.messages import (
    approval_request,
    clock,
    manual_request,
    outcome_line,
    outcome_reply,
    undo_approval_request,
    undo_reply,
    who,
)
from bot.models import Actor, Outcome, Proposal, Risk, UndoRequest
from bot.remediations import remediations
from bot.remediations.base import UNDO_REFUSED, RemediationContext, run, run_undo
from bot.runtime import Runtime

log = logging.getLogger("eventops.approval")


class JobFailedError(EventOpsError):
    """The job ended in an unexpected error; its SQS record must fail (and reach the DLQ)."""


# --- the worker --------------------------------------------------------------------------------


def process_job(rt: Runtime, job: Job, *, running_stale_s: float = RUNNING_STALE_S) -> str:
    """Run one job. Returns what happened; raises when the SQS record must be retried / DLQ'd."""
    if job.kind == JobKind.EXECUTE:
        return _execute(rt, job, running_stale_s)
    if job.kind == JobKind.UNDO:
        return _undo(rt, job)
    if job.kind == JobKind.DRY_RUN:
        return _dry_run(rt, job)
    raise JobFailedError(f"unknown job kind {job.kind!r}")  # pragma: no cover - enum


def _reauthorize(rt: Runtime, p: Proposal) -> str | None:
    """Why ``p`` may not run now, or None. Fail closed: every doubt is a reason."""
    requester = p.requester
    if requester is None:
        return "nobody requested it"
    if requester.is_system:
        return "auto mode never runs HIGH-risk remediations" if p.risk == Risk.HIGH else None
    policy = policy_of(rt)
    verdict = may_act(policy, requester, p.risk, p.channel, group_resolver(rt))
    if not verdict:
        return f"{who(requester)} may no longer run it: {verdict.reason}"
    needed = approvals_needed(policy, p.risk)
    if needed:
        valid = valid_approvals(rt, p, now_utc(), grace_s=APPROVAL_GRACE_S)
        if len(valid) < needed:
            return f"it needs {needed} valid approvals from people other than the requester, and has {len(valid)}"
    return None


def _execute(rt: Runtime, job: Job, running_stale_s: float) -> str:
    """APPROVED → RUNNING → outcome, at most once: load, re-authorize, guards, run."""
    p = _approved_proposal(rt, job, running_stale_s)
    if isinstance(p, str):
        return p
    p = with_request_message(rt, p)
    reason = _reauthorize(rt, p)
    if reason:
        return _deny(rt, p, job, reason)
    try:
        running = rt.store.save_proposal(p.model_copy(update={"state": S.RUNNING}), S.APPROVED, p.version)
    except ConflictError:
        return "duplicate"
    refusal = _guard_refusal(rt, running)
    if refusal:
        return _finish(rt, running, Outcome(state=S.FAILED, message=refusal))
    return _run_and_finish(rt, running, job)


def _approved_proposal(rt: Runtime, job: Job, running_stale_s: float) -> Proposal | str:
    """The job's proposal if it is APPROVED (ready to run); else what the job amounts to.

    Raises JobFailedError for a proposal that failed with an error earlier (until the record
    reaches the DLQ) and RetryLaterError for one RUNNING too recently to call interrupted."""
    try:
        p = rt.store.get_proposal(job.proposal_id)
    except NotFoundError:
        log.warning("job for unknown proposal %s dropped", job.proposal_id)
        return "missing"
    if p.state in TERMINAL:
        failure = rt.store.job_failure(p.id)
        if failure:  # keep failing the record until SQS moves it to the DLQ; never re-run
            raise JobFailedError(f"proposal {p.id} failed earlier: {failure}")
        _notify(rt, p)  # a no-op unless the earlier delivery died before telling Slack
        return "already_done"
    if p.state == S.RUNNING:
        age = (now_utc() - p.updated_at).total_seconds()
        if age < running_stale_s:
            raise RetryLaterError(f"proposal {p.id} is RUNNING since {age:.0f}s; looking again later")
        return interrupted(rt, p)
    if p.state != S.APPROVED:
        log.warning("job for proposal %s in state %s: nothing to do", p.id, p.state.value)
        return f"skipped_{p.state.value.lower()}"
    return p


def _deny(rt: Runtime, p: Proposal, job: Job, reason: str) -> str:
    """APPROVED → DENIED (conditional) because re-authorization failed: audited and announced."""
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


def _guard_refusal(rt: Runtime, running: Proposal) -> str | None:
    """Why a RUNNING proposal must not touch AWS after all (kill switch, blast radius), or None.

    The blast-radius counter counts this execution; the account and the kill switch are looked
    at first. A proposal for an account EventOps does not act in (not in ``accounts:``, or no
    role) is refused even when the store holds it APPROVED: never the bot's own account instead."""
    account_refusal = remediation_refusal(rt.config.accounts, running.account)
    if account_refusal:
        rt.count("unconfigured_account_refused")
        return f"Refused: {account_refusal}"
    if rt.kill_switch_on():
        return f"Refused: {KILL_SWITCH_MESSAGE}"
    limit = rt.config.blast_radius.max_executions_per_account_per_hour
    count = rt.store.count_execution(running.account)
    if count <= limit:
        return None
    rt.count("blast_radius_refused")
    return (
        f"Refused: blast radius limit reached — at most {limit} executions per hour in account "
        f"{running.account or '(default)'}; this would have been number {count}"
    )


def _run_and_finish(rt: Runtime, running: Proposal, job: Job) -> str:
    """Run the remediation and record its outcome. An error outcome also fails the SQS record."""
    rem = remediations.get(running.remediation)
    if rem is None:
        return _finish(rt, running, Outcome(state=S.FAILED, message=f"Unknown remediation {running.remediation}"))
    ctx = RemediationContext(rt.sessions, running.account, running.region, actor=running.requester or job.actor)
    try:
        outcome = run(rem, ctx, running.params)
    except Exception as exc:  # recorded, announced, and the record goes to the DLQ
        log.exception("remediation %s on proposal %s raised", running.remediation, running.id)
        outcome = Outcome(state=S.FAILED, message=f"Error while running: {type(exc).__name__}: {str(exc)[:300]}")
    if not is_error(outcome):
        return _finish(rt, running, outcome)
    # An AWS error or a bug: FAILED and announced like any failure, and the SQS record fails too,
    # on every delivery, so it lands in the DLQ where an alarm sees it. It never runs again.
    rt.count("remediation_error")
    rt.store.record_job_failure(running.id, outcome.message)
    _finish(rt, running, outcome, slack_errors=False)
    raise JobFailedError(f"proposal {running.id}: {outcome.message[:300]}")


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


def interrupted(rt: Runtime, p: Proposal) -> str:
    msg = "worker interrupted; state unknown — check the resource"
    rt.count("worker_interrupted")
    return _finish(rt, p, Outcome(state=S.FAILED, message=msg, verification="unknown"))


def _finish(rt: Runtime, running: Proposal, outcome: Outcome, *, slack_errors: bool = True) -> str:
    """RUNNING → outcome (conditional), one audit record, then the message and a thread reply."""
    undo_until = None
    if outcome.state == S.SUCCEEDED and outcome.reversible:
        window = rt.config.policy.undo_window_minutes if rt.config.policy else 60
        undo_until = now_utc() + timedelta(minutes=window)
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
        rt.store.record_post_state(saved.id, outcome.post_state)
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


def _notify(rt: Runtime, p: Proposal) -> None:
    """chat.update of the alert message + one thread reply, once per terminal state.

    Raises SlackError so the SQS record is retried; the retry finds the state recorded and
    only repeats what Slack did not get (``store.mark_notified`` is written after the reply).
    """
    if rt.store.was_notified(p.id, p.state):
        return
    refresh_message(rt, p.alert_id, outcome_line(p), raise_errors=True)
    payload = outcome_reply(p)
    if p.channel and p.message_ts:
        rt.slack.post_reply(p.channel, p.message_ts, payload)
    rt.store.mark_notified(p.id, p.state)


def with_request_message(rt: Runtime, p: Proposal) -> Proposal:
    """An ``/ops run`` proposal's channel message, posted by the first job that needs it.

    The slash command must answer within Slack's 3 s, where a rate-limited post cannot wait
    (Slack allows about one message per second per channel), so it only records the request;
    the message whose thread carries the dry run, the Approve button and the outcome is posted
    here, where a 429 is waited out or the job retried. Raises SlackError (the job is retried).
    """
    if not p.is_manual or p.message_ts or not p.channel or p.requester is None:
        return p
    payload = manual_request(p, p.requester, rt.config.slash_command or "/ops")
    channel, ts = rt.slack.post({**payload, "channel": p.channel})
    try:
        return rt.store.save_proposal(p.model_copy(update={"channel": channel, "message_ts": ts}), p.state, p.version)
    except ConflictError:  # a concurrent copy of the job got there first
        return rt.store.get_proposal(p.id)


def _undo(rt: Runtime, job: Job) -> str:
    """SUCCEEDED → UNDONE, at most once: load, refuse or claim the one run, then run the undo."""
    try:
        p = rt.store.get_proposal(job.proposal_id)
    except NotFoundError:
        return "missing"
    if p.state == S.UNDONE:
        _notify(rt, p)
        return "already_done"
    if p.state != S.SUCCEEDED:
        return f"skipped_{p.state.value.lower()}"
    if p.undo is not None and p.undo.closed:
        return "already_done"  # refused or failed earlier; its reply was posted then
    if p.undo is not None and not p.undo.queued:
        return _post_undo_request(rt, p, job)
    refusal = _undo_refusal(rt, p, job)
    if refusal:
        return _undo_reply(rt, p, job, "UNDO_REFUSED", refusal)
    if not rt.store.claim_undo_run(p.id, job.correlation_id):
        if rt.store.undo_run_by(p.id) != job.correlation_id:
            return "duplicate"
        return _undo_reply(rt, p, job, "UNDO_FAILED", "Undo interrupted; state unknown — check the resource")
    return _run_undo(rt, p, job)


def _post_undo_request(rt: Runtime, p: Proposal, job: Job) -> str:
    """An undo that waits for approvals: post its Approve undo button in the thread, once per job."""
    assert p.undo is not None
    if p.undo.requester.user_id != job.actor.user_id:
        return "skipped_not_requester"
    if not rt.store.claim_dry_run(p.id, job.correlation_id):  # a redelivery of this job
        return "duplicate"
    policy = policy_of(rt)
    tier = tier_for(policy, p.risk)
    payload = undo_approval_request(p, undo_approvals_needed(policy, p.risk), tier.approval_ttl_minutes if tier else 0)
    if p.channel and p.message_ts:
        rt.slack.post_reply(p.channel, p.message_ts, payload)
    return "undo_approval_posted"


def _undo_refusal(rt: Runtime, p: Proposal, job: Job) -> str | None:
    """Why the undo must not run, or None. The rules of the action it reverses, re-checked:
    the kill switch, the undo request on record and its requester's tier, the approvals the
    undo needs (each still valid), the window. Fail closed: every doubt is a reason."""
    if rt.kill_switch_on():
        return f"Undo refused: {KILL_SWITCH_MESSAGE}"
    request = p.undo
    if request is None or request.requester.user_id != job.actor.user_id or not request.queued:
        return f"Undo refused: no approved undo request by {who(job.actor)} is recorded"
    policy = policy_of(rt)
    verdict = may_act(policy, request.requester, p.risk, p.channel, group_resolver(rt))
    if not verdict:
        return f"Undo refused: {who(request.requester)} may not: {verdict.reason}"
    needed = undo_approvals_needed(policy, p.risk)
    if needed:
        valid = valid_approvals(rt, undo_view(p), now_utc(), grace_s=APPROVAL_GRACE_S)
        if len(valid) < needed:
            return (
                f"Undo refused: it needs {needed} valid approvals from people other than"
                f" {who(request.requester)}, and has {len(valid)}"
            )
    if p.undo_until is None or now_utc() >= p.undo_until:
        return f"Undo refused: the undo window closed at {clock(p.undo_until)}"
    return None


def _run_undo(rt: Runtime, p: Proposal, job: Job) -> str:
    """Run the undo this job claimed; a failure is announced (an exception also fails the record)."""
    rem = remediations.get(p.remediation)
    if rem is None:
        return _undo_reply(rt, p, job, "UNDO_FAILED", f"Unknown remediation {p.remediation}")
    ctx = RemediationContext(rt.sessions, p.account, p.region, actor=job.actor)
    try:
        outcome = run_undo(rem, ctx, p.params, p.pre_state or {}, rt.store.post_state(p.id))
    except Exception as exc:  # announced; the record goes to the DLQ
        log.exception("undo of proposal %s raised", p.id)
        rt.count("undo_error")
        _undo_reply(rt, p, job, "UNDO_FAILED", f"Undo failed: {type(exc).__name__}: {str(exc)[:300]}")
        raise JobFailedError(f"undo of {p.id} raised {type(exc).__name__}") from None
    if outcome.state != S.UNDONE:
        kind = "UNDO_REFUSED" if outcome.message.startswith(UNDO_REFUSED) else "UNDO_FAILED"
        return _undo_reply(rt, p, job, kind, outcome.message)
    return _record_undone(rt, p, job, outcome)


def _record_undone(rt: Runtime, p: Proposal, job: Job, outcome: Outcome) -> str:
    """SUCCEEDED → UNDONE (conditional), one audit record, then the message and a thread reply;
    the outcome reply that offered Undo loses its button."""
    closed = _closed(p, f"undone by {who(job.actor)} at {clock(now_utc())}")
    try:
        saved = rt.store.save_proposal(
            p.model_copy(update={"state": S.UNDONE, "result": outcome.message, "undo": closed.undo}),
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
    refresh_undo_reply(rt, closed)
    return "undone"


def _closed(p: Proposal, why: str) -> Proposal:
    """``p`` with its undo request closed (``why``): Undo is no longer offered."""
    request = p.undo or UndoRequest(requester=Actor.system())
    return p.model_copy(update={"undo": request.model_copy(update={"closed": why})})


def _close_undo(rt: Runtime, p: Proposal, why: str) -> None:
    """The undo was refused or failed: record that on the SUCCEEDED proposal (conditional, once)
    and take Undo off the outcome reply. A concurrent change wins; the reply is re-rendered anyway."""
    closed = _closed(p, why)
    try:
        rt.store.save_proposal(closed, S.SUCCEEDED, p.version)
    except ConflictError:
        log.info("proposal %s changed while its undo was closed", p.id)
    refresh_undo_reply(rt, closed)


def _undo_reply(rt: Runtime, p: Proposal, job: Job, outcome: str, message: str) -> str:
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
        rt.slack.post_reply(p.channel, p.message_ts, undo_reply(message, job.actor))
    _close_undo(rt, p, message.removeprefix("Undo refused: "))
    return outcome.lower()


def _dry_run(rt: Runtime, job: Job) -> str:
    """HIGH risk: ask AWS, then post plan + dry run + an Approve button in the thread."""
    try:
        p = rt.store.get_proposal(job.proposal_id)
    except NotFoundError:
        return "missing"
    requester = p.requester
    if p.state != S.PROPOSED or requester is None:
        return "skipped"
    p = with_request_message(rt, p)
    if not rt.store.claim_dry_run(p.id, job.correlation_id):
        return "duplicate"
    rem = remediations[p.remediation]
    params = rem.parse_params(p.params)
    ctx = RemediationContext(rt.sessions, p.account, p.region, actor=requester)
    try:
        result = rem.check_dry_run(ctx, params)
    except Exception as exc:  # noqa: BLE001 - a failed dry run is information for the approvers
        code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None
        result = f"dry run failed: {code or type(exc).__name__}"
    tier = tier_for(policy_of(rt), p.risk)
    payload = approval_request(
        p, result, approvals_needed(policy_of(rt), p.risk), tier.approval_ttl_minutes if tier else 0
    )
    if p.channel and p.message_ts:
        rt.slack.post_reply(p.channel, p.message_ts, payload)
    return "dry_run_posted"
