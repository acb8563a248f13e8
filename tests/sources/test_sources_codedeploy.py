"""CodeDeploy deployment and instance failures."""

from __future__ import annotations

from bot.models import Severity
from tests.sources.source_events import parse


def test_codedeploy() -> None:
    alert = parse("codedeploy-deployment-failure")
    assert alert.severity is Severity.HIGH
    assert alert.primary_resource.id == "d-5Z6K8NW9T"
    assert any("deployments/d-5Z6K8NW9T" in link.url for link in alert.links)
