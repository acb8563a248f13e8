"""Every sample event in tests/events parses to its kind, with safe links; every registered detail-type has a sample."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from bot.sources import parse_event
from bot.sources.base import parsers
from tests.sources.source_events import EVENTS, SAMPLES

GENERIC_ON_PURPOSE = {"generic-cloudtrail-unhandled-source.json"}


def expected_kind(path: Path) -> str:
    if path.name in GENERIC_ON_PURPOSE:
        return "generic"
    return {"config": "config", "cloudtrail": "cloudtrail"}.get(path.stem.split("-")[0], path.stem.split("-")[0])


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_every_sample_parses_to_its_kind(path: Path) -> None:
    alert = parse_event(json.loads(path.read_text()))
    assert alert.source_kind == expected_kind(path)
    assert alert.title.strip()
    assert alert.parse_error is None
    assert alert.id == json.loads(path.read_text())["id"]
    assert len(alert.fingerprint) == 32
    assert alert.remediations == []
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in alert.fields.items())
    assert len(alert.fields) <= 12


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_links_are_https_aws_consoles_or_docs_without_event_text(path: Path) -> None:
    alert = parse_event(json.loads(path.read_text()))
    for link in alert.links:
        url = urlparse(link.url)
        assert url.scheme == "https"
        if alert.source_kind != "custom":
            assert url.hostname and re.search(
                r"(console\.aws\.amazon\.com|console\.amazonaws\.cn|health\.aws\.amazon\.com|docs\.aws\.amazon\.com)$",
                url.hostname,
            )
        assert not re.search(r"[\s<>\"'|`]", link.url), link.url


def test_every_registered_detail_type_has_a_sample() -> None:
    seen = set()
    for path in SAMPLES:
        raw = json.loads(path.read_text())
        seen.add((raw["source"], raw["detail-type"]))
    missing = [key for key in parsers.keys() if key not in seen and key[1] != "*"]
    assert not missing, missing
    assert any(src == "eventops.custom" for src, _ in seen)


def test_sources_md_lists_every_sample() -> None:
    listed = (EVENTS / "SOURCES.md").read_text()
    missing = [p.name for p in SAMPLES if p.name not in listed]
    assert not missing, missing
