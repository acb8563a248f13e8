"""EC2 remediations: stop, start, reboot, snapshot, isolate, terminate an instance; revoke an ingress rule.

Every mutating EC2 call is made with ``DryRun=True`` first: ``DryRunOperation`` means the role
may do it, ``UnauthorizedOperation`` refuses the run with a clear message before anything changes.

Example::

    from bot.remediations import remediations, run
    outcome = run(remediations["ec2.stop-instance"], ctx, {"instance_id": "i-0abc1234"})
"""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any, ClassVar

from botocore.exceptions import ClientError
from pydantic import Field, model_validator

from bot.errors import NotFoundError, PreconditionError
from bot.models import Alert, Risk
from bot.remediations.base import Remediation, RemediationContext, RemediationParams, register
from bot.remediations.common import coerce_params, error_code, not_found_as, run_notes, tag_dict, where

INSTANCE_ID = r"^i-[0-9a-f]{8,17}$"
VOLUME_ID = r"^vol-[0-9a-f]{8,17}$"
GROUP_ID = r"^sg-[0-9a-f]{8,17}$"
RULE_ID = r"^sgr-[0-9a-f]{8,17}$"

# Transitional states count as the state they are heading to: AWS accepted the change.
SETTLED = {"pending": "running", "stopping": "stopped", "shutting-down": "terminated"}
QUARANTINE_PREFIX = "eventops-quarantine-"
RESTORED_FROM_TAG = "eventops:restored-from"


def ec2_dry_run(call: Callable[..., Any], operation: str, **kwargs: Any) -> str:
    """Call ``call(DryRun=True, **kwargs)``; OK means AWS answered DryRunOperation.

    >>> ec2_dry_run(ec2.stop_instances, "StopInstances", InstanceIds=["i-0abc1234"])
    'dry run OK: StopInstances'
    """
    try:
        call(DryRun=True, **kwargs)
    except ClientError as exc:
        code = error_code(exc)
        if code == "DryRunOperation":
            return f"dry run OK: {operation}"
        if code == "UnauthorizedOperation":
            raise PreconditionError(
                f"Refused before any change: the EventOps role is not allowed to call ec2:{operation} "
                "here (the dry run answered UnauthorizedOperation)"
            ) from None
        raise
    # An OK answer to a dry run means DryRun was ignored; nothing for us to add.
    return f"dry run returned OK: {operation}"


def describe_instance(ctx: RemediationContext, instance_id: str, allow_terminated: bool = False) -> dict[str, Any]:
    ec2 = ctx.client("ec2")
    with not_found_as({"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"}, f"instance {instance_id}"):
        resp = ec2.describe_instances(InstanceIds=[instance_id])
    for reservation in resp.get("Reservations", []):
        for inst in reservation.get("Instances", []):
            state = inst.get("State", {}).get("Name", "")
            if not allow_terminated and state in ("shutting-down", "terminated"):
                raise NotFoundError(f"instance {instance_id} is {state}")
            return inst
    raise NotFoundError(f"instance {instance_id} does not exist")


def instance_volumes(inst: dict[str, Any]) -> list[str]:
    return [m["Ebs"]["VolumeId"] for m in inst.get("BlockDeviceMappings", []) if m.get("Ebs", {}).get("VolumeId")]


def settled(state: str) -> str:
    return SETTLED.get(state, state)


def snapshot_volumes(ctx: RemediationContext, volumes: list[str], source: str) -> dict[str, str]:
    """Snapshot each volume, tagged with where it came from. Returns ``{volume_id: snapshot_id}``."""
    ec2 = ctx.client("ec2")
    made: dict[str, str] = {}
    for vol in volumes:
        resp = ec2.create_snapshot(
            VolumeId=vol,
            Description=f"EventOps snapshot of {vol} ({source}) by {ctx.actor.user_id}",
            TagSpecifications=[
                {
                    "ResourceType": "snapshot",
                    "Tags": [
                        {"Key": "eventops:source", "Value": source},
                        {"Key": "eventops:actor", "Value": ctx.actor.user_id},
                    ],
                }
            ],
        )
        if resp.get("SnapshotId"):
            made[vol] = resp["SnapshotId"]
    return made


def snapshot_states(ctx: RemediationContext, snapshots: dict[str, str]) -> dict[str, str]:
    """``{volume_id: snapshot state}``; a snapshot AWS does not know is reported as ``missing``."""
    if not snapshots:
        return {}
    ec2 = ctx.client("ec2")
    states = {vol: "missing" for vol in snapshots}
    wanted = {snap: vol for vol, snap in snapshots.items()}
    for snap_id, vol in wanted.items():
        try:
            resp = ec2.describe_snapshots(SnapshotIds=[snap_id])
        except ClientError as exc:
            if error_code(exc) in ("InvalidSnapshot.NotFound", "InvalidSnapshotID.Malformed"):
                continue
            raise
        for snap in resp.get("Snapshots", []):
            states[vol] = snap.get("State", "missing")
    return states


