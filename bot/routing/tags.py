"""Tag enrichment for parsers, cached per invocation; a failed lookup never fails the alert."""

from __future__ import annotations

import logging
from typing import Any

from bot.aws import reads_with_own_credentials
from bot.config import Account

log = logging.getLogger("eventops.routing")

# What tag enrichment calls, in any account: granted to the notify role for the bot's account
# and to the member accounts' read-only role (infra/member-account-role.yml).
TAG_PERMISSIONS: tuple[str, ...] = ("ec2:DescribeTags", "s3:GetBucketTagging")


class TagCache:
    """``TagCache(sessions, accounts)(rtype, rid, account, region) -> tags``; one AWS call per
    resource, and none in an account that is not in ``accounts`` (the config's)."""

    def __init__(self, sessions: Any, accounts: list[Account]) -> None:
        self.sessions = sessions
        self.accounts = accounts
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
        if not any(a.id == account for a in self.accounts):
            # Not the bot's to read: an unconfigured account is never looked up, least of all
            # with the bot's own credentials (a resource id there may name one of ours).
            log.info("no tag lookup for %s %s: account %s is not configured", rtype, rid, account or "(none)")
            return {}
        own = reads_with_own_credentials(self.accounts, account)
        where = None if own else account  # None: the bot's own account, listed without a role
        if rtype in {"AwsEc2Instance", "AwsEc2SecurityGroup", "AwsEc2Volume"}:
            ec2 = self.sessions.client("ec2", region=region or None, account=where, read_only=True)
            resp = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [rid]}])
            return {t["Key"]: t["Value"] for t in resp.get("Tags", [])}
        if rtype == "AwsS3Bucket":
            s3 = self.sessions.client("s3", region=region or None, account=where, read_only=True)
            try:
                resp = s3.get_bucket_tagging(Bucket=rid)
            except Exception:  # noqa: BLE001 - NoSuchTagSet is the normal "no tags" answer
                return {}
            return {t["Key"]: t["Value"] for t in resp.get("TagSet", [])}
        return {}
