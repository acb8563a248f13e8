"""EC2 specifics: dry-run refusal, the reboot's limits, the quarantine group, rules restored by undo."""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse
from remediation_fakes import fake_error, make_alert, make_ctx
from remediation_scenarios import (
    EXEMPT,
    allow,
    ingress,
    instance,
    instance_state,
    isolate_instance,
    make_instance,
    open_group,
    revoke_ingress,
)

from bot.models import ProposalState, Resource
from bot.remediations import remediations, run, run_undo


def test_dry_run_unauthorized_refuses_before_any_change(factory, ctx):
    iid = make_instance(factory)
    fake_error(factory.client("ec2"), "StopInstances", "UnauthorizedOperation", "You are not authorized")
    outcome = run(remediations["ec2.stop-instance"], ctx, {"instance_id": iid})
    assert outcome.state == ProposalState.FAILED
    assert "not allowed to call ec2:StopInstances" in outcome.message and "UnauthorizedOperation" in outcome.message
    assert instance_state(factory, iid) == "running"
    # the only StopInstances call made was the dry run
    assert [p.get("DryRun") for s, op, p in factory.calls if op == "StopInstances"] == [True]


def test_check_dry_run_says_ok_and_changes_nothing(factory, ctx):
    iid = make_instance(factory)
    rem = remediations["ec2.terminate-instance"]
    assert rem.check_dry_run(ctx, rem.parse_params({"instance_id": iid})) == "dry run OK: TerminateInstances"
    assert instance_state(factory, iid) == "running"


def test_reboot_verifies_running_and_accepted(factory, ctx):
    iid = make_instance(factory)
    outcome = run(remediations["ec2.reboot-instance"], ctx, {"instance_id": iid})
    assert outcome.state == ProposalState.SUCCEEDED
    assert outcome.post_state["reboot_accepted"] is True and outcome.post_state["state"] == "running"
    assert "does not show the reboot itself" in outcome.message  # the documented limitation
    # the note is consumed: the next run starts from "not rebooted"
    again = run(remediations["ec2.reboot-instance"], ctx, {"instance_id": iid})
    assert again.state == ProposalState.SUCCEEDED and again.pre_state["reboot_accepted"] is False


