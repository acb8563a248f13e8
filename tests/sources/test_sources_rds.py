"""RDS instance and cluster events."""

from __future__ import annotations

from bot.models import Severity
from tests.sources.source_events import parse


def test_rds() -> None:
    assert parse("rds-instance-failure").severity is Severity.HIGH
    assert parse("rds-instance-failure").primary_resource.type == "AwsRdsDbInstance"
    assert parse("rds-cluster-failover").primary_resource.type == "AwsRdsDbCluster"
