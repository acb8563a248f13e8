"""Slack request bodies → plain data. No I/O, no boto3, no Bolt.

Everything past ``bot/slack`` reads these dataclasses, never Slack's JSON, so the rules about
who a Slack user *is* live in one place. The one subtle rule: the actor's team is the user's
own team (``user.team_id``), not the workspace the click happened in (``team.id``). In a Slack
Connect channel an outsider clicks "in" our workspace but belongs to theirs, and
``bot.approval.authz`` refuses any team not in ``policy.teams``. On Enterprise Grid
``user.team_id`` holds the organization id (``E…``); then the workspace's team id is used and
the enterprise is checked instead.

Example::

    click = parse_action(body)          # a block_actions body, as Bolt hands it over
    click.kind, click.value             # ("remediate", "p-123")
    click.actor.user_id, click.channel  # ("U0ALICE", "C0ALERTS")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.models import Actor

ACTION_PREFIX = "eventops:"
# The callback_id of the "Explain with EventOps" message shortcut (the manifest declares it).
EXPLAIN_SHORTCUT_ID = "eventops_explain"
# action_id → kind; the suffix after the kind (remediation name, snooze duration) is ``arg``.
ACTION_KINDS = (
    "remediate",
    "ack",
    "snooze",
    "dismiss",
    "undo",
    "approve",
    "approve-undo",
    "storm-ack",  # a storm summary's Acknowledge all; value = "<bucket> <channel>"
    "storm-snooze",  # its Snooze all… menu; option value = "<duration> <bucket> <channel>"
)
# The kinds whose button value is a proposal id (ack, snooze and dismiss carry the alert's).
PROPOSAL_ACTIONS = ("remediate", "undo", "approve", "approve-undo")


@dataclass(frozen=True)
class ActionRequest:
    """One button click.

    ``kind`` is one of ``ACTION_KINDS`` (or ``"unknown"``), ``arg`` the rest of the action id
    (``ec2.stop-instance`` for ``eventops:remediate:ec2.stop-instance``, ``4h`` for a snooze),
    ``value`` the button's opaque id. ``action_ts`` identifies the click: a retried delivery
    of the same click carries the same one.
    """

    kind: str
    arg: str
    action_id: str
    value: str
    actor: Actor
    channel: str
    message_ts: str | None
    thread_ts: str | None = None
    action_ts: str = ""
    response_url: str | None = None
    trigger_id: str | None = None
    workspace_team_id: str | None = None

    @property
    def click_id(self) -> str:
        """Stable per click (same across Slack retries and concurrent deliveries)."""
        return f"{self.actor.user_id}:{self.action_ts or self.message_ts or ''}"


@dataclass(frozen=True)
class CommandRequest:
    """One slash command (``/ops …``)."""

    command: str
    text: str
    actor: Actor
    channel: str
    response_url: str | None = None
    trigger_id: str | None = None


@dataclass(frozen=True)
class ViewRequest:
    """A modal submission: its ``callback_id``, ``private_metadata`` and input values."""

    callback_id: str
    private_metadata: str
    values: dict[str, Any]
    actor: Actor


@dataclass
class CommandReply:
    """What a command listener answers in its ack; ``public`` posts it in the channel."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    public: bool = False

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"response_type": "in_channel" if self.public else "ephemeral", "text": self.text}
        if self.blocks:
            out["blocks"] = self.blocks
        return out


