"""IAM derived from the remediation registry: the worker's statements and the member role.

Least privilege (docs/reliability.md #12): the worker may call exactly the actions the catalog
declares, and nothing with a wildcard unless it is read-only. Example::

    >>> statements = remediation_statements(remediations)
    >>> statements[0]["Action"][:2]
    ['ec2:DescribeInstances', 'ec2:StartInstances']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

from bot.errors import EventOpsError

# Verbs that only read. A wildcard is tolerated on these (e.g. ``ec2:Describe*``), never on
# anything that can change a resource.
READ_ONLY_PREFIXES = ("Describe", "Get", "List", "BatchGet", "Lookup", "Search", "Head", "View")
_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*]+$")

MEMBER_ROLE_NAME = "eventops-member"
MEMBER_READ_ROLE_NAME = "eventops-member-read"
EXEMPT_TAG = "eventops:exempt"
# Services whose catalog actions IAM evaluates ``aws:ResourceTag/<key>`` for. Left out on purpose:
# s3 (bucket tags are not an IAM condition for PutBucketPublicAccessBlock unless the bucket opts in
# to ABAC), guardduty and securityhub (findings carry no tags), ssm (the tag would be the
# automation document's, not the target's), cloudtrail (not relied on). For those the Deny is no
# protection, so it does not list them.
EXEMPT_TAG_SERVICES = ("autoscaling", "ec2", "ecs", "iam", "kms", "lambda")


class DeclaresPermissions(Protocol):
    # Read-only, so a class-level declaration (``permissions: ClassVar[...] = (...)``) satisfies it.
    @property
    def name(self) -> str: ...

    @property
    def permissions(self) -> tuple[str, ...]: ...


class CatalogPermissionError(EventOpsError):
    """A remediation declares an action the generator refuses to grant."""


# Alarm graphs (bot.graphs.draw, in the worker): the metric around the breach, in the alarm's
# account (the worker's own credentials, or the member role). Read-only, like /ops queries.
GRAPH_PERMISSIONS: tuple[str, ...] = ("cloudwatch:GetMetricData", "cloudwatch:GetMetricWidgetImage")


def is_read_only(action: str) -> bool:
    """``ec2:DescribeInstances`` → True; ``ec2:StopInstances`` → False."""
    verb = action.split(":", 1)[-1]
    return verb.startswith(READ_ONLY_PREFIXES)


def catalog_actions(remediations: Iterable[DeclaresPermissions]) -> list[str]:
    """Every action the catalog declares, sorted and de-duplicated; bad ones raise, all listed."""
    actions: set[str] = set()
    problems: list[str] = []
    for rem in remediations:
        for action in rem.permissions:
            if not _ACTION.match(action):
                problems.append(f"{rem.name}: {action!r} is not service:Action")
            elif action == "*" or action.endswith(":*") or ("*" in action and not is_read_only(action)):
                problems.append(f"{rem.name}: {action!r} is a wildcard on actions that can change things")
            else:
                actions.add(action)
    if problems:
        raise CatalogPermissionError("; ".join(problems))
    return sorted(actions, key=str.lower)


def remediation_statements(
    remediations: Iterable[DeclaresPermissions], query_actions: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """IAM statements granting the catalog's actions: one read statement, one change statement.

    ``Resource`` is ``*`` because the catalog declares actions, not resources: a remediation
    acts on whatever resource an alert names, in whichever account it came from. The member
    role's trust policy (ExternalId, the bot's role only) and the worker's re-authorization are
    what bound it.
    """
    actions = catalog_actions(remediations)
    read = [a for a in actions if is_read_only(a)]
    change = [a for a in actions if not is_read_only(a)]
    statements: list[dict[str, Any]] = []
    if read:
        statements.append({"Sid": "CatalogRead", "Effect": "Allow", "Action": read, "Resource": "*"})
    if change:
        statements.append({"Sid": "CatalogChange", "Effect": "Allow", "Action": change, "Resource": "*"})
    queries = sorted(set(query_actions) - set(actions), key=str.lower)
    not_read = [a for a in queries if not is_read_only(a)]
    if not_read:
        raise CatalogPermissionError(f"/ops query permissions must be read-only: {not_read}")
    if queries:
        statements.append({"Sid": "OpsQueriesRead", "Effect": "Allow", "Action": queries, "Resource": "*"})
    return statements


def exempt_statements(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deny every change to a resource tagged ``eventops:exempt=true`` (where IAM can tell), and
    any tagging request that sets or changes that tag."""
    changes = [a for st in statements if st["Effect"] == "Allow" for a in st["Action"] if not is_read_only(a)]
    guarded = sorted({a for a in changes if a.split(":", 1)[0] in EXEMPT_TAG_SERVICES}, key=str.lower)
    tagging = sorted({a for a in changes if a.split(":", 1)[1] in ("CreateTags", "TagResource")}, key=str.lower)
    out: list[dict[str, Any]] = []
    if guarded:
        out.append(
            {
                "Sid": "ExemptResourcesAreUntouchable",
                "Effect": "Deny",
                "Action": guarded,
                "Resource": "*",
                "Condition": {"StringEqualsIgnoreCase": {f"aws:ResourceTag/{EXEMPT_TAG}": "true"}},
            }
        )
    if tagging:
        out.append(
            {
                "Sid": "NobodyExemptsThroughEventOps",
                "Effect": "Deny",
                "Action": tagging,
                "Resource": "*",
                "Condition": {"ForAnyValue:StringEqualsIgnoreCase": {"aws:TagKeys": [EXEMPT_TAG]}},
            }
        )
    return out


