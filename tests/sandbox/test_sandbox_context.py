"""'What changed?' in ``make run``: the sandbox answers CloudTrail ``LookupEvents`` itself (moto
has none) from its estate's history and every API call event it is sent, so the open-port
alert's thread shows who changed that security group, through the real worker job."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from sandbox_helpers import Console, find_message


def _context_reply(console: Console, alert: dict[str, Any]) -> dict[str, Any]:
    def found(snap: dict[str, Any]) -> Any:
        return next(
            (m for m in snap["messages"] if m["thread_ts"] == alert["ts"] and "What changed" in str(m["blocks"])),
            None,
        )

    return console.wait_for(found, 30)


def test_the_open_port_alert_gets_who_changed_its_group(console: Console) -> None:
    sg = console.sandbox.estate.prod.security_group_id
    alert = console.wait_for(lambda s: find_message(s, sg))
    reply = str(_context_reply(console, alert)["blocks"])
    assert "AuthorizeSecurityGroupIngress" in reply, "the call that opened the port (the demo event itself)"
    assert "ModifySecurityGroupRules" in reply and "UpdateSecurityGroupRuleDescriptionsIngress" in reply, reply
    assert "DescribeSecurityGroups" not in reply, "reads are not changes"
    assert "CreateSecurityGroup" not in reply, "older than the window"
    assert "console.aws.amazon.com/cloudtrail" in reply, "each change links to its event"


def test_lookup_events_follows_cloudtrails_rules(console: Console) -> None:
    """The sandbox's LookupEvents answers as CloudTrail does where the bot relies on it."""
    ct = boto3.client(
        "cloudtrail",
        region_name="us-east-1",
        endpoint_url=console.sandbox.aws_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    sg = console.sandbox.estate.prod.security_group_id
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": sg}])["Events"]
    assert events and [e["EventTime"] for e in events] == sorted((e["EventTime"] for e in events), reverse=True)
    both = [
        {"AttributeKey": "ResourceName", "AttributeValue": sg},
        {"AttributeKey": "ReadOnly", "AttributeValue": "false"},
    ]
    with pytest.raises(ClientError) as refused:
        ct.lookup_events(LookupAttributes=both)
    assert refused.value.response["Error"]["Code"] == "InvalidLookupAttributesException"
