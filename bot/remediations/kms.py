"""KMS remediations: cancel a scheduled key deletion.

Example::

    run(remediations["kms.cancel-key-deletion"], ctx, {"key_id": "1234abcd-12ab-34cd-56ef-1234567890ab"})
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.models import Alert, Risk
from bot.remediations.base import Remediation, RemediationContext, RemediationParams, register
from bot.remediations.common import coerce_params, not_found_as, tag_dict, where

PENDING = ("PendingDeletion", "PendingReplicaDeletion")


class KeyParams(RemediationParams):
    key_id: str = Field(min_length=1, max_length=2048, description="key id or key ARN")


@register
class CancelKeyDeletion(Remediation):
    """Cancel the scheduled deletion of a KMS key.

    AWS leaves the key **Disabled** after a cancel: nothing can encrypt or decrypt with it until
    someone enables it (kms:EnableKey), which we deliberately leave to a human who has checked
    why the deletion was scheduled. Not reversible: scheduling deletion again is not a fix.

    Example::

        run(remediations["kms.cancel-key-deletion"], ctx, {"key_id": "1234abcd-12ab-34cd-56ef-1234567890ab"})
    """

    name = "kms.cancel-key-deletion"
    fixes = (
        "kms:ScheduleKeyDeletion",
        "securityhub-control:KMS.3",
        "config-rule:*kms-cmk-not-scheduled-for-deletion*",
        "ebs:kms-key-pending-deletion",  # a volume can't be created/attached: its key is going away
    )
    title = "Cancel KMS key deletion"
    risk = Risk.LOW
    permissions = ("kms:DescribeKey", "kms:ListResourceTags", "kms:CancelKeyDeletion")
    resource_types = ("AwsKmsKey",)
    caveat = "AWS leaves the key Disabled after a cancel: enable it (kms:EnableKey) once reviewed"
    Params = KeyParams

    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        key = (alert.context.get("kms") or {}).get("key_id")
        if key:
            return {"key_id": key}
        for res in alert.resources:
            if res.type == "AwsKmsKey" and res.id:
                return {"key_id": res.id}
        return None

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        p = coerce_params(self, params)
        return [
            f"Would cancel the scheduled deletion of KMS key {p.key_id} {where(account, region)}".rstrip(),
            "Would leave the key Disabled until someone enables it",
        ]

    def example_params(self) -> dict[str, Any]:
        return {"key_id": "1234abcd-12ab-34cd-56ef-1234567890ab"}

    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        kms = ctx.client("kms")
        with not_found_as({"NotFoundException"}, f"KMS key {params.key_id}"):
            meta = kms.describe_key(KeyId=params.key_id)["KeyMetadata"]
            tags = tag_dict(kms.list_resource_tags(KeyId=meta["KeyId"]).get("Tags"), "TagKey", "TagValue")
        deletion = meta.get("DeletionDate")
        return {
            "key_id": meta["KeyId"],
            "key_state": meta.get("KeyState"),
            "deletion_date": deletion.isoformat() if hasattr(deletion, "isoformat") else deletion,
            "tags": tags,
        }

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        return state.get("key_state") not in PENDING

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        ctx.client("kms").cancel_key_deletion(KeyId=pre_state.get("key_id") or params.key_id)
        return f"Cancelled the deletion of KMS key {params.key_id}"
