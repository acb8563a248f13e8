"""The normalized data every stage passes along.

An ``Alert`` is what a source parser makes of one EventBridge event; everything after
``bot/sources`` reads Alerts, never raw event dicts. A ``Proposal`` is one remediation offered
on one alert, its button carrying only the proposal id. Decisions and outcomes move a proposal
through the state machine in ``bot/approval/states.py``; each terminal outcome writes one
``AuditEntry``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ALERT_SCHEMA_VERSION = 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class Severity(StrEnum):
    """Five levels, highest first. ``Severity.HIGH.rank`` orders them (CRITICAL = 4)."""

    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    INFO = "INFO"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank

    @property
    def emoji(self) -> str:
        return _SEVERITY_EMOJI[self]


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}
_SEVERITY_EMOJI = {
    Severity.CRITICAL: ":red_circle:",
    Severity.HIGH: ":large_orange_circle:",
    Severity.MEDIUM: ":large_yellow_circle:",
    Severity.LOW: ":large_blue_circle:",
    Severity.INFO: ":white_circle:",
}


class Risk(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class Resource(BaseModel):
    """An AWS (or custom) resource an alert is about.

    ``type`` uses the ASFF resource type names where one exists (``AwsEc2Instance``,
    ``AwsEc2SecurityGroup``, ``AwsS3Bucket``, ``AwsIamAccessKey``, ...).
    """

    model_config = ConfigDict(frozen=True)

    type: str
    id: str
    arn: str | None = None
    name: str | None = None
    region: str | None = None
    account: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        """Stable identity used for threading related alerts."""
        return self.arn or f"{self.type}:{self.account or ''}:{self.region or ''}:{self.id}"


class Link(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    url: str


class RemediationOffer(BaseModel):
    """A remediation that applies to an alert, with the params it would run with."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


# What a reader calls each resource type; others lose the ASFF "Aws" prefix and read as words.
_RESOURCE_KINDS = {
    "AwsEc2Instance": "instance",
    "AwsEc2SecurityGroup": "security group",
    "AwsEc2Volume": "volume",
    "AwsS3Bucket": "bucket",
    "AwsIamAccessKey": "access key",
    "AwsIamUser": "IAM user",
    "AwsIamRole": "IAM role",
    "AwsKmsKey": "KMS key",
    "AwsCloudTrailTrail": "trail",
    "AwsCloudWatchAlarm": "alarm",
    "AwsLambdaFunction": "function",
    "AwsAccount": "account",
    "AwsAutoScalingAutoScalingGroup": "Auto Scaling group",
    "AwsEcsCluster": "ECS cluster",
    "AwsEcsService": "ECS service",
    "AwsEcsTask": "ECS task",
    "AwsRdsDbInstance": "DB instance",
    "AwsEcrContainerImage": "container image",
    "AwsCodeBuildProject": "CodeBuild project",
    "AwsCodePipelinePipeline": "pipeline",
    "AwsCodeDeployDeployment": "deployment",
    "Other": "",
}


_WORD_RE = re.compile(r"[A-Z]+[a-z0-9]*(?=[A-Z]|$)|[A-Z]?[a-z0-9]+")


def resource_kind(rtype: str) -> str:
    """``AwsEc2Instance`` → ``instance``, ``AwsCodeBuildProject`` → ``CodeBuild project``, ``Other`` → "".

    >>> resource_kind("AwsCodeBuildProject"), resource_kind("Other"), resource_kind("AwsEksCluster")
    ('CodeBuild project', '', 'Eks cluster')
    """
    if rtype in _RESOURCE_KINDS:
        return _RESOURCE_KINDS[rtype]
    words = _WORD_RE.findall(rtype.removeprefix("Aws"))
    if not words:
        return rtype
    return " ".join([*words[:-1], words[-1].lower()])


