"""The spine of EventOps. A newcomer reads this first.

``handle_event(raw, rt, batch)`` takes one EventBridge event through the whole notify side::

    parse (bot.sources) → dedup by event id → route (bot.routing) → maintenance window? held
      → snooze?
      → repeat of a known fingerprint?  count it; one chat.update per message per batch
      → related to a resource that already has a message?  reply in its thread
      → storm in this channel?  one summary message, alerts listed in its thread
      → else: proposals for the offered remediations (bot.remediations), render (bot.slack),
        chat.postMessage, remember channel + ts (bot.store); auto mode runs at once
      → optionally publish the Alert to a bus and archive the raw event to S3

``NotifyBatch`` collects what is best sent once per batch (repeat updates, storm replies) and
sends it in ``flush()``. Decisions (clicks) go through ``bot.approval.clicks``; every Slack
message about an alert, re-rendering included, is composed in ``bot.messages``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot import escalation
from bot.context.job import index_open, queue_context
from bot.correlation import Correlation, correlate
from bot.decisions import Decisions, Refusal
from bot.errors import NotFoundError, RetryLaterError, SlackError
from bot.latency import DELIVERY_METRIC, GROUPED_UPDATE_METRIC, event_time, latency_ms
from bot.maintenance.hold import MaintenanceCache
from bot.maintenance.hold import hold as maintenance_hold
from bot.messages import alert_buttons, refresh_fingerprint_message, storm_snooze_target, storm_summary
from bot.models import Alert, Mode, Proposal, ProposalState, RemediationOffer, Route
from bot.offers import decide_offers
from bot.redrive import dlq_depths, dlq_summary
from bot.remediations import remediations
from bot.remediations.base import fits
from bot.routing import route as route_alert  # also re-exported: bot.__main__ (render) imports it from here
from bot.routing import route_traced
from bot.routing.tags import TagCache
from bot.runtime import Runtime
from bot.slack.render import render_alert, render_outcome_reply, render_thread_reply
from bot.sources import parse_event
from bot.sources.base import ParseContext
from bot.stats import Tally
from bot.store import STORM_BUCKET_S, EventClaim, ResourceThread
from bot.store.table import BatchReads, Lookup, LookupResult, MessageRecord

log = logging.getLogger("eventops.pipeline")


def _now() -> float:
    return time.time()


# --- remediations offered on an alert ----------------------------------------------------------
def offers_for(alert: Alert, route: Route, rt: Runtime) -> list[RemediationOffer]:
    """The remediations this route offers on this alert: those that fix what it reports
    (``fits``: never on a resolved alert), none in notify mode or with the kill switch on."""
    if route.mode == Mode.NOTIFY or not alert.active or rt.kill_switch_on():
        return []
    return fitting_offers(alert, route.remediations)


def fitting_offers(alert: Alert, allowed: list[str] | None = None) -> list[RemediationOffer]:
    """The catalog's remediations (of ``allowed``, when given) that fix what ``alert`` reports
    and can name their target in it: ``fits`` and ``applies_to``."""
    offers: list[RemediationOffer] = []
    for name, rem in remediations.items():
        if (allowed is not None and name not in allowed) or not fits(rem, alert):
            continue
        try:
            params = rem.applies_to(alert)
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not block the alert
            log.warning("remediation %s applies_to failed on alert %s: %s", name, alert.id, exc)
            continue
        if params is not None:
            offers.append(RemediationOffer(name=str(name), params=params))
    return offers


def _offers_and_note(alert: Alert, route: Route, rt: Runtime) -> tuple[list[RemediationOffer], Alert, list[Refusal]]:
    """The offers, the alert carrying them, and the refusals (``bot.offers``: why each other
    fitting remediation is not offered); none, with a line saying why, when EventOps does not
    act in the alert's account (not configured, or no role: bot.aws)."""
    offers, refusals, refusal = decide_offers(alert, route, rt)
    fields = alert.fields
    if refusal and route.mode != Mode.NOTIFY:
        fields = {**fields, "EventOps": f"{refusal}: no actions offered"}
    return offers, alert.model_copy(update={"remediations": offers, "fields": fields}), refusals


def note_unconfigured_account(alert: Alert, rt: Runtime) -> None:
    """Remember an event from an account not in ``accounts:`` (``/ops doctor`` lists them)."""
    if alert.account and rt.config.account(alert.account) is None:
        rt.count("unconfigured_account_event")
        log.warning("event %s from account %s, which is not configured", alert.id, alert.account)
        try:
            rt.store.record_unconfigured_account(alert.account)
        except Exception as exc:  # noqa: BLE001 - doctor's tally must not fail the alert
            log.warning("could not record account %s for /ops doctor: %s", alert.account, type(exc).__name__)


def new_proposals(alert: Alert, offers: list[RemediationOffer], channel: str, rt: Runtime) -> list[Proposal]:
    ttl = timedelta(hours=rt.config.policy.proposal_ttl_hours if rt.config.policy else 24)
    now = datetime.now(UTC)
    return [
        Proposal(
            id=uuid.uuid4().hex,
            alert_id=alert.id,
            fingerprint=alert.fingerprint,
            remediation=offer.name,
            params=offer.params,
            risk=remediations[offer.name].risk,
            account=alert.account,
            region=alert.region,
            channel=channel,
            created_at=now,
            expires_at=now + ttl,
            correlation_id=alert.id,
        )
        for offer in offers
    ]


# --- one batch of events ---------------------------------------------------------------------
@dataclass
class _StormItem:
    alert: Alert
    record_id: str
    event_at: datetime | None


@dataclass
class _Counted:
    """A channel's new posts counted ahead in one write (``NotifyBatch.post_count``): the
    minute they count in, the number the next one takes, how many are left."""

    minute: int
    next: int
    left: int


class _ClaimLost(Exception):
    """Another invocation holds the new problem's claim (``_Claim.take``): this event is a repeat."""


