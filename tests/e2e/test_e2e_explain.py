"""``/ops explain`` and the "Explain with EventOps" shortcut, end to end over real HTTP.

Alerts go onto the sandbox's alerts queue (its notify handler routes, groups and offers), then
``/ops explain <id>``, ``/ops explain <permalink>`` and a signed ``message_action`` POST to
``/slack/events`` ask why; the answers are what the Slack fake received.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.sandbox.runner import DEMO_CONFIG, Sandbox, SandboxOptions
from tests.e2e.conftest import OPERATOR, SIGNING_SECRET, Ops, clean

EVENTS = Path(__file__).resolve().parents[1] / "events"


def _event(name: str, event_id: str, **changes: Any) -> dict[str, Any]:
    ev = json.loads((EVENTS / name).read_text())
    ev["id"] = event_id
    ev.update(changes)
    return ev


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The demo config plus a fourth rule in notify mode (AWS Config findings)."""
    config = yaml.safe_load(DEMO_CONFIG.read_text())
    config["routing"]["rules"].append(
        {"name": "config-watch", "match": {"source": ["aws.config"]}, "channel": "#ops", "mode": "notify"}
    )
    path = tmp_path_factory.mktemp("explain") / "config.yml"
    path.write_text(yaml.safe_dump(config))
    sb = Sandbox(SandboxOptions(port=0, aws_port=0, demo=False, signing_secret=SIGNING_SECRET, config_path=path))
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


