"""The App Home tab end to end: a signed ``app_home_opened`` event_callback over HTTP to
/slack/events (Console.open_home → /console/home → ConsoleServer.open_home), the bot's reads,
and the ``views.publish`` the Slack fake recorded for that user.

The world is made by the same clicks a user makes: the HIGH-risk isolation is requested by the
operator (so it waits for two approvers), the approver snoozes the CPU alarm from its menu (an
active snooze, and an audit record of theirs)."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from typing import Any

from tests.e2e.conftest import APPROVER, APPROVER2, OPERATOR, OUTSIDER, Ops, find_message

ISOLATE = "Isolate instance (quarantine security group)"
KILL_PARAMETER = "/eventops/kill-switch"


def published(ops: Ops, user: str) -> dict[str, Any]:
    """The view of the last views.publish call the fake accepted for ``user``."""
    calls = [c for c in ops.sb.fake.calls("views.publish") if c.params.get("user_id") == user and c.error is None]
    assert calls, f"no views.publish for {user}"
    return calls[-1].params["view"]


def section(view: dict[str, Any], block_id: str) -> str:
    """A Home section's text under its bold title line."""
    block = next(b for b in view["blocks"] if b.get("block_id") == f"home-{block_id}")
    title, _, body = block["text"]["text"].partition("\n")
    assert title.startswith("*") and title.endswith("*"), title
    return body


def permalink(ops: Ops, message: dict[str, Any]) -> str:
    team = ops.sb.fake.workspace.team
    return f"https://{team}.slack.com/archives/{message['channel']}/p{message['ts'].replace('.', '')}"


def open_home(ops: Ops, user: str) -> dict[str, Any]:
    before = len(ops.sb.fake.calls("views.publish"))
    result = ops.console.open_home(user)
    assert result["status"] == 200 and not result["late"], result
    assert len(ops.sb.fake.calls("views.publish")) == before + 1, "one views.publish per opening"
    view = published(ops, user)
    assert result["view"]["blocks"] == view["blocks"], "the console shows what the fake recorded"
    return view


def _requested_isolation(ops: Ops) -> dict[str, Any]:
    alert = ops.wait_for(lambda s: find_message(s, "SSH brute force"))
    ops.click(OPERATOR, alert, ISOLATE)
    ops.wait_for(lambda s: next((m for m in ops.replies(s, alert["ts"]) if "Approve" in str(m["blocks"])), None))
    return alert


def _snoozed_alarm(ops: Ops) -> dict[str, Any]:
    alarm = ops.wait_for(lambda s: find_message(s, "CPU"))
    ops.click(APPROVER, alarm, "Snooze 1 hour")
    ops.audited("snoozed")
    return alarm


def test_home_shows_the_viewers_approvals_alerts_actions_snoozes_and_kill_switch(ops: Ops) -> None:
    open_port = ops.wait_for(lambda s: find_message(s, "opened to the internet"))
    brute = _requested_isolation(ops)
    alarm = _snoozed_alarm(ops)

    view = open_home(ops, APPROVER)
    assert view["type"] == "home"

    # open alerts, by severity, each linked to its message (chat.getPermalink of its channel/ts)
    alerts = section(view, "alerts")
    assert f"<{permalink(ops, open_port)}|" in alerts, alerts
    assert re.search(r"<https://[^|>]+\|[^>]*opened to the internet", alerts), alerts
    assert re.search(r"High \*\d+\*", alerts), alerts

    # the HIGH request waits for this approver: linked, who asked, 0 of 2
    approvals = section(view, "approvals")
    assert f"<{permalink(ops, brute)}|Isolate instance" in approvals, approvals
    assert "requested by @operator" in approvals and "0/2 approvals" in approvals, approvals

    # their own snooze is their recent action, and an active snooze linked to the alarm
    actions = section(view, "actions")
    assert "*SNOOZED*" in actions, actions
    snoozes = section(view, "snoozes")
    assert f"<{permalink(ops, alarm)}|" in snoozes and "by @approver" in snoozes, snoozes

    assert section(view, "kill-switch").startswith(":large_green_circle: off"), section(view, "kill-switch")
    assert section(view, "maintenance") == "None."

    # the requester may not approve their own request; an outsider is no approver
    assert "Nothing waits for you" in section(open_home(ops, OPERATOR), "approvals")
    assert "Nothing waits for you" in section(open_home(ops, OUTSIDER), "approvals")
    assert "None recently" in section(open_home(ops, APPROVER2), "actions")


