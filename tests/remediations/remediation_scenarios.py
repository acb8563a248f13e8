"""One arranged world per remediation, shared by the generic behaviour tests and the meta test.

A ``Scenario`` knows how to build its resource under moto (or Stubber), what the params are,
how to check that the real state changed, and how to make the world already compliant, gone,
exempt, silently no-op, or drifted. ``None`` for a hook means the behaviour does not apply to
that remediation (a reboot is never "already compliant"); the tests say why.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.stub import Stubber
from remediation_fakes import ACCOUNT, REGION, RecordingFactory

EXEMPT = {"Key": "eventops:exempt", "Value": "true"}
GONE_INSTANCE = "i-0123456789abcdef0"


@dataclass
class Scenario:
    params: dict[str, Any]
    changed: Callable[[], None]  # asserts the real state after run()
    restored: Callable[[], None] | None = None  # asserts the real state after run_undo()
    comply: Callable[[], None] | None = None  # make it already compliant before run()
    gone_params: dict[str, Any] | None = None
    exempt_params: dict[str, Any] | None = None  # params of a twin resource tagged exempt
    silence: tuple[str, str, dict[str, Any]] | None = None  # (service, operation, fake OK response)
    drift: Callable[[], None] | None = None  # change the resource after run() so undo must refuse
    make_exempt: Callable[[], None] | None = None  # tag the resource eventops:exempt=true after run()
    stubbers: list[Stubber] = field(default_factory=list)


# --- EC2 --------------------------------------------------------------------------------------


def _image(ec2: Any) -> str:
    # moto accepts any image id when its default AMIs are not loaded (see conftest.fast_moto).
    return "ami-12c6146b"


def make_instance(factory: RecordingFactory, tags: dict[str, str] | None = None, stopped: bool = False) -> str:
    ec2 = factory.admin("ec2")
    spec = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}]
    iid = ec2.run_instances(
        ImageId=_image(ec2),
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        **({"TagSpecifications": spec} if tags else {}),
    )["Instances"][0]["InstanceId"]
    if stopped:
        ec2.stop_instances(InstanceIds=[iid])
    return iid


def instance(factory: RecordingFactory, iid: str) -> dict[str, Any]:
    return factory.admin("ec2").describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]


def instance_state(factory: RecordingFactory, iid: str) -> str:
    return instance(factory, iid)["State"]["Name"]


def _instance_scenario(factory: RecordingFactory, **kw: Any) -> tuple[str, str]:
    iid = make_instance(factory, stopped=kw.get("stopped", False))
    exempt = make_instance(factory, tags={"eventops:exempt": "true"}, stopped=kw.get("stopped", False))
    return iid, exempt


def stop_instance(factory: RecordingFactory) -> Scenario:
    iid, exempt = _instance_scenario(factory)
    ec2 = factory.admin("ec2")

    def changed() -> None:
        assert instance_state(factory, iid) == "stopped"

    def restored() -> None:
        assert instance_state(factory, iid) in ("pending", "running")

    return Scenario(
        params={"instance_id": iid},
        changed=changed,
        restored=restored,
        comply=lambda: ec2.stop_instances(InstanceIds=[iid]),
        gone_params={"instance_id": GONE_INSTANCE},
        exempt_params={"instance_id": exempt},
        silence=("ec2", "StopInstances", {"StoppingInstances": []}),
        drift=lambda: ec2.start_instances(InstanceIds=[iid]),
        make_exempt=lambda: ec2.create_tags(Resources=[iid], Tags=[EXEMPT]),
    )


def start_instance(factory: RecordingFactory) -> Scenario:
    iid, exempt = _instance_scenario(factory, stopped=True)
    ec2 = factory.admin("ec2")

    def changed() -> None:
        assert instance_state(factory, iid) in ("pending", "running")

    def restored() -> None:
        assert instance_state(factory, iid) in ("stopping", "stopped")

    return Scenario(
        params={"instance_id": iid},
        changed=changed,
        restored=restored,
        comply=lambda: ec2.start_instances(InstanceIds=[iid]),
        gone_params={"instance_id": GONE_INSTANCE},
        exempt_params={"instance_id": exempt},
        silence=("ec2", "StartInstances", {"StartingInstances": []}),
        drift=lambda: ec2.stop_instances(InstanceIds=[iid]),
        make_exempt=lambda: ec2.create_tags(Resources=[iid], Tags=[EXEMPT]),
    )


def reboot_instance(factory: RecordingFactory) -> Scenario:
    iid, exempt = _instance_scenario(factory)

    def changed() -> None:
        assert instance_state(factory, iid) == "running"

    # comply: a reboot is never "already done"; silence: see test_reboot_* in test_remediation_ec2.py.
    return Scenario(
        params={"instance_id": iid},
        changed=changed,
        gone_params={"instance_id": GONE_INSTANCE},
        exempt_params={"instance_id": exempt},
    )


def terminate_instance(factory: RecordingFactory) -> Scenario:
    iid, exempt = _instance_scenario(factory)
    ec2 = factory.admin("ec2")

    def changed() -> None:
        assert instance_state(factory, iid) in ("shutting-down", "terminated")

    return Scenario(
        params={"instance_id": iid},
        changed=changed,
        comply=lambda: ec2.terminate_instances(InstanceIds=[iid]),
        gone_params={"instance_id": GONE_INSTANCE},
        exempt_params={"instance_id": exempt},
        silence=("ec2", "TerminateInstances", {"TerminatingInstances": []}),
    )


def snapshot_volumes(factory: RecordingFactory) -> Scenario:
    iid, exempt = _instance_scenario(factory)
    ec2 = factory.admin("ec2")
    volume = instance(factory, iid)["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]

    def changed() -> None:
        snaps = ec2.describe_snapshots(Filters=[{"Name": "volume-id", "Values": [volume]}])["Snapshots"]
        assert len(snaps) == 1
        assert {t["Key"]: t["Value"] for t in snaps[0]["Tags"]}["eventops:source"] == iid

    # comply: every run takes new snapshots, so there is no "already compliant".
    return Scenario(
        params={"instance_id": iid},
        changed=changed,
        gone_params={"instance_id": GONE_INSTANCE},
        exempt_params={"instance_id": exempt},
        silence=("ec2", "CreateSnapshot", {"SnapshotId": "snap-0fa1e0000000000aa", "State": "pending"}),
    )


def snapshot_volumes_by_volume(factory: RecordingFactory) -> Scenario:
    ec2 = factory.admin("ec2")
    vol = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]

    def changed() -> None:
        assert ec2.describe_snapshots(Filters=[{"Name": "volume-id", "Values": [vol]}])["Snapshots"]

    return Scenario(params={"volume_ids": [vol]}, changed=changed)


def isolate_instance(factory: RecordingFactory) -> Scenario:
    iid, exempt = _instance_scenario(factory)
    ec2 = factory.admin("ec2")
    before = instance(factory, iid)
    eni = before["NetworkInterfaces"][0]["NetworkInterfaceId"]
    original = sorted(g["GroupId"] for g in before["NetworkInterfaces"][0]["Groups"])
    vpc = before["VpcId"]

    def groups() -> list[str]:
        return sorted(g["GroupId"] for g in instance(factory, iid)["NetworkInterfaces"][0]["Groups"])

    def changed() -> None:
        quarantine = ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [f"eventops-quarantine-{vpc}"]}]
        )["SecurityGroups"]
        assert len(quarantine) == 1
        qid = quarantine[0]["GroupId"]
        assert groups() == [qid]
        rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [qid]}])
        assert rules["SecurityGroupRules"] == []  # no ingress, no egress
        assert ec2.describe_snapshots(Filters=[{"Name": "tag:eventops:source", "Values": [iid]}])["Snapshots"]

    def restored() -> None:
        assert groups() == original

    def comply() -> None:
        from remediation_fakes import make_ctx

        from bot.remediations import remediations, run

        assert (
            run(remediations["ec2.isolate-instance"], make_ctx(RecordingFactory()), {"instance_id": iid}).state.value
            == "SUCCEEDED"
        )

    return Scenario(
        params={"instance_id": iid},
        changed=changed,
        restored=restored,
        comply=comply,
        gone_params={"instance_id": GONE_INSTANCE},
        exempt_params={"instance_id": exempt},
        silence=("ec2", "ModifyNetworkInterfaceAttribute", {}),
        drift=lambda: ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=original),
        make_exempt=lambda: ec2.create_tags(Resources=[iid], Tags=[EXEMPT]),
    )


def open_group(factory: RecordingFactory, tags: list[dict[str, str]] | None = None) -> tuple[str, str]:
    ec2 = factory.admin("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    kw = {"TagSpecifications": [{"ResourceType": "security-group", "Tags": tags}]} if tags else {}
    gid = ec2.create_security_group(GroupName=f"web-{len(tags or [])}", Description="web", VpcId=vpc, **kw)["GroupId"]
    resp = ec2.authorize_security_group_ingress(
        GroupId=gid,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "ssh"}],
            }
        ],
    )
    return gid, resp["SecurityGroupRules"][0]["SecurityGroupRuleId"]


def allow(factory: RecordingFactory, gid: str, port: int, cidr: str, high: int | None = None) -> str:
    """Authorize tcp ``port``(-``high``) from ``cidr`` (IPv4 or IPv6) by hand; returns the new rule id."""
    ranges = {"Ipv6Ranges": [{"CidrIpv6": cidr}]} if ":" in cidr else {"IpRanges": [{"CidrIp": cidr}]}
    perm = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port if high is None else high, **ranges}
    resp = factory.admin("ec2").authorize_security_group_ingress(GroupId=gid, IpPermissions=[perm])
    return resp["SecurityGroupRules"][0]["SecurityGroupRuleId"]


def ingress(factory: RecordingFactory, gid: str) -> list[dict[str, Any]]:
    rules = factory.admin("ec2").describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])
    return [r for r in rules["SecurityGroupRules"] if not r["IsEgress"]]


def revoke_ingress(factory: RecordingFactory) -> Scenario:
    gid, rule = open_group(factory)
    exempt_gid, exempt_rule = open_group(factory, tags=[EXEMPT])
    ec2 = factory.admin("ec2")

    def changed() -> None:
        assert ingress(factory, gid) == []

    def restored() -> None:
        rules = ingress(factory, gid)
        assert [(r["FromPort"], r["CidrIpv4"], r.get("Description")) for r in rules] == [(22, "0.0.0.0/0", "ssh")]

    return Scenario(
        params={"group_id": gid, "rule_ids": [rule]},
        changed=changed,
        restored=restored,
        comply=lambda: ec2.revoke_security_group_ingress(GroupId=gid, SecurityGroupRuleIds=[rule]),
        gone_params={"group_id": "sg-0123456789abcdef0", "rule_ids": [rule]},
        exempt_params={"group_id": exempt_gid, "rule_ids": [exempt_rule]},
        silence=("ec2", "RevokeSecurityGroupIngress", {"Return": True}),
        # the fix done by hand: SSH from the office only; undo must not re-open it to the world
        drift=lambda: allow(factory, gid, 22, "10.0.0.0/8"),
        make_exempt=lambda: ec2.create_tags(Resources=[gid], Tags=[EXEMPT]),
    )


# --- S3, IAM, CloudTrail, KMS -----------------------------------------------------------------

ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def block_public_access(factory: RecordingFactory) -> Scenario:
    s3 = factory.admin("s3")
    s3.create_bucket(Bucket="open-bucket")
    s3.create_bucket(Bucket="exempt-bucket")
    s3.put_bucket_tagging(Bucket="exempt-bucket", Tagging={"TagSet": [EXEMPT]})

    def changed() -> None:
        try:
            config = s3.get_public_access_block(Bucket="open-bucket")["PublicAccessBlockConfiguration"]
        except s3.exceptions.ClientError as exc:
            raise AssertionError("no public access block") from exc
        assert config == ALL_ON

    def restored() -> None:
        try:
            s3.get_public_access_block(Bucket="open-bucket")
        except s3.exceptions.ClientError as exc:
            assert exc.response["Error"]["Code"] == "NoSuchPublicAccessBlockConfiguration"
        else:
            raise AssertionError("the public access block should be gone again")

    def drift() -> None:
        s3.put_public_access_block(
            Bucket="open-bucket", PublicAccessBlockConfiguration={**ALL_ON, "BlockPublicPolicy": False}
        )

    return Scenario(
        params={"bucket": "open-bucket"},
        changed=changed,
        restored=restored,
        comply=lambda: s3.put_public_access_block(Bucket="open-bucket", PublicAccessBlockConfiguration=ALL_ON),
        gone_params={"bucket": "no-such-bucket"},
        exempt_params={"bucket": "exempt-bucket"},
        silence=("s3", "PutPublicAccessBlock", {}),
        drift=drift,
        make_exempt=lambda: s3.put_bucket_tagging(Bucket="open-bucket", Tagging={"TagSet": [EXEMPT]}),
    )


def make_user_key(factory: RecordingFactory, user: str, tags: list[dict[str, str]] | None = None) -> str:
    iam = factory.admin("iam")
    iam.create_user(UserName=user, **({"Tags": tags} if tags else {}))
    return iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]


def key_status(factory: RecordingFactory, user: str) -> str:
    return factory.admin("iam").list_access_keys(UserName=user)["AccessKeyMetadata"][0]["Status"]


def deactivate_access_key(factory: RecordingFactory) -> Scenario:
    iam = factory.admin("iam")
    key = make_user_key(factory, "ci-bot")
    exempt_key = make_user_key(factory, "break-glass", tags=[EXEMPT])

    def changed() -> None:
        assert key_status(factory, "ci-bot") == "Inactive"
        doc = iam.get_user_policy(UserName="ci-bot", PolicyName="EventOpsRevokeOlderSessions")["PolicyDocument"]
        stmt = doc["Statement"][0]
        assert stmt["Effect"] == "Deny" and "aws:TokenIssueTime" in stmt["Condition"]["DateLessThan"]

    def restored() -> None:
        assert key_status(factory, "ci-bot") == "Active"
        assert iam.list_user_policies(UserName="ci-bot")["PolicyNames"] == []

    def comply() -> None:
        iam.update_access_key(UserName="ci-bot", AccessKeyId=key, Status="Inactive")
        iam.put_user_policy(
            UserName="ci-bot",
            PolicyName="EventOpsRevokeOlderSessions",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
            ),
        )

    return Scenario(
        params={"user_name": "ci-bot", "access_key_id": key},
        changed=changed,
        restored=restored,
        comply=comply,
        gone_params={"user_name": "nobody", "access_key_id": "AKIAIOSFODNN7EXAMPLE"},
        exempt_params={"user_name": "break-glass", "access_key_id": exempt_key},
        silence=("iam", "UpdateAccessKey", {}),
        drift=lambda: iam.update_access_key(UserName="ci-bot", AccessKeyId=key, Status="Active"),
        make_exempt=lambda: iam.tag_user(UserName="ci-bot", Tags=[EXEMPT]),
    )


def start_logging(factory: RecordingFactory) -> Scenario:
    factory.admin("s3").create_bucket(Bucket="trail-logs")
    ct = factory.admin("cloudtrail")
    ct.create_trail(Name="org-trail", S3BucketName="trail-logs")
    ct.create_trail(Name="exempt-trail", S3BucketName="trail-logs", TagsList=[EXEMPT])

    def changed() -> None:
        assert ct.get_trail_status(Name="org-trail")["IsLogging"] is True

    return Scenario(
        params={"trail": "org-trail"},
        changed=changed,
        comply=lambda: ct.start_logging(Name="org-trail"),
        gone_params={"trail": "no-such-trail"},
        exempt_params={"trail": "exempt-trail"},
        silence=("cloudtrail", "StartLogging", {}),
    )


def cancel_key_deletion(factory: RecordingFactory) -> Scenario:
    kms = factory.admin("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    exempt = kms.create_key(Tags=[{"TagKey": "eventops:exempt", "TagValue": "true"}])["KeyMetadata"]["KeyId"]
    for k in (key, exempt):
        kms.schedule_key_deletion(KeyId=k, PendingWindowInDays=7)

    def changed() -> None:
        assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"

    return Scenario(
        params={"key_id": key},
        changed=changed,
        comply=lambda: kms.cancel_key_deletion(KeyId=key),
        gone_params={"key_id": "11111111-2222-3333-4444-555555555555"},
        exempt_params={"key_id": exempt},
        silence=("kms", "CancelKeyDeletion", {"KeyId": key}),
    )


# --- ECS, Lambda, Auto Scaling ----------------------------------------------------------------


def primary_deployment(factory: RecordingFactory, service: str) -> str:
    svc = factory.admin("ecs").describe_services(cluster="prod", services=[service])["services"][0]
    return next(d["id"] for d in svc["deployments"] if d["status"] == "PRIMARY")


def force_new_deployment(factory: RecordingFactory) -> Scenario:
    ecs = factory.admin("ecs")
    ecs.create_cluster(clusterName="prod")
    ecs.register_task_definition(family="web", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128}])
    ecs.create_service(cluster="prod", serviceName="web", taskDefinition="web", desiredCount=1)
    ecs.create_service(
        cluster="prod",
        serviceName="exempt",
        taskDefinition="web",
        desiredCount=1,
        tags=[{"key": "eventops:exempt", "value": "true"}],
    )
    before = primary_deployment(factory, "web")

    def changed() -> None:
        assert primary_deployment(factory, "web") != before

    # comply: forcing a deployment is never "already done".
    return Scenario(
        params={"cluster": "prod", "service": "web"},
        changed=changed,
        gone_params={"cluster": "prod", "service": "no-such-service"},
        exempt_params={"cluster": "prod", "service": "exempt"},
        silence=("ecs", "UpdateService", {"service": {}}),
    )


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buf.getvalue()


def throttle_function(factory: RecordingFactory) -> Scenario:
    role = factory.admin("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = factory.admin("lambda")
    for name, tags in (("ingest", {}), ("exempt-fn", {"eventops:exempt": "true"})):
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": _zip()},
            Tags=tags,
        )

    def changed() -> None:
        assert lam.get_function_concurrency(FunctionName="ingest").get("ReservedConcurrentExecutions") == 0

    def restored() -> None:
        assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName="ingest")

    return Scenario(
        params={"function_name": "ingest"},
        changed=changed,
        restored=restored,
        comply=lambda: lam.put_function_concurrency(FunctionName="ingest", ReservedConcurrentExecutions=0),
        gone_params={"function_name": "no-such-function"},
        exempt_params={"function_name": "exempt-fn"},
        silence=("lambda", "PutFunctionConcurrency", {"ReservedConcurrentExecutions": 0}),
        drift=lambda: lam.put_function_concurrency(FunctionName="ingest", ReservedConcurrentExecutions=5),
        make_exempt=lambda: lam.tag_resource(
            Resource=lam.get_function(FunctionName="ingest")["Configuration"]["FunctionArn"],
            Tags={EXEMPT["Key"]: EXEMPT["Value"]},
        ),
    )


def make_group(factory: RecordingFactory, name: str, tags: list[dict[str, Any]] | None = None) -> None:
    ec2 = factory.admin("ec2")
    try:
        ec2.create_launch_template(
            LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": _image(ec2), "InstanceType": "t3.micro"}
        )
    except ec2.exceptions.ClientError:
        pass  # already made for the other group
    factory.admin("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateName": "web-lt"},
        MinSize=0,
        MaxSize=4,
        DesiredCapacity=1,
        AvailabilityZones=[f"{REGION}a"],
        Tags=[{**t, "PropagateAtLaunch": False} for t in tags or []],
    )


def desired(factory: RecordingFactory, name: str) -> int:
    groups = factory.admin("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    return groups["AutoScalingGroups"][0]["DesiredCapacity"]


def set_desired_capacity(factory: RecordingFactory) -> Scenario:
    make_group(factory, "web")
    make_group(factory, "exempt-asg", tags=[EXEMPT])
    asg = factory.admin("autoscaling")

    def changed() -> None:
        assert desired(factory, "web") == 3

    def restored() -> None:
        assert desired(factory, "web") == 1

    return Scenario(
        params={"group_name": "web", "desired": 3},
        changed=changed,
        restored=restored,
        comply=lambda: asg.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=3),
        gone_params={"group_name": "no-such-group", "desired": 3},
        exempt_params={"group_name": "exempt-asg", "desired": 3},
        silence=("autoscaling", "SetDesiredCapacity", {}),
        drift=lambda: asg.set_desired_capacity(AutoScalingGroupName="web", DesiredCapacity=2),
        make_exempt=lambda: asg.create_or_update_tags(
            Tags=[{**EXEMPT, "ResourceId": "web", "ResourceType": "auto-scaling-group", "PropagateAtLaunch": False}]
        ),
    )


# --- Stubber: the three APIs moto lacks -------------------------------------------------------

HUB_FINDING_ID = "arn:aws:securityhub:us-east-1:123456789012:finding/0abc"
HUB_PRODUCT = "arn:aws:securityhub:us-east-1::product/aws/securityhub"
DETECTOR = "12abc34d567e8fa901bc2d34e56789f0"
GD_FINDING = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
EXECUTION = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def hub_finding(status: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "SchemaVersion": "2018-10-08",
        "Id": HUB_FINDING_ID,
        "ProductArn": HUB_PRODUCT,
        "GeneratorId": "aws-foundational-security-best-practices/v/1.0.0/EC2.19",
        "AwsAccountId": ACCOUNT,
        "CreatedAt": now,
        "UpdatedAt": now,
        "Title": "Security groups should not allow unrestricted access to ports with high risk",
        "Description": "d",
        "Resources": [{"Type": "AwsEc2SecurityGroup", "Id": "sg-0abc1234def567890"}],
        "Workflow": {"Status": status},
    }


def hub_get(stubber: Stubber, status: str) -> None:
    stubber.add_response("get_findings", {"Findings": [hub_finding(status)]})


def hub_update(stubber: Stubber, status: str) -> None:
    stubber.add_response(
        "batch_update_findings",
        {"ProcessedFindings": [{"Id": HUB_FINDING_ID, "ProductArn": HUB_PRODUCT}], "UnprocessedFindings": []},
        {
            "FindingIdentifiers": [{"Id": HUB_FINDING_ID, "ProductArn": HUB_PRODUCT}],
            "Workflow": {"Status": status},
            "Note": {"Text": f"Workflow set to {status} via EventOps by U0TEST", "UpdatedBy": "eventops"},
        },
    )


def set_workflow_status(factory: RecordingFactory) -> Scenario:
    stubber = Stubber(factory.client("securityhub"))
    hub_get(stubber, "NEW")
    hub_update(stubber, "RESOLVED")
    hub_get(stubber, "RESOLVED")
    hub_get(stubber, "RESOLVED")  # undo: read, update back, read
    hub_update(stubber, "NEW")
    hub_get(stubber, "NEW")
    stubber.activate()
    return Scenario(
        params={"finding_id": HUB_FINDING_ID, "product_arn": HUB_PRODUCT, "status": "RESOLVED"},
        changed=lambda: None,
        restored=stubber.assert_no_pending_responses,
        stubbers=[stubber],
    )


def gd_finding(archived: bool) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "AccountId": ACCOUNT,
        "Arn": f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/{DETECTOR}/finding/{GD_FINDING}",
        "CreatedAt": now,
        "Id": GD_FINDING,
        "Region": REGION,
        "Resource": {"ResourceType": "Instance"},
        "SchemaVersion": "2.0",
        "Severity": 5.0,
        "Type": "Recon:EC2/PortProbeUnprotectedPort",
        "UpdatedAt": now,
        "Service": {"Archived": archived},
    }


def gd_get(stubber: Stubber, archived: bool) -> None:
    stubber.add_response(
        "get_findings", {"Findings": [gd_finding(archived)]}, {"DetectorId": DETECTOR, "FindingIds": [GD_FINDING]}
    )


def archive_finding(factory: RecordingFactory) -> Scenario:
    stubber = Stubber(factory.client("guardduty"))
    ids = {"DetectorId": DETECTOR, "FindingIds": [GD_FINDING]}
    gd_get(stubber, False)
    stubber.add_response("archive_findings", {}, ids)
    gd_get(stubber, True)
    gd_get(stubber, True)
    stubber.add_response("unarchive_findings", {}, ids)
    gd_get(stubber, False)
    stubber.activate()
    return Scenario(
        params={"detector_id": DETECTOR, "finding_id": GD_FINDING},
        changed=lambda: None,
        restored=stubber.assert_no_pending_responses,
        stubbers=[stubber],
    )


def ssm_document(stubber: Stubber, name: str = "AWS-RestartEC2Instance") -> None:
    stubber.add_response(
        "describe_document",
        {"Document": {"Name": name, "Status": "Active", "DocumentType": "Automation"}},
        {"Name": name},
    )


def ssm_execution(stubber: Stubber, status: str) -> None:
    stubber.add_response(
        "get_automation_execution",
        {"AutomationExecution": {"AutomationExecutionId": EXECUTION, "AutomationExecutionStatus": status}},
        {"AutomationExecutionId": EXECUTION},
    )


def run_automation(factory: RecordingFactory) -> Scenario:
    from bot.config import Runbook
    from bot.remediations.ssm import configure_runbooks

    configure_runbooks(
        [
            Runbook(
                document="AWS-RestartEC2Instance",
                resource_types=["AwsEc2Instance"],
                parameters={"InstanceId": "{resource.id}"},
            )
        ]
    )
    stubber = Stubber(factory.client("ssm"))
    params = {"DocumentName": "AWS-RestartEC2Instance", "Parameters": {"InstanceId": ["i-0abc1234def567890"]}}
    ssm_document(stubber)
    stubber.add_response("start_automation_execution", {"AutomationExecutionId": EXECUTION}, params)
    ssm_document(stubber)
    ssm_execution(stubber, "InProgress")
    stubber.activate()
    return Scenario(
        params={"document": "AWS-RestartEC2Instance", "parameters": {"InstanceId": ["i-0abc1234def567890"]}},
        changed=stubber.assert_no_pending_responses,
        stubbers=[stubber],
    )


# Every registered remediation must appear here (the meta test checks); a list gives several worlds.
SCENARIOS: dict[str, list[Callable[[RecordingFactory], Scenario]]] = {
    "ec2.stop-instance": [stop_instance],
    "ec2.start-instance": [start_instance],
    "ec2.reboot-instance": [reboot_instance],
    "ec2.terminate-instance": [terminate_instance],
    "ec2.snapshot-volumes": [snapshot_volumes, snapshot_volumes_by_volume],
    "ec2.isolate-instance": [isolate_instance],
    "ec2.revoke-ingress": [revoke_ingress],
    "s3.block-public-access": [block_public_access],
    "iam.deactivate-access-key": [deactivate_access_key],
    "cloudtrail.start-logging": [start_logging],
    "kms.cancel-key-deletion": [cancel_key_deletion],
    "ecs.force-new-deployment": [force_new_deployment],
    "lambda.throttle-function": [throttle_function],
    "autoscaling.set-desired-capacity": [set_desired_capacity],
    "securityhub.set-workflow-status": [set_workflow_status],
    "guardduty.archive-finding": [archive_finding],
    "ssm.run-automation": [run_automation],
}
MOTO_BACKED = [name for name in SCENARIOS if name.split(".")[0] not in ("securityhub", "guardduty", "ssm")]
