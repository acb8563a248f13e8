"""Hypothesis strategies shared by the handler fuzz tests: hostile text, random JSON, mutated
real events, Slack payloads."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

EVENTS = Path(__file__).resolve().parents[1] / "events"
SAMPLES = [json.loads(p.read_text()) for p in sorted(EVENTS.glob("*.json"))]
BAD_SAMPLES = [p.read_text() for p in sorted((EVENTS / "bad").glob("*.json"))]

# Slack mention / link syntax that must never reach a channel from event text (docs/reliability.md #11).
INJECTIONS = ["<!channel>", "<!here>", "<!everyone>", "<@U0ALICE>", "<!subteam^S0SEC>", "<http://evil.example|x>"]
NASTY = [
    *INJECTIONS,
    "",
    " ",
    "\x00",
    "\u202egnp.exe",  # right-to-left override
    "🔥" * 500,
    "a" * 50_000,
    "*bold* _it_ ~s~ `c` ```pre```",
    "&lt;!channel&gt;",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "'; DROP TABLE alerts; --",
    "\ud7ff\ue000",
    "null",
]

nasty_text = st.one_of(st.sampled_from(NASTY), st.text(max_size=200), st.text(min_size=3000, max_size=6000))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=20), inner, max_size=5)),
    max_leaves=25,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_events(draw: st.DrawFn) -> Any:
    """A real sample event with 1–4 mutations: a value replaced, a key deleted, a type changed."""
    ev = copy.deepcopy(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(ev) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = ev
        for key in path[:-1]:
            parent = parent[key]
        how = draw(st.sampled_from(["replace", "delete", "nasty", "wrap"]))
        last = path[-1]
        if how == "delete" and isinstance(parent, dict):
            del parent[last]
        elif how == "nasty":
            parent[last] = draw(nasty_text)
        elif how == "wrap":
            parent[last] = [parent[last]]
        else:
            parent[last] = draw(json_values)
    if isinstance(ev, dict) and draw(st.booleans()):
        ev["id"] = draw(st.uuids()).hex  # usually a new event, sometimes a duplicate id
    return ev


# Whatever an SQS record body can be: a JSON document (an event or not) or any text.
notify_bodies = st.one_of(
    mutated_events().map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=300),
    st.sampled_from(BAD_SAMPLES),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)

ACTION_IDS = [
    "eventops:remediate:ec2.stop-instance-for-interact-tests",
    "eventops:remediate:ec2.stop-instance",
    "eventops:remediate:",
    "eventops:ack",
    "eventops:snooze:1h",
    "eventops:snooze:99y",
    "eventops:dismiss",
    "eventops:undo",
    "eventops:approve",
    "eventops:frobnicate",
    "someone-elses-button",
]
USERS = ["U0ALICE", "U0BOB", "U0MALLORY", "", "UNOBODY"]


@st.composite
def action_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A block_actions-like payload with optional, mistyped or hostile fields."""
    payload: dict[str, Any] = {}

    def maybe(key: str, value: st.SearchStrategy[Any]) -> None:
        if draw(st.integers(0, 9)) < 8:
            payload[key] = draw(value)

    maybe(
        "type",
        st.sampled_from(
            ["block_actions", "block_actions", "view_submission", "shortcut", "message_action", "interactive_message"]
        )
        | nasty_text,
    )
    maybe(
        "user",
        st.fixed_dictionaries(
            {"id": st.sampled_from(USERS) | nasty_text},
            optional={"team_id": st.sampled_from(["T0OURS", "T0OTHER"]) | nasty_text, "username": nasty_text},
        )
        | json_values,
    )
    maybe("team", st.fixed_dictionaries({"id": st.sampled_from(["T0OURS", "T0OTHER"])}) | json_values)
    maybe("channel", st.fixed_dictionaries({"id": st.sampled_from(["C0ALERTS", "C0NOPE"]) | nasty_text}) | json_values)
    maybe("container", st.fixed_dictionaries({"message_ts": nasty_text, "channel_id": nasty_text}) | json_values)
    maybe("message", st.fixed_dictionaries({"ts": nasty_text}) | json_values)
    maybe("response_url", st.sampled_from(["http://127.0.0.1:9/response/x", "", "not a url"]))
    maybe("trigger_id", nasty_text)
    maybe(
        "actions",
        st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "action_id": st.sampled_from(ACTION_IDS) | nasty_text,
                    "value": nasty_text,
                    "type": st.sampled_from(["button", "static_select"]) | nasty_text,
                    "block_id": nasty_text,
                    "action_ts": nasty_text,
                    "selected_option": json_values,
                },
            )
            | json_values,
            max_size=3,
        )
        | json_values,
    )
    maybe("view", json_values)
    for key in draw(st.lists(st.text(max_size=10), max_size=2)):
        payload[key] = draw(json_values)
    return payload


command_fields = st.fixed_dictionaries(
    {},
    optional={
        "command": st.sampled_from(["/ops", "/other"]) | nasty_text,
        "text": st.sampled_from(["help", "status", "alarms", "snooze 1h x", "run", "doctor", "audit", ""]) | nasty_text,
        "user_id": st.sampled_from(USERS) | nasty_text,
        "team_id": st.sampled_from(["T0OURS", "T0OTHER"]) | nasty_text,
        "channel_id": st.sampled_from(["C0ALERTS"]) | nasty_text,
        "user_name": nasty_text,
        "trigger_id": nasty_text,
    },
)
