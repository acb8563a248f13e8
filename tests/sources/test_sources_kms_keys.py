"""KMS key-material notices: rotation is an INFO notice, expired imported material is HIGH."""

from __future__ import annotations

from bot.models import Severity
from bot.sources import parse_event
from tests.sources.source_events import load, parse

KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"


def test_rotation_is_an_info_notice() -> None:
    alert = parse("kms-rotation")
    assert alert.severity is Severity.INFO and not alert.active
    assert alert.title == f"KMS key {KEY}: key material rotated (on-demand)"
    assert alert.context == {"kms": {"key_id": KEY}}
    assert [(r.type, r.id) for r in alert.resources] == [("AwsKmsKey", KEY)]
    assert alert.fields == {"Rotation": "on-demand", "Key origin": "AWS_KMS", "New key material": "96083e4fb6db…"}
    assert alert.problems == ["kms:key-material-rotated"]
    assert alert.links[0].url == f"https://us-west-2.console.aws.amazon.com/kms/home?region=us-west-2#/kms/keys/{KEY}"


def test_expired_key_material_is_high_and_active() -> None:
    alert = parse("kms-imported-key-material-expiration")
    assert alert.severity is Severity.HIGH and alert.active
    assert alert.problems == ["kms:imported-key-material-expired"]
    assert alert.context == {"kms": {"key_id": KEY}}
    assert alert.fields == {}
    assert alert.fingerprint != parse("kms-rotation").fingerprint
    assert alert.fingerprint != parse("kms-cmk-deletion").fingerprint


def test_old_rotation_format_and_key_id_only() -> None:
    raw = load("kms-rotation")
    raw["detail"] = {"key-id": KEY}
    raw["resources"] = []
    alert = parse_event(raw)
    assert alert.parse_error is None
    assert alert.title == f"KMS key {KEY}: key material rotated"
    assert alert.resources[0].arn == f"arn:aws:kms:us-west-2:111122223333:key/{KEY}"
    assert alert.fingerprint == parse("kms-rotation").fingerprint
    raw["detail"] = {}
    assert parse_event(raw).parse_error
