"""The one world for interactivity tests, benchmarks, faults, fuzzing and canaries: moto
(DynamoDB, SQS + DLQ, EC2, STS), the loopback Slack fake, a signed-request builder, and a posted
alert message with its proposals. Fixtures (tests/approval/conftest.py) and ``interact_world()``
(a context manager, for benchmarks and module-scoped use) are both built from here.

Mutations are counted with botocore ``before-call`` hooks on every client the bot makes, so a
test asserts "exactly one StopInstances", not mock call arguments.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from bot.aws import AwsSessions
from bot.config import Account, BlastRadius, Config, Policy, Settings, Tier
from bot.errors import NotFoundError
from bot.models import Alert, Proposal, Resource, Risk, Severity
from bot.remediations.base import Remediation, RemediationParams, remediations
from bot.runtime import Runtime
from bot.sandbox.pollers import sqs_event
from bot.sandbox.slack_fake import SlackFake
from bot.store import create_table
from handlers import slack as slack_handler
from handlers import worker

SECRET = "test-signing-secret-8f3a"
TOKEN = "xoxb-test-token-canary-5d2e"
TEAM = "T0OURS"
ACCOUNT = "123456789012"
REGION = "eu-west-1"
CHANNEL = "C0ALERTS"
ALICE, BOB, CAROL, DAVE, MALLORY = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0MALLORY"
TEST_REMEDIATION = "ec2.stop-instance-for-interact-tests"

# One of moto's built-in AMIs (describe_images would load them all: seconds per test).
EXAMPLE_AMI = "ami-12c6146b"
READ_PREFIXES = ("Describe", "Get", "List", "AssumeRole")


class _StopInstanceForTests(Remediation):
    """Stop an EC2 instance — a stand-in for the catalog's ``ec2.stop-instance`` (never offered)."""

    name = TEST_REMEDIATION
    title = "Stop instance"
    risk = Risk.MEDIUM
    permissions = ("ec2:DescribeInstances", "ec2:StopInstances", "ec2:StartInstances")
    resource_types = ("AwsEc2Instance",)
    reversible = True
    dry_run = True

    class Params(RemediationParams):
        instance_id: str

    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        return None  # only the tests create proposals for it

    def example_params(self) -> dict[str, Any]:
        return {"instance_id": "i-0123456789abcdef0"}

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        p = self.parse_params(params) if isinstance(params, dict) else params
        return [f"Would stop {p.instance_id} in {region}"]

    def read_state(self, ctx, params) -> dict[str, Any]:
        try:
            resp = ctx.client("ec2").describe_instances(InstanceIds=[params.instance_id])
        except ClientError as exc:
            if exc.response["Error"]["Code"].startswith("InvalidInstanceID"):
                raise NotFoundError(f"instance {params.instance_id} does not exist") from None
            raise
        inst = resp["Reservations"][0]["Instances"][0]
        tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
        return {"state": inst["State"]["Name"], "tags": tags}

    def is_compliant(self, state, params) -> bool:
        return state.get("state") in ("stopped", "stopping")

    def execute(self, ctx, params, pre_state) -> str:
        ec2 = ctx.client("ec2")
        try:
            ec2.stop_instances(InstanceIds=[params.instance_id], DryRun=True)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "DryRunOperation":
                raise
        ec2.stop_instances(InstanceIds=[params.instance_id])
        return f"Stopped {params.instance_id}"

    def check_dry_run(self, ctx, params) -> str:
        try:
            ctx.client("ec2").stop_instances(InstanceIds=[params.instance_id], DryRun=True)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            return "AWS says it would succeed" if code == "DryRunOperation" else f"AWS says no: {code}"
        return "no answer"

    def undo(self, ctx, params, pre_state) -> str:
        ctx.client("ec2").start_instances(InstanceIds=[params.instance_id])
        return f"Started {params.instance_id} again"


