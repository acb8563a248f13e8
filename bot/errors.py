"""Every error EventOps raises on purpose is an EventOpsError.

Each subclass names the stage that failed, so a log line or an ephemeral reply can say
what went wrong without a stack trace.
"""

from __future__ import annotations


class EventOpsError(Exception):
    """Base of all EventOps errors."""


class ConfigError(EventOpsError):
    """The settings or the YAML config are invalid. The message names the key."""


class ParseError(EventOpsError):
    """An event could not be parsed into an Alert by its source's parser."""


class SlackError(EventOpsError):
    """The Slack Web API refused a call or could not be reached."""


class RetryLaterError(SlackError):
    """Slack asked us to wait longer than the invocation has left: re-queue the record."""

    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreError(EventOpsError):
    """DynamoDB failed in a way the caller cannot handle."""


class ConflictError(StoreError):
    """A conditional write lost: someone else changed the item first."""


class NotFoundError(EventOpsError):
    """A proposal, alert or resource does not exist (any more)."""


class AuthorizationError(EventOpsError):
    """The actor may not do this. The message is safe to show to the actor."""


class RemediationError(EventOpsError):
    """A remediation could not run; the message is safe to show in Slack."""


class PreconditionError(RemediationError):
    """Live state no longer matches the proposal (changed, exempt, gone)."""


class VerificationError(RemediationError):
    """The change was made (or reported OK) but reading back shows it did not take effect."""


class CommandError(EventOpsError):
    """A /ops sub-command was unknown or got bad arguments; the message is the usage."""


class AccountNotConfiguredError(EventOpsError):
    """An account is not in the config's ``accounts:`` (or has no role there), so EventOps does
    not act in it: never with the bot's own credentials instead. The message is safe to show."""
