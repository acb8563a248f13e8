"""Sandbox test helpers: the whole bot in this process on free ports, and HTTP helpers.

Each test module gets its own sandbox (module scope): the pollers feed the handlers' module-level
runtimes, so a sandbox must not outlive the module that started it.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.sandbox.runner import Sandbox, SandboxOptions

SIGNING_SECRET = "sandbox-test-signing-secret"


class Console:
    """What a test does to the sandbox over HTTP, as the web console does."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.base = sandbox.server.base

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base + path, timeout=10) as resp:
            return json.loads(resp.read())

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        req = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def post_api(self, method: str, params: dict[str, Any]) -> tuple[int, Any]:
        """A Slack Web API call as the bot makes it (bearer token, JSON body)."""
        req = urllib.request.Request(
            self.base + "/api/" + method,
            data=json.dumps(params).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.sandbox.bot_token}"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())

    def open_home(self, user: str) -> dict[str, Any]:
        """``user`` opens the app's Home tab: the console sends a signed ``app_home_opened``
        event_callback to /slack/events and answers {status, ms, view} (the view published)."""
        status, body = self.post("/console/home", {"user": user})
        assert status == 200, body
        return body

    def messages(self) -> dict[str, Any]:
        return self.get("/api/messages")

    def wait_for(self, predicate: Callable[[dict[str, Any]], Any], timeout: float = 20.0) -> Any:
        """Poll GET /api/messages until ``predicate`` gives something truthy."""
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            last = self.messages()
            found = predicate(last)
            if found:
                return found
            time.sleep(0.2)
        texts = [m["text"][:120] for m in last.get("messages", [])]
        raise AssertionError(f"not seen within {timeout:.0f} s; messages now: {texts}")


def find_message(snapshot: dict[str, Any], text: str) -> dict[str, Any] | None:
    return next((m for m in snapshot["messages"] if text in m["text"] and not m["thread_ts"]), None)


def button(message: dict[str, Any], label: str) -> dict[str, Any]:
    """The button labelled ``label``, or a select menu's option of that text (as the
    ``{action_id, value}`` a click on it sends)."""
    labels = []
    for block in message["blocks"]:
        for el in block.get("elements") or []:
            if el.get("type") == "button":
                if el["text"]["text"] == label:
                    return el
                labels.append(el["text"]["text"])
            for option in el.get("options") or []:
                if option["text"]["text"] == label:
                    return {"action_id": el["action_id"], "value": option["value"], "type": el["type"]}
                labels.append(option["text"]["text"])
    raise AssertionError(f"no button {label!r}; buttons: {labels}")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(SandboxOptions(port=0, aws_port=0, demo=True, signing_secret=SIGNING_SECRET))
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="module")
def console(sandbox: Sandbox) -> Console:
    return Console(sandbox)
