"""Lambda entry point: EventBridge Scheduler (every few minutes) → upkeep; daily the heartbeat
(task ``heartbeat``), weekly the scorecard (task ``scorecard``).

Expire proposals past their TTL, end snoozes with a reminder in the thread, fail proposals a
dead worker left RUNNING, re-queue APPROVED proposals whose job was never sent, flush message
counters left dirty by the notify side, post alerts a dead notify invocation claimed but never
posted, post the escalation and reminder steps that are due (bot.escalation), end maintenance
windows whose time is up (their summaries), and write a heartbeat. Each step runs even if
another failed; any failure makes the invocation fail at the end, so it is never silent.
"""

from __future__ import annotations

import gc

# Cold start: the imports below create objects that live as long as the process; collecting
# garbage among them is wasted time (a quarter of the import, measured: README "Performance").
# Collection comes back, with those objects frozen out of it, at the end of this module.
gc.disable()

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot import escalation, scorecard
from bot.approval import sweeps
from bot.config import Settings
from bot.logs import begin_invocation, configure_logging
from bot.maintenance import release as maintenance
from bot.pipeline import flush_dirty, post_heartbeat, repair_abandoned
from bot.runtime import Runtime, RuntimeSlot

configure_logging(Settings.from_env().log_level)  # JSON lines; correlation_id: the run
log = logging.getLogger("eventops.handlers.housekeeping")
_slot = RuntimeSlot()
# Built once per cold start; tests put their own in with set_runtime().
runtime, set_runtime = _slot.get, _slot.set


class HousekeepingError(RuntimeError):
    """One or more steps failed; the summary says which."""


def _flush_dirty(rt: Runtime) -> int:
    return flush_dirty(rt)


def _heartbeat(rt: Runtime) -> int:
    rt.store.record_housekeeping_run()
    rt.count("heartbeat")
    return 1


def _daily_heartbeat(rt: Runtime) -> int:
    """Post the daily heartbeat to Slack: what EventOps saw and did in the last 24 hours."""
    post_heartbeat(rt)
    return 1


def _weekly_scorecard(rt: Runtime) -> int:
    """Post the weekly scorecard (``bot.scorecard``) to ``scorecard.channel``, once per week."""
    return scorecard.post_weekly(rt)


def run_id(task: str, now: datetime | None = None) -> str:
    """The correlation id of one run: the task and the minute it started (UTC), e.g.
    ``housekeeping:2026-01-02T09:05Z``; the schedule runs each task at most once a minute."""
    return f"{task}:{(now or datetime.now(UTC)):%Y-%m-%dT%H:%MZ}"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    asked = event.get("task") if isinstance(event, dict) else None
    task = asked if asked in ("heartbeat", "scorecard") else "housekeeping"
    begin_invocation(context, run_id(task), task=task)
    rt = runtime()
    rt.time_left = (lambda: context.get_remaining_time_in_millis() / 1000) if context else None
    if task == "heartbeat":
        return {"heartbeat_posted": _run_steps(rt, {"heartbeat_posted": _daily_heartbeat})["heartbeat_posted"]}
    if task == "scorecard":
        return {"scorecard_posted": _run_steps(rt, {"scorecard_posted": _weekly_scorecard})["scorecard_posted"]}
    steps: dict[str, Callable[[Runtime], int]] = {
        "expired": sweeps.expire_proposals,
        "snoozes_ended": sweeps.end_snoozes,
        "interrupted": sweeps.sweep_running,
        "requeued": sweeps.requeue_stuck,
        "messages_flushed": _flush_dirty,
        "abandoned_repaired": repair_abandoned,
        "escalations_posted": escalation.run_due,
        "maintenance_ended": maintenance.housekeep,
        "heartbeat": _heartbeat,
    }
    return _run_steps(rt, steps)


def _run_steps(rt: Runtime, steps: dict[str, Callable[[Runtime], int]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    failed: list[str] = []
    for name, step in steps.items():
        try:
            summary[name] = step(rt)
        except Exception as exc:
            log.exception("housekeeping step %s failed", name)
            rt.count("housekeeping_failed")
            summary[name] = f"error: {type(exc).__name__}"
            failed.append(name)
    rt.flush_metrics()
    if failed:
        raise HousekeepingError(f"housekeeping steps failed: {', '.join(failed)} ({summary})")
    log.info("housekeeping done: %s", summary)
    return summary


gc.freeze()  # what the import created leaves the collected generations for good
gc.enable()
