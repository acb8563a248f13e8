"""Propose mode: buttons carry opaque proposal ids stored in DynamoDB; notify mode offers none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pipeline_env import BASE_CONFIG

EVENTS = Path(__file__).resolve().parents[1] / "events"


def _sample(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def _actions(msg) -> list[dict]:
    return [e for b in msg.blocks if b["type"] == "actions" for e in b["elements"]]


def test_an_open_port_alert_offers_revoke_ingress_with_a_stored_proposal(notify_env):
    notify_env.send([_sample("cloudtrail-sg-ingress-open-ssh.json")])
    (msg,) = notify_env.top("#ops")
    buttons = _actions(msg)
    revoke = [b for b in buttons if b["action_id"] == "eventops:remediate:ec2.revoke-ingress"]
    assert len(revoke) == 1
    proposal = notify_env.rt.store.get_proposal(revoke[0]["value"])
    assert proposal.remediation == "ec2.revoke-ingress"
    assert proposal.state.value == "PROPOSED"
    assert proposal.message_ts == msg.ts and proposal.channel == msg.channel
    assert proposal.params["group_id"].startswith("sg-")
    assert proposal.expires_at > proposal.created_at
    # nothing but the opaque id travels in the button
    assert len(revoke[0]["value"]) == 32
    ids = [b["action_id"] for b in buttons]
    assert ids[-3:] == ["eventops:ack", "eventops:snooze", "eventops:dismiss"]
    (menu,) = [b for b in buttons if b["type"] == "static_select"]
    assert [o["text"]["text"] for o in menu["options"]] == [
        "Snooze 1 hour",
        "Snooze 4 hours",
        "Snooze 24 hours",
        "Custom…",
    ]
    assert len([b for b in buttons if b.get("style") == "primary"]) <= 1


@pytest.mark.config({"routing": {"default": {"channel": "#ops", "mode": "notify"}}})
def test_notify_mode_offers_no_remediation_buttons(notify_env):
    notify_env.send([_sample("cloudtrail-sg-ingress-open-ssh.json")])
    (msg,) = notify_env.top("#ops")
    assert not [b for b in _actions(msg) if b["action_id"].startswith("eventops:remediate:")]


@pytest.mark.config({"routing": {"default": {"channel": "#ops", "mode": "propose"}}, "kill_switch": True})
def test_the_kill_switch_makes_every_route_notify_only(notify_env):
    notify_env.send([_sample("cloudtrail-sg-ingress-open-ssh.json")])
    (msg,) = notify_env.top("#ops")
    assert not [b for b in _actions(msg) if b["action_id"].startswith("eventops:remediate:")]


@pytest.mark.config(
    {
        "accounts": BASE_CONFIG["accounts"],
        "routing": {"default": {"channel": "#ops", "mode": "propose", "remediations": ["ssm.run-automation"]}},
        "runbooks": [
            {
                "document": "AWS-RestartEC2Instance",
                "resource_types": ["AwsEc2Instance"],
                "parameters": {"InstanceId": "{resource.id}"},
            }
        ],
    }
)
def test_configured_runbooks_are_offered_on_matching_alerts(notify_env):
    notify_env.send([_sample("guardduty-ec2-ssh-bruteforce.json")])
    (msg,) = notify_env.top("#ops")
    (button,) = [b for b in _actions(msg) if b["action_id"] == "eventops:remediate:ssm.run-automation"]
    proposal = notify_env.rt.store.get_proposal(button["value"])
    assert proposal.params["document"] == "AWS-RestartEC2Instance"
    assert proposal.params["parameters"]["InstanceId"][0].startswith("i-")
