"""The config file's JSON Schema and its reference page, both generated from ``bot.config.Config``.

- ``config_schema()`` is the published JSON Schema (``eventops config-schema`` prints it).
- ``render_markdown()`` is docs/configuration.md: every key with its type, default and
  description, an example per section, and the deployment parameters of serverless.yml.

``python -m bot.config_docs`` rewrites docs/eventops.schema.json and docs/configuration.md
(``make generate`` runs it); ``--check`` exits 1 naming each stale file (tests/package asserts it).

Descriptions come from ``Field(description=...)`` where a model has one, else from
``DESCRIPTIONS`` below (kept here so bot/config.py's models stay as they are). Every field needs
one: a new key without a description fails generation, and so the staleness tests.
"""

from __future__ import annotations

import argparse
import enum
import json
import sys
import types
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from bot.config import Config, parse_config

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "docs" / "eventops.schema.json"
DOC_PATH = ROOT / "docs" / "configuration.md"
SERVERLESS_PATH = ROOT / "serverless.yml"

DESCRIPTIONS: dict[str, str] = {
    "Config.accounts": "The AWS accounts EventOps knows: aliases shown in messages, the roles it assumes there.",
    "Config.routing": "Which channel each alert goes to, who is mentioned, and what may be offered.",
    "Config.policy": "Who may act, at which risk tier, from which channels. Missing: nobody may change anything.",
    "Config.kill_switch": "true: every path is notify-only; no button runs anything.",
    "Config.kill_switch_parameter": 'SSM parameter read at run time; the value "on" works as `kill_switch: true`.',
    "Config.blast_radius": "Limits on how much the bot may change, whoever asks.",
    "Config.dedup": "Repeats of the same problem update the first message instead of posting again.",
    "Config.storm": "Many alerts at once in one channel are grouped into one summary thread.",
    "Config.delivery": "How a notify batch delivers: several channels at once.",
    "Config.publish": "Optional copies of each alert: normalized to an EventBridge bus, raw to S3.",
    "Config.snooze_default_minutes": "How long the Snooze button silences an alert's repeats.",
    "Config.runbooks": "SSM Automation runbooks that `ssm.run-automation` may offer.",
    "Config.slash_command": "The slash command the Slack app registers.",
    "Config.heartbeat_channel": 'Where the daily "EventOps is alive" message goes (default: the default route\'s channel).',
    "Config.correlation": "Which alerts are one problem (merge: one message, updated) or one story (thread: under the first, which counts them). Default: one GuardDuty finding is one problem however it arrives (GuardDuty or Security Hub's copy, any region, member or delegated admin); one finding type on one resource in several regions is one thread. Setting it replaces the default.",
    "Config.scorecard": "The weekly scorecard: events received vs messages posted, the noisiest rules, time to acknowledge and remediate, remediation outcomes, DLQ and upkeep health.",
    "Config.maintenance": "Maintenance windows planned ahead: alerts in a window's scope are held, then summarized when it ends (`/ops maintenance` starts and ends them by hand).",
    "Config.context": '"What changed?": the first thread reply of an alert about a resource lists the last CloudTrail writes on it (who, when, what) and the other open alerts on the same resource, principal or access key.',
    "Config.link_hosts": "Hosts besides *.aws.amazon.com that messages may link to, e.g. the wiki an alarm description's runbook URL points at.",
    "Account.id": "The 12-digit account id (quote it in YAML).",
    "Account.alias": "A short name shown in messages instead of the id.",
    "Account.role_arn": "Role the worker assumes for remediations and /ops queries, with the Slack user as SourceIdentity.",
    "Account.read_role_arn": "Role notify (tags) and the worker (CloudTrail changes for context replies) assume for read-only lookups; infra/member-account-role.yml creates it.",
    "Account.external_id": "ExternalId both roles require (at least 16 characters).",
    "Account.regions": "Regions watched in this account (for /ops queries).",
    "Routing.rules": "Rules tried in order; the first that matches routes the alert.",
    "Routing.team_channels": "A resource's team tag value → channel, used when the matching rule sets no channel.",
    "Routing.team_tag": "The resource tag whose value picks a channel from `team_channels`.",
    "Routing.ignore_tag": "Alerts about a resource tagged with this key and the value `true` are dropped.",
    "Routing.default": "The route of an alert that no rule matches.",
    "Rule.name": "The rule's name, shown in logs and `/ops` output.",
    "Rule.match": "What the rule matches; every listed condition must hold.",
    "Rule.channel": "Channel to post to (default: the team channel, then the default route's).",
    "Rule.mentions": "Users or groups mentioned when the alert is severe enough.",
    "Rule.mention_min_severity": "The lowest severity that gets the mentions.",
    "Rule.mode": "notify: message only; propose: remediation buttons; auto: run without a click.",
    "Rule.remediations": "Remediations that may be offered (default: every one that applies).",
    "Rule.drop": "true: matching alerts are not posted at all.",
    "Match.source": "EventBridge `source` values (aws.guardduty, ...).",
    "Match.detail_type": "EventBridge `detail-type` values.",
    "Match.source_kind": "The parser's kind of alert, e.g. guardduty, cloudwatch (docs/sources.md).",
    "Match.severity": "Exact severities.",
    "Match.min_severity": "This severity or higher.",
    "Match.account": "Account ids.",
    "Match.region": "Regions.",
    "Match.tags": "Resource tags that must all have these values.",
    "DefaultRoute.channel": "Channel to post to.",
    "DefaultRoute.mentions": "Users or groups mentioned when the alert is severe enough.",
    "DefaultRoute.mention_min_severity": "The lowest severity that gets the mentions.",
    "DefaultRoute.mode": "notify: message only; propose: remediation buttons; auto: run without a click.",
    "DefaultRoute.remediations": "Remediations that may be offered (default: every one that applies).",
    "Policy.teams": "Your Slack workspace (team) ids; a clicker from any other team is refused.",
    "Policy.enterprise_id": "Your Enterprise Grid id, checked as well when set.",
    "Policy.tiers": "Who may act at each risk tier (LOW, MEDIUM, HIGH); a tier not listed: nobody.",
    "Policy.group_members": "Slack user group id → member user ids, for offline resolution (sandbox, tests).",
    "Policy.proposal_ttl_hours": "Remediation buttons expire after this long.",
    "Policy.undo_window_minutes": "How long Undo is offered after a reversible change.",
    "Policy.triage": "Who may acknowledge, snooze, dismiss and unsnooze; left out: everyone listed in any tier, 24 h snoozes at most.",
    "Policy.undo": "Who may Undo: `same_as_action` (the change's own tier and approvals) or `{approvals: N}` for at least N.",
    "Triage.users": "Slack user ids who may triage; empty users and user_groups: nobody.",
    "Triage.user_groups": "Slack user group ids whose members may triage.",
    "Triage.channels": "Channel ids triage is allowed from; empty: any channel.",
    "Triage.max_snooze_hours": "The longest snooze anyone may set (buttons and /ops snooze).",
    "UndoRule.approvals": "Approvals every Undo needs at least (never fewer than the change it reverses).",
    "Tier.users": "Slack user ids who may act.",
    "Tier.user_groups": "Slack user group ids whose members may act (looked up at click time).",
    "Tier.channels": "Channel ids the click must come from (empty: any).",
    "Tier.approvals": "Approvals by people other than the requester before it runs (HIGH: always at least 2).",
    "Tier.approvers": "Who may approve (empty: the tier's users and user groups).",
    "Tier.approval_ttl_minutes": "A request not approved within this long expires.",
    "BlastRadius.max_executions_per_account_per_hour": "At most this many remediations run per account per hour.",
    "Dedup.window_minutes": "The same fingerprint within this window updates the first message.",
    "Dedup.event_id_ttl_hours": "How long event ids are kept to drop redeliveries (EventBridge retries for 24 h).",
    "Dedup.max_updates_per_channel_per_batch": "Repeats coalesced into at most this many chat.update calls per channel per batch.",
    "Storm.threshold_per_minute": "More new posts than this per channel per minute start a storm summary.",
    "Storm.alerts_per_reply": "Storm alerts are listed in the summary's thread, this many per reply.",
    "Delivery.parallel_channels": "A notify batch delivers this many channels' alerts at once (threads; each channel's alerts in order, Slack's 1 post/s per channel kept); 1 = one record after another.",
    "Storm.burst_to_summary": "A notify batch that alone brings a channel more new problems than threshold_per_minute is a storm at once: all of them go to the summary's thread. false: the first threshold_per_minute are posted one by one first (at Slack's 1 post/s, most of a minute).",
    "Storm.update_interval_s": "In a channel in a storm, a message's repeat counter is updated at most once per this many seconds (Slack allows ~50 chat.update a minute per workspace); the count catches up on a later batch or housekeeping.",
    "CorrelationRule.name": "Shown by /ops explain and in logs; unique.",
    "CorrelationRule.match": "Which alerts the rule considers (the routing rules' matcher).",
    "CorrelationRule.group_by": "Keys whose values must all be present and equal: account, region, source, type, resource, principal, access_key, finding (a GuardDuty finding id, also from Security Hub's copy).",
    "CorrelationRule.window_minutes": "How long after the first alert later ones join its group.",
    "CorrelationRule.mode": "merge: one problem, one message counting repeats. thread: later alerts go in the first one's thread; its message says how many.",
    "ContextConfig.enabled": "false: no context reply and no CloudTrail lookups.",
    "ContextConfig.window_hours": "How far back CloudTrail LookupEvents looks for changes to the alert's resource.",
    "ContextConfig.max_events": "At most this many changes (write events) are listed.",
    "ContextConfig.lookups_per_minute_per_account": "At most this many LookupEvents calls per member account per minute (CloudTrail allows 2 per second per account and region); over it, the reply lists only the other open alerts.",
    "ContextConfig.cache_minutes": "A resource's changes are looked up once per this many minutes (0: every alert).",
    "ScorecardConfig.channel": "Where the weekly scorecard is posted (Mondays 09:00 UTC). Unset: no weekly post; `/ops report` still answers.",
    "ScorecardConfig.days": "How many days the weekly scorecard covers (1 to 30).",
    "Publish.bus_name": "EventBridge bus that receives each normalized alert.",
    "Publish.archive_bucket": "S3 bucket that receives each raw event.",
    "Config.graphs": "Alarm graphs: an image of the metric around the breach, in a CloudWatch alarm's thread.",
    "Graphs.enabled": "Post a graph of the metric under each CloudWatch metric alarm that goes to ALARM "
    "(needs the files:write scope and a jobs queue: the worker draws it after the alert is posted).",
    "Graphs.window_minutes": "How many minutes of the metric the graph shows up to the breach (5 to 1440).",
    "Runbook.document": "The SSM Automation document name.",
    "Runbook.title": "Button and message text (default: the document name).",
    "Runbook.resource_types": "Resource types it applies to (empty: any).",
    "Runbook.parameters": "Document parameters; `{resource.id}`, `{resource.arn}`, `{account}`, `{region}`, `{alert.id}` are filled from the alert.",
    "Runbook.risk": "Risk tier whose policy applies to running it.",
    "Config.escalation": "Re-announce HIGH/CRITICAL alerts nobody acknowledged, and remind about CloudWatch alarms still in ALARM; the default for every route (a route's `escalation:` overrides the keys it sets).",
    "Rule.escalation": "This rule's escalation and reminders; keys it leaves out come from the top-level `escalation:`.",
    "DefaultRoute.escalation": "The default route's escalation and reminders; keys it leaves out come from the top-level `escalation:`.",
    "Escalation.after_minutes": "Minutes after the post with no Acknowledge, Dismiss, Snooze or running/succeeded remediation before the first step: a thread reply mentioning `mention`. Empty: no escalation.",
    "Escalation.mention": "Who the first step mentions: user-group ids (S…), user ids (U…/W…), `here` or `channel`.",
    "Escalation.then_after_minutes": "Minutes after the first step before the second, if still unhandled. Empty: one step only.",
    "Escalation.then_mention": "Who the second step mentions (same forms as `mention`), e.g. `here`.",
    "Escalation.min_severity": "Only alerts at least this severe are escalated.",
    "Escalation.remind_every_hours": 'A CloudWatch alarm still in ALARM gets a thread reply ("still in ALARM for 4h 10m") every this many hours until it is resolved or dismissed. Empty: no reminders.',
    "Escalation.max_reminders": "At most this many reminders per alarm.",
    "EscalationDefaults.max_posts_per_run": "At most this many escalation and reminder replies per housekeeping run; the rest wait for the next run.",
}
# The top-level block has the same keys as a route's (and one more).
DESCRIPTIONS.update(
    {
        f"EscalationDefaults.{k.split('.', 1)[1]}": v
        for k, v in list(DESCRIPTIONS.items())
        if k.startswith("Escalation.")
    }
)