def _instance_alert_params(alert: Alert) -> dict[str, Any] | None:
    for res in alert.resources:
        if res.type == "AwsEc2Instance" and res.id.startswith("i-"):
            return {"instance_id": res.id}
    return None


# GuardDuty finding types that say the instance itself is compromised (not just a target).
EC2_COMPROMISE = (
    "guardduty:Backdoor:EC2/*",
    "guardduty:CryptoCurrency:EC2/*",
    "guardduty:Trojan:EC2/*",
    "guardduty:Impact:EC2/*",
    "guardduty:Execution:EC2/*",
    "guardduty:UnauthorizedAccess:EC2/TorClient",
    "guardduty:UnauthorizedAccess:EC2/TorRelay",
    "guardduty:Recon:EC2/Portscan",
    "guardduty:*:Runtime/*",
    "guardduty-actor:*:EC2/*",
)


class InstanceParams(RemediationParams):
    instance_id: str = Field(pattern=INSTANCE_ID)


class _InstanceAction(Remediation):
    """Shared reading of one instance; subclasses say what they do to it."""

    resource_types = ("AwsEc2Instance",)
    dry_run = True
    Params = InstanceParams
    verb: ClassVar[str] = ""
    allow_terminated: ClassVar[bool] = False

    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        return _instance_alert_params(alert)

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        p = coerce_params(self, params)
        return [f"Would {self.verb} {p.instance_id} {where(account, region)}".rstrip()]

    def example_params(self) -> dict[str, Any]:
        return {"instance_id": "i-0abc1234def567890"}

    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        inst = describe_instance(ctx, params.instance_id, allow_terminated=self.allow_terminated)
        return {
            "instance_id": params.instance_id,
            "state": inst.get("State", {}).get("Name", ""),
            "tags": tag_dict(inst.get("Tags")),
        }

    def undo_drifted(self, current: dict[str, Any], post_state: dict[str, Any]) -> str | None:
        """Drift is the instance state only (settled: ``stopping`` counts as ``stopped``): it is
        all that stop/start undo puts back; tags are checked for the exempt tag by run_undo."""
        now, then = settled(current.get("state", "")), settled(post_state.get("state", ""))
        if now != then:
            return (
                f"the instance is {current.get('state')} now, not {post_state.get('state')} as the remediation left it"
            )
        return None


