from __future__ import annotations

from pipeline_env import notify_env  # noqa: F401 - the fixture
