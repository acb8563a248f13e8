"""``/ops maintenance``: list, start and end maintenance windows (``bot.maintenance``).

While a window is open, alerts in its scope are held silently (stored, counted, never posted,
no auto-mode change); when it ends, each channel they were routed to gets one summary message
with the alerts still active in its thread. Starting and ending need the permission of the other
mutating commands (``may_mutate``: acting at some risk, from this channel); every start and end
writes one audit record, and every refusal a DENIED one. Listing needs only membership of the
organization, like the other read-only commands.

``list`` and ``start`` answer inside the ack (DynamoDB only). ``end`` is checked inside the ack
(permission, which window) and then answered by the worker (``defer_when``): ending posts the
summaries and the held alerts, which Slack's one post per second per channel makes too slow
for the 3-second ack.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from bot.approval import audit
from bot.approval.authz import may_act
from bot.commands.base import Invocation, Reply, command, may_mutate
from bot.commands.output import ago, code, esc, listing, message
from bot.maintenance.hold import audit_window, open_windows, read_scope
from bot.maintenance.release import end_window
from bot.maintenance.schedule import SCHEDULED_BY, duration_seconds, human_duration
from bot.maintenance.scope import SCOPE_HELP, Scope, ScopeError
from bot.models import MaintenanceWindow, Risk

MAX_WINDOW_S = 7 * 86400
_START_USAGE = "start <scope> <duration> [reason]"


def _ends(args: list[str]) -> bool:
    return bool(args) and args[0].lower() == "end"


def _check_end(inv: Invocation) -> None:
    """``end``'s checks before the ack (permission, which window): a refusal or a usage error
    is the one answer; otherwise the worker ends the window and posts its summaries."""
    _allowed(inv, "end")
    _pick_open(inv)


@command(
    "maintenance",
    aliases=("maint",),
    audit_refusals=True,
    defer_when=_ends,
    check=_check_end,
    ack=":hourglass_flowing_sand: Ending the maintenance window and posting its summary…",
)
def maintenance(inv: Invocation) -> Reply:
    """maintenance [start <scope> <duration> [reason] | end [scope|id]]
    Maintenance windows: list the open ones, start one (alerts in its scope are held, then summarized when it ends) or end one. Scope: account:<id|alias>, region:<name>, tag:<key>=<value>, rule:<routing rule>. Start and end need permission to act.
    """
    action = inv.args[0].lower() if inv.args else "list"
    if action in ("list", "ls"):
        if len(inv.args) > 1:
            raise inv.usage_error(f"Unexpected `{esc(' '.join(inv.args[1:]))}`.")
        return _list(inv)
    if action not in ("start", "end"):
        raise inv.usage_error(f"Unknown `{esc(inv.args[0])}`: use `start`, `end`, or nothing to list the open windows.")
    _allowed(inv, action)
    return _start(inv) if action == "start" else _end(inv)


def _allowed(inv: Invocation, action: str) -> None:
    """Raise the usage error (and write the DENIED record) when the actor may not ``action``."""
    refused = _refusal(inv)
    if refused:
        _audit_denied(inv, refused)
        raise inv.usage_error(f"You are not allowed to {action} maintenance windows: {esc(refused)}.")


def _refusal(inv: Invocation) -> str | None:
    """Why ``inv.actor`` may not start or end a window here (None: allowed)."""
    if may_mutate(inv.rt, inv.actor, inv.channel):
        return None
    policy = inv.rt.config.policy
    reasons = [may_act(policy, inv.actor, r, inv.channel).reason for r in Risk]
    return next((r for r in reasons if r), "not allowed")


def _audit_denied(inv: Invocation, reason: str) -> None:
    audit.record(
        inv.rt,
        key=f"denied:cmd:maintenance:{uuid.uuid4().hex}",
        action="command.maintenance",
        outcome="DENIED",
        actor=inv.actor,
        result=reason,
        channel=inv.channel,
        params={"args": " ".join(inv.args)[:300]},
    )


def _scope(inv: Invocation, text: str) -> Scope:
    try:
        return read_scope(inv.rt, text)
    except ScopeError as exc:
        raise inv.usage_error(f"{esc(exc)}.") from None


def _same(a: Scope, b: Scope) -> bool:
    """The same scope, however written (an alias and its account id are one account)."""
    return (a.kind, a.value, a.tag_value) == (b.kind, b.value, b.tag_value)


def _now() -> datetime:
    return datetime.now(UTC)


def _start(inv: Invocation) -> Reply:
    if len(inv.args) < 3:
        raise inv.usage_error(f"`{inv.slash} maintenance {_START_USAGE}` needs a scope and a duration ({SCOPE_HELP}).")
    scope = _scope(inv, inv.args[1])
    try:
        seconds = duration_seconds(inv.args[2])
    except ValueError as exc:
        raise inv.usage_error(esc(exc)) from None
    if seconds > MAX_WINDOW_S:
        raise inv.usage_error("A maintenance window lasts at most 7 days.")
    for window, open_scope in open_windows(inv.rt):
        if _same(open_scope, scope):
            raise inv.usage_error(
                f"{code(window.scope)} is already under maintenance until {ago(window.ends_at)}"
                f" (id {code(window.id)}); end it first with `{inv.slash} maintenance end {window.id}`."
            )
    now = _now()
    window = MaintenanceWindow(
        id=uuid.uuid4().hex[:10],
        scope=scope.text,
        reason=" ".join(inv.args[3:])[:300],
        started_by=inv.actor.user_id,
        starts_at=now,
        ends_at=now + timedelta(seconds=seconds),
    )
    inv.rt.store.start_maintenance(window)
    audit_window(inv.rt, window, "MAINTENANCE_STARTED", inv.actor, f"started by hand for {human_duration(seconds)}")
    inv.rt.count("maintenance_started")
    return message(
        f":construction: Maintenance on {code(window.scope)} for {human_duration(seconds)}, until {ago(window.ends_at)}"
        f" (id {code(window.id)})" + (f" — {esc(window.reason)}" if window.reason else "") + ".\n"
        "Alerts in its scope are held: not posted, no automatic changes. When it ends, a summary is posted"
        f" with the alerts still active in its thread. End it early with `{inv.slash} maintenance end {window.id}`."
    )


def _pick_open(inv: Invocation) -> MaintenanceWindow:
    """The open window ``end`` names (its id or scope), or the only one open."""
    if len(inv.args) > 2:
        raise inv.usage_error(f"Unexpected `{esc(' '.join(inv.args[2:]))}`.")
    windows = open_windows(inv.rt)
    if not windows:
        raise inv.usage_error("No maintenance window is open.")
    if len(inv.args) == 2:
        return _pick(inv, inv.args[1], windows)
    if len(windows) == 1:
        return windows[0][0]
    ids = ", ".join(f"{code(w.id)} ({code(w.scope)})" for w, _ in windows)
    raise inv.usage_error(f"{len(windows)} windows are open: {ids}; say which to end.")


def _end(inv: Invocation) -> Reply:
    picked = _pick_open(inv)
    released = end_window(inv.rt, picked.id, inv.actor)
    if released is None:
        raise inv.usage_error(f"Maintenance {code(picked.id)} has just ended already.")
    where = ", ".join(released.channels) or "no channel: nothing was held"
    failed = f"\n:warning: The summary could not be posted in {', '.join(released.failed)}." if released.failed else ""
    return message(
        f":white_check_mark: Maintenance on {code(picked.scope)} ended: {esc(released.line())}."
        f" Summary posted in {esc(where)}.{failed}"
    )


def _pick(inv: Invocation, word: str, windows: list[tuple[MaintenanceWindow, Scope]]) -> MaintenanceWindow:
    """The open window named by its id or its scope (an alias and its account id are the same)."""
    for window, _ in windows:
        if word == window.id:
            return window
    try:
        wanted = read_scope(inv.rt, word)
    except ScopeError:
        wanted = None
    found = [w for w, s in windows if wanted is not None and _same(s, wanted)]
    if len(found) == 1:
        return found[0]
    open_ones = ", ".join(f"{code(w.id)} ({code(w.scope)})" for w, _ in windows)
    raise inv.usage_error(f"No open maintenance window {code(word)}; open: {open_ones}.")


def _list(inv: Invocation) -> Reply:
    rows = []
    for window, _ in open_windows(inv.rt):
        by = "scheduled in eventops.yml" if window.started_by == SCHEDULED_BY else f"by <@{window.started_by}>"
        rows.append(
            f":construction: {code(window.id)} {code(window.scope)} ends {ago(window.ends_at)}, {by}"
            + (f" — {esc(window.reason)}" if window.reason else "")
        )
    return listing(
        "Open maintenance windows",
        rows,
        empty="No maintenance window is open.",
        hint=f"`{inv.slash} maintenance end <id>` ends one",
        notes=[f"`{inv.slash} maintenance end <id|scope>` ends one; `{inv.slash} maintenance start` opens one."],
    )
