"""Dependencies built once per cold start and handed to the pipeline.

Handlers do ``rt = Runtime.from_env()`` at import time (cheap: nothing connects until first
use) and pass ``rt`` down. Tests build a Runtime directly with their own settings and config.
Every AWS client comes from ``rt.sessions`` (one endpoint setting, lazily created); Slack from
``rt.slack`` (``SLACK_API_URL``); secrets from env when set, else Secrets Manager or SSM
SecureString — cached, never logged.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.aws import AwsSessions
from bot.config import Config, Settings, check_remediation_names, load_config, names_remediations
from bot.errors import ConfigError
from bot.ports import SlackPort, StorePort

log = logging.getLogger("eventops")

# At DEBUG these log request and response bodies: GetSecretValue answers (the bot token),
# SQS job bodies (response_url, a bearer credential). Keep them quiet whatever the root level
# (bot.logs.configure_logging pins them again, with slack_sdk and slack_bolt, in the handlers).
for _noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

KILL_SWITCH_CACHE_S = 30.0


def load_checked_config(path: str | Path | None) -> Config:
    """``load_config`` plus the start-up checks that need the remediation catalog.

    A route listing a remediation that does not exist is a ConfigError naming the key (the
    button would otherwise just never appear). The check lives here, not in ``bot.config``,
    because the catalog imports ``bot.config`` (``Runbook``): the reverse import is a cycle.
    The runtime (``Runtime.from_env``), ``check-config``, ``render`` and the sandbox load
    through here.
    """
    config = load_config(path)
    if names_remediations(config):
        # deferred: the catalog is imported only when routes name remediations (a cold-start cost)
        from bot.remediations import remediations

        source = Path(path).name if path is not None else "config"
        check_remediation_names(config, {str(k) for k in remediations.keys()}, source)
    return config


@dataclass
class SlackSecrets:
    bot_token: str
    signing_secret: str

    def __repr__(self) -> str:  # never print secrets, even by accident
        return "SlackSecrets(***)"


@dataclass
class Runtime:
    settings: Settings
    config: Config
    # Built in __post_init__ when not given (tests pass their own); never None afterwards.
    sessions: AwsSessions = None  # type: ignore[assignment]
    counts: Counter[str] = field(default_factory=Counter)
    # Seconds left in this invocation (Lambda context), so Slack waits never outlive it.
    time_left: Any = None
    _store: Any = None
    _slack: Any = None
    _secrets: SlackSecrets | None = field(default=None, repr=False)
    _metrics: Any = None
    _kill_cache: tuple[float, bool] | None = None
    # counts and metrics: a notify batch delivers several channels' alerts at once
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.sessions is None:
            self.sessions = AwsSessions(self.settings, self.config.accounts)
        if self.config.runbooks:
            # ssm.run-automation offers the runbooks named in the config (import only then:
            # the catalog is not needed at every cold start).
            from bot.remediations.ssm import configure_runbooks

            configure_runbooks(self.config.runbooks)

    @classmethod
    def from_env(cls) -> Runtime:
        settings = Settings.from_env()
        config = load_checked_config(settings.config_path)
        return cls(settings=settings, config=config)

    # --- lazily built dependencies --------------------------------------------------------
    @property
    def store(self) -> StorePort:
        if self._store is None:
            from bot.store import Store  # built on first use: not every invocation reads the table

            self._store = Store(self.sessions.client("dynamodb"), self.settings.table_name)
        return self._store

    @property
    def slack(self) -> SlackPort:
        if self._slack is None:
            from bot.slack.client import SlackPoster  # slack_sdk: only when Slack is called

            self._slack = SlackPoster(
                self.secrets.bot_token,
                self.settings.slack_api_url,
                time_left=self.seconds_left,
            )
        return self._slack

    @slack.setter
    def slack(self, value: SlackPort) -> None:
        self._slack = value

    @property
    def secrets(self) -> SlackSecrets:
        if self._secrets is None:
            self._secrets = self._load_secrets()
        return self._secrets

    def _load_secrets(self) -> SlackSecrets:
        s = self.settings
        token, signing = s.slack_bot_token, s.slack_signing_secret
        if (not token or not signing) and s.slack_secret_id:
            raw = self.sessions.client("secretsmanager").get_secret_value(SecretId=s.slack_secret_id)
            try:
                data = json.loads(raw["SecretString"])
            except (KeyError, ValueError):
                raise ConfigError(
                    "EVENTOPS_SLACK_SECRET_ID: the secret must be JSON with bot_token and signing_secret"
                ) from None
            token = token or data.get("bot_token")
            signing = signing or data.get("signing_secret")
        if not token and s.slack_token_parameter:
            token = self._ssm_secure(s.slack_token_parameter)
        if not signing and s.slack_signing_secret_parameter:
            signing = self._ssm_secure(s.slack_signing_secret_parameter)
        if not token:
            raise ConfigError("SLACK_BOT_TOKEN: not set, and no EVENTOPS_SLACK_SECRET_ID or token parameter")
        if not signing:
            raise ConfigError("SLACK_SIGNING_SECRET: not set, and no EVENTOPS_SLACK_SECRET_ID or parameter")
        return SlackSecrets(bot_token=token, signing_secret=signing)

    def _ssm_secure(self, name: str) -> str:
        resp = self.sessions.client("ssm").get_parameter(Name=name, WithDecryption=True)
        return resp["Parameter"]["Value"]

    @property
    def metrics(self) -> Any:
        with self._lock:
            if self._metrics is None:
                from aws_lambda_powertools import Metrics  # powertools metrics: on the first count

                self._metrics = Metrics(namespace="EventOps", service=self.settings.service)
            return self._metrics

    def count(self, name: str, value: int = 1) -> None:
        """Count in-process (tests, /ops status) and as a CloudWatch EMF metric."""
        from aws_lambda_powertools.metrics import MetricUnit  # loaded with Metrics, on the first count

        with self._lock:
            self.counts[name] += value
            self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def measure(self, name: str, milliseconds: float) -> None:
        """One duration sample as a CloudWatch EMF metric (unit Milliseconds)."""
        from aws_lambda_powertools.metrics import MetricUnit  # loaded with Metrics, on the first sample

        with self._lock:
            self.metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=milliseconds)

    def flush_metrics(self) -> None:
        """Emit what this invocation counted (EMF); nothing when nothing was counted (an empty
        flush only warns). Never raises: metrics must not fail a batch or a Slack request."""
        if self._metrics is None or not self._metrics.metric_set:
            return
        try:
            self._metrics.flush_metrics()
        except Exception as exc:  # noqa: BLE001
            log.warning("metrics flush failed: %s", type(exc).__name__)

    def seconds_left(self) -> float:
        if self.time_left is None:
            return 60.0
        return float(self.time_left())

    # --- kill switch ----------------------------------------------------------------------
    def kill_switch_on(self) -> bool:
        """Config flag, or an SSM parameter saying on/true (cached briefly). Errors → on."""
        if self.config.kill_switch:
            return True
        name = self.config.kill_switch_parameter or self.settings.kill_switch_parameter
        if not name:
            return False
        now = time.monotonic()
        if self._kill_cache and now - self._kill_cache[0] < KILL_SWITCH_CACHE_S:
            return self._kill_cache[1]
        try:
            value = self.sessions.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
            on = value.strip().lower() in {"on", "true", "1", "yes"}
        except Exception as exc:  # noqa: BLE001 - fail closed: unknown means notify-only
            log.warning("kill switch parameter %s unreadable (%s): treating as ON", name, type(exc).__name__)
            on = True
        self._kill_cache = (now, on)
        return on


class RuntimeSlot:
    """A handler's Runtime: built from the environment on first use, once per cold start;
    tests put their own in with ``set``.

    Example (a handler module)::

        _slot = RuntimeSlot()
        runtime, set_runtime = _slot.get, _slot.set
    """

    def __init__(self) -> None:
        self._rt: Runtime | None = None

    def get(self) -> Runtime:
        if self._rt is None:
            self._rt = Runtime.from_env()
        return self._rt

    def set(self, rt: Runtime | None) -> None:
        self._rt = rt
