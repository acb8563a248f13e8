"""One DynamoDB table for alerts, proposals, decisions, snoozes and dedup keys; audit beside it.

The store owns every key: callers say what they mean (``store.claim_undo_request(pid, actor)``,
``store.was_notified(pid, state)``) and no module outside ``bot/store`` builds a key string.
This is the one list of the key families. ``pk`` / ``sk`` address an item; ``ttl`` expires it
(reads ignore an expired item before DynamoDB deletes it; audit never expires); ``gsi1pk`` /
``gsi1sk`` serve the listings. TTL "decision" is ``DECISION_TTL_S`` (90 days); a storm bucket is
``STORM_BUCKET_S`` (10 minutes of epoch time).

================================  ========  ===================================  =================
pk                                sk        value                                TTL
  written by (method ← caller)              read by (method ← caller)
================================  ========  ===================================  =================
EVENT#<event id>                  EVENT     status (in_progress with a lease     dedup setting
                                            until, or done)
  claim_event(s), complete_event(s),        claim_event(s) (conditional write; a batch in
                                            TransactWriteItems of 100),
  release_event ← pipeline                  ← housekeeping (abandoned claims)
FP#<fingerprint>                  MSG       ``MessageRecord``: state, channel,   dedup window
                                            ts, count, first/last seen, owner,
                                            claim_until (the claim's lease),
                                            related (alerts in its thread),
                                            resolved (said "Resolved after …")
  claim_message(_with_alert),               get_message, lookup, dirty_messages,
  mark_message_*, bump_message,             abandoned_claims ← pipeline, messages,
  add_related, drop_*claim ← pipeline,      commands.status, housekeeping;
  messages; claim_resolution,               messages_for (BatchGetItem) ← home
  clear_resolution ← escalation
RES#<channel>#<thread key>        MSG       ts of the thread's first message,    dedup window (a
                                            its severity, whether it was active, thread rule's:
                                            its fingerprint ``fp``; the key is a its window)
                                            resource's, or ``corr:<group>``
  set_resource_thread ← pipeline            lookup, resource_thread ← pipeline
ALERT#<alert id>                  ALERT     Alert JSON, channel, ts, proposal    30 days
                                            ids, status line, ``decisions``
                                            (``bot.decisions.Decisions`` JSON)
  put_alert, set_alert_message,             get_alert (``StoredAlert``), alert_message_state,
  set_alert_status ← pipeline, clicks       recent_alerts ← messages, clicks, commands;
                                            recent_stored_alerts ← home
MSGTS#<channel id>#<message ts>   VALUE     the alert id whose message that is   30 days
  set_alert_message ← pipeline              alert_for_message ← commands.explain (a message
                                            link, the "Explain with EventOps" shortcut)
PROPOSAL#<proposal id>            PROPOSAL  Proposal JSON, state, version        90 days
  put_proposal(s), save_proposal            get_proposal, proposals_in ← everyone;
                                            latest_proposals_in ← home
AUDIT#<entry id or unique key>    AUDIT     AuditEntry JSON (before the chain)   never
  nothing: legacy, read-only (IAM denies    nothing in bot/ (console or tools only)
  every write on AUDIT# keys)
SNOOZE#<fp | rule:… | channel:…>  SNOOZE    until, by, reason, channel, ts       until + 7 days
  snooze, unsnooze ← clicks, commands       lookup, snoozed_until, snoozes ← pipeline, sweeps;
                                            active_snoozes ← home
ACK#<alert id>                    VALUE     Actor JSON of the first to ack       decision
  claim_ack ← clicks (Acknowledge)          acked_by ← clicks ("already acknowledged by")
DISMISS#<alert id>                VALUE     Actor JSON of the first to dismiss   decision
  claim_dismissal ← clicks (Dismiss)        dismissed_by ← clicks, commands.status;
                                            dismissed_among (BatchGetItem) ← home
UNDO#<proposal id>                VALUE     Actor JSON of the undo requester     decision
  claim_undo_request ← clicks (Undo)        undo_requested_by ← clicks
UNDORUN#<proposal id>             VALUE     correlation id of the undo job       decision
  claim_undo_run ← worker                   undo_run_by ← worker (redelivery or duplicate)
DRYRUN#<proposal id>:<corr. id>   VALUE     "1"                                  decision
  claim_dry_run ← worker                    claim_dry_run (conditional write)
CMDJOB#<corr. id>                 VALUE     "1": the queued /ops answer was      1 hour
                                            given (a replayed job is dropped)
  claim_command_job ← commands.entry        claim_command_job (conditional write)
JOBFAIL#<proposal id>             VALUE     the error, at most 500 characters    decision
  record_job_failure ← worker               job_failure ← worker (fail the record until DLQ)
POST#<proposal id>                VALUE     ``Outcome.post_state`` JSON          decision
  record_post_state ← worker (finish)       post_state ← worker (undo)
NOTIFIED#<proposal id>:<state>    VALUE     "1"                                  decision
  mark_notified ← worker (after reply)      was_notified ← worker
RATE#<account|default>#<hour>     COUNTER   executions started in that UTC hour  2 hours
  count_execution ← worker (blast radius)   count_execution (returns the new count)
STORM#<channel>#<minute>          COUNTER   new posts in the channel that minute 1 hour
  count_channel_posts ← pipeline            count_channel_posts (returns the new count),
                                            channel_posts_last_minute,
                                            read_for_batch ← pipeline
STORMTOTAL#<channel>#<bucket>     COUNTER   alerts listed in the storm bucket    2 buckets + 1 h
STORMSEV#<channel>#<bucket>#<sev> COUNTER   … of one severity                    2 buckets + 1 h
STORMHELD#<channel>#<bucket>      COUNTER   … counted while the storm was snoozed 2 buckets + 1 h
  count_storm ← pipeline (storm flush)      count_storm (returns the new totals), storm_tally ← clicks
STORMMSG#<channel>#<bucket>       VALUE     "<channel id> <ts>" of the summary   2 buckets
STORMEX#<channel>#<bucket>        VALUE     JSON list of its example titles      2 buckets
  set_storm_message ← pipeline              storm_message, storm_examples ← messages
OPEN#<res|principal|key>:<value>  <alert    ``bot.context`` reference of an      dedup window
                                  id>       open alert (source, title, severity,
                                            channel, ts, link)
  index_open_alert ← bot.context (notify,   open_alerts ← bot.context (worker context
  one BatchWriteItem per alert)             job: one Query per key, Limit 10)
CTXCACHE#<acct>#<region>#<res key> VALUE    JSON list of the resource's recent   context cache
                                            CloudTrail writes                    minutes
  set_context_changes ← bot.context         context_changes ← bot.context
CTXDONE#<alert id>                VALUE     "1": its context reply was posted    1 day
  claim_context_reply, release_context_     claim_context_reply (conditional write)
  reply ← bot.context (worker)
CTXRATE#<account>#<minute>        COUNTER   CloudTrail LookupEvents calls made   1 hour
                                            for context that minute
  count_context_lookup ← bot.context        count_context_lookup (returns the new count)
STRANGER#<account id>             SEEN      count, last_seen of events from an   7 days after the
                                            account not in ``accounts:``         last one
  record_unconfigured_account ← pipeline    unconfigured_accounts ← commands.doctor
STATS#<YYYY-MM-DD>                H<hour>   ``bot.stats`` counters of that UTC    35 days
                                            hour: ``e.<sev>`` events, ``m.<sev>``
                                            messages, ``r.<rule>``, ``f.<fp>``
                                            (+ ``t.<fp>`` title), ``d`` duplicates
  record_stats ← pipeline (one write per    stats_since ← scorecard (/ops report,
  notify batch)                             the weekly post: one Query per day)
SCORECARD#<ISO week>              VALUE     "1": that week's scorecard was posted 35 days
  claim_scorecard, release_scorecard        claim_scorecard (conditional write)
  ← scorecard (weekly post)
HEARTBEAT#housekeeping            VALUE     unix time of the last upkeep run     7 days
  record_housekeeping_run ← housekeeping    last_housekeeping_run ← scorecard (health)
DUE#<alert id>                    ESCALA-   fingerprint, channel, ts of the      the plan's last
                                  TION or   message, started, step (how many     step + 1 day
                                  REMINDER  steps were taken), due (the next's),
                                            plan JSON; gsi1 ``DUE`` /
                                            ``<due, 10 digits>#<alert id>#<kind>``
                                            while a step is left (sparse)
  schedule_due ← pipeline (a HIGH post),    due_steps ← housekeeping (one Query: due <= now),
  advance_due, postpone_due, restore_due    the updates are conditional on ``step`` (a step
  ← housekeeping, drop_due ← pipeline       is taken once, whoever runs at the same time)
  (resolution), housekeeping (stopped)
MAINT#<window id>                 WINDOW    ``MaintenanceWindow`` JSON; while    ends_at + 30 days
                                            open: gsi1 MAINTENANCE / <ends_at>
  start_maintenance ← commands,             active_maintenance (one Query) ← pipeline
  maintenance.hold (scheduled windows),     (once per batch, unless MAINTINDEX says none
                                            is open), commands, App Home;
  end_maintenance (conditional: ends it     maintenance_due ← housekeeping;
  once) ← commands, housekeeping            get_maintenance ← commands
MAINTINDEX                        OPEN      ``open``: ids of the windows not     none
                                            ended; ``complete`` once
                                            housekeeping indexed them all
  start_maintenance (with the window, one   read_for_batch ← pipeline (with the lookups:
  transaction), end_maintenance,            not complete → Query; empty → no window open),
  index_maintenance ← housekeeping          maintenance_windows_open
MAINTRETRY#<window id>            VALUE     an ended window and the channels     ends_at + 30 days
                                            whose summary failed; gsi1 MAINTRETRY
  set_release_pending,                      pending_releases (one Query) ← housekeeping
  clear_release_pending ← maintenance.release
MAINTHELD#<window id>             <finger-  the newest held Alert JSON of that   ends_at + 30 days
                                  print>    problem, its channel, events held
  hold_alert ← pipeline (maintenance.hold)  held_alerts (one Query) ← maintenance.release
LATENCY#delivery                  <unix     ``DeliveryLatency`` histogram of     2 hours
                                  minute>   that minute: ``b<bin>`` = count
                                            (bins in ``bot.latency``)
  record_latencies ← pipeline (one write    delivery_latency ← commands.status (one Query,
  per notify batch)                         the last hour's p95)
================================  ========  ===================================  =================

The audit trail has its own table, ``<table>-audit`` (``bot.store.audit_log`` lists its key
families: ``CHAIN#<day>`` / ``<seq>`` hash-chained records and ``KEY#<unique key>`` claims), written
by ``append_audit`` ← ``bot.approval.audit`` and read by ``recent_audit``, ``audit_for_proposal``
and ``verify_audit`` ← commands, tests, and ``recent_audit_by`` ← home. Records written before it stay in this table under
``AUDIT#``, unchained.

The App Home (``bot.home``) reads only with the bounded methods marked "← home"
(one Query page or one BatchGetItem each) and ``recent_audit_by``.

VALUE and COUNTER items go through the private ``_put_value`` / ``_get_value`` / ``_incr`` /
``_counter`` helpers only. Nested data is stored as a JSON string in ``data`` so pydantic models
round-trip exactly.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from bot.approval.states import check as check_transition
from bot.decisions import Decisions
from bot.errors import ConflictError, NotFoundError, StoreError
from bot.latency import LatencySummary, histogram, summarize
from bot.models import Actor, Alert, AuditEntry, MaintenanceWindow, Proposal, ProposalState, Severity
from bot.store.audit_log import AuditLog, ChainReport, audit_table_name, create_audit_table
from bot.store.together import WriteGroup, cancelled_on_condition

log = logging.getLogger("eventops.store")
AUDIT_PREFIX = "AUDIT#"
DECISION_TTL_S = 90 * 86400  # first-click records, job markers and results (see the table above)
STORM_BUCKET_S = 600
_STORM_COUNT_TTL_S = 2 * STORM_BUCKET_S + 3600
_STRANGER_PREFIX = "STRANGER#"
_STRANGER_TTL_S = 7 * 86400  # /ops doctor lists what arrived in the last week
_STORM_SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")
_LATENCY_PK = "LATENCY#delivery"
_LATENCY_TTL_S = 2 * 3600  # /ops status looks back one hour
_MAINT_PK = "MAINTENANCE"  # gsi1pk of the maintenance windows not ended yet
_MAINT_KEEP_S = 30 * 86400  # a window and its held alerts are kept this long after its end
_MAINT_INDEX_PK, _MAINT_INDEX_SK = "MAINTINDEX", "OPEN"  # ids of the windows not ended yet
_MAINT_INDEX = {"pk": {"S": _MAINT_INDEX_PK}, "sk": {"S": _MAINT_INDEX_SK}}
# An event id may be claimed when nobody has, its record expired, or its claim's lease ran out.
_EVENT_CLAIMABLE = "attribute_not_exists(pk) OR #ttl < :now OR (#st = :ip AND lease_until < :now)"
_TX_MAX = 100  # TransactWriteItems takes at most 100 actions
_TX_ATTEMPTS = 4  # a chunk whose claims keep failing some conditions: each attempt drops those
_STATS_PREFIX = "STATS#"
_STATS_TTL_S = 35 * 86400  # /ops report looks back up to 30 days
_STATS_PER_WRITE = 40  # names per UpdateItem: an update expression is at most 4 KB
BATCH_WRITE_MAX = 25  # DynamoDB's limit of items per BatchWriteItem request
_BATCH_WRITE_TRIES = 5
_BATCH_WRITE_BACKOFF_S = 0.05  # doubled after each try: 0.05, 0.1, 0.2, 0.4 s
_LATENCY_BINS_PER_WRITE = 150  # keeps an update expression under DynamoDB's 4 KB


def _now() -> float:
    return time.time()


def _s(v: str) -> dict[str, str]:
    return {"S": v}


def _n(v: float | int) -> dict[str, str]:
    return {"N": str(int(v))}


def _epoch_key(at: datetime) -> str:
    """A maintenance window's gsi1 sort key: its end, unix seconds zero-padded to sort as numbers."""
    return f"{int(at.timestamp()):012d}"


