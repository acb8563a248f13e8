"""What an alarm graph asks CloudWatch for, read from ``Alert.context["cloudwatch_alarm"]``.

Example::

    q = alarm_query(alert)            # AlarmQuery, or a str saying why there is no graph
    q.metric_data_queries()           # for GetMetricData
    q.widget()                        # MetricWidget JSON for GetMetricWidgetImage
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.models import Alert

# Datapoints drawn after the breach (a few periods), so the breach is not the last pixel.
PERIODS_AFTER = 3


@dataclass(frozen=True)
class AlarmQuery:
    alarm_name: str
    namespace: str
    metric: str
    dimensions: dict[str, str]
    stat: str
    period: int
    threshold: float | None
    breach_at: datetime
    start: datetime
    end: datetime

    def metric_data_queries(self) -> list[dict[str, Any]]:
        return [
            {
                "Id": "m1",
                "MetricStat": {
                    "Metric": {
                        "Namespace": self.namespace,
                        "MetricName": self.metric,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions.items()],
                    },
                    "Period": self.period,
                    "Stat": self.stat,
                },
                "ReturnData": True,
            }
        ]

    def widget(self, width: int = 600, height: int = 300) -> str:
        """The MetricWidget JSON of the metric, its threshold and the window (AWS's own look)."""
        series: list[Any] = [self.namespace, self.metric]
        for k, v in self.dimensions.items():
            series += [k, v]
        widget: dict[str, Any] = {
            "metrics": [series],
            "stat": self.stat,
            "period": self.period,
            "start": self.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": self.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "title": self.alarm_name,
            "width": width,
            "height": height,
            "view": "timeSeries",
        }
        if self.threshold is not None:
            widget["annotations"] = {"horizontal": [{"label": "threshold", "value": self.threshold}]}
        return json.dumps(widget)

    def describe(self) -> str:
        """``AWS/EC2 CPUUtilization (Average, 300 s) InstanceId=i-0abc``: the upload's comment."""
        dims = " ".join(f"{k}={v}" for k, v in self.dimensions.items())
        text = f"{self.namespace} {self.metric} ({self.stat}, {self.period} s)" + (f" {dims}" if dims else "")
        return text + (f", threshold {self.threshold:g}" if self.threshold is not None else "")


def parse_time(text: str) -> datetime | None:
    """CloudWatch's ``2019-10-02T16:59:00.000+0000`` (or ISO 8601 with Z / +00:00) as UTC."""
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text.replace("Z", "+0000"), fmt).astimezone(UTC)
        except ValueError:
            continue
    return None


def alarm_query(alert: Alert, window_minutes: int = 60) -> AlarmQuery | str:
    """The query for ``alert``'s graph, or why it has none (not a metric alarm in ALARM, or
    the event lacks the metric): the reason is what the worker logs."""
    ctx = alert.context.get("cloudwatch_alarm")
    if alert.source_kind != "cloudwatch" or not isinstance(ctx, dict):
        return "not a CloudWatch alarm"
    if ctx.get("state") != "ALARM":
        return f"alarm state is {ctx.get('state')}, not ALARM"
    metric = ctx.get("metric")
    if not isinstance(metric, dict):
        return f"a {ctx.get('kind') or 'non-metric'} alarm: no single metric to graph"
    namespace, name, stat, period = (
        metric.get("namespace"),
        metric.get("name"),
        metric.get("stat"),
        metric.get("period"),
    )
    if not (isinstance(namespace, str) and isinstance(name, str) and isinstance(stat, str)):
        return "the alarm's metric has no namespace, name or stat"
    if not isinstance(period, int) or isinstance(period, bool) or period <= 0:
        return "the alarm's metric has no period"
    if period > MAX_PERIOD_S:
        return f"the alarm's period ({period} s) is longer than CloudWatch allows ({MAX_PERIOD_S} s)"
    dims = metric.get("dimensions") if isinstance(metric.get("dimensions"), dict) else {}
    breach = parse_time(str(ctx.get("breach_at") or "")) or alert.time.astimezone(UTC)
    if not _EARLIEST < breach < _LATEST:  # an event's time is outside input: a graph needs real dates
        return f"the breach time {breach.isoformat()} is out of range"
    threshold = ctx.get("threshold")
    return AlarmQuery(
        alarm_name=str(ctx.get("alarm_name") or ""),
        namespace=namespace,
        metric=name,
        dimensions={str(k): str(v) for k, v in (dims or {}).items()},
        stat=stat,
        period=period,
        threshold=float(threshold) if isinstance(threshold, int | float) and not isinstance(threshold, bool) else None,
        breach_at=breach,
        start=breach - timedelta(minutes=window_minutes),
        end=breach + timedelta(seconds=PERIODS_AFTER * period),
    )


MAX_PERIOD_S = 86_400  # CloudWatch periods are at most a day (GetMetricData)
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def wants_graph(alert: Alert) -> bool:
    """Cheap check on the notify side: a CloudWatch alarm alert in ALARM (no AWS call)."""
    ctx = alert.context.get("cloudwatch_alarm")
    return alert.source_kind == "cloudwatch" and isinstance(ctx, dict) and ctx.get("state") == "ALARM"
