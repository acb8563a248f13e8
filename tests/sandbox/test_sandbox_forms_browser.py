"""The other Slack-native surfaces in a real browser (Chromium, Playwright): Snooze… → Custom…
opens its form (a field error over the policy's bound, then a valid snooze), ``/ops run`` with a
missing parameter opens the form built from the remediation's parameters, and "Explain with
EventOps" from a message's ⋯ menu answers with the explanation, only to the user.

Screenshots go to docs/images/ when EVENTOPS_UPDATE_SCREENSHOTS=1 (as the others), else to a
temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sandbox_helpers import Console
from test_sandbox_browser import console_page, shots_dir

from bot.sandbox.estate import PROD

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.mark.browser
def test_snooze_form_run_form_and_explain_shortcut_in_chromium(console: Console, tmp_path: Path) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    shots = shots_dir(IMAGES, tmp_path)
    with console_page(console.sandbox.url, tmp_path) as page:
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
    snoozed = [e for e in console.sandbox.runtime().store.recent_audit(limit=50) if e.outcome == "SNOOZED"]
    assert snoozed and snoozed[0].action.endswith("90m"), [(e.action, e.outcome) for e in snoozed]
