"""AWS Config rule compliance changes."""

from __future__ import annotations

import re

from pydantic import Field

from bot.models import Alert, Link, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

_SEVERITY = {
    "NON_COMPLIANT": Severity.MEDIUM,
    "INSUFFICIENT_DATA": Severity.LOW,
    "COMPLIANT": Severity.INFO,
    "NOT_APPLICABLE": Severity.INFO,
}
# AWS Config (CloudFormation) type → ASFF type, where the mechanical conversion gets it wrong.
_TYPES = {
    "AWS::RDS::DBInstance": "AwsRdsDbInstance",
    "AWS::RDS::DBCluster": "AwsRdsDbCluster",
    "AWS::AutoScaling::AutoScalingGroup": "AwsAutoScalingAutoScalingGroup",
    "AWS::CloudTrail::Trail": "AwsCloudTrailTrail",
    "AWS::CloudWatch::Alarm": "AwsCloudWatchAlarm",
    "AWS::DynamoDB::Table": "AwsDynamoDbTable",
}


def asff_type(config_type: str) -> str:
    """``AWS::EC2::SecurityGroup`` → ``AwsEc2SecurityGroup``."""
    if config_type in _TYPES:
        return _TYPES[config_type]
    parts = config_type.split("::")
    if len(parts) != 3 or parts[0] != "AWS":
        return "Other"
    return "Aws" + parts[1].capitalize() + re.sub(r"[^A-Za-z0-9]", "", parts[2])


class Qualifier(Detail):
    config_rule_name: str | None = Field(None, alias="configRuleName")
    resource_type: str | None = Field(None, alias="resourceType")
    resource_id: str | None = Field(None, alias="resourceId")


class ResultIdentifier(Detail):
    qualifier: Qualifier = Field(default_factory=Qualifier, alias="evaluationResultQualifier")


class EvaluationResult(Detail):
    compliance_type: str = Field(alias="complianceType")
    annotation: str | None = None
    identifier: ResultIdentifier = Field(default_factory=ResultIdentifier, alias="evaluationResultIdentifier")


class ComplianceChange(Detail):
    resource_id: str = Field(alias="resourceId")
    resource_type: str = Field("", alias="resourceType")
    aws_region: str | None = Field(None, alias="awsRegion")
    aws_account_id: str | None = Field(None, alias="awsAccountId")
    config_rule_name: str = Field(alias="configRuleName")
    config_rule_arn: str | None = Field(None, alias="configRuleARN")
    new: EvaluationResult = Field(alias="newEvaluationResult")
    old: EvaluationResult | None = Field(None, alias="oldEvaluationResult")


@parsers.register(("aws.config", "Config Rules Compliance Change"))
class ConfigRuleParser(Parser):
    """A resource's compliance with a Config rule changed. Example: sg-0abc NON_COMPLIANT with restricted-ssh → MEDIUM."""

    kind = "config"
    doc = SourceDoc(
        label="Config",
        severity="NON_COMPLIANT MEDIUM, INSUFFICIENT_DATA LOW, COMPLIANT/NOT_APPLICABLE INFO",
        resolved="COMPLIANT, NOT_APPLICABLE",
        fingerprint="account, region, resource type + id, rule",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = ComplianceChange.model_validate(event.detail)
        account = d.aws_account_id or event.account
        region = d.aws_region or event.region
        rtype = asff_type(d.resource_type)
        status = d.new.compliance_type.upper()
        tags = ctx.tags_for(rtype, d.resource_id, account, region) if rtype == "AwsEc2Instance" else {}
        resource = Resource(
            type=rtype,
            id=d.resource_id,
            arn=arns.build_arn("ec2", region, account, f"instance/{d.resource_id}")
            if rtype == "AwsEc2Instance"
            else None,
            name=tags.get("Name"),
            region=region,
            account=account,
            tags=tags,
        )
        if rtype == "AwsEc2SecurityGroup":
            resource = resource.model_copy(
                update={"arn": arns.build_arn("ec2", region, account, f"security-group/{d.resource_id}")}
            )
        elif rtype == "AwsS3Bucket":
            resource = resource.model_copy(update={"arn": f"arn:{arns.partition_for(region)}:s3:::{d.resource_id}"})
        links: list[Link | None] = [console.config_rule(region, d.config_rule_name)]
        links.append(
            {
                "AwsEc2Instance": lambda: console.ec2_instance(region, d.resource_id),
                "AwsEc2SecurityGroup": lambda: console.security_group(region, d.resource_id),
                "AwsS3Bucket": lambda: console.s3_bucket(region, d.resource_id),
            }.get(rtype, lambda: None)()
        )
        previous = d.old.compliance_type if d.old else None
        verb = {"NON_COMPLIANT": "is non-compliant with", "COMPLIANT": "is compliant again with"}.get(
            status, f"is {status} for"
        )
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(
                self.kind, account, region, d.resource_type, d.resource_id, d.config_rule_name
            ),
            title=f"{d.resource_id} {verb} {d.config_rule_name}",
            summary=d.new.annotation or "",
            severity=_SEVERITY.get(status, Severity.LOW),
            account=account,
            region=region,
            resources=[resource],
            fields={
                "Rule": d.config_rule_name,
                "Compliance": f"{previous} → {status}" if previous else status,
                "Resource type": d.resource_type,
                "Resource": d.resource_id,
            },
            links=console.keep(*links),
            problems=[f"config-rule:{d.config_rule_name}"],
            active=status not in ("COMPLIANT", "NOT_APPLICABLE"),
        )
