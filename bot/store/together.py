"""Several writes of the store as one round trip: ``Store.writes_together()``.

Inside the block, the store's write calls (PutItem, UpdateItem, DeleteItem, BatchWriteItem)
are recorded instead of sent; at the end they go out as one ``TransactWriteItems`` (100 items
a request). Reads pass through at once. What the notify side writes after Slack accepted a
post (the message's ts, the alert's message, the resource's thread, the proposals' message,
the escalation schedule, the event's completion, the open-alert index) is ten round trips one
by one and one together.

The writes inside must not need an answer: a method that asks for ``ReturnValues`` raises
``ValueError`` here, and a conditional write "succeeds" when recorded. When DynamoDB refuses
the transaction (a condition failed: someone clicked a proposal already, a schedule exists; or
throttling, or a key twice), every write is sent again one by one, in order, and a write whose
condition fails is skipped — these conditions only guard against overwriting what another
writer put there first. ``conflicts`` counts those.

Example::

    with store.writes_together() as group:
        store.mark_message_posted(fp, ts, channel)
        store.set_alert_message(alert_id, channel, ts)
    if group.conflicts:
        ...  # someone else wrote first; re-read what matters
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger("eventops.store")

TRANSACT_MAX = 100  # DynamoDB's limit of items per TransactWriteItems
_UPDATE_KEYS = (
    "TableName",
    "Key",
    "UpdateExpression",
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
)
_PUT_KEYS = ("TableName", "Item", "ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues")
_DELETE_KEYS = ("TableName", "Key", "ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues")


def _conditional(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def cancelled_on_condition(exc: ClientError) -> list[bool]:
    """For a cancelled TransactWriteItems, per item in order: did its condition fail? Empty for
    any other error. Some clients put the reasons only in the message ("[None, ConditionalCheckFailed]")."""
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    reasons = [str(r.get("Code")) for r in exc.response.get("CancellationReasons", [])]
    if not reasons:
        message = exc.response.get("Error", {}).get("Message", "")
        reasons = [part.strip() for part in message.partition("[")[2].partition("]")[0].split(",")]
    return [code == "ConditionalCheckFailed" for code in reasons]


class WriteGroup:
    """The DynamoDB client a store uses inside ``writes_together``: writes are recorded
    (``commit`` sends them), anything else goes to the real client."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.items: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []  # to send one by one if refused
        self.conflicts = 0
        self.together = True  # False: DynamoDB refused the transaction; sent one by one

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def put_item(self, **kw: Any) -> dict[str, Any]:
        self._record("Put", "put_item", kw, _PUT_KEYS)
        return {}

    def update_item(self, **kw: Any) -> dict[str, Any]:
        self._record("Update", "update_item", kw, _UPDATE_KEYS)
        return {}

    def delete_item(self, **kw: Any) -> dict[str, Any]:
        self._record("Delete", "delete_item", kw, _DELETE_KEYS)
        return {}

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]], **_: Any) -> dict[str, Any]:
        for table, requests in RequestItems.items():
            for req in requests:
                if "PutRequest" in req:
                    self.put_item(TableName=table, Item=req["PutRequest"]["Item"])
                else:
                    self.delete_item(TableName=table, Key=req["DeleteRequest"]["Key"])
        return {"UnprocessedItems": {}}

    def _record(self, kind: str, call: str, kw: dict[str, Any], allowed: tuple[str, ...]) -> None:
        if kw.get("ReturnValues", "NONE") != "NONE":
            raise ValueError(f"{call} with ReturnValues cannot be written together: it needs an answer")
        self.items.append({kind: {k: v for k, v in kw.items() if k in allowed}})
        self.calls.append((call, kw))

    def commit(self) -> None:
        """Send what was recorded: one TransactWriteItems per 100; a refused one one by one."""
        for i in range(0, len(self.items), TRANSACT_MAX):
            chunk = self.items[i : i + TRANSACT_MAX]
            if len(chunk) == 1:
                self._one_by_one(self.calls[i : i + 1])
                continue
            try:
                self.real.transact_write_items(TransactItems=chunk)
            except ClientError as exc:
                log.info(
                    "%d writes refused together (%s): one by one",
                    len(chunk),
                    exc.response.get("Error", {}).get("Code"),
                )
                self.together = False
                self._one_by_one(self.calls[i : i + TRANSACT_MAX])

    def _one_by_one(self, calls: list[tuple[str, dict[str, Any]]]) -> None:
        """Each write on its own, in order; one that fails (not on its condition) does not keep
        the others from being sent: the first such failure is raised after them."""
        failed: ClientError | None = None
        for call, kw in calls:
            try:
                getattr(self.real, call)(**kw)
            except ClientError as exc:
                if _conditional(exc):
                    self.conflicts += 1
                elif failed is None:
                    failed = exc
        if failed is not None:
            raise failed
