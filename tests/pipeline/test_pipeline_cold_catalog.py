"""A cold notify process imports only the remediations its alerts can be offered, and offers
exactly what a process holding the whole catalog offers, in the same order.

Each case is a fresh interpreter running ``handlers.notify.handler`` on an SQS-shaped record
against moto and the loopback Slack fake (in-process state does not leak between cases)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import json, sys
import boto3
from moto import mock_aws
from bot.sandbox.pollers import sqs_event
from bot.sandbox.slack_fake import SlackFake
from bot.store import create_table
from pipeline_env import make_runtime, BASE_CONFIG, QUEUE_ARN, TOKEN

sample, mode = sys.argv[1], sys.argv[2]
config = dict(BASE_CONFIG, routing={"default": {"channel": "#ops", "mode": mode}})
with mock_aws(), SlackFake(rate_limit=False, bot_token=TOKEN) as slack:
    create_table(boto3.client("dynamodb", region_name="us-east-1"), "eventops-test")
    import handlers.notify
    from bot.remediations import PLUGIN_MODULES, remediations
    loaded = lambda: sorted(m.rpartition(".")[2] for m in PLUGIN_MODULES if m in sys.modules)
    before = loaded()
    rt = make_runtime(slack, config)
    handlers.notify.set_runtime(rt)
    body = open(f"tests/events/{sample}").read()
    resp = handlers.notify.handler(sqs_event([{"MessageId": "m-1", "ReceiptHandle": "rh", "Body": body}],
                                              QUEUE_ARN, "us-east-1"), None)
    after = loaded()
    (msg,) = slack.workspace.channel("#ops", create=False).top_level()
    actions = [e["action_id"] for b in msg.blocks if b["type"] == "actions" for e in b["elements"]]
    offered = [a.rpartition(":")[2] for a in actions if a.startswith("eventops:remediate:")]
    stored = rt.store.get_alert(json.loads(body)["id"])
    print(json.dumps({"failures": resp["batchItemFailures"], "before": before, "after": after, "offered": offered,
                      "actions": actions, "stored": stored is not None, "catalog": [str(n) for n in remediations]}))
"""


def _cold(sample: str, mode: str) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", _CHILD, sample, mode],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "EVENTOPS_", "SLACK_"))},
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests" / "pipeline")]),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_a_cloudwatch_alarm_in_notify_mode_imports_only_its_fixers_modules() -> None:
    out = _cold("cloudwatch-metric-alarm.json", "notify")
    assert out["failures"] == [] and out["stored"]
    assert out["before"] == []
    from bot.remediations import PROBLEM_MODULES

    assert out["after"] == sorted({*PROBLEM_MODULES["cloudwatch-alarm"], *PROBLEM_MODULES["*"]})
    assert out["offered"] == [] and out["actions"][-3:] == ["eventops:ack", "eventops:snooze", "eventops:dismiss"]


@pytest.mark.parametrize(
    "sample",
    [
        "guardduty-ec2-cryptocurrency-critical.json",
        "guardduty-iam-maliciousipcaller.json",
        "cloudtrail-sg-ingress-open-ssh.json",
    ],
)
def test_propose_mode_offers_what_the_whole_catalog_offers_in_catalog_order(sample: str) -> None:
    out = _cold(sample, "propose")
    assert out["failures"] == [] and out["stored"]
    assert out["offered"], out  # these samples are offered remediations
    from bot.remediations import PLUGIN_MODULES

    assert out["before"] == [] and 0 < len(out["after"]) < len(PLUGIN_MODULES)  # some modules, not the catalog
    assert out["offered"] == [n for n in out["catalog"] if n in out["offered"]]  # catalog order
    # A warm process (this one: the whole catalog imported) offers the same, in the same order.
    from bot.offers import candidates
    from bot.sources import parse_event

    alert = parse_event(json.loads((ROOT / "tests" / "events" / sample).read_text()))
    warm = [name for name, _ in candidates(alert)]
    assert [n for n in warm if n in out["offered"]] == out["offered"]
    if sample.startswith("guardduty-ec2"):  # several buttons: the order is not trivially kept
        assert out["offered"] == [
            "ec2.stop-instance",
            "ec2.snapshot-volumes",
            "ec2.isolate-instance",
            "guardduty.archive-finding",
        ]
