"""``/ops`` fan-out: the alarms query over 10 accounts × 4 regions with 100 ms injected before
every AWS request (a botocore ``before-send`` hook, ``tests.bench.fanout_hooks.delay_every_call``).

``ops_fanout_s`` is the warm figure (clients cached, as in a warm Lambda); the first run, which
also creates 40 clients, is in details.json. Serially the 40 calls would take ≥ 4 s.
"""

from __future__ import annotations

import boto3
from moto import mock_aws

from tests.bench.bench_env import make_runtime
from tests.bench.fanout_hooks import delay_every_call, measure_fanout

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]
DELAY_S = 0.1


def test_ops_fanout(bench):
    config = {
        "accounts": [{"id": f"{100000000000 + i:012d}", "alias": f"team{i}", "regions": REGIONS} for i in range(1, 11)]
    }
    with mock_aws():
        for region in REGIONS:
            cw = boto3.client("cloudwatch", region_name=region)
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
        rt = make_runtime("http://127.0.0.1:9/api/", config)
        delayed = delay_every_call(rt, DELAY_S)
        cold = measure_fanout(rt)
        warm = measure_fanout(rt)
    bench.record(
        "ops_fanout_s",
        warm.seconds,
        targets=warm.targets,
        answered=warm.answered,
        rows=warm.rows,
        errors=warm.errors,
        first_run_with_client_creation_s=round(cold.seconds, 3),
        delayed_calls=delayed.calls,
        delay_per_call_s=DELAY_S,
        serial_floor_s=round(warm.targets * DELAY_S, 1),
    )
