"""Inspector findings (one message per finding ARN, closed resolves it) and initial scan summaries."""

from __future__ import annotations

from bot.models import Severity
from bot.sources import parse_event
from tests.sources.source_events import load, parse


def test_package_vulnerability_on_a_lambda_function() -> None:
    alert = parse("inspector2-package-vulnerability")
    assert alert.severity is Severity.HIGH and alert.active
    assert alert.title == "CVE-2023-30861 - flask on function VulnerableFunction"
    assert alert.problems == ["inspector2:PACKAGE_VULNERABILITY"]
    (fn,) = alert.resources
    assert (fn.type, fn.id) == ("AwsLambdaFunction", "VulnerableFunction")
    assert fn.arn == "arn:aws:lambda:eu-central-1:123456789012:function:VulnerableFunction:$LATEST"
    assert alert.fields["CVE"] == "CVE-2023-30861"
    assert alert.fields["Package"] == "flask 2.0.0" and alert.fields["Fixed in"] == "flask 2.3.2"
    assert alert.fields["CVSS"] == "7.5 (NVD 3.1)" and alert.fields["EPSS"] == "0.00208"
    assert alert.fields["Fix available"] == "yes" and alert.fields["Exploit available"] == "yes"
    assert alert.advice == ""  # "None Provided" and no package remediation command
    assert [link.label for link in alert.links] == ["Function VulnerableFunction", "Inspector findings"]
    assert alert.context["inspector2"]["vulnerability_id"] == "CVE-2023-30861"


def test_closed_finding_resolves_the_same_message() -> None:
    closed = parse("inspector2-closed")
    assert closed.severity is Severity.INFO and not closed.active
    assert closed.title.startswith("Fixed: CVE-2024-29069 - snapd on instance i-12345678901234567")
    assert closed.fields["Inspector severity"] == "MEDIUM"
    assert closed.advice == "apt-get update && apt-get upgrade"
    assert closed.fields["CVSS"] == "7.3 (NVD 3.1)"
    assert "Exploit available" not in closed.fields
    raw = load("inspector2-closed")
    raw["detail"]["status"] = "ACTIVE"
    reopened = parse_event(raw)
    assert reopened.active and reopened.severity is Severity.MEDIUM
    assert reopened.fingerprint == closed.fingerprint
    raw["detail"]["status"] = "SUPPRESSED"
    suppressed = parse_event(raw)
    assert not suppressed.active and suppressed.title.startswith("Suppressed: ")
    other = load("inspector2-closed")
    other["detail"]["findingArn"] = other["detail"]["findingArn"][:-1] + "9"
    assert parse_event(other).fingerprint != closed.fingerprint


def test_severity_mapping() -> None:
    expected = {
        "CRITICAL": Severity.CRITICAL,
        "HIGH": Severity.HIGH,
        "MEDIUM": Severity.MEDIUM,
        "LOW": Severity.LOW,
        "INFORMATIONAL": Severity.INFO,
        "UNTRIAGED": Severity.LOW,
    }
    for given, severity in expected.items():
        raw = load("inspector2-package-vulnerability")
        raw["detail"]["severity"] = given
        assert parse_event(raw).severity is severity


def test_network_reachability() -> None:
    alert = parse("inspector2-network-reachability")
    assert alert.severity is Severity.MEDIUM and alert.active
    assert alert.problems == ["inspector2:NETWORK_REACHABILITY"]
    assert alert.fields["Open ports"] == "22" and alert.fields["Protocol"] == "TCP"
    assert alert.fields["Network path"].startswith("igw-261bab4d → acl-171b527d → sg-0d34debf87410f2d9")
    assert alert.advice.startswith("You can restrict access")
    assert alert.resources[0].type == "AwsEc2Instance"
    assert alert.links[0].url.endswith("#InstanceDetails:instanceId=i-12345678901234567")
    raw = load("inspector2-network-reachability")
    raw["detail"]["networkReachabilityDetails"]["openPortRange"] = {"begin": 1024, "end": 2048}
    assert parse_event(raw).fields["Open ports"] == "1024-2048"


