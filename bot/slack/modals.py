"""Modals (``views.open``) and their submissions: pure Block Kit and a sealed state token. No I/O.

Three forms: **Dismiss** (why: false positive / accepted risk / fixed elsewhere, and a note),
**Snooze** (a custom duration and a reason) and the **parameters of a remediation** for an
``/ops run`` that did not give them all (``FormField`` per parameter, built by the caller from
the remediation's pydantic model). Every input block's ``block_id`` equals its element's
``action_id`` (the field name), so a validation error maps straight onto the field that caused
it in the ack's ``{"response_action": "errors", "errors": {block_id: message}}``.

``private_metadata`` comes back from the client on submission, so it is *sealed*: an HMAC over
what the modal is about (kind, target id, who opened it, where) with the signing secret, and an
expiry. ``unseal`` refuses anything else; callers still re-read the alert or proposal from the
store and re-authorize the submitting user — the token only says which record the form is for.

Example::

    meta = seal(secret, {"kind": "dismiss", "alert": "a-1", "user": "U1", "channel": "C1", "ts": "1.2"})
    view = dismiss_view("Port 22 open to the world", meta)     # → views.open
    unseal(secret, meta)["alert"]                              # "a-1"
    errors_ack({"amount": "Enter a whole number of hours"})    # the view_submission ack
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.slack import blocks as bk

CALLBACK_PREFIX = "eventops:modal:"
CALLBACK_DISMISS = CALLBACK_PREFIX + "dismiss"
CALLBACK_SNOOZE = CALLBACK_PREFIX + "snooze"
CALLBACK_RUN = CALLBACK_PREFIX + "run"
SEAL_TTL_S = 6 * 3600  # a modal left open longer than this is refused on submission

# Dismiss reasons: code → what the person picks.
DISMISS_REASONS: dict[str, str] = {
    "false_positive": "False positive",
    "accepted_risk": "Accepted risk",
    "fixed_elsewhere": "Fixed elsewhere",
}
SNOOZE_UNITS: dict[str, tuple[str, int]] = {
    "minutes": ("minutes", 60),
    "hours": ("hours", 3600),
    "days": ("days", 86400),
}
NOTE_MAX = 500
TITLE_MAX = 24


def seal(secret: str, data: dict[str, Any], *, now: float | None = None) -> str:
    """``data`` + an expiry, as a compact signed token for ``private_metadata``.

    >>> token = seal("s", {"kind": "dismiss", "alert": "a-1"}, now=100.0)
    >>> unseal("s", token, now=200.0)["alert"]
    'a-1'
    >>> unseal("other secret", token, now=200.0) is None
    True
    """
    body = {**data, "exp": int((now or time.time()) + SEAL_TTL_S)}
    raw = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":"), sort_keys=True).encode()).decode()
    return f"{raw}.{_mac(secret, raw)}"


def unseal(secret: str, token: str, *, now: float | None = None) -> dict[str, Any] | None:
    """The sealed data, or None when the token is not ours, was altered, or has expired."""
    raw, _, mac = (token or "").partition(".")
    if not raw or not hmac.compare_digest(mac, _mac(secret, raw)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("exp"), int) or data["exp"] < (now or time.time()):
        return None
    return data


def _mac(secret: str, raw: str) -> str:
    key = hashlib.sha256(b"eventops-modal:" + secret.encode()).digest()  # not the request-signing key itself
    return hmac.new(key, raw.encode(), hashlib.sha256).hexdigest()[:40]


def errors_ack(errors: dict[str, str]) -> dict[str, Any]:
    """The view_submission ack that keeps the modal open and shows ``errors`` under their fields."""
    return {"response_action": "errors", "errors": {k: bk.truncate(v, 300) for k, v in errors.items()}}


# --- building blocks -----------------------------------------------------------------------------


def _text(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": bk.truncate(bk.strip_control(text), limit) or " ", "emoji": True}


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": _text(label), "value": value[:150]}


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str = ""
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": _text(label, 2000),
        "element": {**element, "action_id": block_id},
        "optional": optional,
    }
    if hint:
        block["hint"] = _text(hint, 2000)
    return block


def _modal(title: str, submit: str, callback_id: str, meta: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": _text(title, TITLE_MAX),
        "submit": _text(submit, TITLE_MAX),
        "close": _text("Cancel", TITLE_MAX),
        "private_metadata": meta,
        "blocks": blocks,
    }


def _about(title: str) -> dict[str, Any]:
    return bk.section(f"*{bk.escape(bk.truncate(title, 500))}*")


def dismiss_view(alert_title: str, meta: str) -> dict[str, Any]:
    """Why dismiss: a radio choice of ``DISMISS_REASONS`` and an optional note."""
    reasons = [_option(code, label) for code, label in DISMISS_REASONS.items()]
    return _modal(
        "Dismiss alert",
        "Dismiss",
        CALLBACK_DISMISS,
        meta,
        [
            _about(alert_title),
            _input("reason", "Why is this not a problem?", {"type": "radio_buttons", "options": reasons}),
            _input(
                "note",
                "Details",
                {"type": "plain_text_input", "multiline": True, "max_length": NOTE_MAX},
                optional=True,
                hint="Goes into the audit record and, where the source supports it, into the finding's note.",
            ),
        ],
    )


def snooze_view(alert_title: str, meta: str, max_hours: float) -> dict[str, Any]:
    """How long (a number and a unit, at most ``max_hours``) and why."""
    units = [_option(code, label) for code, (label, _) in SNOOZE_UNITS.items()]
    return _modal(
        "Snooze alert",
        "Snooze",
        CALLBACK_SNOOZE,
        meta,
        [
            _about(alert_title),
            _input(
                "amount",
                "For how long?",
                {"type": "number_input", "is_decimal_allowed": False, "min_value": "1", "initial_value": "2"},
                hint=f"At most {max_hours:g} hours (policy.triage.max_snooze_hours).",
            ),
            _input("unit", "Unit", {"type": "static_select", "options": units, "initial_option": units[1]}),
            _input("reason", "Why?", {"type": "plain_text_input", "max_length": NOTE_MAX}, optional=True),
        ],
    )


@dataclass(frozen=True)
class FormField:
    """One parameter of a form: ``kind`` is ``text``, ``number`` (``decimal`` or whole) or
    ``select`` (``choices``); ``initial`` is the default or the value already given."""

    name: str
    label: str
    kind: str = "text"
    required: bool = True
    initial: str | None = None
    choices: Sequence[str] = field(default_factory=tuple)
    decimal: bool = False
    hint: str = ""

    def element(self) -> dict[str, Any]:
        if self.kind == "select":
            options = [_option(c, c) for c in self.choices][:100]
            el: dict[str, Any] = {"type": "static_select", "options": options}
            chosen = next((o for o in options if o["value"] == self.initial), None)
            if chosen:
                el["initial_option"] = chosen
            return el
        if self.kind == "number":
            el = {"type": "number_input", "is_decimal_allowed": self.decimal}
        else:
            el = {"type": "plain_text_input", "max_length": 3000}
        if self.initial not in (None, ""):
            el["initial_value"] = str(self.initial)[:3000]
        return el


def params_view(title: str, summary: str, fields: Sequence[FormField], meta: str) -> dict[str, Any]:
    """The form of a remediation's parameters (``/ops run`` without all of them)."""
    blocks = [bk.section(bk.escape(bk.truncate(summary, 2900)))]
    for f in fields[:90]:
        blocks.append(_input(f.name, f.label, f.element(), optional=not f.required, hint=f.hint))
    return _modal(title, "Run", CALLBACK_RUN, meta, blocks)


def notice_view(title: str, text: str) -> dict[str, Any]:
    """A modal with nothing to submit: what the ack's ``response_action: update`` shows instead of
    a form that can no longer be acted on."""
    return {
        "type": "modal",
        "title": _text(title, TITLE_MAX),
        "close": _text("Close", TITLE_MAX),
        "blocks": [bk.section(bk.escape(text))],
    }


def update_ack(view: dict[str, Any]) -> dict[str, Any]:
    return {"response_action": "update", "view": view}
