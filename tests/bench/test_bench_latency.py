"""The latency model: the notify and Slack paths measured with AWS and Slack costing what they
cost when deployed, not moto's and the loopback fake's zero time.

Model (tests/bench/bench_env.py ``latency_model``): every AWS call sleeps 5 ms (Lambda →
DynamoDB/SQS in-region; botocore ``before-call`` hook), every Slack request sleeps 100 ms in the
fake (Lambda → slack.com round trip), and the fake enforces Slack's real limits (1 message/s per
channel, chat.update per minute, 429 + Retry-After). Batches are the deployed size: serverless.yml
``batchSize: 500`` for the notify function. The per-second figures divide by the *modelled*
time: the wall time minus the time spent inside moto's in-process backend, which the 5 ms per
call stands for (moto's TransactWriteItems alone deep-copies the whole table once per item, so
its time grows with the table; DynamoDB's does not). The wall figure including moto is in the
details (``events_per_s_wall_incl_moto``).

- ``latency_storm_events_per_s``: ``EVENTOPS_BENCH_LATENCY_EVENTS`` (default 10 000; the full
  run takes minutes) events from 100 CloudWatch alarms repeating, all into one channel, batches of
  500; failed records are redelivered as SQS would. Where the time goes (AWS sleeps, Slack sleeps,
  the rest), AWS calls per event by operation, and every event accounted for are in the details;
  ``ddb_calls_per_storm_event`` is DynamoDB calls / events.
- ``latency_distinct_events_per_s``: 500 new distinct alerts routed by account to 50 channels
  (10 each: under the storm threshold), one batch of 500.
- ``ddb_calls_per_new_alert``: DynamoDB calls for one new GuardDuty cryptocurrency finding (the
  sample with the most remediation offers, 4) in propose mode, warm runtime, alone in its batch
  (so it pays the batch's own reads and writes: maintenance windows, scorecard, latencies).
  ``ddb_calls_per_new_alert_in_batch``: the same, per alert, for 50 such findings in one batch.
- ``latency_ack_p99_ms``: signed Acknowledge clicks, each on a different alert, through
  ``handlers.slack.handler`` (click → HTTP 200).
- ``ack_to_message_updated_p50_ms``: the same clicks until the updated message reached the Slack
  fake: the ack, then the queued ``message`` job run by ``handlers.worker.handler``.
"""

from __future__ import annotations

import copy
import gc
import json
import os
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest

from tests.bench.bench_env import EVENTS, batches, latency_model, notify_world, slack_view
from tests.bench.test_bench_interactive import _pct
from tests.bench.test_bench_storm import OUTCOMES, _alarm

STORM_EVENTS = int(os.environ.get("EVENTOPS_BENCH_LATENCY_EVENTS", "10000"))
BATCH = 500  # serverless.yml: notify's SQS batchSize
FINGERPRINTS = 100
STORM_ACCOUNT = "111111111111"
STORM_CHANNEL = "#latency-storm"
DISTINCT = 500
DISTINCT_CHANNELS = 50
ACKS = int(os.environ.get("EVENTOPS_BENCH_LATENCY_ACKS", "50"))


def _deliver(world, events: list[dict]) -> tuple[float, int, int, list[dict]]:
    """Hand ``events`` over in batches of BATCH, redelivering failed records (as SQS does)."""
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
    return time.monotonic() - started, rounds, redelivered, pending


def _accounting(world, events: list[dict], never_delivered: int, channels: list[str]) -> tuple[int, dict]:
    counts = world.rt.counts
    outcomes = {k: counts[k] for k in OUTCOMES if counts[k]}
    view = slack_view(world.slack, channels)
    mismatches = {
        "posted_vs_alert_messages": outcomes.get("posted", 0) - view["alert_messages"],
        "threaded_vs_thread_replies": outcomes.get("threaded", 0) - view["thread_replies"],
        "storm_vs_listed_lines": outcomes.get("storm", 0) - view["storm_listed"],
    }
    unaccounted = len(events) - sum(outcomes.values()) + never_delivered + sum(abs(v) for v in mismatches.values())
    return unaccounted, {"outcomes": outcomes, "slack_view": view, "slack_mismatches": mismatches}


def _slack_calls(slack) -> dict[str, int]:
    with slack.lock:
        return dict(Counter(f"{r.method} {r.status}" for r in slack.requests).most_common())


def _per_event(calls: Counter, n: int) -> dict[str, float]:
    return {op: round(c / n, 3) for op, c in calls.most_common()}


