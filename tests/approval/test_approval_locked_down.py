"""Issue "Locked down" 1 and 8, through the real entry points against moto.

1. Confused deputy: an event whose ``account`` is not configured names an instance that lives in
   the bot's own account. No button, no tag read, no change; a proposal for it (even APPROVED in
   the store) is refused by the worker; ``/ops run`` and ``/ops doctor`` know the rule.
8. The jobs queue is not trusted: a job nobody sealed (a forged UNDO, DRY_RUN or COMMAND put on
   the real queue) does nothing, and command answers go only to Slack's response_url hosts.
Plus: auto mode names itself in CloudTrail (``SourceIdentity=eventops-auto``).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from bot.approval.jobs import Job, JobKind, enqueue, sealed
from bot.config import Account, Routing
from bot.models import Actor, ProposalState, Risk
from bot.sandbox.pollers import sqs_event
from bot.sandbox.slack_fake import SlackFake
from tests.approval.world import (
    ACCOUNT,
    ALICE,
    CHANNEL,
    REGION,
    TEAM,
    World,
    command_event,
    make_config,
    world_in,
)

STRANGER = "999999999999"
STOP = "eventops:remediate:ec2.stop-instance"


def _routing(mode: str = "propose") -> Routing:
    return Routing.model_validate(
        {"default": {"channel": CHANNEL, "mode": mode, "remediations": ["ec2.stop-instance"]}}
    )


@pytest.fixture
def propose_world(aws: None, slack: SlackFake) -> Iterator[World]:
    with world_in(slack, make_config(routing=_routing())) as w:
        yield w


@pytest.fixture
def auto_world(aws: None, slack: SlackFake) -> Iterator[World]:
    with world_in(slack, make_config(routing=_routing("auto"))) as w:
        yield w


def alarm_event(account: str, instance_id: str) -> dict[str, Any]:
    """A CloudWatch alarm on ``instance_id``'s system status check (Stop fits it: a stop and
    start moves the instance to healthy hardware), as anyone in the org may PutEvents it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:cloudwatch:{REGION}:{account}:alarm:SystemCheck-{instance_id}"],
        "detail": {
            "alarmName": f"SystemCheck-{instance_id}",
            "configuration": {
                "metrics": [
                    {
                        "id": "m1",
                        "metricStat": {
                            "metric": {
                                "dimensions": {"InstanceId": instance_id},
                                "name": "StatusCheckFailed_System",
                                "namespace": "AWS/EC2",
                            },
                            "period": 300,
                            "stat": "Average",
                        },
                    }
                ]
            },
            "previousState": {"value": "OK", "reason": "fine", "timestamp": "2026-01-01T00:00:00.000+0000"},
            "state": {"value": "ALARM", "reason": "Threshold Crossed", "timestamp": "2026-01-01T00:05:00.000+0000"},
        },
    }


def notify_via_sqs(world: World, event: dict[str, Any]) -> dict[str, Any]:
    """Put the event on an alerts queue in moto and run handlers.notify on what SQS delivers."""
    from handlers import notify

    url = world.sqs.create_queue(QueueName="alerts")["QueueUrl"]
    world.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
    msgs = world.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    notify.set_runtime(world.rt)
    try:
        return notify.handler(sqs_event(msgs, f"arn:aws:sqs:{REGION}:{ACCOUNT}:alerts", REGION), None)
    finally:
        notify.set_runtime(None)


def forge(world: World, job: dict[str, Any]) -> None:
    """A message anyone with sqs:SendMessage on the jobs queue could write."""
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=json.dumps(job))


def buttons(msg: Any) -> list[dict[str, Any]]:
    return [e for b in msg.blocks if b["type"] == "actions" for e in b["elements"]]


# --- 1. the confused deputy -------------------------------------------------------------------


def test_an_event_from_an_unconfigured_account_offers_nothing_and_nothing_stops(propose_world):
    world = propose_world
    assert notify_via_sqs(world, alarm_event(STRANGER, world.instance_id)) == {"batchItemFailures": []}

    (msg,) = [m for m in world.slack.messages[CHANNEL] if m.thread_ts is None]
    remediate = [b for b in buttons(msg) if b["action_id"].startswith("eventops:remediate:")]
    # Whatever was offered, Alice clicks it: the instance in the bot's own account must survive.
    world.message_ts = msg.ts
    for b in remediate:
        world.click(b["action_id"], b["value"], ALICE)
    world.drain()
    assert world.state() == "running"
    assert world.sessions.mutations() == []
    assert remediate == []
    text = json.dumps(msg.blocks)
    assert f"Account {STRANGER} is not configured in EventOps" in text and "no actions offered" in text
    # the bot's own account was not read for tags on the stranger's behalf either
    assert [n for svc, n, _ in world.sessions.calls if n in ("DescribeTags", "GetBucketTagging")] == []
    assert world.rt.store.unconfigured_accounts()[0][:2] == (STRANGER, 1)


