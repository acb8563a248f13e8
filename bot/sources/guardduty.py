"""GuardDuty findings (``aws.guardduty`` / "GuardDuty Finding")."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.models import Alert, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers


class Tag(Detail):
    key: str = ""
    value: str = ""


class SecurityGroupRef(Detail):
    group_id: str = Field("", alias="groupId")
    group_name: str | None = Field(None, alias="groupName")


class NetworkInterface(Detail):
    security_groups: list[SecurityGroupRef] = Field([], alias="securityGroups")


class InstanceDetails(Detail):
    instance_id: str = Field("", alias="instanceId")
    instance_type: str | None = Field(None, alias="instanceType")
    tags: list[Tag] = []
    network_interfaces: list[NetworkInterface] = Field([], alias="networkInterfaces")


class AccessKeyDetails(Detail):
    access_key_id: str | None = Field(None, alias="accessKeyId")
    principal_id: str | None = Field(None, alias="principalId")
    user_name: str | None = Field(None, alias="userName")
    user_type: str | None = Field(None, alias="userType")


class S3BucketDetail(Detail):
    name: str = ""
    arn: str | None = None


class NamedDetail(Detail):
    name: str | None = None
    arn: str | None = None


class LambdaDetails(Detail):
    function_name: str | None = Field(None, alias="functionName")
    function_arn: str | None = Field(None, alias="functionArn")


class RdsDetails(Detail):
    db_instance_identifier: str | None = Field(None, alias="dbInstanceIdentifier")
    db_instance_arn: str | None = Field(None, alias="dbInstanceArn")


class FindingResource(Detail):
    resource_type: str = Field("", alias="resourceType")
    instance_details: InstanceDetails | None = Field(None, alias="instanceDetails")
    access_key_details: AccessKeyDetails | None = Field(None, alias="accessKeyDetails")
    s3_bucket_details: list[S3BucketDetail] = Field([], alias="s3BucketDetails")
    eks_cluster_details: NamedDetail | None = Field(None, alias="eksClusterDetails")
    ecs_cluster_details: NamedDetail | None = Field(None, alias="ecsClusterDetails")
    lambda_details: LambdaDetails | None = Field(None, alias="lambdaDetails")
    rds_db_instance_details: RdsDetails | None = Field(None, alias="rdsDbInstanceDetails")


class FindingService(Detail):
    detector_id: str = Field("", alias="detectorId")
    archived: bool = False
    count: int | None = None
    resource_role: str | None = Field(None, alias="resourceRole")
    action: dict[str, Any] = Field(default_factory=dict)
    event_first_seen: str | None = Field(None, alias="eventFirstSeen")
    event_last_seen: str | None = Field(None, alias="eventLastSeen")


class GuardDutyFinding(Detail):
    id: str
    arn: str | None = None
    type: str
    title: str = ""
    description: str = ""
    severity: float
    account_id: str | None = Field(None, alias="accountId")
    region: str | None = None
    resource: FindingResource = Field(default_factory=FindingResource)
    service: FindingService = Field(default_factory=FindingService)


def severity_for(score: float) -> Severity:
    """GuardDuty's bands: 0-3.9 LOW, 4-6.9 MEDIUM, 7-8.9 HIGH, 9+ CRITICAL."""
    if score >= 9:
        return Severity.CRITICAL
    if score >= 7:
        return Severity.HIGH
    if score >= 4:
        return Severity.MEDIUM
    return Severity.LOW


def _remote_ip(action: dict[str, Any]) -> str | None:
    for value in action.values():
        if isinstance(value, dict):
            remote = value.get("remoteIpDetails")
            if isinstance(remote, dict) and isinstance(remote.get("ipAddressV4"), str):
                return remote["ipAddressV4"]
    return None


def finding_problems(finding: GuardDutyFinding) -> list[str]:
    """``guardduty:<type>``, and ``guardduty-actor:<type>`` / ``guardduty-target:<type>`` by
    the resource's role: an instance that is the ACTOR of a brute force is compromised (isolate
    it); one that is its TARGET needs its open port closed (revoke)."""
    keys = [f"guardduty:{finding.type}"]
    role = (finding.service.resource_role or "").lower()
    if role in ("actor", "target"):
        keys.append(f"guardduty-{role}:{finding.type}")
    return keys


