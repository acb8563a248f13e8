"""``/ops explain <alert id | message link>`` and the "Explain with EventOps" message shortcut.

Why an alert went where it went, read back from what the notify side recorded when it decided
(``bot.decisions.Decisions``, stored with the alert) and what happened since (its message's
count, acknowledgement, dismissal, snooze and audit trail): a read, never a re-computation.
DynamoDB only, so it is answered inside the ack.

A message link is a Slack permalink, ``https://<team>.slack.com/archives/C123/p1712345678123456``
(``?thread_ts=…`` allowed): channel ``C123``, ts ``1712345678.123456``, looked up with
``Store.alert_for_message``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from bot.approval.authz import in_org
from bot.commands.base import Invocation, Reply, command
from bot.commands.output import code, esc
from bot.decisions import Decisions
from bot.errors import CommandError, NotFoundError
from bot.messages import storm_snooze_target
from bot.models import Actor, Alert
from bot.runtime import Runtime
from bot.slack import blocks as bk
from bot.store.table import StoredAlert

log = logging.getLogger("eventops.commands.explain")
_PERMALINK = re.compile(
    r"^<?https://[A-Za-z0-9.-]+/archives/([A-Z0-9]{2,30})/p(\d{10})(\d{6})(?:[?#][^\s|>]*)?(?:\|[^>]*)?>?$"
)
_ALERT_ID = re.compile(r"^[A-Za-z0-9_.:@+=/-]{1,200}$")
_AUDIT_SHOWN = 5
_OUTCOME_TITLES = {
    "posted": "Posted as its own message",
    "grouped": "Grouped as a repeat into an existing message",
    "threaded": "Replied in the thread of its resource's message",
    "storm": "Part of a storm: listed in the storm summary's thread",
    "snoozed": "Held: a snooze covered it",
    "held": "Held by a maintenance window",
}


def parse_link(word: str) -> tuple[str, str] | None:
    """A Slack message permalink → (channel id, message ts), else None.

    >>> parse_link("https://acme.slack.com/archives/C0ALERTS/p1712345678123456")
    ('C0ALERTS', '1712345678.123456')
    >>> parse_link("<https://acme.slack.com/archives/C1/p1712345678123456?thread_ts=1.2&cid=C1>")
    ('C1', '1712345678.123456')
    """
    m = _PERMALINK.match(word.strip())
    return (m.group(1), f"{m.group(2)}.{m.group(3)}") if m else None


@command("explain", min_args=1)  # DynamoDB only: answered inside the ack
def explain(inv: Invocation) -> Reply:
    """explain <alert id | message link>
    Why an alert went to its channel: the rule that matched, grouping, the remediations offered and refused.
    """
    if len(inv.args) > 1:
        raise inv.usage_error(f"Unexpected `{esc(' '.join(inv.args[1:]))}`.")
    word = inv.args[0]
    link = parse_link(word)
    if link is not None:
        alert_id = inv.rt.store.alert_for_message(*link)
        if alert_id is None:
            raise CommandError(f"That message (channel {code(link[0])}, ts {code(link[1])}) is not an EventOps alert.")
    elif "://" in word or word.startswith("<http"):
        raise inv.usage_error("That link is not a Slack message link (…/archives/<channel>/p<ts>).")
    elif not _ALERT_ID.match(word):
        raise inv.usage_error(f"`{esc(word[:60])}` is not an alert id.")
    else:
        alert_id = word
    return explain_alert(inv.rt, alert_id)


def answer_shortcut(rt: Runtime, actor: Actor, channel: str, ts: str) -> Reply:
    """The "Explain with EventOps" shortcut's ephemeral answer; never raises (one clear line
    for a message that is not an alert, an outsider, or a store failure)."""
    verdict = in_org(rt.config.policy, actor)
    if not verdict:
        return Reply(f":no_entry: EventOps does not explain alerts to you: {esc(verdict.reason)}")
    if not channel or not ts:
        return Reply(":warning: Slack sent this shortcut without its message; nothing to explain.")
    try:
        return explain_message(rt, channel, ts)
    except CommandError as exc:
        return Reply(str(exc))
    except Exception:
        log.exception("explaining message %s in %s failed", ts, channel)
        return Reply(":warning: Explaining that message failed; the details are in the bot's log.")


def explain_message(rt: Runtime, channel: str, ts: str) -> Reply:
    """The shortcut's answer for the message ``ts`` in ``channel``: its alert explained, or why not."""
    alert_id = rt.store.alert_for_message(channel, ts)
    if alert_id is None:
        return Reply(":information_source: This message is not an EventOps alert, so there is nothing to explain.")
    return explain_alert(rt, alert_id)


def explain_alert(rt: Runtime, alert_id: str) -> Reply:
    """The explanation of one stored alert (CommandError when the store does not know it)."""
    try:
        stored = rt.store.get_alert(alert_id)
    except NotFoundError:
        raise CommandError(f"No alert {code(alert_id[:80])} is known to EventOps (alerts are kept 30 days).") from None
    alert, d = stored.alert, stored.decisions
    sections = [_about(stored)]
    if d is None:
        sections.append("*Decisions*\nNone were recorded for this alert (it was stored before EventOps kept them).")
    else:
        sections += [_routing(d), _delivery(rt, alert, d), _remediations(rt, alert, d)]
    sections.append(_since(rt, alert, d))
    blocks = [bk.header(f"Why: {alert.title}")] + [bk.section(s) for s in sections if s]
    fallback = "\n".join(s for s in sections if s)
    return Reply(text=fallback, blocks=bk.fit(blocks))


