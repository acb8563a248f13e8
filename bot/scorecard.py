"""The scorecard: what EventOps received, what it posted, and how fast people acted on it.

``/ops report [7d]`` answers it; the weekly schedule (``handlers/housekeeping.py``, task
``scorecard``) posts it to ``scorecard.channel`` once per ISO week. Its figures:

- **Noise reduction**: events received (``bot.stats`` counters, duplicate deliveries excluded)
  against messages posted for them (new messages, thread replies, storm summaries and lists),
  per severity. ``10 000 events → 140 messages`` is ``71×``.
- **Noisiest**: the five routing rules and the five problems (fingerprints) with most events.
- **Time to acknowledge / remediate**: median and p90, from the audit trail: an Acknowledge's
  or a remediation's record time minus its alert message's Slack ts (the record's message
  reference names it), so no extra read per record.
- **Remediations by outcome**: verified (every success is read back), failed verification (the
  call said OK, the resource did not change), failed, undone, no-op, expired.
- **Health**: dead-letter queue depths and the last housekeeping run.

Cost: one Query per UTC day for the counters and one per day for the audit trail (a week: 16),
two SQS GetQueueAttributes. Nothing on the notify path but ``Tally`` (one write per batch).
"""

from __future__ import annotations

import logging
import re
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.models import AuditEntry, Severity
from bot.redrive import dlq_depths, dlq_summary
from bot.runtime import Runtime
from bot.slack import blocks as bk

log = logging.getLogger("eventops.scorecard")

DEFAULT_DAYS = 7
MAX_DAYS = 30
TOP = 5
# A remediation's terminal outcomes as the audit trail records them (bot.approval.worker).
_REMEDIATION_OUTCOMES = ("SUCCEEDED", "FAILED", "UNDONE", "NOOP", "EXPIRED")
# Housekeeping runs every 5 minutes; older than this, the report says it is late.
HOUSEKEEPING_LATE_S = 15 * 60
_SLACK_REF = re.compile(r"^slack:[^/]+/(\d+\.\d+)$")
_PERMALINK = re.compile(r"/p(\d{10})(\d{6})(?:\?|$)")


@dataclass
class Scorecard:
    """One period's figures (``build``), rendered by ``render``."""

    days: int
    events: dict[str, int] = field(default_factory=dict)  # severity → events received
    messages: dict[str, int] = field(default_factory=dict)  # severity (or STORM) → messages posted
    duplicates: int = 0
    rules: list[tuple[str, int]] = field(default_factory=list)
    problems: list[tuple[str, str, int]] = field(default_factory=list)  # fingerprint, title, events
    ack_s: list[float] = field(default_factory=list)
    remediate_s: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    dlq: dict[str, int | str] = field(default_factory=dict)
    housekeeping_age_s: float | None = None

    @property
    def total_events(self) -> int:
        return sum(self.events.values())

    @property
    def total_messages(self) -> int:
        return sum(self.messages.values())

    @property
    def reduction(self) -> float | None:
        """Events per message posted: the noise-reduction ratio (None when nothing was posted)."""
        return self.total_events / self.total_messages if self.total_messages else None


def parse_days(word: str | None) -> int | None:
    """``7d`` / ``7`` → 7 (1 to ``MAX_DAYS``); None when it is not a period."""
    if word is None:
        return DEFAULT_DAYS
    m = re.fullmatch(r"(\d{1,3})d?", word.strip().lower())
    if not m or not 1 <= int(m.group(1)) <= MAX_DAYS:
        return None
    return int(m.group(1))


def message_time(entry: AuditEntry) -> float | None:
    """When the message an audit record is about was posted: its Slack ts, from the record's
    message reference (``slack:C…/1700000000.000100``) or permalink (``…/p1700000000000100``)."""
    ref = entry.permalink or ""
    m = _SLACK_REF.match(ref)
    if m:
        return float(m.group(1))
    m = _PERMALINK.search(ref)
    return float(f"{m.group(1)}.{m.group(2)}") if m else None


def _outcome_name(entry: AuditEntry) -> str:
    if entry.outcome == "SUCCEEDED":  # bot.remediations.base: a success is one read back and verified
        return "verified"
    if entry.outcome == "FAILED" and (entry.verification or "").startswith("FAILED"):
        return "failed verification"
    return {"FAILED": "failed", "UNDONE": "undone", "NOOP": "no-op", "EXPIRED": "expired"}[entry.outcome]


def _from_audit(card: Scorecard, entries: list[AuditEntry]) -> None:
    for entry in entries:
        posted = message_time(entry)
        waited = entry.at.timestamp() - posted if posted is not None else None
        if entry.action == "alert.acknowledge" and entry.outcome == "ACKNOWLEDGED":
            if waited is not None and waited >= 0:
                card.ack_s.append(waited)
        elif entry.remediation and entry.outcome in _REMEDIATION_OUTCOMES:
            name = _outcome_name(entry)
            card.outcomes[name] = card.outcomes.get(name, 0) + 1
            if entry.outcome == "SUCCEEDED" and waited is not None and waited >= 0:
                card.remediate_s.append(waited)


