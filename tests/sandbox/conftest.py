from __future__ import annotations

from sandbox_helpers import console, sandbox  # noqa: F401 - the fixtures
