"""ECR basic image scans ("ECR Image Scan"), and the image/severity-count helpers Inspector2 scans share."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from bot.models import Alert, Link, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

# ECR's own repository name pattern (namespaces separated by "/"), 2-256 characters.
REPOSITORY_RE = re.compile(r"^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")

# Count keys, highest first. UNDEFINED (no vendor priority yet) and UNTRIAGED read as LOW.
_COUNT_LEVELS: tuple[tuple[str, Severity], ...] = (
    ("CRITICAL", Severity.CRITICAL),
    ("HIGH", Severity.HIGH),
    ("MEDIUM", Severity.MEDIUM),
    ("LOW", Severity.LOW),
    ("UNDEFINED", Severity.LOW),
    ("UNTRIAGED", Severity.LOW),
    ("INFORMATIONAL", Severity.INFO),
)


def _count(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0


def severity_counts(counts: Mapping[str, Any] | None) -> dict[str, int]:
    """``finding-severity-counts`` as upper-case level → count, zero counts dropped, highest first.

    A ``TOTAL`` (Inspector2 scans count only CRITICAL/HIGH/MEDIUM) larger than the listed levels
    adds the rest as ``OTHER``.
    """
    raw = {str(k).upper(): _count(v) for k, v in (counts or {}).items()}
    out = {key: raw[key] for key, _ in _COUNT_LEVELS if raw.get(key)}
    rest = raw.get("TOTAL", 0) - sum(out.values())
    if rest > 0:
        out["OTHER"] = rest
    return out


def highest_severity(counts: Mapping[str, int]) -> Severity:
    """The level of the highest non-zero count (``severity_counts`` output); INFO when there is none."""
    levels = dict(_COUNT_LEVELS) | {"OTHER": Severity.LOW}
    found = [levels[key] for key, n in counts.items() if n and key in levels]
    return max(found, key=lambda s: s.rank, default=Severity.INFO)


def counts_text(counts: Mapping[str, int]) -> str:
    """``{"CRITICAL": 10, "MEDIUM": 9}`` → ``10 CRITICAL, 9 MEDIUM``."""
    return ", ".join(f"{n} {'other' if key == 'OTHER' else key}" for key, n in counts.items())


def repository_name(value: str | None) -> str:
    """A repository name, also from a repository ARN (Inspector2 scans send the ARN)."""
    arn = arns.parse_arn(value)
    if arn and arn.resource.startswith("repository/"):
        return arn.resource[len("repository/") :]
    return value or ""


def image_resource(repository: str, digest: str, tags: list[str], account: str, region: str) -> Resource:
    """``AwsEcrContainerImage`` with id ``repo@sha256:…`` (``repo:tag`` without a digest)."""
    tag = tags[0] if tags else ""
    rid = f"{repository}@{digest}" if digest else f"{repository}:{tag}" if tag else repository
    name = f"{repository}:{tag}" if tag else f"{repository}@{digest[:19]}" if digest else repository
    return Resource(
        type="AwsEcrContainerImage",
        id=rid,
        name=name,
        arn=arns.build_arn("ecr", region, account, f"repository/{repository}") if repository else None,
        region=region or None,
        account=account or None,
    )


def image_link(region: str, account: str, repository: str, digest: str) -> Link | None:
    """The image's page (its scan findings) in the ECR console, else the repository's."""
    if not (arns.is_region(region) and arns.is_account(account) and arns.matches(REPOSITORY_RE, repository)):
        return None
    # The repository pattern allows only [a-z0-9._-/]; the console keeps the slashes of namespaces.
    base = f"{console._host(region)}/ecr/repositories/private/{account}/{repository}"
    if arns.matches(DIGEST_RE, digest):
        return Link(label="Image scan findings", url=f"{base}/_/image/{console._q(digest)}/details?region={region}")
    return Link(label=f"Repository {repository}", url=f"{base}?region={region}")


class EcrImageScan(Detail):
    scan_status: str = Field(default="", alias="scan-status")
    repository_name: str = Field(default="", alias="repository-name")
    image_digest: str = Field(default="", alias="image-digest")
    image_tags: list[str] = Field([], alias="image-tags")
    finding_severity_counts: dict[str, Any] = Field(default_factory=dict, alias="finding-severity-counts")


@parsers.register(("aws.ecr", "ECR Image Scan"))
class EcrImageScanParser(Parser):
    """ECR basic image scan results. Example: my-repo@sha256:7f5b… has 10 CRITICAL, 9 MEDIUM findings → CRITICAL."""

    kind = "ecr"
    doc = SourceDoc(
        label="ECR image scan (basic)",
        severity="highest non-zero finding count (CRITICAL/HIGH/MEDIUM/LOW; UNDEFINED LOW, INFORMATIONAL INFO); "
        "scan FAILED LOW",
        resolved="a scan with no findings (or only INFORMATIONAL ones)",
        fingerprint="account, region, repository, image digest (a rescan updates the message)",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = EcrImageScan.model_validate(event.detail)
        arn_repo = next((repository_name(r) for r in event.resources if ":ecr:" in r), "")
        repository = repository_name(d.repository_name) or arn_repo
        if not repository:
            raise ValueError("ECR Image Scan without a repository-name")
        tags = [t for t in d.image_tags if isinstance(t, str) and t]
        image = image_resource(repository, d.image_digest, tags, event.account, event.region)
        label = image.name or image.id
        counts = severity_counts(d.finding_severity_counts)
        status = d.scan_status.upper()
        fields: dict[str, Any] = {"Image tags": ", ".join(tags) if len(tags) > 1 else None}
        if status == "FAILED":
            severity, active, problem = Severity.LOW, True, "ecr:scan-failed"
            title = f"ECR image scan failed for {label}"
            summary = "The basic scan of the image failed; its vulnerabilities are unknown until a scan completes."
            fields["Scan status"] = d.scan_status
        elif counts:
            severity = highest_severity(counts)
            active = severity is not Severity.INFO
            problem = f"ecr:scan:{severity.value}"
            total = sum(counts.values())
            title = f"{counts_text(counts)} vulnerabilit{'ies' if total != 1 else 'y'} in ECR image {label}"
            summary = (
                f"The image scan found {total} vulnerabilit{'ies' if total != 1 else 'y'} ({counts_text(counts)})."
            )
            fields["Findings"] = counts_text(counts)
        else:
            severity, active, problem = Severity.INFO, False, "ecr:scan:clean"
            title = f"ECR image {label} scanned clean"
            summary = "The image scan completed without findings."
        if status not in ("COMPLETE", "FAILED", ""):
            fields["Scan status"] = d.scan_status
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.account, event.region, repository, d.image_digest),
            title=title,
            summary=summary,
            severity=severity,
            resources=[image],
            fields=fields,
            links=console.keep(image_link(event.region, event.account, repository, d.image_digest)),
            context={"ecr": {"repository": repository, "image_digest": d.image_digest, "image_tags": tags}},
            problems=[problem],
            active=active,
        )
