"""Tag enrichment for parsers, cached per invocation; a failed lookup never fails the alert."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("eventops.routing")

# What tag enrichment calls, in any account: granted to the notify role for the bot's account
# and to the member accounts' read-only role (infra/member-account-role.yml).
TAG_PERMISSIONS: tuple[str, ...] = ("ec2:DescribeTags", "s3:GetBucketTagging")


class TagCache:
    """``TagCache(sessions)(rtype, rid, account, region) -> tags``; one AWS call per resource."""

    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions
        self._cache: dict[tuple[str, str, str, str], dict[str, str]] = {}

    def __call__(self, rtype: str, rid: str, account: str, region: str) -> dict[str, str]:
        key = (rtype, rid, account, region)
        if key not in self._cache:
            try:
                self._cache[key] = self._lookup(rtype, rid, account, region)
            except Exception as exc:  # noqa: BLE001 - enrichment is best effort
                log.warning("tag lookup for %s %s failed: %s", rtype, rid, type(exc).__name__)
                self._cache[key] = {}
        return self._cache[key]

    def _lookup(self, rtype: str, rid: str, account: str, region: str) -> dict[str, str]:
        if rtype in {"AwsEc2Instance", "AwsEc2SecurityGroup", "AwsEc2Volume"}:
            ec2 = self.sessions.client("ec2", region=region or None, account=account or None, read_only=True)
            resp = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [rid]}])
            return {t["Key"]: t["Value"] for t in resp.get("Tags", [])}
        if rtype == "AwsS3Bucket":
            s3 = self.sessions.client("s3", region=region or None, account=account or None, read_only=True)
            try:
                resp = s3.get_bucket_tagging(Bucket=rid)
            except Exception:  # noqa: BLE001 - NoSuchTagSet is the normal "no tags" answer
                return {}
            return {t["Key"]: t["Value"] for t in resp.get("TagSet", [])}
        return {}
