"""Triage is guarded (issue "Locked down", item 3): Acknowledge, Snooze and Dismiss buttons and
``/ops snooze`` / ``unsnooze`` follow ``policy.triage`` (default: everyone listed in a risk tier),
snoozes longer than ``max_snooze_hours`` are refused, and every triage action, allowed or refused,
writes one audit record. Signed requests to handlers/slack, moto behind it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from bot.config import Config, Routing, Rule, Triage
from bot.models import ProposalState, Risk
from bot.sandbox.slack_fake import SlackFake
from handlers import slack as slack_handler
from tests.approval.world import (
    ALICE,
    BOB,
    DAVE,
    MALLORY,
    REMEDIATE,
    World,
    command_event,
    make_config,
    make_policy,
    world_in,
)

TRIAGE_BUTTONS = [
    ("eventops:ack", "ACKNOWLEDGED"),
    ("eventops:snooze:1h", "SNOOZED"),
    ("eventops:dismiss", "DISMISSED"),
]


def _config(**policy: Any) -> Config:
    return make_config(policy=make_policy(**policy), routing=Routing(rules=[Rule(name="noisy")]))


@pytest.fixture
def make_world(aws: None, slack: SlackFake, test_remediation: Any) -> Iterator[Callable[..., World]]:
    """``make_world(**policy_overrides)`` → the world with a rule ``noisy`` and that policy."""
    with ExitStack() as stack:
        yield lambda **policy: stack.enter_context(world_in(slack, _config(**policy)))


@pytest.fixture
def triage_world(make_world: Callable[..., World]) -> World:
    return make_world()


def _ops(world: World, text: str, user: str) -> str:
    """``/ops <text>`` as ``user``, signed, through handlers/slack; the answer as one string."""
    resp = slack_handler.handler(command_event(text, user), None)
    assert resp["statusCode"] == 200, resp
    return json.dumps(json.loads(resp["body"]))


def _triage_audit(world: World, outcome: str, user: str) -> list[Any]:
    return [e for e in world.audit() if e.outcome == outcome and e.actor.user_id == user]


@pytest.mark.parametrize(("action", "outcome"), TRIAGE_BUTTONS)
def test_a_team_member_outside_every_tier_may_not_triage(triage_world: World, action: str, outcome: str) -> None:
    world = triage_world
    p = world.post_alert(Risk.HIGH)
    before = world.message().blocks

    world.click(action, world.alert.id, MALLORY)

    assert any(t.startswith("Not allowed:") and "policy.triage" in t for t in world.ephemerals_for(MALLORY))
    assert world.message().blocks == before, "the alert message is unchanged (the buttons stay)"
    assert world.rt.store.get_proposal(p.id).state == ProposalState.PROPOSED
    assert world.rt.store.snoozes() == [] and world.rt.store.dismissed_by(world.alert.id) is None
    assert not _triage_audit(world, outcome, MALLORY)
    [denied] = _triage_audit(world, "DENIED", MALLORY)
    assert denied.alert_id == world.alert.id and denied.action == action
    # the people who may act are not locked out by the refused click
    world.click(REMEDIATE, p.id, ALICE)
    assert world.rt.store.get_proposal(p.id).requester.user_id == ALICE


@pytest.mark.parametrize(("action", "outcome"), TRIAGE_BUTTONS)
def test_people_listed_in_a_tier_may_triage_by_default(triage_world: World, action: str, outcome: str) -> None:
    world = triage_world
    world.post_alert()
    world.click(action, world.alert.id, DAVE)  # DAVE is only a HIGH approver
    if action == "eventops:dismiss":  # Dismiss asks why first
        world.submit_view({"reason": "accepted_risk"}, DAVE)
    world.drain()  # the click's message job writes its audit record
    assert len(_triage_audit(world, outcome, DAVE)) == 1
    assert not _triage_audit(world, "DENIED", DAVE)


def test_an_explicit_triage_tier_and_max_snooze(make_world: Callable[..., World]) -> None:
    world = make_world(triage=Triage(users=[BOB], max_snooze_hours=4))
    world.post_alert()
    world.click("eventops:dismiss", world.alert.id, ALICE)  # may run remediations, not triage
    world.click("eventops:snooze:24h", world.alert.id, BOB)  # longer than 4 hours
    assert world.rt.store.snoozes() == [] and world.rt.store.dismissed_by(world.alert.id) is None
    assert "at most 4 hours" in " ".join(world.ephemerals_for(BOB))
    assert len(_triage_audit(world, "DENIED", ALICE)) == 1 and len(_triage_audit(world, "DENIED", BOB)) == 1

    world.click("eventops:snooze:4h", world.alert.id, BOB)
    world.drain()  # the click's message job writes its audit record
    assert len(world.rt.store.snoozes()) == 1 and len(_triage_audit(world, "SNOOZED", BOB)) == 1


def test_triage_channels_are_enforced_for_buttons_and_commands(make_world: Callable[..., World]) -> None:
    world = make_world(triage=Triage(users=[ALICE], channels=["C0TRIAGE"]))
    world.post_alert()
    world.click("eventops:ack", world.alert.id, ALICE)
    answer = _ops(world, "snooze rule:noisy 1h", ALICE)
    assert "not allowed" in answer.lower() and "from this channel" in answer
    assert world.rt.store.acked_by(world.alert.id) is None and world.rt.store.snoozes() == []
    assert len(_triage_audit(world, "DENIED", ALICE)) == 2


def test_ops_snooze_a_rule_for_30_days_is_refused_and_audited(triage_world: World) -> None:
    world = triage_world
    answer = _ops(world, "snooze rule:noisy 30d", BOB)  # BOB: LOW and MEDIUM only
    assert "at most 24 hours" in answer and world.rt.store.snoozes() == []
    [denied] = _triage_audit(world, "DENIED", BOB)
    assert denied.action == "command.snooze" and "max_snooze_hours" in (denied.result or "")


def test_ops_snooze_and_unsnooze_follow_the_triage_tier_and_write_audit(triage_world: World) -> None:
    world = triage_world
    refused = _ops(world, "snooze rule:noisy 1h", MALLORY)
    assert "You are not allowed to use" in refused and world.rt.store.snoozes() == []
    assert [e.action for e in _triage_audit(world, "DENIED", MALLORY)] == ["command.snooze"]

    assert "Snoozed rule" in _ops(world, "snooze rule:noisy 4h deploy", BOB)
    [snoozed] = _triage_audit(world, "SNOOZED", BOB)
    assert snoozed.action == "command.snooze" and snoozed.params["target"] == "rule:noisy"

    assert "You are not allowed to use" in _ops(world, "unsnooze rule:noisy", MALLORY)
    assert world.rt.store.snoozed_until("rule:noisy") is not None
    assert "ended" in _ops(world, "unsnooze rule:noisy", BOB)
    assert world.rt.store.snoozed_until("rule:noisy") is None
    assert len(_triage_audit(world, "UNSNOOZED", BOB)) == 1
    assert len(_triage_audit(world, "DENIED", MALLORY)) == 2


def test_no_policy_means_nobody_triages(aws: None, slack: SlackFake, test_remediation: Any) -> None:
    with world_in(slack, make_config(policy=None)) as world:
        world.post_alert()
        world.click("eventops:snooze:1h", world.alert.id, ALICE)
        assert world.rt.store.snoozes() == []
        assert "no authorization policy" in " ".join(world.ephemerals_for(ALICE))
        assert len(_triage_audit(world, "DENIED", ALICE)) == 1
