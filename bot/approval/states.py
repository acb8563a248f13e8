"""The proposal state machine, declared once and validated at import.

::

    PROPOSED ─► APPROVED ─► RUNNING ─► SUCCEEDED ─► UNDONE
        │                      ├──► FAILED
        │                      └──► NOOP
        └─► DISMISSED | SNOOZED | EXPIRED | DENIED

A state may be re-saved as itself where a proposal gathers facts while it waits: approvals
(``PROPOSED``), the message an ``/ops run`` request was posted as (``PROPOSED``, ``APPROVED``),
an undo's request and approvals (``SUCCEEDED``).
``RUNNING`` may also go back to ``FAILED`` from a worker that crashed and was re-delivered;
``SNOOZED`` returns to ``PROPOSED`` when the snooze ends.
"""

from __future__ import annotations

from bot.models import ProposalState as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.PROPOSED: frozenset({S.PROPOSED, S.APPROVED, S.DISMISSED, S.SNOOZED, S.EXPIRED, S.DENIED}),
    S.APPROVED: frozenset({S.APPROVED, S.RUNNING, S.EXPIRED, S.DENIED, S.DISMISSED}),
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.NOOP}),
    S.SUCCEEDED: frozenset({S.SUCCEEDED, S.UNDONE}),
    S.SNOOZED: frozenset({S.PROPOSED, S.DISMISSED, S.EXPIRED}),
    S.FAILED: frozenset(),
    S.NOOP: frozenset(),
    S.UNDONE: frozenset(),
    S.DISMISSED: frozenset(),
    S.EXPIRED: frozenset(),
    S.DENIED: frozenset(),
}

TERMINAL: frozenset[S] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt) | {S.SUCCEEDED}
OPEN: frozenset[S] = frozenset({S.PROPOSED, S.APPROVED, S.SNOOZED})


class InvalidTransitionError(ValueError):
    pass


def check(current: S, new: S) -> None:
    if new not in TRANSITIONS[current]:
        raise InvalidTransitionError(f"a proposal cannot go from {current.value} to {new.value}")


def _validate() -> None:
    missing = set(S) - set(TRANSITIONS)
    if missing:
        raise InvalidTransitionError(f"states without transitions declared: {sorted(m.value for m in missing)}")
    for src, targets in TRANSITIONS.items():
        unknown = targets - set(S)
        if unknown:
            raise InvalidTransitionError(f"{src.value} leads to unknown states {unknown}")


_validate()
