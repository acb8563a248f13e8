"""The sandbox's demo AWS estate in moto, and the demo events that talk about it.

``seed(endpoint)`` builds, in two moto accounts (prod = moto's default account, staging
reached with AssumeRole as the bot would reach a member account): instances tagged ``Name``
and ``team``, a security group with tcp/22 open to 0.0.0.0/0, a public bucket, an IAM user with
an access key, CloudWatch alarms in ALARM, and in prod the DynamoDB table and the SQS alerts
and jobs queues with their DLQs. It returns an ``Estate`` holding the real ids, so the demo
events (``demo_events``, ``sample``) name resources that exist.

Example::

    estate = seed("http://127.0.0.1:4566", table_name="eventops")
    event = sample("open-port", estate)   # CloudTrail AuthorizeSecurityGroupIngress, real sgr- id
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from bot.store import create_table

PROD = "123456789012"
STAGING = "210987654321"
REGION = "us-east-1"
MEMBER_ROLE = "EventOpsMember"
EXTERNAL_ID = "eventops-sandbox"
SAMPLES_DIR = Path(__file__).resolve().parents[2] / "tests" / "events"

# What each account gets: (Name, team, instance type).
INSTANCES = {
    PROD: [("web-1", "payments", "t3.small"), ("api-1", "platform", "t3.medium"), ("db-1", "payments", "r6g.large")],
    STAGING: [("web-staging", "payments", "t3.micro"), ("batch-staging", "platform", "t3.small")],
}


@dataclass
class AccountEstate:
    """The ids of what ``seed`` created in one account."""

    account: str
    alias: str
    instances: dict[str, str] = field(default_factory=dict)  # Name → instance id
    security_group_id: str = ""
    open_rule_id: str = ""
    bucket: str = ""
    iam_user: str = ""
    access_key_id: str = ""
    alarms: list[str] = field(default_factory=list)


@dataclass
class Estate:
    """Everything the sandbox seeded: per-account resources, the table and the queues."""

    endpoint: str
    region: str
    table_name: str
    accounts: dict[str, AccountEstate] = field(default_factory=dict)
    alerts_queue_url: str = ""
    jobs_queue_url: str = ""
    alerts_dlq_url: str = ""
    jobs_dlq_url: str = ""

    @property
    def prod(self) -> AccountEstate:
        return self.accounts[PROD]

    @property
    def staging(self) -> AccountEstate:
        return self.accounts[STAGING]


def _session(endpoint: str, account: str) -> boto3.session.Session:
    """A session in ``account``: moto's default account as is, any other through AssumeRole."""
    base = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    if account == PROD:
        return base
    creds = base.client("sts", endpoint_url=endpoint).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{MEMBER_ROLE}",
        RoleSessionName="eventops-sandbox-seed",
        ExternalId=EXTERNAL_ID,
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


