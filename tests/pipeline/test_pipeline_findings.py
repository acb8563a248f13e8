"""Security Hub / GuardDuty re-send findings (as NEW, with new event ids): one post, then updates."""

from __future__ import annotations

import json
from pathlib import Path

EVENTS = Path(__file__).resolve().parents[1] / "events"


def _resend(name: str, n: int) -> list[dict]:
    base = json.loads((EVENTS / name).read_text())
    out = []
    for i in range(n):
        ev = json.loads(json.dumps(base))
        ev["id"] = f"{base['id'][:-2]}{i:02d}"
        ev["time"] = f"2024-05-01T12:0{i}:00Z"
        out.append(ev)
    return out


def test_five_updates_of_one_security_hub_finding_make_one_post_and_updates(notify_env):
    events = _resend("securityhub-imported-guardduty-accesskey.json", 5)
    for ev in events:
        notify_env.send([ev])
    top = notify_env.top("#sec")
    assert len(top) == 1
    assert "seen 5 times" in json.dumps(top[0].blocks)
    assert len(notify_env.slack.calls("chat.postMessage")) == 1
    assert len(notify_env.slack.calls("chat.update")) == 4


def test_guardduty_repeats_of_a_finding_group_into_the_first_message(notify_env):
    for ev in _resend("guardduty-ec2-ssh-bruteforce.json", 3):
        notify_env.send([ev])
    (msg,) = notify_env.top("#sec")
    assert "seen 3 times" in json.dumps(msg.blocks)
