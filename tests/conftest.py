"""Shared fixtures: fake AWS credentials, moto, settings.

Area-specific fixtures live in each area's folder (tests/<area>/conftest.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.sandbox.moto_serial import serialize_moto

# moto handles one request at a time, as a real service's writes are atomic (a notify batch
# delivers several channels at once in threads): bot/sandbox/moto_serial.py
serialize_moto()

EVENTS_DIR = Path(__file__).parent / "events"

# Never reach a real AWS account from a test, whatever the developer's shell has set.
for _key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_key, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_REGION"] = "us-east-1"


@pytest.fixture(autouse=True)
def _fresh_tag_cache():
    """Tag lookups are cached for the process (bot.routing.tags): every test starts cold."""
    from bot.routing import tags

    tags.clear_cache()
    yield
    tags.clear_cache()


@pytest.fixture(autouse=True)
def _no_runbooks_left_over():
    """``ssm.run-automation`` keeps the runbooks of the last runtime built (a process-wide
    registry entry, as in a Lambda container): a test that configured some must not make the
    next one offer them."""
    from bot.remediations.ssm import configure_runbooks

    yield
    configure_runbooks([])


@pytest.fixture
def aws():
    """moto's in-process AWS for the duration of one test."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def events_dir() -> Path:
    return EVENTS_DIR
