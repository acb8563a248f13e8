"""SlackPoster against the loopback fake: posting, retries, the time budget, secrecy."""

from __future__ import annotations

import logging
import time
import traceback

import pytest
from slack_helpers import TOKEN, make_alert

from bot.errors import RetryLaterError, SlackError
from bot.sandbox.slack_fake import SlackFake
from bot.slack.client import SlackPoster
from bot.slack.render import Button, render_alert, render_ephemeral, render_outcome_reply


def poster(fake: SlackFake, **kw) -> SlackPoster:
    kw.setdefault("backoff", 0.01)
    return SlackPoster(TOKEN, fake.url, **kw)


def test_post_update_reply(slack: SlackFake) -> None:
    p = poster(slack)
    alert = make_alert()
    ts = p.post_message(render_alert(alert, channel="C0ALERTS", buttons=[Button.ack(alert.id)]))
    (msg,) = slack.messages["C0ALERTS"]
    assert msg.ts == ts and not msg.edited
    assert msg.metadata["event_type"] == "eventops_alert"
    assert msg.blocks[-1]["elements"][0]["action_id"] == "eventops:ack"

    p.update_message("C0ALERTS", ts, render_alert(alert, channel="C0ALERTS", count=2, status="✅ Acknowledged by bob"))
    (msg,) = slack.messages["C0ALERTS"]
    assert msg.ts == ts and msg.edited and msg.edit_count == 1
    assert "seen 2 times" in str(msg.blocks)

    reply_ts = p.post_reply("C0ALERTS", ts, render_outcome_reply("✅ done", ["State: stopped"]))
    assert reply_ts != ts
    assert [m.ts for m in slack.workspace.channel("C0ALERTS").replies(ts)] == [reply_ts]

    posted = slack.calls("chat.postMessage")[0]
    assert posted.headers["authorization"] == f"Bearer {TOKEN}"
    assert posted.params["unfurl_links"] is False


def test_channel_names_and_ephemeral_permalink_groups(slack: SlackFake) -> None:
    p = poster(slack)
    ts = p.post_message({"channel": "#eventops", "text": "hi"})
    assert slack.messages["#eventops"][0].ts == ts
    link = p.permalink("#eventops", ts)
    assert link is not None and link.endswith("/p" + ts.replace(".", ""))
    assert p.permalink("#eventops", "1.000001") is None

    p.post_ephemeral("#eventops", "U0ALICE", render_ephemeral("only you"))
    assert [(e.user, e.text) for e in slack.ephemerals] == [("U0ALICE", "only you")]

    slack.workspace.add_usergroup("S0SECOPS", ["U0ALICE", "U0BOB"])
    assert p.users_in_group("S0SECOPS") == ["U0ALICE", "U0BOB"]
    with pytest.raises(SlackError) as err:
        p.users_in_group("S0NOPE")
    assert err.value.code == "no_such_subteam"


def test_real_rate_limit_is_waited_out(slack_limited: SlackFake) -> None:
    p = poster(slack_limited, time_left=lambda: 60.0, pace_s=0)  # no pacing: the 429 path
    p.post_message({"channel": "C1", "text": "one"})
    started = time.monotonic()
    p.post_message({"channel": "C1", "text": "two"})
    assert time.monotonic() - started >= 0.9
    assert slack_limited.rate_limited == 1
    assert [m.text for m in slack_limited.messages["C1"]] == ["one", "two"]


def test_short_retry_after_is_retried(slack: SlackFake) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=0.2, times=2)
    ts = poster(slack).post_message({"channel": "C1", "text": "hi"})
    assert slack.messages["C1"][0].ts == ts
    assert [r.status for r in slack.calls("chat.postMessage")] == [429, 429, 200]


def test_retry_after_beyond_time_left_raises_retry_later(slack: SlackFake) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=30)
    started = time.monotonic()
    with pytest.raises(RetryLaterError) as err:
        poster(slack, time_left=lambda: 20.0).post_message({"channel": "C1", "text": "hi"})
    assert time.monotonic() - started < 2  # did not sleep
    assert err.value.retry_after == 30
    assert "C1" not in slack.messages
    assert TOKEN not in str(err.value)


def test_rate_limited_past_max_retries_raises_retry_later(slack: SlackFake) -> None:
    slack.fail_next("chat.update", status=429, retry_after=0.05, times=10)
    slack.workspace.channel("C1")
    with pytest.raises(RetryLaterError):
        poster(slack).update_message("C1", "1.000001", {"text": "x"})
    assert len(slack.calls("chat.update")) == 4  # 1 + 3 retries


def test_500_is_retried_then_succeeds(slack: SlackFake) -> None:
    slack.fail_next("chat.postMessage", status=500)
    poster(slack).post_message({"channel": "C1", "text": "hi"})
    assert [r.status for r in slack.calls("chat.postMessage")] == [500, 200]
    assert len(slack.messages["C1"]) == 1


def test_500_persisting_becomes_slack_error(slack: SlackFake) -> None:
    slack.fail_next("chat.postMessage", status=503, times=10)
    with pytest.raises(SlackError) as err:
        poster(slack, server_error_retries=2).post_message({"channel": "C1", "text": "hi"})
    assert not isinstance(err.value, RetryLaterError)
    assert err.value.code == "internal_error"
    assert "HTTP 503" in str(err.value)
    assert len(slack.calls("chat.postMessage")) == 3


