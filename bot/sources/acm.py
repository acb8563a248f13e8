"""AWS Certificate Manager certificate expiry events (``aws.acm``): approaching expiration, expired, available."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.models import Alert, Link, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers


class CertificateDetail(Detail):
    common_name: str = Field("", alias="CommonName")
    days_to_expiry: int | None = Field(None, alias="DaysToExpiry")
    certificate_type: str | None = Field(None, alias="CertificateType")
    expiration_date: str | None = Field(None, alias="CertificateExpirationDate")
    action: str | None = Field(None, alias="Action")
    in_use: bool | None = Field(None, alias="InUse")


def certificate_resource(event: EventEnvelope) -> Resource:
    """The certificate named by the event's ``resources`` ARN (``certificate/<uuid>``)."""
    for value in event.resources:
        arn = arns.parse_arn(value)
        if arn and arn.service == "acm" and arn.resource.startswith("certificate/"):
            return Resource(
                type="AwsCertificateManagerCertificate",
                id=arn.resource_id,
                arn=value,
                region=arn.region or event.region,
                account=arn.account or event.account,
            )
    raise ValueError("ACM event without a certificate ARN in resources")


def _certificate_link(region: str, certificate_id: str) -> Link | None:
    if not (arns.is_region(region) and arns.matches(arns.UUID_RE, certificate_id)):
        return None
    return Link(
        label="Certificate",
        url=f"{console._host(region)}/acm/home?region={region}#/certificates/{console._q(certificate_id)}",
    )


def expiry_severity(days: int | None) -> Severity:
    """≤7 days HIGH, ≤30 MEDIUM, later LOW (unknown: MEDIUM)."""
    if days is None:
        return Severity.MEDIUM
    if days <= 7:
        return Severity.HIGH
    if days <= 30:
        return Severity.MEDIUM
    return Severity.LOW


def _fields(d: CertificateDetail) -> dict[str, Any]:
    return {
        "Domain": d.common_name,
        "Expires": d.expiration_date,
        "Certificate type": d.certificate_type,
        "In use": "yes" if d.in_use else None,
    }


@parsers.register(
    ("aws.acm", "ACM Certificate Approaching Expiration"),
    ("aws.acm", "ACM Certificate Expired"),
    ("aws.acm", "ACM Certificate Available"),
)
class AcmCertificateParser(Parser):
    """ACM certificate expiry. Example: certificate for example.com expires in 5 days → HIGH; renewed → resolved."""

    kind = "acm"
    doc = SourceDoc(
        label="ACM certificates",
        severity="approaching expiration: DaysToExpiry ≤7 HIGH, ≤30 MEDIUM, else LOW; expired HIGH; available INFO",
        resolved="ACM Certificate Available (issued, renewed or re-imported)",
        fingerprint="account, region, certificate ARN (approaching, expired and available share one)",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = CertificateDetail.model_validate(event.detail)
        cert = certificate_resource(event)
        region = cert.region or event.region
        account = cert.account or event.account
        name = d.common_name or cert.id
        cert = cert.model_copy(update={"name": d.common_name or None})
        fields = _fields(d)
        active = True
        if event.detail_type == "ACM Certificate Expired":
            severity, problem = Severity.HIGH, "acm:expired"
            title = f"Certificate for {name} has expired"
            summary = "The ACM certificate expired; TLS clients will reject it wherever it is still deployed."
        elif event.detail_type == "ACM Certificate Available":
            severity, problem, active = Severity.INFO, "acm:available", False
            what = (d.action or "issuance").lower().replace("reimport", "re-import")
            title = f"Certificate for {name} is available ({what})"
            summary = "ACM made the certificate available" + (
                f"; it expires in {d.days_to_expiry} days." if d.days_to_expiry is not None else "."
            )
        else:
            severity, problem = expiry_severity(d.days_to_expiry), "acm:approaching-expiration"
            days = d.days_to_expiry
            when = "soon" if days is None else ("in 1 day" if days == 1 else f"in {days} days")
            title = f"Certificate for {name} expires {when}"
            summary = (
                "ACM renews eligible certificates it issued; imported certificates must be reissued and re-imported."
            )
            fields["Days to expiry"] = days
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, account, region, cert.arn),
            title=title,
            summary=summary,
            severity=severity,
            account=account,
            region=region,
            resources=[cert],
            fields=fields,
            links=console.keep(_certificate_link(region, cert.id)),
            context={"acm": {"certificate_arn": cert.arn}},
            problems=[problem],
            active=active,
        )
