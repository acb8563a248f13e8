"""Malformed input never raises: it becomes a generic alert with ``parse_error``; fuzzed too."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.models import Alert
from bot.sources import parse_event

EVENTS = Path(__file__).parent.parent / "events"
BAD = sorted((EVENTS / "bad").glob("*.json"))
SAMPLES = [json.loads(p.read_text()) for p in sorted(EVENTS.glob("*.json"))]


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_files_give_a_generic_alert_with_a_reason(path: Path) -> None:
    text = path.read_text()
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError:
        raw = text  # what a caller that couldn't decode would be left with
    alert = parse_event(raw)
    assert alert.source_kind == "generic"
    assert alert.parse_error
    assert alert.title


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "not an EventBridge event. It is a JSON NoneType"),
        (42, "not an EventBridge event. It is a JSON int"),
        ([], "not an EventBridge event. It is a JSON list of 0 items"),
        ({}, "not an EventBridge event. It is an empty object"),
        (
            {
                "id": "x",
                "source": "aws.ec2",
                "detail-type": "EC2 Instance State-change Notification",
                "time": "2024-01-01T00:00:00Z",
            },
            "ec2 parser",
        ),
    ],
)
def test_reasons(raw: object, reason: str) -> None:
    alert = parse_event(raw)
    assert alert.source_kind == "generic"
    assert reason in (alert.parse_error or "")


def test_parser_failure_keeps_envelope_facts() -> None:
    raw = json.loads((EVENTS / "bad" / "guardduty-detail-invalid.json").read_text())
    alert = parse_event(raw)
    assert alert.id == raw["id"] and alert.source == "aws.guardduty" and alert.account == "123456789012"
    assert "severity" in alert.parse_error


def test_unreadable_ids_are_stable() -> None:
    assert parse_event([1, 2]).id == parse_event([1, 2]).id
    assert parse_event([1, 2]).id != parse_event([1, 3]).id


def test_absurd_nesting_and_cycles_do_not_raise() -> None:
    deep: dict[str, Any] = {}
    cur = deep
    for _ in range(5000):
        cur["a"] = {}
        cur = cur["a"]
    raw = dict(SAMPLES[0], detail=deep)
    assert isinstance(parse_event(raw), Alert)
    cyc: dict[str, Any] = {"id": "x"}
    cyc["detail"] = cyc
    assert isinstance(parse_event(cyc), Alert)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=300, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_random_json_never_raises(raw: Any) -> None:
    assert isinstance(parse_event(raw), Alert)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@settings(max_examples=500, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_real_events_never_raise(data: st.DataObject) -> None:
    raw = copy.deepcopy(data.draw(st.sampled_from(SAMPLES)))
    for _ in range(data.draw(st.integers(1, 4))):
        paths = [p for p in _paths(raw) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = raw
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()):
            parent[path[-1]] = data.draw(json_values)
        elif isinstance(parent, dict):
            del parent[path[-1]]
    alert = parse_event(raw)
    assert isinstance(alert, Alert) and alert.title
