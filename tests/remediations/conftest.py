"""Fixtures for remediation tests: moto, a recording client factory, a run context."""

from __future__ import annotations

import pytest
from remediation_fakes import RecordingFactory, make_ctx


@pytest.fixture
def fast_moto(monkeypatch):
    """moto loads ~2 s of default AMIs per EC2 backend; the scenarios use a fixed image id instead."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.fixture
def factory(fast_moto, aws) -> RecordingFactory:
    return RecordingFactory()


@pytest.fixture
def ctx(factory):
    return make_ctx(factory)


@pytest.fixture(autouse=True)
def _no_runbooks():
    """ssm.run-automation keeps the configured runbooks on the registered instance: reset around each test."""
    from bot.remediations import remediations

    rem = remediations["ssm.run-automation"]
    rem.configure([])
    yield
    rem.configure([])