@parsers.register(("aws.guardduty", "GuardDuty Finding"))
class GuardDutyParser(Parser):
    """A GuardDuty finding. Example: UnauthorizedAccess:EC2/SSHBruteForce on i-0abc, severity 5 → MEDIUM."""

    kind = "guardduty"
    doc = SourceDoc(
        label="GuardDuty",
        severity="severity 0–3.9 LOW, 4–6.9 MEDIUM, 7–8.9 HIGH, 9+ CRITICAL",
        resolved="finding archived",
        fingerprint="account, region, finding id",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        finding = GuardDutyFinding.model_validate(event.detail)
        account = finding.account_id or event.account
        region = finding.region or event.region
        resources, links = self._resources(finding, ctx, account, region)
        context: dict[str, Any] = {
            "guardduty": {"detector_id": finding.service.detector_id, "finding_id": finding.id},
        }
        key = finding.resource.access_key_details
        if key and key.access_key_id and arns.ACCESS_KEY_ID_RE.match(key.access_key_id):
            context["access_key"] = {"access_key_id": key.access_key_id, "user_name": key.user_name}
        if key and key.principal_id:  # who used it: correlation groups by principal (bot.correlation)
            context["caller"] = {"principal_id": key.principal_id}
        action = finding.service.action
        fields = {
            "Finding type": finding.type,
            "Severity": f"{finding.severity:g} ({severity_for(finding.severity).value})",
            "Resource type": finding.resource.resource_type,
            "Resource role": finding.service.resource_role,
            "Action": action.get("actionType"),
            "Remote IP": _remote_ip(action),
            "Count": finding.service.count,
            "Last seen": finding.service.event_last_seen,
        }
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, account, region, finding.id),
            title=finding.title or finding.type,
            summary=finding.description,
            severity=severity_for(finding.severity),
            account=account,
            region=region,
            resources=resources,
            fields=fields,
            links=console.keep(
                console.guardduty_finding(region, finding.id), *links, console.guardduty_type_doc(finding.type)
            ),
            context=context,
            problems=finding_problems(finding),
            active=not finding.service.archived,
        )

    def _resources(
        self, finding: GuardDutyFinding, ctx: ParseContext, account: str, region: str
    ) -> tuple[list[Resource], list]:
        """The finding's resources, primary first (instance, access key and user, buckets, others)."""
        res = finding.resource
        out: list[Resource] = []
        links: list = []
        if res.instance_details and res.instance_details.instance_id:
            _instance(res.instance_details, ctx, account, region, out, links)
        _access_key(res.access_key_details, account, region, out, links)
        for bucket in res.s3_bucket_details:
            if bucket.name:
                bucket_arn = bucket.arn or f"arn:aws:s3:::{bucket.name}"
                out.append(Resource(type="AwsS3Bucket", id=bucket.name, arn=bucket_arn, account=account))
                links.append(console.s3_bucket(region, bucket.name))
        for rtype, rid, arn in _other_resources(res):
            out.append(Resource(type=rtype, id=rid, arn=arn, region=region, account=account))
        return out, links


def _instance(
    inst: InstanceDetails, ctx: ParseContext, account: str, region: str, out: list[Resource], links: list
) -> None:
    """The instance (its tags from the finding, else looked up) and its security groups."""
    tags = {t.key: t.value for t in inst.tags if t.key}
    if not tags and arns.INSTANCE_ID_RE.match(inst.instance_id):
        tags = ctx.tags_for("AwsEc2Instance", inst.instance_id, account, region)
    arn = arns.build_arn("ec2", region, account, f"instance/{inst.instance_id}")
    out.append(
        Resource(
            type="AwsEc2Instance",
            id=inst.instance_id,
            arn=arn,
            name=tags.get("Name"),
            region=region,
            account=account,
            tags=tags,
        )
    )
    links.append(console.ec2_instance(region, inst.instance_id))
    for nic in inst.network_interfaces:
        for sg in nic.security_groups:
            if arns.SECURITY_GROUP_ID_RE.match(sg.group_id) and all(r.id != sg.group_id for r in out):
                sg_arn = arns.build_arn("ec2", region, account, f"security-group/{sg.group_id}")
                out.append(
                    Resource(
                        type="AwsEc2SecurityGroup",
                        id=sg.group_id,
                        name=sg.group_name,
                        arn=sg_arn,
                        region=region,
                        account=account,
                    )
                )


def _access_key(key: AccessKeyDetails | None, account: str, region: str, out: list[Resource], links: list) -> None:
    """The access key, and its IAM user when the key belongs to one."""
    if key and key.access_key_id:
        out.append(Resource(type="AwsIamAccessKey", id=key.access_key_id, region=region, account=account))
    if key and key.user_name and key.user_type == "IAMUser":
        arn = arns.build_arn("iam", "", account, f"user/{key.user_name}")
        out.append(Resource(type="AwsIamUser", id=key.user_name, arn=arn, account=account))
        links.append(console.iam_user(key.user_name))


def _other_resources(res: FindingResource) -> list[tuple[str, str, str | None]]:
    """(type, id, arn) of the EKS / ECS cluster, Lambda function and RDS instance a finding names."""
    out: list[tuple[str, str, str | None]] = []
    if res.eks_cluster_details and res.eks_cluster_details.name:
        out.append(("AwsEksCluster", res.eks_cluster_details.name, res.eks_cluster_details.arn))
    if res.ecs_cluster_details and res.ecs_cluster_details.name:
        out.append(("AwsEcsCluster", res.ecs_cluster_details.name, res.ecs_cluster_details.arn))
    if res.lambda_details and res.lambda_details.function_name:
        out.append(("AwsLambdaFunction", res.lambda_details.function_name, res.lambda_details.function_arn))
    rds = res.rds_db_instance_details
    if rds and rds.db_instance_identifier:
        out.append(("AwsRdsDbInstance", rds.db_instance_identifier, rds.db_instance_arn))
    return out
