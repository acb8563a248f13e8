"""One small typed registry, used by sources, remediations and commands.

Plugins register where they are defined::

    parsers = Registry[type[Parser]]("parser")

    @parsers.register("aws.guardduty", "GuardDuty Finding")
    class GuardDutyParser(Parser): ...

A duplicate key raises at import time, so two plugins can never silently shadow each other.

A plugin package imports its plugin modules with ``import_plugins`` (no hand-kept list)::

    PLUGIN_MODULES = import_plugins(__name__, __path__, skip={"base"})
"""

from __future__ import annotations

import pkgutil
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class DuplicateRegistrationError(ValueError):
    pass


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[Hashable, T] = {}
        self._loader: Callable[[], object] | None = None
        self._key_loader: Callable[[Hashable], object] | None = None
        self._position: Callable[[T], int] | None = None

    def load_with(self, loader: Callable[[], object], key_loader: Callable[[Hashable], object] | None = None) -> None:
        """Plugins are imported on demand: ``loader`` imports the rest of them the first time
        the registry is listed, or asked for a key it does not hold yet. Until then it holds
        what was imported (bot.sources imports one source's modules per new source).

        ``key_loader``, when given, is tried first for a key not held yet: it imports the one
        module that registers that key (bot.remediations: a static name → module table), and
        ``loader`` runs only when the key is still missing after it."""
        self._loader = loader
        self._key_loader = key_loader

    def keep_sorted(self, position: Callable[[T], int]) -> None:
        """List the entries by ``position(entry)`` (stable), whatever order their modules were
        imported in: the order of a registry loaded on demand stays the order of one loaded
        whole."""
        self._position = position
        self._sort()

    def _sort(self) -> None:
        position = self._position
        if position is not None:
            self._items = dict(sorted(self._items.items(), key=lambda kv: position(kv[1])))

    def _complete(self) -> None:
        loader, self._loader = self._loader, None
        if loader is not None:
            loader()

    def _find(self, key: Hashable) -> None:
        """Import what registers ``key`` when it is not held yet (its module, else the rest)."""
        if key in self._items:
            return
        if self._key_loader is not None and self._loader is not None:
            self._key_loader(key)
        if key not in self._items:
            self._complete()

    def held(self) -> list[tuple[Hashable, T]]:
        """The entries imported so far, without importing more (``items()`` imports them all)."""
        return list(self._items.items())

    def register(self, *keys: Hashable) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            for key in keys:
                self.add(key, obj)
            return obj

        return deco

    def add(self, key: Hashable, obj: T) -> None:
        if key in self._items:
            raise DuplicateRegistrationError(f"{self.kind} {key!r} is already registered")
        self._items[key] = obj
        self._sort()

    def get(self, key: Hashable) -> T | None:
        self._find(key)
        return self._items.get(key)

    def __getitem__(self, key: Hashable) -> T:
        found = self.get(key)
        if found is None:
            raise KeyError(f"unknown {self.kind} {key!r}")
        return found

    def __contains__(self, key: object) -> bool:
        if isinstance(key, Hashable):
            self._find(key)
        return key in self._items

    def __iter__(self) -> Iterator[Hashable]:
        self._complete()
        return iter(self._items)

    def __len__(self) -> int:
        self._complete()
        return len(self._items)

    def items(self) -> list[tuple[Hashable, T]]:
        self._complete()
        return list(self._items.items())

    def keys(self) -> list[Hashable]:
        self._complete()
        return list(self._items)

    def values(self) -> list[T]:
        self._complete()
        return list(self._items.values())


def plugin_modules(package: str, path: Iterable[str], skip: Collection[str]) -> tuple[str, ...]:
    """Full names of ``package``'s plain modules not in ``skip``, sorted (one directory listing).

    ``path`` is the package's ``__path__``; subpackages are not plugins and are left out.
    """
    names = (m.name for m in pkgutil.iter_modules(path) if not m.ispkg and m.name not in skip)
    return tuple(f"{package}.{name}" for name in sorted(names))


def import_plugins(package: str, path: Iterable[str], skip: Collection[str]) -> tuple[str, ...]:
    """Import every plugin module of ``package`` in sorted order, so each registers itself.

    Returns the names imported. An import error propagates: a broken plugin fails loudly.
    """
    names = plugin_modules(package, path, skip)
    for name in names:
        # The builtin, not importlib.import_module: it goes through the C import path, so
        # ``python -X importtime`` still shows each plugin module's own cost.
        __import__(name)
    return names
