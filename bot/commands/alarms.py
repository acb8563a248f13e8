"""``/ops alarms``: CloudWatch alarms in ALARM across the configured accounts and regions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.commands.base import Invocation, Reply, command
from bot.commands.fanout import Target, fan_out, scoped_targets, split_scope
from bot.commands.output import ago, esc, listing

REASON_CHARS = 160


def alarms_in(client: Any, target: Target) -> list[dict[str, Any]]:
    """Every metric and composite alarm in ALARM in one account/region (all pages)."""
    rows: list[dict[str, Any]] = []
    pages = client.get_paginator("describe_alarms").paginate(
        StateValue="ALARM", AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    for page in pages:
        for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
            rows.append(
                {
                    "name": alarm.get("AlarmName", ""),
                    "reason": alarm.get("StateReason", ""),
                    "since": alarm.get("StateUpdatedTimestamp"),
                    "metric": alarm.get("MetricName") or ("composite" if "AlarmRule" in alarm else ""),
                }
            )
    return rows


def alarms_scope(inv: Invocation) -> list[Target]:
    """The targets of ``/ops alarms`` (no AWS call); a bad scope or a stray word is a usage error."""
    account, region, rest = split_scope(inv.rt, inv.args)
    if rest:
        raise inv.usage_error(f"Unexpected `{esc(' '.join(rest))}`.")
    return scoped_targets(inv, account, region)


@command("alarms", deferred=True, check=alarms_scope)
def alarms(inv: Invocation) -> Reply:
    """alarms [account] [region]
    CloudWatch alarms in ALARM across the configured accounts and regions.

    Example: ``/ops alarms prod eu-west-1``
    """
    where = alarms_scope(inv)
    result = fan_out(inv.rt, where, "cloudwatch", alarms_in)
    epoch = datetime.min.replace(tzinfo=UTC)
    found = sorted(result.items, key=lambda tr: tr[1]["since"] or epoch, reverse=True)
    rows = [
        f":rotating_light: *{esc(a['name'])}* — {esc(t.label)}, {ago(a['since'])}"
        + (f"\n      {esc(a['reason'][:REASON_CHARS])}" if a["reason"] else "")
        for t, a in found
    ]
    return listing(
        f"CloudWatch alarms in ALARM ({len(result.answered)}/{len(where)} account-regions answered)",
        rows,
        hint=f"narrow with `{inv.slash} alarms <account> <region>`",
        empty=":white_check_mark: No alarms in ALARM.",
        notes=result.notes("cloudwatch"),
    )
