"""S3, IAM, CloudTrail, KMS, ECS, Lambda and Auto Scaling specifics beyond the shared behaviour tests."""

from __future__ import annotations

from remediation_fakes import make_alert, make_ctx
from remediation_scenarios import cancel_key_deletion, make_group, make_user_key

from bot.models import ProposalState, Resource
from bot.remediations import remediations, run, run_undo


def test_s3_undo_restores_a_partial_prior_configuration(factory, ctx):
    s3 = factory.admin("s3")
    s3.create_bucket(Bucket="half-open")
    prior = {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": False,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": False,
    }
    s3.put_public_access_block(Bucket="half-open", PublicAccessBlockConfiguration=prior)
    rem = remediations["s3.block-public-access"]
    done = run(rem, ctx, {"bucket": "half-open"})
    assert done.state == ProposalState.SUCCEEDED
    undone = run_undo(rem, make_ctx(factory), {"bucket": "half-open"}, done.pre_state, done.post_state)
    assert undone.state == ProposalState.UNDONE
    assert s3.get_public_access_block(Bucket="half-open")["PublicAccessBlockConfiguration"] == prior


def test_iam_revokes_sessions_older_than_the_run(factory):
    key = make_user_key(factory, "ci-bot")
    ctx = make_ctx(factory, now_iso="2026-03-01T12:00:00Z")
    outcome = run(remediations["iam.deactivate-access-key"], ctx, {"user_name": "ci-bot", "access_key_id": key})
    assert outcome.state == ProposalState.SUCCEEDED
    doc = factory.admin("iam").get_user_policy(UserName="ci-bot", PolicyName="EventOpsRevokeOlderSessions")
    stmt = doc["PolicyDocument"]["Statement"][0]
    assert stmt == {
        "Sid": "EventOpsRevokeOlderSessions",
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-03-01T12:00:00Z"}},
    }
    assert "not only this key's" in outcome.message


def test_iam_applies_to_needs_the_user_and_a_long_term_key():
    rem = remediations["iam.deactivate-access-key"]
    key = Resource(type="AwsIamAccessKey", id="AKIAIOSFODNN7EXAMPLE")
    ctx = {"access_key": {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "user_name": "ci-bot"}}
    assert rem.applies_to(make_alert([key], ctx)) == {"user_name": "ci-bot", "access_key_id": "AKIAIOSFODNN7EXAMPLE"}
    assert rem.applies_to(make_alert([key])) is None  # no user name in context
    sts = {"access_key": {"access_key_id": "ASIAIOSFODNN7EXAMPLE", "user_name": "ci-bot"}}
    assert rem.applies_to(make_alert([], sts)) is None  # session credentials cannot be deactivated


def test_kms_cancel_leaves_the_key_disabled_and_says_so(factory, ctx):
    sc = cancel_key_deletion(factory)
    outcome = run(remediations["kms.cancel-key-deletion"], ctx, sc.params)
    assert outcome.state == ProposalState.SUCCEEDED
    assert outcome.post_state["key_state"] == "Disabled"
    assert "Disabled" in outcome.message and "kms:EnableKey" in outcome.message


def test_asg_refuses_a_capacity_outside_the_group_limits(factory, ctx):
    make_group(factory, "web")
    outcome = run(remediations["autoscaling.set-desired-capacity"], ctx, {"group_name": "web", "desired": 9})
    assert outcome.state == ProposalState.FAILED and "outside the size" in outcome.message
    assert factory.mutations() == []


def test_asg_without_desired_scales_to_the_minimum(factory, ctx):
    make_group(factory, "web")
    rem = remediations["autoscaling.set-desired-capacity"]
    assert rem.applies_to(make_alert([Resource(type="AwsAutoScalingAutoScalingGroup", id="web")])) == {
        "group_name": "web"
    }
    assert rem.plan({"group_name": "web"}, region="us-east-1") == [
        "Would set the desired capacity of Auto Scaling group web to its minimum size in us-east-1"
    ]
    outcome = run(rem, ctx, {"group_name": "web"})
    assert outcome.state == ProposalState.SUCCEEDED and outcome.post_state["desired"] == 0


def test_applies_to_per_contract():
    cases = {
        "s3.block-public-access": (make_alert([Resource(type="AwsS3Bucket", id="b-1")]), {"bucket": "b-1"}),
        "cloudtrail.start-logging": (make_alert([], {"trail": {"name": "org"}}), {"trail": "org"}),
        "kms.cancel-key-deletion": (make_alert([], {"kms": {"key_id": "k-1"}}), {"key_id": "k-1"}),
        "ecs.force-new-deployment": (
            make_alert([Resource(type="AwsEcsService", id="web")], {"ecs": {"cluster": "prod", "service": "web"}}),
            {"cluster": "prod", "service": "web"},
        ),
        "lambda.throttle-function": (make_alert([Resource(type="AwsLambdaFunction", id="f")]), {"function_name": "f"}),
    }
    empty = make_alert([Resource(type="AwsCloudWatchAlarm", id="cpu-high")])
    for name, (alert, expected) in cases.items():
        assert remediations[name].applies_to(alert) == expected, name
        assert remediations[name].applies_to(empty) is None, name
