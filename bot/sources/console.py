"""AWS console deep links, built only from validated ids, ARNs and region strings.

Every function returns a ``Link`` or None: an id that doesn't match its strict pattern never
reaches a URL, and every path part is percent-encoded on top.
"""

from __future__ import annotations

import re

from bot.models import Link
from bot.sources import arns

# What urllib's quote(value, safe="") leaves alone; the rest is percent-encoded as UTF-8 bytes.
_UNSAFE_RE = re.compile(r"[^A-Za-z0-9_.~-]+")
_PERCENT = tuple(f"%{b:02X}" for b in range(256))


def _percent(m: re.Match[str]) -> str:
    return "".join([_PERCENT[b] for b in m.group().encode()])


def _q(value: str) -> str:
    """``urllib.parse.quote(value, safe="")``, one regex pass instead of its per-byte loop."""
    return _UNSAFE_RE.sub(_percent, value)


def _host(region: str) -> str:
    if region.startswith("cn-"):
        return f"https://{region}.console.amazonaws.cn"
    return f"https://{region}.console.aws.amazon.com"


def _ok(region: str, value: object, pattern: re.Pattern[str]) -> bool:
    return arns.is_region(region) and arns.matches(pattern, value)


def ec2_instance(region: str, instance_id: str) -> Link | None:
    if not _ok(region, instance_id, arns.INSTANCE_ID_RE):
        return None
    return Link(
        label=f"Instance {instance_id}",
        url=f"{_host(region)}/ec2/home?region={region}#InstanceDetails:instanceId={instance_id}",
    )


def security_group(region: str, group_id: str) -> Link | None:
    if not _ok(region, group_id, arns.SECURITY_GROUP_ID_RE):
        return None
    return Link(
        label=f"Security group {group_id}",
        url=f"{_host(region)}/ec2/home?region={region}#SecurityGroup:groupId={group_id}",
    )


def s3_bucket(region: str, bucket: str) -> Link | None:
    if not arns.matches(arns.BUCKET_RE, bucket):
        return None
    suffix = f"?region={region}" if arns.is_region(region) else ""
    return Link(label=f"Bucket {bucket}", url=f"https://s3.console.aws.amazon.com/s3/buckets/{bucket}{suffix}")


def iam_user(user_name: str) -> Link | None:
    if not arns.matches(arns.IAM_NAME_RE, user_name):
        return None
    return Link(
        label=f"IAM user {user_name}",
        url=f"https://console.aws.amazon.com/iam/home#/users/details/{_q(user_name)}?section=security_credentials",
    )


def guardduty_finding(region: str, finding_id: str) -> Link | None:
    if not _ok(region, finding_id, arns.HEX32_RE):
        return None
    return Link(
        label="GuardDuty finding",
        url=f"{_host(region)}/guardduty/home?region={region}#/findings?macros=current&fId={finding_id}",
    )


_FINDING_ID_RE = re.compile(r"^[A-Za-z0-9:/._+=@-]{1,512}$")


def securityhub_finding(region: str, finding_id: str) -> Link | None:
    if not arns.is_region(region) or not isinstance(finding_id, str):
        return None
    if not _FINDING_ID_RE.match(finding_id):
        return None
    # The console's search syntax double-encodes the operator and the value.
    search = "Id%3D%255Coperator%255C%253AEQUALS%255C%253A" + _q(_q(finding_id))
    return Link(
        label="Security Hub finding", url=f"{_host(region)}/securityhub/home?region={region}#/findings?search={search}"
    )


def cloudwatch_alarm(region: str, alarm_name: str) -> Link | None:
    if not _ok(region, alarm_name, arns.SIMPLE_NAME_RE):
        return None
    return Link(
        label="Alarm",
        url=f"{_host(region)}/cloudwatch/home?region={region}#alarmsV2:alarm/{_q(alarm_name)}",
    )


