"""The hold check of the notify side: after routing (so ``rule:`` scopes work), before posting.

``hold(alert, route, rt, cache)`` is None for an alert no open window covers; otherwise it
records the alert as held and returns ``"held"``: nothing is posted, no proposal is made (so an
auto-mode route changes nothing), and the window's summary accounts for it when it ends
(``bot.maintenance.release``). The open windows are read at most once per notify batch
(``MaintenanceCache``: one ``Store.active_maintenance`` Query), so an alert costs nothing more
when no window is open, and two writes when one holds it (the alert, and its count in the window).

A window scheduled in eventops.yml that is open now but not in the store yet is written there
on first sight (one conditional write, audited once as MAINTENANCE_STARTED by EventOps), so its
end is summarized like any other and the App Home lists it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.approval import audit
from bot.decisions import Decisions
from bot.maintenance.schedule import occurrence
from bot.maintenance.scope import Scope, ScopeError, parse_scope
from bot.models import Actor, Alert, MaintenanceWindow, Route
from bot.runtime import Runtime

log = logging.getLogger("eventops.maintenance")

HELD = "held"
FIELD = "Maintenance"  # the line a held alert carries (shown when it is posted at the end)


@dataclass
class MaintenanceCache:
    """The windows open during one notify batch, read on the first alert that needs them."""

    windows: list[tuple[MaintenanceWindow, Scope]] | None = None
    # False: the batch's reads found the index of windows not ended empty (Store.read_for_batch),
    # so no stored window is open and the Query is skipped; None: not known, Query
    stored_open: bool | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def open(self, rt: Runtime) -> list[tuple[MaintenanceWindow, Scope]]:
        with self._lock:  # a batch's channels are delivered at once: one read for all of them
            if self.windows is None:
                self.windows = open_windows(rt, stored=self.stored_open is not False)
            return self.windows


def read_scope(rt: Runtime, text: str) -> Scope:
    """A scope read against the config as it is now: its aliases and rules (ScopeError if not)."""
    return parse_scope(text, rt.config.account_aliases(), rt.config.rule_names())


def scope_of(rt: Runtime, window: MaintenanceWindow) -> Scope:
    """The window's scope, read against the config as it is now (ScopeError when it no longer fits)."""
    return read_scope(rt, window.scope)


def open_windows(
    rt: Runtime, now: datetime | None = None, *, stored: bool = True
) -> list[tuple[MaintenanceWindow, Scope]]:
    """Every window open at ``now``: the store's (unless ``stored`` is False: none is, the
    caller knows), and the config's scheduled ones (written to the store on first sight), each
    with its parsed scope."""
    now = now or datetime.now(UTC)
    windows = rt.store.active_maintenance(now) if stored else []
    known = {w.id for w in windows}
    windows += open_scheduled(rt, now, known)
    out = []
    for w in windows:
        try:
            out.append((w, scope_of(rt, w)))
        except ScopeError as exc:  # e.g. its alias was removed from the config since
            log.warning("maintenance window %s has a scope that no longer reads (%s); it holds nothing", w.id, exc)
    return out


def open_scheduled(rt: Runtime, now: datetime, known: set[str] | None = None) -> list[MaintenanceWindow]:
    """The config's windows open at ``now``. One not stored yet is written (and audited) now;
    one stored and ended early by hand (``/ops maintenance end``) stays ended."""
    out = []
    for schedule in rt.config.maintenance:
        window = occurrence(schedule, now)
        if window is None or (known is not None and window.id in known):
            continue
        if rt.store.start_maintenance(window):
            audit_window(rt, window, "MAINTENANCE_STARTED", Actor.system(), "scheduled in eventops.yml")
            out.append(window)
            continue
        stored = rt.store.get_maintenance(window.id)
        if stored is not None and stored[1]:
            out.append(stored[0])
    return out


def audit_window(rt: Runtime, window: MaintenanceWindow, outcome: str, actor: Actor, result: str) -> bool:
    """The one audit record of a window's start or end (its key makes a retry write none)."""
    return audit.record(
        rt,
        key=f"maint:{window.id}:{outcome}",
        action="maintenance." + ("start" if outcome == "MAINTENANCE_STARTED" else "end"),
        outcome=outcome,
        actor=actor,
        result=result,
        params={
            "window": window.id,
            "scope": window.scope,
            "reason": window.reason,
            "starts_at": window.starts_at.isoformat(),
            "ends_at": window.ends_at.isoformat(),
        },
    )


def covering(windows: list[tuple[MaintenanceWindow, Scope]], alert: Alert, route: Route) -> MaintenanceWindow | None:
    """The first open window whose scope covers the routed alert."""
    return next((w for w, scope in windows if scope.covers(alert, route)), None)


def hold(
    alert: Alert, route: Route, rt: Runtime, cache: MaintenanceCache, decided: Decisions | None = None
) -> str | None:
    """Hold ``alert`` when an open window covers it: stored (with a line saying which window
    held it, and ``decided`` with outcome "held" for /ops explain) and counted into the window,
    never posted. None when no window covers it."""
    windows = cache.open(rt)
    if not windows:
        return None
    window = covering(windows, alert, route)
    if window is None:
        return None
    note = f"held by maintenance on {window.scope} (id {window.id})"
    held = alert.model_copy(update={"fields": {**alert.fields, FIELD: note}})
    why = f"not posted: {note}; posted or counted when the window ends ({window.ends_at:%Y-%m-%d %H:%M} UTC)"
    rt.store.put_alert(held, channel=route.channel, decisions=decided.decided("held", why) if decided else None)
    rt.store.hold_alert(window, held, route.channel)
    rt.count("maintenance_held")
    log.info("alert %s held by maintenance window %s (%s)", alert.id, window.id, window.scope)
    return HELD
