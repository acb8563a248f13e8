"""serverless.yml and the template ``osls package`` makes from it (docs/reliability.md #6 and #12).

The packaged template is the truth: it is what CloudFormation receives. The last test creates
its stack in moto's CloudFormation.
"""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from bot.deploy.iam import is_read_only

ROOT = Path(__file__).resolve().parents[2]

# moto 5.2.5's CloudFormation has no model for these types; the smoke test drops them from its
# copy of the template (and rewrites references to them). Everything else is really created.
MOTO_UNSUPPORTED = {
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",
    "AWS::CloudWatch::Alarm",
    "AWS::Events::EventBusPolicy",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
    "AWS::SQS::QueuePolicy",
    "AWS::Scheduler::Schedule",
}


def resources_of(template: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == rtype}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every (role, statement) of every inline policy; ``Fn::If`` branches are both included."""
    found: list[tuple[str, dict[str, Any]]] = []
    for name, role in resources_of(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for stmt in policy["PolicyDocument"]["Statement"]:
                if "Fn::If" in stmt:
                    found += [(name, s) for s in stmt["Fn::If"][1:] if isinstance(s, dict) and "Effect" in s]
                else:
                    found.append((name, stmt))
    return found


# --- serverless.yml itself --------------------------------------------------------------------


def test_serverless_yml_parses_and_targets_the_v3_line(cfn_yaml):
    config = cfn_yaml(ROOT / "serverless.yml")
    assert str(config["frameworkVersion"]) == "3"
    assert config["provider"]["runtime"] == "python3.12"
    assert config["provider"]["architecture"] == "arm64"
    assert set(config["functions"]) == {"notify", "slack", "worker", "housekeeping"}
    for name, fn in config["functions"].items():
        assert fn["handler"] == f"handlers/{name}.handler"
    package = json.loads((ROOT / "package.json").read_text())
    assert re.fullmatch(r"\d+\.\d+\.\d+", package["devDependencies"]["osls"]), "pin osls exactly"


def test_no_aws_account_id_variable():
    """``${aws:accountId}`` makes packaging call STS; CloudFormation's !Sub does the same offline."""
    files = [ROOT / "serverless.yml", *sorted((ROOT / "infra").glob("*"))]
    offenders = [
        f"{f.relative_to(ROOT)}:{n}"
        for f in files
        for n, line in enumerate(f.read_text().splitlines(), 1)
        if "${aws:accountId}" in line.split("#", 1)[0]
    ]
    assert not offenders


# --- the packaged template ----------------------------------------------------------------------


def test_rules_on_both_buses_are_the_parsers_patterns(packaged_template):
    from bot.sources import event_patterns

    expected = sorted(json.dumps(p, sort_keys=True) for p in event_patterns())
    rules = resources_of(packaged_template, "AWS::Events::Rule")
    local = [r["Properties"] for r in rules.values() if "EventBusName" not in r["Properties"]]
    central = [r["Properties"] for r in rules.values() if "EventBusName" in r["Properties"]]
    assert sorted(json.dumps(r["EventPattern"], sort_keys=True) for r in local) == expected
    assert sorted(json.dumps(r["EventPattern"], sort_keys=True) for r in central) == expected
    for rule in local + central:
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": ["AlertsQueue", "Arn"]}
    assert all(r["EventBusName"] == {"Fn::GetAtt": ["CentralEventBus", "Name"]} for r in central)