def storm_events(n: int) -> list[dict]:
    """``n`` events from FINGERPRINTS CloudWatch alarms (half CPU, half status check), round-robin."""
    t = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    base = [_alarm(r, "CPUUtilization" if r % 2 else "StatusCheckFailed", t) for r in range(FINGERPRINTS)]
    for ev in base:
        ev["account"] = STORM_ACCOUNT
        ev["resources"] = [r.replace(r.split(":")[4], STORM_ACCOUNT) for r in ev["resources"]]
    out = []
    for i in range(n):
        e = copy.deepcopy(base[i % FINGERPRINTS])
        e["id"] = str(uuid.uuid4())
        out.append(e)
    return out


@pytest.mark.timeout(3600)  # a full 10 000-event run takes minutes (the model sleeps for real)
def test_latency_storm(bench):
    config = {
        "accounts": [{"id": STORM_ACCOUNT, "alias": "storm", "regions": ["us-east-1"]}],
        "routing": {
            "rules": [
                {"name": "all", "match": {"account": [STORM_ACCOUNT]}, "channel": STORM_CHANNEL, "mode": "notify"}
            ],
            "default": {"channel": "#elsewhere"},
        },
    }
    events = storm_events(STORM_EVENTS)
    with notify_world(config) as world, latency_model(world.rt, slack=world.slack) as model:
        took, rounds, redelivered, pending = _deliver(world, events)
        unaccounted, accounting = _accounting(world, events, len(pending), [STORM_CHANNEL])
        split = model.split(took)
        calls = Counter(model.calls)
        slack_calls = _slack_calls(world.slack)
        rate_limited = world.slack.rate_limited
    n = len(events)
    ddb = sum(c for op, c in calls.items() if op.startswith("dynamodb."))
    details = {
        "events": n,
        "fingerprints": FINGERPRINTS,
        "channel": STORM_CHANNEL,
        "batch_size": BATCH,
        "model": {"aws_ms": model.aws_ms, "slack_ms": model.slack_ms, "slack_rate_limit": True},
        "time": split,
        "time_shares_of_modelled": {
            k[:-2]: round(v / split["modelled_s"], 3)
            for k, v in split.items()
            if k.endswith("_s") and k not in ("wall_s", "modelled_s")
        },
        "events_per_s_wall_incl_moto": round(n / took, 2),
        "delivery_rounds": rounds,
        "records_redelivered": redelivered,
        "never_delivered": len(pending),
        "unaccounted": unaccounted,
        **accounting,
        "aws_calls_per_event": round(sum(calls.values()) / n, 3),
        "aws_calls_per_event_by_operation": _per_event(calls, n),
        "slack_calls": slack_calls,
        "slack_429": rate_limited,
    }
    bench.record("latency_storm_events_per_s", n / model.modelled_s(took), **details)
    bench.record("ddb_calls_per_storm_event", ddb / n, ddb_calls=ddb, events=n)
    bench.note("latency_storm_unaccounted", unaccounted)
    print(f"# latency storm: {n} events in {took:.1f} s ({split['modelled_s']} s modelled); {json.dumps(details)}")


def test_latency_distinct(bench):
    accounts = [f"{200000000000 + i:012d}" for i in range(DISTINCT_CHANNELS)]
    channels = [f"#team-{i:02d}" for i in range(DISTINCT_CHANNELS)]
    config = {
        "accounts": [{"id": a, "alias": f"team{i}", "regions": ["us-east-1"]} for i, a in enumerate(accounts)],
        "routing": {
            "rules": [
                {"name": f"team-{i:02d}", "match": {"account": [a]}, "channel": ch, "mode": "notify"}
                for i, (a, ch) in enumerate(zip(accounts, channels, strict=True))
            ],
            "default": {"channel": "#elsewhere"},
        },
    }
    t = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    events = []
    for i in range(DISTINCT):
        e = _alarm(i, "CPUUtilization", t)  # a distinct alarm (fingerprint) each
        acct = accounts[i % DISTINCT_CHANNELS]
        e["account"] = acct
        e["resources"] = [r.replace(r.split(":")[4], acct) for r in e["resources"]]
        events.append(e)
    with notify_world(config) as world:
        warm = copy.deepcopy(events[0])
        warm["id"] = str(uuid.uuid4())  # not a duplicate of events[0]
        warm["account"] = "999999999999"  # to #elsewhere: not counted in the 50 channels
        warm["detail"]["alarmName"] = "warm-up"
        world.run(batches([warm], 1)[0])  # warm: clients, imports (not timed)
        world.rt.counts.clear()
        todo = events
        with latency_model(world.rt, slack=world.slack) as model:
            model.threads = True  # 50 channels: lanes in threads (delivery.parallel_channels)
            took, rounds, redelivered, pending = _deliver(world, todo)
            split = model.split(took)
            modelled = model.modelled_s(took)
            calls = Counter(model.calls)
        unaccounted, accounting = _accounting(world, todo, len(pending), channels)
        slack_calls = _slack_calls(world.slack)
        rate_limited = world.slack.rate_limited
    n = len(todo)
    bench.record(
        "latency_distinct_events_per_s",
        n / modelled,
        events_per_s_wall_incl_moto=round(n / took, 2),
        events=n,
        channels=DISTINCT_CHANNELS,
        batch_size=BATCH,
        time=split,
        delivery_rounds=rounds,
        records_redelivered=redelivered,
        unaccounted=unaccounted,
        **accounting,
        aws_calls_per_event_by_operation=_per_event(calls, n),
        slack_calls=slack_calls,
        slack_429=rate_limited,
    )


