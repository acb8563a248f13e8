"""Alarm graphs end to end: a CloudWatch alarm event on the alerts queue → handlers/notify.py
posts the alert and queues a sealed ``graph`` job → handlers/worker.py draws the metric (moto
seeded with put_metric_data) and uploads it with files upload v2 into the alert's thread on
the loopback Slack fake.

moto has no GetMetricWidgetImage (the call fails), so under moto the worker always takes the
GetMetricData branch; the GetMetricWidgetImage branch is tested with botocore's Stubber on the
worker's own CloudWatch client (``test_the_widget_image_is_used_when_cloudwatch_draws_it``).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from moto import mock_aws

from bot.approval.jobs import Job, JobKind, enqueue
from bot.config import ContextConfig, Graphs
from bot.graphs.png import BREACH, LINE, THRESHOLD, line_chart, read_png
from bot.models import Actor
from tests.approval.world import ACCOUNT, World, make_config, slack_fake, world_in

EVENTS = Path(__file__).resolve().parents[1] / "events"
ALARM_REGION = "us-east-1"  # the sample events' region (the world's own is eu-west-1)
INSTANCE = "i-12345678901234567"
GRAPHS_ON = Graphs(enabled=True, window_minutes=60)


@pytest.fixture
def world(request) -> Iterator[World]:
    marker = request.node.get_closest_marker("config")
    # "what changed?" context jobs (bot.context, tested in tests/context) are off: the jobs queue
    # here holds what the graph path queues, and nothing else
    config = make_config(context=ContextConfig(enabled=False), **(marker.args[0] if marker else {"graphs": GRAPHS_ON}))
    with mock_aws(), slack_fake() as slack, world_in(slack, config) as w:
        yield w


def alarm_event(name: str = "cloudwatch-metric-alarm.json", breach: datetime | None = None) -> dict[str, Any]:
    """A sample event, made recent: a fresh id, the breach ``breach`` (default 5 minutes ago)."""
    ev = json.loads((EVENTS / name).read_text())
    at = breach or datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    ev["id"] = str(uuid.uuid4())
    ev["time"] = (at + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    state = ev["detail"]["state"]
    if "reasonData" in state:
        data = json.loads(state["reasonData"])
        data["startDate"] = at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        state["reasonData"] = json.dumps(data)
    state["timestamp"] = (at + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return ev


def seed_cpu(breach: datetime, values: list[float] | None = None) -> None:
    """CPUUtilization of the sample's instance every 5 minutes up to and past the breach."""
    cw = boto3.client("cloudwatch", region_name=ALARM_REGION)
    series = values or [12, 14, 11, 13, 18, 15, 22, 28, 35, 41, 44, 48, 99.5, 97, 95]
    start = breach - timedelta(minutes=5 * 12)
    cw.put_metric_data(
        Namespace="AWS/EC2",
        MetricData=[
            {
                "MetricName": "CPUUtilization",
                "Dimensions": [{"Name": "InstanceId", "Value": INSTANCE}],
                "Timestamp": start + timedelta(minutes=5 * i),
                "Value": float(v),
                "Unit": "Percent",
            }
            for i, v in enumerate(series)
        ],
    )


def deliver(world: World, *events: dict[str, Any]) -> None:
    for ev in events:
        world.sqs.send_message(QueueUrl=world.alerts_url, MessageBody=json.dumps(ev))
    for resp in world.deliver_alerts():
        assert resp == {"batchItemFailures": []}


def posted(world: World) -> Any:
    """The one top-level alert message (whichever channel routing chose)."""
    tops = [m for ch in world.slack.workspace.channels.values() for m in ch.top_level()]
    assert len(tops) == 1, [m.text for m in tops]
    return tops[0]


def thread(world: World, msg: Any) -> list[Any]:
    return world.slack.workspace.channel(msg.channel, create=False).replies(msg.ts)


def cloudwatch_calls(world: World) -> list[str]:
    return [name for svc, name, _ in world.sessions.calls if svc == "cloudwatch"]


def graph_lines(caplog: pytest.LogCaptureFixture, alert_id: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "eventops.graphs" and alert_id in r.getMessage()]


