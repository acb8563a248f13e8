"""Functions in bot/ and handlers/ stay short enough to read as one idea.

A body (docstring excluded) over ``MAX_LINES`` needs a reason: a docstring line starting with
"Long because" (a template or a payload written out as one literal, say). The rule and its
reasons are in docs/design.md "Code rules".
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 60  # "about 50": a body past 60 lines needs its reason written down


def _body_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]  # the docstring
    if not body:
        return 0
    return (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1


def long_functions() -> list[str]:
    out = []
    for path in sorted([*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            n = _body_lines(node)
            doc = ast.get_docstring(node) or ""
            if n > MAX_LINES and not any(line.strip().startswith("Long because") for line in doc.splitlines()):
                out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {n} lines")
    return out


def test_no_function_is_long_without_a_reason() -> None:
    assert long_functions() == []


def test_the_check_sees_a_long_function(tmp_path: Path) -> None:
    src = "def f():\n" + "".join(f"    x{i} = {i}\n" for i in range(MAX_LINES + 1))
    fn = ast.parse(src).body[0]
    assert isinstance(fn, ast.FunctionDef)
    assert _body_lines(fn) == MAX_LINES + 1
