"""The EventBridge envelope and the parser plugin interface.

Parse the envelope once (``EventEnvelope``), then the source's own detail model. A parser is
registered for one or more ``(source, detail-type)`` keys::

    @parsers.register(("aws.guardduty", "GuardDuty Finding"))
    class GuardDutyParser(Parser):
        kind = "guardduty"
        def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert: ...

Detail models accept unknown fields (AWS adds fields) and validate only what we act on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from bot.models import Alert, Resource
from bot.registry import Registry


class EventEnvelope(BaseModel):
    """The EventBridge envelope. ``detail`` stays a dict until a parser validates it."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    version: str = "0"
    id: str
    detail_type: str = Field(alias="detail-type")
    source: str
    account: str = ""
    time: datetime
    region: str = ""
    resources: list[str] = Field(default_factory=list)
    detail: dict[str, Any] = Field(default_factory=dict)


class Detail(BaseModel):
    """Base for detail models: unknown fields are kept, never rejected."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


# Looks up a resource's tags at parse time: (resource type, id, account, region) -> tags.
TagLookup = Callable[[str, str, str, str], dict[str, str]]


@dataclass
class ParseContext:
    """What a parser may use besides the event: tag enrichment and account aliases.

    ``lookup_tags`` may be None (offline render); a failed lookup must never fail the alert.
    """

    lookup_tags: TagLookup | None = None
    account_alias: Callable[[str], str | None] = field(default=lambda _acct: None)
    warnings: list[str] = field(default_factory=list)

    def tags_for(self, rtype: str, rid: str, account: str, region: str) -> dict[str, str]:
        if self.lookup_tags is None:
            return {}
        try:
            return self.lookup_tags(rtype, rid, account, region) or {}
        except Exception as exc:  # noqa: BLE001 - enrichment is best effort by design
            self.warnings.append(f"tag lookup for {rid} failed: {type(exc).__name__}")
            return {}


class Parser:
    """A source parser. Subclasses set ``kind`` and implement ``parse``."""

    kind: ClassVar[str] = "generic"

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:  # pragma: no cover
        raise NotImplementedError

    @staticmethod
    def resource(**kwargs: Any) -> Resource:
        return Resource(**kwargs)


# Keyed by (source, detail-type). The generic fallback is not registered here.
parsers: Registry[type[Parser]] = Registry("parser")
