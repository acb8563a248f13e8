"""AWS Health events: issues, scheduled changes, account notifications."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.models import Alert, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

_CATEGORY_SEVERITY = {
    "issue": Severity.HIGH,
    "investigation": Severity.MEDIUM,
    "scheduledChange": Severity.MEDIUM,
    "accountNotification": Severity.LOW,
}


class Description(Detail):
    language: str = "en_US"
    latest_description: str = Field("", alias="latestDescription")


class AffectedEntity(Detail):
    entity_value: str = Field("", alias="entityValue")
    entity_arn: str | None = Field(None, alias="entityArn")
    status: str | None = None
    tags: dict[str, Any] = Field(default_factory=dict)


class HealthDetail(Detail):
    event_arn: str = Field(alias="eventArn")
    service: str = ""
    event_type_code: str = Field(alias="eventTypeCode")
    event_type_category: str = Field("", alias="eventTypeCategory")
    event_scope_code: str | None = Field(None, alias="eventScopeCode")
    status_code: str | None = Field(None, alias="statusCode")
    event_region: str | None = Field(None, alias="eventRegion")
    start_time: str | None = Field(None, alias="startTime")
    end_time: str | None = Field(None, alias="endTime")
    event_description: list[Description] = Field([], alias="eventDescription")
    affected_entities: list[AffectedEntity] = Field([], alias="affectedEntities")


def severity_for(detail: HealthDetail) -> Severity:
    """Category decides (issue HIGH, scheduled change MEDIUM, notification LOW); ``AWS_RISK_*`` is
    CRITICAL; a closed event is INFO."""
    if (detail.status_code or "").lower() == "closed":
        return Severity.INFO
    if "_RISK_" in detail.event_type_code or detail.event_type_code.startswith("AWS_RISK"):
        return Severity.CRITICAL
    return _CATEGORY_SEVERITY.get(detail.event_type_category, Severity.MEDIUM)


def entity_resource(entity: AffectedEntity, account: str, region: str) -> Resource:
    value = entity.entity_value
    tags = {str(k): str(v) for k, v in entity.tags.items()}
    if arns.INSTANCE_ID_RE.match(value):
        rtype = "AwsEc2Instance"
    elif arns.VOLUME_ID_RE.match(value):
        rtype = "AwsEc2Volume"
    elif arns.ACCESS_KEY_ID_RE.match(value):
        rtype = "AwsIamAccessKey"
    elif arns.parse_arn(entity.entity_arn or value):
        res = arns.resource_from_arn(entity.entity_arn or value)
        return res.model_copy(update={"tags": tags, "name": tags.get("Name")})
    else:
        rtype = "Other"
    return Resource(
        type=rtype,
        id=value,
        arn=entity.entity_arn if arns.parse_arn(entity.entity_arn) else None,
        name=tags.get("Name"),
        region=region or None,
        account=account or None,
        tags=tags,
    )


@parsers.register(("aws.health", "AWS Health Event"))
class HealthParser(Parser):
    """An AWS Health event. Example: AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED for i-0abc → MEDIUM."""

    kind = "health"
    doc = SourceDoc(
        label="AWS Health",
        severity="issue HIGH, investigation/scheduledChange MEDIUM, accountNotification LOW, `AWS_RISK_*` CRITICAL, closed INFO",
        resolved="statusCode closed",
        fingerprint="account, event ARN",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        detail = HealthDetail.model_validate(event.detail)
        region = detail.event_region if arns.is_region(detail.event_region) else event.region
        description = next((d.latest_description for d in detail.event_description if d.language.startswith("en")), "")
        if not description and detail.event_description:
            description = detail.event_description[0].latest_description
        resources = [entity_resource(e, event.account, region) for e in detail.affected_entities[:20] if e.entity_value]
        links = [console.health_event(detail.event_arn)]
        for r in resources[:3]:
            if r.type == "AwsEc2Instance":
                links.append(console.ec2_instance(region, r.id))
        category = {"scheduledChange": "scheduled change", "accountNotification": "account notification"}.get(
            detail.event_type_category, detail.event_type_category or "event"
        )
        code = detail.event_type_code
        readable = code.removeprefix("AWS_").removeprefix(f"{detail.service}_").replace("_", " ").lower()
        fields = {
            "Service": detail.service,
            "Event type": code,
            "Category": category,
            "Status": detail.status_code,
            "Scope": detail.event_scope_code,
            "Start": detail.start_time,
            "End": detail.end_time,
            "Affected": ", ".join(r.id for r in resources[:5])
            + (f" (+{len(resources) - 5} more)" if len(resources) > 5 else ""),
        }
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.account, detail.event_arn),
            title=f"AWS Health {category}: {detail.service} {readable}".strip(),
            summary=description,
            severity=severity_for(detail),
            region=region,
            resources=resources,
            fields=fields,
            links=console.keep(*links),
            problems=[f"health:{detail.event_type_code}"],
            active=(detail.status_code or "").lower() != "closed",
        )
