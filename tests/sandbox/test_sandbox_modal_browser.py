"""A modal in a real browser: click Dismiss in the console, the bot's form (views.open) opens as a
dialog; submit without a reason → Slack-style field error under the field; pick a reason, add a
note, submit → the dialog closes and the message says who dismissed it and why.

The screenshot of the open form goes to docs/images/modal-dismiss.png when
EVENTOPS_UPDATE_SCREENSHOTS=1 (as the other console screenshots), else to a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sandbox_helpers import Console
from test_sandbox_browser import console_page, shots_dir

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.mark.browser
def test_dismiss_form_in_chromium(console: Console, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    shots = shots_dir(IMAGES, tmp_path)
    with console_page(console.sandbox.url, tmp_path) as page:
        alert = page.locator(".message", has_text="opened to the internet").first
        expect(alert).to_be_visible(timeout=20_000)

        alert.get_by_role("button", name="Dismiss").click()
        form = page.locator("dialog#modal")
        expect(form).to_be_visible(timeout=10_000)
        expect(form.locator("#modal-title")).to_have_text("Dismiss alert")
        expect(form).to_contain_text("opened to the internet")

        form.get_by_role("button", name="Dismiss").click()  # no reason picked
        expect(form.locator(".modal-error[data-error-for='reason']")).to_have_text(
            "Pick why this is not a problem.", timeout=10_000
        )
        form.get_by_label("Accepted risk").check()
        form.locator("textarea[name='note']").fill("Bastion host: SSH from anywhere is by design")
        form.screenshot(path=str(shots / "modal-dismiss.png"))
        form.get_by_role("button", name="Dismiss").click()

        expect(form).not_to_be_visible(timeout=10_000)
        alert = page.locator(".message", has_text="opened to the internet").first
        expect(alert).to_contain_text("Dismissed by", timeout=15_000)
        expect(alert).to_contain_text("Accepted risk")
    dismissed = [e for e in console.sandbox.runtime().store.recent_audit(limit=50) if e.outcome == "DISMISSED"]
    assert [e.result for e in dismissed] == ["reason: Accepted risk: Bastion host: SSH from anywhere is by design"]
