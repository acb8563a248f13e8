"""A loopback CloudTrail that answers ``LookupEvents`` (JSON 1.1 protocol), seeded by the tests.

moto 5 has CloudTrail trails but no ``LookupEvents`` (``moto.cloudtrail.responses.CloudTrailResponse``
has no such action, and its backend keeps no events), so the context tests point boto3's
CloudTrail endpoint here (``AWS_ENDPOINT_URL_CLOUDTRAIL``) while every other service stays on
moto. It follows the real API where the bot depends on it: one lookup attribute at most,
``StartTime``/``EndTime`` bound the events, newest first, ``MaxResults`` at most 50, each
event's ``CloudTrailEvent`` a JSON string with ``readOnly`` and ``userIdentity``.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.sandbox.cloudtrail_lookup import EventLog


class CloudTrailFake:
    def __init__(self) -> None:
        self.log = EventLog()  # the sandbox's LookupEvents rules (bot.sandbox.cloudtrail_lookup)
        self.requests: list[dict[str, Any]] = []
        self.fail_with: str | None = None  # an error code to answer every lookup with
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                target = self.headers.get("x-amz-target", "")
                status, out = fake.answer(target.rsplit(".", 1)[-1], body)
                data = json.dumps(out).encode()
                self.send_response(status)
                self.send_header("content-type", "application/x-amz-json-1.1")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CloudTrailFake:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.log.events

    def seed(self, resource: str, event_name: str, at: datetime, **kw: Any) -> str:
        """One event on ``resource`` (its name, as CloudTrail indexes it); returns its EventId."""
        return self.log.seed(resource, event_name, at, **kw)

    def answer(self, action: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.requests.append({"action": action, **body})
        if action != "LookupEvents":
            return 400, {"__type": "UnknownOperationException", "message": action}
        if self.fail_with:
            return 400, {"__type": self.fail_with, "message": "the lookup was refused"}
        return self.log.lookup(body)
