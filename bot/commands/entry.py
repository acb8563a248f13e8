"""The two ways an ``/ops`` text arrives: a Slack request, and a command job in the worker.

A sub-command declared ``deferred`` (it reads AWS across accounts) is too slow for Slack's
3-second ack, so the Slack handler's answer is a "Looking up …" line and a ``command`` job on the
jobs queue; the worker (``handlers/worker.py``) runs it and answers through the request's
``response_url``. Everything else (DynamoDB-only commands, help, and any usage error found
before an AWS call, e.g. an unknown region) is answered in the ack: one answer, no placeholder.

Example::

    reply = answer_request(text, actor, channel, rt, response_url)   # handlers/slack.py
    answer_job(rt, job)                                              # handlers/worker.py
"""

from __future__ import annotations

import logging
import time

from bot.approval.jobs import Job, JobKind, enqueue
from bot.commands.base import RESPONSE_URL_TTL_S, Reply, ack_reply, answer_or_defer, dispatch, run_deferred
from bot.models import Actor
from bot.runtime import Runtime

log = logging.getLogger("eventops.commands")


def answer_request(
    text: str, actor: Actor, channel: str, rt: Runtime, response_url: str | None, trigger_id: str | None = None
) -> Reply:
    """The reply inside the ack: the answer itself, or "Looking up …" with the work queued."""
    if not response_url:
        return dispatch(text, actor, channel, rt, response_url, trigger_id)
    reply = answer_or_defer(text, actor, channel, rt, response_url, trigger_id)
    if reply is not None:
        return reply
    job = Job(kind=JobKind.COMMAND, actor=actor, text=text, channel=channel, response_url=response_url)
    try:
        enqueue(rt, job)
    except Exception as exc:  # noqa: BLE001 - say so rather than time out
        log.error("queueing /ops %s failed: %s", text.split(" ")[0], type(exc).__name__)
        return Reply(":warning: That command could not be started; please try again.")
    return ack_reply(text, rt)


def answer_job(rt: Runtime, job: Job) -> str:
    """A queued ``/ops`` sub-command, answered once through its response_url.

    A sealed job can still be copied off the queue and sent again: the answer is claimed by the
    job's correlation id, so a replay (or a redrive of a job that was answered) posts nothing,
    and a job older than the response_url's 30 minutes is not run at all."""
    if not job.response_url:
        return "no_response_url"
    if time.time() - job.enqueued_at.timestamp() > RESPONSE_URL_TTL_S:
        log.warning("command job %s is older than its response_url; not answered", job.correlation_id)
        return "expired"
    if not rt.store.claim_command_job(job.correlation_id):
        log.warning("command job %s was answered already (replayed or redriven); dropped", job.correlation_id)
        rt.count("job_replayed")
        return "replayed"
    run_deferred(
        job.text,
        job.actor,
        job.channel,
        rt,
        job.response_url,
        post=rt.slack.respond,
        acked_at=job.enqueued_at.timestamp(),
    )
    return "answered"