def test_an_alarm_in_alarm_gets_its_graph_in_the_alert_thread(world, caplog):
    caplog.set_level(logging.INFO, logger="eventops")
    breach = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    seed_cpu(breach)
    ev = alarm_event(breach=breach)
    deliver(world, ev)
    msg = posted(world)
    assert "ServerCpuTooHigh" in msg.text
    # the alert is out before any graph work: only the job is queued, nothing drawn yet
    jobs = world.queued_jobs()
    assert [(j["kind"], j["alert_id"], j["channel"], j["thread_ts"]) for j in jobs] == [
        ("graph", ev["id"], msg.channel, msg.ts)
    ]
    assert jobs[0]["signature"]  # sealed like every job
    assert cloudwatch_calls(world) == []
    assert world.slack.calls("files.getUploadURLExternal") == []

    world.drain()

    # moto has no GetMetricWidgetImage: the worker tried it, then drew GetMetricData itself
    assert cloudwatch_calls(world) == ["GetMetricWidgetImage", "GetMetricData"]
    query = next(p for svc, name, p in world.sessions.calls if name == "GetMetricData")
    stat = query["MetricDataQueries"][0]["MetricStat"]
    assert stat["Metric"] == {
        "Namespace": "AWS/EC2",
        "MetricName": "CPUUtilization",
        "Dimensions": [{"Name": "InstanceId", "Value": INSTANCE}],
    }
    assert (stat["Period"], stat["Stat"]) == (300, "Average")
    assert query["StartTime"] == breach - timedelta(minutes=60)

    methods = [r.method for r in world.slack.requests if r.method.startswith("files.") or r.method == "upload"]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    ticket = world.slack.calls("files.getUploadURLExternal")[0]
    complete = world.slack.calls("files.completeUploadExternal")[0]
    upload = world.slack.calls("upload")[0]
    assert upload.status == 200 and upload.params["bytes"] == int(ticket.params["length"])
    assert ticket.params["filename"].startswith("ServerCpuTooHigh-") and ticket.params["filename"].endswith(".png")
    assert (complete.params["channel_id"], complete.params["thread_ts"]) == (msg.channel, msg.ts)
    assert "CPUUtilization" in complete.params["initial_comment"]

    replies = thread(world, msg)
    shares = [r for r in replies if r.files]
    assert len(shares) == 1
    share = shares[0]
    assert share.thread_ts == msg.ts and "threshold 50" in share.text
    file = share.files[0]
    assert file["mimetype"] == "image/png" and file["title"].startswith("ServerCpuTooHigh")

    png = world.slack.workspace.files[file["id"]].content
    assert png is not None and png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, rows = read_png(png)
    assert (width, height) == (600, 300)
    assert int.from_bytes(png[16:20], "big") == 600 and int.from_bytes(png[20:24], "big") == 300

    def count(color: tuple[int, int, int]) -> int:
        return sum(1 for row in rows for x in range(0, len(row), 3) if tuple(row[x : x + 3]) == color)

    assert count(LINE) > 500  # the metric's line over 15 datapoints
    assert count(THRESHOLD) > 81  # the dashed threshold and the breach square (same red)
    assert count(BREACH) >= 81
    assert graph_lines(caplog, ev["id"]) == [
        # moto raises NotImplementedError; AWS would answer AccessDenied without the permission
        f"alert {ev['id']}: GetMetricWidgetImage failed (NotImplementedError); drawing from GetMetricData",
        f"alert {ev['id']}: alarm graph posted (GetMetricData, {len(png)} bytes)",
    ]
    assert world.rt.counts["graph_posted"] == 1


