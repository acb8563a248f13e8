"""Session factory: one place that makes boto3 clients.

Every client takes its endpoint from ``Settings.aws_endpoint_url`` (moto in the sandbox and
tests), is created lazily (each costs 0.1–0.2 s at cold start) and cached per (account,
region, service, identity). Cross-account access assumes the account's role with its
ExternalId and sets ``SourceIdentity`` to the Slack user id (``eventops-auto`` for auto mode),
so CloudTrail in the member account shows who or what acted.

The account rule (confused deputy): a client that names an account is made only through that
account's role from the config's ``accounts:``. An account that is not configured, or is
configured without the role asked for, raises ``AccountNotConfiguredError``: never a silent
fall back to the bot's own credentials. The bot's own credentials are for the bot's own
purposes (its table, queues, STS, secrets) and are what ``client(service)`` without an account
gives; callers that read a configured account listed without a role (the bot's own account)
say so explicitly with ``account=None`` (see ``reads_with_own_credentials``).
"""

from __future__ import annotations

import re
import threading
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.credentials import RefreshableCredentials
from botocore.session import get_session

from bot.config import Account, Settings
from bot.errors import AccountNotConfiguredError

_RETRIES = BotoConfig(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=20)
# SourceIdentity: 2-64 chars of [\w+=,.@-]
_SOURCE_IDENTITY_BAD = re.compile(r"[^\w+=,.@-]")


# CloudTrail's SourceIdentity when auto mode (the system actor ``eventops``) acts.
AUTO_SOURCE_IDENTITY = "eventops-auto"


def remediation_refusal(accounts: list[Account], account: str | None) -> str | None:
    """Why no remediation may run in ``account`` (not configured, or no role), or None.

    >>> remediation_refusal([Account(id="123456789012", role_arn="arn:aws:iam::123456789012:role/r")], "999999999999")
    'Account 999999999999 is not configured in EventOps'
    """
    acct = next((a for a in accounts if a.id == account), None) if account else None
    if acct is None:
        return f"Account {account or '(none)'} is not configured in EventOps"
    if not acct.role_arn:
        return f"Account {acct.id} is configured in EventOps without a role_arn, so EventOps does not act in it"
    return None


def reads_with_own_credentials(accounts: list[Account], account: str | None) -> bool:
    """True when reads in ``account`` use the bot's own credentials: it is configured without
    any role (the bot's own account, listed as such). An unconfigured account is never read."""
    acct = next((a for a in accounts if a.id == account), None) if account else None
    return acct is not None and not acct.role_arn and not acct.read_role_arn


def source_identity(user_id: str) -> str:
    cleaned = _SOURCE_IDENTITY_BAD.sub("-", user_id)[:64]
    return cleaned if len(cleaned) >= 2 else f"u-{cleaned}"


class AwsSessions:
    """Makes and caches boto3 clients, in the bot's own account or an assumed role."""

    def __init__(self, settings: Settings, accounts: list[Account] | None = None) -> None:
        self.settings = settings
        self.accounts = {a.id: a for a in accounts or []}
        self._base: boto3.session.Session | None = None
        self._clients: dict[tuple[str, ...], Any] = {}
        self._sessions: dict[tuple[str, str, str], boto3.session.Session] = {}
        self._lock = threading.Lock()

    @property
    def base(self) -> boto3.session.Session:
        if self._base is None:
            self._base = boto3.session.Session(region_name=self.settings.aws_region)
        return self._base

    def client(
        self,
        service: str,
        region: str | None = None,
        account: str | None = None,
        identity: str | None = None,
        read_only: bool = False,
    ) -> Any:
        """A client for ``service`` in ``region``: the bot's own credentials when ``account`` is
        None, else through ``account``'s role (raises ``AccountNotConfiguredError`` when the
        account is not configured or has no role: a remediation context always names its account).

        ``read_only`` lookups (tag enrichment from notify) use the account's ``read_role_arn``
        when set: the remediation role trusts only the worker.
        """
        region = region or self.settings.aws_region
        # None (the bot's own account) and "" (a proposal without an account: refused) differ.
        key = (service, region, "(own)" if account is None else account, identity or "", "ro" if read_only else "")
        with self._lock:
            cached = self._clients.get(key)
        if cached is not None:
            return cached
        session = self._session_for(account, identity, read_only)
        client = session.client(
            service,
            region_name=region,
            endpoint_url=self.settings.aws_endpoint_url,
            config=_RETRIES,
        )
        with self._lock:
            self._clients.setdefault(key, client)
            return self._clients[key]

    def _session_for(self, account: str | None, identity: str | None, read_only: bool = False) -> boto3.session.Session:
        if account is None:
            return self.base
        acct = self.accounts.get(account)
        if acct is None:
            raise AccountNotConfiguredError(
                f"Account {account or '(none)'} is not configured in EventOps: it does not act or read there"
            )
        role_arn = (acct.read_role_arn or acct.role_arn) if read_only else acct.role_arn
        if not role_arn:
            kind = "read_role_arn or role_arn" if read_only else "role_arn"
            raise AccountNotConfiguredError(
                f"Account {acct.id} is configured in EventOps without a {kind}: it acts there only through a role"
            )
        key = (acct.id, identity or "", role_arn)
        with self._lock:
            if key in self._sessions:
                return self._sessions[key]
        sts = self.client("sts")
        kwargs: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": f"eventops-{source_identity(identity or 'bot')}"[:64],
        }
        if acct.external_id:
            kwargs["ExternalId"] = acct.external_id
        if identity:
            kwargs["SourceIdentity"] = source_identity(identity)

        def assume() -> dict[str, str]:
            creds = sts.assume_role(**kwargs)["Credentials"]
            return {
                "access_key": creds["AccessKeyId"],
                "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": creds["Expiration"].isoformat(),
            }

        # Refreshable: a warm container outlives the role session (1 h); botocore re-assumes
        # shortly before expiry instead of failing with ExpiredToken.
        credentials = RefreshableCredentials.create_from_metadata(
            metadata=assume(), refresh_using=assume, method="sts-assume-role"
        )
        core = get_session()
        core._credentials = credentials
        core.set_config_variable("region", self.settings.aws_region)
        session = boto3.session.Session(botocore_session=core)
        with self._lock:
            self._sessions[key] = session
        return session
