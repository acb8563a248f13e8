"""Rendering hand-built alerts: content, metadata, buttons, and Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slack_helpers import all_strings, assert_no_injection, assert_within_limits, make_alert

from bot.models import Resource, Severity
from bot.slack import blocks as bk
from bot.slack.render import (
    Button,
    ConfirmSpec,
    format_mentions,
    render_alert,
    render_ephemeral,
    render_outcome_reply,
    render_storm_summary,
    render_thread_reply,
)


def _texts(payload: dict) -> str:

    return "\n".join(all_strings(payload["blocks"]))


def test_guardduty_alert_full_render() -> None:
    alert = make_alert()
    buttons = [
        Button.remediate(
            "ec2.stop-instance",
            "p-1",
            "Stop i-0abc",
            confirm=ConfirmSpec("Stop instance?", "Would stop i-0abc in eu-west-1", confirm="Stop", style="danger"),
            style="danger",
        ),
        Button.ack(alert.id),
        Button.snooze(alert.id, "4h"),
        Button.dismiss(alert.id),
    ]
    payload = render_alert(alert, channel="C0ALERTS", mentions=["S0SECOPS", "U0ALICE"], buttons=buttons)

    assert payload["channel"] == "C0ALERTS"
    assert payload["text"].startswith("<!subteam^S0SECOPS> <@U0ALICE> ")
    assert "[MEDIUM] Unprotected port" in payload["text"]
    blocks = payload["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": ":large_yellow_circle: Unprotected port on EC2 instance i-0abc is being probed",
            "emoji": True,
        },
    }
    assert blocks[1]["text"]["text"].startswith("<!subteam^S0SECOPS> <@U0ALICE>\nEC2 instance i-0abc")
    fields = [f["text"] for b in blocks if b["type"] == "section" for f in b.get("fields", [])]
    assert fields == [
        "*Severity*\n:large_yellow_circle: MEDIUM",
        "*Account*\nprod (123456789012)",
        "*Region*\neu-west-1",
        "*Resource*\ninstance i-0abc (web-1)",
        "*Time*\n<!date^1714560120^{date_short_pretty} {time}|2024-05-01 10:42 UTC>",
        "*Finding type*\nRecon:EC2/PortProbeUnprotectedPort",
        "*Port*\n22",
    ]
    link_ctx = [b for b in blocks if b["type"] == "context"][-1]["elements"][0]["text"]
    assert link_ctx == (
        "<https://eu-west-1.console.aws.amazon.com/guardduty/home?region=eu-west-1#/findings?fId=abc&amp;x=1"
        "|GuardDuty finding>"
    )
    actions = blocks[-1]
    assert actions["type"] == "actions"
    assert [e["action_id"] for e in actions["elements"]] == [
        "eventops:remediate:ec2.stop-instance",
        "eventops:ack",
        "eventops:snooze:4h",
        "eventops:dismiss",
    ]
    assert [e["value"] for e in actions["elements"]] == ["p-1", "evt-1", "evt-1", "evt-1"]
    assert actions["elements"][0]["style"] == "danger"
    assert actions["elements"][0]["confirm"]["text"]["text"] == "Would stop i-0abc in eu-west-1"
    assert payload["metadata"] == {
        "event_type": "eventops_alert",
        "event_payload": {
            "alert_id": "evt-1",
            "fingerprint": alert.fingerprint,
            "severity": "MEDIUM",
            "source_kind": "guardduty",
            "account": "123456789012",
            "region": "eu-west-1",
        },
    }
    assert_within_limits(payload)
    assert_no_injection(payload, ("S0SECOPS", "U0ALICE"))


def test_minimal_generic_alert() -> None:
    alert = make_alert(
        source_kind="generic",
        title="",
        summary="",
        account_alias=None,
        resources=[],
        fields={},
        links=[],
        severity=Severity.INFO,
        region="",
    )
    payload = render_alert(alert, channel="#eventops")
    assert payload["blocks"][0]["text"]["text"] == ":white_circle: GuardDuty Finding"
    assert not any(b["type"] == "actions" for b in payload["blocks"])
    fields = [f["text"] for b in payload["blocks"] if b["type"] == "section" for f in b.get("fields", [])]
    assert "*Account*\n123456789012" in fields
    assert not any(f.startswith("*Resource*") or f.startswith("*Region*") for f in fields)
    assert payload["metadata"]["event_payload"]["source_kind"] == "generic"
    assert_within_limits(payload)


def test_repeat_counter_status_resolved_and_parse_error() -> None:
    alert = make_alert(active=False, parse_error="detail.service missing <!here>")
    payload = render_alert(
        alert,
        channel="C1",
        count=14,
        first_seen=datetime(2024, 5, 1, 9, 5, tzinfo=UTC),
        last_seen=datetime(2024, 5, 1, 10, 42, tzinfo=UTC),
        status="⏳ Revoking sgr-0abc — requested by alice",
    )
    text = _texts(payload)
    assert (
        "seen 14 times, first <!date^1714554300^{date_short_pretty} {time}|2024-05-01 09:05 UTC>, "
        "last <!date^1714560120^{date_short_pretty} {time}|2024-05-01 10:42 UTC>"
    ) in text
    assert "⏳ Revoking sgr-0abc — requested by alice" in text
    assert ":white_check_mark: Resolved" in text
    assert ":warning: Could not fully read this event: detail.service missing &lt;!here&gt;" in text
    assert_within_limits(payload)
    assert_no_injection(payload)


def test_count_one_has_no_counter_line() -> None:
    assert "seen " not in _texts(render_alert(make_alert(), channel="C1"))


def test_more_resources_and_name_fallback() -> None:
    alert = make_alert(
        resources=[
            Resource(type="AwsEc2SecurityGroup", id="sg-1", name="web-sg"),
            Resource(type="AwsEc2Instance", id="i-2"),
        ]
    )
    assert "*Resource*\nsecurity group sg-1 (web-sg) +1 more" in _texts(render_alert(alert, channel="C1"))


def test_mentions_only_strict_ids() -> None:
    assert (
        format_mentions(["S0SEC", "U0BOB", "W0ENT", "!here", "U0BOB"]) == "<!subteam^S0SEC> <@U0BOB> <@W0ENT> <!here>"
    )
    assert format_mentions(["<!channel>", "@oncall", "s0lower", "U0BOB>", "S0SEC|x", ""]) == ""


def test_event_text_cannot_mention_or_link() -> None:
    evil = "<!channel> <@U123> <http://evil|click> @here &lt;!channel&gt; <#C123>"
    alert = make_alert(
        title=evil,
        summary=evil,
        account_alias=evil,
        fields={evil: evil},
        resources=[Resource(type=evil, id=evil, name=evil, tags={"Name": evil})],
        parse_error=evil,
    )
    payload = render_alert(alert, channel="C1", status=evil)
    assert_within_limits(payload)
    assert_no_injection(payload)
    assert "&amp;lt;!channel&amp;gt;" in payload["blocks"][1]["text"]["text"]


def test_huge_alert_still_fits_and_keeps_buttons() -> None:
    alert = make_alert(
        title="T" * 50_000,
        summary="S" * 50_000,
        fields={f"k{i}": "v" * 5000 for i in range(40)},
    )
    payload = render_alert(alert, channel="C1", buttons=[Button.ack("evt-1"), Button.dismiss("evt-1")])
    assert_within_limits(payload)
    assert payload["blocks"][0]["type"] == "header"
    assert payload["blocks"][-1]["type"] == "actions"
    assert len(payload["blocks"][-1]["elements"]) == 2


def test_snooze_rejects_unknown_duration() -> None:
    with pytest.raises(ValueError):
        Button.snooze("a", "2h")


def test_thread_reply() -> None:
    payload = render_thread_reply(make_alert(title="Another probe <@U1>", active=False))
    assert "channel" not in payload
    assert payload["text"] == ":large_yellow_circle: [MEDIUM] Another probe &lt;@U1&gt;"
    text = _texts(payload)
    assert "*Another probe &lt;@U1&gt;*" in text and "resolved" in text
    assert_within_limits({**payload, "channel": "C1"})
    assert_no_injection(payload)


def test_storm_summary() -> None:
    start = datetime(2024, 5, 1, 10, 40, tzinfo=UTC)
    payload = render_storm_summary(
        "C1", {"LOW": 460, Severity.HIGH: 40, "BOGUS": 3}, 500, start, ["<!channel> one", "two"] * 20
    )
    assert payload["channel"] == "C1"
    assert payload["text"] == "Alert storm: 500 alerts since 10:40 UTC (40 HIGH, 460 LOW)"
    fields = [f["text"] for b in payload["blocks"] if b["type"] == "section" for f in b.get("fields", [])]
    assert fields == ["*:large_orange_circle: HIGH*\n40", "*:large_blue_circle: LOW*\n460"]
    assert _texts(payload).count("• ") == 10
    assert_within_limits(payload)
    assert_no_injection(payload)


def test_outcome_and_ephemeral() -> None:
    out = render_outcome_reply("✅ Stopped i-0abc — verified", ["State: stopped", "", "<@U1> undo until 11:42"])
    assert (
        out["blocks"][0]["text"]["text"]
        == "*✅ Stopped i-0abc — verified*\n• State: stopped\n• &lt;@U1&gt; undo until 11:42"
    )
    eph = render_ephemeral("You may not approve your own request <!here>.")
    assert eph["text"] == "You may not approve your own request &lt;!here&gt;."
    for p in (out, eph):
        assert_within_limits({**p, "channel": "C1"})
        assert_no_injection(p)
    assert len(render_ephemeral("x" * 50_000)["text"]) == bk.MAX_FALLBACK_TEXT
