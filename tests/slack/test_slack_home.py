"""The Home tab's rendering (bot.slack.home): within Slack's view limits however much there is,
escaped, linked only to Slack permalinks; the app_home_opened parse; views.publish in the fake."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from slack_helpers import TOKEN

from bot.models import Severity
from bot.sandbox.slack_fake import LIMITS, SlackFake, validate_blocks
from bot.slack import blocks as bk
from bot.slack.client import SlackPoster
from bot.slack.home import (
    SHOWN,
    HomeAction,
    HomeAlert,
    HomeApproval,
    HomeData,
    HomeOpened,
    HomeSnooze,
    HomeWindow,
    Listing,
    Where,
    linked,
    parse_home_opened,
    render_home,
)

NOW = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
LINK = "https://acme.slack.com/archives/C0SECURITY/p1796345879204153"
NASTY = "<!channel> @here *bold* <https://evil.example|click> | & " + "x" * 400


def _text(view: dict) -> str:
    return json.dumps(view["blocks"])


def _section(view: dict, block_id: str) -> str:
    return next(b for b in view["blocks"] if b.get("block_id") == f"home-{block_id}")["text"]["text"]


def _full(n: int) -> HomeData:
    """``n`` of everything, every title as long and hostile as an event can make it."""
    where = Where(permalink=LINK, channel="C0SECURITY")
    return HomeData(
        user_id="U0ALICE",
        at=NOW,
        kill_switch=True,
        kill_switch_source="SSM parameter /eventops/kill-switch",
        alerts_by_severity={Severity.CRITICAL: n, Severity.LOW: 1},
        alerts=Listing.of([HomeAlert(Severity.CRITICAL, NASTY, NOW, where, 3)] * n),
        alerts_window=50,
        approvals=Listing.of([HomeApproval(NASTY, NASTY, "HIGH", "@bob", 1, 2, False, NOW, where)] * n),
        actions=Listing.of([HomeAction(NOW, "SUCCEEDED", NASTY, NASTY, where)] * n),
        actions_window=200,
        snoozes=Listing.of([HomeSnooze(NASTY, NOW + timedelta(hours=1), "@bob", NASTY, where)] * n),
        maintenance=Listing.of([HomeWindow(NASTY, NOW, NASTY, NASTY)] * n),
    )


@pytest.mark.parametrize("n", [0, 1, SHOWN, 500])
def test_the_view_passes_slacks_view_limits_whatever_the_volume(n):
    view = render_home(_full(n))
    assert view["type"] == "home"
    assert len(view["blocks"]) <= bk.MAX_VIEW_BLOCKS == LIMITS["modal_blocks"]
    validate_blocks(view["blocks"], max_blocks=LIMITS["modal_blocks"])  # raises as Slack would refuse
    assert bk.total_text_length(view["blocks"]) <= bk.TOTAL_TEXT_BUDGET
    for block_id in ("approvals", "alerts", "actions", "snoozes"):
        text = _section(view, block_id)
        assert len(text) <= bk.MAX_SECTION_TEXT
        shown = text.count(LINK)  # lines that did not fit are counted, never cut
        assert min(n, 1) <= shown <= min(n, SHOWN), (block_id, shown)
        if n > shown:
            assert text.endswith(f"_and {n - shown} more_"), text[-80:]
        else:
            assert "more_" not in text


def test_ten_ordinary_items_all_show():
    where = Where(permalink=LINK)
    data = HomeData(
        user_id="U0ALICE",
        at=NOW,
        kill_switch=False,
        alerts=Listing.of([HomeAlert(Severity.HIGH, "Security group sg-0abc opened to the internet", NOW, where)] * 12),
        approvals=Listing.of(
            [HomeApproval("Isolate instance", "i-0abc", "HIGH", "@bob", 0, 2, False, NOW, where)] * 12
        ),
    )
    view = render_home(data)
    for block_id in ("alerts", "approvals"):
        text = _section(view, block_id)
        assert text.count(LINK) == SHOWN and text.endswith("_and 2 more_"), text


def test_untrusted_text_is_escaped_and_only_slack_permalinks_link():
    text = _text(render_home(_full(3)))
    assert "<!channel>" not in text and "<https://evil.example" not in text
    assert "&lt;!channel&gt;" in text and "@\\u200bhere" in text
    assert linked("x", Where(permalink="https://evil.example/archives/C0A/p1700000000000100")) == "x"
    assert linked("x", Where(permalink="javascript:alert(1)", channel="C0OPS")) == "x in <#C0OPS>"
    assert linked("x", Where(channel="#ops")) == "x"
    assert linked("a|b", Where(permalink=LINK)) == f"<{LINK}|a¦b>"


def test_empty_sections_say_so_and_the_kill_switch_says_where_it_is_read():
    view = render_home(HomeData(user_id="U0ALICE", at=NOW, kill_switch=False, kill_switch_source="config"))
    assert "Nothing waits for you" in _section(view, "approvals")
    assert "No open alerts" in _section(view, "alerts")
    assert _section(view, "kill-switch").endswith("off (config): remediations can run.")
    on = render_home(_full(0))
    assert "*ON* (SSM parameter /eventops/kill-switch)" in _section(on, "kill-switch")


def test_an_unreadable_section_says_so_and_the_rest_still_show():
    data = _full(2)
    data.unavailable["alerts"] = "ClientError"
    view = render_home(data)
    assert "Could not be read just now (ClientError)" in _section(view, "alerts")
    assert LINK in _section(view, "approvals")


def test_a_refused_viewer_sees_only_why():
    data = _full(3)
    data.refusal = "EventOps shows its state to members of the organization only: not a member."
    view = render_home(data)
    assert "home-alerts" not in _text(view) and LINK not in _text(view)
    assert "Not available" in _text(view)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"event": {"type": "app_home_opened", "user": "U0B", "tab": "messages"}}, "Messages tab"),
        ({"event": {"type": "app_home_opened", "user": "<!here>", "tab": "home"}}, "no valid user"),
        ({"event": {"type": "app_home_opened", "user": ["U0B"]}}, "no valid user"),
        ({"event": "app_home_opened"}, "not an object"),
        ([], "not an object"),
    ],
)
def test_events_that_are_not_a_home_opening_are_refused_with_a_reason(body, why):
    result = parse_home_opened(body)
    assert isinstance(result, str) and why in result


def test_a_home_opening_names_the_viewer_and_their_workspace():
    opened = parse_home_opened(
        {"team_id": "T0A", "enterprise_id": "E0A", "event": {"type": "app_home_opened", "user": "U0B", "tab": "home"}}
    )
    assert isinstance(opened, HomeOpened)
    assert (opened.actor.user_id, opened.actor.team_id, opened.actor.enterprise_id) == ("U0B", "T0A", "E0A")


def test_views_publish_through_the_poster_is_recorded_per_user(slack: SlackFake):
    slack.workspace.add_user("U0ALICE", "alice")
    poster = SlackPoster(TOKEN, slack.url)
    view = render_home(_full(40))
    poster.publish_home("U0ALICE", view)
    stored = slack.home_view("U0ALICE")
    assert stored is not None and stored["blocks"] == view["blocks"] and stored["id"].startswith("V")
    assert slack.home_view("U0BOB") is None
    (call,) = slack.calls("views.publish")
    assert call.params["user_id"] == "U0ALICE" and call.error is None


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"user_id": "U0ALICE", "view": {"type": "modal", "blocks": []}}, "invalid_arguments"),
        ({"user_id": "U0NOBODY", "view": {"type": "home", "blocks": []}}, "user_not_found"),
        ({"view": {"type": "home", "blocks": []}}, "invalid_arguments"),
        ({"user_id": "U0ALICE", "view": {"type": "home", "blocks": [bk.divider()] * 101}}, "invalid_blocks"),
        (
            {"user_id": "U0ALICE", "view": {"type": "home", "blocks": [bk.section("x")] * 5, "callback_id": 5}},
            "invalid_arguments",
        ),
        (
            {"user_id": "U0ALICE", "view": {"type": "home", "blocks": [{"type": "header", "text": bk.mrkdwn("x")}]}},
            "invalid_blocks",
        ),
    ],
)
def test_the_fake_refuses_views_slack_would_refuse(slack: SlackFake, params, error):
    slack.workspace.add_user("U0ALICE", "alice")
    code, body, _ = slack.handle_api("views.publish", params, {"authorization": f"Bearer {TOKEN}"})
    assert code == 200 and body == {**body, "ok": False, "error": error}
    assert slack.home_view("U0ALICE") is None


def test_the_fake_checks_the_hash_of_the_view_it_replaces(slack: SlackFake):
    slack.workspace.add_user("U0ALICE", "alice")
    auth = {"authorization": f"Bearer {TOKEN}"}
    view = {"type": "home", "blocks": [bk.section("one")]}
    first = slack.handle_api("views.publish", {"user_id": "U0ALICE", "view": view}, auth)[1]["view"]
    ok = slack.handle_api("views.publish", {"user_id": "U0ALICE", "view": view, "hash": first["hash"]}, auth)[1]
    assert ok["ok"] and ok["view"]["id"] == first["id"]
    stale = slack.handle_api("views.publish", {"user_id": "U0ALICE", "view": view, "hash": first["hash"]}, auth)[1]
    assert stale["error"] == "hash_conflict"
