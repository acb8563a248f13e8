"""Parsing, usage errors, permission filtering, --public, deferral and the generated docs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from commands_support import ALICE, BOB, MALLORY, OUTSIDER, StubbedSessions, texts

from bot.commands import (
    ack_reply,
    answer_or_defer,
    answer_request,
    commands,
    commands_table_markdown,
    dispatch,
    needs_deferral,
    run_deferred,
)
from bot.commands.base import parse, split_args
from bot.commands.snooze import parse_duration
from bot.models import ProposalState

DOCS = Path(__file__).resolve().parents[2] / "docs" / "commands.md"
MUTATING = {"run", "snooze", "unsnooze", "redrive"}


@pytest.fixture
def rt(shared_rt):
    """These tests only read (or are refused): one moto Runtime for the module."""
    return shared_rt


@pytest.fixture
def make_rt(shared_rt):
    """A Runtime with its own config (and sessions) on the module's moto state."""
    from bot.config import parse_config
    from bot.runtime import Runtime

    def make(config: dict | None = None) -> Runtime:
        data = {"policy": shared_rt.config.policy.model_dump(), **(config or {})}
        return Runtime(settings=shared_rt.settings, config=parse_config(data, "test"))

    return make


def test_every_command_has_usage_and_description_from_its_docstring():
    for name, cmd in commands.items():
        assert cmd.usage.startswith(str(name)), name
        assert cmd.description and not cmd.description.startswith(str(name)), name
    assert {c.name for c in commands.values() if c.mutates} == MUTATING


def test_docs_table_is_generated_from_the_registry():
    table = commands_table_markdown()
    for cmd in commands.values():
        assert cmd.description.replace("|", "\\|") in table
    assert DOCS.exists(), "write docs/commands.md with commands_table_markdown()"
    assert table in DOCS.read_text(), "docs/commands.md is stale: regenerate it from commands_table_markdown()"


def test_split_args_quotes_entities_and_mentions():
    assert split_args('snooze a-1 4h "deploy in progress"') == ["snooze", "a-1", "4h", "deploy in progress"]
    assert split_args("snooze a-1 4h “curly quotes”") == ["snooze", "a-1", "4h", "curly quotes"]
    assert split_args("audit <@U123ABC|bob> a&amp;b") == ["audit", "<@U123ABC|bob>", "a&b"]
    assert split_args('snooze "unbalanced') == ["snooze", '"unbalanced']
    assert parse("") == ("help", [], False)
    assert parse("ALARMS prod --public") == ("alarms", ["prod"], True)


def test_empty_text_is_help(rt):
    reply = dispatch("", ALICE, "C0OPS", rt)
    assert "/ops alarms" in texts(reply) and not reply.public


@pytest.mark.parametrize(
    ("typed", "closest"),
    [("alrams", "alarms"), ("finding", "findings"), ("snoze", "snooze"), ("instnaces", "instances"), ("hlep", "help")],
)
def test_unknown_command_suggests_the_closest(rt, typed, closest):
    reply = dispatch(f"{typed} x", ALICE, "C0OPS", rt)
    text = texts(reply)
    assert f"Unknown command `{typed}`" in text
    assert f"Did you mean `/ops {closest}" in text
    assert not reply.public


def test_unknown_command_does_not_suggest_what_the_actor_may_not_use(rt):
    text = texts(dispatch("snoze", MALLORY, "C0OPS", rt))
    assert "Unknown command" in text and "`/ops snooze <" not in text


def test_unknown_command_text_is_escaped(rt):
    text = texts(dispatch("<!channel>", ALICE, "C0OPS", rt))
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


def test_slash_name_comes_from_config(make_rt):
    rt = make_rt({"slash_command": "/eventops"})
    assert "`/eventops status`" in texts(dispatch("help", ALICE, "C0OPS", rt))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("snooze", "needs more arguments"),
        ("snooze a-1", "needs more arguments"),
        ("alert", "needs more arguments"),
        ("unsnooze", "needs more arguments"),
        ("run", "needs more arguments"),
        ("audit 500", "n must be between 1 and 50"),
        ("findings purple", "is not a severity"),
        ("alarms nowhere", "Unexpected `nowhere`"),
        ("alarms 999999999999", "is not a configured account or region"),
    ],
)
def test_bad_arguments_give_usage(rt, text, expected):
    reply = dispatch(text, ALICE, "C0OPS", rt)
    body = texts(reply)
    assert expected in body
    assert "Usage: `/ops " in body
    assert "Traceback" not in body and not reply.public


def test_command_help_flag_gives_usage(rt):
    body = texts(dispatch("alarms --help", ALICE, "C0OPS", rt))
    assert "`/ops alarms [account] [region]`" in body
    assert "CloudWatch alarms in ALARM" in body