def build(rt: Runtime, days: int = DEFAULT_DAYS, now: float | None = None) -> Scorecard:
    """The last ``days`` days' figures, read from the store, the audit trail and SQS."""
    now = time.time() if now is None else now
    since = now - days * 86400
    card = Scorecard(days=days)
    counts, titles = rt.store.stats_since(since)
    for name, n in counts.items():
        kind, _, key = name.partition(".")
        if kind == "e":
            card.events[key] = card.events.get(key, 0) + n
        elif kind == "m":
            card.messages[key] = card.messages.get(key, 0) + n
        elif name == "d":
            card.duplicates += n
    card.rules = sorted(((k[2:], n) for k, n in counts.items() if k.startswith("r.")), key=lambda r: -r[1])[:TOP]
    fps = sorted(((k[2:], n) for k, n in counts.items() if k.startswith("f.")), key=lambda r: -r[1])[:TOP]
    card.problems = [(fp, titles.get(fp, fp), n) for fp, n in fps]
    _from_audit(card, rt.store.audit_since(datetime.fromtimestamp(since, UTC)))
    card.dlq = dlq_depths(rt)
    last = rt.store.last_housekeeping_run()
    card.housekeeping_age_s = now - last if last is not None else None
    return card


def _quantiles(values: list[float]) -> str:
    if not values:
        return "none in this period"
    median = statistics.median(values)
    p90 = sorted(values)[max(0, int(round(0.9 * len(values))) - 1)]
    return f"median {duration(median)}, p90 {duration(p90)} ({len(values)})"


def duration(seconds: float) -> str:
    """``42 s``, ``7 min``, ``3 h 5 min``, ``2 d 4 h``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def _ratio(events: int, messages: int) -> str:
    if not messages:
        return "no messages" if events else "—"
    return f"{events / messages:.1f}×"


def noise_lines(card: Scorecard) -> list[str]:
    """``HIGH: 120 events → 8 messages (15.0×)`` per severity, most severe first."""
    lines = []
    for sev in Severity:
        events, messages = card.events.get(sev.value, 0), card.messages.get(sev.value, 0)
        if events or messages:
            lines.append(f"{sev.value}: {events} events → {messages} messages ({_ratio(events, messages)})")
    storm = card.messages.get("STORM", 0)
    if storm:
        lines.append(f"Storm summaries and their lists: {storm} messages")
    return lines


def _health_line(card: Scorecard, slash: str) -> str:
    hk = card.housekeeping_age_s
    if hk is None:
        upkeep = "housekeeping has not run"
    else:
        upkeep = f"housekeeping ran {duration(hk)} ago" + (" — :warning: late" if hk > HOUSEKEEPING_LATE_S else "")
    return f"Dead-letter queues: {dlq_summary(card.dlq, slash)}; {upkeep}"


def render(card: Scorecard, slash: str = "/ops") -> dict[str, Any]:
    """The scorecard as a Slack message (``text`` + ``blocks``), within Block Kit's limits."""
    ratio = card.reduction
    headline = (
        f"{card.total_events} events → {card.total_messages} messages: {ratio:.1f}× less noise"
        if ratio is not None
        else f"{card.total_events} events, no messages posted"
    )
    title = f"EventOps scorecard, last {card.days} day" + ("" if card.days == 1 else "s")
    outcomes = ", ".join(f"{n} {name}" for name, n in sorted(card.outcomes.items(), key=lambda o: -o[1])) or "none"
    sections = [
        ("Noise reduction", [headline, *noise_lines(card), f"Duplicate deliveries dropped: {card.duplicates}"]),
        ("Noisiest rules", [f"{name}: {n} events" for name, n in card.rules] or ["none"]),
        ("Noisiest problems", [f"{title}: {n} events" for _fp, title, n in card.problems] or ["none"]),
        (
            "Response",
            [f"Time to acknowledge: {_quantiles(card.ack_s)}", f"Time to remediate: {_quantiles(card.remediate_s)}"],
        ),
        ("Remediations", [outcomes]),
        ("Health", [_health_line(card, slash)]),
    ]
    blocks: list[dict[str, Any]] = [bk.header(title)]
    for name, lines in sections:
        body = "\n".join(f"• {bk.escape(line)}" for line in lines)
        blocks.append(bk.section(f"*{name}*\n{body}"))
    return {"text": f"{title}: {headline}", "blocks": bk.fit(blocks)}


def iso_week(now: float) -> str:
    year, week, _ = datetime.fromtimestamp(now, UTC).isocalendar()
    return f"{year}-W{week:02d}"


def post_weekly(rt: Runtime, now: float | None = None) -> int:
    """The weekly post to ``scorecard.channel``: at most once per ISO week (a conditional
    write claims the week first). Returns 1 when posted, 0 when not configured or done."""
    cfg = rt.config.scorecard
    if not cfg.channel:
        return 0
    now = time.time() if now is None else now
    week = iso_week(now)
    if not rt.store.claim_scorecard(week):
        log.info("scorecard for %s already posted", week)
        return 0
    try:
        card = build(rt, cfg.days, now)
        rt.slack.post_message({"channel": cfg.channel, **render(card, rt.config.slash_command or "/ops")})
    except Exception:
        rt.store.release_scorecard(week)  # the schedule's retry (or next run) posts it
        raise
    log.info("scorecard for %s posted to %s", week, cfg.channel)
    return 1
