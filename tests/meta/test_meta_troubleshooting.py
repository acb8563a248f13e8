"""README "Troubleshooting" names real things: each log line it quotes is one the code writes, each
notify outcome one the pipeline returns, each alarm one the template defines, each metric one the
code counts. A renamed message or alarm fails here, not at 3 a.m."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
SECTION = README.split("\n## Troubleshooting\n", 1)[1].split("\n## ", 1)[0]
CODE = "\n".join(p.read_text() for d in ("bot", "handlers") for p in (ROOT / d).rglob("*.py"))


def _table(title_word: str) -> list[str]:
    """First-column cells (backticked parts) of the table under the paragraph naming ``title_word``."""
    part = SECTION.split(title_word, 1)[1]
    block: list[str] = []
    for line in part.splitlines()[1:]:
        if line.startswith("|"):
            block.append(line)
        elif block:
            break
    rows = [r for r in block if r.startswith("| `")]
    return [cell for r in rows for cell in re.findall(r"`([^`]+)`", r.split("|")[1])]


def test_each_quoted_log_line_is_written_by_the_code():
    quoted = _table("Log lines worth")
    assert len(quoted) >= 6
    for line in quoted:
        for fragment in (f.strip(" :") for f in line.split("…")):
            if fragment:
                assert fragment in CODE, f"README quotes a log line the code does not write: {line!r}"


def test_each_notify_outcome_is_one_the_pipeline_returns():
    outcomes = _table("says what happened")
    pipeline = (ROOT / "bot" / "pipeline.py").read_text()
    assert {"posted", "duplicate", "grouped"} <= set(outcomes)
    for outcome in outcomes:
        assert f'"{outcome}"' in pipeline, f"notify never returns {outcome!r}"


def test_each_alarm_is_in_the_template():
    template = (ROOT / "serverless.yml").read_text()
    alarms = _table("**Alarms**")
    assert len(alarms) >= 7
    for alarm in alarms:
        assert f"\n      {alarm}:\n" in template, f"serverless.yml has no alarm {alarm}"


def test_each_plain_metric_is_counted_by_the_code():
    metrics = SECTION.split("**Metrics**", 1)[1].split("**Alarms**", 1)[0]
    names = [m for m in re.findall(r"`([A-Za-z_]+)`", metrics) if m not in {"EventOps", "service"}]
    assert len(names) >= 10
    for name in names:
        assert f'"{name}"' in CODE or f"{name} =" in CODE or f'"{name}' in CODE, f"no metric {name} in the code"
