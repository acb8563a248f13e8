"""The demo in a real browser: Playwright (sync API) driving Debian's Chromium through the console.

Open the console, see the open-port alert, click "Revoke open ingress rule" (the title
``ec2.revoke-ingress`` declares), confirm, watch the message turn to succeeded/verified, type
``/ops instances`` and read the answer. Screenshots go to docs/screenshots/ for the README when EVENTOPS_UPDATE_SCREENSHOTS=1.

Chromium comes from Debian (``apt-get install -y --no-install-recommends chromium``; .ci/run
installs it); ``playwright install`` cannot download here. A missing browser FAILS this test.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import Console, button

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Without the background-networking flags Chromium keeps calling Google services (closed network).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REVOKE = "Revoke open ingress rule"


def shots_dir(committed: Path, tmp_path: Path) -> Path:
    """Where a test's screenshots go: ``committed`` (docs/…) when EVENTOPS_UPDATE_SCREENSHOTS=1,
    else a temporary folder, so a test run leaves the tree clean."""
    out = committed if os.environ.get("EVENTOPS_UPDATE_SCREENSHOTS") == "1" else tmp_path / "shots"
    out.mkdir(parents=True, exist_ok=True)
    return out


@contextmanager
def console_page(url: str, tmp_path: Path) -> Iterator[Any]:
    """Debian's Chromium (a fresh profile) on the console at ``url``; the test fails afterwards
    if the page raised any JavaScript error."""
    executable = chromium()
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=executable,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1440, "height": 1000},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url)
            yield page
        finally:
            context.close()
    assert not errors, f"JavaScript errors in the console: {errors}"


def chromium() -> str:
    """Debian's chromium, or FAIL (not skip): CI installs it, so its absence is a broken setup."""
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not path:
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium "
            "(apt-get install -y --no-install-recommends chromium; .ci/run does this)"
        )
    return path


@pytest.mark.browser
def test_console_demo_in_chromium(console: Console, tmp_path: Path) -> None:
    executable = chromium()
    from playwright.sync_api import expect, sync_playwright

    # The README's screenshots are refreshed on request only, so a test run leaves the tree clean.
    shots = SCREENSHOTS if os.environ.get("EVENTOPS_UPDATE_SCREENSHOTS") == "1" else tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user-data-dir
            executable_path=executable,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1440, "height": 1000},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(console.sandbox.url)

            # 1. the open-port alert is there at once, in #security
            expect(page.locator("#channel-title")).to_have_text("# security")
            alert = page.locator(".message", has_text="opened to the internet").first
            expect(alert).to_be_visible(timeout=20_000)
            expect(alert.locator(".bk-header")).to_contain_text("opened to the internet")
            expect(alert.locator(".bk-fields")).to_contain_text(console.sandbox.estate.prod.open_rule_id)
            alert.evaluate("el => el.scrollIntoView({block: 'start'})")
            page.screenshot(path=str(shots / "console-alert.png"))

            # 2. click the remediation; Slack's confirm dialog shows the plan first
            alert.get_by_role("button", name=REVOKE).click()
            dialog = page.locator("dialog#confirm")
            expect(dialog).to_be_visible()
            expect(dialog).to_contain_text("Would revoke ingress rule")
            dialog.locator("#confirm-ok").click()

            # 3. the message turns to succeeded; its thread says verified
            alert = page.locator(".message", has_text="opened to the internet").first
            expect(alert).to_contain_text("succeeded", timeout=25_000)
            expect(alert.get_by_role("button", name=REVOKE)).to_have_count(0)
            alert.locator(".replies").click()
            thread = page.locator("#thread")
            expect(thread).to_contain_text("verified by reading the resource again", timeout=10_000)
            alert.evaluate("el => el.scrollIntoView({block: 'start'})")
            page.screenshot(path=str(shots / "console-verified.png"))

            # 4. /ops instances in the message box; the answer is only visible to the user
            page.locator("#thread-close").click()
            page.locator("#composer").fill("/ops instances")
            page.locator("#composer").press("Enter")
            answer = page.locator(".message.ephemeral", has_text="EC2 instances").last
            expect(answer).to_be_visible(timeout=20_000)
            expect(answer).to_contain_text("web-1")
            expect(answer).to_contain_text("web-staging")
            answer.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "console-ops.png"))

            # 5. the Snooze menu: one select for the three durations; choosing one snoozes
            page.locator("#channels a[data-name='security']").click()
            brute = page.locator(".message", has_text="SSH brute force").first
            menu = brute.locator("select.bk-static-select")
            expect(menu).to_have_count(1)
            menu.select_option(label="Snooze 4 hours")
            expect(page.locator(".message", has_text="SSH brute force").first).to_contain_text(
                "Snoozed by", timeout=15_000
            )
        finally:
            context.close()
    assert not errors, f"JavaScript errors in the console: {errors}"


