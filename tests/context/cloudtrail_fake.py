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
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class CloudTrailFake:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
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

    def seed(
        self,
        resource: str,
        event_name: str,
        at: datetime,
        *,
        read_only: bool = False,
        arn: str = "arn:aws:iam::123456789012:user/alice",
        region: str = "us-east-1",
    ) -> str:
        """One event on ``resource`` (its name, as CloudTrail indexes it); returns its EventId."""
        event_id = str(uuid.uuid4())
        detail = {
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "arn": arn, "userName": arn.rsplit("/", 1)[-1]},
            "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventName": event_name,
            "awsRegion": region,
            "readOnly": read_only,
            "eventID": event_id,
        }
        self.events.append(
            {
                "EventId": event_id,
                "EventName": event_name,
                "ReadOnly": "true" if read_only else "false",
                "EventTime": at.timestamp(),
                "EventSource": "ec2.amazonaws.com",
                "Username": arn.rsplit("/", 1)[-1],
                "Resources": [{"ResourceType": "AWS::EC2::SecurityGroup", "ResourceName": resource}],
                "CloudTrailEvent": json.dumps(detail),
            }
        )
        return event_id

    def answer(self, action: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.requests.append({"action": action, **body})
        if action != "LookupEvents":
            return 400, {"__type": "UnknownOperationException", "message": action}
        if self.fail_with:
            return 400, {"__type": self.fail_with, "message": "the lookup was refused"}
        attrs = body.get("LookupAttributes") or []
        if len(attrs) > 1:
            return 400, {"__type": "InvalidLookupAttributesException", "message": "one lookup attribute at most"}
        if int(body.get("MaxResults", 50)) > 50:
            return 400, {"__type": "InvalidMaxResultsException", "message": "MaxResults is at most 50"}
        start = float(body.get("StartTime", 0))
        end = float(body.get("EndTime", datetime.now(UTC).timestamp() + 1))
        found = [e for e in self.events if start <= e["EventTime"] <= end and _matches(e, attrs)]
        found.sort(key=lambda e: e["EventTime"], reverse=True)
        return 200, {"Events": found[: int(body.get("MaxResults", 50))]}


def _matches(event: dict[str, Any], attrs: list[dict[str, str]]) -> bool:
    for attr in attrs:
        key, value = attr["AttributeKey"], attr["AttributeValue"]
        if key == "ResourceName" and value not in [r["ResourceName"] for r in event["Resources"]]:
            return False
        if key == "ReadOnly" and event["ReadOnly"] != value:
            return False
        if key == "EventName" and event["EventName"] != value:
            return False
    return True
