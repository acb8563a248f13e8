"""Who clicked is read from what Slack says about the user, never guessed.

Slack puts the clicker's own team in ``user.team_id`` of a ``block_actions`` payload (in a Slack
Connect channel that is the other company's workspace, while ``team.id`` is the workspace the
message lives in); an Enterprise Grid member of an org-wide install may carry the org id (``E…``)
there instead. So: no ``user.team_id`` → nobody we trust; an ``E…`` id → ours only when it is the
configured ``policy.enterprise_id``. Signed clicks through handlers/slack, moto behind them.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from bot.models import ProposalState
from bot.sandbox.slack_fake import SlackFake
from handlers import slack as slack_handler
from tests.approval.world import (
    ALICE,
    CHANNEL,
    REMEDIATE,
    World,
    form_body,
    http_event,
    make_config,
    make_policy,
    world_in,
)

ORG = "E0OURORG"


def _click(world: World, body: dict[str, Any]) -> None:
    resp = slack_handler.handler(http_event(form_body(body)), None)
    assert resp["statusCode"] == 200, resp


def test_a_click_without_the_users_team_is_refused_even_in_our_workspace(world: World) -> None:
    p = world.post_alert()
    body = world.click_body(REMEDIATE, p.id, ALICE)
    del body["user"]["team_id"]  # only team.id (the message's workspace, ours) is left
    _click(world, body)
    world.drain()
    assert world.rt.store.get_proposal(p.id).state == ProposalState.PROPOSED
    assert world.sessions.mutations() == []
    assert [e.outcome for e in world.audit()] == ["DENIED"]


def test_a_slack_connect_user_is_judged_by_their_own_team(world: World) -> None:
    p = world.post_alert()
    body = world.click_body(REMEDIATE, p.id, ALICE, team="T0THEIRS")  # team.id stays ours
    _click(world, body)
    world.drain()
    assert world.sessions.mutations() == []
    assert [e.outcome for e in world.audit()] == ["DENIED"]


@pytest.fixture
def grid_world(aws: None, slack: SlackFake, test_remediation: Any) -> Iterator[World]:
    with world_in(slack, make_config(policy=make_policy(enterprise_id=ORG))) as w:
        yield w


def test_an_org_id_as_the_users_team_is_refused_when_no_enterprise_is_configured(world: World) -> None:
    # no enterprise_id configured: an E… team is not in policy.teams, so refused
    p = world.post_alert()
    body = world.click_body(REMEDIATE, p.id, ALICE, team=ORG)
    body["enterprise"] = {"id": ORG, "name": "Ours"}
    _click(world, body)
    world.drain()
    assert world.sessions.mutations() == []
    assert [e.outcome for e in world.audit()] == ["DENIED"]


def test_an_org_member_of_the_configured_enterprise_may_act(grid_world: World) -> None:
    world = grid_world
    p = world.post_alert()
    body = world.click_body(REMEDIATE, p.id, ALICE, team=ORG)
    body["enterprise"] = {"id": ORG, "name": "Ours"}
    _click(world, body)
    world.drain()
    assert world.sessions.mutations() == ["StopInstances"]


def test_another_org_is_refused_even_with_our_enterprise_id_configured(grid_world: World) -> None:
    world = grid_world
    p = world.post_alert()
    body = world.click_body(REMEDIATE, p.id, ALICE, team="E0THEIRORG")
    body["enterprise"] = {"id": ORG, "name": "Ours"}  # the workspace's org is ours; the user's is not
    _click(world, body)
    world.drain()
    assert world.sessions.mutations() == []


def test_read_only_commands_refuse_another_team_but_help_answers(world: World) -> None:
    """``/ops audit`` shows account ids, resources and who did what: policy.teams, as for actions."""
    world.post_alert()
    world.click("eventops:ack", world.alert.id, ALICE)
    for text, refused in (("audit", True), ("status", True), ("help", False)):
        fields = {
            "command": "/ops",
            "text": text,
            "user_id": "U0STRANGER",
            "team_id": "T0THEIRS",
            "channel_id": CHANNEL,
            "response_url": world.slack.response_url(CHANNEL),
        }
        resp = slack_handler.handler(http_event(urllib.parse.urlencode(fields)), None)
        assert resp["statusCode"] == 200
        posted = [r for r in world.slack.requests if r.method.startswith("response_url:")]
        answer = resp["body"] + " ".join(str(r.params) for r in posted)
        assert ("not a member of this organization" in answer) == refused, (text, answer[:300])
        assert ("ACKNOWLEDGED" in answer) is False
