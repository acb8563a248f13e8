"""Amazon Inspector findings ("Inspector2 Finding") and initial scan summaries ("Inspector2 Scan")."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from bot.models import Alert, Link, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers
from bot.sources.ecr import (
    DIGEST_RE,
    counts_text,
    highest_severity,
    image_link,
    image_resource,
    repository_name,
    severity_counts,
)

_SEVERITIES = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "INFORMATIONAL": Severity.INFO,
    "UNTRIAGED": Severity.LOW,
}
_TYPE_LABELS = {
    "PACKAGE_VULNERABILITY": "package vulnerability",
    "NETWORK_REACHABILITY": "network reachability",
    "CODE_VULNERABILITY": "code vulnerability",
}
_LAMBDA_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Inspector's "nothing to say" recommendation.
_NO_ADVICE = {"", "none provided"}


class _Package(Detail):
    name: str = ""
    version: str = ""
    fixed_in_version: str = Field(default="", alias="fixedInVersion")
    remediation: str = ""


class _Cvss(Detail):
    base_score: float | None = Field(default=None, alias="baseScore")
    source: str = ""
    version: str = ""


class _PackageDetails(Detail):
    vulnerability_id: str = Field(default="", alias="vulnerabilityId")
    vulnerable_packages: list[_Package] = Field([], alias="vulnerablePackages")
    cvss: list[_Cvss] = []


class _PortRange(Detail):
    begin: int | None = None
    end: int | None = None


class _NetworkDetails(Detail):
    open_port_range: _PortRange = Field(default_factory=_PortRange, alias="openPortRange")
    protocol: str = ""
    network_path: dict[str, Any] = Field(default_factory=dict, alias="networkPath")


class _CodeFile(Detail):
    file_path: str = Field(default="", alias="filePath")
    start_line: int | None = Field(default=None, alias="startLine")


class _CodeDetails(Detail):
    cwes: list[str] = []
    detector_name: str = Field(default="", alias="detectorName")
    file_path: _CodeFile = Field(default_factory=_CodeFile, alias="filePath")


class _FindingResource(Detail):
    id: str = ""
    type: str = ""
    region: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class Finding(Detail):
    finding_arn: str = Field(default="", alias="findingArn")
    type: str = ""
    severity: str = ""
    status: str = ""
    title: str = ""
    description: str = ""
    inspector_score: float | None = Field(default=None, alias="inspectorScore")
    epss: dict[str, Any] = Field(default_factory=dict)
    fix_available: str = Field(default="", alias="fixAvailable")
    exploit_available: str = Field(default="", alias="exploitAvailable")
    remediation: dict[str, Any] = Field(default_factory=dict)
    resources: list[_FindingResource] = []
    package_details: _PackageDetails | None = Field(default=None, alias="packageVulnerabilityDetails")
    network_details: _NetworkDetails | None = Field(default=None, alias="networkReachabilityDetails")
    code_details: _CodeDetails | None = Field(default=None, alias="codeVulnerabilityDetails")


def _str(obj: object, key: str) -> str:
    """``obj[key]`` when ``obj`` is a dict and the value a str, else ""."""
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) else ""


def _lambda_name(value: str) -> str:
    """``VulnerableFunction`` from ``arn:aws:lambda:…:function:VulnerableFunction:$LATEST``."""
    arn = arns.parse_arn(value)
    if arn and arn.resource.startswith("function:"):
        return arn.resource.split(":")[1]
    return value


def _resource(r: _FindingResource, account: str, region: str) -> Resource:
    rregion = r.region if arns.is_region(r.region) else region
    if r.type == "AWS_EC2_INSTANCE":
        return Resource(
            type="AwsEc2Instance",
            id=r.id,
            arn=arns.build_arn("ec2", rregion, account, f"instance/{r.id}")
            if arns.matches(arns.INSTANCE_ID_RE, r.id)
            else None,
            region=rregion or None,
            account=account or None,
        )
    if r.type == "AWS_ECR_CONTAINER_IMAGE":
        image = r.details.get("awsEcrContainerImage") or {}
        repo, digest = _str(image, "repositoryName"), _str(image, "imageHash")
        arn = arns.parse_arn(r.id)
        if arn and arn.resource.startswith("repository/") and (not repo or not digest):
            path, _, tail = arn.resource[len("repository/") :].rpartition("/")
            repo, digest = repo or path, digest or tail
        raw_tags = image.get("imageTags") if isinstance(image, dict) else None
        tags = [t for t in raw_tags or [] if isinstance(t, str) and t]
        return image_resource(repo or r.id, digest, tags, account, rregion)
    if r.type == "AWS_LAMBDA_FUNCTION":
        fn = r.details.get("awsLambdaFunction") or {}
        name = _str(fn, "functionName") or _lambda_name(r.id)
        return Resource(
            type="AwsLambdaFunction",
            id=name,
            arn=r.id if r.id.startswith("arn:") else None,
            region=rregion or None,
            account=account or None,
        )
    resource = arns.resource_from_arn(r.id)
    return resource.model_copy(update={"region": resource.region or rregion or None})


def _findings_link(region: str) -> Link | None:
    if not arns.is_region(region):
        return None
    return Link(
        label="Inspector findings", url=f"{console._host(region)}/inspector/v2/home?region={region}#/findings/all"
    )


def _lambda_link(region: str, name: str) -> Link | None:
    if not (arns.is_region(region) and arns.matches(_LAMBDA_NAME_RE, name)):
        return None
    return Link(label=f"Function {name}", url=f"{console._host(region)}/lambda/home?region={region}#/functions/{name}")


def _resource_link(res: Resource, region: str, account: str) -> Link | None:
    if res.type == "AwsEc2Instance":
        return console.ec2_instance(region, res.id)
    if res.type == "AwsLambdaFunction":
        return _lambda_link(region, res.id)
    if res.type == "AwsEcrContainerImage":
        repo, _, digest = res.id.partition("@")
        return image_link(region, account, repo, digest)
    return None


_KIND_WORDS = {"AwsEc2Instance": "instance", "AwsLambdaFunction": "function", "AwsEcrContainerImage": "image"}


def _label(res: Resource) -> str:
    word = _KIND_WORDS.get(res.type)
    return f"{word} {res.name or res.id}" if word else res.name or res.id


def _advice(d: Finding) -> str:
    rec = d.remediation.get("recommendation") if isinstance(d.remediation, dict) else None
    text = rec.get("text") if isinstance(rec, dict) else None
    if isinstance(text, str) and text.strip().lower() not in _NO_ADVICE:
        return text.strip()
    if d.package_details:
        commands = {p.remediation for p in d.package_details.vulnerable_packages if p.remediation}
        return "; ".join(sorted(commands))
    return ""


def _package_fields(d: Finding, p: _PackageDetails) -> dict[str, Any]:
    pkgs = p.vulnerable_packages
    fixed = {
        f"{x.name} {x.fixed_in_version}" for x in pkgs if x.fixed_in_version and x.fixed_in_version != "NotAvailable"
    }
    scores = [c for c in p.cvss if c.base_score is not None]
    top = max(scores, key=lambda c: c.base_score or 0.0, default=None)
    epss = d.epss.get("score")
    return {
        "CVE": p.vulnerability_id,
        "Package": ", ".join(f"{x.name} {x.version}".strip() for x in pkgs if x.name),
        "Fixed in": ", ".join(sorted(fixed)),
        "Fix available": {"YES": "yes", "PARTIAL": "partially"}.get(d.fix_available.upper()),
        "CVSS": f"{top.base_score} ({' '.join(filter(None, [top.source, top.version]))})".replace(" ()", "")
        if top
        else None,
        "EPSS": epss if isinstance(epss, (int, float)) and not isinstance(epss, bool) else None,
        "Exploit available": "yes" if d.exploit_available.upper() == "YES" else None,
    }


def _network_fields(n: _NetworkDetails) -> dict[str, Any]:
    begin, end = n.open_port_range.begin, n.open_port_range.end
    ports = None if begin is None else str(begin) if end in (None, begin) else f"{begin}-{end}"
    steps = n.network_path.get("steps") if isinstance(n.network_path, dict) else None
    path = [_str(s, "componentId") for s in steps or [] if _str(s, "componentId")]
    return {"Open ports": ports, "Protocol": n.protocol, "Network path": " → ".join(path)}


def _code_fields(c: _CodeDetails) -> dict[str, Any]:
    where = c.file_path.file_path
    if where and c.file_path.start_line is not None:
        where = f"{where}:{c.file_path.start_line}"
    return {"CWE": ", ".join(c.cwes), "Detector": c.detector_name, "File": where}


@parsers.register(("aws.inspector2", "Inspector2 Finding"))
class Inspector2FindingParser(Parser):
    """Amazon Inspector findings. Example: CVE-2023-30861 in flask 2.0.0 on function VulnerableFunction → HIGH."""

    kind = "inspector2"
    doc = SourceDoc(
        label="Inspector findings",
        severity="the finding's severity (CRITICAL/HIGH/MEDIUM/LOW; INFORMATIONAL INFO, UNTRIAGED LOW); "
        "CLOSED/SUPPRESSED INFO",
        resolved="status CLOSED or SUPPRESSED",
        fingerprint="account, region, finding ARN (created, updated and closed share one)",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = Finding.model_validate(event.detail)
        resources = [_resource(r, event.account, event.region) for r in d.resources if r.id]
        if not resources:
            resources = [arns.resource_from_arn(r) for r in event.resources if r]
        if not resources:
            raise ValueError("Inspector2 Finding without a resource")
        res = resources[0]
        ftype = d.type.upper()
        status = d.status.upper()
        active = status not in ("CLOSED", "SUPPRESSED")
        severity = _SEVERITIES.get(d.severity.upper(), Severity.MEDIUM) if active else Severity.INFO
        fields: dict[str, Any] = {"Finding": _TYPE_LABELS.get(ftype, d.type)}
        if d.package_details and ftype == "PACKAGE_VULNERABILITY":
            fields |= _package_fields(d, d.package_details)
        if d.network_details and ftype == "NETWORK_REACHABILITY":
            fields |= _network_fields(d.network_details)
        if d.code_details and ftype == "CODE_VULNERABILITY":
            fields |= _code_fields(d.code_details)
        fields["Inspector score"] = d.inspector_score
        if not active:
            fields["Inspector severity"] = d.severity
        what = d.title or _TYPE_LABELS.get(ftype, "finding")
        prefix = {"CLOSED": "Fixed: ", "SUPPRESSED": "Suppressed: "}.get(status, "")
        title = f"{prefix}{what} on {_label(res)}"
        summary = d.description.strip()
        if active and ftype == "PACKAGE_VULNERABILITY" and d.fix_available.upper() == "NO":
            summary = f"{summary}\nNo fixed version is available yet.".strip()
        if status == "CLOSED":
            summary = "Inspector no longer detects this finding (closed)."
        elif status == "SUPPRESSED":
            summary = "A suppression rule now hides this finding."
        region = res.region if arns.is_region(res.region) else event.region
        identity = d.finding_arn or f"{ftype}:{res.id}:{fields.get('CVE') or d.title}"
        context: dict[str, Any] = {"inspector2": {"finding_arn": d.finding_arn, "type": ftype}}
        if d.package_details and d.package_details.vulnerability_id:
            context["inspector2"]["vulnerability_id"] = d.package_details.vulnerability_id
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.account, event.region, identity),
            title=title,
            summary=summary,
            severity=severity,
            resources=resources,
            fields=fields,
            links=console.keep(_resource_link(res, region, event.account), _findings_link(region)),
            context=context,
            problems=[f"inspector2:{ftype or 'finding'}"],
            advice=_advice(d) or "",
            active=active,
        )


class ScanSummary(Detail):
    scan_status: str = Field(default="", alias="scan-status")
    repository_name: str = Field(default="", alias="repository-name")
    image_digest: str = Field(default="", alias="image-digest")
    image_tags: list[str] = Field([], alias="image-tags")
    instance_id: str = Field(default="", alias="instance-id")
    finding_severity_counts: dict[str, Any] = Field(default_factory=dict, alias="finding-severity-counts")


def _scan_target(
    d: ScanSummary, event: EventEnvelope
) -> tuple[Resource, tuple[str, ...], Link | None, dict[str, Any], str, list[str]]:
    """What an Inspector2 Scan scanned: (resource, fingerprint identity, console link, context,
    "ECR"/"EC2"/"Lambda", image tags)."""
    tags = [t for t in d.image_tags if isinstance(t, str) and t]
    repository = repository_name(d.repository_name)
    link: Link | None
    if repository:
        res = image_resource(repository, d.image_digest, tags, event.account, event.region)
        identity: tuple[str, ...] = (repository, d.image_digest)
        link = image_link(event.region, event.account, repository, d.image_digest)
        context: dict[str, Any] = {
            "ecr": {"repository": repository, "image_digest": d.image_digest, "image_tags": tags}
        }
        what = "ECR"
    else:
        raw = d.instance_id or next((r for r in event.resources if r), "")
        if not raw:
            raise ValueError("Inspector2 Scan without a repository, instance or resource")
        if arns.matches(arns.INSTANCE_ID_RE, raw):
            res = _resource(_FindingResource(id=raw, type="AWS_EC2_INSTANCE"), event.account, event.region)
        elif ":lambda:" in raw:
            res = _resource(_FindingResource(id=raw, type="AWS_LAMBDA_FUNCTION"), event.account, event.region)
        else:
            res = arns.resource_from_arn(raw)
        identity, context = (res.type, res.id), {}
        link = _resource_link(res, event.region, event.account)
        what = "Lambda" if res.type == "AwsLambdaFunction" else "EC2" if res.type == "AwsEc2Instance" else ""
    return res, identity, link, context, what, tags


@parsers.register(("aws.inspector2", "Inspector2 Scan"))
class Inspector2ScanParser(Parser):
    """Amazon Inspector initial scan summaries. Example: ECR image amazon/amazon-ecs-sample:latest with 7 CRITICAL → CRITICAL."""

    kind = "inspector2"
    doc = SourceDoc(
        label="Inspector initial scans",
        severity="highest non-zero finding count (CRITICAL/HIGH/MEDIUM; the rest of TOTAL LOW)",
        resolved="a scan with no findings",
        fingerprint="account, region, repository, image digest (instance or function for those scans)",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = ScanSummary.model_validate(event.detail)
        res, identity, link, context, what, tags = _scan_target(d, event)
        repository = repository_name(d.repository_name)
        counts = severity_counts(d.finding_severity_counts)
        severity = highest_severity(counts)
        active = bool(counts)
        label = _label(res)
        if counts:
            total = sum(counts.values())
            title = f"Inspector scan: {counts_text(counts)} vulnerabilit{'ies' if total != 1 else 'y'} in {what} {label}".replace(
                "  ", " "
            )
            summary = f"The initial Inspector scan found {total} finding{'s' if total != 1 else ''}."
            problem = f"inspector2:scan:{severity.value}"
        else:
            title = f"Inspector scan: {what} {label} has no vulnerabilities".replace("  ", " ")
            summary = "The initial Inspector scan completed without findings."
            problem = "inspector2:scan:clean"
        fields: dict[str, Any] = {
            "Findings": counts_text(counts),
            "Image tags": ", ".join(tags) if len(tags) > 1 else None,
        }
        if d.scan_status and d.scan_status.upper() != "INITIAL_SCAN_COMPLETE":
            fields["Scan status"] = d.scan_status
        if repository and d.image_digest and not arns.matches(DIGEST_RE, d.image_digest):
            fields["Image digest"] = d.image_digest
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, event.account, event.region, *identity),
            title=title,
            summary=summary,
            severity=severity,
            resources=[res],
            fields=fields,
            links=console.keep(link, _findings_link(event.region)),
            context=context,
            problems=[problem],
            active=active,
        )
