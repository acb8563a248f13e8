"""Modals end to end through the sandbox's front door: a signed click (or slash command) → the fake
records the views.open with the click's trigger_id → a signed view_submission → store, audit,
moto and the fake's state.

moto (5.2) has no Security Hub ``BatchUpdateFindings`` (nor GuardDuty ``GetFindings`` /
``ArchiveFindings``). For the Security Hub write-back this module teaches moto's in-process
Security Hub that one call, on moto's own finding store (``_batch_update_findings`` below: the
finding's ``Workflow`` and ``Note`` change, and the remediation's verification reads them back
with moto's real ``GetFindings``). GuardDuty's archive is checked at the queue
(tests/approval/test_approval_writeback.py) and with botocore's Stubber in tests/remediations.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from moto.securityhub import urls as hub_urls
from moto.securityhub.models import securityhub_backends
from moto.securityhub.responses import SecurityHubResponse

from bot.sandbox.estate import PROD, REGION
from bot.sandbox.runner import DEMO_CONFIG, Sandbox, SandboxOptions
from tests.e2e.conftest import OPERATOR, SIGNING_SECRET, Ops, clean, find_message

EVENTS = Path(__file__).resolve().parents[1] / "events"


def _batch_update_findings(self: SecurityHubResponse) -> str:
    """Security Hub's BatchUpdateFindings on moto's finding store (Workflow and Note only)."""
    params = json.loads(self.body or "{}")
    backend = securityhub_backends[self.current_account][self.region]
    done, missing = [], []
    for ident in params.get("FindingIdentifiers", []):
        finding = next((f for f in backend.findings if f.id == ident["Id"]), None)
        if finding is None:
            missing.append({"FindingIdentifier": ident, "ErrorCode": "FindingNotFound", "ErrorMessage": "not found"})
            continue
        if "Workflow" in params:
            finding.data["Workflow"] = params["Workflow"]
        if "Note" in params:
            finding.data["Note"] = {**params["Note"], "UpdatedAt": datetime.now(UTC).isoformat()}
        done.append(ident)
    return json.dumps({"ProcessedFindings": done, "UnprocessedFindings": missing})


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """This module's sandbox, with moto's Security Hub able to BatchUpdateFindings (routes are
    read when moto's server first serves Security Hub, so the patch goes in before it starts),
    and the demo config's threat-detection rule offering the Security Hub write-back (the demo
    leaves it out because moto lacks the call)."""
    mp = pytest.MonkeyPatch()
    mp.setitem(hub_urls.url_paths, "{0}/findings/batchupdate$", SecurityHubResponse.dispatch)
    mp.setattr(SecurityHubResponse, "batch_update_findings", _batch_update_findings, raising=False)
    demo = DEMO_CONFIG.read_text()
    assert "s3.block-public-access]" in demo
    config = tmp_path_factory.mktemp("modals") / "config.yml"
    config.write_text(
        demo.replace("s3.block-public-access]", "s3.block-public-access, securityhub.set-workflow-status]")
    )
    options = SandboxOptions(port=0, aws_port=0, demo=True, signing_secret=SIGNING_SECRET, config_path=config)
    sb = Sandbox(options)
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()
        mp.undo()


def _hub_event(ops: Ops) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Security Hub finding imported into moto, and the EventBridge event that reports it."""
    event = json.loads((EVENTS / "securityhub-imported-multi-resource.json").read_text())
    event["id"] = str(uuid.uuid4())
    finding = copy.deepcopy(event["detail"]["findings"][0])
    finding["Id"] = finding["Id"].rsplit("/", 1)[0] + "/" + uuid.uuid4().hex
    finding["Title"] = "EC2.18 modal test " + finding["Id"][-8:]
    event["detail"]["findings"] = [finding]
    hub = ops.sb.runtime().sessions.client("securityhub", region=REGION, account=PROD)
    assert hub.batch_import_findings(Findings=[finding])["FailedCount"] == 0
    return event, finding


def _hub_finding(ops: Ops, finding_id: str) -> dict[str, Any]:
    hub = ops.sb.runtime().sessions.client("securityhub", region=REGION, account=PROD)
    return next(f for f in hub.get_findings()["Findings"] if f["Id"] == finding_id)


