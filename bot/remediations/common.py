"""What every service module shares: AWS error codes, tag lists, plan wording, per-run notes.

Example::

    with not_found_as({"NoSuchBucket"}, f"bucket {name}"):
        s3.get_public_access_block(Bucket=name)   # NoSuchBucket -> NotFoundError("bucket x does not exist")
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from bot.errors import NotFoundError
from bot.remediations.base import Remediation, RemediationContext, RemediationParams


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def not_found_as(codes: Iterable[str], what: str) -> Iterator[None]:
    """Turn the AWS error codes meaning "it is gone" into ``NotFoundError("<what> does not exist")``."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) in set(codes):
            raise NotFoundError(f"{what} does not exist") from None
        raise


def tag_dict(tags: Iterable[dict[str, Any]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    """``[{"Key": "team", "Value": "x"}]`` → ``{"team": "x"}`` (KMS and ECS spell the keys differently)."""
    return {str(t[key]): str(t.get(value, "")) for t in tags or [] if key in t}


def where(account: str, region: str) -> str:
    """``"in eu-west-1 (account 123456789012)"``; the parts that are unknown are left out."""
    text = f"in {region}" if region else ""
    if account:
        text = f"{text} (account {account})" if text else f"in account {account}"
    return text


def coerce_params(rem: Remediation, params: Any) -> Any:
    """``plan()`` accepts a raw dict or an already parsed Params model."""
    if isinstance(params, RemediationParams):
        return params
    return rem.parse_params(dict(params or {}))


def utc_now_iso(ctx: RemediationContext | None = None) -> str:
    """The run's clock (``ctx.now_iso``) or now, as ``2026-01-01T12:00:00Z``."""
    if ctx is not None and ctx.now_iso:
        return ctx.now_iso
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class RunNotes:
    """Facts ``execute()`` learns that the verifying ``read_state()`` of the same run needs.

    Some changes leave nothing describable behind (a reboot) or create something only the
    response names (a snapshot id, an automation execution id). ``execute`` puts the fact under
    the run's context; the next ``read_state`` of that context pops it, so a later run never
    sees a stale note.
    """

    def __init__(self) -> None:
        self._notes: dict[tuple[int, str], Any] = {}
        self._lock = threading.Lock()

    def put(self, ctx: RemediationContext, key: str, value: Any) -> None:
        with self._lock:
            self._notes[(id(ctx), key)] = value

    def pop(self, ctx: RemediationContext, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._notes.pop((id(ctx), key), default)


run_notes = RunNotes()