@register
class StopInstance(_InstanceAction):
    """Stop an EC2 instance. Undo starts it again.

    Instance-store data is lost and the public IPv4 address changes (unless it is an Elastic IP).

    Example::

        run(remediations["ec2.stop-instance"], ctx, {"instance_id": "i-0abc1234"})
    """

    name = "ec2.stop-instance"
    fixes = (
        *EC2_COMPROMISE,
        "health:AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED",
        "health:AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED",
        "health:AWS_EC2_INSTANCE_STOP_SCHEDULED",
        "cloudwatch-alarm:AWS/EC2/StatusCheckFailed_System",
    )
    title = "Stop instance"
    risk = Risk.MEDIUM
    permissions = ("ec2:DescribeInstances", "ec2:StopInstances", "ec2:StartInstances")
    reversible = True
    verb = "stop"

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        return settled(state.get("state", "")) == "stopped"

    def check_dry_run(self, ctx: RemediationContext, params: Any) -> str:
        return ec2_dry_run(ctx.client("ec2").stop_instances, "StopInstances", InstanceIds=[params.instance_id])

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        self.check_dry_run(ctx, params)
        ctx.client("ec2").stop_instances(InstanceIds=[params.instance_id])
        return f"Stopped {params.instance_id} (was {pre_state.get('state')})"

    def undo(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        ec2_dry_run(ec2.start_instances, "StartInstances", InstanceIds=[params.instance_id])
        ec2.start_instances(InstanceIds=[params.instance_id])
        return f"Started {params.instance_id} again"


@register
class StartInstance(_InstanceAction):
    """Start a stopped EC2 instance. Undo stops it again.

    Example::

        run(remediations["ec2.start-instance"], ctx, {"instance_id": "i-0abc1234"})
    """

    name = "ec2.start-instance"
    fixes = ("ec2-state:stopped",)
    title = "Start instance"
    risk = Risk.LOW
    permissions = ("ec2:DescribeInstances", "ec2:StartInstances", "ec2:StopInstances")
    reversible = True
    verb = "start"

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        return settled(state.get("state", "")) == "running"

    def check_dry_run(self, ctx: RemediationContext, params: Any) -> str:
        return ec2_dry_run(ctx.client("ec2").start_instances, "StartInstances", InstanceIds=[params.instance_id])

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        if pre_state.get("state") == "stopping":
            raise PreconditionError(f"{params.instance_id} is still stopping; start it once it is stopped")
        self.check_dry_run(ctx, params)
        ctx.client("ec2").start_instances(InstanceIds=[params.instance_id])
        return f"Started {params.instance_id} (was {pre_state.get('state')})"

    def undo(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        ec2_dry_run(ec2.stop_instances, "StopInstances", InstanceIds=[params.instance_id])
        ec2.stop_instances(InstanceIds=[params.instance_id])
        return f"Stopped {params.instance_id} again"


@register
class RebootInstance(_InstanceAction):
    """Reboot a running EC2 instance (an OS-level restart; the instance keeps its host and IPs).

    Verification is weak by nature: EC2 shows no trace of a reboot (the state stays
    ``running``, ``LaunchTime`` does not change, RebootInstances returns nothing). We verify that
    AWS accepted the call and that the instance is still running afterwards; an accepted reboot
    the hypervisor silently ignores cannot be detected. AWS itself hard-reboots an instance that
    has not shut down cleanly within about four minutes.

    Example::

        run(remediations["ec2.reboot-instance"], ctx, {"instance_id": "i-0abc1234"})
    """

    name = "ec2.reboot-instance"
    fixes = (
        "cloudwatch-alarm:AWS/EC2/CPUUtilization",
        "cloudwatch-alarm:AWS/EC2/StatusCheckFailed",
        "cloudwatch-alarm:AWS/EC2/StatusCheckFailed_Instance",
        "health:AWS_EC2_INSTANCE_REBOOT_MAINTENANCE_SCHEDULED",
        "health:AWS_EC2_SYSTEM_REBOOT_MAINTENANCE_SCHEDULED",
    )
    title = "Reboot instance"
    risk = Risk.MEDIUM
    permissions = ("ec2:DescribeInstances", "ec2:RebootInstances")
    caveat = "verified: reboot accepted and instance still running; EC2 does not show the reboot itself"
    verb = "reboot"

    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        state = super().read_state(ctx, params)
        state["reboot_accepted"] = bool(run_notes.pop(ctx, f"reboot:{params.instance_id}", False))
        return state

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        return state.get("state") == "running" and bool(state.get("reboot_accepted"))

    def check_dry_run(self, ctx: RemediationContext, params: Any) -> str:
        return ec2_dry_run(ctx.client("ec2").reboot_instances, "RebootInstances", InstanceIds=[params.instance_id])

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        if pre_state.get("state") != "running":
            raise PreconditionError(
                f"{params.instance_id} is {pre_state.get('state')}; only a running instance reboots"
            )
        self.check_dry_run(ctx, params)
        ctx.client("ec2").reboot_instances(InstanceIds=[params.instance_id])
        run_notes.put(ctx, f"reboot:{params.instance_id}", True)
        return f"Reboot of {params.instance_id} accepted"


@register
class TerminateInstance(_InstanceAction):
    """Terminate an EC2 instance. Not reversible: its root volume and instance store are deleted
    (volumes with DeleteOnTermination=false remain). Termination protection makes AWS refuse.
    An instance in an Auto Scaling group is replaced by the group.

    Example::

        run(remediations["ec2.terminate-instance"], ctx, {"instance_id": "i-0abc1234"})
    """

    name = "ec2.terminate-instance"
    # Never offered on an alert: too final to be one click away (``/ops run`` names it).
    fixes = ()
    title = "Terminate instance"
    risk = Risk.HIGH
    permissions = ("ec2:DescribeInstances", "ec2:TerminateInstances")
    verb = "terminate (irreversibly)"
    allow_terminated = True

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        return bool(state.get("gone")) or settled(state.get("state", "")) == "terminated"

    def check_dry_run(self, ctx: RemediationContext, params: Any) -> str:
        return ec2_dry_run(
            ctx.client("ec2").terminate_instances, "TerminateInstances", InstanceIds=[params.instance_id]
        )

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        self.check_dry_run(ctx, params)
        ctx.client("ec2").terminate_instances(InstanceIds=[params.instance_id])
        group = (pre_state.get("tags") or {}).get("aws:autoscaling:groupName")
        extra = f"; Auto Scaling group {group} will launch a replacement" if group else ""
        return f"Terminated {params.instance_id}{extra}"


class SnapshotParams(RemediationParams):
    instance_id: str | None = Field(default=None, pattern=INSTANCE_ID)
    volume_ids: list[str] = []

    @model_validator(mode="after")
    def _one_target(self) -> SnapshotParams:
        if bool(self.instance_id) == bool(self.volume_ids):
            raise ValueError("give either instance_id or volume_ids")
        for vol in self.volume_ids:
            if not vol.startswith("vol-"):
                raise ValueError(f"{vol} is not a volume id")
        return self


@register
class SnapshotVolumes(Remediation):
    """Snapshot the EBS volumes of an instance (or the given volumes) for forensics or backup.

    Snapshots are point-in-time at the API call; they stay ``pending`` while copied. Not
    reversible (undo would only delete the evidence); each snapshot is tagged
    ``eventops:source`` and ``eventops:actor``.

    Example::

        run(remediations["ec2.snapshot-volumes"], ctx, {"instance_id": "i-0abc1234"})
    """

    name = "ec2.snapshot-volumes"
    fixes = (
        *EC2_COMPROMISE,
        "health:AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED",
        "health:AWS_EC2_PERSISTENT_INSTANCE_RETIREMENT_SCHEDULED",
        "health:AWS_EBS_*",
    )
    title = "Snapshot volumes"
    risk = Risk.LOW
    permissions = (
        "ec2:DescribeInstances",
        "ec2:DescribeVolumes",
        "ec2:CreateSnapshot",
        "ec2:CreateTags",
        "ec2:DescribeSnapshots",
    )
    resource_types = ("AwsEc2Instance", "AwsEc2Volume")
    dry_run = True
    Params = SnapshotParams

    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        found = _instance_alert_params(alert)
        if found:
            return found
        vols = [r.id for r in alert.resources if r.type == "AwsEc2Volume" and r.id.startswith("vol-")]
        return {"volume_ids": vols} if vols else None

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        p = coerce_params(self, params)
        target = f"every EBS volume of {p.instance_id}" if p.instance_id else ", ".join(p.volume_ids)
        return [f"Would snapshot {target} {where(account, region)}".rstrip()]

    def example_params(self) -> dict[str, Any]:
        return {"instance_id": "i-0abc1234def567890"}

    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        if params.instance_id:
            inst = describe_instance(ctx, params.instance_id)
            volumes, tags = instance_volumes(inst), tag_dict(inst.get("Tags"))
        else:
            ec2 = ctx.client("ec2")
            with not_found_as({"InvalidVolume.NotFound"}, f"volume {', '.join(params.volume_ids)}"):
                resp = ec2.describe_volumes(VolumeIds=params.volume_ids)
            volumes, tags = [], {}
            for vol in resp.get("Volumes", []):
                volumes.append(vol["VolumeId"])
                tags.update(tag_dict(vol.get("Tags")))  # any exempt volume exempts the run
        made = run_notes.pop(ctx, f"snapshots:{params.instance_id or ','.join(params.volume_ids)}", {})
        return {
            "volumes": volumes,
            "snapshots": made,
            "snapshot_states": snapshot_states(ctx, made),
            "tags": tags,
        }

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        states = state.get("snapshot_states") or {}
        vols = state.get("volumes") or []
        return bool(vols) and all(states.get(v) in ("pending", "completed") for v in vols)

    def check_dry_run(self, ctx: RemediationContext, params: Any) -> str:
        return "; ".join(
            ec2_dry_run(ctx.client("ec2").create_snapshot, "CreateSnapshot", VolumeId=vol)
            for vol in self._volumes(ctx, params)[:1]
        )

    def _volumes(self, ctx: RemediationContext, params: Any) -> list[str]:
        if params.volume_ids:
            return list(params.volume_ids)
        return instance_volumes(describe_instance(ctx, params.instance_id))

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        volumes = pre_state.get("volumes") or []
        if not volumes:
            raise PreconditionError(f"{params.instance_id} has no EBS volumes to snapshot")
        ec2_dry_run(ctx.client("ec2").create_snapshot, "CreateSnapshot", VolumeId=volumes[0])
        made = snapshot_volumes(ctx, volumes, params.instance_id or "volumes")
        run_notes.put(ctx, f"snapshots:{params.instance_id or ','.join(params.volume_ids)}", made)
        listed = ", ".join(f"{v} → {s}" for v, s in made.items()) or "none"
        return f"Snapshots started: {listed}"


def quarantine_group_name(vpc_id: str) -> str:
    return f"{QUARANTINE_PREFIX}{vpc_id}"


def find_quarantine_group(ctx: RemediationContext, vpc_id: str) -> str | None:
    resp = ctx.client("ec2").describe_security_groups(
        Filters=[
            {"Name": "group-name", "Values": [quarantine_group_name(vpc_id)]},
            {"Name": "vpc-id", "Values": [vpc_id]},
        ]
    )
    groups = resp.get("SecurityGroups", [])
    return groups[0]["GroupId"] if groups else None


def group_rules(ctx: RemediationContext, group_id: str) -> list[dict[str, Any]]:
    resp = ctx.client("ec2").describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
    return resp.get("SecurityGroupRules", [])


@register
class IsolateInstance(Remediation):
    """Cut an instance off the network for forensics: snapshot its EBS volumes, then replace the
    security groups of every network interface with ``eventops-quarantine-<vpc>`` (no inbound,
    no outbound rules; created on demand, reused afterwards). Undo restores the previous groups.

    Risk HIGH: the workload stops serving at once and the instance can no longer reach anything
    (including SSM), so a mistaken click is an outage; two approvers are worth it.

    Caveat: security groups are stateful and tracked connections that are already established
    may survive the group change; for a hard cut add a deny-all network ACL or stop the instance.

    Example::

        run(remediations["ec2.isolate-instance"], ctx, {"instance_id": "i-0abc1234"})
    """

    name = "ec2.isolate-instance"
    fixes = (*EC2_COMPROMISE,)
    title = "Isolate instance (quarantine security group)"
    risk = Risk.HIGH
    permissions = (
        "ec2:DescribeInstances",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules",
        "ec2:CreateSnapshot",
        "ec2:CreateTags",
        "ec2:CreateSecurityGroup",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:ModifyNetworkInterfaceAttribute",
    )
    resource_types = ("AwsEc2Instance",)
    reversible = True
    dry_run = True
    caveat = "established connections may survive a security group change"
    Params = InstanceParams

    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        return _instance_alert_params(alert)

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        p = coerce_params(self, params)
        loc = where(account, region)
        return [
            f"Would snapshot every EBS volume of {p.instance_id} {loc}".rstrip(),
            f"Would replace its security groups with its VPC's quarantine group ({QUARANTINE_PREFIX}vpc-…: "
            "no inbound, no outbound rules), created if the VPC has none",
        ]

    def example_params(self) -> dict[str, Any]:
        return {"instance_id": "i-0abc1234def567890"}

    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        inst = describe_instance(ctx, params.instance_id)
        vpc_id = inst.get("VpcId")
        interfaces = {
            eni["NetworkInterfaceId"]: sorted(g["GroupId"] for g in eni.get("Groups", []))
            for eni in inst.get("NetworkInterfaces", [])
        }
        quarantine = find_quarantine_group(ctx, vpc_id) if vpc_id else None
        return {
            "instance_id": params.instance_id,
            "vpc_id": vpc_id,
            "interfaces": interfaces,
            "volumes": instance_volumes(inst),
            "quarantine_group_id": quarantine,
            "quarantine_rule_count": len(group_rules(ctx, quarantine)) if quarantine else 0,
            "tags": tag_dict(inst.get("Tags")),
        }

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        qid = state.get("quarantine_group_id")
        interfaces = state.get("interfaces") or {}
        return (
            bool(qid)
            and bool(interfaces)
            and state.get("quarantine_rule_count") == 0
            and all(groups == [qid] for groups in interfaces.values())
        )

    def check_dry_run(self, ctx: RemediationContext, params: Any) -> str:
        inst = describe_instance(ctx, params.instance_id)
        return "; ".join(self._dry_runs(ctx, instance_volumes(inst), inst.get("NetworkInterfaces", [])))

    def _dry_runs(self, ctx: RemediationContext, volumes: list[str], enis: list[dict[str, Any]]) -> list[str]:
        ec2 = ctx.client("ec2")
        said = []
        if volumes:
            said.append(ec2_dry_run(ec2.create_snapshot, "CreateSnapshot", VolumeId=volumes[0]))
        for eni in enis[:1]:
            groups = [g["GroupId"] for g in eni.get("Groups", [])]
            said.append(
                ec2_dry_run(
                    ec2.modify_network_interface_attribute,
                    "ModifyNetworkInterfaceAttribute",
                    NetworkInterfaceId=eni["NetworkInterfaceId"],
                    Groups=groups,
                )
            )
        return said

    def _ensure_quarantine_group(self, ctx: RemediationContext, vpc_id: str) -> str:
        ec2 = ctx.client("ec2")
        group_id = find_quarantine_group(ctx, vpc_id)
        if group_id is None:
            try:
                group_id = ec2.create_security_group(
                    GroupName=quarantine_group_name(vpc_id),
                    Description="EventOps quarantine: no inbound, no outbound",
                    VpcId=vpc_id,
                    TagSpecifications=[
                        {"ResourceType": "security-group", "Tags": [{"Key": "eventops:quarantine", "Value": "true"}]}
                    ],
                )["GroupId"]
            except ClientError as exc:
                # Another run created it between our describe and create.
                if error_code(exc) != "InvalidGroup.Duplicate":
                    raise
                group_id = find_quarantine_group(ctx, vpc_id)
                if group_id is None:
                    raise
        # A new group comes with an allow-all egress rule; someone may also have added rules since.
        rules = group_rules(ctx, group_id)
        egress = [r["SecurityGroupRuleId"] for r in rules if r.get("IsEgress")]
        ingress = [r["SecurityGroupRuleId"] for r in rules if not r.get("IsEgress")]
        if egress:
            ec2.revoke_security_group_egress(GroupId=group_id, SecurityGroupRuleIds=egress)
        if ingress:
            ec2.revoke_security_group_ingress(GroupId=group_id, SecurityGroupRuleIds=ingress)
        return group_id

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        vpc_id = pre_state.get("vpc_id")
        interfaces: dict[str, list[str]] = pre_state.get("interfaces") or {}
        if not vpc_id or not interfaces:
            raise PreconditionError(f"{params.instance_id} has no VPC network interface to isolate")
        enis = [{"NetworkInterfaceId": e, "Groups": [{"GroupId": g} for g in gs]} for e, gs in interfaces.items()]
        self._dry_runs(ctx, pre_state.get("volumes") or [], enis)
        made = snapshot_volumes(ctx, pre_state.get("volumes") or [], params.instance_id)
        group_id = self._ensure_quarantine_group(ctx, vpc_id)
        ec2 = ctx.client("ec2")
        # ModifyInstanceAttribute(Groups=…) refuses instances with several interfaces; per ENI works for all.
        for eni_id in interfaces:
            ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Groups=[group_id])
        previous = sorted({g for gs in interfaces.values() for g in gs})
        snaps = ", ".join(made.values()) or "no EBS volumes"
        return (
            f"Isolated {params.instance_id}: snapshots {snaps}; security groups "
            f"{', '.join(previous) or 'none'} replaced by {group_id} ({quarantine_group_name(vpc_id)})"
        )

    def undo(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        interfaces: dict[str, list[str]] = pre_state.get("interfaces") or {}
        for eni_id, groups in interfaces.items():
            ec2_dry_run(
                ec2.modify_network_interface_attribute,
                "ModifyNetworkInterfaceAttribute",
                NetworkInterfaceId=eni_id,
                Groups=groups,
            )
            ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Groups=groups)
        restored = sorted({g for gs in interfaces.values() for g in gs})
        return f"Restored security groups {', '.join(restored)} on {params.instance_id}"

    def undo_drifted(self, current: dict[str, Any], post_state: dict[str, Any]) -> str | None:
        """Drift is the interfaces' security groups, which undo puts back. Harmless: volumes
        attached since, the quarantine group's own rules (undo does not touch the group)."""
        if current.get("interfaces") != post_state.get("interfaces"):
            return "the instance's security groups changed since it was isolated"
        return None


# What makes an ingress rule dangerous (as in AWS's AWS-DisableIncomingSSHOnPort22 runbook): it is
# open to the whole internet and its protocol and port range let traffic reach the port.
WORLD_CIDRS = ("0.0.0.0/0", "::/0")
PORTED_PROTOCOLS = ("tcp", "udp", "6", "17")
SSH_PORT = 22


class RevokeIngressParams(RemediationParams):
    group_id: str = Field(pattern=GROUP_ID)
    # The rules the alert named (CloudTrail knows their ids; ASFF and Config do not: empty).
    rule_ids: list[str] = []
    # The ports that must not stay open to the world: every rule opening one of them to
    # 0.0.0.0/0 or ::/0 is revoked, whatever its id. The alert's ports, else SSH.
    ports: list[int] = Field(default_factory=lambda: [SSH_PORT], min_length=1)

    @model_validator(mode="after")
    def _rule_ids(self) -> RevokeIngressParams:
        bad = [r for r in self.rule_ids if not r.startswith("sgr-")]
        if bad:
            raise ValueError(f"not security group rule ids: {', '.join(bad)}")
        out_of_range = [p for p in self.ports if not 0 <= p <= 65535]
        if out_of_range:
            raise ValueError(f"not ports: {', '.join(map(str, out_of_range))}")
        return self


def rule_reaches(rule: dict[str, Any], ports: list[int]) -> bool:
    """Whether traffic to one of ``ports`` passes the rule (all traffic, or a TCP/UDP range covering it)."""
    protocol = str(rule.get("IpProtocol", ""))
    if protocol in ("-1", "all"):
        return True
    if protocol not in PORTED_PROTOCOLS:
        return False
    low, high = rule.get("FromPort", -1), rule.get("ToPort", -1)
    return any(low <= port <= high for port in ports)


def world_open(rule: dict[str, Any]) -> bool:
    return rule.get("CidrIpv4") in WORLD_CIDRS or rule.get("CidrIpv6") in WORLD_CIDRS


# Ports a finding is about when it names no rule: the controls' and Config rules' own ports
# (restricted-common-ports' defaults are blockedPort1..5).
_PROBLEM_PORTS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("securityhub-control:EC2.13", (SSH_PORT,)),
    ("securityhub-control:EC2.14", (3389,)),
    ("config-rule:*restricted-ssh*", (SSH_PORT,)),
    ("config-rule:*INCOMING_SSH_DISABLED*", (SSH_PORT,)),
    ("config-rule:*restricted-common-ports*", (20, 21, 3389, 3306, 4333)),
    ("guardduty-target:UnauthorizedAccess:EC2/SSHBruteForce", (SSH_PORT,)),
    ("guardduty-target:UnauthorizedAccess:EC2/RDPBruteForce", (3389,)),
)


