"""The parser registry: EventBridge patterns, kinds, the generic fallback, cheap imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.sources import PLUGIN_MODULES, event_patterns, known_kinds, parser_for
from bot.sources.base import parsers


def test_event_patterns_cover_the_registry() -> None:
    patterns = event_patterns()
    for source, detail_type in parsers.keys():
        assert any(
            source in p["source"] and (detail_type == "*" or detail_type in p.get("detail-type", [detail_type]))
            for p in patterns
        ), (source, detail_type)
    assert {"source": ["eventops.custom"]} in patterns
    ct = [p for p in patterns if p.get("detail-type") == ["AWS API Call via CloudTrail"]]
    # Every CloudTrail rule is narrowed: by event name, by the root user, or either ($or).
    for p in ct:
        alternatives = p["detail"].get("$or", [p["detail"]])
        assert all(a.get("eventName") or a.get("userIdentity") == {"type": ["Root"]} for a in alternatives), p
    named = next(p for p in ct if "eventName" in p["detail"])
    named["detail"]["eventName"].append("mutated")
    assert "mutated" not in json.dumps(event_patterns())


def test_known_kinds() -> None:
    kinds = known_kinds()
    assert "generic" in kinds and "guardduty" in kinds and kinds == sorted(kinds)
    assert parser_for("aws.nope", "Nope").kind == "generic"


def test_importing_sources_does_not_import_boto3() -> None:
    code = "import sys, bot.sources; assert 'boto3' not in sys.modules and 'botocore' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_every_parser_module_has_its_test_module() -> None:
    here = Path(__file__).parent
    missing = [
        f"tests/sources/test_sources_{name}.py"
        for name in [m.rpartition(".")[2] for m in PLUGIN_MODULES] + ["generic"]
        if not (here / f"test_sources_{name}.py").exists()
    ]
    assert not missing, f"parser modules without their test module: {missing}"


def test_the_source_module_table_matches_the_registry() -> None:
    from bot.sources import SOURCE_MODULES

    found: dict[str, set[str]] = {}
    for key, cls in parsers.items():
        source = key[0] if isinstance(key, tuple) else key
        found.setdefault(str(source), set()).add(cls.__module__.rpartition(".")[2])
    assert {s: set(m) for s, m in SOURCE_MODULES.items()} == found


def test_a_cold_process_imports_only_the_parsers_of_the_sources_it_sees() -> None:
    code = (
        "import json, sys, handlers.notify\n"
        "from bot.sources import parse_event, PLUGIN_MODULES\n"
        "loaded = lambda: sorted(m.rpartition('.')[2] for m in PLUGIN_MODULES if m in sys.modules)\n"
        "assert loaded() == [], loaded()\n"
        "alert = parse_event(json.load(open('tests/events/guardduty-ec2-ssh-bruteforce.json')))\n"
        "assert alert.source_kind == 'guardduty' and loaded() == ['guardduty'], loaded()\n"
        "parse_event({'id': 'x', 'source': 'acme.unknown', 'detail-type': 'X', 'time': '2024-01-01T00:00:00Z'})\n"
        "assert len(loaded()) == len(PLUGIN_MODULES), loaded()  # an unknown source: all, once\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