# serverless.yml `params.default`: what each deploy parameter does (osls `--param="name=value"`).
DEPLOY_PARAMS: dict[str, str] = {
    "orgId": "AWS Organizations id (o-...) whose accounts may put events on the central bus; empty: single-account. `make deploy ORG_ID=...`.",
    "slackSecretName": 'Secrets Manager secret holding `{"bot_token": ..., "signing_secret": ...}` (EVENTOPS_SLACK_SECRET_ID).',
    "configPath": "This file's path inside the artifact (EVENTOPS_CONFIG).",
    "memberRoleName": "Role the worker assumes in member accounts (infra/member-account-role.yml).",
    "memberReadRoleName": "Read-only role notify assumes in member accounts for tag lookups.",
    "slackConcurrency": "Reserved concurrency of the public Slack function: at most this many at once, so a request flood cannot starve notify and worker. The account's Lambda concurrency quota must be at least 100 + this.",
    "httpApiRateLimit": "HTTP API throttling, steady requests per second over all routes; beyond it API Gateway answers 429 without invoking the function.",
    "httpApiBurstLimit": "HTTP API throttling, the burst allowed above `httpApiRateLimit`.",
    "publishBus": "Optional EventBridge bus for normalized alerts (EVENTOPS_PUBLISH_BUS); empty: off.",
    "archiveBucket": "Optional S3 bucket for raw events (EVENTOPS_ARCHIVE_BUCKET); empty: off.",
    "alarmEmail": "Optional e-mail subscribed to the alarm topic. `make deploy ALARM_EMAIL=...`.",
    "logLevel": "Log level of every function (DEBUG, INFO, WARN, ERROR): EVENTOPS_LOG_LEVEL and Lambda's ApplicationLogLevel.",
    "logRetentionDays": "CloudWatch Logs retention of every function's log group, in days.",
    "latencyAlarmSeconds": "The `DeliveryLatencyAlarm` fires when the p95 of event-to-Slack delivery over 5 minutes is above this many seconds; `/ops status` flags the last hour's p95 against it (EVENTOPS_LATENCY_ALARM_SECONDS).",
}

