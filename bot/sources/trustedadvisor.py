"""Trusted Advisor check item refreshes."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.models import Alert, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

_SEVERITY = {"ERROR": Severity.HIGH, "WARN": Severity.MEDIUM, "OK": Severity.INFO}


class CheckItem(Detail):
    check_name: str = Field(alias="check-name", min_length=1)
    status: str
    resource_id: str | None = None
    uuid: str | None = None
    check_item_detail: dict[str, Any] = Field(default_factory=dict, alias="check-item-detail")


def check_context(check: str, item: dict[str, Any], resources: list[Resource]) -> dict[str, Any]:
    """What a remediation needs from the checks EventOps can fix (bot/sources/CONTEXT.md):
    the exposed key and its user; the security group's world-open port ("Red" items)."""
    if check == "Exposed Access Keys":
        key, user = item.get("Access Key ID"), item.get("User Name (IAM or Root)")
        if isinstance(key, str) and key.startswith(("AKIA", "ASIA")):
            return {"access_key": {"access_key_id": key, "user_name": user if isinstance(user, str) else None}}
    if check.startswith("Security Groups - ") and str(item.get("Status", "")).lower() == "red":
        group = item.get("Security Group ID") or next(
            (r.id for r in resources if r.type == "AwsEc2SecurityGroup"), None
        )
        port = str(item.get("Port") or "").split("-", 1)[0]
        if isinstance(group, str) and group.startswith("sg-") and port.isdigit():
            rule = {
                "group_id": group,
                "protocol": str(item.get("Protocol") or "tcp"),
                "from_port": int(port),
                "cidr": "0.0.0.0/0",
            }
            return {"open_ingress": [{**rule, "to_port": int(port)}]}
    return {}


@parsers.register(("aws.trustedadvisor", "Trusted Advisor Check Item Refresh Notification"))
class TrustedAdvisorParser(Parser):
    """A Trusted Advisor check item changed status. Example: "Exposed Access Keys" ERROR → HIGH; OK resolves."""

    kind = "trustedadvisor"
    doc = SourceDoc(
        label="Trusted Advisor",
        severity="ERROR HIGH, WARN MEDIUM, OK INFO",
        resolved="OK",
        fingerprint="account, check, resource",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = CheckItem.model_validate(event.detail)
        status = d.status.upper()
        item = {str(k): v for k, v in d.check_item_detail.items() if v not in (None, "")}
        region = item.get("Region") if arns.is_region(item.get("Region")) else event.region
        resources = []
        if d.resource_id:
            resources.append(arns.resource_from_arn(d.resource_id))
        parsed = arns.parse_arn(d.resource_id) if d.resource_id else None
        subject = d.resource_id and (parsed.resource_id if parsed else d.resource_id)
        context = check_context(d.check_name, item, resources)
        if "access_key" in context:
            key = context["access_key"]
            resources.append(Resource(type="AwsIamAccessKey", id=key["access_key_id"], account=event.account or None))
        fields: dict[str, Any] = {"Check": d.check_name, "Status": status}
        for key, value in list(item.items())[:8]:
            fields[key] = value
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.account, d.check_name, d.resource_id or d.uuid),
            title=f"Trusted Advisor: {d.check_name}" + (f" — {subject}" if subject else "") + f" ({status})",
            severity=_SEVERITY.get(status, Severity.LOW),
            region=str(region or ""),
            resources=resources,
            fields=fields,
            links=[console.trusted_advisor(d.check_name)],
            problems=[f"trustedadvisor:{d.check_name}"],
            context=context,
            active=status != "OK",
        )
