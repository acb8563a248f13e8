"""Raw EventBridge event → ``Alert``: one module per AWS service, a generic fallback.

``parse_event`` never raises. Parser modules (every module here but ``INFRASTRUCTURE``, found
with ``pkgutil``) are imported on demand: an event imports the modules of its source
(``SOURCE_MODULES``), and listing the ``parsers`` registry imports them all, so it is always
complete when read; ``event_patterns()`` turns it into EventBridge rule patterns. A new source
is a new module plus its line in ``SOURCE_MODULES`` (tests/sources/test_sources_registry.py
fails until it is there; tests/meta/test_meta_plugins.py checks the registry).
"""

from __future__ import annotations

import copy
from typing import Any, cast

from pydantic import ValidationError

from bot.models import Alert
from bot.registry import plugin_modules
from bot.sources import shapes
from bot.sources.base import ANY_DETAIL_TYPE, EventEnvelope, ParseContext, Parser, parsers, trim
from bot.sources.generic import GenericParser, unreadable_alert

# Not parsers: the envelope and registry (base), ARN and id patterns (arns), console links
# (console), near-events made into events and non-events described (shapes), and the fallback (generic), which is never registered: ``parser_for`` returns it
# when no (source, detail-type) matches, so it must stay out of ``parsers``.
INFRASTRUCTURE = frozenset({"base", "arns", "catalog", "console", "generic", "shapes"})

# Every other module is a parser module. They are imported on demand: an event's source imports
# the modules that parse that source (``SOURCE_MODULES``; a cold start pays for the sources it
# sees, not for 30), and listing the registry imports them all (``load_all``).
PLUGIN_MODULES = plugin_modules(__name__, __path__, INFRASTRUCTURE)

# source → the parser modules registering keys for it. Kept equal to the registry by
# tests/sources/test_sources_registry.py; a source missing here still works (the registry
# imports every module on a miss), it only costs the first such event the full import.
SOURCE_MODULES: dict[str, tuple[str, ...]] = {
    "aws.access-analyzer": ("accessanalyzer",),
    "aws.acm": ("acm",),
    "aws.autoscaling": ("autoscaling",),
    "aws.backup": ("backup",),
    "aws.ce": ("costanomaly",),
    "aws.cloudtrail": ("cloudtrail",),
    "aws.cloudwatch": ("cloudwatch",),
    "aws.codebuild": ("codebuild",),
    "aws.codecommit": ("cloudtrail",),
    "aws.codedeploy": ("codedeploy",),
    "aws.codepipeline": ("codepipeline",),
    "aws.config": ("config_rules",),
    "aws.ec2": ("cloudtrail", "ebs", "ec2"),
    "aws.ecr": ("ecr",),
    "aws.ecs": ("ecs", "ecs_service"),
    "aws.guardduty": ("guardduty",),
    "aws.health": ("health",),
    "aws.iam": ("cloudtrail",),
    "aws.inspector2": ("inspector2",),
    "aws.kms": ("kms", "kms_keys"),
    "aws.macie": ("macie",),
    "aws.rds": ("rds",),
    "aws.s3": ("cloudtrail",),
    "aws.securityhub": ("securityhub",),
    "aws.signin": ("cloudtrail",),
    "aws.ssm": ("ssm",),
    "aws.trustedadvisor": ("trustedadvisor",),
    "eventops.custom": ("custom",),
}
_LOADED_SOURCES: set[str] = set()


def load_all() -> tuple[str, ...]:
    """Import every parser module (sorted), so the registry is complete; returns their names."""
    for name in PLUGIN_MODULES:
        # The builtin, not importlib.import_module: it goes through the C import path, so
        # ``python -X importtime`` still shows each parser module's own cost.
        __import__(name)
    return PLUGIN_MODULES


def _load_source(source: str) -> None:
    if source in _LOADED_SOURCES:
        return
    for module in SOURCE_MODULES.get(source, ()):
        __import__(f"{__name__}.{module}")
    _LOADED_SOURCES.add(source)


parsers.load_with(load_all)

__all__ = [
    "INFRASTRUCTURE",
    "PLUGIN_MODULES",
    "SOURCE_MODULES",
    "event_patterns",
    "known_kinds",
    "load_all",
    "parse_event",
    "parser_for",
]