def test_the_widget_image_is_used_when_cloudwatch_draws_it(world):
    """moto cannot answer GetMetricWidgetImage: botocore's Stubber does, on the very client the
    worker uses (the sessions' cache), so the upload must carry CloudWatch's bytes unchanged."""
    breach = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    ev = alarm_event(breach=breach)
    deliver(world, ev)
    aws_png = line_chart([(0.0, 1.0), (1.0, 2.0)], width=120, height=60)  # stands for AWS's image
    cw = world.rt.sessions.client("cloudwatch", region=ALARM_REGION, account=ACCOUNT)
    with Stubber(cw) as stub:
        stub.add_response(
            "get_metric_widget_image", {"MetricWidgetImage": aws_png}, {"MetricWidget": ANY, "OutputFormat": "png"}
        )
        world.drain()
        stub.assert_no_pending_responses()
    assert cloudwatch_calls(world) == ["GetMetricWidgetImage"]  # no GetMetricData: not needed
    widget = json.loads(
        next(p for _, name, p in world.sessions.calls if name == "GetMetricWidgetImage")["MetricWidget"]
    )
    assert widget["metrics"] == [["AWS/EC2", "CPUUtilization", "InstanceId", INSTANCE]]
    assert (widget["stat"], widget["period"]) == ("Average", 300)
    assert widget["annotations"] == {"horizontal": [{"label": "threshold", "value": 50.0}]}
    assert widget["start"] == (breach - timedelta(minutes=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    file = next(r for r in thread(world, posted(world)) if r.files).files[0]
    assert world.slack.workspace.files[file["id"]].content == aws_png


def test_a_failing_get_metric_data_leaves_the_alert_and_logs_one_line(world, caplog):
    caplog.set_level(logging.INFO, logger="eventops")
    ev = alarm_event()
    deliver(world, ev)
    world.sessions.failures["GetMetricData"] = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "GetMetricData"
    )
    responses = world.drain()
    assert responses and all(r == {"batchItemFailures": []} for r in responses)  # not retried
    msg = posted(world)
    assert "ServerCpuTooHigh" in msg.text and not msg.edited
    assert thread(world, msg) == []
    assert world.slack.calls("files.getUploadURLExternal") == []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "eventops.graphs"]
    assert [r.getMessage() for r in errors] == [
        f"alert {ev['id']}: alarm graph failed: ClientError: An error occurred (AccessDenied) when calling "
        "the GetMetricData operation: not allowed"
    ]
    assert world.rt.counts["graph_failed"] == 1
    assert world.depth(world.queue_url) == 0 and world.depth(world.dlq_url) == 0


def test_no_datapoints_is_a_failed_graph_not_an_empty_image(world, caplog):
    caplog.set_level(logging.INFO, logger="eventops")
    ev = alarm_event()  # nothing seeded
    deliver(world, ev)
    world.drain()
    assert world.slack.calls("files.getUploadURLExternal") == []
    assert any("no datapoints" in line and "alarm graph failed" in line for line in graph_lines(caplog, ev["id"]))


def test_a_failing_upload_leaves_the_alert_and_logs_one_line(world, caplog):
    caplog.set_level(logging.INFO, logger="eventops")
    breach = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    seed_cpu(breach)
    ev = alarm_event(breach=breach)
    deliver(world, ev)
    world.slack.fail_next("upload", status=500)
    world.drain()
    msg = posted(world)
    assert thread(world, msg) == []
    assert [r.status for r in world.slack.calls("upload")] == [500]
    assert world.slack.calls("files.completeUploadExternal") == []
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name == "eventops.graphs"]
    assert len(errors) == 1 and errors[0].startswith(f"alert {ev['id']}: alarm graph failed: SlackError: files upload")
    assert world.slack.bot_token not in errors[0]


def test_a_refused_complete_upload_is_one_logged_failure(world, caplog):
    caplog.set_level(logging.INFO, logger="eventops")
    breach = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    seed_cpu(breach)
    ev = alarm_event(breach=breach)
    deliver(world, ev)
    world.slack.fail_next("files.completeUploadExternal", error="missing_scope")
    world.drain()
    assert thread(world, posted(world)) == []
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name == "eventops.graphs"]
    assert errors == [f"alert {ev['id']}: alarm graph failed: SlackError: files upload: missing_scope (HTTP 200)"]


