"""The README's catalog and command tables are generated from the registries and current."""

from __future__ import annotations

from bot.deploy import readme


def test_readme_tables_match_the_registries():
    current = readme.README.read_text()
    assert readme.render(current) == current, "README.md is stale: run `python -m bot.deploy.readme`"


def test_docs_sources_tables_match_the_parser_registry():
    current = readme.SOURCES_DOC.read_text()
    assert readme.render_sources_doc(current) == current, "docs/sources.md is stale: run `python -m bot.deploy.readme`"


def test_every_parser_declares_its_doc():
    from bot.sources import parsers

    missing = sorted(
        {parsers[k].__name__ for k in parsers if "doc" not in vars(parsers[k]) and not hasattr(parsers[k], "doc")}
    )
    assert not missing, f"parsers without a SourceDoc: {missing}"


def test_readme_quick_start_is_exactly_two_commands():
    text = readme.README.read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [line.strip() for line in quick.splitlines() if line.strip().startswith("make ")]
    assert commands == ["make run", "make test"]