# The example shown per section; validated with parse_config when the page is generated.
EXAMPLE = """\
accounts:
  - id: "111111111111"
    alias: prod
    role_arn: arn:aws:iam::111111111111:role/eventops-member
    read_role_arn: arn:aws:iam::111111111111:role/eventops-member-read
    external_id: change-me-to-a-random-string
    regions: [eu-west-1, us-east-1]
routing:
  team_tag: team
  team_channels: {payments: "#team-payments"}
  ignore_tag: eventops:ignore
  rules:
    - name: security
      match: {source: [aws.guardduty, aws.securityhub], min_severity: MEDIUM, account: ["111111111111"]}
      channel: "#security-alerts"
      mentions: ["@security-oncall"]
      mention_min_severity: HIGH
      mode: propose
      remediations: [ec2.isolate-instance, guardduty.archive-finding]
      escalation: {after_minutes: 10, mention: [S0SECONCALL], then_after_minutes: 20, then_mention: [here]}
  default: {channel: "#ops-alerts", mode: notify, escalation: {remind_every_hours: 4}}
policy:
  teams: [T01234567]
  tiers:
    LOW: {user_groups: [S0SRE]}
    MEDIUM: {user_groups: [S0SRE], channels: [C0OPSALERTS]}
    HIGH: {users: [U0LEAD1, U0LEAD2], approvers: [U0LEAD1, U0LEAD2, U0LEAD3], approvals: 2, approval_ttl_minutes: 30}
  proposal_ttl_hours: 24
  undo_window_minutes: 60
  triage: {user_groups: [S0SRE], max_snooze_hours: 24}
  undo: {approvals: 1}
kill_switch: false
kill_switch_parameter: /eventops/prod/kill-switch
blast_radius: {max_executions_per_account_per_hour: 10}
dedup: {window_minutes: 1440, event_id_ttl_hours: 48, max_updates_per_channel_per_batch: 10}
storm: {threshold_per_minute: 20, alerts_per_reply: 25, update_interval_s: 30, burst_to_summary: true}
delivery: {parallel_channels: 8}
publish: {bus_name: eventops-alerts, archive_bucket: my-eventops-archive}
scorecard: {channel: "#ops-leads", days: 7}
correlation:
  - name: one-access-key
    match: {source_kind: [cloudtrail, guardduty]}
    group_by: [access_key]
    window_minutes: 120
    mode: thread
  - name: guardduty-finding
    group_by: [finding]
    window_minutes: 1440
    mode: merge
graphs: {enabled: true, window_minutes: 60}
context: {enabled: true, window_hours: 24, max_events: 5, lookups_per_minute_per_account: 20, cache_minutes: 5}
snooze_default_minutes: 60
runbooks:
  - document: AWS-RestartEC2Instance
    title: Restart with SSM
    resource_types: [AWS::EC2::Instance]
    parameters: {InstanceId: "{resource.id}"}
    risk: MEDIUM
slash_command: /ops
heartbeat_channel: "#ops-heartbeat"
link_hosts: [wiki.example.com]
escalation:
  after_minutes: 15
  mention: [S0ONCALL]
  then_after_minutes: 30
  then_mention: [here]
  remind_every_hours: 4
  max_reminders: 6
  max_posts_per_run: 20
maintenance:
  - name: sunday-patching
    scope: account:prod
    weekly: {days: [sun], start: "02:00", duration: 2h}
    reason: OS patching
  - name: db-migration
    scope: tag:env=staging
    start: "2026-12-05T22:00:00Z"
    end: "2026-12-06T01:00:00Z"
    reason: Aurora upgrade
"""


