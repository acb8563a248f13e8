"""One handler in its own process, with logging set up as Lambda's Python runtime sets it up.

``python tests/logs/lambda_process.py <notify|slack|worker|housekeeping> RESULT_FILE`` reads
one Lambda event (JSON) on stdin, calls ``handlers.<name>.handler`` and writes its answer to
RESULT_FILE; stdout and stderr are left to the log lines, as in CloudWatch.

Before importing the handler it does what the runtime's bootstrap (awslambdaric) does: one
handler on the root logger writing to the log sink, JSON-formatted when
``AWS_LAMBDA_LOG_FORMAT`` is JSON and tab-separated text otherwise, and the root level taken
from ``AWS_LAMBDA_LOG_LEVEL`` when set (left at WARNING when not).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import uuid
from typing import Any

_LAMBDA_LEVELS = {
    "TRACE": logging.DEBUG,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
}


class _LambdaJsonFormatter(logging.Formatter):
    """The runtime's JSON line: timestamp, level, message, logger, requestId."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": REQUEST_ID,
        }
        return json.dumps(line)


REQUEST_ID = str(uuid.uuid4())


def setup_logging_like_lambda() -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stdout)
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT", "TEXT").upper() == "JSON":
        handler.setFormatter(_LambdaJsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(f"[%(levelname)s]\t%(asctime)s\t{REQUEST_ID}\t%(message)s"))
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in _LAMBDA_LEVELS:
        root.setLevel(_LAMBDA_LEVELS[level])
    root.handlers = [handler]


class Context:
    """The attributes of Lambda's context object the handlers (and powertools) read."""

    aws_request_id = REQUEST_ID
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "eventops-test")
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def main(name: str, result_file: str) -> int:
    setup_logging_like_lambda()
    module = importlib.import_module(f"handlers.{name}")  # the cold start, after the bootstrap
    event = json.load(sys.stdin)
    try:
        result: Any = module.handler(event, Context())
    except Exception as exc:  # the runtime reports it; the test reads the log lines anyway
        result = {"raised": type(exc).__name__}
    with open(result_file, "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