@pytest.mark.browser
def test_console_renders_block_kit_and_escapes_text(console: Console, tmp_path: Path) -> None:
    """Every block type the bot sends renders; mrkdwn formats; text from the bot can never become HTML."""
    executable = chromium()
    from playwright.sync_api import expect, sync_playwright

    sb = console.sandbox
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Render check <b>not bold</b>"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*bold* _italic_ `a<b>c` <https://example.com/x?a=1&amp;b=2|a link> "
                "&lt;img src=x onerror=alert(1)&gt; <javascript:alert(1)|bad link>",
            },
            "fields": [{"type": "mrkdwn", "text": "*Field*\none"}, {"type": "plain_text", "text": "two"}],
        },
        {"type": "divider"},
        {"type": "image", "image_url": "https://example.com/chart.png", "alt_text": "a chart"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "context :red_circle: line"}]},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Plain"},
                    "action_id": "x:plain",
                    "value": "1",
                },
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Careful"},
                    "action_id": "x:danger",
                    "style": "danger",
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Sure?"},
                        "text": {"type": "mrkdwn", "text": "*Really* sure?"},
                        "confirm": {"type": "plain_text", "text": "Yes"},
                        "deny": {"type": "plain_text", "text": "No"},
                        "style": "danger",
                    },
                },
            ],
        },
    ]
    status, body = console.post_api("chat.postMessage", {"channel": "#ops", "text": "render check", "blocks": blocks})
    assert status == 200 and body["ok"], body
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = context.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(sb.url)
            page.locator("#channels a[data-name='ops']").click()
            msg = page.locator(".message", has_text="Render check")
            expect(msg).to_be_visible(timeout=10_000)
            expect(msg.locator(".bk-header")).to_have_text("Render check <b>not bold</b>")
            expect(msg.locator(".mrkdwn b").first).to_have_text("bold")
            expect(msg.locator(".mrkdwn i")).to_have_text("italic")
            expect(msg.locator(".mrkdwn code")).to_have_text("a<b>c")
            expect(msg.locator("a", has_text="a link")).to_have_attribute("href", "https://example.com/x?a=1&b=2")
            expect(msg.locator("a", has_text="bad link")).to_have_count(0)
            expect(msg).to_contain_text("<img src=x onerror=alert(1)>")
            expect(msg.locator("img[src='x']")).to_have_count(0)
            expect(msg.locator(".bk-fields > div")).to_have_count(2)
            expect(msg.locator("hr.bk-divider")).to_have_count(1)
            expect(msg.locator(".bk-image")).to_contain_text("a chart")  # offline: the alt text stands in
            expect(msg.locator(".bk-context .emo.dot")).to_have_count(1)
            expect(msg.locator(".bk-button.danger")).to_have_text("Careful")
            msg.get_by_role("button", name="Careful").click()
            expect(page.locator("dialog#confirm")).to_contain_text("Really")
            expect(page.locator("#confirm-ok")).to_have_text("Yes")
            page.locator("#confirm-deny").click()
            expect(page.locator("dialog#confirm")).not_to_be_visible()
            assert not dialogs, f"script ran from message text: {dialogs}"
        finally:
            context.close()


