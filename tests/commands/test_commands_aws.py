"""Sub-commands that query AWS, against moto state (and botocore's Stubber where moto lacks the API)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from commands_support import ALICE, StubbedSessions, raw_client, texts

from bot.commands import dispatch
from bot.commands.findings import guardduty_severity
from bot.commands.instances import ec2_filters
from bot.errors import ConfigError
from bot.models import Actor, Severity

PROD, STAGE = "111111111111", "222222222222"
TWO_ACCOUNTS = {
    "accounts": [
        {
            "id": PROD,
            "alias": "prod",
            "role_arn": f"arn:aws:iam::{PROD}:role/eventops",
            "regions": ["eu-west-1", "us-east-1"],
        },
        {"id": STAGE, "alias": "stage", "role_arn": f"arn:aws:iam::{STAGE}:role/eventops", "regions": ["eu-west-1"]},
    ]
}


def client_in(rt, service: str, account: str, region: str):
    """A moto client acting in ``account`` (moto maps assumed-role credentials to the role's account)."""
    return rt.sessions.client(service, region=region, account=account)


def alarm(cw, name: str, state: str = "ALARM", reason: str = "Threshold crossed") -> None:
    cw.put_metric_alarm(
        AlarmName=name,
        MetricName="CPUUtilization",
        Namespace="AWS/EC2",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=80,
        ComparisonOperator="GreaterThanThreshold",
    )
    cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)


# --- alarms ---------------------------------------------------------------------------------------


def test_alarms_across_accounts_and_regions(make_rt):
    rt = make_rt(TWO_ACCOUNTS)
    alarm(client_in(rt, "cloudwatch", PROD, "eu-west-1"), "prod-eu-cpu")
    alarm(client_in(rt, "cloudwatch", PROD, "us-east-1"), "prod-us-cpu")
    alarm(client_in(rt, "cloudwatch", PROD, "us-east-1"), "prod-us-fine", state="OK")
    alarm(client_in(rt, "cloudwatch", STAGE, "eu-west-1"), "stage-eu-5xx", reason="5xx > 1%")

    body = texts(dispatch("alarms", ALICE, "C0OPS", rt))
    assert "prod-eu-cpu* — prod/eu-west-1" in body
    assert "prod-us-cpu* — prod/us-east-1" in body
    assert "stage-eu-5xx* — stage/eu-west-1" in body
    assert "5xx &gt; 1%" in body  # AWS text escaped
    assert "prod-us-fine" not in body
    assert "(3/3 account-regions answered)" in body

    only = texts(dispatch("alarms stage", ALICE, "C0OPS", rt))
    assert "stage-eu-5xx" in only and "prod-" not in only
    narrow = texts(dispatch("alarms prod us-east-1", ALICE, "C0OPS", rt))
    assert "prod-us-cpu" in narrow and "prod-eu-cpu" not in narrow and "(1/1" in narrow


def test_alarms_none_and_unknown_scope(make_rt):
    rt = make_rt(TWO_ACCOUNTS)
    assert "No alarms in ALARM" in texts(dispatch("alarms", ALICE, "C0OPS", rt))
    body = texts(dispatch("alarms stage us-east-1", ALICE, "C0OPS", rt))
    assert "is not a configured account or region" in body and "Usage:" in body
    body = texts(dispatch("alarms prdo", ALICE, "C0OPS", rt))
    assert "Unexpected `prdo`" in body


def test_long_alarm_lists_are_cut_with_count_and_hint(rt):
    cw = raw_client("cloudwatch")
    for i in range(34):
        alarm(cw, f"alarm-{i:02d}")
    reply = dispatch("alarms --public", ALICE, "C0OPS", rt)
    body = texts(reply)
    assert "showing 20 of 34 — narrow with `/ops alarms <account> <region>`" in body
    assert body.count(":rotating_light:") == 20
    assert reply.public
    payload = reply.payload()
    assert len(payload["blocks"]) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in payload["blocks"])


