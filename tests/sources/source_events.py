"""The sample events in ``tests/events`` for the per-parser tests.

Example::

    alert = parse("guardduty-ec2-ssh-bruteforce")      # tests/events/guardduty-ec2-ssh-bruteforce.json
    raw = load("health-issue"); raw["detail"]["statusCode"] = "closed"; parse_event(raw)
"""

from __future__ import annotations

import json
from pathlib import Path

from bot.models import Alert
from bot.sources import parse_event
from bot.sources.base import ParseContext

EVENTS = Path(__file__).parent.parent / "events"
SAMPLES = sorted(EVENTS.glob("*.json"))


def load(name: str) -> dict:
    """The raw sample ``tests/events/<name>.json``, a fresh dict each call (safe to mutate)."""
    return json.loads((EVENTS / f"{name}.json").read_text())


def parse(name: str, ctx: ParseContext | None = None) -> Alert:
    """The Alert the sample ``name`` parses to."""
    return parse_event(load(name), ctx)
