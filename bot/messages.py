"""Every Slack message about an alert, composed in one place.

The spine (``bot.pipeline``), the click side (``bot.approval``) and ``/ops`` (``bot.commands``)
all build their Slack payloads here, so a button, a status line or an outcome reply reads the
same wherever it comes from. This module sits below all three: it imports the renderer
(``bot.slack.render``), the routing rules (for mentions on a re-render), the remediation catalog
(for titles and plans) and the store through the runtime — never the spine, approval or commands.

Example::

    buttons = alert_buttons(alert.id, proposals)       # remediate…, Acknowledge, Snooze, Dismiss
    refresh_alert_message(rt, alert.id, "⏳ Stop instance — requested by @alice")
    rt.slack.post_reply(channel, ts, outcome_reply(proposal))
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.models import Actor, Alert, Proposal, ProposalState, Risk
from bot.remediations import catalog_order, remediations
from bot.routing import route as route_alert
from bot.runtime import Runtime
from bot.slack import blocks as bk
from bot.slack.blocks import date_token
from bot.slack.render import Button, ConfirmSpec, Menu, render_alert, render_outcome_reply, render_storm_summary
from bot.store.table import STORM_BUCKET_S, StormTally

S = ProposalState
# The proposal states whose button still belongs on the alert message.
OFFERED_STATES = (S.PROPOSED, S.APPROVED)

STATUS_ICON = {
    S.SUCCEEDED: "✅",
    S.NOOP: "➖",
    S.FAILED: "❌",
    S.DENIED: "🚫",
    S.UNDONE: "↩️",
    S.EXPIRED: "⌛",
}


# --- words -------------------------------------------------------------------------------------
def clock(dt: datetime | float | None) -> str:
    """The one time format of status lines and replies: Slack's date token (``bk.date_token``),
    in the reader's time zone, "2024-05-01 10:42 UTC" where Slack cannot format it."""
    if dt is None:
        return "?"
    return date_token(dt)


def who(actor: Actor | None) -> str:
    """``@alice`` for people, ``EventOps (auto)`` for the bot itself."""
    if actor is None:
        return "someone"
    if actor.is_system:
        return actor.user_name or "EventOps (auto)"
    return "@" + (actor.user_name or actor.user_id)


def title_of(p: Proposal) -> str:
    """The remediation's title ("Stop instance"), or its name when the catalog lacks it."""
    rem = remediations.get(p.remediation)
    return rem.title if rem is not None else p.remediation


def plan_text(p: Proposal) -> str:
    """The remediation's plan as one paragraph of sentences ("Would stop i-0abc in eu-west-1.")."""
    rem = remediations[p.remediation]
    return sentences(rem.plan(rem.parse_params(p.params), p.account, p.region))


def sentences(parts: list[str]) -> str:
    """``["Would a", "Would b."]`` → ``"Would a. Would b."``.

    >>> sentences(["Would stop i-0abc in eu-west-1", "Would leave it stopped."])
    'Would stop i-0abc in eu-west-1. Would leave it stopped.'
    """
    return " ".join(s if s.rstrip().endswith((".", "!", "?")) else f"{s.rstrip()}." for s in parts if s.strip())


def button_label(text: str, limit: int = 30) -> str:
    """``text`` cut at a word boundary to fit ``limit`` (a confirm button's 30 characters),
    without a dangling "and", "or" or an open parenthesis.

    >>> button_label("Deactivate access key and revoke older sessions")
    'Deactivate access key'
    >>> button_label("Isolate instance (quarantine security group)")
    'Isolate instance'
    """
    if len(text) <= limit:
        return text
    words = text.split()
    while words and (len(" ".join(words)) > limit or words[-1].lower() in ("and", "or", "the", "to", "of")):
        words.pop()
        if words and "(" in words[-1]:
            words.pop()
    cut = " ".join(w for w in words if "(" not in w) or text[:limit]
    return cut.rstrip(" ,;:")


