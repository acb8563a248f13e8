"""docs/design.md "Boundaries worth keeping": nothing under bot/slack imports boto3 or botocore."""

from __future__ import annotations

import ast
from pathlib import Path

SLACK_PKG = Path(__file__).resolve().parents[2] / "bot" / "slack"
FORBIDDEN = ("boto3", "botocore")


def test_bot_slack_never_imports_aws_sdks() -> None:
    offenders = []
    for path in sorted(SLACK_PKG.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{path.name}:{node.lineno} imports {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert not offenders, "\n".join(offenders)


def test_render_does_not_load_slack_sdk() -> None:
    import subprocess
    import sys

    code = "import sys, bot.slack.render; print('slack_sdk' in sys.modules, 'boto3' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=SLACK_PKG.parents[1]
    )
    assert out.stdout.split() == ["False", "False"]