class CountingSessions(AwsSessions):
    """AwsSessions that records every AWS operation (service, name, params) the bot makes."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.failures: dict[str, Exception] = {}
        self._hooked: set[int] = set()
        self._calls_lock = threading.Lock()

    def client(self, service, region=None, account=None, identity=None, read_only=False):  # type: ignore[override]
        c = super().client(service, region=region, account=account, identity=identity, read_only=read_only)
        if id(c) not in self._hooked:
            self._hooked.add(id(c))
            c.meta.events.register("before-parameter-build.*.*", self._record)
        return c

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        with self._calls_lock:
            self.calls.append((model.service_model.service_name, model.name, params))
        exc = self.failures.get(model.name)
        if exc is not None:
            raise exc

    def mutations(self, service: str = "ec2") -> list[str]:
        return [
            name
            for svc, name, params in self.calls
            if svc == service and not name.startswith(READ_PREFIXES) and not params.get("DryRun")
        ]


@dataclass
class World:
    rt: Runtime
    slack: SlackFake
    sessions: CountingSessions
    queue_url: str
    dlq_url: str
    instance_id: str
    sqs: Any
    ec2: Any
    # The alerts queue (for handlers.notify) and its DLQ: settings.alerts_queue_url / alerts_dlq_url.
    alerts_url: str = ""
    alerts_dlq_url: str = ""
    alert: Alert | None = None
    message_ts: str | None = None
    proposals: dict[str, Proposal] = field(default_factory=dict)
    clock: float | None = None

    # --- setup helpers --------------------------------------------------------------------
    def post_alert(self, risk: Risk = Risk.MEDIUM, ttl_hours: float = 24, instance_id: str | None = None) -> Proposal:
        """What the notify pipeline does: one proposal, one message with its buttons."""
        from bot.messages import alert_buttons
        from bot.slack.render import render_alert

        iid = instance_id or self.instance_id
        alert = Alert(
            id=f"evt-{uuid.uuid4().hex[:8]}",
            fingerprint=Alert.make_fingerprint("test", iid),
            source_kind="ec2",
            source="aws.ec2",
            detail_type="EC2 Instance State-change Notification",
            title=f"Instance {iid} is misbehaving",
            severity=Severity.HIGH,
            account=ACCOUNT,
            region=REGION,
            resources=[Resource(type="AwsEc2Instance", id=iid, region=REGION, account=ACCOUNT)],
        )
        now = datetime.now(UTC)
        p = Proposal(
            id=uuid.uuid4().hex,
            alert_id=alert.id,
            fingerprint=alert.fingerprint,
            remediation=TEST_REMEDIATION,
            params={"instance_id": iid},
            risk=risk,
            account=ACCOUNT,
            region=REGION,
            channel=CHANNEL,
            created_at=now,
            expires_at=now + timedelta(hours=ttl_hours),
            correlation_id=alert.id,
        )
        payload = render_alert(alert, channel=CHANNEL, buttons=alert_buttons(alert.id, [p]))
        ts = self.rt.slack.post_message(payload)
        p.message_ts = ts
        self.rt.store.put_proposal(p)
        self.rt.store.put_alert(alert, channel=CHANNEL, ts=ts, proposal_ids=[p.id])
        self.alert, self.message_ts = alert, ts
        self.proposals[p.id] = p
        return p

    # --- Slack side -----------------------------------------------------------------------
    def click_body(
        self,
        action_id: str,
        value: str,
        user: str = ALICE,
        team: str = TEAM,
        action_ts: str | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        return {
            "type": "block_actions",
            "user": {"id": user, "username": user.removeprefix("U0").lower(), "team_id": team},
            "team": {"id": TEAM, "domain": "ours"},
            "api_app_id": "A0EVENTOPS",
            "token": "legacy-unused",
            "trigger_id": self.slack.trigger(user),
            "container": {"type": "message", "message_ts": thread_ts or self.message_ts, "channel_id": CHANNEL},
            "channel": {"id": CHANNEL, "name": "alerts"},
            "message": {"ts": thread_ts or self.message_ts, "thread_ts": thread_ts}
            if thread_ts
            else {"ts": self.message_ts},
            "response_url": self.slack.response_url(CHANNEL, self.message_ts),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "action_ts": action_ts or f"{time.time():.6f}",
                }
            ],
        }

    def choose(self, action_id: str, option_value: str, user: str = ALICE) -> dict[str, Any]:
        """A signed choice in a select menu (Slack sends ``selected_option``, no ``value``)."""
        from handlers import slack as slack_handler

        body = self.click_body(action_id, option_value, user)
        (action,) = body["actions"]
        del action["value"]
        action.update(
            type="static_select", selected_option={"text": {"type": "plain_text", "text": "x"}, "value": option_value}
        )
        return slack_handler.handler(http_event(form_body(body)), None)

    def click(self, action_id: str, value: str, user: str = ALICE, **kw: Any) -> dict[str, Any]:
        """A signed click through handlers.slack.handler, as API Gateway v2 delivers it."""
        from handlers import slack as slack_handler

        retry = kw.pop("retry", None)
        body = form_body(self.click_body(action_id, value, user, **kw))
        event = http_event(body, retry=retry)
        return slack_handler.handler(event, None)

    def submit_view(self, answers: dict[str, Any], user: str = ALICE) -> dict[str, Any]:
        """Submit the modal the bot last opened for ``user`` (as Slack would, signed), and apply
        the ack to the fake's view (errors stay on it, anything else closes it)."""
        from bot.sandbox.modals import apply_ack, submission_payload

        (view, *_) = self.slack.open_views(user)[-1:] or [None]
        assert view is not None, f"no modal open for {user}"
        payload = submission_payload(self.slack.workspace, view, answers)
        payload["user"]["team_id"] = payload["team"]["id"] = TEAM  # the world's workspace, as its clicks say
        resp = slack_handler.handler(http_event(form_body(payload)), None)
        apply_ack(self.slack.workspace, view, resp["statusCode"], resp.get("body") or "")
        return resp

    def dismiss(self, user: str = ALICE, reason: str = "false_positive", note: str = "") -> dict[str, Any]:
        """Dismiss the posted alert as a person does: the Dismiss button, then its form."""
        assert self.alert is not None
        self.click("eventops:dismiss", self.alert.id, user)
        if not self.slack.open_views(user):
            return {}  # refused at the click (told why in an ephemeral)
        return self.submit_view({"reason": reason, "note": note}, user)

    def ephemerals_for(self, user: str) -> list[str]:
        return [e.text for e in self.slack.ephemerals if e.user == user]

    def message(self) -> Any:
        return next(m for m in self.slack.messages[CHANNEL] if m.ts == self.message_ts)

    def replies(self) -> list[Any]:
        return [m for m in self.slack.messages[CHANNEL] if m.thread_ts == self.message_ts and m.ts != self.message_ts]

    # --- worker side ----------------------------------------------------------------------
    def drain(self, rounds: int = 5) -> list[dict[str, Any]]:
        """Deliver queued jobs to handlers.worker.handler as Lambda's SQS integration would."""
        from handlers import worker

        responses = []
        for _ in range(rounds):
            msgs = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=0
            ).get("Messages", [])
            if not msgs:
                break
            event = sqs_event(msgs, f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs", REGION)
            resp = worker.handler(event, None)
            responses.append(resp)
            failed = {f["itemIdentifier"] for f in resp["batchItemFailures"]}
            for m in msgs:
                if m["MessageId"] not in failed:
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return responses

    def deliver_alerts(self, rounds: int = 10) -> list[dict[str, Any]]:
        """Deliver the alerts queue to handlers.notify.handler as Lambda's SQS integration would
        (failed records stay for redelivery, and reach the DLQ after maxReceiveCount)."""
        from handlers import notify

        notify.set_runtime(self.rt)
        responses = []
        try:
            for _ in range(rounds):
                msgs = self.sqs.receive_message(
                    QueueUrl=self.alerts_url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=0
                ).get("Messages", [])
                if not msgs:
                    break
                resp = notify.handler(sqs_event(msgs, f"arn:aws:sqs:{REGION}:{ACCOUNT}:eventops-alerts", REGION), None)
                responses.append(resp)
                failed = {f["itemIdentifier"] for f in resp["batchItemFailures"]}
                for m in msgs:
                    if m["MessageId"] not in failed:
                        self.sqs.delete_message(QueueUrl=self.alerts_url, ReceiptHandle=m["ReceiptHandle"])
        finally:
            notify.set_runtime(None)
        return responses

    def depth(self, url: str) -> int:
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"])

    def queued_jobs(self) -> list[dict[str, Any]]:
        msgs = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
        return [json.loads(m["Body"]) for m in msgs]

    def state(self) -> str:
        return self.ec2.describe_instances(InstanceIds=[self.instance_id])["Reservations"][0]["Instances"][0]["State"][
            "Name"
        ]

    def audit(self, proposal_id: str | None = None) -> list[Any]:
        entries = self.rt.store.recent_audit(limit=1000)
        if proposal_id:
            return [e for e in entries if e.proposal_id == proposal_id]
        return entries


def sign(body: str, ts: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    base = f"v0:{ts}:{body}".encode()
    sig = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": str(ts), "x-slack-signature": sig}


def form_body(payload: dict[str, Any]) -> str:
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def http_event(
    body: str,
    *,
    version: str = "2.0",
    b64: bool = False,
    headers: dict[str, str] | None = None,
    retry: int | None = None,
    omit_b64_flag: bool = False,
    ts: int | None = None,
    secret: str = SECRET,
) -> dict[str, Any]:
    """An API Gateway event carrying a (by default correctly) signed Slack request."""
    hdrs = {"content-type": "application/x-www-form-urlencoded", **sign(body, ts, secret)}
    if headers is not None:
        hdrs = headers
    if retry is not None:
        hdrs = {**hdrs, "x-slack-retry-num": str(retry), "x-slack-retry-reason": "http_timeout"}
    raw = base64.b64encode(body.encode()).decode() if b64 else body
    if version == "2.0":
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": "POST /slack/events",
            "rawPath": "/slack/events",
            "headers": hdrs,
            "requestContext": {"http": {"method": "POST", "path": "/slack/events"}},
            "body": raw,
            "isBase64Encoded": b64,
        }
    else:
        event = {
            "resource": "/slack/events",
            "path": "/slack/events",
            "httpMethod": "POST",
            # REST APIs keep the caller's header case
            "headers": {k.title(): v for k, v in hdrs.items()},
            "multiValueHeaders": {k.title(): [v] for k, v in hdrs.items()},
            "queryStringParameters": None,
            "requestContext": {"httpMethod": "POST", "resourcePath": "/slack/events"},
            "body": raw,
            "isBase64Encoded": b64,
        }
    if omit_b64_flag:
        event.pop("isBase64Encoded")
    return event


def make_policy(**overrides: Any) -> Policy:
    base = {
        "teams": [TEAM],
        "tiers": {
            Risk.LOW: Tier(users=[ALICE, BOB, CAROL]),
            Risk.MEDIUM: Tier(users=[ALICE, BOB, CAROL]),
            Risk.HIGH: Tier(users=[ALICE], approvers=[BOB, CAROL, DAVE], approvals=2, approval_ttl_minutes=30),
        },
        "proposal_ttl_hours": 24,
        "undo_window_minutes": 60,
    }
    base.update(overrides)
    return Policy(**base)


def build_world(slack: SlackFake, config: Config | None = None) -> World:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    create_table(ddb, "eventops-test")
    sqs = boto3.client("sqs", region_name="us-east-1")
    dlq = sqs.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName="jobs",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})},
    )["QueueUrl"]
    alerts_dlq = sqs.create_queue(QueueName="eventops-alerts-dlq")["QueueUrl"]
    alerts_dlq_arn = sqs.get_queue_attributes(QueueUrl=alerts_dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    alerts = sqs.create_queue(
        QueueName="eventops-alerts",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": alerts_dlq_arn, "maxReceiveCount": "3"})},
    )["QueueUrl"]
    ec2 = boto3.client("ec2", region_name=REGION)
    iid = ec2.run_instances(ImageId=EXAMPLE_AMI, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    settings = Settings(
        table_name="eventops-test",
        jobs_queue_url=queue,
        jobs_dlq_url=dlq,
        alerts_queue_url=alerts,
        alerts_dlq_url=alerts_dlq,
        slack_api_url=slack.url,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        aws_region="us-east-1",
    )
    config = config or make_config()
    sessions = CountingSessions(settings, config.accounts)
    rt = Runtime(settings=settings, config=config, sessions=sessions)
    slack_handler.set_runtime(rt)
    worker.set_runtime(rt)
    return World(rt, slack, sessions, queue, dlq, iid, sqs, ec2, alerts_url=alerts, alerts_dlq_url=alerts_dlq)


def make_config(**overrides: Any) -> Config:
    """One account (prod, with a member role) and ``make_policy()``; ``overrides`` replace fields."""
    base: dict[str, Any] = {
        "accounts": [
            Account(
                id=ACCOUNT,
                alias="prod",
                role_arn=f"arn:aws:iam::{ACCOUNT}:role/eventops-member",
                external_id="ext-1234",
                regions=[REGION],
            )
        ],
        "policy": make_policy(),
    }
    base.update(overrides)
    return Config(**base)


@contextmanager
def registered_test_remediation() -> Iterator[Remediation]:
    """The stand-in stop remediation in the registry, removed again afterwards."""
    added = TEST_REMEDIATION not in remediations
    if added:
        remediations.add(TEST_REMEDIATION, _StopInstanceForTests())
    try:
        yield remediations[TEST_REMEDIATION]
    finally:
        if added:
            remediations._items.pop(TEST_REMEDIATION, None)  # keep the registry clean for other suites


@contextmanager
def slack_fake(token: str = TOKEN) -> Iterator[SlackFake]:
    """The loopback Slack fake (rate limits off) with the test users in its workspace."""
    with SlackFake(rate_limit=False, bot_token=token) as fake:
        for uid in (ALICE, BOB, CAROL, DAVE, MALLORY):
            fake.workspace.add_user(uid, uid.removeprefix("U0").lower())
        yield fake


@contextmanager
def world_in(slack: SlackFake, config: Config | None = None) -> Iterator[World]:
    """``build_world`` inside moto already started, with the handlers' runtimes reset afterwards."""
    try:
        yield build_world(slack, config)
    finally:
        slack_handler.set_runtime(None)
        worker.set_runtime(None)


@contextmanager
def interact_world(cfg: Config | None = None, *, token: str = TOKEN) -> Iterator[World]:
    """The whole world in one ``with``: moto, the Slack fake, the stand-in remediation. The
    default config lifts the blast-radius limit (benchmarks run thousands of executions)."""
    config = cfg or make_config(blast_radius=BlastRadius(max_executions_per_account_per_hour=100_000))
    with registered_test_remediation(), mock_aws(), slack_fake(token) as slack, world_in(slack, config) as world:
        yield world


def new_instance(world: World) -> str:
    return world.ec2.run_instances(ImageId=EXAMPLE_AMI, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]


def command_event(text: str, user: str = ALICE, response_url: str | None = None, **kw: Any) -> dict[str, Any]:
    """A signed ``/ops`` slash command as API Gateway v2 delivers it."""
    fields = {
        "command": "/ops",
        "text": text,
        "user_id": user,
        "user_name": user.removeprefix("U0").lower(),
        "team_id": TEAM,
        "channel_id": CHANNEL,
        "trigger_id": "1.2.3",
    }
    if response_url:
        fields["response_url"] = response_url
    return http_event(urllib.parse.urlencode(fields), **kw)


REMEDIATE = f"eventops:remediate:{TEST_REMEDIATION}"
