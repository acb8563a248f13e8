"""Lenient where they can be, strict where they act: a placeholder time, a missing id or an
empty bucket name keep the specific parser; a CloudWatch alarm's Lambda-action payload reads as
its alarm event; a file that is no EventBridge event says what it looks like; the generic
parser infers severity from the event's own fields and shows a readable detail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.models import Severity
from bot.pipeline import fitting_offers
from bot.slack.render import render_alert
from bot.sources import parse_event
from tests.sources.source_events import load

LAMBDA_ACTION = Path(__file__).parent.parent / "events" / "lambda-action"


@pytest.mark.parametrize("placeholder", ["{{time}}", "", "yesterday", None])
def test_a_placeholder_time_keeps_the_parser_and_says_the_time_is_the_receipt_time(placeholder) -> None:
    raw = load("cloudtrail-sg-ingress-open-ssh")
    raw["time"] = placeholder
    alert = parse_event(raw)
    assert alert.source_kind == "cloudtrail" and alert.parse_error is None
    assert alert.time_is_receipt
    assert {o.name for o in fitting_offers(alert)} == {"ec2.revoke-ingress"}
    text = json.dumps(render_alert(alert, channel="C1")["blocks"])
    assert "*Received*" in text and "time shown is when EventOps received it" in text
    assert not parse_event(load("cloudtrail-sg-ingress-open-ssh")).time_is_receipt


def test_a_missing_envelope_id_is_derived_from_the_content_so_a_redelivery_is_one_event() -> None:
    raw = load("guardduty-ec2-ssh-bruteforce")
    del raw["id"], raw["version"], raw["resources"]
    first, again = parse_event(raw), parse_event(json.loads(json.dumps(raw)))
    assert first.source_kind == "guardduty" and first.parse_error is None
    assert first.id == again.id and first.id.startswith("derived-")
    raw["detail"]["service"]["count"] = 9
    assert parse_event(raw).id != first.id


def test_an_empty_bucket_name_keeps_the_cloudtrail_parser_with_nothing_to_act_on() -> None:
    raw = load("cloudtrail-s3-putbucketacl-public")
    raw["detail"]["requestParameters"]["bucketName"] = ""
    alert = parse_event(raw)
    assert alert.source_kind == "cloudtrail" and alert.parse_error is None
    assert alert.severity is Severity.HIGH and "(name missing)" in alert.title
    assert alert.resources == [] and fitting_offers(alert) == []


def test_a_lambda_action_alarm_payload_reads_as_its_alarm_event() -> None:
    raw = json.loads((LAMBDA_ACTION / "cloudwatch-metric-alarm.json").read_text())
    alert = parse_event(raw)
    assert alert.source_kind == "cloudwatch" and alert.parse_error is None
    assert alert.title == "Alarm: lambda-demo-metric-alarm" and alert.severity is Severity.HIGH
    assert alert.account == "444455556666" and alert.region == "us-east-1"
    assert alert.resources[0].arn == raw["alarmArn"]
    assert alert.fields["State"] == "INSUFFICIENT_DATA → ALARM"
    assert parse_event(json.loads(json.dumps(raw))).id == alert.id  # the same state change, the same id
    assert not alert.time_is_receipt


def test_a_composite_alarm_with_suppressed_actions_is_quiet_and_offers_nothing() -> None:
    alert = parse_event(json.loads((LAMBDA_ACTION / "cloudwatch-composite-suppressed.json").read_text()))
    assert alert.source_kind == "cloudwatch" and alert.severity is Severity.LOW
    assert alert.summary.startswith("Actions suppressed by WaitPeriod — the alarm's own actions are held back.")
    assert alert.fields["Actions suppressor"] == "CompositeDemo.ActionsSuppressor (wait 120 s, extension 180 s)"
    assert alert.problems == ["cloudwatch-alarm:suppressed"] and fitting_offers(alert) == []
    unsuppressed = parse_event(load("cloudwatch-composite"))
    assert unsuppressed.severity is Severity.HIGH and "Actions suppressed" not in unsuppressed.fields


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (
            {"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": "{}"},
            "It looks like an SNS notification (Type, MessageId, TopicArn): send the event in its Message.",
        ),
        ({"Records": [{"body": "{}"}]}, "It looks like a batch of records"),
        ({"AlarmName": "x", "NewStateValue": "ALARM"}, "a CloudWatch alarm's SNS message"),
        ({"SchemaVersion": "2018-10-08", "ProductArn": "p", "AwsAccountId": "1"}, "a bare Security Hub finding"),
        ({"hello": "world"}, "Its keys are hello; an EventBridge event has id, source, detail-type, time and detail."),
        ([{"id": 1}, {"id": 2}], "It is a JSON list of 2 items"),
    ],
)
def test_a_file_that_is_not_an_eventbridge_event_says_what_it_looks_like(raw, says) -> None:
    alert = parse_event(raw)
    assert alert.source_kind == "generic"
    assert alert.parse_error and alert.parse_error.startswith("This is not an EventBridge event.")
    assert says in alert.parse_error


def _unknown(detail: dict) -> dict:
    raw = load("generic-cloudtrail-unhandled-source")
    raw["source"], raw["detail-type"], raw["detail"] = "acme.scanner", "Scan Result", detail
    return raw


@pytest.mark.parametrize(
    ("detail", "severity", "field"),
    [
        ({"severity": "HIGH"}, Severity.HIGH, "severity"),
        ({"severity": 9.1}, Severity.CRITICAL, "severity"),
        ({"finding": {"severity": {"label": "MEDIUM"}}}, Severity.MEDIUM, "finding.severity"),
        ({"risk-score": 82}, Severity.HIGH, "risk-score"),
        ({"finding-severity-counts": {"CRITICAL": 10, "HIGH": 1}}, Severity.CRITICAL, "finding-severity-counts"),
        ({"finding-severity-counts": {"CRITICAL": 0, "LOW": 3}}, Severity.LOW, "finding-severity-counts"),
        ({"status": "FAILED"}, Severity.MEDIUM, "status"),
        ({"job": {"state": "TIMED_OUT"}}, Severity.MEDIUM, "job.state"),
        ({"status": "SUCCEEDED"}, Severity.INFO, ""),
    ],
)
def test_the_generic_parser_infers_severity_from_the_events_own_fields(detail, severity, field) -> None:
    alert = parse_event(_unknown(detail))
    assert alert.source_kind == "generic" and alert.severity is severity
    if field:
        assert f"Severity from its `{field}` field." in alert.summary


def test_the_generic_parser_shows_a_readable_trimmed_detail() -> None:
    alert = parse_event(
        _unknown(
            {
                "backupVaultName": "Default",
                "retrying": False,
                "resourceType": "EBS",
                "tags": ["a", "b"],
                "job": {"state": "RUNNING", "percentDone": "40.0"},
                "deep": {"er": {"still": "hidden"}},
                "note": "x" * 500,
            }
        )
    )
    assert alert.fields["Backup vault name"] == "Default"
    assert alert.fields["Resource type"] == "EBS" and alert.fields["Tags"] == "a, b"
    assert alert.fields["Job › Percent done"] == "40.0"
    assert "Retrying" not in alert.fields and not any("." in k for k in alert.fields)
    assert len(alert.fields["Note"]) <= 200