@pytest.mark.parametrize(
    "sample", ["cloudwatch-metric-ok.json", "cloudwatch-metric-insufficient-data.json", "cloudwatch-composite.json"]
)
def test_other_states_and_kinds_make_no_job_and_no_cloudwatch_call(world, sample, caplog):
    caplog.set_level(logging.INFO, logger="eventops")
    ev = alarm_event(sample)
    deliver(world, ev)
    assert world.queued_jobs() == []
    world.drain()
    assert cloudwatch_calls(world) == []
    assert world.slack.calls("files.getUploadURLExternal") == []
    if sample == "cloudwatch-composite.json":  # in ALARM, but no single metric: said so
        assert graph_lines(caplog, ev["id"]) == [
            f"alert {ev['id']}: no alarm graph: a composite alarm: no single metric to graph"
        ]


def test_a_metric_math_alarm_gets_no_graph_and_says_why(world, caplog):
    caplog.set_level(logging.INFO, logger="eventops")
    ev = alarm_event("cloudwatch-metric-math.json")
    deliver(world, ev)
    assert world.queued_jobs() == []
    assert graph_lines(caplog, ev["id"]) == [
        f"alert {ev['id']}: no alarm graph: a metric math alarm: no single metric to graph"
    ]


def test_a_non_alarm_alert_makes_no_cloudwatch_call(world):
    guardduty = json.loads((EVENTS / "guardduty-ec2-ssh-bruteforce.json").read_text())
    guardduty["id"] = str(uuid.uuid4())
    generic = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Disk Full",
        "source": "acme.monitoring",
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": ALARM_REGION,
        "resources": [],
        "detail": {"host": "db-1"},
    }
    deliver(world, generic, guardduty)
    assert len([m for ch in world.slack.workspace.channels.values() for m in ch.top_level()]) == 2
    assert world.queued_jobs() == []
    world.drain()
    assert cloudwatch_calls(world) == []
    assert world.slack.calls("files.getUploadURLExternal") == []


@pytest.mark.config({})
def test_graphs_are_off_unless_enabled(world):
    deliver(world, alarm_event())
    posted(world)
    assert world.queued_jobs() == []


def test_a_graph_job_for_an_unknown_alert_is_dropped_with_a_log_line(world, caplog):
    caplog.set_level(logging.INFO, logger="eventops")
    enqueue(
        world.rt,
        Job(kind=JobKind.GRAPH, actor=Actor.system(), alert_id="no-such-alert", channel="C0X", thread_ts="1.2"),
    )
    enqueue(world.rt, Job(kind=JobKind.GRAPH, actor=Actor.system(), alert_id="", channel="C0X", thread_ts="1.2"))
    responses = world.drain()
    assert all(r == {"batchItemFailures": []} for r in responses)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name == "eventops.graphs"]
    assert len(errors) == 2
    assert errors[0].startswith("alert no-such-alert: alarm graph failed: NotFoundError")
    assert errors[1] == "alert (none): alarm graph job lacks its alert id, channel or thread ts; dropped"
    assert not [r for r in world.slack.requests if r.method.startswith("files.")]


def test_an_unsealed_graph_job_is_refused(world):
    job = Job(kind=JobKind.GRAPH, actor=Actor.system(), alert_id="x", channel="C0X", thread_ts="1.2")
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=job.body())  # not sealed
    world.drain()
    assert world.rt.counts["job_refused"] == 1
    assert cloudwatch_calls(world) == []


@pytest.mark.parametrize("odd", ["far-future breach", "period of a year"])
def test_an_odd_alarm_is_posted_once_with_no_graph(world, caplog, odd):
    """Outside input the graph cannot use (a breach in year 9999, a period CloudWatch refuses)
    never fails the delivery after the post — which would make SQS post the alert again."""
    ev = alarm_event()
    state = ev["detail"]["state"]
    data = json.loads(state["reasonData"])
    if odd == "far-future breach":
        data["startDate"] = "9999-12-31T23:59:59.000+0000"
    else:
        ev["detail"]["configuration"]["metrics"][0]["metricStat"]["period"] = 365 * 86400
    state["reasonData"] = json.dumps(data)
    deliver(world, ev)  # no batch item failures
    msg = posted(world)
    assert world.queued_jobs() == [], "no graph job"
    assert thread(world, msg) == [], "nothing posted again in its thread"
    assert any("no alarm graph" in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]
