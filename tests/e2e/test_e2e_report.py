"""``/ops report``: the scorecard through the signed front door, its figures moved by real traffic.

Events go onto the sandbox's alerts queue (as EventBridge would put them), the notify handler
counts them per batch, a click acknowledges, a remediation runs in moto; each figure of the
report is read before and after and must move by exactly what was done.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

from tests.e2e.conftest import OPERATOR, OUTSIDER, Ops, clean, find_message

EVENTS = Path(__file__).resolve().parents[1] / "events"
REVOKE = "Revoke open ingress rule"


def _cert_event(name: str, event_id: str | None = None) -> dict[str, Any]:
    ev = json.loads((EVENTS / "acm-approaching-expiration.json").read_text())
    ev["id"] = event_id or str(uuid.uuid4())
    ev["resources"] = [f"arn:aws:acm:us-east-1:123456789012:certificate/{name}"]
    ev["detail"]["CommonName"] = f"{name}.example.com"
    ev["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return ev


def _figures(answer: str) -> dict[str, int]:
    """The headline and counts of a report answer."""
    head = re.search(r"(\d+) events → (\d+) messages", answer)
    dups = re.search(r"Duplicate deliveries dropped: (\d+)", answer)
    acks = re.search(r"Time to acknowledge: (?:median \S+ \S+, p90 \S+ \S+ \((\d+)\)|none)", answer)
    verified = re.search(r"(\d+) verified", answer)
    assert head and dups and acks, answer
    return {
        "events": int(head.group(1)),
        "messages": int(head.group(2)),
        "duplicates": int(dups.group(1)),
        "acks": int(acks.group(1) or 0),
        "verified": int(verified.group(1)) if verified else 0,
    }


def _report(ops: Ops, text: str = "report 7d") -> str:
    return clean(ops.command(OPERATOR, text))


def _counted(ops: Ops, key: str, at_least: int, timeout: float = 20.0) -> None:
    """Wait until the notify batches have written ``at_least`` of counter ``key`` (in total)."""
    store = ops.sb.runtime().store
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts, _ = store.stats_since(time.time() - 86400)
        total = sum(n for k, n in counts.items() if k == key or k.startswith(key + "."))
        if total >= at_least:
            return
        time.sleep(0.2)
    raise AssertionError(f"the notify batches did not count {at_least} {key} within {timeout:.0f} s")


def _total(ops: Ops, key: str) -> int:
    counts, _ = ops.sb.runtime().store.stats_since(time.time() - 86400)
    return sum(n for k, n in counts.items() if k == key or k.startswith(key + "."))


def test_the_report_counts_events_messages_and_duplicates(ops: Ops) -> None:
    before = _figures(_report(ops))
    first = _cert_event("noisy-cert")
    ops.sb.put_events([first])
    posted = ops.wait_for(lambda s: find_message(s, "noisy-cert"))
    events_now = _total(ops, "e")
    repeats = [_cert_event("noisy-cert") for _ in range(6)]
    duplicates = [dict(first) for _ in range(2)]  # the same event id again: SQS redelivery
    ops.sb.put_events(repeats + duplicates)
    _counted(ops, "e", events_now + 6)
    _counted(ops, "d", before["duplicates"] + 2)

    after = _figures(_report(ops))
    assert after["events"] - before["events"] == 7, (before, after)
    assert after["messages"] - before["messages"] == 1, (before, after)
    assert after["duplicates"] - before["duplicates"] == 2, (before, after)
    answer = _report(ops)
    assert re.search(r"noisy-cert\S* \S*: 7 events|noisy-cert.*: 7 events", answer), answer
    assert "×" in answer and "less noise" in answer, answer
    # the message itself shows the repeats: what the report counts is what users saw grouped
    ops.wait_for(
        lambda s: "seen 7 times" in str(next(m for m in s["messages"] if m["ts"] == posted["ts"])["blocks"]) or None
    )


def test_acknowledge_and_a_verified_remediation_reach_the_report(ops: Ops) -> None:
    before = _figures(_report(ops))
    alert = ops.wait_for(lambda s: find_message(s, "SSH brute force"))
    ops.click(OPERATOR, alert, "Acknowledge")
    ops.audited("acknowledged")
    prod = ops.sb.estate.prod
    open_port = ops.wait_for(lambda s: find_message(s, prod.security_group_id))
    ops.click(OPERATOR, open_port, REVOKE)
    ops.audited("succeeded", remediation="ec2.revoke-ingress")
    assert ops.ingress_rules(prod.security_group_id) == []

    after = _figures(_report(ops))
    assert after["acks"] == before["acks"] + 1, (before, after)
    assert after["verified"] == before["verified"] + 1, (before, after)
    answer = _report(ops, "report 1d")
    assert "Time to remediate: median" in answer, answer
    assert "last 1 day" in answer, answer


def test_a_bad_period_is_a_usage_error(ops: Ops) -> None:
    answer = ops.command(OPERATOR, "report 99d")
    assert "is not a period" in answer and "Usage:" in answer, answer
    assert "Looking up" not in answer, answer


def test_help_lists_report_and_the_outsider_may_read_it_too(ops: Ops) -> None:
    """A read-only command, like /ops status: anyone in the workspace's allowed teams may run it."""
    assert "report" in ops.command(OPERATOR, "help")
    answer = clean(ops.command(OUTSIDER, "report"))
    assert "events →" in answer, answer