def _description(model: type[BaseModel], name: str, info: FieldInfo) -> str:
    if info.description:
        return info.description
    key = f"{model.__name__}.{name}"
    if key not in DESCRIPTIONS:
        raise KeyError(f"{key} has no description: add Field(description=...) or an entry in DESCRIPTIONS")
    return DESCRIPTIONS[key]


def _inner_models(annotation: Any) -> Iterator[tuple[str, type[BaseModel]]]:
    """(path suffix, model) for each model an annotation holds: ``X``, ``X | None``, ``list[X]``, ``dict[K, X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield "", annotation
        return
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is list:
        for suffix, model in _inner_models(args[0]):
            yield "[]" + suffix, model
    elif origin is dict:
        for suffix, model in _inner_models(args[1]):
            yield ".<key>" + suffix, model
    elif origin in (Union, types.UnionType):
        for arg in args:
            yield from _inner_models(arg)


def sections(model: type[BaseModel] = Config, path: str = "") -> Iterator[tuple[str, type[BaseModel]]]:
    """(dotted path, model) of the config and every nested model, parents first."""
    yield path, model
    for name, info in model.model_fields.items():
        for suffix, inner in _inner_models(info.annotation):
            yield from sections(inner, f"{path}.{name}{suffix}".lstrip("."))


def config_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the config file, with a description on every key."""
    schema = Config.model_json_schema()
    defs = schema.get("$defs", {})
    for _, model in sections():
        target = schema if model is Config else defs[model.__name__]
        for name, info in model.model_fields.items():
            target["properties"][name]["description"] = _description(model, name, info)
    head = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "EventOps configuration",
        "description": "The routing/policy file (EVENTOPS_CONFIG, config/eventops.yml). docs/configuration.md explains it.",
    }
    return head | {k: v for k, v in schema.items() if k not in ("title", "description")}


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is list:
        return f"list[{_type_name(args[0])}]"
    if origin is dict:
        return f"map[{_type_name(args[0])} → {_type_name(args[1])}]"
    if origin in (Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in args)
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " \\| ".join(f"`{m.value}`" for m in annotation).join(("one of ", ""))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping (below)"
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args).join(("one of ", ""))
    names = {str: "string", int: "integer", float: "number", bool: "boolean", datetime: "date-time (ISO 8601)"}
    return names.get(annotation, str(annotation))


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    value = info.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, list) and any(isinstance(v, BaseModel) for v in value):
        return "(two rules: see its description)"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, dict) and value and any(isinstance(v, dict) for v in value.values()):
        return "(below)"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _example_at(data: Any, path: str) -> Any:
    """The part of the example at a section path (``routing.rules[].match`` → the first rule's)."""
    for part in path.split(".") if path else []:
        name, _, rest = part.partition("[")
        data = next(iter(data.values())) if name == "<key>" else data[name]
        if rest:
            data = data[0]
    return data


