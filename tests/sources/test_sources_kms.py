"""KMS key deletion: scheduled, deleted and cancelled are one message."""

from __future__ import annotations

from bot.models import Severity
from bot.sources import parse_event
from tests.sources.source_events import load, parse


def test_kms_deletion_lifecycle_is_one_message() -> None:
    scheduled, deleted = parse("kms-schedulekeydeletion"), parse("kms-cmk-deletion")
    assert scheduled.context == {"kms": {"key_id": "1234abcd-12ab-34cd-56ef-1234567890ab"}}
    assert scheduled.severity is Severity.HIGH
    assert scheduled.fingerprint == deleted.fingerprint
    cancel = load("kms-schedulekeydeletion")
    cancel["detail"]["eventName"] = "CancelKeyDeletion"
    cancelled = parse_event(cancel)
    assert not cancelled.active and cancelled.fingerprint == scheduled.fingerprint