def _member_trust(
    principal_param: str | list[str], actions: list[str], sid: str, source_identity: bool
) -> dict[str, Any]:
    """Only ``principal_param``'s role (or roles), with the ExternalId, from inside the
    organization; the remediation role also only with a SourceIdentity (the Slack user who clicked)."""
    condition: dict[str, Any] = {
        "StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}, "aws:PrincipalOrgID": {"Ref": "OrganizationId"}}
    }
    if source_identity:
        condition["Null"] = {"sts:SourceIdentity": "false"}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {
                    "AWS": [{"Ref": p} for p in principal_param]
                    if isinstance(principal_param, list)
                    else {"Ref": principal_param}
                },
                "Action": actions if len(actions) > 1 else actions[0],
                "Condition": condition,
            }
        ],
    }


def member_role_template(statements: list[dict[str, Any]], read_actions: Iterable[str] = ()) -> dict[str, Any]:
    """CloudFormation for the roles the bot assumes in each member account (StackSet-ready).

    Long because the template is written out as one literal, so it reads like the YAML it becomes.

    ``EventOpsMemberRole``: only the bot's worker role, only with the ExternalId;
    ``sts:SetSourceIdentity`` so CloudTrail in the member account records the Slack user who
    clicked. ``EventOpsMemberReadRole`` (when ``read_actions``): only the notify and worker roles,
    with the same ExternalId, for read-only lookups (tag enrichment in notify, the CloudTrail
    changes of a "what changed?" reply in the worker: ``bot.context``) and nothing else.
    """
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            "EventOps member-account role: the EventOps worker assumes it to run remediations. "
            "Generated by `python -m bot.deploy.generate` from the remediation catalog; do not edit. "
            "Deploy once per account (IAM is global: one region per account in a StackSet)."
        ),
        "Parameters": {
            "BotRoleArn": {
                "Type": "String",
                "AllowedPattern": r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
                "Description": "ARN of the EventOps worker role (stack output WorkerRoleArn of the bot's stack)",
            },
            "ExternalId": {
                "Type": "String",
                "NoEcho": True,
                "MinLength": 16,
                "AllowedPattern": r"^[\w+=,.@:/-]+$",
                "Description": "Shared secret the worker must present; the same value goes in accounts[].external_id",
            },
            "OrganizationId": {
                "Type": "String",
                "AllowedPattern": r"^o-[a-z0-9]{10,32}$",
                "Description": "AWS Organizations id (o-...): only roles of this organization may assume these",
            },
            "RoleName": {
                "Type": "String",
                "Default": MEMBER_ROLE_NAME,
                "Description": "Keep the default unless you also change MemberRoleName in the bot's stack",
            },
        },
        "Resources": {
            "EventOpsMemberRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": {"Ref": "RoleName"},
                    "Description": "Assumed by the EventOps worker to run catalogued remediations",
                    "MaxSessionDuration": 3600,
                    "AssumeRolePolicyDocument": _member_trust(
                        "BotRoleArn", ["sts:AssumeRole", "sts:SetSourceIdentity"], "EventOpsWorkerOnly", True
                    ),
                    "Policies": [
                        {
                            "PolicyName": "eventops-remediations",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": statements + exempt_statements(statements),
                            },
                        }
                    ],
                    "Tags": [{"Key": "eventops:managed", "Value": "true"}],
                },
            }
        },
        "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["EventOpsMemberRole", "Arn"]}}},
    }
    reads = sorted(set(read_actions), key=str.lower)
    if reads:
        not_read = [a for a in reads if not is_read_only(a)]
        if not_read:
            raise CatalogPermissionError(f"the member read role may only read: {not_read}")
        template["Parameters"]["NotifyRoleArn"] = {
            "Type": "String",
            "AllowedPattern": r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
            "Description": "ARN of the EventOps notify role (stack output NotifyRoleArn of the bot's stack)",
        }
        template["Parameters"]["ReadRoleName"] = {
            "Type": "String",
            "Default": MEMBER_READ_ROLE_NAME,
            "Description": "Keep the default unless you also change memberReadRoleName in the bot's stack",
        }
        template["Resources"]["EventOpsMemberReadRole"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": {"Ref": "ReadRoleName"},
                "Description": "Assumed by EventOps notify (tags) and worker (CloudTrail changes) for read-only lookups",
                "MaxSessionDuration": 3600,
                "AssumeRolePolicyDocument": _member_trust(
                    ["NotifyRoleArn", "BotRoleArn"], ["sts:AssumeRole"], "EventOpsNotifyAndWorkerOnly", False
                ),
                "Policies": [
                    {
                        "PolicyName": "eventops-lookups",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{"Sid": "Lookups", "Effect": "Allow", "Action": reads, "Resource": "*"}],
                        },
                    }
                ],
                "Tags": [{"Key": "eventops:managed", "Value": "true"}],
            },
        }
        template["Outputs"]["ReadRoleArn"] = {"Value": {"Fn::GetAtt": ["EventOpsMemberReadRole", "Arn"]}}
    return template
