"""Ending a maintenance window: one summary message per channel its alerts were held for, the
still-active alerts in its thread with their normal buttons, the resolved ones only counted.

A window ends by ``/ops maintenance end`` or when its ``ends_at`` passes (housekeeping:
``end_due``). ``Store.end_maintenance`` is one conditional write, so whoever ends it first
posts the summary, once. A held problem is resolved when its newest held event said so
(``Alert.active`` is False: an alarm back to OK, a GuardDuty finding archived, a Security Hub
finding RESOLVED or ARCHIVED; each parser decides, see docs/sources.md); otherwise it is still
active and posted in the summary's thread as it would have been posted, proposals and buttons
included. Auto mode does not run on release: the change was held for people to look at.

Example::

    ended = end_window(rt, window_id, actor)      # None: already ended or unknown
    ended.line()   # "7 alerts held, 3 still active, 4 resolved during the window"
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot import escalation
from bot.aws import remediation_refusal
from bot.errors import ConflictError, SlackError
from bot.maintenance.hold import audit_window, open_windows
from bot.maintenance.schedule import human_duration
from bot.messages import alert_buttons
from bot.models import Actor, Alert, MaintenanceWindow, ProposalState
from bot.pipeline import claim_lease_s, new_proposals, offers_for
from bot.routing import route as route_alert
from bot.runtime import Runtime
from bot.slack.render import render_alert, render_outcome_reply, render_thread_reply
from bot.store import HeldAlert

log = logging.getLogger("eventops.maintenance")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


@dataclass
class Released:
    """What ending a window found: problems held, still active, resolved, events, and the
    channels a summary went to (a summary that failed to post is in ``failed``)."""

    window: MaintenanceWindow
    held: int = 0
    active: int = 0
    resolved: int = 0
    events: int = 0
    channels: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def line(self) -> str:
        """``7 alerts held, 3 still active, 4 resolved during the window``."""
        return (
            f"{_plural(self.held, 'alert')} held, {self.active} still active,"
            f" {self.resolved} resolved during the window"
        )


def end_window(rt: Runtime, window_id: str, actor: Actor, now: datetime | None = None) -> Released | None:
    """End the window now (one conditional write), post its summaries, audit MAINTENANCE_ENDED.
    None when it was already ended (by someone else, or by housekeeping) or does not exist."""
    window = rt.store.end_maintenance(window_id, now or datetime.now(UTC))
    if window is None:
        return None
    released = release(rt, window)
    if released.failed:  # nothing held is lost: the next housekeeping run posts these summaries
        rt.store.set_release_pending(window, released.failed)
    why = "ended by hand" if not actor.is_system else "its time was up"
    audit_window(rt, window, "MAINTENANCE_ENDED", actor, f"{why}: {released.line()}")
    rt.count("maintenance_ended")
    return released


def end_due(rt: Runtime, now: datetime | None = None) -> int:
    """Housekeeping: end every window whose ``ends_at`` has passed. Returns how many it ended."""
    now = now or datetime.now(UTC)
    n = 0
    for window in rt.store.maintenance_due(now):
        if end_window(rt, window.id, Actor.system(), now=min(now, window.ends_at)) is not None:
            n += 1
    return n


def housekeep(rt: Runtime, now: datetime | None = None) -> int:
    """The housekeeping step: end the windows whose time is up (summaries posted), and write the
    config's scheduled windows that are open now to the store (so they are listed and audited
    even before an alert meets them). Returns how many windows it ended."""
    now = now or datetime.now(UTC)
    ended = end_due(rt, now)
    retry_releases(rt)
    open_windows(rt, now)
    rt.store.index_maintenance()  # complete and exact: notify skips its Query while it is empty
    return ended


def retry_releases(rt: Runtime) -> int:
    """Post the summaries an earlier end could not (Slack refused): each pending window's failed
    channels again; those that fail again stay pending. Returns how many were posted now."""
    posted = 0
    for window, channels in rt.store.pending_releases():
        again = release(rt, window, only=set(channels))
        posted += len(again.channels)
        if again.failed:
            rt.store.set_release_pending(window, again.failed)
        else:
            rt.store.clear_release_pending(window.id)
            log.info("maintenance %s: the summaries left over were posted (%s)", window.id, ", ".join(again.channels))
    return posted


def release(rt: Runtime, window: MaintenanceWindow, only: set[str] | None = None) -> Released:
    """Post the window's summaries (one per channel; ``only`` those channels), still-active
    alerts in their threads."""
    out = Released(window)
    per_channel: dict[str, list[HeldAlert]] = {}
    for held in rt.store.held_alerts(window.id):
        if only is not None and held.channel not in only:
            continue
        per_channel.setdefault(held.channel, []).append(held)
        out.held += 1
        out.events += held.events
        out.active += 1 if held.alert.active else 0
    out.resolved = out.held - out.active
    for channel, items in per_channel.items():
        try:
            _release_channel(rt, window, channel, items)
            out.channels.append(channel)
        except SlackError as exc:
            log.error("maintenance %s: the summary for %s could not be posted: %s", window.id, channel, exc)
            rt.count("maintenance_summary_failed")
            out.failed.append(channel)
    return out


def summary(window: MaintenanceWindow, items: list[HeldAlert]) -> dict[str, object]:
    """The summary message of one channel's held alerts (text and blocks, no channel)."""
    active = sum(1 for h in items if h.alert.active)
    took = human_duration((window.ends_at - window.starts_at).total_seconds())
    why = f"{took}, reason {window.reason}" if window.reason else took
    counts = Released(window, held=len(items), active=active, resolved=len(items) - active).line()
    title = f"🔧 Maintenance on {window.scope} ended ({why}): {counts}"
    events = sum(h.events for h in items)
    lines = [
        f"{_plural(events, 'event')} arrived during the window (repeats of a problem count once above).",
        "The alerts still active are in this thread, with their buttons."
        if active
        else "Nothing held is still active.",
        f"Window id {window.id}, started by {window.started_by}.",
    ]
    return render_outcome_reply(title, lines)


