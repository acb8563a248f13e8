"""Block Kit primitives: Slack's limits as named constants, escaping, builders and ``fit()``.

Everything here returns plain dicts (the JSON Slack receives). Text that comes from an AWS event
must go through ``escape()`` before it reaches a ``mrkdwn`` object; ``fit()`` is the last step
before posting and makes any block list pass Slack's validation.

Example::

    blocks = fit([
        header(":red_circle: Port probe on i-0abc"),
        section(escape(event_summary)),
        actions([button("Acknowledge", "eventops:ack", "a-1")]),
    ])
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

# Slack's limits (https://docs.slack.dev/reference/block-kit/...). Exceeding any of them makes
# chat.postMessage answer invalid_blocks (or msg_blocks_too_long for the total).
MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100  # a modal or App Home view (views.open, views.publish)
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_CONTEXT_TEXT = 3000
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_BUTTON_URL = 3000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_SELECT_PLACEHOLDER = 150
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_SELECT_OPTIONS = 100
# Slack answers msg_blocks_too_long when the text of all blocks together is "about" 12 000
# characters (bolt-js #2509); fit() aims below it to leave room for Slack's own counting.
MAX_TOTAL_TEXT = 12000
TOTAL_TEXT_BUDGET = 11000
# Top-level `text` may be 40 000 characters; as a notification/fallback it should stay short.
MAX_MESSAGE_TEXT = 40000
MAX_FALLBACK_TEXT = 3000

ELLIPSIS = "…"
ZERO_WIDTH_SPACE = "\u200b"

BUTTON_STYLES = ("primary", "danger")

_BROADCAST_RE = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_BROADCAST_TAIL = re.compile(r"@(channel|here|everyone)$", re.IGNORECASE)  # what a cut may leave
_DEFUSED = "@" + ZERO_WIDTH_SPACE + r"\1"
# Bidi overrides/isolates can make a resource name read differently than it is.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_KEEP_CONTROL = {"\n", "\t"}

_DEFAULT_LINK_HOST_RE = r"(?:[a-z0-9-]+\.)*aws\.amazon\.com"
_HOST_LABEL_RE = re.compile(r"^(?:[a-z0-9-]+\.)*[a-z0-9-]+\.[a-z]{2,}$")
# Path/query/fragment: RFC 3986 characters minus the ones that end or split a Slack link.
_URL_TAIL = r"(?:[/?#][A-Za-z0-9\-._~%!$&'()*+,;=:@/?#]*)?"
MAX_LINK_URL = 2000

_ACTION_ID_RE = re.compile(r"^[A-Za-z0-9_.:\-^]{1,255}$")


# Unicode category Cc (C0 and C1 controls) but tab and newline, Cs (surrogates), and the
# bidirectional overrides/isolates: one regex, not a per-character loop (render hot path).
_STRIP_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def strip_control(text: str) -> str:
    """Remove control, format-override and surrogate characters; keep newlines and tabs."""
    return _STRIP_RE.sub("", text)


def _copy(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, scalars), much cheaper than copy.deepcopy.
    Scalars are not recursed into (one call per container, not per value: render hot path)."""
    if isinstance(value, dict):
        return {k: _copy(v) if isinstance(v, dict | list) else v for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) if isinstance(v, dict | list) else v for v in value]
    return value


def escape(text: object) -> str:
    """Make untrusted text safe for a ``mrkdwn`` (or ``plain_text``) object.

    ``&``, ``<`` and ``>`` become entities, so ``<!channel>``, ``<@U123>`` and
    ``<http://evil|click>`` show as text; a zero-width space after ``@`` defuses bare
    ``@here``/``@channel``/``@everyone``; control characters are dropped.

    >>> escape("<!channel> & @here")
    '&lt;!channel&gt; &amp; @\\u200bhere'
    """
    s = "" if text is None else str(text)
    if not s.isprintable():  # printable text holds nothing strip_control drops (hot path)
        s = _STRIP_RE.sub("", s)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST_RE.sub(_DEFUSED, s) if "@" in s else s


_DATE_TOKEN_RE = re.compile(r"<!date\^\d{1,12}\^\{date_short_pretty\} \{time\}\|\d{4}-\d\d-\d\d \d\d:\d\d UTC>")


