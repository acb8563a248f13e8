"""IAM remediations: deactivate an access key and revoke the sessions issued before now.

Example::

    run(remediations["iam.deactivate-access-key"], ctx, {"user_name": "ci-bot", "access_key_id": "AKIA..."})
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError
from pydantic import Field

from bot.errors import NotFoundError
from bot.models import Alert, Risk
from bot.remediations.base import Remediation, RemediationContext, RemediationParams, register
from bot.remediations.common import coerce_params, error_code, not_found_as, tag_dict, utc_now_iso, where

REVOKE_POLICY = "EventOpsRevokeOlderSessions"


def revoke_sessions_policy(before_iso: str) -> dict[str, Any]:
    """Deny everything to sessions issued before ``before_iso`` (what the console's "revoke
    active sessions" does for roles). Long-term keys carry no aws:TokenIssueTime, so the
    user's other access keys keep working."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EventOpsRevokeOlderSessions",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": before_iso}},
            }
        ],
    }


class AccessKeyParams(RemediationParams):
    user_name: str = Field(min_length=1, max_length=64)
    # Only long-term keys (AKIA) can be deactivated; ASIA keys are STS session credentials.
    access_key_id: str = Field(pattern=r"^AKIA[A-Z0-9]{12,124}$")


@register
class DeactivateAccessKey(Remediation):
    """Deactivate an IAM user's access key and deny the user's sessions issued before now.

    Deactivating a key does not revoke STS credentials already obtained with it
    (GetSessionToken / GetFederationToken sessions live up to 36 hours), so we also put the
    inline policy ``EventOpsRevokeOlderSessions`` on the user: Deny * when aws:TokenIssueTime
    is before now. Undo re-activates the key and removes the policy (or restores the one that
    was there).

    Risk HIGH: whatever uses the key (a CI job, an app) fails at once, and every older session
    of the user is cut, not only those of this key; two approvers are worth it.

    Example::

        run(remediations["iam.deactivate-access-key"], ctx,
            {"user_name": "ci-bot", "access_key_id": "AKIAIOSFODNN7EXAMPLE"})
    """

    name = "iam.deactivate-access-key"
    fixes = (
        "securityhub-control:IAM.3",
        "securityhub-control:IAM.8",
        "securityhub-control:IAM.22",
        "config-rule:*access-keys-rotated*",
        "config-rule:*iam-user-unused-credentials-check*",
        "trustedadvisor:Exposed Access Keys",
        "health:AWS_RISK_CREDENTIALS_EXPOSED*",
        "health:AWS_RISK_IAM_QUARANTINE",
        "guardduty:*:IAMUser/*",
        "!guardduty:*:IAMUser/RootCredentialUsage",
        "cloudtrail:iam-create-access-key",
    )
    title = "Deactivate access key and revoke older sessions"
    risk = Risk.HIGH
    permissions = (
        "iam:ListAccessKeys",
        "iam:ListUserTags",
        "iam:GetUserPolicy",
        "iam:UpdateAccessKey",
        "iam:PutUserPolicy",
        "iam:DeleteUserPolicy",
    )
    resource_types = ("AwsIamAccessKey",)
    reversible = True
    caveat = "every session of the user issued before now is denied, not only this key's"
    Params = AccessKeyParams

    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        ctx_key = alert.context.get("access_key") or {}
        user = ctx_key.get("user_name")
        key = ctx_key.get("access_key_id")
        if not key:
            key = next((r.id for r in alert.resources if r.type == "AwsIamAccessKey"), None)
        if user and key and str(key).startswith("AKIA"):
            return {"user_name": user, "access_key_id": key}
        return None

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        p = coerce_params(self, params)
        loc = f" {where(account, '')}" if account else ""
        return [
            f"Would deactivate access key {p.access_key_id} of IAM user {p.user_name}{loc}",
            f"Would deny every session of {p.user_name} issued before now (inline policy {REVOKE_POLICY})",
        ]

    def example_params(self) -> dict[str, Any]:
        return {"user_name": "ci-bot", "access_key_id": "AKIAIOSFODNN7EXAMPLE"}

    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        iam = ctx.client("iam")
        with not_found_as({"NoSuchEntity"}, f"IAM user {params.user_name}"):
            keys = iam.list_access_keys(UserName=params.user_name).get("AccessKeyMetadata", [])
            tags = tag_dict(iam.list_user_tags(UserName=params.user_name).get("Tags"))
        key = next((k for k in keys if k["AccessKeyId"] == params.access_key_id), None)
        if key is None:
            raise NotFoundError(f"access key {params.access_key_id} of {params.user_name} does not exist")
        try:
            policy = iam.get_user_policy(UserName=params.user_name, PolicyName=REVOKE_POLICY)["PolicyDocument"]
        except ClientError as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            policy = None
        if isinstance(policy, str):
            policy = json.loads(policy)
        return {
            "user_name": params.user_name,
            "access_key_id": params.access_key_id,
            "status": key.get("Status"),
            "revoke_sessions_policy": policy,
            "tags": tags,
        }

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        return state.get("status") == "Inactive" and bool(state.get("revoke_sessions_policy"))

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        iam = ctx.client("iam")
        before = utc_now_iso(ctx)
        iam.update_access_key(UserName=params.user_name, AccessKeyId=params.access_key_id, Status="Inactive")
        iam.put_user_policy(
            UserName=params.user_name,
            PolicyName=REVOKE_POLICY,
            PolicyDocument=json.dumps(revoke_sessions_policy(before)),
        )
        return (
            f"Deactivated access key {params.access_key_id} of {params.user_name} and denied "
            f"its sessions issued before {before}"
        )

    def undo(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        iam = ctx.client("iam")
        iam.update_access_key(
            UserName=params.user_name, AccessKeyId=params.access_key_id, Status=pre_state.get("status") or "Active"
        )
        previous = pre_state.get("revoke_sessions_policy")
        if previous:
            iam.put_user_policy(
                UserName=params.user_name, PolicyName=REVOKE_POLICY, PolicyDocument=json.dumps(previous)
            )
            return f"Re-activated {params.access_key_id}; restored the previous {REVOKE_POLICY} policy"
        iam.delete_user_policy(UserName=params.user_name, PolicyName=REVOKE_POLICY)
        return f"Re-activated {params.access_key_id} and removed the {REVOKE_POLICY} policy of {params.user_name}"
