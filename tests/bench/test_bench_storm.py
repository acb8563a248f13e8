"""Storm: 10 000 events over 200 resources for 3 channels in one burst, against the Slack fake
enforcing 1 message/second/channel (real 429s, real Retry-After waits).

Each resource (an EC2 instance) gets a mix: a CPU alarm and a status-check alarm about it
(CloudWatch, fingerprint per alarm), state changes (EC2, fingerprint per instance) and a Spot
interruption warning (a different fingerprint on the same instance: a thread reply when the
instance already has a message). Resources are spread over three accounts, one channel each.

Batching: Lambda's SQS batching window hands the burst over in batches of
``EVENTOPS_BENCH_STORM_BATCH`` (default 1000; serverless.yml deploys batches of up to 500, see README "Performance").
Records a batch reports failed are re-delivered in a later batch, as SQS does, until none fail.

Every event is accounted for by the pipeline's outcome counters (posted, grouped, threaded,
storm-listed, …) and cross-checked against what the fake Slack holds: alert messages, thread
replies and storm-listed lines.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest

from tests.bench.bench_env import batches, notify_world, slack_view

EVENTS = int(os.environ.get("EVENTOPS_BENCH_STORM_EVENTS", "10000"))
BATCH = int(os.environ.get("EVENTOPS_BENCH_STORM_BATCH", "1000"))
RESOURCES = 200
ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
CHANNELS = ["#storm-a", "#storm-b", "#storm-c"]
OUTCOMES = ("posted", "grouped", "grouped_late", "threaded", "storm", "snoozed", "dropped", "duplicates_suppressed")


def storm_config() -> dict:
    return {
        "accounts": [{"id": a, "alias": f"acct{i}", "regions": ["us-east-1"]} for i, a in enumerate(ACCOUNTS)],
        "routing": {
            "rules": [
                {"name": f"to-{ch[1:]}", "match": {"account": [a]}, "channel": ch, "mode": "notify"}
                for a, ch in zip(ACCOUNTS, CHANNELS, strict=True)
            ],
            "default": {"channel": "#elsewhere"},
        },
    }


def _iid(r: int) -> str:
    return f"i-{r:017x}"


def _envelope(r: int, detail_type: str, source: str, detail: dict, resources: list[str], t: str) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNTS[r % 3],
        "time": t,
        "region": "us-east-1",
        "resources": resources,
        "detail": detail,
    }


def _alarm(r: int, metric: str, t: str) -> dict:
    name = f"{metric}-{_iid(r)}"
    account = ACCOUNTS[r % 3]
    return _envelope(
        r,
        "CloudWatch Alarm State Change",
        "aws.cloudwatch",
        {
            "alarmName": name,
            "configuration": {
                "metrics": [
                    {
                        "id": "m1",
                        "metricStat": {
                            "metric": {"dimensions": {"InstanceId": _iid(r)}, "name": metric, "namespace": "AWS/EC2"},
                            "period": 60,
                            "stat": "Average",
                        },
                        "returnData": True,
                    }
                ]
            },
            "previousState": {"value": "OK", "reason": "ok", "timestamp": t},
            "state": {"value": "ALARM", "reason": f"{metric} crossed its threshold", "timestamp": t},
        },
        [f"arn:aws:cloudwatch:us-east-1:{account}:alarm:{name}"],
        t,
    )


def _ec2(r: int, kind: int, t: str) -> dict:
    arn = f"arn:aws:ec2:us-east-1:{ACCOUNTS[r % 3]}:instance/{_iid(r)}"
    if kind == 0:
        return _envelope(
            r,
            "EC2 Spot Instance Interruption Warning",
            "aws.ec2",
            {"instance-id": _iid(r), "instance-action": "terminate"},
            [arn],
            t,
        )
    state = ("stopping", "stopped", "running")[kind % 3]
    return _envelope(
        r, "EC2 Instance State-change Notification", "aws.ec2", {"instance-id": _iid(r), "state": state}, [arn], t
    )


def storm_events(n: int) -> list[dict]:
    """``n`` events, round-robin over the resources so the burst interleaves them."""
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        r = i % RESOURCES
        k = (i // RESOURCES) % 10
        t = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        if k < 3:
            out.append(_alarm(r, "CPUUtilization", t))
        elif k < 5:
            out.append(_alarm(r, "StatusCheckFailed", t))
        elif k == 5:
            out.append(_ec2(r, 0, t))
        else:
            out.append(_ec2(r, k, t))
    return out


@pytest.mark.timeout(3600)  # the rate limit makes this take real minutes
def test_storm(bench):
    events = storm_events(EVENTS)
    with notify_world(storm_config(), rate_limit=True) as world:
        started = time.monotonic()
        pending = list(events)
        rounds = redelivered = 0
        while pending and rounds < 20:
            rounds += 1
            by_id: dict[str, dict] = {}
            failed: list[dict] = []
            for lambda_event in batches(pending, BATCH):
                for rec, ev in zip(lambda_event["Records"], pending[len(by_id) :], strict=False):
                    by_id[rec["messageId"]] = ev
                resp = world.run(lambda_event)
                failed += [by_id[f["itemIdentifier"]] for f in resp["batchItemFailures"]]
            redelivered += len(failed)
            pending = failed
        took = time.monotonic() - started
        counts = world.rt.counts
        outcomes = {k: counts[k] for k in OUTCOMES if counts[k]}
        accounted = sum(outcomes.values())
        slack = world.slack
        posts = [c for c in slack.calls("chat.postMessage") if c.status == 200 and c.error is None]
        updates = [c for c in slack.calls("chat.update") if c.status == 200 and c.error is None]
        view = slack_view(slack, CHANNELS)
        mismatches = {
            "posted_vs_alert_messages": outcomes.get("posted", 0) - view["alert_messages"],
            "threaded_vs_thread_replies": outcomes.get("threaded", 0) - view["thread_replies"],
            "storm_vs_listed_lines": outcomes.get("storm", 0) - view["storm_listed"],
        }
        never_delivered = len(pending)
        unaccounted = len(events) - accounted + never_delivered + sum(abs(v) for v in mismatches.values())
        details = {
            "batch_size": BATCH,
            "seconds": round(took, 1),
            "delivery_rounds": rounds,
            "records_redelivered": redelivered,
            "never_delivered": never_delivered,
            "outcomes": outcomes,
            "slack_view": view,
            "slack_mismatches": mismatches,
            "posts_by_kind": dict(
                Counter("reply" if c.params.get("thread_ts") else "top-level" for c in posts).most_common()
            ),
            "storm_replies": counts["storm_replies"],
            "delivery_failed": counts["delivery_failed"],
        }
    bench.record("storm_events", len(events), **details)
    bench.record("storm_posts", len(posts))
    bench.record("storm_updates", len(updates))
    bench.record("storm_429", slack.rate_limited)
    bench.record("storm_unaccounted", unaccounted)
    print(f"# storm: {len(events)} events in {took:.0f} s; {details}")
