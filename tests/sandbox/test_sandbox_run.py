"""The sandbox end to end over HTTP: demo alerts at start, fire, signed clicks and commands, ports."""

from __future__ import annotations

import argparse
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from sandbox_helpers import SIGNING_SECRET, Console, button, find_message

from bot.sandbox import cli
from bot.sandbox.estate import PROD, STAGING
from bot.sandbox.runner import Sandbox, SandboxOptions
from bot.sandbox.server import PortInUseError, sign

REVOKE = "Revoke open ingress rule"  # the title ec2.revoke-ingress declares


def test_demo_alerts_are_in_the_console_at_start(console: Console) -> None:
    snap = console.wait_for(lambda s: find_message(s, "opened to the internet") and find_message(s, "Alarm:") and s)
    names = {c["name"] for c in snap["channels"]}
    assert {"security", "ops", "team-payments", "team-platform"} <= names
    alert = find_message(snap, "opened to the internet")
    assert alert["channel_name"] == "security"
    assert {"channel", "ts", "thread_ts", "text", "blocks", "edited"} <= set(alert)
    rule_id = console.sandbox.estate.prod.open_rule_id
    assert rule_id in str(alert["blocks"]), "the demo event names the seeded rule's real SecurityGroupRuleId"
    assert button(alert, REVOKE)["action_id"] == "eventops:remediate:ec2.revoke-ingress"
    # the alarm is routed by the instance's team tag
    assert find_message(snap, "Alarm:")["channel_name"] == "team-payments"
    assert {u["id"] for u in snap["users"]} >= {"U0OPERATOR", "U0APPROVER", "U0OUTSIDER"}


def test_fire_a_sample_reaches_the_console(console: Console) -> None:
    status, body = console.post("/console/fire", {"sample": "alarm-staging"})
    assert status == 200 and len(body["fired"]) == 1
    msg = console.wait_for(lambda s: find_message(s, "web-staging CPU above 90%"))
    assert "staging" in msg["text"] and STAGING in str(msg["blocks"])

    status, body = console.post("/console/fire", {"sample": "no-such-sample"})
    assert status == 400 and "open-port" in body["error"], "an unknown sample lists the choices"


def test_cli_fire_posts_into_the_running_sandbox(console: Console, capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(event="open-port-staging", port=console.sandbox.server.port, bus=None)
    assert cli.fire(args) == 0
    assert "fired 1 event" in capsys.readouterr().out
    console.wait_for(lambda s: find_message(s, console.sandbox.estate.staging.security_group_id))


def test_click_runs_the_remediation_and_the_message_says_verified(console: Console) -> None:
    sb = console.sandbox
    alert = console.wait_for(lambda s: find_message(s, sb.estate.prod.security_group_id))
    el = button(alert, REVOKE)
    status, body = console.post(
        "/console/click",
        {
            "user": "U0OPERATOR",
            "channel": alert["channel"],
            "ts": alert["ts"],
            "action_id": el["action_id"],
            "value": el["value"],
        },
    )
    assert status == 200 and body["status"] == 200, body

    def verified(snap):
        msg = next(m for m in snap["messages"] if m["ts"] == alert["ts"])
        replies = [m for m in snap["messages"] if m["thread_ts"] == alert["ts"] and m["ts"] != alert["ts"]]
        return msg["edited"] and "succeeded" in str(msg["blocks"]) and any("verified" in str(r) for r in replies)

    console.wait_for(verified)
    ec2 = sb.runtime().sessions.client("ec2")
    rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [sb.estate.prod.security_group_id]}]
    )
    assert [r for r in rules["SecurityGroupRules"] if not r["IsEgress"]] == [], "moto's rule is really gone"


def test_outsider_click_is_refused(console: Console) -> None:
    alert = console.wait_for(lambda s: find_message(s, "SSH brute force"))
    el = button(alert, "Stop instance")
    status, body = console.post(
        "/console/click",
        {"user": "U0OUTSIDER", "channel": alert["channel"], "ts": alert["ts"], "action_id": el["action_id"]},
    )
    assert status == 200 and body["status"] == 200
    refusal = console.wait_for(
        lambda s: next((e for e in s["ephemerals"] if e["user"] == "U0OUTSIDER" and "not allowed" in e["text"]), None)
    )
    assert refusal["channel"] == alert["channel"]


def test_ops_command_answers(console: Console) -> None:
    snap = console.messages()
    channel = next(c["id"] for c in snap["channels"] if c["name"] == "ops")
    status, body = console.post(
        "/console/command", {"user": "U0OPERATOR", "channel": channel, "text": "/ops instances"}
    )
    assert status == 200 and body["status"] == 200, body
    answer = console.wait_for(
        lambda s: next((e for e in s["ephemerals"] if e["channel"] == channel and "web-1" in str(e["blocks"])), None)
    )
    assert "web-staging" in str(answer["blocks"]), "both accounts are listed (staging through AssumeRole)"