def test_reboot_verification_catches_an_instance_that_did_not_come_back(factory, ctx):
    iid = make_instance(factory)
    client = factory.client("ec2")

    def lose_it(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if params["body"].get("DryRun") == "true":
            return None
        factory.admin("ec2").stop_instances(InstanceIds=[iid])
        return AWSResponse("https://fake", 200, {}, None), {}

    client.meta.events.register_first("before-call.ec2.RebootInstances", lose_it)
    outcome = run(remediations["ec2.reboot-instance"], ctx, {"instance_id": iid})
    assert outcome.state == ProposalState.FAILED and "verification" in outcome.message


def test_reboot_of_stopped_instance_is_refused(factory, ctx):
    iid = make_instance(factory, stopped=True)
    outcome = run(remediations["ec2.reboot-instance"], ctx, {"instance_id": iid})
    assert outcome.state == ProposalState.FAILED and "only a running instance reboots" in outcome.message
    assert factory.mutations() == []


def test_isolate_reuses_one_quarantine_group_per_vpc(factory, ctx):
    sc = isolate_instance(factory)
    other = make_instance(factory)
    first = run(remediations["ec2.isolate-instance"], ctx, sc.params)
    second = run(remediations["ec2.isolate-instance"], make_ctx(factory), {"instance_id": other})
    assert first.state == second.state == ProposalState.SUCCEEDED
    assert "established connections may survive" in first.message
    assert first.post_state["quarantine_group_id"] == second.post_state["quarantine_group_id"]
    assert [op for _, op, _ in factory.calls].count("CreateSecurityGroup") == 1


def test_isolate_closes_a_quarantine_group_someone_opened(factory, ctx):
    sc = isolate_instance(factory)
    assert run(remediations["ec2.isolate-instance"], ctx, sc.params).state == ProposalState.SUCCEEDED
    qid = instance(factory, sc.params["instance_id"])["NetworkInterfaces"][0]["Groups"][0]["GroupId"]
    factory.admin("ec2").authorize_security_group_ingress(
        GroupId=qid,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    again = run(remediations["ec2.isolate-instance"], make_ctx(factory), sc.params)
    assert again.state == ProposalState.SUCCEEDED and again.pre_state["quarantine_rule_count"] == 1
    sc.changed()


def test_revoke_undo_then_revoke_again_finds_the_restored_rule(factory, ctx):
    sc = revoke_ingress(factory)
    rem = remediations["ec2.revoke-ingress"]
    done = run(rem, ctx, sc.params)
    undone = run_undo(rem, make_ctx(factory), sc.params, done.pre_state, done.post_state)
    assert undone.state == ProposalState.UNDONE
    again = run(rem, make_ctx(factory), sc.params)
    assert again.state == ProposalState.SUCCEEDED, again.message
    sc.changed()


def test_revoke_ignores_other_rules_of_the_group(factory, ctx):
    gid, rule = open_group(factory)
    keep = factory.admin("ec2").authorize_security_group_ingress(
        GroupId=gid,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    assert (
        run(remediations["ec2.revoke-ingress"], ctx, {"group_id": gid, "rule_ids": [rule]}).state
        == ProposalState.SUCCEEDED
    )
    rules = factory.admin("ec2").describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])
    assert [r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"] if not r["IsEgress"]] == [keep]


def _world_rules(factory, gid: str) -> list[tuple[Any, ...]]:
    """The group's ingress rules open to the world, as (protocol, from, to, cidr, description)."""
    return sorted(
        (r["IpProtocol"], r["FromPort"], r["ToPort"], r.get("CidrIpv4") or r.get("CidrIpv6"), r.get("Description"))
        for r in ingress(factory, gid)
        if r.get("CidrIpv4") == "0.0.0.0/0" or r.get("CidrIpv6") == "::/0"
    )


def test_revoke_catches_a_re_added_rule_with_a_new_id(factory, ctx):
    """Issue "Locked down" 5: the rule re-added by hand has a new id; port 22 is still world-open."""
    gid, rule = open_group(factory)
    rem = remediations["ec2.revoke-ingress"]
    assert run(rem, ctx, {"group_id": gid, "rule_ids": [rule]}).state == ProposalState.SUCCEEDED
    again = allow(factory, gid, 22, "0.0.0.0/0")
    assert again != rule
    outcome = run(rem, make_ctx(factory), {"group_id": gid, "rule_ids": [rule]})
    assert outcome.state == ProposalState.SUCCEEDED, outcome.message  # not "Already compliant"
    assert again in outcome.message
    assert ingress(factory, gid) == []


def test_revoke_every_world_rule_reaching_the_port_and_undo_restores_exactly_those(factory, ctx):
    gid, rule = open_group(factory)  # tcp 22 from 0.0.0.0/0, "ssh": the rule the alert names
    allow(factory, gid, 22, "::/0")
    allow(factory, gid, 0, "0.0.0.0/0", high=65535)
    kept = sorted([allow(factory, gid, 22, "10.0.0.0/8"), allow(factory, gid, 443, "0.0.0.0/0")])
    opened = _world_rules(factory, gid)
    rem = remediations["ec2.revoke-ingress"]
    done = run(rem, ctx, {"group_id": gid, "rule_ids": [rule]})
    assert done.state == ProposalState.SUCCEEDED, done.message
    assert sorted(r["SecurityGroupRuleId"] for r in ingress(factory, gid)) == kept
    assert _world_rules(factory, gid) == [("tcp", 443, 443, "0.0.0.0/0", None)]  # 443 is not the alert's port
    undone = run_undo(rem, make_ctx(factory), {"group_id": gid, "rule_ids": [rule]}, done.pre_state, done.post_state)
    assert undone.state == ProposalState.UNDONE, undone.message
    assert _world_rules(factory, gid) == opened


def test_revoke_undo_refused_when_the_port_was_reopened_by_hand(factory, ctx):
    gid, rule = open_group(factory)
    rem = remediations["ec2.revoke-ingress"]
    params = {"group_id": gid, "rule_ids": [rule]}
    done = run(rem, ctx, params)
    by_hand = allow(factory, gid, 22, "::/0")
    before = len(factory.mutations())
    undone = run_undo(rem, make_ctx(factory), params, done.pre_state, done.post_state)
    assert undone.state == ProposalState.FAILED
    assert undone.message.startswith("Undo refused:") and by_hand in undone.message
    assert len(factory.mutations()) == before
    assert _world_rules(factory, gid) == [("tcp", 22, 22, "::/0", None)]  # 0.0.0.0/0 was not re-opened


def test_revoke_undo_refused_when_a_narrower_rule_replaced_the_open_one(factory, ctx):
    """Issue "Locked down" 4: someone allowed SSH from the office by hand; undo must not re-open 0.0.0.0/0."""
    gid, rule = open_group(factory)
    rem = remediations["ec2.revoke-ingress"]
    params = {"group_id": gid, "rule_ids": [rule]}
    done = run(rem, ctx, params)
    office = allow(factory, gid, 22, "10.0.0.0/8")
    undone = run_undo(rem, make_ctx(factory), params, done.pre_state, done.post_state)
    assert undone.state == ProposalState.FAILED
    assert undone.message == (
        f"Undo refused: the ingress rules on the revoked ports changed since the revoke (added {office}); "
        "nothing was changed"
    )
    assert [r["SecurityGroupRuleId"] for r in ingress(factory, gid)] == [office]


def test_revoke_undo_ignores_rules_on_other_ports(factory, ctx):
    gid, rule = open_group(factory)
    rem = remediations["ec2.revoke-ingress"]
    params = {"group_id": gid, "rule_ids": [rule]}
    done = run(rem, ctx, params)
    allow(factory, gid, 443, "10.0.0.0/8")  # harmless: undo puts back nothing on 443
    factory.admin("ec2").create_tags(Resources=[gid], Tags=[{"Key": "team", "Value": "web"}])  # tags too
    undone = run_undo(rem, make_ctx(factory), params, done.pre_state, done.post_state)
    assert undone.state == ProposalState.UNDONE, undone.message
    assert _world_rules(factory, gid) == [("tcp", 22, 22, "0.0.0.0/0", "ssh")]


def test_stop_then_tagged_exempt_undo_leaves_the_instance_stopped(factory, ctx):
    """Issue "Locked down" 4: Stop → someone tags the instance exempt → Undo must not start it."""
    iid = make_instance(factory)
    rem = remediations["ec2.stop-instance"]
    done = run(rem, ctx, {"instance_id": iid})
    factory.admin("ec2").create_tags(Resources=[iid], Tags=[EXEMPT])
    undone = run_undo(rem, make_ctx(factory), {"instance_id": iid}, done.pre_state, done.post_state)
    assert undone.state == ProposalState.FAILED
    assert "eventops:exempt=true" in undone.message and undone.message.startswith("Undo refused:")
    assert instance_state(factory, iid) == "stopped"
    assert "ec2:StartInstances" not in factory.mutations()


def test_undo_without_a_recorded_post_state_refuses_when_the_change_is_gone(factory, ctx):
    iid = make_instance(factory)
    rem = remediations["ec2.stop-instance"]
    done = run(rem, ctx, {"instance_id": iid})
    factory.admin("ec2").start_instances(InstanceIds=[iid])
    undone = run_undo(rem, make_ctx(factory), {"instance_id": iid}, done.pre_state, None)
    assert undone.state == ProposalState.FAILED
    assert undone.message == "Undo refused: the change is no longer in place; nothing was changed"


def test_applies_to_reads_only_resources_and_context():
    inst = Resource(type="AwsEc2Instance", id="i-0abc1234def567890")
    sg = Resource(type="AwsEc2SecurityGroup", id="sg-0abc1234def567890")
    vol = Resource(type="AwsEc2Volume", id="vol-0abc1234def567890")
    for name in (
        "ec2.stop-instance",
        "ec2.start-instance",
        "ec2.reboot-instance",
        "ec2.terminate-instance",
        "ec2.isolate-instance",
    ):
        assert remediations[name].applies_to(make_alert([inst])) == {"instance_id": inst.id}
        assert remediations[name].applies_to(make_alert([sg])) is None
    assert remediations["ec2.snapshot-volumes"].applies_to(make_alert([vol])) == {"volume_ids": [vol.id]}
    revoke = remediations["ec2.revoke-ingress"]
    assert revoke.applies_to(make_alert([sg])) is None  # no rule ids: nothing precise to revoke
    assert revoke.applies_to(make_alert([sg], {"security_group_rule_ids": ["sgr-0abc1234def567890"]})) == {
        "group_id": sg.id,
        "rule_ids": ["sgr-0abc1234def567890"],
        "ports": [22],  # no open_ingress in the alert: SSH
    }
    rdp = {"protocol": "tcp", "from_port": 3389, "to_port": 3389, "cidr": "::/0", "group_id": sg.id}
    ctx = {"security_group_rule_ids": ["sgr-0abc1234def567890"], "open_ingress": [rdp]}
    assert revoke.applies_to(make_alert([sg], ctx))["ports"] == [3389]


def test_plan_sentences():
    assert remediations["ec2.stop-instance"].plan({"instance_id": "i-0abc1234def567890"}, region="eu-west-1") == [
        "Would stop i-0abc1234def567890 in eu-west-1"
    ]
