"""``/ops help`` and ``/ops whoami``: what you may use, and who Slack says you are."""

from __future__ import annotations

from bot.approval.authz import approvals_needed, may_act, tier_for
from bot.commands.base import Invocation, Reply, command, resolve, visible_commands
from bot.commands.output import code, esc
from bot.models import Risk
from bot.slack import blocks as bk


@command("help")
def help_(inv: Invocation) -> Reply:
    """help [command]
    The commands you may use (or one command's usage).
    """
    slash = inv.slash
    visible = visible_commands(inv.rt, inv.actor)
    if inv.args:
        cmd = resolve(inv.args[0].lower())
        if cmd is None or cmd not in visible:
            raise inv.usage_error(f"No command `{esc(inv.args[0])}` for you.")
        return Reply(f"{slash} {cmd.usage}", blocks=[bk.section(f"`{slash} {cmd.usage}`\n{esc(cmd.description)}")])
    lines = [f"`{slash} {c.usage}` — {esc(c.description)}" for c in visible]
    lines.append(f"Add `--public` to show the answer to the channel. `{slash} help <command>` for one command.")
    return Reply(
        f"{slash} commands: " + ", ".join(c.name for c in visible),
        blocks=[bk.header(f"{slash} commands"), bk.section("\n".join(lines))],
    )


@command("whoami")
def whoami(inv: Invocation) -> Reply:
    """whoami
    Your Slack identity and what you may do, by risk tier.
    """
    actor = inv.actor
    policy = inv.rt.config.policy
    ident = [
        f"*User:* <@{actor.user_id}> {code(actor.user_id)}" + (f" ({esc(actor.user_name)})" if actor.user_name else "")
    ]
    ident.append(
        f"*Team:* {code(actor.team_id or '-')}"
        + (f"  *Enterprise:* {code(actor.enterprise_id)}" if actor.enterprise_id else "")
    )
    ident.append(f"*Channel:* {code(inv.channel)}")
    lines = []
    for risk in Risk:
        verdict = may_act(policy, actor, risk, inv.channel)
        tier = tier_for(policy, risk)
        needs = approvals_needed(policy, risk)
        extra = f", then {needs} approval(s) by others" if verdict.allowed and needs else ""
        where = f" (only in {', '.join(code(c) for c in tier.channels)})" if tier and tier.channels else ""
        mark = ":white_check_mark: may request" if verdict.allowed else f":no_entry: {esc(verdict.reason)}"
        lines.append(f"*{risk.value}* — {mark}{extra}{where}")
    text = "\n".join(ident) + "\n\n*Remediations by risk (in this channel):*\n" + "\n".join(lines)
    return Reply(f"You are {actor.user_id}", blocks=[bk.header("Who you are"), bk.section(text)])