def _seed_account(session: boto3.session.Session, endpoint: str, account: str, alias: str) -> AccountEstate:
    """One demo account's resources in moto (instances, groups, alarms, a bucket, a user and key).

    Long because the estate is listed resource by resource, as the README's demo describes it.
    """
    out = AccountEstate(account=account, alias=alias)
    ec2 = session.client("ec2", endpoint_url=endpoint)
    # Our own image: DescribeImages over moto's ~1300 default AMIs takes seconds.
    image = ec2.register_image(
        Name=f"{alias}-al2023-demo",
        Architecture="arm64",
        RootDeviceName="/dev/xvda",
        VirtualizationType="hvm",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
    )["ImageId"]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]

    group = ec2.create_security_group(
        GroupName=f"{alias}-bastion", Description="bastion SSH (opened to the world by mistake)", VpcId=vpc
    )["GroupId"]
    ec2.create_tags(Resources=[group], Tags=[{"Key": "team", "Value": "platform"}])
    rules = ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )["SecurityGroupRules"]
    out.security_group_id, out.open_rule_id = group, rules[0]["SecurityGroupRuleId"]

    for name, team, itype in INSTANCES[account]:
        iid = ec2.run_instances(
            ImageId=image,
            InstanceType=itype,
            MinCount=1,
            MaxCount=1,
            # No SecurityGroupIds on purpose: moto's ModifyNetworkInterfaceAttribute(Groups=…) adds to
            # the groups an instance was launched with instead of replacing them, so ec2.isolate-instance
            # would (rightly) fail its verification here although it works on AWS.
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": "Name", "Value": name}, {"Key": "team", "Value": team}],
                }
            ],
        )["Instances"][0]["InstanceId"]
        out.instances[name] = iid

    s3 = session.client("s3", endpoint_url=endpoint)
    out.bucket = f"{alias}-public-assets-{account[-4:]}"
    s3.create_bucket(Bucket=out.bucket)
    s3.put_public_access_block(
        Bucket=out.bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    s3.put_bucket_policy(
        Bucket=out.bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "PublicRead",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{out.bucket}/*",
                    }
                ],
            }
        ),
    )

    iam = session.client("iam", endpoint_url=endpoint)
    out.iam_user = f"ci-deployer-{alias}"
    iam.create_user(UserName=out.iam_user, Tags=[{"Key": "team", "Value": "platform"}])
    out.access_key_id = iam.create_access_key(UserName=out.iam_user)["AccessKey"]["AccessKeyId"]

    cw = session.client("cloudwatch", endpoint_url=endpoint)
    for name in list(out.instances)[:1]:
        alarm = f"{name} CPU above 90%"
        cw.put_metric_alarm(
            AlarmName=alarm,
            AlarmDescription=f"CPU of {name} above 90% for 10 minutes",
            Namespace="AWS/EC2",
            MetricName="CPUUtilization",
            Dimensions=[{"Name": "InstanceId", "Value": out.instances[name]}],
            Statistic="Average",
            Period=300,
            EvaluationPeriods=2,
            Threshold=90.0,
            ComparisonOperator="GreaterThanThreshold",
        )
        cw.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="Threshold Crossed: 2 datapoints > 90.0")
        out.alarms.append(alarm)
        _seed_cpu(cw, out.instances[name])
    return out


# The demo CPU over the last hour, every 5 minutes: calm, climbing, then over 90% (the alarm's
# graph draws these: bot.graphs, GetMetricData).
DEMO_CPU = [14.0, 12.5, 15.2, 13.8, 18.4, 21.0, 26.3, 34.9, 48.2, 63.5, 78.1, 97.1, 95.4]


def _seed_cpu(cw: Any, instance_id: str) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    cw.put_metric_data(
        Namespace="AWS/EC2",
        MetricData=[
            {
                "MetricName": "CPUUtilization",
                "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
                "Timestamp": now - timedelta(minutes=5 * (len(DEMO_CPU) - 1 - i)),
                "Value": value,
                "Unit": "Percent",
            }
            for i, value in enumerate(DEMO_CPU)
        ],
    )


def _queue(sqs: Any, name: str, dlq_url: str | None = None) -> str:
    attrs = {"VisibilityTimeout": "30"}
    if dlq_url:
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
    return sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]


def seed(endpoint: str, *, table_name: str = "eventops") -> Estate:
    """Create the demo estate in the moto server at ``endpoint``; return the ids."""
    estate = Estate(endpoint=endpoint, region=REGION, table_name=table_name)
    for account, alias in ((PROD, "prod"), (STAGING, "staging")):
        estate.accounts[account] = _seed_account(_session(endpoint, account), endpoint, account, alias)
    prod = _session(endpoint, PROD)
    create_table(prod.client("dynamodb", endpoint_url=endpoint), table_name)
    sqs = prod.client("sqs", endpoint_url=endpoint)
    estate.alerts_dlq_url = _queue(sqs, "eventops-alerts-dlq")
    estate.jobs_dlq_url = _queue(sqs, "eventops-jobs-dlq")
    estate.alerts_queue_url = _queue(sqs, "eventops-alerts", estate.alerts_dlq_url)
    estate.jobs_queue_url = _queue(sqs, "eventops-jobs", estate.jobs_dlq_url)
    return estate


# --- demo events -------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _envelope(source: str, detail_type: str, account: str, detail: dict[str, Any], resources: list[str]) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": _now(),
        "region": REGION,
        "resources": resources,
        "detail": detail,
    }


def open_port_event(estate: Estate, account: str = PROD) -> dict[str, Any]:
    """CloudTrail AuthorizeSecurityGroupIngress: tcp/22 from 0.0.0.0/0, with the real rule id."""
    acct = estate.accounts[account]
    detail = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEDEMO",
            "arn": f"arn:aws:iam::{account}:user/{acct.iam_user}",
            "accountId": account,
            "userName": acct.iam_user,
        },
        "eventTime": _now(),
        "eventSource": "ec2.amazonaws.com",
        "eventName": "AuthorizeSecurityGroupIngress",
        "awsRegion": REGION,
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {
            "groupId": acct.security_group_id,
            "ipPermissions": {
                "items": [
                    {
                        "ipProtocol": "tcp",
                        "fromPort": 22,
                        "toPort": 22,
                        "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                    }
                ]
            },
        },
        "responseElements": {
            "requestId": str(uuid.uuid4()),
            "_return": True,
            "securityGroupRuleSet": {
                "items": [
                    {
                        "groupOwnerId": account,
                        "groupId": acct.security_group_id,
                        "securityGroupRuleId": acct.open_rule_id,
                        "isEgress": False,
                        "ipProtocol": "tcp",
                        "fromPort": 22,
                        "toPort": 22,
                        "cidrIpv4": "0.0.0.0/0",
                    }
                ]
            },
        },
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
    }
    return _envelope("aws.ec2", "AWS API Call via CloudTrail", account, detail, [])


def guardduty_event(estate: Estate, account: str = PROD) -> dict[str, Any]:
    """GuardDuty UnauthorizedAccess:EC2/SSHBruteForce by the seeded web instance (its role is
    ACTOR: compromised, so isolating it is what fits)."""
    acct = estate.accounts[account]
    name = next(n for n in acct.instances if n.startswith("web"))
    iid = acct.instances[name]
    finding_id = uuid.uuid4().hex
    detector = "d0" + uuid.uuid5(uuid.NAMESPACE_DNS, account).hex[:30]
    detail = {
        "schemaVersion": "2.0",
        "accountId": account,
        "region": REGION,
        "partition": "aws",
        "id": finding_id,
        "arn": f"arn:aws:guardduty:{REGION}:{account}:detector/{detector}/finding/{finding_id}",
        "type": "UnauthorizedAccess:EC2/SSHBruteForce",
        "resource": {
            "resourceType": "Instance",
            "instanceDetails": {
                "instanceId": iid,
                "instanceType": "t3.small",
                "instanceState": "running",
                "availabilityZone": f"{REGION}a",
                "tags": [{"key": "Name", "value": name}, {"key": "team", "value": "payments"}],
                "networkInterfaces": [
                    {
                        "networkInterfaceId": "eni-0demo0000000001",
                        "privateIpAddress": "10.0.1.15",
                        "publicIp": "198.51.100.20",
                        "securityGroups": [{"groupName": f"{acct.alias}-bastion", "groupId": acct.security_group_id}],
                    }
                ],
            },
        },
        "service": {
            "serviceName": "guardduty",
            "detectorId": detector,
            "action": {
                "actionType": "NETWORK_CONNECTION",
                "networkConnectionAction": {
                    "connectionDirection": "OUTBOUND",
                    "protocol": "TCP",
                    "blocked": False,
                    "remoteIpDetails": {"ipAddressV4": "192.0.2.44", "country": {"countryName": "Unknown"}},
                    "localPortDetails": {"port": 22, "portName": "SSH"},
                },
            },
            "resourceRole": "ACTOR",
            "count": 42,
            "eventFirstSeen": _now(),
            "eventLastSeen": _now(),
            "archived": False,
        },
        "severity": 5,
        "createdAt": _now(),
        "updatedAt": _now(),
        "title": f"{iid} is performing SSH brute force attacks against 192.0.2.44.",
        "description": f"{iid} is performing SSH brute force attacks against 192.0.2.44. "
        "This indicates that your instance is compromised and is being used to attack others.",
    }
    return _envelope("aws.guardduty", "GuardDuty Finding", account, detail, [])


def alarm_event(estate: Estate, account: str = PROD) -> dict[str, Any]:
    """CloudWatch Alarm State Change OK → ALARM for the seeded CPU alarm."""
    acct = estate.accounts[account]
    alarm = acct.alarms[0]
    iid = next(iter(acct.instances.values()))
    detail = {
        "alarmName": alarm,
        "state": {
            "value": "ALARM",
            "reason": "Threshold Crossed: 2 datapoints [97.1, 95.4] > 90.0",
            "reasonData": json.dumps(
                {
                    "version": "1.0",
                    "startDate": (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                    "statistic": "Average",
                    "period": 300,
                    "recentDatapoints": [97.1, 95.4],
                    "threshold": 90.0,
                }
            ),
            "timestamp": _now(),
        },
        "previousState": {"value": "OK", "reason": "Threshold Crossed: datapoint [12.0] <= 90.0"},
        "configuration": {
            "description": f"CPU of {next(iter(acct.instances))} above 90% for 10 minutes",
            "metrics": [
                {
                    "id": "m1",
                    "metricStat": {
                        "metric": {
                            "namespace": "AWS/EC2",
                            "name": "CPUUtilization",
                            "dimensions": {"InstanceId": iid},
                        },
                        "period": 300,
                        "stat": "Average",
                    },
                    "returnData": True,
                }
            ],
        },
    }
    arn = f"arn:aws:cloudwatch:{REGION}:{account}:alarm:{alarm}"
    return _envelope("aws.cloudwatch", "CloudWatch Alarm State Change", account, detail, [arn])


def cloudtrail_history(estate: Estate) -> list[dict[str, Any]]:
    """What CloudTrail holds about the demo estate before any sample is fired (``EventLog.seed``
    keywords): the writes "what changed?" shows, one read it must leave out, one write too old."""
    out: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    for acct in estate.accounts.values():
        who = f"arn:aws:iam::{acct.account}:user/{acct.iam_user or 'alice'}"
        deploy = f"arn:aws:sts::{acct.account}:assumed-role/terraform-deploy/ci"
        sg = {"resource": acct.security_group_id, "account": acct.account, "region": estate.region}
        out += [
            {**sg, "event_name": "ModifySecurityGroupRules", "at": now - timedelta(hours=2), "arn": who},
            {
                **sg,
                "event_name": "UpdateSecurityGroupRuleDescriptionsIngress",
                "at": now - timedelta(hours=5),
                "arn": deploy,
            },
            {
                **sg,
                "event_name": "DescribeSecurityGroups",
                "at": now - timedelta(minutes=30),
                "arn": who,
                "read_only": True,
            },
            {**sg, "event_name": "CreateSecurityGroup", "at": now - timedelta(days=3), "arn": deploy},
        ]
        for iid in acct.instances.values():
            out.append(
                {
                    "resource": iid,
                    "event_name": "ModifyInstanceAttribute",
                    "at": now - timedelta(hours=3),
                    "arn": deploy,
                    "account": acct.account,
                    "region": estate.region,
                    "resource_type": "AWS::EC2::Instance",
                }
            )
    return out


# name → (builder, one line of help)
SAMPLES: dict[str, tuple[Any, str]] = {
    "open-port": (open_port_event, "CloudTrail: tcp/22 opened to 0.0.0.0/0 on prod's bastion group"),
    "open-port-staging": (
        lambda e: open_port_event(e, STAGING),
        "the same on staging (reached through AssumeRole)",
    ),
    "guardduty": (guardduty_event, "GuardDuty: prod's web-1 is brute-forcing SSH (compromised)"),
    "alarm": (alarm_event, "CloudWatch: web-1 CPU above 90% (routed by its team tag)"),
    "alarm-staging": (lambda e: alarm_event(e, STAGING), "CloudWatch: web-staging CPU above 90%"),
}

DEMO = ("open-port", "guardduty", "alarm")


def demo_events(estate: Estate) -> list[dict[str, Any]]:
    """The events fired at start, so the console shows alerts at once."""
    return [SAMPLES[name][0](estate) for name in DEMO]


def sample_names() -> list[str]:
    """Built-in samples, then the event files of tests/events (by file stem)."""
    files = sorted(p.stem for p in SAMPLES_DIR.glob("*.json")) if SAMPLES_DIR.is_dir() else []
    return list(SAMPLES) + [f for f in files if f not in SAMPLES]


def sample(name: str, estate: Estate) -> list[dict[str, Any]]:
    """The event(s) of a sample name; ``KeyError`` naming the choices when unknown.

    A file from tests/events gets a fresh event id, so firing it twice is two events.
    """
    if name in SAMPLES:
        return [SAMPLES[name][0](estate)]
    path = SAMPLES_DIR / f"{name}.json"
    if not path.is_file():
        raise KeyError(f"unknown sample {name!r}; choose one of: {', '.join(sample_names())}")
    data = json.loads(path.read_text())
    events = data if isinstance(data, list) else [data]
    return [{**e, "id": str(uuid.uuid4())} if isinstance(e, dict) else e for e in events]
