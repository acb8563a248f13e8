"""``/ops doctor``: is everything EventOps needs reachable, and is anything configured dangerously?

Checks: the config, the Slack secrets, the DynamoDB table, the SQS queues, and that every
account's role can be assumed; lists events seen lately from accounts not in ``accounts:``.
Warns about: tiers with nobody (or too few) to approve, ``auto`` routes offering HIGH-risk
remediations, and @channel / @here mentions in routing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.approval.authz import approvals_needed
from bot.commands.alert import catalog
from bot.commands.base import Invocation, Reply, command, slash_name
from bot.commands.fanout import Target, describe_error, fan_out
from bot.commands.output import code, esc, pack
from bot.errors import ConfigError
from bot.models import Mode, Risk
from bot.redrive import QUEUES, dlq_depth, queue_urls, waiting_line
from bot.runtime import Runtime
from bot.slack import blocks as bk

OK, WARN, FAIL = ":white_check_mark:", ":warning:", ":x:"
_BROADCAST = {"!channel", "!here", "!everyone", "@channel", "@here", "@everyone", "<!channel>", "<!here>"}


def _check(label: str, fn: Any) -> str:
    try:
        detail = fn()
        return f"{OK} {label}" + (f": {detail}" if detail else "")
    except Exception as exc:  # noqa: BLE001 - a failed check is a result, not a crash
        return f"{FAIL} {label}: {esc(describe_error(exc) if hasattr(exc, 'response') else _short(exc))}"


def _short(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def config_checks(rt: Runtime) -> list[str]:
    cfg = rt.config
    lines = [
        f"{OK} config: {len(cfg.accounts)} account(s), {len(cfg.routing.rules)} routing rule(s), "
        f"{len(cfg.runbooks)} runbook(s)"
    ]
    lines.append(_check("Slack secrets", lambda: _secrets_ok(rt)))
    lines.append(_check(f"table {code(rt.settings.table_name)}", lambda: _table_ok(rt)))
    for label, url in (("alerts queue", rt.settings.alerts_queue_url), ("jobs queue", rt.settings.jobs_queue_url)):
        if not url:
            lines.append(f"{WARN} {label}: not configured")
        else:
            lines.append(_check(label, lambda url=url: _queue_ok(rt, url)))
    lines += dead_letter_checks(rt, slash_name(rt))
    lines.append(
        f"{WARN} kill switch is ON: remediations are notify-only" if rt.kill_switch_on() else f"{OK} kill switch off"
    )
    return lines


def dead_letter_checks(rt: Runtime, slash: str = "/ops") -> list[str]:
    """One line per dead-letter queue: empty, or how many records wait and the command that
    moves them back (``3 alerts in the dead-letter queue — `/ops redrive alerts```)."""
    lines = []
    for name in QUEUES:
        label = f"{name} dead-letter queue"
        try:
            queue_urls(rt, name)
        except ConfigError as exc:
            lines.append(f"{WARN} {label}: {esc(exc)}")
            continue
        try:
            depth = dlq_depth(rt, name)
        except Exception as exc:  # noqa: BLE001 - a failed check is a result, not a crash
            lines.append(f"{FAIL} {label}: {esc(describe_error(exc) if hasattr(exc, 'response') else _short(exc))}")
            continue
        lines.append(f"{WARN} {waiting_line(name, depth, slash)}" if depth else f"{OK} {label}: empty")
    return lines


def _secrets_ok(rt: Runtime) -> str:
    secrets = rt.secrets  # raises ConfigError saying which one is missing
    return "bot token and signing secret present" if secrets.bot_token and secrets.signing_secret else ""


def _table_ok(rt: Runtime) -> str:
    table = rt.sessions.client("dynamodb").describe_table(TableName=rt.settings.table_name)["Table"]
    status = table.get("TableStatus", "?")
    if status != "ACTIVE":
        raise RuntimeError(f"status {status}")
    return "ACTIVE"


def _queue_ok(rt: Runtime, url: str) -> str:
    attrs = rt.sessions.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "RedrivePolicy"]
    )["Attributes"]
    depth = attrs.get("ApproximateNumberOfMessages", "?")
    dlq = "" if "RedrivePolicy" in attrs else f" {WARN} no dead-letter queue"
    return f"{depth} message(s) waiting{dlq}"


def account_checks(rt: Runtime) -> list[str]:
    """Assume every account's role (concurrently) and check who we end up as."""
    accounts = list(rt.config.accounts)
    if not accounts:
        return [f"{WARN} no accounts configured: queries run in the bot's own account only"]
    where = [Target(a.id, rt.settings.aws_region, a.alias) for a in accounts]

    def whoami(client: Any, target: Target) -> list[str]:
        ident = client.get_caller_identity()
        arn, got = ident.get("Arn", ""), ident.get("Account", "")
        acct = rt.config.account(target.account or "")
        if got != target.account:
            how = (
                "no role_arn, so the bot's own credentials are used"
                if acct is None or not acct.role_arn
                else "the role is in another account"
            )
            return [
                f"{WARN} {esc(target.account_label)} {code(target.account)}: answered as account {code(got)} ({how})"
            ]
        return [f"{OK} {esc(target.account_label)} {code(target.account)}: {code(arn)}"]

    result = fan_out(rt, where, "sts", whoami)
    lines = [row for _, row in result.items]
    lines += [
        f"{FAIL} {esc(t.account_label)} {code(t.account)}: cannot assume the role: {esc(e)}"
        for t, e in result.errors.items()
    ]
    return lines


