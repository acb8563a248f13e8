"""Build the Lambda artifact: ``.build/eventops.zip``, without Docker.

    python -m bot.deploy.build [--out .build] [--python PATH]

1. Linux wheels for the function architecture (``pip install --target --platform
   manylinux2014_aarch64 --only-binary=:all: --python-version 3.12``): nothing is compiled here,
   so the host's OS and CPU do not matter.
2. ``bot/`` (without ``bot/deploy`` and ``bot/sandbox``, which only run on a laptop),
   ``handlers/`` and ``config/``.
3. Bytecode for the Lambda runtime's Python (3.12), because imports without ``.pyc`` took about
   4x longer and ``/var/task`` is read-only, so Lambda can never cache its own. The ``.pyc`` use
   ``unchecked-hash`` invalidation: the zip's timestamps are fixed (for a reproducible artifact),
   so timestamp-checked ``.pyc`` would all look stale and be ignored.
4. A deterministic zip: sorted entries, fixed timestamps, fixed permissions. The same inputs
   give the same bytes, so ``osls deploy`` skips unchanged code.

When no Python 3.12 is found, the artifact ships without bytecode and a warning says so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bot.errors import EventOpsError

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PYTHON = "3.12"
PLATFORM = "manylinux2014_aarch64"
SHIPPED = ("bot", "handlers", "config")
NOT_SHIPPED = ("bot/deploy", "bot/sandbox")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class BuildError(EventOpsError):
    """A step of the artifact build failed; the message says which and why."""


def find_runtime_python(explicit: str | None = None) -> str | None:
    """A Python ``RUNTIME_PYTHON`` interpreter: ``--python``, ``python3.12`` on PATH, or pyenv's."""
    candidates: list[str] = [explicit] if explicit else []
    on_path = shutil.which(f"python{RUNTIME_PYTHON}")
    if on_path:
        candidates.append(on_path)
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            root = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=True).stdout.strip()
            versions = sorted(Path(root, "versions").glob(f"{RUNTIME_PYTHON}.*"), reverse=True)
            candidates += [str(v / "bin" / "python3") for v in versions]
        except (OSError, subprocess.CalledProcessError):
            pass
    for candidate in candidates:
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and out.stdout.strip() == RUNTIME_PYTHON:
            return candidate
    return None


def freeze_constraints(path: Path) -> Path | None:
    """Pin transitive dependencies to the versions the tests ran with (this venv's).

    ``requirements.txt`` pins direct dependencies only; without this, the artifact could get a
    newer botocore than the one the suite was run against.
    """
    if sys.prefix == sys.base_prefix:
        return None
    result = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        return None
    pins = [line for line in result.stdout.splitlines() if "==" in line and not line.startswith("-")]
    path.write_text("\n".join(pins) + "\n")
    return path


def install_dependencies(target: Path, requirements: Path, constraints: Path | None = None) -> None:
    """Linux aarch64 CPython 3.12 wheels from ``requirements`` into ``target``."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(target),
        "--platform",
        PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        RUNTIME_PYTHON,
        "--only-binary=:all:",
        "--requirement",
        str(requirements),
    ]
    if constraints is not None:
        cmd += ["--constraint", str(constraints)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"pip could not install {PLATFORM} wheels:\n{result.stderr.strip()}")


def copy_sources(root: Path, target: Path) -> list[str]:
    """Copy the shipped source trees; returns the ones that were missing (e.g. no config/ yet)."""
    missing = []
    skip = {root / p for p in NOT_SHIPPED}
    for name in SHIPPED:
        src = root / name
        if not src.is_dir():
            missing.append(name)
            continue

        def ignore(directory: str, names: list[str]) -> set[str]:
            return {n for n in names if n == "__pycache__" or n.endswith(".pyc") or Path(directory, n) in skip}

        shutil.copytree(src, target / name, ignore=ignore)
    return missing


def prune(target: Path) -> None:
    """Drop what Lambda never reads: stale caches and pip's console scripts."""
    for path in list(target.rglob("__pycache__")):
        shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(target / "bin", ignore_errors=True)


def compile_bytecode(python: str, target: Path) -> None:
    """Precompile every module for the runtime's Python (see the module docstring)."""
    cmd = [python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(target)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        # A vendored file that does not compile (e.g. a py2-only template) is only a warning,
        # unless it is ours.
        ours = [line for line in result.stdout.splitlines() if any(f"/{p}/" in line for p in SHIPPED)]
        if ours:
            raise BuildError("compileall failed on our sources:\n" + "\n".join(ours))


def write_zip(source: Path, zip_path: Path) -> None:
    """A reproducible zip of ``source``: sorted names, fixed dates and modes."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = zip_path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, path.read_bytes(), compresslevel=6)
    tmp.replace(zip_path)


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(out: Path, root: Path = ROOT, python: str | None = None) -> Path:
    """Build ``out/eventops.zip`` and return its path; progress goes to stdout."""
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    # Staged outside the repository: ruff, pytest and git must never see the vendored packages.
    staging = Path(tempfile.mkdtemp(prefix="eventops-build-"))
    try:
        return _build(out, root, python, staging, started)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _build(out: Path, root: Path, python: str | None, staging: Path, started: float) -> Path:
    install_dependencies(staging, root / "requirements.txt", freeze_constraints(out / "constraints.txt"))
    missing = copy_sources(root, staging)
    for name in missing:
        print(f"build: warning: {name}/ does not exist; not shipped", file=sys.stderr)
    prune(staging)
    runtime_python = find_runtime_python(python)
    if runtime_python:
        compile_bytecode(runtime_python, staging)
    else:
        print(
            f"build: WARNING: no Python {RUNTIME_PYTHON} found (--python, python{RUNTIME_PYTHON}, pyenv): "
            "shipping WITHOUT bytecode; cold starts will be several times slower",
            file=sys.stderr,
        )
    zip_path = out / "eventops.zip"
    write_zip(staging, zip_path)
    unzipped = tree_size(staging)
    shown = zip_path.relative_to(root) if zip_path.is_relative_to(root) else zip_path
    print(
        f"build: {shown}: {zip_path.stat().st_size / 1e6:.1f} MB zipped, {unzipped / 1e6:.1f} MB unzipped "
        f"(Lambda limit 250 MB), bytecode: {'python ' + RUNTIME_PYTHON if runtime_python else 'NONE'}, "
        f"{time.monotonic() - started:.1f} s"
    )
    if unzipped > 250 * 1024 * 1024:
        raise BuildError("the unzipped artifact exceeds Lambda's 250 MB limit")
    return zip_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.deploy.build", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".build", help="output directory (default .build)")
    parser.add_argument("--python", help=f"a Python {RUNTIME_PYTHON} interpreter for the bytecode")
    args = parser.parse_args(argv)
    try:
        build(args.out.resolve(), python=args.python)
    except BuildError as exc:
        print(f"build: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