def test_the_worker_refuses_an_approved_proposal_for_an_unconfigured_account(world):
    p = world.post_alert()
    stored = world.rt.store.get_proposal(p.id)
    # a proposal naming the stranger account is in the store (however it got there)
    world.rt.store.save_proposal(
        stored.model_copy(update={"account": STRANGER}), ProposalState.PROPOSED, stored.version
    )

    world.click("eventops:remediate:ec2.stop-instance-for-interact-tests", p.id, ALICE)  # a real, signed click
    world.drain()

    assert world.state() == "running"
    assert world.sessions.mutations() == []
    final = world.rt.store.get_proposal(p.id)
    assert final.state == ProposalState.FAILED
    assert f"Account {STRANGER} is not configured in EventOps" in (final.result or "")
    [entry] = world.audit(p.id)
    assert entry.outcome == "FAILED" and entry.account == STRANGER
    assert f"{STRANGER} is not configured" in str(world.message().blocks)


def test_ops_run_refuses_an_account_without_a_role(aws, slack):
    config = make_config(accounts=[Account(id=ACCOUNT, alias="prod", regions=[REGION])])
    with world_in(slack, config) as world:
        url = world.slack.response_url(CHANNEL)
        resp = _slash(world, f"run ec2.stop-instance {world.instance_id} account=prod", url)
        world.drain()
        assert f"{ACCOUNT} is configured in EventOps without a role_arn" in json.dumps(resp)
        assert world.rt.store.proposals_in(set(ProposalState)) == []
        assert world.state() == "running"


def test_ops_run_refuses_when_no_account_is_configured(aws, slack):
    with world_in(slack, make_config(accounts=[])) as world:
        resp = _slash(world, f"run ec2.stop-instance {world.instance_id} account={ACCOUNT}")
        world.drain()
        assert "No account is configured in EventOps" in json.dumps(resp)
        assert world.rt.store.proposals_in(set(ProposalState)) == []
        assert world.state() == "running"


def test_doctor_lists_events_from_unconfigured_accounts(propose_world):
    world = propose_world
    notify_via_sqs(world, alarm_event(STRANGER, world.instance_id))
    notify_via_sqs(world, alarm_event(STRANGER, world.instance_id))
    url = world.slack.response_url(CHANNEL)
    _slash(world, "doctor", url)
    world.drain()
    answer = json.dumps([r.params for r in world.slack.requests if r.method.startswith("response_url:")])
    assert f"events from unconfigured account `{STRANGER}`: 2, last seen" in answer


def _slash(world: World, text: str, response_url: str | None = None) -> dict[str, Any]:
    from handlers import slack as slack_handler

    return slack_handler.handler(command_event(text, response_url=response_url), None)


# --- auto mode in CloudTrail --------------------------------------------------------------------


def test_auto_mode_sets_source_identity_eventops_auto(auto_world):
    world = auto_world
    notify_via_sqs(world, alarm_event(ACCOUNT, world.instance_id))
    world.drain()
    assert world.state() == "stopped"
    assume = [params for _, name, params in world.sessions.calls if name == "AssumeRole"]
    # the notify side's tag lookup reads (no identity: nobody acts); the stop is auto mode's
    acting = [a for a in assume if a["RoleSessionName"] != "eventops-bot"]
    assert acting and {a.get("SourceIdentity") for a in acting} == {"eventops-auto"}


# --- 8. the jobs queue is not trusted ------------------------------------------------------------


def test_a_forged_undo_job_does_not_undo(world):
    p = world.post_alert()
    world.click("eventops:remediate:ec2.stop-instance-for-interact-tests", p.id, ALICE)
    world.drain()
    assert world.state() == "stopped"

    forge(world, {"kind": "undo", "proposal_id": p.id, "actor": {"user_id": ALICE, "team_id": TEAM}})
    world.drain()

    assert world.state() == "stopped"
    assert world.rt.store.get_proposal(p.id).state == ProposalState.SUCCEEDED
    assert world.sessions.mutations() == ["StopInstances"]
    assert "JOB_REFUSED" in [e.outcome for e in world.audit()]
    assert "UNDONE" not in [e.outcome for e in world.audit()]