def test_ddb_calls_per_new_alert(bench):
    sample = "guardduty-ec2-cryptocurrency-critical.json"
    config = {
        # a role: EventOps acts in the account, so the finding's offers become proposals
        "accounts": [
            {
                "id": "123456789012",
                "alias": "prod",
                "regions": ["us-east-1"],
                "role_arn": "arn:aws:iam::123456789012:role/eventops-member",
            }
        ],
        "routing": {
            "rules": [
                {"name": "security", "match": {"source": ["aws.guardduty"]}, "channel": "#sec", "mode": "propose"}
            ],
            "default": {"channel": "#ops", "mode": "propose"},
        },
        "storm": {"threshold_per_minute": 1000},  # the batch's 50 new findings are posted, not a storm
    }
    crypto = json.loads((EVENTS / sample).read_text())
    warm = json.loads((EVENTS / "guardduty-ec2-ssh-bruteforce.json").read_text())
    with notify_world(config) as world:
        world.rt.store.index_maintenance()  # as housekeeping has in a deployed stack: no window open
        # cold: the first alert of a fresh runtime
        with latency_model(world.rt, aws_ms=0) as cold_model:
            first = copy.deepcopy(crypto)
            first["account"] = "123456789012"
            world.run(batches([first], 1)[0])
        cold = Counter(cold_model.calls)
        world.run(batches([warm], 1)[0])
        # warm: a new crypto finding (another instance: a new fingerprint) after other alerts
        e = _new_finding(crypto, 0)
        world.rt.counts.clear()
        with latency_model(world.rt, aws_ms=0) as model:
            world.run(batches([e], 1)[0])
        calls = Counter(model.calls)
        outcomes = {k: v for k, v in world.rt.counts.items() if v}
        posts = world.slack.calls("chat.postMessage")
        proposals = sum(1 for c in posts if "eventops:remediate" in json.dumps(c.params))
        last_post_buttons = json.dumps(posts[-1].params).count("eventops:remediate") if posts else 0
        # in a batch, as deployed (batches of up to 500): what one more new alert costs
        many = [_new_finding(crypto, i + 1) for i in range(IN_BATCH)]
        world.rt.counts.clear()
        with latency_model(world.rt, aws_ms=0) as batch_model:
            world.run(batches(many, len(many))[0])
        in_batch = Counter(batch_model.calls)
        batch_outcomes = {k: v for k, v in world.rt.counts.items() if v}
    ddb = {op: c for op, c in calls.items() if op.startswith("dynamodb.")}
    ddb_batch = {op: c for op, c in in_batch.items() if op.startswith("dynamodb.")}
    bench.record(
        "ddb_calls_per_new_alert_in_batch",
        sum(ddb_batch.values()) / IN_BATCH,
        alerts_in_batch=IN_BATCH,
        outcomes=batch_outcomes,
        by_operation_per_alert=_per_event(Counter(ddb_batch), IN_BATCH),
    )
    bench.record(
        "ddb_calls_per_new_alert",
        sum(ddb.values()),
        sample=sample,
        offers=4,
        mode="propose",
        outcomes=outcomes,
        by_operation=ddb,
        all_aws_calls=dict(calls),
        first_alert_in_fresh_runtime=dict(cold),
        posts_with_remediate_buttons=proposals,
        remediate_buttons_on_measured_post=last_post_buttons,
    )


