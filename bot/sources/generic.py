"""The fallback parser: any EventBridge event, shown as source, detail-type, resources and a
trimmed, flattened view of ``detail``."""

from __future__ import annotations

import re
from typing import Any

from bot.models import Alert, Resource, Severity
from bot.sources.arns import resource_from_arn
from bot.sources.base import EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, trim
from bot.sources.shapes import content_digest

GENERIC_FIELDS_MAX = 10


# Words in a status / state / result field that say the thing failed, or is fine again.
_FAILED = {"FAILED", "FAILURE", "ERROR", "ERRORED", "ABORTED", "TIMED_OUT", "TIMEDOUT", "EXPIRED", "CRITICAL"}
_WORDS = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "ERROR": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "MODERATE": Severity.MEDIUM,
    "WARN": Severity.MEDIUM,
    "WARNING": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "INFORMATIONAL": Severity.INFO,
    "INFO": Severity.INFO,
    "NONE": Severity.INFO,
}


def _norm(key: object) -> str:
    return str(key).lower().replace("-", "").replace("_", "")


def _score(value: float) -> Severity:
    """A 0–10 score (GuardDuty, CVSS) or, above 10, a 0–100 one (risk scores)."""
    scaled = value / 10 if value > 10 else value
    if scaled >= 9:
        return Severity.CRITICAL
    if scaled >= 7:
        return Severity.HIGH
    if scaled >= 4:
        return Severity.MEDIUM
    return Severity.LOW if scaled > 0 else Severity.INFO


def _severity_of(value: object) -> Severity | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _score(float(value))
    if isinstance(value, str):
        word = value.strip().upper()
        if word in _WORDS:
            return _WORDS[word]
        try:
            return _score(float(word))
        except ValueError:
            return None
    if isinstance(value, dict):  # {"label": "HIGH"}, {"description": "High", "score": 3}
        for key in ("label", "description", "value", "normalized", "score"):
            if key in value and (found := _severity_of(value[key])) is not None:
                return found
    return None


def infer_severity(detail: dict[str, Any]) -> tuple[Severity, str]:
    """The severity an unknown event's own fields give, and which field said so.

    Looked for at the top of ``detail`` and one level down: ``severity`` (a word, a 0–10 or
    0–100 score, or ``{"label": …}``), ``risk-score``, ``finding-severity-counts`` (the highest
    level with a non-zero count), and ``status``/``state``/``result`` saying it failed (MEDIUM).

    >>> infer_severity({"finding-severity-counts": {"CRITICAL": 10, "HIGH": 2}})
    (<Severity.CRITICAL: 'CRITICAL'>, 'finding-severity-counts')
    >>> infer_severity({"job": {"status": "FAILED"}})
    (<Severity.MEDIUM: 'MEDIUM'>, 'job.status')
    """
    scopes: list[tuple[str, dict[Any, Any]]] = [("", detail)]
    scopes += [(f"{k}.", v) for k, v in detail.items() if isinstance(v, dict)][:10]
    for prefix, scope in scopes:
        by_norm = {_norm(k): k for k in scope}
        for name in ("severity", "findingseverity", "risklevel", "riskscore"):
            if name in by_norm and (sev := _severity_of(scope[by_norm[name]])) is not None:
                return sev, prefix + str(by_norm[name])
        if "findingseveritycounts" in by_norm and isinstance(counts := scope[by_norm["findingseveritycounts"]], dict):
            found = [
                _WORDS[str(k).upper()]
                for k, n in counts.items()
                if str(k).upper() in _WORDS and isinstance(n, int) and n > 0
            ]
            if found:
                return max(found, key=lambda s: s.rank), prefix + str(by_norm["findingseveritycounts"])
        for name in ("status", "state", "result", "outcome"):
            value = scope.get(by_norm.get(name, ""), None)
            if isinstance(value, str) and value.strip().upper().replace(" ", "_") in _FAILED:
                return Severity.MEDIUM, prefix + str(by_norm[name])
    return Severity.INFO, ""


_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _label(key: str) -> str:
    """``backupVaultName`` / ``backup-vault-name`` → "Backup vault name"."""
    words = _CAMEL_RE.sub(" ", key).replace("_", " ").replace("-", " ").split()
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return trim(text[:1].upper() + text[1:], 60) or key


def readable_fields(detail: dict[str, Any], limit: int = GENERIC_FIELDS_MAX) -> dict[str, str]:
    """An unknown event's detail as labelled fields a person can read: top-level values first
    (``backupVaultName`` → "Backup vault name"), then one level down ("Job › State"), lists of
    plain values joined; empty, false and deeply nested values left out; at most ``limit``.

    >>> readable_fields({"backupVaultName": "Default", "retrying": False, "job": {"state": "FAILED"}, "tags": ["a", "b"]})
    {'Backup vault name': 'Default', 'Tags': 'a, b', 'Job › State': 'FAILED'}
    """

    def plain(value: Any) -> str | None:
        if value is None or value is False or value == "" or value == [] or isinstance(value, dict):
            return None
        if isinstance(value, list):
            if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in value):
                return None
            return trim(", ".join(str(v) for v in value[:10]) + (" …" if len(value) > 10 else ""), 200)
        return trim(value, 200)

    out: dict[str, str] = {}
    for key, value in detail.items():
        if (text := plain(value)) is not None:
            out.setdefault(_label(str(key)), text)
    for key, value in detail.items():
        if isinstance(value, dict):
            for sub, item in value.items():
                if (text := plain(item)) is not None:
                    out.setdefault(f"{_label(str(key))} › {_label(str(sub))}", text)
    return dict(list(out.items())[:limit])


class GenericParser(Parser):
    """Any event nobody else parses. Example: ``aws.codecommit`` "CodeCommit Repository State Change" → generic alert."""

    kind = "generic"
    doc = SourceDoc(
        label="Anything else (generic)",
        severity="from its own fields: severity / risk score / finding counts, status FAILED → MEDIUM; else INFO",
        resolved="—",
        fingerprint="source, detail-type, resources",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        resources = [resource_from_arn(r) for r in event.resources[:10] if isinstance(r, str) and r]
        first = resources[0].key if resources else event.id
        severity, said_by = infer_severity(event.detail)
        summary = "EventOps has no parser for this event type; its detail is shown as it came."
        if said_by:
            summary += f" Severity from its `{said_by}` field."
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.source, event.detail_type, event.account, first),
            title=f"{event.detail_type} from {event.source}",
            summary=summary,
            severity=severity,
            resources=resources,
            fields=readable_fields(event.detail),
        )


def unreadable_alert(raw: object, reason: str) -> Alert:
    """A generic alert for input that is not a valid EventBridge event. Never raises."""
    data: dict[Any, Any] = raw if isinstance(raw, dict) else {}

    def text(key: str, default: str) -> str:
        value = data.get(key)
        return trim(value, 256) if isinstance(value, str | int | float) and str(value) else default

    digest = content_digest(raw)
    event_id = text("id", f"unparsed-{digest}")
    source = text("source", "unknown")
    detail_type = text("detail-type", "unknown")
    fields: dict[str, str] = {}
    detail = data.get("detail")
    if isinstance(detail, dict):
        try:
            fields = readable_fields(detail)
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
