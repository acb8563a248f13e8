"""Fan-out over accounts × regions: complete, concurrent, bounded. Timing is printed, not asserted
(``make bench`` owns the figure; it calls ``tests.bench.fanout_hooks.measure_fanout``)."""

from __future__ import annotations

import threading
import time

from commands_support import ALICE, raw_client, texts

from bot.commands import dispatch
from bot.commands.alarms import alarms_in
from bot.commands.fanout import MAX_WORKERS, Target, fan_out, targets
from tests.bench.fanout_hooks import delay_every_call, measure_fanout

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
# No role_arn: no STS, every account answers with the same moto account's data.
TEN_ACCOUNTS = {
    "accounts": [
        {"id": f"{i:012d}", "alias": f"team{i - 100000000000}", "regions": REGIONS}
        for i in range(100000000001, 100000000011)
    ]
}
DELAY_S = 0.1


def _one_alarm_per_region() -> None:
    for region in REGIONS:
        cw = raw_client("cloudwatch", region)
        cw.put_metric_alarm(
            AlarmName=f"cpu-{region}",
            MetricName="CPUUtilization",
            Namespace="AWS/EC2",
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=80,
            ComparisonOperator="GreaterThanThreshold",
        )
        cw.set_alarm_state(AlarmName=f"cpu-{region}", StateValue="ALARM", StateReason="high")


def test_targets_cover_every_account_and_region(make_rt):
    rt = make_rt(TEN_ACCOUNTS)
    where = targets(rt)
    assert len(where) == 40 and len(set(where)) == 40
    assert len(targets(rt, account="team3")) == 4
    assert len(targets(rt, region="eu-west-1")) == 10
    assert len(targets(rt, per_account_region="us-east-1")) == 10


def test_fanout_with_100ms_per_call_is_complete(make_rt, capsys):
    rt = make_rt(TEN_ACCOUNTS)
    _one_alarm_per_region()
    delayed = delay_every_call(rt, DELAY_S)

    cold = measure_fanout(rt)  # creates 40 clients (a cold Lambda)
    warm = measure_fanout(rt)  # clients cached (a warm Lambda)

    for m in (cold, warm):
        assert m.errors == {}
        assert (m.targets, m.answered, m.rows) == (40, 40, 40)
    assert delayed.calls == 80  # one describe_alarms page per account × region per run, each delayed
    with capsys.disabled():
        print(
            f"\n/ops fan-out, 10 accounts × 4 regions, {DELAY_S * 1000:.0f} ms per AWS call: "
            f"{cold.seconds:.2f} s with new clients, {warm.seconds:.2f} s with cached clients "
            f"(serial: ≥ {40 * DELAY_S:.1f} s)"
        )


def test_fanout_through_dispatch_lists_every_account(make_rt):
    rt = make_rt(TEN_ACCOUNTS)
    _one_alarm_per_region()
    delay_every_call(rt, DELAY_S)
    started = time.monotonic()
    body = texts(dispatch("alarms", ALICE, "C0OPS", rt))
    took = time.monotonic() - started
    assert "(40/40 account-regions answered)" in body
    assert "showing 20 of 40" in body
    print(f"/ops alarms over 40 targets with {DELAY_S}s per call: {took:.2f} s")


def test_fanout_is_bounded_and_collects_errors(make_rt):
    rt = make_rt(TEN_ACCOUNTS)
    lock = threading.Lock()
    running = peak = 0

    def slow(client, target: Target) -> list[str]:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        if target.region == "eu-central-1":
            raise RuntimeError("boom")
        return [target.label]

    result = fan_out(rt, targets(rt), "cloudwatch", slow)
    assert 1 < peak <= MAX_WORKERS
    assert len(result.items) == 30 and len(result.errors) == 10
    assert all(err == "RuntimeError" for err in result.errors.values())  # no message, no trace
    note = result.notes("cloudwatch")
    assert len(note) == 1 and "and 5 more" in note[0]


def test_fanout_stops_waiting_before_the_lambda_deadline(make_rt):
    rt = make_rt({"accounts": [{"id": "100000000001", "regions": ["us-east-1", "eu-west-1"]}]})
    rt.time_left = lambda: 4.2  # 1.2 s of budget after the 3 s margin

    def maybe_hang(client, target: Target) -> list[str]:
        if target.region == "eu-west-1":
            time.sleep(3)
        return ["ok"]

    started = time.monotonic()
    result = fan_out(rt, targets(rt), "cloudwatch", maybe_hang)
    assert time.monotonic() - started < 2.5
    assert len(result.items) == 1
    assert list(result.errors.values()) == ["no answer within 1s"]


def test_alarms_in_paginates(rt):
    cw = raw_client("cloudwatch")
    for i in range(120):  # describe_alarms pages at 100
        cw.put_metric_alarm(
            AlarmName=f"a{i:03d}",
            MetricName="m",
            Namespace="n",
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
        cw.set_alarm_state(AlarmName=f"a{i:03d}", StateValue="ALARM", StateReason="r")
    assert len(alarms_in(cw, Target(None, "us-east-1"))) == 120
