"""Fixtures for the deployment tests: a CloudFormation-tolerant YAML loader, the packaged template.

``packaged_template`` runs ``osls package`` itself (about 3 s, offline, dummy credentials) with a
placeholder artifact, so these tests need neither ``make package`` nor a built ``.build/``.
It runs ``npm ci`` first when ``node_modules`` lacks osls (about 12 s), and skips only when
``npm`` is not installed at all.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OSLS = ROOT / "node_modules" / ".bin" / "osls"


class CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that reads ``!Ref X`` as ``{"Ref": "X"}``, ``!GetAtt A.B`` as ``{"Fn::GetAtt": [A, B]}``."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _cfn_tag)


def load_cfn_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=CloudFormationLoader)


@pytest.fixture(scope="session")
def cfn_yaml():
    """``cfn_yaml(path)`` loads a YAML file written with CloudFormation short tags."""
    return load_cfn_yaml


@pytest.fixture(scope="session")
def packaged_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The CloudFormation template ``osls package --stage ci`` produces from the working tree."""
    if not OSLS.exists():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed: cannot run osls to package the template")
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            cwd=ROOT,
            check=True,
            timeout=300,
        )
    tmp = tmp_path_factory.mktemp("package")
    artifact = tmp / "placeholder.zip"
    with zipfile.ZipFile(artifact, "w") as zf:
        zf.writestr("handlers/__init__.py", "")
    out = tmp / "serverless"
    env = {k: v for k, v in os.environ.items() if k not in {"AWS_PROFILE", "AWS_SESSION_TOKEN"}}
    env.update(
        AWS_ACCESS_KEY_ID="offline",
        AWS_SECRET_ACCESS_KEY="offline",
        AWS_REGION="us-east-1",
        EVENTOPS_ARTIFACT=str(artifact),
    )
    result = subprocess.run(
        [str(OSLS), "package", "--stage", "ci", "--region", "us-east-1", "--package", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"osls package failed:\n{result.stdout}\n{result.stderr}"
    return json.loads((out / "cloudformation-template-update-stack.json").read_text())