def _posted(sb: Sandbox, alert_id: str, timeout: float = 20.0) -> Any:
    """The stored alert once its message is posted (or it was grouped: then once stored)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stored = sb.runtime().store.get_alert(alert_id)
            if stored.ts or (stored.decisions and stored.decisions.outcome != "posted"):
                return stored
        except Exception:  # not stored yet
            pass
        time.sleep(0.2)
    raise AssertionError(f"alert {alert_id} was not delivered within {timeout:.0f} s")


@pytest.fixture(scope="module")
def world(sandbox: Sandbox) -> dict[str, Any]:
    """Four alerts: routed by rule 2 and repeated; GuardDuty on an exempt instance; one from an
    unconfigured account; one routed to a notify-mode rule."""
    ssh = "cloudtrail-sg-ingress-open-ssh.json"
    sandbox.put_events([_event(ssh, "explain-ct-1")])
    first = _posted(sandbox, "explain-ct-1")
    sandbox.put_events([_event(ssh, "explain-ct-2")])  # the same problem again: a repeat
    crypto = _event("guardduty-ec2-cryptocurrency-critical.json", "explain-gd-1")
    crypto["detail"]["resource"]["instanceDetails"]["tags"].append({"key": "eventops:exempt", "value": "true"})
    stranger = _event(ssh, "explain-ct-stranger", account="999999999999")
    stranger["detail"] = copy.deepcopy(stranger["detail"])
    stranger["detail"]["recipientAccountId"] = "999999999999"
    stranger["detail"]["userIdentity"]["accountId"] = "999999999999"
    sandbox.put_events([crypto, stranger, _event("config-noncompliant.json", "explain-cfg-1")])
    out = {"first": first}
    for key, alert_id in (("gd", "explain-gd-1"), ("stranger", "explain-ct-stranger"), ("cfg", "explain-cfg-1")):
        out[key] = _posted(sandbox, alert_id)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        rec = sandbox.runtime().store.get_message(first.alert.fingerprint)
        if rec is not None and rec.count >= 2:
            break
        time.sleep(0.2)
    return out


@pytest.fixture(scope="module")
def ops(sandbox: Sandbox, world: dict[str, Any]) -> Ops:
    return Ops(sandbox)


def test_explain_by_id_names_the_rule_the_earlier_rule_and_the_grouping(ops: Ops) -> None:
    answer = clean(ops.command(OPERATOR, "explain explain-ct-1"))
    assert "rule 'risky-api-calls' (2) matched" in answer
    assert "rule 'threat-detection' (1): source aws.ec2 not in [aws.guardduty, aws.securityhub]" in answer
    assert "counts 2 events: 1 repeat grouped into it" in answer
    assert "`ec2.revoke-ingress`" in answer and "Offered" in answer


def test_explain_a_repeat_says_it_was_grouped(ops: Ops) -> None:
    answer = clean(ops.command(OPERATOR, "explain explain-ct-2"))
    assert "Grouped as a repeat" in answer and "explain-ct-1" in answer


def test_explain_by_permalink_lists_the_refusals(ops: Ops, world: dict[str, Any]) -> None:
    gd = world["gd"]
    link = ops.sb.runtime().slack.permalink(gd.channel, gd.ts)
    assert link and "/archives/" in link
    answer = clean(ops.command(OPERATOR, f"explain {link}"))
    assert "rule 'threat-detection' (1) matched" in answer
    assert "`ec2.stop-instance`: build-runner-3 is tagged eventops:exempt=true" in answer
    assert "`guardduty.archive-finding`: not in rule 'threat-detection''s remediations list" in answer
    assert "Offered: none" in answer


def test_explain_names_the_unconfigured_account_and_the_notify_mode(ops: Ops) -> None:
    stranger = clean(ops.command(OPERATOR, "explain explain-ct-stranger"))
    assert "`ec2.revoke-ingress`: Account 999999999999 is not configured in EventOps" in stranger
    cfg = clean(ops.command(OPERATOR, "explain explain-cfg-1"))
    assert "rule 'config-watch' (4) matched" in cfg
    assert "rule 'alarms' (3): source aws.config not in [aws.cloudwatch]" in cfg
    assert "`ec2.revoke-ingress`: rule 'config-watch' is in notify mode" in cfg


def test_explain_shows_what_happened_since(ops: Ops, world: dict[str, Any]) -> None:
    first = world["first"]
    message = ops.message(first.ts)
    ops.click(OPERATOR, message, "Acknowledge")
    ops.audited("ACKNOWLEDGED", alert_id=first.alert.id)
    answer = clean(ops.command(OPERATOR, "explain explain-ct-1"))
    assert f"Acknowledged by <@{OPERATOR}>" in answer and "alert.acknowledge → ACKNOWLEDGED" in answer


def test_explain_refuses_unknown_ids_and_bad_links(ops: Ops) -> None:
    assert "No alert `no-such-alert` is known to EventOps" in clean(ops.command(OPERATOR, "explain no-such-alert"))
    assert "not a Slack message link" in clean(ops.command(OPERATOR, "explain https://example.com/x"))
    cid = ops.channel_id("ops")
    unknown = f"https://eventops-sandbox.slack.com/archives/{cid}/p1000000000000001"
    assert "is not an EventOps alert" in clean(ops.command(OPERATOR, f"explain {unknown}"))
    assert "needs more arguments" in clean(ops.command(OPERATOR, "explain"))


def test_help_lists_explain(ops: Ops) -> None:
    answer = clean(ops.command(OPERATOR, "help"))
    assert "/ops explain <alert id | message link>" in answer


def _shortcut(ops: Ops, user: str, channel: str, ts: str) -> dict[str, Any]:
    before = len(ops.ephemerals(user))
    status, body = ops.console.post("/console/shortcut", {"user": user, "channel": channel, "ts": ts})
    assert status == 200 and body["status"] == 200, body
    return ops.wait_for(lambda s: [e for e in s["ephemerals"] if e["user"] == user][before:])


def test_shortcut_answers_with_the_explanation_ephemerally(ops: Ops, world: dict[str, Any]) -> None:
    gd = world["gd"]
    (eph,) = _shortcut(ops, OPERATOR, gd.channel, gd.ts)
    text = eph["text"] + json.dumps(eph["blocks"])
    assert eph["channel"] == gd.channel
    assert "rule 'threat-detection' (1) matched" in text and "eventops:exempt=true" in text
    assert len(eph["blocks"]) <= 50


def test_shortcut_on_another_message_says_it_is_not_an_alert(ops: Ops) -> None:
    cid = ops.channel_id("ops")
    said = ops.sb.server.say(OPERATOR, cid, "hello, anyone there?")
    (eph,) = _shortcut(ops, OPERATOR, cid, said["ts"])
    assert "not an EventOps alert" in eph["text"]


def test_shortcut_by_someone_outside_the_team_is_refused(ops: Ops, world: dict[str, Any]) -> None:
    gd = world["gd"]
    ws = ops.sb.server.fake.workspace
    ws.add_user("U0STRANGER", "stranger", team_id="T0OTHER")
    (eph,) = _shortcut(ops, "U0STRANGER", gd.channel, gd.ts)
    assert "does not explain alerts to you" in eph["text"] and "threat-detection" not in eph["text"]


def test_explain_names_the_correlation_rule_that_took_a_guardduty_finding(ops: Ops) -> None:
    """The default correlation rules (bot.correlation): a GuardDuty finding is merged by its
    finding id (with Security Hub's copy, any region), and /ops explain says so."""
    answer = clean(ops.command(OPERATOR, "explain explain-gd-1"))
    assert "Correlated by rule 'guardduty-finding' (merge, by finding, 1440 min)" in answer, answer
    assert "rule 'guardduty-across-regions' (thread, by account, type, resource, 60 min)" in answer, answer
