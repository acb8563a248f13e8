"""``make bench``: every benchmark records its figures here; the session prints them as
``name: value`` lines and writes ``.bench/results.json`` (exactly the names in issue 7) plus
``.bench/details.json`` (the supporting figures: floors, splits, outcome mixes).

Figures are reported against the targets, never asserted: this is evidence, not a gate.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / ".bench"

# The names issues 7 and 13 ask for, in print order, with the target each is reported against.
NAMES: dict[str, str] = {
    "cold_start_ratio_notify": "<= 1.1",
    "cold_start_ratio_slack": "<= 1.3",
    "cold_start_ratio_worker": "<= 1.3",
    "cold_start_ratio_housekeeping": "<= 1.3",
    "ack_p50_ms": "",
    "ack_p99_ms": "<= 50",
    "notify_events_per_s": ">= 500",
    "render_events_per_s": ">= 7000",
    "storm_events": "",
    "storm_posts": "<= storm_events / 20",
    "storm_updates": "",
    "storm_429": "no 429 loses data",
    "storm_unaccounted": "== 0",
    "click_to_verified_p50_ms": "",
    "ops_fanout_s": "",
    # the latency model (tests/bench/test_bench_latency.py; issue 13)
    "latency_storm_events_per_s": ">= 300",
    "ddb_calls_per_storm_event": "<= 0.5",
    "latency_distinct_events_per_s": ">= 30",
    "ddb_calls_per_new_alert": "<= 4",
    "ddb_calls_per_new_alert_in_batch": "<= 4",
    "latency_ack_p99_ms": "<= 250",
    "ack_to_message_updated_p50_ms": "",
    "cold_first_event_ratio_notify": "<= 1.2",
    "cold_first_request_ratio_slack": "<= 1.2",
    # one peer side by side (tests/bench/test_bench_peer.py): Cloud Custodian's notifier
    "peer_c7n_cold_start_ratio": "vs cold_start_ratio_notify",
    "peer_c7n_format_per_s": "vs ours_parse_render_per_s",
    "ours_parse_render_per_s": "",
    "peer_format_slower_x": "",
}


class Results:
    def __init__(self) -> None:
        self.values: dict[str, float | int] = {}
        self.details: dict[str, Any] = {}

    def record(self, name: str, value: float | int, **details: Any) -> None:
        if name not in NAMES:
            raise KeyError(f"{name} is not one of issue 7's or 13's bench names")
        self.values[name] = round(value, 3) if isinstance(value, float) else value
        if details:
            self.details[name] = details
        print(f"\n{name}: {self.values[name]}", flush=True)

    def note(self, key: str, value: Any) -> None:
        self.details[key] = value


_RESULTS = Results()


@pytest.fixture(scope="session")
def bench() -> Results:
    return _RESULTS


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _RESULTS.values:
        return
    OUT.mkdir(exist_ok=True)
    ordered = {n: _RESULTS.values[n] for n in NAMES if n in _RESULTS.values}
    (OUT / "results.json").write_text(json.dumps(ordered, indent=2) + "\n")
    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (OUT / "details.json").write_text(
        json.dumps({"machine": machine, **_RESULTS.details}, indent=2, default=str) + "\n"
    )
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    write = tr.write_line if tr else print
    write("")
    write(f"# bench results ({machine['cpus']} cpus, Python {machine['python']}); targets are reported, not asserted")
    for name, value in ordered.items():
        write(f"{name}: {value}")
    write("# targets: " + "; ".join(f"{n} {t}" for n, t in NAMES.items() if t))
    missing = [n for n in NAMES if n not in ordered]
    if missing:
        write(f"# not measured this run: {', '.join(missing)}")
    write(f"# written: {OUT / 'results.json'} and {OUT / 'details.json'}")
