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
    variants = {"floor": FLOOR, **{h: f"import handlers.{h}" for h in HANDLERS}}
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
        },
    )
    for h in HANDLERS:
        bench.record(
            f"cold_start_ratio_{h}", medians[h] / floor, median_s=round(medians[h], 4), floor_s=round(floor, 4)
        )
