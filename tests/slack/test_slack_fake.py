"""The fake Slack itself: Slack's limit checks, auth, rate limit, faults, the workspace model."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from urllib.error import HTTPError
from urllib.parse import urlencode

import pytest
from slack_helpers import TOKEN
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.slack_fake import SlackFake


def raw_call(fake: SlackFake, method: str, *, json_body=None, form=None, token: str | None = TOKEN):
    """POST like any HTTP client would; returns (status, headers, body)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if form is not None:
        data = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    else:
        data = json.dumps(json_body or {}).encode()
        headers["Content-Type"] = "application/json; charset=utf-8"
    req = urllib.request.Request(fake.url + method, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def web(fake: SlackFake) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake.url, retry_handlers=[])


def sec(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def btn(text="Go", action_id="a", value="v", **extra) -> dict:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
        **extra,
    }


CONFIRM = {
    "title": {"type": "plain_text", "text": "t"},
    "text": {"type": "mrkdwn", "text": "x"},
    "confirm": {"type": "plain_text", "text": "y"},
    "deny": {"type": "plain_text", "text": "n"},
}

BAD = {
    "section_text_3001": ([sec("x" * 3001)], "invalid_blocks"),
    "empty_section_text": ([sec("")], "invalid_blocks"),
    "section_without_text": ([{"type": "section"}], "invalid_blocks"),
    "51_blocks": ([sec("x")] * 51, "invalid_blocks"),
    "11_fields": ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "invalid_blocks"),
    "field_2001": ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}], "invalid_blocks"),
    "header_151": ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "invalid_blocks"),
    "header_mrkdwn": ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "invalid_blocks"),
    "context_11": ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}], "invalid_blocks"),
    "button_text_76": ([{"type": "actions", "elements": [btn("b" * 76)]}], "invalid_blocks"),
    "button_value_2001": ([{"type": "actions", "elements": [btn(value="v" * 2001)]}], "invalid_blocks"),
    "action_id_256": ([{"type": "actions", "elements": [btn(action_id="a" * 256)]}], "invalid_blocks"),
    "duplicate_action_id": ([{"type": "actions", "elements": [btn(), btn()]}], "invalid_blocks"),
    "26_actions": ([{"type": "actions", "elements": [btn(action_id=f"a{i}") for i in range(26)]}], "invalid_blocks"),
    "confirm_text_301": (
        [{"type": "actions", "elements": [btn(confirm={**CONFIRM, "text": {"type": "mrkdwn", "text": "x" * 301}})]}],
        "invalid_blocks",
    ),
    "bad_style": ([{"type": "actions", "elements": [btn(style="blue")]}], "invalid_blocks"),
    "unknown_block": ([{"type": "marquee"}], "invalid_blocks"),
    "duplicate_block_id": ([{**sec("a"), "block_id": "b"}, {**sec("b"), "block_id": "b"}], "invalid_blocks"),
    "total_12500": ([sec("x" * 2500)] * 5, "msg_blocks_too_long"),
    "not_a_list": ({"type": "section"}, "invalid_blocks_format"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_rejects_what_slack_rejects(slack: SlackFake, case: str) -> None:
    blocks, code = BAD[case]
    with pytest.raises(SlackApiError) as err:
        web(slack).chat_postMessage(channel="C1", text="t", blocks=blocks)
    assert err.value.response["error"] == code
    assert "C1" not in slack.messages or not slack.messages["C1"]


def test_accepts_the_limits_exactly(slack: SlackFake) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        sec("x" * 3000),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 200}] * 10},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
        {"type": "divider"},
        {"type": "actions", "elements": [btn("b" * 75, "a" * 255, "v" * 2000, confirm=CONFIRM)]},
    ] + [sec("s")] * 44
    resp = web(slack).chat_postMessage(channel="C1", text="t", blocks=blocks)
    assert resp["ok"] and len(slack.messages["C1"][0].blocks) == 50


def test_message_level_errors(slack: SlackFake) -> None:
    cases = [
        ({"channel": "C1"}, "no_text"),
        ({"channel": "C1", "text": "x" * 40001}, "msg_too_long"),
        ({"channel": "C1", "text": "x", "metadata": {"event_type": "e"}}, "invalid_metadata_format"),
        ({"text": "x"}, "channel_not_found"),
    ]
    for body, code in cases:
        status, _, resp = raw_call(slack, "chat.postMessage", json_body=body)
        assert (status, resp["error"]) == (200, code)


def test_form_encoded_body_and_token_param() -> None:
    with SlackFake(rate_limit=False, bot_token=TOKEN) as fake:
        form = {"token": TOKEN, "channel": "#ops", "text": "hi", "blocks": json.dumps([sec("from a form")])}
        status, _, resp = raw_call(fake, "chat.postMessage", form=form, token=None)
        assert status == 200 and resp["ok"], resp
        assert fake.messages["#ops"][0].blocks == [sec("from a form")]
        assert resp["channel"] == fake.workspace.channel("ops").id


