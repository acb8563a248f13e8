"""AWS Backup job state changes (``aws.backup``): backup, copy and restore jobs."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from bot.models import Alert, Link, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

JOB_ID_RE = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")

# detail-type → (job kind, the detail field holding the job id)
_JOBS = {
    "Backup Job State Change": ("backup", "backupJobId"),
    "Copy Job State Change": ("copy", "copyJobId"),
    "Restore Job State Change": ("restore", "restoreJobId"),
}
_FAILED = {"FAILED", "ABORTED"}


class CreatedBy(Detail):
    backup_plan_id: str | None = Field(None, alias="backupPlanId")
    backup_plan_rule_id: str | None = Field(None, alias="backupPlanRuleId")
    backup_rule_id: str | None = Field(None, alias="backupRuleId")


class JobDetail(Detail):
    state: str | None = None
    status: str | None = None
    status_message: str | None = Field(None, alias="statusMessage")
    resource_type: str | None = Field(None, alias="resourceType")
    resource_arn: str | None = Field(None, alias="resourceArn")
    source_resource_arn: str | None = Field(None, alias="sourceResourceArn")
    created_resource_arn: str | None = Field(None, alias="createdResourceArn")
    backup_vault_name: str | None = Field(None, alias="backupVaultName")
    backup_vault_arn: str | None = Field(None, alias="backupVaultArn")
    destination_backup_vault_arn: Any = Field(None, alias="destinationBackupVaultArn")
    retry_count: int | None = Field(None, alias="retryCount")
    created_by: CreatedBy | None = Field(None, alias="createdBy")


def _job_link(region: str, kind: str, job_id: str) -> Link | None:
    if not (arns.is_region(region) and arns.matches(JOB_ID_RE, job_id)):
        return None
    return Link(
        label=f"{kind.capitalize()} job",
        url=f"{console._host(region)}/backup/home?region={region}#/jobs/{kind}/details/{console._q(job_id)}",
    )


def _arn_vault(value: object) -> str | None:
    """``Default`` from ``arn:aws:backup:…:backup-vault:Default``."""
    vault = arns.parse_arn(value)
    return vault.resource.split(":", 1)[-1] if vault and vault.resource.startswith("backup-vault:") else None


def _vault_name(d: JobDetail) -> str | None:
    return d.backup_vault_name or _arn_vault(d.backup_vault_arn)


def _clean(message: str | None) -> str:
    return (message or "").strip().strip('"').strip()


def _outcome(state: str, what: str, message: str) -> tuple[Severity, str]:
    """Severity and title for a job ``state``: ``what`` is "Backup of vol-0abc (EBS)"."""
    if state in _FAILED:
        return Severity.MEDIUM, f"{what} {'failed' if state == 'FAILED' else 'was aborted'}"
    if state == "EXPIRED":
        return Severity.LOW, f"{what} expired before it could start"
    if state == "COMPLETED":
        return Severity.INFO, f"{what} completed" + (" with issues" if message else "")
    return Severity.INFO, f"{what}: {state.lower()}"


@parsers.register(
    ("aws.backup", "Backup Job State Change"),
    ("aws.backup", "Copy Job State Change"),
    ("aws.backup", "Restore Job State Change"),
)
class BackupJobParser(Parser):
    """AWS Backup jobs. Example: backup job of vol-0a1b… FAILED → MEDIUM; the next COMPLETED backup resolves it."""

    kind = "backup"
    doc = SourceDoc(
        label="AWS Backup jobs",
        severity="FAILED/ABORTED MEDIUM, EXPIRED LOW, COMPLETED and in-progress states INFO",
        resolved="COMPLETED (and CREATED/PENDING/RUNNING, shown as INFO)",
        fingerprint="account, region, job kind, backup plan + rule and resource (in-progress states: the job id)",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = JobDetail.model_validate(event.detail)
        kind, id_key = _JOBS.get(event.detail_type, ("backup", "backupJobId"))
        job_id = str(event.detail.get(id_key) or "")
        state = (d.state or d.status or "UNKNOWN").upper()
        arn = d.resource_arn or d.source_resource_arn or next(iter(event.resources), None)
        if arn:
            res = arns.resource_from_arn(arn)
            res = res.model_copy(update={"region": res.region or event.region, "account": res.account or event.account})
        elif job_id:
            res = Resource(type="Other", id=job_id, region=event.region, account=event.account)
        else:
            raise ValueError(f"{event.detail_type} without a resource or job id")
        plan = d.created_by.backup_plan_id if d.created_by else None
        rule = (d.created_by.backup_plan_rule_id or d.created_by.backup_rule_id) if d.created_by else None
        message = _clean(d.status_message)
        label = {"backup": "Backup", "copy": "Backup copy", "restore": "Restore"}[kind]
        target = f"{res.id}" + (f" ({d.resource_type})" if d.resource_type else "")
        active = state in _FAILED or state == "EXPIRED"
        severity, title = _outcome(state, f"{label} of {target}", message)
        settled = active or state == "COMPLETED"
        # Failure and the later completion of the same plan rule + resource are one message; the
        # steps in between (CREATED/PENDING/RUNNING) are per job so they don't close a failure.
        fingerprint = (
            Alert.make_fingerprint(self.kind, event.account, event.region, kind, plan, rule, arn or job_id)
            if settled and arn
            else Alert.make_fingerprint(self.kind, event.account, event.region, kind, job_id or arn, state)
        )
        fields: dict[str, Any] = {
            "Job": f"{kind} job {job_id}" if job_id else None,
            "State": state,
            "Resource type": d.resource_type,
            "Backup vault": _vault_name(d),
            "Destination vault": _arn_vault(d.destination_backup_vault_arn),
            "Backup plan": plan,
            "Retries": d.retry_count or None,
            "Created resource": d.created_resource_arn,
        }
        problems = [f"backup:{state}" if kind == "backup" else f"backup:{kind}:{state}"]
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=fingerprint,
            title=title,
            summary=message,
            severity=severity,
            resources=[res],
            fields=fields,
            links=console.keep(_job_link(event.region, kind, job_id)),
            context={"backup": {"job_kind": kind, "job_id": job_id, "vault": _vault_name(d)}},
            problems=problems,
            active=active,
        )
