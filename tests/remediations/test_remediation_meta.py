"""Lint the registry the way c7n's PolicyMetaLint does: walk every remediation, collect every
offender, fail once with the whole list.

The permission check runs each remediation's scenarios (run, undo, dry run) under moto or
Stubber, records every AWS operation its clients call and maps each to its IAM action: all must
be declared, and every declared action must be used by some scenario (least privilege).
"""

from __future__ import annotations

import inspect
import re

from moto import mock_aws
from remediation_fakes import RecordingFactory, catalog_services, make_ctx
from remediation_scenarios import SCENARIOS

import bot.remediations as package
from bot.errors import RemediationError
from bot.models import ProposalState, Risk
from bot.remediations import remediations, run, run_undo
from bot.remediations.catalog import all_permissions, catalog_table_markdown

NAME = re.compile(r"^[a-z0-9]+\.[a-z]+(-[a-z0-9]+)+$")
PERMISSION = re.compile(r"^[a-z0-9]+:[A-Z][A-Za-z0-9]+$")
# The services the catalog declares IAM permissions on, from the registry (not a list to keep).
SERVICES = catalog_services()
# Declared but only reached on a path the scenarios do not take, with the reason.
SOMETIMES_UNUSED = {
    ("ec2.isolate-instance", "ec2:RevokeSecurityGroupIngress"): "only when someone opened the quarantine group",
}


def test_registry_is_complete_and_well_declared():
    offenders: list[str] = []
    expected = {
        "ec2.stop-instance", "ec2.start-instance", "ec2.reboot-instance", "ec2.snapshot-volumes",
        "ec2.isolate-instance", "ec2.terminate-instance", "ec2.revoke-ingress", "s3.block-public-access",
        "iam.deactivate-access-key", "cloudtrail.start-logging", "kms.cancel-key-deletion",
        "ecs.force-new-deployment", "lambda.throttle-function", "autoscaling.set-desired-capacity",
        "ssm.run-automation", "securityhub.set-workflow-status", "guardduty.archive-finding",
    }  # fmt: skip
    missing = expected - {str(k) for k in remediations.keys()}
    if missing:
        offenders.append(f"registry: missing {sorted(missing)}")
    for key, rem in remediations.items():
        who = str(key)
        if key != rem.name:
            offenders.append(f"{who}: registered under a key that is not its name {rem.name!r}")
        service = rem.name.split(".")[0]
        if not NAME.match(rem.name) or service not in SERVICES:
            offenders.append(f"{who}: name is not service.verb-object")
        elif not any(perm.startswith(f"{service}:") for perm in rem.permissions):
            offenders.append(f"{who}: named for {service} but declares no {service}: permission")
        if not getattr(rem, "title", "").strip():
            offenders.append(f"{who}: no title")
        if not isinstance(rem.risk, Risk):
            offenders.append(f"{who}: risk is not a Risk")
        if not rem.permissions:
            offenders.append(f"{who}: no permissions")
        for perm in rem.permissions:
            if "*" in perm or not PERMISSION.match(perm):
                offenders.append(f"{who}: permission {perm!r} is not an exact service:Action")
        if len(set(rem.permissions)) != len(rem.permissions):
            offenders.append(f"{who}: duplicate permissions")
        if rem.Params.model_config.get("extra") != "forbid":
            offenders.append(f"{who}: Params allows extra fields")
        doc = inspect.getdoc(type(rem)) or ""
        if len(doc) < 40 or "Example" not in doc:
            offenders.append(f"{who}: docstring missing or without an example")
        if rem.name == "ec2.terminate-instance" and rem.risk != Risk.HIGH:
            offenders.append(f"{who}: terminate must be HIGH risk")
        if rem.reversible and type(rem).undo is type(rem).__mro__[-2].undo:
            offenders.append(f"{who}: reversible but no undo()")
        if rem.dry_run and type(rem).check_dry_run is type(rem).__mro__[-2].check_dry_run:
            offenders.append(f"{who}: dry_run but no check_dry_run()")
        try:
            example = rem.example_params()
            plan = rem.plan(example, "123456789012", "eu-west-1")
        except Exception as exc:  # collect, don't stop
            offenders.append(f"{who}: example_params/plan failed: {exc!r}")
            continue
        if not plan or not all(isinstance(s, str) and s.startswith("Would ") for s in plan):
            offenders.append(f"{who}: plan() does not give 'Would …' sentences: {plan!r}")
        elif not any("eu-west-1" in s or "123456789012" in s for s in plan):
            offenders.append(f"{who}: plan() does not say where: {plan!r}")
        try:
            rem.parse_params({**example, "unexpected": 1})
            offenders.append(f"{who}: Params accepted an unknown field")
        except RemediationError:
            pass
    assert not offenders, "\n".join(offenders)


def test_declared_permissions_match_calls_made(fast_moto):
    offenders: list[str] = []
    for key, rem in remediations.items():
        name = str(key)
        builders = SCENARIOS.get(name)
        if not builders:
            offenders.append(f"{name}: no scenario in remediation_scenarios.SCENARIOS")
            continue
        used: set[str] = set()
        for build in builders:
            with mock_aws():
                factory = RecordingFactory()
                sc = build(factory)
                factory.calls.clear()
                try:
                    if rem.dry_run:
                        rem.check_dry_run(make_ctx(factory), rem.parse_params(sc.params))
                    done = run(rem, make_ctx(factory), sc.params)
                    if done.state != ProposalState.SUCCEEDED:
                        offenders.append(f"{name}/{build.__name__}: run ended {done.state}: {done.message}")
                    elif rem.reversible:
                        undone = run_undo(rem, make_ctx(factory), sc.params, done.pre_state, done.post_state)
                        if undone.state != ProposalState.UNDONE:
                            offenders.append(f"{name}/{build.__name__}: undo ended {undone.state}: {undone.message}")
                except Exception as exc:
                    offenders.append(f"{name}/{build.__name__}: raised {exc!r}")
                actions = factory.actions()
            used |= actions
            for action in sorted(actions - set(rem.permissions)):
                offenders.append(f"{name}: calls {action} but does not declare it")
        for perm in rem.permissions:
            if perm not in used and (name, perm) not in SOMETIMES_UNUSED:
                offenders.append(f"{name}: declares {perm} but no scenario calls it")
    assert not offenders, "\n".join(offenders)


def test_catalog_table_and_permissions():
    table = catalog_table_markdown()
    for rem in remediations.values():
        assert f"`{rem.name}`" in table
    assert len(table.strip().splitlines()) == len(remediations) + 2
    perms = all_permissions()
    assert perms == sorted(set(perms))
    assert "s3:PutBucketPublicAccessBlock" in perms and "ec2:StopInstances" in perms
    assert not any("*" in p for p in perms)


def test_remediations_never_import_slack():
    import ast
    from pathlib import Path

    offenders = []
    for path in Path(package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            banned = ("slack_sdk", "slack_bolt", "bot.slack")
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(banned)]
    assert not offenders, offenders
