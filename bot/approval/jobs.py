"""Jobs: what the Slack handler asks the worker to do, as one SQS message each.

A job carries ids and the actor, never a decision: the worker re-reads the proposal and
re-authorizes before it acts (docs/reliability.md #1). ``execute`` runs an APPROVED proposal,
``undo`` reverts a SUCCEEDED one, ``dry_run`` asks AWS whether a HIGH-risk change would
succeed and posts the answer with an Approve button, ``command`` answers a slow ``/ops``
sub-command through its response_url (read-only), ``graph`` draws a CloudWatch alarm's metric
and uploads it into the alert's thread (``bot.graphs``; queued by the notify side after the post),
``context`` posts a posted alert's "what changed?" reply (``bot.context``, read-only; queued by
notify as the system actor), ``message`` is what a triage click leaves for after its ack: the
click's audit record and the re-render of its alert's message (``bot.approval.followups``).

The queue is not trusted: anyone who may ``sqs:SendMessage`` on it could write a job. So
``enqueue`` seals every job with an HMAC-SHA256 over its body (``signature``), under a key
derived from the Slack signing secret, which only the bot holds; the worker acts only on a job
whose seal verifies and whose actor is in ``policy.teams`` (``job_refusal``, called for every
kind in ``handlers/worker.py``). Only the bot seals, and it seals only what it authorized: a
click or slash command that Slack signed and the policy allowed, auto mode, or a sweep.

Example::

    job = Job(kind=JobKind.EXECUTE, proposal_id="p-1", actor=actor, correlation_id="c-1")
    enqueue(rt, job)                     # sealed; SQS send_message on EVENTOPS_JOBS_QUEUE_URL
    job = Job.from_body(record["body"])  # in handlers/worker.py
    job_refusal(rt, job)                 # None, or why the job is not acted on
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.approval.authz import in_org
from bot.errors import ConfigError
from bot.models import Actor, utcnow
from bot.runtime import Runtime


class JobKind(StrEnum):
    EXECUTE = "execute"
    UNDO = "undo"
    DRY_RUN = "dry_run"
    COMMAND = "command"
    GRAPH = "graph"
    CONTEXT = "context"
    MESSAGE = "message"


class AuditNote(BaseModel):
    """The audit record a ``message`` job writes (once: ``key`` is its unique key), as the
    click decided it; who and when are the job's ``actor`` and ``enqueued_at``."""

    model_config = ConfigDict(extra="forbid")

    key: str
    action: str
    outcome: str
    result: str | None = None
    params: dict[str, Any] | None = None


class Job(BaseModel):
    """One unit of work for ``handlers/worker.py``."""

    # Built on first use: off the notify cold path (a job is enqueued only for context).
    model_config = ConfigDict(extra="forbid", defer_build=True)

    kind: JobKind
    proposal_id: str = ""
    actor: Actor
    correlation_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    enqueued_at: datetime = Field(default_factory=utcnow)
    # command jobs only (response_url is a bearer secret: never logged)
    text: str = ""
    channel: str = ""
    response_url: str | None = None
    # graph and context jobs: the alert (context: whose "what changed?" reply to post, bot.context);
    # graph jobs: its message's ts (the thread the image goes to; channel above); message jobs:
    # the alert message's channel and ts, as the click's audit record names them
    alert_id: str = ""
    thread_ts: str = ""
    # message jobs: the status line to show on the alert's message, and the click's audit record
    status: str = ""
    audit: AuditNote | None = None
    # HMAC-SHA256 (hex) of the job without this field, set by ``enqueue`` (see the module doc)
    signature: str = ""

    def body(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_body(cls, body: str) -> Job:
        return cls.model_validate_json(body)

    def __repr__(self) -> str:  # keep response_url out of logs and tracebacks
        if self.alert_id:
            return f"Job({self.kind.value}, alert={self.alert_id!r}, actor={self.actor.user_id!r})"
        return f"Job({self.kind.value}, proposal={self.proposal_id!r}, actor={self.actor.user_id!r})"

    __str__ = __repr__


_KEY_CONTEXT = b"eventops:jobs-queue:v1"


def _seal(rt: Runtime, job: Job) -> str:
    """The HMAC of ``job`` (without its signature) under a key only the bot holds."""
    key = hmac.new(rt.secrets.signing_secret.encode(), _KEY_CONTEXT, hashlib.sha256).digest()
    return hmac.new(key, job.model_dump_json(exclude={"signature"}).encode(), hashlib.sha256).hexdigest()


def sealed(rt: Runtime, job: Job) -> Job:
    """``job`` with its seal: what ``enqueue`` sends."""
    return job.model_copy(update={"signature": _seal(rt, job)})


def job_refusal(rt: Runtime, job: Job) -> str | None:
    """Why the worker must not act on ``job`` (forged or altered on the queue, or an actor from
    a Slack team the policy does not trust), or None. Every job kind goes through here."""
    if not job.signature or not hmac.compare_digest(job.signature, _seal(rt, job)):
        return "the job is not sealed by EventOps (forged or altered on the jobs queue)"
    verdict = in_org(rt.config.policy, job.actor)
    if not verdict and not job.actor.is_system:  # auto mode and sweeps act as the system actor
        return f"the job's actor {job.actor.user_id} is not trusted: {verdict.reason}"
    return None


def enqueue(rt: Runtime, job: Job) -> str:
    """Send ``job`` to the jobs queue; returns the SQS message id.

    Raises ConfigError when no queue is configured (fail closed: nothing runs without it).
    """
    url = rt.settings.jobs_queue_url
    if not url:
        raise ConfigError("EVENTOPS_JOBS_QUEUE_URL: not set, so no remediation can be queued")
    resp = rt.sessions.client("sqs").send_message(QueueUrl=url, MessageBody=sealed(rt, job).body())
    rt.count(f"job_enqueued_{job.kind.value}")
    return str(resp.get("MessageId", ""))