def test_a_forged_dry_run_job_posts_nothing(world):
    p = world.post_alert(risk=Risk.HIGH)
    world.click("eventops:remediate:ec2.stop-instance-for-interact-tests", p.id, ALICE)  # requests it
    world.drain()
    replies, dry_runs = len(world.replies()), _dry_runs(world)
    assert replies and dry_runs  # the real request: one dry run and one approval request

    forge(world, {"kind": "dry_run", "proposal_id": p.id, "actor": {"user_id": ALICE, "team_id": TEAM}})
    world.drain()

    assert (len(world.replies()), _dry_runs(world)) == (replies, dry_runs)
    assert "JOB_REFUSED" in [e.outcome for e in world.audit()]


def _dry_runs(world: World) -> int:
    return len([c for c in world.sessions.calls if c[2].get("DryRun")])


class _Catcher(BaseHTTPRequestHandler):
    got: list[bytes] = []

    def do_POST(self) -> None:  # http.server calls it by this name
        _Catcher.got.append(self.rfile.read(int(self.headers.get("content-length") or 0)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def evil_host() -> Iterator[str]:
    """Somewhere that is not Slack, recording what it is sent."""
    _Catcher.got = []
    server = HTTPServer(("127.0.0.1", 0), _Catcher)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/collect"
    finally:
        server.shutdown()
        server.server_close()


def test_a_forged_command_job_posts_nothing_anywhere(world, evil_host):
    world.post_alert()
    actor = {"user_id": "U0EVE", "team_id": "T0OTHER"}
    forge(world, {"kind": "command", "actor": actor, "text": "audit 50", "response_url": evil_host})
    world.drain()
    assert _Catcher.got == []


def test_command_answers_go_only_to_slack_response_url_hosts(world, evil_host):
    """Even a job the bot sealed never posts to a host that is not Slack's (or SLACK_API_URL's)."""
    world.post_alert()
    actor = Actor(user_id=ALICE, team_id=TEAM)
    enqueue(world.rt, Job(kind=JobKind.COMMAND, actor=actor, text="audit 50", response_url=evil_host))
    good_url = world.slack.response_url(CHANNEL)
    enqueue(world.rt, Job(kind=JobKind.COMMAND, actor=actor, text="audit 50", response_url=good_url))
    world.drain(rounds=3)
    assert _Catcher.got == []
    assert [r for r in world.slack.requests if r.method.startswith("response_url:")]


def test_a_sealed_job_from_a_team_the_policy_does_not_trust_is_refused(world):
    world.post_alert()
    outsider = Actor(user_id="U0EVE", team_id="T0OTHER")
    url = world.slack.response_url(CHANNEL)
    enqueue(world.rt, Job(kind=JobKind.COMMAND, actor=outsider, text="audit 50", response_url=url))
    world.drain()
    assert [r for r in world.slack.requests if r.method.startswith("response_url:")] == []
    assert "JOB_REFUSED" in [e.outcome for e in world.audit()]


def _answers(world: World) -> int:
    return len([r for r in world.slack.requests if r.method.startswith("response_url:")])


def test_a_sealed_command_job_replayed_byte_for_byte_is_answered_once(world):
    """Whoever can read the jobs queue can copy a sealed job and send it again: the seal holds,
    so the replay is stopped by the answer's claim, not by the MAC."""
    world.post_alert()
    job = sealed(
        world.rt,
        Job(
            kind=JobKind.COMMAND,
            actor=Actor(user_id=ALICE, team_id=TEAM),
            text="audit 5",
            response_url=world.slack.response_url(CHANNEL),
        ),
    )
    for _ in range(3):
        world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=job.body())
    world.drain(rounds=3)
    assert _answers(world) == 1


def test_a_sealed_command_job_older_than_its_response_url_is_not_run(world):
    world.post_alert()
    old = Job(
        kind=JobKind.COMMAND,
        actor=Actor(user_id=ALICE, team_id=TEAM),
        text="audit 5",
        response_url=world.slack.response_url(CHANNEL),
        enqueued_at=datetime.now(UTC) - timedelta(minutes=31),
    )
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=sealed(world.rt, old).body())
    world.drain()
    assert _answers(world) == 0


def test_response_url_hosts_are_slacks_or_the_configured_apis_only():
    from bot.slack.client import SlackPoster  # slack_sdk: only this test needs the poster itself

    poster = SlackPoster("xoxb-t", "http://127.0.0.1:8899/api/")
    assert poster.is_response_url("https://hooks.slack.com/commands/T0/1/abc")
    assert poster.is_response_url("http://127.0.0.1:8899/response/r1")
    for url in (
        "http://hooks.slack.com/commands/T0/1/abc",
        "https://hooks.slack.com.evil.example/commands/x",
        "https://hooks.slack.com:8443/commands/x",
        "http://127.0.0.1:8900/collect",
        "https://evil.example/hooks.slack.com",
        "not a url",
    ):
        assert not poster.is_response_url(url), url
