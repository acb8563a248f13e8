"""Slack's side of a modal: what a person's answers in an open view become on submission.

The fake records every ``views.open`` (``SlackFake.open_views``); ``submission_payload`` turns a
recorded view and the person's answers (``{block_id: text or chosen option value}``) into the
``view_submission`` payload Slack would POST, with ``view.state.values`` shaped per element
type (``value`` for text and number inputs, ``selected_option`` for selects and radio buttons).
``apply_ack`` does what Slack does with the app's answer: field errors keep the view open,
``update`` replaces it, anything else closes it.

Example::

    view = fake.open_views("U0ALICE")[0]
    payload = submission_payload(fake.workspace, view, {"reason": "false_positive", "note": "test box"})
    apply_ack(fake.workspace, view, '{"response_action": "errors", "errors": {"reason": "Pick one"}}')
"""

from __future__ import annotations

import json
import time
from typing import Any

from bot.sandbox.slack_fake import Workspace

SELECTS = ("static_select", "radio_buttons")


def _element_state(element: dict[str, Any], answer: str | None) -> dict[str, Any]:
    kind = element.get("type", "plain_text_input")
    if kind in SELECTS:
        options = element.get("options") or []
        chosen = next((o for o in options if o.get("value") == answer), None)
        return {"type": kind, "selected_option": chosen}
    return {"type": kind, "value": answer if answer not in (None, "") else None}


def state_values(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """``view.state.values`` for ``answers``; an input left unanswered keeps its initial value."""
    values: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element = block.get("element") or {}
        bid, aid = block["block_id"], element.get("action_id")
        if bid in answers:
            answer = answers[bid]
        elif element.get("type") in SELECTS:
            answer = (element.get("initial_option") or {}).get("value")
        else:
            answer = element.get("initial_value")
        values[bid] = {aid: _element_state(element, None if answer is None else str(answer))}
    return values


def submission_payload(ws: Workspace, view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """The ``view_submission`` payload Slack sends when ``view``'s person presses its submit button."""
    user = ws.users.get(view["user"]) or {"id": view["user"], "name": view["user"], "team_id": ws.team_id}
    shown = {k: v for k, v in view.items() if k not in ("user", "open", "errors", "trigger_id")}
    shown["state"] = {"values": state_values(view, answers)}
    return {
        "type": "view_submission",
        "team": {"id": ws.team_id, "domain": ws.team},
        "user": {"id": user["id"], "username": user["name"], "name": user["name"], "team_id": user["team_id"]},
        "api_app_id": "A0EVENTOPS",
        "token": "sandbox-verification-token",
        "trigger_id": f"{int(time.time())}.0.{view['id'].lower()}",
        "view": shown,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def apply_ack(ws: Workspace, view: dict[str, Any], status: int, body: str) -> dict[str, Any]:
    """What Slack does with the app's ack to a submission; returns ``{"closed", "errors"}``."""
    try:
        ack = json.loads(body) if body.strip() else {}
    except ValueError:
        ack = {}
    with ws.lock:
        if status != 200:
            view["errors"] = {"": f"We had some trouble connecting (HTTP {status}). Try again?"}
        elif ack.get("response_action") == "errors" and isinstance(ack.get("errors"), dict):
            view["errors"] = dict(ack["errors"])
        elif ack.get("response_action") == "update" and isinstance(ack.get("view"), dict):
            keep = {k: view[k] for k in ("id", "user", "trigger_id")}
            view.clear()
            view.update({**ack["view"], **keep, "open": True, "errors": {}})
        else:
            view["open"] = False
            view["errors"] = {}
        return {"closed": not view["open"], "errors": view["errors"]}


def close(ws: Workspace, view: dict[str, Any]) -> None:
    """The person pressed Cancel (Slack sends view_closed only when the app asked; EventOps does not)."""
    with ws.lock:
        view["open"] = False
