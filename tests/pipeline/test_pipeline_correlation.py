"""Correlation through ``handlers.notify`` against moto and the Slack fake: one problem is one
message (merge), one story is one thread whose first message counts it (thread)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import CorrelationRule, Match, default_correlation
from bot.correlation import correlate, value
from tests.approval.world import World, interact_world, make_config

EVENTS = Path(__file__).resolve().parents[1] / "events"
GD_ID = "eeb8934811a623d5d3760016c275ee93"
PRINCIPAL = "AIDACKCEVSQ6C2EXAMPLE"


def _event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def _guardduty(
    region: str = "eu-west-1", finding_id: str = GD_ID, envelope_account: str | None = None
) -> dict[str, Any]:
    ev = _event("guardduty-iam-maliciousipcaller")
    ev["id"] = str(uuid.uuid4())
    ev["region"] = region
    ev["detail"]["region"] = region
    ev["detail"]["id"] = finding_id
    if envelope_account:  # delivered to the delegated administrator: the envelope is its account
        ev["account"] = envelope_account
    return ev


def _hub_copy_of_guardduty(workflow: str = "NEW") -> dict[str, Any]:
    ev = _event("securityhub-imported-guardduty-accesskey")
    ev["id"] = str(uuid.uuid4())
    finding = ev["detail"]["findings"][0]
    finding["Id"] = (
        f"arn:aws:guardduty:eu-west-1:123456789012:detector/32b89345c25bffec12ac6cdd5dfe9d47/finding/{GD_ID}"
    )
    finding["Workflow"] = {"Status": workflow}
    return ev


def _deliver(world: World, *events: dict[str, Any]) -> None:
    for ev in events:
        world.sqs.send_message(QueueUrl=world.alerts_url, MessageBody=json.dumps(ev))
        world.deliver_alerts()


def _top(world: World) -> list[Any]:
    return [m for ch in world.slack.workspace.channels.values() for m in ch.top_level()]


def _replies(world: World, ts: str) -> list[Any]:
    return [r for ch in world.slack.workspace.channels.values() for r in ch.replies(ts) if r.ts != ts]


@pytest.fixture
def world() -> Iterator[World]:
    with interact_world() as w:
        yield w


@pytest.fixture
def story_world() -> Iterator[World]:
    rules = [  # the first thread rule that takes an alert is its thread: the principal's, here
        CorrelationRule(name="one-principal", group_by=["principal"], window_minutes=120, mode="thread"),
        *default_correlation(),
    ]
    with interact_world(make_config(correlation=rules)) as w:
        yield w


def test_guardduty_and_security_hubs_copy_of_it_are_one_message(world: World) -> None:
    _deliver(world, _guardduty(), _hub_copy_of_guardduty())
    [message] = _top(world)
    assert "seen 2 times" in json.dumps(message.blocks), message.blocks


def test_security_hub_reimport_resetting_notified_to_new_updates_the_one_message(world: World) -> None:
    hub = _event("securityhub-imported-multi-resource")
    again = copy.deepcopy(hub)
    hub["detail"]["findings"][0]["Workflow"] = {"Status": "NOTIFIED"}
    again["id"] = str(uuid.uuid4())
    again["detail"]["findings"][0]["Workflow"] = {"Status": "NEW"}
    _deliver(world, hub, again)
    [message] = _top(world)
    assert "seen 2 times" in json.dumps(message.blocks)


def test_one_finding_delivered_to_the_member_and_the_delegated_admin_is_one_message(world: World) -> None:
    _deliver(world, _guardduty(), _guardduty(envelope_account="999999999999"))
    [message] = _top(world)
    assert "seen 2 times" in json.dumps(message.blocks)


def test_one_finding_delivered_from_its_region_and_an_aggregation_region_is_one_message(world: World) -> None:
    aggregated = _guardduty()
    aggregated["region"] = "us-east-1"  # the envelope's region: where it was delivered; detail.region is its own
    hub = _hub_copy_of_guardduty()
    hub["region"] = "us-east-1"
    _deliver(world, _guardduty(), aggregated, hub)
    [message] = _top(world)
    assert "seen 3 times" in json.dumps(message.blocks)


def test_one_finding_type_on_one_resource_in_two_regions_is_one_thread(world: World) -> None:
    _deliver(world, _guardduty("eu-west-1", "a" * 32), _guardduty("us-east-1", "b" * 32))
    [first] = _top(world)
    [reply] = _replies(world, first.ts)
    assert "MaliciousIPCaller" in reply.text or "malicious" in json.dumps(reply.blocks).lower()
    updated = world.slack.workspace.channel(first.channel, create=False).find(first.ts)
    assert "1 related alert in the thread" in json.dumps(updated.blocks)


def test_without_the_default_rules_the_two_regions_are_two_messages() -> None:
    with interact_world(make_config(correlation=[])) as world:
        _deliver(world, _guardduty("eu-west-1", "a" * 32), _guardduty("us-east-1", "b" * 32))
        assert len(_top(world)) == 2, "the rules are what threads them"


def test_what_one_principal_did_threads_under_the_first_alert_which_counts_it(story_world: World) -> None:
    """The CloudTrail call that opened SSH (HIGH), then GuardDuty's finding on the same principal
    (MEDIUM): one story. (A later alert more severe than the first gets its own message.)"""
    call = _event("cloudtrail-sg-ingress-open-ssh")
    _deliver(story_world, call)
    [first] = _top(story_world)
    finding = _guardduty()
    _deliver(story_world, finding)
    assert len(_top(story_world)) == 1, "the GuardDuty finding is part of the same story"
    [reply] = _replies(story_world, first.ts)
    assert "ListBuckets" in reply.text or "ListBuckets" in json.dumps(reply.blocks), reply.text
    updated = story_world.slack.workspace.channel(first.channel, create=False).find(first.ts)
    assert "1 related alert in the thread" in json.dumps(updated.blocks), updated.blocks
    stored = story_world.rt.store.get_alert(finding["id"])
    assert stored.decisions is not None and "one-principal" in stored.decisions.correlation
    assert stored.decisions.outcome == "threaded" and "correlation group" in stored.decisions.reason


def test_an_alert_without_the_grouping_value_is_not_correlated() -> None:
    rule = CorrelationRule(name="keys", match=Match(source_kind=["cloudtrail"]), group_by=["access_key"])
    from bot.sources import parse_event
    from bot.sources.base import ParseContext

    gd = parse_event(_guardduty(), ParseContext())
    assert correlate(gd, [rule]).threaded is None, "the match excludes it"
    ct = parse_event(_event("cloudtrail-sg-ingress-open-ssh"), ParseContext())
    assert value(ct, "principal") == PRINCIPAL and value(ct, "access_key") == "ASIAIOSFODNN7EXAMPLE"
    assert correlate(ct, [rule]).threaded is not None
    bare = ct.model_copy(update={"context": {k: v for k, v in ct.context.items() if k != "caller"}})
    assert correlate(bare, [rule]).threaded is None, "no access key: the rule cannot group it"


def test_rule_names_are_unique() -> None:
    with pytest.raises(ValueError, match="used twice"):
        make_config(correlation=[CorrelationRule(name="a", group_by=["resource"])] * 2)
