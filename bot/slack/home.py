"""The App Home tab: plain data in (``HomeData``), one ``home`` view out. No I/O.

``bot.home`` gathers the data (bounded store reads, the kill switch, permalinks) and calls
``render_home``; Slack shows the view when the user opens the app's Home tab
(``app_home_opened`` → ``views.publish``). Every list shows at most ``SHOWN`` items and ends with
"and N more"; text from AWS events is escaped; links go only to Slack permalinks (or name the
channel), so the view always passes Slack's limits (100 blocks, 3000 characters a section).

Example::

    view = render_home(HomeData(user_id="U0ALICE", at=now, kill_switch=False))
    view["type"], len(view["blocks"]) <= bk.MAX_VIEW_BLOCKS   # ("home", True)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from bot.models import Actor, Severity
from bot.slack import blocks as bk

SHOWN = 10  # items per list; the rest are counted ("and 4 more")
LABEL_CHARS = 100  # an item's title (an alert's, from the event), escaped
DETAIL_CHARS = 60  # a resource id, a reason, a scope, escaped
# Text budgets: a list's section stays under Slack's 3000 characters, and all lists together
# under its ~12 000 of block text in a view (a line that does not fit is counted in "and N more",
# never cut: a cut could split a link). Each later list keeps at least SECTION_FLOOR.
SECTION_MAX = 2800
SECTION_FLOOR = 400
LISTS_BUDGET = bk.TOTAL_TEXT_BUDGET - 1200  # the header, titles, kill switch and footer: the rest
SECTION_IDS = ("kill-switch", "approvals", "alerts", "actions", "snoozes", "maintenance")

# A permalink as chat.getPermalink gives it (a message, or a reply with ?thread_ts=…&cid=…).
_PERMALINK_RE = re.compile(
    r"^https://(?:[a-z0-9-]+\.)*slack\.com/archives/[A-Z0-9]{2,20}/p[0-9]{6,20}(?:\?[A-Za-z0-9=&._%-]{0,200})?$"
)
_CHANNEL_RE = re.compile(r"^[CGD][A-Z0-9]{2,20}$")
_USER_RE = re.compile(r"^[UW][A-Z0-9]{2,20}$")


@dataclass(frozen=True)
class Where:
    """Where an item's Slack message is: its permalink when known, else its channel id."""

    permalink: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class HomeAlert:
    severity: Severity
    title: str
    at: datetime
    where: Where = Where()
    count: int = 1  # events of the problem (repeats update one message)


@dataclass(frozen=True)
class HomeApproval:
    title: str  # the remediation's title
    resource: str
    risk: str
    requester: str  # "@alice"
    have: int
    needed: int
    undo: bool = False  # an Undo waiting for approvals, not the change itself
    expires_at: datetime | None = None
    where: Where = Where()


@dataclass(frozen=True)
class HomeAction:
    at: datetime
    outcome: str
    action: str
    resource: str = ""
    where: Where = Where()


@dataclass(frozen=True)
class HomeSnooze:
    target: str  # what is snoozed: the alert's title when known, else the snooze's target
    until: datetime
    by: str
    reason: str = ""
    where: Where = Where()


@dataclass(frozen=True)
class HomeWindow:
    name: str
    ends: datetime | None = None
    scope: str = ""
    reason: str = ""


T = TypeVar("T")


@dataclass
class Listing(Generic[T]):
    """Up to ``SHOWN`` items and how many there are in all (``total`` ≥ ``len(items)``)."""

    items: list[T] = field(default_factory=list)
    total: int = 0

    @classmethod
    def of(cls, items: Sequence[T], total: int | None = None) -> Listing[T]:
        return cls(list(items[:SHOWN]), max(len(items), total or 0))


@dataclass
class HomeData:
    """What one user's Home tab shows. ``unavailable`` names sections that could not be read."""

    user_id: str
    at: datetime
    kill_switch: bool
    kill_switch_source: str = ""  # "config" or the SSM parameter's name
    refusal: str = ""  # set: the viewer may not see EventOps' state; the tab says why, nothing else
    alerts_by_severity: dict[Severity, int] = field(default_factory=dict)
    alerts: Listing[HomeAlert] = field(default_factory=Listing)
    alerts_window: int = 0  # how many recent alerts were looked at
    approvals: Listing[HomeApproval] = field(default_factory=Listing)
    actions: Listing[HomeAction] = field(default_factory=Listing)
    actions_window: int = 0  # how many recent audit records were looked at
    snoozes: Listing[HomeSnooze] = field(default_factory=Listing)
    maintenance: Listing[HomeWindow] = field(default_factory=Listing)
    unavailable: dict[str, str] = field(default_factory=dict)  # section id → why


