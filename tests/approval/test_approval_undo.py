"""Undo follows the rules of the action it reverses (issue "Locked down", item 2): who may click
Undo is the proposal's tier, a tier that needs approvals gets an Approve undo button and the same
approval rules (other people, TTLs), the worker re-checks before it runs the undo, the Undo button
has a confirm dialog, and once the undo ran or was refused the outcome reply loses its Undo.
Signed clicks to handlers/slack, jobs through SQS to handlers/worker, moto behind both."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.approval.jobs import Job, JobKind, enqueue
from bot.approval.proposal import now_utc
from bot.config import UndoRule, parse_config
from bot.errors import ConfigError
from bot.models import Actor, Proposal, ProposalState, Risk
from bot.sandbox.slack_fake import SlackFake
from tests.approval.world import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    MALLORY,
    REMEDIATE,
    TEAM,
    World,
    make_config,
    make_policy,
    world_in,
)

UNDO, APPROVE_UNDO = "eventops:undo", "eventops:approve-undo"
S = ProposalState


def _elements(blocks: Any) -> list[dict[str, Any]]:
    return [el for b in blocks if b.get("type") == "actions" for el in b["elements"]]


def _reply_with(world: World, action_id: str) -> Any:
    return next(m for m in reversed(world.replies()) if any(e["action_id"] == action_id for e in _elements(m.blocks)))


def _succeeded_high(world: World) -> tuple[Proposal, Any]:
    """A HIGH proposal requested by Alice, approved by Bob and Carol, run: (it, its outcome reply)."""
    p = world.post_alert(Risk.HIGH)
    world.click(REMEDIATE, p.id, ALICE)
    world.drain()  # the dry run posts the Approve button
    world.click("eventops:approve", p.id, BOB)
    world.click("eventops:approve", p.id, CAROL)
    world.drain()
    assert world.state() == "stopped" and world.rt.store.get_proposal(p.id).state == S.SUCCEEDED
    return p, _reply_with(world, UNDO)


def _undo_mutations(world: World) -> list[str]:
    return [m for m in world.sessions.mutations() if m == "StartInstances"]


def test_the_undo_button_has_a_confirm_dialog_within_slack_limits(world: World) -> None:
    p, reply = _succeeded_high(world)
    [undo] = [e for e in _elements(reply.blocks) if e["action_id"] == UNDO]
    confirm = undo["confirm"]
    assert confirm["title"]["type"] == "plain_text" and len(confirm["title"]["text"]) <= 100
    assert 0 < len(confirm["text"]["text"]) <= 300 and "two people other than you" in confirm["text"]["text"]
    assert len(confirm["confirm"]["text"]) <= 30 and len(confirm["deny"]["text"]) <= 30
    assert world.instance_id in confirm["text"]["text"]


def test_high_undo_needs_two_approvals_by_other_people(world: World) -> None:
    p, reply = _succeeded_high(world)

    world.click(UNDO, p.id, MALLORY, thread_ts=reply.ts)  # may not act at HIGH
    assert any("Not allowed" in t for t in world.ephemerals_for(MALLORY))
    assert world.rt.store.get_proposal(p.id).undo is None

    world.click(UNDO, p.id, ALICE, thread_ts=reply.ts)
    world.drain()  # the job posts the Approve undo button; it does not undo
    assert world.state() == "stopped" and not _undo_mutations(world), "one click by the requester undid it"
    request = _reply_with(world, APPROVE_UNDO)
    assert "Undo of Stop instance requested by @alice" in str(request.blocks)
    edited = next(m for m in world.replies() if m.ts == reply.ts)
    assert UNDO not in str(edited.blocks) and "Undo available until" not in str(edited.blocks)
    assert "Undo requested by @alice" in str(edited.blocks)

    world.click(APPROVE_UNDO, p.id, ALICE, thread_ts=request.ts)
    assert any("you requested this change" in t for t in world.ephemerals_for(ALICE))
    world.click(APPROVE_UNDO, p.id, MALLORY, thread_ts=request.ts)
    world.click(APPROVE_UNDO, p.id, BOB, thread_ts=request.ts)
    world.click(APPROVE_UNDO, p.id, BOB, thread_ts=request.ts)
    assert any("already approved" in t for t in world.ephemerals_for(BOB))
    world.drain()
    assert world.state() == "stopped", "one approval is not enough"

    world.click(APPROVE_UNDO, p.id, DAVE, thread_ts=request.ts)
    world.drain()

    assert world.state() == "running" and _undo_mutations(world) == ["StartInstances"]
    final = world.rt.store.get_proposal(p.id)
    assert final.state == S.UNDONE and [a.actor.user_id for a in final.undo.approvals] == [BOB, DAVE]
    [undone] = [e for e in world.audit(p.id) if e.outcome == "UNDONE"]
    assert undone.actor.user_id == ALICE
    denied = sorted((e.actor.user_id, e.action) for e in world.audit(p.id) if e.outcome == "DENIED")
    assert denied == sorted([(MALLORY, UNDO), (ALICE, APPROVE_UNDO), (MALLORY, APPROVE_UNDO), (BOB, APPROVE_UNDO)])
    closed = next(m for m in world.replies() if m.ts == reply.ts)
    assert UNDO not in str(closed.blocks) and "Undo available until" not in str(closed.blocks)
    assert "Undo: undone by @alice" in str(closed.blocks)


def test_an_undo_approval_older_than_the_tier_ttl_does_not_count(world: World) -> None:
    p, reply = _succeeded_high(world)
    world.click(UNDO, p.id, ALICE, thread_ts=reply.ts)
    world.click(APPROVE_UNDO, p.id, BOB)
    stored = world.rt.store.get_proposal(p.id)
    stale = [a.model_copy(update={"at": now_utc() - timedelta(minutes=31)}) for a in stored.undo.approvals]
    world.rt.store.save_proposal(
        stored.model_copy(update={"undo": stored.undo.model_copy(update={"approvals": stale})}),
        S.SUCCEEDED,
        stored.version,
    )
    world.click(APPROVE_UNDO, p.id, CAROL)
    world.drain()
    assert world.state() == "stopped" and not world.rt.store.get_proposal(p.id).undo.queued
    assert any("(1/2)" in t for t in world.ephemerals_for(CAROL))


def test_the_worker_refuses_an_undo_job_without_its_approvals(world: World) -> None:
    """A queued UNDO job is not a decision: the worker re-checks the recorded request."""
    p, reply = _succeeded_high(world)
    alice = Actor(user_id=ALICE, team_id=TEAM, user_name="alice")
    enqueue(world.rt, Job(kind=JobKind.UNDO, proposal_id=p.id, actor=alice))  # no undo request recorded
    world.drain()
    assert world.state() == "stopped" and not _undo_mutations(world)
    [refused] = [e for e in world.audit(p.id) if e.outcome == "UNDO_REFUSED"]
    assert "no approved undo request" in (refused.result or "")

    world.click(UNDO, p.id, ALICE, thread_ts=reply.ts)
    enqueue(world.rt, Job(kind=JobKind.UNDO, proposal_id=p.id, actor=alice))  # requested, not approved
    world.drain()
    assert world.state() == "stopped" and not _undo_mutations(world)


@pytest.fixture
def strict_undo_world(aws: None, slack: SlackFake, test_remediation: Any) -> Iterator[World]:
    with world_in(slack, make_config(policy=make_policy(undo=UndoRule(approvals=1)))) as w:
        yield w


def test_policy_undo_approvals_makes_a_medium_undo_need_an_approval(strict_undo_world: World) -> None:
    world = strict_undo_world
    p = world.post_alert(Risk.MEDIUM)
    world.click(REMEDIATE, p.id, ALICE)  # MEDIUM runs on one click
    world.drain()
    reply = _reply_with(world, UNDO)
    world.click(UNDO, p.id, ALICE, thread_ts=reply.ts)
    world.drain()
    assert world.state() == "stopped"
    world.click(APPROVE_UNDO, p.id, BOB)
    world.drain()
    assert world.state() == "running" and world.rt.store.get_proposal(p.id).state == S.UNDONE


def test_a_closed_undo_window_takes_the_undo_button_away(world: World) -> None:
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    world.drain()
    reply = _reply_with(world, UNDO)
    stored = world.rt.store.get_proposal(p.id)
    world.rt.store.save_proposal(
        stored.model_copy(update={"undo_until": now_utc() - timedelta(minutes=1)}), S.SUCCEEDED, stored.version
    )
    world.click(UNDO, p.id, ALICE, thread_ts=reply.ts)
    world.drain()
    assert world.state() == "stopped"
    assert any("undo window closed" in t for t in world.ephemerals_for(ALICE))
    edited = next(m for m in world.replies() if m.ts == reply.ts)
    assert UNDO not in str(edited.blocks) and "Undo available until" not in str(edited.blocks)


def test_a_refused_undo_takes_the_undo_button_away(world: World) -> None:
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    world.drain()
    reply = _reply_with(world, UNDO)
    world.click(UNDO, p.id, ALICE, thread_ts=reply.ts)  # MEDIUM: queued on one click
    world.rt.config.kill_switch = True
    world.drain()
    world.rt.config.kill_switch = False
    assert world.state() == "stopped"
    assert any(e.outcome == "UNDO_REFUSED" for e in world.audit(p.id))
    edited = next(m for m in world.replies() if m.ts == reply.ts)
    assert UNDO not in str(edited.blocks) and "Undo available until" not in str(edited.blocks)
    assert "kill switch" in str(edited.blocks)
    world.click(UNDO, p.id, BOB, thread_ts=reply.ts)
    assert any("no longer possible" in t for t in world.ephemerals_for(BOB))


def test_policy_undo_loads_and_an_impossible_undo_rule_is_a_start_up_error() -> None:
    tiers = {"LOW": {"users": ["UA", "UB"]}, "HIGH": {"users": ["UA"], "approvers": ["UB", "UC"]}}
    assert parse_config({"policy": {"teams": ["T1"], "tiers": tiers}}).policy.undo == "same_as_action"
    loaded = parse_config({"policy": {"teams": ["T1"], "tiers": tiers, "undo": {"approvals": 1}}})
    assert loaded.policy.undo == UndoRule(approvals=1)
    with pytest.raises(ConfigError, match=r"policy\.undo\.approvals: 2 approvals .* policy\.tiers\.LOW leaves only 1"):
        parse_config({"policy": {"teams": ["T1"], "tiers": tiers, "undo": {"approvals": 2}}}, "eventops.yml")
    with pytest.raises(ConfigError, match=r"policy\.undo"):
        parse_config({"policy": {"teams": ["T1"], "tiers": tiers, "undo": "never"}})
