"""Keep the README's generated tables in step with the registries.

``python -m bot.deploy.readme`` rewrites the blocks between ``<!-- generated:NAME -->`` and
``<!-- /generated:NAME -->``; ``--check`` exits 1 when the committed README is stale (a test
runs the check).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


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


SECTIONS: dict[str, Callable[[], str]] = {"catalog": _catalog, "fixes": _fixes, "commands": _commands}


def _between_markers(body: str) -> Callable[[re.Match[str]], str]:
    """A ``re.sub`` replacement keeping both markers; a function, so ``body`` is taken literally."""
    return lambda m: m.group(1) + body + m.group(2)


def render(text: str) -> str:
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no <!-- generated:{name} --> block")
        body = make().rstrip("\n") + "\n"
        text = pattern.sub(_between_markers(body), text)
    return text


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    current = README.read_text()
    fresh = render(current)
    if "--check" in argv:
        if fresh != current:
            print("README.md is stale: run `python -m bot.deploy.readme`", file=sys.stderr)
            return 1
        return 0
    README.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