def test_auth(slack: SlackFake) -> None:
    assert raw_call(slack, "auth.test", token=None)[2] == {"ok": False, "error": "not_authed"}
    assert raw_call(slack, "auth.test", token="xoxb-nope")[2]["error"] == "invalid_auth"
    assert web(slack).auth_test()["user_id"] == slack.workspace.bot_user_id
    with SlackFake() as open_fake:  # no token configured: anything goes
        assert raw_call(open_fake, "auth.test", token=None)[2]["ok"]


def test_unknown_method(slack: SlackFake) -> None:
    status, _, body = raw_call(slack, "chat.teleport")
    assert (status, body["error"]) == (404, "unknown_method")


def test_rate_limit_per_channel(slack_limited: SlackFake) -> None:
    ok = raw_call(slack_limited, "chat.postMessage", json_body={"channel": "C1", "text": "1"})
    assert ok[0] == 200
    status, headers, body = raw_call(slack_limited, "chat.postMessage", json_body={"channel": "C1", "text": "2"})
    assert (status, headers["Retry-After"], body["error"]) == (429, "1", "ratelimited")
    # another channel is not limited by C1's post
    assert raw_call(slack_limited, "chat.postMessage", json_body={"channel": "C2", "text": "1"})[0] == 200
    assert slack_limited.rate_limited == 1
    assert [m.text for m in slack_limited.messages["C1"]] == ["1"]
    time.sleep(1.05)
    assert raw_call(slack_limited, "chat.postMessage", json_body={"channel": "C1", "text": "3"})[0] == 200


def test_chat_update_is_limited_per_workspace_not_per_channel(slack_limited: SlackFake) -> None:
    ts = raw_call(slack_limited, "chat.postMessage", json_body={"channel": "C1", "text": "1"})[2]["ts"]
    statuses = [
        raw_call(slack_limited, "chat.update", json_body={"channel": "C1", "ts": ts, "text": f"u{i}"})[0]
        for i in range(51)
    ]
    assert statuses[:50] == [200] * 50  # right after a post on the same channel, too
    assert statuses[50] == 429


def test_rate_limit_toggle_and_custom_interval() -> None:
    with SlackFake(rate_limit=True, min_interval=0.2, retry_after=0.2) as fake:
        raw_call(fake, "chat.postMessage", json_body={"channel": "C1", "text": "1"}, token=None)
        status, headers, _ = raw_call(fake, "chat.postMessage", json_body={"channel": "C1", "text": "2"}, token=None)
        assert (status, headers["Retry-After"]) == (429, "0.2")
        fake.rate_limit = False
        assert raw_call(fake, "chat.postMessage", json_body={"channel": "C1", "text": "3"}, token=None)[0] == 200


def test_fail_next(slack: SlackFake) -> None:
    slack.fail_next("chat.postMessage", error="channel_not_found")
    slack.fail_next("chat.postMessage", status=502, times=2)
    slack.fail_next("chat.postMessage", delay=0.3)
    body = {"channel": "C1", "text": "x"}
    assert raw_call(slack, "chat.postMessage", json_body=body)[2]["error"] == "channel_not_found"
    assert raw_call(slack, "chat.postMessage", json_body=body)[0] == 502
    assert raw_call(slack, "chat.postMessage", json_body=body)[0] == 502
    started = time.monotonic()
    assert raw_call(slack, "chat.postMessage", json_body=body)[2]["ok"]
    assert time.monotonic() - started >= 0.3
    assert raw_call(slack, "chat.postMessage", json_body=body)[2]["ok"]
    assert [r.status for r in slack.calls("chat.postMessage")] == [200, 502, 502, 200, 200]
    assert len(slack.messages["C1"]) == 2


def test_update_delete_permalink_threads(slack: SlackFake) -> None:
    c = web(slack)
    parent = c.chat_postMessage(channel="C1", text="parent")["ts"]
    c.chat_postMessage(channel="C1", text="other")
    reply = c.chat_postMessage(channel="C1", text="reply", thread_ts=parent)["ts"]
    c.chat_update(channel="C1", ts=parent, text="parent v2", blocks=[sec("v2")])
    msgs = slack.messages["C1"]
    assert [m.text for m in msgs] == ["parent v2", "other", "reply"]  # updated in place
    assert msgs[0].edited and msgs[0]["blocks"] == [sec("v2")]
    ch = slack.workspace.channel("C1")
    assert [m.ts for m in ch.replies(parent)] == [reply]
    assert [m.text for m in ch.top_level()] == ["parent v2", "other"]
    assert c.chat_getPermalink(channel="C1", message_ts=reply)["permalink"].startswith("https://")
    c.chat_delete(channel="C1", ts=reply)
    with pytest.raises(SlackApiError) as err:
        c.chat_update(channel="C1", ts=reply, text="gone")
    assert err.value.response["error"] == "message_not_found"
    with pytest.raises(SlackApiError) as err:
        c.chat_update(channel="C1", ts=parent, blocks=[sec("x" * 3001)])
    assert err.value.response["error"] == "invalid_blocks"


