"""The Slack app manifest asks for the scopes the code needs and no others (docs/reliability.md #12).

The Web API methods are read from the source: the method-name strings handed to
``SlackPoster._call`` / ``WebClient.api_call`` and any ``WebClient`` convenience method
(``client.chat_postMessage``) in ``bot/`` and ``handlers/`` (the sandbox's Slack fake, which
answers methods rather than calling them, is not scanned). ``METHOD_SCOPES`` gives each its bot
scope, from Slack's method reference; a method missing from it fails the test until it is added.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from slack_sdk import WebClient

from bot.deploy.manifest import BOT_SCOPES, manifest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [ROOT / "bot", ROOT / "handlers"]
NOT_SCANNED = [ROOT / "bot" / "sandbox"]

# Slack Web API method → the bot token scopes it needs (api.slack.com/methods/<method>).
METHOD_SCOPES: dict[str, set[str]] = {
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.getPermalink": set(),  # needs no scope
    "usergroups.users.list": {"usergroups:read"},
    "views.publish": set(),  # needs no scope (the App Home tab)
    "views.open": set(),  # needs no scope (modals, with a click's trigger_id)
    # WebClient.files_upload_v2: files.getUploadURLExternal + files.completeUploadExternal (alarm graphs)
    "files.upload.v2": {"files:write"},
}
# Scopes a feature needs rather than a method call.
FEATURE_SCOPES: dict[str, str] = {
    "commands": "the /ops slash command (features.slash_commands)",
    "chat:write.public": "chat.postMessage to the routed channels without the bot being invited to each",
}
METHOD = re.compile(r"^[a-z]+(\.[a-zA-Z]+)+$")
# Calls whose first argument is the method name: SlackPoster._call and WebClient.api_call.
CALLERS = {"_call", "api_call"}


def _convenience(name: str) -> str | None:
    """``chat_postMessage`` → ``chat.postMessage`` when it is a WebClient method, else None."""
    if "_" in name and not name.startswith("_") and callable(getattr(WebClient, name, None)):
        return name.replace("_", ".")
    return None


def called_methods() -> dict[str, set[str]]:
    """Slack Web API method → the modules (relative paths) that call it."""
    found: dict[str, set[str]] = {}
    for folder in SCANNED:
        for path in sorted(folder.rglob("*.py")):
            if any(path.is_relative_to(skip) for skip in NOT_SCANNED):
                continue
            where = str(path.relative_to(ROOT))
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                    continue
                name = node.func.attr
                if name in CALLERS and node.args:
                    first = node.args[0]
                    value = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
                    if name == "_call":
                        assert value, f"{where}:{node.lineno}: _call() with a computed method name"
                    if value and METHOD.match(value):
                        found.setdefault(value, set()).add(where)
                elif method := _convenience(name):
                    found.setdefault(method, set()).add(where)
    return found


def test_the_scan_sees_the_slack_calls():
    called = called_methods()
    assert {"chat.postMessage", "chat.update", "chat.postEphemeral", "usergroups.users.list"} <= set(called), called
    assert called["chat.postMessage"] == {"bot/slack/client.py"}


def test_every_called_method_has_a_known_scope():
    unknown = sorted(set(called_methods()) - set(METHOD_SCOPES))
    assert not unknown, f"add these Slack methods and their scopes to METHOD_SCOPES: {unknown}"


def test_manifest_asks_for_exactly_the_scopes_the_code_needs():
    needed = {scope for method in called_methods() for scope in METHOD_SCOPES[method]} | set(FEATURE_SCOPES)
    data = manifest()
    asked = data["oauth_config"]["scopes"]["bot"]
    assert sorted(asked) == sorted(needed), (
        f"extra {sorted(set(asked) - needed)}, missing {sorted(needed - set(asked))}"
    )
    assert asked == BOT_SCOPES and len(asked) == len(set(asked))
    assert data["features"]["slash_commands"], "commands is asked for the slash command"
    assert "user" not in data["oauth_config"]["scopes"], "no user-token scopes"


def test_method_table_lists_only_called_methods():
    """The table describes the code, not all of Slack's API."""
    stale = sorted(set(METHOD_SCOPES) - set(called_methods()))
    assert not stale, f"METHOD_SCOPES lists methods nothing calls: {stale}"