def test_front_door_refuses_a_bad_signature(console: Console) -> None:
    body = b"command=%2Fops&text=help&user_id=U0OPERATOR&team_id=T0EVENTOPS&channel_id=C1"
    ts = str(int(time.time()))
    for signature in ("v0=" + "0" * 64, sign("wrong-secret", ts, body.decode())):
        req = urllib.request.Request(
            console.base + "/slack/events",
            data=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": signature,
            },
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=10)
        assert err.value.code == 401
    assert console.sandbox.signing_secret == SIGNING_SECRET


def test_estate_spans_two_accounts(sandbox: Sandbox) -> None:
    for account in (PROD, STAGING):
        est = sandbox.estate.accounts[account]
        assert est.instances and est.open_rule_id.startswith("sgr-") and est.bucket and est.access_key_id
        ec2 = sandbox.runtime().sessions.client("ec2", account=account)
        names = {
            t["Value"]
            for r in ec2.describe_instances()["Reservations"]
            for i in r["Instances"]
            for t in i["Tags"]
            if t["Key"] == "Name"
        }
        assert names == set(est.instances)


# --- ports -------------------------------------------------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def test_taken_port_names_the_port_and_the_flag(busy_port: int) -> None:
    with pytest.raises(PortInUseError) as err:
        Sandbox(SandboxOptions(port=busy_port, aws_port=0, demo=False)).start()
    assert f"port {busy_port}" in str(err.value) and "--port" in str(err.value)

    with pytest.raises(PortInUseError) as err:
        Sandbox(SandboxOptions(port=0, aws_port=busy_port, demo=False)).start()
    assert f"port {busy_port}" in str(err.value) and "--aws-port" in str(err.value)


def test_cli_exits_2_on_a_taken_port(busy_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(port=busy_port, aws_port=0, no_demo=True)
    assert cli.sandbox(args) == 2
    err = capsys.readouterr().err
    assert f"port {busy_port} is already in use" in err and "--port" in err
    assert err.count("\n") == 1, "one clear line, no traceback"


def test_cli_fire_without_a_sandbox_says_so(busy_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    assert cli.fire(argparse.Namespace(event="open-port", port=free, bus=None)) == 2
    assert f"no sandbox answers on port {free}" in capsys.readouterr().err


def test_dev_socket_mode_needs_tokens(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The missing-token path; test_sandbox_socket_dev.py runs dev against the fake's Socket Mode."""
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert cli.dev(argparse.Namespace(socket_mode=True)) == 2
    err = capsys.readouterr().err
    assert "SLACK_APP_TOKEN and SLACK_BOT_TOKEN" in err

    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-not-an-app-token")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    assert cli.dev(argparse.Namespace(socket_mode=True)) == 2
    assert "xapp-" in capsys.readouterr().err


def test_high_risk_needs_two_approvers_by_hand(console: Console) -> None:
    """Operator requests isolation; requester, outsider and a repeat approval are refused; two approvers run it."""
    alert = console.wait_for(lambda s: find_message(s, "SSH brute force"))
    isolate = button(alert, "Isolate instance (quarantine security group)")

    def click(user: str, msg: dict, el: dict) -> None:
        status, body = console.post(
            "/console/click",
            {
                "user": user,
                "channel": msg["channel"],
                "ts": msg["ts"],
                "action_id": el["action_id"],
                "value": el["value"],
            },
        )
        assert status == 200 and body["status"] == 200, body

    def said_to(user: str, text: str):
        return lambda s: next((e for e in s["ephemerals"] if e["user"] == user and text in e["text"]), None)

    click("U0OPERATOR", alert, isolate)
    request = console.wait_for(
        lambda s: next(
            (m for m in s["messages"] if m["thread_ts"] == alert["ts"] and "requested by" in m["text"]), None
        )
    )
    approve = button(request, "Approve")
    click("U0OPERATOR", request, approve)
    console.wait_for(said_to("U0OPERATOR", "you requested this change"))
    click("U0OUTSIDER", request, approve)
    console.wait_for(said_to("U0OUTSIDER", "not an approver"))
    click("U0APPROVER", request, approve)
    console.wait_for(said_to("U0APPROVER", "(1/2)"))
    click("U0APPROVER", request, approve)
    console.wait_for(said_to("U0APPROVER", "already approved"))
    click("U0APPROVER2", request, approve)
    console.wait_for(
        lambda s: any(
            m["thread_ts"] == alert["ts"] and "Isolate instance" in m["text"] and "succeeded" in m["text"]
            for m in s["messages"]
        )
    )
