"""The "What changed?" thread reply (``bot.context``): the resource's recent changes, who made
them, and the other open alerts that belong to the same story.

Example::

    render_context_reply(Context(resource_label="security group sg-0abc", window_hours=24, changes=[...]))
"""

from __future__ import annotations

from typing import Any

from bot.context.model import Change, Context, OpenAlert
from bot.slack import blocks as bk

# What a reader calls an alert of each source in "Also open".
_SOURCE_LABELS = {
    "guardduty": "GuardDuty finding",
    "config": "Config non-compliance",
    "securityhub": "Security Hub finding",
    "cloudtrail": "CloudTrail call",
    "cloudwatch": "CloudWatch alarm",
    "inspector2": "Inspector finding",
    "accessanalyzer": "Access Analyzer finding",
    "macie": "Macie finding",
    "health": "AWS Health event",
    "trustedadvisor": "Trusted Advisor check",
}


def console_event_url(region: str, event_id: str) -> str:
    """The CloudTrail console page of one event."""
    return f"https://{region}.console.aws.amazon.com/cloudtrail/home?region={region}#/events/{event_id}"


def _change_line(change: Change) -> str:
    when = change.time.strftime("%Y-%m-%d %H:%M UTC")
    who = bk.escape(change.principal or "unknown principal")
    what = bk.escape(change.event_name)
    link = bk.link(console_event_url(change.region, change.event_id), "event") if change.region else ""
    return f"• {when} — *{what}* by `{who}`" + (f" ({link})" if link else "")


def _open_line(ref: OpenAlert) -> str:
    label = _SOURCE_LABELS.get(ref.source_kind, ref.source_kind or "alert")
    title = bk.escape(bk.truncate(ref.title, 150))
    sev = f"[{bk.escape(ref.severity)}] " if ref.severity else ""
    link = f" ({bk.link(ref.link, 'open')})" if ref.link and bk.is_safe_url(ref.link) else ""
    why = f" — {bk.escape(ref.why)}" if ref.why else ""
    return f"• {bk.escape(label)}: {sev}{title}{link}{why}"


def render_context_reply(ctx: Context) -> dict[str, Any]:
    """The reply's payload: changes first (or why there are none), then "Also open"."""
    what = bk.escape(ctx.resource_label)
    parts: list[str] = []
    if ctx.changes is not None:
        head = f"*What changed on {what}* (last {ctx.window_hours} h, CloudTrail writes)"
        body = [_change_line(c) for c in ctx.changes] or ["• No write events in that time."]
        parts.append("\n".join([head, *body]))
    elif ctx.note:
        parts.append(f"*What changed on {what}*: {bk.escape(ctx.note)}")
    if ctx.also_open:
        parts.append("\n".join(["*Also open:*", *(_open_line(r) for r in ctx.also_open)]))
    text = f"What changed on {ctx.resource_label}"
    return {
        "text": bk.truncate(bk.escape(text), bk.MAX_FALLBACK_TEXT),
        "blocks": bk.fit([bk.section(p) for p in parts]),
    }
