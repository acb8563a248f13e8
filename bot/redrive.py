"""The dead-letter queues: how deep they are, and moving their records back (``redrive``).

Each SQS queue has a DLQ that receives a record after the queue's maxReceiveCount failed
deliveries (docs/reliability.md #6). Their depth is shown in ``/ops status``, ``/ops doctor`` and
the daily heartbeat; ``redrive`` (``/ops redrive`` and ``python -m bot redrive``) moves records
back to their source queue through the normal path:

1. ReceiveMessage from the DLQ (the record stays invisible while it is being moved);
2. SendMessage to the source queue with the same body, byte for byte, and the same message
   attributes (a job's HMAC seal covers its body: ``bot.approval.jobs``);
3. DeleteMessage from the DLQ, only after the send succeeded. A failed send gives the record
   back to the DLQ at once (ChangeMessageVisibility 0) and stops the run.

Not SQS's StartMessageMoveTask: it takes no count (``--max``), offers no dry run, and moto
does not implement it; this loop uses only calls every SQS (and moto) has.

A record moved twice (a delete that failed after the send, two operators redriving at once) is
harmless: the notify path claims each event id before posting (``bot.store`` ``claim_event``)
and the worker claims each proposal before acting, so it posts or acts once.

Example::

    depths = dlq_depths(rt)                        # {"alerts": 3, "jobs": 0}
    result = redrive(rt, "alerts", max_messages=50)
    result.summary()                               # "moved 3 of 3 alerts from the dead-letter queue…"
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger("eventops.redrive")

QUEUES = ("alerts", "jobs")
DEFAULT_MAX = 100
# A record being moved stays invisible this long: ample for one SendMessage and DeleteMessage.
MOVE_VISIBILITY_S = 60
# Stop taking records when the invocation has less time left than this (the worker's timeout).
TIME_MARGIN_S = 15.0
_NOUN = {"alerts": ("alert", "alerts"), "jobs": ("job", "jobs")}


def _env(name: str, dlq: bool) -> str:
    return f"EVENTOPS_{name.upper()}_{'DLQ' if dlq else 'QUEUE'}_URL"


def queue_urls(rt: Runtime, name: str) -> tuple[str, str]:
    """(source queue URL, DLQ URL) of ``alerts`` or ``jobs``; ConfigError naming what is unset."""
    if name not in QUEUES:
        raise ConfigError(f"no queue `{name}`: redrive takes {' or '.join(QUEUES)}")
    s = rt.settings
    source, dlq = (s.alerts_queue_url, s.alerts_dlq_url) if name == "alerts" else (s.jobs_queue_url, s.jobs_dlq_url)
    missing = [_env(name, d) for d, url in ((False, source), (True, dlq)) if not url]
    if missing or source is None or dlq is None:
        raise ConfigError(f"{' and '.join(missing)}: not set, so the {name} dead-letter queue cannot be read")
    return source, dlq


def count(name: str, n: int) -> str:
    """``count("alerts", 1)`` → ``"1 alert"``; ``count("jobs", 3)`` → ``"3 jobs"``."""
    one, many = _NOUN.get(name, (name, name))
    return f"{n} {one if n == 1 else many}"


def dlq_depth(rt: Runtime, name: str) -> int:
    """ApproximateNumberOfMessages of the ``name`` DLQ (records waiting, not those in flight)."""
    _, dlq = queue_urls(rt, name)
    attrs = rt.sessions.client("sqs").get_queue_attributes(
        QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attrs.get("ApproximateNumberOfMessages", 0))


def dlq_depths(rt: Runtime) -> dict[str, int | str]:
    """Each queue's DLQ depth, or why it is unknown (not configured, unreadable). Never raises."""
    out: dict[str, int | str] = {}
    for name in QUEUES:
        try:
            out[name] = dlq_depth(rt, name)
        except ConfigError:
            out[name] = "not configured"
        except Exception as exc:  # noqa: BLE001 - a depth is a report, not a reason to fail
            log.warning("reading the %s dead-letter queue failed: %s", name, type(exc).__name__)
            out[name] = f"unreadable ({type(exc).__name__})"
    return out


def waiting_line(name: str, depth: int, slash: str = "/ops") -> str:
    """``3 alerts in the dead-letter queue — `/ops redrive alerts``` (the wording everywhere)."""
    return f"{count(name, depth)} in the dead-letter queue — `{slash} redrive {name}`"


def dlq_summary(depths: dict[str, int | str], slash: str = "/ops") -> str:
    """One line for ``/ops status`` and the heartbeat: what waits in each DLQ and how to redrive it."""
    parts = []
    for name, depth in depths.items():
        if isinstance(depth, int):
            parts.append(waiting_line(name, depth, slash) if depth else f"{name} empty")
        else:
            parts.append(f"{name} {depth}")
    return "; ".join(parts)


@dataclass
class RedriveResult:
    """What one redrive did: records moved (sent and deleted), seen in a dry run, and any stop reason."""

    queue: str
    dry_run: bool = False
    moved: int = 0
    seen: int = 0
    # Sent to the source queue, but the DLQ delete failed: the record may come back and be sent
    # again, which the event and job claims make harmless.
    not_deleted: int = 0
    error: str = ""
    left: int | None = None
    samples: list[str] = field(default_factory=list)

    def summary(self) -> str:
        where = f"the {self.queue} dead-letter queue"
        if self.dry_run:
            text = f"dry run: {count(self.queue, self.seen)} in {where} would be moved back; nothing was moved"
        else:
            text = f"moved {count(self.queue, self.moved)} from {where} back to the {self.queue} queue"
        if self.not_deleted:
            text += f"; {self.not_deleted} sent but not deleted from the DLQ (a second delivery is deduplicated)"
        if self.error:
            text += f"; stopped: {self.error}"
        if self.left is not None and not self.dry_run:
            text += f"; {count(self.queue, self.left)} still waiting"
        return text


