"""Run one read-only query in every configured account × region at once.

A bounded thread pool (16 workers) calls ``fn(client, target)`` per target; one target failing
(no permission, service not enabled, role not assumable) becomes a note, not a failed command.
The wait is bounded by the invocation's time left, so a slow region cannot outlive the Lambda.

Example::

    result = fan_out(rt, targets(rt), "cloudwatch", alarms_in)
    result.items   # every row, each tagged with its Target
    result.notes() # ["cloudwatch: AccessDenied in prod/eu-west-1", ...]

``measure_fanout(rt)`` is what the benchmark calls (``make bench``): the alarms query over every
target, timed; ``delay_every_call(rt, 0.1)`` injects latency before clients are created.
"""

from __future__ import annotations

import difflib
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from bot.aws import reads_with_own_credentials
from bot.commands.output import esc
from bot.runtime import Runtime

T = TypeVar("T")

MAX_WORKERS = 16
# Stop waiting this long before the Lambda's deadline, to leave time to answer.
DEADLINE_MARGIN_S = 3.0
MAX_WAIT_S = 60.0


@dataclass(frozen=True)
class Target:
    """One account × region to query. ``account`` is None when no accounts are configured."""

    account: str | None
    region: str
    alias: str | None = None

    @property
    def account_label(self) -> str:
        return self.alias or self.account or "default"

    @property
    def label(self) -> str:
        return f"{self.account_label}/{self.region}"


@dataclass
class FanOut(Generic[T]):
    """Rows from every target that answered, and why the others did not."""

    items: list[tuple[Target, T]] = field(default_factory=list)
    errors: dict[Target, str] = field(default_factory=dict)
    answered: list[Target] = field(default_factory=list)
    seconds: float = 0.0

    def notes(self, what: str = "") -> list[str]:
        """One line per distinct error, naming where it happened (escaped for mrkdwn)."""
        by_error: dict[str, list[str]] = defaultdict(list)
        for target, err in self.errors.items():
            by_error[err].append(target.label)
        out = []
        for err, where in sorted(by_error.items(), key=lambda kv: -len(kv[1])):
            places = ", ".join(sorted(where)[:5]) + (f" and {len(where) - 5} more" if len(where) > 5 else "")
            prefix = f"{what}: " if what else ""
            out.append(f":warning: {esc(prefix + err)} — {esc(places)}")
        return out


def targets(
    rt: Runtime, account: str | None = None, region: str | None = None, per_account_region: str | None = None
) -> list[Target]:
    """Every configured account × region, optionally narrowed to one account (id or alias) / region.

    ``per_account_region`` gives one target per account in that region (global APIs like Health).
    """
    default_region = rt.settings.aws_region
    accounts = list(rt.config.accounts)
    if not accounts:
        if account:
            return []  # only configured accounts can be asked about
        regions = [per_account_region or region or default_region]
        return [Target(None, r) for r in regions]
    out = []
    for acct in accounts:
        if account and account not in (acct.id, acct.alias):
            continue
        if per_account_region:
            out.append(Target(acct.id, per_account_region, acct.alias))
            continue
        for r in acct.regions or [default_region]:
            if region and r != region:
                continue
            out.append(Target(acct.id, r, acct.alias))
    return out


def describe_error(exc: BaseException) -> str:
    """A short, safe sentence for an AWS failure (no stack trace, no credentials)."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code", "Error")
        msg = str(err.get("Message", ""))[:200]
        return f"{code}: {msg}" if msg else str(code)
    if isinstance(exc, BotoCoreError):
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return f"{type(exc).__name__}"


class _ClientMaker:
    """Creates clients one session at a time: boto3 sessions are not thread-safe, calls are."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    def _lock_for(self, account: str | None) -> threading.Lock:
        acct = self.rt.config.account(account) if account else None
        key = acct.id if acct is not None and acct.role_arn else "base"
        with self._guard:
            return self._locks[key]

    def client(self, service: str, target: Target) -> Any:
        # An account listed without any role is the bot's own: read with its own credentials
        # (account=None). Any other named account goes through its role, or raises.
        own = target.account is None or reads_with_own_credentials(self.rt.config.accounts, target.account)
        with self._lock_for(target.account):
            return self.rt.sessions.client(service, region=target.region, account=None if own else target.account)