def test_alarm_names_from_aws_are_escaped(rt):
    alarm(raw_client("cloudwatch"), "cpu <!channel> & @here", reason="<http://evil.example|click>")
    body = texts(dispatch("alarms", ALICE, "C0OPS", rt))
    assert "<!channel>" not in body and "&lt;!channel&gt; &amp;" in body
    assert "<http://evil" not in body
    assert "@here" not in body  # defused with a zero-width space


def test_one_failing_target_is_a_note_not_a_failure(make_rt):
    rt = make_rt(
        {
            "accounts": [
                {"id": PROD, "alias": "prod", "regions": ["eu-west-1"]},
                {
                    "id": STAGE,
                    "alias": "stage",
                    "role_arn": "arn:aws:iam::222222222222:role/missing",
                    "regions": ["eu-west-1"],
                },
            ]
        }
    )
    alarm(raw_client("cloudwatch", "eu-west-1"), "ours")

    real = rt.sessions

    def broken(region, account):
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform sts:AssumeRole"}}, "AssumeRole"
        )

    class Partly(StubbedSessions):
        def client(self, service, region=None, account=None, identity=None, read_only=False):
            if account == STAGE:
                broken(region, account)
            return real.client(service, region=region, account=account)

    rt.sessions = Partly(real, {})
    body = texts(dispatch("alarms", ALICE, "C0OPS", rt))
    assert "ours" in body
    assert "(1/2 account-regions answered)" in body
    assert "cloudwatch: AccessDenied: not authorized to perform sts:AssumeRole — stage/eu-west-1" in body


# --- instances ------------------------------------------------------------------------------------


def test_ec2_filters():
    assert ec2_filters(["team=payments", "web", "i-0abc", "Running", "env="]) == [
        {"Name": "tag:team", "Values": ["payments"]},
        {"Name": "tag:Name", "Values": ["*web*"]},
        {"Name": "instance-id", "Values": ["i-0abc"]},
        {"Name": "instance-state-name", "Values": ["running"]},
        {"Name": "tag:env", "Values": ["*"]},
    ]


def _launch(ec2, name: str, team: str, count: int = 1) -> list[str]:
    image = "ami-12c6146b"  # one of moto's built-in AMIs (describe_images is slow)
    resp = ec2.run_instances(
        ImageId=image,
        MinCount=count,
        MaxCount=count,
        InstanceType="t3.micro",
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}, {"Key": "team", "Value": team}]}
        ],
    )
    return [i["InstanceId"] for i in resp["Instances"]]


def test_instances_by_tag_name_and_state(make_rt):
    rt = make_rt(TWO_ACCOUNTS)
    prod_ec2 = client_in(rt, "ec2", PROD, "eu-west-1")
    web = _launch(prod_ec2, "web-1", "payments")
    _launch(prod_ec2, "db-1", "payments")
    stage_web = _launch(client_in(rt, "ec2", STAGE, "eu-west-1"), "web-stage", "search")
    prod_ec2.stop_instances(InstanceIds=web)

    body = texts(dispatch("instances team=payments", ALICE, "C0OPS", rt))
    assert "*web-1*" in body and "*db-1*" in body and "web-stage" not in body
    assert f"`{web[0]}` — stopped, t3.micro, eu-west-1" in body and ", prod" in body

    body = texts(dispatch("instances web", ALICE, "C0OPS", rt))
    assert "web-1" in body and "web-stage" in body and "db-1" not in body
    assert f"`{stage_web[0]}` — running" in body and ", stage" in body

    body = texts(dispatch("instances web running", ALICE, "C0OPS", rt))
    assert "web-stage" in body and "web-1" not in body

    assert "No instances match" in texts(dispatch("instances nothing-like-this", ALICE, "C0OPS", rt))


def test_instances_are_cut_when_many(rt):
    _launch(raw_client("ec2"), "fleet", "batch", count=45)
    body = texts(dispatch("instances fleet", ALICE, "C0OPS", rt))
    assert "showing 20 of 45 — narrow with" in body


