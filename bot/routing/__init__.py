"""Alert → Route: which channel, who is mentioned, which mode, which remediations.

Rules from the config are tried in order; the first that matches wins. A resource tagged
``eventops:ignore=true`` drops the alert; a ``team`` tag picks the team's channel when the
matching rule leaves ``channel`` unset. Example config::

    routing:
      team_channels: {payments: "#team-payments"}
      rules:
        - name: security-critical
          match: {source: [aws.guardduty, aws.securityhub], min_severity: HIGH}
          channel: "#sec-alerts"
          mentions: [S0SECURITY]
          mode: propose
      default: {channel: "#ops-alerts"}
"""

from __future__ import annotations

from bot.config import Config, Match
from bot.models import Alert, Route

__all__ = ["matches", "route"]


def _tags(alert: Alert) -> dict[str, str]:
    merged: dict[str, str] = {}
    for res in reversed(alert.resources):  # the primary resource's tags win
        merged.update(res.tags)
    return merged


def matches(m: Match, alert: Alert) -> bool:
    if m.source and alert.source not in m.source:
        return False
    if m.detail_type and alert.detail_type not in m.detail_type:
        return False
    if m.source_kind and alert.source_kind not in m.source_kind:
        return False
    if m.severity and alert.severity not in m.severity:
        return False
    if m.min_severity and not alert.severity.at_least(m.min_severity):
        return False
    if m.account and alert.account not in m.account:
        return False
    if m.region and alert.region not in m.region:
        return False
    if m.tags:
        tags = _tags(alert)
        for key, want in m.tags.items():
            if want == "*" and key in tags:
                continue
            if tags.get(key) != want:
                return False
    return True


def route(alert: Alert, config: Config) -> Route:
    r = config.routing
    tags = _tags(alert)
    if tags.get(r.ignore_tag, "").strip().lower() == "true":
        return Route(rule="ignore-tag", channel="", drop=True, drop_reason=f"resource tagged {r.ignore_tag}=true")
    team_channel = r.team_channels.get(tags.get(r.team_tag, ""))
    for rule in r.rules:
        if not matches(rule.match, alert):
            continue
        if rule.drop:
            return Route(rule=rule.name, channel="", drop=True, drop_reason=f"dropped by rule {rule.name}")
        mentions = rule.mentions if alert.severity.at_least(rule.mention_min_severity) else []
        return Route(
            rule=rule.name,
            channel=rule.channel or team_channel or r.default.channel,
            mentions=list(mentions),
            mode=rule.mode,
            remediations=rule.remediations,
        )
    d = r.default
    return Route(
        rule="default",
        channel=team_channel or d.channel,
        mentions=list(d.mentions) if alert.severity.at_least(d.mention_min_severity) else [],
        mode=d.mode,
        remediations=d.remediations,
    )
