"""Every AWS operation the /ops queries make is among the read permissions they declare."""

from __future__ import annotations

import re

from commands_support import ALICE

from bot.commands import QUERY_PERMISSIONS, dispatch

# botocore service names whose IAM prefix differs
_IAM_PREFIX = {"monitoring": "cloudwatch"}


def _iam_action(service: str, operation: str) -> str:
    return f"{_IAM_PREFIX.get(service, service)}:{operation}"


def test_ops_queries_call_only_declared_permissions(rt):
    called: set[str] = set()

    def record(model, **_kw):
        called.add(_iam_action(model.service_model.endpoint_prefix, model.name))

    # Hooks on the base session reach every client made afterwards, in every account/region.
    rt.sessions.base.events.register("before-call", record)
    for text in ("alarms", "instances", "findings", "health"):
        reply = dispatch(text, ALICE, "C0OPS", rt)
        assert not re.search(r"Traceback|Exception", reply.text)
    queries = {a for a in called if not a.startswith(("sts:", "dynamodb:", "sqs:"))}
    assert {"cloudwatch:DescribeAlarms", "ec2:DescribeInstances"} <= queries  # the hook saw the calls
    assert sorted(queries - set(QUERY_PERMISSIONS)) == []
