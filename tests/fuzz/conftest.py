"""Bounded fuzzing of every handler. ``make test`` runs a few dozen examples per test;
``make fuzz`` runs thousands (``EVENTOPS_FUZZ_EXAMPLES``). Worlds are module-scoped (moto,
the Slack fake, a Runtime) so hypothesis examples share them, as warm Lambdas would."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.approval.world import World, interact_world
from tests.bench.bench_env import NotifyWorld, notify_config, notify_world

EXAMPLES = int(os.environ.get("EVENTOPS_FUZZ_EXAMPLES", "40"))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=os.environ.get("EVENTOPS_FUZZ_RANDOM") is None,  # reproducible in `make test`
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@pytest.fixture(scope="module")
def notify() -> Iterator[NotifyWorld]:
    with notify_world(notify_config()) as world:
        yield world


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with interact_world() as w:
        yield w
