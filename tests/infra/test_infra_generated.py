"""The generated files in infra/ follow the registries (docs/reliability.md #12: least privilege).

Every test lists all offenders in one failure, so one run shows the whole fix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from bot.deploy import generate
from bot.deploy.eventbridge import pattern_id
from bot.deploy.iam import CatalogPermissionError, catalog_actions, is_read_only, remediation_statements
from bot.deploy.manifest import ManifestURLError, events_url, manifest, render_manifest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"


@pytest.fixture(scope="module")
def catalog():
    from bot.remediations import remediations

    return list(remediations.values())


@pytest.fixture(scope="module")
def patterns():
    from bot.sources import event_patterns

    return event_patterns()


def test_generated_files_are_fresh():
    stale = generate.stale_files(generate.render_all())
    assert not stale, (
        f"stale generated files {[str(p.relative_to(ROOT)) for p in stale]}: run python -m bot.deploy.generate"
    )


def test_check_mode_reports_stale_and_writes_nothing(tmp_path, capsys):
    target = tmp_path / "worker-policy.json"
    target.write_text("[]\n")
    rc = generate.main(["--check"], render=lambda: {target: "[1]\n"})
    assert rc == 1
    assert target.read_text() == "[]\n"


def test_worker_policy_grants_exactly_the_catalogs_reads_and_the_ops_queries(catalog):
    """The worker's own credentials change nothing: every change goes through a configured
    account's member role, the bot's own account included (docs/reliability.md #16)."""
    from bot.commands import QUERY_PERMISSIONS
    from bot.deploy.iam import GRAPH_PERMISSIONS

    statements = json.loads((INFRA / "worker-policy.json").read_text())
    granted = [a for st in statements for a in st["Action"]]
    declared = {a for rem in catalog for a in rem.permissions if is_read_only(a)} | set(QUERY_PERMISSIONS)
    declared |= set(GRAPH_PERMISSIONS)  # alarm graphs: drawn by the worker (bot.graphs.draw)
    assert sorted(granted) == sorted(declared), "worker-policy.json differs from the declared reads"
    assert all(is_read_only(a) for a in granted), "the worker's own role may change something"
    queries = next(st for st in statements if st["Sid"] == "OpsQueriesRead")["Action"]
    assert all(is_read_only(a) for a in queries)
    assert len(granted) == len(set(granted)), "an action is granted twice"
    assert all(st["Effect"] == "Allow" and "Condition" not in st for st in statements)


def test_no_wildcard_on_mutating_actions(catalog):
    statements = json.loads((INFRA / "worker-policy.json").read_text())
    offenders = [a for st in statements for a in st["Action"] if "*" in a and not is_read_only(a)]
    offenders += [f"{rem.name}: {a}" for rem in catalog for a in rem.permissions if "*" in a]
    assert not offenders, f"wildcard actions: {offenders}"


def test_generator_refuses_wildcards_and_lists_every_offender():
    bad = [
        SimpleNamespace(name="x.one", permissions=("ec2:*",)),
        SimpleNamespace(name="x.two", permissions=("ec2:Stop*", "ec2:Describe*")),
        SimpleNamespace(name="x.three", permissions=("*",)),
    ]
    with pytest.raises(CatalogPermissionError) as err:
        catalog_actions(bad)
    for fragment in ("x.one", "x.two", "x.three"):
        assert fragment in str(err.value)
    assert "Describe*" not in str(err.value)  # read-only wildcards are tolerated


def test_read_and_change_are_separate_statements():
    rems = [SimpleNamespace(name="ec2.stop-instance", permissions=("ec2:DescribeInstances", "ec2:StopInstances"))]
    assert remediation_statements(rems) == [
        {"Sid": "CatalogRead", "Effect": "Allow", "Action": ["ec2:DescribeInstances"], "Resource": "*"},
        {"Sid": "CatalogChange", "Effect": "Allow", "Action": ["ec2:StopInstances"], "Resource": "*"},
    ]


def test_member_read_role_trusts_only_notify_and_the_worker_and_only_reads(cfn_yaml):
    from bot.context.lookup import CONTEXT_PERMISSIONS
    from bot.routing.tags import TAG_PERMISSIONS

    template = cfn_yaml(INFRA / "member-account-role.yml")
    props = template["Resources"]["EventOpsMemberReadRole"]["Properties"]
    (stmt,) = props["AssumeRolePolicyDocument"]["Statement"]
    # notify (tag lookups) and the worker ("what changed?": CloudTrail LookupEvents)
    assert stmt["Principal"] == {"AWS": [{"Ref": "NotifyRoleArn"}, {"Ref": "BotRoleArn"}]}
    assert stmt["Action"] == "sts:AssumeRole"  # no SourceIdentity: nobody clicked
    assert stmt["Condition"] == {
        "StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}, "aws:PrincipalOrgID": {"Ref": "OrganizationId"}}
    }
    (policy,) = props["Policies"]
    (grant,) = policy["PolicyDocument"]["Statement"]
    assert sorted(grant["Action"]) == sorted(TAG_PERMISSIONS + CONTEXT_PERMISSIONS)
    assert all(is_read_only(a) for a in grant["Action"])


def test_member_role_trusts_only_the_worker_with_external_id(cfn_yaml):
    template = cfn_yaml(INFRA / "member-account-role.yml")
    roles = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    assert sorted(roles) == ["EventOpsMemberReadRole", "EventOpsMemberRole"]
    props = roles["EventOpsMemberRole"]["Properties"]
    trust = props["AssumeRolePolicyDocument"]["Statement"]
    assert len(trust) == 1, "one trust statement: the worker's"
    (stmt,) = trust
    assert stmt["Effect"] == "Allow"
    assert stmt["Principal"] == {"AWS": {"Ref": "BotRoleArn"}}
    assert sorted(stmt["Action"]) == ["sts:AssumeRole", "sts:SetSourceIdentity"]
    assert stmt["Condition"] == {
        "StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}, "aws:PrincipalOrgID": {"Ref": "OrganizationId"}},
        "Null": {"sts:SourceIdentity": "false"},  # no Slack user, no session
    }
    assert template["Parameters"]["ExternalId"]["NoEcho"] is True
    assert template["Parameters"]["ExternalId"]["MinLength"] >= 16
    assert template["Parameters"]["OrganizationId"]["AllowedPattern"] == r"^o-[a-z0-9]{10,32}$"
    # Permissions: exactly the catalog's statements (reads and changes), then the exempt-tag Denies.
    (policy,) = props["Policies"]
    from bot.commands import QUERY_PERMISSIONS
    from bot.deploy.generate import load_remediations
    from bot.deploy.iam import GRAPH_PERMISSIONS

    catalog = remediation_statements(load_remediations(), (*QUERY_PERMISSIONS, *GRAPH_PERMISSIONS))
    assert any(not is_read_only(a) for st in catalog for a in st["Action"]), "the member role is where changes live"
    assert policy["PolicyDocument"]["Statement"][: len(catalog)] == catalog
    assert all(st["Effect"] == "Deny" for st in policy["PolicyDocument"]["Statement"][len(catalog) :])


def _denied(stmts, action: str, tags: dict[str, str], tag_keys: tuple[str, ...] = ()) -> bool:
    """Does an explicit Deny of ``stmts`` match ``action`` on a resource tagged ``tags``?"""
    for st in stmts:
        if st["Effect"] != "Deny" or action not in st["Action"]:
            continue
        for op, cond in st["Condition"].items():
            ((key, want),) = cond.items()
            if op == "StringEqualsIgnoreCase" and key.startswith("aws:ResourceTag/"):
                hit = tags.get(key.removeprefix("aws:ResourceTag/"), "").lower() == want.lower()
            elif op == "ForAnyValue:StringEqualsIgnoreCase" and key == "aws:TagKeys":
                hit = any(k.lower() in [w.lower() for w in want] for k in tag_keys)
            else:
                raise AssertionError(f"unknown condition {op} {key}")
            if hit:
                return True
    return False


def test_member_role_cannot_touch_resources_tagged_exempt(cfn_yaml):
    from bot.deploy.iam import EXEMPT_TAG_SERVICES

    template = cfn_yaml(INFRA / "member-account-role.yml")
    (policy,) = template["Resources"]["EventOpsMemberRole"]["Properties"]["Policies"]
    stmts = policy["PolicyDocument"]["Statement"]
    changes = [a for st in stmts if st["Effect"] == "Allow" for a in st["Action"] if not is_read_only(a)]
    exempt = {"eventops:exempt": "TRUE"}
    problems = []
    for action in changes:
        guarded = action.split(":", 1)[0] in EXEMPT_TAG_SERVICES
        if guarded != _denied(stmts, action, exempt):
            problems.append(f"{action}: {'not ' if guarded else ''}denied on an exempt resource")
        if _denied(stmts, action, {"eventops:exempt": "false", "Name": "web"}):
            problems.append(f"{action}: denied on an ordinary resource")
    assert not problems
    for needed in (
        "ec2:StopInstances",
        "ec2:TerminateInstances",
        "iam:UpdateAccessKey",
        "lambda:PutFunctionConcurrency",
    ):
        assert _denied(stmts, needed, exempt), needed
    assert not _denied(stmts, "s3:PutBucketPublicAccessBlock", exempt), "S3: not an IAM condition (README)"
    # Nobody exempts (or un-exempts) a resource through EventOps.
    assert _denied(stmts, "ec2:CreateTags", {}, tag_keys=("eventops:exempt",))
    assert not _denied(stmts, "ec2:CreateTags", {}, tag_keys=("eventops:quarantine",))


def test_forwarder_forwards_exactly_the_parsers_patterns(cfn_yaml, patterns):
    template = cfn_yaml(INFRA / "eventbridge-forwarder.yml")
    rules = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    got = sorted(json.dumps(r["EventPattern"], sort_keys=True) for r in rules)
    assert got == sorted(json.dumps(p, sort_keys=True) for p in patterns)
    for rule in rules:
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Ref": "CentralBusArn"}
        assert target["RoleArn"] == {"Fn::GetAtt": ["ForwarderRole", "Arn"]}
    role = template["Resources"]["ForwarderRole"]["Properties"]
    (stmt,) = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert stmt == {"Effect": "Allow", "Action": "events:PutEvents", "Resource": {"Ref": "CentralBusArn"}}


def test_pattern_ids_are_unique_and_stable(patterns):
    ids = [pattern_id(p) for p in patterns]
    assert len(ids) == len(set(ids))
    assert pattern_id({"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"]}).startswith("Guardduty")
    assert all(len(i) <= 32 for i in ids), "rule names are <stack name>-<id>, at most 64 characters"


