"""One DynamoDB table for alerts, proposals, decisions, audit, snoozes and dedup keys.

Item layout (``pk`` / ``sk``; ``ttl`` expires items; ``gsi1pk`` / ``gsi1sk`` for listings):

=========================  ==========  =================================================
pk                         sk          what
=========================  ==========  =================================================
EVENT#<event id>           EVENT       dedup of EventBridge deliveries (TTL ≥ 24 h)
FP#<fingerprint>           MSG         the first message of a problem: channel, ts, count
RES#<channel>#<resource>   MSG         the message related events are threaded under
ALERT#<alert id>           ALERT       the latest Alert JSON (``/ops alert``, proposals)
PROPOSAL#<id>              PROPOSAL    a proposal; every transition is conditional
AUDIT#<id>                 AUDIT       append-only; written once (attribute_not_exists)
SNOOZE#<target>            SNOOZE      fingerprint / rule / alert snoozes
RATE#<account>#<hour>      RATE        blast-radius counter
STORM#<channel>#<minute>   STORM       per-channel post counter and summary message
=========================  ==========  =================================================

Nested data is stored as a JSON string in ``data`` so pydantic models round-trip exactly.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from bot.approval.states import check as check_transition
from bot.errors import ConflictError, NotFoundError, StoreError
from bot.models import Actor, Alert, AuditEntry, Proposal, ProposalState

AUDIT_PREFIX = "AUDIT#"


def _now() -> float:
    return time.time()


def _s(v: str) -> dict[str, str]:
    return {"S": v}


def _n(v: float | int) -> dict[str, str]:
    return {"N": str(int(v))}


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


@dataclass
class MessageRecord:
    """The Slack message that represents one fingerprint."""

    fingerprint: str
    channel: str
    ts: str | None
    count: int
    first_seen: float
    last_seen: float
    last_event_time: str
    alert_id: str
    last_update: float = 0.0
    dirty: bool = False
    # The first alert of the fingerprint: it owns the message, its proposals and buttons.
    owner_id: str = ""


def create_table(client: Any, name: str) -> None:
    """Create the table (tests and the sandbox; serverless.yml creates it when deployed)."""
    client.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "gsi1pk", "AttributeType": "S"},
            {"AttributeName": "gsi1sk", "AttributeType": "S"},
        ],
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


class Store:
    """Repository over the single table. ``client`` is a boto3 DynamoDB client."""

    def __init__(self, client: Any, table_name: str) -> None:
        self.client = client
        self.table = table_name

    # --- event dedup ----------------------------------------------------------------------
    def claim_event(self, event_id: str, ttl_hours: int) -> bool:
        """True the first time an event id is seen; False for a redelivery."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item={"pk": _s(f"EVENT#{event_id}"), "sk": _s("EVENT"), "ttl": _n(_now() + ttl_hours * 3600)},
                ConditionExpression="attribute_not_exists(pk)",
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def release_event(self, event_id: str) -> None:
        """Forget an event id so a failed delivery can be retried by SQS."""
        self.client.delete_item(TableName=self.table, Key={"pk": _s(f"EVENT#{event_id}"), "sk": _s("EVENT")})

    # --- messages per fingerprint ---------------------------------------------------------
    def get_message(self, fingerprint: str) -> MessageRecord | None:
        item = self._get(f"FP#{fingerprint}", "MSG")
        return _message_from_item(item) if item else None

    def claim_message(self, fingerprint: str, channel: str, alert: Alert, window_s: int) -> MessageRecord | None:
        """Claim the right to post the first message; None when someone else holds a live one."""
        now = _now()
        item = {
            "pk": _s(f"FP#{fingerprint}"),
            "sk": _s("MSG"),
            "channel": _s(channel),
            "count": _n(1),
            "first_seen": _n(now),
            "last_seen": _n(now),
            "last_update": _n(now),
            "last_event_time": _s(alert.time.isoformat()),
            "alert_id": _s(alert.id),
            "owner_id": _s(alert.id),
            "ttl": _n(now + window_s),
        }
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR #ttl < :now",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={":now": _n(now)},
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return None
            raise
        return _message_from_item(item)

    def set_message_ts(self, fingerprint: str, ts: str, channel: str | None = None) -> None:
        values = {":ts": _s(ts)}
        expr = "SET #ts = :ts"
        if channel:
            expr += ", channel = :c"
            values[":c"] = _s(channel)
        self.client.update_item(
            TableName=self.table,
            Key={"pk": _s(f"FP#{fingerprint}"), "sk": _s("MSG")},
            UpdateExpression=expr,
            ExpressionAttributeNames={"#ts": "ts"},
            ExpressionAttributeValues=values,
        )

    def drop_message_claim(self, fingerprint: str) -> None:
        self.client.delete_item(TableName=self.table, Key={"pk": _s(f"FP#{fingerprint}"), "sk": _s("MSG")})

    def bump_message(self, fingerprint: str, event_time: datetime, alert_id: str) -> tuple[MessageRecord, bool]:
        """Count a repeat and mark the message dirty. Returns the record and whether this event is
        the newest seen (an older event arriving late only counts). One write in the usual case."""
        now = _now()
        key = {"pk": _s(f"FP#{fingerprint}"), "sk": _s("MSG")}
        t = event_time.isoformat()
        try:
            resp = self.client.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression="ADD #count :one SET last_seen = :now, dirty = :t, last_event_time = :et, alert_id = :a",
                ConditionExpression="attribute_exists(pk) AND last_event_time <= :et",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues={
                    ":one": _n(1),
                    ":now": _n(now),
                    ":t": {"BOOL": True},
                    ":et": _s(t),
                    ":a": _s(alert_id),
                },
                ReturnValues="ALL_NEW",
            )
            return _message_from_item(resp["Attributes"]), True
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
        resp = self.client.update_item(
            TableName=self.table,
            Key=key,
            UpdateExpression="ADD #count :one SET last_seen = :now, dirty = :t",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#count": "count"},
            ExpressionAttributeValues={":one": _n(1), ":now": _n(now), ":t": {"BOOL": True}},
            ReturnValues="ALL_NEW",
        )
        return _message_from_item(resp["Attributes"]), False

    def lookup(
        self, fingerprint: str, snooze_targets: list[str], channel: str, resource_key: str | None
    ) -> tuple[MessageRecord | None, bool, str | None]:
        """One round trip for what the notify side needs to know about a new event: the
        fingerprint's message, whether any of ``snooze_targets`` is snoozed, and the thread of
        the resource's message in ``channel``."""
        keys = [(f"FP#{fingerprint}", "MSG")] + [(f"SNOOZE#{t}", "SNOOZE") for t in snooze_targets]
        if resource_key:
            keys.append((f"RES#{channel}#{resource_key}", "MSG"))
        request = {self.table: {"Keys": [{"pk": _s(pk), "sk": _s(sk)} for pk, sk in keys], "ConsistentRead": True}}
        items: dict[str, dict[str, Any]] = {}
        for _ in range(5):
            resp = self.client.batch_get_item(RequestItems=request)
            for item in resp.get("Responses", {}).get(self.table, []):
                items[item["pk"]["S"]] = item
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(0.05)
        else:
            raise StoreError("DynamoDB left keys unprocessed five times (throttled)")
        now = _now()
        live = {pk: it for pk, it in items.items() if "ttl" not in it or float(it["ttl"]["N"]) >= now}
        fp = live.get(f"FP#{fingerprint}")
        snoozed = any(float(live[f"SNOOZE#{t}"]["until"]["N"]) > now for t in snooze_targets if f"SNOOZE#{t}" in live)
        thread = live.get(f"RES#{channel}#{resource_key}") if resource_key else None
        return (_message_from_item(fp) if fp else None), snoozed, (thread["ts"]["S"] if thread else None)

    def mark_message_updated(self, fingerprint: str, dirty: bool) -> None:
        self.client.update_item(
            TableName=self.table,
            Key={"pk": _s(f"FP#{fingerprint}"), "sk": _s("MSG")},
            UpdateExpression="SET last_update = :now, dirty = :d",
            ExpressionAttributeValues={":now": _n(_now()), ":d": {"BOOL": dirty}},
        )

    def dirty_messages(self, limit: int = 100) -> list[MessageRecord]:
        """Messages whose counter changed without a chat.update (housekeeping flushes them)."""
        out: list[MessageRecord] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "sk = :msg AND dirty = :t",
            "ExpressionAttributeValues": {":msg": _s("MSG"), ":t": {"BOOL": True}},
        }
        while len(out) < limit:
            resp = self.client.scan(**kwargs)
            out += [_message_from_item(i) for i in resp.get("Items", []) if i["pk"]["S"].startswith("FP#")]
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return out[:limit]

    # --- threads per resource -------------------------------------------------------------
    def resource_thread(self, channel: str, resource_key: str) -> str | None:
        item = self._get(f"RES#{channel}#{resource_key}", "MSG")
        return item["ts"]["S"] if item else None

    def set_resource_thread(self, channel: str, resource_key: str, ts: str, ttl_s: int) -> None:
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": _s(f"RES#{channel}#{resource_key}"),
                "sk": _s("MSG"),
                "ts": _s(ts),
                "ttl": _n(_now() + ttl_s),
            },
        )

    # --- alerts ---------------------------------------------------------------------------
    def put_alert(
        self,
        alert: Alert,
        channel: str | None = None,
        ts: str | None = None,
        proposal_ids: list[str] | None = None,
    ) -> None:
        item: dict[str, Any] = {
            "pk": _s(f"ALERT#{alert.id}"),
            "sk": _s("ALERT"),
            "data": _s(alert.model_dump_json()),
            "ttl": _n(_now() + 30 * 86400),
            "gsi1pk": _s("ALERTS"),
            "gsi1sk": _s(f"{alert.time.isoformat()}#{alert.id}"),
            "severity": _s(alert.severity.value),
            "active": {"BOOL": alert.active},
        }
        if channel:
            item["channel"] = _s(channel)
        if ts:
            item["ts"] = _s(ts)
        if proposal_ids:
            item["proposal_ids"] = {"SS": proposal_ids}
        self.client.put_item(TableName=self.table, Item=item)

    def set_alert_status(self, alert_id: str, status: str) -> None:
        """The status line shown on an alert's message ("Acknowledged by …"), kept across re-renders."""
        self.client.update_item(
            TableName=self.table,
            Key={"pk": _s(f"ALERT#{alert_id}"), "sk": _s("ALERT")},
            UpdateExpression="SET #st = :st",
            ExpressionAttributeNames={"#st": "status"},
            ExpressionAttributeValues={":st": _s(status)},
        )

    def alert_proposals(self, alert_id: str) -> list[Proposal]:
        """The proposals offered on an alert's message, in button order."""
        return self.alert_message_state(alert_id)[0]

    def alert_message_state(self, alert_id: str) -> tuple[list[Proposal], str | None]:
        """What re-rendering an alert's message needs besides the alert: its proposals (button
        order) and its status line, from one read of the alert item."""
        item = self._get(f"ALERT#{alert_id}", "ALERT")
        if not item:
            return [], None
        status = item.get("status", {}).get("S")
        out = []
        for pid in item.get("proposal_ids", {}).get("SS", []):
            try:
                out.append(self.get_proposal(pid))
            except NotFoundError:
                continue
        return sorted(out, key=lambda p: (p.created_at, p.remediation)), status

    def set_alert_message(self, alert_id: str, channel: str, ts: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key={"pk": _s(f"ALERT#{alert_id}"), "sk": _s("ALERT")},
            UpdateExpression="SET channel = :c, #ts = :ts",
            ExpressionAttributeNames={"#ts": "ts"},
            ExpressionAttributeValues={":c": _s(channel), ":ts": _s(ts)},
        )

    def get_alert(self, alert_id: str) -> tuple[Alert, str | None, str | None]:
        item = self._get(f"ALERT#{alert_id}", "ALERT")
        if not item:
            raise NotFoundError(f"alert {alert_id} not found")
        return (
            Alert.model_validate_json(item["data"]["S"]),
            item.get("channel", {}).get("S"),
            item.get("ts", {}).get("S"),
        )

    def recent_alerts(self, limit: int = 200) -> list[Alert]:
        resp = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": _s("ALERTS")},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [Alert.model_validate_json(i["data"]["S"]) for i in resp.get("Items", [])]

    # --- proposals ------------------------------------------------------------------------
    def put_proposal(self, proposal: Proposal) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=self._proposal_item(proposal),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get_proposal(self, proposal_id: str) -> Proposal:
        item = self._get(f"PROPOSAL#{proposal_id}", "PROPOSAL")
        if not item:
            raise NotFoundError(f"proposal {proposal_id} not found")
        return Proposal.model_validate_json(item["data"]["S"])

    def save_proposal(self, proposal: Proposal, expect_state: ProposalState, expect_version: int) -> Proposal:
        """Conditional write: succeeds only if nobody moved the proposal since it was read.

        Every transition goes through the state machine: an illegal one (RUNNING → PROPOSED,
        FAILED → RUNNING, …) raises ``InvalidTransitionError`` before anything is written.
        """
        check_transition(expect_state, proposal.state)
        new = proposal.model_copy(update={"version": expect_version + 1, "updated_at": datetime.now(UTC)})
        try:
            self.client.put_item(
                TableName=self.table,
                Item=self._proposal_item(new),
                ConditionExpression="#state = :s AND #v = :v",
                ExpressionAttributeNames={"#state": "state", "#v": "version"},
                ExpressionAttributeValues={":s": _s(expect_state.value), ":v": _n(expect_version)},
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                raise ConflictError(f"proposal {proposal.id} changed concurrently") from None
            raise
        return new

    def proposals_in(self, states: set[ProposalState], limit: int = 500) -> list[Proposal]:
        out: list[Proposal] = []
        for state in states:
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": "gsi1",
                "KeyConditionExpression": "gsi1pk = :p",
                "ExpressionAttributeValues": {":p": _s(f"PROPOSALS#{state.value}")},
            }
            while True:
                resp = self.client.query(**kwargs)
                out += [Proposal.model_validate_json(i["data"]["S"]) for i in resp.get("Items", [])]
                if "LastEvaluatedKey" not in resp or len(out) >= limit:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return out[:limit]

    def _proposal_item(self, p: Proposal) -> dict[str, Any]:
        return {
            "pk": _s(f"PROPOSAL#{p.id}"),
            "sk": _s("PROPOSAL"),
            "state": _s(p.state.value),
            "version": _n(p.version),
            "data": _s(p.model_dump_json()),
            "gsi1pk": _s(f"PROPOSALS#{p.state.value}"),
            "gsi1sk": _s(f"{p.created_at.isoformat()}#{p.id}"),
            "ttl": _n(_now() + 90 * 86400),
        }

    # --- audit ----------------------------------------------------------------------------
    def append_audit(self, entry: AuditEntry, unique_key: str | None = None) -> bool:
        """Write one audit record; with ``unique_key`` a second write for it is a no-op (False)."""
        key = unique_key or entry.id
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": _s(f"{AUDIT_PREFIX}{key}"),
                    "sk": _s("AUDIT"),
                    "data": _s(entry.model_dump_json()),
                    "gsi1pk": _s("AUDIT"),
                    "gsi1sk": _s(f"{entry.at.isoformat()}#{entry.id}"),
                    "actor": _s(entry.actor.user_id),
                    "resource": _s(entry.resource or ""),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def recent_audit(self, limit: int = 20, resource: str | None = None, user: str | None = None) -> list[AuditEntry]:
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

    def audit_for_proposal(self, proposal_id: str) -> list[AuditEntry]:
        return [e for e in self.recent_audit(limit=1000) if e.proposal_id == proposal_id]

    # --- snoozes --------------------------------------------------------------------------
    def snooze(self, target: str, until: float, actor: Actor, reason: str = "", channel: str = "", ts: str = "") -> str:
        snooze_id = uuid.uuid4().hex[:10]
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": _s(f"SNOOZE#{target}"),
                "sk": _s("SNOOZE"),
                "id": _s(snooze_id),
                "until": _n(until),
                "by": _s(actor.model_dump_json()),
                "reason": _s(reason or "-"),
                "channel": _s(channel or "-"),
                "ts": _s(ts or "-"),
                "gsi1pk": _s("SNOOZES"),
                "gsi1sk": _s(f"{int(until)}#{target}"),
                "ttl": _n(until + 7 * 86400),
            },
        )
        return snooze_id

    def snoozed_until(self, target: str) -> float | None:
        item = self._get(f"SNOOZE#{target}", "SNOOZE")
        if not item:
            return None
        until = float(item["until"]["N"])
        return until if until > _now() else None

    def snoozes(self, include_expired: bool = False) -> list[dict[str, Any]]:
        resp = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": _s("SNOOZES")},
        )
        out = []
        now = _now()
        for i in resp.get("Items", []):
            until = float(i["until"]["N"])
            if until <= now and not include_expired:
                continue
            out.append(
                {
                    "id": i["id"]["S"],
                    "target": i["pk"]["S"].removeprefix("SNOOZE#"),
                    "until": until,
                    "by": Actor.model_validate_json(i["by"]["S"]),
                    "reason": "" if i["reason"]["S"] == "-" else i["reason"]["S"],
                    "channel": "" if i["channel"]["S"] == "-" else i["channel"]["S"],
                    "ts": "" if i["ts"]["S"] == "-" else i["ts"]["S"],
                }
            )
        return out

    def unsnooze(self, target_or_id: str) -> bool:
        for s in self.snoozes(include_expired=True):
            if target_or_id in (s["id"], s["target"]):
                self.client.delete_item(
                    TableName=self.table, Key={"pk": _s(f"SNOOZE#{s['target']}"), "sk": _s("SNOOZE")}
                )
                return True
        return False

    # --- counters -------------------------------------------------------------------------
    def incr(self, pk: str, ttl_s: int, by: int = 1) -> int:
        resp = self.client.update_item(
            TableName=self.table,
            Key={"pk": _s(pk), "sk": _s("COUNTER")},
            UpdateExpression="ADD #c :by SET #ttl = if_not_exists(#ttl, :ttl)",
            ExpressionAttributeNames={"#c": "count", "#ttl": "ttl"},
            ExpressionAttributeValues={":by": _n(by), ":ttl": _n(_now() + ttl_s)},
            ReturnValues="UPDATED_NEW",
        )
        return int(resp["Attributes"]["count"]["N"])

    def counter(self, pk: str) -> int:
        item = self._get(pk, "COUNTER")
        return int(item["count"]["N"]) if item else 0

    def get_value(self, pk: str) -> str | None:
        item = self._get(pk, "VALUE")
        return item["value"]["S"] if item else None

    def put_value(self, pk: str, value: str, ttl_s: int, only_if_absent: bool = False) -> bool:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Item": {"pk": _s(pk), "sk": _s("VALUE"), "value": _s(value), "ttl": _n(_now() + ttl_s)},
        }
        if only_if_absent:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk)"
        try:
            self.client.put_item(**kwargs)
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    # --- internals ------------------------------------------------------------------------
    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        resp = self.client.get_item(TableName=self.table, Key={"pk": _s(pk), "sk": _s(sk)}, ConsistentRead=True)
        item = resp.get("Item")
        if item and "ttl" in item and float(item["ttl"]["N"]) < _now() and not pk.startswith(AUDIT_PREFIX):
            return None  # DynamoDB deletes expired items lazily (up to days later)
        return item


def _message_from_item(item: dict[str, Any]) -> MessageRecord:
    return MessageRecord(
        fingerprint=item["pk"]["S"].removeprefix("FP#"),
        channel=item["channel"]["S"],
        ts=item.get("ts", {}).get("S"),
        count=int(item["count"]["N"]),
        first_seen=float(item["first_seen"]["N"]),
        last_seen=float(item["last_seen"]["N"]),
        last_event_time=item["last_event_time"]["S"],
        alert_id=item["alert_id"]["S"],
        last_update=float(item.get("last_update", {"N": "0"})["N"]),
        dirty=bool(item.get("dirty", {}).get("BOOL", False)),
        owner_id=item.get("owner_id", item["alert_id"])["S"],
    )