@dataclass
class OptionsReply:
    options: list[dict[str, Any]] = field(default_factory=list)


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def actor_from(body: dict[str, Any]) -> Actor:
    """The Slack identity behind an interaction body (block_actions, view_submission, options).

    ``user.team_id`` is the clicker's own team: in a Slack Connect channel it is the other
    company's workspace, while ``team.id`` is the workspace the message lives in, so ``team.id``
    never stands in for a missing ``user.team_id`` (no team: nobody ``policy.teams`` trusts). An
    Enterprise Grid member of an org-wide install may carry the org id (``E…``) there instead;
    it is kept as it is and trusted only when it is the configured ``policy.enterprise_id``
    (``bot.approval.authz.in_org``).

    >>> actor_from({"user": {"id": "U1", "team_id": "T1", "username": "alice"}, "team": {"id": "T1"}}).team_id
    'T1'
    >>> actor_from({"user": {"id": "U2", "team_id": "T9"}, "team": {"id": "T1"}}).team_id  # Slack Connect
    'T9'
    >>> actor_from({"user": {"id": "U3"}, "team": {"id": "T1"}}).team_id is None
    True
    """
    user = body.get("user") or {}
    team = body.get("team") or {}
    enterprise = _str((body.get("enterprise") or {}).get("id")) or _str(team.get("enterprise_id"))
    user_team = _str(user.get("team_id"))
    if user_team and user_team.startswith("E"):
        enterprise = user_team  # the user's org, whatever org the workspace belongs to
    return Actor(
        user_id=str(user.get("id") or ""),
        team_id=user_team,
        enterprise_id=enterprise,
        user_name=_str(user.get("username")) or _str(user.get("name")),
    )


def parse_action(body: dict[str, Any], action: dict[str, Any] | None = None) -> ActionRequest:
    """A ``block_actions`` body (its first action, or ``action``) → ``ActionRequest``.

    >>> body = {"type": "block_actions", "user": {"id": "U1", "team_id": "T1"}, "team": {"id": "T1"},
    ...         "channel": {"id": "C1"}, "container": {"message_ts": "1.2"},
    ...         "actions": [{"action_id": "eventops:snooze:4h", "value": "a-1", "action_ts": "9.9"}]}
    >>> r = parse_action(body); (r.kind, r.arg, r.value, r.channel, r.message_ts)
    ('snooze', '4h', 'a-1', 'C1', '1.2')
    >>> body["actions"] = [{"action_id": "eventops:snooze", "type": "static_select",
    ...                     "selected_option": {"value": "24h a-1"}, "action_ts": "9.9"}]
    >>> r = parse_action(body); (r.kind, r.arg, r.value)
    ('snooze', '24h', 'a-1')
    """
    if action is None:
        actions = body.get("actions") or [{}]
        action = actions[0] if isinstance(actions[0], dict) else {}
    action_id = str(action.get("action_id") or "")
    kind, arg = "unknown", ""
    if action_id.startswith(ACTION_PREFIX):
        rest = action_id[len(ACTION_PREFIX) :]
        head, _, tail = rest.partition(":")
        if head in ACTION_KINDS:
            kind, arg = head, tail
    value = str(action.get("value") or "")
    selected = action.get("selected_option")
    if isinstance(selected, dict) and isinstance(selected.get("value"), str):
        value = selected["value"]  # a select menu: the chosen option's value
        if kind in ("snooze", "storm-snooze") and not arg:  # "4h a-1": the duration, then the id
            arg, _, value = value.partition(" ")
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = _str((body.get("channel") or {}).get("id")) or _str(container.get("channel_id")) or ""
    return ActionRequest(
        kind=kind,
        arg=arg,
        action_id=action_id,
        value=value,
        actor=actor_from(body),
        channel=channel,
        message_ts=_str(container.get("message_ts")) or _str(message.get("ts")),
        thread_ts=_str(container.get("thread_ts")) or _str(message.get("thread_ts")),
        action_ts=str(action.get("action_ts") or ""),
        response_url=_str(body.get("response_url")),
        trigger_id=_str(body.get("trigger_id")),
        workspace_team_id=_str((body.get("team") or {}).get("id")),
    )


@dataclass(frozen=True)
class ShortcutRequest:
    """A message shortcut ("Explain with EventOps" in a message's ⋯ menu): who, on which message."""

    callback_id: str
    actor: Actor
    channel: str
    message_ts: str
    response_url: str | None = None