# --- buttons -----------------------------------------------------------------------------------
def remediation_button(p: Proposal, primary: bool = False) -> Button | None:
    """The button for one offered proposal, with its plan in the confirm dialog (MEDIUM, HIGH):
    ``danger`` when HIGH, ``primary`` when asked (the first other one), plain otherwise."""
    rem = remediations.get(p.remediation)
    if rem is None or p.state not in OFFERED_STATES:
        return None
    confirm = None
    if p.risk in (Risk.MEDIUM, Risk.HIGH):
        note = " Needs two approvers besides you." if p.risk == Risk.HIGH else ""
        confirm = ConfirmSpec(
            title=f"{rem.title}?"[:100], text=plan_text(p) + note, confirm=button_label(rem.title), style="danger"
        )
    style = "danger" if p.risk == Risk.HIGH else ("primary" if primary else None)
    return Button.remediate(p.remediation, p.id, rem.title, confirm=confirm, style=style)


def alert_buttons(alert_id: str, proposals: list[Proposal]) -> list[Button | Menu]:
    """One row: the offered remediations (at most one ``primary``: the first that is not HIGH;
    HIGH ones ``danger``), Acknowledge, one Snooze menu and Dismiss."""
    out: list[Button | Menu] = []
    primary_left = True
    # the catalog's order, as when first posted: a re-render never moves a button (or the primary)
    order = catalog_order(p.remediation for p in proposals)
    for p in sorted(proposals, key=lambda p: order.get(p.remediation, len(order))):
        button = remediation_button(p, primary=primary_left and p.risk != Risk.HIGH)
        if button is not None:
            primary_left = primary_left and button.style != "primary"
            out.append(button)
    return [*out, Button.ack(alert_id), Menu.snooze(alert_id), Button.dismiss(alert_id)]


# --- re-rendering an alert message after repeats and decisions --------------------------------
def refresh_fingerprint_message(rt: Runtime, fingerprint: str, *, patient: bool = True) -> None:
    """Re-render the first message of a fingerprint with its current count (chat.update).
    ``patient=False``: a 429 is not waited out (``SlackPoster.update_message``); the message
    stays dirty for the next refresh."""
    rec = rt.store.get_message(fingerprint)
    if rec is None or not rec.has_message or rec.ts is None:
        return
    _rerender(rt, rec.owner_id, rec.alert_id, rec.channel, rec.ts, rec, patient=patient)
    rt.store.mark_message_updated(fingerprint, dirty=False)


def refresh_alert_message(
    rt: Runtime, alert_id: str, status: str | None = None, *, since: datetime | None = None
) -> None:
    """Re-render an alert's message with its proposals' current state and a status line.

    ``since``: when ``status`` was decided (a queued click's time, ``bot.approval.followups``).
    If one of the alert's proposals changed after that (a remediation ran meanwhile), the newer
    status line on record is kept and only the buttons follow the store. Reads the alert item
    twice (the alert; its proposal ids and status line), its message record and its proposals."""
    stored = rt.store.get_alert(alert_id)
    alert, channel, ts = stored.alert, stored.channel, stored.ts
    if not channel or not ts:
        return
    rec = rt.store.get_message(alert.fingerprint)
    proposals, stored_status = rt.store.alert_message_state(alert_id)
    if status and since is not None and any(p.updated_at > since for p in proposals):
        status = None  # a later decision's line stands
    if status:
        rt.store.set_alert_status(alert_id, status)
    latest_id = rec.alert_id if rec and rec.owner_id == alert_id else alert_id
    latest = alert if latest_id == alert_id else None
    _rerender(rt, alert_id, latest_id, channel, ts, rec, status=status or stored_status, state=(proposals, latest))


def _rerender(
    rt: Runtime,
    owner_id: str,
    latest_id: str,
    channel: str,
    ts: str,
    rec: Any,
    status: str | None = None,
    state: tuple[list[Proposal], Alert | None] | None = None,
    *,
    patient: bool = True,
) -> None:
    """Render the newest event's content with the owner alert's buttons and the counter.
    ``state``: the owner's proposals and the newest alert when the caller has read them already."""
    store = rt.store
    latest = state[1] if state else None
    if latest is None:
        try:
            latest = store.get_alert(latest_id).alert
        except Exception:  # noqa: BLE001 - fall back to the owner's content
            latest = store.get_alert(owner_id).alert
    if state is not None:
        proposals = state[0]
    else:
        proposals, stored_status = store.alert_message_state(owner_id)
        status = stored_status if status is None else status
    route = route_alert(latest, rt.config)
    payload = render_alert(
        latest,
        channel=channel,
        mentions=route.mentions,
        buttons=alert_buttons(owner_id, proposals),
        count=rec.count if rec else 1,
        first_seen=datetime.fromtimestamp(rec.first_seen, UTC) if rec else None,
        last_seen=datetime.fromtimestamp(rec.last_seen, UTC) if rec else None,
        status=status,
        link_hosts=rt.config.link_hosts,
        related=rec.related if rec else 0,
    )
    rt.slack.update_message(channel, ts, payload, patient=patient)


