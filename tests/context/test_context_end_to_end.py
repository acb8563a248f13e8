"""The "what changed?" context: the first thread reply of a posted alert, end to end.

Events go through ``handlers.notify.handler`` from the moto alerts queue; the context job goes
through ``handlers.worker.handler`` (``world.drain()``). CloudTrail ``LookupEvents`` is answered by
the loopback fake in ``cloudtrail_fake.py`` (moto has no LookupEvents), seeded per test with
write events on the resource and a read event that must not show; every other service is moto
and Slack is the loopback fake. AWS calls are counted by ``CountingSessions``.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import ContextConfig, Storm
from tests.approval.world import World, interact_world, make_config
from tests.context.cloudtrail_fake import CloudTrailFake

EVENTS = Path(__file__).resolve().parents[1] / "events"
SG = "sg-0123456789abcdef0"
REGION = "us-east-1"
ALICE_ARN = "arn:aws:iam::123456789012:user/alice"
BOB_ARN = "arn:aws:iam::123456789012:user/bob"


def _event(name: str, **changes: Any) -> dict[str, Any]:
    ev = json.loads((EVENTS / f"{name}.json").read_text())
    ev["id"] = str(uuid.uuid4())
    ev["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    ev.update(changes)
    return ev


def _config_noncompliant(group: str = SG) -> dict[str, Any]:
    ev = _event("config-noncompliant")
    ev["detail"]["resourceId"] = group
    ev["detail"]["configRuleName"] = f"restricted-ssh-{group}" if group != SG else ev["detail"]["configRuleName"]
    return ev


def _send(world: World, *events: dict[str, Any]) -> None:
    for ev in events:
        world.sqs.send_message(QueueUrl=world.alerts_url, MessageBody=json.dumps(ev))


def _lookups(world: World) -> list[dict[str, Any]]:
    return [p for svc, name, p in world.sessions.calls if (svc, name) == ("cloudtrail", "LookupEvents")]


def _top(world: World) -> list[Any]:
    return [m for ch in world.slack.workspace.channels.values() for m in ch.top_level()]


def _replies(world: World, ts: str) -> list[Any]:
    return [
        m for ch in world.slack.workspace.channels.values() for m in ch.messages if m.thread_ts == ts and m.ts != ts
    ]


def _text(msg: Any) -> str:
    return json.dumps(msg.blocks)


@pytest.fixture
def trail(monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudTrailFake]:
    with CloudTrailFake() as fake:
        monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", fake.url)
        yield fake


def _world(**context: Any) -> Any:
    return interact_world(make_config(context=ContextConfig(**context), storm=Storm(threshold_per_minute=50)))


def _seed_story(trail: CloudTrailFake) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "ingress": trail.seed(SG, "AuthorizeSecurityGroupIngress", now - timedelta(hours=1), arn=ALICE_ARN),
        "modify": trail.seed(SG, "ModifySecurityGroupRules", now - timedelta(hours=3), arn=BOB_ARN),
        "read": trail.seed(SG, "DescribeSecurityGroups", now - timedelta(minutes=30), read_only=True),
        "old": trail.seed(SG, "RevokeSecurityGroupIngress", now - timedelta(hours=30), arn=BOB_ARN),
    }


def test_the_alert_is_posted_first_then_its_reply_lists_the_changes_and_what_else_is_open(trail):
    ids = _seed_story(trail)
    with _world() as world:
        _send(world, _config_noncompliant())
        world.deliver_alerts()
        (config_msg,) = _top(world)
        assert _replies(world, config_msg.ts) == [], "notify posts the alert and does not wait on CloudTrail"
        assert _lookups(world) == []
        world.drain()
        (reply,) = _replies(world, config_msg.ts)
        text = _text(reply)
        assert "What changed on security group sg-0123456789abcdef0" in text
        assert "AuthorizeSecurityGroupIngress" in text and ALICE_ARN in text
        assert "ModifySecurityGroupRules" in text and BOB_ARN in text
        assert "DescribeSecurityGroups" not in text, "read events are not changes"
        assert "RevokeSecurityGroupIngress" not in text, "outside the 24 h window"
        url = f"https://{REGION}.console.aws.amazon.com/cloudtrail/home?region={REGION}#/events/{ids['ingress']}"
        assert f"<{url}|event>" in text
        when = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:")
        assert when in text
        assert text.index("AuthorizeSecurityGroupIngress") < text.index("ModifySecurityGroupRules"), "newest first"
        assert "Also open" not in text
        (call,) = _lookups(world)
        assert call["LookupAttributes"] == [{"AttributeKey": "ResourceName", "AttributeValue": SG}]
        assert trail.requests[-1]["LookupAttributes"] == call["LookupAttributes"]

        # A more severe alert on the same group from another source: its own message, and the
        # Config finding shows under "Also open"; the changes come from the cache.
        _send(world, _event("cloudtrail-sg-ingress-open-ssh"))
        world.deliver_alerts()
        ct_msg = next(m for m in _top(world) if m.ts != config_msg.ts)
        world.drain()
        (reply2,) = _replies(world, ct_msg.ts)
        text2 = _text(reply2)
        assert "AuthorizeSecurityGroupIngress" in text2
        assert "Also open" in text2 and "Config non-compliance" in text2 and "same resource" in text2
        assert len(_lookups(world)) == 1, "cached per resource: no second LookupEvents"
        assert len(_replies(world, config_msg.ts)) == 1


def test_an_alert_sharing_only_the_access_key_is_also_open(trail):
    with _world() as world:
        gd = _event("guardduty-iam-maliciousipcaller")
        key = gd["detail"]["resource"]["accessKeyDetails"]["accessKeyId"]
        ct = _event("cloudtrail-sg-ingress-open-ssh")
        ct["detail"]["userIdentity"]["accessKeyId"] = key
        ct["detail"]["userIdentity"]["principalId"] = "AIDAOTHERPRINCIPAL00"  # only the key is shared
        _send(world, gd)
        world.deliver_alerts()
        (gd_msg,) = _top(world)
        _send(world, ct)
        world.deliver_alerts()
        world.drain()
        (ct_msg,) = [m for m in _top(world) if m.ts != gd_msg.ts]
        (reply,) = _replies(world, ct_msg.ts)
        text = _text(reply)
        assert "GuardDuty finding" in text and "same access key" in text
        assert "No write events in that time" in text


def test_an_alert_by_the_same_principal_is_also_open(trail):
    """GuardDuty names the key's owner by principal id only (no ARN); CloudTrail gives both:
    the id ties them (AIDACKCEVSQ6C2EXAMPLE in both samples; their keys differ)."""
    with _world() as world:
        _send(world, _event("guardduty-iam-maliciousipcaller"))
        world.deliver_alerts()
        (gd_msg,) = _top(world)
        _send(world, _event("cloudtrail-sg-ingress-open-ssh"))
        world.deliver_alerts()
        world.drain()
        (ct_msg,) = [m for m in _top(world) if m.ts != gd_msg.ts]
        (reply,) = _replies(world, ct_msg.ts)
        text = _text(reply)
        assert "GuardDuty finding" in text and "same principal" in text, text


def test_storms_and_repeats_make_no_lookup(trail):
    _seed_story(trail)
    cfg = make_config(
        context=ContextConfig(cache_minutes=0), storm=Storm(threshold_per_minute=1, burst_to_summary=False)
    )
    with interact_world(cfg) as world:
        groups = [f"sg-0{i:016x}" for i in range(1, 5)]
        _send(world, *[_config_noncompliant(g) for g in groups])
        world.deliver_alerts()
        assert len(world.queued_jobs()) == 1, "one context job: the alert with its own message"
        world.drain()
        top = _top(world)
        assert len(top) == 2, "one full post and the storm summary"
        assert len(_lookups(world)) == 1, "the storm's alerts are not looked up"
        (posted,) = [m for m in top if _replies(world, m.ts) and "What changed" in _text(_replies(world, m.ts)[0])]
        # A repeat of the posted problem is counted into its message: no job, no lookup.
        repeat = next(g for g in groups if g in _text(posted))
        _send(world, _config_noncompliant(repeat))
        world.deliver_alerts()
        assert world.queued_jobs() == []
        world.drain()
        assert len(_lookups(world)) == 1
        assert len(_replies(world, posted.ts)) == 1


def test_the_per_account_rate_limit_caps_lookups(trail):
    _seed_story(trail)
    with _world(lookups_per_minute_per_account=2, cache_minutes=0) as world:
        groups = [f"sg-0{i:016x}" for i in range(1, 5)]
        _send(world, *[_config_noncompliant(g) for g in groups])
        world.deliver_alerts()
        assert len(_top(world)) == 4
        world.drain()
        assert len(_lookups(world)) == 2
        replies = [r for m in _top(world) for r in _replies(world, m.ts)]
        assert len(replies) == 2, "over the limit: nothing to say, so no reply"
        assert world.rt.store.count_context_lookup("123456789012") == 5  # 4 counted, and this one


def test_a_failed_lookup_leaves_the_alert_posted_with_no_reply_and_one_log_line(trail, caplog):
    trail.fail_with = "AccessDeniedException"
    with _world() as world:
        ev = _config_noncompliant()
        _send(world, ev)
        world.deliver_alerts()
        (msg,) = _top(world)
        with caplog.at_level(logging.INFO):
            responses = world.drain()
        assert all(r["batchItemFailures"] == [] for r in responses), "a failed lookup is not retried"
        assert _replies(world, msg.ts) == []
        assert len(_lookups(world)) == 1
        lines = [r for r in caplog.records if r.levelno >= logging.WARNING and ev["id"] in r.getMessage()]
        assert len(lines) == 1, [r.getMessage() for r in lines]
        assert "LookupEvents failed" in lines[0].getMessage() and "AccessDenied" in lines[0].getMessage()


def test_context_off_queues_nothing(trail):
    with _world(enabled=False) as world:
        _send(world, _config_noncompliant())
        world.deliver_alerts()
        assert world.queued_jobs() == []
        world.drain()
        (msg,) = _top(world)
        assert _replies(world, msg.ts) == [] and _lookups(world) == []


def test_a_redelivered_job_replies_once_and_a_job_for_an_unknown_alert_is_dropped(trail, caplog):
    from bot.approval.jobs import Job, JobKind, enqueue
    from bot.models import Actor

    _seed_story(trail)
    with _world() as world:
        ev = _config_noncompliant()
        _send(world, ev)
        world.deliver_alerts()
        enqueue(world.rt, Job(kind=JobKind.CONTEXT, alert_id=ev["id"], actor=Actor.system()))  # a duplicate
        enqueue(world.rt, Job(kind=JobKind.CONTEXT, alert_id="no-such-alert", actor=Actor.system()))
        with caplog.at_level(logging.WARNING):
            responses = world.drain()
        assert all(r["batchItemFailures"] == [] for r in responses)
        (msg,) = _top(world)
        assert len(_replies(world, msg.ts)) == 1
        assert any("no-such-alert" in r.getMessage() and "not stored" in r.getMessage() for r in caplog.records)


def test_a_forged_context_job_is_refused(trail):
    from bot.approval.jobs import Job, JobKind
    from bot.models import Actor

    _seed_story(trail)
    with _world() as world:
        ev = _config_noncompliant()
        _send(world, ev)
        world.deliver_alerts()
        world.sqs.purge_queue(QueueUrl=world.queue_url)
        forged = Job(kind=JobKind.CONTEXT, alert_id=ev["id"], actor=Actor.system())  # no seal
        world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=forged.body())
        world.drain()
        (msg,) = _top(world)
        assert _replies(world, msg.ts) == [] and _lookups(world) == []
