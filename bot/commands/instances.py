"""``/ops instances``: EC2 instances matching a tag or name filter, across accounts and regions."""

from __future__ import annotations

from typing import Any

from bot.commands.base import Invocation, Reply, command
from bot.commands.fanout import Target, fan_out, scoped_targets, split_scope
from bot.commands.output import code, esc, listing

_STATE_EMOJI = {
    "running": ":large_green_circle:",
    "stopped": ":red_circle:",
    "stopping": ":large_orange_circle:",
    "pending": ":large_yellow_circle:",
    "shutting-down": ":large_orange_circle:",
    "terminated": ":black_circle:",
}
_STATES = set(_STATE_EMOJI)


def ec2_filters(words: list[str]) -> list[dict[str, Any]]:
    """Words → DescribeInstances filters (all must match).

    ``key=value`` is a tag (``*`` wildcards allowed), ``i-…`` an instance id, a state name
    (``running``) the state, anything else part of the Name tag (case-sensitive, as EC2 is).

    >>> ec2_filters(["team=payments", "web"])
    [{'Name': 'tag:team', 'Values': ['payments']}, {'Name': 'tag:Name', 'Values': ['*web*']}]
    """
    out: list[dict[str, Any]] = []
    for word in words:
        if "=" in word:
            key, _, value = word.partition("=")
            out.append({"Name": f"tag:{key}", "Values": [value or "*"]})
        elif word.startswith("i-"):
            out.append({"Name": "instance-id", "Values": [word]})
        elif word.lower() in _STATES:
            out.append({"Name": "instance-state-name", "Values": [word.lower()]})
        else:
            out.append({"Name": "tag:Name", "Values": [f"*{word}*"]})
    return out


def instances_in(client: Any, target: Target, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    kwargs: dict[str, Any] = {"Filters": filters} if filters else {}
    for page in client.get_paginator("describe_instances").paginate(**kwargs):
        for reservation in page.get("Reservations", []):
            for inst in reservation.get("Instances", []):
                tags = {t.get("Key"): t.get("Value", "") for t in inst.get("Tags", [])}
                rows.append(
                    {
                        "name": tags.get("Name", ""),
                        "id": inst.get("InstanceId", ""),
                        "state": (inst.get("State") or {}).get("Name", ""),
                        "type": inst.get("InstanceType", ""),
                        "az": (inst.get("Placement") or {}).get("AvailabilityZone", ""),
                    }
                )
    return rows


def instances_scope(inv: Invocation) -> tuple[list[Target], list[str]]:
    """The targets and filter words of ``/ops instances`` (no AWS call); a bad scope is a usage error."""
    account, region, words = split_scope(inv.rt, inv.args)
    return scoped_targets(inv, account, region), words


@command("instances", deferred=True, check=instances_scope)
def instances(inv: Invocation) -> Reply:
    """instances [filter ...] [account] [region]
    EC2 instances (name, id, state, type, AZ, account) matching a tag (key=value), name, id or state.

    Example: ``/ops instances team=payments running``
    """
    where, words = instances_scope(inv)
    filters = ec2_filters(words)
    result = fan_out(inv.rt, where, "ec2", lambda c, t: instances_in(c, t, filters))
    found = sorted(result.items, key=lambda tr: (tr[1]["state"] != "running", tr[1]["name"] or "~", tr[1]["id"]))
    rows = [
        f"{_STATE_EMOJI.get(i['state'], ':white_circle:')} *{esc(i['name']) or '(no name)'}* {code(i['id'])}"
        f" — {esc(i['state'])}, {esc(i['type'])}, {esc(i['az'])}, {esc(t.account_label)}"
        for t, i in found
    ]
    what = " ".join(words)
    return listing(
        f"EC2 instances{' matching ' + esc(what) if what else ''}",
        rows,
        hint=f"narrow with `{inv.slash} instances key=value|name|state`",
        empty="No instances match.",
        notes=result.notes("ec2"),
    )