def test_users_groups_conversations_views(slack: SlackFake) -> None:
    c = web(slack)
    slack.workspace.add_user("U0ALICE", "alice", team_id="T0OTHER")
    assert c.users_info(user="U0ALICE")["user"]["team_id"] == "T0OTHER"
    with pytest.raises(SlackApiError):
        c.users_info(user="U0NOBODY")
    slack.workspace.add_usergroup("S0SEC", ["U0ALICE"])
    assert c.usergroups_users_list(usergroup="S0SEC")["users"] == ["U0ALICE"]
    slack.workspace.channel("#alerts")
    info = c.conversations_info(channel="#alerts")["channel"]
    assert info["name"] == "alerts" and info["id"].startswith("C")
    with pytest.raises(SlackApiError):
        c.conversations_info(channel="C0MISSING")
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Snooze"}, "blocks": [sec("how long?")]}
    trigger = slack.trigger("U0ALICE")
    assert c.views_open(trigger_id=trigger, view=view)["view"]["id"].startswith("V")
    assert slack.open_views("U0ALICE")[0]["trigger_id"] == trigger
    with pytest.raises(SlackApiError) as err:  # a trigger is good for one views.open
        c.views_open(trigger_id=trigger, view=view)
    assert err.value.response["error"] == "invalid_trigger_id"
    with pytest.raises(SlackApiError):
        c.views_open(trigger_id="123.456", view=view)  # never issued
    with pytest.raises(SlackApiError):
        c.views_open(
            trigger_id=slack.trigger("U0ALICE"), view={**view, "title": {"type": "plain_text", "text": "t" * 25}}
        )
    assert len(slack.workspace.views) == 1


def test_views_open_wants_a_fresh_trigger_and_a_valid_form(slack: SlackFake) -> None:
    c = web(slack)
    trigger = slack.trigger("U0ALICE")
    field = {
        "type": "input",
        "block_id": "reason",
        "label": {"type": "plain_text", "text": "Why?"},
        "element": {"type": "plain_text_input", "action_id": "reason"},
    }
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Dismiss"}, "blocks": [field]}
    with pytest.raises(SlackApiError):  # inputs without a submit button
        c.views_open(trigger_id=trigger, view=view)
    view["submit"] = {"type": "plain_text", "text": "Dismiss"}
    stale = slack.trigger("U0ALICE")
    slack.workspace.triggers[stale] = ("U0ALICE", time.monotonic() - 3.5)  # clicked 3.5 s ago
    with pytest.raises(SlackApiError) as err:
        c.views_open(trigger_id=stale, view=view)
    assert err.value.response["error"] == "expired_trigger_id"
    assert slack.open_views() == []


def test_ephemeral(slack: SlackFake) -> None:
    web(slack).chat_postEphemeral(channel="C1", user="U0BOB", text="just you", blocks=[sec("just you")])
    (eph,) = slack.ephemerals
    assert (eph.user, eph.text, eph.channel) == ("U0BOB", "just you", "C1")


def _post_json(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except HTTPError as e:
        return e.code, json.loads(e.read())


def test_response_url(slack: SlackFake) -> None:
    ts = web(slack).chat_postMessage(channel="C1", text="original")["ts"]
    url = slack.response_url("C1", ts, user="U0BOB")
    assert _post_json(url, {"replace_original": True, "text": "replaced", "blocks": [sec("replaced")]}) == (
        200,
        {"ok": True},
    )
    assert slack.messages["C1"][0].text == "replaced" and slack.messages["C1"][0].edited
    assert _post_json(url, {"text": "only bob"})[0] == 200
    assert slack.ephemerals[-1].user == "U0BOB"
    assert _post_json(url, {"response_type": "in_channel", "text": "everyone", "thread_ts": ts})[0] == 200
    assert slack.messages["C1"][-1].thread_ts == ts
    assert _post_json(url, {"replace_original": True, "blocks": [sec("x" * 3001)]})[1]["error"] == "invalid_blocks"
    assert _post_json(url, {"text": "5th"})[0] == 200
    assert _post_json(url, {"text": "6th"}) == (404, {"ok": False, "error": "expired_url"})
    assert _post_json(slack.base + "/response/nope", {"text": "x"})[0] == 404


def test_concurrent_posts_are_all_kept(slack: SlackFake) -> None:
    def post(i: int) -> None:
        web(slack).chat_postMessage(channel=f"C{i % 4}", text=str(i))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    all_msgs = [m for ch in slack.messages for m in slack.messages[ch]]
    assert len(all_msgs) == 40
    assert len({m.ts for m in all_msgs}) == 40
    assert sorted(int(m.text) for m in all_msgs) == list(range(40))
    assert len(slack.requests) == 40