def _open_ports(alert: Alert) -> list[int]:
    """The ports the alert's world-open rules start at (``open_ingress``), else the ports its
    problem is about (``_PROBLEM_PORTS``); empty when it says neither."""
    ports = set()
    for rule in alert.context.get("open_ingress") or []:
        port = rule.get("from_port") if isinstance(rule, dict) else None
        if rule.get("cidr") in WORLD_CIDRS and isinstance(port, int) and 0 <= port <= 65535:
            ports.add(port)
    if not ports:
        for pattern, known in _PROBLEM_PORTS:
            if any(fnmatchcase(p, pattern) for p in alert.problems):
                ports.update(known)
    return sorted(ports)


def _alert_ports(alert: Alert) -> list[int]:
    """``_open_ports``, SSH when the alert names none."""
    return _open_ports(alert) or [SSH_PORT]


def _rule_spec(rule: dict[str, Any]) -> dict[str, Any]:
    """The parts of a described rule needed to authorize it again, plus where it came from."""
    keep = ("IpProtocol", "FromPort", "ToPort", "CidrIpv4", "CidrIpv6", "PrefixListId", "Description")
    spec = {k: rule[k] for k in keep if rule.get(k) is not None}
    ref = rule.get("ReferencedGroupInfo") or {}
    if ref.get("GroupId"):
        spec["ReferencedGroupId"] = ref["GroupId"]
        if ref.get("UserId"):
            spec["ReferencedUserId"] = ref["UserId"]
    tags = tag_dict(rule.get("Tags"))
    spec["rule_id"] = rule["SecurityGroupRuleId"]
    spec["origin"] = tags.get(RESTORED_FROM_TAG, rule["SecurityGroupRuleId"])
    return spec


