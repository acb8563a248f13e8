"""``/ops redrive alerts|jobs [--max N] [--dry-run]``: move dead-lettered records back to their queue.

Who may: the people who may run HIGH-risk remediations (``policy.tiers.HIGH``: its users and
user groups, from its channels, when it lists channels). A redriven job can run a change, so
redrive asks for the highest tier; no approvals are needed, since every job it moves was
authorized when it was first queued and the worker authorizes it again (docs/reliability.md #1).
The check runs in the ack (a refusal is the one answer, with a DENIED audit record) and again in
the worker before anything moves. Each redrive writes one audit record (REDRIVEN, or
REDRIVE_FAILED when nothing could be moved); a dry run moves nothing and writes none.

Deferred: moving a hundred records takes longer than Slack's 3-second ack, so the worker runs it
and answers through the response_url (``bot.commands.entry``).
"""

from __future__ import annotations

import uuid

from bot.approval import audit
from bot.approval.authz import Verdict, may_act
from bot.commands.base import Invocation, Reply, command
from bot.commands.output import esc, message
from bot.errors import CommandError
from bot.models import Actor, Risk
from bot.redrive import DEFAULT_MAX, QUEUES, RedriveResult, redrive
from bot.runtime import Runtime

# The most one /ops redrive may move: the worker's 120 s timeout is the real bound.
MAX_PER_RUN = 1000
REDRIVE_RISK = Risk.HIGH


def may_redrive(rt: Runtime, actor: Actor, channel: str | None) -> Verdict:
    """Redrive is an operator action at the highest tier (``policy.tiers.HIGH``)."""
    verdict = may_act(rt.config.policy, actor, REDRIVE_RISK, channel)
    if verdict:
        return verdict
    return Verdict(False, f"redrive needs the {REDRIVE_RISK.value}-risk tier: {verdict.reason}")


def parse_args(inv: Invocation) -> tuple[str, int, bool]:
    """``alerts --max 20 --dry-run`` → ("alerts", 20, True); a usage error otherwise."""
    queue, limit, dry_run = "", DEFAULT_MAX, False
    words = list(inv.args)
    while words:
        word = words.pop(0)
        low = word.lower()
        if low == "--dry-run":
            dry_run = True
        elif low == "--max" or low.startswith("--max="):
            value = low.split("=", 1)[1] if "=" in low else (words.pop(0) if words else "")
            if not value.isdigit() or not 1 <= int(value) <= MAX_PER_RUN:
                raise inv.usage_error(f"`--max` takes a number from 1 to {MAX_PER_RUN}.")
            limit = int(value)
        elif low in QUEUES and not queue:
            queue = low
        else:
            raise inv.usage_error(f"Unexpected `{esc(word)}`: name the queue, {' or '.join(QUEUES)}.")
    if not queue:
        raise inv.usage_error(f"Which queue? {' or '.join(QUEUES)}.")
    return queue, limit, dry_run


def _authorized(inv: Invocation) -> None:
    """Refuse (with one DENIED audit record) anyone outside the redrive tier."""
    verdict = may_redrive(inv.rt, inv.actor, inv.channel)
    if verdict:
        return
    audit.record(
        inv.rt,
        key=f"denied:cmd:redrive:{uuid.uuid4().hex}",
        action="command.redrive",
        outcome="DENIED",
        actor=inv.actor,
        result=verdict.reason,
        channel=inv.channel,
        params={"args": " ".join(inv.args)[:300]},
    )
    raise CommandError(f"Not allowed: {esc(verdict.reason)}.")


def check_redrive(inv: Invocation) -> None:
    """Before the ack (no AWS call but the refusal's audit write): arguments and permission."""
    parse_args(inv)
    _authorized(inv)


def record_redrive(rt: Runtime, actor: Actor, result: RedriveResult, channel: str | None = None) -> None:
    """One audit record for a redrive that moved (or tried to move) records."""
    if result.dry_run:
        return
    outcome = "REDRIVE_FAILED" if result.error and not result.moved else "REDRIVEN"
    audit.record(
        rt,
        key=f"cmd:redrive:{outcome}:{uuid.uuid4().hex}",
        action="command.redrive",
        outcome=outcome,
        actor=actor,
        result=result.summary(),
        channel=channel,
        params={"queue": result.queue, "moved": result.moved, "not_deleted": result.not_deleted},
    )


@command(
    "redrive",
    mutates=True,
    deferred=True,
    min_args=1,
    check=check_redrive,
    ack=":hourglass_flowing_sand: Looking up the dead-letter queue; the worker moves the records and answers here…",
)
def redrive_command(inv: Invocation) -> Reply:
    """redrive alerts|jobs [--max N] [--dry-run]
    Move records that exhausted their retries from a dead-letter queue back to its queue (HIGH-risk tier).

    Example: ``/ops redrive alerts --max 20``
    """
    queue, limit, dry_run = parse_args(inv)
    _authorized(inv)  # again, in the worker: the policy may have changed since the ack
    result = redrive(inv.rt, queue, max_messages=limit, dry_run=dry_run)
    record_redrive(inv.rt, inv.actor, result, inv.channel)
    icon = ":warning:" if result.error else ":recycle:"
    lines = [f"{icon} Redrive {esc(result.summary())}."]
    lines += [f"• {esc(s)}" for s in result.samples]
    return message("\n".join(lines))
