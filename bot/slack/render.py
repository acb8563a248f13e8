"""Alerts and outcomes → Slack message payloads. Pure functions, no I/O.

Every string that came from an AWS event is escaped here; every payload goes through
``blocks.fit()``, so what these functions return always passes Slack's validation.

Example::

    payload = render_alert(alert, channel="C0123", mentions=["S0SECOPS"],
                           buttons=[Button.ack(alert.id), Button.dismiss(alert.id)])
    ts = poster.post_message(payload)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.models import Alert, Severity, resource_kind
from bot.slack import blocks as bk

log = logging.getLogger("eventops.slack")

METADATA_EVENT_TYPE = "eventops_alert"

# action_id convention; a button's value is only ever an opaque id (proposal id or alert id).
ACTION_PREFIX = "eventops:"
ACTION_REMEDIATE = "eventops:remediate:"  # + remediation name, value = proposal id
ACTION_ACK = "eventops:ack"
ACTION_SNOOZE = "eventops:snooze:"  # + one of SNOOZE_CHOICES (buttons of messages posted before the menu)
ACTION_SNOOZE_MENU = "eventops:snooze"  # the menu; each option's value is "<duration> <alert id>"
ACTION_DISMISS = "eventops:dismiss"
ACTION_UNDO = "eventops:undo"
ACTION_APPROVE = "eventops:approve"
ACTION_APPROVE_UNDO = "eventops:approve-undo"  # value = proposal id
SNOOZE_CHOICES = ("1h", "4h", "24h")
SNOOZE_CUSTOM = "custom"  # the Snooze… menu's last option: a form for any duration within policy
ACTION_STORM_ACK = "eventops:storm-ack"  # value = the storm's id, "<bucket> <channel>"
ACTION_STORM_SNOOZE = "eventops:storm-snooze"  # option value = "<duration> <storm id>"

# Mention ids come from OUR config, never from event text; anything else is dropped.
_USER_GROUP_RE = re.compile(r"^S[A-Z0-9]{2,20}$")
_USER_RE = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_SPECIAL_MENTIONS = {"!here": "<!here>", "!channel": "<!channel>"}


@dataclass(frozen=True)
class ConfirmSpec:
    """The confirmation dialog a button opens. ``text`` is usually the remediation's plan.

    Example::

        ConfirmSpec(title="Stop instance?", text="Would stop i-0abc in eu-west-1", confirm="Stop",
                    style="danger")
    """

    title: str
    text: str
    confirm: str = "Confirm"
    deny: str = "Cancel"
    style: str | None = None

    def to_block(self) -> dict[str, Any]:
        return bk.confirm_dialog(
            bk.escape(self.title),
            bk.escape(self.text),
            confirm=bk.escape(self.confirm),
            deny=bk.escape(self.deny),
            style=self.style,
        )


@dataclass(frozen=True)
class Button:
    """One button on an alert message.

    Example::

        Button("Stop i-0abc", "eventops:remediate:ec2.stop-instance", "p-123", style="danger",
               confirm=ConfirmSpec("Stop instance?", "Would stop i-0abc in eu-west-1"))
        Button.snooze("a-1", "4h")
    """

    text: str
    action_id: str
    value: str
    style: str | None = None
    confirm: ConfirmSpec | None = None

    def to_block(self) -> dict[str, Any]:
        return bk.button(
            bk.escape(self.text),
            self.action_id,
            self.value,
            self.style,
            self.confirm.to_block() if self.confirm else None,
        )

    @classmethod
    def remediate(
        cls,
        remediation: str,
        proposal_id: str,
        text: str,
        *,
        confirm: ConfirmSpec | None = None,
        style: str | None = None,
    ) -> Button:
        return cls(text, ACTION_REMEDIATE + remediation, proposal_id, style, confirm)

    @classmethod
    def ack(cls, alert_id: str) -> Button:
        return cls("Acknowledge", ACTION_ACK, alert_id)

    @classmethod
    def snooze(cls, alert_id: str, duration: str = "1h") -> Button:
        if duration not in SNOOZE_CHOICES:
            raise ValueError(f"snooze duration must be one of {SNOOZE_CHOICES}")
        return cls(f"Snooze {duration}", ACTION_SNOOZE + duration, alert_id)

    @classmethod
    def dismiss(cls, alert_id: str) -> Button:
        return cls("Dismiss", ACTION_DISMISS, alert_id)

    @classmethod
    def undo(cls, proposal_id: str, confirm: ConfirmSpec | None = None) -> Button:
        return cls("Undo", ACTION_UNDO, proposal_id, "danger" if confirm else None, confirm)

    @classmethod
    def approve_undo(cls, proposal_id: str, confirm: ConfirmSpec | None = None) -> Button:
        return cls("Approve undo", ACTION_APPROVE_UNDO, proposal_id, "primary", confirm)

    @classmethod
    def approve(cls, proposal_id: str) -> Button:
        return cls("Approve", ACTION_APPROVE, proposal_id, "primary")


@dataclass(frozen=True)
class Menu:
    """A select menu on an alert message: one element for choices that would be several buttons.

    Example::

        Menu.snooze("a-1")   # "Snooze…" with 1 hour / 4 hours / 24 hours
    """

    placeholder: str
    action_id: str
    options: tuple[tuple[str, str], ...]

    def to_block(self) -> dict[str, Any]:
        return bk.static_select(bk.escape(self.placeholder), self.action_id, self.options)

    @classmethod
    def snooze(cls, alert_id: str) -> Menu:
        """The presets, then "Custom…" (a modal asks how long and why)."""
        options = tuple((f"Snooze {_SPOKEN[d]}", f"{d} {alert_id}") for d in SNOOZE_CHOICES)
        return cls("Snooze…", ACTION_SNOOZE_MENU, (*options, ("Custom…", f"{SNOOZE_CUSTOM} {alert_id}")))

    @classmethod
    def snooze_storm(cls, storm: str) -> Menu:
        options = tuple((f"Snooze all {_SPOKEN[d]}", f"{d} {storm}") for d in SNOOZE_CHOICES)
        return cls("Snooze all…", ACTION_STORM_SNOOZE, options)


_SPOKEN = {"1h": "1 hour", "4h": "4 hours", "24h": "24 hours"}


Element = Button | Menu


def format_mentions(ids: Iterable[str]) -> str:
    """Slack mention syntax for configured ids: ``S…`` → ``<!subteam^S…>``, ``U…`` → ``<@U…>``.

    >>> format_mentions(["S0SEC", "U0BOB", "<!channel>"])
    '<!subteam^S0SEC> <@U0BOB>'
    """
    out: list[str] = []
    for raw in ids:
        mention_id = str(raw).strip()
        if _USER_GROUP_RE.match(mention_id):
            out.append(f"<!subteam^{mention_id}>")
        elif _USER_RE.match(mention_id):
            out.append(f"<@{mention_id}>")
        elif mention_id in _SPECIAL_MENTIONS:
            out.append(_SPECIAL_MENTIONS[mention_id])
        else:
            log.warning("ignoring mention %r: not a Slack user or user-group id", mention_id[:40])
    return " ".join(dict.fromkeys(out))


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _fmt_time(dt: datetime) -> str:
    return bk.date_token(_utc(dt))


_fmt_clock = _fmt_time  # one time format everywhere (bk.date_token)


def _severity_label(sev: Severity) -> str:
    return f"{sev.emoji} {sev.value}"


def _account_label(alert: Alert) -> str:
    if alert.account_alias and alert.account:
        return f"{bk.escape(alert.account_alias)} ({bk.escape(alert.account)})"
    return bk.escape(alert.account_alias or alert.account)


_ISO_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:?\d\d)?$")
_EPOCH_MS_RE = re.compile(r"1\d{12}")
_TIME_WORDS = ("time", "date", "deadline", "updated", "created", "seen", "start", "end", "expir")


def field_value(key: str, value: str) -> str:
    """A field's value for display: an ISO time, or epoch milliseconds under a time-like label
    (Trusted Advisor's "Deadline 1440453299248"), becomes the one date format; the rest is escaped.

    >>> field_value("Deadline", "1440453299248")
    '<!date^1440453299^{date_short_pretty} {time}|2015-08-24 21:54 UTC>'
    >>> field_value("Last seen", "2024-05-01T10:42:07.123456Z")
    '<!date^1714560127^{date_short_pretty} {time}|2024-05-01 10:42 UTC>'
    >>> field_value("Count", "1440453299248")
    '1440453299248'
    """
    text = value.strip()
    when: datetime | None = None
    if _ISO_TIME_RE.match(text):
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            when = None
    elif _EPOCH_MS_RE.fullmatch(text) and any(w in key.lower() for w in _TIME_WORDS):
        when = datetime.fromtimestamp(int(text) / 1000, UTC)
    return bk.date_token(when) if when is not None else bk.escape(value)


def _resource_label(alert: Alert) -> str:
    res = alert.primary_resource
    if res is None:
        return ""
    kind = resource_kind(res.type)
    parts = [f"{bk.escape(kind)} {bk.escape(res.id)}" if kind else bk.escape(res.id)]
    name = res.name or res.tags.get("Name")
    if name and name != res.id:
        parts.append(f"({bk.escape(name)})")
    more = len(alert.resources) - 1
    if more > 0:
        parts.append(f"+{more} more")
    return " ".join(parts)


def _metadata(alert: Alert) -> dict[str, Any]:
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {
            "alert_id": alert.id,
            "fingerprint": alert.fingerprint,
            "severity": alert.severity.value,
            "source_kind": alert.source_kind,
            "account": alert.account,
            "region": alert.region,
        },
    }


def _fallback(*parts: str) -> str:
    return bk.truncate(" ".join(p for p in parts if p), bk.MAX_FALLBACK_TEXT)


def render_alert(
    alert: Alert,
    *,
    channel: str,
    mentions: Sequence[str] = (),
    buttons: Sequence[Button | Menu] = (),
    count: int = 1,
    first_seen: datetime | None = None,
    last_seen: datetime | None = None,
    status: str | None = None,
    link_hosts: Sequence[str] = (),
    related: int = 0,
) -> dict[str, Any]:
    """The chat.postMessage (or chat.update) payload for one alert; ``related``: how many
    related alerts (same resource, or a correlation rule's group) are in its thread.

    Links go only to ``*.aws.amazon.com`` and the configured ``link_hosts``; any other is shown
    as its label alone.

    ``status`` is shown escaped (e.g. "⏳ Stopping i-0abc — requested by alice"); ``mentions``
    are configured user / user-group ids, everything else on the alert is treated as untrusted.

    Example::

        render_alert(alert, channel="C0123", count=14, last_seen=now, buttons=[Button.ack(alert.id)])
        # → {"channel": "C0123", "text": "...", "blocks": [...], "metadata": {...}}
    """
    title = bk.escape(alert.title) or bk.escape(alert.detail_type) or "Alert"
    mention_text = format_mentions(mentions)
    out: list[dict[str, Any]] = [bk.header(f"{alert.severity.emoji} {title}")]

    top = "\n".join(p for p in (mention_text, bk.escape(alert.summary)) if p)
    if top:
        out.append(bk.section(top))
    if alert.time_is_receipt:
        out.append(
            bk.context(
                ":hourglass: The event's own time was missing or unreadable: the time shown is when EventOps received it."
            )
        )
    if alert.advice and alert.active:
        out.append(bk.section(f":bulb: *What to do:* {bk.escape(alert.advice)}"))
    if not alert.active:
        out.append(bk.context(":white_check_mark: Resolved — the source reports this is over."))
    if status:
        out.append(bk.section(bk.escape_keeping_dates(status)))

    cells: list[tuple[str, str]] = [
        ("Severity", _severity_label(alert.severity)),
        ("Account", _account_label(alert)),
        ("Region", bk.escape(alert.region)),
        ("Resource", _resource_label(alert)),
        ("Received" if alert.time_is_receipt else "Time", _fmt_time(alert.time)),
    ]
    shown = {label.lower() for label, _ in cells}
    cells += [(bk.escape(k), field_value(k, v)) for k, v in alert.fields.items() if k.strip().lower() not in shown]
    out.extend(bk.fields(cells))

    if count > 1:
        seen = f"seen {count} times"
        if first_seen:
            seen += f", first {_fmt_clock(first_seen)}"
        seen += f", last {_fmt_clock(last_seen or alert.time)}"
        out.append(bk.context(seen))
    if related > 0:
        out.append(bk.context(f":thread: {related} related alert{'' if related == 1 else 's'} in the thread"))
    links = [bk.link(lk.url, lk.label, allowed_hosts=link_hosts) for lk in alert.links]
    if links:
        out.append(bk.context(" · ".join(links)))
    if alert.parse_error:
        out.append(bk.context(f":warning: Could not fully read this event: {bk.escape(alert.parse_error)}"))
    if buttons:
        out.append(bk.actions([b.to_block() for b in buttons]))

    where = " ".join(p for p in (bk.escape(alert.account_alias or alert.account), bk.escape(alert.region)) if p)
    text = _fallback(
        mention_text, f"{alert.severity.emoji} [{alert.severity.value}] {title}", f"— {where}" if where else ""
    )
    return {"channel": channel, "text": text, "blocks": bk.fit(out, owned=True), "metadata": _metadata(alert)}


def render_thread_reply(alert: Alert) -> dict[str, Any]:
    """A compact reply for a related event, posted in the first message's thread.

    Example::

        poster.post_reply(channel, first_ts, render_thread_reply(alert))
    """
    title = bk.escape(alert.title) or bk.escape(alert.detail_type) or "Alert"
    line = f"{alert.severity.emoji} *{title}*"
    if alert.summary:
        line += "\n" + bk.escape(alert.summary)
    ctx = [_fmt_time(alert.time)]
    res = _resource_label(alert)
    if res:
        ctx.append(res)
    if not alert.active:
        ctx.append(":white_check_mark: resolved")
    out = [bk.section(line), bk.context(" · ".join(ctx))]
    return {
        "text": _fallback(f"{alert.severity.emoji} [{alert.severity.value}] {title}"),
        "blocks": bk.fit(out, owned=True),
        "metadata": _metadata(alert),
    }


def render_storm_summary(
    channel: str,
    counts_by_severity: Mapping[Severity | str, int],
    total: int,
    window_start: datetime,
    sample_titles: Sequence[str],
    *,
    storm: str | None = None,
    held: int = 0,
    acked_by: str | None = None,
    snoozed_until: float | None = None,
) -> dict[str, Any]:
    """One message standing for a burst of alerts; the individual alerts go in its thread.

    It says what is held back (no message and no buttons per alert; while snoozed, not even a
    thread line) and, given the ``storm`` id, offers Acknowledge all and Snooze all….

    Example::

        render_storm_summary("C0123", {Severity.HIGH: 40, Severity.LOW: 460}, 500, start, titles[:5],
                             storm="2890 C0123")
    """
    counts: dict[Severity, int] = {}
    for key, n in counts_by_severity.items():
        try:
            counts[Severity(key)] = counts.get(Severity(key), 0) + int(n)
        except ValueError:
            continue
    ordered = sorted(counts.items(), key=lambda kv: -kv[0].rank)
    head = f":rotating_light: Alert storm: {total} alerts"  # a header is plain text: the time goes below
    out: list[dict[str, Any]] = [bk.header(head)]
    out.extend(bk.fields([(_severity_label(sev), str(n)) for sev, n in ordered if n]))
    samples = [f"• {bk.escape(t)}" for t in sample_titles[:10] if t]
    if samples:
        out.append(bk.section("*Examples*\n" + "\n".join(samples)))
    held_back = (
        "Held back: a message and buttons per alert. To act on one, `/ops alert` with the id "
        "that ends its line; new problems post on their own again once the storm passes."
    )
    out.append(bk.context(f"Since {_fmt_clock(window_start)}. Alerts are listed in this thread. {held_back}"))
    status = []
    if acked_by:
        status.append(f"👀 Acknowledged by {bk.escape(acked_by)}")
    if snoozed_until is not None:
        status.append(f"😴 Snoozed until {_fmt_clock(datetime.fromtimestamp(snoozed_until, UTC))}")
    if held:
        status.append(f"{held} counted while snoozed, not listed")
    if status:
        out.append(bk.context(" · ".join(status)))
    if storm:
        elements: list[Element] = []
        if not acked_by:
            elements.append(Button("Acknowledge all", ACTION_STORM_ACK, storm))
        if snoozed_until is None:
            elements.append(Menu.snooze_storm(storm))
        if elements:
            out.append(bk.actions([e.to_block() for e in elements]))
    summary = ", ".join(f"{n} {sev.value}" for sev, n in ordered if n)
    return {
        "channel": channel,
        "text": _fallback(f"Alert storm: {total} alerts since {_utc(window_start):%H:%M} UTC", f"({summary})"),
        "blocks": bk.fit(out, owned=True),
        "metadata": {
            "event_type": "eventops_storm",
            "event_payload": {"total": total, "window_start": _utc(window_start).isoformat()},
        },
    }


def render_outcome_reply(title: str, lines: Sequence[str]) -> dict[str, Any]:
    """A thread reply telling what a remediation did; title and lines are shown escaped.

    Example::

        render_outcome_reply("✅ Stopped i-0abc — verified", ["State: stopped", "Undo until 11:42 UTC"])
    """
    safe_title = bk.escape_keeping_dates(title) or "Outcome"
    body = "\n".join(f"• {bk.escape_keeping_dates(line)}" for line in lines if line)
    out = [bk.section(f"*{safe_title}*" + (f"\n{body}" if body else ""))]
    return {"text": _fallback(safe_title), "blocks": bk.fit(out, owned=True)}


def render_ephemeral(text: str) -> dict[str, Any]:
    """An ephemeral (only-you-can-see) reply, e.g. a denial reason; ``text`` is escaped.

    Example::

        poster.post_ephemeral(channel, user, render_ephemeral("You may not approve your own request."))
    """
    safe = bk.escape_keeping_dates(text) or " "
    return {"text": _fallback(safe), "blocks": bk.fit([bk.section(safe)], owned=True)}