def test_manifest_points_every_surface_at_the_events_route():
    text = render_manifest("https://abc123.execute-api.eu-west-1.amazonaws.com/")
    data = yaml.safe_load(text)
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com/slack/events"
    assert data["settings"]["interactivity"] == {"is_enabled": True, "request_url": url}
    # the Events API: only the Home tab's app_home_opened, to the same route
    assert data["settings"]["event_subscriptions"] == {"request_url": url, "bot_events": ["app_home_opened"]}
    assert data["features"]["app_home"] == {"home_tab_enabled": True}
    assert [c["command"] for c in data["features"]["slash_commands"]] == ["/ops"]
    assert data["features"]["slash_commands"][0]["url"] == url
    assert {"chat:write", "commands"} <= set(data["oauth_config"]["scopes"]["bot"])
    assert data["settings"]["socket_mode_enabled"] is False


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://x.example", "https://x.example/slack/events"),
        ("https://x.example/", "https://x.example/slack/events"),
        ("https://x.example/slack/events", "https://x.example/slack/events"),
        (" https://x.example/prod/slack/events/ ", "https://x.example/prod/slack/events"),
    ],
)
def test_events_url_normalizes(given, expected):
    assert events_url(given) == expected


@pytest.mark.parametrize("bad", ["http://x.example", "x.example", "", "https://"])
def test_manifest_refuses_non_https(bad):
    with pytest.raises(ManifestURLError):
        render_manifest(bad)


