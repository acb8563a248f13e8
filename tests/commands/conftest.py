"""Fixtures for /ops tests; helpers live in commands_support.py (a unique module name, since
several test folders have a conftest.py and `from conftest import` would pick the wrong one)."""

from __future__ import annotations

from commands_support import make_rt, rt, shared_rt  # noqa: F401 - fixtures