@pytest.mark.parametrize("bad", ["4", "4x", "h4", "-1h", "0m", "31d", "4h-", "forever", "1h 2"])
def test_bad_durations_are_refused(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_durations():
    assert parse_duration("30m") == 1800
    assert parse_duration("4h") == 14400
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2d") == 172800
    assert parse_duration("1w") == 604800
    assert parse_duration("90 minutes") == 5400


def test_bad_duration_through_dispatch(rt):
    from bot.models import Alert

    rt.store.put_alert(Alert(id="a-1", fingerprint="f" * 32, source_kind="x", source="x", detail_type="x", title="t"))
    body = texts(dispatch("snooze a-1 soon", ALICE, "C0OPS", rt))
    assert "is not a duration" in body and "Usage:" in body
    assert rt.store.snoozes() == []


def test_help_is_filtered_by_permission(rt):
    allowed = texts(dispatch("help", ALICE, "C0OPS", rt))
    refused = texts(dispatch("help", MALLORY, "C0OPS", rt))
    outsider = texts(dispatch("help", OUTSIDER, "C0OPS", rt))
    for name in MUTATING:
        assert f"`/ops {name} " in allowed
        assert f"`/ops {name} " not in refused
        assert f"`/ops {name} " not in outsider
    assert "`/ops alarms" in refused and "`/ops whoami`" in refused
    # BOB may act at HIGH only: still someone who may act
    assert "`/ops run " in texts(dispatch("help", BOB, "C0OPS", rt))


def test_help_for_one_command(rt):
    assert "`/ops snooze <alert|fingerprint|rule> <duration> [reason]`" in texts(
        dispatch("help snooze", ALICE, "C", rt)
    )
    assert "No command `snooze` for you" in texts(dispatch("help snooze", MALLORY, "C", rt))


def test_no_policy_means_nobody_sees_or_runs_mutations(make_rt):
    rt = make_rt({"policy": None})
    assert "`/ops snooze " not in texts(dispatch("help", ALICE, "C0OPS", rt))
    body = texts(dispatch("snooze a-1 1h", ALICE, "C0OPS", rt))
    assert "not allowed to use `/ops snooze`" in body
    assert "no authorization policy" in body


@pytest.mark.parametrize("text", ["snooze a-1 1h", "unsnooze abc", "run ec2.stop-instance i-0abc1234"])
def test_mutations_refused_for_actors_not_allowed(rt, text):
    body = texts(dispatch(text, MALLORY, "C0OPS", rt))
    assert "You are not allowed to use" in body
    assert rt.store.snoozes() == []
    assert rt.store.proposals_in(set(ProposalState)) == []


def test_public_flag_makes_reply_in_channel(rt):
    reply = dispatch("whoami --public", ALICE, "C0OPS", rt)
    assert reply.public
    assert reply.payload()["response_type"] == "in_channel"
    private = dispatch("whoami", ALICE, "C0OPS", rt)
    assert not private.public and private.payload()["response_type"] == "ephemeral"


def test_errors_are_a_message_never_a_stack_trace(rt, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("secret internals at 0xdeadbeef")

    monkeypatch.setattr(type(rt.store), "recent_alerts", boom)
    reply = dispatch("status", ALICE, "C0OPS", rt)
    body = texts(reply)
    assert "`/ops status` failed (RuntimeError)" in body
    assert "deadbeef" not in body and "Traceback" not in body


def test_dispatch_never_raises_on_garbage(rt):
    for text in ["\x00\x01", "'" * 5, "help " * 500, "alarms " + "x" * 10000, "🙂", "run a b c=d e"]:
        reply = dispatch(text, ALICE, "C0OPS", rt)
        assert reply.text
        assert len(reply.payload().get("blocks", [])) <= 50


def test_whoami_lists_each_tier(rt):
    body = texts(dispatch("whoami", BOB, "C0OPS", rt))
    assert "UBOB00001" in body
    assert "*HIGH* — :white_check_mark: may request, then 2 approval(s)" in body
    assert "*LOW* — :no_entry: you are not allowed to run LOW-risk remediations" in body


FAN_OUT = {"alarms", "findings", "instances", "health", "doctor"}
DYNAMODB_ONLY = {"audit", "snoozes", "alert"}
SCOPED = {
    "accounts": [
        {"id": "111111111111", "alias": "prod", "regions": ["eu-west-1", "us-east-1"]},
        {"id": "222222222222", "alias": "stage", "regions": ["eu-west-1"]},
    ]
}


def test_deferral_is_declared_by_the_commands_that_fan_out():
    declared = {str(name) for name, cmd in commands.items() if cmd.deferred}
    assert FAN_OUT <= declared
    assert not (DYNAMODB_ONLY & declared), "DynamoDB-only commands answer inside the ack"
    # status is also DynamoDB-only; its module is owned elsewhere (see the handover note)
    # redrive reads no other account, but moving up to 1000 records outlasts the ack;
    # report reads a week of counters and audit (16 queries) and both dead-letter queues
    assert declared - FAN_OUT <= {"status", "redrive", "report"}
    for name in FAN_OUT - {"doctor"} | {"redrive", "report"}:  # doctor takes no arguments
        assert commands[name].check is not None, f"{name}: arguments are validated before the ack"


def test_deferral_and_ack_make_no_aws_call(make_rt):
    rt = make_rt(SCOPED)
    sessions = StubbedSessions(rt.sessions, {})
    rt.sessions = sessions
    deferred = ["alarms", "findings high", "instances web", "health", "doctor", "alarms prod eu-west-1"]
    for text in [*deferred, "redrive alerts --max 5"]:
        assert needs_deferral(text), text
        assert answer_or_defer(text, ALICE, "C0OPS", rt) is None, text
        ack = ack_reply(text, rt)
        assert "Looking up" in ack.text and not ack.public
    for text in ["help", "whoami", "snooze a 1h", "nonsense", "alarms --help", "audit", "snoozes", "alert x"]:
        assert not needs_deferral(text), text
    assert sessions.calls == []


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("instances eu-west-9", "`eu-west-9` is not a configured account or region."),
        ("alarms nowhere", "Unexpected `nowhere`."),
        ("alarms 999999999999", "`999999999999` is not a configured account or region."),
        ("findings purple", "`purple` is not a severity"),
        ("health prod extra", "Unexpected `extra`."),
    ],
)
def test_usage_errors_of_fan_out_commands_are_answered_before_any_aws_call(make_rt, text, error):
    rt = make_rt(SCOPED)
    sessions = StubbedSessions(rt.sessions, {})
    rt.sessions = sessions
    reply = answer_or_defer(text, ALICE, "C0OPS", rt)
    assert reply is not None and error in texts(reply), texts(reply) if reply else None
    assert "Looking up" not in texts(reply) and "Usage:" in texts(reply)
    assert texts(reply) == texts(dispatch(text, ALICE, "C0OPS", rt)), "the same answer as the worker's"
    assert sessions.calls == []


