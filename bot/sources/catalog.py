"""The parser registry as tables for people: README "Sources and severity" and docs/sources.md.

``python -m bot.deploy.readme`` writes them between their markers; a test fails when they drift
from the registry. Each parser declares its ``doc`` (``SourceDoc``) next to its code.
"""

from __future__ import annotations

from bot.sources import PLUGIN_MODULES, parsers
from bot.sources.base import ANY_DETAIL_TYPE, Parser, SourceDoc
from bot.sources.generic import GenericParser


def _by_parser() -> list[tuple[type[Parser], list[tuple[str, str]]]]:
    """Each documented parser (the CloudTrail parsers per service share one ``doc``) with its
    (source, detail-type) keys, in the order of their modules (sorted) and, within a module, of
    registration — whatever order events happened to import the modules in (bot.sources)."""
    first: dict[SourceDoc, type[Parser]] = {}
    keys: dict[SourceDoc, list[tuple[str, str]]] = {}
    position = {name: i for i, name in enumerate(PLUGIN_MODULES)}
    for key in sorted(parsers, key=lambda k: position.get(parsers[k].__module__, len(position))):
        source, detail_type = key if isinstance(key, tuple) else (key, "")
        cls = parsers[key]
        first.setdefault(cls.doc, cls)
        keys.setdefault(cls.doc, []).append((str(source), str(detail_type)))
    return [(first[doc], keys[doc]) for doc in first]


def _documented() -> list[type[Parser]]:
    """Every documented parser, then the generic fallback."""
    return [cls for cls, _ in _by_parser()] + [GenericParser]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def sources_table_markdown() -> str:
    """docs/sources.md: source, detail-type, kind, fingerprint."""
    lines = ["| source | detail-type | kind | fingerprint (same problem → same message) |", "|---|---|---|---|"]
    for cls, keys in _by_parser():
        sources = ", ".join(dict.fromkeys(s for s, _ in keys))
        types = " / ".join(dict.fromkeys("any" if d == ANY_DETAIL_TYPE else d for _, d in keys))
        lines.append(f"| {sources} | {_cell(types)} | {cls.kind} | {_cell(cls.doc.fingerprint)} |")
    return "\n".join(lines) + "\n"


def severity_table_markdown() -> str:
    """docs/sources.md: per parser, its severity mapping and when it resolves."""
    lines = ["| source | kind | mapping | resolved (`active=False`) when |", "|---|---|---|---|"]
    for cls in _documented():
        d = cls.doc
        lines.append(f"| {d.label} | {cls.kind} | {_cell(d.severity)} | {_cell(d.resolved)} |")
    return "\n".join(lines) + "\n"


def readme_sources_markdown() -> str:
    """README: one line per parser, what it maps severity from."""
    lines = ["| source | severity |", "|---|---|"]
    for cls in _documented():
        resolved = "" if cls.doc.resolved == "—" else f"; resolved: {cls.doc.resolved}"
        lines.append(f"| {cls.doc.label} | {_cell(cls.doc.severity + resolved)} |")
    return "\n".join(lines) + "\n"