def _section(path: str, model: type[BaseModel], example: dict[str, Any]) -> list[str]:
    title = f"`{path}`" if path else "Top level"
    doc = " ".join((model.__doc__ or "").split()) if model is not Config else ""
    lines = [f"## {title}", ""]
    if doc:
        lines += [doc, ""]
    lines += ["| Key | Type | Default | Description |", "|---|---|---|---|"]
    for name, info in model.model_fields.items():
        key = f"{path}.{name}" if path else name
        desc = _description(model, name, info).replace("|", "\\|")
        lines.append(f"| `{key}` | {_type_name(info.annotation)} | {_default(info)} | {desc} |")
    part = _example_at(example, path)
    if path:
        part = {path.rsplit(".", 1)[-1].split("[")[0]: [part] if path.endswith("[]") else part}
    lines += ["", "Example:", "", "```yaml", yaml.safe_dump(part, sort_keys=False).rstrip(), "```", ""]
    return lines


class _TagTolerantLoader(yaml.SafeLoader):
    """Reads serverless.yml, whose CloudFormation tags (!Ref, !Sub, ...) are not YAML types."""


_TagTolerantLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def deploy_params(path: Path = SERVERLESS_PATH) -> dict[str, Any]:
    """serverless.yml ``params.default``: each deploy parameter and its default."""
    data = yaml.load(path.read_text(), Loader=_TagTolerantLoader)  # a SafeLoader subclass: no arbitrary objects
    return dict(data["params"]["default"])


