"""How /ops answers look: a header, rows packed into sections, a cut with a hint, notes.

Rows are mrkdwn lines whose AWS-provided parts were escaped with ``esc``; ``listing`` keeps the
reply inside Slack's limits (≤ 50 blocks, ≤ 3000 characters per section) and says when it cut.

Example::

    listing("CloudWatch alarms in ALARM", rows, hint="narrow with `/ops alarms <account> <region>`")
    # header · sections of rows · "showing 20 of 134 — narrow with …" · notes
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.commands.base import Reply
from bot.slack import blocks as bk

LIST_LIMIT = 20
# Leave room under Slack's 50 for the header, the cut line and the notes.
MAX_ROW_BLOCKS = 40
SECTION_BUDGET = bk.MAX_SECTION_TEXT - 100


def esc(value: object) -> str:
    """Escape AWS-provided text for mrkdwn (``& < >`` → entities, @here defused)."""
    return bk.escape(value)


def code(value: object) -> str:
    """Inline code for an id; backticks inside would end it, so they are dropped."""
    text = esc(value).replace("`", "'")
    return f"`{text}`" if text else ""


def ago(when: datetime | float | None, now: datetime | None = None) -> str:
    """``"5m ago"`` / ``"in 3h"`` for a datetime or epoch seconds."""
    if when is None:
        return "?"
    if isinstance(when, int | float):
        when = datetime.fromtimestamp(when, UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    secs = int((now - when).total_seconds())
    future = secs < 0
    secs = abs(secs)
    if secs < 60:
        text = f"{secs}s"
    elif secs < 3600:
        text = f"{secs // 60}m"
    elif secs < 86400:
        text = f"{secs // 3600}h{(secs % 3600) // 60:02d}m" if secs < 6 * 3600 else f"{secs // 3600}h"
    else:
        text = f"{secs // 86400}d"
    return f"in {text}" if future else f"{text} ago"


def pack(rows: Sequence[str], budget: int = SECTION_BUDGET) -> list[str]:
    """Join rows into texts of at most ``budget`` characters each (a long row is truncated)."""
    chunks: list[str] = []
    cur = ""
    for row in rows:
        row = bk.truncate(row, budget)
        if cur and len(cur) + 1 + len(row) > budget:
            chunks.append(cur)
            cur = row
        else:
            cur = f"{cur}\n{row}" if cur else row
    if cur:
        chunks.append(cur)
    return chunks


def listing(
    title: str,
    rows: Sequence[str],
    *,
    total: int | None = None,
    limit: int = LIST_LIMIT,
    hint: str = "narrow with a filter",
    empty: str = "Nothing to show.",
    notes: Sequence[str] = (),
    intro: str = "",
) -> Reply:
    """A reply listing ``rows`` (already sorted, escaped), cut at ``limit`` with a count and hint.

    ``total`` is the full count when ``rows`` is itself already a prefix (e.g. findings fetched
    in detail only for the top ones). ``title`` and ``notes`` must be escaped by the caller.
    """
    total = len(rows) if total is None else max(total, len(rows))
    shown = list(rows[:limit])
    out: list[dict[str, Any]] = [bk.header(title)]
    if intro:
        out.append(bk.section(intro))
    if shown:
        out += [bk.section(chunk) for chunk in pack(shown)][:MAX_ROW_BLOCKS]
    else:
        out.append(bk.section(empty))
    cut = ""
    if total > len(shown):
        cut = f"showing {len(shown)} of {total} — {hint}"
        out.append(bk.context(cut))
    notes = [n for n in notes if n]
    if notes:
        out.append(bk.context(*[bk.truncate(n, 1000) for n in notes[: bk.MAX_CONTEXT_ELEMENTS]]))
    summary = f"{title}: {total}" if shown else f"{title}: {empty}"
    return Reply(text=summary + (f" ({cut})" if cut else ""), blocks=bk.fit(out))


def message(text: str, *, title: str | None = None) -> Reply:
    """A short reply: optional header plus one section."""
    out: list[dict[str, Any]] = [bk.header(title)] if title else []
    out += [bk.section(chunk) for chunk in pack(text.splitlines() or [text])][:MAX_ROW_BLOCKS]
    return Reply(text=text, blocks=bk.fit(out))
