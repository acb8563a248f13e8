"""The ``maintenance:`` entries of eventops.yml: windows planned ahead, one-off or weekly.

Example::

    maintenance:
      - name: sunday-patching            # unique; part of each occurrence's window id
        scope: account:prod
        weekly: {days: [sun], start: "02:00", duration: 2h}    # UTC
        reason: OS patching
      - name: db-migration
        scope: tag:env=staging
        start: "2026-12-05T22:00:00Z"
        end: "2026-12-06T01:00:00Z"
        reason: Aurora major version upgrade

``occurrence(schedule, now)`` is the window the entry has open at ``now``, if any: its id is
stable (``cfg-<name>-<start, UTC minute>``), so the notify side and housekeeping, whichever
meets it first, write it to the store once and both find the same window there.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.models import MaintenanceWindow

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SCHEDULED_BY = "eventops.yml"
_DURATION_RE = re.compile(r"(\d+)\s*(w|d|h|m)")
_UNIT_S = {"w": 604800, "d": 86400, "h": 3600, "m": 60}
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_CLOCK_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def duration_seconds(text: str) -> int:
    """``"30m"``, ``"2h"``, ``"1h30m"``, ``"2d"``, ``"1w"`` → seconds; ValueError otherwise.

    >>> duration_seconds("1h30m"), duration_seconds("2d")
    (5400, 172800)
    """
    s = str(text).strip().lower().replace(" ", "")
    if not s or _DURATION_RE.sub("", s):
        raise ValueError(f"`{text}` is not a duration; use e.g. 30m, 2h, 1h30m, 1d")
    total = sum(int(n) * _UNIT_S[unit] for n, unit in _DURATION_RE.findall(s))
    if total < 60:
        raise ValueError(f"`{text}`: a window lasts at least a minute")
    return total


def human_duration(seconds: float) -> str:
    """``7500`` → ``"2h 5m"``, ``90000`` → ``"1d 1h"``, ``40`` → ``"0m"``.

    >>> human_duration(7500), human_duration(90000)
    ('2h 5m', '1d 1h')
    """
    minutes = int(max(0, seconds) // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if mins or not parts:
        parts.append(f"{mins}m")
    return " ".join(parts[:2]) if days else " ".join(parts)


class Weekly(BaseModel):
    """Every week on ``days``, from ``start`` (HH:MM, UTC) for ``duration`` (at most 6 days)."""

    model_config = ConfigDict(extra="forbid")

    days: list[Day] = Field(min_length=1, description="Days of the week the window opens on (mon … sun).")
    start: str = Field(description='When it opens, HH:MM in UTC (quote it: "02:00").')
    duration: str = Field(description="How long it stays open, e.g. 2h, 90m, 1d (at most 6 days).")

    @field_validator("start")
    @classmethod
    def _clock(cls, v: str) -> str:
        if not _CLOCK_RE.match(v):
            raise ValueError(f"{v!r} is not a time of day as HH:MM (UTC), e.g. '02:00'")
        return v

    @field_validator("duration")
    @classmethod
    def _duration(cls, v: str) -> str:
        seconds = duration_seconds(v)
        if seconds > 6 * 86400:
            raise ValueError("a weekly window lasts at most 6 days")
        return v

    @property
    def seconds(self) -> int:
        return duration_seconds(self.duration)


class MaintenanceSchedule(BaseModel):
    """One ``maintenance:`` entry: a scope, and either ``start`` + ``end`` or ``weekly``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="A unique name (lowercase letters, digits, dashes); part of each window's id.")
    scope: str = Field(
        description="What it holds: account:<id|alias>, region:<name>, tag:<key>=<value> or rule:<routing rule>."
    )
    reason: str = Field(default="", description="Shown in `/ops maintenance` and in the summary when it ends.")
    start: datetime | None = Field(default=None, description="A one-off window's start (ISO 8601; UTC if no zone).")
    end: datetime | None = Field(default=None, description="A one-off window's end (ISO 8601; UTC if no zone).")
    weekly: Weekly | None = Field(default=None, description="A window that opens every week (instead of start/end).")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME_RE.match(v):
            raise ValueError(f"{v!r}: a name is lowercase letters, digits and dashes (like sunday-patching)")
        return v

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v

    @model_validator(mode="after")
    def _one_kind(self) -> MaintenanceSchedule:
        if self.weekly is not None:
            if self.start is not None or self.end is not None:
                raise ValueError("give either start and end, or weekly, not both")
        elif self.start is None or self.end is None:
            raise ValueError("give start and end (ISO 8601 times), or weekly: {days, start, duration}")
        elif self.end <= self.start:
            raise ValueError("end must be after start")
        return self


def occurrence(s: MaintenanceSchedule, now: datetime) -> MaintenanceWindow | None:
    """The window ``s`` has open at ``now`` (``starts_at <= now < ends_at``), or None."""
    if s.weekly is None:
        assert s.start is not None and s.end is not None  # the model's validator
        return _window(s, s.start, s.end) if s.start <= now < s.end else None
    hour, minute = (int(p) for p in s.weekly.start.split(":"))
    length = timedelta(seconds=s.weekly.seconds)
    today = now.astimezone(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    for back in range(8):  # a window lasts at most 6 days: one that began up to a week ago
        begin = today - timedelta(days=back)
        if DAYS[begin.weekday()] in s.weekly.days and begin <= now < begin + length:
            return _window(s, begin, begin + length)
    return None


def _window(s: MaintenanceSchedule, begin: datetime, end: datetime) -> MaintenanceWindow:
    return MaintenanceWindow(
        id=f"cfg-{s.name}-{begin.astimezone(UTC):%Y%m%d%H%M}",
        scope=s.scope,
        reason=s.reason,
        started_by=SCHEDULED_BY,
        starts_at=begin,
        ends_at=end,
    )
