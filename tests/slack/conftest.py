"""Fixtures for the Slack area: a loopback Slack with and without its rate limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_helpers import TOKEN

from bot.sandbox.slack_fake import SlackFake


@pytest.fixture
def slack() -> Iterator[SlackFake]:
    """A started fake Slack checking TOKEN, without the 1 msg/s/channel limit."""
    with SlackFake(rate_limit=False, bot_token=TOKEN) as fake:
        yield fake


@pytest.fixture
def slack_limited() -> Iterator[SlackFake]:
    """A started fake Slack enforcing 1 message/second/channel."""
    with SlackFake(rate_limit=True, bot_token=TOKEN) as fake:
        yield fake
