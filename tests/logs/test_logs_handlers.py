"""Each of the four functions, run as Lambda runs it, writes JSON log lines a person can use.

A real child process per run (``tests/logs/lambda_process.py``) sets logging up as Lambda's
Python runtime does (a root handler at WARNING, or at ``AWS_LAMBDA_LOG_LEVEL`` with the JSON
log format serverless.yml configures), imports the handler and serves one event against moto's
server and the loopback Slack fake (the ``deployed`` world of tests/faults). The test reads what
the process wrote: every line is JSON, INFO lines appear at ``EVENTOPS_LOG_LEVEL=INFO`` and not
at WARN, every EventOps line carries the correlation id, and no line carries the bot token or
the signing secret (docs/reliability.md #13).
"""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from bot.approval.jobs import Job, JobKind, sealed
from bot.config import Settings
from bot.errors import ConfigError
from bot.logs import configure_logging
from bot.models import Actor
from tests.approval.world import ALICE, REMEDIATE, TEAM, http_event, interact_world
from tests.bench.bench_env import TOKEN, sqs_record
from tests.faults.test_faults_kill import EVENT, Deployed

ROOT = Path(__file__).resolve().parents[2]
SIGNING = "kill-test-secret"  # the signing secret of the deployed world
PROPOSAL = "p-logs-0001"


def _slack_secret(d: Deployed) -> str:
    """The Slack secret in moto's Secrets Manager, as serverless.yml's slackSecretName names it."""
    sm = boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=d.endpoint)
    name = f"eventops/ci/slack-{d.table}"
    try:
        sm.describe_secret(SecretId=name)
    except sm.exceptions.ResourceNotFoundException:
        sm.create_secret(Name=name, SecretString=json.dumps({"bot_token": TOKEN, "signing_secret": SIGNING}))
    return name


def _notify_event(d: Deployed) -> tuple[dict[str, Any], str]:
    return {"Records": [sqs_record(EVENT)]}, EVENT["id"]


def _worker_event(d: Deployed) -> tuple[dict[str, Any], str]:
    # Sealed by the bot, but for an actor whose team the policy does not list: refused, audited.
    job = sealed(
        d.runtime(), Job(kind=JobKind.EXECUTE, proposal_id=PROPOSAL, actor=Actor(user_id="U0ALICE", team_id=TEAM))
    )
    return {"Records": [sqs_record(json.loads(job.body()))]}, PROPOSAL


def _slack_event(d: Deployed) -> tuple[dict[str, Any], str]:
    fields = {"command": "/ops", "text": "help me", "user_id": "U0ALICE", "team_id": TEAM, "channel_id": "C0OPS"}
    return http_event(urllib.parse.urlencode(fields), secret=SIGNING), "/ops help"


def _housekeeping_event(d: Deployed) -> tuple[dict[str, Any], str]:
    return {"task": "housekeeping"}, "housekeeping:"


EVENTS = {"notify": _notify_event, "worker": _worker_event, "slack": _slack_event, "housekeeping": _housekeeping_event}


def run_like_lambda(d: Deployed, name: str, level: str, log_format: str, tmp_path: Path) -> tuple[list[str], Any, str]:
    """Run handler ``name`` on its test event in a Lambda-like process; its log lines, answer and correlation id."""
    event, correlation = EVENTS[name](d)
    env = {**d.env(), "EVENTOPS_LOG_LEVEL": level, "AWS_LAMBDA_FUNCTION_NAME": f"eventops-ci-{name}"}
    # As deployed: the token and signing secret come from Secrets Manager, not the environment.
    del env["SLACK_BOT_TOKEN"], env["SLACK_SIGNING_SECRET"]
    env["EVENTOPS_SLACK_SECRET_ID"] = _slack_secret(d)
    env.pop("AWS_LAMBDA_LOG_FORMAT", None)
    env.pop("AWS_LAMBDA_LOG_LEVEL", None)
    if log_format == "JSON":  # what serverless.yml's provider.logs.lambda makes Lambda set
        env.update({"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": level})
    result_file = tmp_path / f"{name}-{level}-{log_format}.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests/logs/lambda_process.py"), name, str(result_file)],
        input=json.dumps(event).encode(),
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    lines = (proc.stdout.decode() + proc.stderr.decode()).splitlines()
    return [line for line in lines if line.strip()], json.loads(result_file.read_text()), correlation


