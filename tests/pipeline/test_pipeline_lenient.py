"""Near-events through the notify handler: a CloudWatch Lambda-action payload and an event with
a placeholder time are posted by their own parsers; the placeholder event says its time is the
receipt time; a redelivered copy of the id-less payload posts once."""

from __future__ import annotations

import json
from pathlib import Path

EVENTS = Path(__file__).resolve().parents[1] / "events"


def test_near_events_are_posted_by_their_own_parsers_once(notify_env):
    action = json.loads((EVENTS / "lambda-action" / "cloudwatch-metric-alarm.json").read_text())
    templated = json.loads((EVENTS / "cloudtrail-sg-ingress-open-ssh.json").read_text())
    templated["time"] = "{{time}}"
    resp = notify_env.send([action, templated, json.loads(json.dumps(action))])
    assert resp["batchItemFailures"] == []
    posts = [m for ch in ("#ops", "#sec") for m in notify_env.top(ch)]
    by_kind = {m.metadata["event_payload"]["source_kind"]: m for m in posts}
    assert sorted(by_kind) == ["cloudtrail", "cloudwatch"] and len(posts) == 2
    assert "[HIGH] Alarm: lambda-demo-metric-alarm" in by_kind["cloudwatch"].text
    assert "time shown is when EventOps received it" in json.dumps(by_kind["cloudtrail"].blocks)
