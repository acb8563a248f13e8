"""The Home tab through the Lambda front door (handlers/slack.py) against moto and the Slack fake:
a signed app_home_opened event_callback, the reads it makes (bounded: no Scan, every Query with a
Limit), a section whose read fails, and a refused publish that still answers Slack 200."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from bot.models import Risk
from handlers import slack as slack_handler
from tests.approval.world import ALICE, BOB, TEAM, World, http_event


def _opened(world: World, user: str = BOB, team: str = TEAM) -> dict[str, Any]:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": team,
            "api_app_id": "A0TEST",
            "event": {"type": "app_home_opened", "user": user, "channel": "D0BOB", "tab": "home"},
            "event_id": "Ev0TEST",
            "event_time": 1,
        }
    )
    event = http_event(body)
    event["headers"]["content-type"] = "application/json"
    slack_handler.set_runtime(world.rt)
    return slack_handler.handler(event, None)


def _home_text(world: World, user: str = BOB) -> str:
    view = world.slack.home_view(user)
    assert view is not None, f"no Home tab published for {user}"
    return json.dumps(view["blocks"])


def _dynamodb_calls(world: World) -> list[tuple[str, dict[str, Any]]]:
    calls: list[tuple[str, dict[str, Any]]] = []
    client = world.rt.store.client
    client.meta.events.register(
        "before-call.dynamodb.*", lambda model, params, **_: calls.append((model.name, params["body"]))
    )
    return calls


def test_home_reads_are_bounded_and_show_the_posted_alert(world: World) -> None:
    world.slack.workspace.add_user(BOB, "bob")
    world.post_alert(Risk.MEDIUM)
    calls = _dynamodb_calls(world)
    resp = _opened(world)
    assert resp["statusCode"] == 200, resp
    text = _home_text(world)
    assert "slack.com/archives/" in text, "the alert links to its message (chat.getPermalink)"
    ops = [name for name, _ in calls]
    assert "Scan" not in ops and ops, ops
    assert all("Limit" in json.loads(body) for name, body in calls if name == "Query"), calls
    assert set(ops) <= {"Query", "BatchGetItem", "GetItem"}, ops
    assert len(ops) <= 8, ops  # one read per list, whatever the table holds


def test_a_failed_read_marks_one_section_and_the_rest_still_show(world: World, monkeypatch) -> None:
    world.slack.workspace.add_user(BOB, "bob")
    world.post_alert(Risk.MEDIUM)

    def broken(*_a: Any, **_k: Any) -> None:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "Query")

    monkeypatch.setattr(world.rt.store, "active_snoozes", broken)
    assert _opened(world)["statusCode"] == 200
    text = _home_text(world)
    assert "Could not be read just now (ClientError)" in text
    assert "slack.com/archives/" in text, "the open alert still shows"


def test_a_publish_slack_refuses_still_answers_200_and_is_counted(world: World) -> None:
    # U0GHOST is not a user of the fake's workspace: views.publish answers user_not_found
    resp = _opened(world, "U0GHOST")
    assert resp["statusCode"] == 200
    (call,) = world.slack.calls("views.publish")
    assert call.error == "user_not_found"
    assert world.rt.counts["home_publish_failed"] == 1


def test_a_viewer_from_another_team_sees_no_state(world: World) -> None:
    world.slack.workspace.add_user(ALICE, "alice")
    world.post_alert(Risk.MEDIUM)
    assert _opened(world, ALICE, team="T0STRANGERS")["statusCode"] == 200
    text = _home_text(world, ALICE)
    assert "Not available" in text and "slack.com/archives/" not in text
