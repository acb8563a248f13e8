"""The ``/ops`` slash command: sub-commands from a registry, help from their docstrings.

Example::

    from bot.commands import answer_or_defer, ack_reply, run_deferred

    reply = answer_or_defer(text, actor, channel, rt)   # None: an AWS fan-out, checked
    if reply is None:                                   # ack now, answer later
        ack(ack_reply(text, rt).payload())
        run_deferred(text, actor, channel, rt, response_url, post=http_post)
    else:
        ack(reply.payload())

Every sub-command module registers itself on import (below); ``commands_table_markdown()``
renders the README table (docs/commands.md) from the same docstrings ``/ops help`` shows.
"""

from __future__ import annotations

# isort: off
from bot.commands import (  # noqa: F401  (imported to register, in help order)
    help,
    status,
    alarms,
    findings,
    instances,
    health,
    alert,
    explain,
    audit,
    snooze,
    maintenance,
    run,
    redrive,
    report,
    doctor,
)

# isort: on
from bot.commands.base import (
    Command,
    Invocation,
    Reply,
    ack_reply,
    answer_or_defer,
    commands,
    dispatch,
    needs_deferral,
    run_deferred,
)
from bot.commands.entry import answer_job, answer_request

# The read-only IAM actions /ops queries call (run by the worker, in every configured account).
# The deploy generator adds them to the worker's policy and the member-account role.
QUERY_PERMISSIONS: tuple[str, ...] = (
    "cloudwatch:DescribeAlarms",
    "ec2:DescribeInstances",
    "guardduty:GetFindings",
    "guardduty:ListDetectors",
    "guardduty:ListFindings",
    "health:DescribeEvents",
    "securityhub:GetFindings",
)


def commands_table_markdown(slash: str = "/ops") -> str:
    """The README command table, generated from the registry.

    >>> commands_table_markdown().splitlines()[0]
    '| Command | What it does |'
    """
    lines = ["| Command | What it does |", "| --- | --- |"]
    for cmd in commands.values():
        usage = f"{slash} {cmd.usage}".replace("|", "\\|")
        desc = cmd.description.replace("|", "\\|")
        mark = (
            " *(needs permission to triage)*" if cmd.triage else " *(needs permission to act)*" if cmd.mutates else ""
        )
        lines.append(f"| `{usage}` | {desc}{mark} |")
    return "\n".join(lines) + "\n"


__all__ = [
    "Command",
    "Invocation",
    "Reply",
    "ack_reply",
    "answer_job",
    "answer_or_defer",
    "answer_request",
    "commands",
    "commands_table_markdown",
    "dispatch",
    "needs_deferral",
    "run_deferred",
    "QUERY_PERMISSIONS",
]