IN_BATCH = 50


def _new_finding(crypto: dict, n: int) -> dict:
    """The crypto finding about another instance, with its own finding and event ids: a new problem."""
    e = copy.deepcopy(crypto)
    e["id"] = str(uuid.uuid4())
    text = json.dumps(e)
    iid = e["detail"]["resource"]["instanceDetails"]["instanceId"]
    e = json.loads(text.replace(iid, f"i-0fedcba98765{n:05x}").replace(e["detail"]["id"], uuid.uuid4().hex))
    e["account"] = "123456789012"
    return e


def _updated(world, ts: str, word: str) -> bool:
    with world.slack.lock:
        return any(m.ts == ts and word in json.dumps(m.blocks) for m in world.slack.messages["C0ALERTS"])


def test_latency_ack(bench):
    """The ack (click → HTTP 200), then the worker's message job driven as Lambda's SQS event
    source would (``handlers.worker.handler``, SQS-shaped records) until the Slack fake holds
    the updated message: ``ack_to_message_updated_p50_ms`` is click → that update, one click
    at a time. SQS's own delivery delay (the event source's poll) is not in the model.

    After the warm-up the heap is frozen (``gc.freeze``): moto keeps all of AWS's state in this
    process, which makes a full collection cost 100-350 ms here (measured with
    ``gc.callbacks``), a pause a deployed Lambda, whose AWS is elsewhere, does not have."""
    from tests.approval.world import ALICE, interact_world

    with interact_world() as world:
        proposals = [world.post_alert(instance_id=world.instance_id) for _ in range(ACKS + 1)]
        warm = proposals[-1]
        world.message_ts = warm.message_ts
        world.click("eventops:ack", warm.alert_id, ALICE)  # warm: Bolt app, clients, listeners
        world.drain()  # warm: the worker's imports and clients
        gc.collect()
        gc.freeze()  # moto's state out of the collector's way (see above)
        samples: list[float] = []
        updated: list[float] = []
        statuses: Counter[int] = Counter()
        ack_calls: Counter[str] = Counter()
        job_failures = 0
        with latency_model(world.rt, slack=world.slack) as model:
            for p in proposals[:ACKS]:
                world.message_ts = p.message_ts
                before = Counter(model.calls)
                t0 = time.perf_counter()
                resp = world.click("eventops:ack", p.alert_id, ALICE)
                samples.append((time.perf_counter() - t0) * 1000)
                statuses[resp["statusCode"]] += 1
                ack_calls += Counter(model.calls) - before
                for _ in range(20):  # a record failed on a 429 is delivered again, as SQS would
                    job_failures += sum(len(r["batchItemFailures"]) for r in world.drain(rounds=1))
                    if _updated(world, p.message_ts, "Acknowledged by"):
                        break
                updated.append((time.perf_counter() - t0) * 1000)
            calls = Counter(model.calls)
            aws_s, slack_s = model.aws_slept_s, model.slack_slept_s
        gc.unfreeze()
        time.sleep(0.3)  # let any reply the handler sent after acking finish before counting
        slack_calls = _slack_calls(world.slack)
        not_updated = sum(1 for p in proposals[:ACKS] if not _updated(world, p.message_ts, "Acknowledged by"))
        acked = sum(1 for e in world.audit() if e.outcome == "ACKNOWLEDGED")
    n = len(samples)
    bench.record(
        "latency_ack_p99_ms",
        _pct(samples, 99),
        clicks=n,
        p50_ms=round(_pct(samples, 50), 1),
        max_ms=round(max(samples), 1),
        statuses=dict(statuses),
        aws_calls_per_click=_per_event(ack_calls, n),
        aws_calls_per_click_and_job=_per_event(calls, n),
        aws_sleep_ms_per_click_and_job=round(aws_s * 1000 / n, 1),
        slack_sleep_ms_per_click_and_job=round(slack_s * 1000 / n, 1),
        slack_calls=slack_calls,
    )
    bench.record(
        "ack_to_message_updated_p50_ms",
        _pct(updated, 50),
        clicks=n,
        p99_ms=round(_pct(updated, 99), 1),
        max_ms=round(max(updated), 1),
        worker="handlers.worker.handler, SQS-shaped records, one drain per click",
        job_records_failed_and_redelivered=job_failures,
        messages_not_updated=not_updated,
        acknowledged_audit_records=acked,
    )
