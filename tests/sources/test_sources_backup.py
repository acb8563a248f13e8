"""AWS Backup jobs: failed MEDIUM, expired LOW, completed resolves the failure of the same resource."""

from __future__ import annotations

from bot.models import Severity
from bot.pipeline import fitting_offers
from bot.sources import parse_event
from tests.sources.source_events import load, parse

VOLUME = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0a1b2c3d4e5f6a7b8"


def test_failed_backup_job() -> None:
    alert = parse("backup-job-failed")
    assert alert.source_kind == "backup" and alert.active
    assert alert.severity is Severity.MEDIUM
    assert alert.title == "Backup of vol-0a1b2c3d4e5f6a7b8 (EBS) failed"
    assert alert.summary == "Insufficient privileges to perform this action."
    assert [(r.type, r.id, r.arn) for r in alert.resources] == [("AwsEc2Volume", "vol-0a1b2c3d4e5f6a7b8", VOLUME)]
    assert alert.fields == {
        "Job": "backup job 4a2f4a47-1a2b-3c4d-5e6f-7a8b9c0d1e2f",
        "State": "FAILED",
        "Resource type": "EBS",
        "Backup vault": "Default",
    }
    assert alert.problems == ["backup:FAILED"]
    assert [link.url for link in alert.links] == [
        "https://us-east-1.console.aws.amazon.com/backup/home?region=us-east-1"
        "#/jobs/backup/details/4a2f4a47-1a2b-3c4d-5e6f-7a8b9c0d1e2f"
    ]
    assert fitting_offers(alert) == []


def test_completed_resolves_the_failure() -> None:
    failed, completed = parse("backup-job-failed"), parse("backup-job-completed")
    assert not completed.active and completed.severity is Severity.INFO
    assert completed.title == "Backup of vol-0a1b2c3d4e5f6a7b8 (EBS) completed"
    assert completed.fingerprint == failed.fingerprint
    assert completed.problems == ["backup:COMPLETED"]


def test_states_and_plans() -> None:
    raw = load("backup-job-failed")
    for state, severity, active in (
        ("ABORTED", Severity.MEDIUM, True),
        ("EXPIRED", Severity.LOW, True),
        ("RUNNING", Severity.INFO, False),
        ("PENDING", Severity.INFO, False),
    ):
        raw["detail"]["state"] = state
        alert = parse_event(raw)
        assert (alert.severity, alert.active) == (severity, active), state
        assert alert.problems == [f"backup:{state}"]
    running = parse_event(raw)
    assert running.fingerprint != parse("backup-job-failed").fingerprint  # in-progress doesn't close a failure
    planned = load("backup-job-failed")
    planned["detail"]["createdBy"] = {"backupPlanId": "plan-1", "backupPlanRuleId": "rule-1"}
    assert parse_event(planned).fingerprint != parse("backup-job-failed").fingerprint
    assert parse_event(planned).fields["Backup plan"] == "plan-1"


def test_completed_with_issues() -> None:
    raw = load("backup-job-completed")
    raw["detail"]["statusMessage"] = "Windows VSS backup attempt failed."
    alert = parse_event(raw)
    assert alert.title.endswith("completed with issues") and not alert.active


def test_copy_and_restore_jobs() -> None:
    copy = parse("backup-copy-job-failed")
    assert copy.severity is Severity.MEDIUM and copy.active
    assert copy.problems == ["backup:copy:FAILED"]
    assert copy.title == "Backup copy of i-0515aee7de03f58e1 (EC2) failed"
    assert copy.fields["Destination vault"] == "55aa945e-c46a-421b-aa27-f94b074e31b7"
    assert copy.links[0].url.endswith("#/jobs/copy/details/47C8EF56-74D8-059D-1301-C5BE1D5C926E")
    restore = parse("backup-restore-job-failed")
    assert restore.severity is Severity.MEDIUM and restore.problems == ["backup:restore:FAILED"]
    assert restore.summary.startswith("AWS Backup does not permit")
    assert restore.resources[0].id == "ami-12b3456dfb7f8cf90"
    assert restore.links[0].url.endswith("#/jobs/restore/details/1B234A56-789B-01CD-2A34-4567A08901FD")


def test_created_event_without_resource_uses_the_job() -> None:
    raw = {
        "version": "0",
        "id": "29af2bf2-eace-58ab-da3a-8c0bf738d692",
        "detail-type": "Backup Job State Change",
        "source": "aws.backup",
        "account": "123456789012",
        "time": "2020-06-22T20:32:53Z",
        "region": "us-west-2",
        "resources": [],
        "detail": {"backupJobId": "7e8845b5-ca30-415f-a842-e0152bf4d0ca", "state": "CREATED"},
    }
    alert = parse_event(raw)
    assert alert.source_kind == "backup" and not alert.active
    assert alert.resources[0].id == "7e8845b5-ca30-415f-a842-e0152bf4d0ca"
    raw["detail"] = {"state": "CREATED"}
    assert parse_event(raw).source_kind == "generic"
