"""``/ops snooze``, ``/ops snoozes``, ``/ops unsnooze``: silence a problem or a routing rule for a while.

Snooze targets in the store: an alert's **fingerprint** (snoozing an alert id snoozes its
problem, so repeats stay quiet), or ``rule:<name>`` for a whole routing rule.

``snooze`` and ``unsnooze`` are triage, like the Snooze and Dismiss buttons: who may use them
is ``policy.triage`` (the dispatcher refuses everyone else, with a DENIED audit record), a
snooze longer than ``policy.triage.max_snooze_hours`` is refused, and each one writes one
audit record (SNOOZED, UNSNOOZED or DENIED).
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime

from bot.approval import audit
from bot.approval.authz import snooze_refusal
from bot.commands.base import Invocation, Reply, command
from bot.commands.output import ago, code, esc, listing, message
from bot.errors import NotFoundError

RULE_PREFIX = "rule:"
MAX_SNOOZE_S = 30 * 86400
_FINGERPRINT_RE = re.compile(r"^[0-9a-f]{32}$")
_DURATION_RE = re.compile(r"(\d+)\s*(minutes?|mins?|hours?|hrs?|days?|weeks?|w|d|h|m)", re.IGNORECASE)
_UNIT_S = {"w": 604800, "d": 86400, "h": 3600, "m": 60}


def parse_duration(text: str) -> int:
    """``"30m"``, ``"4h"``, ``"1h30m"``, ``"2d"``, ``"1w"`` → seconds. Raises ValueError otherwise.

    >>> parse_duration("1h30m")
    5400
    """
    s = text.strip().lower()
    if not s or not re.fullmatch(r"(?:\s*\d+\s*[a-z]+)+", s):
        raise ValueError(f"`{text}` is not a duration; use e.g. 30m, 4h, 1h30m, 2d")
    total = 0
    pos = 0
    for m in _DURATION_RE.finditer(s):
        if s[pos : m.start()].strip():
            raise ValueError(f"`{text}` is not a duration; use e.g. 30m, 4h, 1h30m, 2d")
        total += int(m.group(1)) * _UNIT_S[m.group(2)[0]]
        pos = m.end()
    if s[pos:].strip():
        raise ValueError(f"`{text}` is not a duration; use e.g. 30m, 4h, 1h30m, 2d")
    if total <= 0:
        raise ValueError("a snooze must last at least a minute")
    if total > MAX_SNOOZE_S:
        raise ValueError("a snooze can last at most 30 days")
    return total


def _rule_names(rt: object) -> list[str]:
    return [r.name for r in rt.config.routing.rules]  # type: ignore[attr-defined]


def resolve_target(inv: Invocation, word: str) -> tuple[str, str]:
    """An alert id, a fingerprint or a rule name → (store target, a description for people)."""
    rt = inv.rt
    if word.startswith(RULE_PREFIX):
        word = word[len(RULE_PREFIX) :]
        if word not in _rule_names(rt):
            raise inv.usage_error(f"No routing rule named `{esc(word)}`.")
        return RULE_PREFIX + word, f"rule {code(word)}"
    if _FINGERPRINT_RE.match(word):
        return word, f"fingerprint {code(word)}"
    try:
        alert = rt.store.get_alert(word).alert
        return alert.fingerprint, f"alert {code(word)} ({esc(alert.title)})"
    except NotFoundError:
        pass
    if word in _rule_names(rt):
        return RULE_PREFIX + word, f"rule {code(word)}"
    raise inv.usage_error(f"`{esc(word)}` is not an alert id, a fingerprint or a routing rule.")


def _audit(inv: Invocation, outcome: str, result: str, target: str) -> None:
    """One audit record for this /ops snooze or unsnooze (allowed or refused)."""
    name = inv.command.name if inv.command else "snooze"
    audit.record(
        inv.rt,
        key=f"cmd:{name}:{outcome}:{uuid.uuid4().hex}",
        action=f"command.{name}",
        outcome=outcome,
        actor=inv.actor,
        result=result,
        channel=inv.channel,
        params={"target": target, "args": " ".join(inv.args)[:300]},
    )


@command("snooze", mutates=True, triage=True, min_args=2)
def snooze(inv: Invocation) -> Reply:
    """snooze <alert|fingerprint|rule> <duration> [reason]
    Silence an alert's problem (or a routing rule) for a while, e.g. 30m, 4h, 2d.

    Example: ``/ops snooze a-123 4h "deploy in progress"``
    """
    target, what = resolve_target(inv, inv.args[0])
    try:
        seconds = parse_duration(inv.args[1])
    except ValueError as exc:
        raise inv.usage_error(esc(exc)) from None
    reason = " ".join(inv.args[2:])[:300]
    too_long = snooze_refusal(inv.rt.config.policy, seconds)
    if too_long:
        _audit(inv, "DENIED", too_long, target)
        raise inv.usage_error(f"Not allowed: {esc(too_long)}.")
    until = time.time() + seconds
    snooze_id = inv.rt.store.snooze(target, until, inv.actor, reason=reason, channel=inv.channel)
    _audit(inv, "SNOOZED", f"until {datetime.fromtimestamp(until, UTC).isoformat()}; id {snooze_id}", target)
    inv.rt.count("SnoozeCreated")
    text = (
        f":zzz: Snoozed {what} until {ago(until)} (id {code(snooze_id)})"
        + (f" — {esc(reason)}" if reason else "")
        + f"\nUndo with `{inv.slash} unsnooze {snooze_id}`."
    )
    return message(text)


@command("snoozes")  # DynamoDB only: answered inside the ack
def snoozes(inv: Invocation) -> Reply:
    """snoozes
    Active snoozes: what, until when, who, why.
    """
    items = sorted(inv.rt.store.snoozes(), key=lambda s: s["until"])
    rows = [
        f":zzz: {code(s['id'])} {code(s['target'])} ends {ago(s['until'])}, by <@{s['by'].user_id}>"
        + (f" — {esc(s['reason'])}" if s["reason"] else "")
        for s in items
    ]
    return listing("Active snoozes", rows, empty="Nothing is snoozed.", hint=f"`{inv.slash} unsnooze <id>` ends one")


@command("unsnooze", mutates=True, triage=True, min_args=1)
def unsnooze(inv: Invocation) -> Reply:
    """unsnooze <id>
    End a snooze now (its id from /ops snoozes, or its target).
    """
    if len(inv.args) > 1:
        raise inv.usage_error(f"Unexpected `{esc(' '.join(inv.args[1:]))}`.")
    if not inv.rt.store.unsnooze(inv.args[0]):
        raise inv.usage_error(f"No snooze `{esc(inv.args[0])}`; `{inv.slash} snoozes` lists them.")
    _audit(inv, "UNSNOOZED", "ended by hand", inv.args[0])
    inv.rt.count("SnoozeEnded")
    return message(f":bell: Snooze {code(inv.args[0])} ended; alerts flow again.")
