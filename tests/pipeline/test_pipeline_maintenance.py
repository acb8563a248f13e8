"""Maintenance windows on the notify side: SQS batches → handlers/notify.py → the loopback Slack
fake and moto. Windows scheduled in the config hold alerts inside their time only; the hold
check comes after routing (``rule:`` scopes), reads the open windows once per batch, and reads
resource tags (``tag:`` scopes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from pipeline_env import BASE_CONFIG, event

from bot.config import parse_config
from bot.errors import ConfigError
from bot.maintenance.schedule import DAYS, MaintenanceSchedule, occurrence
from bot.models import MaintenanceWindow
from tests.bench.bench_env import count_aws_calls

EVENTS = Path(__file__).resolve().parents[1] / "events"
NOW = datetime.now(UTC)
STRANGER = "222222222222"


def _config(*windows: dict, accounts: list | None = None) -> dict:
    return {**BASE_CONFIG, **({"accounts": accounts} if accounts is not None else {}), "maintenance": list(windows)}


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


OPEN_NOW = {"name": "patching", "scope": "account:prod", "start": _iso(NOW - timedelta(hours=1)),
            "end": _iso(NOW + timedelta(hours=1)), "reason": "kernel patches"}  # fmt: skip
LATER = {"name": "later", "scope": "account:prod", "start": _iso(NOW + timedelta(hours=2)),
         "end": _iso(NOW + timedelta(hours=3))}  # fmt: skip


def _held_audits(rt) -> list:
    return [e for e in rt.store.recent_audit(limit=50) if e.outcome == "MAINTENANCE_STARTED"]


@pytest.mark.config(_config(OPEN_NOW))
def test_a_window_scheduled_in_the_config_holds_alerts_inside_its_time(notify_env):
    resp = notify_env.send(
        [event(detail={"n": i}, resources=[f"arn:aws:ec2:us-east-1:1:instance/i-{i}"]) for i in range(3)]
    )
    assert resp == {"batchItemFailures": []}
    assert notify_env.top("#ops") == [], "held: nothing posted"
    assert notify_env.rt.counts["held"] == 3 and notify_env.rt.counts["maintenance_held"] == 3
    [window] = notify_env.rt.store.active_maintenance()
    assert window.id == f"cfg-patching-{NOW - timedelta(hours=1):%Y%m%d%H%M}" and window.started_by == "eventops.yml"
    assert (window.scope, window.reason) == ("account:prod", "kernel patches")
    assert len(notify_env.rt.store.held_alerts(window.id)) == 3

    notify_env.send([event(account=STRANGER, detail={"other": 1})])  # not in the scope: posted
    assert len(notify_env.top("#ops")) == 1
    [started] = _held_audits(notify_env.rt)  # one record, however many batches met the window
    assert started.actor.is_system and started.params["window"] == window.id


@pytest.mark.config(_config(LATER))
def test_a_window_scheduled_later_holds_nothing_yet(notify_env):
    notify_env.send([event()])
    assert len(notify_env.top("#ops")) == 1
    assert notify_env.rt.store.active_maintenance() == [] and _held_audits(notify_env.rt) == []


def test_a_weekly_window_is_open_on_its_days_from_its_start_for_its_duration():
    begin = (NOW - timedelta(minutes=10)).replace(second=0, microsecond=0)
    weekly = MaintenanceSchedule.model_validate(
        {"name": "w", "scope": "region:us-east-1",
         "weekly": {"days": [DAYS[begin.weekday()]], "start": f"{begin:%H:%M}", "duration": "1h"}}
    )  # fmt: skip
    window = occurrence(weekly, NOW)
    assert window is not None and window.starts_at == begin and window.ends_at == begin + timedelta(hours=1)
    assert occurrence(weekly, begin + timedelta(hours=1)) is None
    assert occurrence(weekly, begin + timedelta(days=7, minutes=5)) is not None, "next week again"
    assert occurrence(weekly, begin + timedelta(days=1, minutes=5)) is None, "not on other days"


@pytest.mark.config(_config(OPEN_NOW))
def test_open_windows_are_read_once_per_batch(notify_env):
    calls = count_aws_calls(notify_env.rt)
    notify_env.handle([event(detail={"first": 1})])  # writes the scheduled window (and audits it) once
    calls.clear()
    notify_env.handle([event(detail={"n": i}) for i in range(5)])
    assert calls["dynamodb.Query"] == 1, dict(calls)
    assert notify_env.rt.counts["maintenance_held"] == 6
    calls.clear()
    notify_env.handle([event(account=STRANGER, detail={"n": i}) for i in range(5)])
    assert calls["dynamodb.Query"] == 1 and calls["dynamodb.TransactWriteItems"] > 0, dict(calls)  # posted: claims


@pytest.mark.config(_config({**OPEN_NOW, "scope": "rule:security"}))
def test_a_rule_scope_holds_what_that_rule_routes(notify_env):
    finding = json.loads((EVENTS / "guardduty-ec2-ssh-bruteforce.json").read_text())
    finding["account"] = "123456789012"
    notify_env.send([finding, event()])
    assert notify_env.top("#sec") == [] and len(notify_env.top("#ops")) == 1
    assert notify_env.rt.counts["maintenance_held"] == 1


OWN_ACCOUNT = [{"id": "123456789012", "alias": "prod", "regions": ["us-east-1"]}]


@pytest.mark.config(_config({**OPEN_NOW, "scope": "tag:env=staging"}, accounts=OWN_ACCOUNT))
def test_a_tag_scope_holds_alerts_about_resources_with_that_tag(notify_env):
    ec2 = boto3.client("ec2", region_name="us-east-1")

    def instance(env: str) -> str:
        tags = [{"Key": "env", "Value": env}]
        return ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
                                 TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])["Instances"][0]["InstanceId"]  # fmt: skip

    def stopped(iid: str) -> dict:
        ev = json.loads((EVENTS / "ec2-state-stopped.json").read_text())
        ev.update(id=f"evt-{iid}", region="us-east-1", account="123456789012")
        ev["resources"] = [f"arn:aws:ec2:us-east-1:123456789012:instance/{iid}"]
        ev["detail"] = {"instance-id": iid, "state": "stopped"}
        return ev

    staging, prod = instance("staging"), instance("prod")
    notify_env.send([stopped(staging), stopped(prod)])
    [posted] = notify_env.top("#ops")
    assert prod in json.dumps(posted.blocks) and staging not in json.dumps(posted.blocks)
    assert notify_env.rt.counts["maintenance_held"] == 1


@pytest.mark.parametrize(
    ("window", "error"),
    [
        ({"scope": "account:nope"}, "maintenance.0.scope: `nope` is not a 12-digit account id or a configured alias"),
        ({"scope": "rule:nope"}, "maintenance.0.scope: no routing rule named `nope`"),
        ({"scope": "planet:mars"}, "maintenance.0.scope: `planet:mars` is not a scope"),
        ({"end": _iso(NOW - timedelta(hours=2))}, "end must be after start"),
        ({"weekly": {"days": ["sun"], "start": "02:00", "duration": "2h"}}, "give either start and end, or weekly"),
        ({"name": "Bad Name"}, "a name is lowercase letters, digits and dashes"),
    ],
)
def test_a_bad_scheduled_window_fails_the_config_with_the_key_and_the_reason(window, error):
    with pytest.raises(ConfigError, match="maintenance") as exc:
        parse_config(_config({**OPEN_NOW, **window}), "eventops.yml")
    assert error in str(exc.value), str(exc.value)


def test_a_weekly_start_must_be_a_time_of_day():
    weekly = {"name": "w", "scope": "account:prod", "weekly": {"days": ["sun"], "start": "2am", "duration": "2h"}}
    with pytest.raises(ConfigError, match=r"maintenance\.0\.weekly\.start: .*'2am' is not a time of day as HH:MM"):
        parse_config(_config(weekly), "eventops.yml")
    with pytest.raises(ConfigError, match="maintenance.1.name: 'w' is used twice"):
        parse_config(
            _config(
                {**weekly, "weekly": {**weekly["weekly"], "start": "02:00"}},
                {**weekly, "weekly": {**weekly["weekly"], "start": "03:00"}},
            )
        )


@pytest.mark.config(_config(OPEN_NOW))
def test_a_summary_slack_refused_is_posted_by_the_next_housekeeping_run(notify_env):
    """Nothing held is lost when the end's summary post fails: the window is ended (once), the
    summary waits (MAINTRETRY#), and the next housekeeping run posts it with its alert."""
    from bot.maintenance.release import end_window, retry_releases
    from bot.models import Actor

    notify_env.send([event(detail={"n": 1}, resources=["arn:aws:ec2:us-east-1:1:instance/i-held"])])
    [window] = notify_env.rt.store.active_maintenance()
    notify_env.slack.fail_next("chat.postMessage", error="channel_not_found")
    released = end_window(notify_env.rt, window.id, Actor.system())
    assert released is not None and released.failed == ["#ops"] and notify_env.top("#ops") == []
    assert [(w.id, chans) for w, chans in notify_env.rt.store.pending_releases()] == [(window.id, ["#ops"])]
    assert end_window(notify_env.rt, window.id, Actor.system()) is None, "ended once"

    assert retry_releases(notify_env.rt) == 1
    [summary] = notify_env.top("#ops")
    assert "Maintenance on account:prod ended" in summary.text and "1 alert held, 1 still active" in summary.text
    assert notify_env.rt.store.pending_releases() == []
    assert retry_releases(notify_env.rt) == 0, "posted once"


def test_with_the_index_complete_and_nothing_open_a_batch_reads_no_windows(notify_env):
    """The batch's lookups bring the index of windows not ended: empty, the Query is skipped;
    a window started since is in it, so the next batch reads the windows and holds."""
    calls = count_aws_calls(notify_env.rt)  # before the store's client is made
    store = notify_env.rt.store
    store.index_maintenance()  # housekeeping
    calls.clear()
    notify_env.handle([event(detail={"n": i}) for i in range(3)])
    assert calls["dynamodb.Query"] == 0 and calls["dynamodb.BatchGetItem"] == 1, dict(calls)
    assert len(notify_env.top("#ops")) == 3
    notify_env.handle([event(detail={"alone": 1})])  # one event: its own read brings the index too
    assert calls["dynamodb.Query"] == 0 and len(notify_env.top("#ops")) == 4, dict(calls)
    window = MaintenanceWindow(
        id="w1",
        scope="account:prod",
        reason="patching",
        started_by="U0OPS",
        starts_at=NOW - timedelta(minutes=5),
        ends_at=NOW + timedelta(hours=1),
    )
    assert store.start_maintenance(window)  # /ops maintenance start
    notify_env.handle([event(detail={"n": i}) for i in range(3, 5)])
    assert calls["dynamodb.Query"] == 1 and notify_env.rt.counts["maintenance_held"] == 2, dict(calls)
    assert len(notify_env.top("#ops")) == 4
