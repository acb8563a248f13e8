"""ARNs and AWS identifiers: strict patterns, parsing, and ARN → ``Resource``.

Everything that may end up in a console URL is checked against a pattern here first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeGuard

from bot.models import Resource

REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
ACCOUNT_RE = re.compile(r"^\d{12}$")
INSTANCE_ID_RE = re.compile(r"^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
SECURITY_GROUP_ID_RE = re.compile(r"^sg-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
SECURITY_GROUP_RULE_ID_RE = re.compile(r"^sgr-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
VOLUME_ID_RE = re.compile(r"^vol-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
ACCESS_KEY_ID_RE = re.compile(r"^(?:AKIA|ASIA)[A-Z0-9]{12,124}$")
# S3 bucket naming rules (lowercase, digits, dots, hyphens; 3-63 chars).
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
IAM_NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}$")
_RESOURCE_SEP_RE = re.compile(r"[/:]")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
HEX32_RE = re.compile(r"^[0-9a-f]{32}$")
# Names of things we put in console paths (alarms, pipelines, projects, rules, groups, trails).
SIMPLE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+=,/ -]{0,254}$")
STRICT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
ARN_RE = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-iso[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|aws)?:(.+)$")
SAFE_ARN_RE = re.compile(r"^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:[A-Za-z0-9_+=,.@:/ -]{1,1024}$")


def is_region(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(REGION_RE.match(value))


def is_account(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(ACCOUNT_RE.match(value))


def matches(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and bool(pattern.match(value))


def partition_for(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def resource_type(self) -> str:
        """``instance`` from ``instance/i-0abc``, ``alarm`` from ``alarm:Name``."""
        head = _RESOURCE_SEP_RE.split(self.resource, maxsplit=1)[0]
        return head if head != self.resource else ""

    @property
    def resource_id(self) -> str:
        """The last path segment (``i-0abc``), or the whole resource part for buckets."""
        if not self.resource_type:
            return self.resource
        return _RESOURCE_SEP_RE.split(self.resource)[-1]

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse_arn(value: object) -> Arn | None:
    if not isinstance(value, str):
        return None
    m = ARN_RE.match(value)
    if not m:
        return None
    return Arn(m.group(1), m.group(2), m.group(3), m.group(4) or "", m.group(5))


# (arn service, arn resource type) → ASFF resource type
_ARN_TYPES: dict[tuple[str, str], str] = {
    ("ec2", "instance"): "AwsEc2Instance",
    ("ec2", "security-group"): "AwsEc2SecurityGroup",
    ("ec2", "volume"): "AwsEc2Volume",
    ("ec2", "vpc"): "AwsEc2Vpc",
    ("ec2", "subnet"): "AwsEc2Subnet",
    ("ec2", "network-interface"): "AwsEc2NetworkInterface",
    ("s3", ""): "AwsS3Bucket",
    ("iam", "user"): "AwsIamUser",
    ("iam", "role"): "AwsIamRole",
    ("iam", "policy"): "AwsIamPolicy",
    ("kms", "key"): "AwsKmsKey",
    ("cloudtrail", "trail"): "AwsCloudTrailTrail",
    ("ecs", "cluster"): "AwsEcsCluster",
    ("ecs", "service"): "AwsEcsService",
    ("ecs", "task"): "AwsEcsTask",
    ("lambda", "function"): "AwsLambdaFunction",
    ("autoscaling", "autoScalingGroup"): "AwsAutoScalingAutoScalingGroup",
    ("rds", "db"): "AwsRdsDbInstance",
    ("rds", "cluster"): "AwsRdsDbCluster",
    ("cloudwatch", "alarm"): "AwsCloudWatchAlarm",
    ("codepipeline", ""): "AwsCodePipelinePipeline",
    ("codebuild", "project"): "AwsCodeBuildProject",
    ("eks", "cluster"): "AwsEksCluster",
    ("dynamodb", "table"): "AwsDynamoDbTable",
    ("sns", ""): "AwsSnsTopic",
    ("sqs", ""): "AwsSqsQueue",
}


def resource_from_arn(value: str, *, default_type: str = "Other") -> Resource:
    """A ``Resource`` for an ARN (ASFF type when known); a non-ARN string becomes ``default_type``."""
    arn = parse_arn(value)
    if arn is None:
        return Resource(type=default_type, id=value)
    rtype = _ARN_TYPES.get((arn.service, arn.resource_type), default_type)
    rid = arn.resource_id
    if arn.service == "autoscaling" and "autoScalingGroupName/" in arn.resource:
        rid = arn.resource.split("autoScalingGroupName/", 1)[1]
    return Resource(
        type=rtype,
        id=rid,
        arn=value,
        region=arn.region or None,
        account=arn.account if arn.account and arn.account != "aws" else None,
    )


def build_arn(service: str, region: str, account: str, resource: str) -> str | None:
    """An ARN from validated parts, or None when region/account don't look right."""
    if region and not is_region(region):
        return None
    if account and not ACCOUNT_RE.match(account):
        return None
    partition = partition_for(region) if region else "aws"
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"
