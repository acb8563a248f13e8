"""``handlers.notify.handler`` in its own process, configured from the environment as in Lambda.

Reads one SQS-triggered Lambda event (JSON) on stdin and prints the handler's answer. The kill
test runs it and SIGKILLs it mid-delivery, as a Lambda timeout or OOM kill would.
"""

from __future__ import annotations

import json
import sys

from handlers import notify


class _Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


if __name__ == "__main__":
    event = json.load(sys.stdin)
    print(json.dumps(notify.handler(event, _Context(int(sys.argv[1])))), flush=True)