def test_dismiss_asks_why_audits_it_and_suppresses_the_security_hub_finding(ops: Ops) -> None:
    event, finding = _hub_event(ops)
    ops.sb.fire({"events": [event]})
    alert = ops.wait_for(lambda s: find_message(s, finding["Title"]), timeout=90)

    ops.click(OPERATOR, alert, "Dismiss")
    view = ops.modal(OPERATOR)
    assert view["callback_id"] == "eventops:modal:dismiss"
    opened = ops.sb.fake.calls("views.open")[-1]
    assert opened.status == 200 and opened.error is None, "views.open within 3 s of the click, its trigger_id"
    assert ops.sb.runtime().store.dismissed_by(alert_id(ops, alert)) is None, "a click alone decides nothing"

    bad = ops.submit(OPERATOR, {"note": "no reason picked"})
    assert not bad["closed"] and "reason" in bad["errors"]

    done = ops.submit(OPERATOR, {"reason": "false_positive", "note": "scanner's own test host"})
    assert done["closed"]
    record = ops.audited("dismissed")
    ops.audited("succeeded", timeout=30, remediation="securityhub.set-workflow-status")
    assert record.result == "reason: False positive: scanner's own test host"
    ops.wait_for(lambda s: _hub_finding(ops, finding["Id"])["Workflow"]["Status"] == "SUPPRESSED", timeout=30)
    note = _hub_finding(ops, finding["Id"])["Note"]
    assert OPERATOR in note["Text"] and "False positive: scanner's own test host" in note["Text"]


def alert_id(ops: Ops, message: dict[str, Any]) -> str:
    found = ops.sb.fake.workspace.channel(message["channel"]).find(message["ts"])
    return found.metadata["event_payload"]["alert_id"]


def test_snooze_custom_duration_within_the_policy_bound(ops: Ops) -> None:
    alert = ops.wait_for(lambda s: find_message(s, "SSH brute force"))
    ops.click(OPERATOR, alert, "Custom…")
    assert ops.modal(OPERATOR)["callback_id"] == "eventops:modal:snooze"

    over = ops.submit(OPERATOR, {"amount": "30", "unit": "days", "reason": "quiet period"})
    assert not over["closed"] and "at most 24 hours" in over["errors"]["amount"]
    junk = ops.submit(OPERATOR, {"amount": "soon", "unit": "hours"})
    assert junk["errors"] == {"amount": "Enter a whole number, 1 or more."}
    assert not ops.sb.runtime().store.snoozes(), "nothing was snoozed by the refused submissions"

    asked = time.time()
    assert ops.submit(OPERATOR, {"amount": "90", "unit": "minutes", "reason": "maintenance window"})["closed"]
    [snooze] = ops.sb.runtime().store.snoozes()
    assert 5400 - 60 < snooze["until"] - asked <= 5400 + 5 and snooze["reason"] == "maintenance window"
    record = ops.audited("snoozed")
    assert record.action == "alert.snooze.90m" and "maintenance window" in record.result
    ops.wait_for(
        lambda s: next((m for m in s["messages"] if m["ts"] == alert["ts"] and "nooze" in str(m["blocks"])), None)
    )


def test_run_without_its_parameters_opens_a_form_and_runs_as_the_command_would(ops: Ops) -> None:
    iid = ops.sb.estate.prod.instances["api-1"]
    assert ops.instance_state(iid) == "running"
    answer = clean(ops.command(OPERATOR, f"run ec2.stop-instance account={PROD}"))
    assert "form" in answer, answer
    view = ops.modal(OPERATOR)
    assert view["callback_id"] == "eventops:modal:run"
    field = next(b for b in view["blocks"] if b["type"] == "input")
    assert field["block_id"] == "instance_id" and field["optional"] is False

    bad = ops.submit(OPERATOR, {"instance_id": "not-an-instance"})
    assert not bad["closed"] and "instance_id" in bad["errors"]
    assert ops.instance_state(iid) == "running"

    assert ops.submit(OPERATOR, {"instance_id": iid})["closed"]
    ops.wait_for(lambda s: ops.instance_state(iid) in ("stopping", "stopped"), timeout=30)
    ops.audited("succeeded", remediation="ec2.stop-instance", params=iid)
    ops.said_to(OPERATOR, "Stop instance")
