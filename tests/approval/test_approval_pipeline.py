"""The real thing: an EventBridge event through bot.pipeline, the catalog's remediations, a signed
click through handlers.slack, the job through handlers.worker — moto state, Slack message, audit."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from bot.config import Account, Config, Match, Routing, Rule
from bot.models import Mode, ProposalState
from tests.approval.world import ACCOUNT, ALICE, CHANNEL, build_world, make_policy


def _world(slack, rule: Rule):
    config = Config(
        accounts=[
            Account(
                id=ACCOUNT,
                alias="prod",
                role_arn=f"arn:aws:iam::{ACCOUNT}:role/eventops-member",
                external_id="ext-1234",
            )
        ],
        routing=Routing(rules=[rule]),
        policy=make_policy(),
    )
    return build_world(slack, config)


def _event(events_dir, name: str, replace: dict[str, str]) -> dict:
    text = (events_dir / name).read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    raw = json.loads(text)
    raw["id"] = str(uuid.uuid4())
    return raw


@pytest.fixture
def sg_world(aws, slack, test_remediation):
    rule = Rule(
        name="security-groups",
        match=Match(source=["aws.ec2"]),
        channel=CHANNEL,
        mode=Mode.PROPOSE,
        remediations=["ec2.revoke-ingress"],
    )
    yield _world(slack, rule)
    from handlers import slack as slack_handler
    from handlers import worker

    slack_handler.set_runtime(None)
    worker.set_runtime(None)


def test_revoke_ingress_from_pipeline_message_end_to_end(sg_world, events_dir):
    from bot.pipeline import handle_event

    world = sg_world
    ec2 = boto3.client("ec2", region_name="us-east-1")
    gid = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=gid,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroupRules"]
    [rule_id] = [r["SecurityGroupRuleId"] for r in rules if not r["IsEgress"]]
    raw = _event(
        events_dir,
        "cloudtrail-sg-ingress-open-ssh.json",
        {"sg-0123456789abcdef0": gid, "sgr-0a1b2c3d4e5f6a7b8": rule_id},
    )

    assert handle_event(raw, world.rt) == "posted"
    [message] = world.slack.messages[CHANNEL]
    alert_id = message.metadata["event_payload"]["alert_id"]
    [proposal] = world.rt.store.alert_proposals(alert_id)
    assert proposal.remediation == "ec2.revoke-ingress"
    world.message_ts = message.ts

    resp = world.click("eventops:remediate:ec2.revoke-ingress", proposal.id, ALICE)
    assert resp["statusCode"] == 200
    assert world.sessions.mutations() == []
    world.drain()

    left = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroupRules"]
    assert rule_id not in [r["SecurityGroupRuleId"] for r in left]
    assert world.sessions.mutations() == ["RevokeSecurityGroupIngress"]
    assert world.rt.store.get_proposal(proposal.id).state == ProposalState.SUCCEEDED
    assert "succeeded" in str(world.message().blocks)
    assert any("Revoked ingress" in str(r.blocks) for r in world.replies())
    [entry] = world.audit(proposal.id)
    assert entry.outcome == "SUCCEEDED" and entry.actor.user_id == ALICE and entry.params["group_id"] == gid


def test_revoke_then_rule_added_by_hand_undo_does_not_reopen(sg_world, events_dir):
    """Issue "Locked down" 4, through the click and the worker: after the revoke someone allowed
    SSH from the office by hand; Undo is refused and 0.0.0.0/0:22 stays closed."""
    from bot.pipeline import handle_event

    world = sg_world
    ec2 = boto3.client("ec2", region_name="us-east-1")
    gid = ec2.create_security_group(GroupName="web", Description="web")["GroupId"]
    world_ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    rule_id = ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[world_ssh])["SecurityGroupRules"][0][
        "SecurityGroupRuleId"
    ]
    raw = _event(
        events_dir,
        "cloudtrail-sg-ingress-open-ssh.json",
        {"sg-0123456789abcdef0": gid, "sgr-0a1b2c3d4e5f6a7b8": rule_id},
    )
    assert handle_event(raw, world.rt) == "posted"
    message = world.slack.messages[CHANNEL][0]
    [proposal] = world.rt.store.alert_proposals(message.metadata["event_payload"]["alert_id"])
    world.message_ts = message.ts
    world.click("eventops:remediate:ec2.revoke-ingress", proposal.id, ALICE)
    world.drain()
    assert world.rt.store.get_proposal(proposal.id).state == ProposalState.SUCCEEDED
    office = {**world_ssh, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[office])

    world.click("eventops:undo", proposal.id, ALICE)
    world.drain()

    left = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])["SecurityGroupRules"]
    assert [r["CidrIpv4"] for r in left if not r["IsEgress"]] == ["10.0.0.0/8"]
    assert world.sessions.mutations() == ["RevokeSecurityGroupIngress"]  # no AuthorizeSecurityGroupIngress
    assert world.rt.store.get_proposal(proposal.id).state == ProposalState.SUCCEEDED
    assert "Undo refused: the ingress rules on the revoked ports changed" in str(world.replies()[-1].blocks)
    refused = [e for e in world.audit(proposal.id) if e.outcome == "UNDO_REFUSED"]
    assert len(refused) == 1 and "nothing was changed" in (refused[0].result or "")


@pytest.fixture
def s3_world(aws, slack, test_remediation):
    rule = Rule(
        name="public-buckets",
        match=Match(source=["aws.s3"]),
        channel=CHANNEL,
        mode=Mode.AUTO,
        remediations=["s3.block-public-access"],
    )
    yield _world(slack, rule)
    from handlers import slack as slack_handler
    from handlers import worker

    slack_handler.set_runtime(None)
    worker.set_runtime(None)


def test_auto_mode_blocks_public_bucket_and_offers_undo(s3_world, events_dir):
    from bot.pipeline import handle_event

    world = s3_world
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="customer-exports")
    s3.delete_public_access_block(Bucket="customer-exports")
    raw = _event(events_dir, "cloudtrail-s3-deletepublicaccessblock.json", {})

    assert handle_event(raw, world.rt) == "posted"
    world.message_ts = world.slack.messages[CHANNEL][0].ts
    world.drain()

    conf = s3.get_public_access_block(Bucket="customer-exports")["PublicAccessBlockConfiguration"]
    assert all(conf.values())
    alert_id = world.slack.messages[CHANNEL][0].metadata["event_payload"]["alert_id"]
    [proposal] = world.rt.store.alert_proposals(alert_id)
    final = world.rt.store.get_proposal(proposal.id)
    assert final.state == ProposalState.SUCCEEDED and final.requester.is_system
    reply = world.replies()[-1]
    assert "eventops:undo" in str(reply.blocks)
    [entry] = world.audit(proposal.id)
    assert entry.actor.is_system and entry.outcome == "SUCCEEDED"