class Alert(BaseModel):
    """One normalized, versioned alert.

    Example::

        Alert(id="evt-1", fingerprint=Alert.make_fingerprint("guardduty", "i-0abc", "Recon:EC2/PortProbe"),
              source_kind="guardduty", source="aws.guardduty", detail_type="GuardDuty Finding",
              title="Unprotected port on EC2 instance i-0abc is being probed",
              severity=Severity.MEDIUM, account="123456789012", region="eu-west-1")
    """

    schema_version: int = ALERT_SCHEMA_VERSION
    id: str
    fingerprint: str
    source_kind: str
    source: str
    detail_type: str
    title: str
    summary: str = ""
    # What to do, when the source says (Security Hub's Remediation.Recommendation): shown as
    # its own line; a URL it gives is one of ``links``.
    advice: str = ""
    # The event's own time was missing or unreadable: ``time`` is when EventOps received it.
    time_is_receipt: bool = False
    severity: Severity = Severity.INFO
    account: str = ""
    account_alias: str | None = None
    region: str = ""
    time: datetime = Field(default_factory=utcnow)
    # Lists by default_factory: pydantic deep-copies a ``[]`` default on every Alert (parse hot path).
    resources: list[Resource] = Field(default_factory=list)
    fields: dict[str, str] = Field(default_factory=dict)
    links: list[Link] = Field(default_factory=list)
    remediations: list[RemediationOffer] = Field(default_factory=list)
    # Machine-readable facts remediations act on (see bot/sources/CONTEXT.md), e.g.
    # {"security_group_rule_ids": ["sgr-0abc"], "guardduty": {"detector_id": ..., "finding_id": ...}}
    context: dict[str, Any] = Field(default_factory=dict)
    # What the alert is about, as ``<source>:<what>`` keys (bot/sources/CONTEXT.md), e.g.
    # ["securityhub-control:EC2.18", "config-rule:restricted-ssh"]: a remediation is offered only
    # where its ``fixes`` match one (``bot.remediations.base.fits``).
    problems: list[str] = Field(default_factory=list)
    # False when the event says the problem is over (alarm back to OK, finding resolved).
    active: bool = True
    # Parse problems, shown in the message and logged; a generic alert made from an
    # unreadable record says why here.
    parse_error: str | None = None

    @staticmethod
    def make_fingerprint(*parts: object) -> str:
        joined = "\x1f".join(["" if p is None else str(p) for p in parts])
        return hashlib.sha256(joined.encode()).hexdigest()[:32]

    @property
    def primary_resource(self) -> Resource | None:
        return self.resources[0] if self.resources else None

    @property
    def principal(self) -> str | None:
        """Who acted, when the source says (CloudTrail: the caller's ARN, ``context["caller"]``)."""
        caller = self.context.get("caller")
        arn = caller.get("arn") if isinstance(caller, dict) else None
        return arn if isinstance(arn, str) and arn else None

    @property
    def principal_id(self) -> str | None:
        """The acting principal's id (AIDA…, AROA…:session), which CloudTrail and GuardDuty both
        give (``context["caller"]["principal_id"]``): what correlation groups a principal by."""
        caller = self.context.get("caller")
        found = caller.get("principal_id") if isinstance(caller, dict) else None
        return found if isinstance(found, str) and found else None

    @property
    def access_key_id(self) -> str | None:
        """The access key the alert is about or was used (``context["access_key"]``, else the
        CloudTrail caller's key)."""
        for name in ("access_key", "caller"):
            found = self.context.get(name)
            key = found.get("access_key_id") if isinstance(found, dict) else None
            if isinstance(key, str) and key:
                return key
        return None


class Mode(StrEnum):
    NOTIFY = "notify"
    PROPOSE = "propose"
    AUTO = "auto"


class Route(BaseModel):
    """Where and how an alert is delivered, as decided by ``bot.routing``."""

    rule: str
    channel: str
    mentions: list[str] = []
    mode: Mode = Mode.NOTIFY
    remediations: list[str] | None = None  # None: every applicable remediation
    drop: bool = False
    drop_reason: str | None = None


class ProposalState(StrEnum):
    PROPOSED = "PROPOSED"
    APPROVED = "APPROVED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    NOOP = "NOOP"
    UNDONE = "UNDONE"
    DISMISSED = "DISMISSED"
    SNOOZED = "SNOOZED"
    EXPIRED = "EXPIRED"
    DENIED = "DENIED"


