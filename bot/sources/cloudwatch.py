"""CloudWatch alarm state changes: metric, metric math, anomaly detection and composite alarms."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import Field

from bot.models import Alert, Link, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

_SEVERITY = {"ALARM": Severity.HIGH, "INSUFFICIENT_DATA": Severity.LOW, "OK": Severity.INFO}


class AlarmState(Detail):
    value: str
    reason: str = ""
    timestamp: str | None = None
    # JSON text: threshold, startDate (the breaching datapoint's), statistic, period, recentDatapoints.
    reason_data: str | None = Field(None, alias="reasonData")
    # A composite alarm's actions held back: "WaitPeriod", "ExtensionPeriod" or "Alarm" ("None": not).
    actions_suppressed_by: str | None = Field(None, alias="actionsSuppressedBy")
    actions_suppressed_reason: str | None = Field(None, alias="actionsSuppressedReason")

    @property
    def suppressed(self) -> bool:
        return bool(self.actions_suppressed_by) and self.actions_suppressed_by != "None"


class MetricRef(Detail):
    namespace: str | None = None
    name: str | None = None
    dimensions: dict[str, Any] = Field(default_factory=dict)


class MetricStat(Detail):
    metric: MetricRef = Field(default_factory=MetricRef)
    period: int | None = None
    stat: str | None = None


class AlarmMetric(Detail):
    id: str = ""
    expression: str | None = None
    label: str | None = None
    metric_stat: MetricStat | None = Field(None, alias="metricStat")
    return_data: bool | None = Field(None, alias="returnData")


class AlarmConfiguration(Detail):
    description: str | None = None
    metrics: list[AlarmMetric] = []
    alarm_rule: str | None = Field(None, alias="alarmRule")
    actions_suppressor: str | None = Field(None, alias="actionsSuppressor")
    actions_suppressor_wait_period: int | None = Field(None, alias="actionsSuppressorWaitPeriod")
    actions_suppressor_extension_period: int | None = Field(None, alias="actionsSuppressorExtensionPeriod")


class AlarmDetail(Detail):
    alarm_name: str = Field(alias="alarmName")
    state: AlarmState
    previous_state: AlarmState | None = Field(None, alias="previousState")
    configuration: AlarmConfiguration = Field(default_factory=AlarmConfiguration)


def alarm_kind(conf: AlarmConfiguration) -> str:
    """``composite``, ``anomaly detection``, ``metric math`` or ``metric``."""
    if conf.alarm_rule:
        return "composite"
    expressions = [m.expression for m in conf.metrics if m.expression]
    if any(e.upper().startswith("ANOMALY_DETECTION_BAND") for e in expressions):
        return "anomaly detection"
    if expressions:
        return "metric math"
    return "metric"


def _suppressor_text(conf: AlarmConfiguration) -> str | None:
    """``CompositeDemo.ActionsSuppressor (wait 120 s, extension 180 s)``, when one is set."""
    if not conf.actions_suppressor:
        return None
    periods = [
        f"{label} {value} s"
        for label, value in (
            ("wait", conf.actions_suppressor_wait_period),
            ("extension", conf.actions_suppressor_extension_period),
        )
        if value is not None
    ]
    return conf.actions_suppressor + (f" ({', '.join(periods)})" if periods else "")


_FUNCTION_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def alarm_problems(conf: AlarmConfiguration, state: str) -> list[str]:
    """``cloudwatch-alarm:<namespace>/<metric>`` for each metric an alarm in ALARM watches
    (``cloudwatch-alarm:composite`` for a composite); other states are no problem to fix."""
    if state != "ALARM":
        return [f"cloudwatch-alarm:{state.lower()}"]
    keys = [
        f"cloudwatch-alarm:{m.metric_stat.metric.namespace}/{m.metric_stat.metric.name}"
        for m in conf.metrics
        if m.metric_stat and m.metric_stat.metric.name
    ]
    return keys or ["cloudwatch-alarm:composite" if conf.alarm_rule else "cloudwatch-alarm:expression"]


def _metric_text(conf: AlarmConfiguration) -> str | None:
    for m in conf.metrics:
        if m.metric_stat and m.metric_stat.metric.name:
            stat = m.metric_stat
            dims = ", ".join(f"{k}={v}" for k, v in stat.metric.dimensions.items())
            return f"{stat.metric.namespace} {stat.metric.name} ({stat.stat}, {stat.period}s)" + (
                f" [{dims}]" if dims else ""
            )
    return None


@parsers.register(("aws.cloudwatch", "CloudWatch Alarm State Change"))
class CloudWatchAlarmParser(Parser):
    """A CloudWatch alarm changed state. Example: ServerCpuTooHigh OK → ALARM gives a HIGH alert."""

    kind = "cloudwatch"
    doc = SourceDoc(
        label="CloudWatch alarm",
        severity="ALARM HIGH, INSUFFICIENT_DATA LOW, OK INFO",
        resolved="OK",
        fingerprint="account, region, alarm name",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        detail = AlarmDetail.model_validate(event.detail)
        name = detail.alarm_name
        state = detail.state.value.upper()
        severity = _SEVERITY.get(state, Severity.LOW)
        kind = alarm_kind(detail.configuration)
        resources, links = _resources(event, ctx, detail)
        previous = detail.previous_state.value if detail.previous_state else None
        expressions = [
            m.expression for m in detail.configuration.metrics if m.expression and m.return_data is not False
        ]
        fields = {
            "State": f"{previous} → {state}" if previous else state,
            "Alarm type": kind,
            "Metric": _metric_text(detail.configuration),
            "Expression": expressions[0] if expressions else None,
            "Alarm rule": detail.configuration.alarm_rule,
            "Description": detail.configuration.description,
            "Actions suppressor": _suppressor_text(detail.configuration),
        }
        summary = detail.state.reason
        problems = alarm_problems(detail.configuration, state)
        if state == "ALARM" and detail.state.suppressed:
            # The alarm's own actions are held back (its suppressor alarm is in ALARM, or the
            # wait/extension period runs): say so, quietly, and offer nothing to act on.
            severity = Severity.LOW
            why = (
                detail.state.actions_suppressed_reason or f"Actions suppressed by {detail.state.actions_suppressed_by}"
            )
            summary = f"{why} — the alarm's own actions are held back. {summary}".strip()
            fields["Actions suppressed"] = detail.state.actions_suppressed_by
            problems = ["cloudwatch-alarm:suppressed"]
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.account, event.region, name),
            title=_title(state, name),
            summary=summary,
            severity=severity,
            resources=resources,
            fields=fields,
            links=console.keep(*links, console.runbook_link(detail.configuration.description)),
            problems=problems,
            active=state != "OK",
            context={"cloudwatch_alarm": alarm_context(detail, kind, state)},
        )


def alarm_context(detail: AlarmDetail, kind: str, state: str) -> dict[str, Any]:
    """``context["cloudwatch_alarm"]``: what an alarm graph (bot.graphs) queries. The metric
    (namespace, name, dimensions, stat, period) only for a single-metric alarm; the threshold
    and breach time from the state's reasonData, when it has them."""
    out: dict[str, Any] = {"alarm_name": detail.alarm_name, "kind": kind, "state": state}
    stats = [m.metric_stat for m in detail.configuration.metrics if m.metric_stat and m.metric_stat.metric.name]
    if kind == "metric" and len(stats) == 1:
        stat = stats[0]
        out["metric"] = {
            "namespace": stat.metric.namespace,
            "name": stat.metric.name,
            "dimensions": {str(k): str(v) for k, v in stat.metric.dimensions.items()},
            "stat": stat.stat,
            "period": stat.period,
        }
    data = _reason_data(detail.state.reason_data)
    threshold = data.get("threshold")
    if isinstance(threshold, int | float) and not isinstance(threshold, bool):
        out["threshold"] = float(threshold)
    breach = data.get("startDate") or detail.state.timestamp
    if isinstance(breach, str):
        out["breach_at"] = breach
    return out


