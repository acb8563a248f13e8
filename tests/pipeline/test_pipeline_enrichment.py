"""Name-tag enrichment from live AWS (moto), secrets loading, the kill switch parameter."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from bot.config import Settings, parse_config
from bot.errors import ConfigError
from bot.runtime import Runtime

EVENTS = Path(__file__).resolve().parents[1] / "events"


def _state_change(instance_id: str, state: str = "stopped") -> dict:
    ev = json.loads((EVENTS / "ec2-state-stopped.json").read_text())
    ev["id"] = f"evt-{instance_id}-{state}"
    ev["region"] = "us-east-1"
    ev["resources"] = [f"arn:aws:ec2:us-east-1:123456789012:instance/{instance_id}"]
    ev["detail"] = {"instance-id": instance_id, "state": state}
    return ev


def _instance(tags: dict[str, str]) -> str:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    return ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
    )["Instances"][0]["InstanceId"]


def test_ec2_state_changes_show_the_instances_name_tag_and_route_by_team(notify_env):
    iid = _instance({"Name": "payments-api-1", "team": "payments"})
    notify_env.send([_state_change(iid)])
    (msg,) = notify_env.top("#team-payments")
    assert "payments-api-1" in json.dumps(msg.blocks)


def test_a_failed_tag_lookup_never_fails_the_alert(notify_env):
    iid = _instance({"Name": "db-1"})

    raised = []

    def boom(**_kw):
        raised.append(1)
        raise RuntimeError("tag service down")

    client = notify_env.rt.sessions.client("ec2", region="us-east-1", account="123456789012", read_only=True)
    client.meta.events.register("before-call.ec2.DescribeTags", boom)
    resp = notify_env.send([_state_change(iid)])
    assert raised  # the lookup really failed
    assert resp == {"batchItemFailures": []}
    (msg,) = notify_env.top("#ops")
    assert iid in json.dumps(msg.blocks)
    assert msg.metadata["event_payload"]["source_kind"] == "ec2"  # parsed normally, just without tags
    assert "Could not fully read" not in json.dumps(msg.blocks)


def test_tag_lookups_are_cached_within_an_invocation(notify_env):
    iid = _instance({"Name": "cache-me"})
    calls = []
    client = notify_env.rt.sessions.client("ec2", region="us-east-1", account="123456789012", read_only=True)
    client.meta.events.register("before-call.ec2.DescribeTags", lambda **kw: calls.append(1))
    notify_env.send([_state_change(iid, "stopping"), _state_change(iid, "stopped")])
    assert len(calls) == 1


def _rt(**settings) -> Runtime:
    return Runtime(settings=Settings(aws_region="us-east-1", **settings), config=parse_config({}))


def test_slack_secrets_come_from_secrets_manager_when_env_is_unset(aws):
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.create_secret(Name="eventops/slack", SecretString=json.dumps({"bot_token": "xoxb-sm", "signing_secret": "sig"}))
    rt = _rt(slack_secret_id="eventops/slack")
    assert rt.secrets.bot_token == "xoxb-sm" and rt.secrets.signing_secret == "sig"
    assert "xoxb-sm" not in repr(rt.secrets)


def test_slack_secrets_from_ssm_securestring_and_env_wins(aws):
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/eventops/token", Value="xoxb-ssm", Type="SecureString")
    ssm.put_parameter(Name="/eventops/signing", Value="sig-ssm", Type="SecureString")
    rt = _rt(slack_token_parameter="/eventops/token", slack_signing_secret_parameter="/eventops/signing")
    assert (rt.secrets.bot_token, rt.secrets.signing_secret) == ("xoxb-ssm", "sig-ssm")
    rt = _rt(slack_bot_token="xoxb-env", slack_token_parameter="/eventops/token", slack_signing_secret="s")
    assert rt.secrets.bot_token == "xoxb-env"


def test_missing_secrets_fail_with_the_setting_to_fix(aws):
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        _ = _rt().secrets


def test_kill_switch_parameter_on_off_and_unreadable(aws):
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/eventops/kill", Value="off", Type="String")
    assert _rt(kill_switch_parameter="/eventops/kill").kill_switch_on() is False
    ssm.put_parameter(Name="/eventops/kill", Value="on", Type="String", Overwrite=True)
    assert _rt(kill_switch_parameter="/eventops/kill").kill_switch_on() is True
    # an unreadable switch fails closed: notify-only
    assert _rt(kill_switch_parameter="/eventops/missing").kill_switch_on() is True
