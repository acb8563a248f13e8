"""The App Home tab's data: what one user should see when they open EventOps' Home tab.

``app_home_opened`` (``bot.slack.app``) → ``publish_home(rt, opened)`` → ``gather_home`` reads →
``bot.slack.home.render_home`` → ``views.publish`` for that user. It runs inside Slack's 3 s, on
every opening, so it reads cheaply: each store read is one bounded Query page or one
BatchGetItem (``Store.recent_stored_alerts``, ``messages_for``, ``dismissed_among``,
``latest_proposals_in``, ``recent_audit_by``, ``active_snoozes``, ``active_maintenance``), the
kill switch is ``Runtime.kill_switch_on`` (its SSM parameter, cached), and the only other calls
are Slack's: ``chat.getPermalink`` for the items shown (at most ``MAX_PERMALINKS``, and only while
the request has time; else the item names its channel) and ``usergroups.users.list`` (cached)
when the policy names user groups. No other AWS call, no table scan.

What it shows:

- **Waiting for your approval**: HIGH-risk (or any multi-approval) requests, and Undo requests,
  that the viewer may approve now — ``bot.approval.authz.may_approve`` decides, exactly as the
  Approve button would (not the requester, not twice, an approver of that tier, not expired).
- **Open alerts**: the newest alert per problem among the last ``ALERT_WINDOW`` alerts, still
  active, not dismissed and not fixed by a remediation since; counts by severity, the most severe
  first, each linked to its message.
- **Your recent actions**: the viewer's audit records among the newest ``AUDIT_WINDOW``.
- **Active snoozes**, **maintenance windows** (``Store.active_maintenance``) and the
  **kill switch**.

A viewer outside ``policy.teams`` sees one line saying the tab is for the organization only. A
section whose read fails says so; the others still show.

Example::

    view = publish_home(rt, HomeOpened(actor=Actor(user_id="U0ALICE", team_id="T0ACME")))
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from bot.approval.authz import approvals_needed, in_org, may_approve, undo_approvals_needed
from bot.approval.proposal import group_resolver, is_expired, undo_view, valid_approvals
from bot.commands.status import open_problems
from bot.messages import title_of, who
from bot.models import Actor, Alert, AuditEntry, Proposal, ProposalState
from bot.runtime import Runtime
from bot.slack.home import (
    SHOWN,
    HomeAction,
    HomeAlert,
    HomeApproval,
    HomeData,
    HomeOpened,
    HomeSnooze,
    HomeWindow,
    Listing,
    Where,
    render_home,
)
from bot.store import StoredAlert

log = logging.getLogger("eventops.home")

ALERT_WINDOW = 50  # recent alerts looked at (≤ 50 problems: ≤ 100 ids in one BatchGetItem)
PROPOSAL_WINDOW = 100  # newest proposals per state looked at
AUDIT_WINDOW = 200  # newest audit records looked at for the viewer's own
SNOOZE_WINDOW = 100
MAX_PERMALINKS = 25  # chat.getPermalink calls per opening
PUBLISH_RESERVE_S = 1.0  # kept for views.publish: no permalink is asked for with less time left

S = ProposalState


class _Permalinks:
    """``Where`` a message is: its permalink (chat.getPermalink, at most ``MAX_PERMALINKS`` per
    opening and only while ``PUBLISH_RESERVE_S`` is left), else its channel."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.calls = 0
        self.cache: dict[tuple[str, str], Where] = {}

    def where(self, channel: str | None, ts: str | None) -> Where:
        if not channel or not ts:
            return Where(channel=channel or None)
        key = (channel, ts)
        if key not in self.cache:
            if self.calls >= MAX_PERMALINKS or self.rt.seconds_left() < PUBLISH_RESERVE_S:
                return Where(channel=channel)
            self.calls += 1
            try:
                url = self.rt.slack.permalink(channel, ts)
            except Exception as exc:  # noqa: BLE001 - a link is a nicety: the channel stands in
                log.warning("permalink for the Home tab failed: %s", type(exc).__name__)
                url = None
            self.cache[key] = Where(permalink=url, channel=channel)
        return self.cache[key]

    def of_ref(self, ref: str | None) -> Where:
        """An audit record's ``permalink``: a URL, or the ``slack:<channel>/<ts>`` stand-in."""
        if not ref:
            return Where()
        if ref.startswith("slack:") and "/" in ref:
            channel, _, ts = ref.removeprefix("slack:").partition("/")
            return self.where(channel, ts)
        return Where(permalink=ref)


