"""The remediation catalog: importing this package registers every remediation.

Every module of this package except the ``INFRASTRUCTURE`` ones is a plugin and is imported here,
in sorted order, so the registry's order is fixed. A new remediation is a new module: there is
no list to update. ``tests/meta/test_meta_plugins.py`` fails when a module defines a remediation
that is not registered, or the registry holds one from a module that was not discovered.

Example::

    from bot.remediations import remediations, run
    outcome = run(remediations["ec2.stop-instance"], ctx, {"instance_id": "i-0abc1234"})
"""

from __future__ import annotations

from bot.registry import import_plugins
from bot.remediations.base import (
    EXEMPT_TAG,
    Remediation,
    RemediationContext,
    RemediationParams,
    register,
    remediations,
    run,
    run_undo,
)

# Not plugins: the interface and runner (base), the helpers every service module shares
# (common), and the README/IAM view of the registry (catalog, which imports this package).
INFRASTRUCTURE = frozenset({"base", "common", "catalog"})

# The plugin modules, imported (sorted) so each registers its remediations.
PLUGIN_MODULES = import_plugins(__name__, __path__, INFRASTRUCTURE)

__all__ = [
    "EXEMPT_TAG",
    "INFRASTRUCTURE",
    "PLUGIN_MODULES",
    "Remediation",
    "RemediationContext",
    "RemediationParams",
    "register",
    "remediations",
    "run",
    "run_undo",
]
