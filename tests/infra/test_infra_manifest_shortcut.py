"""The manifest declares the one message shortcut the Bolt app listens for."""

from __future__ import annotations

import yaml

from bot.deploy.manifest import PLACEHOLDER_URL, render_manifest
from bot.slack.payloads import EXPLAIN_SHORTCUT_ID


def test_the_manifest_declares_explain_with_eventops():
    data = yaml.safe_load(render_manifest(PLACEHOLDER_URL))
    assert data["features"]["shortcuts"] == [
        {
            "name": "Explain with EventOps",
            "type": "message",
            "callback_id": EXPLAIN_SHORTCUT_ID,
            "description": "Why this alert went here: its rule, grouping and remediations",
        }
    ]
    shortcut = data["features"]["shortcuts"][0]
    assert len(shortcut["name"]) <= 24 and len(shortcut["description"]) <= 80  # Slack's limits
