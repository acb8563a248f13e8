"""Housekeeping in ``make run``: the sandbox runs handlers/housekeeping.py on a schedule, as
EventBridge Scheduler does deployed, so what it drives (escalations, reminders, expiries,
maintenance ends) happens locally too. Here: a maintenance window whose time runs out is ended
by the schedule, and its summary reaches the channel."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sandbox_helpers import SIGNING_SECRET

from bot.models import MaintenanceWindow
from bot.sandbox import estate as demo
from bot.sandbox.runner import Sandbox, SandboxOptions


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(
        SandboxOptions(port=0, aws_port=0, demo=False, signing_secret=SIGNING_SECRET, housekeeping_interval_s=0.5)
    )
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


def test_the_schedule_runs_housekeeping(sandbox: Sandbox) -> None:
    deadline = time.monotonic() + 15
    while sandbox.runtime().store.last_housekeeping_run() is None:
        assert time.monotonic() < deadline, "housekeeping never ran"
        time.sleep(0.2)
    assert sandbox.schedules and sandbox.schedules[0].runs >= 1


def test_a_window_whose_time_is_up_is_ended_by_the_schedule(sandbox: Sandbox) -> None:
    assert sandbox.estate is not None
    now = datetime.now(UTC)
    window = MaintenanceWindow(
        id="sandbox-short",
        scope=f"account:{demo.PROD}",
        reason="a short one",
        started_by="U0OPERATOR",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(seconds=10),
    )
    assert sandbox.runtime().store.start_maintenance(window)
    sandbox.put_events([demo.open_port_event(sandbox.estate)])
    deadline = time.monotonic() + 9
    while sandbox.runtimes["notify"].counts["maintenance_held"] < 1:
        assert time.monotonic() < deadline, "the event was not held while the window was open"
        time.sleep(0.1)
    assert sandbox.runtime().store.active_maintenance(), "still open: only the schedule ends it"

    def summary(snap: dict) -> dict | None:
        return next((m for m in snap["messages"] if "Maintenance on account:" in m["text"]), None)

    posted = sandbox.wait_for(summary, timeout=40)
    assert "1 alert held, 1 still active" in posted["text"], posted["text"]
    assert sandbox.runtime().store.active_maintenance() == []