class Actor(BaseModel):
    """Who did something: a Slack identity, or the bot itself for auto mode."""

    model_config = ConfigDict(frozen=True, defer_build=True)  # built on first use: off the notify cold path

    user_id: str
    team_id: str | None = None
    enterprise_id: str | None = None
    user_name: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(user_id="eventops", user_name="EventOps (auto)")

    @property
    def is_system(self) -> bool:
        return self.user_id == "eventops"


class Approval(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: off the notify cold path

    actor: Actor
    at: datetime = Field(default_factory=utcnow)


class UndoRequest(BaseModel):
    """An Undo asked for on a SUCCEEDED proposal. It follows the rules of the action it reverses:
    the requester may act at the proposal's risk, and the approvals it needs (people other than
    the undo's requester, each within the tier's TTL) are gathered here before the undo job runs."""

    model_config = ConfigDict(defer_build=True)  # built on first use: off the notify cold path

    requester: Actor
    at: datetime = Field(default_factory=utcnow)
    approvals: list[Approval] = []
    # All approvals were given (or none were needed) and the undo job was queued.
    queued: bool = False
    # The thread reply that carried the Undo button, re-rendered as the undo goes on.
    reply_ts: str | None = None
    # Why Undo is no longer offered: it ran, failed or was refused.
    closed: str | None = None


MANUAL_ALERT_PREFIX = "manual-"  # the alert_id of a proposal made with ``/ops run``


class Proposal(BaseModel):
    """One remediation offered on one alert; a button's value is only ``id``."""

    # Built on first use: off the notify cold path (notify mode, or nothing offered).
    model_config = ConfigDict(defer_build=True)

    id: str
    alert_id: str
    fingerprint: str
    remediation: str
    params: dict[str, Any] = Field(default_factory=dict)
    risk: Risk = Risk.LOW
    account: str = ""
    region: str = ""
    channel: str = ""
    message_ts: str | None = None
    state: ProposalState = ProposalState.PROPOSED
    requester: Actor | None = None
    approvals: list[Approval] = []
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = 0
    # filled in as the proposal runs
    pre_state: dict[str, Any] | None = None
    result: str | None = None
    verification: str | None = None
    undo_until: datetime | None = None
    undo: UndoRequest | None = None
    correlation_id: str | None = None

    @property
    def is_manual(self) -> bool:
        """Made with ``/ops run``: no alert behind it; its own request message carries the thread."""
        return self.alert_id.startswith(MANUAL_ALERT_PREFIX)


class Outcome(BaseModel):
    """What a remediation run ended with."""

    model_config = ConfigDict(defer_build=True)  # built on first use: off the notify cold path

    state: ProposalState
    message: str
    pre_state: dict[str, Any] | None = None
    post_state: dict[str, Any] | None = None
    verification: str | None = None
    reversible: bool = False


class AuditEntry(BaseModel):
    """One append-only record per terminal outcome."""

    model_config = ConfigDict(defer_build=True)  # built on first use: off the notify cold path

    id: str
    at: datetime = Field(default_factory=utcnow)
    proposal_id: str | None = None
    alert_id: str | None = None
    action: str
    outcome: str
    actor: Actor
    remediation: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    account: str | None = None
    region: str | None = None
    resource: str | None = None
    pre_state: dict[str, Any] | None = None
    result: str | None = None
    verification: str | None = None
    correlation_id: str | None = None
    permalink: str | None = None


class MaintenanceWindow(BaseModel):
    """A maintenance window (``bot.maintenance``): alerts in ``scope`` are held from
    ``starts_at`` until ``ends_at`` (or until someone ends it), then summarized.

    ``started_by`` is the Slack user id of whoever started it with ``/ops maintenance start``,
    or ``eventops.yml`` for a window scheduled in the config; ``scope`` is as written
    (``account:prod``, ``region:eu-west-1``, ``tag:env=staging``, ``rule:prod-sg``)."""

    model_config = ConfigDict(defer_build=True)  # built on first use: off the notify cold path (no window open)

    id: str
    scope: str
    reason: str = ""
    started_by: str
    starts_at: datetime
    ends_at: datetime
