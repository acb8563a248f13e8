"""The other Slack-native surfaces in a real browser (Chromium, Playwright): Snooze… → Custom…
opens its form (a field error over the policy's bound, then a valid snooze), ``/ops run`` with a
missing parameter opens the form built from the remediation's parameters, and "Explain with
EventOps" from a message's ⋯ menu answers with the explanation, only to the user.

Screenshots go to docs/images/ when EVENTOPS_UPDATE_SCREENSHOTS=1 (as the others), else to a
temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sandbox_helpers import Console
from test_sandbox_browser import CHROMIUM_ARGS, chromium

from bot.sandbox.estate import PROD

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.mark.browser
def test_snooze_form_run_form_and_explain_shortcut_in_chromium(console: Console, tmp_path: Path) -> None:
    executable = chromium()
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    shots = IMAGES if os.environ.get("EVENTOPS_UPDATE_SCREENSHOTS") == "1" else tmp_path / "images"
    shots.mkdir(parents=True, exist_ok=True)
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
            page.goto(console.sandbox.url)
            alert = page.locator(".message", has_text="opened to the internet").first
            expect(alert).to_be_visible(timeout=20_000)

            # 1. Snooze… → Custom…: over the bound is a field error; 90 minutes snoozes
            alert.locator("select.bk-static-select").first.select_option(label="Custom…")
            form = page.locator("dialog#modal")
            expect(form).to_be_visible(timeout=10_000)
            form.locator("input[type=number]").first.fill("30")
            form.locator("select").first.select_option(label="days")
            form.locator("button#modal-submit").click()
            expect(form.locator(".modal-error").first).to_contain_text("at most", timeout=10_000)
            form.screenshot(path=str(shots / "modal-snooze.png"))  # the field error, as Slack shows it
            form.locator("input[type=number]").first.fill("90")
            form.locator("select").first.select_option(label="minutes")
            form.locator("[name=reason]").first.fill("Change window for the bastion")
            form.locator("button#modal-submit").click()
            expect(form).not_to_be_visible(timeout=10_000)
            expect(alert).to_contain_text("Snoozed", timeout=15_000)

            # 2. /ops run without the instance: the form built from the parameters
            page.locator("#composer").fill(f"/ops run ec2.stop-instance account={PROD}")
            page.locator("#composer").press("Enter")
            expect(form).to_be_visible(timeout=15_000)
            expect(form).to_contain_text("instance id")
            form.screenshot(path=str(shots / "modal-run.png"))
            form.locator("#modal-cancel").click()
            expect(form).not_to_be_visible(timeout=10_000)

            # 3. Explain with EventOps from the ⋯ menu: an ephemeral explanation
            for _ in range(5):  # the console re-renders as replies arrive, closing an open menu
                alert.locator(".msg-menu summary").click()
                try:
                    alert.locator(".msg-menu .shortcut").click(timeout=3_000)
                    break
                except PlaywrightTimeout:
                    continue
            answer = page.locator(".message.ephemeral", has_text="Routing").last
            expect(answer).to_be_visible(timeout=15_000)
            expect(answer).to_contain_text("matched")
            answer.screenshot(path=str(shots / "shortcut-explain.png"))
        finally:
            context.close()
    assert not errors, f"JavaScript errors in the console: {errors}"
    snoozed = [e for e in console.sandbox.runtime().store.recent_audit(limit=50) if e.outcome == "SNOOZED"]
    assert snoozed and snoozed[0].action.endswith("90m"), [(e.action, e.outcome) for e in snoozed]