# --- findings -------------------------------------------------------------------------------------


def test_guardduty_severity_labels():
    assert guardduty_severity(9.5) == Severity.CRITICAL
    assert guardduty_severity(8.0) == Severity.HIGH
    assert guardduty_severity(5.0) == Severity.MEDIUM
    assert guardduty_severity(2.0) == Severity.LOW
    assert guardduty_severity(0.5) == Severity.INFO


def _gd_finding(fid: str, severity: float, title: str) -> dict:
    return {
        "AccountId": "123456789012",
        "Arn": f"arn:aws:guardduty:us-east-1:123456789012:detector/d1/finding/{fid}",
        "CreatedAt": "2025-01-01T00:00:00Z",
        "Id": fid,
        "Region": "us-east-1",
        "Resource": {"ResourceType": "Instance"},
        "SchemaVersion": "2.0",
        "Severity": severity,
        "Title": title,
        "Type": "Recon:EC2/PortProbeUnprotectedPort",
        "UpdatedAt": "2025-01-02T00:00:00Z",
    }


def _stubbed_guardduty(finding_ids: list[str], findings: list[dict], min_floor: int):
    client = raw_client("guardduty")
    stub = Stubber(client)
    stub.add_response("list_detectors", {"DetectorIds": ["d1"]}, {})
    criteria = {"Criterion": {"service.archived": {"Eq": ["false"]}, "severity": {"GreaterThanOrEqual": min_floor}}}
    sort = {"AttributeName": "severity", "OrderBy": "DESC"}
    half = len(finding_ids) // 2
    stub.add_response(
        "list_findings",
        {"FindingIds": finding_ids[:half], "NextToken": "page2"},
        {"DetectorId": "d1", "FindingCriteria": criteria, "SortCriteria": sort},
    )
    stub.add_response(
        "list_findings",
        {"FindingIds": finding_ids[half:]},
        {"DetectorId": "d1", "FindingCriteria": criteria, "SortCriteria": sort, "NextToken": "page2"},
    )
    stub.add_response("get_findings", {"Findings": findings}, {"DetectorId": "d1", "FindingIds": finding_ids[:20]})
    stub.activate()
    return client, stub


def _securityhub_finding(fid: str, label: str, title: str, **extra) -> dict:
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": fid,
        "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/securityhub",
        "GeneratorId": "aws-foundational",
        "AwsAccountId": "123456789012",
        "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
        "CreatedAt": "2025-01-01T00:00:00Z",
        "UpdatedAt": "2025-01-03T00:00:00Z",
        "Severity": {"Label": label},
        "Title": title,
        "Description": "d",
        "Resources": [{"Type": "AwsS3Bucket", "Id": f"arn:aws:s3:::bucket-{fid}"}],
        "RecordState": "ACTIVE",
        "Workflow": {"Status": "NEW"},
    }
    finding.update(extra)
    return finding


def test_findings_from_guardduty_and_security_hub(rt):
    sh = raw_client("securityhub")
    sh.enable_security_hub()
    sh.batch_import_findings(
        Findings=[
            _securityhub_finding("sh-1", "CRITICAL", "S3 bucket <public> & open"),
            _securityhub_finding("sh-2", "LOW", "Minor thing"),
            _securityhub_finding("sh-3", "HIGH", "Resolved already", Workflow={"Status": "RESOLVED"}),
            _securityhub_finding("sh-4", "HIGH", "Archived", RecordState="ARCHIVED"),
            _securityhub_finding(
                "sh-5",
                "HIGH",
                "Copy of a GuardDuty finding",
                ProductArn="arn:aws:securityhub:us-east-1::product/aws/guardduty",
            ),
        ]
    )
    ids = [f"gd-{i}" for i in range(24)]
    details = [_gd_finding(ids[0], 8.0, "Port probe on i-0abc"), _gd_finding(ids[1], 5.0, "Medium thing")]
    gd, stub = _stubbed_guardduty(ids, details, min_floor=7)
    rt.sessions = StubbedSessions(rt.sessions, {"guardduty": lambda region, account: gd})

    body = texts(dispatch("findings high", ALICE, "C0OPS", rt))
    stub.assert_no_pending_responses()
    assert "Active findings at HIGH or above" in body
    assert "S3 bucket &lt;public&gt; &amp; open* — Security Hub" in body
    assert "Port probe on i-0abc* — GuardDuty" in body
    assert body.index("S3 bucket") < body.index("Port probe")  # CRITICAL first
    for hidden in ("Minor thing", "Resolved already", "Archived", "Copy of a GuardDuty finding"):
        assert hidden not in body
    # 24 GuardDuty ids (2 returned in detail here, 22 only counted) + 1 Security Hub
    assert "of 25 — narrow with `/ops findings <severity> <account> <region>`" in body