def _attributes(message: dict[str, Any]) -> dict[str, Any]:
    """ReceiveMessage's MessageAttributes as SendMessage takes them (the same names and values)."""
    out = {}
    for key, attr in (message.get("MessageAttributes") or {}).items():
        out[key] = {k: v for k, v in attr.items() if k in ("DataType", "StringValue", "BinaryValue")}
    return out


def _error(exc: BaseException) -> str:
    """``AccessDenied: not allowed`` for an AWS error, the exception's type otherwise."""
    err = (getattr(exc, "response", None) or {}).get("Error") or {}
    if not err:
        return type(exc).__name__
    return f"{err.get('Code', type(exc).__name__)}: {err.get('Message', '')}".rstrip(": ")


def redrive(
    rt: Runtime,
    name: str,
    max_messages: int = DEFAULT_MAX,
    dry_run: bool = False,
) -> RedriveResult:
    """Move up to ``max_messages`` records from the ``name`` DLQ back to its source queue.

    ``dry_run`` counts them, receives up to ten to describe (``describe``) and gives them
    straight back; nothing is sent or deleted. Stops early when the invocation is running out
    of time (``rt.seconds_left()``) or a send fails.
    """
    source, dlq = queue_urls(rt, name)
    sqs = rt.sessions.client("sqs")
    result = RedriveResult(queue=name, dry_run=dry_run)
    if dry_run:
        return _peek(sqs, name, dlq, max_messages, result)
    while not result.error and result.moved + result.not_deleted < max_messages:
        if rt.seconds_left() < TIME_MARGIN_S:
            result.error = "the invocation ran out of time; run it again for the rest"
            break
        batch = sqs.receive_message(
            QueueUrl=dlq,
            MaxNumberOfMessages=min(10, max_messages - result.moved - result.not_deleted),
            MessageAttributeNames=["All"],
            VisibilityTimeout=MOVE_VISIBILITY_S,
            WaitTimeSeconds=1,
        ).get("Messages", [])
        if not batch:
            break
        for i, message in enumerate(batch):
            if not _move(sqs, source, dlq, message, result):
                _give_back(sqs, dlq, batch[i:])
                break
    if result.moved:
        rt.count(f"redriven_{name}", result.moved)
    result.left = dlq_depth(rt, name)
    return result


def describe(name: str, body: str) -> str:
    """A record in a few words for a dry run: the event id and type, or the job's kind, proposal
    and actor. Never the body itself: a command job carries a response_url (a credential)."""
    try:
        data = json.loads(body)
    except (TypeError, ValueError, RecursionError):
        return f"unreadable body ({len(body)} characters)"
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, not an object"
    if name == "jobs":
        actor = data.get("actor")
        user = actor.get("user_id", "?") if isinstance(actor, dict) else "?"
        return f"{_short(data.get('kind'))} job, proposal {_short(data.get('proposal_id') or '-')}, by {_short(user)}"
    return f"event {_short(data.get('id'))} ({_short(data.get('source'))} / {_short(data.get('detail-type'))})"


def _short(value: Any, limit: int = 80) -> str:
    text = "?" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _move(sqs: Any, source: str, dlq: str, message: dict[str, Any], result: RedriveResult) -> bool:
    """Send one record to ``source``, then delete it from ``dlq``. False when the send failed."""
    kwargs: dict[str, Any] = {"QueueUrl": source, "MessageBody": message["Body"]}
    attrs = _attributes(message)
    if attrs:
        kwargs["MessageAttributes"] = attrs
    try:
        sqs.send_message(**kwargs)
    except Exception as exc:  # noqa: BLE001 - reported, and the record stays in the DLQ
        log.error("redrive: sending record %s to %s failed: %s", message.get("MessageId"), source, _error(exc))
        result.error = f"SendMessage failed ({_error(exc)}); the record stays in the dead-letter queue"
        return False
    try:
        sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
        result.moved += 1
    except Exception as exc:  # noqa: BLE001 - the send happened; a second one is deduplicated
        log.warning("redrive: record %s sent but not deleted: %s", message.get("MessageId"), _error(exc))
        result.not_deleted += 1
    return True


def _give_back(sqs: Any, dlq: str, messages: list[dict[str, Any]]) -> None:
    """Make received records visible in the DLQ again now, not after the visibility timeout."""
    for m in messages:
        try:
            sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        except Exception as exc:  # noqa: BLE001 - they come back after MOVE_VISIBILITY_S anyway
            log.warning("redrive: could not release record %s: %s", m.get("MessageId"), _error(exc))


def _peek(sqs: Any, name: str, dlq: str, max_messages: int, result: RedriveResult) -> RedriveResult:
    """The dry run: count, describe up to ten records, and give them straight back."""
    attrs = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    depth = int(attrs.get("ApproximateNumberOfMessages", 0))
    result.seen, result.left = min(depth, max_messages), depth
    if not depth:
        return result
    batch = sqs.receive_message(
        QueueUrl=dlq, MaxNumberOfMessages=max(1, min(10, max_messages)), VisibilityTimeout=MOVE_VISIBILITY_S
    ).get("Messages", [])
    result.samples = [describe(name, m["Body"]) for m in batch]
    _give_back(sqs, dlq, batch)
    return result