def test_committed_manifest_is_the_placeholder_render():
    assert yaml.safe_load((INFRA / "slack-manifest.yml").read_text()) == manifest()


def test_socket_mode_manifest_has_no_request_url_and_says_where_the_app_token_comes_from():
    """`python -m bot manifest --socket-mode`: the app `dev --socket-mode` connects as."""
    text = render_manifest(socket_mode=True)
    data = yaml.safe_load(text)
    assert data["settings"]["socket_mode_enabled"] is True
    assert data["settings"]["interactivity"] == {"is_enabled": True}
    assert "url" not in data["features"]["slash_commands"][0] and "request_url" not in text
    assert "connections:write" in text and "xapp-" in text, "the header says how to make SLACK_APP_TOKEN"
    assert data["oauth_config"] == manifest()["oauth_config"], "the same bot scopes either way"
    assert yaml.safe_load((INFRA / "slack-manifest-socket-mode.yml").read_text()) == manifest(socket_mode=True)
    with pytest.raises(ManifestURLError):
        render_manifest()


def test_manifest_subscribes_to_exactly_the_events_the_app_listens_to():
    """An event without a listener gets a 404 from Bolt, and Slack disables failing subscriptions."""
    source = (Path(__file__).resolve().parents[2] / "bot" / "slack" / "app.py").read_text()
    listened = re.findall(r"@app\.event\(\"([a-z_]+)\"\)", source)
    assert (
        sorted(manifest()["settings"]["event_subscriptions"]["bot_events"]) == sorted(listened) == ["app_home_opened"]
    )
