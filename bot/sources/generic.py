"""The fallback parser: any EventBridge event, shown as source, detail-type, resources and a
trimmed, flattened view of ``detail``."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.models import Alert, Resource, Severity
from bot.sources.arns import resource_from_arn
from bot.sources.base import EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, trim

GENERIC_FIELDS_MAX = 10


def flatten(
    value: Any, prefix: str = "", out: dict[str, str] | None = None, limit: int = GENERIC_FIELDS_MAX
) -> dict[str, str]:
    """``{"a": {"b": 1}, "c": [2, 3]}`` → ``{"a.b": "1", "c[0]": "2", "c[1]": "3"}``, at most ``limit`` keys."""
    out = {} if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(item, f"{prefix}.{key}" if prefix else str(key), out, limit)
            if len(out) >= limit:
                break
    elif isinstance(value, list):
        if not value and prefix:
            return out
        for i, item in enumerate(value):
            flatten(item, f"{prefix}[{i}]", out, limit)
            if len(out) >= limit:
                break
    elif prefix and value is not None and value != "":
        out[trim(prefix, 60)] = trim(value, 200)
    return out


class GenericParser(Parser):
    """Any event nobody else parses. Example: ``aws.backup`` "Backup Job State Change" → generic alert."""

    kind = "generic"
    doc = SourceDoc(
        label="Anything else (generic)",
        severity="INFO",
        resolved="—",
        fingerprint="source, detail-type, resources",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        resources = [resource_from_arn(r) for r in event.resources[:10] if isinstance(r, str) and r]
        first = resources[0].key if resources else event.id
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.source, event.detail_type, event.account, first),
            title=f"{event.detail_type} from {event.source}",
            summary="No parser for this event type; showing its raw detail.",
            severity=Severity.INFO,
            resources=resources,
            fields=flatten(event.detail),
        )


def unreadable_alert(raw: object, reason: str) -> Alert:
    """A generic alert for input that is not a valid EventBridge event. Never raises."""
    data: dict[Any, Any] = raw if isinstance(raw, dict) else {}

    def text(key: str, default: str) -> str:
        value = data.get(key)
        return trim(value, 256) if isinstance(value, str | int | float) and str(value) else default

    try:
        digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=repr).encode()).hexdigest()[:24]
    except Exception:  # noqa: BLE001 - circular or unsortable input; repr always works
        digest = hashlib.sha256(repr(raw).encode(errors="replace")).hexdigest()[:24]
    event_id = text("id", f"unparsed-{digest}")
    source = text("source", "unknown")
    detail_type = text("detail-type", "unknown")
    fields: dict[str, str] = {}
    detail = data.get("detail")
    if isinstance(detail, dict):
        try:
            fields = flatten(detail)
        except RecursionError:
            fields = {}
    resources: list[Resource] = []
    raw_resources = data.get("resources")
    if isinstance(raw_resources, list):
        resources = [resource_from_arn(r) for r in raw_resources[:10] if isinstance(r, str) and 0 < len(r) <= 2048]
    account = text("account", "")
    region = text("region", "")
    return Alert(
        id=event_id,
        fingerprint=Alert.make_fingerprint("generic", source, detail_type, event_id),
        source_kind="generic",
        source=source,
        detail_type=detail_type,
        title=trim(f"Unreadable event: {detail_type} from {source}", 150),
        summary=trim(reason, 1500),
        severity=Severity.INFO,
        account=account if account.isdigit() else "",
        region=region,
        resources=resources,
        fields=fields,
        parse_error=trim(reason, 500),
    )
