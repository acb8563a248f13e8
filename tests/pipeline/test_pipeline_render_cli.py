"""`python -m bot render`: the offline preview contract from DESIGN.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EVENTS = sorted((ROOT / "tests" / "events").glob("*.json"))


def _render(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "render", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **(env or {})},  # no AWS credentials at all
        timeout=120,
    )


def test_every_sample_event_renders_offline_without_credentials():
    assert len(EVENTS) >= 30
    out = _render(*map(str, EVENTS))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == len(EVENTS)
    kinds = set()
    for path, line in zip(EVENTS, lines, strict=True):
        payload = json.loads(line)
        assert set(payload) >= {"channel", "text", "blocks", "metadata"}, path.name
        assert payload["text"], path.name
        meta = payload["metadata"]
        assert meta["event_type"] == "eventops_alert"
        assert {"alert_id", "fingerprint", "severity", "source_kind"} <= set(meta["event_payload"])
        kinds.add(meta["event_payload"]["source_kind"])
        if not path.name.startswith("generic"):
            assert meta["event_payload"]["source_kind"] != "generic", path.name
    assert len(kinds) >= 15


def test_an_unreadable_file_exits_2_with_one_line_saying_which_and_why(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text("{nope")
    out = _render(str(bad), str(tmp_path / "missing.json"))
    assert out.returncode == 2
    err = out.stderr.strip().splitlines()
    assert len(err) == 2
    assert err[0].startswith(f"{bad}: not valid JSON")
    assert "missing.json: cannot read" in err[1]
    assert out.stdout == ""
