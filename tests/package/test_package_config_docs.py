"""docs/eventops.schema.json and docs/configuration.md: fresh, complete, and true to the models."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import bot
from bot.__main__ import main
from bot.config_docs import DOC_PATH, EXAMPLE, SCHEMA_PATH, config_schema, deploy_params, outputs, render_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_the_generated_files_are_fresh():
    for path, text in outputs().items():
        assert path.read_text() == text, f"{path.relative_to(ROOT)} is stale: run `make generate`"


def test_config_schema_command_prints_the_published_schema(capsys: pytest.CaptureFixture[str]):
    assert main(["config-schema"]) == 0
    assert capsys.readouterr().out == SCHEMA_PATH.read_text()


def _properties(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {f"Config.{k}": v for k, v in schema["properties"].items()}
    for name, sub in schema["$defs"].items():
        out.update({f"{name}.{k}": v for k, v in sub.get("properties", {}).items()})
    return out


def test_every_key_has_a_description_in_the_schema_and_the_page():
    page = DOC_PATH.read_text()
    props = _properties(config_schema())
    assert len(props) > 50
    for key, prop in props.items():
        assert prop.get("description"), key
        assert prop["description"].replace("|", "\\|") in page, key


@pytest.mark.parametrize("source", ["example", "config/eventops.yml", "bot/sandbox/demo-config.yml"])
def test_the_schema_accepts_the_shipped_configs(source: str):
    data = yaml.safe_load(EXAMPLE if source == "example" else (ROOT / source).read_text())
    jsonschema.Draft202012Validator(config_schema()).validate(data)


def test_the_schema_rejects_what_the_loader_rejects():
    validator = jsonschema.Draft202012Validator(config_schema())
    assert not validator.is_valid({"routing": {"rulez": []}})  # unknown key
    assert not validator.is_valid({"routing": {"rules": [{"name": "x", "mode": "sometimes"}]}})
    assert not validator.is_valid({"accounts": [{"alias": "no id"}]})


def test_every_deploy_parameter_is_documented():
    page = DOC_PATH.read_text()
    params = deploy_params()
    assert {"publishBus", "archiveBucket", "logLevel", "logRetentionDays", "slackSecretName", "memberRoleName"} <= set(
        params
    )
    for name in params:
        assert f"| `{name}` |" in page, name


def test_an_undocumented_deploy_parameter_fails_generation():
    with pytest.raises(KeyError, match="newParam"):
        render_markdown({**deploy_params(), "newParam": "x"})


def test_readme_links_the_configuration_page():
    readme = (ROOT / "README.md").read_text()
    assert "(docs/configuration.md)" in readme
    assert "see the Configuration section" not in readme


def test_version_is_one_number():
    """`--version` prints bot.__version__, which pyproject.toml reads for the package metadata."""
    out = subprocess.run([sys.executable, "-m", "bot", "--version"], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == f"eventops {bot.__version__}"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "bot.__version__"}
    assert pyproject["tool"]["setuptools"]["dynamic"]["dependencies"] == {"file": ["requirements.txt"]}


def test_changelog_has_the_current_version():
    assert f"## [{bot.__version__}]" in (ROOT / "CHANGELOG.md").read_text()


def test_schema_file_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))
