"""Every sample renders without noise: no field label twice (nor one the standard cells show),
no ASFF type prefix in the resource, no "false" flags, and every time value in the one date
format (AWS's own prose, e.g. an Auto Scaling "Cause", keeps the times it was written with)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.slack.render import render_alert
from bot.sources import parse_event

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "events").glob("*.json"))
ISO = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d\S*$")


def _cells(payload: dict) -> list[tuple[str, str]]:
    out = []
    for block in payload["blocks"]:
        for f in block.get("fields") or []:
            label, _, value = f["text"].partition("\n")
            out.append((label.strip("*"), value))
    return out


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_no_field_twice_no_type_prefix_one_time_format(path: Path) -> None:
    payload = render_alert(parse_event(json.loads(path.read_text())), channel="C1")
    cells = _cells(payload)
    labels = [label.lower() for label, _ in cells]
    assert len(labels) == len(set(labels)), f"a field twice: {labels}"
    resource = dict(cells).get("Resource", "")
    assert not re.match(r"(Aws[A-Z]|Other )", resource), resource
    for label, value in cells:
        assert value.strip().lower() != "false", f"{label}: false"
        assert not ISO.match(value.strip()), f"{label} shows a raw ISO time: {value}"
        if re.fullmatch(r"1\d{12}", value.strip()):
            pytest.fail(f"{label} shows epoch milliseconds: {value}")
