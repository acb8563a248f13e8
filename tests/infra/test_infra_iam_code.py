"""The function roles grant what the code calls, no more and no less (docs/reliability.md #12).

The calls are read from the source: every attribute name in ``bot/`` and ``handlers/`` (the
sandbox excepted: it runs against moto, never deployed) that is a boto3 method of a service the
module creates a client for (``client("sqs")``, ``fan_out(rt, where, "ec2", ...)``), plus the
operations named in ``get_paginator("...")``. botocore's service models turn a method name into
its operation (``send_message`` → ``sqs:SendMessage``). A module that creates no client (the
store gets its DynamoDB client passed in) is matched against every service the code uses, but
only for methods called on something named ``client`` (``self.client.put_item(...)``).

Both ways: every action a function role allows is called somewhere (or is in ``NOT_CALLED_BY_CODE``
with the caller that needs it), and every action the code calls is allowed to some role.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from tests.infra.test_infra_template import as_list, statements

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [ROOT / "bot", ROOT / "handlers"]
NOT_SCANNED = [ROOT / "bot" / "sandbox"]

# Granted, but called by AWS on the function's behalf rather than by the bot's code.
NOT_CALLED_BY_CODE: dict[str, str] = {
    "logs:CreateLogStream": "the Lambda runtime writes the function's logs",
    "logs:PutLogEvents": "the Lambda runtime writes the function's logs",
    "sqs:ReceiveMessage": "the SQS event source mapping polls with the function's role",
    "sqs:DeleteMessage": "the SQS event source mapping deletes handled records",
    "sqs:ChangeMessageVisibility": "the SQS event source mapping returns failed records",
    "lambda:InvokeFunction": "EventBridge Scheduler invokes housekeeping with SchedulerRole",
}
# Calls that need no IAM permission.
NO_PERMISSION = {"sts:GetCallerIdentity"}
# Called, but never by a deployed function.
CALLED_NOT_DEPLOYED: dict[str, str] = {
    "dynamodb:CreateTable": "bot.store.create_table makes the sandbox's and the tests' tables; the stack makes the real ones",
}
# Operations whose IAM action has another name.
ACTION_OF_OPERATION = {
    "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "s3:PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "s3:DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
}
# TransactWriteItems has no IAM action of its own: each item needs its own action.
TRANSACT_ITEMS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@cache
def _botocore() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def _operations(service: str) -> dict[str, str]:
    """snake_case method name → operation name, for one boto3 client."""
    model = _botocore().get_service_model(service)
    return {xform_name(op): op for op in model.operation_names}


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for folder in SCANNED:
        for path in sorted(folder.rglob("*.py")):
            if not any(path.is_relative_to(skip) for skip in NOT_SCANNED):
                yield path, ast.parse(path.read_text(), str(path))


def _client_services(tree: ast.Module) -> set[str]:
    """Services named as a string literal in a ``client(...)`` or ``fan_out(...)`` call."""
    known = set(_botocore().get_available_services())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in {"client", "fan_out"}:
                found |= {a.value for a in node.args if isinstance(a, ast.Constant) and a.value in known}
    return found


def _on_client(node: ast.Attribute) -> bool:
    receiver = node.value
    return (isinstance(receiver, ast.Name) and receiver.id == "client") or (
        isinstance(receiver, ast.Attribute) and receiver.attr == "client"
    )


def _names(tree: ast.Module, clients_only: bool) -> set[str]:
    """Attribute names used (only those on a ``client`` when ``clients_only``), and the
    operations passed to ``get_paginator``."""
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and (not clients_only or _on_client(n))}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get_paginator":
            names |= {a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return names


def _dict_keys(tree: ast.Module) -> set[str]:
    return {k.value for n in ast.walk(tree) if isinstance(n, ast.Dict) for k in n.keys if isinstance(k, ast.Constant)}


def _words(tree: ast.Module) -> set[str]:
    """Keyword argument names and string constants (``kwargs["SourceIdentity"] = ...``)."""
    kwargs = {k.arg for n in ast.walk(tree) if isinstance(n, ast.Call) for k in n.keywords if k.arg}
    return kwargs | {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


@cache
def called_actions() -> dict[str, set[str]]:
    """IAM action → the modules (relative paths) whose code calls it."""
    parsed = list(_modules())
    every_service: set[str] = set()
    for _, tree in parsed:
        every_service |= _client_services(tree)
    assert {"dynamodb", "sqs", "ssm", "secretsmanager", "sts"} <= every_service, every_service
    found: dict[str, set[str]] = {}
    for path, tree in parsed:
        own = _client_services(tree)
        services = own or every_service
        names = _names(tree, clients_only=not own)
        where = str(path.relative_to(ROOT))
        for service in sorted(services):
            for method, op in _operations(service).items():
                if method not in names:
                    continue
                action = f"{service}:{op}"
                actions = [ACTION_OF_OPERATION.get(action, action)]
                if (service, op) == ("dynamodb", "TransactWriteItems"):
                    actions = [f"dynamodb:{TRANSACT_ITEMS[k]}" for k in sorted(_dict_keys(tree) & set(TRANSACT_ITEMS))]
                    assert actions, f"{where}: transact_write_items with no item kind the test can see"
                if (service, op) == ("sts", "AssumeRole") and "SourceIdentity" in _words(tree):
                    actions.append("sts:SetSourceIdentity")
                for action in actions:
                    found.setdefault(action, set()).add(where)
    return found


def _role_grants(template: dict[str, Any]) -> dict[str, set[str]]:
    """Allowed action → roles, from the bot's own policies (the generated ``remediations`` policy,
    infra/worker-policy.json, is the catalog's: tests/infra/test_infra_generated.py checks it)."""
    remediation_stmts = json.loads((ROOT / "infra/worker-policy.json").read_text())
    grants: dict[str, set[str]] = {}
    for role, stmt in statements(template):
        if stmt["Effect"] == "Allow" and stmt not in remediation_stmts:
            for action in as_list(stmt["Action"]):
                grants.setdefault(action, set()).add(role)
    return grants