def _parsed(lines: list[str]) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            pytest.fail(f"a log line is not JSON: {line[:300]!r}")
    return out


def _eventops_lines(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The log lines (EMF metric objects are JSON too, without a level) from EventOps' Logger."""
    return [r for r in records if "level" in r and r.get("service") == "eventops"]


def _has_correlation(line: dict[str, Any], correlation: str) -> bool:
    value = str(line.get("correlation_id") or "")
    return value.startswith(correlation) if correlation.endswith(":") else value == correlation


@pytest.mark.parametrize("log_format", ["JSON", "Text"])
@pytest.mark.parametrize("name", sorted(EVENTS))
def test_info_lines_are_json_with_the_correlation_id_and_no_secrets(deployed, tmp_path, name, log_format):
    lines, result, correlation = run_like_lambda(deployed, name, "INFO", log_format, tmp_path)
    assert "raised" not in (result if isinstance(result, dict) else {}), result
    records = _parsed(lines)
    ours = _eventops_lines(records)
    info = [r for r in ours if r["level"] == "INFO"]
    assert info, f"no INFO line from {name}: {lines}"
    # Every line of the invocation after the request is identified carries the correlation id.
    assert all(_has_correlation(r, correlation) for r in info), [(r["message"], r.get("correlation_id")) for r in info]
    assert len({(r["message"], r.get("timestamp")) for r in ours}) == len(ours), "a line was written twice"
    assert all(r.get("request_id") for r in ours)
    text = "\n".join(lines)
    assert TOKEN not in text and SIGNING not in text


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_at_warn_no_info_line_is_written(deployed, tmp_path, name):
    lines, _, _ = run_like_lambda(deployed, name, "WARN", "JSON", tmp_path)
    ours = _eventops_lines(_parsed(lines))
    assert [r["message"] for r in ours if r["level"] in ("DEBUG", "INFO")] == []
    if name == "worker":  # the refusal is an ERROR: still written, with the proposal as correlation id
        refused = [r for r in ours if re.search(r"job .* refused", r["message"])]
        assert refused and all(r["correlation_id"] == PROPOSAL for r in refused)


@contextmanager
def eventops_json_lines() -> Iterator[io.StringIO]:
    """The JSON lines the ``eventops`` Logger writes, collected in-process (same formatter)."""
    logger = configure_logging("INFO")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logging.getLogger("eventops").addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger("eventops").removeHandler(handler)


def test_a_click_and_the_change_it_queues_log_under_the_proposal_id():
    with interact_world() as world, eventops_json_lines() as stream:
        p = world.post_alert()
        mark = len(stream.getvalue())
        world.click(REMEDIATE, p.id, ALICE)
        click_lines = _parsed(stream.getvalue()[mark:].splitlines())
        mark = len(stream.getvalue())
        world.drain()
        worker_lines = _parsed(stream.getvalue()[mark:].splitlines())
        assert world.rt.store.get_proposal(p.id).state.value == "SUCCEEDED"
    assert click_lines and worker_lines
    for line in click_lines:
        assert (line["correlation_id"], line["proposal_id"]) == (p.id, p.id), line
        assert line["interaction"].startswith("eventops:remediate"), line
    assert all(line["correlation_id"] == p.id for line in worker_lines), worker_lines
    assert any(re.search(r"job .* → ", line["message"]) for line in worker_lines)


def test_the_log_level_takes_lambdas_names_and_refuses_a_typo():
    levels = {
        v: Settings.from_env({"EVENTOPS_LOG_LEVEL": v}).log_level for v in ("", "warn", "WARNING", "debug", "FATAL")
    }
    assert levels == {"": "INFO", "warn": "WARNING", "WARNING": "WARNING", "debug": "DEBUG", "FATAL": "CRITICAL"}
    assert Settings.from_env({}).log_level == "INFO"
    with pytest.raises(ConfigError, match="EVENTOPS_LOG_LEVEL: 'LOUD'"):
        Settings.from_env({"EVENTOPS_LOG_LEVEL": "LOUD"})
