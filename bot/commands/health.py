"""``/ops health``: open and upcoming AWS Health events in every configured account."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot.commands.base import Invocation, Reply, command
from bot.commands.fanout import Target, fan_out, scoped_targets, split_scope
from bot.commands.output import ago, code, esc, listing

# The Health API has one global endpoint, in us-east-1 (docs: "AWS Health API endpoints").
HEALTH_REGION = "us-east-1"

_STATUS_EMOJI = {"open": ":red_circle:", "upcoming": ":calendar:"}


def health_events(client: Any, target: Target, region: str | None = None) -> list[dict[str, Any]]:
    flt: dict[str, Any] = {"eventStatusCodes": ["open", "upcoming"]}
    if region:
        flt["regions"] = [region]
    rows = []
    for page in client.get_paginator("describe_events").paginate(filter=flt):
        for ev in page.get("events", []):
            rows.append(
                {
                    "arn": ev.get("arn", ""),
                    "service": ev.get("service", ""),
                    "type": ev.get("eventTypeCode", ""),
                    "category": ev.get("eventTypeCategory", ""),
                    "region": ev.get("region", ""),
                    "status": ev.get("statusCode", ""),
                    "start": ev.get("startTime"),
                }
            )
    return rows


def health_scope(inv: Invocation) -> tuple[list[Target], str | None]:
    """The targets and region filter of ``/ops health`` (no AWS call); a bad scope is a usage error."""
    account, region, rest = split_scope(inv.rt, inv.args)
    if rest:
        raise inv.usage_error(f"Unexpected `{esc(' '.join(rest))}`.")
    return scoped_targets(inv, account, None, per_account_region=HEALTH_REGION), region


@command("health", deferred=True, check=health_scope)
def health(inv: Invocation) -> Reply:
    """health [account] [region]
    Open and upcoming AWS Health events (needs a Business or Enterprise support plan).

    Example: ``/ops health prod``
    """
    where, region = health_scope(inv)
    result = fan_out(inv.rt, where, "health", lambda c, t: health_events(c, t, region))
    seen: set[tuple[str | None, str]] = set()
    events = []
    for t, ev in result.items:
        key = (t.account, ev["arn"])
        if key not in seen:
            seen.add(key)
            events.append((t, ev))
    epoch = datetime.min.replace(tzinfo=UTC)
    events.sort(key=lambda tr: (tr[1]["status"] != "open", -(tr[1]["start"] or epoch).timestamp()))
    rows = [
        f"{_STATUS_EMOJI.get(ev['status'], ':white_circle:')} *{esc(ev['service'])}* {code(ev['type'])}"
        f" — {esc(ev['region'] or 'global')}, {esc(t.account_label)}, {esc(ev['status'])} since {ago(ev['start'])}"
        for t, ev in events
    ]
    # One clear line per account/region the Health API did not answer (no subscription, an
    # endpoint that answers HTML, no permission); "no events" only about the ones that answered.
    unavailable = [
        f":warning: AWS Health is not available in {esc(t.label)}: {esc(_reason(err))}"
        for t, err in sorted(result.errors.items(), key=lambda te: te[0].label)
    ]
    if result.answered:
        where_ok = ", ".join(t.label for t in result.answered)
        empty = f":white_check_mark: No open AWS Health events in {esc(where_ok)}."
    else:
        empty = "\n".join(unavailable) or ":white_check_mark: No open AWS Health events."
        unavailable = []
    return listing(
        "AWS Health events (open and upcoming)",
        rows,
        hint=f"narrow with `{inv.slash} health <account> <region>`",
        empty=empty,
        notes=unavailable,
    )


_TAG_RE = re.compile(r"<[^>]+>")


def _reason(err: str) -> str:
    """A one-line reason from a fan-out error: never an HTML page (moto and proxies answer HTML)."""
    if "<" in err and _TAG_RE.search(err):
        code_part = err.split(":", 1)[0].strip()
        label = f"HTTP {code_part}" if code_part.isdigit() else code_part
        return f"the Health endpoint answered {label} with a web page instead of the AWS API"
    line = " ".join(err.split())
    return line[:200]
