"""Amazon Macie v2 findings (``aws.macie`` / "Macie Finding"): S3 bucket policy and sensitive-data findings."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from bot.models import Alert, Link, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

# Macie finding ids are hex with dashes (e.g. 64b917aa-3843-014c-91d8-937ffexample in the docs).
FINDING_ID_RE = re.compile(r"^[0-9A-Za-z-]{1,128}$")

_SEVERITIES = {"high": Severity.HIGH, "medium": Severity.MEDIUM, "low": Severity.LOW}


class MacieSeverity(Detail):
    description: str = ""
    score: int | None = None


class S3Bucket(Detail):
    name: str = ""
    arn: str | None = None


class S3Object(Detail):
    key: str | None = None
    path: str | None = None


class ResourcesAffected(Detail):
    s3_bucket: S3Bucket | None = Field(None, alias="s3Bucket")
    s3_object: S3Object | None = Field(None, alias="s3Object")


class Detection(Detail):
    type: str = ""
    count: int | None = None


class SensitiveDataItem(Detail):
    category: str = ""
    total_count: int | None = Field(None, alias="totalCount")
    detections: list[Detection] = []


class ClassificationResult(Detail):
    sensitive_data: list[SensitiveDataItem] = Field([], alias="sensitiveData")


class ClassificationDetails(Detail):
    job_id: str | None = Field(None, alias="jobId")
    result: ClassificationResult | None = None


class MacieFinding(Detail):
    id: str = ""
    type: str = Field(min_length=1)
    title: str = ""
    description: str = ""
    category: str = ""
    archived: bool = False
    count: int | None = None
    severity: MacieSeverity = Field(default_factory=MacieSeverity)
    resources_affected: ResourcesAffected = Field(default_factory=ResourcesAffected, alias="resourcesAffected")
    classification_details: ClassificationDetails | None = Field(None, alias="classificationDetails")


def _finding_link(region: str, finding_id: str) -> Link | None:
    if not (arns.is_region(region) and arns.matches(FINDING_ID_RE, finding_id)):
        return None
    return Link(
        label="Macie finding",
        url=f"{console._host(region)}/macie/home?region={region}#findings?search=id%3D{console._q(finding_id)}"
        f"&macros=current&itemId={console._q(finding_id)}",
    )


def _detections(d: MacieFinding) -> str:
    result = d.classification_details.result if d.classification_details else None
    if result is None:
        return ""
    parts: list[str] = []
    for item in result.sensitive_data:
        for det in item.detections:
            if det.type:
                parts.append(f"{det.type} ×{det.count}" if det.count else det.type)
    return ", ".join(parts)


@parsers.register(("aws.macie", "Macie Finding"))
class MacieParser(Parser):
    """Amazon Macie findings. Example: Policy:IAMUser/S3BucketPublic on bucket my-bucket → HIGH; archived → resolved."""

    kind = "macie"
    doc = SourceDoc(
        label="Macie",
        severity="the finding's severity.description: High HIGH, Medium MEDIUM, Low LOW",
        resolved="the finding is archived",
        fingerprint="account, region, finding id (type + bucket + object when there is no id)",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = MacieFinding.model_validate(event.detail)
        bucket = d.resources_affected.s3_bucket
        if bucket is None or not bucket.name:
            raise ValueError(f"Macie finding {d.id or d.type} without an S3 bucket")
        region = str(event.detail.get("region") or "")
        region = region if arns.is_region(region) else event.region
        account = str(event.detail.get("accountId") or "")
        account = account if arns.is_account(account) else event.account
        key = d.resources_affected.s3_object.key if d.resources_affected.s3_object else None
        bucket_arn = bucket.arn or arns.build_arn("s3", "", "", bucket.name)
        resources = [Resource(type="AwsS3Bucket", id=bucket.name, arn=bucket_arn, region=region, account=account)]
        if key:
            resources.append(
                Resource(type="AwsS3Object", id=f"{bucket.name}/{key}", arn=f"{bucket_arn}/{key}", region=region)
            )
        active = not d.archived
        severity = _SEVERITIES.get(d.severity.description.lower(), Severity.MEDIUM) if active else Severity.INFO
        where = f"{bucket.name}/{key}" if key else bucket.name
        title = f"Macie: {d.title or d.type} ({where})"
        if not active:
            title = f"Archived — {title}"
        fields: dict[str, Any] = {
            "Finding type": d.type,
            "Object": key,
            "Sensitive data": _detections(d),
            "Occurrences": d.count if d.count and d.count > 1 else None,
            "Finding id": d.id,
        }
        fingerprint = (
            Alert.make_fingerprint(self.kind, account, region, d.id)
            if d.id
            else Alert.make_fingerprint(self.kind, account, region, d.type, bucket.name, key)
        )
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=fingerprint,
            title=title,
            summary=d.description,
            severity=severity,
            account=account,
            region=region,
            resources=resources,
            fields=fields,
            links=console.keep(_finding_link(region, d.id), console.s3_bucket(region, bucket.name)),
            context={"bucket": {"name": bucket.name}, "macie": {"finding_id": d.id, "type": d.type}},
            problems=[f"macie:{d.type}"],
            active=active,
        )
