"""Fuzz handlers/slack with API Gateway events carrying Slack requests: interactivity payloads
(form-encoded ``payload=``), slash command form bodies, JSON bodies, random form fields, huge and
unicode values, missing fields — signed correctly (so they reach the listeners) and not.

Never an unhandled exception and never a 5xx: a genuine but unusable request gets a 2xx/4xx and,
if a listener refused it, a log line or an ephemeral reason; a forged one gets 401 and runs
nothing. Nothing in AWS changes (clicks only queue jobs), and Slack accepts every message sent."""

from __future__ import annotations

import base64
import json
import logging
import time
import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers import slack as slack_handler
from tests.approval.world import http_event
from tests.fuzz.capture import capture_logs
from tests.fuzz.conftest import FUZZ
from tests.fuzz.strategies import action_payloads, command_fields, json_values, nasty_text

form_bodies = st.one_of(
    action_payloads().map(lambda p: urllib.parse.urlencode({"payload": json.dumps(p)})),
    command_fields.map(urllib.parse.urlencode),
    st.dictionaries(st.text(max_size=15), nasty_text, max_size=5).map(urllib.parse.urlencode),
    json_values.map(lambda v: urllib.parse.urlencode({"payload": json.dumps(v)})),
    st.text(max_size=300),
)
json_bodies = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["url_verification", "event_callback", "app_rate_limited"]) | nasty_text},
        optional={"challenge": nasty_text, "token": nasty_text, "event": json_values, "team_id": nasty_text},
    ),
    json_values,
).map(json.dumps)


def _check(world, resp, seen: int) -> None:
    assert isinstance(resp, dict) and isinstance(resp.get("statusCode"), int)
    assert resp["statusCode"] < 500, resp
    assert isinstance(resp.get("body", ""), str)
    assert world.sessions.mutations() == []
    for call in world.slack.requests[seen:]:
        if call.method.startswith("response_url:"):
            continue
        assert call.error in (None, "channel_not_found", "message_not_found", "user_not_found"), (
            call.method,
            call.error,
        )


@FUZZ
@given(
    body=form_bodies | json_bodies,
    content_type=st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain", ""]),
    version=st.sampled_from(["2.0", "1.0"]),
    b64=st.booleans(),
    retry=st.none() | st.integers(1, 3),
)
def test_signed_requests_reach_the_listeners_and_never_crash(world, body, content_type, version, b64, retry):
    slack_handler.set_runtime(world.rt)
    event = http_event(body, version=version, b64=b64, retry=retry)
    for key in list(event.get("headers", {})):
        if key.lower() == "content-type":
            event["headers"][key] = content_type
    seen = len(world.slack.requests)
    with capture_logs("eventops", "slack_bolt") as logs:
        resp = slack_handler.handler(event, None)
    _check(world, resp, seen)
    assert resp["statusCode"] != 401, "a correctly signed request was refused"
    if resp["statusCode"] >= 400:
        assert resp["body"] or logs.messages(logging.WARNING), "a refusal must say why"


@FUZZ
@given(
    body=form_bodies | json_bodies,
    forgery=st.sampled_from(["wrong-secret", "stale", "future", "no-signature", "no-timestamp", "garbage-signature"]),
)
def test_unsigned_or_forged_requests_get_401_and_run_nothing(world, body, forgery):
    slack_handler.set_runtime(world.rt)
    now = int(time.time())
    if forgery == "wrong-secret":
        event = http_event(body, secret="not-the-secret")
    elif forgery == "stale":
        event = http_event(body, ts=now - 310)  # not 301: Bolt's clock may tick past ours
    elif forgery == "future":
        event = http_event(body, ts=now + 310)
    else:
        event = http_event(body)
        drop = {"no-signature": "x-slack-signature", "no-timestamp": "x-slack-request-timestamp"}.get(forgery)
        if drop:
            event["headers"].pop(drop)
        else:
            event["headers"]["x-slack-signature"] = "v0=" + "0" * 64
    seen_jobs = world.rt.counts.copy()
    seen = len(world.slack.requests)
    resp = slack_handler.handler(event, None)
    _check(world, resp, seen)
    assert resp["statusCode"] == 401
    assert len(world.slack.requests) == seen  # no listener ran: no ephemeral, no update
    assert {k: v for k, v in world.rt.counts.items() if k.startswith(("job_enqueued", "click_"))} == {
        k: v for k, v in seen_jobs.items() if k.startswith(("job_enqueued", "click_"))
    }