def _esc(text: str, limit: int = DETAIL_CHARS) -> str:
    """Escaped, then cut to ``limit`` (``truncate`` never splits an entity)."""
    return bk.truncate(bk.escape(text), limit)


def _label(text: str) -> str:
    return _esc(text, LABEL_CHARS).replace("|", "¦") or "message"


def linked(label: str, where: Where) -> str:
    """``<permalink|label>`` for a Slack permalink, ``label in <#C…>`` for a channel, else ``label``
    (``label`` is raw text: escaped here).

    >>> linked("Port open", Where("https://acme.slack.com/archives/C0OPS/p1700000000000100"))
    '<https://acme.slack.com/archives/C0OPS/p1700000000000100|Port open>'
    >>> linked("<!here>", Where(channel="C0OPS"))
    '&lt;!here&gt; in <#C0OPS>'
    """
    if where.permalink and _PERMALINK_RE.match(where.permalink):
        return f"<{where.permalink.replace('&', '&amp;')}|{_label(label)}>"
    if where.channel and _CHANNEL_RE.match(where.channel):
        return f"{_esc(label, LABEL_CHARS)} in <#{where.channel}>"
    return _esc(label, LABEL_CHARS)


def _mention(user_id: str) -> str:
    return f"<@{user_id}>" if _USER_RE.match(user_id) else bk.escape(user_id)


def _lines(lines: Sequence[str], total: int, empty: str, budget: int) -> str:
    """The lines that fit in ``budget`` characters, then "and N more" for the rest of ``total``
    (the first line always shows)."""
    if not lines:
        return empty
    out: list[str] = []
    used = 0
    for line in lines:
        more = len(f"\n_and {total - len(out)} more_") if total > len(out) + 1 else 0
        if out and used + len(line) + 1 + more > budget:
            break
        out.append(line)
        used += len(line) + 1
    if total > len(out):
        out.append(f"_and {total - len(out)} more_")
    return "\n".join(out)


def _section(block_id: str, title: str, body: str) -> dict[str, Any]:
    block = bk.section(f"*{title}*\n{body}")
    block["block_id"] = f"home-{block_id}"
    return block


def _kill_switch(data: HomeData) -> str:
    source = f" ({bk.escape(data.kill_switch_source)})" if data.kill_switch_source else ""
    if data.kill_switch:
        return f":octagonal_sign: *ON*{source}: remediations are notify-only; no button runs anything."
    return f":large_green_circle: off{source}: remediations can run."


def _approval_line(a: HomeApproval) -> str:
    what = f"Undo of {a.title}" if a.undo else a.title
    resource = f" on `{_esc(a.resource)}`" if a.resource else ""
    expires = f", expires {bk.date_token(a.expires_at)}" if a.expires_at else ""
    return (
        f"{linked(what, a.where)}{resource} · {bk.escape(a.risk)} risk · requested by "
        f"{_esc(a.requester)} · {a.have}/{a.needed} approvals{expires}"
    )


def _alert_lines(data: HomeData, budget: int) -> str:
    counts = "  ".join(
        f"{s.emoji} {s.value.title()} *{data.alerts_by_severity[s]}*"
        for s in Severity
        if data.alerts_by_severity.get(s)
    )
    lines = []
    for a in data.alerts.items:
        repeats = f" · {a.count} events" if a.count > 1 else ""
        lines.append(f"{a.severity.emoji} {linked(a.title, a.where)} · {bk.date_token(a.at)}{repeats}")
    body = _lines(lines, data.alerts.total, "No open alerts. :large_green_circle:", budget - len(counts) - 1)
    return f"{counts}\n{body}" if counts else body


def _action_line(a: HomeAction) -> str:
    resource = f" `{_esc(a.resource)}`" if a.resource else ""
    return f"{bk.date_token(a.at)} · *{_esc(a.outcome)}* {linked(a.action, a.where)}{resource}"


def _snooze_line(s: HomeSnooze) -> str:
    reason = f" — {_esc(s.reason)}" if s.reason else ""
    return f"{linked(s.target, s.where)} until {bk.date_token(s.until)} by {_esc(s.by)}{reason}"


