"""Your own alerts: ``source: eventops.custom``, any detail-type, a small versioned schema.

The schema is documented in docs/sources.md. An event that doesn't match it becomes a generic
alert with ``parse_error`` saying which field was wrong.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.models import Alert, Link, Resource, Severity
from bot.sources.base import ANY_DETAIL_TYPE, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

CUSTOM_SOURCE = "eventops.custom"
# https only, a host name, and URL-safe characters: no spaces, quotes, angle brackets or pipes.
_URL_RE = re.compile(r"^https://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]*)?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class CustomResource(_Strict):
    type: str = Field("Other", min_length=1, max_length=64)
    id: str = Field(min_length=1, max_length=256)
    name: str | None = Field(None, max_length=256)
    tags: dict[str, str] = Field(default_factory=dict)


class CustomLink(_Strict):
    label: str = Field(min_length=1, max_length=80)
    url: str = Field(max_length=2000)


class CustomAlert(_Strict):
    """The ``detail`` of an ``eventops.custom`` event, schema version 1."""

    schema_version: Literal[1]
    title: str = Field(min_length=1, max_length=300)
    summary: str = Field("", max_length=3000)
    severity: Severity = Severity.INFO
    resource: CustomResource | None = None
    fields: dict[str, str | int | float | bool] = Field(default_factory=dict)
    links: list[CustomLink] = Field([], max_length=5)
    dedup_key: str | None = Field(None, min_length=1, max_length=256)
    resolved: bool = False
    # Remediations to offer (still only where they can name their target: ``applies_to``).
    remediations: list[str] = Field([], max_length=10)

    @field_validator("severity", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().upper()
            return "INFO" if value == "INFORMATIONAL" else value
        return value


@parsers.register((CUSTOM_SOURCE, ANY_DETAIL_TYPE))
class CustomParser(Parser):
    """An alert you send yourself. Example: ``{"schema_version": 1, "title": "Nightly backup failed", "severity": "high"}``."""

    kind = "custom"
    doc = SourceDoc(
        label="eventops.custom",
        severity="the event's `severity`",
        resolved="`resolved: true`",
        fingerprint="`dedup_key`, else resource + title",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = CustomAlert.model_validate(event.detail)
        resources = []
        if d.resource:
            resources.append(
                Resource(
                    type=d.resource.type,
                    id=d.resource.id,
                    name=d.resource.name,
                    region=event.region or None,
                    account=event.account or None,
                    tags=d.resource.tags,
                )
            )
        links: list[Link] = []
        for link in d.links:
            if _URL_RE.match(link.url):
                links.append(Link(label=link.label, url=link.url))
            else:
                ctx.warnings.append(f"custom event {event.id}: link {link.label!r} dropped (not a plain https URL)")
        if d.dedup_key:
            fingerprint = Alert.make_fingerprint(self.kind, event.account, d.dedup_key)
        elif d.resource:
            fingerprint = Alert.make_fingerprint(self.kind, event.account, d.resource.type, d.resource.id, d.title)
        else:
            fingerprint = Alert.make_fingerprint(self.kind, event.account, event.detail_type, d.title)
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=fingerprint,
            title=d.title,
            summary=d.summary,
            severity=d.severity,
            resources=resources,
            # a flag that is off says nothing ("Retrying: false"); one that is on reads "yes"
            fields={k: ("yes" if v is True else v) for k, v in d.fields.items() if v is not False},
            links=links,
            problems=[f"custom:{event.detail_type}", *(f"offer:{name}" for name in d.remediations)],
            active=not d.resolved,
        )
