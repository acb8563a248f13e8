"""``/ops status``: open alerts by severity and channel, remediations in flight, snoozes, kill switch,
and the event-to-Slack delivery latency."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.approval.states import TERMINAL
from bot.commands.base import Invocation, Reply, command
from bot.commands.output import code, esc
from bot.errors import NotFoundError
from bot.latency import LatencySummary
from bot.models import Alert, ProposalState, Severity
from bot.redrive import dlq_depths, dlq_summary
from bot.runtime import Runtime
from bot.slack import blocks as bk

RECENT_ALERTS = 200
LATENCY_WINDOW_S = 3600
# Channel lookups are one read per open problem; past this many, count them as "other".
CHANNEL_LOOKUPS = 30


def open_problems(alerts: list[Alert], closed: Callable[[Alert], bool] | None = None) -> list[Alert]:
    """The newest alert per fingerprint, kept when it is still active (newest first in, out)
    and not ``closed`` (dismissed, or fixed by a remediation)."""
    seen: set[str] = set()
    out = []
    for alert in sorted(alerts, key=lambda a: a.time, reverse=True):
        if alert.fingerprint in seen:
            continue
        seen.add(alert.fingerprint)
        if alert.active and not (closed and closed(alert)):
            out.append(alert)
    return out


def _dismissed(store: Any, alert_id: str) -> bool:
    # The Dismiss button records who dismissed an alert first (bot.approval.clicks).
    return store.dismissed_by(alert_id) is not None


class _Closed:
    """Whether a problem is over although its source has not said so: its message (owned by the
    fingerprint's first alert) was dismissed, or a remediation on it SUCCEEDED after its newest event."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.fixed_at: dict[str, datetime] = {}
        for p in store.proposals_in({ProposalState.SUCCEEDED}):
            at = p.updated_at or p.created_at
            if p.alert_id not in self.fixed_at or at > self.fixed_at[p.alert_id]:
                self.fixed_at[p.alert_id] = at
        self.dismissed_ids: set[str] = set()

    def owner_ids(self, alert: Alert) -> set[str]:
        rec = self.store.get_message(alert.fingerprint)
        return {alert.id} | ({rec.owner_id} if rec is not None and rec.owner_id else set())

    def __call__(self, alert: Alert) -> bool:
        ids = self.owner_ids(alert)
        if any(_dismissed(self.store, i) for i in ids):
            self.dismissed_ids |= ids
            return True
        return any(i in self.fixed_at and self.fixed_at[i] >= alert.time for i in ids)

    def proposal_closed(self, alert_id: str) -> bool:
        """A proposal on a dismissed or fixed alert waits for nobody."""
        return alert_id in self.dismissed_ids or alert_id in self.fixed_at or _dismissed(self.store, alert_id)


def _channels(store: Any, alerts: list[Alert]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for alert in alerts[:CHANNEL_LOOKUPS]:
        try:
            channel = store.get_alert(alert.id).channel
        except NotFoundError:
            channel = None
        counts[channel or "(not posted)"] += 1
    if len(alerts) > CHANNEL_LOOKUPS:
        counts["(not looked up)"] += len(alerts) - CHANNEL_LOOKUPS
    return counts


def dead_letter_line(rt: Runtime, slash: str) -> str:
    """``*Dead-letter queues:* 3 alerts in the dead-letter queue — `/ops redrive alerts`; jobs empty``."""
    return f"*Dead-letter queues:* {esc(dlq_summary(dlq_depths(rt), slash))}"


def _channel_label(channel: str) -> str:
    if channel.startswith(("C", "G")) and channel[1:].isalnum() and channel.isupper():
        return f"<#{channel}>"
    return esc(channel)


def _duration(ms: float) -> str:
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f} s" if ms < 10_000 else f"{ms / 1000:.0f} s"


def latency_line(rt: Runtime) -> str:
    """The p95 of event-to-Slack delivery over the last hour (``bot.latency``), against the
    alarm's bound when the deployment sets one (``EVENTOPS_LATENCY_ALARM_SECONDS``)."""
    summary: LatencySummary | None = rt.store.delivery_latency(LATENCY_WINDOW_S)
    if summary is None:
        return "*Delivery latency:* no alerts posted in the last hour"
    line = f"*Delivery latency:* p95 {_duration(summary.p95_ms)} over the last hour ({summary.count} posted)"
    bound = rt.settings.latency_alarm_seconds
    if bound is None:
        return line
    over = summary.p95_ms > bound * 1000
    return f"{line}, bound {bound:g} s" + (" — :warning: over" if over else "")


@command("status", deferred=True)
def status(inv: Invocation) -> Reply:
    """status
    Open alerts by severity and channel, remediations running or waiting, active snoozes, the kill switch.
    """
    rt = inv.rt
    store = rt.store
    closed = _Closed(store)
    problems = open_problems(store.recent_alerts(RECENT_ALERTS), closed)
    by_sev = Counter(a.severity for a in problems)
    sev_line = "  ".join(f"{s.emoji} {s.value.title()} *{by_sev[s]}*" for s in Severity if by_sev[s]) or "none"
    by_channel = _channels(store, problems)
    chan_line = ", ".join(f"{_channel_label(c)} {n}" for c, n in by_channel.most_common(10)) or "—"
    running = store.proposals_in({ProposalState.RUNNING})
    waiting = [
        p
        for p in store.proposals_in({ProposalState.PROPOSED, ProposalState.APPROVED})
        if p.state not in TERMINAL and not closed.proposal_closed(p.alert_id)
    ]
    snoozes = store.snoozes()
    kill = rt.kill_switch_on()
    lines = [
        f"*Open alerts* ({len(problems)} problems in the last {RECENT_ALERTS} alerts): {sev_line}",
        f"*By channel:* {chan_line}",
        f"*Remediations:* {len(running)} running, {len(waiting)} waiting for a click or an approval",
    ]
    lines += [f"      :gear: {code(p.remediation)} {code(p.id)} in {esc(p.account or '-')}" for p in running[:10]]
    lines.append(f"*Snoozes:* {len(snoozes)} active" + (f" — `{inv.slash} snoozes` lists them" if snoozes else ""))
    lines.append(
        "*Kill switch:* :octagonal_sign: ON — remediations are notify-only"
        if kill
        else "*Kill switch:* off — remediations can run"
    )
    lines.append(latency_line(rt))
    lines.append(dead_letter_line(rt, inv.slash))
    text = "\n".join(lines)
    return Reply(
        text=f"EventOps status: {len(problems)} open problems", blocks=[bk.header("EventOps status"), bk.section(text)]
    )
