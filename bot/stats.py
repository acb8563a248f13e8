"""What a notify batch received and posted, counted for the scorecard (``bot.scorecard``).

One ``Tally`` per batch: each event is noted when it is routed (``seen``) and counted once its
outcome is known (``settled``), so an event whose delivery failed — SQS retries it — is not
counted twice. ``flush`` hands the sums to the store in one write per batch
(``Store.record_stats``), whatever the batch size.

The counter names are the store's attribute names, one namespace per figure::

    e.<SEVERITY>      events received (duplicate deliveries not included)
    m.<SEVERITY>      messages posted for them: a new message or a thread reply
    m.STORM           storm summaries and their thread lists (one post each)
    d                 duplicate deliveries suppressed
    r.<rule>          events matched by a routing rule ("default" for the default route)
    f.<fingerprint>   events of one problem (the batch's noisiest only; ``t.<fp>`` is its title)
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from bot.models import Alert

# Outcomes of ``bot.pipeline.handle_event`` that put a message in Slack for the event.
MESSAGE_OUTCOMES = frozenset({"posted", "threaded"})
# Per batch: fingerprints and rules written (the noisiest); the rest are only in the totals.
TOP_PER_BATCH = 10
_NAME_MAX = 100
_TITLE_MAX = 80


@dataclass
class _Seen:
    severity: str
    rule: str
    fingerprint: str
    title: str


@dataclass
class Tally:
    """One batch's counts; ``counts`` and ``titles`` are what ``Store.record_stats`` writes.
    Thread-safe: a batch delivers several channels' alerts at once (``bot.pipeline``)."""

    pending: dict[str, _Seen] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    titles: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def seen(self, alert: Alert, rule: str) -> None:
        """``alert`` was routed by ``rule``: counted when ``settled`` says what became of it."""
        self.pending[alert.id] = _Seen(alert.severity.value, rule or "default", alert.fingerprint, alert.title)

    def settled(self, alert_id: str, outcome: str) -> None:
        with self._lock:
            self._settled(alert_id, outcome)

    def _settled(self, alert_id: str, outcome: str) -> None:
        if outcome == "duplicate":
            self.counts["d"] += 1
            return
        seen = self.pending.pop(alert_id, None)
        if seen is None:
            return
        self.counts[f"e.{seen.severity}"] += 1
        if outcome in MESSAGE_OUTCOMES:
            self.counts[f"m.{seen.severity}"] += 1
        self.counts[f"r.{seen.rule[:_NAME_MAX]}"] += 1
        self.counts[f"f.{seen.fingerprint[:_NAME_MAX]}"] += 1
        self.titles.setdefault(seen.fingerprint[:_NAME_MAX], seen.title[:_TITLE_MAX])

    def storm_posts(self, n: int) -> None:
        if n:
            self.counts["m.STORM"] += n

    def take(self) -> tuple[dict[str, int], dict[str, str]]:
        """The batch's figures to write (rules and fingerprints: its ``TOP_PER_BATCH`` noisiest
        of each), and reset. Unsettled events (their delivery failed) are dropped."""
        counts = self.counts
        keep: dict[str, int] = {k: n for k, n in counts.items() if not k.startswith(("r.", "f."))}
        for prefix in ("r.", "f."):
            ranked = sorted(((n, k) for k, n in counts.items() if k.startswith(prefix)), reverse=True)
            keep.update({k: n for n, k in ranked[:TOP_PER_BATCH]})
        titles = {fp: t for fp, t in self.titles.items() if f"f.{fp}" in keep}
        self.pending.clear()
        self.counts = Counter()
        self.titles = {}
        return keep, titles