def test_ecr_image_and_code_vulnerability_findings() -> None:
    raw = load("inspector2-package-vulnerability")
    digest = "sha256:84f507df33c6864d49c296fb734192696e4cb6f78166ac51ac8b9b118181085d"
    raw["detail"]["resources"] = [
        {
            "id": f"arn:aws:ecr:eu-central-1:123456789012:repository/inspector2/{digest}",
            "type": "AWS_ECR_CONTAINER_IMAGE",
            "region": "eu-central-1",
            "details": {"awsEcrContainerImage": {"repositoryName": "inspector2", "imageHash": digest, "imageTags": []}},
        }
    ]
    image = parse_event(raw).resources[0]
    assert (image.type, image.id) == ("AwsEcrContainerImage", f"inspector2@{digest}")
    raw["detail"]["resources"][0]["details"] = {}
    assert parse_event(raw).resources[0].id == f"inspector2@{digest}"
    code = load("inspector2-package-vulnerability")
    code["detail"]["type"] = "CODE_VULNERABILITY"
    code["detail"]["severity"] = "CRITICAL"
    code["detail"]["codeVulnerabilityDetails"] = {
        "cwes": ["CWE-798"],
        "detectorName": "Hardcoded credentials",
        "filePath": {"fileName": "lambda_function.py", "filePath": "lambda_function.py", "startLine": 6},
    }
    alert = parse_event(code)
    assert alert.problems == ["inspector2:CODE_VULNERABILITY"] and alert.severity is Severity.CRITICAL
    assert alert.fields["CWE"] == "CWE-798" and alert.fields["File"] == "lambda_function.py:6"


def test_a_finding_without_resources_falls_back_to_generic() -> None:
    raw = load("inspector2-network-reachability")
    raw["detail"]["resources"] = []
    raw["resources"] = []
    alert = parse_event(raw)
    assert alert.source_kind == "generic" and alert.parse_error


def test_ecr_scan_summary_is_critical_and_clean_rescan_resolves() -> None:
    scan = parse("inspector2-ecr-scan-critical")
    assert scan.severity is Severity.CRITICAL and scan.active
    assert scan.problems == ["inspector2:scan:CRITICAL"]
    assert scan.fields == {"Findings": "7 CRITICAL, 61 HIGH, 62 MEDIUM, 28 other"}
    (image,) = scan.resources
    assert image.id.startswith("amazon/amazon-ecs-sample@sha256:36c7b282")
    assert "/private/123456789012/amazon/amazon-ecs-sample/_/image/" in scan.links[0].url
    assert scan.context["ecr"]["repository"] == "amazon/amazon-ecs-sample"
    raw = load("inspector2-ecr-scan-critical")
    raw["detail"]["finding-severity-counts"] = {"CRITICAL": 10, "HIGH": 0, "MEDIUM": 0, "TOTAL": 10}
    assert parse_event(raw).severity is Severity.CRITICAL
    raw["detail"]["finding-severity-counts"] = {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "TOTAL": 4}
    assert parse_event(raw).severity is Severity.LOW
    raw["detail"]["finding-severity-counts"] = {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "TOTAL": 0}
    clean = parse_event(raw)
    assert clean.severity is Severity.INFO and not clean.active
    assert clean.problems == ["inspector2:scan:clean"] and clean.fingerprint == scan.fingerprint


def test_ec2_and_lambda_scan_summaries() -> None:
    raw = load("inspector2-ecr-scan-critical")
    raw["resources"] = ["i-087d63509b8c97098"]
    raw["detail"] = {
        "scan-status": "INITIAL_SCAN_COMPLETE",
        "finding-severity-counts": {"CRITICAL": 0, "HIGH": 2, "MEDIUM": 0, "TOTAL": 2},
        "instance-id": "i-087d63509b8c97098",
        "version": "1.0",
    }
    ec2 = parse_event(raw)
    assert ec2.severity is Severity.HIGH and ec2.resources[0].type == "AwsEc2Instance"
    raw["resources"] = ["arn:aws:lambda:us-east-2:123456789012:function:lambda-example:$LATEST"]
    raw["detail"].pop("instance-id")
    fn = parse_event(raw)
    assert (fn.resources[0].type, fn.resources[0].id) == ("AwsLambdaFunction", "lambda-example")
    assert fn.fingerprint != ec2.fingerprint
