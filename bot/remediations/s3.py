"""S3 remediations: block public access on a bucket.

Example::

    run(remediations["s3.block-public-access"], ctx, {"bucket": "my-bucket"})
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pydantic import Field

from bot.models import Alert, Risk
from bot.remediations.base import Remediation, RemediationContext, RemediationParams, register
from bot.remediations.common import coerce_params, error_code, not_found_as, tag_dict, where

FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
BUCKET_NAME = r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$"


class BucketParams(RemediationParams):
    bucket: str = Field(pattern=BUCKET_NAME)


@register
class BlockPublicAccess(Remediation):
    """Turn on all four S3 Block Public Access settings of one bucket.

    Public ACLs and bucket policies stop granting public access at once, so a static website
    or public download served from the bucket stops working. The account-level setting is not
    touched. Undo puts the previous configuration back, or deletes it when there was none.

    Example::

        run(remediations["s3.block-public-access"], ctx, {"bucket": "my-bucket"})
    """

    name = "s3.block-public-access"
    fixes = (
        "securityhub-control:S3.2",
        "securityhub-control:S3.3",
        "securityhub-control:S3.8",
        "config-rule:*s3-bucket-public-read-prohibited*",
        "config-rule:*s3-bucket-public-write-prohibited*",
        "config-rule:*s3-bucket-level-public-access-prohibited*",
        "trustedadvisor:Amazon S3 Bucket Permissions",
        "cloudtrail:s3-public-*",
        "guardduty:Policy:S3/Bucket*",
        "guardduty:*:S3/AnomalousBehavior*",
        "macie:Policy:IAMUser/S3Block*",
        "macie:Policy:IAMUser/S3BucketPublic",
        "accessanalyzer:public:AWS::S3::Bucket",
    )
    title = "Block public access to bucket"
    risk = Risk.MEDIUM
    # The IAM actions carry "Bucket"; the API operations (Get/Put/DeletePublicAccessBlock) do not.
    permissions = ("s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock", "s3:GetBucketTagging")
    resource_types = ("AwsS3Bucket",)
    reversible = True
    Params = BucketParams

    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        for res in alert.resources:
            if res.type == "AwsS3Bucket" and res.id:
                return {"bucket": res.id}
        name = (alert.context.get("bucket") or {}).get("name")
        return {"bucket": name} if name else None

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        p = coerce_params(self, params)
        return [
            f"Would turn on all four Block Public Access settings of bucket {p.bucket} {where(account, region)}".rstrip()
        ]

    def example_params(self) -> dict[str, Any]:
        return {"bucket": "example-bucket"}

    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        s3 = ctx.client("s3")
        what = f"bucket {params.bucket}"
        with not_found_as({"NoSuchBucket"}, what):
            try:
                config = s3.get_public_access_block(Bucket=params.bucket)["PublicAccessBlockConfiguration"]
            except ClientError as exc:
                if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
                    raise
                config = None
            try:
                tags = tag_dict(s3.get_bucket_tagging(Bucket=params.bucket).get("TagSet"))
            except ClientError as exc:
                if error_code(exc) != "NoSuchTagSet":
                    raise
                tags = {}
        block = {f: bool(config.get(f)) for f in FLAGS} if config is not None else None
        return {"bucket": params.bucket, "public_access_block": block, "tags": tags}

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        block = state.get("public_access_block") or {}
        return all(block.get(f) is True for f in FLAGS)

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        ctx.client("s3").put_public_access_block(
            Bucket=params.bucket, PublicAccessBlockConfiguration={f: True for f in FLAGS}
        )
        return f"Blocked public access to bucket {params.bucket} (all four settings on)"

    def undo(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        s3 = ctx.client("s3")
        previous = pre_state.get("public_access_block")
        if previous is None:
            s3.delete_public_access_block(Bucket=params.bucket)
            return f"Removed the Block Public Access configuration of {params.bucket} (it had none before)"
        s3.put_public_access_block(Bucket=params.bucket, PublicAccessBlockConfiguration=dict(previous))
        on = [f for f in FLAGS if previous.get(f)]
        return f"Restored the previous Block Public Access settings of {params.bucket} ({', '.join(on) or 'all off'})"
