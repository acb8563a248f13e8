"""Cold start: a fresh interpreter importing each handler module, against the floor
``python -c "import boto3, slack_bolt"`` measured in the same run (docs/reliability.md #7: ≤ 1.3×).

Every variant is imported once first, so ``.pyc`` files exist: these are warm-bytecode imports,
as in a deployed artifact that ships compiled bytecode (docs/design.md "Measured facts"). Runs are
interleaved (floor, notify, slack, …, floor, notify, …) so machine noise hits all alike; the
figure is the median of ``EVENTOPS_BENCH_COLD_RUNS`` (default 11) wall-clock process times.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from tests.bench.conftest import ROOT

RUNS = max(10, int(os.environ.get("EVENTOPS_BENCH_COLD_RUNS", "11")))
FLOOR = "import boto3, slack_bolt"
HANDLERS = ("notify", "slack", "worker", "housekeeping")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "EVENTOPS_", "SLACK_"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "EVENTOPS_TABLE": "eventops-bench",
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": "bench-signing",
        }
    )
    return env


def _time(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
    return time.perf_counter() - started


def test_cold_start_ratios(bench):
    env = _env()
    # also the floor with garbage collection off during the import, as the handlers import
    # (handlers/notify.py): how much of their figure is boto3's and Bolt's own import sped up
    variants = {
        "floor": FLOOR,
        **{h: f"import handlers.{h}" for h in HANDLERS},
        "floor_gc_off": f"import gc; gc.disable(); {FLOOR}",
    }
    for code in variants.values():  # compile bytecode once: warm-bytecode imports from here on
        _time(code, env)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(RUNS):
        for name, code in variants.items():
            samples[name].append(_time(code, env))
    medians = {name: statistics.median(s) for name, s in samples.items()}
    floor = medians["floor"]
    bench.note(
        "cold_start",
        {
            "runs": RUNS,
            "bytecode": "warm (.pyc present)",
            "median_s": {k: round(v, 4) for k, v in medians.items()},
            "floor_code": FLOOR,
            "floor_gc_off_ratio": round(medians["floor_gc_off"] / floor, 3),
        },
    )
    for h in HANDLERS:
        bench.record(
            f"cold_start_ratio_{h}", medians[h] / floor, median_s=round(medians[h], 4), floor_s=round(floor, 4)
        )


# --- first event / first request, cold (issue 13) --------------------------------------------
# A fresh interpreter each run, timed from process start to the first piece of work done:
#   notify: import handlers.notify + notify.handler on one SQS record carrying a new alert
#   slack:  import handlers.slack + a signed `/ops help` through slack.handler
#   floor:  import boto3, slack_bolt + one DynamoDB PutItem + one chat.postMessage (slack_sdk)
# AWS is a moto server in this (the parent) process (moto can't be shared in-process across
# processes; a moto import in the child would pre-import boto3 and hide its cost), Slack the
# loopback fake here (rate limits off: runs post every second or so). Bytecode warm (one run of
# each first), runs interleaved, the median of EVENTOPS_BENCH_COLD_FIRST_RUNS (default 9: on two
# cores a median of 5 moved by ±0.1) each.
FIRST_RUNS = int(os.environ.get("EVENTOPS_BENCH_COLD_FIRST_RUNS", "9"))

_NOTIFY_FIRST = """
import json, sys, time
t0 = time.perf_counter()
import handlers.notify
t1 = time.perf_counter()
resp = handlers.notify.handler(json.loads(sys.argv[1]), None)
t2 = time.perf_counter()
sys.stderr.write("\\nRESULT " + json.dumps({"import_s": t1 - t0, "work_s": t2 - t1, "failures": len(resp["batchItemFailures"])}))
"""

_SLACK_FIRST = """
import hashlib, hmac, json, os, sys, time, urllib.parse
t0 = time.perf_counter()
import handlers.slack
t1 = time.perf_counter()
body = urllib.parse.urlencode({"command": "/ops", "text": "help", "user_id": "U0ALICE", "user_name": "alice",
    "team_id": "T0OURS", "channel_id": "C0ALERTS", "trigger_id": "1.2.3"})
