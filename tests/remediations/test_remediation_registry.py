"""The catalog is imported on demand: the static tables that say which module to import stay
equal to the registry, a cold process imports only what it uses, and the registry lists the
remediations in the same order however its modules were imported."""

from __future__ import annotations

import json
import subprocess
import sys
from fnmatch import fnmatchcase
from pathlib import Path

from bot.remediations import PLUGIN_MODULES, PROBLEM_MODULES, REMEDIATION_MODULES, problem_family, remediations
from bot.remediations.base import matches_problem

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events"


def _module(rem: object) -> str:
    return type(rem).__module__.rpartition(".")[2]


def _catalog() -> list[tuple[str, object]]:
    return [(str(n), r) for n, r in remediations.items() if type(r).__module__ in PLUGIN_MODULES]


def test_the_name_table_matches_the_registry() -> None:
    assert REMEDIATION_MODULES == {name: _module(rem) for name, rem in _catalog()}


def test_the_problem_table_matches_the_registry() -> None:
    found: dict[str, set[str]] = {}
    for _, rem in _catalog():
        for pattern in rem.fixes:  # type: ignore[attr-defined]
            if not pattern.startswith("!"):
                found.setdefault(problem_family(pattern), set()).add(_module(rem))
    assert {family: set(modules) for family, modules in PROBLEM_MODULES.items()} == found
    assert all(list(m) == sorted(m) for m in PROBLEM_MODULES.values()), "keep each line's modules sorted"


def _sample_problems() -> set[str]:
    from bot.sources import parse_event

    problems: set[str] = set()
    for path in sorted(EVENTS.glob("*.json")):
        problems.update(parse_event(json.loads(path.read_text())).problems)
    return problems


def test_matching_a_problem_is_fnmatch() -> None:
    problems = _sample_problems() | {"guardduty", "x:y", "cloudtrail-call:StopLogging", "offer:ec2.stop-instance"}
    patterns = {p.removeprefix("!") for _, rem in _catalog() for p in rem.fixes}  # type: ignore[attr-defined]
    patterns |= {"*", "guard*", "guardduty", "[gx]:y", "x:?", "config-rule:*-exempt"}
    assert len(problems) > 40 and len(patterns) > 60
    differ = [(pr, pa) for pr in problems for pa in patterns if matches_problem(pr, pa) != fnmatchcase(pr, pa)]
    assert not differ
    assert any(matches_problem(pr, pa) for pr in problems for pa in patterns if pa != "*")


_COLD = """
import json, sys
from pathlib import Path
import handlers.notify
from bot.remediations import PLUGIN_MODULES, fixers, remediations
from bot.sources import parse_event
loaded = lambda: sorted(m.rpartition('.')[2] for m in PLUGIN_MODULES if m in sys.modules)
out = {"after_import": loaded()}
alarm = parse_event(json.loads(Path("tests/events/cloudwatch-metric-alarm.json").read_text()))
out["alarm_fixers"] = [n for n, _ in fixers(alarm.problems)]
out["after_alarm"] = loaded()
remediations["guardduty.archive-finding"]
out["after_name"] = loaded()
out["order"] = [str(n) for n in remediations]
out["after_listing"] = loaded()
print(json.dumps(out))
"""


def test_a_cold_process_imports_only_the_remediations_it_uses() -> None:
    run = subprocess.run([sys.executable, "-c", _COLD], cwd=ROOT, check=True, capture_output=True, text=True)
    out = json.loads(run.stdout)
    assert out["after_import"] == []
    assert out["after_alarm"] == sorted({*PROBLEM_MODULES["cloudwatch-alarm"], *PROBLEM_MODULES["*"]})
    assert set(out["alarm_fixers"]) == {n for n, m in REMEDIATION_MODULES.items() if m in out["after_alarm"]}
    assert out["after_name"] == sorted({*out["after_alarm"], "guardduty"})
    assert out["after_listing"] == [m.rpartition(".")[2] for m in PLUGIN_MODULES]
    # The order of a registry loaded module by module is the order of one loaded whole (sorted).
    assert out["order"] == [str(n) for n, _ in _catalog()]
    assert [REMEDIATION_MODULES[n] for n in out["order"]] == sorted(REMEDIATION_MODULES[n] for n in out["order"])
