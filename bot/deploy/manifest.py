"""The Slack app manifest: paste it at api.slack.com/apps → Create New App → From a manifest.

``render_manifest(url)`` fills in the bot's HTTP API URL (the ``SlackEventsUrl`` stack output,
or just the API's base URL)::

    >>> text = render_manifest("https://abc123.execute-api.eu-west-1.amazonaws.com")
    >>> "request_url: https://abc123.execute-api.eu-west-1.amazonaws.com/slack/events" in text
    True

Every Slack surface (slash command, buttons and modals, the Home tab's events) posts to the one route,
``POST /slack/events``, where Bolt verifies the signature and dispatches.

``render_manifest(socket_mode=True)`` is the app for ``python -m bot dev --socket-mode``: Socket
Mode on and no request URL (Slack delivers over the WebSocket the app opens). Its app-level token
(``xapp-…``, scope ``connections:write``) cannot come from a manifest; the header says where to
generate it::

    >>> text = render_manifest(socket_mode=True)
    >>> "socket_mode_enabled: true" in text and "request_url" not in text and "connections:write" in text
    True
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.errors import EventOpsError
from bot.slack.payloads import EXPLAIN_SHORTCUT_ID

EVENTS_PATH = "/slack/events"
PLACEHOLDER_URL = "https://YOUR-API-ID.execute-api.YOUR-REGION.amazonaws.com"

# Each scope is here for a reason; Slack shows the list to whoever installs the app.
# tests/infra/test_infra_slack_scopes.py derives the list from the Web API methods bot/ calls.
BOT_SCOPES = [
    "chat:write",  # chat.postMessage, chat.update, chat.postEphemeral: alert messages and replies
    "chat:write.public",  # post to routed channels without inviting the bot to each
    "commands",  # /ops
    "files:write",  # files.getUploadURLExternal, files.completeUploadExternal: alarm graphs in the alert's thread
    "usergroups:read",  # usergroups.users.list: authorization by Slack user group
]
# Events API: only the events bot/slack/app.py listens to. (An event without a listener would
# get a 404 from Bolt, and Slack disables subscriptions that keep failing.) app_home_opened needs
# no scope; views.publish neither.
BOT_EVENTS = [
    "app_home_opened",  # the Home tab: bot.home publishes the viewer's view (views.publish)
]


# The message shortcut in every message's ⋯ menu (bot.slack.app listens for its callback_id).
EXPLAIN_SHORTCUT = {
    "name": "Explain with EventOps",
    "type": "message",
    "callback_id": EXPLAIN_SHORTCUT_ID,
    "description": "Why this alert went here: its rule, grouping and remediations",
}


class ManifestURLError(EventOpsError, ValueError):
    """The URL given to ``render_manifest`` is not an https URL."""


def events_url(url: str) -> str:
    """``https://x.example/`` or ``https://x.example/slack/events`` → ``https://x.example/slack/events``."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.netloc:
        raise ManifestURLError(f"Slack needs a public https URL, got {url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith(EVENTS_PATH):
        path = path + EVENTS_PATH
    return f"https://{parts.netloc}{path}"


# Socket Mode's app-level token: not in a manifest (Slack has no field for it).
APP_TOKEN_SCOPE = "connections:write"


def manifest(
    url: str = PLACEHOLDER_URL, name: str = "EventOps", command: str = "/ops", *, socket_mode: bool = False
) -> dict[str, Any]:
    """The manifest as a dict (see ``render_manifest``); ``socket_mode`` drops every request URL."""
    data = _manifest(events_url(url), name, command)
    if socket_mode:
        del data["features"]["slash_commands"][0]["url"]
        del data["settings"]["interactivity"]["request_url"]
        del data["settings"]["event_subscriptions"]["request_url"]
        data["settings"]["socket_mode_enabled"] = True
    return data


def _manifest(request_url: str, name: str, command: str) -> dict[str, Any]:
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "AWS events in Slack, with buttons that fix things safely",
            "background_color": "#232f3e",
            "long_description": (
                "EventOps posts AWS events (GuardDuty and Security Hub findings, CloudWatch alarms, "
                "Health events, Config compliance, risky CloudTrail calls, pipeline failures) to the "
                "right channel, grouped and deduplicated. Buttons propose remediations that run once, "
                "only for the people allowed to approve them, and report what they did. "
                f"{command} queries live state."
            ),
        },
        "features": {
            "app_home": {"home_tab_enabled": True},
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [
                {
                    "command": command,
                    "url": request_url,
                    "description": "Query and act on AWS events",
                    "usage_hint": "help",
                    "should_escape": False,
                }
            ],
            "shortcuts": [EXPLAIN_SHORTCUT],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {"request_url": request_url, "bot_events": list(BOT_EVENTS)},
            "interactivity": {"is_enabled": True, "request_url": request_url},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }


def render_manifest(url: str | None = None, *, socket_mode: bool = False) -> str:
    """The Slack app manifest as YAML, every request URL pointing at ``url`` + ``/slack/events``,
    or (``socket_mode``) with Socket Mode on and no request URL.

    Raises ``ManifestURLError`` unless ``url`` is an https URL (or absent, with ``socket_mode``).
    """
    if url is None and not socket_mode:
        raise ManifestURLError("give the bot's public https URL, or ask for the Socket Mode manifest")
    header = (
        "# EventOps Slack app manifest. Create the app: https://api.slack.com/apps → Create New App →\n"
        "# From a manifest → paste this file. Generated by bot.deploy.manifest; do not edit.\n"
    )
    if socket_mode:
        header += (
            "# Socket Mode (python -m bot dev --socket-mode): no request URL. Then, in the app's Basic\n"
            "# Information → App-Level Tokens, generate a token with the scope "
            f"{APP_TOKEN_SCOPE}: SLACK_APP_TOKEN (xapp-…).\n"
            "# The bot token (xoxb-…, SLACK_BOT_TOKEN) appears once the app is installed.\n"
        )
    data = manifest(PLACEHOLDER_URL if url is None else url, socket_mode=socket_mode)
    return header + yaml.safe_dump(data, sort_keys=False, width=100, allow_unicode=True)
