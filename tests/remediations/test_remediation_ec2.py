"""EC2 specifics: dry-run refusal, the reboot's limits, the quarantine group, rules restored by undo."""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse
from remediation_fakes import fake_error, make_alert, make_ctx
from remediation_scenarios import instance, instance_state, isolate_instance, make_instance, open_group, revoke_ingress

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
    }


def test_plan_sentences():
    assert remediations["ec2.stop-instance"].plan({"instance_id": "i-0abc1234def567890"}, region="eu-west-1") == [
        "Would stop i-0abc1234def567890 in eu-west-1"
    ]
