"""Alarm graphs: a CloudWatch metric alarm that goes to ALARM gets an image of its metric,
around the breach, in its message's thread (as AWS Chatbot shows one).

Off the alert's path: ``queue_graph`` runs after Slack accepted the alert's post and only
enqueues a ``graph`` job (no AWS call but the SQS send); the worker draws and uploads it
(``bot.graphs.draw``: GetMetricWidgetImage, or GetMetricData drawn by ``bot.graphs.png``
where that call fails), then files.getUploadURLExternal → upload → files.completeUploadExternal
into the thread. Every failure is one log line with the alert id; none reaches the alert.

Config (``graphs:``)::

    graphs:
      enabled: true
      window_minutes: 60
"""

from __future__ import annotations

import logging

from bot.approval.jobs import Job, JobKind, enqueue
from bot.graphs.query import alarm_query, wants_graph
from bot.models import Actor, Alert
from bot.runtime import Runtime

log = logging.getLogger("eventops.graphs")


def queue_graph(rt: Runtime, alert: Alert, channel_id: str, ts: str) -> bool:
    """After ``alert`` was posted as ``ts`` in ``channel_id``: enqueue its graph job when it is
    a CloudWatch metric alarm in ALARM and graphs are on. Never raises; True when queued."""
    try:
        if not rt.config.graphs.enabled or not wants_graph(alert):
            return False
        query = alarm_query(alert, rt.config.graphs.window_minutes)
    except Exception as exc:  # noqa: BLE001 - the alert is posted: an odd event must not undo that
        log.warning("alert %s: no alarm graph: its alarm could not be read: %s", alert.id, type(exc).__name__)
        rt.count("graph_skipped")
        return False
    if isinstance(query, str):
        log.info("alert %s: no alarm graph: %s", alert.id, query)
        rt.count("graph_skipped")
        return False
    job = Job(
        kind=JobKind.GRAPH,
        actor=Actor.system(),
        alert_id=alert.id,
        channel=channel_id,
        thread_ts=ts,
        correlation_id=alert.id,
    )
    try:
        enqueue(rt, job)
    except Exception as exc:  # noqa: BLE001 - the alert is posted; its graph is a bonus
        log.warning("alert %s: alarm graph not queued: %s: %s", alert.id, type(exc).__name__, exc)
        rt.count("graph_failed")
        return False
    return True
