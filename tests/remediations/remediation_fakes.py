"""Fakes for remediation tests: a recording client factory over moto, and ways to make one AWS
operation lie (answer OK without doing anything) or fail.

Example::

    factory = RecordingFactory()
    ctx = make_ctx(factory)
    fake_success(factory.client("ec2"), "StopInstances", {"StoppingInstances": []})
    run(remediations["ec2.stop-instance"], ctx, {"instance_id": iid})   # → FAILED: verification
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from bot.models import Actor, Alert, Resource
from bot.remediations import remediations
from bot.remediations.base import RemediationContext

ACCOUNT = "123456789012"
REGION = "us-east-1"

# API operation → IAM action where the names differ.
IAM_ACTION_OVERRIDES = {
    "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "s3:PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "s3:DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "s3:GetBucketTagging": "s3:GetBucketTagging",
}
# IAM prefix → boto3 client name, where they differ (CloudWatch's client is "monitoring").
BOTO3_CLIENT = {"cloudwatch": "monitoring"}


def catalog_services() -> set[str]:
    """The IAM prefixes of every permission the registry declares: ``{"ec2", "s3", ...}``."""
    return {perm.split(":", 1)[0] for rem in remediations.values() for perm in rem.permissions}


# boto3 client name → IAM prefix, for every service the catalog declares permissions on; a call
# to any other service has no IAM action here (KeyError), so a scenario cannot use it unnoticed.
IAM_PREFIX = {BOTO3_CLIENT.get(prefix, prefix): prefix for prefix in sorted(catalog_services())}


def iam_actions(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """IAM actions one API call needs: ``("s3", "PutPublicAccessBlock")`` → s3:PutBucketPublicAccessBlock."""
    raw = f"{IAM_PREFIX[service]}:{operation}"
    actions = [IAM_ACTION_OVERRIDES.get(raw, raw)]
    # Tagging on create is authorized as ec2:CreateTags too.
    if service == "ec2" and params.get("TagSpecifications"):
        actions.append("ec2:CreateTags")
    return actions


_SESSION: boto3.session.Session | None = None


def shared_session() -> boto3.session.Session:
    """One botocore session for every test: it caches the parsed service models (EC2's costs ~1 s)."""
    global _SESSION
    if _SESSION is None:
        _SESSION = boto3.session.Session(region_name=REGION)
    return _SESSION


class RecordingFactory:
    """A ``ClientFactory`` over boto3 (moto when mocked) that records every operation its clients call."""

    def __init__(self, region: str = REGION) -> None:
        self.region = region
        self.session = shared_session()
        self._clients: dict[tuple[str, str], Any] = {}
        self._admin: dict[str, Any] = {}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def client(
        self, service: str, region: str | None = None, account: str | None = None, identity: str | None = None
    ) -> Any:
        key = (service, region or self.region)
        if key not in self._clients:
            client = self.session.client(service, region_name=key[1])

            def record(params: dict[str, Any], model: Any, _service: str = service, **_: Any) -> None:
                self.calls.append((_service, model.name, dict(params)))

            client.meta.events.register_first("before-parameter-build.*.*", record)
            self._clients[key] = client
        return self._clients[key]

    def admin(self, service: str) -> Any:
        """An unrecorded client for arranging a test's world."""
        if service not in self._admin:
            self._admin[service] = self.session.client(service, region_name=self.region)
        return self._admin[service]

    def operations(self) -> list[str]:
        return [f"{s}:{op}" for s, op, _ in self.calls]

    def actions(self) -> set[str]:
        return {a for s, op, params in self.calls for a in iam_actions(s, op, params)}

    def mutations(self) -> list[str]:
        readers = ("Describe", "Get", "List")
        return [f"{s}:{op}" for s, op, params in self.calls if not op.startswith(readers) and not params.get("DryRun")]


def make_ctx(factory: RecordingFactory, user: str = "U0TEST", now_iso: str | None = None) -> RemediationContext:
    return RemediationContext(
        sessions=factory, account=ACCOUNT, region=REGION, actor=Actor(user_id=user), now_iso=now_iso
    )


def _event_name(client: Any, operation: str) -> str:
    return f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"


def fake_success(client: Any, operation: str, response: dict[str, Any] | None = None) -> None:
    """Make ``operation`` answer 200 with ``response`` and do nothing (dry runs still reach moto)."""

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        body = params.get("body")
        if isinstance(body, dict) and str(body.get("DryRun", "")).lower() == "true":
            return None
        return AWSResponse("https://fake", 200, {}, None), dict(response or {})

    client.meta.events.register_first(_event_name(client, operation), answer)


def fake_error(client: Any, operation: str, code: str, message: str = "", status: int = 403) -> None:
    """Make ``operation`` fail with ``code`` (e.g. UnauthorizedOperation on a dry run)."""

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = {"Error": {"Code": code, "Message": message or code}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("https://fake", status, {}, None), parsed

    client.meta.events.register_first(_event_name(client, operation), answer)


def make_alert(resources: list[Resource] | None = None, context: dict[str, Any] | None = None, **kw: Any) -> Alert:
    return Alert(
        id=kw.pop("id", "evt-1"),
        fingerprint="f" * 32,
        source_kind=kw.pop("source_kind", "test"),
        source="aws.test",
        detail_type="Test",
        title="test alert",
        account=ACCOUNT,
        region=REGION,
        resources=resources or [],
        context=context or {},
        **kw,
    )
