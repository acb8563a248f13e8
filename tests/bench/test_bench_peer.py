"""One peer side by side: Cloud Custodian's notifier (c7n-mailer), in its own venv
(``.bench/peer-venv``, built by ``make bench`` from tests/bench/peer/requirements.txt).

- ``peer_c7n_cold_start_ratio``: a fresh interpreter importing ``c7n_mailer.handle`` (the module
  its Lambda entry imports), against the same floor as ours (``import boto3, slack_bolt`` in the
  project venv), warm bytecode, interleaved runs, medians — read beside ``cold_start_ratio_notify``.
- ``peer_c7n_format_per_s``: messages per second through its per-message Slack path
  (tests/bench/peer/c7n_format.py), and ``ours_parse_render_per_s``: EventOps' parse + render of
  the equivalent event (the open-port CloudTrail sample), both measured in this run;
  ``peer_format_slower_x`` is their ratio.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.conftest import OUT, ROOT
from tests.bench.test_bench_cold_start import FLOOR, RUNS, _env, _time

PEER_PYTHON = OUT / "peer-venv" / "bin" / "python"
FORMAT_SCRIPT = Path(__file__).resolve().parent / "peer" / "c7n_format.py"
PEER_IMPORT = "import c7n_mailer.handle"
MESSAGES = 500


def _peer_python() -> str:
    assert PEER_PYTHON.exists(), f"{PEER_PYTHON} is missing: `make bench` builds it (make/peer-venv)"
    return str(PEER_PYTHON)


def _time_with(python: str, code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([python, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
    return time.perf_counter() - started


def test_peer_cold_start(bench):
    peer, env = _peer_python(), _env()
    peer_env = {k: v for k, v in env.items() if k != "PYTHONPATH"}  # nothing of ours on its path
    _time(FLOOR, env), _time("import handlers.notify", env), _time_with(peer, PEER_IMPORT, peer_env)  # bytecode
    floor, ours, theirs = [], [], []
    for _ in range(RUNS):
        floor.append(_time(FLOOR, env))
        ours.append(_time("import handlers.notify", env))
        theirs.append(_time_with(peer, PEER_IMPORT, peer_env))
    f, o, t = statistics.median(floor), statistics.median(ours), statistics.median(theirs)
    bench.record(
        "peer_c7n_cold_start_ratio", t / f, peer_s=round(t, 4), floor_s=round(f, 4), ours_ratio=round(o / f, 3)
    )


def _ours_per_s(n: int) -> float:
    from bot.slack.render import render_alert
    from bot.sources import parse_event
    from bot.sources.base import ParseContext

    event = json.loads((ROOT / "tests" / "events" / "cloudtrail-sg-ingress-open-ssh.json").read_text())
    render_alert(parse_event(event, ParseContext()), channel="#alerts")  # warm
    started = time.perf_counter()
    for i in range(n):
        alert = parse_event({**event, "id": f"bench-{i}"}, ParseContext())
        payload = render_alert(alert, channel="#alerts")
    elapsed = time.perf_counter() - started
    assert payload["blocks"], payload
    return n / elapsed


def test_peer_formatting(bench):
    peer = _peer_python()
    out = subprocess.run(
        [peer, str(FORMAT_SCRIPT), str(MESSAGES)], cwd=ROOT, check=True, capture_output=True, text=True, timeout=300
    )
    theirs = json.loads(out.stdout.strip().splitlines()[-1])["per_s"]
    ours = _ours_per_s(MESSAGES * 4)
    bench.record("peer_c7n_format_per_s", theirs, messages=MESSAGES, python=sys.version.split()[0])
    bench.record("ours_parse_render_per_s", ours, event="cloudtrail-sg-ingress-open-ssh")
    bench.record("peer_format_slower_x", ours / theirs)
