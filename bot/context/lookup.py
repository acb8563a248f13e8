"""The two lookups of a context reply: CloudTrail writes on the resource, and the other open
alerts on the same resource, principal or access key (the ``OPEN#`` index in ``bot.store``).

Cost per alert, at most: one cache read; on a miss, one counter update and one CloudTrail
``LookupEvents`` (through the account's read role; one page of up to 50 events, newest first)
and one cache write; one Query per index key (the resource, the principal, the access key).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.aws import reads_with_own_credentials
from bot.context.model import Change, OpenAlert
from bot.errors import EventOpsError
from bot.models import Alert, Resource
from bot.runtime import Runtime

log = logging.getLogger("eventops.context")

# What the read role must allow (infra/member-account-role.yml) and the bot's own roles.
CONTEXT_PERMISSIONS: tuple[str, ...] = ("cloudtrail:LookupEvents",)
_PAGE = 50  # LookupEvents' largest page: read events on the resource are dropped from it
_INDEX_KEYS_MAX = 4
_RELATED_MAX = 5


class ContextLookupError(EventOpsError):
    """CloudTrail could not be asked (throttled, denied, unreachable)."""


def index_keys(alert: Alert) -> list[tuple[str, str]]:
    """(key, why) of what ties ``alert`` to others: its resources, its principal, its access key."""
    keys = [(f"res:{r.key}", "same resource") for r in alert.resources[:2]]
    who = alert.principal_id or alert.principal  # the id: CloudTrail and GuardDuty both give it
    if who:
        keys.append((f"principal:{who}", "same principal"))
    if alert.access_key_id:
        keys.append((f"key:{alert.access_key_id}", "same access key"))
    return keys[:_INDEX_KEYS_MAX]


def index_ref(alert: Alert) -> dict[str, Any]:
    """What ``OPEN#`` keeps of an alert: enough for one "Also open" line."""
    return {
        "fingerprint": alert.fingerprint,
        "source_kind": alert.source_kind,
        "title": alert.title[:200],
        "severity": alert.severity.value,
        "link": alert.links[0].url if alert.links else "",
    }


def related_open(rt: Runtime, alert: Alert) -> list[OpenAlert]:
    """Other open alerts sharing a resource, principal or access key with ``alert`` (not its own
    problem's), at most ``_RELATED_MAX``."""
    seen = {alert.id}
    fingerprints = {alert.fingerprint}
    out: list[OpenAlert] = []
    for key, why in index_keys(alert):
        for ref in rt.store.open_alerts(key, limit=10):
            other = OpenAlert.model_validate({**ref, "why": why})
            if other.alert_id in seen or other.fingerprint in fingerprints:
                continue
            seen.add(other.alert_id)
            fingerprints.add(other.fingerprint)
            out.append(other)
            if len(out) >= _RELATED_MAX:
                return out
    return out


def cloudtrail_client(rt: Runtime, alert: Alert) -> Any | None:
    """A CloudTrail client in the alert's account and region (the read role, or the bot's own
    credentials for its own account listed without a role); None when EventOps may not read there."""
    acct = rt.config.account(alert.account) if alert.account else None
    if acct is None or not alert.region:
        return None
    if reads_with_own_credentials(rt.config.accounts, alert.account):
        return rt.sessions.client("cloudtrail", region=alert.region, account=None)
    return rt.sessions.client("cloudtrail", region=alert.region, account=alert.account, read_only=True)


def lookup_changes(client: Any, res: Resource, region: str, hours: int, limit: int) -> list[Change]:
    """The newest ``limit`` write events on ``res`` in the last ``hours``: one LookupEvents call
    (CloudTrail takes one lookup attribute, so read events are filtered out here)."""
    now = datetime.now(UTC)
    try:
        resp = client.lookup_events(
            LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": res.id}],
            StartTime=now - timedelta(hours=hours),
            EndTime=now,
            MaxResults=_PAGE,
        )
    except Exception as exc:
        raise ContextLookupError(f"CloudTrail LookupEvents failed: {type(exc).__name__}: {exc}") from exc
    changes = [c for c in (_change(e, region) for e in resp.get("Events", []) or []) if c is not None]
    changes.sort(key=lambda c: c.time, reverse=True)
    return changes[:limit]


def _change(event: dict[str, Any], region: str) -> Change | None:
    """A write event as a ``Change``; None for a read (``readOnly``) or an unreadable event."""
    try:
        detail = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        detail = {}
    if not isinstance(detail, dict):
        detail = {}
    read_only = event.get("ReadOnly", detail.get("readOnly"))
    if read_only is True or str(read_only).lower() == "true":
        return None
    when = event.get("EventTime")
    if not isinstance(when, datetime) or not event.get("EventId") or not event.get("EventName"):
        return None
    found = detail.get("userIdentity")
    ui: dict[str, Any] = found if isinstance(found, dict) else {}
    principal = ui.get("arn") or event.get("Username") or ui.get("userName") or ui.get("invokedBy") or ""
    return Change(
        event_id=str(event["EventId"]),
        event_name=str(event["EventName"]),
        time=when if when.tzinfo else when.replace(tzinfo=UTC),
        principal=str(principal),
        region=str(detail.get("awsRegion") or region),
    )