# What a client controls in an API Gateway event: method, headers, query, body. The envelope
# (requestContext, version) is API Gateway's own and always well-formed.
@FUZZ
@given(
    version=st.sampled_from(["2.0", "1.0"]),
    method=st.sampled_from(["POST", "GET", "PUT", "OPTIONS", "HEAD", "post", ""]),
    headers=st.dictionaries(
        st.sampled_from(["content-type", "x-slack-signature", "x-slack-request-timestamp", "X-Slack-Signature"])
        | st.text(max_size=20),
        st.text(max_size=80),
        max_size=4,
    ),
    query=st.none() | st.dictionaries(st.text(max_size=10), st.text(max_size=10) | st.none(), max_size=3),
    body=st.none() | st.text(max_size=200) | st.binary(max_size=50).map(lambda b: base64.b64encode(b).decode()),
    b64=st.booleans(),
)
def test_malformed_gateway_events_get_a_4xx(world, version, method, headers, query, body, b64):
    if version == "2.0":
        event = {
            "version": "2.0",
            "requestContext": {"http": {"method": method, "path": "/slack/events"}},
            "headers": {k.lower(): v for k, v in headers.items()},
            "queryStringParameters": query,
            "body": body,
            "isBase64Encoded": b64,
        }
    else:
        event = {
            "httpMethod": method,
            "requestContext": {"httpMethod": method},
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query,
            "body": body,
            "isBase64Encoded": b64,
        }
    slack_handler.set_runtime(world.rt)
    seen = len(world.slack.requests)
    resp = slack_handler.handler(event, None)
    _check(world, resp, seen)
    assert 400 <= resp["statusCode"] < 500  # none of these is signed


# --- bugs the fuzz found, fixed in handlers/slack.py and bot/slack/app.py; kept as regressions ---


@pytest.mark.parametrize(
    "body, content_type",
    [("payload=not-json", "application/x-www-form-urlencoded"), ("{oops", "text/plain"), ("a=b", "application/json")],
)
def test_unparseable_unsigned_body_gets_a_4xx_not_a_crash(world, body, content_type):
    slack_handler.set_runtime(world.rt)
    event = http_event(body, secret="not-the-secret")
    event["headers"]["content-type"] = content_type
    resp = slack_handler.handler(event, None)
    assert 400 <= resp["statusCode"] < 500


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions", "user": {"id": "U0ALICE"}, "actions": []},
        {"type": "block_actions", "user": {"id": "U0ALICE", "team_id": "T0OURS"}, "enterprise": "E0X", "actions": [{}]},
        {
            "type": "block_actions",
            "user": {"id": "U0ALICE", "team_id": "T0OURS"},
            "actions": [{"action_id": 7, "value": "p1"}],
        },
        {"type": "block_actions", "user": {"id": "U0ALICE"}, "actions": [{"action_id": "a", "value": ["x"]}]},
        {"type": "interactive_message", "user": {"id": "U0ALICE"}, "callback_id": "c"},
        {"type": "interactive_message", "user": {"id": "U0ALICE"}, "actions": "no"},
        {"type": "view_submission", "user": {"id": "U0ALICE"}, "view": {"callback_id": 3}, "callback_id": 3},
    ],
    ids=[
        "empty-actions",
        "enterprise-string",
        "int-action-id",
        "list-value",
        "interactive-message-no-actions",
        "interactive-message-actions-string",
        "int-callback-id",
    ],
)
def test_signed_malformed_payload_gets_a_4xx_not_500(world, payload):
    slack_handler.set_runtime(world.rt)
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    resp = slack_handler.handler(http_event(body), None)
    assert resp["statusCode"] < 500


@pytest.mark.parametrize("depth", [5_000, 200_000])
@pytest.mark.parametrize("form", [True, False], ids=["form-payload", "json-body"])
def test_signed_deeply_nested_json_gets_a_400_with_one_log_line(world, caplog, depth, form):
    slack_handler.set_runtime(world.rt)
    nested = "[" * depth + "]" * depth
    if form:
        event = http_event(urllib.parse.urlencode({"payload": nested}))
    else:
        event = http_event('{"type": "event_callback", "event": ' + nested + "}")
        event["headers"]["content-type"] = "application/json"
    with caplog.at_level("WARNING", logger="eventops"):
        resp = slack_handler.handler(event, None)
    assert resp["statusCode"] == 400, resp
    assert [r.getMessage() for r in caplog.records if "refused" in r.getMessage()] != []


@pytest.mark.parametrize("timestamp", ["soon", "1e9", "", "²", "١٢٣٤٥٦٧٨٩٠", "1" * 40, " 123"])
def test_non_numeric_timestamp_gets_401_not_500(world, timestamp):
    slack_handler.set_runtime(world.rt)
    event = http_event("payload=%7B%7D")
    event["headers"]["x-slack-request-timestamp"] = timestamp
    resp = slack_handler.handler(event, None)
    assert resp["statusCode"] == 401


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("payload=null", "application/x-www-form-urlencoded"),
        ("[1]", "application/json"),
        ("3", "application/json"),
        ('{"type": "block_actions", "user": false}', "application/json"),
    ],
)
def test_body_that_is_not_a_json_object_gets_a_4xx_not_a_crash(world, body, content_type):
    slack_handler.set_runtime(world.rt)
    event = http_event(body, secret="not-the-secret")
    event["headers"]["content-type"] = content_type
    resp = slack_handler.handler(event, None)
    assert 400 <= resp["statusCode"] < 500


def test_signed_payload_without_a_type_gets_a_4xx_not_500(world):
    slack_handler.set_runtime(world.rt)
    body = urllib.parse.urlencode({"payload": json.dumps({"user": {"id": "U0ALICE"}, "actions": [], "view": None})})
    resp = slack_handler.handler(http_event(body), None)
    assert resp["statusCode"] < 500