ts = str(int(time.time()))
sig = "v0=" + hmac.new(os.environ["SLACK_SIGNING_SECRET"].encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
event = {"version": "2.0", "routeKey": "POST /slack/events", "rawPath": "/slack/events",
    "headers": {"content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": ts,
                "x-slack-signature": sig},
    "requestContext": {"http": {"method": "POST", "path": "/slack/events"}}, "body": body, "isBase64Encoded": False}
resp = handlers.slack.handler(event, None)
t2 = time.perf_counter()
sys.stderr.write("\\nRESULT " + json.dumps({"import_s": t1 - t0, "work_s": t2 - t1, "status": resp["statusCode"]}))
"""

_FLOOR_FIRST = """
import json, os, sys, time, uuid
t0 = time.perf_counter()
import boto3, slack_bolt
from slack_sdk import WebClient
t1 = time.perf_counter()
boto3.client("dynamodb", endpoint_url=os.environ["EVENTOPS_AWS_ENDPOINT_URL"]).put_item(
    TableName=os.environ["EVENTOPS_TABLE"], Item={"pk": {"S": "floor#" + uuid.uuid4().hex}, "sk": {"S": "x"}})
WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]).chat_postMessage(
    channel="#floor", text="first")
t2 = time.perf_counter()
sys.stderr.write("\\nRESULT " + json.dumps({"import_s": t1 - t0, "work_s": t2 - t1}))
"""


def _new_alert_event() -> str:
    import json
    import uuid

    from tests.bench.bench_env import EVENTS, batches

    ev = json.loads((EVENTS / "cloudwatch-metric-alarm.json").read_text())
    ev["id"] = str(uuid.uuid4())
    name = f"cold-first-{uuid.uuid4().hex[:12]}"  # a new problem on a new alarm each run: its own post,
    ev["detail"]["alarmName"] = name  # not a reply in the thread of the last run's alarm
    ev["resources"] = [f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"]
    return json.dumps(batches([ev], 1)[0])


def _run_first(code: str, env: dict[str, str], *args: str) -> tuple[float, dict]:
    import json

    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120, text=True
    )
    took = time.perf_counter() - started
    line = next((ln for ln in out.stderr.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise AssertionError(f"no RESULT line: {out.stderr[-2000:]}")
    return took, json.loads(line[len("RESULT ") :])


def test_cold_first_event_ratios(bench):
    import socket

    import boto3
    from moto.server import ThreadedMotoServer

    from bot.sandbox.slack_fake import SlackFake
    from bot.store import Store, create_table

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        env = _env()
        with SlackFake(rate_limit=False, bot_token=env["SLACK_BOT_TOKEN"]) as slack:
            env.update({"EVENTOPS_AWS_ENDPOINT_URL": endpoint, "SLACK_API_URL": slack.url})
            ddb = boto3.client(
                "dynamodb",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="bench",
                aws_secret_access_key="bench",
            )
            create_table(ddb, env["EVENTOPS_TABLE"])
            Store(ddb, env["EVENTOPS_TABLE"]).index_maintenance()  # as housekeeping has, deployed
            variants = {
                "floor": lambda: _run_first(_FLOOR_FIRST, env),
                "notify": lambda: _run_first(_NOTIFY_FIRST, env, _new_alert_event()),
                "slack": lambda: _run_first(_SLACK_FIRST, env),
            }
            for run in variants.values():  # compile bytecode once: warm-bytecode imports from here on
                run()
            samples: dict[str, list[float]] = {k: [] for k in variants}
            inner: dict[str, list[dict]] = {k: [] for k in variants}
            for _ in range(FIRST_RUNS):
                for name, run in variants.items():
                    took, res = run()
                    samples[name].append(took)
                    inner[name].append(res)
            posted = len([c for c in slack.calls("chat.postMessage") if c.status == 200 and c.error is None])
    finally:
        server.stop()
    med = {k: statistics.median(v) for k, v in samples.items()}
    split = {
        k: {
            "import_s": round(statistics.median(r["import_s"] for r in v), 4),
            "work_s": round(statistics.median(r["work_s"] for r in v), 4),
        }
        for k, v in inner.items()
    }
    common = {
        "runs": FIRST_RUNS,
        "bytecode": "warm (.pyc present)",
        "floor_s": round(med["floor"], 4),
        "in_process_split": split,
        "aws": "moto server in the parent process (HTTP on loopback)",
        "slack": "loopback fake in the parent process, rate limits off",
        "floor_code": "import boto3, slack_bolt + DynamoDB PutItem + chat.postMessage",
        "slack_posts_ok": posted,
    }
    bench.record(
        "cold_first_event_ratio_notify",
        med["notify"] / med["floor"],
        median_s=round(med["notify"], 4),
        failures=[r["failures"] for r in inner["notify"]],
        **common,
    )
    bench.record(
        "cold_first_request_ratio_slack",
        med["slack"] / med["floor"],
        median_s=round(med["slack"], 4),
        statuses=[r["status"] for r in inner["slack"]],
        **common,
    )
