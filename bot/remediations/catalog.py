"""The catalog as data for humans and for IAM: the README table and the union of permissions.

Example::

    >>> print(catalog_table_markdown())   # doctest: +SKIP
    | Remediation | Title | Risk | Dry run | Undo | IAM permissions |
    ...
    >>> "ec2:StopInstances" in all_permissions()
    True
"""

from __future__ import annotations

from bot.remediations import remediations
from bot.remediations.base import Remediation


def _ordered() -> list[Remediation]:
    return [remediations[name] for name in sorted(str(k) for k in remediations.keys())]


def catalog_table_markdown() -> str:
    """One row per remediation: name, title, risk, dry run, undo, permissions."""
    lines = [
        "| Remediation | Title | Risk | Dry run | Undo | IAM permissions |",
        "|---|---|---|---|---|---|",
    ]
    for rem in _ordered():
        perms = ", ".join(f"`{p}`" for p in rem.permissions)
        lines.append(
            f"| `{rem.name}` | {rem.title} | {rem.risk.value} | {'yes' if rem.dry_run else 'no'} "
            f"| {'yes' if rem.reversible else 'no'} | {perms} |"
        )
    return "\n".join(lines) + "\n"


def fixes_markdown() -> str:
    """One line per remediation: the problems it is offered on (its ``fixes``)."""
    lines = []
    for rem in _ordered():
        wanted = [f"`{p}`" for p in rem.fixes if not p.startswith("!")]
        unwanted = [f"`{p[1:]}`" for p in rem.fixes if p.startswith("!")]
        if rem.fixes == ("*",):
            said = "whatever its `runbooks:` entries match (resource types and parameters)"
        elif not wanted:
            said = "never offered on an alert; `/ops run` only"
        else:
            said = ", ".join(wanted) + (f" (not {', '.join(unwanted)})" if unwanted else "")
        lines.append(f"- `{rem.name}`: {said}")
    return "\n".join(lines) + "\n"


def all_permissions() -> list[str]:
    """Every IAM action the catalog needs, sorted and unique: the bot's policy is exactly this."""
    return sorted({p for rem in _ordered() for p in rem.permissions})
