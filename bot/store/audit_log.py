"""The audit trail: its own table, one hash chain per UTC day, written once and never changed.

Key families of the audit table (``<table>-audit``; ``bot.store.table`` lists the main table's):

==============================  ============  =====================================================
pk                              sk            value
==============================  ============  =====================================================
CHAIN#<YYYY-MM-DD>              <seq, 10 d.>  one record: ``data`` (AuditEntry JSON), ``key``,
                                              ``prev`` (the previous record's hash), ``hash``
KEY#<unique key>                KEY           ``chain`` and ``seq`` of the record written for it
==============================  ============  =====================================================

Both are written together by one ``TransactWriteItems`` whose two puts are conditional on the
item being absent: the ``KEY#`` item keeps ``append(entry, unique_key)`` once-only, and the
``CHAIN#`` slot ``<seq>`` can be taken once, so two concurrent appends cannot fork the chain —
the loser re-reads the head and retries on the next slot. ``hash`` is SHA-256 over the chain,
seq, prev, key and data (``record_hash``); the first record of a day has ``prev`` = ``GENESIS``.
Each append logs its hash (CloudWatch Logs, which no EventOps role can delete or edit), a witness
outside the table for a chain rewritten from some record to its end.

``verify`` walks the chains and reports where each breaks: a record whose content no longer
matches its hash, a record whose predecessor changed (its ``prev`` differs from the
predecessor's hash) or a missing sequence number. No EventOps role may update or delete items
here (serverless.yml), but IAM cannot make ``PutItem`` insert-only, so an overwrite is possible
for a compromised role: the chain is what makes it visible (README "Authorization").
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from bot.errors import StoreError
from bot.models import AuditEntry
from bot.store.together import cancelled_on_condition

log = logging.getLogger("eventops.audit")

AUDIT_TABLE_SUFFIX = "-audit"
GENESIS = "0" * 64
_MAX_ATTEMPTS = 25  # appends racing for the same slot; each loser retries on the next one


def audit_table_name(table: str) -> str:
    """``eventops-prod-Table-1ABC`` → ``eventops-prod-Table-1ABC-audit`` (serverless.yml names it so)."""
    return f"{table}{AUDIT_TABLE_SUFFIX}"


def chain_of(at: datetime) -> str:
    return f"CHAIN#{at.astimezone(UTC).strftime('%Y-%m-%d')}"


def record_hash(chain: str, seq: int, prev: str, key: str, data: str) -> str:
    """The hash a record is chained by: everything it says, and the hash of the one before it."""
    body = json.dumps(
        {"chain": chain, "seq": seq, "prev": prev, "key": key, "data": data}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _s(v: str) -> dict[str, str]:
    return {"S": v}


def _seq_sk(seq: int) -> str:
    return f"{seq:010d}"


@dataclass(frozen=True)
class ChainBreak:
    """Where a chain breaks: which record, what is wrong, the hash expected and the one found."""

    chain: str
    seq: int
    entry_id: str
    problem: str
    expected: str
    found: str

    @property
    def day(self) -> str:
        return self.chain.removeprefix("CHAIN#")


@dataclass(frozen=True)
class ChainReport:
    """``verify``'s answer: records checked per day (oldest first), the breaks, each day's head hash."""

    days: dict[str, int]
    heads: dict[str, str]
    breaks: list[ChainBreak]

    @property
    def ok(self) -> bool:
        return not self.breaks


@dataclass(frozen=True)
class _Record:
    chain: str
    seq: int
    key: str
    data: str
    prev: str
    hash: str

    @classmethod
    def of(cls, item: dict[str, Any]) -> _Record:
        def text(name: str) -> str:
            return str(item.get(name, {}).get("S", ""))

        return cls(text("pk"), int(text("sk") or 0), text("key"), text("data"), text("prev"), text("hash"))

    def actual_hash(self) -> str:
        return record_hash(self.chain, self.seq, self.prev, self.key, self.data)

    def entry_id(self) -> str:
        try:
            return AuditEntry.model_validate_json(self.data).id
        except ValueError:
            return "(unreadable record)"


def create_audit_table(client: Any, name: str) -> None:
    """The audit table (tests and the sandbox; serverless.yml creates it when deployed)."""
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gsi1pk", "gsi1sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": [
                    {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


class AuditLog:
    """Append-only, hash-chained audit records in their own table."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def append(self, entry: AuditEntry, unique_key: str | None = None) -> bool:
        """Chain one record; with ``unique_key`` a second append for it is a no-op (False)."""
        key = unique_key or entry.id
        data = entry.model_dump_json()
        chain = chain_of(datetime.fromtimestamp(time.time(), UTC))
        for _ in range(_MAX_ATTEMPTS):
            seq, prev = self._head(chain)
            seq += 1
            digest = record_hash(chain, seq, prev, key, data)
            try:
                self.client.transact_write_items(TransactItems=self._puts(entry, chain, seq, key, data, prev, digest))
            except ClientError as exc:
                slot_taken, key_taken = _cancelled_by(exc)
                if key_taken:
                    return False
                if slot_taken:
                    continue  # another append took the slot: chain after it
                raise
            log.info("audit chained %s #%d %s (%s)", chain.removeprefix("CHAIN#"), seq, digest, key)
            return True
        raise StoreError(f"audit chain {chain}: no free slot after {_MAX_ATTEMPTS} attempts")

    def _puts(
        self, entry: AuditEntry, chain: str, seq: int, key: str, data: str, prev: str, digest: str
    ) -> list[dict[str, Any]]:
        record = {
            "pk": _s(chain),
            "sk": _s(_seq_sk(seq)),
            "key": _s(key),
            "data": _s(data),
            "prev": _s(prev),
            "hash": _s(digest),
            "gsi1pk": _s("AUDIT"),
            "gsi1sk": _s(f"{entry.at.isoformat()}#{entry.id}"),
            "actor": _s(entry.actor.user_id),
            "resource": _s(entry.resource or ""),
        }
        claim = {"pk": _s(f"KEY#{key}"), "sk": _s("KEY"), "chain": _s(chain), "seq": _s(_seq_sk(seq))}
        absent = "attribute_not_exists(pk)"
        return [
            {"Put": {"TableName": self.table, "Item": record, "ConditionExpression": absent}},
            {"Put": {"TableName": self.table, "Item": claim, "ConditionExpression": absent}},
        ]

    def _head(self, chain: str) -> tuple[int, str]:
        """The last record's sequence number and hash; (0, GENESIS) for an empty chain."""
        resp = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": _s(chain)},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = resp.get("Items", [])
        if not items:
            return 0, GENESIS
        return int(items[0]["sk"]["S"]), items[0].get("hash", {}).get("S", "")

    def recent(self, limit: int, resource: str | None = None, user: str | None = None) -> list[AuditEntry]:
        out: list[AuditEntry] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": {":p": _s("AUDIT")},
            "ScanIndexForward": False,
        }
        while len(out) < limit:
            resp = self.client.query(**kwargs)
            for i in resp.get("Items", []):
                entry = AuditEntry.model_validate_json(i["data"]["S"])
                if resource and resource not in (entry.resource or ""):
                    continue
                if user and entry.actor.user_id != user:
                    continue
                out.append(entry)
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return out[:limit]

    def since(self, start: datetime, now: datetime | None = None) -> list[AuditEntry]:
        """Every record from ``start`` to now, oldest first: one Query per UTC day's chain
        (records that no longer parse are skipped; ``verify`` is what reports them)."""
        end = now or datetime.fromtimestamp(time.time(), UTC)
        out: list[AuditEntry] = []
        day = start.astimezone(UTC)
        while day.date() <= end.date():
            for r in self._chain(chain_of(day)):
                try:
                    entry = AuditEntry.model_validate_json(r.data)
                except ValueError:
                    continue
                if entry.at >= start:
                    out.append(entry)
            day += timedelta(days=1)
        return out

    def recent_by(self, user: str, limit: int, window: int) -> tuple[list[AuditEntry], int]:
        """``user``'s records among the newest ``window`` (one Query page: DynamoDB reads at
        most ``window`` items and filters on ``actor``): the newest ``limit`` of them, and how
        many the window holds."""
        resp = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            FilterExpression="actor = :u",
            ExpressionAttributeValues={":p": _s("AUDIT"), ":u": _s(user)},
            ScanIndexForward=False,
            Limit=window,
        )
        items = resp.get("Items", [])
        return [AuditEntry.model_validate_json(i["data"]["S"]) for i in items[:limit]], len(items)

    # --- verification -----------------------------------------------------------------------
    def verify(self, days: int = 7, today: datetime | None = None) -> ChainReport:
        """Check the chains of the last ``days`` UTC days (today included), oldest first."""
        end = today or datetime.fromtimestamp(time.time(), UTC)
        counts: dict[str, int] = {}
        heads: dict[str, str] = {}
        breaks: list[ChainBreak] = []
        for back in range(days - 1, -1, -1):
            chain = chain_of(end - timedelta(days=back))
            records = self._chain(chain)
            if records:
                counts[chain.removeprefix("CHAIN#")] = len(records)
                heads[chain.removeprefix("CHAIN#")] = records[-1].hash
                breaks += check_chain(records)
        return ChainReport(days=counts, heads=heads, breaks=breaks)

    def _chain(self, chain: str) -> list[_Record]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": _s(chain)},
            "ConsistentRead": True,
        }
        out: list[_Record] = []
        while True:
            resp = self.client.query(**kwargs)
            out += [_Record.of(i) for i in resp.get("Items", [])]
            if "LastEvaluatedKey" not in resp:
                return out
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def check_chain(records: list[_Record]) -> list[ChainBreak]:
    """Every break in one day's records (in sequence order); empty when the chain holds."""
    breaks: list[ChainBreak] = []
    expected_seq, expected_prev, before = 1, GENESIS, None
    for r in records:
        if r.seq != expected_seq:
            breaks.append(ChainBreak(r.chain, expected_seq, "-", "is missing", f"#{expected_seq}", f"#{r.seq} follows"))
        elif r.prev != expected_prev and before is not None:
            problem = f"was changed after #{r.seq} chained it (#{r.seq} records its hash)"
            breaks.append(ChainBreak(r.chain, before.seq, before.entry_id(), problem, r.prev, expected_prev))
        elif r.prev != expected_prev:
            breaks.append(ChainBreak(r.chain, r.seq, r.entry_id(), "does not start the chain", GENESIS, r.prev))
        actual = r.actual_hash()
        if actual != r.hash:
            breaks.append(ChainBreak(r.chain, r.seq, r.entry_id(), "does not match its hash", r.hash, actual))
        expected_seq, expected_prev, before = r.seq + 1, r.hash, r
    return breaks


def _cancelled_by(exc: ClientError) -> tuple[bool, bool]:
    """Which conditional put cancelled the transaction: (the chain slot, the unique key)."""
    failed = cancelled_on_condition(exc)
    return (len(failed) > 0 and failed[0]), (len(failed) > 1 and failed[1])
