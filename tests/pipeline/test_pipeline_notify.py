"""The notify side end to end: SQS batch → handlers/notify.py → the loopback Slack fake, moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from pipeline_env import event

ARN = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"


def test_each_event_becomes_one_message_in_the_routed_channel(notify_env):
    resp = notify_env.send([event(detail={"n": i}, resources=[f"{ARN[:-1]}{i}"]) for i in range(3)])
    assert resp == {"batchItemFailures": []}
    msgs = notify_env.top("#ops")
    assert len(msgs) == 3
    for m in msgs:
        assert m.metadata["event_type"] == "eventops_alert"
        assert m.metadata["event_payload"]["source_kind"] == "generic"
        assert m.text  # the notification fallback is never empty


def test_same_event_id_twice_posts_once(notify_env):
    ev = event(event_id="dup-1", resources=[ARN])
    notify_env.send([ev])
    notify_env.send([ev])  # EventBridge / SQS redelivery, possibly hours later
    assert len(notify_env.top("#ops")) == 1
    assert notify_env.rt.counts["duplicates_suppressed"] == 1
    # the dedup key outlives EventBridge's 24 h retry window
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    item = ddb.get_item(TableName="eventops-test", Key={"pk": {"S": "EVENT#dup-1"}, "sk": {"S": "EVENT"}})["Item"]
    assert float(item["ttl"]["N"]) - datetime.now(UTC).timestamp() > 24 * 3600


def test_repeats_of_a_problem_update_the_first_message_with_a_counter(notify_env):
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    events = [event(resources=[ARN], time=t0 + timedelta(minutes=i), detail={"i": i}) for i in range(5)]
    notify_env.send(events[:1])
    notify_env.send(events[1:])
    msgs = notify_env.top("#ops")
    assert len(msgs) == 1
    assert msgs[0].edited
    rendered = json.dumps(msgs[0].blocks)
    assert "seen 5 times" in rendered
    assert len(notify_env.slack.calls("chat.postMessage")) == 1


def test_an_older_event_arriving_late_does_not_replace_the_newer_content(notify_env):
    now = datetime.now(UTC)
    newer = event(resources=[ARN], time=now, detail={"state": "NEWER"})
    older = event(resources=[ARN], time=now - timedelta(hours=1), detail={"state": "OLDER"})
    notify_env.send([newer])
    notify_env.send([older])
    msg = notify_env.top("#ops")[0]
    rendered = json.dumps(msg.blocks)
    assert "NEWER" in rendered and "OLDER" not in rendered
    assert "seen 2 times" in rendered


def test_related_events_about_one_resource_go_into_the_first_messages_thread(notify_env):
    notify_env.send([event(detail_type="Disk Full", resources=[ARN])])
    notify_env.send([event(detail_type="CPU High", resources=[ARN])])
    top = notify_env.top("#ops")
    assert len(top) == 1
    replies = notify_env.replies("#ops", top[0].ts)
    assert len(replies) == 1
    assert "CPU High" in replies[0].text


def _sample_event(name: str) -> dict:
    return json.loads((Path(__file__).resolve().parents[1] / "events" / name).read_text())


@pytest.mark.config({"routing": {"default": {"channel": "#ops", "mode": "notify"}}})
def test_a_failure_after_a_resolved_message_is_its_own_message_not_a_reply(notify_env):
    """Threading never hides severity: a HIGH deployment failure arriving after the INFO
    "deployment completed — Resolved" message of the same service posts on its own."""
    notify_env.send([_sample_event("ecs-deployment-completed.json")])
    notify_env.send([_sample_event("ecs-deployment-failed.json")])
    top = notify_env.top("#ops")
    assert len(top) == 2, [m.text for m in top]
    assert "failed" in top[-1].text.lower()
    assert notify_env.replies("#ops", top[0].ts) == []


@pytest.mark.config({"routing": {"default": {"channel": "#ops", "mode": "notify"}}})
def test_a_less_severe_event_about_the_resource_still_goes_into_the_thread(notify_env):
    notify_env.send([_sample_event("ecs-deployment-failed.json")])
    notify_env.send([_sample_event("ecs-deployment-completed.json")])
    top = notify_env.top("#ops")
    assert len(top) == 1
    assert len(notify_env.replies("#ops", top[0].ts)) == 1


def test_a_malformed_record_becomes_a_generic_alert_and_the_batch_goes_on(notify_env, caplog):
    good = event(resources=[ARN])
    resp = notify_env.send(["{not json", {"no": "envelope"}, good])
    assert resp == {"batchItemFailures": []}
    msgs = notify_env.top("#ops")
    assert len(msgs) == 3
    texts = json.dumps([m.blocks for m in msgs])
    assert "Could not fully read this event" in texts
    assert notify_env.rt.counts["unparsed"] == 2


@pytest.mark.parametrize("depth", [900, 5_000, 100_000])
def test_a_deeply_nested_record_becomes_a_generic_alert_with_a_log_line(notify_env, caplog, depth):
    nested = '{"detail": ' + "[" * depth + "]" * depth + "}"
    with caplog.at_level("WARNING"):
        resp = notify_env.send([nested, event(resources=[ARN])])
    assert resp == {"batchItemFailures": []}
    assert len(notify_env.top("#ops")) == 2
    assert "Could not fully read this event" in json.dumps([m.blocks for m in notify_env.top("#ops")])


def test_a_slack_outage_fails_only_that_record_and_the_retry_posts_it_once(notify_env):
    notify_env.slack.fail_next("chat.postMessage", status=500, times=20)
    ev = event(event_id="retry-me", resources=[ARN])
    other = event(resources=[ARN.replace("ef0", "ef1")])
    resp = notify_env.handle([ev])
    assert len(resp["batchItemFailures"]) == 1
    assert notify_env.top("#ops") == []
    notify_env.slack._faults.clear()
    resp = notify_env.handle([ev, other])
    assert resp == {"batchItemFailures": []}
    assert len(notify_env.top("#ops")) == 2


def test_an_invalid_config_names_the_key_and_the_reason():
    from bot.config import parse_config
    from bot.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        parse_config({"routing": {"rules": [{"name": "x", "mode": "yolo"}]}}, "eventops.yml")
    assert "eventops.yml: routing.rules.0.mode" in str(err.value)
    with pytest.raises(ConfigError) as err:
        parse_config({"routing": {"defualt": {"channel": "#x"}}}, "eventops.yml")
    assert "routing.defualt: unknown key" in str(err.value)
    with pytest.raises(ConfigError) as err:
        parse_config({"accounts": [{"id": 12345}]}, "eventops.yml")
    assert "accounts.0.id" in str(err.value)


def _policy(**tiers: dict) -> dict:
    return {"policy": {"teams": ["T0ORG"], "tiers": tiers}}


@pytest.mark.parametrize(
    ("tier", "risk", "message"),
    [
        (
            {"users": ["UREQ"], "approvers": ["UA", "UB"], "approvals": 5},
            "HIGH",
            "eventops.yml: policy.tiers.HIGH.approvals: 5 approvals by people other than the requester are needed"
            " but only 2 approvers are listed",
        ),
        (  # approvers default to the users, and the requester cannot approve their own request
            {"users": ["UA", "UB"], "approvals": 2},
            "MEDIUM",
            "eventops.yml: policy.tiers.MEDIUM.approvals: 2 approvals by people other than the requester are needed"
            " but only 2 approvers are listed, and a requester (UA) cannot approve their own request, which leaves 1",
        ),
        (  # HIGH always needs two, even when the tier asks for fewer
            {"users": ["UA"], "approvers": ["UA", "UB"], "approvals": 1},
            "HIGH",
            "eventops.yml: policy.tiers.HIGH.approvals: 2 approvals by people other than the requester are needed"
            " (HIGH always needs at least 2) but only 2 approvers are listed, and a requester (UA) cannot approve"
            " their own request, which leaves 1",
        ),
        (
            {"users": ["UA"]},
            "HIGH",
            "eventops.yml: policy.tiers.HIGH.approvals: 2 approvals by people other than the requester are needed"
            " (HIGH always needs at least 2) but only 1 approver is listed, and a requester (UA) cannot approve"
            " their own request, which leaves 0",
        ),
    ],
)
def test_approvals_nobody_can_give_are_a_start_up_error_naming_the_key(tier, risk, message):
    from bot.config import parse_config
    from bot.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        parse_config(_policy(**{risk: tier}), "eventops.yml")
    assert str(err.value) == message


@pytest.mark.parametrize(
    "tier",
    [
        {"users": ["UREQ"], "approvers": ["UA", "UB"], "approvals": 2},  # the requester is not an approver
        {"users": ["UA", "UB"], "approvers": ["UA", "UB", "UC"]},  # HIGH's implicit 2: two others each time
        {"users": ["UA"], "user_groups": ["S0SRE"], "approvals": 5},  # group sizes are known only at run time
        {"user_groups": ["S0SRE"]},
        {},  # nobody may request: the tier is off, its approvals are moot
        {"approvers": ["UA"], "approvals": 3},
    ],
)
def test_approvals_that_can_be_given_or_cannot_be_counted_load(tier):
    from bot.config import parse_config

    assert parse_config(_policy(HIGH=tier, LOW={"users": ["UA"]}), "eventops.yml").policy is not None


def test_the_approval_floor_matches_the_click_time_rule():
    from bot.approval.authz import approvals_needed
    from bot.config import MIN_HIGH_APPROVALS, Policy, Tier
    from bot.models import Risk

    assert approvals_needed(Policy(tiers={Risk.HIGH: Tier(approvals=0)}), Risk.HIGH) == MIN_HIGH_APPROVALS
    assert approvals_needed(Policy(tiers={Risk.MEDIUM: Tier(approvals=0)}), Risk.MEDIUM) == 0


def test_the_shipped_configs_load_as_the_runtime_loads_them():
    from pathlib import Path

    import bot.sandbox
    from bot.runtime import load_checked_config

    root = Path(__file__).resolve().parents[2]
    for path in [root / "config" / "eventops.yml", Path(bot.sandbox.__file__).parent / "demo-config.yml"]:
        assert load_checked_config(path).routing.default.channel, path


def test_a_route_naming_a_missing_remediation_is_a_start_up_error_naming_the_key(tmp_path, monkeypatch):
    import yaml

    from bot.errors import ConfigError
    from bot.runtime import load_checked_config

    cfg = tmp_path / "eventops.yml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "routing": {
                    "rules": [
                        {"name": "a", "channel": "#a"},
                        {"name": "b", "channel": "#b", "remediations": ["ec2.stop-instance"]},
                        {"name": "c", "channel": "#c", "mode": "propose", "remediations": ["ec2.rebooot-instance"]},
                    ],
                    "default": {"channel": "#ops", "remediations": ["ec2.stop-instance", "frobnicate"]},
                }
            }
        )
    )
    with pytest.raises(ConfigError) as err:
        load_checked_config(cfg)
    first, second = str(err.value).split("; ")
    assert first == (
        "eventops.yml: routing.rules.2.remediations.0: no remediation 'ec2.rebooot-instance'"
        " (did you mean 'ec2.reboot-instance'?)"
    )
    assert second.startswith("eventops.yml: routing.default.remediations.1: no remediation 'frobnicate' (known: ")
    assert "ec2.reboot-instance" in second

    # the runtime's own load (every handler's cold start) refuses it the same way
    from bot.runtime import Runtime

    monkeypatch.setenv("EVENTOPS_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match=r"routing\.rules\.2\.remediations\.0: no remediation"):
        Runtime.from_env()


@pytest.mark.config(
    {
        "routing": {"default": {"channel": "#ops"}},
        "publish": {"bus_name": "eventops-alerts", "archive_bucket": "eventops-archive"},
    }
)
def test_alerts_are_published_to_a_bus_and_events_archived_to_s3(notify_env):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="eventops-archive")
    boto3.client("events", region_name="us-east-1").create_event_bus(Name="eventops-alerts")
    ev = event(event_id="archive-me", resources=[ARN])
    notify_env.send([ev])
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="eventops-archive").get("Contents", [])]
    assert len(keys) == 1 and keys[0].endswith("/archive-me.json")
    assert json.loads(s3.get_object(Bucket="eventops-archive", Key=keys[0])["Body"].read())["id"] == "archive-me"
    assert notify_env.rt.counts["publish_failed"] == 0


@pytest.mark.rate_limited
@pytest.mark.config(
    {
        "routing": {"default": {"channel": "#ops"}},
        "storm": {"threshold_per_minute": 3, "alerts_per_reply": 50},
        "dedup": {"max_updates_per_channel_per_batch": 2},
    }
)
def test_a_500_event_storm_for_one_channel_loses_nothing(notify_env):
    """500 distinct alerts in one burst against 1 msg/s/channel: a summary plus threaded lists."""
    events = [event(detail_type=f"Check {i}", resources=[f"{ARN[:-3]}{i:03x}"]) for i in range(500)]
    failures = []
    for i in range(0, 500, 100):  # Lambda's batching window hands over up to 100 at once here
        resp = notify_env.handle(events[i : i + 100])
        failures += resp["batchItemFailures"]
    assert failures == []
    top = notify_env.top("#ops")
    storm = [m for m in top if m.metadata and m.metadata.get("event_type") == "eventops_storm"]
    assert 1 <= len(storm) <= 2  # one per 10-minute window; the burst may straddle two
    singles = [m for m in top if m.metadata and m.metadata.get("event_type") == "eventops_alert"]
    listed = sum(
        len(b["text"]["text"].split("\n")) - 1
        for s in storm
        for r in notify_env.replies("#ops", s.ts)
        for b in r.blocks
        if b["type"] == "section"
    )
    assert len(singles) + listed == 500  # every event accounted for
    assert sum(int(s.text.split()[2]) for s in storm) == listed  # "Alert storm: N alerts since …"
    posts = len([c for c in notify_env.slack.calls("chat.postMessage") if c.status == 200])
    assert posts <= 25  # ≥ 20× fewer posts than one per event


def test_a_status_line_survives_later_repeats(notify_env):
    from bot.messages import refresh_alert_message

    first = event(resources=[ARN], detail={"i": 0})
    notify_env.send([first])
    refresh_alert_message(notify_env.rt, first["id"], status="Acknowledged by alice")
    notify_env.send([event(resources=[ARN], detail={"i": 1})])
    (msg,) = notify_env.top("#ops")
    rendered = json.dumps(msg.blocks)
    assert "Acknowledged by alice" in rendered and "seen 2 times" in rendered


def test_the_daily_heartbeat_posts_what_was_seen(notify_env):
    from handlers import housekeeping

    notify_env.send([event(resources=[ARN])])
    housekeeping.set_runtime(notify_env.rt)
    assert housekeeping.handler({"task": "heartbeat"}, None) == {"heartbeat_posted": 1}
    beat = [m for m in notify_env.top("#ops") if "heartbeat" in m.text]
    assert len(beat) == 1
    assert "1 INFO" in json.dumps(beat[0].blocks)


@pytest.mark.config({"routing": {"default": {"channel": "#ops"}}, "storm": {"threshold_per_minute": 3}})
def test_a_burst_bigger_than_a_minutes_threshold_goes_to_the_summary_at_once(notify_env):
    """One batch bringing #ops 6 new problems (threshold 3 a minute): no alert is posted on its
    own first (at Slack's 1 post/s that alone would take seconds); one summary lists all 6."""
    events = [event(detail_type=f"Burst {i}", resources=[f"{ARN[:-3]}{i:03x}"]) for i in range(6)]
    assert notify_env.handle(events) == {"batchItemFailures": []}
    top = notify_env.top("#ops")
    assert [m.metadata["event_type"] for m in top] == ["eventops_storm"]
    lines = [
        ln
        for r in notify_env.replies("#ops", top[0].ts)
        for b in r.blocks
        if b["type"] == "section"
        for ln in b["text"]["text"].split("\n")[1:]
    ]
    assert sorted(e["id"] for e in events) == sorted(ln.rsplit("`", 2)[1] for ln in lines)
    decided = notify_env.rt.store.get_alert(events[0]["id"]).decisions
    assert decided is not None and "brought 6 new problems to #ops at once" in decided.model_dump_json()


@pytest.mark.config({"routing": {"default": {"channel": "#ops"}}, "storm": {"threshold_per_minute": 3}})
def test_a_batch_within_the_threshold_is_posted_one_by_one(notify_env):
    events = [event(detail_type=f"Calm {i}", resources=[f"{ARN[:-3]}{i:03x}"]) for i in range(3)]
    assert notify_env.handle(events) == {"batchItemFailures": []}
    assert [m.metadata["event_type"] for m in notify_env.top("#ops")] == ["eventops_alert"] * 3
