"""CloudTrail ``LookupEvents`` for the sandbox: moto keeps trails but no events and has no such
action (it answers 500), so "what changed?" (``bot.context``) would have nothing to show in
``make run``. This module is the missing piece, kept to what the bot relies on:

- ``EventLog``: events per account, newest first, each with its ``CloudTrailEvent`` JSON
  (``readOnly``, ``userIdentity``) and the resource names CloudTrail indexes it by. The sandbox
  seeds the history of its demo estate and records every "AWS API Call via CloudTrail" event it
  is sent (the API call happened, so CloudTrail has it).
- ``EventLog.lookup``: the API's rules — at most one lookup attribute (``ResourceName``,
  ``EventName`` or ``ReadOnly``), ``StartTime``/``EndTime``, ``MaxResults`` at most 50.
- ``install``: teaches moto's in-process CloudTrail the ``LookupEvents`` action, answered from a
  log. Only the sandbox calls it (tests use their own loopback endpoint on the same log logic).
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

MAX_RESULTS = 50


class EventLog:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []  # each: the LookupEvents shape plus "_account"
        self.lock = threading.Lock()

    def seed(
        self,
        resource: str,
        event_name: str,
        at: datetime,
        *,
        read_only: bool = False,
        arn: str = "arn:aws:iam::123456789012:user/alice",
        region: str = "us-east-1",
        account: str = "",
        resource_type: str = "AWS::EC2::SecurityGroup",
        source: str = "ec2.amazonaws.com",
    ) -> str:
        """One event on ``resource`` (its name, as CloudTrail indexes it); returns its EventId."""
        event_id = str(uuid.uuid4())
        detail = {
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "arn": arn, "userName": arn.rsplit("/", 1)[-1]},
            "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": source,
            "eventName": event_name,
            "awsRegion": region,
            "readOnly": read_only,
            "eventID": event_id,
        }
        self._add(detail, [(resource_type, resource)], account or arn.split(":")[4], at)
        return event_id

    def record_api_call(self, envelope: dict[str, Any], resources: list[tuple[str, str]]) -> None:
        """An EventBridge "AWS API Call via CloudTrail" event: what CloudTrail would have logged,
        under the ``(type, name)`` resources it is about."""
        detail = envelope.get("detail")
        if not isinstance(detail, dict) or not detail.get("eventName"):
            return
        try:
            at = datetime.fromisoformat(str(detail.get("eventTime") or envelope.get("time")).replace("Z", "+00:00"))
        except ValueError:
            at = datetime.now(UTC)
        detail = {**detail, "eventID": detail.get("eventID") or str(uuid.uuid4())}
        self._add(detail, resources, str(envelope.get("account") or ""), at)

    def _add(self, detail: dict[str, Any], resources: list[tuple[str, str]], account: str, at: datetime) -> None:
        ui = detail.get("userIdentity") or {}
        event = {
            "EventId": detail["eventID"],
            "EventName": detail["eventName"],
            "ReadOnly": "true" if detail.get("readOnly") else "false",
            "EventTime": at.timestamp(),
            "EventSource": detail.get("eventSource") or "",
            "Username": ui.get("userName") or str(ui.get("arn") or "").rsplit("/", 1)[-1],
            "Resources": [{"ResourceType": t, "ResourceName": n} for t, n in resources if n],
            "CloudTrailEvent": json.dumps(detail),
            "_account": account,
        }
        with self.lock:
            self.events.append(event)

    def lookup(self, body: dict[str, Any], account: str = "") -> tuple[int, dict[str, Any]]:
        """``LookupEvents`` on the log: (HTTP status, JSON body), errors as CloudTrail names them."""
        attrs = body.get("LookupAttributes") or []
        if len(attrs) > 1:
            return 400, {"__type": "InvalidLookupAttributesException", "message": "one lookup attribute at most"}
        limit = int(body.get("MaxResults", MAX_RESULTS))
        if limit > MAX_RESULTS:
            return 400, {"__type": "InvalidMaxResultsException", "message": "MaxResults is at most 50"}
        start = float(body.get("StartTime", 0))
        end = float(body.get("EndTime", datetime.now(UTC).timestamp() + 1))
        with self.lock:
            found = [
                e
                for e in self.events
                if start <= e["EventTime"] <= end
                and _matches(e, attrs)
                and (not account or e["_account"] in ("", account))
            ]
        found.sort(key=lambda e: e["EventTime"], reverse=True)
        return 200, {"Events": [{k: v for k, v in e.items() if k != "_account"} for e in found[:limit]]}


def _matches(event: dict[str, Any], attrs: list[dict[str, str]]) -> bool:
    for attr in attrs:
        key, value = attr.get("AttributeKey"), attr.get("AttributeValue")
        if key == "ResourceName" and value not in [r["ResourceName"] for r in event["Resources"]]:
            return False
        if key == "ReadOnly" and event["ReadOnly"] != value:
            return False
        if key == "EventName" and event["EventName"] != value:
            return False
    return True


def install(log: EventLog) -> None:
    """Answer moto's CloudTrail ``LookupEvents`` (in this process) from ``log``."""
    from moto.cloudtrail.responses import CloudTrailResponse  # the sandbox's AWS: moto, in-process
    from moto.core.exceptions import JsonRESTError  # moto only where the sandbox installs this

    def lookup_events(self: Any) -> str:
        body = json.loads(self.body or "{}")
        status, out = log.lookup(body, str(getattr(self, "current_account", "") or ""))
        if status != 200:
            raise JsonRESTError(out["__type"], out["message"])  # answered as moto answers its own errors
        return json.dumps(out, default=str)

    CloudTrailResponse.lookup_events = lookup_events  # type: ignore[attr-defined]