def health_event(event_arn: str) -> Link | None:
    if not arns.matches(arns.SAFE_ARN_RE, event_arn) or not event_arn.startswith("arn:aws:health:"):
        return None
    return Link(
        label="AWS Health event",
        url=f"https://health.aws.amazon.com/health/home#/account/event-log?eventID={_q(event_arn)}&eventTab=details",
    )


def config_rule(region: str, rule_name: str) -> Link | None:
    if not _ok(region, rule_name, arns.STRICT_NAME_RE):
        return None
    return Link(
        label=f"Config rule {rule_name}",
        url=f"{_host(region)}/config/home?region={region}#/rules/details?configRuleName={_q(rule_name)}",
    )


def autoscaling_group(region: str, name: str) -> Link | None:
    if not _ok(region, name, arns.SIMPLE_NAME_RE):
        return None
    return Link(
        label=f"Auto Scaling group {name}",
        url=f"{_host(region)}/ec2/home?region={region}#AutoScalingGroupDetails:id={_q(name)};view=activity",
    )


def ecs_service(region: str, cluster: str, service: str) -> Link | None:
    if not (_ok(region, cluster, arns.STRICT_NAME_RE) and arns.matches(arns.STRICT_NAME_RE, service)):
        return None
    return Link(
        label=f"ECS service {service}",
        url=f"{_host(region)}/ecs/v2/clusters/{cluster}/services/{service}/health?region={region}",
    )


_TASK_ID_RE = re.compile(r"^[0-9a-f-]{32,36}$")


def ecs_task(region: str, cluster: str, task_id: str) -> Link | None:
    if not (_ok(region, cluster, arns.STRICT_NAME_RE) and _TASK_ID_RE.match(task_id or "")):
        return None
    return Link(
        label="ECS task",
        url=f"{_host(region)}/ecs/v2/clusters/{cluster}/tasks/{task_id}/configuration?region={region}",
    )


def codepipeline_execution(region: str, pipeline: str, execution_id: str | None) -> Link | None:
    if not _ok(region, pipeline, arns.STRICT_NAME_RE):
        return None
    base = f"{_host(region)}/codesuite/codepipeline/pipelines/{pipeline}"
    if execution_id and arns.UUID_RE.match(execution_id):
        return Link(label="Pipeline execution", url=f"{base}/executions/{execution_id}/timeline?region={region}")
    return Link(label=f"Pipeline {pipeline}", url=f"{base}/view?region={region}")


def codebuild_build(region: str, account: str, project: str, build_uuid: str | None) -> Link | None:
    if not (_ok(region, project, arns.STRICT_NAME_RE) and arns.matches(arns.ACCOUNT_RE, account)):
        return None
    base = f"{_host(region)}/codesuite/codebuild/{account}/projects/{project}"
    if build_uuid and arns.UUID_RE.match(build_uuid):
        return Link(label="Build", url=f"{base}/build/{project}%3A{build_uuid}/?region={region}")
    return Link(label=f"Project {project}", url=f"{base}/history?region={region}")


def codedeploy_deployment(region: str, deployment_id: str) -> Link | None:
    if not _ok(region, deployment_id, re.compile(r"^d-[A-Z0-9]{9}$")):
        return None
    return Link(
        label=f"Deployment {deployment_id}",
        url=f"{_host(region)}/codesuite/codedeploy/deployments/{deployment_id}?region={region}",
    )


def cloudtrail_event(region: str, event_id: str) -> Link | None:
    if not _ok(region, event_id, arns.UUID_RE):
        return None
    return Link(label="CloudTrail event", url=f"{_host(region)}/cloudtrail/home?region={region}#/events/{event_id}")


def cloudtrail_trail(region: str, trail_arn: str) -> Link | None:
    if not (arns.is_region(region) and arns.matches(arns.SAFE_ARN_RE, trail_arn)):
        return None
    return Link(
        label="Trail",
        url=f"{_host(region)}/cloudtrail/home?region={region}#/trails/{_q(trail_arn)}",
    )