def unconfigured_account_lines(rt: Runtime) -> list[str]:
    """Accounts not in ``accounts:`` that events arrived from lately (anyone in the org may put
    events on the bus): EventOps offers no actions on them; configure the account or find out."""
    try:
        seen = rt.store.unconfigured_accounts()
    except Exception as exc:  # noqa: BLE001 - a failed check is a result, not a crash
        return [f"{FAIL} events from unconfigured accounts: {esc(_short(exc))}"]
    if not seen:
        return [f"{OK} no events from unconfigured accounts in the last 7 days"]
    return [
        f"{WARN} events from unconfigured account {code(account)}: {count}, last seen "
        f"{datetime.fromtimestamp(last, UTC):%Y-%m-%d %H:%M} UTC (no actions offered)"
        for account, count, last in seen
    ]


def approvers_besides_requester(tier: Any) -> int | None:
    """The fewest distinct approvers any requester of ``tier`` can ask (never themselves).

    Approvers are ``tier.approvers``, or the tier's users when that is empty. A requester who is
    also an approver cannot approve their own change, so they do not count for that request.
    None when the count is unknown: the approvers are the tier's users and user groups (group
    members are looked up at click time).
    """
    approvers = set(tier.approvers or tier.users)
    if not tier.approvers and tier.user_groups:
        return None
    requesters = set(tier.users)  # a requester from a user group is assumed not to be a listed approver
    if not requesters:
        return len(approvers)
    return min(len(approvers - {r}) for r in requesters)


def policy_warnings(rt: Runtime) -> list[str]:
    policy = rt.config.policy
    if policy is None:
        return [f"{WARN} no authorization policy: nobody may run any remediation (fail closed)"]
    out = []
    if not policy.teams:
        out.append(f"{WARN} policy.teams is empty: no Slack team is trusted, nobody may act")
    for risk in Risk:
        tier = policy.tiers.get(risk)
        if tier is None or (not tier.users and not tier.user_groups):
            out.append(f"{WARN} policy.tiers.{risk.value}: nobody may run {risk.value}-risk remediations")
            continue
        needed = approvals_needed(policy, risk)
        if not needed:
            continue
        available = approvers_besides_requester(tier)
        if available is None:
            continue  # approvers come from a user group: its size is only known at click time
        if available < needed:
            out.append(
                f"{WARN} policy.tiers.{risk.value}: {needed} approval(s) by others needed but a requester has only "
                f"{available} other approver(s) (a requester cannot approve their own change)"
            )
    return out


def routing_warnings(rt: Runtime) -> list[str]:
    routing = rt.config.routing
    rems = catalog()
    high = {str(name) for name, rem in rems.items() if getattr(rem, "risk", None) == Risk.HIGH}
    out = []
    routes = [(f"routing.rules[{r.name}]", r) for r in routing.rules] + [("routing.default", routing.default)]
    for label, route in routes:
        if route.mode == Mode.AUTO:
            offered = set(route.remediations) if route.remediations is not None else None
            risky = sorted(high if offered is None else offered & high)
            if risky:
                out.append(
                    f"{WARN} {esc(label)}: mode `auto` offers HIGH-risk {esc(', '.join(risky))} — they would run "
                    "without a person"
                )
        unknown = sorted(set(route.remediations or []) - {str(k) for k in rems.keys()}) if len(rems) else []
        if unknown:
            out.append(f"{WARN} {esc(label)}: unknown remediation(s) {esc(', '.join(unknown))}")
        loud = [m for m in route.mentions if str(m).strip().lower() in _BROADCAST]
        if loud:
            out.append(f"{WARN} {esc(label)}: mentions {esc(', '.join(loud))} — every member is notified")
    return out


@command("doctor", deferred=True)
def doctor(inv: Invocation) -> Reply:
    """doctor
    Check config, secrets, table, queues and each account's role; warn about dangerous settings.
    """
    rt = inv.rt
    sections = [
        ("Infrastructure", config_checks(rt)),
        ("Accounts", account_checks(rt) + unconfigured_account_lines(rt)),
        ("Authorization", policy_warnings(rt) or [f"{OK} every tier has people and enough approvers"]),
        ("Routing", routing_warnings(rt) or [f"{OK} no dangerous routing settings"]),
    ]
    blocks: list[dict[str, Any]] = [bk.header("EventOps doctor")]
    for title, lines in sections:
        blocks += [bk.section(chunk) for chunk in pack([f"*{title}*", *lines])]
    problems = sum(1 for _, lines in sections for ln in lines if ln.startswith((WARN, FAIL)))
    summary = "EventOps doctor: all good" if not problems else f"EventOps doctor: {problems} problem(s)"
    return Reply(text=summary, blocks=bk.fit(blocks))
