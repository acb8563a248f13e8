"""Keep the README's and docs/sources.md's generated tables in step with the registries.

``python -m bot.deploy.readme`` rewrites the blocks between ``<!-- generated:NAME -->`` and
``<!-- /generated:NAME -->`` in both; ``--check`` exits 1 when a committed file is stale (a test
runs the check).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
SOURCES_DOC = README.parent / "docs" / "sources.md"
COMMANDS_DOC = README.parent / "docs" / "commands.md"


def _catalog() -> str:
    # deferred: the README renderer loads the registries only when it renders
    from bot.remediations.catalog import catalog_table_markdown

    return catalog_table_markdown()


def _fixes() -> str:
    # deferred: the README renderer loads the registries only when it renders
    from bot.remediations.catalog import fixes_markdown

    return fixes_markdown()


def _commands() -> str:
    # deferred: the README renderer loads the registries only when it renders
    from bot.commands import commands_table_markdown

    return commands_table_markdown()


def _sources(table: str) -> Callable[[], str]:
    def make() -> str:
        # deferred: the renderer loads the parser registry only when it renders
        from bot.sources import catalog

        return str(getattr(catalog, table)())

    return make


SECTIONS: dict[str, Callable[[], str]] = {
    "catalog": _catalog,
    "fixes": _fixes,
    "commands": _commands,
    "sources": _sources("readme_sources_markdown"),
}
DOC_SECTIONS: dict[str, Callable[[], str]] = {
    "source-table": _sources("sources_table_markdown"),
    "severity-table": _sources("severity_table_markdown"),
}


def _between_markers(body: str) -> Callable[[re.Match[str]], str]:
    """A ``re.sub`` replacement keeping both markers; a function, so ``body`` is taken literally."""
    return lambda m: m.group(1) + body + m.group(2)


def render(text: str, sections: dict[str, Callable[[], str]] | None = None, name_of: str = "README.md") -> str:
    for name, make in (SECTIONS if sections is None else sections).items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{name_of} has no <!-- generated:{name} --> block")
        body = make().rstrip("\n") + "\n"
        text = pattern.sub(_between_markers(body), text)
    return text


def render_sources_doc(text: str) -> str:
    return render(text, DOC_SECTIONS, "docs/sources.md")


def render_commands_doc(text: str) -> str:
    return render(text, {"commands": _commands}, "docs/commands.md")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    stale = []
    for path, make in ((README, render), (SOURCES_DOC, render_sources_doc), (COMMANDS_DOC, render_commands_doc)):
        current = path.read_text()
        fresh = make(current)
        if fresh != current:
            stale.append(path.name)
            if "--check" not in argv:
                path.write_text(fresh)
    if "--check" in argv and stale:
        print(f"{', '.join(stale)} stale: run `python -m bot.deploy.readme`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
