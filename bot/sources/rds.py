"""RDS events: DB instances, clusters, snapshots, parameter and security groups."""

from __future__ import annotations

from pydantic import Field

from bot.models import Alert, Resource, Severity
from bot.sources import arns, console
from bot.sources.base import Detail, EventEnvelope, ParseContext, Parser, SourceDoc, make_alert, parsers

# EventCategories → severity; the highest matching category wins.
_CATEGORY_SEVERITY = {
    "failure": Severity.HIGH,
    "low storage": Severity.HIGH,
    "failover": Severity.MEDIUM,
    "availability": Severity.MEDIUM,
    "recovery": Severity.LOW,
    "deletion": Severity.LOW,
    "security patching": Severity.LOW,
}
_SOURCE_TYPES = {
    "DB_INSTANCE": "AwsRdsDbInstance",
    "CLUSTER": "AwsRdsDbCluster",
    "SNAPSHOT": "AwsRdsDbSnapshot",
    "CLUSTER_SNAPSHOT": "AwsRdsDbClusterSnapshot",
    "DB_PARAM": "AwsRdsDbParameterGroup",
    "DB_SECURITY_GROUP": "AwsRdsDbSecurityGroup",
}


class RdsEvent(Detail):
    event_categories: list[str] = Field([], alias="EventCategories")
    source_type: str = Field("", alias="SourceType")
    source_arn: str | None = Field(None, alias="SourceArn")
    source_identifier: str = Field(alias="SourceIdentifier", min_length=1)
    message: str = Field("", alias="Message")
    event_id: str | None = Field(None, alias="EventID")
    date: str | None = Field(None, alias="Date")


def severity_for(categories: list[str]) -> Severity:
    found = [_CATEGORY_SEVERITY.get(c.lower(), Severity.INFO) for c in categories]
    return max(found, key=lambda s: s.rank, default=Severity.INFO)


@parsers.register(
    ("aws.rds", "RDS DB Instance Event"),
    ("aws.rds", "RDS DB Cluster Event"),
    ("aws.rds", "RDS DB Snapshot Event"),
    ("aws.rds", "RDS DB Cluster Snapshot Event"),
    ("aws.rds", "RDS DB Parameter Group Event"),
    ("aws.rds", "RDS DB Security Group Event"),
)
class RdsParser(Parser):
    """An RDS event. Example: RDS-EVENT-0031 "DB instance put into a failed state" (failure) → HIGH."""

    kind = "rds"
    doc = SourceDoc(
        label="RDS",
        severity="highest of its categories: failure/low storage HIGH, failover/availability MEDIUM, recovery/deletion/security patching LOW, others INFO",
        resolved="—",
        fingerprint="account, region, source id, category",
    )

    def parse(self, event: EventEnvelope, ctx: ParseContext) -> Alert:
        d = RdsEvent.model_validate(event.detail)
        rtype = _SOURCE_TYPES.get(d.source_type.upper(), "Other")
        arn = d.source_arn if arns.parse_arn(d.source_arn) else None
        resource = Resource(type=rtype, id=d.source_identifier, arn=arn, region=event.region, account=event.account)
        link = None
        if rtype in ("AwsRdsDbInstance", "AwsRdsDbCluster"):
            link = console.rds_database(event.region, d.source_identifier, cluster=rtype == "AwsRdsDbCluster")
        what = {"AwsRdsDbInstance": "DB instance", "AwsRdsDbCluster": "DB cluster"}.get(
            rtype, d.source_type.replace("_", " ").lower() or "RDS"
        )
        message = d.message.rstrip(".")
        return make_alert(
            event,
            ctx,
            self.kind,
            fingerprint=Alert.make_fingerprint(
                self.kind, event.account, event.region, d.source_arn or d.source_identifier, d.event_id
            ),
            title=f"RDS {what} {d.source_identifier}: {message}" if message else f"RDS {what} {d.source_identifier}",
            summary=d.message,
            severity=severity_for(d.event_categories),
            resources=[resource],
            fields={
                "Source": d.source_identifier,
                "Source type": d.source_type,
                "Event": d.event_id,
                "Categories": ", ".join(d.event_categories),
            },
            links=console.keep(link),
        )
