"""Files upload v2 between SlackPoster.upload_file and the loopback Slack fake, as Slack plays it:
the declared length is checked, a file is shared only once its bytes arrived, the share lands
in the thread, and every refusal is a SlackError without the token."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from bot.errors import SlackError
from bot.sandbox.slack_fake import SlackFake
from bot.slack.client import SlackPoster

TOKEN = "xoxb-upload-test-0000"


@pytest.fixture
def slack():
    with SlackFake(rate_limit=False, bot_token=TOKEN) as fake:
        yield fake


def _poster(fake: SlackFake) -> SlackPoster:
    return SlackPoster(TOKEN, fake.url, server_error_retries=0, backoff=0)


def test_upload_shares_the_bytes_in_the_thread(slack):
    poster = _poster(slack)
    channel, ts = poster.post({"channel": "#ops", "text": "alert"})
    fid = poster.upload_file(channel, ts, filename="g.png", content=b"\x89PNG-bytes", title="G", initial_comment="hi")
    (reply,) = slack.workspace.channel(channel).replies(ts)
    assert reply.text == "hi" and reply.files[0]["id"] == fid and reply.files[0]["title"] == "G"
    assert slack.workspace.files[fid].content == b"\x89PNG-bytes"
    with urllib.request.urlopen(reply.files[0]["url_private"], timeout=5) as resp:
        assert resp.read() == b"\x89PNG-bytes" and resp.headers["Content-Type"] == "image/png"


def test_a_thread_that_does_not_exist_is_refused(slack):
    poster = _poster(slack)
    channel, _ = poster.post({"channel": "#ops", "text": "alert"})
    with pytest.raises(SlackError, match="invalid_thread_ts") as err:
        poster.upload_file(channel, "1.000001", filename="g.png", content=b"x", title="G")
    assert TOKEN not in str(err.value)


def test_the_fake_checks_length_and_order(slack):
    def api(method: str, **params: object) -> dict:
        req = urllib.request.Request(
            slack.url + method,
            data=json.dumps(params).encode(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    ticket = api("files.getUploadURLExternal", filename="a.png", length=4)
    assert ticket["ok"] and ticket["upload_url"].endswith("/upload/" + ticket["file_id"])
    # shared before its bytes arrived: refused
    done = api("files.completeUploadExternal", files=json.dumps([{"id": ticket["file_id"]}]))
    assert done == {"ok": False, "error": "file_upload_not_complete", "response_metadata": done["response_metadata"]}
    with pytest.raises(urllib.error.HTTPError) as err:  # 3 bytes where 4 were declared
        urllib.request.urlopen(urllib.request.Request(ticket["upload_url"], data=b"abc", method="POST"), timeout=5)
    assert err.value.code == 400
    with urllib.request.urlopen(urllib.request.Request(ticket["upload_url"], data=b"abcd", method="POST"), timeout=5):
        pass
    assert api("files.completeUploadExternal", files=json.dumps([{"id": ticket["file_id"], "title": "A"}]))["ok"]
    assert api("files.completeUploadExternal", files=json.dumps([{"id": "FNOPE"}]))["error"] == "file_not_found"
    assert api("files.getUploadURLExternal", filename="a.png", length=0)["error"] == "invalid_arguments"
