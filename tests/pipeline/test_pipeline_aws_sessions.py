"""bot/aws.py: cross-account clients assume the role with ExternalId and SourceIdentity, and refresh."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.aws import AwsSessions, source_identity
from bot.config import Account, Settings
from bot.errors import AccountNotConfiguredError

ROLE = "arn:aws:iam::210987654321:role/EventOpsRemediation"


def _sessions() -> tuple[AwsSessions, list[dict]]:
    sessions = AwsSessions(
        Settings(aws_region="us-east-1"),
        [Account(id="210987654321", role_arn=ROLE, external_id="ext-123", regions=["eu-west-1"])],
    )
    calls: list[dict] = []
    sessions.client("sts").meta.events.register(
        "provide-client-params.sts.AssumeRole", lambda params, **_: calls.append(dict(params))
    )
    return sessions, calls


def test_member_account_clients_assume_the_role_with_external_id_and_source_identity(aws):
    sessions, calls = _sessions()
    s3 = sessions.client("s3", region="eu-west-1", account="210987654321", identity="U0ALICE")
    s3.list_buckets()
    assert len(calls) == 1
    assert calls[0]["RoleArn"] == ROLE
    assert calls[0]["ExternalId"] == "ext-123"
    assert calls[0]["SourceIdentity"] == "U0ALICE"
    # the bot's own purposes (no account named) use its own credentials
    sessions.client("s3").list_buckets()
    assert len(calls) == 1


def test_an_account_that_is_not_configured_or_has_no_role_never_gets_the_bots_own_credentials(aws):
    sessions = AwsSessions(Settings(aws_region="us-east-1"), [Account(id="123456789012", alias="own")])
    with pytest.raises(AccountNotConfiguredError, match="999999999999 is not configured"):
        sessions.client("ec2", account="999999999999", identity="U0ALICE")
    with pytest.raises(AccountNotConfiguredError, match="not configured"):
        sessions.client("ec2", account="999999999999", read_only=True)
    with pytest.raises(AccountNotConfiguredError, match="123456789012 is configured in EventOps without a role_arn"):
        sessions.client("ec2", account="123456789012", identity="U0ALICE")
    with pytest.raises(AccountNotConfiguredError):
        sessions.client("ec2", account="")  # a proposal without an account is not "the bot's own"


def test_assumed_credentials_are_refreshed_before_they_expire(aws):
    sessions, calls = _sessions()
    s3 = sessions.client("s3", region="eu-west-1", account="210987654321", identity="U0ALICE")
    s3.list_buckets()
    creds = s3._request_signer._credentials
    creds._expiry_time = datetime.now(UTC)  # as if an hour had passed in a warm container
    s3.list_buckets()
    assert len(calls) == 2


def test_source_identity_is_sanitized_for_sts():
    assert source_identity("U0ALICE") == "U0ALICE"
    assert source_identity("bad id!/x") == "bad-id--x"
    assert source_identity("x") == "u-x"


def test_read_only_lookups_use_the_read_role_without_a_source_identity(aws):
    sessions = AwsSessions(
        Settings(aws_region="us-east-1"),
        [
            Account(
                id="210987654321",
                role_arn=ROLE,
                read_role_arn="arn:aws:iam::210987654321:role/eventops-member-read",
                external_id="ext-123",
            )
        ],
    )
    calls: list[dict] = []
    sessions.client("sts").meta.events.register(
        "provide-client-params.sts.AssumeRole", lambda params, **_: calls.append(dict(params))
    )
    sessions.client("ec2", account="210987654321", read_only=True).describe_tags()
    assert calls[0]["RoleArn"].endswith(":role/eventops-member-read")
    assert calls[0]["ExternalId"] == "ext-123" and "SourceIdentity" not in calls[0]
    sessions.client("ec2", account="210987654321", identity="U0ALICE").describe_instances()
    assert calls[1]["RoleArn"] == ROLE
