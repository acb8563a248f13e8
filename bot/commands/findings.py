"""``/ops findings``: the top active GuardDuty and Security Hub findings."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from bot.commands.base import Invocation, Reply, command
from bot.commands.fanout import Target, fan_out, scoped_targets, split_scope
from bot.commands.output import LIST_LIMIT, esc, listing
from bot.models import Severity

# Findings fetched in detail per account/region; the rest are only counted.
DETAIL_PER_TARGET = LIST_LIMIT
# Security Hub can hold tens of thousands of findings: stop counting here.
SECURITYHUB_MAX_ITEMS = 500

# GuardDuty's numeric severity → label (docs: "Understanding GuardDuty findings — severity").
_GD_FLOOR = {Severity.CRITICAL: 9.0, Severity.HIGH: 7.0, Severity.MEDIUM: 4.0, Severity.LOW: 1.0, Severity.INFO: 0.0}


def guardduty_severity(value: float) -> Severity:
    for sev in (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW):
        if value >= _GD_FLOOR[sev]:
            return sev
    return Severity.INFO


def _at_least(min_sev: Severity) -> list[str]:
    return [s.value for s in Severity if s.at_least(min_sev)]


def guardduty_findings(client: Any, target: Target, min_sev: Severity) -> list[dict[str, Any]]:
    """Active (unarchived) GuardDuty findings at or above ``min_sev``; the top ones in detail.

    Rows beyond the detailed ones carry only ``{"count": n}`` so the total stays exact.
    """
    rows: list[dict[str, Any]] = []
    criteria = {
        "Criterion": {
            "service.archived": {"Eq": ["false"]},
            "severity": {"GreaterThanOrEqual": int(_GD_FLOOR[min_sev])},
        }
    }
    for detector_page in client.get_paginator("list_detectors").paginate():
        for detector in detector_page.get("DetectorIds", []):
            ids: list[str] = []
            pages = client.get_paginator("list_findings").paginate(
                DetectorId=detector,
                FindingCriteria=criteria,
                SortCriteria={"AttributeName": "severity", "OrderBy": "DESC"},
            )
            for page in pages:
                ids += page.get("FindingIds", [])
            top = ids[:DETAIL_PER_TARGET]
            detailed = client.get_findings(DetectorId=detector, FindingIds=top).get("Findings", []) if top else []
            for f in detailed:
                rows.append(
                    {
                        "source": "GuardDuty",
                        "severity": guardduty_severity(float(f.get("Severity", 0))),
                        "title": f.get("Title") or f.get("Type", ""),
                        "type": f.get("Type", ""),
                        "resource": (f.get("Resource") or {}).get("ResourceType", ""),
                        "updated": f.get("UpdatedAt", ""),
                    }
                )
            if len(ids) > len(detailed):
                rows.append({"count": len(ids) - len(detailed)})
    return rows


def _is_guardduty(finding: dict[str, Any]) -> bool:
    # Security Hub re-publishes GuardDuty findings; GuardDuty is asked directly.
    product = str(finding.get("ProductArn", "")) + str(finding.get("ProductName", ""))
    return "guardduty" in product.lower()


def securityhub_findings(client: Any, target: Target, min_sev: Severity) -> list[dict[str, Any]]:
    """Active, unresolved Security Hub findings at or above ``min_sev`` (GuardDuty's excluded)."""
    wanted = set(_at_least(min_sev))
    filters = {
        "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
        "WorkflowStatus": [
            {"Value": "NEW", "Comparison": "EQUALS"},
            {"Value": "NOTIFIED", "Comparison": "EQUALS"},
        ],
        # Security Hub spells the lowest label INFORMATIONAL.
        "SeverityLabel": [
            {"Value": "INFORMATIONAL" if v == "INFO" else v, "Comparison": "EQUALS"} for v in sorted(wanted)
        ],
    }
    pages = client.get_paginator("get_findings").paginate(
        Filters=filters,
        SortCriteria=[{"Field": "SeverityNormalized", "SortOrder": "desc"}],
        PaginationConfig={"MaxItems": SECURITYHUB_MAX_ITEMS, "PageSize": 100},
    )
    rows: list[dict[str, Any]] = []
    for page in pages:
        for f in page.get("Findings", []):
            # Filters are applied again here: cheap, and not every endpoint honours them all.
            label = str((f.get("Severity") or {}).get("Label", "INFORMATIONAL")).upper()
            sev = (
                Severity.INFO
                if label == "INFORMATIONAL"
                else Severity(label)
                if label in Severity.__members__
                else None
            )
            workflow = str((f.get("Workflow") or {}).get("Status") or f.get("WorkflowState") or "NEW").upper()
            if (
                sev is None
                or sev.value not in wanted
                or f.get("RecordState", "ACTIVE") != "ACTIVE"
                or workflow not in ("NEW", "NOTIFIED")
                or _is_guardduty(f)
            ):
                continue
            resources = f.get("Resources") or [{}]
            rows.append(
                {
                    "source": "Security Hub",
                    "severity": sev,
                    "title": f.get("Title", ""),
                    "type": ", ".join(f.get("Types", [])[:1]),
                    "resource": resources[0].get("Id", ""),
                    "updated": f.get("UpdatedAt", ""),
                }
            )
    return rows


def _min_severity(inv: Invocation, words: list[str]) -> Severity:
    if not words:
        return Severity.LOW
    if len(words) > 1:
        raise inv.usage_error(f"Unexpected `{esc(' '.join(words[1:]))}`.")
    word = words[0].upper()
    if word == "INFORMATIONAL":
        word = "INFO"
    if word not in Severity.__members__:
        raise inv.usage_error(f"`{esc(words[0])}` is not a severity; use one of {', '.join(Severity)}.")
    return Severity(word)


def _sort_key(row: dict[str, Any]) -> tuple[int, str]:
    updated = row["updated"]
    if isinstance(updated, datetime):
        updated = updated.isoformat()
    return (row["severity"].rank, str(updated))


def findings_scope(inv: Invocation) -> tuple[list[Target], Severity]:
    """The targets and minimum severity of ``/ops findings`` (no AWS call); bad ones are usage errors."""
    account, region, rest = split_scope(inv.rt, inv.args)
    min_sev = _min_severity(inv, rest)
    return scoped_targets(inv, account, region), min_sev


@command("findings", deferred=True, check=findings_scope)
def findings(inv: Invocation) -> Reply:
    """findings [severity] [account] [region]
    The top active GuardDuty and Security Hub findings (severity: CRITICAL, HIGH, MEDIUM, LOW).

    Example: ``/ops findings high prod``
    """
    where, min_sev = findings_scope(inv)
    gd = fan_out(inv.rt, where, "guardduty", lambda c, t: guardduty_findings(c, t, min_sev))
    sh = fan_out(inv.rt, where, "securityhub", lambda c, t: securityhub_findings(c, t, min_sev))
    detailed = [(t, r) for t, r in gd.items + sh.items if "count" not in r]
    total = len(detailed) + sum(r["count"] for _, r in gd.items if "count" in r)
    detailed.sort(key=lambda tr: _sort_key(tr[1]), reverse=True)
    rows = [
        f"{r['severity'].emoji} *{esc(r['title'])}* — {esc(r['source'])}, {esc(t.label)}"
        + (f"\n      {esc(r['resource'])}" if r["resource"] else "")
        for t, r in detailed
    ]
    notes = gd.notes("guardduty") + sh.notes("securityhub")
    per_target = Counter(t for t, _ in sh.items)
    if any(n >= SECURITYHUB_MAX_ITEMS for n in per_target.values()):
        notes.append(f"Security Hub: counted the top {SECURITYHUB_MAX_ITEMS} per account-region; there are more")
    return listing(
        f"Active findings at {min_sev.value} or above",
        rows,
        total=total,
        hint=f"narrow with `{inv.slash} findings <severity> <account> <region>`",
        empty=":white_check_mark: No active findings.",
        notes=notes,
    )