# --- status lines ------------------------------------------------------------------------------
def requested_line(p: Proposal, actor: Actor) -> str:
    return f"⏳ {title_of(p)} — requested by {who(actor)}"


def awaiting_line(p: Proposal, actor: Actor, have: int, needed: int) -> str:
    return f"🔐 {title_of(p)} — requested by {who(actor)}; needs {needed} approvals ({have}/{needed})"


def outcome_line(p: Proposal) -> str:
    icon = STATUS_ICON.get(p.state, "ℹ️")
    return f"{icon} {title_of(p)}: {p.state.value.lower()} — requested by {who(p.requester)}. {p.result or ''}".strip()


# --- thread replies ----------------------------------------------------------------------------
def outcome_reply(p: Proposal) -> dict[str, Any]:
    """The thread reply once a proposal reaches a terminal state (with Undo while it is open)."""
    by = who(p.requester)
    approved = ", approved by " + ", ".join(who(a.actor) for a in p.approvals) if p.approvals else ""
    lines = [
        p.result or "",
        f"Verification: {p.verification}" if p.verification else "",
        f"Requested by {by}{approved}",
        f"Account {p.account or '-'} · region {p.region or '-'}",
        undo_line(p),
        f"Correlation id {p.correlation_id}" if p.correlation_id else "",
    ]
    icon = STATUS_ICON.get(p.state, "ℹ️")
    payload = render_outcome_reply(f"{icon} {title_of(p)}: {p.state.value.lower()}", lines)
    if undo_offered(p):
        payload["blocks"] = [*payload["blocks"], bk.actions([Button.undo(p.id, undo_confirm(p)).to_block()])]
    return payload


def undo_offered(p: Proposal) -> bool:
    """Does the outcome reply carry an Undo button? Only while nobody has asked for one yet."""
    return p.state == S.SUCCEEDED and p.undo_until is not None and p.undo is None


def undo_line(p: Proposal) -> str:
    """The outcome reply's undo line: until when it is offered, who asked for it, or why it is over."""
    if undo_offered(p):
        return f"Undo available until {clock(p.undo_until)}"
    if p.state != S.SUCCEEDED or p.undo is None:
        return ""
    if p.undo.closed:
        return f"Undo: {p.undo.closed}"
    return f"Undo requested by {who(p.undo.requester)} at {clock(p.undo.at)}"


def _target(p: Proposal) -> str:
    return next((str(v) for v in p.params.values() if isinstance(v, str) and v), p.remediation)


def undo_confirm(p: Proposal) -> ConfirmSpec:
    """The Undo button's dialog: what it reverses, and that the change's own rules apply."""
    rules = (
        "HIGH risk: two people other than you must approve the undo, as for the change."
        if p.risk == Risk.HIGH
        else f"{p.risk.value} risk: the same people and approvals as for the change."
    )
    text = f"Reverses {title_of(p)} on {_target(p)} (account {p.account or '-'}, {p.region or '-'}). {rules}"
    return ConfirmSpec(title=f"Undo {title_of(p)}?"[:100], text=text, confirm="Undo", style="danger")


