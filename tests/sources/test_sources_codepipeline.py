"""CodePipeline execution state changes."""

from __future__ import annotations

from bot.models import Severity
from tests.sources.source_events import parse


def test_failure_and_success_share_a_message() -> None:
    failure, success = parse("codepipeline-failed"), parse("codepipeline-succeeded")
    assert failure.severity is Severity.HIGH and failure.active
    assert success.severity is Severity.INFO and not success.active
    assert failure.fingerprint == success.fingerprint