def _where(channel: str | None) -> str:
    if not channel:
        return "-"
    return f"<#{channel}>" if channel[:1] in "CG" and channel[1:].isalnum() else esc(channel)


def _about(stored: StoredAlert) -> str:
    a = stored.alert
    acct = f"{esc(a.account_alias)} ({a.account})" if a.account_alias else esc(a.account or "-")
    line = (
        f"*Alert* {code(a.id)} · *{a.severity.value}* · {esc(a.source)} / {esc(a.detail_type)} · {acct} {esc(a.region)}"
    )
    if stored.ts:
        line += f"\nIts message: {_where(stored.channel)} ts {code(stored.ts)}"
    return line


def _routing(d: Decisions) -> str:
    lines = ["*Routing*"]
    for check in d.trace.checks:
        if check.matched:
            continue
        lines.append(f"✗ rule '{esc(check.name)}' ({check.index}): {esc(check.reason)}")
    if d.trace.more:
        lines.append(f"… {d.trace.more} more rules tried (not recorded)")
    matched = next((c for c in d.trace.checks if c.matched), None)
    if matched is not None:
        lines.append(f"✓ rule '{esc(matched.name)}' ({matched.index}) matched → {esc(d.channel)}, mode *{d.mode}*")
    else:
        lines.append(f"✓ no rule matched: the default route → {esc(d.channel)}, mode *{d.mode}*")
    if d.trace.channel_reason:
        lines.append(f"Channel: {esc(d.trace.channel_reason)}")
    if d.mentions:
        lines.append("Mentioned: " + ", ".join(f"<@{m}>" if m[:1] in "UW" else esc(m) for m in d.mentions))
    return "\n".join(lines)


def _delivery(rt: Runtime, alert: Alert, d: Decisions) -> str:
    title = _OUTCOME_TITLES.get(d.outcome, d.outcome or "unknown")
    lines = ["*Delivery*", f"{title}: {esc(d.reason)}" if d.reason else title]
    lines.append(f"Decided {d.at.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S UTC')}")
    if d.correlation:
        lines.append(f"Correlated by {esc(d.correlation)}")
    rec = rt.store.get_message(alert.fingerprint)
    if rec is not None and (rec.owner_id == alert.id or d.outcome == "grouped"):
        seen = datetime.fromtimestamp(rec.last_seen, UTC).strftime("%Y-%m-%d %H:%M UTC")
        repeats = max(0, rec.count - 1)
        counted = f"{repeats} repeat{'' if repeats == 1 else 's'} grouped into it" if repeats else "no repeats so far"
        lines.append(
            f"This problem's message counts {rec.count} event{'' if rec.count == 1 else 's'}: {counted}, last seen {seen}"
            + ("" if rec.owner_id == alert.id else f" (its first alert: {code(rec.owner_id)})")
        )
    return "\n".join(lines)


def _remediations(rt: Runtime, alert: Alert, d: Decisions) -> str:
    lines = ["*Remediations*"]
    if d.outcome != "posted":
        lines.append("None offered: only an alert posted as its own message carries buttons.")
    if d.offered:
        states = {p.remediation: p.state.value for p in rt.store.alert_message_state(alert.id)[0]}
        shown = [f"{code(n)}" + (f" ({states[n]})" if n in states else "") for n in d.offered]
        lines.append("Offered: " + ", ".join(shown))
    elif d.outcome == "posted":
        lines.append("Offered: none")
    if d.refused:
        lines.append("Not offered:")
        lines += [f"• {code(r.remediation)}: {esc(r.reason)}" for r in d.refused]
    if d.refused_more:
        lines.append(f"… and {d.refused_more} more")
    return "\n".join(lines)


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _snooze_targets(alert: Alert, d: Decisions | None) -> list[tuple[str, str]]:
    """The snoozes that hold this alert's problem now (``bot.pipeline``'s lookup, and a storm's)."""
    out = [(alert.fingerprint, "This problem")]
    if d is not None:
        out += [(f"rule:{d.rule}", f"Rule '{esc(d.rule)}'"), (f"channel:{d.channel}", f"Channel {esc(d.channel)}")]
        if d.outcome == "storm":
            out.append(
                (storm_snooze_target(d.channel), f"The storm in {esc(d.channel)} (its alerts are held, not listed)")
            )
    return out


def _since(rt: Runtime, alert: Alert, d: Decisions | None) -> str:
    store, lines = rt.store, []
    acked, dismissed = store.acked_by(alert.id), store.dismissed_by(alert.id)
    if acked:
        lines.append(f"Acknowledged by <@{acked.user_id}>")
    if dismissed:
        lines.append(f"Dismissed by <@{dismissed.user_id}>")
    for target, what in _snooze_targets(alert, d):
        until = store.snoozed_until(target)
        if until:
            lines.append(f"{what} is snoozed until {_when(until)}")
    for e in store.audit_for_alert(alert.id, limit=_AUDIT_SHOWN):
        what = e.remediation or e.action
        lines.append(f"{e.at.strftime('%Y-%m-%d %H:%M')} {esc(what)} → {esc(e.outcome)} by <@{e.actor.user_id}>")
    return "*Since then*\n" + ("\n".join(lines) if lines else "Nobody has acted on it.")
