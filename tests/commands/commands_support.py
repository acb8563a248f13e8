"""Fixtures for /ops: a Runtime over moto, actors inside and outside the policy, stubbed services."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from bot.config import Settings, parse_config
from bot.models import Actor
from bot.runtime import Runtime
from bot.store import create_table

TABLE = "eventops-commands-test"
TEAM = "T0ORG"
ALICE = Actor(user_id="UALICE001", team_id=TEAM, user_name="alice")  # may act at every risk
BOB = Actor(user_id="UBOB00001", team_id=TEAM, user_name="bob")  # HIGH approver only
MALLORY = Actor(user_id="UMALLORY1", team_id=TEAM, user_name="mallory")  # nobody's list
OUTSIDER = Actor(user_id="UALICE001", team_id="T0OTHER")  # right id, wrong Slack team
CAROL = "UCAROL001"  # HIGH approver only

POLICY = {
    "teams": [TEAM],
    "tiers": {
        "LOW": {"users": [ALICE.user_id]},
        "MEDIUM": {"users": [ALICE.user_id]},
        # whoever of the two requests, two others can approve (a requester never approves)
        "HIGH": {
            "users": [ALICE.user_id, BOB.user_id],
            "approvers": [ALICE.user_id, BOB.user_id, CAROL],
            "approvals": 2,
        },
    },
}


class StubbedSessions:
    """Real (moto) clients, except for services a test stubs with botocore's Stubber."""

    def __init__(self, real: Any, stubs: dict[str, Callable[[str, str | None], Any]]) -> None:
        self.real = real
        self.stubs = stubs
        self.calls: list[tuple[str, str | None, str | None]] = []

    @property
    def base(self) -> Any:
        return self.real.base

    def client(
        self,
        service: str,
        region: str | None = None,
        account: str | None = None,
        identity: str | None = None,
        read_only: bool = False,
    ):
        self.calls.append((service, region, account))
        if service in self.stubs:
            return self.stubs[service](region or "us-east-1", account)
        return self.real.client(service, region=region, account=account, identity=identity, read_only=read_only)


def raw_client(service: str, region: str = "us-east-1") -> Any:
    return boto3.session.Session().client(service, region_name=region)


def build_rt(config: dict[str, Any] | None = None, **settings: Any) -> Runtime:
    """A Runtime on the active moto mock, with the table created."""
    data = {"policy": POLICY, **(config or {})}
    rt = Runtime(
        settings=Settings(
            table_name=TABLE,
            aws_region="us-east-1",
            slack_bot_token="xoxb-test",
            slack_signing_secret="test-signing-secret",
            **settings,
        ),
        config=parse_config(data, "test"),
    )
    create_table(rt.sessions.client("dynamodb"), TABLE)
    return rt


@pytest.fixture(scope="module")
def shared_rt() -> Iterator[Runtime]:
    """One Runtime for a whole module of tests that only read (parsing, help, refusals): faster."""
    from moto import mock_aws

    with mock_aws():
        yield build_rt()


@pytest.fixture
def make_rt(aws) -> Callable[..., Runtime]:
    """``make_rt(config_dict)`` → a Runtime on moto with the table created."""

    def make(config: dict[str, Any] | None = None, **settings: Any) -> Runtime:
        return build_rt(config, **settings)

    return make


@pytest.fixture
def rt(make_rt) -> Runtime:
    return make_rt()


def texts(reply: Any) -> str:
    """Everything a person would read in a reply: fallback text and every block's text."""
    out = [reply.text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                out.append(node["text"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(reply.blocks or [])
    return "\n".join(out)
