"""KMS keys scheduled for deletion (CloudTrail ``ScheduleKeyDeletion``) and deleted ("KMS CMK Deletion")."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.models import Alert, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers
from bot.sources.cloudtrail import ApiCall


class CmkDeletion(Detail):
    key_id: str = Field(alias="key-id", min_length=1)


def key_resource(key: str, account: str, region: str) -> Resource:
    """A key id, alias-free key ARN or ``mrk-`` id → ``AwsKmsKey`` with the bare key id."""
    parsed = arns.parse_arn(key)
    if parsed and parsed.resource.startswith("key/"):
        return Resource(type="AwsKmsKey", id=parsed.resource[4:], arn=key, region=parsed.region, account=parsed.account)
    return Resource(
        type="AwsKmsKey",
        id=key,
        arn=arns.build_arn("kms", region, account, f"key/{key}"),
        region=region,
        account=account,
    )


def _fingerprint(key: Resource, account: str, region: str) -> str:
    # Scheduling, cancelling and the final deletion of one key share one message.
    return Alert.make_fingerprint("kms", account, region, key.id, "key-deletion")


@parsers.register(("aws.kms", "AWS API Call via CloudTrail"))
class KmsApiCallParser(Parser):
    """KMS API calls. Example: ScheduleKeyDeletion for 1234abcd-… in 7 days → HIGH; CancelKeyDeletion resolves it."""

    kind = "kms"
    doc = SourceDoc(
        label="KMS API calls",
        severity="ScheduleKeyDeletion HIGH, DisableKey MEDIUM, CancelKeyDeletion INFO",
        resolved="CancelKeyDeletion",
        fingerprint="account, region, key id (schedule, cancel and deletion share one)",
    )
    detail_filter = {"eventName": ["ScheduleKeyDeletion", "CancelKeyDeletion", "DisableKey"]}

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = ApiCall.model_validate(event.detail)
        region = d.aws_region if arns.is_region(d.aws_region) else event.region
        raw_key = d.response.get("keyId") or d.request.get("keyId")
        if not isinstance(raw_key, str) or not raw_key:
            raise ValueError(f"{d.event_name} without a keyId")
        key = key_resource(raw_key, event.account, region)
        window = d.request.get("pendingWindowInDays")
        deletion_date = d.response.get("deletionDate")
        actor = d.user_identity.arn or d.user_identity.user_name or d.user_identity.type or "unknown"
        fields: dict[str, Any] = {"Key": key.id, "API call": d.event_name, "By": actor, "Source IP": d.source_ip}
        active = True
        if d.event_name == "ScheduleKeyDeletion":
            severity = Severity.HIGH
            title = f"KMS key {key.id} scheduled for deletion"
            summary = (
                f"{actor} scheduled the key for deletion"
                + (f" in {window} days" if window else "")
                + (f" (on {deletion_date})." if deletion_date else ".")
            )
            fields["Deletion date"] = deletion_date
            fields["Waiting period"] = f"{window} days" if window else None
        elif d.event_name == "CancelKeyDeletion":
            severity, active = Severity.INFO, False
            title = f"KMS key {key.id}: deletion cancelled"
            summary = f"{actor} cancelled the scheduled deletion."
        elif d.event_name == "DisableKey":
            severity = Severity.MEDIUM
            title = f"KMS key {key.id} disabled"
            summary = f"{actor} disabled the key; data encrypted with it can't be decrypted until it is enabled."
        else:
            severity = Severity.INFO
            title = f"KMS {d.event_name} on {key.id}"
            summary = ""
        if d.error_code:
            severity, active = Severity.LOW if severity.at_least(Severity.MEDIUM) else Severity.INFO, False
            title = f"Attempted and failed: {title}"
            fields["Error"] = f"{d.error_code}: {d.error_message or ''}".rstrip(": ")
        fingerprint = (
            _fingerprint(key, event.account, region)
            if d.event_name in ("ScheduleKeyDeletion", "CancelKeyDeletion") and not d.error_code
            else Alert.make_fingerprint(self.kind, event.account, region, key.id, d.event_name, d.error_code)
        )
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=fingerprint,
            title=title,
            summary=summary,
            severity=severity,
            region=region,
            resources=[key],
            fields=fields,
            links=console.keep(console.kms_key(region, key.id), console.cloudtrail_event(region, d.event_id or "")),
            context={"kms": {"key_id": key.id}},
            problems=[f"kms:{d.event_name}" + (":failed" if d.error_code else "")],
            active=active,
        )


@parsers.register(("aws.kms", "KMS CMK Deletion"))
class KmsKeyDeletedParser(Parser):
    """KMS deleted a key at the end of its waiting period. Example: key 1234abcd-… deleted → MEDIUM (not reversible)."""

    kind = "kms"
    doc = SourceDoc(
        label="KMS key deleted",
        severity="MEDIUM (nothing left to undo)",
        resolved="—",
        fingerprint="same as ScheduleKeyDeletion",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = CmkDeletion.model_validate(event.detail)
        arn = next((r for r in event.resources if ":kms:" in r), None)
        key = key_resource(arn or d.key_id, event.account, event.region)
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=_fingerprint(key, event.account, event.region),
            title=f"KMS key {key.id} was deleted",
            summary="The key's waiting period ended and KMS deleted it; data encrypted under it can no longer be decrypted.",
            severity=Severity.MEDIUM,
            resources=[key],
            fields={"Key": key.id},
            context={"kms": {"key_id": key.id}},
        )