def test_server_error_not_retried_without_time_left(slack: SlackFake) -> None:
    slack.fail_next("chat.postMessage", status=500, times=10)
    with pytest.raises(SlackError):
        poster(slack, time_left=lambda: 1.0).post_message({"channel": "C1", "text": "hi"})
    assert len(slack.calls("chat.postMessage")) == 1


def test_slack_error_codes_are_not_retried(slack: SlackFake) -> None:
    slack.fail_next("chat.update", error="message_not_found")
    slack.workspace.channel("C1")
    with pytest.raises(SlackError) as err:
        poster(slack).update_message("C1", "1.000001", {"text": "x"})
    assert err.value.code == "message_not_found"
    assert str(err.value) == "chat.update: message_not_found (HTTP 200)"
    assert len(slack.calls("chat.update")) == 1


def test_fake_refusal_of_blocks_surfaces(slack: SlackFake) -> None:
    huge = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}} for _ in range(5)]
    with pytest.raises(SlackError) as err:
        poster(slack).post_message({"channel": "C1", "text": "t", "blocks": huge})
    assert err.value.code == "msg_blocks_too_long"


def test_connection_refused_is_slack_error() -> None:
    fake = SlackFake().start()
    url = fake.url
    fake.stop()
    with pytest.raises(SlackError) as err:
        SlackPoster(TOKEN, url, backoff=0.01).post_message({"channel": "C1", "text": "hi"})
    assert err.value.code == "connection_error"


def test_token_never_leaks(slack: SlackFake, caplog: pytest.LogCaptureFixture) -> None:
    """docs/reliability.md #13: canary token absent from exceptions and every log record."""
    assert logging.getLogger("slack_sdk").level == logging.WARNING
    assert logging.getLogger("slack_bolt").level == logging.WARNING
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    wrong = SlackPoster(TOKEN + "-wrong", slack.url, backoff=0.01)
    good = poster(slack, time_left=lambda: 5.0)
    slack.fail_next("chat.postMessage", status=500)
    slack.fail_next("chat.update", status=429, retry_after=60)
    for call in (
        lambda: good.post_message({"channel": "C1", "text": "hi"}),
        lambda: good.update_message("C1", "1.1", {"text": "x"}),
        lambda: wrong.post_message({"channel": "C1", "text": "hi"}),
        lambda: good.post_message({"text": "no channel"}),
    ):
        try:
            call()
        except Exception as exc:
            errors.append(exc)
    assert len(errors) == 4
    assert any(getattr(e, "code", None) == "invalid_auth" for e in errors)
    for exc in errors:
        assert TOKEN not in "".join(traceback.format_exception(exc))
        assert TOKEN not in repr(exc)
    # Even with slack_sdk's own DEBUG logging switched on, nothing logs the token.
    caplog.set_level(logging.DEBUG, logger="slack_sdk")
    good.post_message({"channel": "C1", "text": "hi"})
    for rec in caplog.records:
        assert TOKEN not in rec.getMessage()
        assert TOKEN not in str(rec.args)


def test_after_a_429_posts_to_that_channel_are_paced_so_the_burst_meets_no_more(slack_limited: SlackFake) -> None:
    p = poster(slack_limited, time_left=lambda: 60.0)
    p.post_message({"channel": "C1", "text": "m0"})
    p.post_message({"channel": "C1", "text": "m1"})  # Slack says 429 once: waited out, learnt
    assert slack_limited.rate_limited == 1
    started = time.monotonic()
    for i in range(2, 5):
        p.post_message({"channel": "C1", "text": f"m{i}"})
    p.post_reply("C1", slack_limited.messages["C1"][0].ts, {"text": "in the thread"})
    took = time.monotonic() - started
    assert slack_limited.rate_limited == 1  # no more 429s
    assert 3.5 <= took < 5.5  # about a second between posts, not a Retry-After per 429
    assert [m.text for m in slack_limited.messages["C1"] if m.thread_ts is None] == [f"m{i}" for i in range(5)]
    other = time.monotonic()
    p.post_message({"channel": "C2", "text": "another channel waits for nobody"})
    assert time.monotonic() - other < 0.5


def test_no_pacing_until_slack_limits_a_channel(slack: SlackFake) -> None:
    waits: list[float] = []
    p = poster(slack, time_left=lambda: 60.0, sleep=waits.append)
    for i in range(5):
        p.post_message({"channel": "C1", "text": f"m{i}"})
    assert waits == []


def test_pacing_never_spends_the_invocations_last_seconds(slack_limited: SlackFake) -> None:
    budget = [60.0]
    waits: list[float] = []
    p = poster(slack_limited, time_left=lambda: budget[0], sleep=waits.append)
    p._paced.add("C1")  # as after a 429 on C1
    p.post_message({"channel": "C1", "text": "one"})
    budget[0] = 0.5
    with pytest.raises(RetryLaterError):  # no time to pace, nor to wait out the 429: re-queued
        p.post_message({"channel": "C1", "text": "two"})
    assert waits == []