def _kill_source(rt: Runtime) -> str:
    if rt.config.kill_switch:
        return "config: kill_switch"
    name = rt.config.kill_switch_parameter or rt.settings.kill_switch_parameter
    return f"SSM parameter {name}" if name else "no kill_switch_parameter configured"


def _section(data: HomeData, section_id: str, read: Callable[[], None]) -> None:
    """Run one section's reads; a failure marks that section unavailable and nothing else."""
    try:
        read()
    except Exception as exc:  # noqa: BLE001 - one unreadable section must not blank the tab
        log.warning("Home tab of %s: section %s unavailable: %s", data.user_id, section_id, type(exc).__name__)
        data.unavailable[section_id] = type(exc).__name__


def _resource(p: Proposal) -> str:
    return next((str(v) for v in p.params.values() if isinstance(v, str | int) and str(v)), "")


def pending_approvals(rt: Runtime, actor: Actor, proposed: list[Proposal], succeeded: list[Proposal]) -> list[Proposal]:
    """The proposals (changes, then undos) ``actor`` could approve now, as the Approve button
    would judge: requested, not expired, more approvals needed, and ``may_approve``."""
    policy, resolve, now = rt.config.policy, group_resolver(rt), datetime.now(UTC)
    out = [
        p
        for p in proposed
        if p.requester is not None
        and not is_expired(p, now)
        and approvals_needed(policy, p.risk) > 0
        and may_approve(policy, actor, p, p.channel or None, resolve)
    ]
    for p in succeeded:
        undo = p.undo
        if undo is None or undo.queued or undo.closed or p.undo_until is None or now >= p.undo_until:
            continue
        if undo_approvals_needed(policy, p.risk) > 0 and may_approve(
            policy, actor, undo_view(p), p.channel or None, resolve
        ):
            out.append(p)
    return out


def _approval(rt: Runtime, p: Proposal, links: _Permalinks) -> HomeApproval:
    undo = p.state == S.SUCCEEDED
    view = undo_view(p) if undo else p
    policy = rt.config.policy
    needed = undo_approvals_needed(policy, p.risk) if undo else approvals_needed(policy, p.risk)
    return HomeApproval(
        title=title_of(p),
        resource=_resource(p),
        risk=p.risk.value,
        requester=who(view.requester),
        have=len(valid_approvals(rt, view, datetime.now(UTC))),
        needed=needed,
        undo=undo,
        expires_at=p.undo_until if undo else p.expires_at,
        where=links.where(p.channel, p.message_ts),
    )


Found = tuple[Alert, str | None, str | None, int]  # an open problem: alert, channel, ts, events


def open_alerts(rt: Runtime, stored: list[StoredAlert], succeeded: list[Proposal]) -> list[Found]:
    """The open problems among ``stored`` (newest alert per fingerprint, active, not dismissed,
    not fixed by a SUCCEEDED remediation since), most severe first: (alert, the channel and ts
    of its message, how many events it has had)."""
    newest = open_problems([s.alert for s in stored])
    records = rt.store.messages_for([a.fingerprint for a in newest])
    owner = {a.id: (records[a.fingerprint].owner_id if a.fingerprint in records else "") or a.id for a in newest}
    dismissed = rt.store.dismissed_among(list({*owner, *owner.values()}))
    fixed_at: dict[str, datetime] = {}
    for p in succeeded:
        at = p.updated_at or p.created_at
        fixed_at[p.alert_id] = max(at, fixed_at.get(p.alert_id, at))
    by_id = {s.alert.id: s for s in stored}
    out: list[Found] = []
    for a in newest:
        ids = {a.id, owner[a.id]}
        if ids & dismissed or any(i in fixed_at and fixed_at[i] >= a.time for i in ids):
            continue
        rec = records.get(a.fingerprint)
        if rec is not None and rec.has_message:
            out.append((a, rec.channel, rec.ts, rec.count))
        else:
            own = by_id.get(owner[a.id]) or by_id[a.id]
            out.append((a, own.channel, own.ts, rec.count if rec else 1))
    out.sort(key=lambda t: (-t[0].severity.rank, -t[0].time.timestamp()))
    return out


Titles = dict[tuple[str, str], str]  # (channel, ts) of an open alert's message → its title


