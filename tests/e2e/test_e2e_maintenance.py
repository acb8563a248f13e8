"""Maintenance windows end to end: ``/ops maintenance`` through the signed front door, events
through the alerts queue and handlers/notify.py, expiry through handlers/housekeeping.py, against
moto and the loopback Slack fake.

The sandbox here runs its own config: the demo config with an auto-mode rule ``prod-sg`` (revoke
open ingress in prod at once), so a held alert that would have changed AWS is visible in moto.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.models import MaintenanceWindow
from bot.sandbox import estate as demo
from bot.sandbox.runner import DEMO_CONFIG, Sandbox, SandboxOptions
from tests.e2e.conftest import OPERATOR, OUTSIDER, SIGNING_SECRET, Ops, clean

PROD = demo.PROD
AUTO_RULE = {
    "name": "prod-sg",
    "match": {"detail_type": ["AWS API Call via CloudTrail"], "account": [PROD]},
    "channel": "#security",
    "mode": "auto",
    "remediations": ["ec2.revoke-ingress"],
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    config = yaml.safe_load(DEMO_CONFIG.read_text())
    config["routing"]["rules"].insert(0, AUTO_RULE)
    path = Path(tmp_path_factory.mktemp("maint")) / "eventops.yml"
    path.write_text(yaml.safe_dump(config))
    sb = Sandbox(SandboxOptions(port=0, aws_port=0, demo=False, signing_secret=SIGNING_SECRET, config_path=path))
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="module")
def ops(sandbox: Sandbox) -> Ops:
    return Ops(sandbox)


def _later(event: dict[str, Any], minutes: int) -> dict[str, Any]:
    """The same event ``minutes`` later (its resolution, say), with its own event id."""
    out = copy.deepcopy(event)
    out["id"] = event["id"] + f"-later{minutes}"
    at = datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) + timedelta(minutes=minutes)
    out["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def _held(ops: Ops) -> int:
    return ops.sb.runtimes["notify"].counts["maintenance_held"]


def _wait_held(ops: Ops, n: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while _held(ops) < n:
        assert time.monotonic() < deadline, f"{_held(ops)} of {n} events held"
        time.sleep(0.2)


def _top(snap: dict[str, Any], channel: str) -> list[dict[str, Any]]:
    return [m for m in snap["messages"] if m["channel_name"] == channel.lstrip("#") and not m["thread_ts"]]


def _open_ingress(ops: Ops) -> list[str]:
    assert ops.sb.estate is not None
    rules = ops.ingress_rules(ops.sb.estate.prod.security_group_id)
    return [r["SecurityGroupRuleId"] for r in rules if r.get("CidrIpv4") == "0.0.0.0/0" and r.get("FromPort") == 22]


def test_help_lists_maintenance(ops: Ops) -> None:
    answer = clean(ops.command(OPERATOR, "help"))
    assert "/ops maintenance [start <scope> <duration> [reason] | end [scope|id]]" in answer
    assert "maintenance" in clean(ops.command(OPERATOR, "help maintenance"))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("maintenance start account:prod", "needs a scope and a duration"),
        ("maintenance start zone:a 1h", "`zone:a` is not a scope: use account:&lt;id|alias&gt;"),
        ("maintenance start account:nope 1h", "`nope` is not a 12-digit account id or a configured alias"),
        ("maintenance start region:moon 1h", "`moon` is not a region name"),
        ("maintenance start tag:env 1h", "is not a tag scope: use tag:&lt;key&gt;=&lt;value&gt;"),
        ("maintenance start rule:nope 1h", "no routing rule named `nope`"),
        ("maintenance start account:prod forever", "`forever` is not a duration; use e.g. 30m, 2h"),
        ("maintenance start account:prod 8d", "A maintenance window lasts at most 7 days."),
        ("maintenance end", "No maintenance window is open."),
        ("maintenance stop", "Unknown `stop`: use `start`, `end`"),
    ],
)
def test_bad_input_is_one_clear_usage_error(ops: Ops, text: str, error: str) -> None:
    answer = clean(ops.command(OPERATOR, text))
    assert error in answer, answer
    assert "Usage: `/ops maintenance [start" in answer
    assert ops.sb.runtime().store.active_maintenance() == []


def test_the_outsider_is_refused_and_the_refusal_audited(ops: Ops) -> None:
    answer = clean(ops.command(OUTSIDER, "maintenance start account:prod 1h"))
    assert "You are not allowed to start maintenance windows" in answer, answer
    denied = ops.audited("DENIED", action="command.maintenance")
    assert denied.actor.user_id == OUTSIDER and "start account:prod 1h" in str(denied.params)
    assert ops.sb.runtime().store.active_maintenance() == []


def test_a_window_holds_alerts_then_ends_with_one_summary(ops: Ops) -> None:
    """Issue "Beyond the anchors" 4: held alerts are not posted and not acted on (auto mode
    included); the end posts one summary per channel, the still-active alert in its thread
    with its buttons, the resolved ones only counted."""
    estate = ops.sb.estate
    assert estate is not None
    answer = clean(ops.command(OPERATOR, f"maintenance start account:{PROD} 30m patching"))
    assert f"Maintenance on `account:{PROD}` for 30m" in answer, answer
    [window] = ops.sb.runtime().store.active_maintenance()
    assert (window.scope, window.reason, window.started_by) == (f"account:{PROD}", "patching", OPERATOR)
    started = ops.audited("MAINTENANCE_STARTED", action="maintenance.start")
    assert started.actor.user_id == OPERATOR and window.id in str(started.params)
    listed = clean(ops.command(OPERATOR, "maintenance"))
    assert window.id in listed and "patching" in listed

    open_before = _open_ingress(ops)
    assert open_before, "the demo estate opens tcp/22 to the world"
    finding = demo.guardduty_event(estate)
    archived = _later(finding, 5)
    archived["detail"]["service"]["archived"] = True
    alarm = demo.alarm_event(estate)
    ok = _later(alarm, 5)
    ok["detail"]["state"]["value"] = "OK"
    other_account = demo.alarm_event(estate, demo.STAGING)
    ops.sb.put_events([demo.open_port_event(estate), finding, alarm])
    _wait_held(ops, 3)
    ops.sb.put_events([archived, ok, other_account])
    _wait_held(ops, 5)
    snap = ops.wait_for(lambda s: _top(s, "#team-payments") and s)  # staging's alarm is not held
    assert all("web-staging" in m["text"] or "staging" in m["text"] for m in _top(snap, "#team-payments"))
    assert _top(snap, "#security") == [], "nothing held is posted"
    time.sleep(1.0)  # the worker would have run an auto-mode change by now
    assert _open_ingress(ops) == open_before, "auto mode did not run on a held alert"
    stored = ops.sb.runtime().store.held_alerts(window.id)
    assert sorted(h.events for h in stored) == [1, 2, 2]
    assert all("held by maintenance on account:" in h.alert.fields["Maintenance"] for h in stored)
    why = clean(ops.command(OPERATOR, f"explain {finding['id']}"))  # the hold is a recorded decision
    assert "Held by a maintenance window" in why and f"account:{PROD}" in why and window.id in why, why

    ack = clean(ops.command(OPERATOR, "maintenance end"))
    assert ack.startswith(":hourglass_flowing_sand: Ending the maintenance window"), ack  # the worker posts
    answer = ops.said_to(OPERATOR, "ended:")["text"]
    assert "3 alerts held, 1 still active, 2 resolved during the window" in answer, answer
    snap = ops.wait_for(lambda s: _top(s, "#security") and s)
    [summary] = _top(snap, "#security")
    assert f"Maintenance on account:{PROD} ended (" in summary["text"] and "reason patching" in summary["text"]
    assert "2 alerts held, 1 still active, 1 resolved during the window" in summary["text"]
    [reply] = ops.replies(snap, summary["ts"])
    assert "opened to the internet" in reply["text"] or "22" in reply["text"], reply["text"]
    assert "eventops:remediate:ec2.revoke-ingress" in str(reply["blocks"]), "its normal buttons"
    payments = [m for m in _top(snap, "#team-payments") if "Maintenance on" in m["text"]]
    assert len(payments) == 1 and "1 alert held, 0 still active, 1 resolved" in payments[0]["text"]
    assert ops.replies(snap, payments[0]["ts"]) == [], "a resolved alert is only counted"
    assert _open_ingress(ops) == open_before, "released alerts are offered, not run"
    ended = ops.audited("MAINTENANCE_ENDED", action="maintenance.end")
    assert ended.actor.user_id == OPERATOR and "3 alerts held" in (ended.result or "")
    assert ops.sb.runtime().store.active_maintenance() == []

    ops.click(OPERATOR, reply, "Revoke open ingress rule")
    ops.audited("SUCCEEDED", remediation="ec2.revoke-ingress", timeout=20)
    assert _open_ingress(ops) == [], "the released alert's button works"


def test_housekeeping_ends_a_window_whose_time_is_up(ops: Ops) -> None:
    from handlers import housekeeping

    estate = ops.sb.estate
    assert estate is not None
    store = ops.sb.runtime().store
    now = datetime.now(UTC)
    window = MaintenanceWindow(
        id="expiring",
        scope="account:staging",
        reason="",
        started_by=OPERATOR,
        starts_at=now,
        ends_at=now + timedelta(seconds=4),
    )
    assert store.start_maintenance(window)
    before = _held(ops)
    ops.sb.put_events([demo.open_port_event(estate, demo.STAGING)])
    _wait_held(ops, before + 1)
    while datetime.now(UTC) < window.ends_at:
        time.sleep(0.2)
    assert store.maintenance_due() == [window]
    housekeeping.set_runtime(ops.sb.runtime())
    try:
        summary = housekeeping.handler({}, None)
    finally:
        housekeeping.set_runtime(None)
    assert summary["maintenance_ended"] == 1
    snap = ops.wait_for(
        lambda s: (
            next((m for m in _top(s, "#security") if "Maintenance on account:staging ended" in m["text"]), None) and s
        )
    )
    [msg] = [m for m in _top(snap, "#security") if "Maintenance on account:staging ended" in m["text"]]
    assert "1 alert held, 1 still active, 0 resolved" in msg["text"]
    [reply] = ops.replies(snap, msg["ts"])
    assert "eventops:remediate:ec2.revoke-ingress" in str(reply["blocks"])
    ended = ops.audited("MAINTENANCE_ENDED", action="maintenance.end", result="its time was up")
    assert ended.actor.is_system
    assert store.maintenance_due() == [] and store.end_maintenance("expiring", datetime.now(UTC)) is None


def test_the_home_tab_lists_an_open_window_and_not_an_ended_one(ops: Ops) -> None:
    """App Home's maintenance section reads ``Store.active_maintenance``: a window started
    through the front door shows there (scope and reason), and goes once it is ended."""
    from tests.e2e.test_e2e_home import open_home, section

    clean(ops.command(OPERATOR, "maintenance start region:eu-central-1 45m home-tab check"))
    shown = section(open_home(ops, OPERATOR), "maintenance")
    assert "region:eu-central-1" in shown and "home-tab check" in shown, shown
    clean(ops.command(OPERATOR, "maintenance end region:eu-central-1", timeout=30))
    ops.wait_for(lambda s: "region:eu-central-1" not in section(open_home(ops, OPERATOR), "maintenance") or None, 20)
