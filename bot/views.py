"""Modal submissions (``view_submission``) → the same decisions as the buttons and ``/ops run``.

Within Slack's 3 s: unseal the form's ``private_metadata`` (``bot.slack.modals.unseal``; a form
that is not ours, was altered, expired, or is submitted by someone other than the person it was
opened for changes nothing), validate the values (a bad one keeps the modal open with a field
error: ``{"response_action": "errors", "errors": {block_id: message}}``), then hand over to the
code a click or a complete ``/ops run`` goes through, which re-reads the alert or proposal from
the store and re-authorizes the submitting user:

- ``dismiss`` → ``clicks.dismiss_alert`` (reason into the audit record and the write-back);
- ``snooze`` → ``clicks.snooze_alert`` (custom duration, at most ``policy.triage.max_snooze_hours``);
- ``run`` → ``commands.run.propose_and_request`` (authorization, risk tier, approvals).

Example::

    ack_body = handle_view(rt, parse_view(body))   # None: close the modal
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from bot.approval.authz import may_act, snooze_refusal
from bot.approval.clicks import DismissReason, dismiss_alert, snooze_alert
from bot.approval.proposal import policy_of
from bot.aws import remediation_refusal
from bot.commands.forms import params_from_form
from bot.commands.output import message
from bot.commands.run import propose_and_request
from bot.remediations import remediations
from bot.runtime import Runtime
from bot.slack.modals import (
    CALLBACK_DISMISS,
    CALLBACK_RUN,
    CALLBACK_SNOOZE,
    DISMISS_REASONS,
    NOTE_MAX,
    SNOOZE_UNITS,
    errors_ack,
    notice_view,
    unseal,
    update_ack,
)
from bot.slack.payloads import ActionRequest, ViewRequest

log = logging.getLogger("eventops.views")

Ack = dict[str, Any] | None


def handle_view(rt: Runtime, view: ViewRequest) -> Ack:
    """The ack body for one modal submission (None closes the modal). Never raises."""
    handlers: dict[str, Callable[[Runtime, ViewRequest, dict[str, Any]], Ack]] = {
        CALLBACK_DISMISS: _dismiss,
        CALLBACK_SNOOZE: _snooze,
        CALLBACK_RUN: _run,
    }
    fn = handlers.get(view.callback_id)
    if fn is None:
        log.warning("ignoring a submission of modal %r: not one EventOps opens", view.callback_id[:80])
        return None
    meta = unseal(rt.secrets.signing_secret, view.private_metadata)
    if meta is None or meta.get("user") != view.actor.user_id or meta.get("kind") != view.callback_id.rsplit(":", 1)[1]:
        log.warning("refusing a %s submission by %s: its form state is not valid", view.callback_id, view.actor.user_id)
        rt.count("view_refused")
        return update_ack(
            notice_view("Not submitted", "This form is no longer valid (expired or not yours); nothing was changed.")
        )
    try:
        return fn(rt, view, meta)
    except Exception as exc:  # the person hears about it; the log has the trace
        log.exception("handling the %s form failed", view.callback_id)
        rt.count("view_failed")
        return update_ack(
            notice_view("Something went wrong", f"That failed ({type(exc).__name__}); see the bot's log.")
        )


def _as_click(view: ViewRequest, meta: dict[str, Any], kind: str, value: str) -> ActionRequest:
    """The submission as the click that opened the form (sealed channel and message; the target
    is re-read from the store by whoever takes it)."""
    return ActionRequest(
        kind=kind,
        arg="",
        action_id=f"eventops:{kind}",
        value=value,
        actor=view.actor,
        channel=str(meta.get("channel") or ""),
        message_ts=str(meta.get("ts") or "") or None,
        action_ts=f"{time.time():.6f}.{uuid.uuid4().hex[:6]}",
    )


def _text(view: ViewRequest, key: str) -> str:
    value = view.values.get(key)
    return value.strip() if isinstance(value, str) else ""


def _dismiss(rt: Runtime, view: ViewRequest, meta: dict[str, Any]) -> Ack:
    code, note = _text(view, "reason"), _text(view, "note")
    errors = {}
    if code not in DISMISS_REASONS:
        errors["reason"] = "Pick why this is not a problem."
    if len(note) > NOTE_MAX:
        errors["note"] = f"At most {NOTE_MAX} characters."
    if errors:
        return errors_ack(errors)
    dismiss_alert(rt, _as_click(view, meta, "dismiss", str(meta.get("alert") or "")), DismissReason(code, note))
    return None


def snooze_seconds(amount: str, unit: str) -> tuple[int, str] | str:
    """(seconds, label like ``90m``) for the Snooze form's values, or what is wrong with them.

    >>> snooze_seconds("90", "minutes")
    (5400, '90m')
    >>> snooze_seconds("two", "hours")
    'Enter a whole number, 1 or more.'
    """
    if not amount.isascii() or not amount.isdigit() or int(amount) < 1 or len(amount) > 6:
        return "Enter a whole number, 1 or more."
    if unit not in SNOOZE_UNITS:
        return "Pick minutes, hours or days."
    return int(amount) * SNOOZE_UNITS[unit][1], f"{int(amount)}{unit[0]}"


def _snooze(rt: Runtime, view: ViewRequest, meta: dict[str, Any]) -> Ack:
    parsed = snooze_seconds(_text(view, "amount"), _text(view, "unit") or "hours")
    reason = _text(view, "reason")
    if isinstance(parsed, str):
        return errors_ack({"amount": parsed})
    seconds, label = parsed
    too_long = snooze_refusal(policy_of(rt), seconds)
    if too_long:
        return errors_ack({"amount": too_long[:1].upper() + too_long[1:] + "."})
    if len(reason) > NOTE_MAX:
        return errors_ack({"reason": f"At most {NOTE_MAX} characters."})
    snooze_alert(rt, _as_click(view, meta, "snooze", str(meta.get("alert") or "")), seconds, label, reason)
    return None


def _run(rt: Runtime, view: ViewRequest, meta: dict[str, Any]) -> Ack:
    """The form of ``/ops run``: validate, re-authorize, then exactly what the command does."""
    rem = remediations.get(str(meta.get("rem") or ""))
    channel, account, region = str(meta.get("channel") or ""), str(meta.get("account")), str(meta.get("region"))
    if rem is None:
        return update_ack(notice_view("Not submitted", "That remediation no longer exists; nothing was changed."))
    parsed, errors = params_from_form(rem, view.values)
    if errors:
        return errors_ack(errors)
    refusal = remediation_refusal(list(rt.config.accounts), account)
    verdict = may_act(policy_of(rt), view.actor, rem.risk, channel)
    if refusal or not verdict:
        reason = refusal or verdict.reason
        return update_ack(notice_view("Not allowed", f"You may not run {rem.name} ({rem.risk.value} risk): {reason}."))
    text = propose_and_request(rt, rem, parsed, account, region, view.actor, channel)
    try:
        rt.slack.post_ephemeral(channel, view.actor.user_id, {"text": text, "blocks": message(text).blocks})
    except Exception as exc:  # noqa: BLE001 - the request stands; the note is best effort
        log.warning("telling %s about their /ops run failed: %s", view.actor.user_id, type(exc).__name__)
    return None