@pytest.mark.browser
def test_console_home_tab_in_chromium(console: Console, tmp_path: Path) -> None:
    """The Home entry sends a signed app_home_opened through the front door and shows the view the
    bot published with views.publish: its sections, the open alert linked to its message."""
    executable = chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = SCREENSHOTS if os.environ.get("EVENTOPS_UPDATE_SCREENSHOTS") == "1" else tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    sb = console.sandbox
    _home_world(console)
    errors: list[str] = []
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=executable,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1440, "height": 1000},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(sb.url)
            expect(page.locator(".message", has_text="opened to the internet").first).to_be_visible(timeout=20_000)
            page.locator("#user-picker").select_option("U0APPROVER")
            before = len(sb.fake.calls("views.publish"))
            page.locator("#home-link").click()
            home = page.locator(".home-view")
            expect(home).to_be_visible(timeout=10_000)
            expect(page.locator("#channel-title")).to_have_text("EventOps · Home")
            for title in (
                "Kill switch",
                "Waiting for your approval",
                "Open alerts",
                "Your recent actions",
                "Active snoozes",
                "Maintenance windows",
            ):
                expect(home.locator(".bk-section b", has_text=title)).to_have_count(1)
            link = home.locator(".bk-section", has_text="Open alerts").locator("a", has_text="CPU")
            expect(link).to_have_attribute("href", re.compile(r"^https://eventops-sandbox\.slack\.com/archives/"))
            expect(home).to_contain_text("remediations can run")
            approvals = home.locator(".bk-section", has_text="Waiting for your approval")
            expect(approvals).to_contain_text("Isolate instance")
            expect(approvals).to_contain_text("0/2 approvals")
            expect(home.locator(".bk-section", has_text="Your recent actions")).to_contain_text("SNOOZED")
            expect(home.locator(".bk-section", has_text="Active snoozes")).to_contain_text("by @approver")
            expect(page.locator("#composer-form")).to_be_hidden()
            assert [c.params["user_id"] for c in sb.fake.calls("views.publish")[before:]] == ["U0APPROVER"]
            page.screenshot(path=str(shots / "app-home.png"))

            # another user opens their own Home tab; a channel brings the messages back
            page.locator("#user-picker").select_option("U0OPERATOR")
            operator = page.locator(".home-view[data-user='U0OPERATOR']")
            expect(operator).to_be_visible(timeout=10_000)
            expect(operator.locator(".bk-section", has_text="Waiting for your approval")).to_contain_text(
                "Nothing waits for you"
            )
            page.locator("#channels a[data-name='security']").click()
            expect(page.locator(".home-view")).to_have_count(0)
            expect(page.locator("#composer-form")).to_be_visible()
        finally:
            context.close()
    assert not errors, f"JavaScript errors in the console: {errors}"


def _home_world(console: Console) -> None:
    """What the Home tab screenshot shows, made as users make it: the operator asks for a
    HIGH-risk isolation with /ops run (it waits for two approvers), the approver snoozes the
    CPU alarm from its menu."""
    sb = console.sandbox
    srv = sb.server
    snap = console.wait_for(lambda s: len([m for m in s["messages"] if not m["thread_ts"]]) >= 3 and s)
    ops_channel = next(c["id"] for c in snap["channels"] if c["name"] == "ops")
    iid = sb.estate.prod.instances["db-1"]
    srv.slash_command(
        "U0OPERATOR", ops_channel, f"/ops run ec2.isolate-instance {iid} account={sb.estate.prod.account}"
    )
    console.wait_for(lambda s: any(iid in str(m) and "Approve" in str(m["blocks"]) for m in s["messages"]))
    alarm = console.wait_for(
        lambda s: next((m for m in s["messages"] if "CPU" in m["text"] and not m["thread_ts"]), None)
    )
    el = button(alarm, "Snooze 1 hour")
    assert srv.click("U0APPROVER", alarm["channel"], alarm["ts"], el["action_id"], el["value"])["status"] == 200
    console.wait_for(lambda s: "Snoozed by" in str(next(m for m in s["messages"] if m["ts"] == alarm["ts"])["blocks"]))
