"""Security Hub, GuardDuty and SSM Automation: APIs moto lacks, scripted with botocore's Stubber.

These findings and runbooks carry no resource tags, so the exempt-tag check does not apply.
"""

from __future__ import annotations

from botocore.stub import Stubber
from remediation_fakes import make_alert, make_ctx
from remediation_scenarios import (
    DETECTOR,
    EXECUTION,
    GD_FINDING,
    HUB_FINDING_ID,
    HUB_PRODUCT,
    archive_finding,
    gd_get,
    hub_get,
    hub_update,
    set_workflow_status,
    ssm_document,
    ssm_execution,
)

from bot.config import Runbook
from bot.models import ProposalState, Resource
from bot.remediations import remediations, run, run_undo
from bot.remediations.ssm import configure_runbooks, render_template

HUB = {"finding_id": HUB_FINDING_ID, "product_arn": HUB_PRODUCT, "status": "RESOLVED"}
GD = {"detector_id": DETECTOR, "finding_id": GD_FINDING}


def stub(factory, service: str) -> Stubber:
    return Stubber(factory.client(service))


# --- Security Hub -----------------------------------------------------------------------------


def test_hub_happy_then_undo(factory, ctx):
    sc = set_workflow_status(factory)
    rem = remediations["securityhub.set-workflow-status"]
    done = run(rem, ctx, sc.params)
    assert done.state == ProposalState.SUCCEEDED and done.post_state["workflow_status"] == "RESOLVED"
    undone = run_undo(rem, make_ctx(factory), sc.params, done.pre_state, done.post_state)
    assert undone.state == ProposalState.UNDONE
    sc.stubbers[0].assert_no_pending_responses()


def test_hub_already_resolved_is_noop(factory, ctx):
    s = stub(factory, "securityhub")
    hub_get(s, "RESOLVED")
    with s:
        assert run(remediations["securityhub.set-workflow-status"], ctx, HUB).state == ProposalState.NOOP
        s.assert_no_pending_responses()


def test_hub_finding_gone(factory, ctx):
    s = stub(factory, "securityhub")
    s.add_response("get_findings", {"Findings": []})
    with s:
        outcome = run(remediations["securityhub.set-workflow-status"], ctx, HUB)
    assert outcome.state == ProposalState.FAILED and "does not exist" in outcome.message


def test_hub_ok_that_changed_nothing_is_failed(factory, ctx):
    s = stub(factory, "securityhub")
    hub_get(s, "NEW")
    hub_update(s, "RESOLVED")
    hub_get(s, "NEW")
    with s:
        outcome = run(remediations["securityhub.set-workflow-status"], ctx, HUB)
    assert outcome.state == ProposalState.FAILED and "verification" in outcome.message


def test_hub_unprocessed_finding_is_failed(factory, ctx):
    s = stub(factory, "securityhub")
    hub_get(s, "NEW")
    s.add_response(
        "batch_update_findings",
        {
            "ProcessedFindings": [],
            "UnprocessedFindings": [
                {
                    "FindingIdentifier": {"Id": HUB_FINDING_ID, "ProductArn": HUB_PRODUCT},
                    "ErrorCode": "FindingNotFound",
                    "ErrorMessage": "gone",
                }
            ],
        },
    )
    with s:
        outcome = run(remediations["securityhub.set-workflow-status"], ctx, HUB)
    assert outcome.state == ProposalState.FAILED and "FindingNotFound" in outcome.message


def test_hub_undo_refused_after_drift(factory, ctx):
    s = stub(factory, "securityhub")
    hub_get(s, "NOTIFIED")  # someone moved it on since
    with s:
        outcome = run_undo(
            remediations["securityhub.set-workflow-status"],
            ctx,
            HUB,
            {"finding_id": HUB_FINDING_ID, "workflow_status": "NEW"},
            {"finding_id": HUB_FINDING_ID, "workflow_status": "RESOLVED"},
        )
    assert outcome.state == ProposalState.FAILED and "Undo refused" in outcome.message


# --- GuardDuty --------------------------------------------------------------------------------


def test_guardduty_happy_then_undo(factory, ctx):
    sc = archive_finding(factory)
    rem = remediations["guardduty.archive-finding"]
    done = run(rem, ctx, sc.params)
    assert done.state == ProposalState.SUCCEEDED and done.post_state["archived"] is True
    undone = run_undo(rem, make_ctx(factory), sc.params, done.pre_state, done.post_state)
    assert undone.state == ProposalState.UNDONE
    sc.stubbers[0].assert_no_pending_responses()


def test_guardduty_already_archived_is_noop(factory, ctx):
    s = stub(factory, "guardduty")
    gd_get(s, True)
    with s:
        assert run(remediations["guardduty.archive-finding"], ctx, GD).state == ProposalState.NOOP