def test_central_bus_admits_the_organization_only(packaged_template):
    (policy,) = resources_of(packaged_template, "AWS::Events::EventBusPolicy").values()
    assert policy["Condition"] == "HasOrganization"
    stmt = policy["Properties"]["Statement"]
    assert stmt["Action"] == "events:PutEvents"
    from bot.deploy.eventbridge import FORWARDER_ROLE_PREFIX

    assert stmt["Condition"] == {
        "StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}},
        "ArnLike": {"aws:PrincipalArn": {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::*:role/{FORWARDER_ROLE_PREFIX}*"}},
    }
    forwarder = (ROOT / "infra/eventbridge-forwarder.yml").read_text()
    assert f"RoleName:\n        Fn::Sub: {FORWARDER_ROLE_PREFIX}${{AWS::Region}}" in forwarder


def test_queues_have_dlqs_and_visibility_at_least_six_timeouts(packaged_template):
    res = packaged_template["Resources"]
    for queue, dlq, fn in (
        ("AlertsQueue", "AlertsDeadLetterQueue", "NotifyLambdaFunction"),
        ("JobsQueue", "JobsDeadLetterQueue", "WorkerLambdaFunction"),
    ):
        props = res[queue]["Properties"]
        assert props["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]}, "maxReceiveCount": 5}
        assert props["VisibilityTimeout"] >= 6 * res[fn]["Properties"]["Timeout"], queue
    assert res["WorkerLambdaFunction"]["Properties"]["Timeout"] == 120
    assert res["SlackLambdaFunction"]["Properties"]["Timeout"] == 10
    assert res["SlackLambdaFunction"]["Properties"]["MemorySize"] == 512
    mappings = resources_of(packaged_template, "AWS::Lambda::EventSourceMapping").values()
    assert {json.dumps(m["Properties"]["EventSourceArn"]) for m in mappings} == {
        json.dumps({"Fn::GetAtt": ["AlertsQueue", "Arn"]}),
        json.dumps({"Fn::GetAtt": ["JobsQueue", "Arn"]}),
    }
    assert all(m["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in mappings)


def test_functions_are_python312_arm64(packaged_template):
    functions = resources_of(packaged_template, "AWS::Lambda::Function")
    assert len(functions) == 4
    for name, fn in functions.items():
        assert fn["Properties"]["Runtime"] == "python3.12", name
        assert fn["Properties"]["Architectures"] == ["arm64"], name
        env = fn["Properties"]["Environment"]["Variables"]
        assert {"EVENTOPS_TABLE", "EVENTOPS_SLACK_SECRET_ID", "EVENTOPS_CONFIG", "POWERTOOLS_SERVICE_NAME"} <= set(env)


def test_every_function_logs_json_at_the_log_level_parameter(packaged_template):
    """bot/logs.py writes JSON at EVENTOPS_LOG_LEVEL; Lambda's LoggingConfig filters at the same level."""
    functions = resources_of(packaged_template, "AWS::Lambda::Function")
    assert len(functions) == 4
    for name, fn in functions.items():
        props = fn["Properties"]
        assert props["LoggingConfig"] == {
            "LogFormat": "JSON",
            "ApplicationLogLevel": "INFO",
            "SystemLogLevel": "WARN",
        }, name
        env = props["Environment"]["Variables"]
        assert env["EVENTOPS_LOG_LEVEL"] == props["LoggingConfig"]["ApplicationLogLevel"], name
        assert "EVENTOPS_TRACING" not in env and "TracingConfig" not in props, name


def test_no_role_keeps_xray_permissions_for_tracing_the_code_does_not_do(packaged_template):
    text = json.dumps(resources_of(packaged_template, "AWS::IAM::Role"))
    assert "xray:" not in text


def test_slack_route(packaged_template):
    routes = resources_of(packaged_template, "AWS::ApiGatewayV2::Route").values()
    assert [r["Properties"]["RouteKey"] for r in routes] == ["POST /slack/events"]


def test_table(packaged_template):
    assert sorted(resources_of(packaged_template, "AWS::DynamoDB::Table")) == ["AuditTable", "Table"]
    table = packaged_template["Resources"]["Table"]
    props = table["Properties"]
    assert table["DeletionPolicy"] == "Retain"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    (gsi,) = props["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "gsi1"
    assert [k["AttributeName"] for k in gsi["KeySchema"]] == ["gsi1pk", "gsi1sk"]


def test_schedules_housekeeping_every_5_minutes_and_a_daily_heartbeat(packaged_template):
    schedules = [s["Properties"] for s in resources_of(packaged_template, "AWS::Scheduler::Schedule").values()]
    by_task = {json.loads(s["Target"]["Input"])["task"]: s["ScheduleExpression"] for s in schedules}
    assert by_task["housekeeping"] == "rate(5 minutes)"
    assert re.fullmatch(r"cron\(\d+ \d+ \* \* \? \*\)", by_task["heartbeat"])


def test_alarms_on_dlq_depth_and_function_errors(packaged_template):
    alarms = [a["Properties"] for a in resources_of(packaged_template, "AWS::CloudWatch::Alarm").values()]
    watched = {json.dumps(d["Value"]) for a in alarms for d in a.get("Dimensions", [])}
    for dlq in ("AlertsDeadLetterQueue", "JobsDeadLetterQueue"):
        assert json.dumps({"Fn::GetAtt": [dlq, "QueueName"]}) in watched, dlq
    for fn in resources_of(packaged_template, "AWS::Lambda::Function"):
        assert json.dumps({"Ref": fn}) in watched, fn
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)


def test_delivery_latency_alarm_is_its_p95_above_the_deploy_parameter(packaged_template, cfn_yaml):
    alarm = resources_of(packaged_template, "AWS::CloudWatch::Alarm")["DeliveryLatencyAlarm"]["Properties"]
    (stat,) = [m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m]
    # the metric bot/latency.py emits: EMF from the functions, dimension service as powertools sets it
    assert stat["Metric"]["Namespace"] == "EventOps" and stat["Metric"]["MetricName"] == "DeliveryLatency"
    env = packaged_template["Resources"]["NotifyLambdaFunction"]["Properties"]["Environment"]["Variables"]
    assert stat["Metric"]["Dimensions"] == [{"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]}]
    assert stat["Stat"] == "p95" and stat["Unit"] == "Milliseconds"
    (seconds,) = [m for m in alarm["Metrics"] if m.get("ReturnData", True)]
    assert seconds["Expression"] == f"{[m for m in alarm['Metrics'] if 'MetricStat' in m][0]['Id']} / 1000"
    assert alarm["Threshold"] == {"Ref": "LatencyAlarmSeconds"}
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}] and alarm["OKActions"] == [{"Ref": "AlarmTopic"}]
    param = packaged_template["Parameters"]["LatencyAlarmSeconds"]
    default = cfn_yaml(ROOT / "serverless.yml")["params"]["default"]["latencyAlarmSeconds"]
    assert param["Type"] == "Number" and float(param["Default"]) == float(default) == 60
    # /ops status flags the same bound
    assert env["EVENTOPS_LATENCY_ALARM_SECONDS"] == {"Ref": "LatencyAlarmSeconds"}


# --- IAM (docs/reliability.md #12) -----------------------------------------------------------------


def test_each_function_has_its_own_role(packaged_template):
    roles = {
        name: fn["Properties"]["Role"]["Fn::GetAtt"][0]
        for name, fn in resources_of(packaged_template, "AWS::Lambda::Function").items()
    }
    assert len(set(roles.values())) == 4, roles
    assert "IamRoleLambdaExecution" not in packaged_template["Resources"], "the shared osls role is unused"


def _sqs_grants(template: dict[str, Any], role: str) -> dict[str, set[str]]:
    """Queue logical id → the SQS actions ``role`` is allowed on it."""
    grants: dict[str, set[str]] = {}
    for name, stmt in statements(template):
        if name != role or stmt["Effect"] != "Allow":
            continue
        actions = {a for a in as_list(stmt["Action"]) if a.startswith("sqs:")}
        for res in as_list(stmt["Resource"]):
            if isinstance(res, dict) and "Fn::GetAtt" in res and actions:
                grants.setdefault(res["Fn::GetAtt"][0], set()).update(actions)
    return grants


def test_the_worker_may_redrive_the_dlqs_with_exactly_the_calls_bot_redrive_makes(packaged_template):
    """bot/redrive.py: GetQueueAttributes (depth), ReceiveMessage, DeleteMessage (after the send),
    ChangeMessageVisibility (giving records back) on the DLQs; SendMessage to the source queues."""
    grants = _sqs_grants(packaged_template, "WorkerRole")
    dlq_calls = {"sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"}
    assert grants["AlertsDeadLetterQueue"] == grants["JobsDeadLetterQueue"] == dlq_calls
    assert "sqs:SendMessage" in grants["AlertsQueue"] and "sqs:SendMessage" in grants["JobsQueue"]
    assert "sqs:ReceiveMessage" not in grants["AlertsQueue"], "the worker never consumes the alerts queue"
    env = packaged_template["Resources"]["WorkerLambdaFunction"]["Properties"]["Environment"]["Variables"]
    assert env["EVENTOPS_ALERTS_DLQ_URL"] == {"Ref": "AlertsDeadLetterQueue"}
    assert env["EVENTOPS_JOBS_DLQ_URL"] == {"Ref": "JobsDeadLetterQueue"}


def test_no_wildcard_actions_and_secret_scoped(packaged_template):
    offenders = []
    for role, stmt in statements(packaged_template):
        if stmt["Effect"] != "Allow":
            continue
        for action in as_list(stmt["Action"]):
            verb = action.split(":", 1)[-1]
            if action == "*" or verb == "*" or ("*" in verb and not verb.startswith(("Describe", "Get", "List"))):
                offenders.append(f"{role}: {action}")
            if action == "secretsmanager:GetSecretValue":
                (resource,) = as_list(stmt["Resource"])
                if resource != {
                    "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}"
                    ":secret:eventops/ci/slack-??????"
                }:
                    offenders.append(f"{role}: GetSecretValue on {resource}")
        if stmt.get("NotAction") or stmt.get("NotResource"):
            offenders.append(f"{role}: NotAction/NotResource")
    assert not offenders


def test_worker_remediation_policy_is_the_generated_file(packaged_template):
    policies = packaged_template["Resources"]["WorkerRole"]["Properties"]["Policies"]
    (remediations,) = [p for p in policies if p["PolicyName"] == "remediations"]
    assert remediations["PolicyDocument"]["Statement"] == json.loads((ROOT / "infra/worker-policy.json").read_text())
    others = [
        a
        for p in policies
        if p is not remediations
        for s in p["PolicyDocument"]["Statement"]
        for a in as_list(s["Action"])
    ]
    from bot.remediations import remediations as catalog

    catalog_only = {a for rem in catalog.values() for a in rem.permissions}
    assert not catalog_only & set(others), "catalog actions belong in infra/worker-policy.json only"
    catalog_changes = {a for a in catalog_only if not is_read_only(a)}
    other_roles = [
        r for r, s in statements(packaged_template) if r != "WorkerRole" and set(as_list(s["Action"])) & catalog_changes
    ]
    assert not other_roles, f"only the worker may run remediations: {other_roles}"


def test_worker_assumes_only_the_member_roles_and_notify_only_the_read_role(packaged_template):
    """The worker: the member role (remediations) and the read role (bot.context's CloudTrail
    lookups); notify: the read role only (tags)."""
    sts: dict[str, list[dict]] = {}
    for r, s in statements(packaged_template):
        if any(a.startswith("sts:") for a in as_list(s["Action"])):
            sts.setdefault(r, []).append(s)
    assert sorted(sts) == ["NotifyRole", "WorkerRole"]
    worker = {s["Resource"]["Fn::Sub"]: sorted(as_list(s["Action"])) for s in sts["WorkerRole"]}
    assert worker == {
        "arn:${AWS::Partition}:iam::*:role/eventops-member": ["sts:AssumeRole", "sts:SetSourceIdentity"],
        "arn:${AWS::Partition}:iam::*:role/eventops-member-read": ["sts:AssumeRole"],
    }
    (notify,) = sts["NotifyRole"]
    assert as_list(notify["Action"]) == ["sts:AssumeRole"]
    assert notify["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/eventops-member-read"}


AUDIT_TABLE = {"Fn::GetAtt": ["AuditTable", "Arn"]}
MAIN_TABLE = {"Fn::GetAtt": ["Table", "Arn"]}
# Every DynamoDB action that writes items or could change the audit table's protection.
WRITES = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
)
TABLE_CHANGES = (
    "dynamodb:DeleteTable",
    "dynamodb:UpdateTable",
    "dynamodb:UpdateTimeToLive",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:RestoreTableToPointInTime",
    "dynamodb:PutResourcePolicy",
    "dynamodb:DeleteResourcePolicy",
)


def _matches_condition(condition: dict[str, Any] | None, leading_key: str) -> bool:
    """The LeadingKeys conditions the template uses; any other condition key fails the test."""
    for op, keys in (condition or {}).items():
        for key, patterns in keys.items():
            assert key == "dynamodb:LeadingKeys", f"the evaluator does not know {op} {key}"
            hit = any(fnmatch.fnmatchcase(leading_key, p) for p in as_list(patterns))
            if {"ForAnyValue:StringLike": hit, "ForAllValues:StringNotLike": not hit}[op] is False:
                return False
    return True


def allowed(stmts: list[dict[str, Any]], action: str, resource: Any, leading_key: str) -> bool:
    """IAM's evaluation for one request: an explicit Deny wins, else any Allow, else denied."""

    def applies(stmt: dict[str, Any]) -> bool:
        actions = as_list(stmt["Action"])
        return (
            any(fnmatch.fnmatchcase(action, a) for a in actions)
            and resource in as_list(stmt["Resource"])
            and _matches_condition(stmt.get("Condition"), leading_key)
        )

    matching = [s for s in stmts if applies(s)]
    return bool(matching) and all(s["Effect"] == "Allow" for s in matching)


def test_no_role_can_change_or_remove_an_audit_item(packaged_template):
    """Evaluate every role's statements: on the audit table only PutItem, GetItem and Query; on the
    main table nothing may write the legacy AUDIT# items, while other items stay writable."""
    by_role: dict[str, list[dict[str, Any]]] = {}
    for role, stmt in statements(packaged_template):
        by_role.setdefault(role, []).append(stmt)
    problems = []
    table_roles = {r for r, ss in by_role.items() if any("dynamodb:" in str(s["Action"]) for s in ss)}
    assert table_roles == {"NotifyRole", "SlackRole", "WorkerRole", "HousekeepingRole"}
    for role in sorted(table_roles):
        stmts = by_role[role]
        for action in (*WRITES, *TABLE_CHANGES):
            may = allowed(stmts, action, AUDIT_TABLE, "CHAIN#2026-12-03")
            if may != (action == "dynamodb:PutItem"):
                problems.append(f"{role}: {action} on the audit table is {'allowed' if may else 'denied'}")
        for action in WRITES:
            if allowed(stmts, action, MAIN_TABLE, "AUDIT#p1:SUCCEEDED"):
                problems.append(f"{role}: {action} on a legacy AUDIT# item")
        for action in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"):
            if not allowed(stmts, action, MAIN_TABLE, "PROPOSAL#p1"):
                problems.append(f"{role}: {action} on the main table is denied (the bot needs it)")
        if not all(allowed(stmts, a, AUDIT_TABLE, "KEY#k") for a in ("dynamodb:GetItem", "dynamodb:Query")):
            problems.append(f"{role}: cannot read the audit table")
        if any(s["Effect"] == "Allow" and "dynamodb:*" in as_list(s["Action"]) for s in stmts):
            problems.append(f"{role}: dynamodb:*")
    assert not problems


def test_audit_table_is_retained_protected_and_recoverable(packaged_template):
    table = packaged_template["Resources"]["AuditTable"]
    props = table["Properties"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert props["DeletionProtectionEnabled"] is True
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert "TimeToLiveSpecification" not in props, "audit records never expire"
    # bot.store.audit_log.audit_table_name: the main table's name + "-audit"
    assert props["TableName"] == {"Fn::Join": ["", [{"Ref": "Table"}, "-audit"]]}


# --- smoke: the stack really creates (moto) ----------------------------------------------------


def _drop(template: dict[str, Any], dropped: set[str]) -> Any:
    """Replace references to dropped resources with placeholders, recursively."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Ref"} and node["Ref"] in dropped:
                return f"dropped-{node['Ref']}"
            if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in dropped:
                return f"dropped-{node['Fn::GetAtt'][0]}"
            if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
                text = node["Fn::Sub"]
                for name in dropped:
                    text = re.sub(r"\$\{" + name + r"(\.[A-Za-z]+)?\}", f"dropped-{name}", text)
                return {"Fn::Sub": text}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(template)


def test_stack_creates_in_moto(packaged_template, aws):
    template = json.loads(json.dumps(packaged_template))
    types = {r["Type"] for r in template["Resources"].values()}
    from moto.cloudformation.parsing import get_model_map

    supported = set(get_model_map())
    assert types - supported <= MOTO_UNSUPPORTED, (
        f"new types moto cannot create: {types - supported - MOTO_UNSUPPORTED}"
    )
    dropped = {k for k, r in template["Resources"].items() if r["Type"] in MOTO_UNSUPPORTED}
    template["Resources"] = {k: r for k, r in template["Resources"].items() if k not in dropped}
    for res in template["Resources"].values():
        if "DependsOn" in res:
            res["DependsOn"] = [d for d in as_list(res["DependsOn"]) if d not in dropped]
    template = _drop(template, dropped)
    template["Outputs"] = {k: v for k, v in template["Outputs"].items() if "dropped-" not in json.dumps(v)}

    cfn = boto3.client("cloudformation", region_name="us-east-1")
    cfn.create_stack(
        StackName="eventops-ci",
        TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        Parameters=[{"ParameterKey": "OrganizationId", "ParameterValue": "o-abcdefghij"}],
    )
    stack = cfn.describe_stacks(StackName="eventops-ci")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    assert outputs["WorkerRoleArn"].startswith("arn:aws:iam::")
    assert outputs["CentralEventBusArn"].endswith(":event-bus/eventops-ci")

    # What the functions will find at run time exists and matches their environment.
    lam = boto3.client("lambda", region_name="us-east-1")
    env = lam.get_function_configuration(FunctionName="eventops-ci-worker")["Environment"]["Variables"]
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    table = ddb.describe_table(TableName=env["EVENTOPS_TABLE"])["Table"]
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "gsi1"
    sqs = boto3.client("sqs", region_name="us-east-1")
    attrs = sqs.get_queue_attributes(QueueUrl=env["EVENTOPS_JOBS_QUEUE_URL"], AttributeNames=["All"])["Attributes"]
    assert json.loads(attrs["RedrivePolicy"])["maxReceiveCount"] == 5
    for queue in ("ALERTS", "JOBS"):  # each DLQ URL the functions get is that queue's dead-letter target
        source = sqs.get_queue_attributes(QueueUrl=env[f"EVENTOPS_{queue}_QUEUE_URL"], AttributeNames=["All"])
        dlq = sqs.get_queue_attributes(QueueUrl=env[f"EVENTOPS_{queue}_DLQ_URL"], AttributeNames=["QueueArn"])
        target = json.loads(source["Attributes"]["RedrivePolicy"])["deadLetterTargetArn"]
        assert target == dlq["Attributes"]["QueueArn"], queue
    ssm = boto3.client("ssm", region_name="us-east-1")
    assert ssm.get_parameter(Name=env["EVENTOPS_KILL_SWITCH_PARAMETER"])["Parameter"]["Value"] == "off"
    events = boto3.client("events", region_name="us-east-1")
    central = [r for r in events.list_rules(EventBusName="eventops-ci")["Rules"]]
    local = [r for r in events.list_rules()["Rules"] if r["Name"].startswith("eventops-ci-")]
    assert len(central) == len(local) > 0


@pytest.mark.parametrize("fragment", ["${aws:accountId}", "${aws:"])
def test_packaged_template_resolved_every_serverless_variable(packaged_template, fragment):
    assert fragment not in json.dumps(packaged_template)