def _reason_data(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text) if text else {}
    except (TypeError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _resources(
    event: EventEnvelope, ctx: ParseContext, detail: AlarmDetail
) -> tuple[list[Resource], list[Link | None]]:
    """The alarm, and the instances and functions its metrics name (with their console links)."""
    name = detail.alarm_name
    alarm_arn = next((r for r in event.resources if (a := arns.parse_arn(r)) and a.service == "cloudwatch"), None)
    resources = [
        Resource(
            type="AwsCloudWatchAlarm",
            id=name,
            arn=alarm_arn or arns.build_arn("cloudwatch", event.region, event.account, f"alarm:{name}"),
            region=event.region,
            account=event.account,
        )
    ]
    links: list[Link | None] = [console.cloudwatch_alarm(event.region, name)]
    for iid in _instance_ids(detail):
        tags = ctx.tags_for("AwsEc2Instance", iid, event.account, event.region)
        arn = arns.build_arn("ec2", event.region, event.account, f"instance/{iid}")
        resources.append(
            Resource(
                type="AwsEc2Instance",
                id=iid,
                arn=arn,
                name=tags.get("Name"),
                region=event.region,
                account=event.account,
                tags=tags,
            )
        )
        links.append(console.ec2_instance(event.region, iid))
    for fn in _function_names(detail):
        arn = arns.build_arn("lambda", event.region, event.account, f"function:{fn}")
        resources.append(Resource(type="AwsLambdaFunction", id=fn, arn=arn, region=event.region, account=event.account))
    return resources, links


def _instance_ids(detail: AlarmDetail) -> list[str]:
    """The EC2 instances the alarm's metrics are about (their InstanceId dimension), once each."""
    out: list[str] = []
    for m in detail.configuration.metrics:
        dims = m.metric_stat.metric.dimensions if m.metric_stat else {}
        iid = dims.get("InstanceId")
        if isinstance(iid, str) and arns.INSTANCE_ID_RE.match(iid) and iid not in out:
            out.append(iid)
    return out


def _function_names(detail: AlarmDetail) -> list[str]:
    """The Lambda functions the alarm's metrics are about (their FunctionName dimension)."""
    out: list[str] = []
    for m in detail.configuration.metrics:
        dims = m.metric_stat.metric.dimensions if m.metric_stat else {}
        fn = dims.get("FunctionName")
        if isinstance(fn, str) and _FUNCTION_NAME_RE.match(fn) and fn not in out:
            out.append(fn)
    return out


def _title(state: str, name: str) -> str:
    if state == "OK":
        return f"Recovered: {name}"
    if state == "ALARM":
        return f"Alarm: {name}"
    return f"{state.replace('_', ' ').capitalize()}: {name}"
