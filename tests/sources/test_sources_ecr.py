"""ECR basic image scans: the highest non-zero count sets the severity; a clean rescan resolves the image's message."""

from __future__ import annotations

from bot.models import Severity
from bot.sources import parse_event
from bot.sources.ecr import counts_text, highest_severity, severity_counts
from tests.sources.source_events import load, parse

DIGEST = "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678"


def test_critical_findings_are_critical_and_clean_rescan_resolves_the_same_message() -> None:
    found, clean = parse("ecr-scan-critical"), parse("ecr-scan-clean")
    assert found.severity is Severity.CRITICAL and found.active
    assert found.fields == {"Findings": "10 CRITICAL, 9 MEDIUM"}
    assert found.problems == ["ecr:scan:CRITICAL"]
    assert "10 CRITICAL" in found.title and "my-repo" in found.title
    assert clean.severity is Severity.INFO and not clean.active
    assert clean.problems == ["ecr:scan:clean"]
    assert clean.fingerprint == found.fingerprint
    image = found.resources[0]
    assert (image.type, image.id) == ("AwsEcrContainerImage", f"my-repo@{DIGEST}")
    assert image.arn == "arn:aws:ecr:us-east-1:123456789012:repository/my-repo"
    assert clean.resources[0].name == "my-repo:latest" and clean.fields == {}
    assert found.context == {"ecr": {"repository": "my-repo", "image_digest": DIGEST, "image_tags": []}}


def test_link_goes_to_the_image_and_falls_back_to_the_repository() -> None:
    (link,) = parse("ecr-scan-critical").links
    assert link.url.startswith(
        "https://us-east-1.console.aws.amazon.com/ecr/repositories/private/123456789012/my-repo/"
    )
    assert "/_/image/sha256%3A7f5b" in link.url
    raw = load("ecr-scan-critical")
    raw["detail"]["image-digest"] = "not-a-digest"
    (repo_link,) = parse_event(raw).links
    assert repo_link.url.endswith("/private/123456789012/my-repo?region=us-east-1")
    raw["detail"]["repository-name"] = "Bad Repo<script>"
    assert parse_event(raw).links == []


def test_each_level_can_be_the_highest() -> None:
    for level, severity in [("HIGH", Severity.HIGH), ("MEDIUM", Severity.MEDIUM), ("LOW", Severity.LOW)]:
        raw = load("ecr-scan-critical")
        raw["detail"]["finding-severity-counts"] = {"CRITICAL": 0, level: 3, "INFORMATIONAL": 4}
        alert = parse_event(raw)
        assert alert.severity is severity and alert.active
        assert alert.problems == [f"ecr:scan:{severity.value}"]
    raw = load("ecr-scan-critical")
    raw["detail"]["finding-severity-counts"] = {"INFORMATIONAL": 2, "UNDEFINED": 0}
    informational = parse_event(raw)
    assert informational.severity is Severity.INFO and not informational.active


def test_failed_scan_is_low_and_shares_the_fingerprint() -> None:
    raw = load("ecr-scan-critical")
    raw["detail"]["scan-status"] = "FAILED"
    raw["detail"].pop("finding-severity-counts")
    failed = parse_event(raw)
    assert failed.severity is Severity.LOW and failed.active
    assert failed.problems == ["ecr:scan-failed"]
    assert "scan failed" in failed.title
    assert failed.fingerprint == parse("ecr-scan-critical").fingerprint


def test_a_scan_without_repository_falls_back_to_generic() -> None:
    raw = load("ecr-scan-critical")
    raw["detail"].pop("repository-name")
    raw["resources"] = []
    alert = parse_event(raw)
    assert alert.source_kind == "generic" and alert.parse_error


def test_count_helpers() -> None:
    counts = severity_counts({"critical": 10, "HIGH": 0, "MEDIUM": "9", "TOTAL": 25})
    assert counts == {"CRITICAL": 10, "MEDIUM": 9, "OTHER": 6}
    assert counts_text(counts) == "10 CRITICAL, 9 MEDIUM, 6 other"
    assert highest_severity(counts) is Severity.CRITICAL
    assert highest_severity(severity_counts({"TOTAL": 3})) is Severity.LOW
    assert highest_severity(severity_counts({"CRITICAL": 0, "TOTAL": 0})) is Severity.INFO
    assert severity_counts({"HIGH": True, "LOW": -1, "MEDIUM": None}) == {}
