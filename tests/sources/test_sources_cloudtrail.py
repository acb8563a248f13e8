"""CloudTrail API calls (security group ingress, S3, IAM keys, trails) and console sign-in."""

from __future__ import annotations

import pytest

from bot.models import Severity
from bot.sources import parse_event
from tests.sources.source_events import load, parse


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


def test_any_s3_or_codecommit_call_by_the_root_user_is_high() -> None:
    bucket = parse("cloudtrail-s3-root-deletebucket")
    assert bucket.severity is Severity.HIGH and bucket.title == "Root user called DeleteBucket on bucket internal-logs"
    assert [(r.type, r.id) for r in bucket.resources] == [("AwsS3Bucket", "internal-logs")]
    repo = parse("cloudtrail-codecommit-root-gitpush")
    assert repo.severity is Severity.HIGH and repo.title == "Root user called GitPush on repository web-app"
    assert repo.resources[0].arn == "arn:aws:codecommit:us-east-1:123456789012:web-app"
    assert repo.problems[0] == "cloudtrail:root-call" and bucket.fingerprint != repo.fingerprint


def test_a_routine_call_made_by_root_is_raised_to_high_and_says_so() -> None:
    raw = load("cloudtrail-s3-putbucketacl-private")
    assert parse_event(raw).severity is Severity.INFO
    raw["detail"]["userIdentity"]["type"] = "Root"
    alert = parse_event(raw)
    assert alert.severity is Severity.HIGH and alert.title.startswith("Root user: ACL of bucket internal-logs")
    assert "cloudtrail:root-call" in alert.problems


def test_the_s3_and_codecommit_rules_subscribe_to_root_calls() -> None:
    from bot.sources import event_patterns

    patterns = {(p["source"][0], p.get("detail-type", [""])[0]): p for p in event_patterns()}
    s3 = patterns[("aws.s3", "AWS API Call via CloudTrail")]["detail"]
    assert {"userIdentity": {"type": ["Root"]}} in s3["$or"] and "PutBucketAcl" in s3["$or"][0]["eventName"]
    assert patterns[("aws.codecommit", "AWS API Call via CloudTrail")]["detail"] == {"userIdentity": {"type": ["Root"]}}
