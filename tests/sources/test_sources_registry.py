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
