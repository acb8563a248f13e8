"""Jobs: what the Slack handler asks the worker to do, as one SQS message each.

A job carries ids and the actor, never a decision: the worker re-reads the proposal and
re-authorizes before it acts (RELIABILITY 1). ``execute`` runs an APPROVED proposal,
``undo`` reverts a SUCCEEDED one, ``dry_run`` asks AWS whether a HIGH-risk change would
succeed and posts the answer with an Approve button, ``command`` answers a slow ``/ops``
sub-command through its response_url (read-only).

Example::

    job = Job(kind=JobKind.EXECUTE, proposal_id="p-1", actor=actor, correlation_id="c-1")
    enqueue(rt, job)                     # SQS send_message on EVENTOPS_JOBS_QUEUE_URL
    Job.from_body(record["body"])        # in handlers/worker.py
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bot.errors import ConfigError
from bot.models import Actor, utcnow
from bot.runtime import Runtime


class JobKind(StrEnum):
    EXECUTE = "execute"
    UNDO = "undo"
    DRY_RUN = "dry_run"
    COMMAND = "command"


class Job(BaseModel):
    """One unit of work for ``handlers/worker.py``."""

    model_config = ConfigDict(extra="forbid")

    kind: JobKind
    proposal_id: str = ""
    actor: Actor
    correlation_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    enqueued_at: datetime = Field(default_factory=utcnow)
    # command jobs only (response_url is a bearer secret: never logged)
    text: str = ""
    channel: str = ""
    response_url: str | None = None

    def body(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_body(cls, body: str) -> Job:
        return cls.model_validate_json(body)

    def __repr__(self) -> str:  # keep response_url out of logs and tracebacks
        return f"Job({self.kind.value}, proposal={self.proposal_id!r}, actor={self.actor.user_id!r})"

    __str__ = __repr__


def enqueue(rt: Runtime, job: Job) -> str:
    """Send ``job`` to the jobs queue; returns the SQS message id.

    Raises ConfigError when no queue is configured (fail closed: nothing runs without it).
    """
    url = rt.settings.jobs_queue_url
    if not url:
        raise ConfigError("EVENTOPS_JOBS_QUEUE_URL: not set, so no remediation can be queued")
    resp = rt.sessions.client("sqs").send_message(QueueUrl=url, MessageBody=job.body())
    rt.count(f"job_enqueued_{job.kind.value}")
    return str(resp.get("MessageId", ""))
