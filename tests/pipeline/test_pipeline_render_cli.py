"""`python -m bot render`: the offline preview contract in docs/design.md "Contracts"."""

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


def test_check_config_names_the_key_of_each_start_up_error(tmp_path):
    bad = tmp_path / "eventops.yml"
    bad.write_text(
        "policy:\n"
        "  teams: [T0ORG]\n"
        "  tiers:\n"
        "    HIGH: {users: [U0LEAD], approvers: [U0A, U0B], approvals: 5}\n"
        "routing:\n"
        "  rules:\n"
        "    - {name: a, channel: '#a'}\n"
        "    - {name: b, channel: '#b'}\n"
        "    - {name: web, channel: '#web', mode: propose, remediations: [ec2.rebooot-instance]}\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    cmd = [sys.executable, "-m", "bot", "check-config", str(bad)]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip() == (
        "invalid: eventops.yml: policy.tiers.HIGH.approvals: 5 approvals by people other than the requester"
        " are needed but only 2 approvers are listed"
    )

    bad.write_text(bad.read_text().replace("approvals: 5", "approvals: 2"))
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.strip() == (
        "invalid: eventops.yml: routing.rules.2.remediations.0: no remediation 'ec2.rebooot-instance'"
        " (did you mean 'ec2.reboot-instance'?)"
    )

    bad.write_text(bad.read_text().replace("rebooot", "reboot"))
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{bad}: OK (3 rules, 0 accounts)"


PROPOSE = """\
accounts:
  - id: "123456789012"
    alias: prod
    role_arn: arn:aws:iam::123456789012:role/eventops-member
    external_id: ext-1234
routing:
  default:
    channel: "#ops"
    mode: propose
"""


def _buttons(payload: dict) -> list[dict]:
    return [e for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_render_shows_the_right_severity_and_only_the_buttons_that_fit(tmp_path):
    config = tmp_path / "eventops.yml"
    config.write_text(PROPOSE)
    expected = {
        "ec2-spot-interruption": ("MEDIUM", []),
        "cloudwatch-metric-ok": ("INFO", []),
        "securityhub-imported-multi-resource": (
            "HIGH",
            ["eventops:remediate:ec2.revoke-ingress", "eventops:remediate:securityhub.set-workflow-status"],
        ),
        "ecr-scan-critical": ("CRITICAL", []),
        "inspector2-package-vulnerability": ("HIGH", []),
    }
    paths = [str(ROOT / "tests" / "events" / f"{name}.json") for name in expected]
    out = _render("--config", str(config), *paths)
    assert out.returncode == 0, out.stderr
    for (name, (severity, remediations)), line in zip(expected.items(), out.stdout.splitlines(), strict=True):
        payload = json.loads(line)
        assert payload["metadata"]["event_payload"]["severity"] == severity, name
        actions = [e["action_id"] for e in _buttons(payload)]
        assert [a for a in actions if a.startswith("eventops:remediate:")] == remediations, name
        assert actions[len(remediations) :] == ["eventops:ack", "eventops:snooze", "eventops:dismiss"], name


def test_every_sample_renders_one_row_of_buttons_with_at_most_one_primary(tmp_path):
    config = tmp_path / "eventops.yml"
    config.write_text(PROPOSE)
    out = _render("--config", str(config), *map(str, EVENTS))
    assert out.returncode == 0, out.stderr
    for path, line in zip(EVENTS, out.stdout.splitlines(), strict=True):
        payload = json.loads(line)
        rows = [b for b in payload["blocks"] if b["type"] == "actions"]
        assert len(rows) == 1, path.name
        buttons = _buttons(payload)
        assert sum(1 for e in buttons if e.get("style") == "primary") <= 1, path.name