def undo_approval_request(p: Proposal, needed: int, ttl_minutes: int) -> dict[str, Any]:
    """An undo that needs approvals: what it reverses and an Approve undo button (with a dialog)."""
    assert p.undo is not None
    by = who(p.undo.requester)
    lines = [
        f"Reverses {title_of(p)} on {_target(p)} in account {p.account or '-'} · region {p.region or '-'}",
        f"Needs {needed} approvals from people other than {by}, within {ttl_minutes} minutes"
        f" and before the undo window closes at {clock(p.undo_until)}.",
    ]
    payload = render_outcome_reply(f"🔐 Undo of {title_of(p)} requested by {by}", lines)
    confirm = ConfirmSpec(
        title=f"Approve undo of {title_of(p)}?"[:100],
        text=f"Reverses {title_of(p)} on {_target(p)} (account {p.account or '-'}, {p.region or '-'}), as {by} asked.",
        confirm="Approve undo",
        style="danger",
    )
    payload["blocks"] = [*payload["blocks"], bk.actions([Button.approve_undo(p.id, confirm).to_block()])]
    return payload


def undo_status_line(p: Proposal, have: int, needed: int) -> str:
    """The alert message's status while an undo waits for approvals, or once it is queued."""
    assert p.undo is not None
    by = who(p.undo.requester)
    names = ", ".join(who(a.actor) for a in p.undo.approvals)
    if p.undo.queued:
        return f"⏳ Undoing {title_of(p)} — requested by {by}" + (f", approved by {names}" if names else "")
    return f"🔐 Undo of {title_of(p)} requested by {by}; needs {needed} approvals ({have}/{needed})"


def undo_reply(message: str, actor: Actor) -> dict[str, Any]:
    """The thread reply when an undo was refused or failed."""
    return render_outcome_reply(f"↩️ {message}", [f"By {who(actor)}"])


def approval_request(p: Proposal, dry_run: str, needed: int, ttl_minutes: int) -> dict[str, Any]:
    """HIGH risk: the plan, the dry run's answer and an Approve button (a confirm dialog with the plan)."""
    rem = remediations[p.remediation]
    plan = rem.plan(rem.parse_params(p.params), p.account, p.region)
    lines = [
        *plan,
        f"Dry run: {dry_run}",
        f"Needs {needed} approvals from people other than {who(p.requester)}, within {ttl_minutes} minutes.",
    ]
    payload = render_outcome_reply(f"🔐 {rem.title} requested by {who(p.requester)}", lines)
    confirm = ConfirmSpec(
        title=f"Approve {rem.title}?"[:100],
        text=" ".join(plan) + f" Dry run: {dry_run}",
        confirm="Approve",
        style="danger",
    )
    approve = Button("Approve", "eventops:approve", p.id, "primary", confirm)
    payload["blocks"] = [*payload["blocks"], bk.actions([approve.to_block()])]
    return payload


def manual_request(p: Proposal, actor: Actor, slash: str = "/ops") -> dict[str, Any]:
    """The channel message that ``/ops run`` posts: its thread carries approvals and outcomes."""
    lines = [plan_text(p), f"Account {p.account or '-'} · region {p.region or '-'}", f"Proposal {p.id}"]
    return render_outcome_reply(f"🛠️ {title_of(p)} ({p.risk.value} risk) — {slash} run by {who(actor)}", lines)


# --- storm summaries ----------------------------------------------------------------------------
def storm_summary(
    rt: Runtime, channel: str, bucket: int, tally: StormTally, examples: list[str] | None = None
) -> dict[str, Any]:
    """The storm bucket's summary as it stands: counts, example titles (stored with the first
    post), who acknowledged it, until when it is snoozed, and its Acknowledge all / Snooze all…."""
    store = rt.store
    acked = store.acked_by(storm_ack_key(channel, bucket))
    return render_storm_summary(
        channel,
        tally.by_severity,
        tally.total,
        datetime.fromtimestamp(bucket * STORM_BUCKET_S, UTC),
        examples if examples is not None else store.storm_examples(channel, bucket),
        storm=f"{bucket} {channel}",
        held=tally.held,
        acked_by=who(acked) if acked else None,
        snoozed_until=store.snoozed_until(storm_snooze_target(channel)),
    )


def storm_ack_key(channel: str, bucket: int) -> str:
    """Where Acknowledge all is claimed (``claim_ack``/``acked_by``), one per storm bucket."""
    return f"storm:{bucket}:{channel}"


def storm_snooze_target(channel: str) -> str:
    """The snooze Snooze all… sets: the channel's storm, whatever bucket it runs into."""
    return f"storm:{channel}"
