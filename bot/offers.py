"""Which remediations an alert is offered, and why each other one that fixes its problem is not.

``decide_offers(alert, route, rt)`` is the one place the notify side decides the buttons: the
catalog's remediations that fix what the alert reports (``fits``), less those refused, each
refusal with its reason for ``/ops explain`` (``bot.decisions.Refusal``). In order: the alert is
resolved; the route is in notify mode; EventOps does not act in the account (not configured,
no role: ``bot.aws``); the kill switch is on; the rule's ``remediations`` list leaves it out;
it cannot name its target in the alert (resource type mismatch); the target is tagged
``eventops:exempt=true`` (a run would refuse it anyway).
"""

from __future__ import annotations

import logging

from bot.aws import remediation_refusal
from bot.decisions import Refusal
from bot.models import Alert, Mode, RemediationOffer, Route
from bot.remediations import fixers
from bot.remediations.base import EXEMPT_TAG, Remediation, fits
from bot.runtime import Runtime

log = logging.getLogger("eventops.offers")


def candidates(alert: Alert) -> list[tuple[str, Remediation]]:
    """The catalog's remediations that fix what ``alert`` reports, resolved or not. One that
    fits every problem (``fixes = ("*",)``, e.g. SSM runbooks) counts only where it can name
    a target: otherwise it would be "refused" on every alert."""
    probe = alert if alert.active else alert.model_copy(update={"active": True})
    return [
        (str(name), rem)
        for name, rem in fixers(probe.problems)
        if fits(rem, probe) and (tuple(rem.fixes) != ("*",) or _applies(rem, probe))
    ]


def _applies(rem: Remediation, alert: Alert) -> bool:
    try:
        return rem.applies_to(alert) is not None
    except Exception:  # noqa: BLE001 - a broken plugin is reported where it is offered (_one)
        return True


def blanket_refusal(alert: Alert, route: Route, rt: Runtime) -> tuple[str | None, str | None]:
    """(why nothing is offered on this alert at all, or None; the account refusal, or None).
    The kill switch is read only when nothing before it already refuses."""
    account = remediation_refusal(rt.config.accounts, alert.account)
    if not alert.active:
        return "the alert is resolved", account
    if route.mode == Mode.NOTIFY:
        return f"rule '{route.rule}' is in notify mode", account
    if account:
        return account, account
    if rt.kill_switch_on():
        return "the kill switch is on (notify-only)", None
    return None, None


def _exempt_target(rem: Remediation, alert: Alert) -> str | None:
    for res in alert.resources:
        if rem.resource_types and res.type not in rem.resource_types:
            continue
        if str(res.tags.get(EXEMPT_TAG, "")).strip().lower() == "true":
            return res.name or res.id
    return None


def _one(name: str, rem: Remediation, alert: Alert, route: Route) -> RemediationOffer | Refusal:
    if route.remediations is not None and name not in route.remediations:
        return Refusal(remediation=name, reason=f"not in rule '{route.rule}''s remediations list")
    try:
        params = rem.applies_to(alert)
    except Exception as exc:  # noqa: BLE001 - one broken plugin must not block the alert
        log.warning("remediation %s applies_to failed on alert %s: %s", name, alert.id, exc)
        return Refusal(remediation=name, reason=f"could not read its target from the alert ({type(exc).__name__})")
    if params is None:
        types = sorted({r.type for r in alert.resources})
        if rem.resource_types and not set(rem.resource_types) & set(types):
            reason = f"resource type mismatch: it acts on {', '.join(rem.resource_types)}, the alert names {', '.join(types) or 'no resource'}"
        else:
            reason = "the alert does not name its target"
        return Refusal(remediation=name, reason=reason)
    exempt = _exempt_target(rem, alert)
    if exempt:
        return Refusal(remediation=name, reason=f"{exempt} is tagged {EXEMPT_TAG}=true")
    return RemediationOffer(name=name, params=params)


def decide_offers(alert: Alert, route: Route, rt: Runtime) -> tuple[list[RemediationOffer], list[Refusal], str | None]:
    """(offers, refusals, why EventOps does not act in the alert's account or None).
    The offers are what ``bot.pipeline.offers_for`` gives, less exempt targets."""
    found = candidates(alert)
    blanket, account = blanket_refusal(alert, route, rt)
    if blanket:
        return [], [Refusal(remediation=name, reason=blanket) for name, _ in found], account
    offers: list[RemediationOffer] = []
    refusals: list[Refusal] = []
    for name, rem in found:
        got = _one(name, rem, alert, route)
        if isinstance(got, Refusal):
            refusals.append(got)
        else:
            offers.append(got)
    return offers, refusals, account
