"""Escalation and reminders: what happens to an alert nobody handled, and to an alarm that lasts.

Three moments, three functions::

    notify posts a new alert message     → schedule(rt, alert, route, channel_id, ts)
        a HIGH/CRITICAL alert: an ESCALATION schedule (step 1 after ``after_minutes``, mentioning
        ``mention``; step 2 ``then_after_minutes`` later, mentioning ``then_mention``)
        a CloudWatch alarm in ALARM: a REMINDER schedule (every ``remind_every_hours``, at most
        ``max_reminders``)
    housekeeping runs (every few minutes) → run_due(rt)
        one Query for the schedules due now; each due step is taken with a write conditional on
        its step number (so two overlapping runs, or a rerun after a crash, post it once), then
        posted as a thread reply under the alert's message; at most ``max_posts_per_run`` per
        run, the rest stay due for the next run
    the problem's resolving event arrives → resolve(rt, owner_id, newest)
        its schedules are dropped and the message says "Resolved after 1h 12m"

What stops a step is read when it is due, not pushed by the clicks: an Acknowledge, a Dismiss or
a remediation running or succeeded on the alert drops its escalation; a Dismiss or the problem's
resolution drops its reminders too; a snooze of the alert moves the step to the snooze's end.
The config is ``escalation:`` (``bot.config.Escalation``): top level, per rule, on the default route.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from bot.config import Config, Escalation
from bot.errors import NotFoundError, SlackError
from bot.models import Alert, ProposalState, Route
from bot.routing import route as route_alert
from bot.runtime import Runtime
from bot.slack import blocks as bk
from bot.slack.render import format_mentions
from bot.store import DueStep, MessageRecord

log = logging.getLogger("eventops.escalation")

ESCALATION = "ESCALATION"
REMINDER = "REMINDER"
_KEEP_AFTER_S = 86400  # a schedule's item outlives its last step by a day (then TTL)
_MIN_SECONDS_LEFT = 5.0  # a run stops posting when its invocation has less than this left
_REMEDIATED = {ProposalState.RUNNING, ProposalState.SUCCEEDED}


def _now() -> float:
    return time.time()


# --- config ------------------------------------------------------------------------------------
def policy_for(config: Config, rule: str) -> Escalation:
    """The escalation settings of a route: the top-level ``escalation:``, overridden by the keys
    the route's own block sets (``rule`` is ``Route.rule``: a rule's name, or ``default``)."""
    top = config.escalation
    merged = {name: getattr(top, name) for name in Escalation.model_fields}
    own = _route_block(config, rule)
    if own is not None:
        merged.update({name: getattr(own, name) for name in own.model_fields_set})
    return Escalation.model_validate(merged)


def _route_block(config: Config, rule: str) -> Escalation | None:
    if rule == "default":
        return config.routing.default.escalation
    return next((r.escalation for r in config.routing.rules if r.name == rule), None)


def _mentions(ids: list[str]) -> str:
    """Slack mention syntax; ``here`` / ``channel`` as ``<!here>`` / ``<!channel>``."""
    return format_mentions([f"!{m}" if m in ("here", "channel") else m for m in ids])


# --- notify side: a new message --------------------------------------------------------------
def in_alarm(alert: Alert) -> bool:
    """A CloudWatch alarm whose event says it is (now) in ALARM, its actions not suppressed."""
    state = str(alert.fields.get("State") or "")
    return (
        alert.source_kind == "cloudwatch"
        and alert.active
        and state.rsplit("→", 1)[-1].strip() == "ALARM"
        and not alert.fields.get("Actions suppressed")
    )


def plans(policy: Escalation, alert: Alert, now: float) -> dict[str, list[tuple[float, list[str]]]]:
    """The schedules a new message about ``alert`` gets: kind → [(unix time, mentions), ...]."""
    out: dict[str, list[tuple[float, list[str]]]] = {}
    if policy.after_minutes and alert.active and alert.severity.at_least(policy.min_severity):
        first = now + policy.after_minutes * 60
        steps = [(first, list(policy.mention))]
        if policy.then_after_minutes:
            steps.append((first + policy.then_after_minutes * 60, list(policy.then_mention)))
        out[ESCALATION] = steps
    if policy.remind_every_hours and in_alarm(alert):
        every = policy.remind_every_hours * 3600
        out[REMINDER] = [(now + k * every, []) for k in range(1, policy.max_reminders + 1)]
    return out


def schedule(rt: Runtime, alert: Alert, route: Route, channel_id: str, ts: str) -> int:
    """After notify posted ``alert``'s message: write its schedules. Returns how many; never
    raises (the message is out; a failure is logged and counted, the alert just isn't escalated)."""
    try:
        now = _now()
        written = 0
        for kind, plan in plans(policy_for(rt.config, route.rule), alert, now).items():
            step = DueStep(
                alert_id=alert.id,
                kind=kind,
                fingerprint=alert.fingerprint,
                channel=channel_id,
                ts=ts,
                started=alert.time.timestamp() if kind == REMINDER else now,
                step=0,
                due=plan[0][0],
                plan=plan,
            )
            ttl = int(plan[-1][0] - now) + _KEEP_AFTER_S
            written += rt.store.schedule_due(step, ttl)
        return written
    except Exception as exc:  # noqa: BLE001 - the alert is posted; escalation is extra
        log.error("scheduling escalation for alert %s failed: %s: %s", alert.id, type(exc).__name__, exc)
        rt.count("escalation_schedule_failed")
        return 0


# --- housekeeping side: the due steps ----------------------------------------------------------
def run_due(rt: Runtime, now: float | None = None) -> int:
    """Housekeeping: post the escalation and reminder steps due now. Returns how many were posted.

    One Query (at most twice the per-run cap of items); each step is taken by a write
    conditional on its step number before it is posted, and given back if Slack refused it.
    """
    now = _now() if now is None else now
    cap = rt.config.escalation.max_posts_per_run
    posted = 0
    for step in rt.store.due_steps(now, limit=2 * cap):
        if posted >= cap or rt.seconds_left() < _MIN_SECONDS_LEFT:
            rt.count("escalation_carried_over")
            break
        try:
            posted += _take(rt, step, now)
        except SlackError as exc:
            log.warning("escalation step of alert %s not posted (next run retries): %s", step.alert_id, exc)
            rt.count("escalation_post_failed")
    rt.count("escalation_posted", posted)
    return posted


def _take(rt: Runtime, step: DueStep, now: float) -> int:
    """One due schedule: dropped when something stopped it, moved when snoozed, else its step
    is taken (conditionally) and posted. Returns 1 when a reply was posted."""
    store = rt.store
    stopped = _stopped_by(rt, step)
    if stopped:
        store.drop_due(step.alert_id, step.kind)
        log.info("%s of alert %s stopped: %s", step.kind.lower(), step.alert_id, stopped)
        return 0
    until = store.snoozed_until(step.fingerprint)
    if until is not None and until > now:
        store.postpone_due(step, until)
        return 0
    if not store.advance_due(step, _next_due(step, now)):
        return 0  # another run took this step
    try:
        rt.slack.post_reply(step.channel, step.ts, _reply(rt, step, now))
    except SlackError:
        store.restore_due(step)
        raise
    return 1


def _next_due(step: DueStep, now: float) -> float | None:
    """When the step after this one is due: its planned time; after a snooze moved this step,
    no sooner than the plan's spacing from now (reminders do not bunch up after a snooze)."""
    i = step.step
    if i + 1 >= len(step.plan):
        return None
    planned = step.plan[i + 1][0]
    if step.due is not None and step.due > step.plan[i][0] + 1:
        return max(planned, now + (planned - step.plan[i][0]))
    return planned


def _stopped_by(rt: Runtime, step: DueStep) -> str | None:
    """Why this schedule ends now (None: it goes on)."""
    store = rt.store
    if store.dismissed_by(step.alert_id) is not None:
        return "dismissed"
    if _resolved(rt, step):
        return "resolved"
    if step.kind != ESCALATION:
        return None
    if store.acked_by(step.alert_id) is not None:
        return "acknowledged"
    if any(p.state in _REMEDIATED for p in store.alert_proposals(step.alert_id)):
        return "remediation running or done"
    return None


def _resolved(rt: Runtime, step: DueStep) -> bool:
    """Does the problem's newest event say it is over? (Resolution drops the schedules too;
    this covers a resolving event that arrived while that failed.)"""
    rec = rt.store.get_message(step.fingerprint)
    latest = rec.alert_id if rec is not None and rec.owner_id == step.alert_id else step.alert_id
    try:
        return not rt.store.get_alert(latest).alert.active
    except NotFoundError:
        return True  # the alert is gone (expired): nothing left to escalate


def _reply(rt: Runtime, step: DueStep, now: float) -> dict[str, object]:
    """The thread reply for the step being taken (``step.step`` is its index in the plan)."""
    lasted = duration(now - step.started)
    if step.kind == REMINDER:
        title = _title(rt, step.alert_id)
        text = f":hourglass: {title} is still in ALARM for {lasted} (reminder {step.step + 1} of {len(step.plan)})."
    else:
        mentions = _mentions(step.plan[step.step][1])
        who = "Still nobody has" if step.step else "Nobody has"
        text = f":rotating_light: {who} acknowledged this alert, posted {lasted} ago."
        text = f"{mentions} {text}" if mentions else text
    return {"text": text, "blocks": [bk.section(text)]}


def _title(rt: Runtime, alert_id: str) -> str:
    try:
        alert = rt.store.get_alert(alert_id).alert
    except NotFoundError:
        return "The alarm"
    name = alert.primary_resource.id if alert.primary_resource else alert.title
    return f"*{bk.escape(name)}*"


# --- notify side: the problem is over, or back ------------------------------------------------
_RESOLVED_MARK = "✅ Resolved after "


def after_repeat(rt: Runtime, rec: MessageRecord, newest: Alert) -> None:
    """The newest event of a problem whose message exists was just stored (``bot.pipeline``):
    it says the problem is over (``resolve``), or, after that, that it is back (``reopen``).
    Never raises: the repeat is counted either way (a failure is logged and counted)."""
    try:
        if not newest.active:
            resolve(rt, rec, newest)
        elif rec.resolved:
            reopen(rt, rec, newest)
    except Exception as exc:  # noqa: BLE001 - the repeat is counted; only these lines are missed
        log.error("resolution bookkeeping of %s failed: %s: %s", rec.owner_id, type(exc).__name__, exc)
        rt.count("resolution_failed")


def resolve(rt: Runtime, rec: MessageRecord, newest: Alert) -> bool:
    """Drop the message's schedules and put "Resolved after 1h 12m" on it, once (the batch's
    refresh of the message shows it). Returns True when the line was written."""
    owner_id = rec.owner_id
    for kind in (ESCALATION, REMINDER):
        rt.store.drop_due(owner_id, kind)
    owner = rt.store.get_alert(owner_id)
    if not owner.alert.active or not rt.store.claim_resolution(rec.fingerprint):
        return False
    line = _RESOLVED_MARK + duration(_seconds(newest.time) - _seconds(owner.alert.time))
    _, status = rt.store.alert_message_state(owner_id)
    rt.store.set_alert_status(owner_id, f"{line} · {status}" if status else line)
    rt.count("alerts_resolved")
    return True


def reopen(rt: Runtime, rec: MessageRecord, newest: Alert) -> bool:
    """The problem is back after its message said resolved (a flapping alarm): take the line
    off and schedule its escalation and reminders again, from now. True when this call did."""
    if not rt.store.clear_resolution(rec.fingerprint) or not rec.ts:
        return False
    _, status = rt.store.alert_message_state(rec.owner_id)
    if status and status.startswith(_RESOLVED_MARK):
        rt.store.set_alert_status(rec.owner_id, status.partition(" · ")[2])
    owner = newest.model_copy(update={"id": rec.owner_id, "fingerprint": rec.fingerprint})
    schedule(rt, owner, route_alert(newest, rt.config), rec.channel, rec.ts)
    rt.count("alerts_reopened")
    return True


def _seconds(at: datetime) -> float:
    return at.timestamp()


def duration(seconds: float) -> str:
    """``1h 12m``, ``15m``, ``2d 3h``; under a minute is ``under a minute``.

    >>> duration(4320), duration(900), duration(183600), duration(20)
    ('1h 12m', '15m', '2d 3h', 'under a minute')
    """
    minutes = int(max(0.0, seconds) // 60)
    if minutes < 1:
        return "under a minute"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"