def _ip_permission(spec: dict[str, Any]) -> dict[str, Any]:
    perm: dict[str, Any] = {"IpProtocol": spec["IpProtocol"]}
    if spec["IpProtocol"] != "-1":
        perm["FromPort"], perm["ToPort"] = spec.get("FromPort", -1), spec.get("ToPort", -1)
    desc = {"Description": spec["Description"]} if spec.get("Description") else {}
    if spec.get("CidrIpv4"):
        perm["IpRanges"] = [{"CidrIp": spec["CidrIpv4"], **desc}]
    if spec.get("CidrIpv6"):
        perm["Ipv6Ranges"] = [{"CidrIpv6": spec["CidrIpv6"], **desc}]
    if spec.get("PrefixListId"):
        perm["PrefixListIds"] = [{"PrefixListId": spec["PrefixListId"], **desc}]
    if spec.get("ReferencedGroupId"):
        pair = {"GroupId": spec["ReferencedGroupId"], **desc}
        if spec.get("ReferencedUserId"):
            pair["UserId"] = spec["ReferencedUserId"]
        perm["UserIdGroupPairs"] = [pair]
    return perm


@register
class RevokeIngress(Remediation):
    """Revoke the ingress rules of a security group that open a port to the whole internet.

    A rule is revoked when the alert named it (by SecurityGroupRuleId, or a rule our undo
    restored from it) or when it opens one of ``ports`` (default 22) to 0.0.0.0/0 or ::/0 with
    TCP, UDP or all traffic, whatever its id: a rule re-added by hand gets a new id and is just
    as open. This is the matching of AWS's AWS-DisableIncomingSSHOnPort22 runbook.
    RevokeSecurityGroupIngress can answer OK without removing anything, so success is decided
    by reading the rules again: no matching rule may remain.

    Undo authorizes exactly the revoked rules again (new ids, tagged
    ``eventops:restored-from=<old id>`` so this remediation still recognises them). It is
    refused when the group's ingress on those ports changed since the revoke (a rule added,
    removed or edited by hand, e.g. a narrower rule that replaced the open one); rules on
    other ports and tags do not matter.

    Example::

        run(remediations["ec2.revoke-ingress"], ctx, {"group_id": "sg-0abc1234", "rule_ids": ["sgr-0abc1234"]})
    """

    name = "ec2.revoke-ingress"
    fixes = (
        "securityhub-control:EC2.13",
        "securityhub-control:EC2.14",
        "securityhub-control:EC2.18",
        "securityhub-control:EC2.19",
        "securityhub-control:EC2.53",
        "securityhub-control:EC2.54",
        "config-rule:*restricted-ssh*",
        "config-rule:*INCOMING_SSH_DISABLED*",
        "config-rule:*restricted-common-ports*",
        "config-rule:*vpc-sg-open-only-to-authorized-ports*",
        "config-rule:*vpc-sg-port-restriction-check*",
        "trustedadvisor:Security Groups - Specific Ports Unrestricted",
        "trustedadvisor:Security Groups - Unrestricted Access",
        "cloudtrail:sg-open-ingress",
        "guardduty-target:UnauthorizedAccess:EC2/SSHBruteForce",
        "guardduty-target:UnauthorizedAccess:EC2/RDPBruteForce",
    )
    title = "Revoke open ingress rule"
    risk = Risk.MEDIUM
    permissions = (
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:CreateTags",
    )
    resource_types = ("AwsEc2SecurityGroup",)
    reversible = True
    dry_run = True
    Params = RevokeIngressParams

    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        """The group and the rules the alert named (CloudTrail), or only the ports it is about
        (Security Hub's ASFF and Config carry no rule ids): ``read_state`` finds the rules."""
        rule_ids = [r for r in alert.context.get("security_group_rule_ids") or [] if str(r).startswith("sgr-")]
        ports = _open_ports(alert)
        if not rule_ids and not ports:
            return None
        for res in alert.resources:
            if res.type == "AwsEc2SecurityGroup" and res.id.startswith("sg-"):
                return {"group_id": res.id, "rule_ids": rule_ids, "ports": ports or [SSH_PORT]}
        return None

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        p = coerce_params(self, params)
        loc = where(account, region)
        said = [f"Would revoke ingress rule {r} of {p.group_id} {loc}".rstrip() for r in p.rule_ids]
        ports = ", ".join(map(str, p.ports))
        return [*said, f"Would revoke every other rule of {p.group_id} opening port {ports} to 0.0.0.0/0 or ::/0"]

    def example_params(self) -> dict[str, Any]:
        return {"group_id": "sg-0abc1234def567890", "rule_ids": ["sgr-0abc1234def567890"], "ports": [22]}

    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        """``open_rules``: what this remediation revokes; ``port_rules``: every other ingress rule
        on the same ports (any source), the context undo must find unchanged."""
        ec2 = ctx.client("ec2")
        with not_found_as({"InvalidGroup.NotFound", "InvalidGroupId.Malformed"}, f"security group {params.group_id}"):
            groups = ec2.describe_security_groups(GroupIds=[params.group_id]).get("SecurityGroups", [])
        if not groups:
            raise NotFoundError(f"security group {params.group_id} does not exist")
        named = set(params.rule_ids)
        specs = sorted(
            (_rule_spec(r) for r in group_rules(ctx, params.group_id) if not r.get("IsEgress")),
            key=lambda s: s["rule_id"],
        )

        def dangerous(spec: dict[str, Any]) -> bool:
            by_name = spec["rule_id"] in named or spec["origin"] in named
            return by_name or (world_open(spec) and rule_reaches(spec, params.ports))

        return {
            "group_id": params.group_id,
            "open_rules": [s for s in specs if dangerous(s)],
            "port_rules": [s for s in specs if not dangerous(s) and rule_reaches(s, params.ports)],
            "tags": tag_dict(groups[0].get("Tags")),
        }

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        return not state.get("open_rules")

    def check_dry_run(self, ctx: RemediationContext, params: Any) -> str:
        ids = [r["rule_id"] for r in self.read_state(ctx, params)["open_rules"]]
        if not ids:
            return f"nothing to revoke: no rule of {params.group_id} is open"
        return ec2_dry_run(
            ctx.client("ec2").revoke_security_group_ingress,
            "RevokeSecurityGroupIngress",
            GroupId=params.group_id,
            SecurityGroupRuleIds=ids,
        )

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        ids = [r["rule_id"] for r in pre_state.get("open_rules") or []]
        ec2 = ctx.client("ec2")
        ec2_dry_run(
            ec2.revoke_security_group_ingress,
            "RevokeSecurityGroupIngress",
            GroupId=params.group_id,
            SecurityGroupRuleIds=ids,
        )
        ec2.revoke_security_group_ingress(GroupId=params.group_id, SecurityGroupRuleIds=ids)
        return f"Revoked ingress rule(s) {', '.join(ids)} of {params.group_id}"

    def undo_drifted(self, current: dict[str, Any], post_state: dict[str, Any]) -> str | None:
        """Drift is any rule open again, or a change in the other ingress rules on the ports
        (``port_rules``); rules on other ports and tags are harmless to the undo."""
        reopened = [r["rule_id"] for r in current.get("open_rules") or []]
        if reopened:
            return (
                f"{', '.join(reopened)} opened {current.get('group_id')} to the internet again since the revoke; "
                "undo would add to someone else's change"
            )
        if "port_rules" in post_state and current.get("port_rules") != post_state["port_rules"]:
            before = {r["rule_id"] for r in post_state["port_rules"]}
            now = {r["rule_id"] for r in current.get("port_rules") or []}
            moved = [f"added {', '.join(sorted(now - before))}"] if now - before else []
            moved += [f"removed {', '.join(sorted(before - now))}"] if before - now else []
            return f"the ingress rules on the revoked ports changed since the revoke ({'; '.join(moved) or 'edited'})"
        return None

    def undo(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        ec2 = ctx.client("ec2")
        restored = []
        for spec in pre_state.get("open_rules") or []:
            kwargs = {
                "GroupId": params.group_id,
                "IpPermissions": [_ip_permission(spec)],
                "TagSpecifications": [
                    {
                        "ResourceType": "security-group-rule",
                        "Tags": [{"Key": RESTORED_FROM_TAG, "Value": spec["origin"]}],
                    }
                ],
            }
            ec2_dry_run(ec2.authorize_security_group_ingress, "AuthorizeSecurityGroupIngress", **kwargs)
            try:
                ec2.authorize_security_group_ingress(**kwargs)
            except ClientError as exc:
                if error_code(exc) != "InvalidPermission.Duplicate":
                    raise
            restored.append(spec["origin"])
        return f"Authorized again on {params.group_id}: the rule(s) formerly {', '.join(restored)}"
