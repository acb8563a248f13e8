"""Deployed safely: what the packaged template does against floods, data loss and public buckets.

- The public Slack function has reserved concurrency and the HTTP API throttles every route, so a
  flood of requests to the one public URL cannot take the account's concurrency from notify and
  worker (docs/reliability.md #6: alerts and jobs still flow).
- The HTTP API writes JSON access logs with the functions' retention.
- osls' deployment bucket blocks public access and keeps versions.
- Every stateful resource (tables, queues, DLQs) survives a stack removal or replacement.
- cfn-lint finds nothing in the template (the same check as ``make package``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.config_docs import deploy_params

ROOT = Path(__file__).resolve().parents[2]
PARAMS = deploy_params()

# Resources that hold data: removing the stack or replacing the resource must not delete them.
STATEFUL_TYPES = {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::S3::Bucket"}
# osls' artifact bucket holds only build artifacts it re-uploads on every deploy; `osls remove`
# empties and deletes it, and retaining it would leave an orphaned bucket after each removal.
NOT_RETAINED = {"ServerlessDeploymentBucket": "osls build artifacts, re-uploaded by every deploy"}


def _resources(template: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == rtype}


def test_slack_function_has_reserved_concurrency(packaged_template):
    functions = _resources(packaged_template, "AWS::Lambda::Function")
    assert PARAMS["slackConcurrency"] == 20
    assert functions["SlackLambdaFunction"]["Properties"]["ReservedConcurrentExecutions"] == 20
    # notify and worker are paced by their SQS event sources, and draw on the unreserved pool.
    for name in ("NotifyLambdaFunction", "WorkerLambdaFunction"):
        assert "ReservedConcurrentExecutions" not in functions[name]["Properties"], name
    mappings = [m["Properties"] for m in _resources(packaged_template, "AWS::Lambda::EventSourceMapping").values()]
    assert all(m["ScalingConfig"]["MaximumConcurrency"] <= 5 for m in mappings)


def test_http_api_throttles_every_route(packaged_template):
    (stage,) = _resources(packaged_template, "AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] == PARAMS["httpApiRateLimit"] == 25
    assert settings["ThrottlingBurstLimit"] == PARAMS["httpApiBurstLimit"] == 50
    assert settings["DetailedMetricsEnabled"] is False
    # No route overrides the default settings.
    assert "RouteSettings" not in stage["Properties"]


def test_http_api_access_logs_are_json_with_retention(packaged_template):
    (stage,) = _resources(packaged_template, "AWS::ApiGatewayV2::Stage").values()
    access = stage["Properties"]["AccessLogSettings"]
    (group_id, attr) = access["DestinationArn"]["Fn::GetAtt"]
    assert attr == "Arn"
    group = packaged_template["Resources"][group_id]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == PARAMS["logRetentionDays"]
    fields = json.loads(access["Format"])
    assert {"requestId", "ip", "routeKey", "status", "responseLatency"} <= set(fields)
    assert fields["ip"] == "$context.identity.sourceIp"
    assert all(v.startswith("$context.") for v in fields.values())


def test_deployment_bucket_blocks_public_access_and_is_versioned(packaged_template):
    bucket = packaged_template["Resources"]["ServerlessDeploymentBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]


def test_stateful_resources_are_retained(packaged_template):
    stateful = {k: v for k, v in packaged_template["Resources"].items() if v["Type"] in STATEFUL_TYPES}
    assert {"Table", "AuditTable", "AlertsQueue", "AlertsDeadLetterQueue", "JobsQueue", "JobsDeadLetterQueue"} <= set(
        stateful
    )
    offenders = [
        name
        for name, res in stateful.items()
        if name not in NOT_RETAINED
        and (res.get("DeletionPolicy"), res.get("UpdateReplacePolicy")) != ("Retain", "Retain")
    ]
    assert not offenders, f"stateful resources without DeletionPolicy and UpdateReplacePolicy Retain: {offenders}"
    assert set(NOT_RETAINED) <= set(stateful), "NOT_RETAINED names a resource the template no longer has"


def test_every_deploy_parameter_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    deploy = readme[readme.index("## Deploy") :]
    missing = [name for name in PARAMS if f"`{name}`" not in deploy]
    assert not missing, f'README "Deploy" does not mention: {missing}'


def test_cfn_lint_is_clean(packaged_template, tmp_path):
    """The check ``make package`` runs (make/deploy.mk), warnings included; W3005 is osls' own
    redundant DependsOn."""
    path = tmp_path / "template.json"
    path.write_text(json.dumps(packaged_template))
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), "--ignore-checks", "W3005", "--", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
