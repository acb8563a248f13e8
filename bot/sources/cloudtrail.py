"""Risky API calls seen by CloudTrail ("AWS API Call via CloudTrail") and console sign-ins.

Each risky call has a rule below; the same API call made safely (ingress from 10.0.0.0/8, a
private bucket ACL) still parses, as an INFO alert.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypedDict

from pydantic import Field

from bot.models import Alert, Link, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

OPEN_CIDRS = ("0.0.0.0/0", "::/0")
ADMIN_PORTS = (22, 3389)
PUBLIC_GRANTEES = ("acs.amazonaws.com/groups/global/AllUsers", "acs.amazonaws.com/groups/global/AuthenticatedUsers")
PUBLIC_CANNED_ACLS = ("public-read", "public-read-write", "authenticated-read")
PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


class UserIdentity(Detail):
    type: str | None = None
    principal_id: str | None = Field(None, alias="principalId")
    arn: str | None = None
    account_id: str | None = Field(None, alias="accountId")
    access_key_id: str | None = Field(None, alias="accessKeyId")
    user_name: str | None = Field(None, alias="userName")
    session_context: dict[str, Any] = Field(default_factory=dict, alias="sessionContext")


class ApiCall(Detail):
    event_name: str = Field(alias="eventName", min_length=1)
    event_source: str | None = Field(None, alias="eventSource")
    event_id: str | None = Field(None, alias="eventID")
    aws_region: str | None = Field(None, alias="awsRegion")
    source_ip: str | None = Field(None, alias="sourceIPAddress")
    user_agent: str | None = Field(None, alias="userAgent")
    user_identity: UserIdentity = Field(default_factory=UserIdentity, alias="userIdentity")
    request_parameters: dict[str, Any] | None = Field(None, alias="requestParameters")
    response_elements: dict[str, Any] | None = Field(None, alias="responseElements")
    additional_event_data: dict[str, Any] | None = Field(None, alias="additionalEventData")
    error_code: str | None = Field(None, alias="errorCode")
    error_message: str | None = Field(None, alias="errorMessage")

    @property
    def request(self) -> dict[str, Any]:
        return self.request_parameters or {}

    @property
    def response(self) -> dict[str, Any]:
        return self.response_elements or {}


@dataclass
class Finding:
    """What a rule makes of one API call; the parser turns it into an Alert."""

    rule: str
    severity: Severity
    title: str
    summary: str = ""
    resources: list[Resource] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    links: list[Link | None] = field(default_factory=list)
    active: bool = True


class _BucketCommon(TypedDict):
    """The ``Finding`` arguments both bucket rules share, whatever they conclude."""

    resources: list[Resource]
    context: dict[str, Any]
    links: list[Link | None]


@dataclass
class Call:
    """The parsed call plus where it happened."""

    detail: ApiCall
    account: str
    region: str

    @property
    def actor(self) -> str:
        ui = self.detail.user_identity
        if ui.type == "Root":
            return "root"
        issuer = ui.session_context.get("sessionIssuer") if isinstance(ui.session_context, dict) else None
        if isinstance(issuer, dict) and issuer.get("userName"):
            return f"{issuer['userName']} (role)"
        return ui.user_name or ui.arn or ui.principal_id or ui.type or "unknown"


def _items(value: Any) -> list[Any]:
    """CloudTrail's EC2 lists are ``{"items": [...]}``; tolerate a bare list or nothing."""
    if isinstance(value, dict):
        value = value.get("items")
    return value if isinstance(value, list) else []


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _find_key(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        if key in value:
            return value[key]
        for v in value.values():
            found = _find_key(v, key)
            if found is not None:
                return found
    elif isinstance(value, list):
        for v in value:
            found = _find_key(v, key)
            if found is not None:
                return found
    return None


def _port(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _exposes_admin_port(protocol: str, from_port: int | None, to_port: int | None) -> bool:
    if protocol in ("-1", "all"):
        return True
    if from_port is None or to_port is None:
        return True
    return any(from_port <= p <= to_port for p in ADMIN_PORTS) or (from_port == -1)


def _sg_resource(call: Call, group_id: str) -> Resource:
    return Resource(
        type="AwsEc2SecurityGroup",
        id=group_id,
        arn=arns.build_arn("ec2", call.region, call.account, f"security-group/{group_id}"),
        region=call.region,
        account=call.account,
    )


def _bucket_resource(call: Call, bucket: str) -> Resource:
    return Resource(
        type="AwsS3Bucket",
        id=bucket,
        arn=f"arn:{arns.partition_for(call.region)}:s3:::{bucket}",
        region=call.region,
        account=call.account,
    )


def authorize_ingress(call: Call) -> Finding:
    req, resp = call.detail.request, call.detail.response
    rules = [r for r in _items(resp.get("securityGroupRuleSet")) if isinstance(r, dict) and not r.get("isEgress")]
    group_id = (
        req.get("groupId") or next((r.get("groupId") for r in rules if r.get("groupId")), None) or req.get("groupName")
    )
    if not isinstance(group_id, str) or not group_id:
        raise ValueError("AuthorizeSecurityGroupIngress without a group id")
    # The response lists the rules created (with their ids); older events have only the request.
    open_rules, rule_ids, cidrs = _granted_rules(rules, group_id) if rules else _requested_rules(req, group_id)
    res = _sg_resource(call, group_id)
    links = [console.security_group(call.region, group_id)]
    if not open_rules:
        return Finding(
            rule="AuthorizeSecurityGroupIngress",
            severity=Severity.INFO,
            title=f"Ingress added to {group_id} (not open to the internet)",
            summary=f"{call.actor} allowed ingress from {', '.join(sorted(set(cidrs))) or 'other groups or prefix lists'}.",
            resources=[res],
            fields={"Sources": ", ".join(sorted(set(cidrs)))},
            links=links,
        )
    admin = any(_exposes_admin_port(r["protocol"], r["from_port"], r["to_port"]) for r in open_rules)
    described = ", ".join(sorted({f"{_ports(r)} from {r['cidr']}" for r in open_rules}))
    context: dict[str, Any] = {"open_ingress": open_rules}
    if rule_ids:
        context["security_group_rule_ids"] = rule_ids
    return Finding(
        rule="sg-open-ingress",
        severity=Severity.HIGH if admin else Severity.MEDIUM,
        title=f"Security group {group_id} opened to the internet ({described})",
        summary=f"{call.actor} allowed {described} on {group_id}.",
        resources=[res],
        context=context,
        fields={"Open": described, "Rules": ", ".join(rule_ids)},
        links=links,
    )


def _open_rule(group_id: str, protocol: Any, from_port: Any, to_port: Any, cidr: str) -> dict[str, Any]:
    return {
        "group_id": group_id,
        "protocol": str(protocol if protocol is not None else "-1"),
        "from_port": _port(from_port),
        "to_port": _port(to_port),
        "cidr": cidr,
    }


def _granted_rules(rules: list[dict[str, Any]], group_id: str) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """(open rules, their rule ids, every source CIDR) from the response's ``securityGroupRuleSet``."""
    open_rules: list[dict[str, Any]] = []
    rule_ids: list[str] = []
    cidrs: list[str] = []
    for r in rules:
        cidr = r.get("cidrIpv4") or r.get("cidrIpv6")
        if isinstance(cidr, str):
            cidrs.append(cidr)
        if cidr in OPEN_CIDRS:
            gid = r.get("groupId") or group_id
            open_rules.append(_open_rule(gid, r.get("ipProtocol", "-1"), r.get("fromPort"), r.get("toPort"), cidr))
            rule_id = r.get("securityGroupRuleId")
            if isinstance(rule_id, str) and arns.matches(arns.SECURITY_GROUP_RULE_ID_RE, rule_id):
                rule_ids.append(rule_id)
    return open_rules, rule_ids, cidrs


def _requested_rules(req: dict[str, Any], group_id: str) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """(open rules, no rule ids, every source CIDR) from the request's ``ipPermissions``."""
    open_rules: list[dict[str, Any]] = []
    cidrs: list[str] = []
    for perm in _items(req.get("ipPermissions")):
        if not isinstance(perm, dict):
            continue
        ranges = [x.get("cidrIp") for x in _items(perm.get("ipRanges")) if isinstance(x, dict)]
        ranges += [x.get("cidrIpv6") for x in _items(perm.get("ipv6Ranges")) if isinstance(x, dict)]
        for cidr in ranges:
            if isinstance(cidr, str):
                cidrs.append(cidr)
            if cidr in OPEN_CIDRS:
                protocol = perm.get("ipProtocol", "-1")
                open_rules.append(_open_rule(group_id, protocol, perm.get("fromPort"), perm.get("toPort"), cidr))
    return open_rules, [], cidrs


def _ports(r: dict[str, Any]) -> str:
    if r["protocol"] in ("-1", "all"):
        return "all traffic"
    if r["from_port"] == r["to_port"]:
        return f"{r['protocol']}/{r['from_port']}"
    return f"{r['protocol']}/{r['from_port']}-{r['to_port']}"


def _bucket(call: Call) -> tuple[str, _BucketCommon]:
    """The bucket the call names, as shown ("(name missing)" when the event has none) and its
    resource/context/links — none when nameless: the alert is shown, nothing can act on it."""
    bucket = call.detail.request.get("bucketName")
    if not isinstance(bucket, str) or not bucket:
        return "(name missing)", {"resources": [], "context": {}, "links": []}
    return bucket, {
        "resources": [_bucket_resource(call, bucket)],
        "context": {"bucket": {"name": bucket}},
        "links": [console.s3_bucket(call.region, bucket)],
    }


def put_bucket_acl(call: Call) -> Finding:
    bucket, common = _bucket(call)
    req = call.detail.request
    canned = [a for a in _strings(req.get("x-amz-acl")) if a in PUBLIC_CANNED_ACLS]
    grantees = {
        g.rsplit("/", 1)[-1] for g in _strings(req.get("AccessControlPolicy")) if any(p in g for p in PUBLIC_GRANTEES)
    }
    if not canned and not grantees:
        return Finding(
            rule="PutBucketAcl", severity=Severity.INFO, title=f"ACL of bucket {bucket} changed (not public)", **common
        )
    what = ", ".join(sorted(set(canned) | grantees))
    return Finding(
        rule="s3-public-acl",
        severity=Severity.HIGH,
        title=f"Bucket {bucket} made public by its ACL ({what})",
        summary=f"{call.actor} granted access to {what} on bucket {bucket}.",
        fields={"Grant": what},
        **common,
    )


def _public_statements(policy: Any) -> list[dict[str, Any]]:
    if not isinstance(policy, dict):
        return []
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    out = []
    for st in statements if isinstance(statements, list) else []:
        if not isinstance(st, dict) or st.get("Effect") != "Allow" or st.get("Condition"):
            continue
        principal = st.get("Principal")
        if principal == "*" or (isinstance(principal, dict) and "*" in list(_strings(principal.get("AWS")))):
            out.append(st)
    return out


def put_bucket_policy(call: Call) -> Finding:
    bucket, common = _bucket(call)
    public = _public_statements(call.detail.request.get("bucketPolicy"))
    if not public:
        return Finding(
            rule="PutBucketPolicy",
            severity=Severity.INFO,
            title=f"Policy of bucket {bucket} changed (not public)",
            **common,
        )
    actions = sorted({a for st in public for a in _strings(st.get("Action"))})
    return Finding(
        rule="s3-public-policy",
        severity=Severity.HIGH,
        title=f"Bucket {bucket} made public by its policy",
        summary=f'{call.actor} set a policy allowing anyone (Principal "*") to {", ".join(actions) or "act"} on {bucket}.',
        fields={"Public actions": ", ".join(actions)},
        **common,
    )


def _pab_target(call: Call) -> tuple[list[Resource], dict[str, Any], list[Link | None], str]:
    bucket = call.detail.request.get("bucketName")
    if isinstance(bucket, str) and bucket:
        return (
            [_bucket_resource(call, bucket)],
            {"bucket": {"name": bucket}},
            [console.s3_bucket(call.region, bucket)],
            f"bucket {bucket}",
        )
    return [Resource(type="AwsAccount", id=call.account, account=call.account)], {}, [], f"account {call.account}"


def delete_public_access_block(call: Call) -> Finding:
    resources, context, links, target = _pab_target(call)
    return Finding(
        rule="s3-public-access-block-removed",
        severity=Severity.HIGH,
        title=f"S3 Block Public Access removed from {target}",
        summary=f"{call.actor} deleted the public access block of {target}; ACLs and policies may now make it public.",
        resources=resources,
        context=context,
        links=links,
    )


def put_public_access_block(call: Call) -> Finding:
    resources, context, links, target = _pab_target(call)
    conf = _find_key(call.detail.request, "PublicAccessBlockConfiguration")
    conf = conf if isinstance(conf, dict) else {}
    disabled = [f for f in PAB_FLAGS if str(conf.get(f, "true")).lower() == "false"]
    if not disabled:
        return Finding(
            rule="s3-public-access-block-removed",
            severity=Severity.INFO,
            title=f"S3 Block Public Access fully enabled on {target}",
            resources=resources,
            context=context,
            links=links,
            active=False,
        )
    return Finding(
        rule="s3-public-access-block-removed",
        severity=Severity.HIGH if len(disabled) == len(PAB_FLAGS) else Severity.MEDIUM,
        title=f"S3 Block Public Access weakened on {target}",
        summary=f"{call.actor} turned off {', '.join(disabled)} on {target}.",
        resources=resources,
        context=context,
        fields={"Disabled": ", ".join(disabled)},
        links=links,
    )


def create_access_key(call: Call) -> Finding:
    access_key = call.detail.response.get("accessKey")
    key = access_key if isinstance(access_key, dict) else {}
    key_id = key.get("accessKeyId")
    user = key.get("userName") or call.detail.request.get("userName") or call.detail.user_identity.user_name
    root = call.detail.user_identity.type == "Root" and not call.detail.request.get("userName")
    resources: list[Resource] = []
    context: dict[str, Any] = {}
    if isinstance(key_id, str) and key_id:
        resources.append(
            Resource(
                type="AwsIamAccessKey", id=key_id, name=user if isinstance(user, str) else None, account=call.account
            )
        )
        context["access_key"] = {"access_key_id": key_id, "user_name": None if root else user}
    if isinstance(user, str) and user and not root:
        resources.append(
            Resource(
                type="AwsIamUser",
                id=user,
                arn=arns.build_arn("iam", "", call.account, f"user/{user}"),
                account=call.account,
            )
        )
    owner = "the root user" if root else f"IAM user {user}"
    return Finding(
        rule="iam-create-access-key",
        severity=Severity.CRITICAL if root else Severity.MEDIUM,
        title=f"Access key created for {owner}",
        summary=f"{call.actor} created access key {key_id or '(unknown)'} for {owner}.",
        resources=resources,
        context=context,
        fields={"Access key": key_id, "User": None if root else user},
        links=[console.iam_user(user) if isinstance(user, str) and not root else None],
    )


def _trail(call: Call) -> tuple[str, str | None]:
    name = call.detail.request.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{call.detail.event_name} without a trail name")
    parsed = arns.parse_arn(name)
    if parsed:
        return parsed.resource.split("/", 1)[-1], name
    return name, arns.build_arn("cloudtrail", call.region, call.account, f"trail/{name}")


def trail_change(call: Call) -> Finding:
    name, arn = _trail(call)
    event_name = call.detail.event_name
    res = Resource(type="AwsCloudTrailTrail", id=name, arn=arn, region=call.region, account=call.account)
    context = {"trail": {"name": name, "arn": arn}}
    links = [console.cloudtrail_trail(call.region, arn) if arn else None]
    if event_name == "StartLogging":
        return Finding(
            rule="cloudtrail-logging-stopped",
            severity=Severity.INFO,
            title=f"CloudTrail logging restarted for trail {name}",
            resources=[res],
            context=context,
            links=links,
            active=False,
        )
    verb = "stopped logging" if event_name == "StopLogging" else "deleted"
    return Finding(
        rule="cloudtrail-logging-stopped",
        severity=Severity.HIGH,
        title=f"CloudTrail trail {name} {verb}",
        summary=f"{call.actor} called {event_name} on {name}: API activity may no longer be recorded.",
        resources=[res],
        context=context,
        links=links,
    )


RULES: dict[str, Callable[[Call], Finding]] = {
    "AuthorizeSecurityGroupIngress": authorize_ingress,
    "PutBucketAcl": put_bucket_acl,
    "PutBucketPolicy": put_bucket_policy,
    "DeletePublicAccessBlock": delete_public_access_block,
    "DeleteBucketPublicAccessBlock": delete_public_access_block,
    "DeleteAccountPublicAccessBlock": delete_public_access_block,
    "PutPublicAccessBlock": put_public_access_block,
    "PutBucketPublicAccessBlock": put_public_access_block,
    "PutAccountPublicAccessBlock": put_public_access_block,
    "CreateAccessKey": create_access_key,
    "StopLogging": trail_change,
    "DeleteTrail": trail_change,
    "StartLogging": trail_change,
}


_REPOSITORY_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def root_call(call: Call) -> Finding:
    """Any call the root user made that no rule above reads (a DeleteBucket, a GitPush): the
    root user should not be used day to day, whatever it did."""
    d = call.detail
    resources: list[Resource] = []
    what = d.event_name
    bucket = d.request.get("bucketName")
    repository = d.request.get("repositoryName")
    if isinstance(bucket, str) and bucket:
        _, common = _bucket(call)
        resources, what = common["resources"], f"{d.event_name} on bucket {bucket}"
    elif isinstance(repository, str) and _REPOSITORY_RE.match(repository):
        resources = [
            Resource(
                type="AwsCodeCommitRepository",
                id=repository,
                arn=arns.build_arn("codecommit", call.region, call.account, repository),
                region=call.region,
                account=call.account,
            )
        ]
        what = f"{d.event_name} on repository {repository}"
    return Finding(
        rule="root-call",
        severity=Severity.HIGH,
        title=f"Root user called {what}",
        summary=(
            f"The root user called {d.event_source or 'AWS'} {d.event_name}. Root credentials should be "
            "locked away: use an IAM role, and check this call was expected."
        ),
        resources=resources,
    )


def other_call(call: Call) -> Finding:
    return Finding(
        rule=call.detail.event_name,
        severity=Severity.INFO,
        title=f"{call.detail.event_name} called by {call.actor}",
        summary=f"{call.detail.event_source or 'AWS'} API call {call.detail.event_name}.",
    )


def _readable_error(call: Call) -> str:
    return f"{call.detail.error_code}: {call.detail.error_message or ''}".rstrip(": ")


class CloudTrailParser(Parser):
    """A risky API call seen by CloudTrail. Example: AuthorizeSecurityGroupIngress 0.0.0.0/0 on tcp/22 → HIGH."""

    kind = "cloudtrail"
    doc = SourceDoc(
        label="CloudTrail API calls",
        severity="world-open SSH/RDP/all ingress HIGH (other ports MEDIUM); public bucket HIGH; root access key CRITICAL; StopLogging/DeleteTrail HIGH; any S3 or CodeCommit call by the root user HIGH; the rules in docs/sources.md",
        resolved="StartLogging, public access block fully on, failed calls",
        fingerprint="account, region, resource, rule",
    )
    event_names: ClassVar[tuple[str, ...]] = ()

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = ApiCall.model_validate(event.detail)
        region = d.aws_region if arns.is_region(d.aws_region) else event.region
        account = d.user_identity.account_id if arns.is_account(d.user_identity.account_id) else event.account
        account = event.account or account
        call = Call(detail=d, account=account, region=region)
        root = d.user_identity.type == "Root"
        finding = RULES.get(d.event_name, root_call if root else other_call)(call)
        if root and finding.rule != "root-call" and finding.active and not finding.severity.at_least(Severity.HIGH):
            finding.severity = Severity.HIGH  # what a rule calls routine is not, done as root
            finding.title = f"Root user: {finding.title}"
        if d.error_code:
            # The call was refused: worth knowing about, nothing changed.
            finding.severity = Severity.LOW if finding.severity.at_least(Severity.MEDIUM) else Severity.INFO
            finding.title = f"Attempted and failed: {finding.title}"
            finding.summary = f"{finding.summary} The call failed ({_readable_error(call)}).".strip()
            finding.context = {}
            finding.active = False
        resource_key = finding.resources[0].key if finding.resources else d.event_id or event.id
        fields = {
            "API call": f"{d.event_source or ''} {d.event_name}".strip(),
            "By": call.actor,
            "Source IP": d.source_ip,
            **finding.fields,
        }
        if d.error_code:
            fields["Error"] = _readable_error(call)
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(
                self.kind, account, region, resource_key, finding.rule, "failed" if d.error_code else None
            ),
            title=finding.title,
            summary=finding.summary,
            severity=finding.severity,
            account=account,
            region=region,
            resources=finding.resources,
            fields=fields,
            links=console.keep(*finding.links, console.cloudtrail_event(region, d.event_id or "")),
            context=finding.context if d.error_code else {**finding.context, **_caller(d)},
            problems=[f"cloudtrail:{finding.rule}", f"cloudtrail-call:{d.event_name}"]
            + (["cloudtrail:root-call"] if root and finding.rule != "root-call" else []),
            active=finding.active,
        )


def _caller(d: ApiCall) -> dict[str, Any]:
    """``context["caller"]``: the caller's ARN, principal id and access key, for "Also open"
    (``bot.context``) and correlation (``bot.correlation``)."""
    ui = d.user_identity
    fields = (("arn", ui.arn), ("principal_id", ui.principal_id), ("access_key_id", ui.access_key_id))
    caller = {k: v for k, v in fields if v}
    return {"caller": caller} if caller else {}


def _filter(names: tuple[str, ...]) -> dict[str, Any]:
    return {"eventName": list(names)}


ROOT_FILTER: dict[str, Any] = {"userIdentity": {"type": ["Root"]}}


@parsers.register(("aws.ec2", "AWS API Call via CloudTrail"))
class Ec2ApiCallParser(CloudTrailParser):
    """EC2 API calls. Example: AuthorizeSecurityGroupIngress from 0.0.0.0/0 → HIGH, from 10.0.0.0/8 → INFO."""

    event_names = ("AuthorizeSecurityGroupIngress",)
    detail_filter = _filter(event_names)


@parsers.register(("aws.s3", "AWS API Call via CloudTrail"))
class S3ApiCallParser(CloudTrailParser):
    """S3 API calls. Example: PutBucketPolicy with Principal "*" → HIGH."""

    event_names = (
        "PutBucketAcl",
        "PutBucketPolicy",
        "DeletePublicAccessBlock",
        "DeleteBucketPublicAccessBlock",
        "DeleteAccountPublicAccessBlock",
        "PutPublicAccessBlock",
        "PutBucketPublicAccessBlock",
        "PutAccountPublicAccessBlock",
    )
    # These calls by anyone, and any S3 call by the root user.
    detail_filter = {"$or": [_filter(event_names), ROOT_FILTER]}


@parsers.register(("aws.codecommit", "AWS API Call via CloudTrail"))
class CodeCommitApiCallParser(CloudTrailParser):
    """CodeCommit API calls by the root user. Example: root GitPush to web-app → HIGH."""

    detail_filter = ROOT_FILTER


@parsers.register(("aws.iam", "AWS API Call via CloudTrail"))
class IamApiCallParser(CloudTrailParser):
    """IAM API calls. Example: CreateAccessKey for alice → MEDIUM (root → CRITICAL)."""

    event_names = ("CreateAccessKey",)
    detail_filter = _filter(event_names)


@parsers.register(("aws.cloudtrail", "AWS API Call via CloudTrail"))
class TrailApiCallParser(CloudTrailParser):
    """CloudTrail's own API calls. Example: StopLogging on management-events → HIGH; StartLogging resolves it."""

    event_names = ("StopLogging", "DeleteTrail", "StartLogging")
    detail_filter = _filter(event_names)


@parsers.register(("aws.signin", "AWS Console Sign In via CloudTrail"))
class ConsoleSignInParser(Parser):
    """A console sign-in. Example: root signed in without MFA → CRITICAL; an IAM user with MFA → INFO."""

    kind = "cloudtrail"
    doc = SourceDoc(
        label="Console sign-in",
        severity="root without MFA CRITICAL, root with MFA HIGH, IAM user without MFA MEDIUM, failed sign-in LOW (root MEDIUM), otherwise INFO",
        resolved="—",
        fingerprint="account, principal, rule",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = ApiCall.model_validate(event.detail)
        ui = d.user_identity
        region = d.aws_region if arns.is_region(d.aws_region) else event.region
        call = Call(detail=d, account=event.account, region=region)
        result = str((d.response_elements or {}).get("ConsoleLogin", "")) or (
            "Failure" if d.error_code or d.error_message else "Success"
        )
        extra = d.additional_event_data or {}
        mfa = str(extra.get("MFAUsed", "")).lower() == "yes"
        root = ui.type == "Root"
        success = result.lower() == "success"
        if not success:
            severity = Severity.MEDIUM if root else Severity.LOW
            rule, title = "signin-failed", f"Failed console sign-in as {'root' if root else call.actor}"
        elif root:
            severity = Severity.HIGH if mfa else Severity.CRITICAL
            rule, title = "root-signin", "Root user signed in to the console" + ("" if mfa else " without MFA")
        elif ui.type == "IAMUser" and not mfa:
            severity = Severity.MEDIUM
            rule, title = "signin-without-mfa", f"IAM user {call.actor} signed in without MFA"
        else:
            severity = Severity.INFO
            rule, title = "signin", f"{call.actor} signed in to the console"
        resources: list[Resource] = []
        links: list[Link | None] = []
        if root:
            resources.append(Resource(type="AwsAccount", id=event.account, arn=ui.arn, account=event.account))
        elif ui.type == "IAMUser" and ui.user_name:
            resources.append(Resource(type="AwsIamUser", id=ui.user_name, arn=ui.arn, account=event.account))
            links.append(console.iam_user(ui.user_name))
        principal = ui.arn or ui.principal_id or ui.user_name or ui.type
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.account, principal, rule),
            title=title,
            summary=f"Console sign-in {result.lower()} from {d.source_ip or 'an unknown address'}; MFA {'used' if mfa else 'not used'}.",
            severity=severity,
            region=region,
            resources=resources,
            fields={
                "User": call.actor,
                "Identity type": ui.type,
                "Result": result,
                "MFA": "yes" if mfa else "no",
                "Source IP": d.source_ip,
                "User agent": d.user_agent,
            },
            links=console.keep(*links, console.cloudtrail_event(region, d.event_id or "")),
        )