def test_findings_when_services_are_off(rt):
    gd = raw_client("guardduty")
    gd_stub = Stubber(gd)
    gd_stub.add_response("list_detectors", {"DetectorIds": []}, {})
    gd_stub.activate()
    sh = raw_client("securityhub")
    sh_stub = Stubber(sh)  # moto answers get_findings even when Security Hub is not enabled
    sh_stub.add_client_error(
        "get_findings", service_error_code="InvalidAccessException", service_message="not subscribed to Security Hub"
    )
    sh_stub.activate()
    rt.sessions = StubbedSessions(rt.sessions, {"guardduty": lambda r, a: gd, "securityhub": lambda r, a: sh})
    body = texts(dispatch("findings", ALICE, "C0OPS", rt))
    assert "No active findings" in body
    assert "securityhub: InvalidAccessException: not subscribed to Security Hub — default/us-east-1" in body


# --- health ---------------------------------------------------------------------------------------


def _stubbed_health(events: list[dict], error: str | None = None):
    client = raw_client("health")
    stub = Stubber(client)
    if error:
        stub.add_client_error("describe_events", service_error_code=error, service_message="upgrade your plan")
    else:
        stub.add_response("describe_events", {"events": events}, {"filter": {"eventStatusCodes": ["open", "upcoming"]}})
    stub.activate()
    return client


def test_health_events_per_account(make_rt):
    rt = make_rt(TWO_ACCOUNTS)
    now = datetime.now(UTC)
    by_account = {
        PROD: _stubbed_health(
            [
                {
                    "arn": "arn:aws:health:eu-west-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/1",
                    "service": "EC2",
                    "eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE",
                    "eventTypeCategory": "issue",
                    "region": "eu-west-1",
                    "startTime": now,
                    "statusCode": "open",
                },
                {
                    "arn": "arn:aws:health:us-east-1::event/RDS/AWS_RDS_MAINTENANCE_SCHEDULED/2",
                    "service": "RDS",
                    "eventTypeCode": "AWS_RDS_MAINTENANCE_SCHEDULED",
                    "eventTypeCategory": "scheduledChange",
                    "region": "us-east-1",
                    "startTime": now,
                    "statusCode": "upcoming",
                },
            ]
        ),
        STAGE: _stubbed_health([], error="SubscriptionRequiredException"),
    }
    seen_regions = []

    def health_client(region, account):
        seen_regions.append(region)
        return by_account[account]

    rt.sessions = StubbedSessions(rt.sessions, {"health": health_client})
    body = texts(dispatch("health", ALICE, "C0OPS", rt))
    assert "*EC2* `AWS_EC2_OPERATIONAL_ISSUE` — eu-west-1, prod, open" in body
    assert "*RDS* `AWS_RDS_MAINTENANCE_SCHEDULED` — us-east-1, prod, upcoming" in body
    assert body.index("EC2") < body.index("RDS")  # open before upcoming
    assert "AWS Health is not available in stage/us-east-1: SubscriptionRequiredException: upgrade your plan" in body
    assert "No open AWS Health events" not in body  # prod answered with events
    assert seen_regions == ["us-east-1", "us-east-1"]  # one global endpoint per account


