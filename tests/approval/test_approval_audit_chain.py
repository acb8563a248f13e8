"""The audit chain end to end: a real click writes the records, someone overwrites one directly in
DynamoDB, and a signed ``/ops audit --verify`` (handlers.slack.handler) names it."""

from __future__ import annotations

import json

from bot.store.audit_log import audit_table_name
from handlers import slack as slack_handler
from tests.approval.world import ALICE, TEST_REMEDIATION, command_event


def _verify(text: str = "audit --verify") -> str:
    resp = slack_handler.handler(command_event(text, user=ALICE), None)
    assert resp["statusCode"] == 200, resp
    return resp["body"]


def test_verify_names_the_record_whose_result_was_overwritten(world):
    p = world.post_alert()
    world.click(f"eventops:remediate:{TEST_REMEDIATION}", p.id, ALICE)
    world.drain()
    [entry] = world.audit(p.id)
    assert "The chain holds" in _verify()

    ddb = world.rt.sessions.client("dynamodb")
    table = audit_table_name(world.rt.settings.table_name)
    items = [i for i in ddb.scan(TableName=table)["Items"] if i["pk"]["S"].startswith("CHAIN#")]
    (item,) = [i for i in items if json.loads(i["data"]["S"])["id"] == entry.id]
    data = json.loads(item["data"]["S"])
    data["result"] = "Nothing was stopped"
    ddb.put_item(TableName=table, Item={**item, "data": {"S": json.dumps(data)}})

    body = _verify()
    seq = int(item["sk"]["S"])
    assert "Audit chain broken: 1 problem" in body
    assert f"record `#{seq}` (entry `{entry.id}`) does not match its hash" in body
    assert f"expected `{item['hash']['S']}`" in body
    assert "Nothing was stopped" not in body


def test_verify_refuses_a_bad_number_of_days(world):
    assert "between 1 and 90" in _verify("audit --verify 400")