def fan_out(
    rt: Runtime,
    where: list[Target],
    service: str,
    fn: Callable[[Any, Target], list[T]],
    *,
    workers: int = MAX_WORKERS,
) -> FanOut[T]:
    """Call ``fn(client, target)`` for every target concurrently; collect rows and errors."""
    started = time.monotonic()
    result: FanOut[T] = FanOut()
    if not where:
        return result
    maker = _ClientMaker(rt)
    if any(t.account and (a := rt.config.account(t.account)) and a.role_arn for t in where):
        rt.sessions.client("sts")  # the base STS client, made once before threads need it

    def one(target: Target) -> list[T]:
        return fn(maker.client(service, target), target)

    try:
        budget = min(MAX_WAIT_S, max(1.0, float(rt.seconds_left()) - DEADLINE_MARGIN_S))
    except (AttributeError, TypeError, ValueError):
        budget = MAX_WAIT_S
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(where))), thread_name_prefix="ops-fanout")
    try:
        futures = {pool.submit(one, t): t for t in where}
        done, pending = wait(futures, timeout=budget)
        for fut in pending:
            fut.cancel()
            result.errors[futures[fut]] = f"no answer within {budget:.0f}s"
        for fut in done:
            target = futures[fut]
            exc = fut.exception()
            if exc is not None:
                result.errors[target] = describe_error(exc)
                continue
            result.answered.append(target)
            result.items += [(target, row) for row in fut.result() or []]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    order = {t: i for i, t in enumerate(where)}
    result.answered.sort(key=order.__getitem__)
    result.seconds = time.monotonic() - started
    return result


# --- benchmark hooks ------------------------------------------------------------------------------


_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")


def split_scope(rt: Runtime, args: list[str]) -> tuple[str | None, str | None, list[str]]:
    """Pick an account (id or alias) and a region out of ``args``; return the other words too.

    >>> split_scope(rt, ["prod", "eu-west-1", "HIGH"])   # doctest: +SKIP
    ('111111111111', 'eu-west-1', ['HIGH'])
    """
    account: str | None = None
    region: str | None = None
    rest: list[str] = []
    known = {a.id: a.id for a in rt.config.accounts}
    known.update({a.alias.lower(): a.id for a in rt.config.accounts if a.alias})
    for word in args:
        low = word.lower()
        if account is None and low in known:
            account = known[low]
        elif account is None and re.fullmatch(r"\d{12}", word):
            account = word  # not configured: reported as such by the caller
        elif region is None and _REGION_RE.match(low):
            region = low
        else:
            rest.append(word)
    return account, region, rest


def scope_names(rt: Runtime) -> list[str]:
    """Account ids, aliases and regions the user may type (for "did you mean")."""
    names: set[str] = set()
    for a in rt.config.accounts:
        names.add(a.id)
        if a.alias:
            names.add(a.alias)
        names.update(a.regions)
    return sorted(names)


def scoped_targets(
    inv: Any, account: str | None, region: str | None, per_account_region: str | None = None
) -> list[Target]:
    """``targets()`` for an invocation; an account or region outside the config is a usage error."""
    rt = inv.rt
    where = targets(rt, account, region, per_account_region)
    if where:
        return where
    asked = " ".join(p for p in (account, region) if p)
    names = scope_names(rt)
    guess = difflib.get_close_matches(asked.split()[-1] if asked else "", names, n=1, cutoff=0.5)
    hint = f" Did you mean `{guess[0]}`?" if guess else ""
    configured = ", ".join(names[:20]) or "none"
    raise inv.usage_error(f"`{asked}` is not a configured account or region.{hint} Configured: {configured}")
