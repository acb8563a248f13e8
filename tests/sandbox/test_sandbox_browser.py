"""The demo in a real browser: Playwright (sync API) driving Debian's Chromium through the console.

Open the console, see the open-port alert, click "Revoke open ingress rule" (the title
``ec2.revoke-ingress`` declares), confirm, watch the message turn to succeeded/verified, type
``/ops instances`` and read the answer. Screenshots go to docs/screenshots/ for the README.

Chromium comes from Debian (``apt-get install -y --no-install-recommends chromium``; .ci/run
installs it); ``playwright install`` cannot download here. A missing browser FAILS this test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sandbox_helpers import Console

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


@pytest.mark.browser
def test_console_demo_in_chromium(console: Console, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium "
            "(apt-get install -y --no-install-recommends chromium; .ci/run does this)"
        )
    from playwright.sync_api import expect, sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user-data-dir
            executable_path=CHROMIUM,
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
            page.screenshot(path=str(SCREENSHOTS / "console-alert.png"))

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
            page.screenshot(path=str(SCREENSHOTS / "console-verified.png"))

            # 4. /ops instances in the message box; the answer is only visible to the user
            page.locator("#thread-close").click()
            page.locator("#composer").fill("/ops instances")
            page.locator("#composer").press("Enter")
            answer = page.locator(".message.ephemeral", has_text="EC2 instances").last
            expect(answer).to_be_visible(timeout=20_000)
            expect(answer).to_contain_text("web-1")
            expect(answer).to_contain_text("web-staging")
            answer.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / "console-ops.png"))
        finally:
            context.close()
    assert not errors, f"JavaScript errors in the console: {errors}"
