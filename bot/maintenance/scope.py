"""Maintenance scopes: what a window covers, read from text and matched against a routed alert.

A scope is ``<kind>:<value>``::

    account:prod            an account, by alias or 12-digit id (an alias must be configured)
    region:eu-west-1        a region
    tag:env=staging         a tag on the alert's resources (``tag:env=*``: any value)
    rule:prod-sg            a routing rule, by name (``default`` for the default route)

Example::

    scope = parse_scope("account:prod", {"prod": "111111111111"}, {"prod-sg"})
    scope.covers(alert, route)      # alert.account == "111111111111"
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from bot.models import Alert, Route

KINDS = ("account", "region", "tag", "rule")
SCOPE_HELP = "account:<id|alias>, region:<name>, tag:<key>=<value> or rule:<routing rule>"
_REGION_RE = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_TAG_KEY_RE = re.compile(r"^[\w.:/+=@ -]{1,128}$")


class ScopeError(ValueError):
    """A scope that cannot be read; the message says why and what a scope looks like."""


@dataclass(frozen=True)
class Scope:
    """One parsed scope: ``text`` as written, ``kind`` and ``value`` (an account is its id)."""

    text: str
    kind: str
    value: str
    tag_value: str = ""

    def covers(self, alert: Alert, route: Route) -> bool:
        """Does this scope hold ``alert``, routed by ``route``?"""
        if self.kind == "account":
            return alert.account == self.value
        if self.kind == "region":
            return alert.region == self.value
        if self.kind == "rule":
            return route.rule == self.value
        tags = resource_tags(alert)
        if self.value not in tags:
            return False
        return self.tag_value == "*" or tags[self.value] == self.tag_value


def resource_tags(alert: Alert) -> dict[str, str]:
    """The tags of the alert's resources, merged; the primary resource's win (as routing reads them)."""
    merged: dict[str, str] = {}
    for res in reversed(alert.resources):
        merged.update(res.tags)
    return merged


def parse_scope(text: str, aliases: Mapping[str, str], rules: Collection[str]) -> Scope:
    """``text`` → a Scope. ``aliases``: account alias → id; ``rules``: routing rule names.

    Raises ScopeError with one clear reason::

        >>> parse_scope("account:prod", {"prod": "111111111111"}, []).value
        '111111111111'
        >>> parse_scope("zone:a", {}, [])
        Traceback (most recent call last):
        ...
        bot.maintenance.scope.ScopeError: `zone:a` is not a scope: use account:<id|alias>, region:<name>, tag:<key>=<value> or rule:<routing rule>
    """
    raw = (text or "").strip()
    kind, sep, value = raw.partition(":")
    kind = kind.lower()
    if not sep or kind not in KINDS or not value:
        raise ScopeError(f"`{raw}` is not a scope: use {SCOPE_HELP}")
    if kind == "account":
        return Scope(raw, kind, _account(value, aliases))
    if kind == "region":
        if not _REGION_RE.match(value):
            raise ScopeError(f"`{value}` is not a region name (like eu-west-1)")
        return Scope(raw, kind, value)
    if kind == "rule":
        if value != "default" and value not in rules:
            known = ", ".join(sorted(rules)) or "none"
            raise ScopeError(f"no routing rule named `{value}` (rules: {known}; or `default`)")
        return Scope(raw, kind, value)
    key, eq, want = value.partition("=")
    if not eq or not key or not want or not _TAG_KEY_RE.match(key):
        raise ScopeError(f"`{raw}` is not a tag scope: use tag:<key>=<value>, e.g. tag:env=staging")
    return Scope(raw, kind, key, want)


def _account(value: str, aliases: Mapping[str, str]) -> str:
    if _ACCOUNT_RE.match(value):
        return value
    if value in aliases:
        return aliases[value]
    known = ", ".join(sorted(aliases)) or "none configured"
    raise ScopeError(f"`{value}` is not a 12-digit account id or a configured alias (aliases: {known})")