def parse_message_shortcut(body: dict[str, Any]) -> ShortcutRequest:
    """A ``message_action`` body → ``ShortcutRequest`` (empty strings where Slack sent nothing).

    >>> r = parse_message_shortcut({"type": "message_action", "callback_id": "eventops_explain",
    ...     "user": {"id": "U1", "team_id": "T1"}, "team": {"id": "T1"}, "channel": {"id": "C1"},
    ...     "message_ts": "1.2", "message": {"ts": "1.2", "text": "hi"}})
    >>> (r.callback_id, r.actor.user_id, r.channel, r.message_ts)
    ('eventops_explain', 'U1', 'C1', '1.2')
    """
    message = body.get("message") or {}
    return ShortcutRequest(
        callback_id=str(body.get("callback_id") or ""),
        actor=actor_from(body),
        channel=_str((body.get("channel") or {}).get("id")) or "",
        message_ts=_str(body.get("message_ts")) or _str(message.get("ts")) or "",
        response_url=_str(body.get("response_url")),
    )


def parse_command(body: dict[str, Any]) -> CommandRequest:
    """A slash command form body → ``CommandRequest``.

    Slash commands carry only the workspace's ``team_id``; an outsider in a Slack Connect
    channel cannot run our slash command there (Slack routes it to their own apps).

    >>> parse_command({"command": "/ops", "text": "help", "user_id": "U1", "team_id": "T1",
    ...                "channel_id": "C1"}).actor.team_id
    'T1'
    """
    return CommandRequest(
        command=str(body.get("command") or ""),
        text=str(body.get("text") or ""),
        actor=Actor(
            user_id=str(body.get("user_id") or ""),
            team_id=_str(body.get("team_id")),
            enterprise_id=_str(body.get("enterprise_id")),
            user_name=_str(body.get("user_name")),
        ),
        channel=str(body.get("channel_id") or ""),
        response_url=_str(body.get("response_url")),
        trigger_id=_str(body.get("trigger_id")),
    )


def parse_view(body: dict[str, Any]) -> ViewRequest:
    """A ``view_submission`` body → ``ViewRequest`` with values flattened to ``{action_id: value}``."""
    view = body.get("view") or {}
    values: dict[str, Any] = {}
    for block in ((view.get("state") or {}).get("values") or {}).values():
        for action_id, element in (block or {}).items():
            if not isinstance(element, dict):
                continue
            if "value" in element:
                values[action_id] = element["value"]
            elif "selected_option" in element:
                values[action_id] = (element["selected_option"] or {}).get("value")
            else:
                values[action_id] = element
    return ViewRequest(
        callback_id=str(view.get("callback_id") or ""),
        private_metadata=str(view.get("private_metadata") or ""),
        values=values,
        actor=actor_from(body),
    )


def payload_problem(payload: object) -> str | None:
    """Why a (signed) interactivity payload is not one Slack sends, or None when it is.

    One check for every way a payload arrives (the Lambda front door, Socket Mode through Bolt):
    Bolt's own listener matchers index into these fields (``body["actions"][0]``) and would
    answer 500 on a malformed one.
    """
    if not isinstance(payload, dict):
        return "the payload is not an object"
    for key in ("user", "team", "enterprise", "channel", "container", "view", "message"):
        if payload.get(key) is not None and not isinstance(payload[key], dict):
            return f"payload field {key!r} has the wrong type"
    for key in ("callback_id", "trigger_id", "response_url", "api_app_id", "message_ts"):
        if payload.get(key) is not None and not isinstance(payload[key], str):
            return f"payload field {key!r} is not a string"
    kind = payload.get("type")
    if kind in ("block_actions", "interactive_message"):
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
            return f"{kind} without actions"
        for action in actions:
            for key in ("action_id", "block_id", "name", "value", "type"):
                if action.get(key) is not None and not isinstance(action[key], str):
                    return f"an action's {key!r} is not a string"
    return None