def _deploy_section(params: dict[str, Any]) -> list[str]:
    missing, extra = sorted(set(params) - set(DEPLOY_PARAMS)), sorted(set(DEPLOY_PARAMS) - set(params))
    if missing or extra:
        raise KeyError(f"DEPLOY_PARAMS out of step with serverless.yml: undocumented {missing}, gone {extra}")
    lines = [
        "## Deployment parameters (serverless.yml)",
        "",
        "Set per stage in serverless.yml `params`, or on the command line:",
        '`osls deploy --stage prod --param="publishBus=my-bus"` (`make deploy` passes `ORG_ID` and `ALARM_EMAIL`).',
        "",
        "| Parameter | Default | Description |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | `{json.dumps(params[name])}` | {DEPLOY_PARAMS[name]} |" for name in params]
    return lines + [""]


def render_markdown(params: dict[str, Any] | None = None) -> str:
    """docs/configuration.md: every key, then the deploy parameters."""
    example = yaml.safe_load(EXAMPLE)
    parse_config(example, "the example")  # the page never shows an invalid example
    lines = [
        "# Configuration",
        "",
        "<!-- Generated by `python -m bot.config_docs` (`make generate`) from bot/config.py; do not edit. -->",
        "",
        "The routing/policy file is YAML, read from `EVENTOPS_CONFIG` (deployed: `config/eventops.yml`,",
        "shipped in the artifact). Unknown keys are errors. Check a file with `eventops check-config FILE`",
        "(or `python -m bot check-config FILE`). The JSON Schema, for editors and CI, is",
        "[eventops.schema.json](eventops.schema.json) (`eventops config-schema` prints it).",
        "",
    ]
    for path, model in sections():
        lines += _section(path, model, example)
    lines += _deploy_section(deploy_params() if params is None else params)
    return "\n".join(lines)


def schema_text() -> str:
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"


def outputs() -> dict[Path, str]:
    return {SCHEMA_PATH: schema_text(), DOC_PATH: render_markdown()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.config_docs", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        if path.exists() and path.read_text() == text:
            continue
        if args.check:
            stale.append(path.relative_to(ROOT))
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    for path in stale:
        print(f"{path} is stale: run `make generate` (python -m bot.config_docs)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
