"""EventBridge rules derived from the parser registry.

``bot.sources.event_patterns()`` lists the patterns the parsers understand. From them:

- ``rules_fragment()`` — a Serverless ``resources`` fragment (``infra/eventbridge-rules.yml``):
  one rule per pattern on the bot account's default bus (its own events) and one on the central
  bus (events forwarded by member accounts), all targeting the alerts queue, plus the queue
  policy that admits exactly those rules.
- ``forwarder_template()`` — ``infra/eventbridge-forwarder.yml``, deployed in each member
  account and region: the same patterns, forwarded to the central bus.

Logical ids come from the pattern's content, so adding a parser adds rules without renaming
(and so replacing) the others.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

# Logical ids the fragment refers to; they are defined in serverless.yml.
ALERTS_QUEUE = "AlertsQueue"
CENTRAL_BUS = "CentralEventBus"
# The forwarder role's name in each member account and region; the central bus admits only these
# (serverless.yml, CentralEventBusOrgPolicy: aws:PrincipalArn).
FORWARDER_ROLE_PREFIX = "eventops-forwarder-"


def pattern_id(pattern: dict[str, Any]) -> str:
    """A stable CamelCase id: ``{"source": ["aws.guardduty"], ...}`` → ``Guardduty3f2a9c1b``."""
    sources = pattern.get("source") or ["custom"]
    first = str(sources[0])
    first = first[4:] if first.startswith("aws.") else first
    words = re.split(r"[^A-Za-z0-9]+", first)
    name = "".join(w[:1].upper() + w[1:] for w in words if w)[:24] or "Custom"
    digest = hashlib.sha1(json.dumps(pattern, sort_keys=True).encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{name}{digest}"


def _describe(pattern: dict[str, Any]) -> str:
    sources = ", ".join(str(s) for s in pattern.get("source", []))
    types = ", ".join(str(t) for t in pattern.get("detail-type", []))
    text = f"EventOps: {sources}" + (f" / {types}" if types else "")
    return text if len(text) <= 512 else text[:509] + "..."


def _check_unique(patterns: list[dict[str, Any]]) -> list[str]:
    ids = [pattern_id(p) for p in patterns]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"event_patterns() lists the same pattern twice: {dupes}")
    return ids


def rules_fragment(patterns: list[dict[str, Any]]) -> dict[str, Any]:
    """The Serverless ``resources`` fragment: rules on both buses and the alerts queue policy."""
    ids = _check_unique(patterns)
    resources: dict[str, Any] = {}
    for pid, pattern in zip(ids, patterns, strict=True):
        for prefix, bus in (("LocalRule", None), ("CentralRule", {"Fn::GetAtt": [CENTRAL_BUS, "Name"]})):
            props: dict[str, Any] = {
                # Named after the stack, so the queue policy can admit them by prefix. EventBridge
                # allows 64 characters: stack names up to 31 characters fit.
                "Name": {"Fn::Sub": f"${{AWS::StackName}}-{pid}"},
                "Description": _describe(pattern),
                "State": "ENABLED",
                "EventPattern": pattern,
                "Targets": [
                    {
                        "Id": "alerts-queue",
                        "Arn": {"Fn::GetAtt": [ALERTS_QUEUE, "Arn"]},
                        # EventBridge retries for up to 24 h; after that, keep the event.
                        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["AlertsDeadLetterQueue", "Arn"]}},
                        "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
                    }
                ],
            }
            if bus is not None:
                props = {"EventBusName": bus, **props}
            logical = f"{prefix}{pid}"
            resources[logical] = {"Type": "AWS::Events::Rule", "Properties": props}
    rule_prefix = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/"
    resources["AlertsQueuePolicy"] = {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {
            "Queues": [{"Ref": ALERTS_QUEUE}, {"Ref": "AlertsDeadLetterQueue"}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "EventOpsRulesOnly",
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": [
                            {"Fn::GetAtt": [ALERTS_QUEUE, "Arn"]},
                            {"Fn::GetAtt": ["AlertsDeadLetterQueue", "Arn"]},
                        ],
                        # This stack's rules only: on the default bus and on the central bus.
                        "Condition": {
                            "ArnLike": {
                                "aws:SourceArn": [
                                    {"Fn::Sub": rule_prefix + "${AWS::StackName}-*"},
                                    {"Fn::Sub": rule_prefix + f"${{{CENTRAL_BUS}.Name}}/${{AWS::StackName}}-*"},
                                ]
                            }
                        },
                    }
                ],
            },
        },
    }
    return {"Resources": resources}


def forwarder_template(patterns: list[dict[str, Any]]) -> dict[str, Any]:
    """CloudFormation for a member account: forward the bot's events to the central bus.

    Long because the template is written out as one literal, so it reads like the YAML it becomes.

    A role is required: EventBridge needs one to put events on a bus in another account when
    that bus admits the sender through ``aws:PrincipalOrgID`` rather than by account id.
    """
    ids = _check_unique(patterns)
    resources: dict[str, Any] = {
        "ForwarderRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                # IAM is global and this stack is deployed per region: the name carries the region.
                "RoleName": {"Fn::Sub": f"{FORWARDER_ROLE_PREFIX}${{AWS::Region}}"},
                "Description": "Lets EventBridge forward EventOps events to the central bus",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "put-events-central-bus",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {"Effect": "Allow", "Action": "events:PutEvents", "Resource": {"Ref": "CentralBusArn"}}
                            ],
                        },
                    }
                ],
            },
        }
    }
    for pid, pattern in zip(ids, patterns, strict=True):
        resources[f"ForwardRule{pid}"] = {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Description": _describe(pattern),
                "State": "ENABLED",
                "EventPattern": pattern,
                "Targets": [
                    {
                        "Id": "eventops-central-bus",
                        "Arn": {"Ref": "CentralBusArn"},
                        "RoleArn": {"Fn::GetAtt": ["ForwarderRole", "Arn"]},
                    }
                ],
            },
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            "EventOps forwarder: sends the events EventOps understands to its central bus. "
            "Generated by `python -m bot.deploy.generate` from the parser registry; do not edit. "
            "Deploy in every member account and region you want watched (not in the bot's own account)."
        ),
        "Parameters": {
            "CentralBusArn": {
                "Type": "String",
                "AllowedPattern": r"^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/.+$",
                "Description": "ARN of the EventOps central bus (stack output CentralEventBusArn of the bot's stack)",
            }
        },
        "Resources": resources,
    }
