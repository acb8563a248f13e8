"""IAM Access Analyzer external-access findings (``aws.access-analyzer`` / "Access Analyzer Finding")."""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from bot.models import Alert, Link, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

# Access Analyzer resource types → ASFF resource types.
_TYPES = {
    "AWS::S3::Bucket": "AwsS3Bucket",
    "AWS::IAM::Role": "AwsIamRole",
    "AWS::KMS::Key": "AwsKmsKey",
    "AWS::Lambda::Function": "AwsLambdaFunction",
    "AWS::SQS::Queue": "AwsSqsQueue",
    "AWS::SecretsManager::Secret": "AwsSecretsManagerSecret",
    "AWS::SNS::Topic": "AwsSnsTopic",
}


class AnalyzerFinding(Detail):
    id: str = ""
    status: str = "ACTIVE"
    resource_type: str = Field("", alias="resourceType")
    resource: str = Field(min_length=1)
    is_public: bool = Field(False, alias="isPublic")
    is_deleted: bool = Field(False, alias="isDeleted")
    principal: dict[str, Any] = Field(default_factory=dict)
    action: list[str] = []
    condition: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    account_id: str = Field("", alias="accountId")
    region: str = ""


def _analyzer_link(region: str, analyzer_arn: str | None, finding_id: str) -> Link | None:
    analyzer = arns.parse_arn(analyzer_arn)
    name = analyzer.resource_id if analyzer and analyzer.resource_type == "analyzer" else ""
    if not arns.is_region(region):
        return None
    base = f"{console._host(region)}/access-analyzer/home?region={region}"
    if arns.matches(arns.STRICT_NAME_RE, name) and arns.matches(arns.UUID_RE, finding_id):
        return Link(label="Access Analyzer finding", url=f"{base}#/findings/details/{console._q(name)}/{finding_id}")
    return Link(label="IAM Access Analyzer", url=f"{base}#/findings")


def _resource(arn: str, resource_type: str, account: str, region: str) -> Resource:
    res = arns.resource_from_arn(arn)
    rtype = _TYPES.get(resource_type, res.type)
    rid = res.id
    parsed = arns.parse_arn(arn)
    if parsed and parsed.service == "secretsmanager":
        rid = parsed.resource.split(":", 1)[-1]
    return Resource(type=rtype, id=rid, arn=arn, region=res.region or region, account=res.account or account or None)


def _principal(principal: dict[str, Any]) -> str:
    parts: list[str] = []
    for kind, value in principal.items():
        values = value if isinstance(value, list) else [value]
        parts.extend(f"{kind}: {v}" for v in values)
    return ", ".join(parts)


@parsers.register(("aws.access-analyzer", "Access Analyzer Finding"))
class AccessAnalyzerParser(Parser):
    """IAM Access Analyzer external-access findings. Example: bucket my-bucket public (Principal *) → HIGH."""

    kind = "accessanalyzer"
    doc = SourceDoc(
        label="IAM Access Analyzer",
        severity="isPublic HIGH, shared with another account MEDIUM, analysis error LOW; not ACTIVE INFO",
        resolved="status ARCHIVED or RESOLVED, or the finding is deleted",
        fingerprint="account, region, finding id",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = AnalyzerFinding.model_validate(event.detail)
        region = d.region if arns.is_region(d.region) else event.region
        account = d.account_id if arns.is_account(d.account_id) else event.account
        res = _resource(d.resource, d.resource_type, account, region)
        status = d.status.upper()
        active = status == "ACTIVE" and not d.is_deleted
        who = _principal(d.principal)
        what = d.resource_type or res.type
        if d.error:
            severity = Severity.LOW
            title = f"Access Analyzer couldn't analyze {res.id} ({d.error})"
            summary = f"IAM Access Analyzer could not analyze {what} {d.resource}: {d.error}."
        elif d.is_public:
            severity = Severity.HIGH
            title = f"{res.id} is publicly accessible"
            summary = f"The resource policy of {what} {d.resource} grants access to anyone ({who or 'public'})."
        else:
            severity = Severity.MEDIUM
            title = f"{res.id} is shared outside the account"
            summary = f"The resource policy of {what} {d.resource} grants access to {who or 'an external principal'}."
        if not active:
            severity = Severity.INFO
            state = "deleted" if d.is_deleted else status.lower()
            title = f"Access Analyzer finding {state}: {title}"
        fields: dict[str, Any] = {
            "Resource type": d.resource_type,
            "Status": status if status != "ACTIVE" else None,
            "Principal": who,
            "Actions": ", ".join(d.action),
            "Condition": json.dumps(d.condition, sort_keys=True) if d.condition else None,
            "Error": d.error,
            "Finding id": d.id,
        }
        problems = [f"accessanalyzer:{d.resource_type or 'unknown'}"]
        if d.is_public:
            # The second key says which kind of resource is public (s3.block-public-access fixes buckets).
            problems += ["accessanalyzer:public", f"accessanalyzer:public:{d.resource_type or 'unknown'}"]
        context: dict[str, Any] = {
            "accessanalyzer": {"finding_id": d.id, "analyzer_arn": next(iter(event.resources), None)}
        }
        if res.type == "AwsS3Bucket":
            context["bucket"] = {"name": res.id}
        fingerprint = Alert.make_fingerprint(self.kind, account, region, d.id or d.resource)
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=fingerprint,
            title=title,
            summary=summary,
            severity=severity,
            account=account,
            region=region,
            resources=[res],
            fields=fields,
            links=console.keep(_analyzer_link(region, next(iter(event.resources), None), d.id)),
            context=context,
            problems=problems,
            active=active,
        )
