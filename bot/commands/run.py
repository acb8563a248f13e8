"""``/ops run``: propose a remediation by hand, through the same authorization, approval and audit
path as a button (``bot.approval.clicks.request_action``)."""

from __future__ import annotations

import difflib
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.approval.authz import may_act
from bot.approval.clicks import request_action
from bot.aws import remediation_refusal
from bot.commands.base import Invocation, Reply, command
from bot.commands.forms import missing_required, open_params_form
from bot.commands.output import code, esc, message
from bot.errors import RemediationError
from bot.models import MANUAL_ALERT_PREFIX, Actor, Alert, Proposal
from bot.remediations import remediations
from bot.runtime import Runtime

_ARN_RE = re.compile(r"^arn:aws[a-z-]*:[^:]*:(?P<region>[a-z0-9-]*):(?P<account>\d{12})?:")
_KV_RE = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)$", re.DOTALL)
_WHERE_KEYS = ("account", "region")
_ANSWERS = {
    "queued": "Queued: the worker posts the request in this channel and runs it; the outcome comes in its thread.",
    "awaiting_approval": "Requested: the request, its dry run and an Approve button come in this channel.",
}


def split_params(inv: Invocation, words: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """``key=value`` words → (remediation params, where: account / region)."""
    params: dict[str, str] = {}
    where: dict[str, str] = {}
    for word in words:
        m = _KV_RE.match(word)
        if not m:
            raise inv.usage_error(f"`{esc(word)}` is not key=value.")
        (where if m["key"] in _WHERE_KEYS else params)[m["key"]] = m["value"]
    return params, where


def resource_param(rem: Any, params: dict[str, Any], resource: str) -> dict[str, Any]:
    """Put ``resource`` into the first required parameter not given as key=value."""
    out = dict(params)
    for name, info in rem.Params.model_fields.items():
        if info.is_required() and name not in out:
            out[name] = resource
            break
    return out


def pick_where(inv: Invocation, resource: str, where: dict[str, str]) -> tuple[str, str]:
    """The account and region to run in: key=value, else the resource's ARN, else the only account.

    Only a configured account with a role: EventOps never acts anywhere else (bot.aws)."""
    rt = inv.rt
    arn = _ARN_RE.match(resource)
    account = where.get("account") or (arn["account"] if arn and arn["account"] else "")
    region = where.get("region") or (arn["region"] if arn and arn["region"] else "")
    accounts = list(rt.config.accounts)
    if not accounts:
        raise inv.usage_error("No account is configured in EventOps (`accounts:`), so it runs nothing.")
    if account:
        acct = next((a for a in accounts if account in (a.id, a.alias)), None)
        if acct is None:
            raise inv.usage_error(f"Account `{esc(account)}` is not configured in EventOps: it runs nothing there.")
        account = acct.id
    elif len(accounts) == 1:
        account = accounts[0].id
    else:
        names = ", ".join(a.alias or a.id for a in accounts[:10])
        raise inv.usage_error(f"Which account? Add `account=<id|alias>` (one of {esc(names)}).")
    refusal = remediation_refusal(accounts, account)
    if refusal:
        raise inv.usage_error(esc(refusal) + ".")
    if not region:
        acct = rt.config.account(account)
        region = acct.regions[0] if acct and acct.regions else rt.settings.aws_region
    return account, region


@command("run", mutates=True, min_args=1)
def run(inv: Invocation) -> Reply:
    """run <remediation> [resource] [key=value ...]
    Propose a remediation by hand (a form asks for what is missing); the same authorization, approval and audit as a button.

    Example: ``/ops run ec2.stop-instance i-0abc1234 account=prod region=eu-west-1``
    """
    rems = remediations
    name = inv.args[0]
    rem = rems.get(name)
    if rem is None:
        guess = difflib.get_close_matches(name, [str(k) for k in rems.keys()], n=1, cutoff=0.4)
        hint = f" Did you mean {code(guess[0])}?" if guess else ""
        raise inv.usage_error(f"No remediation {code(name)}.{hint}")
    resource = inv.args[1] if len(inv.args) > 1 and not _KV_RE.match(inv.args[1]) else ""
    params, where = split_params(inv, inv.args[2 if resource else 1 :])
    account, region = pick_where(inv, resource, where)
    verdict = may_act(inv.rt.config.policy, inv.actor, rem.risk, inv.channel)
    if not verdict.allowed:
        return message(f":no_entry: You may not run {code(rem.name)} ({rem.risk.value} risk): {esc(verdict.reason)}")
    given = resource_param(rem, params, resource) if resource else params
    if missing_required(rem, given):
        return open_params_form(inv, rem, given, account, region)
    try:
        parsed = rem.parse_params(given)
    except RemediationError as exc:
        raise inv.usage_error(esc(exc)) from None
    return message(propose_and_request(inv.rt, rem, parsed, account, region, inv.actor, inv.channel, resource))


def propose_and_request(
    rt: Runtime, rem: Any, parsed: Any, account: str, region: str, actor: Actor, channel: str, resource: str = ""
) -> str:
    """Make the hand-made proposal and request it as its button would (``request_action``):
    what ``/ops run`` and its form's submission both do. Returns what the requester is told."""
    policy = rt.config.policy
    now = datetime.now(UTC)
    proposal_id = uuid.uuid4().hex
    params = parsed.model_dump(mode="json")
    proposal = Proposal(
        id=proposal_id,
        alert_id=f"{MANUAL_ALERT_PREFIX}{proposal_id[:12]}",
        fingerprint=Alert.make_fingerprint(
            "manual", rem.name, resource or json.dumps(params, sort_keys=True), account, region
        ),
        remediation=rem.name,
        params=params,
        risk=rem.risk,
        account=account,
        region=region,
        channel=channel,
        # requester stays empty: request_action records it, exactly as for a button click
        expires_at=now + timedelta(hours=policy.proposal_ttl_hours if policy else 24),
        correlation_id=proposal_id,
    )
    # Only the decision is made here, within Slack's 3 s. The request's channel message (its
    # thread carries the Approve button, the outcome and Undo, as an alert's thread does) is
    # posted by the job, where Slack's per-channel rate limit can be waited out.
    rt.store.put_proposal(proposal)
    decision = request_action(rt, proposal.id, actor, channel)
    plan = rem.plan(parsed, account, region)
    lines = [f"*{esc(rem.title)}* ({rem.risk.value} risk) — proposal {code(proposal.id)}"]
    lines += [f"• {esc(p)}" for p in plan]
    lines.append(esc(decision.message or _ANSWERS.get(decision.outcome, decision.outcome)))
    return "\n".join(lines)
