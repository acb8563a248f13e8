"""Correlation: which alerts are one problem, and which are one story (``correlation:`` rules).

A rule is data, Alertmanager-style: a ``match`` (the routing rules' matcher), the ``group_by``
keys whose values must all be present and equal, a ``window_minutes`` and a ``mode``:

- ``merge``: one problem. The alerts share a fingerprint (``corr:`` + rule + values), so the
  second and later are repeats: counted into the first message, which is updated.
  Example: GuardDuty's finding and Security Hub's import of it (``group_by: [finding]``).
- ``thread``: one story. The later alerts are posted in the thread of the first one's message
  (in the same channel), and the first message says how many are there.
  Example: the CloudTrail call that opened a port and the GuardDuty finding on the instance
  behind it (``group_by: [resource]``), or everything one access key did (``[access_key]``).

The first ``merge`` rule whose match holds and whose keys all have values sets the alert's
fingerprint, and the first such ``thread`` rule its thread (so one alert can be both: merged
with Security Hub's copy of it, and threaded with everything its access key did); an alert no
rule takes keeps its source's fingerprint and its resource's thread, as before. Nothing here reads
the store: ``bot.pipeline`` uses the result for its one lookup, so correlation costs no extra
AWS call.

Keys: ``account``, ``region``, ``source`` (the parser kind), ``type`` (the finding type: the
"Finding type" / "Type" field, else the detail type), ``resource`` (the primary resource's ARN,
else type:account:id — no region, so one resource reported from two regions is one), ``principal`` / ``access_key`` (who acted, when the source says),
``finding`` (a GuardDuty finding id, from GuardDuty itself or from Security Hub's copy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import CorrelationRule
from bot.models import Alert
from bot.routing import matches

_GUARDDUTY_PRODUCT = "/guardduty"


@dataclass(frozen=True)
class Correlated:
    """An alert's correlation: the rule, and the key (a fingerprint) of its group."""

    rule: CorrelationRule
    key: str

    @property
    def window_s(self) -> int:
        return self.rule.window_minutes * 60

    def describe(self) -> str:
        """For ``/ops explain``: ``rule 'one-access-key' (thread, by access_key, 120 min)``."""
        r = self.rule
        return f"rule '{r.name}' ({r.mode}, by {', '.join(r.group_by)}, {r.window_minutes} min)"

    @property
    def thread_key(self) -> str:
        """The resource-thread key the group's alerts share (``bot.store``'s ``RES#`` family)."""
        return f"corr:{self.key}"


def guardduty_finding_id(alert: Alert) -> str:
    """The GuardDuty finding an alert is about: GuardDuty's own event, or Security Hub's copy
    (its finding Id is ``arn:aws:guardduty:…:detector/<d>/finding/<id>``); "" otherwise."""
    gd = alert.context.get("guardduty")
    if isinstance(gd, dict) and gd.get("finding_id"):
        return str(gd["finding_id"])
    hub = alert.context.get("securityhub")
    if isinstance(hub, dict) and _GUARDDUTY_PRODUCT in str(hub.get("product_arn", "")):
        finding_id = str(hub.get("finding_id", ""))
        if "/finding/" in finding_id:
            return finding_id.rsplit("/finding/", 1)[1]
    return ""


def value(alert: Alert, key: str) -> str:
    """The value of one ``group_by`` key for ``alert`` ("" when the alert does not say)."""
    res = alert.primary_resource
    if key == "account":
        return alert.account
    if key == "region":
        return alert.region
    if key == "source":
        return alert.source_kind
    if key == "type":
        return str(alert.fields.get("Finding type") or alert.fields.get("Type") or alert.detail_type)
    if key == "resource":  # the ARN, else type:account:id — no region: one resource reported from two regions is one
        return (res.arn or f"{res.type}:{res.account or alert.account}:{res.id}") if res else ""
    if key == "principal":
        return alert.principal_id or alert.principal or ""
    if key == "access_key":
        return alert.access_key_id or ""
    if key == "finding":
        return guardduty_finding_id(alert)
    raise ValueError(f"unknown correlation key {key!r}")


@dataclass(frozen=True)
class Correlation:
    """What the rules say about one alert: the ``merge`` group it joins, the ``thread`` group."""

    merged: Correlated | None = None
    threaded: Correlated | None = None

    def describe(self) -> str:
        return "; ".join(c.describe() for c in (self.merged, self.threaded) if c is not None)


def correlate(alert: Alert, rules: Sequence[CorrelationRule]) -> Correlation:
    """The first ``merge`` and the first ``thread`` rule that take ``alert``, with their keys."""
    found: dict[str, Correlated] = {}
    for rule in rules:
        if rule.mode in found or not matches(rule.match, alert):
            continue
        values = [value(alert, k) for k in rule.group_by]
        if all(values):
            found[rule.mode] = Correlated(rule, Alert.make_fingerprint("corr", rule.name, *values))
    return Correlation(merged=found.get("merge"), threaded=found.get("thread"))
