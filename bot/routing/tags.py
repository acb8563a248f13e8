"""Tag enrichment for parsers; a failed lookup never fails the alert.

Lookups are cached for the process's lifetime (a warm Lambda container serves many
invocations), keyed by (resource type, id, account, region):

- an answer is kept ``TTL_S`` (300 s): a tag changed in AWS shows within five minutes;
- a failed lookup (throttled, denied, down) is kept ``FAILED_TTL_S`` (30 s) as "no tags", so a
  struggling API is not asked again for every event;
- at most ``MAX_ENTRIES`` (5000) entries; past that the oldest entry is evicted.

``clear_cache()`` empties it (tests do, between tests). The clock is ``_clock`` (monotonic).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from bot.aws import reads_with_own_credentials
from bot.config import Account

log = logging.getLogger("eventops.routing")

# What tag enrichment calls, in any account: granted to the notify role for the bot's account
# and to the member accounts' read-only role (infra/member-account-role.yml).
TAG_PERMISSIONS: tuple[str, ...] = ("ec2:DescribeTags", "s3:GetBucketTagging")

TTL_S = 300.0
FAILED_TTL_S = 30.0
MAX_ENTRIES = 5000

_Key = tuple[str, str, str, str]
# key → (expires at on ``_clock``, tags); oldest first
_cache: OrderedDict[_Key, tuple[float, dict[str, str]]] = OrderedDict()
_lock = threading.Lock()


def _clock() -> float:
    return time.monotonic()


def clear_cache() -> None:
    """Forget every cached lookup."""
    with _lock:
        _cache.clear()


def _cached(key: _Key) -> dict[str, str] | None:
    with _lock:
        hit = _cache.get(key)
        if hit is None:
            return None
        if hit[0] <= _clock():
            del _cache[key]
            return None
        return hit[1]


def _remember(key: _Key, tags: dict[str, str], ttl_s: float) -> None:
    with _lock:
        _cache.pop(key, None)
        _cache[key] = (_clock() + ttl_s, tags)
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)


class TagCache:
    """``TagCache(sessions, accounts)(rtype, rid, account, region) -> tags``; one AWS call per
    resource while the module's cache holds it (``TTL_S``), and none in an account that is not
    in ``accounts`` (the config's)."""

    def __init__(self, sessions: Any, accounts: list[Account]) -> None:
        self.sessions = sessions
        self.accounts = accounts

    def __call__(self, rtype: str, rid: str, account: str, region: str) -> dict[str, str]:
        key = (rtype, rid, account, region)
        hit = _cached(key)
        if hit is not None:
            return dict(hit)
        try:
            tags = self._lookup(rtype, rid, account, region)
        except Exception as exc:  # noqa: BLE001 - enrichment is best effort
            log.warning("tag lookup for %s %s failed: %s", rtype, rid, type(exc).__name__)
            _remember(key, {}, FAILED_TTL_S)
            return {}
        _remember(key, tags, TTL_S)
        return dict(tags)

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
