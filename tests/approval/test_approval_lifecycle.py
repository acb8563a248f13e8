"""Ack, Snooze, Dismiss, housekeeping (expiry, snooze reminders, stuck jobs), /ops wiring,
the bot/slack import boundary, and canary secrets."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
import urllib.parse

from botocore.exceptions import ClientError

from bot.approval import sweeps
from bot.models import ProposalState
from tests.approval.world import (
    ALICE,
    BOB,
    CHANNEL,
    MALLORY,
    SECRET,
    TEAM,
    TEST_REMEDIATION,
    TOKEN,
    http_event,
)

REMEDIATE = f"eventops:remediate:{TEST_REMEDIATION}"


def test_ack_once_then_told_who(world):
    world.post_alert()
    world.click("eventops:ack", world.alert.id, ALICE)
    world.click("eventops:ack", world.alert.id, BOB)
    assert world.rt.store.acked_by(world.alert.id).user_id == ALICE  # the one write before the ack
    world.drain()  # the message job: the audit record and the message update
    assert "Acknowledged by @alice" in str(world.message().blocks)
    assert world.ephemerals_for(BOB) == ["Already acknowledged by @alice."]
    assert [e.outcome for e in world.audit()] == ["ACKNOWLEDGED"]


def test_outsider_cannot_dismiss(world):
    p = world.post_alert()
    world.click("eventops:dismiss", world.alert.id, ALICE, team="T0THEIRS")
    assert world.rt.store.get_proposal(p.id).state == ProposalState.PROPOSED
    assert [e.outcome for e in world.audit()] == ["DENIED"]


def test_dismiss_closes_proposals_and_buttons_refuse(world):
    p = world.post_alert()
    world.dismiss(BOB)
    assert world.rt.store.get_proposal(p.id).state == ProposalState.DISMISSED
    world.drain()  # the message job
    assert "Dismissed by @bob" in str(world.message().blocks)
    assert "eventops:remediate" not in str(world.message().blocks)  # only open proposals get buttons
    world.click(REMEDIATE, p.id, ALICE)
    world.drain()
    assert world.sessions.mutations() == []
    assert "dismissed" in world.ephemerals_for(ALICE)[0]


def test_snooze_from_the_menu_is_the_same_snooze(world):
    """The alert's one Snooze menu (static_select) sends the duration and alert id in its option."""
    p = world.post_alert()
    menu = next(
        e
        for b in world.message().blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "static_select"
    )
    assert [o["value"] for o in menu["options"]] == [f"{d} {world.alert.id}" for d in ("1h", "4h", "24h", "custom")]
    world.choose(menu["action_id"], menu["options"][1]["value"], ALICE)
    assert world.rt.store.get_proposal(p.id).state == ProposalState.SNOOZED
    until = world.rt.store.snoozed_until(world.alert.fingerprint)
    assert until is not None and 4 * 3600 - 60 < until - time.time() <= 4 * 3600
    world.drain()  # the message job writes the audit record
    assert [e.outcome for e in world.audit()] == ["SNOOZED"]


def test_snooze_then_housekeeping_reminds_thread_and_reopens(world):
    p = world.post_alert()
    world.click("eventops:snooze:1h", world.alert.id, ALICE)
    fp = world.alert.fingerprint
    assert world.rt.store.snoozed_until(fp) is not None
    assert world.rt.store.get_proposal(p.id).state == ProposalState.SNOOZED
    world.drain()  # the message job
    assert "Snoozed by @alice until" in str(world.message().blocks)
    world.click(REMEDIATE, p.id, ALICE)
    assert "snoozed" in world.ephemerals_for(ALICE)[-1]

    assert sweeps.end_snoozes(world.rt, now=time.time() + 3601) == 1
    reply = world.replies()[-1]
    assert "Snooze ended" in str(reply.blocks) and "@alice" in str(reply.blocks)
    assert world.rt.store.get_proposal(p.id).state == ProposalState.PROPOSED
    assert sweeps.end_snoozes(world.rt, now=time.time() + 3601) == 0  # reminded once
    assert [e.outcome for e in world.audit()] == ["SNOOZED"]


def test_housekeeping_handler_expires_sweeps_and_beats(world):
    from handlers import housekeeping

    housekeeping.set_runtime(world.rt)
    try:
        old = world.post_alert(ttl_hours=-1)
        summary = housekeeping.handler({}, None)
    finally:
        housekeeping.set_runtime(None)
    assert summary["expired"] == 1 and summary["heartbeat"] == 1
    assert world.rt.store.get_proposal(old.id).state == ProposalState.EXPIRED
    assert "expired" in str(world.message().blocks)
    assert world.rt.store.last_housekeeping_run()
    assert [e.outcome for e in world.audit(old.id)] == ["EXPIRED"]


