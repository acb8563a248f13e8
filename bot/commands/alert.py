"""``/ops alert <id>``: show an alert again, with its buttons (open proposals, ack, snooze, dismiss)."""

from __future__ import annotations

from bot.commands.base import Invocation, Reply, command
from bot.commands.output import esc
from bot.messages import alert_buttons
from bot.models import ProposalState
from bot.registry import Registry
from bot.remediations import Remediation, remediations
from bot.slack import blocks as bk
from bot.slack.render import render_alert

OPEN_STATES = {ProposalState.PROPOSED}


def catalog() -> Registry[Remediation]:
    """The remediation registry (every plugin module imported by ``bot.remediations``)."""
    return remediations


@command("alert", min_args=1)  # DynamoDB only: answered inside the ack
def alert(inv: Invocation) -> Reply:
    """alert <id>
    Show an alert again, with its buttons.
    """
    if len(inv.args) > 1:
        raise inv.usage_error(f"Unexpected `{esc(' '.join(inv.args[1:]))}`.")
    stored = inv.rt.store.get_alert(inv.args[0])
    found, channel, ts = stored.alert, stored.channel, stored.ts
    proposals = [p for p in inv.rt.store.proposals_in(OPEN_STATES) if p.alert_id == found.id]
    payload = render_alert(
        found,
        channel=inv.channel,
        buttons=alert_buttons(found.id, proposals) if found.active else [],
        link_hosts=inv.rt.config.link_hosts,
    )
    blocks = list(payload["blocks"])
    if channel:
        where = f"<#{channel}>" if channel[:1] in "CG" else esc(channel)
        blocks.append(bk.context(f"Originally posted in {where}" + (f" (ts {esc(ts)})" if ts else "")))
    return Reply(text=payload["text"], blocks=bk.fit(blocks))
