"""The audit trail: exactly one append-only record per terminal outcome (docs/reliability.md #15).

Each record says who (enterprise, team, user), what (remediation, params, account, region,
resource), before (pre-state) and after (result, verification), the correlation id and the
message. ``unique_key`` makes a record once-only: a retried click, a re-delivered job or two
concurrent workers writing the same outcome produce one record, not two.

Keys used by ``bot.approval`` (clicks, worker, sweeps):

=================================  ===================================================
``<proposal>:<STATE>``             a proposal's terminal state (SUCCEEDED, DENIED, …)
``denied:<proposal>:<click id>``   a refused click (the proposal itself stays open)
``ack:<alert>``                    the first Acknowledge of an alert
``snooze:<alert>:<click id>``      one Snooze click
``dismiss:<alert>``                the Dismiss of an alert
``<proposal>:UNDO_REFUSED:<job>``  an undo the worker refused (also ``UNDO_FAILED``)
``cmd:<command>:<OUTCOME>:<uuid>`` one ``/ops snooze`` / ``unsnooze`` (``bot.commands``)
``denied:cmd:<command>:<uuid>``    a refused ``/ops snooze`` / ``unsnooze`` / ``maintenance``
``maint:<window>:<OUTCOME>``       a maintenance window's start or end (``bot.maintenance``)
=================================  ===================================================

The permalink is resolved with ``chat.getPermalink`` where time allows (worker,
housekeeping); within Slack's 3-second ack a stable ``slack:<channel>/<ts>`` reference is
recorded instead, which ``/ops audit`` can turn into a link.

Example::

    record(rt, key=f"{p.id}:SUCCEEDED", action=p.remediation, outcome="SUCCEEDED", actor=actor,
           proposal=p, result="Stopped i-0abc", verification="verified", resolve_permalink=True)
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from bot.models import Actor, AuditEntry, Proposal, utcnow
from bot.runtime import Runtime

log = logging.getLogger("eventops.audit")


def message_ref(channel: str | None, ts: str | None) -> str | None:
    """``slack:C0ALERTS/1700000000.000100`` — a permalink stand-in that needs no API call."""
    return f"slack:{channel}/{ts}" if channel and ts else None


def _resource(proposal: Proposal | None) -> str | None:
    if proposal is None:
        return None
    for key in (
        "instance_id",
        "group_id",
        "bucket",
        "access_key_id",
        "trail_name",
        "key_id",
        "function_name",
        "service",
        "cluster",
        "auto_scaling_group_name",
        "finding_id",
    ):
        value = proposal.params.get(key)
        if value:
            return str(value)
    return next((str(v) for v in proposal.params.values() if isinstance(v, str)), None)


def record(
    rt: Runtime,
    *,
    key: str,
    action: str,
    outcome: str,
    actor: Actor,
    proposal: Proposal | None = None,
    alert_id: str | None = None,
    result: str | None = None,
    verification: str | None = None,
    pre_state: dict[str, Any] | None = None,
    correlation_id: str | None = None,
    channel: str | None = None,
    ts: str | None = None,
    resolve_permalink: bool = False,
    params: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> bool:
    """Write one audit record under ``key``; False when one already exists for it. ``at`` is
    when it happened (default now; a worker writing a click's record passes the click's time)."""
    channel = channel or (proposal.channel if proposal else None)
    ts = ts or (proposal.message_ts if proposal else None)
    permalink = None
    if resolve_permalink and channel and ts:
        try:
            permalink = rt.slack.permalink(channel, ts)
        except Exception as exc:  # noqa: BLE001 - the record matters more than the link
            log.warning("permalink for the audit record failed: %s", type(exc).__name__)
    entry = AuditEntry(
        id=uuid.uuid4().hex,
        at=at or utcnow(),
        proposal_id=proposal.id if proposal else None,
        alert_id=alert_id or (proposal.alert_id if proposal else None),
        action=action,
        outcome=outcome,
        actor=actor,
        remediation=proposal.remediation if proposal else None,
        params=params if params is not None else (dict(proposal.params) if proposal else {}),
        account=proposal.account if proposal else None,
        region=proposal.region if proposal else None,
        resource=_resource(proposal),
        pre_state=pre_state if pre_state is not None else (proposal.pre_state if proposal else None),
        result=result,
        verification=verification,
        correlation_id=correlation_id or (proposal.correlation_id if proposal else None),
        permalink=permalink or message_ref(channel, ts),
    )
    written = rt.store.append_audit(entry, unique_key=key)
    if written:
        rt.count(f"audit_{outcome.lower()}")
        log.info("audit %s %s by %s (%s)", action, outcome, actor.user_id, key)
    return written