def escape_keeping_dates(text: object) -> str:
    """``escape`` for mrkdwn text that may hold our own ``date_token``s: each token that has
    exactly that shape stays (it can only ever show a date); everything else is escaped.

    >>> escape_keeping_dates("until <!date^1714560120^{date_short_pretty} {time}|2024-05-01 10:42 UTC> <!here>")
    'until <!date^1714560120^{date_short_pretty} {time}|2024-05-01 10:42 UTC> &lt;!here&gt;'
    """
    s = "" if text is None else str(text)
    out, last = [], 0
    for m in _DATE_TOKEN_RE.finditer(s):
        out += [escape(s[last : m.start()]), m.group(0)]
        last = m.end()
    return "".join([*out, escape(s[last:])])


def truncate(text: str, n: int) -> str:
    """Shorten ``text`` to at most ``n`` characters, ending with "…" when cut.

    Never cuts inside an entity (``&amp;``) or a ``<...>`` link/mention, so a truncated
    message cannot end in a half mention.

    >>> truncate("abcdef", 4)
    'abc…'
    >>> truncate("ping @here2 now", 11)  # not a broadcast the cut would make live
    'ping @her…'
    """
    if n <= 0:
        return ""
    if len(text) <= n:
        return text
    if n == 1:
        return ELLIPSIS
    cut = text[: n - 1]
    lt, gt = cut.rfind("<"), cut.rfind(">")
    if lt > gt:
        cut = cut[:lt]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:] and len(cut) - amp <= 8:
        cut = cut[:amp]
    if _BROADCAST_TAIL.search(cut):  # "@everyone00" cut to "@everyone…" would be a live broadcast
        cut = cut[:-1]
    return cut + ELLIPSIS


def _link_regex(allowed_hosts: Iterable[str]) -> re.Pattern[str]:
    hosts = [_DEFAULT_LINK_HOST_RE]
    for host in allowed_hosts:
        host = host.strip().lower()
        if not _HOST_LABEL_RE.match(host):
            raise ValueError(f"not a host name: {host!r}")
        hosts.append(re.escape(host))
    return re.compile(rf"^https://(?:{'|'.join(hosts)})(?::[0-9]{{1,5}})?{_URL_TAIL}$")


_DEFAULT_LINK_RE = _link_regex(())


def is_safe_url(url: str, allowed_hosts: Iterable[str] = ()) -> bool:
    """True for ``https://`` URLs on ``*.aws.amazon.com`` or an ``allowed_hosts`` entry."""
    if not isinstance(url, str) or len(url) > MAX_LINK_URL:
        return False
    pattern = _link_regex(allowed_hosts) if allowed_hosts else _DEFAULT_LINK_RE
    return bool(pattern.match(url))


def link(url: str, label: str, *, allowed_hosts: Iterable[str] = ()) -> str:
    """A mrkdwn link ``<url|label>`` if ``url`` is safe, else just the escaped label.

    >>> link("https://console.aws.amazon.com/ec2/home", "EC2")
    '<https://console.aws.amazon.com/ec2/home|EC2>'
    >>> link("http://evil.example/", "click")
    'click'
    """
    safe_label = escape(label).replace("|", "¦") or "link"
    if not is_safe_url(url, allowed_hosts):
        return safe_label
    return f"<{url.replace('&', '&amp;')}|{safe_label}>"


# -- text objects and blocks -------------------------------------------------------------------


def plain_text(text: str, *, emoji: bool = True) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": emoji}


def mrkdwn(text: str, *, verbatim: bool = True) -> dict[str, Any]:
    # verbatim: Slack does not auto-link bare URLs, #channels or @mentions in the text;
    # explicit <...> syntax we wrote ourselves still works.
    return {"type": "mrkdwn", "text": text, "verbatim": verbatim}


def header(text: str) -> dict[str, Any]:
    """A header block (plain text, ≤ 150 characters). ``text`` must already be escaped."""
    return {"type": "header", "text": plain_text(truncate(text, MAX_HEADER_TEXT) or " ")}