def _html_health(status: int = 500):
    client = raw_client("health")
    stub = Stubber(client)
    page = "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body><h1>Oops</h1></body></html>"
    stub.add_client_error(
        "describe_events", service_error_code=str(status), service_message=page, http_status_code=status
    )
    stub.activate()
    return client


def test_health_unavailable_is_one_clear_line_per_account_never_html(make_rt):
    rt = make_rt(TWO_ACCOUNTS)
    rt.sessions = StubbedSessions(rt.sessions, {"health": lambda region, account: _html_health()})
    body = texts(dispatch("health", ALICE, "C0OPS", rt))
    assert "<html" not in body.lower() and "<h1>" not in body.lower()
    assert "No open AWS Health events" not in body  # nobody answered: no claim that all is well
    for label in ("prod/us-east-1", "stage/us-east-1"):
        assert body.count(f"AWS Health is not available in {label}: ") >= 1
    assert "HTTP 500" in body


def test_health_on_moto_says_unavailable_not_no_events(make_rt):
    # moto does not implement the Health API: the answer must say so, not "no events"
    body = texts(dispatch("health", ALICE, "C0OPS", make_rt(TWO_ACCOUNTS)))
    assert "No open AWS Health events" not in body
    assert "AWS Health is not available in prod/us-east-1: " in body
    assert "AWS Health is not available in stage/us-east-1: " in body


# --- doctor ---------------------------------------------------------------------------------------