def _queued(rt, url: str) -> list[str]:
    msgs = rt.sessions.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"])["text"] for m in msgs]


def test_answer_request_answers_dynamodb_reads_and_usage_errors_in_the_ack(make_rt):
    import dataclasses

    rt = make_rt(SCOPED)
    url = rt.sessions.client("sqs").create_queue(QueueName="jobs-deferral")["QueueUrl"]
    rt.settings = dataclasses.replace(rt.settings, jobs_queue_url=url)
    response_url = "https://hooks.slack.test/commands/1"
    for text in ["audit", "snoozes", "alert a-missing", "audit 5"]:
        answer = texts(answer_request(text, ALICE, "C0OPS", rt, response_url))
        assert "Looking up" not in answer and answer.strip(), text
    # (scoped to a user: refused /ops snooze in earlier tests of this module left DENIED records)
    assert "No audit records." in texts(answer_request("audit <@U0NOBODY1>", ALICE, "C0OPS", rt, response_url))
    assert "Nothing is snoozed." in texts(answer_request("snoozes", ALICE, "C0OPS", rt, response_url))
    bad = texts(answer_request("instances eu-west-9", ALICE, "C0OPS", rt, response_url))
    assert "`eu-west-9` is not a configured account or region." in bad and "Looking up" not in bad
    assert _queued(rt, url) == [], "nothing above was deferred"

    ack = texts(answer_request("instances web", ALICE, "C0OPS", rt, response_url))
    assert ack.startswith(":hourglass_flowing_sand: Looking up `instances` across 2 account(s)")
    assert _queued(rt, url) == ["instances web"]


def test_run_deferred_posts_once_to_response_url(rt):
    posts: list[tuple[str, dict]] = []
    reply = run_deferred(
        "whoami --public", ALICE, "C0OPS", rt, "https://hooks.slack.test/r/1", lambda u, b: posts.append((u, b))
    )
    assert len(posts) == 1
    url, body = posts[0]
    assert url == "https://hooks.slack.test/r/1"
    assert body["response_type"] == "in_channel" and body["replace_original"] is False
    assert body["text"] == reply.text and body["blocks"]


def test_run_deferred_survives_a_failing_post_and_skips_an_expired_url(rt):
    import time

    calls: list[dict] = []

    def flaky(url: str, body: dict) -> None:
        calls.append(body)
        if len(calls) == 1:
            raise OSError("HTTP 500")

    run_deferred("whoami", ALICE, "C0OPS", rt, "https://hooks.slack.test/r/2", flaky)
    assert len(calls) == 2 and "could not be delivered" in calls[1]["text"]

    late: list[dict] = []
    run_deferred("whoami", ALICE, "C0OPS", rt, "u", lambda u, b: late.append(b), acked_at=time.time() - 31 * 60)
    assert late == []
