"""The decisions record (bot.decisions) the notify side stores with each alert, per outcome:
posted (route trace, offers, refusals), grouped, threaded, storm, snoozed; and its bounds."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from pipeline_env import BASE_CONFIG, event

from bot.aws import remediation_refusal
from bot.commands.explain import explain_alert
from bot.config import parse_config
from bot.decisions import MAX_REASON, MAX_REFUSALS, MAX_RULES, Decisions, Refusal
from bot.models import Actor, Alert, Mode, Route
from bot.offers import decide_offers
from bot.pipeline import offers_for
from bot.routing import route_traced
from bot.sources import parse_event

EVENTS = Path(__file__).resolve().parents[1] / "events"
SEC_PROPOSES = {
    **BASE_CONFIG,
    "routing": {
        "rules": [{"name": "security", "match": {"source": ["aws.guardduty"]}, "channel": "#sec", "mode": "propose"}],
        "default": {"channel": "#ops", "mode": "propose"},
    },
}


def _sample(name: str, event_id: str | None = None, **changes: object) -> dict:
    ev = json.loads((EVENTS / name).read_text())
    if event_id:
        ev["id"] = event_id
    ev.update(changes)
    return ev


def _decisions(env, alert_id: str) -> Decisions:
    d = env.rt.store.get_alert(alert_id).decisions
    assert d is not None, f"no decisions stored for {alert_id}"
    return d


def test_a_posted_alert_records_its_route_trace_and_offers(notify_env):
    notify_env.send([_sample("cloudtrail-sg-ingress-open-ssh.json", "d-1")])
    d = _decisions(notify_env, "d-1")
    assert d.outcome == "posted" and d.rule == "default" and d.channel == "#ops" and d.mode == "propose"
    (check,) = d.trace.checks
    assert (check.name, check.index, check.matched) == ("security", 1, False)
    assert check.reason == "source aws.ec2 not in [aws.guardduty, aws.securityhub]"
    assert d.trace.channel_reason == "no rule matched: the default route's channel"
    assert d.offered == ["ec2.revoke-ingress"] and d.refused == []


def test_a_repeat_records_that_it_was_grouped_into_the_first_alerts_message(notify_env):
    notify_env.send([_sample("cloudtrail-sg-ingress-open-ssh.json", "d-1")])
    notify_env.send([_sample("cloudtrail-sg-ingress-open-ssh.json", "d-2", time="2030-01-01T00:00:00Z")])
    d = _decisions(notify_env, "d-2")
    assert d.outcome == "grouped" and "owned by alert d-1" in d.reason
    assert d.trace.checks[0].reason.startswith("source aws.ec2 not in")
    assert notify_env.rt.store.get_message(notify_env.rt.store.get_alert("d-1").alert.fingerprint).count == 2


def test_an_alert_about_a_resource_with_a_message_records_the_thread(notify_env):
    arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"
    notify_env.send([event(detail_type="Disk Full", resources=[arn], event_id="t-1")])
    notify_env.send([event(detail_type="Disk Slow", resources=[arn], event_id="t-2")])
    d = _decisions(notify_env, "t-2")
    assert d.outcome == "threaded" and "replied in its thread" in d.reason


@pytest.mark.config({**BASE_CONFIG, "storm": {"threshold_per_minute": 1, "burst_to_summary": False}})
def test_a_storm_alert_records_the_storm(notify_env):
    notify_env.send([event(detail_type=f"Thing {i}", event_id=f"s-{i}") for i in range(3)])
    outcomes = {i: _decisions(notify_env, f"s-{i}").outcome for i in range(3)}
    assert outcomes[0] == "posted" and "storm" in outcomes.values()
    storm = next(_decisions(notify_env, f"s-{i}") for i in range(3) if outcomes[i] == "storm")
    assert "more than 1 new posts a minute in #ops" in storm.reason
    assert "Part of a storm" in explain_alert(notify_env.rt, storm_id(notify_env)).text


def storm_id(env) -> str:
    return next(f"s-{i}" for i in range(3) if _decisions(env, f"s-{i}").outcome == "storm")


def test_a_snoozed_alert_records_which_snooze_held_it(notify_env):
    notify_env.rt.store.snooze("rule:security", time.time() + 3600, Actor(user_id="U1"))
    notify_env.send([_sample("guardduty-ec2-ssh-bruteforce.json", "z-1")])
    d = _decisions(notify_env, "z-1")
    assert d.outcome == "snoozed" and d.rule == "security" and "rule 'security' is snoozed until" in d.reason
    assert d.trace.checks[0].matched
    assert notify_env.top("#sec") == []
    text = explain_alert(notify_env.rt, "z-1").text
    assert "Held: a snooze covered it" in text and "Rule 'security' is snoozed until" in text


def test_notify_mode_is_the_reason_nothing_is_offered(notify_env):
    notify_env.send([_sample("guardduty-ec2-ssh-bruteforce.json", "n-1")])
    d = _decisions(notify_env, "n-1")
    assert d.offered == [] and {r.reason for r in d.refused} == {"rule 'security' is in notify mode"}


@pytest.mark.config(SEC_PROPOSES)
def test_refusals_name_the_resource_type_mismatch(notify_env):
    notify_env.send([_sample("guardduty-ec2-ssh-bruteforce.json", "g-1")])
    d = _decisions(notify_env, "g-1")
    reasons = {r.remediation: r.reason for r in d.refused}
    assert "resource type mismatch" in reasons["ec2.revoke-ingress"]
    assert "AwsEc2SecurityGroup" in reasons["ec2.revoke-ingress"]
    assert d.offered == ["guardduty.archive-finding"]


@pytest.mark.config({**BASE_CONFIG, "kill_switch": True})
def test_the_kill_switch_is_the_reason_nothing_is_offered(notify_env):
    notify_env.send([_sample("cloudtrail-sg-ingress-open-ssh.json", "k-1")])
    d = _decisions(notify_env, "k-1")
    assert d.offered == [] and d.refused[0].reason == "the kill switch is on (notify-only)"


@pytest.mark.config(SEC_PROPOSES)
def test_an_exempt_target_is_not_offered(notify_env):
    ev = _sample("guardduty-ec2-cryptocurrency-critical.json", "x-1")
    ev["detail"]["resource"]["instanceDetails"]["tags"].append({"key": "eventops:exempt", "value": "TRUE"})
    notify_env.send([ev])
    d = _decisions(notify_env, "x-1")
    exempt = {r.remediation for r in d.refused if "eventops:exempt=true" in r.reason}
    assert {"ec2.stop-instance", "ec2.isolate-instance", "ec2.snapshot-volumes"} <= exempt
    assert not set(d.offered) & exempt
    (msg,) = notify_env.top("#sec")
    assert "ec2.stop-instance" not in json.dumps(msg.blocks)


def test_a_resolved_alert_refuses_because_it_is_resolved(notify_env):
    config = parse_config(BASE_CONFIG)
    alert = parse_event(_sample("config-noncompliant.json")).model_copy(update={"active": False})
    route, _ = route_traced(alert, config)
    notify_env.rt.config = config
    offers, refusals, _ = decide_offers(alert, route, notify_env.rt)
    assert offers == [] and refusals and all(r.reason == "the alert is resolved" for r in refusals)


def test_decide_offers_offers_what_offers_for_offers(notify_env):
    """The decisions are recorded where the buttons are decided: the same offers as before,
    for every sample event (none of them tags its resource exempt)."""
    for path in sorted(EVENTS.glob("*.json")):
        alert = parse_event(json.loads(path.read_text()))
        for mode in (Mode.PROPOSE, Mode.NOTIFY):
            route = Route(rule="r", channel="#x", mode=mode)
            offers, refusals, account = decide_offers(alert, route, notify_env.rt)
            assert account == remediation_refusal(notify_env.rt.config.accounts, alert.account)
            before = [] if account else [o.name for o in offers_for(alert, route, notify_env.rt)]
            assert [o.name for o in offers] == before, path.name
            assert not {o.name for o in offers} & {r.remediation for r in refusals}, path.name


def test_the_route_trace_is_bounded():
    rules = [{"name": f"r{i}", "match": {"account": [f"{i:012d}"]}, "channel": "#x"} for i in range(30)]
    config = parse_config({"routing": {"rules": rules, "default": {"channel": "#ops"}}})
    alert = Alert(id="e", fingerprint="f", source_kind="k", source="s", detail_type="d", title="t", account="1")
    route, trace = route_traced(alert, config)
    assert route.rule == "default" and len(trace.checks) == MAX_RULES and trace.more == 10
    assert trace.checks[0].reason == "account 1 not in [000000000000]"


def test_refusals_and_reasons_are_capped():
    d = Decisions.of(Route(rule="r", channel="#x"), None, "posted", "x" * 1000)
    d = d.with_offers([], [Refusal(remediation=f"r{i}", reason="y" * 1000) for i in range(30)])
    assert len(d.reason) == MAX_REASON and len(d.refused) == MAX_REFUSALS and d.refused_more == 10
    assert all(len(r.reason) == MAX_REASON for r in d.refused)
    assert len(d.model_dump_json()) < 8000


def test_route_trace_reasons_per_condition():
    config = parse_config(
        {
            "routing": {
                "rules": [
                    {"name": "sev", "match": {"min_severity": "CRITICAL"}, "channel": "#a"},
                    {"name": "region", "match": {"region": ["eu-west-1"]}, "channel": "#a"},
                    {"name": "tag", "match": {"tags": {"env": "prod"}}, "channel": "#a"},
                    {"name": "dt", "match": {"detail_type": ["Other"]}, "channel": "#a"},
                    {"name": "hit", "match": {"source": ["s"]}},
                ],
                "default": {"channel": "#ops"},
            }
        }
    )
    alert = Alert(id="e", fingerprint="f", source_kind="k", source="s", detail_type="d", title="t", region="us-east-1")
    route, trace = route_traced(alert, config)
    assert [c.reason for c in trace.checks[:4]] == [
        "severity INFO below CRITICAL",
        "region us-east-1 not in [eu-west-1]",
        "tag env is not set, rule wants 'prod'",
        "detail-type 'd' not in [Other]",
    ]
    assert trace.checks[4].matched and route.channel == "#ops"
    assert trace.channel_reason == "rule 'hit' names no channel: the default channel"


def test_a_message_leads_back_to_its_alert(notify_env):
    notify_env.send([_sample("cloudtrail-sg-ingress-open-ssh.json", "m-1")])
    stored = notify_env.rt.store.get_alert("m-1")
    assert notify_env.rt.store.alert_for_message(stored.channel, stored.ts) == "m-1"
    assert notify_env.rt.store.alert_for_message(stored.channel, "1.000001") is None
