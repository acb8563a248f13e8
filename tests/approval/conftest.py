"""Fixtures for the interactivity tests; the world itself is built in tests/approval/world.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.remediations.base import Remediation
from bot.sandbox.slack_fake import SlackFake
from tests.approval.world import World, registered_test_remediation, slack_fake, world_in


@pytest.fixture
def test_remediation() -> Iterator[Remediation]:
    with registered_test_remediation() as rem:
        yield rem


@pytest.fixture
def slack() -> Iterator[SlackFake]:
    with slack_fake() as fake:
        yield fake


@pytest.fixture
def world(aws: None, slack: SlackFake, test_remediation: Remediation) -> Iterator[World]:
    with world_in(slack) as w:
        yield w
