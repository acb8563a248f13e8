"""Context on every alert: "what changed?", as the alert's first thread reply.

The notify side never waits on CloudTrail. Once an alert is posted (``bot.pipeline`` outcome
``posted``), ``index_open`` indexes it as open (``OPEN#`` in ``bot.store``: by resource,
principal and access key) and queues a sealed ``context`` job (``bot.approval.jobs``); alerts
listed in a storm summary, threaded under their resource's message or grouped as repeats are
indexed (storm, threaded) or nothing (repeats), and never looked up. The worker
(``handlers/worker.py`` → ``run_context_job``) then:

1. reads the stored alert and its message (channel, ts);
2. looks up the resource's CloudTrail write events (``bot.context.lookup``): from the cache
   (``context.cache_minutes`` per resource), or, within ``lookups_per_minute_per_account``,
   one ``LookupEvents`` through the account's read role;
3. lists the other open alerts on the same resource, principal or access key;
4. posts one thread reply under the alert (once: a redelivered job posts nothing).

A failure never touches the alert: it is logged once with the alert id and counted
(``context_failed``, ``context_lookup_failed``); a failed lookup posts no reply at all.
"""

from __future__ import annotations

import json
import logging

from bot.approval.jobs import Job, JobKind, enqueue
from bot.context.lookup import (
    ContextLookupError,
    cloudtrail_client,
    index_keys,
    index_ref,
    lookup_changes,
    related_open,
)
from bot.context.model import Change, Context
from bot.errors import NotFoundError
from bot.models import Actor, Alert, Resource, resource_kind
from bot.runtime import Runtime
from bot.slack.context_reply import render_context_reply

log = logging.getLogger("eventops.context")

_INDEXED_OUTCOMES = ("posted", "threaded", "storm")


def index_open(rt: Runtime, alert: Alert, outcome: str) -> None:
    """Index ``alert`` as open under its resource, principal and access key (``OPEN#``), for
    the "also open" lines. Never raises."""
    if not rt.config.context.enabled or outcome not in _INDEXED_OUTCOMES or not alert.active:
        return
    try:
        keys = [k for k, _ in index_keys(alert)]
        if keys:
            rt.store.index_open_alert(keys, alert.id, index_ref(alert), rt.config.dedup.window_minutes * 60)
    except Exception as exc:  # noqa: BLE001 - context is extra: the alert is posted already
        log.warning("alert %s not indexed as open: %s: %s", alert.id, type(exc).__name__, exc)
        rt.count("context_failed")


def queue_context(rt: Runtime, alert: Alert, outcome: str) -> None:
    """Queue the context job of an alert that got its own message about a resource. Never raises."""
    if not rt.config.context.enabled or outcome != "posted" or not alert.active:
        return
    if alert.primary_resource is None or not rt.settings.jobs_queue_url:
        return
    try:
        enqueue(rt, Job(kind=JobKind.CONTEXT, alert_id=alert.id, actor=Actor.system(), correlation_id=alert.id))
    except Exception as exc:  # noqa: BLE001 - context is extra: the alert is posted already
        log.warning("context for alert %s not queued: %s: %s", alert.id, type(exc).__name__, exc)
        rt.count("context_failed")


def run_context_job(rt: Runtime, job: Job) -> str:
    """Worker: the context reply of ``job.alert_id``. Returns the outcome (never raises for a
    lookup failure: a retry would only ask CloudTrail again)."""
    try:
        stored = rt.store.get_alert(job.alert_id)
    except NotFoundError:
        log.warning("context job for alert %s: the alert is not stored (expired?); dropped", job.alert_id)
        return "context_no_alert"
    alert, res = stored.alert, stored.alert.primary_resource
    if not stored.channel or not stored.ts or res is None:
        log.warning("context job for alert %s: no message or resource to reply to; dropped", job.alert_id)
        return "context_no_message"
    try:
        ctx = build_context(rt, alert, res)
    except ContextLookupError as exc:
        log.warning("context for alert %s: %s", alert.id, exc)
        rt.count("context_lookup_failed")
        return "context_failed"
    if ctx.changes is None and not ctx.also_open:
        return "context_empty"
    if not rt.store.claim_context_reply(alert.id):
        return "context_already_posted"
    try:
        rt.slack.post_reply(stored.channel, stored.ts, render_context_reply(ctx))
    except Exception:
        rt.store.release_context_reply(alert.id)
        raise
    rt.count("context_replies")
    return "context_posted"


def build_context(rt: Runtime, alert: Alert, res: Resource) -> Context:
    """What the reply says; raises ``ContextLookupError`` when CloudTrail failed."""
    cfg = rt.config.context
    kind = resource_kind(res.type)
    label = f"{kind} {res.name or res.id}".strip()
    changes, note = resource_changes(rt, alert, res)
    return Context(
        resource_label=label,
        window_hours=cfg.window_hours,
        changes=changes,
        also_open=related_open(rt, alert),
        note=note,
    )


def resource_changes(rt: Runtime, alert: Alert, res: Resource) -> tuple[list[Change] | None, str]:
    """The resource's recent writes (cached per resource), or None and why none were looked up."""
    cfg = rt.config.context
    cached = rt.store.context_changes(alert.account, alert.region, res.key) if cfg.cache_minutes else None
    if cached is not None:
        rt.count("context_cache_hits")
        return [Change.model_validate(c) for c in json.loads(cached)], ""
    client = cloudtrail_client(rt, alert)
    if client is None:
        return None, ""
    if rt.store.count_context_lookup(alert.account) > cfg.lookups_per_minute_per_account:
        rt.count("context_rate_limited")
        return None, "not looked up (CloudTrail lookups for this account are at their limit this minute)"
    changes = lookup_changes(client, res, alert.region, cfg.window_hours, cfg.max_events)
    rt.count("context_lookups")
    if cfg.cache_minutes:
        try:
            blob = json.dumps([c.model_dump(mode="json") for c in changes])
            rt.store.set_context_changes(alert.account, alert.region, res.key, blob, cfg.cache_minutes * 60)
        except Exception as exc:  # noqa: BLE001 - the cache only saves a lookup
            log.warning("context cache for alert %s not written: %s", alert.id, type(exc).__name__)
    return changes, ""
