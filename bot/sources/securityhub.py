"""Security Hub findings in ASFF ("Security Hub Findings - Imported" / "- Custom Action")."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from bot.models import Alert, Link, Resource, Severity, resource_kind
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

_LABELS = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "INFORMATIONAL": Severity.INFO,
}
OPEN_CIDRS = ("0.0.0.0/0", "::/0")


class AsffSeverity(Detail):
    label: str | None = Field(None, alias="Label")
    normalized: float | None = Field(None, alias="Normalized")


class AsffResource(Detail):
    type: str = Field(alias="Type")
    id: str = Field(alias="Id")
    partition: str | None = Field(None, alias="Partition")
    region: str | None = Field(None, alias="Region")
    tags: dict[str, str] = Field(default_factory=dict, alias="Tags")
    details: dict[str, Any] = Field(default_factory=dict, alias="Details")


class Workflow(Detail):
    status: str | None = Field(None, alias="Status")


class Compliance(Detail):
    status: str | None = Field(None, alias="Status")
    security_control_id: str | None = Field(None, alias="SecurityControlId")


class Recommendation(Detail):
    text: str | None = Field(None, alias="Text")
    url: str | None = Field(None, alias="Url")


class Remediation(Detail):
    recommendation: Recommendation = Field(default_factory=Recommendation, alias="Recommendation")


class AsffFinding(Detail):
    id: str = Field(alias="Id")
    product_arn: str = Field(alias="ProductArn")
    generator_id: str | None = Field(None, alias="GeneratorId")
    aws_account_id: str | None = Field(None, alias="AwsAccountId")
    region: str | None = Field(None, alias="Region")
    types: list[str] = Field([], alias="Types")
    title: str = Field("", alias="Title")
    description: str = Field("", alias="Description")
    severity: AsffSeverity = Field(default_factory=AsffSeverity, alias="Severity")
    resources: list[AsffResource] = Field([], alias="Resources")
    workflow: Workflow = Field(default_factory=Workflow, alias="Workflow")
    record_state: str | None = Field(None, alias="RecordState")
    compliance: Compliance | None = Field(None, alias="Compliance")
    product_name: str | None = Field(None, alias="ProductName")
    product_fields: dict[str, Any] = Field(default_factory=dict, alias="ProductFields")
    remediation: Remediation = Field(default_factory=Remediation, alias="Remediation")


class SecurityHubDetail(Detail):
    findings: list[AsffFinding] = Field(min_length=1)
    action_name: str | None = Field(None, alias="actionName")
    action_description: str | None = Field(None, alias="actionDescription")


_CONTROL_RE = re.compile(r"^[A-Za-z0-9]+\.\d+$")


def finding_problems(finding: AsffFinding) -> list[str]:
    """What the finding is about: its control (consolidated ``SecurityControlId``, the
    standard's ``ControlId``, or the last part of a standards ``GeneratorId``), the Config rule
    behind it, and for GuardDuty findings the GuardDuty type (``Policy:IAMUser-RootCredentialUsage``
    in ASFF is ``Policy:IAMUser/RootCredentialUsage``). Always ``securityhub:finding``."""
    controls = [
        finding.compliance.security_control_id if finding.compliance else None,
        finding.product_fields.get("ControlId"),
        (finding.generator_id or "").rsplit("/", 1)[-1],
    ]
    keys = [f"securityhub-control:{c}" for c in controls if isinstance(c, str) and _CONTROL_RE.match(c)]
    rule = finding.product_fields.get("aws/config/ConfigRuleName") or finding.product_fields.get(
        "RelatedAWSResources:0/name"
    )
    if isinstance(rule, str) and rule:
        keys.append(f"config-rule:{rule}")
    product = finding.product_name or finding.product_fields.get("aws/securityhub/ProductName")
    if product == "GuardDuty":
        for t in finding.types:
            last = t.rsplit("/", 1)[-1]
            if ":" in last:
                keys.append("guardduty:" + last.replace("-", "/", 1))
    keys.append("securityhub:finding")
    return list(dict.fromkeys(keys))


def severity_for(sev: AsffSeverity) -> Severity:
    """``Severity.Label``; when absent, ``Normalized`` (90+ CRITICAL, 70+ HIGH, 40+ MEDIUM, 1+ LOW)."""
    if sev.label and sev.label.upper() in _LABELS:
        return _LABELS[sev.label.upper()]
    n = sev.normalized or 0
    if n >= 90:
        return Severity.CRITICAL
    if n >= 70:
        return Severity.HIGH
    if n >= 40:
        return Severity.MEDIUM
    if n >= 1:
        return Severity.LOW
    return Severity.INFO


def _detail(res: AsffResource) -> dict[str, Any]:
    value = res.details.get(res.type)
    return value if isinstance(value, dict) else {}


def map_resource(res: AsffResource, account: str, region: str) -> Resource:
    """An ASFF resource → ``Resource`` with the short id CONTEXT.md expects (``i-…``, bucket name, …)."""
    rregion = res.region or region
    arn = arns.parse_arn(res.id)
    rid = res.id
    name = None
    if res.type == "AwsIamAccessKey":
        # GuardDuty-in-Security-Hub writes "AWS::IAM::AccessKey:ASIA…"; others write the bare id.
        rid = res.id.rsplit(":", 1)[-1] if res.id.startswith("AWS::IAM::AccessKey:") else res.id
        if not arns.ACCESS_KEY_ID_RE.match(rid):
            rid = _detail(res).get("AccessKeyId") or rid
        name = _detail(res).get("UserName") or _detail(res).get("PrincipalName")
        return Resource(type=res.type, id=str(rid), name=name, region=rregion, account=account)
    if arn is not None:
        rid = arn.resource_id
        if res.type == "AwsIamUser":
            rid = arn.resource.rsplit("/", 1)[-1]
        elif res.type == "AwsKmsKey":
            rid = arn.resource.split("/", 1)[-1]
        elif res.type == "AwsAutoScalingAutoScalingGroup" and "autoScalingGroupName/" in arn.resource:
            rid = arn.resource.split("autoScalingGroupName/", 1)[1]
    elif res.type == "AwsAccount":
        rid = res.id.rsplit(":", 1)[-1]
    if res.type == "AwsEc2SecurityGroup":
        name = _detail(res).get("GroupName")
    name = name or res.tags.get("Name")
    return Resource(
        type=res.type,
        id=rid,
        arn=res.id if arn else None,
        name=name if isinstance(name, str) else None,
        region=(arn.region if arn and arn.region else rregion) or None,
        account=(arn.account if arn and arn.account else account) or None,
        tags={str(k): str(v) for k, v in res.tags.items()},
    )


def open_ingress(res: AsffResource, group_id: str) -> list[dict[str, Any]]:
    """Ingress permissions of an AwsEc2SecurityGroup open to the world (no rule ids in ASFF)."""
    out: list[dict[str, Any]] = []
    for perm in _detail(res).get("IpPermissions") or []:
        if not isinstance(perm, dict):
            continue
        cidrs = [r.get("CidrIp") for r in perm.get("IpRanges") or [] if isinstance(r, dict)]
        cidrs += [r.get("CidrIpv6") for r in perm.get("Ipv6Ranges") or [] if isinstance(r, dict)]
        for cidr in cidrs:
            if cidr in OPEN_CIDRS:
                out.append(
                    {
                        "group_id": group_id,
                        "protocol": str(perm.get("IpProtocol", "-1")),
                        "from_port": perm.get("FromPort"),
                        "to_port": perm.get("ToPort"),
                        "cidr": cidr,
                    }
                )
    return out


@parsers.register(
    ("aws.securityhub", "Security Hub Findings - Imported"),
    ("aws.securityhub", "Security Hub Findings - Custom Action"),
)
class SecurityHubParser(Parser):
    """A Security Hub (ASFF) finding. Example: "S3 general purpose buckets should block public read access", HIGH."""

    kind = "securityhub"
    doc = SourceDoc(
        label="Security Hub",
        severity="`Severity.Label` (INFORMATIONAL → INFO); without a label, `Normalized` 90+ CRITICAL, 70+ HIGH, 40+ MEDIUM, 1+ LOW",
        resolved="Workflow.Status RESOLVED/SUPPRESSED or RecordState ARCHIVED",
        fingerprint="product ARN, finding Id (a Custom Action event: its first finding)",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        detail = SecurityHubDetail.model_validate(event.detail)
        finding = detail.findings[0]
        account = finding.aws_account_id or event.account
        region = finding.region or event.region
        resources = [map_resource(r, account, region) for r in finding.resources]
        for i, r in enumerate(resources):
            if r.type == "AwsEc2Instance" and not r.tags and arns.INSTANCE_ID_RE.match(r.id):
                tags = ctx.tags_for(r.type, r.id, r.account or account, r.region or region)
                if tags:
                    resources[i] = r.model_copy(update={"tags": tags, "name": r.name or tags.get("Name")})

        context, links = _context_and_links(finding, resources, region)

        workflow = (finding.workflow.status or "").upper()
        record_state = (finding.record_state or "").upper()
        active = workflow not in ("RESOLVED", "SUPPRESSED") and record_state != "ARCHIVED"
        product = finding.product_name or finding.product_fields.get("aws/securityhub/ProductName")
        fields: dict[str, Any] = {
            "Product": product,
            "Severity": finding.severity.label,
            "Type": finding.types[0] if finding.types else None,
            "Compliance": finding.compliance.status if finding.compliance else None,
            "Workflow": finding.workflow.status,
            "Record state": finding.record_state,
            "Resources": (
                ", ".join(f"{resource_kind(r.type)} {r.id}".strip() for r in resources[:5])
                + (" …" if len(resources) > 5 else "")
            )
            if len(resources) > 1
            else None,
        }
        title = finding.title or (finding.types[0] if finding.types else "Security Hub finding")
        if detail.action_name:
            fields = {"Custom action": detail.action_name, **fields}
        if len(detail.findings) > 1:
            fields["Findings in event"] = f"{len(detail.findings)} (showing the first)"
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, finding.product_arn, finding.id),
            title=title,
            summary=finding.description,
            severity=severity_for(finding.severity),
            account=account,
            region=region,
            resources=resources,
            fields=fields,
            links=console.keep(*links, console.docs_link("How to fix", finding.remediation.recommendation.url)),
            context=context,
            problems=finding_problems(finding),
            advice=finding.remediation.recommendation.text or "",
            active=active,
        )


def _context_and_links(
    finding: AsffFinding, resources: list[Resource], region: str
) -> tuple[dict[str, Any], list[Link | None]]:
    """What remediations need (open ingress, the access key) and console links, per resource."""
    context: dict[str, Any] = {"securityhub": {"finding_id": finding.id, "product_arn": finding.product_arn}}
    ingress: list[dict[str, Any]] = []
    links: list[Link | None] = [console.securityhub_finding(region, finding.id)]
    for raw, res in zip(finding.resources, resources, strict=True):
        rregion = res.region or region
        if res.type == "AwsEc2Instance":
            links.append(console.ec2_instance(rregion, res.id))
        elif res.type == "AwsEc2SecurityGroup":
            links.append(console.security_group(rregion, res.id))
            ingress += open_ingress(raw, res.id)
        elif res.type == "AwsS3Bucket":
            links.append(console.s3_bucket(rregion, res.id))
        elif res.type == "AwsIamUser":
            links.append(console.iam_user(res.id))
        elif res.type == "AwsIamAccessKey" and "access_key" not in context and arns.ACCESS_KEY_ID_RE.match(res.id):
            context["access_key"] = {"access_key_id": res.id, "user_name": res.name}
    if ingress:
        context["open_ingress"] = ingress
    return context, links
