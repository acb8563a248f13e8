"""AWS Cost Anomaly Detection ("Anomaly Detected", source ``aws.ce``)."""

from __future__ import annotations

from pydantic import Field

from bot.models import Alert, Resource, Severity
from bot.sources import console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

# Total impact in USD → severity. Fixed thresholds; route on severity to tune who hears about it.
IMPACT_HIGH = 1000.0
IMPACT_MEDIUM = 100.0


class Impact(Detail):
    total_impact: float = Field(0.0, alias="totalImpact")
    max_impact: float | None = Field(None, alias="maxImpact")
    total_actual_spend: float | None = Field(None, alias="totalActualSpend")
    total_expected_spend: float | None = Field(None, alias="totalExpectedSpend")
    total_impact_percentage: float | None = Field(None, alias="totalImpactPercentage")


class RootCause(Detail):
    service: str | None = None
    region: str | None = None
    usage_type: str | None = Field(None, alias="usageType")
    linked_account: str | None = Field(None, alias="linkedAccount")
    linked_account_name: str | None = Field(None, alias="linkedAccountName")


class Anomaly(Detail):
    anomaly_id: str = Field(alias="anomalyId", min_length=1)
    account_id: str | None = Field(None, alias="accountId")
    monitor_arn: str | None = Field(None, alias="monitorArn")
    monitor_name: str | None = Field(None, alias="monitorName")
    anomaly_start_date: str | None = Field(None, alias="anomalyStartDate")
    anomaly_end_date: str | None = Field(None, alias="anomalyEndDate")
    dimensional_value: str | None = Field(None, alias="dimensionalValue")
    impact: Impact = Field(default_factory=Impact)
    root_causes: list[RootCause] = Field([], alias="rootCauses")


def severity_for(total_impact: float) -> Severity:
    """≥ $1000 HIGH, ≥ $100 MEDIUM, else LOW."""
    if total_impact >= IMPACT_HIGH:
        return Severity.HIGH
    if total_impact >= IMPACT_MEDIUM:
        return Severity.MEDIUM
    return Severity.LOW


@parsers.register(("aws.ce", "Anomaly Detected"))
class CostAnomalyParser(Parser):
    """A cost anomaly. Example: +$1,240 on Amazon EC2 in us-east-1 → HIGH."""

    kind = "costanomaly"
    doc = SourceDoc(
        label="Cost Anomaly Detection",
        severity="total impact ≥ $1000 HIGH, ≥ $100 MEDIUM, else LOW",
        resolved="—",
        fingerprint="account, anomaly id",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = Anomaly.model_validate(event.detail)
        cause = d.root_causes[0] if d.root_causes else RootCause()
        what = cause.service or d.dimensional_value or "AWS spend"
        where = f" in {cause.region}" if cause.region else ""
        impact = d.impact
        pct = f" (+{impact.total_impact_percentage:g}%)" if impact.total_impact_percentage is not None else ""
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(self.kind, d.account_id or event.account, d.anomaly_id),
            title=f"Cost anomaly: ${impact.total_impact:,.2f} unexpected spend on {what}{where}",
            summary=(
                f"Actual ${impact.total_actual_spend or 0:,.2f} vs expected ${impact.total_expected_spend or 0:,.2f}{pct}"
                f" since {d.anomaly_start_date or 'unknown'}."
            ),
            severity=severity_for(impact.total_impact),
            account=d.account_id or event.account,
            resources=[Resource(type="Other", id=d.anomaly_id, account=d.account_id or event.account)],
            fields={
                "Impact": f"${impact.total_impact:,.2f}{pct}",
                "Service": cause.service,
                "Region": cause.region,
                "Usage type": cause.usage_type,
                "Linked account": cause.linked_account_name or cause.linked_account,
                "Monitor": d.monitor_name or (d.monitor_arn.rsplit("/", 1)[-1] if d.monitor_arn else None),
                "Start": d.anomaly_start_date,
            },
            links=console.keep(console.cost_anomaly(d.monitor_arn, d.anomaly_id)),
        )
