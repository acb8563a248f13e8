"""The remediation catalog: one module per AWS service, imported on demand.

Every module of this package except the ``INFRASTRUCTURE`` ones is a plugin (found with
``pkgutil``). They are imported when needed, so a cold start pays for the remediations it uses,
not for the whole catalog: ``remediations[name]`` imports the module named for it in
``REMEDIATION_MODULES``; ``fixers(problems)`` imports the modules whose remediations may fix
those problems (``PROBLEM_MODULES``); listing the registry imports them all (``load_all``), in
sorted order, and the registry lists them in that order however they were imported.
A new remediation is a new module plus its lines in the two tables
(``tests/remediations/test_remediation_registry.py`` fails until they are there;
``tests/meta/test_meta_plugins.py`` checks the registry against the files).

Example::

    from bot.remediations import remediations, run
    outcome = run(remediations["ec2.stop-instance"], ctx, {"instance_id": "i-0abc1234"})
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from bot.registry import plugin_modules
from bot.remediations.base import (
    EXEMPT_TAG,
    OFFER_PREFIX,
    Remediation,
    RemediationContext,
    RemediationParams,
    problem_family,
    register,
    remediations,
    run,
    run_undo,
)

# Not plugins: the interface and runner (base), the helpers every service module shares
# (common), and the README/IAM view of the registry (catalog, which imports this package).
INFRASTRUCTURE = frozenset({"base", "common", "catalog"})

# The plugin modules (sorted): each registers its remediations when imported.
PLUGIN_MODULES = plugin_modules(__name__, __path__, INFRASTRUCTURE)

# remediation name → the module registering it. Kept equal to the registry by
# tests/remediations/test_remediation_registry.py; a name missing here still resolves (the
# registry imports every module on a miss), it only costs that lookup the whole catalog.
REMEDIATION_MODULES: dict[str, str] = {
    "autoscaling.set-desired-capacity": "autoscaling",
    "cloudtrail.start-logging": "cloudtrail",
    "ec2.isolate-instance": "ec2",
    "ec2.reboot-instance": "ec2",
    "ec2.revoke-ingress": "ec2",
    "ec2.snapshot-volumes": "ec2",
    "ec2.start-instance": "ec2",
    "ec2.stop-instance": "ec2",
    "ec2.terminate-instance": "ec2",
    "ecs.force-new-deployment": "ecs",
    "guardduty.archive-finding": "guardduty",
    "iam.deactivate-access-key": "iam",
    "kms.cancel-key-deletion": "kms",
    "lambda.throttle-function": "awslambda",
    "s3.block-public-access": "s3",
    "securityhub.set-workflow-status": "securityhub",
    "ssm.run-automation": "ssm",
}

# problem family (an ``Alert.problems`` entry up to its first ":") → the modules with a
# remediation whose ``fixes`` name that family; "*" → those whose patterns match any family.
# Kept equal to the registry by tests/remediations/test_remediation_registry.py.
PROBLEM_MODULES: dict[str, tuple[str, ...]] = {
    "*": ("ssm",),
    "accessanalyzer": ("s3",),
    "autoscaling": ("autoscaling",),
    "cloudtrail": ("ec2", "iam", "s3"),
    "cloudtrail-call": ("cloudtrail",),
    "cloudwatch-alarm": ("awslambda", "ec2"),
    "config-rule": ("cloudtrail", "ec2", "iam", "kms", "s3"),
    "ebs": ("kms",),
    "ec2-state": ("ec2",),
    "ecs": ("ecs",),
    "guardduty": ("awslambda", "cloudtrail", "ec2", "guardduty", "iam", "s3"),
    "guardduty-actor": ("ec2",),
    "guardduty-target": ("ec2",),
    "health": ("ec2", "iam"),
    "kms": ("kms",),
    "macie": ("s3",),
    "securityhub": ("securityhub",),
    "securityhub-control": ("cloudtrail", "ec2", "iam", "kms", "s3"),
    "trustedadvisor": ("ec2", "iam", "s3"),
}


def load_all() -> tuple[str, ...]:
    """Import every plugin module (sorted), so the registry is complete; returns their names."""
    for name in PLUGIN_MODULES:
        # The builtin, not importlib.import_module: it goes through the C import path, so
        # ``python -X importtime`` still shows each plugin module's own cost.
        __import__(name)
    return PLUGIN_MODULES


def _load(modules: Iterable[str]) -> None:
    for module in modules:
        __import__(f"{__name__}.{module}")


def _load_name(name: Hashable) -> None:
    module = REMEDIATION_MODULES.get(str(name))
    if module is not None:
        _load([module])


def fixers(problems: Iterable[str]) -> list[tuple[str, Remediation]]:
    """The registered remediations that may fix one of ``problems`` (``fits`` decides which
    do), in catalog order. Imports only the modules ``PROBLEM_MODULES`` names for their
    families (and ``REMEDIATION_MODULES``' for an ``offer:<name>``), not the whole catalog."""
    modules = set(PROBLEM_MODULES["*"])
    for problem in problems:
        if problem.startswith(OFFER_PREFIX):
            modules.add(REMEDIATION_MODULES.get(problem[len(OFFER_PREFIX) :], ""))
        modules.update(PROBLEM_MODULES.get(problem_family(problem), ()))
    modules.discard("")
    _load(sorted(modules))
    return [(str(name), rem) for name, rem in remediations.held()]


def catalog_order(names: Iterable[str]) -> dict[str, int]:
    """A rank per remediation, in catalog order, for ``names`` and whatever else is imported:
    sorting by it orders ``names`` as the whole catalog would, importing only their modules.
    A name the catalog does not know is left out (it imports the rest of the catalog once)."""
    for name in names:
        remediations.get(name)
    return {str(name): i for i, (name, _) in enumerate(remediations.held())}


def _position(rem: Remediation) -> int:
    module = type(rem).__module__
    return PLUGIN_MODULES.index(module) if module in PLUGIN_MODULES else len(PLUGIN_MODULES)


remediations.load_with(load_all, key_loader=_load_name)
remediations.keep_sorted(_position)

__all__ = [
    "EXEMPT_TAG",
    "INFRASTRUCTURE",
    "OFFER_PREFIX",
    "PLUGIN_MODULES",
    "PROBLEM_MODULES",
    "REMEDIATION_MODULES",
    "Remediation",
    "RemediationContext",
    "RemediationParams",
    "catalog_order",
    "fixers",
    "load_all",
    "problem_family",
    "register",
    "remediations",
    "run",
    "run_undo",
]
