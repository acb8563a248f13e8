"""Design boundaries that keep the layers honest (docs/design.md "Boundaries worth keeping")."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
            if node.module.startswith("bot."):
                names.add(node.module)
    return names


def _offenders(package: str, banned: set[str]) -> list[str]:
    out = []
    for path in sorted((ROOT / "bot" / package).rglob("*.py")):
        bad = {n for n in _imports(path) if n.split(".")[0] in banned or n in banned}
        if bad:
            out.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    return out


def test_bot_slack_never_imports_boto3():
    assert _offenders("slack", {"boto3", "botocore", "bot.store", "bot.aws", "bot.remediations"}) == []


def test_bot_remediations_never_imports_slack():
    assert _offenders("remediations", {"slack_sdk", "slack_bolt", "bot.slack"}) == []


def test_only_config_reads_the_environment():
    offenders = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.as_posix() in {"bot/config.py"} or rel.parts[:2] == ("bot", "sandbox"):
            continue
        if "os.environ" in path.read_text() or "os.getenv" in path.read_text():
            offenders.append(str(rel))
    assert offenders == []


def test_importing_bot_slack_does_not_load_boto3():
    code = "import sys, bot.slack.render, bot.slack.blocks; print('boto3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
