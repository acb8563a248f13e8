"""Helpers for the Slack tests: a hand-built alert and the payload checks (imported by name)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bot.models import Alert, Link, Resource, Severity
from bot.sandbox.slack_fake import validate_message
from bot.slack import blocks as bk

TOKEN = "xoxb-canary-7d3f9a1c5e"


def make_alert(**overrides: Any) -> Alert:
    base: dict[str, Any] = {
        "id": "evt-1",
        "fingerprint": Alert.make_fingerprint("guardduty", "i-0abc", "Recon:EC2/PortProbe"),
        "source_kind": "guardduty",
        "source": "aws.guardduty",
        "detail_type": "GuardDuty Finding",
        "title": "Unprotected port on EC2 instance i-0abc is being probed",
        "summary": "EC2 instance i-0abc has an unprotected port which is being probed by a known malicious host.",
        "severity": Severity.MEDIUM,
        "account": "123456789012",
        "account_alias": "prod",
        "region": "eu-west-1",
        "time": datetime(2024, 5, 1, 10, 42, tzinfo=UTC),
        "resources": [
            Resource(type="AwsEc2Instance", id="i-0abc", region="eu-west-1", tags={"Name": "web-1", "team": "web"})
        ],
        "fields": {"Finding type": "Recon:EC2/PortProbeUnprotectedPort", "Port": "22"},
        "links": [
            Link(
                label="GuardDuty finding",
                url="https://eu-west-1.console.aws.amazon.com/guardduty/home?region=eu-west-1#/findings?fId=abc&x=1",
            )
        ],
    }
    base.update(overrides)
    return Alert(**base)


# Our own markup: configured mentions and links that passed blocks.link()'s URL check.
_OWN_MARKUP = re.compile(r"<!subteam\^S[A-Z0-9]+>|<@[UW][A-Z0-9]+>|<!here>|<!channel>|<(https://[^|<>\s]+)\|[^<>]*>")
_BROADCAST = re.compile(r"@(here|channel|everyone)\b", re.IGNORECASE)


def all_strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from all_strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from all_strings(v)


_DATE_TOKEN = re.compile(r"<!date\^\d{1,12}\^\{date_short_pretty\} \{time\}\|\d{4}-\d\d-\d\d \d\d:\d\d UTC>")


def assert_no_injection(payload: dict[str, Any], allowed_mentions: tuple[str, ...] = ()) -> None:
    """No `<`-markup in the payload except our mentions and validated console links."""
    for s in all_strings({"text": payload.get("text"), "blocks": payload.get("blocks")}):
        s = _DATE_TOKEN.sub("", s)  # our own date tokens show a date, nothing else
        for m in _OWN_MARKUP.finditer(s):
            token = m.group(0)
            if m.group(1):
                assert bk.is_safe_url(m.group(1).replace("&amp;", "&")), token
            elif not token.startswith("<!here") and not token.startswith("<!channel"):
                assert any(mid in token for mid in allowed_mentions), token
            else:
                assert "!here" in allowed_mentions or "!channel" in allowed_mentions, token
        rest = _OWN_MARKUP.sub("", s)
        for raw in ("<!", "<@", "<http", "<#"):
            assert raw not in rest, (raw, s[:300])
        assert "<" not in rest, s[:300]
        assert not _BROADCAST.search(rest), s[:300]


def assert_within_limits(payload: dict[str, Any]) -> None:
    """Everything Slack checks, via the fake's independent validator, plus our own budgets."""
    validate_message(payload)
    blocks = payload["blocks"]
    assert len(blocks) <= bk.MAX_BLOCKS
    assert bk.total_text_length(blocks) <= bk.MAX_TOTAL_TEXT
    assert len(payload["text"]) <= bk.MAX_FALLBACK_TEXT
