"""DynamoDB single-table repository. See ``bot.store.table.Store``."""

from __future__ import annotations

from bot.store.table import MessageRecord, Store, create_table

__all__ = ["MessageRecord", "Store", "create_table"]
