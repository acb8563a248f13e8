"""Settings (environment) and the routing/policy file model.

This is the only module that reads ``os.environ``. ``Settings.from_env()`` reads the
environment once; ``load_config(path)`` reads and validates the YAML file. Any problem raises
``ConfigError`` with the key and the reason, e.g.::

    ConfigError: config.yml: routing.rules.0.mode: Input should be 'notify', 'propose' or 'auto'
    ConfigError: config.yml: policy.tiers.HIGH.approvals: 5 approvals by people other than the
        requester are needed but only 2 approvers are listed

Remediation names in routing are checked against the catalog by ``check_remediation_names``,
called where the runtime and ``check-config`` load the file (``bot.runtime.load_checked_config``):
this module cannot import the catalog (``bot.remediations.ssm`` imports ``Runbook`` from here).
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import ConfigError
from bot.maintenance.schedule import MaintenanceSchedule
from bot.maintenance.scope import ScopeError, parse_scope
from bot.models import Mode, Risk, Severity

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


_LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
# Lambda's advanced logging controls name levels TRACE, DEBUG, INFO, WARN, ERROR, FATAL: the
# `logLevel` deploy parameter feeds both them and EVENTOPS_LOG_LEVEL, so both spellings work.
_LAMBDA_LOG_LEVELS = {"WARN": "WARNING", "FATAL": "CRITICAL", "TRACE": "DEBUG"}


def log_level(value: str | None) -> str:
    """``EVENTOPS_LOG_LEVEL`` as a standard-library level name; empty or unset is INFO.

    >>> log_level("warn"), log_level(None)
    ('WARNING', 'INFO')
    """
    name = (value or "").strip().upper() or "INFO"
    name = _LAMBDA_LOG_LEVELS.get(name, name)
    if name not in _LOG_LEVELS:
        raise ConfigError(f"EVENTOPS_LOG_LEVEL: {value!r} is not a log level (DEBUG, INFO, WARN, ERROR)")
    return name


def _env_seconds(name: str, env: Any) -> float | None:
    value = env.get(name)
    if value is None or value.strip() == "":
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(f"{name}: {value!r} is not a number of seconds") from None
    if not seconds > 0:
        raise ConfigError(f"{name}: {value!r} must be more than 0 seconds")
    return seconds


@dataclass(frozen=True)
class Settings:
    """Process settings from the environment (Lambda configuration or the sandbox)."""

    table_name: str = "eventops"
    alerts_queue_url: str | None = None
    jobs_queue_url: str | None = None
    # The queues' dead-letter queues: their depth in /ops status, doctor and the heartbeat, and
    # where `redrive` takes records from (bot/redrive.py).
    alerts_dlq_url: str | None = None
    jobs_dlq_url: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    # Secrets never appear in repr (logs, assertion messages, tracebacks).
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_secret_id: str | None = None  # Secrets Manager secret holding bot_token + signing_secret
    slack_token_parameter: str | None = None  # SSM SecureString alternative
    slack_signing_secret_parameter: str | None = None
    config_path: str | None = None
    aws_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    publish_bus: str | None = None
    archive_bucket: str | None = None
    # A standard-library level name (WARN, FATAL and TRACE, Lambda's names, are accepted too).
    log_level: str = "INFO"
    service: str = "eventops"
    kill_switch_parameter: str | None = None
    # The delivery-latency alarm's bound (deploy parameter latencyAlarmSeconds): /ops status
    # flags a p95 above it. None: no bound shown.
    latency_alarm_seconds: float | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            table_name=env.get("EVENTOPS_TABLE", "eventops"),
            alerts_queue_url=env.get("EVENTOPS_ALERTS_QUEUE_URL") or None,
            jobs_queue_url=env.get("EVENTOPS_JOBS_QUEUE_URL") or None,
            alerts_dlq_url=env.get("EVENTOPS_ALERTS_DLQ_URL") or None,
            jobs_dlq_url=env.get("EVENTOPS_JOBS_DLQ_URL") or None,
            slack_api_url=env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL,
            slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            slack_app_token=env.get("SLACK_APP_TOKEN") or None,
            slack_secret_id=env.get("EVENTOPS_SLACK_SECRET_ID") or None,
            slack_token_parameter=env.get("EVENTOPS_SLACK_TOKEN_PARAMETER") or None,
            slack_signing_secret_parameter=env.get("EVENTOPS_SLACK_SIGNING_SECRET_PARAMETER") or None,
            config_path=env.get("EVENTOPS_CONFIG") or None,
            aws_endpoint_url=env.get("EVENTOPS_AWS_ENDPOINT_URL") or None,
            aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            publish_bus=env.get("EVENTOPS_PUBLISH_BUS") or None,
            archive_bucket=env.get("EVENTOPS_ARCHIVE_BUCKET") or None,
            log_level=log_level(env.get("EVENTOPS_LOG_LEVEL")),
            service=env.get("POWERTOOLS_SERVICE_NAME", "eventops"),
            kill_switch_parameter=env.get("EVENTOPS_KILL_SWITCH_PARAMETER") or None,
            latency_alarm_seconds=_env_seconds("EVENTOPS_LATENCY_ALARM_SECONDS", env),
        )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Account(_Strict):
    id: str
    alias: str | None = None
    # Assumed by the worker (remediations, /ops queries), with the Slack user as SourceIdentity.
    role_arn: str | None = None
    # Assumed for read-only lookups (notify: tags; worker: CloudTrail changes, bot.context);
    # infra/member-account-role.yml creates it.
    read_role_arn: str | None = None
    external_id: str | None = None
    regions: list[str] = []

    @field_validator("id")
    @classmethod
    def _twelve_digits(cls, v: str) -> str:
        v = str(v)
        if not (len(v) == 12 and v.isdigit()):
            raise ValueError("account id must be 12 digits (quote it in YAML)")
        return v


# --- escalation and reminders (bot.escalation) -------------------------------------------------
_ESCALATION_MENTION_RE = re.compile(r"^(?:[SUW][A-Z0-9]{2,20}|!?here|!?channel)$")


class Escalation(_Strict):
    """``escalation:`` on a rule, on the default route, or at the top level (the default for
    every route; a route's block overrides the keys it sets). Nothing is on until a key is set."""

    after_minutes: int | None = Field(default=None, gt=0)
    mention: list[str] = []
    then_after_minutes: int | None = Field(default=None, gt=0)
    then_mention: list[str] = []
    min_severity: Severity = Severity.HIGH
    remind_every_hours: float | None = Field(default=None, gt=0)
    max_reminders: int = Field(default=6, ge=1, le=48)

    @field_validator("mention", "then_mention")
    @classmethod
    def _mention_ids(cls, ids: list[str]) -> list[str]:
        for m in ids:
            if not _ESCALATION_MENTION_RE.match(m):
                raise ValueError(f"{m!r} is not a user-group id (S…), a user id (U…/W…), 'here' or 'channel'")
        return ids


class EscalationDefaults(Escalation):
    """The top-level ``escalation:`` block: the defaults, and how much one housekeeping run posts."""

    max_posts_per_run: int = Field(default=20, ge=1, le=500)


class Match(_Strict):
    """What a routing rule matches. Every listed condition must hold; empty lists match all."""

    source: list[str] = []
    detail_type: list[str] = []
    source_kind: list[str] = []
    severity: list[Severity] = []
    min_severity: Severity | None = None
    account: list[str] = []
    region: list[str] = []
    tags: dict[str, str] = Field(default_factory=dict)


class Rule(_Strict):
    name: str
    match: Match = Field(default_factory=Match)
    channel: str | None = None
    mentions: list[str] = []
    mention_min_severity: Severity = Severity.HIGH
    mode: Mode = Mode.NOTIFY
    remediations: list[str] | None = None
    drop: bool = False
    escalation: Escalation | None = None


class DefaultRoute(_Strict):
    channel: str
    mentions: list[str] = []
    mention_min_severity: Severity = Severity.HIGH
    mode: Mode = Mode.NOTIFY
    remediations: list[str] | None = None
    escalation: Escalation | None = None


class Routing(_Strict):
    rules: list[Rule] = []
    # A resource's `team` tag value → channel, applied when a rule leaves `channel` unset.
    team_channels: dict[str, str] = Field(default_factory=dict)
    team_tag: str = "team"
    ignore_tag: str = "eventops:ignore"
    default: DefaultRoute = Field(default_factory=lambda: DefaultRoute(channel="#eventops"))


class Tier(_Strict):
    """Who may act at one risk tier. Empty ``users`` and ``user_groups`` means nobody."""

    users: list[str] = []
    user_groups: list[str] = []
    channels: list[str] = []
    # Approvals by people other than the requester before it runs. HIGH is always >= 2.
    approvals: int = 0
    # Who may approve; empty = the tier's users (and user_groups).
    approvers: list[str] = []
    approval_ttl_minutes: int = 60


class Triage(_Strict):
    """Who may acknowledge, snooze, dismiss and unsnooze (buttons and ``/ops snooze``/``unsnooze``).

    Left out of the policy, it is everyone listed in any risk tier (``users``, ``user_groups``
    and ``approvers``), from any channel, snoozing for at most 24 hours (``default_triage``).
    Empty ``users`` and ``user_groups`` means nobody; ``channels`` empty means any channel.
    """

    users: list[str] = []
    user_groups: list[str] = []
    channels: list[str] = []
    max_snooze_hours: float = Field(default=24, gt=0)


class UndoRule(_Strict):
    """``policy.undo: {approvals: N}``: an Undo needs at least N approvals (never fewer than
    the action it reverses needs). The default, ``same_as_action``, is the action's own rule."""

    approvals: int = Field(default=0, ge=0)


class Policy(_Strict):
    teams: list[str] = []
    enterprise_id: str | None = None
    tiers: dict[Risk, Tier] = Field(default_factory=dict)
    # Slack user group id → member user ids, for offline resolution (sandbox, tests).
    group_members: dict[str, list[str]] = Field(default_factory=dict)
    proposal_ttl_hours: float = 24
    undo_window_minutes: int = 60
    # Who may triage (Acknowledge, Snooze, Dismiss, /ops snooze, /ops unsnooze); see Triage.
    triage: Triage | None = None
    # Who may Undo: the action's tier (same_as_action), optionally with more approvals.
    undo: Literal["same_as_action"] | UndoRule = "same_as_action"


class BlastRadius(_Strict):
    max_executions_per_account_per_hour: int = 10


class Dedup(_Strict):
    # Same fingerprint within the window updates the first message instead of posting.
    window_minutes: int = 24 * 60
    # EventBridge retries for up to 24 h, Lambda async for 6 h: keep event ids longer.
    event_id_ttl_hours: int = 48
    # Repeats are coalesced per batch into one chat.update per message; at most this many
    # updates per channel per batch (the rest are flushed by housekeeping).
    max_updates_per_channel_per_batch: int = 10


class Storm(_Strict):
    # More new posts than this per channel per minute → grouped into a summary thread.
    threshold_per_minute: int = 20
    # Storm alerts are listed in the summary's thread, this many per reply.
    alerts_per_reply: int = 25
    # In a channel in a storm, a message's repeat counter is updated at most this often
    # (chat.update is limited to ~50 a minute per workspace); the count catches up later.
    update_interval_s: int = 30
    # A batch that alone brings a channel more new problems than threshold_per_minute is a storm
    # at once: all of them go to the summary (false: the first threshold_per_minute are posted
    # one by one first, which at Slack's 1 post/s takes most of a minute).
    burst_to_summary: bool = True


class Delivery(_Strict):
    # A notify batch delivers this many channels' alerts at once (each channel's in order, and
    # Slack's 1 post/s per channel kept); 1 delivers one record after another.
    parallel_channels: int = Field(default=8, ge=1, le=32)


class Publish(_Strict):
    bus_name: str | None = None
    archive_bucket: str | None = None


CorrelationKey = Literal["account", "region", "resource", "type", "source", "principal", "access_key", "finding"]


class CorrelationRule(_Strict):
    """Alerts that are one problem (``merge``: one message, updated) or one story (``thread``:
    threaded under the first, whose message counts them), by the values of ``group_by`` within
    ``window_minutes`` (``bot.correlation``)."""

    name: str = Field(min_length=1)
    match: Match = Field(default_factory=Match)
    group_by: list[CorrelationKey] = Field(min_length=1)
    window_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    mode: Literal["merge", "thread"] = "thread"


def default_correlation() -> list[CorrelationRule]:
    """What AWS sources need without configuration: one GuardDuty finding is one problem however
    it arrives — from GuardDuty or as Security Hub's copy, from its own region or an aggregation
    region, to the member or the delegated administrator; and one finding type on one resource
    reported in several regions (each region has its own finding id) is one story, threaded."""
    return [
        CorrelationRule(name="guardduty-finding", group_by=["finding"], window_minutes=24 * 60, mode="merge"),
        CorrelationRule(
            name="guardduty-across-regions",
            match=Match(source_kind=["guardduty"]),
            group_by=["account", "type", "resource"],
            window_minutes=60,
            mode="thread",
        ),
    ]


class ScorecardConfig(_Strict):
    """The weekly scorecard (``bot.scorecard``): where it is posted, and over how many days."""

    channel: str | None = None
    days: int = Field(default=7, ge=1, le=30)


class Graphs(_Strict):
    """Alarm graphs (bot.graphs): a CloudWatch alarm in ALARM gets an image of its metric in its thread."""

    enabled: bool = False
    # The graph shows this many minutes of the metric up to the breach.
    window_minutes: int = Field(60, ge=5, le=24 * 60)


class ContextConfig(_Strict):
    """Context ("what changed?") on every posted alert (``bot.context``): recent CloudTrail writes on its
    resource and the other open alerts on the same resource, principal or access key."""

    enabled: bool = True
    window_hours: int = Field(default=24, ge=1, le=90 * 24)
    max_events: int = Field(default=5, ge=1, le=20)
    lookups_per_minute_per_account: int = Field(default=20, ge=1, le=120)
    cache_minutes: int = Field(default=5, ge=0, le=60)


class Runbook(_Strict):
    """An SSM Automation runbook offered by ``ssm.run-automation``."""

    document: str
    title: str | None = None
    resource_types: list[str] = []
    parameters: dict[str, str] = Field(default_factory=dict)
    risk: Risk = Risk.MEDIUM


_HOST_NAME_RE = re.compile(r"^(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$")


class Config(_Strict):
    accounts: list[Account] = []
    routing: Routing = Field(default_factory=Routing)
    policy: Policy | None = None
    kill_switch: bool = False
    kill_switch_parameter: str | None = None
    blast_radius: BlastRadius = Field(default_factory=BlastRadius)
    dedup: Dedup = Field(default_factory=Dedup)
    storm: Storm = Field(default_factory=Storm)
    delivery: Delivery = Field(default_factory=Delivery)
    publish: Publish = Field(default_factory=Publish)
    scorecard: ScorecardConfig = Field(default_factory=ScorecardConfig)
    correlation: list[CorrelationRule] = Field(default_factory=default_correlation)
    graphs: Graphs = Field(default_factory=Graphs)
    context: ContextConfig = Field(default_factory=ContextConfig)
    snooze_default_minutes: int = 60
    runbooks: list[Runbook] = []
    slash_command: str = "/ops"
    # The daily "EventOps is alive" message goes here (default: the default route's channel),
    # so a silent day means trouble, not calm.
    heartbeat_channel: str | None = None
    # Hosts besides *.aws.amazon.com that messages may link to: an alarm description's runbook
    # URL (e.g. your wiki) is linked only when its host is listed here.
    link_hosts: list[str] = []
    # Re-announce unacknowledged HIGH/CRITICAL alerts, remind about long CloudWatch alarms.
    escalation: EscalationDefaults = Field(default_factory=EscalationDefaults)
    # Maintenance windows planned ahead (bot.maintenance.schedule): alerts in scope are held.
    maintenance: list[MaintenanceSchedule] = []

    @field_validator("link_hosts")
    @classmethod
    def _host_names(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            if not _HOST_NAME_RE.match(host):
                raise ValueError(f"{host!r} is not a host name (like wiki.example.com)")
        return [h.lower() for h in hosts]

    @model_validator(mode="after")
    def _unique_accounts(self) -> Config:
        seen: set[str] = set()
        for acct in self.accounts:
            if acct.id in seen:
                raise ValueError(f"account {acct.id} is listed twice")
            seen.add(acct.id)
        names = [r.name for r in self.correlation]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"correlation: rule name {twice[0]!r} is used twice")
        return self

    @model_validator(mode="after")
    def _maintenance_scopes(self) -> Config:
        """Every scheduled window names a scope that exists (alias, rule), under a unique name."""
        names: set[str] = set()
        for i, window in enumerate(self.maintenance):
            if window.name in names:
                raise ValueError(f"maintenance.{i}.name: {window.name!r} is used twice")
            names.add(window.name)
            try:
                parse_scope(window.scope, self.account_aliases(), self.rule_names())
            except ScopeError as exc:
                raise ValueError(f"maintenance.{i}.scope: {exc}") from None
        return self

    def account_aliases(self) -> dict[str, str]:
        """Account alias → id, for the configured accounts that have one."""
        return {a.alias: a.id for a in self.accounts if a.alias}

    def rule_names(self) -> list[str]:
        return [r.name for r in self.routing.rules]

    def account(self, account_id: str) -> Account | None:
        for acct in self.accounts:
            if acct.id == account_id:
                return acct
        return None

    def alias(self, account_id: str) -> str | None:
        acct = self.account(account_id)
        return acct.alias if acct else None


def _format_validation_error(source: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (typo?)"
        lines.append(f"{source}: {loc}: {msg}")
    return "; ".join(lines)


# HIGH-risk remediations always need two approvals, whatever the tier says
# (the same floor as bot.approval.authz.approvals_needed, which applies it at click time).
MIN_HIGH_APPROVALS = 2


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def approval_errors(policy: Policy | None) -> list[str]:
    """``key: reason`` for every tier whose approvals can never all be given.

    Approvers are the tier's ``approvers``, or its ``users`` when that is empty; a requester
    never approves their own request; HIGH needs at least two. A tier with ``user_groups`` is
    not checked (members are looked up at click time; ``/ops doctor`` warns), nor a tier with
    nobody to request (it is off).
    """
    if policy is None:
        return []
    out = []
    for risk, tier in policy.tiers.items():
        needed = max(tier.approvals, MIN_HIGH_APPROVALS) if risk == Risk.HIGH else max(tier.approvals, 0)
        if not needed or tier.user_groups or not tier.users:
            continue
        approvers = set(tier.approvers or tier.users)
        short = min(tier.users, key=lambda r: len(approvers - {r}))  # the worst-placed requester
        available = len(approvers - {short})
        if available >= needed:
            continue
        why = f" ({risk.value} always needs at least {MIN_HIGH_APPROVALS})" if needed > tier.approvals else ""
        msg = (
            f"policy.tiers.{risk.value}.approvals: {_plural(needed, 'approval')} by people other than the requester"
            f" are needed{why} but only {_plural(len(approvers), 'approver')}"
            f" {'is' if len(approvers) == 1 else 'are'} listed"
        )
        if available < len(approvers):
            msg += f", and a requester ({short}) cannot approve their own request, which leaves {available}"
        out.append(msg)
    return out + _undo_approval_errors(policy)


def _undo_approval_errors(policy: Policy) -> list[str]:
    """``policy.undo.approvals`` that some tier's approvers can never give (same rules as above)."""
    if not isinstance(policy.undo, UndoRule) or not policy.undo.approvals:
        return []
    out = []
    for risk, tier in policy.tiers.items():
        if tier.user_groups or not tier.users:
            continue
        approvers = set(tier.approvers or tier.users)
        available = min(len(approvers - {r}) for r in tier.users)
        if available < policy.undo.approvals:
            out.append(
                f"policy.undo.approvals: {_plural(policy.undo.approvals, 'approval')} by people other than the"
                f" undo's requester are needed, but policy.tiers.{risk.value} leaves only {available}"
            )
    return out


def _routes(config: Config) -> list[tuple[str, list[str] | None]]:
    """(key, remediations) of every route that lists remediations: the rules, then the default."""
    routing = config.routing
    return [(f"routing.rules.{i}", r.remediations) for i, r in enumerate(routing.rules)] + [
        ("routing.default", routing.default.remediations)
    ]


def names_remediations(config: Config) -> bool:
    """Does any route list remediations by name (so the catalog is needed to check them)?"""
    return any(names for _, names in _routes(config))


def check_remediation_names(config: Config, known: Collection[str], source: str = "config") -> None:
    """Every remediation a route lists must exist in ``known`` (the catalog's names).

    Raises ConfigError naming each key, with the closest name::

        config.yml: routing.rules.2.remediations.0: no remediation 'ec2.rebooot-instance'
            (did you mean 'ec2.reboot-instance'?)
    """
    names = sorted(known)
    lines = []
    for key, listed in _routes(config):
        for j, name in enumerate(listed or []):
            if name in known:
                continue
            guess = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            hint = f" (did you mean '{guess[0]}'?)" if guess else f" (known: {', '.join(names)})"
            lines.append(f"{source}: {key}.remediations.{j}: no remediation '{name}'{hint}")
    if lines:
        raise ConfigError("; ".join(lines))


def parse_config(data: Any, source: str = "config") -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping, got {type(data).__name__}")
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(source, exc)) from None
    errors = approval_errors(config.policy)
    if errors:
        raise ConfigError("; ".join(f"{source}: {e}" for e in errors))
    return config


def load_config(path: str | Path | None) -> Config:
    """Read and validate the YAML config. ``None`` gives the built-in default (notify-only)."""
    if path is None:
        return Config()
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError(f"EVENTOPS_CONFIG: cannot read {p}: {exc.strerror}") from None
    if p.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{p.name}: not valid JSON: {exc}") from None
        return parse_config(data, p.name)
    import yaml  # deferred: ~10 ms a cold start pays only when it reads the config

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p.name}: not valid YAML: {exc}") from None
    return parse_config(data, p.name)
