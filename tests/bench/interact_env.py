"""The interactive world for benchmarks and fault/canary tests: tests/interact/conftest.py's
builders (moto DynamoDB + SQS jobs queue with DLQ + EC2, the Slack fake, signed requests)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto import mock_aws

from bot.config import Account, BlastRadius, Config
from bot.remediations.base import remediations
from bot.sandbox.slack_fake import SlackFake
from tests.interact.conftest import (
    ACCOUNT,
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    DAVE,
    MALLORY,
    REGION,
    TEAM,
    TEST_REMEDIATION,
    TOKEN,
    World,
    _StopInstanceForTests,
    build_world,
    http_event,
    make_policy,
)

REMEDIATE = f"eventops:remediate:{TEST_REMEDIATION}"


def config(**overrides: Any) -> Config:
    base: dict[str, Any] = {
        "accounts": [
            Account(
                id=ACCOUNT,
                alias="prod",
                role_arn=f"arn:aws:iam::{ACCOUNT}:role/eventops-member",
                external_id="ext-1234",
                regions=[REGION],
            )
        ],
        "policy": make_policy(),
        "blast_radius": BlastRadius(max_executions_per_account_per_hour=100_000),
    }
    base.update(overrides)
    return Config(**base)


@contextmanager
def interact_world(cfg: Config | None = None, *, token: str = TOKEN) -> Iterator[World]:
    """A World (see tests/interact/conftest.py) with the stand-in stop remediation registered."""
    added = TEST_REMEDIATION not in remediations
    if added:
        remediations.add(TEST_REMEDIATION, _StopInstanceForTests())
    try:
        with mock_aws(), SlackFake(rate_limit=False, bot_token=token) as slack:
            for uid in (ALICE, BOB, CAROL, DAVE, MALLORY):
                slack.workspace.add_user(uid, uid.removeprefix("U0").lower())
            world = build_world(slack, cfg or config())
            try:
                yield world
            finally:
                from handlers import slack as slack_handler
                from handlers import worker

                slack_handler.set_runtime(None)
                worker.set_runtime(None)
    finally:
        if added:
            remediations._items.pop(TEST_REMEDIATION, None)


def new_instance(world: World) -> str:
    from tests.interact.conftest import EXAMPLE_AMI

    return world.ec2.run_instances(ImageId=EXAMPLE_AMI, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]


def command_event(text: str, user: str = ALICE, response_url: str | None = None, **kw: Any) -> dict[str, Any]:
    """A signed ``/ops`` slash command as API Gateway v2 delivers it."""
    fields = {
        "command": "/ops",
        "text": text,
        "user_id": user,
        "user_name": user.removeprefix("U0").lower(),
        "team_id": TEAM,
        "channel_id": CHANNEL,
        "trigger_id": "1.2.3",
    }
    if response_url:
        fields["response_url"] = response_url
    return http_event(urllib.parse.urlencode(fields), **kw)


__all__ = [
    "ACCOUNT",
    "ALICE",
    "BOB",
    "CAROL",
    "CHANNEL",
    "DAVE",
    "MALLORY",
    "REGION",
    "REMEDIATE",
    "TEAM",
    "World",
    "command_event",
    "config",
    "http_event",
    "interact_world",
    "new_instance",
]
