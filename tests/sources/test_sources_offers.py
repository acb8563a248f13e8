"""Per sample event, exactly the remediations offered: the ones that fix what it reports.

A resolved event (alarm OK, COMPLIANT, SUCCEEDED, instance running again) offers none; a
finding offers what fixes its control or rule (EC2.18 → revoke, not stop/snapshot/isolate); an
instance action is offered only where the event is about that instance's trouble (a Spot
warning or a terminated instance offers nothing). Reviewed by hand, one line per sample: a
change to a parser's ``problems`` or a remediation's ``fixes`` shows up here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.models import Alert
from bot.pipeline import fitting_offers
from bot.remediations import remediations
from bot.remediations.base import fits
from bot.sources import parse_event
from tests.sources.source_events import SAMPLES

EXPECTED: dict[str, set[str]] = {
    "autoscaling-launch-unsuccessful": {"autoscaling.set-desired-capacity"},
    "autoscaling-terminate-unsuccessful": set(),
    "cloudtrail-cloudtrail-deletetrail": set(),
    "cloudtrail-codecommit-root-gitpush": set(),
    "cloudtrail-s3-root-deletebucket": set(),
    "cloudtrail-cloudtrail-stoplogging": {"cloudtrail.start-logging"},
    "cloudtrail-iam-createaccesskey": {"iam.deactivate-access-key"},
    "cloudtrail-s3-deletepublicaccessblock": {"s3.block-public-access"},
    "cloudtrail-s3-putbucketacl-private": set(),
    "cloudtrail-s3-putbucketacl-public": {"s3.block-public-access"},
    "cloudtrail-s3-putbucketpolicy-public": {"s3.block-public-access"},
    "cloudtrail-s3-putpublicaccessblock-disabled": {"s3.block-public-access"},
    "cloudtrail-sg-ingress-open-denied": set(),
    "cloudtrail-sg-ingress-open-ipv6-https": {"ec2.revoke-ingress"},
    "cloudtrail-sg-ingress-open-ssh": {"ec2.revoke-ingress"},
    "cloudtrail-sg-ingress-private": set(),
    "cloudtrail-signin-iamuser-mfa": set(),
    "cloudtrail-signin-iamuser-no-mfa": set(),
    "cloudtrail-signin-root-no-mfa": set(),
    "cloudwatch-anomaly-detection": {"ec2.reboot-instance"},
    "cloudwatch-composite": set(),
    "cloudwatch-lambda-errors": {"lambda.throttle-function"},
    "cloudwatch-metric-alarm": {"ec2.reboot-instance"},
    "cloudwatch-metric-insufficient-data": set(),
    "cloudwatch-metric-math": set(),
    "cloudwatch-metric-ok": set(),
    "codebuild-failed": set(),
    "codebuild-succeeded": set(),
    "codedeploy-deployment-failure": set(),
    "codedeploy-instance-failure": set(),
    "codepipeline-action-failed": set(),
    "codepipeline-failed": set(),
    "codepipeline-stage-failed": set(),
    "codepipeline-succeeded": set(),
    "config-compliant": set(),
    "config-noncompliant": {"ec2.revoke-ingress"},
    "costanomaly-detected": set(),
    "custom-backup-failed": set(),
    "custom-minimal": set(),
    "ec2-spot-interruption": set(),
    "ec2-state-running": set(),
    "ec2-state-shutting-down": set(),
    "ec2-state-stopped": {"ec2.start-instance"},
    "ec2-state-stopping": set(),
    "ec2-state-terminated": set(),
    "ecs-deployment-completed": set(),
    "ecs-deployment-failed": {"ecs.force-new-deployment"},
    "ecs-task-failed-to-start": {"ecs.force-new-deployment"},
    "ecs-task-running": set(),
    "ecs-task-stopped-failure": {"ecs.force-new-deployment"},
    "ecs-task-stopped-normal": set(),
    "generic-cloudtrail-unhandled-source": set(),
    "guardduty-ec2-cryptocurrency-critical": {
        "ec2.stop-instance",
        "ec2.snapshot-volumes",
        "ec2.isolate-instance",
        "guardduty.archive-finding",
    },
    "guardduty-ec2-ssh-bruteforce-archived": set(),
    "guardduty-ec2-ssh-bruteforce": {"guardduty.archive-finding"},
    "guardduty-iam-maliciousipcaller": {"guardduty.archive-finding", "iam.deactivate-access-key"},
    "guardduty-s3-anonymous-access": {"guardduty.archive-finding", "s3.block-public-access"},
    "health-account-notification": set(),
    "health-issue": set(),
    "health-risk-credentials-exposed": set(),
    "health-scheduled-change-retirement": {"ec2.stop-instance", "ec2.snapshot-volumes"},
    "kms-cmk-deletion": set(),
    "kms-schedulekeydeletion": {"kms.cancel-key-deletion"},
    "rds-cluster-failover": set(),
    "rds-cluster-snapshot-created": set(),
    "rds-instance-failure": set(),
    "rds-parameter-group-changed": set(),
    "rds-security-group-changed": set(),
    "rds-snapshot-created": set(),
    "securityhub-custom-action": {"s3.block-public-access", "securityhub.set-workflow-status"},
    "securityhub-imported-archived": set(),
    "securityhub-imported-guardduty-accesskey": {"securityhub.set-workflow-status"},
    "securityhub-imported-multi-resource": {"ec2.revoke-ingress", "securityhub.set-workflow-status"},
    "securityhub-imported-resolved": set(),
    "trustedadvisor-exposed-access-keys": {"iam.deactivate-access-key"},
    "trustedadvisor-security-groups-unrestricted": {"ec2.revoke-ingress"},
    "accessanalyzer-archived": set(),
    "accessanalyzer-s3-public": {"s3.block-public-access"},
    "acm-approaching-expiration": set(),
    "acm-certificate-available": set(),
    "acm-expired": set(),
    "backup-copy-job-failed": set(),
    "backup-job-completed": set(),
    "backup-job-failed": set(),
    "backup-restore-job-failed": set(),
    "macie-s3-bucket-public": {"s3.block-public-access"},
    "macie-sensitive-data": set(),
    "ebs-multi-volume-snapshots": set(),
    "ebs-snapshot-create-succeeded": set(),
    "ebs-volume-create-available": set(),
    "ebs-volume-create-failed": set(),
    "ecr-scan-clean": set(),
    "ecr-scan-critical": set(),
    "ecs-service-steady-state": set(),
    "ecs-service-task-placement-failure": set(),
    "ecs-service-task-start-impaired": {"ecs.force-new-deployment"},
    "inspector2-closed": set(),
    "inspector2-ecr-scan-critical": set(),
    "inspector2-network-reachability": set(),
    "inspector2-package-vulnerability": set(),
    "kms-imported-key-material-expiration": set(),
    "kms-rotation": set(),
    "ssm-automation-failed": set(),
    "ssm-automation-step-failed": set(),
    "ssm-automation-success": set(),
    "ssm-command-failed": set(),
    "ssm-command-invocation-timedout": set(),
}
# Never offered on a sample on purpose: terminate is only for `/ops run`; runbooks fit by config.
NOT_OFFERED = {"ec2.terminate-instance", "ssm.run-automation"}


def _alert(path: Path) -> Alert:
    return parse_event(json.loads(path.read_text()))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_each_sample_offers_exactly_the_remediations_that_fix_it(path: Path) -> None:
    assert {o.name for o in fitting_offers(_alert(path))} == EXPECTED[path.stem]


def test_every_sample_is_in_the_table() -> None:
    assert sorted(p.stem for p in SAMPLES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_a_resolved_event_offers_nothing(path: Path) -> None:
    alert = _alert(path)
    if not alert.active:
        assert fitting_offers(alert) == []
    reopened = alert.model_copy(update={"active": False})
    assert fitting_offers(reopened) == []


def test_every_remediation_but_the_deliberate_ones_fits_some_sample() -> None:
    offered = set().union(*EXPECTED.values())
    assert set(remediations) - offered == NOT_OFFERED


def test_a_custom_event_asks_for_a_remediation_by_name() -> None:
    event = json.loads(next(p for p in SAMPLES if p.stem == "custom-minimal").read_text())
    event["detail"]["resource"] = {"type": "AwsEc2Instance", "id": "i-0abc1234def567890"}
    event["detail"]["remediations"] = ["ec2.reboot-instance", "no.such-remediation"]
    asked = parse_event(event)
    assert {o.name for o in fitting_offers(asked)} == {"ec2.reboot-instance"}
    assert fits(remediations["ec2.reboot-instance"], asked)
    assert not fits(remediations["ec2.stop-instance"], asked)
    event["detail"]["resolved"] = True
    assert fitting_offers(parse_event(event)) == []
