"""Property tests (docs/reliability.md #11): whatever an event says, the payload is valid and inert."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_helpers import assert_no_injection, assert_within_limits, make_alert

from bot.models import Link, Resource, Severity
from bot.slack.render import Button, ConfirmSpec, render_alert, render_outcome_reply, render_thread_reply

INJECTIONS = [
    "<!channel>",
    "<!here|here>",
    "<!everyone>",
    "<@U123>",
    "<@W0ADMIN|admin>",
    "<!subteam^S0ADMINS>",
    "<#C0GENERAL>",
    "<http://evil|click>",
    "<https://console.aws.amazon.com.evil.io/|AWS console>",
    "@here",
    "@channel",
    "@everyone",
    "&lt;!channel&gt;",
    "&amp;lt;@U1&amp;gt;",
    "<",
    ">",
    "&",
    "*bold* _it_ ~s~ `code` ```block```",
    "\u202eevil\u202c",
    "\x00\x07\x1b[2J",
    "\u200b@\u200bhere",
    "<<!channel>>",
    "<!date^1392734382^{date}|x>",
]

injection = st.sampled_from(INJECTIONS)
small_text = st.one_of(st.text(max_size=60), injection)
mixed = st.lists(st.one_of(st.text(max_size=40), injection), max_size=8).map("".join)
huge = st.builds(
    lambda s, n: (s * (n // max(len(s), 1) + 1))[:n],
    st.one_of(injection, st.text(min_size=1, max_size=5)),
    st.integers(3000, 50_000),
)
untrusted = st.one_of(small_text, mixed, huge)

urls = st.one_of(
    st.sampled_from(
        [
            "https://console.aws.amazon.com/ec2/home?region=eu-west-1#Instances:instanceId=i-0abc",
            "https://eu-west-1.console.aws.amazon.com/guardduty/home?x=1&y=<!channel>",
            "http://evil.example/",
            "https://evil.example@console.aws.amazon.com/",
            "https://console.aws.amazon.com/|<!channel>",
            "javascript:alert(1)",
        ]
    ),
    st.text(max_size=80),
    st.builds(lambda t: "https://console.aws.amazon.com/" + t, st.text(max_size=60)),
)

resources = st.builds(
    Resource,
    type=untrusted,
    id=untrusted,
    name=st.none() | untrusted,
    tags=st.dictionaries(small_text, untrusted, max_size=4),
)

alerts = st.builds(
    make_alert,
    title=untrusted,
    summary=untrusted,
    account_alias=st.none() | untrusted,
    region=small_text,
    severity=st.sampled_from(list(Severity)),
    resources=st.lists(resources, max_size=3),
    fields=st.dictionaries(untrusted, untrusted, max_size=25),
    links=st.lists(st.builds(Link, label=untrusted, url=urls), max_size=4),
    parse_error=st.none() | untrusted,
    active=st.booleans(),
)

MENTIONS = ["S0SECOPS", "U0ALICE", "W0BOB", "!here", "<!channel>", "@oncall", "U0ALICE|x"]


@st.composite
def button_lists(draw: st.DrawFn) -> list[Button]:
    buttons: list[Button] = []
    for i in range(draw(st.integers(0, 4))):
        confirm = draw(st.none() | st.builds(ConfirmSpec, title=untrusted, text=untrusted, confirm=small_text))
        buttons.append(Button.remediate(f"ec2.action-{i}", f"p-{i}", draw(untrusted), confirm=confirm))
    if draw(st.booleans()):
        buttons += [Button.ack("evt-1"), Button.snooze("evt-1", "24h"), Button.dismiss("evt-1")]
    return buttons


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@FUZZ
@given(
    alert=alerts,
    buttons=button_lists(),
    mentions=st.lists(st.sampled_from(MENTIONS), max_size=4),
    count=st.integers(1, 10_000),
    status=st.none() | untrusted,
)
def test_render_alert_is_valid_and_inert(alert, buttons, mentions, count, status) -> None:
    payload = render_alert(
        alert,
        channel="C0ALERTS",
        mentions=mentions,
        buttons=buttons,
        count=count,
        last_seen=datetime(2024, 5, 1, 10, 42, tzinfo=UTC),
        status=status,
    )
    assert_within_limits(payload)
    assert_no_injection(payload, tuple(mentions))
    assert payload["blocks"][0]["type"] == "header"
    acts = [b for b in payload["blocks"] if b["type"] == "actions"]
    if buttons:
        assert len(acts) == 1 and len(acts[0]["elements"]) == len(buttons)
        assert [e["value"] for e in acts[0]["elements"]] == [b.value for b in buttons]
    else:
        assert not acts
    assert payload["metadata"]["event_payload"]["alert_id"] == alert.id


@FUZZ
@given(alert=alerts, title=untrusted, lines=st.lists(untrusted, max_size=30))
def test_replies_are_valid_and_inert(alert, title, lines) -> None:
    for payload in (render_thread_reply(alert), render_outcome_reply(title, lines)):
        payload = {**payload, "channel": "C0ALERTS"}
        assert_within_limits(payload)
        assert_no_injection(payload)
