"""`pip install .` into a fresh venv, then the installed `eventops` run from outside the checkout.

One module-scoped build: the build inputs (pyproject.toml, README.md, LICENSE, requirements.txt,
bot/, handlers/) are copied to a temp dir, `pip install '<copy>[sandbox]'` builds the wheel there
(isolated build env: setuptools from the machine's package index) and installs it with every
dependency from the index into a venv that sees neither the checkout nor the shared .venv. Every command runs
with cwd = the temp dir and no PYTHONPATH, and the tests check that `bot` is imported from the
venv's site-packages, so a pass means the installed package works on its own. About 30 s.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

import bot
from bot.config_docs import SCHEMA_PATH

ROOT = Path(__file__).resolve().parents[2]
BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE", "requirements.txt", "bot", "handlers")
EVENT = ROOT / "tests" / "events" / "guardduty-ec2-ssh-bruteforce.json"

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    """This process's environment (the pip index settings) minus anything that points at a Python."""
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "EVENTOPS_CONFIG"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _run(cmd: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{cmd}: exit {out.returncode}\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temp dir holding `venv/` with eventops installed (and nothing else of ours)."""
    work = tmp_path_factory.mktemp("install")
    src = work / "src"
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    _run([sys.executable, "-m", "venv", str(work / "venv")], cwd=work)
    pip = [
        str(work / "venv" / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--no-compile",
        "--disable-pip-version-check",
    ]
    _run([*pip, f"{src}[sandbox]"], cwd=work, timeout=600)
    shutil.rmtree(src)  # nothing of the source is left to import by accident
    return work


def test_the_installed_bot_is_imported_from_the_venv_not_the_checkout(installed: Path):
    code = "import bot, handlers, importlib.metadata as m; print(bot.__file__); print(handlers.__file__); print(m.version('eventops'))"
    out = _run([str(installed / "venv" / "bin" / "python"), "-c", code], cwd=installed).stdout.splitlines()
    site = installed / "venv" / "lib"
    assert all(Path(p).is_relative_to(site) for p in out[:2]), out
    assert "site-packages" in out[0]
    assert out[2] == bot.__version__  # pyproject reads bot.__version__: one number everywhere


def test_eventops_version(installed: Path):
    out = _run([str(installed / "venv" / "bin" / "eventops"), "--version"], cwd=installed)
    assert out.stdout.strip() == f"eventops {bot.__version__}"
    out = _run([str(installed / "venv" / "bin" / "python"), "-m", "bot", "--version"], cwd=installed)
    assert out.stdout.strip() == f"eventops {bot.__version__}"


def test_eventops_render_matches_the_checkout(installed: Path):
    shutil.copy2(EVENT, installed / EVENT.name)  # a relative path in the temp dir: nothing read from the checkout
    out = _run([str(installed / "venv" / "bin" / "eventops"), "render", EVENT.name], cwd=installed)
    payload = json.loads(out.stdout)
    assert payload["channel"] == "#eventops"  # the built-in notify-only default route
    assert payload["metadata"]["event_payload"]["source_kind"] == "guardduty"
    assert "SSHBruteForce" in json.dumps(payload)
    source = _run([sys.executable, "-m", "bot", "render", str(EVENT)], cwd=ROOT)
    assert json.loads(source.stdout) == payload


def test_eventops_check_config_loads_the_whole_catalog(installed: Path):
    config = installed / "eventops.yml"
    shutil.copy2(ROOT / "config" / "eventops.yml", config)
    out = _run([str(installed / "venv" / "bin" / "eventops"), "check-config", str(config)], cwd=installed)
    assert out.stdout.startswith(f"{config}: OK")


def test_eventops_config_schema_is_the_published_one(installed: Path):
    out = _run([str(installed / "venv" / "bin" / "eventops"), "config-schema"], cwd=installed)
    assert out.stdout == SCHEMA_PATH.read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_console(proc: subprocess.Popen[str], deadline: float) -> str:
    """The console URL the sandbox prints once it is up (its output so far on failure)."""
    assert proc.stdout is not None
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(r"Console:\s+(http://\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError("the sandbox never printed its console URL:\n" + "".join(seen))


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return bytes(resp.read())


def test_eventops_sandbox_serves_the_console_and_posts_the_demo_alerts(installed: Path):
    """The [sandbox] extra and the package data (demo config, console assets) are all there."""
    cmd = [str(installed / "venv" / "bin" / "eventops"), "sandbox", "--port", str(_free_port())]
    cmd += ["--aws-port", str(_free_port())]
    proc = subprocess.Popen(cmd, cwd=installed, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = _wait_for_console(proc, time.monotonic() + 90).rstrip("/")
        assert b"<html" in _get(url + "/").lower()
        assert _get(url + "/console/static/console.js")
        messages: list[dict[str, object]] = []
        deadline = time.monotonic() + 60
        while len(messages) < 3 and time.monotonic() < deadline:  # DEMO: open-port, guardduty, alarm
            messages = json.loads(_get(url + "/api/messages"))["messages"]
            time.sleep(0.5)
        assert len(messages) >= 3, messages
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_the_sandbox_extra_pins_what_requirements_dev_pins():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    dev = (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert extras["sandbox"] and all(pin in dev for pin in extras["sandbox"]), extras


def _data_files(package_dir: Path) -> set[str]:
    """Every file under a package tree that is not Python or a contributor note (*.md)."""
    skip = {".py", ".pyc", ".md"}
    return {
        p.relative_to(package_dir).as_posix()
        for p in package_dir.rglob("*")
        if p.is_file() and p.suffix not in skip and "__pycache__" not in p.parts
    }


def test_every_data_file_of_the_checkout_is_installed(installed: Path):
    """A new asset beside the code (YAML, HTML, JS, JSON, ...) must be listed in package-data."""
    (site,) = (installed / "venv" / "lib").glob("python3*/site-packages")
    for package in ("bot", "handlers"):
        expected = _data_files(ROOT / package)
        assert expected <= _data_files(site / package), (
            f"{package}: not installed: {expected - _data_files(site / package)}"
        )
    assert {"demo-config.yml", "console/index.html", "console/console.js"} <= {
        f.removeprefix("sandbox/") for f in _data_files(ROOT / "bot")
    }
