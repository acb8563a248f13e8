"""The worker's side of alarm graphs: query CloudWatch, make the PNG, upload it to the thread.

``GetMetricWidgetImage`` first (the image CloudWatch itself draws); where that call fails
(not allowed, not supported: moto has no such API), ``GetMetricData`` drawn by
``bot.graphs.png``. A graph that cannot be made is one log line with the alert id, counted as
``graph_failed``: the job is not retried (the alert is posted; a graph later is no use).

Example::

    run_graph_job(rt, Job(kind=JobKind.GRAPH, actor=Actor.system(), alert_id="evt-1",
                          channel="C0OPS", thread_ts="1700000000.000100"))   # → "graph_posted"
"""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.approval.jobs import Job
from bot.aws import reads_with_own_credentials
from bot.graphs.png import line_chart
from bot.graphs.query import AlarmQuery, alarm_query
from bot.runtime import Runtime

log = logging.getLogger("eventops.graphs")

WIDTH, HEIGHT = 600, 300
# GetMetricData pages (each up to 100,800 datapoints): far more than a window needs.
MAX_PAGES = 5
_FILENAME_BAD = re.compile(r"[^A-Za-z0-9._-]+")


def run_graph_job(rt: Runtime, job: Job) -> str:
    """One ``graph`` job: ``graph_posted``, ``graph_skipped`` (nothing to draw) or
    ``graph_failed`` (logged once with the alert id). Never raises: a graph is never retried."""
    alert_id = job.alert_id or "(none)"
    if not (job.alert_id and job.channel and job.thread_ts):
        log.error("alert %s: alarm graph job lacks its alert id, channel or thread ts; dropped", alert_id)
        rt.count("graph_failed")
        return "graph_failed"
    try:
        return _post_graph(rt, job)
    except Exception as exc:  # noqa: BLE001 - a failed graph must never touch the alert
        log.error("alert %s: alarm graph failed: %s: %s", alert_id, type(exc).__name__, exc)
        rt.count("graph_failed")
        return "graph_failed"


def _post_graph(rt: Runtime, job: Job) -> str:
    alert = rt.store.get_alert(job.alert_id).alert
    query = alarm_query(alert, rt.config.graphs.window_minutes)
    if isinstance(query, str):
        log.info("alert %s: no alarm graph: %s", alert.id, query)
        rt.count("graph_skipped")
        return "graph_skipped"
    where = None if reads_with_own_credentials(rt.config.accounts, alert.account) else alert.account
    # The worker's own credentials, or the member role (it trusts the worker; the read role does not).
    cloudwatch = rt.sessions.client("cloudwatch", region=alert.region or None, account=where)
    image = widget_image(cloudwatch, query, alert.id)
    source = "GetMetricWidgetImage"
    if image is None:
        image = metric_data_png(cloudwatch, query)
        source = "GetMetricData"
    stamp = query.breach_at.strftime("%Y%m%dT%H%MZ")
    filename = _FILENAME_BAD.sub("-", f"{query.alarm_name or 'alarm'}-{stamp}")[:80] + ".png"
    rt.slack.upload_file(
        job.channel,
        job.thread_ts,
        filename=filename,
        content=image,
        title=f"{query.alarm_name}: {query.metric} around the breach",
        initial_comment=f"{query.describe()}, {query.start:%H:%M}–{query.end:%H:%M} UTC",
    )
    log.info("alert %s: alarm graph posted (%s, %d bytes)", alert.id, source, len(image))
    rt.count("graph_posted")
    return "graph_posted"


def widget_image(cloudwatch: Any, query: AlarmQuery, alert_id: str) -> bytes | None:
    """CloudWatch's own PNG of the metric, or None when the call fails (then GetMetricData)."""
    try:
        resp = cloudwatch.get_metric_widget_image(MetricWidget=query.widget(WIDTH, HEIGHT), OutputFormat="png")
    except Exception as exc:  # noqa: BLE001 - not allowed / not supported: draw it ourselves
        log.info("alert %s: GetMetricWidgetImage failed (%s); drawing from GetMetricData", alert_id, type(exc).__name__)
        return None
    data = resp.get("MetricWidgetImage")
    return bytes(data) if data else None


def metric_data_png(cloudwatch: Any, query: AlarmQuery) -> bytes:
    """GetMetricData over the window, drawn as a line chart with the threshold and the breach.
    Raises ValueError when the window has no datapoints (nothing to draw)."""
    points: list[tuple[float, float]] = []
    kwargs: dict[str, Any] = {
        "MetricDataQueries": query.metric_data_queries(),
        "StartTime": query.start,
        "EndTime": query.end,
        "ScanBy": "TimestampAscending",
    }
    for _ in range(MAX_PAGES):
        resp = cloudwatch.get_metric_data(**kwargs)
        for result in resp.get("MetricDataResults", []):
            for at, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                points.append((at.timestamp(), float(value)))
        token = resp.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    if not points:
        raise ValueError(f"no datapoints for {query.namespace}/{query.metric} in the window")
    return line_chart(
        points, threshold=query.threshold, breach_x=query.breach_at.timestamp(), width=WIDTH, height=HEIGHT
    )