def kms_key(region: str, key_id: str) -> Link | None:
    if not _ok(region, key_id, re.compile(r"^(?:mrk-[0-9a-f]{32}|[0-9a-f-]{36})$")):
        return None
    return Link(label="KMS key", url=f"{_host(region)}/kms/home?region={region}#/kms/keys/{key_id}")


def rds_database(region: str, identifier: str, *, cluster: bool = False) -> Link | None:
    if not _ok(region, identifier, re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")):
        return None
    flag = "true" if cluster else "false"
    return Link(
        label=f"Database {identifier}",
        url=f"{_host(region)}/rds/home?region={region}#database:id={identifier};is-cluster={flag}",
    )


def trusted_advisor(check_name: str) -> Link:
    del check_name  # the console has no stable per-check deep link
    return Link(label="Trusted Advisor", url="https://console.aws.amazon.com/trustedadvisor/home#/dashboard")


def cost_anomaly(monitor_arn: str | None, anomaly_id: str) -> Link | None:
    if not arns.matches(arns.UUID_RE, anomaly_id):
        return None
    monitor = arns.parse_arn(monitor_arn)
    if monitor is None or not arns.UUID_RE.match(monitor.resource_id):
        return Link(
            label="Cost anomalies",
            url="https://console.aws.amazon.com/cost-management/home#/anomaly-detection/overview",
        )
    return Link(
        label="Cost anomaly",
        url=(
            "https://console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/"
            f"{monitor.resource_id}/anomalies/{anomaly_id}"
        ),
    )


_DOCS_RE = re.compile(r"^https://docs\.aws\.amazon\.com/[A-Za-z0-9._~/#%?=&+-]{1,500}$")


def docs_link(label: str, url: object) -> Link | None:
    """A link to AWS documentation an event names (Security Hub's remediation URL), or None
    unless it is a plain https://docs.aws.amazon.com/ URL."""
    if isinstance(url, str) and _DOCS_RE.match(url):
        return Link(label=label, url=url)
    return None


_FINDING_TYPE_RE = re.compile(r"([A-Za-z]+):([A-Za-z0-9]+)/([A-Za-z0-9.!&-]+)")
_NOT_ANCHOR_RE = re.compile(r"[^a-z0-9-]")
_GUARDDUTY_PAGES = {"EC2": "ec2", "IAMUser": "iam", "S3": "s3", "Kubernetes": "kubernetes", "Runtime": "runtime"}


def guardduty_type_doc(finding_type: str) -> Link | None:
    """The GuardDuty documentation of a finding type, e.g. ``UnauthorizedAccess:EC2/SSHBruteForce``
    → ``guardduty_finding-types-ec2.html#unauthorizedaccess-ec2-sshbruteforce``."""
    m = _FINDING_TYPE_RE.fullmatch(finding_type)
    if not m or m.group(2) not in _GUARDDUTY_PAGES:
        return None
    anchor = _NOT_ANCHOR_RE.sub("", f"{m.group(1)}-{m.group(2)}-{m.group(3)}".lower().replace(".", "-"))
    page = _GUARDDUTY_PAGES[m.group(2)]
    return Link(
        label="About this finding type",
        url=f"https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-{page}.html#{anchor}",
    )


_RUNBOOK_RE = re.compile(
    r"https://([A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,10})(?:/[A-Za-z0-9._~/#%?=&+:@-]{0,400})?"
)


def runbook_link(text: str | None) -> Link | None:
    """The first https URL in an alarm's description, as the alarm's runbook. Its label names
    the host, so a reader sees where it goes before clicking."""
    m = _RUNBOOK_RE.search(text or "")
    if not m:
        return None
    return Link(label=f"Runbook ({m.group(1).lower()})", url=m.group(0).rstrip(".,;)"))


def keep(*links: Link | None) -> list[Link]:
    """The links that validated, without duplicates, in order."""
    seen: set[str] = set()
    out: list[Link] = []
    for link in links:
        if link is not None and link.url not in seen:
            seen.add(link.url)
            out.append(link)
    return out