def _window_line(w: HomeWindow) -> str:
    scope = f" ({_esc(w.scope)})" if w.scope else ""
    ends = f" until {bk.date_token(w.ends)}" if w.ends else ""
    reason = f" — {_esc(w.reason)}" if w.reason else ""
    return f"{_esc(w.name, LABEL_CHARS)}{scope}{ends}{reason}"


def _body(data: HomeData, section_id: str, budget: int) -> str:
    """One section's text; a section that could not be read says so."""
    if section_id in data.unavailable:
        return f":warning: Could not be read just now ({bk.escape(data.unavailable[section_id])})."
    if section_id == "kill-switch":
        return _kill_switch(data)
    if section_id == "approvals":
        approvals = [_approval_line(a) for a in data.approvals.items]
        return _lines(approvals, data.approvals.total, "Nothing waits for you.", budget)
    if section_id == "alerts":
        return _alert_lines(data, budget)
    if section_id == "actions":
        return _lines([_action_line(a) for a in data.actions.items], data.actions.total, "None recently.", budget)
    if section_id == "snoozes":
        return _lines([_snooze_line(s) for s in data.snoozes.items], data.snoozes.total, "None.", budget)
    return _lines([_window_line(w) for w in data.maintenance.items], data.maintenance.total, "None.", budget)


TITLES = {
    "kill-switch": "Kill switch",
    "approvals": "Waiting for your approval",
    "alerts": "Open alerts",
    "actions": "Your recent actions",
    "snoozes": "Active snoozes",
    "maintenance": "Maintenance windows",
}


def render_home(data: HomeData) -> dict[str, Any]:
    """The ``home`` view for ``views.publish``."""
    head = [
        bk.header("EventOps"),
        bk.context(f"For {_mention(data.user_id)} · updated {bk.date_token(data.at)} · reopen the tab to refresh"),
    ]
    if data.refusal:
        blocks = [*head, _section("refused", "Not available", bk.escape(data.refusal))]
        return {"type": "home", "blocks": bk.fit(blocks)}
    blocks = [*head, bk.divider()]
    left = LISTS_BUDGET
    for i, section_id in enumerate(SECTION_IDS):
        later = len(SECTION_IDS) - i - 1
        body = _body(data, section_id, min(SECTION_MAX, left - SECTION_FLOOR * later))
        left -= len(body)
        blocks.append(_section(section_id, TITLES[section_id], body))
    footer = (
        f"Open alerts among the last {data.alerts_window} alerts; your actions among the last "
        f"{data.actions_window} audit records. `/ops status`, `/ops audit @you` and `/ops snoozes` show more."
    )
    blocks += [bk.divider(), bk.context(footer)]
    return {"type": "home", "blocks": bk.fit(blocks)}  # about a dozen blocks: far from MAX_VIEW_BLOCKS


# -- the event ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeOpened:
    """One ``app_home_opened`` event on the Home tab: who opened it, from which workspace."""

    actor: Actor


def parse_home_opened(body: Any) -> HomeOpened | str:
    """An Events API ``event_callback`` body → ``HomeOpened``, or why it is not one to answer
    (the Messages tab, a malformed user id). The actor's team is the event's workspace
    (``team_id``; an app's Home tab is only shown inside the workspace it is installed in).

    >>> parse_home_opened({"team_id": "T0A", "event": {"type": "app_home_opened", "user": "U0B", "tab": "home"}})
    HomeOpened(actor=Actor(user_id='U0B', team_id='T0A', enterprise_id=None, user_name=None))
    >>> parse_home_opened({"event": {"type": "app_home_opened", "user": "U0B", "tab": "messages"}})
    'the Messages tab was opened, not Home'
    """
    event = body.get("event") if isinstance(body, dict) else None
    if not isinstance(event, dict):
        return "the event is not an object"
    if event.get("tab", "home") != "home":
        return "the Messages tab was opened, not Home"
    user = event.get("user")
    if not isinstance(user, str) or not _USER_RE.match(user):
        return "the event has no valid user id"
    team, enterprise = body.get("team_id"), body.get("enterprise_id")
    return HomeOpened(
        actor=Actor(
            user_id=user,
            team_id=team if isinstance(team, str) and team else None,
            enterprise_id=enterprise if isinstance(enterprise, str) and enterprise else None,
        )
    )