def test_failed_enqueue_is_requeued_by_housekeeping(world):
    p = world.post_alert()
    world.sessions.failures["SendMessage"] = ClientError({"Error": {"Code": "ServiceUnavailable"}}, "SendMessage")
    world.click(REMEDIATE, p.id, ALICE)
    assert "retried automatically" in world.ephemerals_for(ALICE)[-1]
    assert world.rt.store.get_proposal(p.id).state == ProposalState.APPROVED
    del world.sessions.failures["SendMessage"]

    assert sweeps.requeue_stuck(world.rt, stuck_s=0) == 1
    world.drain()
    assert world.state() == "stopped"
    assert world.sessions.mutations() == ["StopInstances"]


def test_sweep_marks_stale_running_failed(world):
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    cur = world.rt.store.get_proposal(p.id)
    world.rt.store.save_proposal(cur.model_copy(update={"state": ProposalState.RUNNING}), cur.state, cur.version)
    assert sweeps.sweep_running(world.rt, stale_s=0) == 1
    assert world.rt.store.get_proposal(p.id).state == ProposalState.FAILED
    assert world.sessions.mutations() == []


def test_slash_command_is_wired(world):
    from handlers import slack as slack_handler

    body = "command=%2Fops&text=help&user_id=U0ALICE&user_name=alice&team_id=" + TEAM + "&channel_id=" + CHANNEL
    resp = slack_handler.handler(http_event(body), None)
    assert resp["statusCode"] == 200
    payload = json.loads(resp["body"])
    assert payload["response_type"] == "ephemeral" and payload["text"]
    assert payload["text"] != "commands not available"


def test_unknown_action_and_foreign_surfaces(world):
    world.post_alert()
    world.click("eventops:frobnicate", "x", ALICE)
    assert "not one EventOps knows" in world.ephemerals_for(ALICE)[0]
    world.click("someone-elses-button", "x", MALLORY)
    assert world.ephemerals_for(MALLORY) == []


def test_bot_slack_never_imports_boto3():
    code = (
        "import sys, bot.slack.app, bot.slack.payloads, bot.slack.render;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')"
        " or m.startswith(('bot.store', 'bot.aws', 'bot.remediations')));"
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_canary_secrets_never_logged_or_posted(world, caplog):
    caplog.set_level(logging.DEBUG)
    p = world.post_alert()
    world.click(REMEDIATE, p.id, ALICE)
    world.click(REMEDIATE, p.id, MALLORY)
    world.drain()
    from handlers import slack as slack_handler

    bad = http_event("payload=%7B%7D", secret="wrong")
    slack_handler.handler(bad, None)
    slack_text = json.dumps([r.params for r in world.slack.requests], default=str)
    for canary in (TOKEN, SECRET):
        assert canary not in caplog.text
        assert canary not in slack_text
    assert "/response/" not in caplog.text  # response_urls are bearer secrets too


def test_slow_command_is_queued_and_answered_via_response_url(world):
    from handlers import slack as slack_handler

    url = world.slack.response_url(CHANNEL)
    body = urllib.parse.urlencode(
        {
            "command": "/ops",
            "text": "doctor",
            "user_id": ALICE,
            "user_name": "alice",
            "team_id": TEAM,
            "channel_id": CHANNEL,
            "response_url": url,
        }
    )
    resp = slack_handler.handler(http_event(body), None)
    assert resp["statusCode"] == 200 and json.loads(resp["body"])["text"]
    [job] = world.queued_jobs()
    assert job["kind"] == "command"
    world.drain()
    [posted] = [r for r in world.slack.workspace.response_urls.values() if r.posts]
    assert posted.posts[0]["text"]


def test_slack_500_in_ack_path_still_records_and_queues(world):
    p = world.post_alert()
    world.slack.fail_next("chat.update", status=500, times=5)
    resp = world.click(REMEDIATE, p.id, ALICE)
    assert resp["statusCode"] == 200
    # the message update is the worker's: Slack's 5xx never reaches the ack window
    assert world.slack.calls("chat.update") == []
    assert world.rt.store.get_proposal(p.id).state == ProposalState.APPROVED
    world.slack._faults.clear()
    world.drain()
    assert world.state() == "stopped"
    assert "succeeded" in str(world.message().blocks)