def test_the_scan_sees_the_calls_it_must():
    """Guards the scanner itself: calls known to exist are found."""
    called = called_actions()
    for action, module in (
        ("dynamodb:PutItem", "bot/store/audit_log.py"),
        ("dynamodb:BatchGetItem", "bot/store/table.py"),
        ("dynamodb:BatchWriteItem", "bot/store/table.py"),
        ("sqs:SendMessage", "bot/approval/jobs.py"),
        ("ssm:GetParameter", "bot/runtime.py"),
        ("sts:SetSourceIdentity", "bot/aws.py"),
        ("ec2:StopInstances", "bot/remediations/ec2.py"),
        ("cloudwatch:DescribeAlarms", "bot/commands/alarms.py"),
    ):
        assert module in called.get(action, set()), f"{action} not found in {module}"


def test_every_granted_action_is_called(packaged_template):
    called = called_actions()
    grants = _role_grants(packaged_template)
    unused = {a: sorted(r) for a, r in grants.items() if a not in called and a not in NOT_CALLED_BY_CODE}
    assert not unused, f"granted but never called by bot/ or handlers/: {unused}"
    stale = sorted(set(NOT_CALLED_BY_CODE) - set(grants))
    assert not stale, f"NOT_CALLED_BY_CODE lists actions no role is granted: {stale}"


def test_every_called_action_is_granted(packaged_template):
    from bot.commands import QUERY_PERMISSIONS
    from bot.deploy.iam import GRAPH_PERMISSIONS
    from bot.remediations import remediations

    catalog = {a for rem in remediations.values() for a in rem.permissions} | set(QUERY_PERMISSIONS)
    catalog |= set(GRAPH_PERMISSIONS)
    grants = _role_grants(packaged_template)
    missing = {
        a: sorted(where)
        for a, where in called_actions().items()
        if a not in grants and a not in catalog and a not in NO_PERMISSION and a not in CALLED_NOT_DEPLOYED
    }
    assert not missing, f"called by the code but granted to no role: {missing}"
    stale = sorted(set(CALLED_NOT_DEPLOYED) - set(called_actions()))
    assert not stale, f"CALLED_NOT_DEPLOYED lists actions nothing calls: {stale}"


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("dynamodb:ConditionCheckItem", "the audit transaction is two conditional Puts"),
    ],
)
def test_unused_dynamodb_actions_stay_out(packaged_template, action, reason):
    assert action not in called_actions(), f"{action} is called now: grant it ({reason} no longer holds)"
    assert action not in _role_grants(packaged_template), reason


def test_the_notify_role_may_batch_write_but_never_on_audit_keys(packaged_template):
    """``Store.put_proposals`` (a new alert's proposals, from notify) is one BatchWriteItem;
    the legacy AUDIT# items stay read-only for it as for every single write."""
    assert "NotifyRole" in _role_grants(packaged_template)["dynamodb:BatchWriteItem"]
    denied = [
        stmt
        for role, stmt in statements(packaged_template)
        if role == "NotifyRole" and stmt["Effect"] == "Deny" and "dynamodb:BatchWriteItem" in as_list(stmt["Action"])
    ]
    assert any("AUDIT#*" in json.dumps(stmt.get("Condition", {})) for stmt in denied)
    allowed = [
        stmt
        for role, stmt in statements(packaged_template)
        if role == "NotifyRole" and stmt["Effect"] == "Allow" and "dynamodb:BatchWriteItem" in as_list(stmt["Action"])
    ]
    assert all("AUDIT#*" in json.dumps(stmt.get("Condition", {})) for stmt in allowed)
