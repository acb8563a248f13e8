"""End-to-end over real HTTP: the sandbox (moto as AWS, the loopback Slack fake) driven as Slack drives it.

Clicks and commands go through ``ConsoleServer.click`` / ``slash_command``: real ``block_actions``
payloads and slash-command forms, HMAC v0 signed with the sandbox's signing secret, POSTed to
``/slack/events``. Outcomes are read back from moto, the fake's workspace and the store.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sandbox"))
from sandbox_helpers import SIGNING_SECRET, Console, button, find_message

from bot.sandbox.runner import Sandbox, SandboxOptions

OPERATOR, APPROVER, APPROVER2, OUTSIDER = "U0OPERATOR", "U0APPROVER", "U0APPROVER2", "U0OUTSIDER"
PLACEHOLDER = ":hourglass_flowing_sand: Looking up"
BAD_TEXT = ("<html", "<!doctype", "traceback", "internal server error", "dispatch_failed", "went wrong")

__all__ = ["Ops", "button", "find_message", "OPERATOR", "APPROVER", "APPROVER2", "OUTSIDER", "BAD_TEXT"]


class Ops:
    """A user's side of Slack: signed slash commands and clicks, and what came back."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        self.console = Console(sandbox)

    def channel_id(self, name: str) -> str:
        return next(c["id"] for c in self.console.messages()["channels"] if c["name"] == name)

    def ephemerals(self, user: str) -> list[dict[str, Any]]:
        return [e for e in self.console.messages()["ephemerals"] if e["user"] == user]

    def command(self, user: str, text: str, channel: str = "ops", timeout: float = 20.0) -> str:
        """``/ops <text>`` as ``user``; the answer (ack body or response_url post) as one string."""
        before = len(self.ephemerals(user))
        result = self.sb.server.slash_command(user, self.channel_id(channel), "/ops " + text)
        assert result["status"] == 200, result
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = [e for e in self.ephemerals(user)[before:] if not e["text"].startswith(PLACEHOLDER)]
            if new:
                time.sleep(0.3)  # a second part of the same answer
                new = [e for e in self.ephemerals(user)[before:] if not e["text"].startswith(PLACEHOLDER)]
                return "\n".join(e["text"] + " " + str(e["blocks"]) for e in new)
            time.sleep(0.1)
        raise AssertionError(f"/ops {text}: no answer for {user} within {timeout:.0f} s")

    def click(self, user: str, message: dict[str, Any], label: str) -> dict[str, Any]:
        el = button(message, label)
        result = self.sb.server.click(user, message["channel"], message["ts"], el["action_id"], el.get("value"))
        assert result["status"] == 200, result
        return result

    def modal(self, user: str, timeout: float = 5.0) -> dict[str, Any]:
        """The modal the bot opened (views.open) for ``user``, as the console sees it."""
        return self.wait_for(lambda s: next((v for v in reversed(s["views"]) if v["user"] == user), None), timeout)

    def submit(self, user: str, answers: dict[str, Any]) -> dict[str, Any]:
        """Fill in and submit ``user``'s open modal through the console (a signed view_submission)."""
        view = self.modal(user)
        status, result = self.console.post("/console/view", {"user": user, "view": view["id"], "values": answers})
        assert status == 200 and result["status"] == 200, result
        return result

    def said_to(self, user: str, text: str, timeout: float = 20.0) -> dict[str, Any]:
        return self.console.wait_for(
            lambda s: next((e for e in s["ephemerals"] if e["user"] == user and text in e["text"]), None), timeout
        )

    def wait_for(self, predicate: Callable[[dict[str, Any]], Any], timeout: float = 20.0) -> Any:
        return self.console.wait_for(predicate, timeout)

    def message(self, ts: str) -> dict[str, Any]:
        return next(m for m in self.console.messages()["messages"] if m["ts"] == ts)

    def replies(self, snap: dict[str, Any], ts: str) -> list[dict[str, Any]]:
        return [m for m in snap["messages"] if m["thread_ts"] == ts and m["ts"] != ts]

    def audit(self, **kw: Any) -> list[Any]:
        return self.sb.runtime().store.recent_audit(limit=50, **kw)

    def audited(self, outcome: str, timeout: float = 10.0, **fields: Any) -> Any:
        """Wait for an audit record with ``outcome`` (and ``fields`` contained in its values)."""
        deadline = time.monotonic() + timeout
        entries: list[Any] = []
        while time.monotonic() < deadline:
            entries = self.audit()
            for e in entries:
                if e.outcome.lower() == outcome.lower() and all(v in str(getattr(e, k)) for k, v in fields.items()):
                    return e
            time.sleep(0.2)
        seen = [(e.action, e.outcome, e.remediation, e.resource) for e in entries]
        raise AssertionError(f"no audit record {outcome} {fields}; records: {seen}")

    def ec2(self, account: str | None = None) -> Any:
        return self.sb.runtime().sessions.client("ec2", account=account)

    def instance_state(self, iid: str) -> str:
        return self.ec2().describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"]

    def ingress_rules(self, group_id: str) -> list[dict[str, Any]]:
        rules = self.ec2().describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
        return [r for r in rules["SecurityGroupRules"] if not r["IsEgress"]]


def clean(answer: str) -> str:
    low = answer.lower()
    bad = [b for b in BAD_TEXT if b in low]
    assert not bad, f"error text {bad} in the answer: {answer[:500]}"
    return answer


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(SandboxOptions(port=0, aws_port=0, demo=True, signing_secret=SIGNING_SECRET))
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="module")
def ops(sandbox: Sandbox) -> Ops:
    o = Ops(sandbox)
    o.wait_for(lambda s: find_message(s, "opened to the internet") and find_message(s, "SSH brute force"))
    return o
