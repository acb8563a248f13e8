"""EventOps: AWS events to Slack, with buttons that fix things safely."""

from __future__ import annotations

__version__ = "0.1.0"
