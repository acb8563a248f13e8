"""DynamoDB single-table repository. See ``bot.store.table.Store`` (its docstring lists every key)."""

from __future__ import annotations

from bot.store.table import (
    STORM_BUCKET_S,
    DueStep,
    EventClaim,
    HeldAlert,
    MessageRecord,
    MessageState,
    ResourceThread,
    Store,
    StoredAlert,
    StormTally,
    create_table,
)

__all__ = [
    "STORM_BUCKET_S",
    "DueStep",
    "EventClaim",
    "HeldAlert",
    "MessageRecord",
    "MessageState",
    "ResourceThread",
    "StormTally",
    "Store",
    "StoredAlert",
    "create_table",
]
