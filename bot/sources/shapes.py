"""Input that is almost an EventBridge event, made into one; input that is not, described.

``parse_event`` calls these before giving up on a record:

- ``from_alarm_action``: the payload a CloudWatch alarm sends when its action invokes a Lambda
  function directly (``alarmData`` at the top level, no ``detail``) → the same alarm's
  "CloudWatch Alarm State Change" event, so the CloudWatch parser reads it.
- ``repair_envelope``: an event whose envelope is partial or has a placeholder ``time``
  (``"time": "{{time}}"``, missing ``id``) keeps its specific parser: the time falls back to
  the receipt time (the alert says so), a missing id is derived from the content (a redelivery
  is still one event).
- ``looks_like``: for a JSON object that is no event at all, what it resembles (an SNS
  message, an SQS batch, a bare finding…), so the message says what to send instead.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

# Envelope fields a parser can do without (defaults below); ``source`` and ``detail-type``
# choose the parser and ``detail`` is its input, so those are never made up.
_REPAIRABLE = {"id", "time", "version", "account", "region", "resources"}


def content_digest(raw: object) -> str:
    """24 hex digits of the content's SHA-256: the same content, the same digest (never raises)."""
    try:
        text = json.dumps(raw, sort_keys=True, default=repr)
    except (TypeError, ValueError, RecursionError):
        text = repr(raw)
    return hashlib.sha256(text.encode(errors="replace")).hexdigest()[:24]


def content_id(raw: object) -> str:
    """A stable id for input without one: the same content gives the same id."""
    return "derived-" + content_digest(raw)


def from_alarm_action(raw: dict[str, Any]) -> dict[str, Any] | None:
    """A CloudWatch alarm's Lambda-action payload as its EventBridge event, or None.

    >>> ev = from_alarm_action({"source": "aws.cloudwatch", "alarmArn": "arn:aws:cloudwatch:us-east-1:1:alarm:a",
    ...     "accountId": "1", "time": "2023-08-04T12:36:15.490+0000", "region": "us-east-1",
    ...     "alarmData": {"alarmName": "a", "state": {"value": "ALARM"}}})
    >>> ev["detail-type"], ev["account"], ev["resources"], ev["detail"]["alarmName"]
    ('CloudWatch Alarm State Change', '1', ['arn:aws:cloudwatch:us-east-1:1:alarm:a'], 'a')
    """
    data = raw.get("alarmData")
    if not isinstance(data, dict) or "detail" in raw or raw.get("source", "aws.cloudwatch") != "aws.cloudwatch":
        return None
    arn = raw.get("alarmArn")
    raw_state = data.get("state")
    state: dict[str, Any] = raw_state if isinstance(raw_state, dict) else {}
    return {
        "version": "0",
        # One state change is one event: the alarm and the time of its new state.
        "id": content_id([arn, state.get("timestamp"), state.get("value")]),
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": str(raw.get("accountId") or ""),
        "time": raw.get("time") or state.get("timestamp"),
        "region": str(raw.get("region") or ""),
        "resources": [arn] if isinstance(arn, str) else [],
        "detail": data,
    }


def repair_envelope(raw: dict[str, Any], bad_fields: set[str]) -> tuple[dict[str, Any], bool] | None:
    """``raw`` with its repairable envelope fields defaulted, and whether the time was replaced
    by the receipt time; None when a field that cannot be made up is wrong."""
    if not bad_fields or not bad_fields <= _REPAIRABLE:
        return None
    fixed = dict(raw)
    if "id" in bad_fields:
        fixed["id"] = content_id(raw)
    if "time" in bad_fields:
        fixed["time"] = datetime.now(UTC).isoformat()
    if "version" in bad_fields:
        fixed["version"] = "0"
    for key in ("account", "region"):
        if key in bad_fields:
            fixed[key] = ""
    if "resources" in bad_fields:
        fixed["resources"] = (
            [r for r in raw.get("resources") or [] if isinstance(r, str)]
            if isinstance(raw.get("resources"), list)
            else []
        )
    return fixed, "time" in bad_fields


# (keys that identify it, what it is, what to send instead)
_SHAPES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("Type", "MessageId", "TopicArn"), "an SNS notification", "the event in its Message"),
    (("Records",), "a batch of records (SQS, SNS or S3 notification)", "one record's event"),
    (("AlarmName", "NewStateValue"), "a CloudWatch alarm's SNS message", "an EventBridge alarm event"),
    (
        ("SchemaVersion", "ProductArn", "AwsAccountId"),
        "a bare Security Hub finding (ASFF)",
        'the "Security Hub Findings - Imported" event that carries it',
    ),
    (
        ("schemaVersion", "type", "service", "severity"),
        "a bare GuardDuty finding",
        'the "GuardDuty Finding" event that carries it',
    ),
    (
        ("eventVersion", "eventSource", "eventName", "userIdentity"),
        "a bare CloudTrail record",
        'the "AWS API Call via CloudTrail" event that carries it',
    ),
    (("detail", "source"), "an EventBridge event without a detail-type", "it with its detail-type"),
)


def looks_like(raw: object) -> str:
    """What a value that is not an EventBridge event resembles, in one sentence.

    >>> looks_like({"Type": "Notification", "MessageId": "1", "TopicArn": "arn:aws:sns:…", "Message": "{}"})
    'It looks like an SNS notification (Type, MessageId, TopicArn): send the event in its Message.'
    >>> looks_like([1, 2])
    'It is a JSON list of 2 items: send one event (a JSON object) per record.'
    """
    if isinstance(raw, list):
        return f"It is a JSON list of {len(raw)} items: send one event (a JSON object) per record."
    if not isinstance(raw, dict):
        return f"It is a JSON {type(raw).__name__}, not an object."
    keys = {k for k in raw if isinstance(k, str)}
    for marks, what, instead in _SHAPES:
        if set(marks) <= keys:
            return f"It looks like {what} ({', '.join(marks)}): send {instead}."
    shown = ", ".join(sorted(keys)[:8]) + (" …" if len(keys) > 8 else "")
    return (
        f"Its keys are {shown or 'none'}; an EventBridge event has id, source, detail-type, time and detail."
        if keys
        else "It is an empty object; an EventBridge event has id, source, detail-type, time and detail."
    )