def _describe(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors(include_input=False, include_url=False)[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "event"
        problems.append(f"{loc}: {err.get('msg', 'invalid')}")
    more = exc.error_count() - len(problems)
    return "; ".join(problems) + (f" (+{more} more)" if more > 0 else "")


def parser_for(source: str, detail_type: str) -> type[Parser]:
    """The parser class for a (source, detail-type); the generic parser when none is registered."""
    _load_source(source)
    return parsers.get((source, detail_type)) or parsers.get((source, ANY_DETAIL_TYPE)) or GenericParser


def parse_event(raw: object, ctx: ParseContext | None = None) -> Alert:
    """One EventBridge event (a dict) → one Alert. Never raises.

    Not a dict, not a valid envelope, or a parser failure → a ``generic`` alert whose
    ``parse_error`` says why; an unknown (source, detail-type) → the generic parser.
    """
    ctx = ctx if ctx is not None else ParseContext()
    try:
        if not isinstance(raw, dict):
            return unreadable_alert(raw, f"This is not an EventBridge event. {shapes.looks_like(raw)}")
        raw = shapes.from_alarm_action(raw) or raw
        event, why_not = _envelope(raw)
        if event is None:
            return unreadable_alert(raw, why_not)
        parser_cls = parser_for(event.source, event.detail_type)
        try:
            alert = parser_cls().parse(event, ctx)
            return alert.model_copy(update={"time_is_receipt": True}) if why_not == RECEIPT_TIME else alert
        except Exception as exc:  # noqa: BLE001 - a bad event must never stop the batch
            reason = f"{parser_cls.kind} parser could not read this event: " + (
                _describe(exc) if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {trim(exc, 200)}"
            )
            try:
                alert = GenericParser().parse(event, ctx)
            except Exception:  # noqa: BLE001
                return unreadable_alert(raw, reason)
            return alert.model_copy(update={"parse_error": reason, "summary": reason})
    except Exception as exc:  # noqa: BLE001 - last line of defence, e.g. RecursionError on absurd nesting
        return unreadable_alert(None, f"event could not be read: {type(exc).__name__}")


RECEIPT_TIME = "time is the receipt time"


def _envelope(raw: dict[str, Any]) -> tuple[EventEnvelope, str] | tuple[None, str]:
    """The envelope, repaired where a parser can do without the bad field (``shapes``):
    (envelope, ``RECEIPT_TIME`` when its time was replaced, else ""), or (None, why it is no event)."""
    try:
        return EventEnvelope.model_validate(raw), ""
    except ValidationError as exc:
        bad = {str(e["loc"][0]) for e in exc.errors(include_input=False, include_url=False) if e.get("loc")}
        repaired = shapes.repair_envelope(raw, bad)
        if repaired is not None:
            try:
                return EventEnvelope.model_validate(repaired[0]), RECEIPT_TIME if repaired[1] else ""
            except ValidationError:
                pass
        if not {"source", "detail-type"} & raw.keys():
            return None, f"This is not an EventBridge event. {shapes.looks_like(raw)}"
        return None, f"invalid EventBridge envelope: {_describe(exc)}"


def event_patterns() -> list[dict[str, Any]]:
    """EventBridge rule patterns grouped by source: ``{"source": [s], "detail-type": [...]}``.

    A parser with a ``detail_filter`` (CloudTrail API calls) gets its own pattern with that
    ``detail`` filter; a source with a catch-all parser (``eventops.custom``) has no detail-type.
    """
    by_source: dict[str, set[str]] = {}
    filtered: list[dict[str, Any]] = []
    for key, cls in parsers.items():
        source, detail_type = cast(tuple[str, str], key)  # parsers are keyed by (source, detail-type)
        if cls.detail_filter:
            filtered.append(
                {"source": [source], "detail-type": [detail_type], "detail": copy.deepcopy(cls.detail_filter)}
            )
        else:
            by_source.setdefault(source, set()).add(detail_type)
    patterns: list[dict[str, Any]] = []
    for source in sorted(by_source):
        detail_types = by_source[source]
        if ANY_DETAIL_TYPE in detail_types:
            patterns.append({"source": [source]})
        else:
            patterns.append({"source": [source], "detail-type": sorted(detail_types)})
    return sorted(patterns + filtered, key=lambda p: (p["source"][0], p.get("detail-type", [""])[0]))


def known_kinds() -> list[str]:
    """Every parser ``kind`` (``source_kind`` of the alerts), ``generic`` included, sorted."""
    return sorted({cls.kind for cls in parsers.values()} | {GenericParser.kind})