def _minute_key(at: float) -> str:
    """A latency item's sort key: the unix minute, zero-padded so keys sort as numbers."""
    return f"{int(at // 60):010d}"


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _windows_open(index: dict[str, Any] | None) -> bool | None:
    """From the index item of maintenance windows not ended: any? None while not complete."""
    if not index or not index.get("complete", {}).get("BOOL"):
        return None
    return bool(index.get("open", {}).get("SS"))


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class EventClaim(StrEnum):
    """What ``claim_event`` found for an event id."""

    CLAIMED = "claimed"  # first delivery, or a delivery whose invocation died: go ahead
    SEEN = "seen"  # delivered before: a duplicate
    IN_FLIGHT = "in_flight"  # another invocation holds a live lease on it: retry later


class MessageState(StrEnum):
    """What became of a fingerprint's first alert (the ``state`` of its ``FP#`` item)."""

    CLAIMED = "claimed"  # this invocation may post it; nothing reached Slack yet
    POSTED = "posted"  # its own message: ``ts`` is that message, repeats update it
    THREADED = "threaded"  # replied in the thread of its resource's message; no message of its own
    STORM = "storm"  # listed in a storm summary's thread; no message of its own
    SNOOZED = "snoozed"  # not posted: a snooze covered it


@dataclass
class ResourceThread:
    """The message a resource's later alerts thread under, and what it said when posted."""

    ts: str
    severity: Severity = Severity.INFO
    active: bool = True
    fingerprint: str = ""  # the thread parent's: its message counts the related alerts


@dataclass(frozen=True)
class Lookup:
    """What ``Store.lookup`` reads for one event: its fingerprint's message, its snoozes, the
    thread of its resource (or correlation group) in its channel."""

    fingerprint: str
    snooze_targets: tuple[str, ...]
    channel: str
    resource_key: str | None

    def keys(self) -> list[str]:
        """``pk|sk`` of every item it reads."""
        keys = [f"FP#{self.fingerprint}|MSG"] + [f"SNOOZE#{t}|SNOOZE" for t in self.snooze_targets]
        if self.resource_key:
            keys.append(f"RES#{self.channel}#{self.resource_key}|MSG")
        return keys

    def result(self, live: dict[str, dict[str, Any]], now: float) -> LookupResult:
        """(message record or None, snoozed?, resource thread or None) from the live items."""
        fp = live.get(f"FP#{self.fingerprint}")
        snoozed = any(
            float(live[f"SNOOZE#{t}"]["until"]["N"]) > now for t in self.snooze_targets if f"SNOOZE#{t}" in live
        )
        thread = live.get(f"RES#{self.channel}#{self.resource_key}") if self.resource_key else None
        record = _message_from_item(fp) if fp else None
        if record is not None and record.abandoned(now):
            record = None  # its invocation died before posting: this event posts it (claim_message)
        return record, snoozed, (_thread_from_item(thread) if thread else None)


@dataclass
class MessageRecord:
    """The Slack message that represents one fingerprint.

    ``ts`` is a Slack timestamp, and only when ``state`` is ``POSTED`` (``has_message``)."""

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
    state: MessageState = MessageState.CLAIMED
    claim_until: float = 0.0  # while CLAIMED: the claiming invocation's deadline
    related: int = 0  # alerts posted in its thread (same resource, or a correlation group)
    resolved: bool = False  # the message said "Resolved after …" (bot.escalation)

    @property
    def has_message(self) -> bool:
        """The fingerprint has its own Slack message (the one repeats update)."""
        return self.state == MessageState.POSTED and bool(self.ts)

    def abandoned(self, now: float | None = None) -> bool:
        """Claimed by an invocation that is certainly gone (its lease ran out) and never posted."""
        return self.state == MessageState.CLAIMED and 0 < self.claim_until < (now or _now())


LookupResult = tuple[MessageRecord | None, bool, ResourceThread | None]


@dataclass(frozen=True)
class BatchReads:
    """What a notify batch reads before its events are handled (``Store.read_for_batch``)."""

    found: dict[Lookup, LookupResult]
    minute: int  # the minute before the read's: the one ``posts_last_minute`` counts
    posts_last_minute: dict[str, int]  # channel → its new posts then (storm detection)
    windows_open: bool | None = None  # any maintenance window not ended? None: not known (Query)


@dataclass(frozen=True)
class StoredAlert:
    """An alert as stored, with the message it was posted as (channel and ts, when known)."""

    alert: Alert
    channel: str | None
    ts: str | None
    decisions: Decisions | None = None  # what the notify side decided (None: stored before it was kept)


@dataclass(frozen=True)
class DueStep:
    """One escalation or reminder schedule (``DUE#<alert id>`` / ``ESCALATION`` | ``REMINDER``):
    ``plan`` is ``[(unix time, mentions), ...]``, ``step`` how many of its steps were taken, and
    ``due`` when the next one is (None once all were taken)."""

    alert_id: str
    kind: str
    fingerprint: str
    channel: str
    ts: str
    started: float
    step: int
    due: float | None
    plan: list[tuple[float, list[str]]]


@dataclass(frozen=True)
class HeldAlert:
    """One problem a maintenance window held: its newest alert, where it would have gone, and
    how many of its events arrived during the window."""

    alert: Alert
    channel: str
    events: int


@dataclass(frozen=True)
class StormTally:
    """A storm bucket's running totals after counting a batch's alerts into it."""

    total: int
    by_severity: dict[str, int]
    held: int = 0  # counted while the storm was snoozed: no thread lines