def test_guardduty_finding_or_detector_gone(factory, ctx):
    s = stub(factory, "guardduty")
    s.add_response("get_findings", {"Findings": []})
    s.add_client_error(
        "get_findings",
        "BadRequestException",
        "The request is rejected because the input detectorId is not owned by the current account.",
        400,
    )
    with s:
        first = run(remediations["guardduty.archive-finding"], ctx, GD)
        second = run(remediations["guardduty.archive-finding"], make_ctx(factory), GD)
    assert first.state == second.state == ProposalState.FAILED
    assert "does not exist" in first.message and "does not exist" in second.message


def test_guardduty_ok_that_changed_nothing_is_failed(factory, ctx):
    s = stub(factory, "guardduty")
    gd_get(s, False)
    s.add_response("archive_findings", {})
    gd_get(s, False)
    with s:
        outcome = run(remediations["guardduty.archive-finding"], ctx, GD)
    assert outcome.state == ProposalState.FAILED and "verification" in outcome.message


def test_guardduty_undo_refused_after_drift(factory, ctx):
    s = stub(factory, "guardduty")
    gd_get(s, False)  # someone unarchived it already
    with s:
        outcome = run_undo(
            remediations["guardduty.archive-finding"],
            ctx,
            GD,
            {"finding_id": GD_FINDING, "archived": False},
            {"finding_id": GD_FINDING, "archived": True},
        )
    assert outcome.state == ProposalState.FAILED and "Undo refused" in outcome.message


# --- SSM Automation ---------------------------------------------------------------------------

RUNBOOK = Runbook(
    document="AWS-RestartEC2Instance",
    resource_types=["AwsEc2Instance"],
    parameters={"InstanceId": "{resource.id}", "Region": "{region}"},
)
PARAMS = {"document": "AWS-RestartEC2Instance", "parameters": {"InstanceId": ["i-0abc1234def567890"]}}


def test_ssm_applies_only_to_configured_runbooks_with_every_placeholder_filled():
    rem = remediations["ssm.run-automation"]
    alert = make_alert([Resource(type="AwsEc2Instance", id="i-0abc1234def567890")])
    assert rem.applies_to(alert) is None  # nothing configured
    configure_runbooks([RUNBOOK])
    assert rem.applies_to(alert) == {
        "document": "AWS-RestartEC2Instance",
        "parameters": {"InstanceId": ["i-0abc1234def567890"], "Region": ["us-east-1"]},
    }
    assert rem.applies_to(make_alert([Resource(type="AwsS3Bucket", id="b")])) is None
    assert render_template("{context.ecs.cluster}/{resource.arn}", alert, alert.resources[0]) is None
    assert render_template("{resource.__class__}", alert, alert.resources[0]) is None


def test_ssm_happy_path_verifies_the_execution(factory, ctx):
    configure_runbooks([RUNBOOK])
    s = stub(factory, "ssm")
    ssm_document(s)
    s.add_response(
        "start_automation_execution",
        {"AutomationExecutionId": EXECUTION},
        {"DocumentName": "AWS-RestartEC2Instance", "Parameters": {"InstanceId": ["i-0abc1234def567890"]}},
    )
    ssm_document(s)
    ssm_execution(s, "InProgress")
    with s:
        outcome = run(remediations["ssm.run-automation"], ctx, PARAMS)
        s.assert_no_pending_responses()
    assert outcome.state == ProposalState.SUCCEEDED and EXECUTION in outcome.message


def test_ssm_refuses_a_document_not_in_the_config(factory, ctx):
    configure_runbooks([RUNBOOK])
    s = stub(factory, "ssm")
    ssm_document(s, "Custom-DeleteEverything")
    with s:
        outcome = run(remediations["ssm.run-automation"], ctx, {"document": "Custom-DeleteEverything"})
        s.assert_no_pending_responses()  # no StartAutomationExecution was queued, none was made
    assert outcome.state == ProposalState.FAILED and "not listed" in outcome.message


def test_ssm_document_gone(factory, ctx):
    configure_runbooks([RUNBOOK])
    s = stub(factory, "ssm")
    s.add_client_error("describe_document", "InvalidDocument", "The specified document does not exist.", 400)
    with s:
        outcome = run(remediations["ssm.run-automation"], ctx, PARAMS)
    assert outcome.state == ProposalState.FAILED and "does not exist" in outcome.message


def test_ssm_execution_that_failed_at_once_is_failed(factory, ctx):
    configure_runbooks([RUNBOOK])
    s = stub(factory, "ssm")
    ssm_document(s)
    s.add_response("start_automation_execution", {"AutomationExecutionId": EXECUTION})
    ssm_document(s)
    ssm_execution(s, "Failed")
    with s:
        outcome = run(remediations["ssm.run-automation"], ctx, PARAMS)
    assert outcome.state == ProposalState.FAILED and "verification" in outcome.message
