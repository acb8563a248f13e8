"""Plugins can't go missing silently: every plugin file is discovered, every plugin class defined
in it is registered, and every registry entry comes from a discovered module.

``bot/remediations/__init__.py`` and ``bot/sources/__init__.py`` find their plugin modules with
``pkgutil`` (every module but the package's ``INFRASTRUCTURE``). These tests list the files on
disk independently and import every one of them, infrastructure included, then compare. Each
test collects every offender and fails once with the whole list.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from types import ModuleType

import pytest

import bot.remediations
import bot.sources
from bot.remediations.base import Remediation
from bot.sources.base import Parser, parsers
from bot.sources.generic import GenericParser

# Plugin classes that are deliberately never registered, with the reason. Nothing else may be.
UNREGISTERED = {
    GenericParser: "the fallback: parser_for() returns it when no (source, detail-type) is registered",
}


def _registered_classes(package: ModuleType) -> set[type]:
    if package is bot.remediations:
        return {type(rem) for rem in bot.remediations.remediations.values()}
    return set(parsers.values())


PACKAGES = [
    pytest.param(bot.remediations, Remediation, id="remediations"),
    pytest.param(bot.sources, Parser, id="sources"),
]


def _module_files(package: ModuleType) -> list[str]:
    """Module names of the package's ``.py`` files, read from disk (not through pkgutil)."""
    return sorted(p.stem for p in Path(package.__file__ or "").parent.glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize(("package", "base"), PACKAGES)
def test_discovery_imports_every_module_but_the_infrastructure(package: ModuleType, base: type) -> None:
    files = _module_files(package)
    expected = [f"{package.__name__}.{name}" for name in files if name not in package.INFRASTRUCTURE]
    offenders = [
        f"{name}: a plugin module discovery did not import" for name in expected if name not in package.PLUGIN_MODULES
    ]
    offenders += [f"{name}: discovered, but no such file" for name in package.PLUGIN_MODULES if name not in expected]
    offenders += [
        f"INFRASTRUCTURE names {name!r}: no such file" for name in package.INFRASTRUCTURE if name not in files
    ]
    if list(package.PLUGIN_MODULES) != sorted(package.PLUGIN_MODULES):
        offenders.append(f"PLUGIN_MODULES is not sorted: {package.PLUGIN_MODULES}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize(("package", "base"), PACKAGES)
def test_every_plugin_class_defined_in_a_module_is_registered(package: ModuleType, base: type) -> None:
    registered = _registered_classes(package)
    offenders = []
    for name in _module_files(package):
        module = importlib.import_module(f"{package.__name__}.{name}")
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls is base or not issubclass(cls, base) or cls.__module__ != module.__name__:
                continue  # not a plugin class, or one defined elsewhere (checked there)
            if cls in registered or cls in UNREGISTERED:
                continue
            if any(other is not cls and issubclass(other, cls) for other in registered):
                continue  # a shared base of registered plugins (ec2's _InstanceAction, CloudTrailParser)
            where = "an infrastructure module, never imported as a plugin" if name in package.INFRASTRUCTURE else ""
            offenders.append(
                f"{module.__name__}.{cls_name}: a {base.__name__} that is not registered"
                + (f" ({where})" if where else " (decorate it with its registry's register)")
            )
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize(("package", "base"), PACKAGES)
def test_every_registry_entry_comes_from_a_discovered_module(package: ModuleType, base: type) -> None:
    offenders = [
        f"{cls.__module__}.{cls.__qualname__}: registered from a module that discovery does not import"
        for cls in sorted(_registered_classes(package), key=lambda c: (c.__module__, c.__qualname__))
        if cls.__module__ not in package.PLUGIN_MODULES
    ]
    assert not offenders, "\n".join(offenders)


def test_the_generic_fallback_stays_out_of_the_registry() -> None:
    assert GenericParser not in parsers.values()
    assert bot.sources.parser_for("eventops.nobody-parses-this", "Anything") is GenericParser