def create_table(client: Any, name: str) -> None:
    """Create the table and its audit table (tests and the sandbox; serverless.yml when deployed)."""
    create_audit_table(client, audit_table_name(name))
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
    """Repository over the table and its audit table. ``client`` is a boto3 DynamoDB client."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._local = threading.local()  # .group: this thread's writes_together, if any
        self.table = table_name
        self.audit = AuditLog(client, audit_table_name(table_name))

    @property
    def client(self) -> Any:
        """The DynamoDB client: inside ``writes_together`` (this thread's), the group recording writes."""
        group = getattr(self._local, "group", None)
        return group if group is not None else self._client

    @client.setter
    def client(self, value: Any) -> None:
        self._client = value

    @contextmanager
    def writes_together(self) -> Iterator[WriteGroup]:
        """The store's writes made in the block (by this thread) go out as one TransactWriteItems
        when it ends (``bot.store.together``: refused, one by one). Nested: the outer one sends."""
        outer = getattr(self._local, "group", None)
        if outer is not None:
            yield outer
            return
        group = self._local.group = WriteGroup(self._client)
        try:
            yield group
        except BaseException:
            self._local.group = None
            group.commit()  # what was written before the failure is kept, as without a group
            raise
        self._local.group = None
        group.commit()

    # --- event dedup ----------------------------------------------------------------------
    def claim_event(self, event_id: str, ttl_hours: int, lease_s: float) -> EventClaim:
        """Claim an event id for delivery, for ``lease_s`` (the invocation's time left).

        A claim whose lease ran out belonged to an invocation that died between claiming and
        finishing (timeout, OOM, crash): the redelivery takes it over instead of calling it a
        duplicate. Items from before leases existed (no ``status``) count as delivered.
        """
        now = _now()
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": _s(f"EVENT#{event_id}"),
                    "sk": _s("EVENT"),
                    "status": _s("in_progress"),
                    "lease_until": _n(math.ceil(now + lease_s)),
                    "ttl": _n(now + ttl_hours * 3600),
                },
                ConditionExpression=_EVENT_CLAIMABLE,
                ExpressionAttributeNames={"#ttl": "ttl", "#st": "status"},
                ExpressionAttributeValues={":now": _n(now), ":ip": _s("in_progress")},
            )
            return EventClaim.CLAIMED
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
        item = self._get(f"EVENT#{event_id}", "EVENT")
        if item and item.get("status", {}).get("S") == "in_progress":
            return EventClaim.IN_FLIGHT
        return EventClaim.SEEN

    def claim_events(self, event_ids: Sequence[str], ttl_hours: int, lease_s: float) -> dict[str, EventClaim]:
        """``claim_event`` for a batch: TransactWriteItems of up to ``_TX_MAX`` conditional puts,
        so 500 new events cost 5 round trips, not 500. A transaction is all or nothing: when some
        of its claims fail their condition (duplicates, ones in flight), DynamoDB says which (and
        returns their items), the rest are claimed again without them. Ids given twice are
        claimed once (the caller claims the second occurrence itself)."""
        out: dict[str, EventClaim] = {}
        ids = list(dict.fromkeys(event_ids))
        for start in range(0, len(ids), _TX_MAX):
            pending = ids[start : start + _TX_MAX]
            for _ in range(_TX_ATTEMPTS):
                if not pending:
                    break
                failed = self._claim_in_one_transaction(pending, ttl_hours, lease_s)
                if failed is None:  # cancelled for another reason: these are claimed one by one
                    break
                for event_id, item in failed.items():
                    in_flight = item is not None and item.get("status", {}).get("S") == "in_progress"
                    out[event_id] = EventClaim.IN_FLIGHT if in_flight else EventClaim.SEEN
                if not failed:
                    out.update({e: EventClaim.CLAIMED for e in pending})
                    break
                pending = [e for e in pending if e not in failed]
        return out

    def _claim_in_one_transaction(
        self, event_ids: list[str], ttl_hours: int, lease_s: float
    ) -> dict[str, dict[str, Any] | None] | None:
        """One TransactWriteItems of claims; {} when all were made, else the ids whose condition
        failed (with the item that failed it) — and then none was made; None when DynamoDB
        cancelled it for another reason (a conflicting transaction, throttling)."""
        now = _now()
        puts = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        "pk": _s(f"EVENT#{e}"),
                        "sk": _s("EVENT"),
                        "status": _s("in_progress"),
                        "lease_until": _n(math.ceil(now + lease_s)),
                        "ttl": _n(now + ttl_hours * 3600),
                    },
                    "ConditionExpression": _EVENT_CLAIMABLE,
                    "ExpressionAttributeNames": {"#ttl": "ttl", "#st": "status"},
                    "ExpressionAttributeValues": {":now": _n(now), ":ip": _s("in_progress")},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
            for e in event_ids
        ]
        try:
            self.client.transact_write_items(TransactItems=puts)
            return {}
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
        failed = {
            e: r.get("Item")
            for e, r in zip(event_ids, reasons, strict=False)
            if r.get("Code") == "ConditionalCheckFailed"
        }
        if not failed:
            log.info("claiming %d events together was cancelled (%s)", len(event_ids), [r.get("Code") for r in reasons])
            return None
        return failed

    def complete_event(self, event_id: str) -> None:
        """The event is delivered: later deliveries of its id are duplicates until the TTL."""
        self.client.update_item(
            TableName=self.table,
            Key={"pk": _s(f"EVENT#{event_id}"), "sk": _s("EVENT")},
            UpdateExpression="SET #st = :done REMOVE lease_until",
            ExpressionAttributeNames={"#st": "status"},
            ExpressionAttributeValues={":done": _s("done")},
        )

    def complete_events(self, event_ids: Sequence[str], ttl_hours: int) -> None:
        """``complete_event`` for many, 100 per TransactWriteItems (``writes_together``; 4 times
        fewer round trips than BatchWriteItem's 25): each claim becomes a delivered one (status
        done, no lease) that lasts ``ttl_hours`` from now."""
        ttl = _now() + ttl_hours * 3600
        items = [
            {"pk": _s(f"EVENT#{e}"), "sk": _s("EVENT"), "status": _s("done"), "ttl": _n(ttl)}
            for e in dict.fromkeys(event_ids)
        ]
        with self.writes_together():
            self._batch_put(items, "event completions")

    def release_event(self, event_id: str) -> None:
        """Forget an event id so a failed delivery can be retried by SQS."""
        self.client.delete_item(TableName=self.table, Key={"pk": _s(f"EVENT#{event_id}"), "sk": _s("EVENT")})

    # --- messages per fingerprint ---------------------------------------------------------
    def get_message(self, fingerprint: str) -> MessageRecord | None:
        item = self._get(f"FP#{fingerprint}", "MSG")
        return _message_from_item(item) if item else None

    def claim_message(
        self, fingerprint: str, channel: str, alert: Alert, window_s: int, lease_s: float
    ) -> MessageRecord | None:
        """Claim the right to post the first message for ``lease_s``; None when someone else holds
        a live one. A claim whose lease ran out without a post (its invocation died) is taken over."""
        put = self._claim_put(fingerprint, channel, alert, window_s, lease_s)
        try:
            self.client.put_item(**put)
        except ClientError as exc:
            if _conditional_failed(exc):
                return None
            raise
        return _message_from_item(put["Item"])

    def claim_message_with_alert(
        self,
        fingerprint: str,
        channel: str,
        alert: Alert,
        window_s: int,
        lease_s: float,
        proposals: Sequence[Proposal],
        decisions: Decisions | None = None,
    ) -> MessageRecord | None:
        """``claim_message`` and, with the claim, ``put_alert_with_proposals``: one
        TransactWriteItems, so a new alert's first writes before its post are one round trip.
        None, and nothing written, when someone else holds the claim. Refused for another reason
        (throttled), the two go one after the other as before."""
        put = self._claim_put(fingerprint, channel, alert, window_s, lease_s)
        items = [self._proposal_item(p) for p in proposals]
        items.append(_alert_item(alert, channel, None, [p.id for p in proposals] or None, decisions))
        try:
            self.client.transact_write_items(
                TransactItems=[{"Put": put}] + [{"Put": {"TableName": self.table, "Item": it}} for it in items]
            )
        except ClientError as exc:
            if cancelled_on_condition(exc)[:1] == [True]:
                return None
            log.info(
                "a claim with its alert refused together (%s): one by one", exc.response.get("Error", {}).get("Code")
            )
            claim = self.claim_message(fingerprint, channel, alert, window_s, lease_s)
            if claim is not None:
                try:
                    self.put_alert_with_proposals(alert, channel, proposals, decisions)
                except Exception:
                    self.drop_message_claim(fingerprint)  # as if refused: the retry claims it again
                    raise
            return claim
        return _message_from_item(put["Item"])

    def _claim_put(self, fingerprint: str, channel: str, alert: Alert, window_s: int, lease_s: float) -> dict[str, Any]:
        now = _now()
        return {
            "TableName": self.table,
            "Item": {
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
                "state": _s(MessageState.CLAIMED.value),
                "claim_until": _n(math.ceil(now + lease_s)),
                "ttl": _n(now + window_s),
            },
            "ConditionExpression": "attribute_not_exists(pk) OR #ttl < :now OR (#state = :claimed AND claim_until < :now)",
            "ExpressionAttributeNames": {"#ttl": "ttl", "#state": "state"},
            "ExpressionAttributeValues": {":now": _n(now), ":claimed": _s(MessageState.CLAIMED.value)},
        }

    def mark_message_posted(self, fingerprint: str, ts: str, channel: str) -> None:
        """The fingerprint's message is out: ``ts`` in ``channel`` (the id Slack answered with)."""
        self.client.update_item(
            TableName=self.table,
            Key={"pk": _s(f"FP#{fingerprint}"), "sk": _s("MSG")},
            UpdateExpression="SET #state = :state, #ts = :ts, channel = :c REMOVE claim_until",
            ExpressionAttributeNames={"#state": "state", "#ts": "ts"},
            ExpressionAttributeValues={":state": _s(MessageState.POSTED.value), ":ts": _s(ts), ":c": _s(channel)},
        )

    def mark_message_threaded(self, fingerprint: str) -> None:
        """The alert went into the thread of its resource's message: it has no message of its own."""
        self._set_message_state(fingerprint, MessageState.THREADED)

    def mark_message_storm(self, fingerprint: str) -> None:
        """The alert is listed in a storm summary's thread: it has no message of its own."""
        self._set_message_state(fingerprint, MessageState.STORM)

    def mark_message_snoozed(self, fingerprint: str) -> None:
        """A snooze covered the alert: it was not posted."""
        self._set_message_state(fingerprint, MessageState.SNOOZED)

    def _set_message_state(self, fingerprint: str, state: MessageState) -> None:
        self.client.update_item(
            TableName=self.table,
            Key={"pk": _s(f"FP#{fingerprint}"), "sk": _s("MSG")},
            UpdateExpression="SET #state = :state REMOVE #ts, claim_until",
            ExpressionAttributeNames={"#state": "state", "#ts": "ts"},
            ExpressionAttributeValues={":state": _s(state.value)},
        )

    def drop_message_claim(self, fingerprint: str) -> None:
        self.client.delete_item(TableName=self.table, Key={"pk": _s(f"FP#{fingerprint}"), "sk": _s("MSG")})

    def drop_abandoned_claim(self, record: MessageRecord) -> bool:
        """Delete ``record``'s claim if it is still the abandoned one (nobody took it over since)."""
        try:
            self.client.delete_item(
                TableName=self.table,
                Key={"pk": _s(f"FP#{record.fingerprint}"), "sk": _s("MSG")},
                ConditionExpression="#state = :claimed AND claim_until = :cu",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":claimed": _s(MessageState.CLAIMED.value),
                    ":cu": _n(record.claim_until),
                },
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def bump_message(
        self, fingerprint: str, event_time: datetime, alert_id: str, count: int = 1
    ) -> tuple[MessageRecord, bool]:
        """Count ``count`` repeats (a batch's, summed) and mark the message dirty; ``event_time``
        and ``alert_id`` are the newest of them. Returns the record and whether that event is the
        newest seen (older events arriving late only count). One write in the usual case."""
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
                    ":one": _n(count),
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
            ExpressionAttributeValues={":one": _n(count), ":now": _n(now), ":t": {"BOOL": True}},
            ReturnValues="ALL_NEW",
        )
        return _message_from_item(resp["Attributes"]), False

    def bump_messages(self, bumps: Sequence[tuple[str, int, datetime, str, bool]]) -> set[str]:
        """``bump_message`` for a batch's problems whose records it read (fingerprint, count,
        newest event time and id, whether that event is newer than the record's): one
        TransactWriteItems per 100. Returns the fingerprints counted; a transaction DynamoDB
        refuses (a newer event written meanwhile, a record gone) counts none of its problems —
        the caller counts those one by one. A retried request is not counted twice (botocore
        sends TransactWriteItems with an idempotency token)."""
        now, done = _now(), set[str]()
        for i in range(0, len(bumps), 100):
            chunk = bumps[i : i + 100]
            items = []
            for fingerprint, count, event_time, alert_id, newer in chunk:
                update: dict[str, Any] = {
                    "TableName": self.table,
                    "Key": {"pk": _s(f"FP#{fingerprint}"), "sk": _s("MSG")},
                    "UpdateExpression": "ADD #count :n SET last_seen = :now, dirty = :t",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeNames": {"#count": "count"},
                    "ExpressionAttributeValues": {":n": _n(count), ":now": _n(now), ":t": {"BOOL": True}},
                }
                if newer:
                    update["UpdateExpression"] += ", last_event_time = :et, alert_id = :a"
                    update["ConditionExpression"] += " AND last_event_time <= :et"
                    update["ExpressionAttributeValues"].update({":et": _s(event_time.isoformat()), ":a": _s(alert_id)})
                items.append({"Update": update})
            try:
                self.client.transact_write_items(TransactItems=items)
            except ClientError as exc:
                log.info("counting %d problems together refused (%s): one by one", len(chunk), _error_code(exc))
                continue
            done.update(b[0] for b in chunk)
        return done

    def lookup(
        self, fingerprint: str, snooze_targets: list[str], channel: str, resource_key: str | None
    ) -> tuple[MessageRecord | None, bool, ResourceThread | None]:
        """One round trip for what the notify side needs to know about a new event: the
        fingerprint's message, whether any of ``snooze_targets`` is snoozed, and the thread of
        the resource's message in ``channel``."""
        request = Lookup(fingerprint, tuple(snooze_targets), channel, resource_key)
        return self.lookup_many([request])[request]

    def lookup_many(self, requests: Sequence[Lookup]) -> dict[Lookup, LookupResult]:
        """``lookup`` for many events at once: their keys (shared ones once) in one consistent
        BatchGetItem per 100."""
        return self.read_for_batch(requests, (), maintenance=False).found

    def read_for_batch(
        self, requests: Sequence[Lookup], channels: Sequence[str], *, maintenance: bool = True
    ) -> BatchReads:
        """What a notify batch reads before its events are handled, together: ``lookup_many``
        for its events, for its channels the storm counter of the minute before
        (``channel_posts_last_minute``), and whether any maintenance window is not ended
        (``maintenance_windows_open``) — one consistent BatchGetItem per 100 keys."""
        minute = int(_now() // 60) - 1
        keys: dict[str, None] = {}
        for r in requests:
            keys.update(dict.fromkeys(r.keys()))
        keys.update(dict.fromkeys(f"STORM#{c}#{minute}|COUNTER" for c in channels))
        if maintenance:
            keys[f"{_MAINT_INDEX_PK}|{_MAINT_INDEX_SK}"] = None
        items: dict[str, dict[str, Any]] = {}
        pks = list(keys)
        for i in range(0, len(pks), 100):
            items.update(self._consistent_get(pks[i : i + 100]))
        now = _now()
        live = {pk: it for pk, it in items.items() if "ttl" not in it or float(it["ttl"]["N"]) >= now}
        posts = {
            c: int(live[f"STORM#{c}#{minute}"]["count"]["N"]) if f"STORM#{c}#{minute}" in live else 0 for c in channels
        }
        found = {r: r.result(live, now) for r in requests}
        index = live.get(_MAINT_INDEX_PK)
        return BatchReads(found, minute, posts, _windows_open(index) if maintenance else None)

    def _consistent_get(self, pks: list[str]) -> dict[str, dict[str, Any]]:
        """Items by ``pk`` for up to 100 ``pk|sk`` keys, strongly consistent."""
        request = {
            self.table: {
                "Keys": [{"pk": _s(k.split("|", 1)[0]), "sk": _s(k.split("|", 1)[1])} for k in pks],
                "ConsistentRead": True,
            }
        }
        items: dict[str, dict[str, Any]] = {}
        for _ in range(5):
            resp = self.client.batch_get_item(RequestItems=request)
            for item in resp.get("Responses", {}).get(self.table, []):
                items[item["pk"]["S"]] = item
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                return items
            time.sleep(0.05)
        raise StoreError("DynamoDB left keys unprocessed five times (throttled)")

    def mark_message_updated(self, fingerprint: str, dirty: bool) -> None:
        self.client.update_item(
            TableName=self.table,
            Key={"pk": _s(f"FP#{fingerprint}"), "sk": _s("MSG")},
            UpdateExpression="SET last_update = :now, dirty = :d",
            ExpressionAttributeValues={":now": _n(_now()), ":d": {"BOOL": dirty}},
        )

    def dirty_messages(self, limit: int = 100) -> list[MessageRecord]:
        """Messages whose counter changed without a chat.update (housekeeping flushes them)."""
        return self._scan_messages("dirty = :t", {":t": {"BOOL": True}}, {}, limit)

    def abandoned_claims(self, limit: int = 50) -> list[MessageRecord]:
        """First messages claimed by an invocation that died before posting (housekeeping repairs them)."""
        values = {":claimed": _s(MessageState.CLAIMED.value), ":now": _n(_now())}
        return self._scan_messages("#state = :claimed AND claim_until < :now", values, {"#state": "state"}, limit)

    def _scan_messages(
        self, condition: str, values: dict[str, Any], names: dict[str, str], limit: int
    ) -> list[MessageRecord]:
        """Fingerprint message records matching ``condition`` (a filtered scan, page by page)."""
        out: list[MessageRecord] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": f"sk = :msg AND {condition}",
            "ExpressionAttributeValues": {":msg": _s("MSG"), **values},
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        while len(out) < limit:
            resp = self.client.scan(**kwargs)
            out += [_message_from_item(i) for i in resp.get("Items", []) if i["pk"]["S"].startswith("FP#")]
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return out[:limit]

    # --- threads per resource -------------------------------------------------------------
    def resource_thread(self, channel: str, resource_key: str) -> ResourceThread | None:
        item = self._get(f"RES#{channel}#{resource_key}", "MSG")
        return _thread_from_item(item) if item else None

    def set_resource_thread(
        self, channel: str, resource_key: str, ts: str, ttl_s: int, alert: Alert | None = None
    ) -> None:
        """``ts`` becomes the thread of the resource's later alerts in ``channel``; ``alert`` (the
        posted one) is remembered so a more severe or newly failing alert is not hidden under it."""
        item: dict[str, Any] = {
            "pk": _s(f"RES#{channel}#{resource_key}"),
            "sk": _s("MSG"),
            "ts": _s(ts),
            "ttl": _n(_now() + ttl_s),
        }
        if alert is not None:
            item["severity"] = _s(alert.severity.value)
            item["active"] = {"BOOL": alert.active}
            item["fp"] = _s(alert.fingerprint)
        self.client.put_item(TableName=self.table, Item=item)

    def add_related(self, fingerprint: str) -> bool:
        """One more alert was posted in the thread of ``fingerprint``'s message: counted, and
        the message marked dirty (it shows the count). False when the message is gone."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": _s(f"FP#{fingerprint}"), "sk": _s("MSG")},
                UpdateExpression="ADD related :one SET dirty = :t",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":one": _n(1), ":t": {"BOOL": True}},
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    # --- alerts ---------------------------------------------------------------------------
    def put_alert(
        self,
        alert: Alert,
        channel: str | None = None,
        ts: str | None = None,
        proposal_ids: list[str] | None = None,
        decisions: Decisions | None = None,
    ) -> None:
        self.client.put_item(TableName=self.table, Item=_alert_item(alert, channel, ts, proposal_ids, decisions))

    def put_alert_with_proposals(
        self, alert: Alert, channel: str, proposals: Sequence[Proposal], decisions: Decisions | None = None
    ) -> None:
        """A new alert and its new proposals in one BatchWriteItem (up to 24 offers): what
        ``put_proposals`` and ``put_alert`` write, before the message with their buttons is posted."""
        items = [self._proposal_item(p) for p in proposals]
        items.append(_alert_item(alert, channel, None, [p.id for p in proposals] or None, decisions))
        self._batch_put(items, "alert and proposal writes")

    def put_alerts(self, alerts: Sequence[tuple[Alert, str | None, Decisions | None]]) -> None:
        """Store several alerts (alert, channel, decisions) with BatchWriteItem, 25 per request:
        the items ``put_alert`` writes (a batch's newest repeats of its problems). StoreError
        when DynamoDB leaves some unprocessed after retries."""
        self._batch_put([_alert_item(a, ch, None, None, d) for a, ch, d in alerts], "alert writes")

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
        """The alert's message is ``ts`` in ``channel`` (its id); remembered both ways, so a
        message (a link to it, a shortcut on it) leads back to the alert (``alert_for_message``)."""
        self.client.update_item(
            TableName=self.table,
            Key={"pk": _s(f"ALERT#{alert_id}"), "sk": _s("ALERT")},
            UpdateExpression="SET channel = :c, #ts = :ts",
            ExpressionAttributeNames={"#ts": "ts"},
            ExpressionAttributeValues={":c": _s(channel), ":ts": _s(ts)},
        )
        self._put_value(f"MSGTS#{channel}#{ts}", alert_id, 30 * 86400)

    def alert_for_message(self, channel: str, ts: str) -> str | None:
        """The id of the alert whose message is ``ts`` in ``channel`` (a channel id), or None."""
        if not channel or not ts:
            return None
        return self._get_value(f"MSGTS#{channel}#{ts}")

    def get_alert(self, alert_id: str) -> StoredAlert:
        item = self._get(f"ALERT#{alert_id}", "ALERT")
        if not item:
            raise NotFoundError(f"alert {alert_id} not found")
        raw = item.get("decisions", {}).get("S")
        return StoredAlert(
            alert=Alert.model_validate_json(item["data"]["S"]),
            channel=item.get("channel", {}).get("S"),
            ts=item.get("ts", {}).get("S"),
            decisions=Decisions.model_validate_json(raw) if raw else None,
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

    def put_proposals(self, proposals: Sequence[Proposal]) -> None:
        """Write new proposals with BatchWriteItem, ``BATCH_WRITE_MAX`` (25) per request; the
        same items ``put_proposal`` writes. Items DynamoDB leaves unprocessed (throttling) are
        sent again, up to ``_BATCH_WRITE_TRIES`` times with a short backoff; ``StoreError``
        when some remain.

        Unlike ``put_proposal`` there is no "must not exist" condition (BatchWriteItem has none):
        for new proposals only, whose ids are fresh uuids."""
        self._batch_put([self._proposal_item(p) for p in proposals], "proposal writes")

    def _batch_put(self, items: list[dict[str, Any]], what: str) -> None:
        """Put ``items`` with BatchWriteItem, retrying what DynamoDB leaves unprocessed."""
        for i in range(0, len(items), BATCH_WRITE_MAX):
            pending: list[dict[str, Any]] = [{"PutRequest": {"Item": it}} for it in items[i : i + BATCH_WRITE_MAX]]
            for attempt in range(_BATCH_WRITE_TRIES):
                resp = self.client.batch_write_item(RequestItems={self.table: pending})
                pending = (resp.get("UnprocessedItems") or {}).get(self.table, [])
                if not pending:
                    break
                if attempt + 1 < _BATCH_WRITE_TRIES:
                    time.sleep(_BATCH_WRITE_BACKOFF_S * 2**attempt)
            if pending:
                raise StoreError(
                    f"DynamoDB left {len(pending)} {what} unprocessed {_BATCH_WRITE_TRIES} times (throttled)"
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

    # --- audit (bot.store.audit_log: its own table, hash-chained) ---------------------------
    def append_audit(self, entry: AuditEntry, unique_key: str | None = None) -> bool:
        """Chain one audit record; with ``unique_key`` a second write for it is a no-op (False)."""
        return self.audit.append(entry, unique_key)

    def recent_audit(self, limit: int = 20, resource: str | None = None, user: str | None = None) -> list[AuditEntry]:
        return self.audit.recent(limit, resource=resource, user=user)

    def verify_audit(self, days: int = 7) -> ChainReport:
        """Check the audit chains of the last ``days`` UTC days: where each breaks, if anywhere."""
        return self.audit.verify(days)

    def audit_for_proposal(self, proposal_id: str) -> list[AuditEntry]:
        return [e for e in self.recent_audit(limit=1000) if e.proposal_id == proposal_id]

    def audit_for_alert(self, alert_id: str, limit: int = 10) -> list[AuditEntry]:
        """The newest ``limit`` audit records about an alert (clicks on it and its proposals)."""
        return [e for e in self.recent_audit(limit=1000) if e.alert_id == alert_id][:limit]

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
        now = _now()
        return [_snooze_from_item(i) for i in resp.get("Items", []) if include_expired or float(i["until"]["N"]) > now]

    def unsnooze(self, target_or_id: str) -> bool:
        for s in self.snoozes(include_expired=True):
            if target_or_id in (s["id"], s["target"]):
                self.client.delete_item(
                    TableName=self.table, Key={"pk": _s(f"SNOOZE#{s['target']}"), "sk": _s("SNOOZE")}
                )
                return True
        return False

    # --- first clicks: who acknowledged, dismissed or asked for an undo first ------------
    def claim_ack(self, alert_id: str, actor: Actor) -> bool:
        """Record ``actor`` as the first to acknowledge the alert; False when someone was first."""
        return self._put_value(f"ACK#{alert_id}", actor.model_dump_json(), DECISION_TTL_S, only_if_absent=True)

    def acked_by(self, alert_id: str) -> Actor | None:
        return self._actor(f"ACK#{alert_id}")

    def claim_dismissal(self, alert_id: str, actor: Actor) -> bool:
        """Record ``actor`` as the first to dismiss the alert; False when someone was first."""
        return self._put_value(f"DISMISS#{alert_id}", actor.model_dump_json(), DECISION_TTL_S, only_if_absent=True)

    def dismissed_by(self, alert_id: str) -> Actor | None:
        return self._actor(f"DISMISS#{alert_id}")

    def claim_undo_request(self, proposal_id: str, actor: Actor) -> bool:
        """Record ``actor`` as the one who asked to undo; False when an undo was already asked for."""
        return self._put_value(f"UNDO#{proposal_id}", actor.model_dump_json(), DECISION_TTL_S, only_if_absent=True)

    def undo_requested_by(self, proposal_id: str) -> Actor | None:
        return self._actor(f"UNDO#{proposal_id}")

    def _actor(self, pk: str) -> Actor | None:
        raw = self._get_value(pk)
        return Actor.model_validate_json(raw) if raw else None

    # --- job markers and results (bot.approval.worker) -------------------------------------
    def claim_undo_run(self, proposal_id: str, correlation_id: str) -> bool:
        """The undo job ``correlation_id`` takes the one run of the undo; False when a job did."""
        return self._put_value(f"UNDORUN#{proposal_id}", correlation_id, DECISION_TTL_S, only_if_absent=True)

    def undo_run_by(self, proposal_id: str) -> str | None:
        """The correlation id of the job that claimed the undo run (a redelivery finds its own)."""
        return self._get_value(f"UNDORUN#{proposal_id}")

    def claim_dry_run(self, proposal_id: str, correlation_id: str) -> bool:
        """First delivery of dry-run job ``correlation_id``; False for a redelivery."""
        return self._put_value(f"DRYRUN#{proposal_id}:{correlation_id}", "1", DECISION_TTL_S, only_if_absent=True)

    def claim_command_job(self, correlation_id: str) -> bool:
        """First delivery of the queued ``/ops`` answer ``correlation_id``; False for a replay.
        Kept an hour: a job older than Slack's 30-minute response_url is refused anyway."""
        return self._put_value(f"CMDJOB#{correlation_id}", "1", 3600, only_if_absent=True)

    def record_job_failure(self, proposal_id: str, message: str) -> None:
        """The job ended in an error: its SQS record keeps failing until it reaches the DLQ."""
        self._put_value(f"JOBFAIL#{proposal_id}", message[:500], DECISION_TTL_S)

    def job_failure(self, proposal_id: str) -> str | None:
        return self._get_value(f"JOBFAIL#{proposal_id}")

    def record_post_state(self, proposal_id: str, post_state: dict[str, Any]) -> None:
        """What the remediation left behind (``Outcome.post_state``), for its undo."""
        self._put_value(f"POST#{proposal_id}", json.dumps(post_state, default=str), DECISION_TTL_S)

    def post_state(self, proposal_id: str) -> dict[str, Any] | None:
        raw = self._get_value(f"POST#{proposal_id}")
        return json.loads(raw) if raw else None

    def mark_notified(self, proposal_id: str, state: ProposalState) -> None:
        """Slack was told (message updated, thread reply posted) that the proposal reached ``state``."""
        self._put_value(f"NOTIFIED#{proposal_id}:{state.value}", "1", DECISION_TTL_S)

    def was_notified(self, proposal_id: str, state: ProposalState) -> bool:
        return bool(self._get_value(f"NOTIFIED#{proposal_id}:{state.value}"))

    def count_execution(self, account: str | None) -> int:
        """Count one execution in ``account`` this UTC hour (blast radius); returns the new count."""
        hour = datetime.now(UTC).strftime("%Y%m%d%H")
        return self._incr(f"RATE#{account or 'default'}#{hour}", ttl_s=2 * 3600)

    # --- storms (bot.pipeline) -------------------------------------------------------------
    def count_channel_posts(self, channel: str, n: int = 1) -> tuple[int, int]:
        """Count ``n`` new posts in ``channel`` this minute, at once (storm detection: a notify
        batch counts its new problems for a channel in one write); returns (the minute, the new
        count): the posts so counted are numbered up to it."""
        minute = int(_now() // 60)
        return minute, self._incr(f"STORM#{channel}#{minute}", ttl_s=3600, by=n)

    def uncount_channel_posts(self, channel: str, minute: int, n: int) -> None:
        """Take back ``n`` posts ``count_channel_posts`` counted in ``minute`` that were not made."""
        self._incr(f"STORM#{channel}#{minute}", ttl_s=3600, by=-n)

    def channel_posts_last_minute(self, channel: str) -> int:
        """New posts counted in ``channel`` the minute before this one: a storm outlives the
        minute it started in (the per-minute counter starts again at 0, the storm does not)."""
        return self._counter(f"STORM#{channel}#{int(_now() // 60) - 1}")

    def channel_posts_this_minute(self, channel: str) -> int:
        """New posts counted in ``channel`` this minute so far (read only)."""
        return self._counter(f"STORM#{channel}#{int(_now() // 60)}")

    def count_storm(self, channel: str, bucket: int, severities: dict[str, int], held: bool = False) -> StormTally:
        """Add a batch's alerts (``severities``: severity → count) to the storm bucket;
        ``held``: they are counted only (the storm is snoozed), not listed in its thread."""
        added = sum(severities.values())
        if added:
            self._incr(f"STORMTOTAL#{channel}#{bucket}", ttl_s=_STORM_COUNT_TTL_S, by=added)
            if held:
                self._incr(f"STORMHELD#{channel}#{bucket}", ttl_s=_STORM_COUNT_TTL_S, by=added)
        for sev, n in severities.items():
            if n:
                self._incr(f"STORMSEV#{channel}#{bucket}#{sev}", ttl_s=_STORM_COUNT_TTL_S, by=n)
        return self.storm_tally(channel, bucket)

    def storm_tally(self, channel: str, bucket: int) -> StormTally:
        """The storm bucket's totals as they stand (for re-rendering its summary after a click)."""
        return StormTally(
            total=self._counter(f"STORMTOTAL#{channel}#{bucket}"),
            by_severity={sev: self._counter(f"STORMSEV#{channel}#{bucket}#{sev}") for sev in _STORM_SEVERITIES},
            held=self._counter(f"STORMHELD#{channel}#{bucket}"),
        )

    def storm_message(self, channel: str, bucket: int) -> tuple[str, str] | None:
        """The storm bucket's summary message: (channel id, ts), once posted."""
        raw = self._get_value(f"STORMMSG#{channel}#{bucket}")
        if raw is None:
            return None
        channel_id, ts = raw.split(" ", 1)
        return channel_id, ts

    def set_storm_message(
        self, channel: str, bucket: int, channel_id: str, ts: str, examples: Sequence[str] = ()
    ) -> None:
        """The summary was posted; ``examples`` (its first alerts' titles) stay on it."""
        self._put_value(f"STORMMSG#{channel}#{bucket}", f"{channel_id} {ts}", ttl_s=2 * STORM_BUCKET_S)
        if examples:
            self._put_value(f"STORMEX#{channel}#{bucket}", json.dumps(list(examples)), ttl_s=2 * STORM_BUCKET_S)

    def storm_examples(self, channel: str, bucket: int) -> list[str]:
        raw = self._get_value(f"STORMEX#{channel}#{bucket}")
        try:
            found = json.loads(raw) if raw else []
        except ValueError:
            return []
        return [str(t) for t in found] if isinstance(found, list) else []

    # --- delivery latency (bot.pipeline → /ops status; bot.latency says why it is here) -----
    def record_latencies(self, samples_ms: Sequence[float]) -> None:
        """Add a notify batch's ``DeliveryLatency`` samples to this minute's histogram: one
        UpdateItem for the whole batch, whatever its size (``ADD`` per occupied bin; a batch
        spread over more than ``_LATENCY_BINS_PER_WRITE`` bins, which would outgrow an update
        expression, takes one more write per that many)."""
        occupied = sorted(histogram(samples_ms).items())
        now = _now()
        for start in range(0, len(occupied), _LATENCY_BINS_PER_WRITE):
            self.client.update_item(**self._latency_update(now, occupied[start : start + _LATENCY_BINS_PER_WRITE]))

    def _latency_update(self, now: float, bins: list[tuple[int, int]]) -> dict[str, Any]:
        values: dict[str, Any] = {f":b{i}": _n(n) for i, n in bins}
        values[":ttl"] = _n(now + _LATENCY_TTL_S)
        return {
            "TableName": self.table,
            "Key": {"pk": _s(_LATENCY_PK), "sk": _s(_minute_key(now))},
            "UpdateExpression": "ADD " + ", ".join(f"b{i} :b{i}" for i, _ in bins) + " SET #ttl = :ttl",
            "ExpressionAttributeNames": {"#ttl": "ttl"},
            "ExpressionAttributeValues": values,
        }

    def delivery_latency(self, window_s: int = 3600) -> LatencySummary | None:
        """The p95 (and sample count) of the ``DeliveryLatency`` samples of the last
        ``window_s`` seconds, whole minutes; None when nothing was posted in that time. One
        Query over at most ``window_s / 60`` small items."""
        now = _now()
        bins: dict[int, int] = {}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :p AND sk > :since",
            "ExpressionAttributeValues": {":p": _s(_LATENCY_PK), ":since": _s(_minute_key(now - window_s))},
            "ConsistentRead": True,
        }
        while True:
            resp = self.client.query(**kwargs)
            for item in resp.get("Items", []):
                for name, value in item.items():
                    if name.startswith("b") and name[1:].isdigit():
                        bins[int(name[1:])] = bins.get(int(name[1:]), 0) + int(value["N"])
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return summarize(bins)

    # --- scorecard -------------------------------------------------------------------------
    def record_stats(self, counts: dict[str, int], titles: dict[str, str]) -> None:
        """Add a notify batch's ``bot.stats`` counters to this hour's item (``STATS#<day>`` /
        ``H<hour>``): one UpdateItem per ``_STATS_PER_WRITE`` names, usually two per batch (the
        totals, then the per-problem counters with their titles, set once). An hour whose item
        outgrew DynamoDB's 400 KB (thousands of distinct problems) keeps counting the totals;
        its per-problem counters stop (a refused update changes nothing)."""
        now = _now()
        totals = sorted(k for k in counts if not k.startswith("f.") and counts[k])
        problems = sorted(k for k in counts if k.startswith("f.") and counts[k])
        for names, per_problem in ((totals, False), (problems, True)):
            for start in range(0, len(names), _STATS_PER_WRITE):
                chunk = {k: counts[k] for k in names[start : start + _STATS_PER_WRITE]}
                chunk_titles = {k[2:]: titles[k[2:]] for k in chunk if k[2:] in titles}
                try:
                    self._add_stats(now, chunk, chunk_titles)
                except ClientError as exc:
                    if not per_problem or exc.response.get("Error", {}).get("Code") != "ValidationException":
                        raise
                    return  # this hour's item is full: the totals above are in

    def _add_stats(self, now: float, counts: dict[str, int], titles: dict[str, str]) -> None:
        if counts:
            self.client.update_item(**self._stats_update(now, counts, titles))

    def _stats_update(self, now: float, counts: dict[str, int], titles: dict[str, str]) -> dict[str, Any]:
        names: dict[str, str] = {"#ttl": "ttl"}
        values: dict[str, Any] = {":ttl": _n(now + _STATS_TTL_S)}
        adds, sets = [], ["#ttl = if_not_exists(#ttl, :ttl)"]
        for i, (name, n) in enumerate(counts.items()):
            names[f"#c{i}"], values[f":c{i}"] = name, _n(n)
            adds.append(f"#c{i} :c{i}")
        for i, (fp, title) in enumerate(titles.items()):
            names[f"#t{i}"], values[f":t{i}"] = f"t.{fp}", _s(title or "-")
            sets.append(f"#t{i} = if_not_exists(#t{i}, :t{i})")
        hour = datetime.fromtimestamp(now, UTC)
        return {
            "TableName": self.table,
            "Key": {"pk": _s(f"{_STATS_PREFIX}{hour:%Y-%m-%d}"), "sk": _s(f"H{hour:%H}")},
            "UpdateExpression": "ADD " + ", ".join(adds) + " SET " + ", ".join(sets),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    # --- a notify batch's figures, together --------------------------------------------------
    def record_figures(self, samples_ms: Sequence[float], counts: dict[str, int], titles: dict[str, str]) -> None:
        """A notify batch's delivery latencies (``record_latencies``) and scorecard counters
        (``record_stats``) in one round trip: one TransactWriteItems of this minute's histogram
        update and this hour's counters, totals and per-problem in one update. That takes each
        fitting one update (at most ``_LATENCY_BINS_PER_WRITE`` bins, ``_STATS_PER_WRITE``
        names: a transaction may not touch an item twice), as a batch's usually do. Larger, or
        refused (an hour's item full, throttled), they go as before — a refused transaction
        wrote nothing, and ``record_stats`` keeps the totals of a full hour."""
        occupied = sorted(histogram(samples_ms).items())
        counted = {k: n for k, n in counts.items() if n}
        if not occupied or not counted or len(occupied) > _LATENCY_BINS_PER_WRITE or len(counted) > _STATS_PER_WRITE:
            self.record_latencies(samples_ms)
            self.record_stats(counts, titles)
            return
        now = _now()
        per_problem = {k[2:]: titles[k[2:]] for k in counted if k.startswith("f.") and k[2:] in titles}
        updates = [self._latency_update(now, occupied), self._stats_update(now, counted, per_problem)]
        try:
            self.client.transact_write_items(TransactItems=[{"Update": u} for u in updates])
        except ClientError as exc:
            log.info(
                "the batch's figures were refused together (%s): one by one", exc.response.get("Error", {}).get("Code")
            )
            self.record_latencies(samples_ms)
            self.record_stats(counts, titles)

    def stats_since(self, since: float) -> tuple[dict[str, int], dict[str, str]]:
        """The ``bot.stats`` counters summed over the hours from ``since`` to now, and the
        fingerprints' titles: one Query per UTC day (a week: 8 small ones)."""
        counts: dict[str, int] = {}
        titles: dict[str, str] = {}
        start = datetime.fromtimestamp(since, UTC).replace(minute=0, second=0, microsecond=0)
        day = start.replace(hour=0)
        end = datetime.fromtimestamp(_now(), UTC)
        while day <= end:
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :p AND sk >= :h",
                "ExpressionAttributeValues": {
                    ":p": _s(f"{_STATS_PREFIX}{day:%Y-%m-%d}"),
                    ":h": _s(f"H{start:%H}" if day.date() == start.date() else "H00"),
                },
            }
            for item in self._query_all(kwargs):
                for name, value in item.items():
                    if "N" in value and name not in ("ttl",):
                        counts[name] = counts.get(name, 0) + int(value["N"])
                    elif name.startswith("t.") and "S" in value:
                        titles.setdefault(name[2:], value["S"])
            day += timedelta(days=1)
        return counts, titles

    def claim_scorecard(self, period: str) -> bool:
        """True once per ``period`` (e.g. ``2026-W49``): the weekly scorecard is posted once,
        however often the schedule fires or retries."""
        return self._put_value(f"SCORECARD#{period}", "1", ttl_s=_STATS_TTL_S, only_if_absent=True)

    def release_scorecard(self, period: str) -> None:
        """Give the week back when its post failed, so the next run posts it."""
        self.client.delete_item(TableName=self.table, Key={"pk": _s(f"SCORECARD#{period}"), "sk": _s("VALUE")})

    def audit_since(self, since: datetime) -> list[AuditEntry]:
        """Every audit record from ``since`` on, oldest first (one Query per UTC day)."""
        return self.audit.since(since)

    # --- housekeeping ----------------------------------------------------------------------
    def record_housekeeping_run(self) -> None:
        self._put_value("HEARTBEAT#housekeeping", str(int(_now())), ttl_s=7 * 86400)

    def last_housekeeping_run(self) -> float | None:
        raw = self._get_value("HEARTBEAT#housekeeping")
        return float(raw) if raw else None

    # --- "what changed?" context (bot.context) --------------------------------------------
    def index_open_alert(self, keys: Sequence[str], alert_id: str, ref: dict[str, Any], ttl_s: int) -> None:
        """Remember an open alert under each of ``keys`` (``res:<resource key>``,
        ``principal:<arn>``, ``key:<access key id>``): one BatchWriteItem."""
        expires = _n(_now() + ttl_s)
        data = _s(json.dumps(ref, default=str))
        items = [{"pk": _s(f"OPEN#{k}"), "sk": _s(alert_id), "data": data, "ttl": expires} for k in dict.fromkeys(keys)]
        if items:
            self._batch_put(items, "open-alert index items")

    def open_alerts(self, key: str, limit: int = 10) -> list[dict[str, Any]]:
        """The open alerts indexed under ``key`` (unexpired), at most ``limit``: one Query."""
        resp = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": _s(f"OPEN#{key}")},
            Limit=limit,
        )
        now, out = _now(), []
        for item in resp.get("Items", []):
            if float(item.get("ttl", {"N": "0"})["N"]) < now:
                continue
            try:
                ref = json.loads(item["data"]["S"])
            except (KeyError, ValueError):
                continue
            if isinstance(ref, dict):
                out.append({**ref, "alert_id": item["sk"]["S"]})
        return out

    def context_changes(self, account: str, region: str, resource_key: str) -> str | None:
        """The cached JSON of a resource's recent CloudTrail writes, while fresh."""
        return self._get_value(f"CTXCACHE#{account}#{region}#{resource_key}")

    def set_context_changes(self, account: str, region: str, resource_key: str, changes: str, ttl_s: int) -> None:
        self._put_value(f"CTXCACHE#{account}#{region}#{resource_key}", changes, ttl_s=max(1, ttl_s))

    def claim_context_reply(self, alert_id: str) -> bool:
        """True once per alert: its context reply is posted once, however often the job runs."""
        return self._put_value(f"CTXDONE#{alert_id}", "1", ttl_s=86400, only_if_absent=True)

    def release_context_reply(self, alert_id: str) -> None:
        """The reply failed to post: let the job's retry post it."""
        self.client.delete_item(TableName=self.table, Key={"pk": _s(f"CTXDONE#{alert_id}"), "sk": _s("VALUE")})

    def count_context_lookup(self, account: str) -> int:
        """Count one CloudTrail LookupEvents for context in ``account`` this minute; the new count."""
        return self._incr(f"CTXRATE#{account}#{int(_now() // 60)}", ttl_s=3600)

    # --- events from unconfigured accounts (bot.pipeline → /ops doctor) -------------------
    def record_unconfigured_account(self, account: str) -> None:
        """Count one event from ``account``, which is not in the config's ``accounts:``."""
        now = _now()
        self.client.update_item(
            TableName=self.table,
            Key={"pk": _s(f"{_STRANGER_PREFIX}{account}"), "sk": _s("SEEN")},
            UpdateExpression="ADD #c :one SET last_seen = :now, gsi1pk = :g, gsi1sk = :gs, #ttl = :ttl",
            ExpressionAttributeNames={"#c": "count", "#ttl": "ttl"},
            ExpressionAttributeValues={
                ":one": _n(1),
                ":now": _n(now),
                ":g": _s("STRANGERS"),
                ":gs": _s(f"{int(now):012d}#{account}"),
                ":ttl": _n(now + _STRANGER_TTL_S),
            },
        )

    def unconfigured_accounts(self, limit: int = 20) -> list[tuple[str, int, float]]:
        """(account, event count, last seen unix time) of recent events from unconfigured
        accounts, the most recent first."""
        resp = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": _s("STRANGERS")},
            ScanIndexForward=False,
            Limit=limit,
        )
        now = _now()
        return [
            (i["pk"]["S"].removeprefix(_STRANGER_PREFIX), int(i["count"]["N"]), float(i["last_seen"]["N"]))
            for i in resp.get("Items", [])
            if float(i["ttl"]["N"]) >= now
        ]

    # --- maintenance windows (bot.maintenance) ---------------------------------------------
    def start_maintenance(self, window: MaintenanceWindow) -> bool:
        """Store a window that is open, its id in the index of windows not ended (one
        TransactWriteItems); False when one with its id exists (a scheduled window written by
        another invocation first, or an id used before)."""
        put = {
            "TableName": self.table,
            "Item": {
                "pk": _s(f"MAINT#{window.id}"),
                "sk": _s("WINDOW"),
                "data": _s(window.model_dump_json()),
                "gsi1pk": _s(_MAINT_PK),
                "gsi1sk": _s(f"{_epoch_key(window.ends_at)}#{window.id}"),
                "ttl": _n(window.ends_at.timestamp() + _MAINT_KEEP_S),
            },
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        try:
            self.client.transact_write_items(
                TransactItems=[{"Put": put}, {"Update": self._index_update("ADD", [window.id])}]
            )
            return True
        except ClientError as exc:
            if cancelled_on_condition(exc)[:1] == [True]:
                return False
            raise

    def _index_update(self, op: str, ids: Sequence[str], complete: bool = False) -> dict[str, Any]:
        update = f"{op} #open :ids" + (" SET complete = :t" if complete else "")
        values: dict[str, Any] = {":ids": {"SS": list(ids)}}
        if complete:
            values[":t"] = {"BOOL": True}
        return {
            "TableName": self.table,
            "Key": _MAINT_INDEX,
            "UpdateExpression": update,
            "ExpressionAttributeNames": {"#open": "open"},
            "ExpressionAttributeValues": values,
        }

    def maintenance_windows_open(self) -> bool | None:
        """Is any maintenance window not ended, from the index (one consistent GetItem)? None
        while the index is not complete (``index_maintenance`` has not run since it existed)."""
        return _windows_open(self._get(_MAINT_INDEX_PK, _MAINT_INDEX_SK))

    def index_maintenance(self) -> None:
        """Housekeeping: make the index of windows not ended complete and exact. The ids of the
        windows not ended (one Query on gsi1) are added, and it is marked complete — before
        that, readers Query (windows stored before the index existed are not in it). An id whose
        window has ended since (a crash between ``end_maintenance``'s two writes) is removed:
        an ended window never opens again, so that removal can never hide one that is open."""
        not_ended = {w.id for w in self._open_windows(":k", "gsi1sk > :k", "0")}  # every epoch key is above "0"
        item = self._get(_MAINT_INDEX_PK, _MAINT_INDEX_SK) or {}
        listed = set(item.get("open", {}).get("SS", []))
        for stale in sorted(listed - not_ended):
            found = self.get_maintenance(stale)
            if found is None or not found[1]:
                self.client.update_item(**self._index_update("DELETE", [stale]))
        if not_ended:
            self.client.update_item(**self._index_update("ADD", sorted(not_ended), complete=True))
        elif not item.get("complete", {}).get("BOOL"):
            self.client.update_item(
                TableName=self.table,
                Key=_MAINT_INDEX,
                UpdateExpression="SET complete = :t",
                ExpressionAttributeValues={":t": {"BOOL": True}},
            )

    def active_maintenance(self, now: datetime | None = None) -> list[MaintenanceWindow]:
        """The windows open at ``now`` (started, not ended, ``ends_at`` still ahead), the first
        to end first. One Query on gsi1 (windows not ended yet, by end time)."""
        at = (now or datetime.now(UTC)).timestamp()
        windows = self._open_windows(":k", "gsi1sk > :k", f"{int(at):012d}#~")
        return [w for w in windows if w.starts_at.timestamp() <= at < w.ends_at.timestamp()]

    def maintenance_due(self, now: datetime | None = None) -> list[MaintenanceWindow]:
        """Windows whose ``ends_at`` has passed but that nobody ended yet (housekeeping ends them)."""
        at = (now or datetime.now(UTC)).timestamp()
        windows = self._open_windows(":k", "gsi1sk <= :k", f"{int(at):012d}#~")
        return [w for w in windows if w.ends_at.timestamp() <= at]

    def _open_windows(self, name: str, condition: str, key: str) -> list[MaintenanceWindow]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": f"gsi1pk = :p AND {condition}",
            "ExpressionAttributeValues": {":p": _s(_MAINT_PK), name: _s(key)},
            "Limit": 100,  # a page; windows not ended are few (one scope, one window)
        }
        return [MaintenanceWindow.model_validate_json(i["data"]["S"]) for i in self._query_all(kwargs)]

    def get_maintenance(self, window_id: str) -> tuple[MaintenanceWindow, bool] | None:
        """A window by id, and whether it is still open (not ended by hand or by housekeeping)."""
        item = self._get(f"MAINT#{window_id}", "WINDOW")
        if not item:
            return None
        return MaintenanceWindow.model_validate_json(item["data"]["S"]), "gsi1pk" in item

    def end_maintenance(self, window_id: str, ended_at: datetime) -> MaintenanceWindow | None:
        """End a window now (or at its ``ends_at``, if that came first): one conditional write,
        so of ``/ops maintenance end`` and housekeeping racing, one ends it and summarizes it.
        Returns the window with its actual end, or None when it was already ended (or unknown)."""
        try:
            resp = self.client.update_item(
                TableName=self.table,
                Key={"pk": _s(f"MAINT#{window_id}"), "sk": _s("WINDOW")},
                UpdateExpression="SET ended_at = :e REMOVE gsi1pk, gsi1sk",
                ConditionExpression="attribute_exists(gsi1pk)",
                ExpressionAttributeValues={":e": _n(ended_at.timestamp())},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return None
            raise
        try:
            self.client.update_item(**self._index_update("DELETE", [window_id]))
        except ClientError as exc:  # left in the index: readers Query until housekeeping removes it
            log.warning("maintenance window %s ended but still indexed: %s", window_id, exc)
        window = MaintenanceWindow.model_validate_json(resp["Attributes"]["data"]["S"])
        return window.model_copy(update={"ends_at": min(window.ends_at, ended_at)})

    def hold_alert(self, window: MaintenanceWindow, alert: Alert, channel: str) -> None:
        """Count one held event of ``alert``'s problem in ``window``; the newest event's alert
        is kept (an older one arriving late only counts). One write in the usual case."""
        key = {"pk": _s(f"MAINTHELD#{window.id}"), "sk": _s(alert.fingerprint)}
        ttl = _n(window.ends_at.timestamp() + _MAINT_KEEP_S)
        t = alert.time.isoformat()
        try:
            self.client.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression="ADD events :one SET #d = :d, alert_time = :t, channel = :c, #ttl = :ttl",
                ConditionExpression="attribute_not_exists(pk) OR alert_time <= :t",
                ExpressionAttributeNames={"#d": "data", "#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":one": _n(1),
                    ":d": _s(alert.model_dump_json()),
                    ":t": _s(t),
                    ":c": _s(channel),
                    ":ttl": ttl,
                },
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            self.client.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression="ADD events :one",
                ExpressionAttributeValues={":one": _n(1)},
            )

    def held_alerts(self, window_id: str) -> list[HeldAlert]:
        """Every problem ``window_id`` held, with its newest alert (one Query, page by page)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": _s(f"MAINTHELD#{window_id}")},
            "ConsistentRead": True,
        }
        out = [
            HeldAlert(
                alert=Alert.model_validate_json(i["data"]["S"]), channel=i["channel"]["S"], events=int(i["events"]["N"])
            )
            for i in self._query_all(kwargs)
        ]
        return sorted(out, key=lambda h: h.alert.time)

    def set_release_pending(self, window: MaintenanceWindow, channels: Sequence[str]) -> None:
        """The ended window's summaries for ``channels`` could not be posted: kept for the next
        housekeeping run (``pending_releases``), with the window, in gsi1 ``MAINTRETRY``."""
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": _s(f"MAINTRETRY#{window.id}"),
                "sk": _s("VALUE"),
                "data": _s(json.dumps({"window": window.model_dump(mode="json"), "channels": list(channels)})),
                "gsi1pk": _s("MAINTRETRY"),
                "gsi1sk": _s(window.id),
                "ttl": _n(_now() + _MAINT_KEEP_S),
            },
        )

    def pending_releases(self, limit: int = 20) -> list[tuple[MaintenanceWindow, list[str]]]:
        """Ended windows whose summaries still wait to be posted (one Query)."""
        resp = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": _s("MAINTRETRY")},
            Limit=limit,
        )
        out = []
        for i in resp.get("Items", []):
            data = json.loads(i["data"]["S"])
            out.append((MaintenanceWindow.model_validate(data["window"]), [str(c) for c in data["channels"]]))
        return out

    def clear_release_pending(self, window_id: str) -> None:
        self.client.delete_item(TableName=self.table, Key={"pk": _s(f"MAINTRETRY#{window_id}"), "sk": _s("VALUE")})

    # --- the App Home's reads (bot.home): each one bounded Query or BatchGetItem -----------
    def recent_stored_alerts(self, limit: int = 50) -> list[StoredAlert]:
        """The newest ``limit`` alerts (``ALERT#``), each with the message it was posted as:
        one Query page of at most ``limit`` items."""
        resp = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": _s("ALERTS")},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [
            StoredAlert(
                alert=Alert.model_validate_json(i["data"]["S"]),
                channel=i.get("channel", {}).get("S"),
                ts=i.get("ts", {}).get("S"),
            )
            for i in resp.get("Items", [])
        ]

    def messages_for(self, fingerprints: Sequence[str]) -> dict[str, MessageRecord]:
        """The ``FP#`` message records of ``fingerprints`` (at most 100: one BatchGetItem)."""
        items = self._batch_get([(f"FP#{fp}", "MSG") for fp in dict.fromkeys(fingerprints)])
        records = (_message_from_item(i) for i in items if i["pk"]["S"].startswith("FP#"))
        return {r.fingerprint: r for r in records}

    def dismissed_among(self, alert_ids: Sequence[str]) -> set[str]:
        """Which of ``alert_ids`` someone dismissed (``DISMISS#``; at most 100: one BatchGetItem)."""
        items = self._batch_get([(f"DISMISS#{a}", "VALUE") for a in dict.fromkeys(alert_ids)])
        return {i["pk"]["S"].removeprefix("DISMISS#") for i in items}

    def latest_proposals_in(self, state: ProposalState, limit: int = 100) -> list[Proposal]:
        """The newest ``limit`` proposals in ``state`` (``PROPOSAL#``): one Query page."""
        resp = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": _s(f"PROPOSALS#{state.value}")},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [Proposal.model_validate_json(i["data"]["S"]) for i in resp.get("Items", [])]

    def active_snoozes(self, limit: int = 100) -> list[dict[str, Any]]:
        """Snoozes (``SNOOZE#``) that have not ended, the soonest to end first, at most ``limit``:
        one Query page on ``until > now`` (the shape ``snoozes()`` returns)."""
        resp = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p AND gsi1sk > :now",
            ExpressionAttributeValues={":p": _s("SNOOZES"), ":now": _s(str(int(_now())))},
            Limit=limit,
        )
        now = _now()
        return [_snooze_from_item(i) for i in resp.get("Items", []) if float(i["until"]["N"]) > now]

    def recent_audit_by(self, user: str, limit: int = 10, window: int = 200) -> tuple[list[AuditEntry], int]:
        """``user``'s audit records among the newest ``window`` (newest first, at most ``limit``)
        and how many of theirs the window holds in all (one Query page on the audit table)."""
        return self.audit.recent_by(user, limit, window)

    def _batch_get(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        """Items for up to 100 (pk, sk) keys; expired ones left out. Keys DynamoDB leaves
        unprocessed (throttling) are asked again, up to ``_BATCH_WRITE_TRIES`` times."""
        if len(keys) > 100:
            raise ValueError("BatchGetItem takes at most 100 keys")
        pending: dict[str, Any] = {self.table: {"Keys": [{"pk": _s(pk), "sk": _s(sk)} for pk, sk in keys]}}
        out: list[dict[str, Any]] = []
        for attempt in range(_BATCH_WRITE_TRIES):
            if not keys or not pending:
                break
            resp = self.client.batch_get_item(RequestItems=pending)
            out += (resp.get("Responses") or {}).get(self.table, [])
            pending = resp.get("UnprocessedKeys") or {}
            if pending and attempt + 1 < _BATCH_WRITE_TRIES:
                time.sleep(_BATCH_WRITE_BACKOFF_S * 2**attempt)
        now = _now()
        return [i for i in out if "ttl" not in i or float(i["ttl"]["N"]) >= now]

    # --- escalation and reminder schedules (bot.escalation) ------------------------------
    def schedule_due(self, step: DueStep, ttl_s: int) -> bool:
        """Write a schedule (step 0, due at its plan's first time); False when one exists."""
        first = step.plan[0][0]
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": _s(f"{_DUE_PREFIX}{step.alert_id}"),
                    "sk": _s(step.kind),
                    "fingerprint": _s(step.fingerprint),
                    "channel": _s(step.channel),
                    "ts": _s(step.ts),
                    "started": _n(step.started),
                    "step": _n(0),
                    "due": _n(first),
                    "plan": _s(json.dumps([[t, m] for t, m in step.plan])),
                    "gsi1pk": _s(_DUE_INDEX),
                    "gsi1sk": _s(_due_key(first, step.alert_id, step.kind)),
                    "ttl": _n(_now() + ttl_s),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def due_steps(self, now: float, limit: int) -> list[DueStep]:
        """The schedules whose next step is due (``due <= now``), oldest first: one Query."""
        resp = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p AND gsi1sk < :hi",
            ExpressionAttributeValues={":p": _s(_DUE_INDEX), ":hi": _s(f"{int(now) + 1:0{_DUE_DIGITS}d}")},
            Limit=max(1, limit),
        )
        return [_due_from_item(i) for i in resp.get("Items", [])]

    def advance_due(self, step: DueStep, due: float | None) -> bool:
        """Take ``step.step`` (conditional on it still being the current step): the next one is
        due at ``due``, or, when None, the schedule leaves the due index. False: taken already."""
        names = {"#s": "step"}
        values: dict[str, Any] = {":cur": _n(step.step), ":next": _n(step.step + 1)}
        if due is None:
            update = "SET #s = :next REMOVE gsi1pk, gsi1sk, #d"
        else:
            update = "SET #s = :next, #d = :due, gsi1sk = :gs"
            values.update({":due": _n(due), ":gs": _s(_due_key(due, step.alert_id, step.kind))})
        names["#d"] = "due"
        return self._update_due(step, update, names, values, "#s = :cur")

    def postpone_due(self, step: DueStep, due: float) -> bool:
        """Move the current step to ``due`` (a snooze ends then), if nobody took it meanwhile."""
        values = {":cur": _n(step.step), ":due": _n(due), ":gs": _s(_due_key(due, step.alert_id, step.kind))}
        return self._update_due(step, "SET #d = :due, gsi1sk = :gs", {"#s": "step", "#d": "due"}, values, "#s = :cur")

    def restore_due(self, step: DueStep) -> bool:
        """Give back a step taken by ``advance_due`` whose reply failed, so a later run posts it."""
        due = step.due if step.due is not None else _now()
        values = {
            ":cur": _n(step.step),
            ":taken": _n(step.step + 1),
            ":due": _n(due),
            ":gs": _s(_due_key(due, step.alert_id, step.kind)),
            ":gp": _s(_DUE_INDEX),
        }
        update = "SET #s = :cur, #d = :due, gsi1pk = :gp, gsi1sk = :gs"
        return self._update_due(step, update, {"#s": "step", "#d": "due"}, values, "#s = :taken")

    def drop_due(self, alert_id: str, kind: str) -> DueStep | None:
        """Delete a schedule; the one deleted (None when there was none): who deleted it says so."""
        resp = self.client.delete_item(
            TableName=self.table, Key={"pk": _s(f"{_DUE_PREFIX}{alert_id}"), "sk": _s(kind)}, ReturnValues="ALL_OLD"
        )
        item = resp.get("Attributes")
        return _due_from_item(item) if item else None

    def _update_due(self, step: DueStep, update: str, names: dict[str, str], values: dict[str, Any], cond: str) -> bool:
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": _s(f"{_DUE_PREFIX}{step.alert_id}"), "sk": _s(step.kind)},
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(pk) AND {cond}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def claim_resolution(self, fingerprint: str) -> bool:
        """Mark the problem's message as saying "Resolved after …"; False when it did already
        (or the message record is gone). ``MessageRecord.resolved`` reads it back."""
        return self._flag_resolved(fingerprint, "SET resolved = :t", "attribute_not_exists(resolved)")

    def clear_resolution(self, fingerprint: str) -> bool:
        """The problem is back (an active event after the resolving one): unmark; False when it
        was not marked (someone else unmarked it)."""
        return self._flag_resolved(fingerprint, "REMOVE resolved", "resolved = :t")

    def _flag_resolved(self, fingerprint: str, update: str, cond: str) -> bool:
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": _s(f"FP#{fingerprint}"), "sk": _s("MSG")},
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(pk) AND {cond}",
                ExpressionAttributeValues={":t": {"BOOL": True}},
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    # --- counters and values (private: every family above has its own methods) ------------
    def _incr(self, pk: str, ttl_s: int, by: int = 1) -> int:
        resp = self.client.update_item(
            TableName=self.table,
            Key={"pk": _s(pk), "sk": _s("COUNTER")},
            UpdateExpression="ADD #c :by SET #ttl = if_not_exists(#ttl, :ttl)",
            ExpressionAttributeNames={"#c": "count", "#ttl": "ttl"},
            ExpressionAttributeValues={":by": _n(by), ":ttl": _n(_now() + ttl_s)},
            ReturnValues="UPDATED_NEW",
        )
        return int(resp["Attributes"]["count"]["N"])

    def _counter(self, pk: str) -> int:
        item = self._get(pk, "COUNTER")
        return int(item["count"]["N"]) if item else 0

    def _get_value(self, pk: str) -> str | None:
        item = self._get(pk, "VALUE")
        return item["value"]["S"] if item else None

    def _put_value(self, pk: str, value: str, ttl_s: int, only_if_absent: bool = False) -> bool:
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
    def _query_all(self, kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item of a Query, page after page (``kwargs`` as for ``client.query``)."""
        request = dict(kwargs)
        while True:
            resp = self.client.query(**request)
            yield from resp.get("Items", [])
            if "LastEvaluatedKey" not in resp:
                return
            request["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        resp = self.client.get_item(TableName=self.table, Key={"pk": _s(pk), "sk": _s(sk)}, ConsistentRead=True)
        item = resp.get("Item")
        if item and "ttl" in item and float(item["ttl"]["N"]) < _now() and not pk.startswith(AUDIT_PREFIX):
            return None  # DynamoDB deletes expired items lazily (up to days later)
        return item


def _snooze_from_item(i: dict[str, Any]) -> dict[str, Any]:
    """A ``SNOOZE#`` item as ``snoozes()`` and ``active_snoozes()`` return it."""
    return {
        "id": i["id"]["S"],
        "target": i["pk"]["S"].removeprefix("SNOOZE#"),
        "until": float(i["until"]["N"]),
        "by": Actor.model_validate_json(i["by"]["S"]),
        "reason": "" if i["reason"]["S"] == "-" else i["reason"]["S"],
        "channel": "" if i["channel"]["S"] == "-" else i["channel"]["S"],
        "ts": "" if i["ts"]["S"] == "-" else i["ts"]["S"],
    }


def _thread_from_item(item: dict[str, Any]) -> ResourceThread:
    """A ``RES#`` item; one written before severity was kept counts as an active INFO message."""
    try:
        severity = Severity(item.get("severity", {}).get("S", "INFO"))
    except ValueError:
        severity = Severity.INFO
    return ResourceThread(
        ts=item["ts"]["S"],
        severity=severity,
        active=item.get("active", {}).get("BOOL", True),
        fingerprint=item.get("fp", {}).get("S", ""),
    )


def _alert_item(
    alert: Alert,
    channel: str | None,
    ts: str | None,
    proposal_ids: list[str] | None,
    decisions: Decisions | None,
) -> dict[str, Any]:
    """The ALERT# item of ``alert``: its JSON, where it was posted, its proposals and decisions."""
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
    if decisions is not None:
        item["decisions"] = _s(decisions.model_dump_json())
    return item


def _message_from_item(item: dict[str, Any]) -> MessageRecord:
    state, ts = _message_state(item)
    return MessageRecord(
        fingerprint=item["pk"]["S"].removeprefix("FP#"),
        channel=item["channel"]["S"],
        ts=ts,
        state=state,
        count=int(item["count"]["N"]),
        first_seen=float(item["first_seen"]["N"]),
        last_seen=float(item["last_seen"]["N"]),
        last_event_time=item["last_event_time"]["S"],
        alert_id=item["alert_id"]["S"],
        last_update=float(item.get("last_update", {"N": "0"})["N"]),
        dirty=bool(item.get("dirty", {}).get("BOOL", False)),
        owner_id=item.get("owner_id", item["alert_id"])["S"],
        claim_until=float(item.get("claim_until", {"N": "0"})["N"]),
        related=int(item.get("related", {"N": "0"})["N"]),
        resolved=bool(item.get("resolved", {}).get("BOOL", False)),
    )


# Items written before ``state`` existed kept it in ``ts``: "thread:<parent ts>", "storm:<bucket>",
# "snoozed:", a Slack ts, or no ts while claimed. They expire with the dedup window.
_OLD_TS_MARKS = {"thread:": MessageState.THREADED, "storm:": MessageState.STORM, "snoozed:": MessageState.SNOOZED}


def _message_state(item: dict[str, Any]) -> tuple[MessageState, str | None]:
    ts = item.get("ts", {}).get("S")
    if "state" in item:
        return MessageState(item["state"]["S"]), ts
    if ts is None:
        return MessageState.CLAIMED, None
    for mark, state in _OLD_TS_MARKS.items():
        if ts.startswith(mark):
            return state, None
    return MessageState.POSTED, ts


_DUE_PREFIX = "DUE#"
_DUE_INDEX = "DUE"
_DUE_DIGITS = 10  # unix seconds, zero-padded so the index's sort keys order as times


def _due_key(due: float, alert_id: str, kind: str) -> str:
    return f"{int(due):0{_DUE_DIGITS}d}#{alert_id}#{kind}"


def _due_from_item(item: dict[str, Any]) -> DueStep:
    return DueStep(
        alert_id=item["pk"]["S"].removeprefix(_DUE_PREFIX),
        kind=item["sk"]["S"],
        fingerprint=item["fingerprint"]["S"],
        channel=item["channel"]["S"],
        ts=item["ts"]["S"],
        started=float(item["started"]["N"]),
        step=int(item["step"]["N"]),
        due=float(item["due"]["N"]) if "due" in item else None,
        plan=[(float(t), list(m)) for t, m in json.loads(item["plan"]["S"])],
    )