def _read_alerts(rt: Runtime, data: HomeData, succeeded: list[Proposal], links: _Permalinks, titles: Titles) -> None:
    stored = rt.store.recent_stored_alerts(ALERT_WINDOW)
    data.alerts_window = ALERT_WINDOW
    found = open_alerts(rt, stored, succeeded)
    data.alerts_by_severity = dict(Counter(a.severity for a, *_ in found))
    items = [HomeAlert(a.severity, a.title, a.time, links.where(ch, ts), n) for a, ch, ts, n in found[:SHOWN]]
    data.alerts = Listing.of(items, len(found))
    titles.update({(ch, ts): a.title for a, ch, ts, _ in found if ch and ts})


def _read_actions(rt: Runtime, data: HomeData, links: _Permalinks) -> None:
    entries, total = rt.store.recent_audit_by(data.user_id, SHOWN, AUDIT_WINDOW)
    data.actions_window = AUDIT_WINDOW
    data.actions = Listing.of([_action(e, links) for e in entries], total)


def _action(e: AuditEntry, links: _Permalinks) -> HomeAction:
    return HomeAction(
        at=e.at,
        outcome=e.outcome,
        action=e.remediation or e.action,
        resource=e.resource or "",
        where=links.of_ref(e.permalink),
    )


def _read_snoozes(rt: Runtime, data: HomeData, links: _Permalinks, titles: Titles) -> None:
    snoozes = rt.store.active_snoozes(SNOOZE_WINDOW)
    items = [
        HomeSnooze(
            target=titles.get((s["channel"], s["ts"])) or s["target"],
            until=datetime.fromtimestamp(s["until"], UTC),
            by=who(s["by"]),
            reason=s["reason"],
            where=links.where(s["channel"], s["ts"]),
        )
        for s in snoozes[:SHOWN]
    ]
    data.snoozes = Listing.of(items, len(snoozes))


def _read_maintenance(rt: Runtime, data: HomeData) -> None:
    windows = rt.store.active_maintenance()
    items = [HomeWindow(name=w.id, ends=w.ends_at, scope=w.scope, reason=w.reason) for w in windows[:SHOWN]]
    data.maintenance = Listing.of(items, len(windows))


def gather_home(rt: Runtime, opened: HomeOpened) -> HomeData:
    """Everything ``opened.actor``'s Home tab shows, from bounded reads (module docstring)."""
    actor = opened.actor
    data = HomeData(user_id=actor.user_id, at=datetime.now(UTC), kill_switch=True)
    org = in_org(rt.config.policy, actor)
    if not org:
        data.refusal = f"EventOps shows its state to members of the organization only: {org.reason}."
        return data
    _section(data, "kill-switch", lambda: _read_kill_switch(rt, data))
    links = _Permalinks(rt)
    succeeded: list[Proposal] = []
    titles: Titles = {}

    def approvals() -> None:
        proposed = rt.store.latest_proposals_in(S.PROPOSED, PROPOSAL_WINDOW)
        succeeded[:] = rt.store.latest_proposals_in(S.SUCCEEDED, PROPOSAL_WINDOW)
        pending = pending_approvals(rt, actor, proposed, succeeded)
        data.approvals = Listing.of([_approval(rt, p, links) for p in pending[:SHOWN]], len(pending))

    _section(data, "approvals", approvals)
    _section(data, "alerts", lambda: _read_alerts(rt, data, succeeded, links, titles))
    _section(data, "snoozes", lambda: _read_snoozes(rt, data, links, titles))
    _section(data, "actions", lambda: _read_actions(rt, data, links))
    _section(data, "maintenance", lambda: _read_maintenance(rt, data))
    return data


def _read_kill_switch(rt: Runtime, data: HomeData) -> None:
    data.kill_switch = rt.kill_switch_on()
    data.kill_switch_source = _kill_source(rt)


def publish_home(rt: Runtime, opened: HomeOpened) -> dict[str, object]:
    """Gather, render and ``views.publish`` the viewer's Home tab; returns the view. A failed
    publish is logged and counted (``home_publish_failed``), never raised: Slack gets its 200."""
    view = render_home(gather_home(rt, opened))
    try:
        rt.slack.publish_home(opened.actor.user_id, view)
    except Exception as exc:  # noqa: BLE001 - the user reopens the tab; the request must not fail
        rt.count("home_publish_failed")
        log.warning("views.publish for %s failed: %s", opened.actor.user_id, exc)
    return view
