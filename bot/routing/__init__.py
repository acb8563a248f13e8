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
from bot.decisions import RouteTrace, RuleCheck
from bot.models import Alert, Route

__all__ = ["matches", "mismatch", "route", "route_traced"]


def _tags(alert: Alert) -> dict[str, str]:
    merged: dict[str, str] = {}
    for res in reversed(alert.resources):  # the primary resource's tags win
        merged.update(res.tags)
    return merged


def _listed(values: list[str]) -> str:
    shown = ", ".join(str(v) for v in values[:5])
    return f"[{shown}{', …' if len(values) > 5 else ''}]"


def mismatch(m: Match, alert: Alert) -> str | None:
    """Why ``alert`` does not match ``m`` (the first condition that fails), or None when it does.

    >>> mismatch(Match(source=["aws.config"]), Alert(id="e", fingerprint="f", source_kind="k",
    ...          source="aws.guardduty", detail_type="d", title="t"))
    'source aws.guardduty not in [aws.config]'
    """
    if m.source and alert.source not in m.source:
        return f"source {alert.source} not in {_listed(m.source)}"
    if m.detail_type and alert.detail_type not in m.detail_type:
        return f"detail-type {alert.detail_type!r} not in {_listed(m.detail_type)}"
    if m.source_kind and alert.source_kind not in m.source_kind:
        return f"source kind {alert.source_kind} not in {_listed(m.source_kind)}"
    if m.severity and alert.severity not in m.severity:
        return f"severity {alert.severity.value} not in {_listed([s.value for s in m.severity])}"
    if m.min_severity and not alert.severity.at_least(m.min_severity):
        return f"severity {alert.severity.value} below {m.min_severity.value}"
    if m.account and alert.account not in m.account:
        return f"account {alert.account or '(none)'} not in {_listed(m.account)}"
    if m.region and alert.region not in m.region:
        return f"region {alert.region or '(none)'} not in {_listed(m.region)}"
    if m.tags:
        tags = _tags(alert)
        for key, want in m.tags.items():
            if want == "*" and key in tags:
                continue
            if tags.get(key) != want:
                have = f"is {tags[key]!r}" if key in tags else "is not set"
                return f"tag {key} {have}, rule wants {want!r}"
    return None


def matches(m: Match, alert: Alert) -> bool:
    return mismatch(m, alert) is None


def route(alert: Alert, config: Config) -> Route:
    return route_traced(alert, config)[0]


def route_traced(alert: Alert, config: Config) -> tuple[Route, RouteTrace]:
    """The route, and the trace of how it was chosen (``bot.decisions``): each rule tried in
    order, why the ones before the winner did not match, and where the channel came from."""
    r = config.routing
    tags = _tags(alert)
    trace = RouteTrace()
    if tags.get(r.ignore_tag, "").strip().lower() == "true":
        trace.channel_reason = f"resource tagged {r.ignore_tag}=true: dropped before any rule"
        return Route(
            rule="ignore-tag", channel="", drop=True, drop_reason=f"resource tagged {r.ignore_tag}=true"
        ), trace
    team = tags.get(r.team_tag, "")
    team_channel = r.team_channels.get(team)
    for i, rule in enumerate(r.rules, start=1):
        why = mismatch(rule.match, alert)
        trace.add(RuleCheck(name=rule.name, index=i, matched=why is None, reason=why or ""))
        if why is not None:
            continue
        if rule.drop:
            return Route(rule=rule.name, channel="", drop=True, drop_reason=f"dropped by rule {rule.name}"), trace
        trace.channel_reason = _channel_reason(rule.channel, team, team_channel, f"rule '{rule.name}'")
        mentions = rule.mentions if alert.severity.at_least(rule.mention_min_severity) else []
        chosen = Route(
            rule=rule.name,
            channel=rule.channel or team_channel or r.default.channel,
            mentions=list(mentions),
            mode=rule.mode,
            remediations=rule.remediations,
        )
        return chosen, trace
    d = r.default
    trace.channel_reason = (
        _channel_reason(None, team, team_channel, "no rule matched; the default route")
        if team_channel
        else "no rule matched: the default route's channel"
    )
    fallback = Route(
        rule="default",
        channel=team_channel or d.channel,
        mentions=list(d.mentions) if alert.severity.at_least(d.mention_min_severity) else [],
        mode=d.mode,
        remediations=d.remediations,
    )
    return fallback, trace


def _channel_reason(own: str | None, team: str, team_channel: str | None, who: str) -> str:
    if own:
        return f"{who} names its channel"
    if team_channel:
        return f"{who} names no channel: the resource's team tag {team!r} picks it (team_channels)"
    return f"{who} names no channel: the default channel"