def section(text: str, *, fields: Sequence[str] = ()) -> dict[str, Any]:
    """A section with mrkdwn ``text`` (≤ 3000) and optional mrkdwn ``fields``."""
    block: dict[str, Any] = {"type": "section"}
    if text:
        block["text"] = mrkdwn(truncate(text, MAX_SECTION_TEXT))
    if fields:
        block["fields"] = [mrkdwn(truncate(f, MAX_FIELD_TEXT)) for f in fields if f][:MAX_FIELDS]
    return block


def fields(items: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Sections of two-column ``*label*\\nvalue`` fields, 10 per section.

    Labels and values must already be escaped.
    """
    cells = [f"*{label}*\n{value}" for label, value in items if value]
    return [section("", fields=cells[i : i + MAX_FIELDS]) for i in range(0, len(cells), MAX_FIELDS)]


def context(*elements: str) -> dict[str, Any]:
    """A context block of mrkdwn elements (≤ 10)."""
    elems = [mrkdwn(truncate(e, MAX_CONTEXT_TEXT)) for e in elements if e][:MAX_CONTEXT_ELEMENTS]
    return {"type": "context", "elements": elems}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def confirm_dialog(
    title: str, text: str, *, confirm: str = "Confirm", deny: str = "Cancel", style: str | None = None
) -> dict[str, Any]:
    """A confirmation dialog object for a button. ``text`` is mrkdwn (≤ 300)."""
    dialog: dict[str, Any] = {
        "title": plain_text(truncate(title, MAX_CONFIRM_TITLE) or "Are you sure?"),
        "text": mrkdwn(truncate(text, MAX_CONFIRM_TEXT) or "Are you sure?"),
        "confirm": plain_text(truncate(confirm, MAX_CONFIRM_BUTTON) or "Confirm"),
        "deny": plain_text(truncate(deny, MAX_CONFIRM_BUTTON) or "Cancel"),
    }
    if style in BUTTON_STYLES:
        dialog["style"] = style
    return dialog


DATE_FORMAT = "{date_short_pretty} {time}"


def date_token(when: datetime | float, fmt: str = DATE_FORMAT) -> str:
    """Slack's date token: shown in each reader's own time zone ("Today 10:42"), the UTC text as
    the fallback wherever Slack cannot format it (notifications, other clients). mrkdwn only.

    >>> date_token(datetime(2024, 5, 1, 10, 42, tzinfo=UTC))
    '<!date^1714560120^{date_short_pretty} {time}|2024-05-01 10:42 UTC>'
    """
    if isinstance(when, int | float):
        when = datetime.fromtimestamp(when, UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    utc = when.astimezone(UTC)
    # isoformat is twice as fast as strftime; it pads years below 1000, strftime does not
    shown = utc.isoformat(" ", "minutes")[:16] if utc.year >= 1000 else f"{utc:%Y-%m-%d %H:%M}"
    return f"<!date^{int(utc.timestamp())}^{fmt}|{shown} UTC>"


def button(
    text: str,
    action_id: str,
    value: str,
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A button element. ``action_id`` and ``value`` are ours, so bad ones raise ValueError.

    >>> button("Acknowledge", "eventops:ack", "a-1")["action_id"]
    'eventops:ack'
    """
    if not _ACTION_ID_RE.match(action_id):
        raise ValueError(f"invalid action_id {action_id!r}")
    if not value or len(value) > MAX_BUTTON_VALUE:
        raise ValueError(f"button value must be 1..{MAX_BUTTON_VALUE} characters")
    if style is not None and style not in BUTTON_STYLES:
        raise ValueError(f"button style must be one of {BUTTON_STYLES}, not {style!r}")
    elem: dict[str, Any] = {
        "type": "button",
        "text": plain_text(truncate(text, MAX_BUTTON_TEXT) or action_id[:MAX_BUTTON_TEXT]),
        "action_id": action_id,
        "value": value,
    }
    if style:
        elem["style"] = style
    if confirm:
        elem["confirm"] = confirm
    return elem


def static_select(placeholder: str, action_id: str, options: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A select menu element: ``options`` are (text, value) pairs, ours, so bad ones raise ValueError.

    >>> static_select("Snooze…", "eventops:snooze", [("1 hour", "1h a-1")])["options"][0]["value"]
    '1h a-1'
    """
    if not _ACTION_ID_RE.match(action_id):
        raise ValueError(f"invalid action_id {action_id!r}")
    if not 0 < len(options) <= MAX_SELECT_OPTIONS:
        raise ValueError(f"a select needs 1..{MAX_SELECT_OPTIONS} options")
    opts = []
    for text, value in options:
        if not value or len(value) > MAX_OPTION_VALUE:
            raise ValueError(f"option value must be 1..{MAX_OPTION_VALUE} characters")
        opts.append({"text": plain_text(truncate(text, MAX_OPTION_TEXT) or value[:MAX_OPTION_TEXT]), "value": value})
    return {
        "type": "static_select",
        "placeholder": plain_text(truncate(placeholder, MAX_SELECT_PLACEHOLDER) or "Choose"),
        "action_id": action_id,
        "options": opts,
    }


def actions(elements: Sequence[dict[str, Any]], *, block_id: str | None = None) -> dict[str, Any]:
    """An actions block (≤ 25 elements)."""
    block: dict[str, Any] = {"type": "actions", "elements": list(elements)[:MAX_ACTIONS_ELEMENTS]}
    if block_id:
        block["block_id"] = block_id[:MAX_BLOCK_ID]
    return block


# -- fit ---------------------------------------------------------------------------------------


_TEXT_TYPES = ("plain_text", "mrkdwn")


def _walk_slots(node: dict[str, Any] | list[Any], slots: list[dict[str, Any]]) -> None:
    """Append the text objects under ``node`` (not ``node`` itself) to ``slots``. Text objects
    and scalars are handled here, without a call each (render hot path)."""
    for v in node.values() if isinstance(node, dict) else node:
        if isinstance(v, dict):
            if v.get("type") in _TEXT_TYPES and isinstance(v.get("text"), str):
                slots.append(v)
            else:
                _walk_slots(v, slots)
        elif isinstance(v, list):
            _walk_slots(v, slots)


def _text_slots(block: dict[str, Any]) -> list[dict[str, Any]]:
    """Every text object inside a block (the dicts holding a ``text`` string)."""
    if isinstance(block, dict) and block.get("type") in _TEXT_TYPES and isinstance(block.get("text"), str):
        return [block]
    slots: list[dict[str, Any]] = []
    if isinstance(block, dict | list):
        _walk_slots(block, slots)
    return slots


def total_text_length(blocks: Sequence[dict[str, Any]]) -> int:
    """Sum of the lengths of every text object in ``blocks`` (what msg_blocks_too_long counts)."""
    return sum(len(slot["text"]) for b in blocks for slot in _text_slots(b))


def _fit_button(elem: dict[str, Any]) -> dict[str, Any] | None:
    if elem.get("type") != "button":
        return elem
    action_id, value = elem.get("action_id", ""), elem.get("value")
    if not isinstance(action_id, str) or not _ACTION_ID_RE.match(action_id):
        return None
    if value is not None and (not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE):
        return None
    if "url" in elem and (not isinstance(elem["url"], str) or len(elem["url"]) > MAX_BUTTON_URL):
        return None
    elem["text"]["text"] = truncate(elem["text"].get("text", ""), MAX_BUTTON_TEXT) or "…"
    conf = elem.get("confirm")
    if conf:
        for key, limit in (
            ("title", MAX_CONFIRM_TITLE),
            ("text", MAX_CONFIRM_TEXT),
            ("confirm", MAX_CONFIRM_BUTTON),
            ("deny", MAX_CONFIRM_BUTTON),
        ):
            if key in conf:
                conf[key]["text"] = truncate(conf[key]["text"], limit) or "…"
    return elem


def _fit_block(block: dict[str, Any]) -> dict[str, Any] | None:
    """Apply per-block limits; None when nothing valid is left."""
    kind = block.get("type")
    if "block_id" in block:
        block["block_id"] = str(block["block_id"])[:MAX_BLOCK_ID]
    if kind == "header":
        text = truncate(block.get("text", {}).get("text", "").strip(), MAX_HEADER_TEXT)
        if not text:
            return None
        block["text"]["text"] = text
    elif kind == "section":
        if "text" in block:
            text = truncate(block["text"].get("text", ""), MAX_SECTION_TEXT)
            if text.strip():
                block["text"]["text"] = text
            else:
                del block["text"]
        if "fields" in block:
            kept = []
            for f in block["fields"][:MAX_FIELDS]:
                f["text"] = truncate(f.get("text", ""), MAX_FIELD_TEXT)
                if f["text"].strip():
                    kept.append(f)
            if kept:
                block["fields"] = kept
            else:
                del block["fields"]
        if "text" not in block and "fields" not in block:
            return None
    elif kind == "context":
        kept = []
        for e in block.get("elements", [])[:MAX_CONTEXT_ELEMENTS]:
            if e.get("type") in ("plain_text", "mrkdwn"):
                e["text"] = truncate(e.get("text", ""), MAX_CONTEXT_TEXT)
                if not e["text"].strip():
                    continue
            kept.append(e)
        if not kept:
            return None
        block["elements"] = kept
    elif kind == "actions":
        seen: set[str] = set()
        kept = []
        for e in block.get("elements", []):
            e = _fit_button(e)
            if e is None or e.get("action_id") in seen:
                continue  # Slack rejects duplicate action_ids within a block
            seen.add(e.get("action_id", ""))
            kept.append(e)
        if not kept:
            return None
        block["elements"] = kept[:MAX_ACTIONS_ELEMENTS]
    return block


def _is_protected(block: dict[str, Any]) -> bool:
    return block.get("type") in ("actions", "header")


def _shrink_to_budget(blocks: list[dict[str, Any]], budget: int) -> None:
    """Cut the longest texts of unprotected blocks to one common cap so the total fits."""
    fixed = sum(len(s["text"]) for b in blocks if _is_protected(b) for s in _text_slots(b))
    slots = [s for b in blocks if not _is_protected(b) for s in _text_slots(b)]
    available = budget - fixed
    lengths = [len(s["text"]) for s in slots]
    if sum(lengths) <= available:
        return
    lo, hi = 0, max(lengths, default=0)
    while lo < hi:  # largest cap c with sum(min(len, c)) <= available
        mid = (lo + hi + 1) // 2
        if sum(min(n, mid) for n in lengths) <= available:
            lo = mid
        else:
            hi = mid - 1
    cap = max(lo, 1)
    for s in slots:
        if len(s["text"]) > cap:
            s["text"] = truncate(s["text"], cap) or ELLIPSIS


def fit(
    blocks: Sequence[dict[str, Any]], *, budget: int = TOTAL_TEXT_BUDGET, owned: bool = False
) -> list[dict[str, Any]]:
    """Return a copy of ``blocks`` that passes every Slack limit. ``owned``: the caller built
    ``blocks`` for this call alone (nothing else holds them), so they are fitted in place.

    Texts are truncated, empty blocks dropped, and when there are too many blocks or too much
    text the trailing non-action blocks go first; the header and the actions block are kept.

    >>> len(fit([section("x" * 5000)])[0]["text"]["text"])
    3000
    """
    out = [b for b in (_fit_block(b if owned else _copy(dict(b))) for b in blocks) if b is not None]
    if len(out) <= MAX_BLOCKS and total_text_length(out) <= budget:
        return out  # within every limit: nothing below would change it (_fit_block is idempotent)

    while len(out) > MAX_BLOCKS:
        idx = max((i for i, b in enumerate(out) if not _is_protected(b)), default=None)
        if idx is None:
            out = out[:MAX_BLOCKS]
            break
        del out[idx]

    _shrink_to_budget(out, budget)
    # Still over (many tiny texts): drop trailing unprotected blocks until it fits.
    while total_text_length(out) > budget:
        idx = max((i for i, b in enumerate(out) if not _is_protected(b)), default=None)
        if idx is None:
            break
        del out[idx]
    # Only header and actions left and still over (dozens of confirm dialogs): drop buttons.
    while total_text_length(out) > budget:
        acts = [b for b in out if b.get("type") == "actions" and len(b["elements"]) > 1]
        if not acts:
            break
        acts[-1]["elements"].pop()
    # Section/context texts may have been shrunk to nothing meaningful; re-validate.
    out = [b for b in (_fit_block(b) for b in out) if b is not None]
    return out
