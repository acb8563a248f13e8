"""``/ops alert <id>``: show an alert again, with its buttons (open proposals, ack, snooze, dismiss)."""

from __future__ import annotations

from typing import Any

from bot.commands.base import Invocation, Reply, command
from bot.commands.output import esc
from bot.models import Alert, Proposal, ProposalState, Risk
from bot.slack import blocks as bk

OPEN_STATES = {ProposalState.PROPOSED}


def catalog() -> Any:
    """The remediation registry, with every plugin module imported."""
    import bot.remediations as package
    from bot.remediations.base import remediations

    return getattr(package, "remediations", remediations)


def buttons_for(alert: Alert, proposals: list[Proposal]) -> list[Any]:
    """The alert's buttons: one per open proposal (with its plan as the confirm text), then the rest."""
    from bot.slack.render import Button, ConfirmSpec

    rems = catalog()
    out = []
    for p in proposals:
        rem = rems.get(p.remediation)
        title = getattr(rem, "title", None) or p.remediation
        confirm = None
        if rem is not None:
            try:
                plan = rem.plan(rem.parse_params(p.params), p.account, p.region)
                confirm = ConfirmSpec(title=f"{title}?", text=" ".join(plan), confirm=title[:30], style="danger")
            except Exception:  # noqa: BLE001 - a button without a plan beats no button
                confirm = ConfirmSpec(title=f"{title}?", text=f"Run {p.remediation}?")
        out.append(Button.remediate(p.remediation, p.id, title, confirm=confirm, danger=p.risk == Risk.HIGH))
    out += [Button.ack(alert.id), Button.snooze(alert.id, "1h"), Button.dismiss(alert.id)]
    return out


@command("alert", deferred=True, min_args=1)
def alert(inv: Invocation) -> Reply:
    """alert <id>
    Show an alert again, with its buttons.
    """
    if len(inv.args) > 1:
        raise inv.usage_error(f"Unexpected `{esc(' '.join(inv.args[1:]))}`.")
    from bot.slack.render import render_alert

    found, channel, ts = inv.rt.store.get_alert(inv.args[0])
    proposals = [p for p in inv.rt.store.proposals_in(OPEN_STATES) if p.alert_id == found.id]
    payload = render_alert(found, channel=inv.channel, buttons=buttons_for(found, proposals) if found.active else [])
    blocks = list(payload["blocks"])
    if channel:
        where = f"<#{channel}>" if channel[:1] in "CG" else esc(channel)
        blocks.append(bk.context(f"Originally posted in {where}" + (f" (ts {esc(ts)})" if ts else "")))
    return Reply(text=payload["text"], blocks=bk.fit(blocks))
