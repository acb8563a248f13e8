"""``/ops report [7d]``: the scorecard (``bot.scorecard``) for the last days, on demand."""

from __future__ import annotations

from bot import scorecard
from bot.commands.base import Invocation, Reply, command
from bot.commands.output import esc


def report_days(inv: Invocation) -> int:
    """The period of ``/ops report`` (checked before the ack); a bad one is a usage error."""
    if len(inv.args) > 1:
        raise inv.usage_error(f"Unexpected `{esc(' '.join(inv.args[1:]))}`.")
    days = scorecard.parse_days(inv.args[0] if inv.args else None)
    if days is None:
        raise inv.usage_error(f"`{esc(inv.args[0])}` is not a period: say e.g. `7d` (1 to {scorecard.MAX_DAYS} days).")
    return days


@command(
    "report",
    deferred=True,
    check=report_days,
    ack=":hourglass_flowing_sand: Looking up the scorecard: counters, audit trail, dead-letter queues…",
)
def report(inv: Invocation) -> Reply:
    """report [7d]
    The scorecard: events vs messages (noise reduction), noisiest rules, time to ack and remediate, outcomes.

    Example: ``/ops report 30d``
    """
    card = scorecard.build(inv.rt, report_days(inv))
    payload = scorecard.render(card, inv.slash)
    return Reply(text=payload["text"], blocks=payload["blocks"], public=inv.public)
