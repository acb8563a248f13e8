"""bot.routing.route: rules in order, first match wins; tags pick a team channel or drop the alert."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import Config, parse_config
from bot.models import Alert, Mode, Resource, Severity
from bot.routing import route

CONFIG: dict[str, Any] = {
    "routing": {
        "team_channels": {"payments": "#team-payments"},
        "rules": [
            {"name": "noise", "match": {"detail_type": ["EC2 Instance State-change Notification"]}, "drop": True},
            {
                "name": "security",
                "match": {"source": ["aws.guardduty", "aws.securityhub"], "min_severity": "MEDIUM"},
                "channel": "#sec",
                "mentions": ["S0SEC"],
                "mention_min_severity": "CRITICAL",
                "mode": "propose",
                "remediations": ["ec2.isolate-instance"],
            },
            {"name": "prod-eu", "match": {"account": ["111111111111"], "region": ["eu-west-1"]}, "channel": "#eu"},
            {"name": "owned", "match": {"tags": {"owner": "*"}}},
            {"name": "critical-only", "match": {"severity": ["CRITICAL"]}, "channel": "#pager"},
        ],
        "default": {"channel": "#ops", "mentions": ["S0OPS"], "mention_min_severity": "CRITICAL"},
    }
}


@pytest.fixture(scope="module")
def config() -> Config:
    return parse_config(CONFIG, "eventops.yml")


def alert(
    source: str = "aws.ec2",
    severity: Severity = Severity.HIGH,
    tags: dict[str, str] | None = None,
    detail_type: str = "d",
    account: str = "222222222222",
    region: str = "us-east-1",
    more: list[Resource] | None = None,
) -> Alert:
    resources = [Resource(type="AwsEc2Instance", id="i-1", tags=tags or {}), *(more or [])]
    return Alert(
        id="a",
        fingerprint="f",
        source_kind="x",
        source=source,
        detail_type=detail_type,
        title="t",
        severity=severity,
        account=account,
        region=region,
        resources=resources,
    )


def test_nothing_matches_so_the_default_route_applies(config: Config) -> None:
    r = route(alert(), config)
    assert (r.rule, r.channel, r.mentions, r.drop) == ("default", "#ops", [], False)
    assert route(alert(severity=Severity.CRITICAL), config).channel == "#pager"


def test_the_first_matching_rule_wins(config: Config) -> None:
    # "security" and "critical-only" both match a CRITICAL GuardDuty finding: the first listed wins
    r = route(alert(source="aws.guardduty", severity=Severity.CRITICAL), config)
    assert (r.rule, r.channel, r.mode, r.remediations) == ("security", "#sec", Mode.PROPOSE, ["ec2.isolate-instance"])


def test_min_severity_and_mentions_at_or_above_the_rules_severity(config: Config) -> None:
    assert route(alert(source="aws.guardduty", severity=Severity.CRITICAL), config).mentions == ["S0SEC"]
    assert route(alert(source="aws.guardduty", severity=Severity.HIGH), config).mentions == []
    assert route(alert(source="aws.guardduty", severity=Severity.LOW), config).rule == "default"


def test_account_and_region_must_both_match(config: Config) -> None:
    assert route(alert(account="111111111111", region="eu-west-1"), config).channel == "#eu"
    assert route(alert(account="111111111111", region="us-east-1"), config).rule == "default"


def test_a_drop_rule_drops_with_its_name_as_the_reason(config: Config) -> None:
    r = route(alert(detail_type="EC2 Instance State-change Notification"), config)
    assert r.drop and "noise" in r.drop_reason


def test_the_ignore_tag_drops_before_any_rule(config: Config) -> None:
    r = route(alert(source="aws.guardduty", tags={"eventops:ignore": "TRUE "}), config)
    assert r.drop and "eventops:ignore" in r.drop_reason
    assert not route(alert(tags={"eventops:ignore": "false"}), config).drop


def test_a_team_tag_picks_the_team_channel_when_the_rule_names_none(config: Config) -> None:
    assert route(alert(tags={"team": "payments"}), config).channel == "#team-payments"
    # a rule with a channel keeps it
    assert route(alert(source="aws.guardduty", tags={"team": "payments"}), config).channel == "#sec"
    # an unknown team falls back to the default
    assert route(alert(tags={"team": "unknown"}), config).channel == "#ops"


def test_a_tag_wildcard_matches_any_value_and_rules_without_a_channel_use_the_default(config: Config) -> None:
    r = route(alert(tags={"owner": "alice"}), config)
    assert (r.rule, r.channel) == ("owned", "#ops")
    assert route(alert(tags={"owner": ""}), config).rule == "owned"


def test_the_primary_resources_tags_win(config: Config) -> None:
    other = Resource(type="AwsEc2Instance", id="i-2", tags={"team": "other", "eventops:ignore": "true"})
    r = route(alert(tags={"team": "payments", "eventops:ignore": "false"}, more=[other]), config)
    assert (r.drop, r.channel) == (False, "#team-payments")