@dataclass
class _Claim:
    """The right to post a new problem's first message (``Store.claim_message``), taken with
    the first write that needs it: for a message of its own, the alert and its proposals, in
    one round trip (``Store.claim_message_with_alert``)."""

    fingerprint: str
    channel: str
    alert: Alert
    window_s: int
    lease_s: float
    held: bool = False

    def take(
        self,
        rt: Runtime,
        batch: NotifyBatch,
        *,
        counted: bool = False,
        proposals: list[Proposal] | None = None,
        decisions: Decisions | None = None,
    ) -> None:
        """Claim, with the alert and its proposals when given; ``_ClaimLost`` when another
        invocation holds it (a post ``counted`` for storms is then taken back)."""
        args = (self.fingerprint, self.channel, self.alert, self.window_s, self.lease_s)
        if proposals is None:
            record = rt.store.claim_message(*args)
        else:
            record = rt.store.claim_message_with_alert(*args, proposals, decisions)
        if record is None:
            if counted:
                batch.unpost(self.channel)
            raise _ClaimLost
        self.held = True
        batch.has_message[self.fingerprint] = self.channel  # the batch's next events of it are repeats


@dataclass
class _Repeats:
    """A batch's repeats of one problem whose message exists: counted into it once, at flush
    (one write for all of them, not one each), and their event claims completed together."""

    channel: str
    newest: Alert
    count: int = 0
    event_ids: list[str] = field(default_factory=list)
    record_ids: list[str] = field(default_factory=list)
    event_times: list[datetime] = field(default_factory=list)

    def add(self, alert: Alert, record_id: str, event_at: datetime | None) -> None:
        self.count += 1
        self.event_ids.append(alert.id)
        self.record_ids.append(record_id)
        if event_at is not None:
            self.event_times.append(event_at)
        if alert.time > self.newest.time:
            self.newest = alert