def test_home_follows_the_kill_switch_parameter(ops: Ops) -> None:
    rt = ops.sb.runtimes["slack"]
    rt.sessions.client("ssm").put_parameter(Name=KILL_PARAMETER, Value="on", Type="String", Overwrite=True)
    original = rt.config
    rt.config = original.model_copy(update={"kill_switch_parameter": KILL_PARAMETER})
    try:
        text = section(open_home(ops, OPERATOR), "kill-switch")
        assert ":octagonal_sign: *ON*" in text and KILL_PARAMETER in text, text
        assert "notify-only" in text
    finally:
        rt.config = original
    assert "off" in section(open_home(ops, OPERATOR), "kill-switch")


def test_home_after_the_approvals_shows_nothing_waiting(ops: Ops) -> None:
    """Once two approvers approved, the request waits for nobody, and each approval is theirs."""
    brute = ops.wait_for(lambda s: find_message(s, "SSH brute force"))
    request = ops.wait_for(
        lambda s: next((m for m in ops.replies(s, brute["ts"]) if "Approve" in str(m["blocks"])), None)
    )
    ops.click(APPROVER, request, "Approve")
    ops.said_to(APPROVER, "(1/2)")
    assert "1/2 approvals" in section(open_home(ops, APPROVER2), "approvals")
    assert "Nothing waits for you" in section(open_home(ops, APPROVER), "approvals"), "approved once already"
    ops.click(APPROVER2, request, "Approve")
    ops.wait_for(lambda s: any("succeeded" in r["text"] for r in ops.replies(s, brute["ts"])))
    assert "Nothing waits for you" in section(open_home(ops, APPROVER2), "approvals")


def test_events_api_front_door_url_verification_other_tabs_and_forgeries(ops: Ops) -> None:
    server = ops.sb.server
    body = json.dumps({"token": "t", "challenge": "c-123", "type": "url_verification"})
    status, text, _ = server.post_signed(body, content_type="application/json")
    assert status == 200 and "c-123" in text

    before = len(ops.sb.fake.calls("views.publish"))
    status, _, _ = server.post_event({"type": "app_home_opened", "user": OPERATOR, "tab": "messages"})
    assert status == 200
    status, _, _ = server.post_event({"type": "app_home_opened", "user": "<!here>", "tab": "home"})
    assert status == 200
    status, _, _ = server.post_event({"type": "app_home_opened", "user": OPERATOR, "tab": "home"}, team_id="T0OTHER")
    assert status == 200
    refused = published(ops, OPERATOR)
    assert any("Not available" in json.dumps(b) for b in refused["blocks"]), "another team's viewer sees no state"
    assert "home-alerts" not in json.dumps(refused)
    assert len(ops.sb.fake.calls("views.publish")) == before + 1, "only the Home tab of a valid user is published"

    forged = json.dumps({"type": "event_callback", "team_id": "T0EVENTOPS", "event": {"type": "app_home_opened"}})
    ts = str(int(time.time()))
    req = urllib.request.Request(
        server.base + "/slack/events",
        data=forged.encode(),
        headers={"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=00"},
    )
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("a forged event was accepted")
    except urllib.error.HTTPError as exc:
        assert exc.code == 401
    assert len(ops.sb.fake.calls("views.publish")) == before + 1
