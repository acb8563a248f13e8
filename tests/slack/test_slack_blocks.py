"""Block Kit primitives: escaping, truncation, link checks and fit()."""

from __future__ import annotations

import pytest

from bot.sandbox.slack_fake import validate_blocks
from bot.slack import blocks as bk


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("<http://evil|click>", "&lt;http://evil|click&gt;"),
        ("&lt;!channel&gt;", "&amp;lt;!channel&amp;gt;"),
        ("ping @here and @Channel or @everyone", "ping @\u200bhere and @\u200bChannel or @\u200beveryone"),
        ("a\x00b\x1b[31mc\u202ed\r\n\te", "ab[31mcd\n\te"),
        ("email@hereford.com", "email@hereford.com"),
    ],
)
def test_escape(raw: str, expected: str) -> None:
    assert bk.escape(raw) == expected


def test_escape_none_and_numbers() -> None:
    assert bk.escape(None) == ""
    assert bk.escape(42) == "42"


@pytest.mark.parametrize(
    ("text", "n", "expected"),
    [
        ("abcdef", 10, "abcdef"),
        ("abcdef", 4, "abc…"),
        ("abcdef", 1, "…"),
        ("abcdef", 0, ""),
        ("ab &amp; cd", 6, "ab …"),  # never half an entity
        ("hi <@U123> there", 8, "hi …"),  # never half a mention
        ("see <https://console.aws.amazon.com/x|EC2>", 20, "see …"),
        # escaping left "@EVERYONE00" alone (no word boundary); the cut must not make it a broadcast
        ("x @EVERYONE00", 12, "x @EVERYON…"),
        ("@here-ish", 6, "@her…"),
    ],
)
def test_truncate(text: str, n: int, expected: str) -> None:
    out = bk.truncate(text, n)
    assert out == expected
    assert len(out) <= max(n, 0)


@pytest.mark.parametrize(
    "url",
    [
        "https://console.aws.amazon.com/ec2/home?region=eu-west-1#Instances:instanceId=i-0abc",
        "https://eu-west-1.console.aws.amazon.com/guardduty/home",
        "https://health.aws.amazon.com/health/home#/account/dashboard/open-issues",
        "https://console.aws.amazon.com",
    ],
)
def test_link_accepts_aws_console(url: str) -> None:
    assert bk.link(url, "Open") == f"<{url}|Open>"


@pytest.mark.parametrize(
    "url",
    [
        "http://console.aws.amazon.com/ec2",
        "https://console.aws.amazon.com.evil.com/",
        "https://evil.com@console.aws.amazon.com/",
        "https://evil.com/?u=https://console.aws.amazon.com/",
        "https://console.aws.amazon.com/x|<!channel>",
        "https://console.aws.amazon.com/x>y",
        "https://console.aws.amazon.com/a b",
        "javascript:alert(1)//console.aws.amazon.com",
        "https://notaws.amazon.com.attacker.io/",
        "https://aws.amazon.com\n.evil/",
        "",
    ],
)
def test_link_rejects_everything_else(url: str) -> None:
    out = bk.link(url, "click <here>")
    assert out == "click &lt;here&gt;"


def test_link_allowlist_and_label_escaping() -> None:
    url = "https://grafana.example.org/d/abc?x=1&y=2"
    assert bk.link(url, "Dash") == "Dash"
    assert bk.link(url, "Dash|<@U1>", allowed_hosts=["grafana.example.org"]) == (
        "<https://grafana.example.org/d/abc?x=1&amp;y=2|Dash¦&lt;@U1&gt;>"
    )
    with pytest.raises(ValueError):
        bk.link(url, "x", allowed_hosts=["evil.com/|"])


def test_button_rejects_bad_ids() -> None:
    with pytest.raises(ValueError):
        bk.button("x", "has space", "v")
    with pytest.raises(ValueError):
        bk.button("x", "a" * 256, "v")
    with pytest.raises(ValueError):
        bk.button("x", "eventops:ack", "v" * 2001)
    with pytest.raises(ValueError):
        bk.button("x", "eventops:ack", "v", style="blue")


def test_builders_truncate_to_limits() -> None:
    assert len(bk.header("h" * 500)["text"]["text"]) == bk.MAX_HEADER_TEXT
    assert len(bk.section("s" * 5000)["text"]["text"]) == bk.MAX_SECTION_TEXT
    b = bk.button("b" * 100, "eventops:ack", "a-1", confirm=bk.confirm_dialog("t" * 200, "x" * 500, confirm="c" * 40))
    assert len(b["text"]["text"]) == bk.MAX_BUTTON_TEXT
    assert len(b["confirm"]["title"]["text"]) == bk.MAX_CONFIRM_TITLE
    assert len(b["confirm"]["text"]["text"]) == bk.MAX_CONFIRM_TEXT
    assert len(b["confirm"]["confirm"]["text"]) == bk.MAX_CONFIRM_BUTTON
    sections = bk.fields([(f"k{i}", f"v{i}") for i in range(23)])
    assert [len(s["fields"]) for s in sections] == [10, 10, 3]
    assert len(bk.context(*[f"e{i}" for i in range(15)])["elements"]) == bk.MAX_CONTEXT_ELEMENTS


def _raw_section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_fit_repairs_every_per_block_limit() -> None:
    raw = [
        {"type": "header", "text": {"type": "plain_text", "text": "H" * 400}},
        _raw_section("S" * 9000),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "F" * 2500} for _ in range(14)]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"} for _ in range(13)]},
        _raw_section(""),  # empty text: Slack refuses it
        {"type": "actions", "elements": [bk.button("A", "eventops:ack", "a"), bk.button("B", "eventops:ack", "b")]},
    ]
    with pytest.raises(Exception):  # noqa: B017 - the raw list really is invalid
        validate_blocks(raw)
    out = bk.fit(raw)
    validate_blocks(out)
    assert out[0]["type"] == "header" and out[-1]["type"] == "actions"
    assert len(out[-1]["elements"]) == 1  # duplicate action_id dropped
    assert all(b.get("text", {}).get("text", "x") for b in out)
    assert raw[1]["text"]["text"] == "S" * 9000  # input untouched


def test_fit_total_text_keeps_header_and_actions() -> None:
    raw = [bk.header("Title")] + [_raw_section(f"{i} " + "x" * 2900) for i in range(40)]
    raw.append(bk.actions([bk.button("Ack", "eventops:ack", "a-1")]))
    out = bk.fit(raw)
    validate_blocks(out)
    assert bk.total_text_length(out) <= bk.TOTAL_TEXT_BUDGET
    assert out[0] == raw[0] and out[-1] == raw[-1]
    assert len(out) == len(raw)  # shrunk evenly, nothing dropped


def test_fit_block_count_keeps_actions() -> None:
    raw = [_raw_section(f"s{i}") for i in range(70)] + [bk.actions([bk.button("Ack", "eventops:ack", "a-1")])]
    out = bk.fit(raw)
    assert len(out) == bk.MAX_BLOCKS
    assert out[-1]["type"] == "actions"
    assert out[0]["text"]["text"] == "s0"  # the trailing ones went first
    validate_blocks(out)


def test_fit_many_tiny_texts() -> None:
    # 50 sections × 10 fields × 30 chars = 15 000 chars in 500 small texts.
    raw = [{"type": "section", "fields": [bk.mrkdwn("f" * 30) for _ in range(10)]} for _ in range(50)]
    out = bk.fit(raw)
    validate_blocks(out)
    assert bk.total_text_length(out) <= bk.TOTAL_TEXT_BUDGET