@dataclass
class NotifyBatch:
    """Per-invocation state: the tag cache, what to send once per batch, and the batch's
    delivery latencies (``bot.latency``: metrics as they happen, one table write in ``flush``).

    The notify handler delivers several channels' records at once (``channel_of``, one thread
    per lane); ``flush`` runs after them, alone. Per-record state is keyed by record, event,
    fingerprint or channel, so lanes do not share entries; what two lanes can share is locked."""

    rt: Runtime
    tags: TagCache | None = None
    repeats: dict[str, str] = field(default_factory=dict)  # fingerprint → channel
    repeat_times: dict[str, list[datetime]] = field(default_factory=dict)  # fingerprint → event times
    storms: dict[tuple[str, int], list[_StormItem]] = field(default_factory=dict)
    stormy_last_minute: dict[str, bool] = field(default_factory=dict)  # channel → read once per batch
    pending: dict[str, _Repeats] = field(default_factory=dict)  # fingerprint → repeats to count at flush
    has_message: dict[str, str] = field(default_factory=dict)  # fingerprint → channel of its message
    failed_records: list[str] = field(default_factory=list)
    delivered_ms: list[float] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)  # for the scorecard: one write per batch
    parsed: dict[str, tuple[Alert, bool]] = field(default_factory=dict)  # record id → bare parse (preclaim)
    claims: dict[str, EventClaim] = field(default_factory=dict)  # event id → its claim, made for the batch
    decided: dict[str, Decisions] = field(default_factory=dict)  # repeat's alert id → its decisions (bot.decisions)
    maintenance: MaintenanceCache = field(default_factory=MaintenanceCache)  # open windows, read once
    last_updates: dict[str, float] = field(default_factory=dict)  # fingerprint → its message's last chat.update
    stormy_now: dict[str, bool] = field(default_factory=dict)  # channel → in a storm (for updates)
    prefetched: dict[str, MessageRecord] = field(default_factory=dict)  # fingerprint → its existing message record
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    completed: set[str] = field(default_factory=set)  # alert ids whose claim the post's bookkeeping completed
    looked_up: dict[Lookup, LookupResult] = field(default_factory=dict)  # read for the batch (_prefetch)
    threads: dict[tuple[str, str], ResourceThread] = field(default_factory=dict)  # (channel, key) → thread it started
    burst: dict[str, int] = field(default_factory=dict)  # channel → new problems the batch brings it (_prefetch)
    posts_counted: dict[str, int] = field(default_factory=dict)  # channel → new posts counted so far
    counted: dict[str, _Counted] = field(default_factory=dict)  # channel → its new posts counted ahead
    # channel → (minute, its posts) of the minute before, read with the lookups
    last_minute: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tags is None:
            self.tags = TagCache(self.rt.sessions, self.rt.config.accounts)

    def preclaim(self, records: list[tuple[str, Any]]) -> None:
        """Claim the batch's event ids together (``Store.claim_events``: one TransactWriteItems
        per 100) before handling them one by one, which then uses these claims instead of one
        conditional write each. An event that cannot be read here, or a failed batch claim,
        is simply claimed on its own later: this only saves round trips."""
        ids: list[str] = []
        for record_id, raw in records:
            try:
                self.parsed[record_id] = _parse_without_tags(raw, self.rt)
            except Exception as exc:  # noqa: BLE001 - handle_event parses it again and reports it
                log.debug("record %s: not preclaimed (%s)", record_id, type(exc).__name__)
                continue
            ids.append(self.parsed[record_id][0].id)
        if len(ids) < 2:
            return
        cfg = self.rt.config
        try:
            self.claims = self.rt.store.claim_events(ids, cfg.dedup.event_id_ttl_hours, claim_lease_s(self.rt))
        except Exception as exc:  # noqa: BLE001 - each event is claimed on its own instead
            log.warning("claiming the batch's %d events together failed (%s): one by one", len(ids), exc)
            self.claims = {}
        self._prefetch()

    def _prefetch(self) -> None:
        """What ``_deliver`` looks up for each of the batch's events (its problem's message, its
        snoozes, its resource's thread), read together: one BatchGetItem per 100 keys, shared
        keys once. A problem whose message exists is a repeat without a lookup of its own; a new
        one uses the rest, overlaid with the threads this batch starts (``threads``). An event
        routed differently once its tags are read finds nothing here and is looked up live."""
        cfg = self.rt.config
        requests: dict[str, Lookup] = {}
        for record_id, (alert, _wants_tags) in self.parsed.items():
            route = route_alert(alert, cfg)
            if route.drop:
                continue
            alias = cfg.alias(alert.account)
            if alias and not alert.account_alias:
                alert = alert.model_copy(update={"account_alias": alias})
            corr = correlate(alert, cfg.correlation)
            fingerprint = corr.merged.key if corr.merged else alert.fingerprint
            requests[record_id] = _lookup_request(fingerprint, route, _thread_key(alert, corr))
        if not requests:
            return
        channels = list(dict.fromkeys(r.channel for r in requests.values()))
        try:
            reads = self.rt.store.read_for_batch(list(dict.fromkeys(requests.values())), channels)
        except Exception as exc:  # noqa: BLE001 - each event is looked up on its own instead
            log.warning("looking up the batch's %d events together failed (%s)", len(requests), exc)
            return
        found = self.looked_up = reads.found
        self.note_reads(reads)
        new: dict[str, set[str]] = {}  # channel → the batch's problems that have no message yet
        for request, (record, _snoozed, _thread) in found.items():
            if record is not None:
                self.prefetched[request.fingerprint] = record
            else:
                new.setdefault(request.channel, set()).add(request.fingerprint)
        self.burst = {channel: len(fps) for channel, fps in new.items()}

    def channel_of(self, record_id: str) -> str:
        """The channel the record's event routes to, read from ``preclaim``'s parse (without
        tags: a route on tags may differ; that costs only order across the two lanes), or ""
        for a record it could not read. The notify handler delivers one lane per channel."""
        pre = self.parsed.get(record_id)
        return route_alert(pre[0], self.rt.config).channel if pre else ""

    def post_count(self, channel: str) -> int:
        """Count one new post in ``channel`` this minute; returns its number in the minute
        (the channel's storm counter, shared by every invocation). The batch's new problems
        for a channel (``burst``) are counted in one write when its first one is, and take
        their numbers in turn; what was counted but not posted is taken back at ``flush``."""
        minute = int(_now() // 60)
        with self.lock:  # lanes are per channel, but a route on tags may cross them
            ahead = self.counted.get(channel)
            if ahead is not None and (ahead.left == 0 or ahead.minute != minute):
                self._uncount(channel)
                ahead = None
            if ahead is None:
                n = max(1, self.burst.get(channel, 0) - self.posts_counted.get(channel, 0))
                counted_minute, total = self.rt.store.count_channel_posts(channel, n)
                ahead = self.counted[channel] = _Counted(counted_minute, total - n + 1, n)
            number = ahead.next
            ahead.next += 1
            ahead.left -= 1
            self.posts_counted[channel] = self.posts_counted.get(channel, 0) + 1
            return number

    def look_up(self, request: Lookup) -> LookupResult:
        """What ``request`` reads: as read with the batch's others (``_prefetch``; a thread this
        batch started since is newer), else read now, with the channel's storm counter of the
        minute before, which a new problem reads next."""
        read = self.looked_up.get(request)
        if read is None:
            reads = self.rt.store.read_for_batch([request], [request.channel])
            self.note_reads(reads)
            return reads.found[request]
        record, snoozed, thread = read
        if thread is None and request.resource_key:
            thread = self.threads.get((request.channel, request.resource_key))
        return record, snoozed, thread

    def posts_last_minute(self, channel: str) -> int:
        """The channel's new posts the minute before this one: as read with the batch's lookups
        (``_prefetch``) while that is still the minute before, else read now."""
        minute, posts = self.last_minute.get(channel, (None, 0))
        if minute == int(_now() // 60) - 1:
            return posts
        return self.rt.store.channel_posts_last_minute(channel)

    def note_reads(self, reads: BatchReads) -> None:
        """Keep what came with a read of lookups: the storm counters of the minute before, and
        whether any maintenance window is not ended (the first read decides for the batch)."""
        for channel, posts in reads.posts_last_minute.items():
            self.last_minute[channel] = (reads.minute, posts)
        if self.maintenance.windows is None and self.maintenance.stored_open is None:
            self.maintenance.stored_open = reads.windows_open

    def unpost(self, channel: str) -> None:
        """A post ``post_count`` counted that was not made (another invocation claimed the
        problem): the batch's next post in the channel takes its count, or flush takes it back."""
        with self.lock:
            self.posts_counted[channel] = self.posts_counted.get(channel, 1) - 1
            ahead = self.counted.get(channel)
            if ahead is not None:
                ahead.left += 1

    def _uncount(self, channel: str) -> None:
        """Take back the posts counted ahead for ``channel`` that the batch did not make."""
        ahead = self.counted.pop(channel, None)
        if ahead is None or ahead.left <= 0:
            return
        try:
            self.rt.store.uncount_channel_posts(channel, ahead.minute, ahead.left)
        except Exception as exc:  # noqa: BLE001 - a storm counter a little high, never a record lost
            log.warning("taking back %d posts counted ahead in %s failed: %s", ahead.left, channel, type(exc).__name__)

    def parse_context(self) -> ParseContext:
        return ParseContext(lookup_tags=self.tags, account_alias=self.rt.config.alias)

    def delivered(self, event_at: datetime | None) -> None:
        """Slack just accepted the post showing an event (its ``time`` is ``event_at``): one
        ``DeliveryLatency`` sample. An event without a usable time has no figure."""
        if event_at is None:
            return
        ms = latency_ms(event_at, _now())
        self.rt.measure(DELIVERY_METRIC, ms)
        self.delivered_ms.append(ms)

    def defer_repeat(self, alert: Alert, channel: str, record_id: str, event_at: datetime | None) -> None:
        """Count ``alert`` into its problem's existing message at flush (``_count_repeats``)."""
        with self.lock:  # two lanes may meet one problem (a route on tags)
            group = self.pending.get(alert.fingerprint)
            if group is None:
                group = self.pending[alert.fingerprint] = _Repeats(channel=channel, newest=alert)
            group.add(alert, record_id, event_at)

    def _count_repeats(self) -> None:
        """One conditional write per problem for the batch's repeats of it (summed); the newest
        events whose content is newer than their message's stored together (one BatchWriteItem
        per 25); then their event claims completed in one BatchWriteItem per 25. A problem
        whose count fails leaves its events unclaimed and their records failed: SQS redelivers
        them and they are counted then."""
        store, done = self.rt.store, []
        newest: list[tuple[_Repeats, MessageRecord]] = []
        together = self._count_together()
        for fp, group in self.pending.items():
            if fp in together:
                rec, is_newest = together[fp]
            else:
                try:
                    rec, is_newest = store.bump_message(fp, group.newest.time, group.newest.id, count=group.count)
                except Exception as exc:  # noqa: BLE001 - these records are retried; the rest goes on
                    self._repeats_failed(fp, group, exc)
                    continue
            if is_newest:
                newest.append((group, rec))
            done.extend(group.event_ids)
            if rec.has_message:
                self.repeats[fp] = rec.channel
                self.last_updates[fp] = rec.last_update
                self.repeat_times.setdefault(fp, []).extend(group.event_times)
        self.pending.clear()
        self._store_newest(newest)
        if done:
            try:
                store.complete_events(done, self.rt.config.dedup.event_id_ttl_hours)
            except Exception as exc:  # noqa: BLE001 - counted already: the claims end with their lease
                log.warning("completing %d event claims failed (they end with their lease): %s", len(done), exc)

    def _count_together(self) -> dict[str, tuple[MessageRecord, bool]]:
        """The batch's repeats counted in one TransactWriteItems per 100 problems
        (``Store.bump_messages``): fingerprint → (its record, whether the batch's newest event
        is newer than the record's). For a problem whose record the batch read (``_prefetch``),
        that record; for one whose first event the batch itself delivered, its record read after
        counting (one BatchGetItem per 100). A refused transaction counts none of its problems:
        those, and any failure here, are counted one by one."""
        if len(self.pending) < 2:
            return {}
        plan: dict[str, bool] = {}
        for fp, g in self.pending.items():
            read = self.prefetched.get(fp)
            plan[fp] = read is None or g.newest.time.isoformat() >= read.last_event_time
        bumps = [(fp, g.count, g.newest.time, g.newest.id, plan[fp]) for fp, g in self.pending.items()]
        try:
            counted = self.rt.store.bump_messages(bumps)
            fresh = [fp for fp in counted if fp not in self.prefetched]
            records = dict(self.prefetched)
            for i in range(0, len(fresh), 100):
                records.update(self.rt.store.messages_for(fresh[i : i + 100]))
        except Exception as exc:  # noqa: BLE001 - one by one instead
            log.warning("counting %d problems together failed (%s): one by one", len(bumps), type(exc).__name__)
            return {}
        return {fp: (records[fp], plan[fp]) for fp in counted if fp in records}

    def _repeats_failed(self, fp: str, group: _Repeats, exc: Exception) -> None:
        log.error("counting %d repeats of %s failed, they will be retried: %s", group.count, fp, exc)
        for event_id in group.event_ids:
            self.rt.store.release_event(event_id)
        self.failed_records.extend(group.record_ids)

    def _store_newest(self, newest: list[tuple[_Repeats, MessageRecord]]) -> None:
        """Store each counted problem's newest event (its message shows that content), all in
        one batch write; then the resolution bookkeeping (an alarm back to OK) that reads it.
        A failed batch write is retried one by one; an alert that cannot be stored is logged
        (its count is in: retrying the records would count them twice)."""
        if not newest:
            return
        rows = [(g.newest, rec.channel, self._grouped(g, rec)) for g, rec in newest]
        try:
            self.rt.store.put_alerts(rows)
        except Exception as exc:  # noqa: BLE001 - one by one instead
            log.warning("storing %d newest repeats together failed (%s): one by one", len(rows), exc)
            for alert, channel, decisions in rows:
                try:
                    self.rt.store.put_alert(alert, channel=channel, decisions=decisions)
                except Exception as one:  # noqa: BLE001 - counted already; only its content is missed
                    log.error("storing the newest repeat %s failed: %s", alert.id, one)
                    self.rt.count("bookkeeping_failed")
        for group, rec in newest:
            escalation.after_repeat(self.rt, rec, group.newest)  # over, or back; never raises

    def _grouped(self, group: _Repeats, rec: MessageRecord) -> Decisions | None:
        """The decisions of a batch's newest repeat of a problem: counted into its message."""
        decided = self.decided.pop(group.newest.id, None)
        if decided is None:
            return None
        where = (
            f"message {rec.ts} in {rec.channel}"
            if rec.has_message
            else f"the first alert's delivery ({rec.state.value})"
        )
        return decided.decided(
            "grouped",
            f"a repeat of fingerprint {rec.fingerprint[:16]}: counted into the {where}, owned by alert {rec.owner_id}",
        )

    def flush(self) -> list[str]:
        """Count deferred repeats, send coalesced updates and storm replies. Returns record ids
        that must be retried."""
        self._count_repeats()
        self._flush_repeats()
        for key, items in self.storms.items():
            try:
                self.tally.storm_posts(_flush_storm(self.rt, key[0], key[1], items))
            except SlackError as exc:
                log.error("storm replies for %s failed: %s", key[0], exc)
                for it in items:
                    _forget(self.rt, it.alert)
                    self.failed_records.append(it.record_id)
                continue
            for it in items:
                self.delivered(it.event_at)
        self.storms.clear()
        for channel in list(self.counted):
            self._uncount(channel)
        self._record_figures()
        return self.failed_records

    def _record_figures(self) -> None:
        """The batch's delivery latencies (for ``/ops status``) and ``bot.stats`` counters (the
        scorecard) in one round trip (``Store.record_figures``). A failure costs a figure,
        never a record: the alerts are out; only a status line or a scorecard would miss them."""
        counts, titles = self.tally.take()
        samples, self.delivered_ms = self.delivered_ms, []
        if not samples and not counts:
            return
        try:
            self.rt.store.record_figures(samples, counts, titles)
        except Exception as exc:  # noqa: BLE001 - the batch's figures must not fail the batch
            log.warning(
                "recording the batch's figures (%d latencies, %d counters) failed: %s",
                len(samples),
                len(counts),
                type(exc).__name__,
            )
            self.rt.count("figures_record_failed")

    def _flush_repeats(self) -> None:
        """One chat.update per counted message, at most ``max_updates_per_channel_per_batch``
        per channel; in a channel in a storm, a message updated less than
        ``storm.update_interval_s`` ago waits. Updates are impatient (a 429 is not waited out,
        and stops this batch's updates: the limit is per workspace). What is skipped stays
        dirty: the next batch or housekeeping shows its count."""
        per_channel: dict[str, int] = {}
        cap = self.rt.config.dedup.max_updates_per_channel_per_batch
        now = _now()
        for fp, channel in self.repeats.items():
            if per_channel.get(channel, 0) >= cap:
                continue  # left dirty; housekeeping flushes it
            if now - self.last_updates.get(fp, 0.0) < self.rt.config.storm.update_interval_s and self._stormy(channel):
                continue  # left dirty: a storm's counters catch up later
            per_channel[channel] = per_channel.get(channel, 0) + 1
            try:
                refresh_fingerprint_message(self.rt, fp, patient=False)
            except RetryLaterError as exc:
                log.info("Slack rate-limited message updates; %d left dirty for later: %s", len(self.repeats), exc)
                break
            except SlackError as exc:
                log.warning("update of message for %s failed (left for housekeeping): %s", fp, exc)
                continue
            done = _now()
            for at in self.repeat_times.get(fp, []):
                self.rt.measure(GROUPED_UPDATE_METRIC, latency_ms(at, done))
        self.repeats.clear()
        self.repeat_times.clear()
        self.last_updates.clear()

    def _stormy(self, channel: str) -> bool:
        """Is ``channel`` in a storm (more than the threshold of new posts this minute or the
        one before)? Read once per batch per channel."""
        if channel not in self.stormy_now:
            store, threshold = self.rt.store, self.rt.config.storm.threshold_per_minute
            self.stormy_now[channel] = (
                store.channel_posts_this_minute(channel) > threshold
                or store.channel_posts_last_minute(channel) > threshold
            )
        return self.stormy_now[channel]


def handle_event(raw: Any, rt: Runtime, batch: NotifyBatch | None = None, record_id: str = "") -> str:
    """One event through the notify side. Returns what happened (for logs, metrics and tests).

    Raises SlackError / RetryLaterError when the event must be retried by SQS; in that case
    nothing about it is remembered, so the retry posts it.
    """
    own = batch is None
    batch = batch or NotifyBatch(rt)
    # The event id needs no tags: claim it before any tag lookup, so a duplicate costs none.
    pre = batch.parsed.pop(record_id) if record_id in batch.parsed else None
    bare, wants_tags = pre or _parse_without_tags(raw, rt)
    cfg = rt.config
    # The batch's claim (preclaim), once: a second record with the same id claims on its own.
    claim = batch.claims.pop(bare.id, None) or rt.store.claim_event(
        bare.id, cfg.dedup.event_id_ttl_hours, claim_lease_s(rt)
    )
    if claim == EventClaim.SEEN:
        rt.count("duplicates_suppressed")
        batch.tally.settled(bare.id, "duplicate")
        return "duplicate"
    if claim == EventClaim.IN_FLIGHT:
        raise RetryLaterError(f"event {bare.id} is being delivered by another invocation; looking again later")
    alert = parse_event(raw, batch.parse_context()) if wants_tags else bare
    if alert.id != bare.id:  # never expected (the id is the envelope's); the claim's id rules
        alert = alert.model_copy(update={"id": bare.id})
    if alert.parse_error:
        rt.count("unparsed")
        log.warning("event %s parsed as generic: %s", alert.id, alert.parse_error, extra={"record_id": record_id})
    note_unconfigured_account(alert, rt)
    try:
        outcome = _deliver(alert, raw, rt, batch, record_id)
    except Exception:
        rt.store.release_event(alert.id)
        raise
    batch.tally.settled(alert.id, outcome)
    written = alert.id in batch.completed  # completed and indexed with its post's bookkeeping
    if outcome != "grouped" and not written:  # a repeat's claim is completed when the batch counts it
        # Delivered: a failure to say so must not make SQS retry the record (a repeat would be
        # counted); the claim then ends with its lease, and a late duplicate only counts as a repeat.
        _after_post(rt, alert, record_id, lambda: rt.store.complete_event(alert.id))
    if not written:
        index_open(rt, alert, outcome)  # "what changed?": index it as open
    queue_context(rt, alert, outcome)  # … and queue its context job
    rt.count(outcome)
    _publish(alert, raw, rt)
    if own and batch.flush():
        raise RetryLaterError(f"event {alert.id}: its batch could not be flushed; retrying")
    return outcome


def _parse_without_tags(raw: Any, rt: Runtime) -> tuple[Alert, bool]:
    """``raw`` parsed with no tag lookup (no AWS call), and whether its parser asked for tags.

    Its id is the event's (the envelope's, or the one ``bot.sources.shapes`` derives from the
    content): what the duplicate check needs. When the parser asked for no tags, the alert is
    already the full one; otherwise the event is parsed again with the tag cache."""
    asked: list[bool] = []

    def no_tags(_rtype: str, _rid: str, _account: str, _region: str) -> dict[str, str]:
        asked.append(True)
        return {}

    alert = parse_event(raw, ParseContext(lookup_tags=no_tags, account_alias=rt.config.alias))
    return alert, bool(asked)


# A claim outlives the invocation that made it by this much; then it counts as abandoned.
CLAIM_MARGIN_S = 5.0


def _window_s(rt: Runtime) -> int:
    return rt.config.dedup.window_minutes * 60


def claim_lease_s(rt: Runtime) -> float:
    """How long this invocation's claims hold: its time left (Lambda's deadline) plus a margin.

    A claim still held after that belongs to an invocation that was killed between claiming
    and posting; the redelivery (or housekeeping) takes it over, so the alert is not lost."""
    return rt.seconds_left() + CLAIM_MARGIN_S


def _deliver(alert: Alert, raw: Any, rt: Runtime, batch: NotifyBatch, record_id: str) -> str:
    route, trace = route_traced(alert, rt.config)
    batch.tally.seen(alert, route.rule)
    decided = Decisions.of(route, trace)
    event_at = event_time(raw)
    if route.drop:
        log.info("alert %s dropped: %s", alert.id, route.drop_reason)
        return "dropped"
    store = rt.store
    alias = rt.config.alias(alert.account)
    if alias and not alert.account_alias:
        alert = alert.model_copy(update={"account_alias": alias})
    corr = correlate(alert, rt.config.correlation)
    if corr.merged or corr.threaded:
        decided = decided.model_copy(update={"correlation": corr.describe()})
    if corr.merged:  # one problem: its alerts share one fingerprint, the first message counts them
        alert = alert.model_copy(update={"fingerprint": corr.merged.key})
    known = batch.has_message.get(alert.fingerprint)
    if known is None and (pre := batch.prefetched.get(alert.fingerprint)) is not None:
        known = batch.has_message[alert.fingerprint] = pre.channel  # read with the batch's others
    if known is not None:  # this batch already met the problem's message: no lookup
        batch.decided[alert.id] = decided
        return _repeat(alert, known, batch, record_id, event_at)
    thread_key = _thread_key(alert, corr)
    existing, snoozed, thread = batch.look_up(_lookup_request(alert.fingerprint, route, thread_key))
    if existing is not None:
        batch.has_message[alert.fingerprint] = existing.channel
        batch.decided[alert.id] = decided
        return _repeat(alert, existing.channel, batch, record_id, event_at)
    # bot.maintenance: a new problem in a window's scope is held, not posted. A problem whose
    # message exists was counted into it above — its resolution (an alarm back to OK) included.
    held = maintenance_hold(alert, route, rt, batch.maintenance, decided)
    if held is not None:
        return held
    window_s = corr.merged.window_s if corr.merged else _window_s(rt)
    claim = _Claim(alert.fingerprint, route.channel, alert, window_s, claim_lease_s(rt))
    parent = thread if thread is not None and not hides_severity(alert, thread) else None
    try:
        if snoozed:
            claim.take(rt, batch)
            store.put_alert(alert, channel=route.channel, decisions=_snoozed(rt, alert, route, decided))
            store.mark_message_snoozed(alert.fingerprint)
            return "snoozed"
        picked = decided.decided("", _not_threaded(alert, thread)) if thread is not None and parent is None else decided
        thread_ttl_s = corr.threaded.window_s if corr.threaded else _window_s(rt)
        return _post_new(
            alert, route, rt, batch, record_id, parent, event_at, picked, (thread_key, thread_ttl_s), claim
        )
    except _ClaimLost:  # another invocation claimed it a moment ago: it posts, this is a repeat
        batch.decided[alert.id] = decided
        return _repeat(alert, route.channel, batch, record_id, event_at)
    except Exception:
        if claim.held:  # nothing reached Slack: forget the claim so the SQS retry posts the alert
            store.drop_message_claim(alert.fingerprint)
        raise


def _lookup_request(fingerprint: str, route: Route, thread_key: str | None) -> Lookup:
    """What ``Store.lookup_many`` reads for an event: its problem's message, the snoozes that
    cover it (problem, rule, channel), its thread in its channel."""
    targets = (fingerprint, f"rule:{route.rule}", f"channel:{route.channel}")
    return Lookup(fingerprint, targets, route.channel, thread_key)


def _thread_key(alert: Alert, corr: Correlation) -> str | None:
    """Whose thread a new alert joins: its correlation group's (a ``thread`` rule), else its
    primary resource's."""
    if corr.threaded:
        return corr.threaded.thread_key
    res = alert.primary_resource
    return res.key if res else None


def repair_abandoned(rt: Runtime) -> int:
    """Housekeeping: post the first alerts whose notify invocation died between claiming and
    posting (timeout, OOM, crash), through the normal path. Returns how many were repaired.

    Usually SQS's redelivery gets there first (it takes over the expired claim). An alert that
    was not stored yet (the invocation died before ``put_alert``) has nothing to post from: its
    claim is dropped, so the redelivery, or the problem's next event, posts it.
    """
    repaired = 0
    batch = NotifyBatch(rt)
    for rec in rt.store.abandoned_claims():
        try:
            stored = rt.store.get_alert(rec.owner_id)
        except NotFoundError:
            rt.store.drop_abandoned_claim(rec)
            log.warning("claim for %s abandoned before its alert was stored; dropped", rec.fingerprint)
            continue
        try:
            outcome = _deliver(stored.alert, None, rt, batch, f"repair:{rec.owner_id}")
        except Exception:
            # _deliver dropped its claim; claim it again as abandoned so the next run retries
            rt.store.claim_message(rec.fingerprint, rec.channel, stored.alert, _window_s(rt), lease_s=0)
            raise
        if outcome == "held":  # a maintenance window holds it now: the claim has nothing to post
            rt.store.drop_abandoned_claim(rec)
        rt.store.complete_event(stored.alert.id)
        log.warning("alert %s was claimed by a notify invocation that died; repaired: %s", rec.owner_id, outcome)
        rt.count("abandoned_repaired")
        repaired += 1
    for record_id in batch.flush():
        log.error("repairing %s failed; housekeeping tries again", record_id)
    return repaired


def _repeat(alert: Alert, channel: str, batch: NotifyBatch, record_id: str, event_at: datetime | None) -> str:
    """A repeat of a problem whose message exists: counted into it when the batch flushes."""
    batch.defer_repeat(alert, channel, record_id, event_at)
    return "grouped"


def _post_new(
    alert: Alert,
    route: Route,
    rt: Runtime,
    batch: NotifyBatch,
    record_id: str,
    parent: ResourceThread | None,
    event_at: datetime | None,
    decided: Decisions,
    thread: tuple[str | None, int],
    claim: _Claim,
) -> str:
    """Long because it is the one place a first alert becomes a thread reply, a storm line or
    its own message, each with its decisions recorded (``bot.decisions``) where it is stored.
    ``thread`` (key, TTL): the thread a posted message becomes (its resource's, or its
    correlation group's); a reply in ``parent``'s thread is counted on that message. ``claim``
    is taken with the first write: the alert and its proposals, for a message of its own."""
    store = rt.store
    channel = route.channel
    thread_key, thread_ttl_s = thread
    if parent is not None:
        claim.take(rt, batch)
        whose = "its correlation group" if (thread_key or "").startswith("corr:") else "its resource"
        why = f"{whose} already has a message in {channel} (ts {parent.ts}): replied in its thread"
        store.put_alert(alert, channel=channel, decisions=decided.decided("threaded", why))
        rt.slack.post_reply(channel, parent.ts, render_thread_reply(alert))
        batch.delivered(event_at)

        def threaded() -> None:
            store.mark_message_threaded(alert.fingerprint)
            if parent.fingerprint and store.add_related(parent.fingerprint):
                batch.repeats[parent.fingerprint] = channel  # its count is shown at flush

        _after_post(rt, alert, record_id, threaded)
        return "threaded"

    if _in_storm(rt, batch, channel):
        bucket = int(_now() // STORM_BUCKET_S)
        threshold = rt.config.storm.threshold_per_minute
        burst = batch.burst.get(channel, 0)
        why = (
            f"storm: this batch brought {burst} new problems to {channel} at once (more than {threshold} a minute)"
            if burst > threshold and rt.config.storm.burst_to_summary
            else f"storm: more than {threshold} new posts a minute in {channel}"
        ) + "; listed in the storm summary's thread"
        claim.take(rt, batch, counted=True)
        store.put_alert(alert, channel=channel, decisions=decided.decided("storm", why))
        batch.storms.setdefault((channel, bucket), []).append(_StormItem(alert, record_id, event_at))
        store.mark_message_storm(alert.fingerprint)
        return "storm"

    offers, alert, refusals = _offers_and_note(alert, route, rt)
    decided = decided.decided("posted", decided.reason).with_offers([o.name for o in offers], refusals)
    proposals = new_proposals(alert, offers, channel, rt)
    payload = render_alert(
        alert,
        channel=channel,
        mentions=route.mentions,
        buttons=alert_buttons(alert.id, proposals),
        link_hosts=rt.config.link_hosts,
    )
    # Stored before posting, so a button can never point at a proposal that was not saved:
    # the claim, the alert and its proposals in one TransactWriteItems.
    claim.take(rt, batch, counted=True, proposals=proposals, decisions=decided)
    channel_id, ts = rt.slack.post(payload)
    batch.delivered(event_at)

    def remember() -> None:
        # What the post changed, in one TransactWriteItems (bot.store.together), the event's
        # completion and the open-alert index included (handle_event then skips them).
        with store.writes_together() as group:
            store.mark_message_posted(alert.fingerprint, ts, channel_id)
            store.set_alert_message(alert.id, channel_id, ts)
            if thread_key:
                store.set_resource_thread(channel, thread_key, ts, thread_ttl_s or _window_s(rt), alert)
                batch.threads[(channel, thread_key)] = ResourceThread(
                    ts, alert.severity, alert.active, alert.fingerprint
                )
            for i, p in enumerate(proposals):
                proposals[i] = store.save_proposal(
                    p.model_copy(update={"message_ts": ts, "channel": channel_id}), ProposalState.PROPOSED, p.version
                )
            escalation.schedule(rt, alert, route, channel_id, ts)  # never raises
            store.complete_event(alert.id)
            index_open(rt, alert, "posted")  # never raises
            batch.completed.add(alert.id)
        if group.conflicts:  # someone clicked a proposal already (or wrote first): keep their state
            for i, p in enumerate(proposals):
                try:
                    proposals[i] = store.get_proposal(p.id)
                except NotFoundError:
                    continue

    if not _after_post(rt, alert, record_id, remember):
        return "posted"
    if route.mode == Mode.AUTO and proposals:
        _auto(rt, proposals)
    _alarm_graph(rt, alert, channel_id, ts)
    return "posted"


def _not_threaded(alert: Alert, thread: ResourceThread) -> str:
    """Why an alert about a resource that has a message was posted on its own (``hides_severity``)."""
    if alert.severity.rank > thread.severity.rank:
        return f"not threaded under its resource's message: {alert.severity.value} is more severe than that message's {thread.severity.value}"
    return "not threaded under its resource's message: that message said the resource was fine"


def _snoozed(rt: Runtime, alert: Alert, route: Route, decided: Decisions) -> Decisions:
    """The decisions of a snoozed first alert: which snooze covered it (read on this rare path only)."""
    targets = [
        (alert.fingerprint, "this problem (fingerprint)"),
        (f"rule:{route.rule}", f"rule '{route.rule}'"),
        (f"channel:{route.channel}", f"channel {route.channel}"),
    ]
    for target, what in targets:
        until = rt.store.snoozed_until(target)
        if until is not None:
            when = datetime.fromtimestamp(until, UTC).strftime("%Y-%m-%d %H:%M UTC")
            return decided.decided("snoozed", f"not posted: {what} is snoozed until {when}")
    return decided.decided("snoozed", "not posted: a snooze covered it")


def _alarm_graph(rt: Runtime, alert: Alert, channel_id: str, ts: str) -> None:
    """Alarm graphs (bot.graphs): after the post, a CloudWatch alarm's graph becomes a worker
    job. Other alerts never import it; it never raises."""
    if rt.config.graphs.enabled and alert.source_kind == "cloudwatch":
        from bot.graphs import queue_graph  # alarm graphs only: off the other alerts' path

        try:
            queue_graph(rt, alert, channel_id, ts)
        except Exception as exc:  # noqa: BLE001 - posted already: a graph must never make SQS post it again
            log.warning("alert %s: alarm graph not queued: %s", alert.id, type(exc).__name__)


def hides_severity(alert: Alert, thread: ResourceThread) -> bool:
    """Would a reply under the resource's message hide ``alert``? Yes when it is more severe
    than that message, or a problem arriving after that message said the resource was fine (a
    HIGH deployment failure after "deployment completed — Resolved"): it is posted on its own,
    and becomes the resource's thread."""
    return alert.severity.rank > thread.severity.rank or (alert.active and not thread.active)


def _after_post(rt: Runtime, alert: Alert, record_id: str, remember: Any) -> bool:
    """Bookkeeping after Slack accepted a post. A failure here must not make SQS retry the
    record (that would post twice): it is logged with the record id and counted instead."""
    try:
        remember()
        return True
    except Exception as exc:  # noqa: BLE001 - the message is out; a retry would duplicate it
        log.error(
            "alert %s was posted but its bookkeeping failed (repeats may post again): %s: %s",
            alert.id,
            type(exc).__name__,
            exc,
            extra={"record_id": record_id},
        )
        rt.count("bookkeeping_failed")
        return False


def _auto(rt: Runtime, proposals: list[Proposal]) -> None:
    for p in proposals:
        try:
            from bot.approval.clicks import auto_execute  # auto mode only: off the cold path

            auto_execute(rt, p)
        except Exception as exc:  # noqa: BLE001 - the alert is posted; the failure is announced
            log.error("auto remediation %s on %s failed to start: %s", p.remediation, p.alert_id, exc)
            rt.count("auto_failed")


def _in_storm(rt: Runtime, batch: NotifyBatch, channel: str) -> bool:
    """Count one new post in ``channel``; True when it belongs in a storm summary instead: the
    channel passed ``storm.threshold_per_minute`` this minute, or did the minute before (a
    storm that outlives its first minute stays one summary, not another burst of full posts),
    or this batch alone brings it more new problems than that (a burst: its first alerts are
    not posted one by one — at Slack's 1 post/s that is most of a minute — before the summary)."""
    threshold = rt.config.storm.threshold_per_minute
    if batch.post_count(channel) > threshold:
        return True
    if rt.config.storm.burst_to_summary and batch.burst.get(channel, 0) > threshold:
        return True  # the batch alone brings more new problems than a minute's worth: a storm now
    if channel not in batch.stormy_last_minute:
        batch.stormy_last_minute[channel] = batch.posts_last_minute(channel) > threshold
    return batch.stormy_last_minute[channel]


def _flush_storm(rt: Runtime, channel: str, bucket: int, items: list[_StormItem]) -> int:
    """Count a batch's storm alerts into the summary (post it, or update it) and list them in
    its thread — unless the storm is snoozed: then they are counted and held, not listed.
    Returns how many messages it posted (the summary when new, and the thread's lists)."""
    store = rt.store
    sev_counts: dict[str, int] = {}
    for it in items:
        sev = it.alert.severity.value
        sev_counts[sev] = sev_counts.get(sev, 0) + 1
    snoozed = store.snoozed_until(storm_snooze_target(channel)) is not None
    tally = store.count_storm(channel, bucket, sev_counts, held=snoozed)
    posted = store.storm_message(channel, bucket)
    if posted is None:
        examples = [it.alert.title for it in items[:5]]
        channel_id, ts = rt.slack.post(storm_summary(rt, channel, bucket, tally, examples))
        store.set_storm_message(channel, bucket, channel_id, ts, examples)
        posts = 1
    else:
        posts = 0
        channel_id, ts = posted
        rt.slack.update_message(channel_id, ts, storm_summary(rt, channel, bucket, tally))
    if snoozed:
        rt.count("storm_held", len(items))
        return posts
    replies = 0
    sections = _chunks([_storm_line(it.alert) for it in items], rt.config.storm.alerts_per_reply)
    # Up to 4 sections per reply: each reply is one Slack post, and posts are what is rate limited.
    for i in range(0, len(sections), 4):
        group = sections[i : i + 4]
        parts = [render_outcome_reply(_more_alerts(len(chunk)), chunk) for chunk in group]
        payload = {"text": parts[0]["text"], "blocks": [b for p in parts for b in p["blocks"]]}
        rt.slack.post_reply(channel, ts, payload)
        replies += 1
    rt.count("storm_replies", replies)
    return posts + replies


# A reply is one section: keep it under Slack's 3000 characters after escaping.
_REPLY_BUDGET = 2400
_LINE_MAX = 160


def _chunks(lines: list[str], per: int) -> list[list[str]]:
    out: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if out[-1] and (len(out[-1]) >= max(1, per) or size + len(line) + 4 > _REPLY_BUDGET):
            out.append([])
            size = 0
        out[-1].append(line)
        size += len(line) + 4
    return [c for c in out if c]


def _more_alerts(n: int) -> str:
    return f"{n} more alert" + ("" if n == 1 else "s")


def _storm_line(alert: Alert) -> str:
    """``[HIGH] title — resource (account region)``; the resource only when the title does not
    already name it ("api-30 5xx rate high", not "api-30 5xx rate high — api-30")."""
    res = alert.primary_resource
    name = (res.name or res.id) if res else ""
    where = f" — {name}" if name and name not in alert.title else ""
    line = f"[{alert.severity.value}] {alert.title}{where} ({alert.account_alias or alert.account} {alert.region})"
    room = _LINE_MAX - len(alert.id) - 3
    return (line if len(line) <= room else line[: room - 1] + "…") + f" `{alert.id}`"


def _forget(rt: Runtime, alert: Alert) -> None:
    """Undo the claims for an alert whose delivery failed, so SQS's retry posts it."""
    rt.store.drop_message_claim(alert.fingerprint)
    rt.store.release_event(alert.id)


def _publish(alert: Alert, raw: Any, rt: Runtime) -> None:
    bus = rt.config.publish.bus_name or rt.settings.publish_bus
    bucket = rt.config.publish.archive_bucket or rt.settings.archive_bucket
    if bus:
        try:
            rt.sessions.client("events").put_events(
                Entries=[
                    {
                        "Source": "eventops",
                        "DetailType": "EventOps Alert",
                        "Detail": alert.model_dump_json(),
                        "EventBusName": bus,
                        "Resources": [r.arn for r in alert.resources if r.arn][:10],
                    }
                ]
            )
        except Exception as exc:  # noqa: BLE001 - publishing is a side channel
            log.warning("publishing alert %s to %s failed: %s", alert.id, bus, type(exc).__name__)
            rt.count("publish_failed")
    if bucket:
        day = alert.time.strftime("%Y/%m/%d")
        try:
            rt.sessions.client("s3").put_object(
                Bucket=bucket,
                Key=f"events/{day}/{alert.source_kind}/{alert.id}.json",
                Body=json.dumps(raw, default=str).encode(),
                ContentType="application/json",
            )
        except Exception as exc:  # noqa: BLE001 - archiving is a side channel
            log.warning("archiving event %s to %s failed: %s", alert.id, bucket, type(exc).__name__)
            rt.count("archive_failed")


def flush_dirty(rt: Runtime, limit: int = 100) -> int:
    """Housekeeping: update messages whose counters changed without a chat.update."""
    n = 0
    for rec in rt.store.dirty_messages(limit):
        if not rec.has_message:
            rt.store.mark_message_updated(rec.fingerprint, dirty=False)
            continue
        try:
            refresh_fingerprint_message(rt, rec.fingerprint)
            n += 1
        except SlackError as exc:
            log.warning("flushing message for %s failed: %s", rec.fingerprint, exc)
    return n


def post_heartbeat(rt: Runtime) -> str:
    """The daily heartbeat: alerts by severity and remediation outcomes over the last 24 hours."""
    since = datetime.now(UTC) - timedelta(hours=24)
    alerts = [a for a in rt.store.recent_alerts(limit=1000) if a.time >= since]
    by_sev: dict[str, int] = {}
    for a in alerts:
        by_sev[a.severity.value] = by_sev.get(a.severity.value, 0) + 1
    outcomes: dict[str, int] = {}
    for entry in rt.store.recent_audit(limit=500):
        if entry.at >= since:
            outcomes[entry.outcome] = outcomes.get(entry.outcome, 0) + 1
    lines = [
        "Alerts: " + (", ".join(f"{n} {s}" for s, n in sorted(by_sev.items())) if by_sev else "none"),
        "Outcomes: " + (", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())) if outcomes else "none"),
        "Kill switch: " + ("ON (notify-only)" if rt.kill_switch_on() else "off"),
        "Dead-letter queues: " + dlq_summary(dlq_depths(rt), rt.config.slash_command or "/ops"),
    ]
    payload = render_outcome_reply("EventOps heartbeat: alive, last 24 hours", lines)
    channel = rt.config.heartbeat_channel or rt.config.routing.default.channel
    return rt.slack.post_message({"channel": channel, **payload})