def test_doctor_reports_checks_and_dangerous_settings(make_rt):
    sqs = raw_client("sqs")
    dlq = sqs.create_queue(QueueName="alerts-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    alerts = sqs.create_queue(
        QueueName="alerts",
        Attributes={"RedrivePolicy": f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": "3"}}'},
    )["QueueUrl"]
    jobs = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    sqs.send_message(QueueUrl=alerts, MessageBody="{}")
    config = {
        **TWO_ACCOUNTS,
        "accounts": [*TWO_ACCOUNTS["accounts"], {"id": "333333333333", "alias": "norole"}],
        "policy": {
            "teams": ["T0ORG"],
            # HIGH with too few approvers is refused at start-up (tests/pipeline), so doctor never sees it
            "tiers": {"LOW": {"users": ["UALICE001"]}, "HIGH": {"users": ["UALICE001"], "approvers": ["UB", "UC"]}},
        },
        "routing": {
            "rules": [
                {"name": "loud", "channel": "#ops", "mentions": ["!channel"], "mode": "notify"},
                {"name": "robot", "channel": "#ops", "mode": "auto", "remediations": ["iam.deactivate-access-key"]},
            ]
        },
    }
    rt = make_rt(config, alerts_queue_url=alerts, jobs_queue_url=jobs)
    body = texts(dispatch("doctor", ALICE, "C0OPS", rt))
    assert ":white_check_mark: Slack secrets" in body
    assert ":white_check_mark: table `eventops-commands-test`: ACTIVE" in body
    assert ":white_check_mark: alerts queue: 1 message(s) waiting" in body
    assert "jobs queue: 0 message(s) waiting :warning: no dead-letter queue" in body
    assert f":white_check_mark: prod `{PROD}`: `arn:aws:sts::{PROD}:assumed-role/eventops/" in body
    assert ":warning: norole `333333333333`: answered as account `123456789012` (no role_arn" in body
    assert "policy.tiers.MEDIUM: nobody may run MEDIUM-risk remediations" in body
    assert "approval(s) by others needed" not in body
    assert "routing.rules[loud]: mentions !channel" in body
    from bot.commands.alert import catalog

    if (
        catalog().get("iam.deactivate-access-key") is not None
        and catalog()["iam.deactivate-access-key"].risk.value == "HIGH"
    ):
        assert "routing.rules[robot]: mode `auto` offers HIGH-risk iam.deactivate-access-key" in body


def test_doctor_without_secrets_or_table(rt):
    rt.settings = dataclasses.replace(rt.settings, table_name="missing", slack_bot_token=None)
    body = texts(dispatch("doctor", ALICE, "C0OPS", rt))
    assert ":x: Slack secrets: ConfigError: SLACK_BOT_TOKEN: not set" in body
    assert ":x: table `missing`: ResourceNotFoundException" in body
    assert ":warning: alerts queue: not configured" in body
    assert "xoxb" not in body


@pytest.mark.parametrize("text", ["alarms", "instances", "findings", "doctor"])
def test_aws_commands_accept_public(rt, text):
    gd = raw_client("guardduty")
    stub = Stubber(gd)
    stub.add_response("list_detectors", {"DetectorIds": []}, {})
    stub.activate()
    rt.sessions = StubbedSessions(rt.sessions, {"guardduty": lambda region, account: gd})
    assert dispatch(f"{text} --public", ALICE, "C0OPS", rt).public


def test_security_hub_filter_spells_informational(rt):
    from bot.commands.fanout import Target
    from bot.commands.findings import securityhub_findings

    sh = raw_client("securityhub")
    stub = Stubber(sh)
    labels = ["CRITICAL", "HIGH", "INFORMATIONAL", "LOW", "MEDIUM"]
    stub.add_response(
        "get_findings",
        {"Findings": [_securityhub_finding("i-1", "INFORMATIONAL", "Just so you know")]},
        {
            "Filters": {
                "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
                "WorkflowStatus": [
                    {"Value": "NEW", "Comparison": "EQUALS"},
                    {"Value": "NOTIFIED", "Comparison": "EQUALS"},
                ],
                "SeverityLabel": [{"Value": v, "Comparison": "EQUALS"} for v in labels],
            },
            "SortCriteria": [{"Field": "SeverityNormalized", "SortOrder": "desc"}],
            "MaxResults": 100,
        },
    )
    stub.activate()
    rows = securityhub_findings(sh, Target(None, "us-east-1"), Severity.INFO)
    stub.assert_no_pending_responses()
    assert [r["severity"] for r in rows] == [Severity.INFO]


def _demo_config() -> dict:
    from pathlib import Path

    import yaml

    import bot.sandbox

    return yaml.safe_load((Path(bot.sandbox.__file__).parent / "demo-config.yml").read_text())


def test_doctor_accepts_the_shipped_demo_policy(make_rt):
    # HIGH: requester U0OPERATOR, approvers U0APPROVER and U0APPROVER2 (not the requester): 2 of 2 possible
    operator = Actor(user_id="U0OPERATOR", team_id="T0EVENTOPS", user_name="operator")  # the demo's team
    body = texts(dispatch("doctor", operator, "C0OPS", make_rt({"policy": _demo_config()["policy"]})))
    assert "approval(s) by others needed" not in body
    assert "every tier has people and enough approvers" in body


def test_too_few_approvers_besides_the_requester_is_a_start_up_error_not_a_doctor_warning(make_rt):
    policy = {
        "teams": ["T0ORG"],
        "tiers": {
            "LOW": {"users": ["UA"]},
            "MEDIUM": {"users": ["UA"]},
            # approvers default to the users: whoever of the two asks has only the other one
            "HIGH": {"users": ["UA", "UB"], "approvals": 2},
        },
    }
    with pytest.raises(ConfigError, match=r"policy\.tiers\.HIGH\.approvals: 2 approvals .* which leaves 1"):
        make_rt({"policy": policy})


def test_doctor_does_not_guess_the_size_of_an_approver_group(make_rt):
    policy = {
        "teams": ["T0ORG"],
        "tiers": {
            "LOW": {"users": ["UA"]},
            "MEDIUM": {"users": ["UA"]},
            "HIGH": {"users": ["UA"], "user_groups": ["S0SRE"], "approvals": 2},
        },
    }
    body = texts(dispatch("doctor", ALICE, "C0OPS", make_rt({"policy": policy})))
    assert "approval(s) by others needed" not in body
