"""The project's docs stand alone, and every citation of them resolves.

Code, tests and the README cite ``docs/reliability.md`` by property number (``#7``, or a list such
as ``#6 and #12`` / ``#1–#6, #8``) and ``docs/design.md`` by section, the ``## `` heading text in
double quotes; a ``"<...>"`` placeholder is not a citation. Each test collects every offender and
fails once with the whole list. See docs/design.md "Code rules".
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RELIABILITY_DOC = ROOT / "docs" / "reliability.md"
DESIGN_DOC = ROOT / "docs" / "design.md"

# `docs/reliability.md #1–#6, #8, #9 and #15`: the whole run of numbers after the path.
RELIABILITY_CITE = re.compile(r"docs/reliability\.md((?:(?:,\s*|\s+and\s+|\s*[–-]\s*|\s+)#\d+)+)")
DESIGN_CITE = re.compile(r'docs/design\.md "([^"<][^"]*)"')
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
# Built in pieces so this file does not match itself: the old external notes, cited by file
# name or as a bare upper-case word followed by a row number or a heading.
_R, _D = "RELI" + "ABILITY", "DES" + "IGN"
FORBIDDEN = (_R + ".md", _D + ".md", "../" + "shared", "/work/" + "shared")
BARE = re.compile(r"\b(?:" + _R + "|" + _D + r")\b")

SKIP_DIRS = {".git", ".venv", "node_modules", ".serverless", ".build", "dist", ".pytest_cache", ".ruff_cache"}
SKIP_DIRS |= {".mypy_cache", ".hypothesis", ".bench", "__pycache__"}
TEXT_SUFFIXES = {".py", ".md", ".yml", ".yaml", ".toml", ".cfg", ".txt", ".json", ".mk", ".ini", ".sh", ".js", ".html"}


def _cited_sources() -> list[Path]:
    """Where citations may appear: bot/, handlers/, tests/ and the README."""
    paths = [p for pkg in ("bot", "handlers", "tests") for p in sorted((ROOT / pkg).rglob("*")) if p.is_file()]
    return [p for p in paths if p.suffix in {".py", ".md", ".yml", ".yaml"}] + [ROOT / "README.md"]


def _repo_text_files() -> list[Path]:
    out = []
    for path in sorted(ROOT.rglob("*")):
        rel = path.relative_to(ROOT)
        if any(part in SKIP_DIRS for part in rel.parts) or not path.is_file():
            continue
        if (path.suffix in TEXT_SUFFIXES or path.name in {"Makefile"}) and path.stat().st_size < 2_000_000:
            out.append(path)
    return out


def property_numbers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"^## (\d+)\. ", text, flags=re.MULTILINE)}


def section_names(text: str) -> set[str]:
    return {m.strip() for m in re.findall(r"^## (.+)$", text, flags=re.MULTILINE)}


def bad_citations(text: str, where: str, numbers: set[int], sections: set[str]) -> list[str]:
    """Every citation in ``text`` that names a property number or section the docs do not have."""
    out = []
    for match in RELIABILITY_CITE.finditer(text):
        for n in re.findall(r"#(\d+)", match.group(1)):
            if int(n) not in numbers:
                out.append(f"{where}: docs/reliability.md has no property #{n} ({match.group(0)!r})")
    for match in DESIGN_CITE.finditer(text):
        if match.group(1) not in sections:
            out.append(f'{where}: docs/design.md has no section "{match.group(1)}"')
    return out


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_citation_names_a_property_or_section_that_exists() -> None:
    numbers = property_numbers(RELIABILITY_DOC.read_text())
    sections = section_names(DESIGN_DOC.read_text())
    assert numbers == set(range(1, max(numbers) + 1)), f"properties are not numbered 1..N: {sorted(numbers)}"
    offenders = []
    for path in _cited_sources():
        offenders += bad_citations(path.read_text(), str(path.relative_to(ROOT)), numbers, sections)
    assert not offenders, "citations that do not resolve:\n" + "\n".join(offenders)


def test_every_test_named_in_reliability_md_exists() -> None:
    refs = TEST_REF.findall(RELIABILITY_DOC.read_text())
    assert refs, "docs/reliability.md names no tests"
    offenders = []
    for rel, name in refs:
        path = ROOT / rel
        if not path.is_file():
            offenders.append(f"{rel}: no such file")
        elif name not in _functions(path):
            offenders.append(f"{rel}::{name}: no such test")
    assert not offenders, "docs/reliability.md names tests that do not exist:\n" + "\n".join(offenders)


def test_every_property_names_at_least_one_test() -> None:
    text = RELIABILITY_DOC.read_text()
    parts = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    empty = [part.splitlines()[0] for part in parts if not TEST_REF.search(part)]
    assert not empty, "properties without a named test:\n" + "\n".join(empty)


def test_nothing_refers_to_design_notes_outside_the_repository() -> None:
    offenders = []
    for path in _repo_text_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            if any(word in line for word in FORBIDDEN) or BARE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()[:100]}")
    assert not offenders, "references to notes outside the repository:\n" + "\n".join(offenders)


def test_the_checks_see_a_bogus_citation() -> None:
    rel, des = "docs/reliability" + ".md", "docs/design" + ".md"  # split: the scan above reads this file too
    numbers, sections = {1, 2}, {"The flow"}
    text = f'see {rel} #2 and #99; {des} "The flow"; {des} "Nowhere"'
    assert bad_citations(text, "x.py", numbers, sections) == [
        f"x.py: {rel} has no property #99 ('{rel} #2 and #99')",
        f'x.py: {des} has no section "Nowhere"',
    ]
    assert bad_citations(f"{rel} #1–#2, #1", "x.py", numbers, sections) == []
