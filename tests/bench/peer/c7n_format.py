"""Run with the peer venv's python (``.bench/peer-venv``), never the project's: Cloud Custodian's
notifier (c7n-mailer) turning N policy-violation messages into Slack messages, its real per-message
path (``SlackDelivery.get_to_addrs_slack_messages_map`` with the packaged ``slack_default``
template). Prints ``{"per_s": …, "n": …}``. The message is the one EventOps' open-port sample
becomes: an EC2 resource, its account and region, a violation and an action description."""

import json
import logging
import os
import sys
import time

import c7n_mailer
from c7n_mailer.slack_delivery import SlackDelivery

N = int(sys.argv[1])
TEMPLATES = os.path.join(os.path.dirname(c7n_mailer.__file__), "msg-templates")
delivery = SlackDelivery(
    {"slack_token": "xoxb-bench", "templates_folders": [TEMPLATES]}, logging.getLogger("peer"), None
)


def message(i: int) -> dict:
    return {
        "account": "prod",
        "account_id": "123456789012",
        "region": "us-east-1",
        "partition": "aws",
        "execution_start": time.time(),
        "policy": {"name": "ec2-open-ssh", "resource": "ec2"},
        "action": {
            "type": "notify",
            "to": ["slack://#alerts"],
            "template": "slack_default",
            "violation_desc": "Security group allows 0.0.0.0/0 on tcp/22",
            "action_desc": "Revoke the rule",
        },
        "resources": [
            {
                "InstanceId": f"i-{i:017x}",
                "InstanceType": "t3.micro",
                "State": {"Name": "running"},
                "Tags": [{"Key": "Name", "Value": f"web-{i}"}],
                "LaunchTime": "2026-01-01T00:00:00Z",
                "VpcId": "vpc-0abc",
                "PrivateIpAddress": "10.0.0.1",
            }
        ],
    }


messages = [message(i) for i in range(N)]
delivery.get_to_addrs_slack_messages_map(messages[0])  # warm: templates found, modules loaded
started = time.perf_counter()
for m in messages:
    out = delivery.get_to_addrs_slack_messages_map(m)
elapsed = time.perf_counter() - started
assert out and all(v and "i-" in v for v in out.values()), out  # it rendered, not failed quietly
print(json.dumps({"per_s": N / elapsed, "n": N}))
