"""What a context reply shows: recent changes to the alert's resource and other open alerts.

Plain data (no AWS, no Slack), so ``bot.slack`` can render it and ``bot.store`` can cache it.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class Change(BaseModel):
    """One CloudTrail write event on the resource."""

    model_config = ConfigDict(extra="ignore", defer_build=True)  # built on first use: off the notify cold path

    event_id: str
    event_name: str
    time: datetime
    principal: str = ""
    region: str = ""


class OpenAlert(BaseModel):
    """Another open alert on the same resource, principal or access key."""

    model_config = ConfigDict(extra="ignore", defer_build=True)  # built on first use: off the notify cold path

    alert_id: str
    fingerprint: str = ""
    source_kind: str = ""
    title: str = ""
    severity: str = ""
    link: str = ""
    why: str = ""  # "same resource", "same principal", "same access key"


class Context(BaseModel):
    """Everything one context reply says. ``changes`` is None when no lookup was made (rate
    limited, or the account cannot be read): the reply then lists only ``also_open``."""

    model_config = ConfigDict(defer_build=True)  # built on first use: off the notify cold path

    resource_label: str
    window_hours: int
    changes: list[Change] | None = None
    also_open: list[OpenAlert] = []
    note: str = ""
