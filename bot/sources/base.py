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


@dataclass(frozen=True)
class SourceDoc:
    """A parser's entry in the generated source tables (``bot.sources.catalog``)."""

    label: str  # "GuardDuty"
    severity: str  # how the event's own fields map to Severity
    resolved: str  # when the alert is over (``active=False``); "—" when never
    fingerprint: str  # what makes two events the same problem (one message)


class EventEnvelope(BaseModel):
    """The EventBridge envelope. ``detail`` stays a dict until a parser validates it."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)

    version: str = "0"
    id: str
    detail_type: str = Field(alias="detail-type")
    source: str
    account: str = ""
    time: datetime
    region: str = ""
    resources: list[str] = Field(default_factory=list)  # not []: that is deep-copied per event
    detail: dict[str, Any] = Field(default_factory=dict)


class Detail(BaseModel):
    """Base for detail models: unknown fields are kept, never rejected. Their validators are
    built on first use (``defer_build``): a cold start pays only for the sources it sees."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


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
    # What README "Sources and severity" and docs/sources.md say about it (generated from here).
    doc: ClassVar[SourceDoc]
    # Optional EventBridge ``detail`` filter for this parser's rule, e.g. {"eventName": [...]}
    # for CloudTrail sources, so the rule doesn't subscribe to every API call of a service.
    detail_filter: ClassVar[dict[str, Any] | None] = None

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:  # pragma: no cover
        raise NotImplementedError

    @staticmethod
    def resource(**kwargs: Any) -> Resource:
        return Resource(**kwargs)


# Keyed by (source, detail-type). The generic fallback is not registered here.
parsers: Registry[type[Parser]] = Registry("parser")


# A parser registered under (source, ANY_DETAIL_TYPE) handles every detail-type of that source
# that has no exact registration (used by ``eventops.custom``, whose detail-type is the sender's).
ANY_DETAIL_TYPE = "*"

TITLE_MAX = 150
SUMMARY_MAX = 1500
FIELD_KEY_MAX = 40
FIELD_VALUE_MAX = 300
FIELDS_MAX = 12


def trim(text: object, limit: int) -> str:
    """``text`` as one str of at most ``limit`` characters, ellipsis when cut."""
    s = "" if text is None else str(text)
    return s if len(s) <= limit else s[: max(limit - 1, 0)] + "…"


def short_fields(fields: dict[str, object]) -> dict[str, str]:
    """Display fields: str → str, empty values dropped, keys/values/count trimmed."""
    out: dict[str, str] = {}
    for key, value in fields.items():
        if value is None:
            continue
        if type(value) is str:  # the usual value: no list/dict comparisons, no trim call (parse hot path)
            if not value:
                continue
        elif value == "" or value == [] or value == {}:
            continue
        if len(out) >= FIELDS_MAX:
            break
        short = value if type(value) is str and len(value) <= FIELD_VALUE_MAX else trim(value, FIELD_VALUE_MAX)
        out[key if type(key) is str and len(key) <= FIELD_KEY_MAX else trim(key, FIELD_KEY_MAX)] = short
    return out


def make_alert(event: EventEnvelope, ctx: ParseContext, kind: str, **values: Any) -> Alert:
    """An Alert with the envelope's id/source/account/region/time and trimmed display text.

    ``values`` are Alert fields; ``fields`` may hold any printable values (converted and trimmed).
    """
    values.setdefault("account", event.account)
    values.setdefault("region", event.region)
    values.setdefault("time", event.time)
    values.setdefault("problems", [f"{kind}:{event.detail_type}"])
    values["title"] = trim(values.get("title") or f"{event.detail_type} ({event.source})", TITLE_MAX)
    values["summary"] = trim(values.get("summary") or "", SUMMARY_MAX)
    values["advice"] = trim(values.get("advice") or "", SUMMARY_MAX)
    values["fields"] = short_fields(values.get("fields") or {})
    account = values["account"]
    if account and "account_alias" not in values:
        try:
            values["account_alias"] = ctx.account_alias(account)
        except Exception as exc:  # noqa: BLE001 - an alias is decoration, never a failure
            ctx.warnings.append(f"account alias lookup failed: {type(exc).__name__}")
    return Alert(
        id=event.id,
        source_kind=kind,
        source=event.source,
        detail_type=event.detail_type,
        **values,
    )
