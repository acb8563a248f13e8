"""What the notify side decided about one alert, and why: recorded as it decides, read by ``/ops explain``.

``bot.routing.route_traced`` fills the route trace (each rule tried, and why it did not match),
``bot.offers.decide_offers`` the remediations offered and refused (with the reason), and
``bot.pipeline`` the delivery outcome (posted, grouped, threaded, storm, snoozed). The record is
stored with the alert (``Store.put_alert(..., decisions=...)``) and is bounded: at most
``MAX_RULES`` rules and ``MAX_REFUSALS`` refusals, each reason at most ``MAX_REASON`` characters.

Example::

    d = Decisions.of(route, trace, outcome="posted", reason="posted as a new message")
    d.refused[0].text()   # "ec2.stop-instance: rule 'quiet' is in notify mode"
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from bot.models import Route

MAX_RULES = 20
MAX_REFUSALS = 20
MAX_REASON = 200


def _cap(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


class RuleCheck(BaseModel):
    """One routing rule tried: its name, its 1-based position, and why it did not match."""

    name: str
    index: int
    matched: bool = False
    reason: str = ""


class RouteTrace(BaseModel):
    """The rules tried before (and including) the one that matched, and where the channel came from."""

    checks: list[RuleCheck] = []
    more: int = 0  # rules tried beyond MAX_RULES (not recorded)
    channel_reason: str = ""

    def add(self, check: RuleCheck) -> None:
        if len(self.checks) >= MAX_RULES:
            self.more += 1
            return
        self.checks.append(check.model_copy(update={"reason": _cap(check.reason)}))


class Refusal(BaseModel):
    """A remediation that fixes what the alert reports but was not offered, and why."""

    remediation: str
    reason: str

    def text(self) -> str:
        return f"{self.remediation}: {self.reason}"


class Decisions(BaseModel):
    """The notify side's decisions about one alert (see the module docstring)."""

    rule: str
    channel: str
    mode: str
    mentions: list[str] = []
    trace: RouteTrace = Field(default_factory=RouteTrace)
    outcome: str = ""
    reason: str = ""
    correlation: str = ""  # the correlation rule that took the alert, and how (bot.correlation)
    offered: list[str] = []
    refused: list[Refusal] = []
    refused_more: int = 0
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def of(cls, route: Route, trace: RouteTrace | None, outcome: str = "", reason: str = "") -> Decisions:
        return cls(
            rule=route.rule,
            channel=route.channel,
            mode=route.mode.value,
            mentions=list(route.mentions)[:10],
            trace=trace or RouteTrace(),
            outcome=outcome,
            reason=_cap(reason),
        )

    def decided(self, outcome: str, reason: str) -> Decisions:
        """A copy with the delivery outcome and its reason."""
        return self.model_copy(update={"outcome": outcome, "reason": _cap(reason)})

    def with_offers(self, offered: list[str], refused: list[Refusal]) -> Decisions:
        """A copy with the remediations offered and those refused (capped)."""
        kept = [Refusal(remediation=r.remediation[:80], reason=_cap(r.reason)) for r in refused[:MAX_REFUSALS]]
        return self.model_copy(
            update={
                "offered": offered[:MAX_REFUSALS],
                "refused": kept,
                "refused_more": max(0, len(refused) - MAX_REFUSALS),
            }
        )
