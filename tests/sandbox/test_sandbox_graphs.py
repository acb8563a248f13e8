"""Alarm graphs in the sandbox (`make run`): the demo's CPU alarm (and a fired staging one) get
their graph in the alert's thread, through the real pollers (notify → jobs queue → worker), the
moto server seeded with an hour of CPU, and the console's files upload v2; then Chromium shows
the <img> in the thread. Screenshot: docs/images/alarm-graph.png when EVENTOPS_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import Console, find_message
from test_sandbox_browser import console_page, shots_dir

from bot.graphs.png import BREACH, LINE, read_png

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


def graph_reply(console: Console, alert: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
    return console.wait_for(
        lambda s: next((m for m in s["messages"] if m["thread_ts"] == alert["ts"] and m.get("files")), None), timeout
    )


def fetch_png(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "image/png"
        return resp.read()


def count(rows: list[bytes], color: tuple[int, int, int]) -> int:
    return sum(1 for row in rows for x in range(0, len(row), 3) if tuple(row[x : x + 3]) == color)


def test_the_demo_alarm_gets_its_graph_in_its_thread(console: Console) -> None:
    alert = console.wait_for(lambda s: find_message(s, "Alarm:"))
    assert alert["channel_name"] == "team-payments"
    reply = graph_reply(console, alert)
    assert reply["channel"] == alert["channel"]
    assert "CPUUtilization" in reply["text"] and "threshold 90" in reply["text"]
    file = reply["files"][0]
    assert file["mimetype"] == "image/png"
    assert file["url_private"].startswith(console.sandbox.server.base + "/files/")
    png = fetch_png(file["url_private"])
    width, height, rows = read_png(png)
    assert (width, height) == (600, 300)
    assert count(rows, LINE) > 500 and count(rows, BREACH) >= 81
    fake = console.sandbox.fake
    assert [r.method for r in fake.requests if r.method.startswith("files.") or r.method == "upload"][:3] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]


def test_a_fired_staging_alarm_is_graphed_from_the_staging_account(console: Console) -> None:
    status, body = console.post("/console/fire", {"sample": "alarm-staging"})
    assert status == 200, body
    alert = console.wait_for(lambda s: find_message(s, "web-staging CPU above 90%"))
    reply = graph_reply(console, alert)
    _, _, rows = read_png(fetch_png(reply["files"][0]["url_private"]))
    assert count(rows, LINE) > 500  # staging's own seeded CPU, read through its member role


def test_an_unknown_file_is_a_404(console: Console) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(console.sandbox.server.base + "/files/FNOSUCH/x.png", timeout=5)
    assert err.value.code == 404


@pytest.mark.browser
def test_the_console_shows_the_graph_in_the_thread(console: Console, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    alert = console.wait_for(lambda s: find_message(s, "Alarm:"))
    graph_reply(console, alert)
    shots = shots_dir(IMAGES, tmp_path)
    with console_page(console.sandbox.url, tmp_path) as page:
        page.locator("#channels a[data-name='team-payments']").click()
        msg = page.locator(".message", has_text="Alarm:").first
        expect(msg).to_be_visible(timeout=20_000)
        msg.locator(".replies").click()
        img = page.locator("#thread .bk-file-image img").first
        expect(img).to_be_visible(timeout=10_000)
        # loaded and decoded by the browser: the real PNG's size, not a broken-image icon
        page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img.element_handle())
        assert img.evaluate("el => [el.naturalWidth, el.naturalHeight]") == [600, 300]
        expect(page.locator("#thread")).to_contain_text("CPUUtilization")
        page.screenshot(path=str(shots / "alarm-graph.png"))
    assert (shots / "alarm-graph.png").stat().st_size > 10_000