def _release_channel(rt: Runtime, window: MaintenanceWindow, channel: str, items: list[HeldAlert]) -> None:
    channel_id, ts = rt.slack.post({"channel": channel, **summary(window, items)})
    for held in items:
        if not held.alert.active:
            continue
        try:
            post_held(rt, held.alert, channel, channel_id, ts)
        except SlackError as exc:
            rt.store.drop_message_claim(held.alert.fingerprint)
            log.error(
                "maintenance %s: alert %s could not be posted in the summary's thread: %s",
                window.id,
                held.alert.id,
                exc,
            )
            rt.count("maintenance_release_failed")


def post_held(rt: Runtime, alert: Alert, channel: str, channel_id: str, thread_ts: str) -> str:
    """Post a held, still-active alert in the summary's thread as its own message would have
    been (proposals, buttons); it becomes its problem's message, so repeats update it. A
    problem whose message exists already (posted before the window, or since) gets a short
    line instead. The alert keeps its "Maintenance: held by …" line. Returns what happened."""
    route = route_alert(alert, rt.config)
    window_s = rt.config.dedup.window_minutes * 60
    if rt.store.claim_message(alert.fingerprint, route.channel, alert, window_s, claim_lease_s(rt)) is None:
        rt.slack.post_reply(channel_id, thread_ts, render_thread_reply(alert))
        return "threaded"
    refusal = remediation_refusal(rt.config.accounts, alert.account)
    offers = [] if refusal else offers_for(alert, route, rt)
    alert = alert.model_copy(update={"remediations": offers})
    proposals = new_proposals(alert, offers, channel, rt)
    payload = render_alert(
        alert,
        channel=channel,
        mentions=route.mentions,
        buttons=alert_buttons(alert.id, proposals),
        link_hosts=rt.config.link_hosts,
    )
    if proposals:
        rt.store.put_proposals(proposals)
    rt.store.put_alert(alert, channel=channel, proposal_ids=[p.id for p in proposals])
    ts = rt.slack.post_reply(channel_id, thread_ts, payload)
    rt.store.mark_message_posted(alert.fingerprint, ts, channel_id)
    rt.store.set_alert_message(alert.id, channel_id, ts)
    escalation.schedule(rt, alert, route, channel_id, ts)  # released HIGH alerts escalate too; never raises
    for p in proposals:
        try:
            rt.store.save_proposal(
                p.model_copy(update={"message_ts": ts, "channel": channel_id}), ProposalState.PROPOSED, p.version
            )
        except ConflictError:
            continue  # someone clicked already; keep their state
    rt.count("maintenance_released")
    return "posted"
