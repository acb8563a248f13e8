"""Every sample event parses; per-parser facts (severity, fingerprint, context, links)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from bot.models import Alert, Severity
from bot.sources import event_patterns, known_kinds, parse_event, parser_for
from bot.sources.base import ParseContext, parsers

EVENTS = Path(__file__).parent.parent / "events"
SAMPLES = sorted(EVENTS.glob("*.json"))
GENERIC_ON_PURPOSE = {"generic-backup-job.json", "generic-cloudtrail-unhandled-source.json"}


def load(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())


def parse(name: str, ctx: ParseContext | None = None) -> Alert:
    return parse_event(load(name), ctx)


def expected_kind(path: Path) -> str:
    if path.name in GENERIC_ON_PURPOSE:
        return "generic"
    return {"config": "config", "cloudtrail": "cloudtrail"}.get(path.stem.split("-")[0], path.stem.split("-")[0])


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_every_sample_parses_to_its_kind(path: Path) -> None:
    alert = parse_event(json.loads(path.read_text()))
    assert alert.source_kind == expected_kind(path)
    assert alert.title.strip()
    assert alert.parse_error is None
    assert alert.id == json.loads(path.read_text())["id"]
    assert len(alert.fingerprint) == 32
    assert alert.remediations == []
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in alert.fields.items())
    assert len(alert.fields) <= 12


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_links_are_https_aws_consoles_without_event_text(path: Path) -> None:
    alert = parse_event(json.loads(path.read_text()))
    for link in alert.links:
        url = urlparse(link.url)
        assert url.scheme == "https"
        if alert.source_kind != "custom":
            assert url.hostname and re.search(
                r"(console\.aws\.amazon\.com|console\.amazonaws\.cn|health\.aws\.amazon\.com)$", url.hostname
            )
        assert not re.search(r"[\s<>\"'|`]", link.url), link.url


def test_every_registered_detail_type_has_a_sample() -> None:
    seen = set()
    for path in SAMPLES:
        raw = json.loads(path.read_text())
        seen.add((raw["source"], raw["detail-type"]))
    missing = [key for key in parsers.keys() if key not in seen and key[1] != "*"]
    assert not missing, missing
    assert any(src == "eventops.custom" for src, _ in seen)


def test_sources_md_lists_every_sample() -> None:
    listed = (EVENTS / "SOURCES.md").read_text()
    missing = [p.name for p in SAMPLES if p.name not in listed]
    assert not missing, missing


# ---- GuardDuty -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (0.1, Severity.LOW),
        (3.9, Severity.LOW),
        (4, Severity.MEDIUM),
        (6.9, Severity.MEDIUM),
        (7, Severity.HIGH),
        (8.9, Severity.HIGH),
        (9, Severity.CRITICAL),
    ],
)
def test_guardduty_severity_bands(score: float, severity: Severity) -> None:
    raw = load("guardduty-ec2-ssh-bruteforce")
    raw["detail"]["severity"] = score
    assert parse_event(raw).severity is severity


def test_guardduty_finding_context_and_grouping() -> None:
    first = parse("guardduty-ec2-ssh-bruteforce")
    archived = parse("guardduty-ec2-ssh-bruteforce-archived")
    assert first.context["guardduty"] == {
        "detector_id": "123456789012345678901234567890ab",
        "finding_id": "16afba5c5c43e07c9e3e5e2e544e95df",
    }
    assert first.fingerprint == archived.fingerprint
    assert first.active and not archived.active
    assert first.primary_resource.type == "AwsEc2Instance"
    assert first.primary_resource.id == "i-99999999"
    # GuardDuty sample findings carry placeholder security group ids: not resources.
    assert [r.type for r in first.resources] == ["AwsEc2Instance"]


def test_guardduty_access_key_and_user() -> None:
    alert = parse("guardduty-iam-maliciousipcaller")
    assert alert.context["access_key"] == {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "user_name": "alice"}
    assert {(r.type, r.id) for r in alert.resources} == {
        ("AwsIamAccessKey", "AKIAIOSFODNN7EXAMPLE"),
        ("AwsIamUser", "alice"),
    }
    assert alert.region == "eu-west-1"


def test_guardduty_instance_name_tag_and_security_group() -> None:
    alert = parse("guardduty-ec2-cryptocurrency-critical")
    assert alert.severity is Severity.CRITICAL
    inst = alert.primary_resource
    assert inst.name == "build-runner-3"
    assert inst.arn == "arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f6a7b8"
    assert ("AwsEc2SecurityGroup", "sg-0a1b2c3d4e5f6a7b8") in {(r.type, r.id) for r in alert.resources}


def test_guardduty_s3_bucket() -> None:
    alert = parse("guardduty-s3-anonymous-access")
    assert alert.severity is Severity.HIGH
    assert ("AwsS3Bucket", "customer-exports") in {(r.type, r.id) for r in alert.resources}
    assert "access_key" in alert.context  # ASIA… temporary key of the role that made the change


# ---- Security Hub ------------------------------------------------------------------------


def test_securityhub_maps_every_resource() -> None:
    alert = parse("securityhub-imported-multi-resource")
    assert [(r.type, r.id) for r in alert.resources] == [
        ("AwsEc2SecurityGroup", "sg-0123456789abcdef0"),
        ("AwsEc2Instance", "i-0abcdef1234567890"),
        ("AwsS3Bucket", "customer-exports"),
        ("AwsIamUser", "alice"),
        ("AwsIamAccessKey", "AKIAIOSFODNN7EXAMPLE"),
        ("AwsLambdaFunction", "export-job"),
        ("AwsAccount", "123456789012"),
    ]
    assert alert.resources[0].name == "launch-wizard-1"
    assert alert.resources[1].name == "bastion"
    assert alert.severity is Severity.HIGH
    assert alert.context["securityhub"]["product_arn"] == "arn:aws:securityhub:us-east-1::product/aws/securityhub"
    assert alert.context["access_key"] == {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "user_name": "alice"}
    assert alert.context["open_ingress"] == [
        {"group_id": "sg-0123456789abcdef0", "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr": "0.0.0.0/0"}
    ]


def test_securityhub_resolved_and_archived_are_inactive_and_group_with_the_finding() -> None:
    new = parse("securityhub-imported-multi-resource")
    resolved = parse("securityhub-imported-resolved")
    archived = parse("securityhub-imported-archived")
    assert new.active and not resolved.active and not archived.active
    assert new.fingerprint == resolved.fingerprint == archived.fingerprint
    assert resolved.severity is Severity.INFO


def test_securityhub_guardduty_access_key_id_format() -> None:
    alert = parse("securityhub-imported-guardduty-accesskey")
    assert alert.primary_resource.id == "ASIASBP34UWCXYDP5SM5"
    assert alert.context["access_key"]["access_key_id"] == "ASIASBP34UWCXYDP5SM5"
    assert alert.severity is Severity.LOW


def test_securityhub_custom_action() -> None:
    alert = parse("securityhub-custom-action")
    assert alert.fields["Custom action"] == "SendToSlack"
    assert alert.fields["Findings in event"].startswith("2")
    assert alert.severity is Severity.CRITICAL


@pytest.mark.parametrize(
    ("label", "severity"),
    [("CRITICAL", Severity.CRITICAL), ("MEDIUM", Severity.MEDIUM), ("INFORMATIONAL", Severity.INFO)],
)
def test_securityhub_severity_from_label(label: str, severity: Severity) -> None:
    raw = load("securityhub-imported-multi-resource")
    raw["detail"]["findings"][0]["Severity"] = {"Label": label}
    assert parse_event(raw).severity is severity


# ---- CloudWatch --------------------------------------------------------------------------


def test_cloudwatch_states_and_grouping() -> None:
    alarm, ok, insufficient = (
        parse("cloudwatch-metric-alarm"),
        parse("cloudwatch-metric-ok"),
        parse("cloudwatch-metric-insufficient-data"),
    )
    assert (alarm.severity, ok.severity, insufficient.severity) == (Severity.HIGH, Severity.INFO, Severity.LOW)
    assert alarm.active and not ok.active and insufficient.active
    assert alarm.fingerprint == ok.fingerprint == insufficient.fingerprint
    assert alarm.resources[0].type == "AwsCloudWatchAlarm"
    assert alarm.resources[0].arn == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"
    assert ("AwsEc2Instance", "i-12345678901234567") in {(r.type, r.id) for r in alarm.resources}


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("cloudwatch-metric-alarm", "metric"),
        ("cloudwatch-metric-math", "metric math"),
        ("cloudwatch-anomaly-detection", "anomaly detection"),
        ("cloudwatch-composite", "composite"),
    ],
)
def test_cloudwatch_alarm_kinds(name: str, kind: str) -> None:
    assert parse(name).fields["Alarm type"] == kind


def test_cloudwatch_alarm_name_with_spaces_is_encoded_in_link() -> None:
    alert = parse("cloudwatch-anomaly-detection")
    assert any("alarm/EC2%20CPU%20Utilization%20Anomaly" in link.url for link in alert.links)


# ---- Health, Config ----------------------------------------------------------------------


def test_health() -> None:
    assert parse("health-issue").severity is Severity.HIGH
    assert parse("health-issue").region == "us-west-2"
    retirement = parse("health-scheduled-change-retirement")
    assert retirement.severity is Severity.MEDIUM
    assert retirement.primary_resource.type == "AwsEc2Instance"
    assert retirement.primary_resource.name == "web-1"
    assert parse("health-account-notification").severity is Severity.LOW
    assert parse("health-risk-credentials-exposed").severity is Severity.CRITICAL
    closed = load("health-issue")
    closed["detail"]["statusCode"] = "closed"
    closed_alert = parse_event(closed)
    assert not closed_alert.active and closed_alert.severity is Severity.INFO
    assert closed_alert.fingerprint == parse("health-issue").fingerprint


def test_config_compliance() -> None:
    bad = parse("config-noncompliant")
    assert bad.severity is Severity.MEDIUM and bad.active
    assert (bad.primary_resource.type, bad.primary_resource.id) == ("AwsEc2SecurityGroup", "sg-0123456789abcdef0")
    good = parse("config-compliant")
    assert not good.active and good.primary_resource.type == "AwsS3Bucket"


# ---- EC2, Auto Scaling, ECS ----------------------------------------------------------------


def test_ec2_state_changes_group_per_instance_and_use_tags() -> None:
    calls = []

    def lookup(rtype: str, rid: str, account: str, region: str) -> dict[str, str]:
        calls.append((rtype, rid, account, region))
        return {"Name": "web-1", "team": "platform"}

    ctx = ParseContext(lookup_tags=lookup)
    alerts = {
        s: parse(f"ec2-state-{s}", ctx) for s in ("running", "stopping", "stopped", "shutting-down", "terminated")
    }
    assert len({a.fingerprint for a in alerts.values()}) == 1
    assert alerts["stopped"].primary_resource.name == "web-1"
    assert "web-1" in alerts["stopped"].title
    assert calls[0] == ("AwsEc2Instance", "i-abcd1111", "123456789012", "us-west-1")
    assert not alerts["running"].active and alerts["terminated"].active
    assert alerts["terminated"].severity is Severity.MEDIUM


def test_failed_tag_lookup_never_fails_the_alert() -> None:
    def lookup(*_: str) -> dict[str, str]:
        raise RuntimeError("AccessDenied")

    ctx = ParseContext(lookup_tags=lookup)
    alert = parse("ec2-state-stopped", ctx)
    assert alert.source_kind == "ec2" and alert.primary_resource.name is None
    assert ctx.warnings


def test_spot_interruption() -> None:
    alert = parse("ec2-spot-interruption")
    assert alert.severity is Severity.MEDIUM
    assert alert.fingerprint != parse("ec2-state-stopped").fingerprint


def test_autoscaling() -> None:
    launch = parse("autoscaling-launch-unsuccessful")
    assert launch.severity is Severity.HIGH
    assert launch.context == {"asg": {"name": "my-asg"}}
    assert launch.primary_resource.type == "AwsAutoScalingAutoScalingGroup"
    assert parse("autoscaling-terminate-unsuccessful").severity is Severity.MEDIUM


def test_ecs_task_stops() -> None:
    failed = parse("ecs-task-stopped-failure")
    assert failed.severity is Severity.MEDIUM and failed.active
    assert failed.context == {"ecs": {"cluster": "FargateCluster", "service": "web"}}
    assert {r.type for r in failed.resources} == {"AwsEcsTask", "AwsEcsCluster", "AwsEcsService"}
    normal = parse("ecs-task-stopped-normal")
    assert normal.severity is Severity.INFO and not normal.active
    assert "nightly-report" in normal.title
    start = parse("ecs-task-failed-to-start")
    assert start.severity is Severity.HIGH
    # a crash loop of one service is one message
    assert start.fingerprint == failed.fingerprint
    assert parse("ecs-task-running").severity is Severity.INFO


def test_ecs_deployments() -> None:
    failed = parse("ecs-deployment-failed")
    assert failed.severity is Severity.HIGH
    assert failed.context == {"ecs": {"cluster": "default", "service": "servicetest"}}
    assert not parse("ecs-deployment-completed").active


# ---- CI/CD ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "good"), [("codepipeline-failed", "codepipeline-succeeded"), ("codebuild-failed", "codebuild-succeeded")]
)
def test_ci_failure_and_success_share_a_message(bad: str, good: str) -> None:
    failure, success = parse(bad), parse(good)
    assert failure.severity is Severity.HIGH and failure.active
    assert success.severity is Severity.INFO and not success.active
    assert failure.fingerprint == success.fingerprint


def test_codedeploy() -> None:
    alert = parse("codedeploy-deployment-failure")
    assert alert.severity is Severity.HIGH
    assert alert.primary_resource.id == "d-5Z6K8NW9T"
    assert any("deployments/d-5Z6K8NW9T" in link.url for link in alert.links)


# ---- CloudTrail ----------------------------------------------------------------------------


def test_open_ingress_context() -> None:
    alert = parse("cloudtrail-sg-ingress-open-ssh")
    assert alert.severity is Severity.HIGH
    assert alert.context["security_group_rule_ids"] == ["sgr-0a1b2c3d4e5f6a7b8"]
    assert alert.context["open_ingress"] == [
        {"group_id": "sg-0123456789abcdef0", "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr": "0.0.0.0/0"}
    ]
    assert alert.primary_resource.type == "AwsEc2SecurityGroup"
    v6 = parse("cloudtrail-sg-ingress-open-ipv6-https")
    assert v6.severity is Severity.MEDIUM and v6.context["open_ingress"][0]["cidr"] == "::/0"


def test_open_ingress_from_request_when_response_has_no_rule_set() -> None:
    raw = load("cloudtrail-sg-ingress-open-ssh")
    raw["detail"]["responseElements"] = {"_return": True}
    alert = parse_event(raw)
    assert alert.context["open_ingress"][0]["cidr"] == "0.0.0.0/0"
    assert "security_group_rule_ids" not in alert.context


def test_private_ingress_is_info_and_has_no_remediation_context() -> None:
    alert = parse("cloudtrail-sg-ingress-private")
    assert alert.source_kind == "cloudtrail" and alert.severity is Severity.INFO
    assert "open_ingress" not in alert.context and "security_group_rule_ids" not in alert.context


def test_denied_call_is_low_and_inactive() -> None:
    alert = parse("cloudtrail-sg-ingress-open-denied")
    assert alert.severity is Severity.LOW and not alert.active and alert.context == {}


@pytest.mark.parametrize(
    ("name", "severity", "bucket"),
    [
        ("cloudtrail-s3-putbucketacl-public", Severity.HIGH, "customer-exports"),
        ("cloudtrail-s3-putbucketacl-private", Severity.INFO, "internal-logs"),
        ("cloudtrail-s3-putbucketpolicy-public", Severity.HIGH, "customer-exports"),
        ("cloudtrail-s3-deletepublicaccessblock", Severity.HIGH, "customer-exports"),
        ("cloudtrail-s3-putpublicaccessblock-disabled", Severity.HIGH, "customer-exports"),
    ],
)
def test_s3_calls(name: str, severity: Severity, bucket: str) -> None:
    alert = parse(name)
    assert alert.severity is severity
    assert alert.context["bucket"] == {"name": bucket}
    assert alert.primary_resource.type == "AwsS3Bucket"


def test_policy_with_condition_is_not_public() -> None:
    raw = load("cloudtrail-s3-putbucketpolicy-public")
    raw["detail"]["requestParameters"]["bucketPolicy"]["Statement"][0]["Condition"] = {
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}
    }
    assert parse_event(raw).severity is Severity.INFO


def test_create_access_key_and_trail_changes() -> None:
    key = parse("cloudtrail-iam-createaccesskey")
    assert key.context["access_key"] == {"access_key_id": "AKIAI44QH8DHBEXAMPLE", "user_name": "ci-deployer"}
    stop = parse("cloudtrail-cloudtrail-stoplogging")
    assert stop.context["trail"] == {
        "name": "management-events",
        "arn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events",
    }
    assert stop.severity is Severity.HIGH
    delete = parse("cloudtrail-cloudtrail-deletetrail")
    assert delete.context["trail"]["arn"] == "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-trail"
    start = load("cloudtrail-cloudtrail-stoplogging")
    start["detail"]["eventName"] = "StartLogging"
    restarted = parse_event(start)
    assert not restarted.active and restarted.fingerprint == stop.fingerprint


def test_console_sign_in() -> None:
    assert parse("cloudtrail-signin-root-no-mfa").severity is Severity.CRITICAL
    assert parse("cloudtrail-signin-iamuser-no-mfa").severity is Severity.MEDIUM
    assert parse("cloudtrail-signin-iamuser-mfa").severity is Severity.INFO


# ---- KMS, TA, RDS, cost, custom, generic ---------------------------------------------------


def test_kms_deletion_lifecycle_is_one_message() -> None:
    scheduled, deleted = parse("kms-schedulekeydeletion"), parse("kms-cmk-deletion")
    assert scheduled.context == {"kms": {"key_id": "1234abcd-12ab-34cd-56ef-1234567890ab"}}
    assert scheduled.severity is Severity.HIGH
    assert scheduled.fingerprint == deleted.fingerprint
    cancel = load("kms-schedulekeydeletion")
    cancel["detail"]["eventName"] = "CancelKeyDeletion"
    cancelled = parse_event(cancel)
    assert not cancelled.active and cancelled.fingerprint == scheduled.fingerprint


def test_trusted_advisor_rds_cost() -> None:
    assert parse("trustedadvisor-exposed-access-keys").severity is Severity.HIGH
    ta = parse("trustedadvisor-security-groups-unrestricted")
    assert ta.primary_resource.type == "AwsEc2SecurityGroup" and ta.region == "us-west-2"
    assert parse("rds-instance-failure").severity is Severity.HIGH
    assert parse("rds-instance-failure").primary_resource.type == "AwsRdsDbInstance"
    assert parse("rds-cluster-failover").primary_resource.type == "AwsRdsDbCluster"
    cost = parse("costanomaly-detected")
    assert cost.severity is Severity.HIGH
    assert cost.links[0].url.endswith("/anomalies/12345678-abcd-ef12-3456-987654321a12")


def test_custom_schema() -> None:
    ctx = ParseContext()
    alert = parse("custom-backup-failed", ctx)
    assert alert.severity is Severity.HIGH
    assert alert.fields["Attempt"] == "3" and alert.fields["Retrying"] == "false"
    assert [link.label for link in alert.links] == ["Runbook"]  # javascript: dropped
    assert ctx.warnings
    assert alert.fingerprint == Alert.make_fingerprint("custom", "123456789012", "backup-orders")
    assert parse("custom-minimal").severity is Severity.INFO
    resolved = load("custom-backup-failed")
    resolved["detail"]["resolved"] = True
    assert not parse_event(resolved).active


def test_generic_shows_at_most_ten_detail_fields() -> None:
    alert = parse("generic-backup-job")
    assert alert.source_kind == "generic" and alert.parse_error is None
    assert 0 < len(alert.fields) <= 10
    assert "aws.backup" in alert.title


# ---- registry, patterns, import ------------------------------------------------------------


def test_event_patterns_cover_the_registry() -> None:
    patterns = event_patterns()
    for source, detail_type in parsers.keys():
        assert any(
            source in p["source"] and (detail_type == "*" or detail_type in p.get("detail-type", [detail_type]))
            for p in patterns
        ), (source, detail_type)
    assert {"source": ["eventops.custom"]} in patterns
    ct = [p for p in patterns if p.get("detail-type") == ["AWS API Call via CloudTrail"]]
    assert all(p["detail"]["eventName"] for p in ct)
    ct[0]["detail"]["eventName"].append("mutated")
    assert "mutated" not in json.dumps(event_patterns())


def test_known_kinds() -> None:
    kinds = known_kinds()
    assert "generic" in kinds and "guardduty" in kinds and kinds == sorted(kinds)
    assert parser_for("aws.nope", "Nope").kind == "generic"


def test_importing_sources_does_not_import_boto3() -> None:
    code = "import sys, bot.sources; assert 'boto3' not in sys.modules and 'botocore' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
