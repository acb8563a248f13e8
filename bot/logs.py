"""One structured JSON log for every function: the powertools ``Logger`` named ``eventops``.

Every EventOps module logs through ``logging.getLogger("eventops.<area>")``. Those loggers are
children of ``eventops`` in the standard library's hierarchy, so their records propagate to the
one powertools handler (JSON on stdout, with the invocation's keys: ``correlation_id`` and
``request_id``) and take its level. Nothing has to be copied onto each module logger
(``copy_config_to_registered_loggers`` would only see the loggers that exist when it runs, and
give each its own handler).

Lambda's Python runtime puts its own handler on the root logger before the handler module is
imported, at WARNING unless ``AWS_LAMBDA_LOG_LEVEL`` says otherwise. powertools adds a filter to
that handler which drops records from ``eventops.*``, so a line is written once, by powertools,
and INFO reaches CloudWatch whatever the root level. With Lambda's advanced logging controls
(``AWS_LAMBDA_LOG_LEVEL``) set, powertools takes that level; serverless.yml feeds it and
``EVENTOPS_LOG_LEVEL`` from the same ``logLevel`` parameter.

Libraries that would log request bodies at DEBUG (slack_bolt, slack_sdk, botocore, boto3,
urllib3, s3transfer) stay at WARNING whatever the level: at DEBUG their lines carry the bot
token and response_urls (docs/reliability.md #13).

Example (a handler module)::

    logger = configure_logging(Settings.from_env().log_level)

    def handler(event, context):
        begin_invocation(context, correlation_id=event_id)
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from aws_lambda_powertools import Logger

SERVICE = "eventops"
QUIET_LIBRARIES = ("slack_bolt", "slack_sdk", "botocore", "boto3", "urllib3", "s3transfer")

logger: Logger | None = None


def configure_logging(level: str) -> Logger:
    """The ``eventops`` Logger at ``level`` (a ``Settings.log_level``); built once per process,
    later calls only change the level. Pins ``QUIET_LIBRARIES`` at WARNING."""
    global logger
    if logger is None:
        logger = Logger(service=SERVICE, level=level)
    else:
        logger.setLevel(level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    return logger


def begin_invocation(context: Any, correlation_id: str | None, **keys: Any) -> None:
    """Start the keys every line of this invocation carries: the correlation id, Lambda's
    request id (when there is a context) and ``keys``; whatever an earlier invocation (or
    record) set is dropped first."""
    if logger is None:
        return
    logger.clear_state()
    logger.thread_safe_clear_keys()
    request_id = getattr(context, "aws_request_id", None)
    logger.append_keys(correlation_id=correlation_id, request_id=request_id if isinstance(request_id, str) else None)
    if keys:
        logger.append_keys(**keys)


def set_correlation(correlation_id: str | None, **keys: Any) -> None:
    """Change the correlation id (and ``keys``) for the lines that follow, e.g. per record."""
    if logger is None:
        return
    if threading.current_thread() is threading.main_thread():
        logger.append_keys(correlation_id=correlation_id, **keys)
    else:  # a notify batch delivers several channels at once: each thread's own record
        logger.thread_safe_append_keys(correlation_id=correlation_id, **keys)
