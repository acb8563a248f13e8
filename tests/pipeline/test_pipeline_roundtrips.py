"""AWS round trips per event: a duplicate needs no tag lookup, tags are cached across
invocations (with a TTL), and a new alert's proposals are written in one batch."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import boto3
import pytest
from pipeline_env import BASE_CONFIG, event

import bot.pipeline as pipeline
import bot.store.table as table
from tests.bench.bench_env import count_aws_calls

EVENTS = Path(__file__).resolve().parents[1] / "events"
DESCRIBE_TAGS = "ec2.DescribeTags"
# The account listed without a role: tags are read with the bot's own session, the one
# ``count_aws_calls`` sees (an assumed role's session is another).
OWN_ACCOUNT = {
    **BASE_CONFIG,
    "accounts": [{"id": "123456789012", "alias": "prod", "regions": ["us-east-1"]}],
}
own_account = pytest.mark.config(OWN_ACCOUNT)


def _state_change(instance_id: str, event_id: str, state: str = "stopped") -> dict:
    ev = json.loads((EVENTS / "ec2-state-stopped.json").read_text())
    ev["id"] = event_id
    ev["region"] = "us-east-1"
    ev["resources"] = [f"arn:aws:ec2:us-east-1:123456789012:instance/{instance_id}"]
    ev["detail"] = {"instance-id": instance_id, "state": state}
    return ev


def _instance(tags: dict[str, str]) -> str:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    return ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
    )["Instances"][0]["InstanceId"]


def _delta(calls: Counter[str], before: Counter[str]) -> Counter[str]:
    return Counter({k: calls[k] - before.get(k, 0) for k in calls if calls[k] - before.get(k, 0)})


@own_account
def test_a_duplicate_event_id_makes_no_tag_lookup(notify_env):
    iid = _instance({"Name": "web-1"})
    calls = count_aws_calls(notify_env.rt)
    ev = _state_change(iid, "evt-dup-1")
    notify_env.send([ev])
    assert calls[DESCRIBE_TAGS] == 1
    (msg,) = notify_env.top("#ops")
    assert "web-1" in json.dumps(msg.blocks)

    from bot.routing import tags

    tags.clear_cache()  # a cold container: only the duplicate check can spare the lookup
    before = Counter(calls)
    resp = notify_env.send([ev])
    assert resp == {"batchItemFailures": []}
    second = _delta(calls, before)
    assert second[DESCRIBE_TAGS] == 0
    assert second["dynamodb.PutItem"] == 1  # the failed claim (plus its GetItem), nothing else written
    assert len(notify_env.top("#ops")) == 1


@own_account
def test_an_event_without_an_id_is_still_deduplicated_by_its_derived_id(notify_env):
    iid = _instance({"Name": "web-2"})
    calls = count_aws_calls(notify_env.rt)
    ev = _state_change(iid, "unused")
    del ev["id"]
    notify_env.send([ev])
    (msg,) = notify_env.top("#ops")
    assert "web-2" in json.dumps(msg.blocks)
    from bot.routing import tags

    tags.clear_cache()
    before = Counter(calls)
    notify_env.send([ev])
    assert _delta(calls, before)[DESCRIBE_TAGS] == 0
    assert len(notify_env.top("#ops")) == 1


@own_account
def test_a_repeat_in_a_warm_container_makes_no_tag_lookup(notify_env):
    iid = _instance({"Name": "web-3"})
    calls = count_aws_calls(notify_env.rt)
    notify_env.send([_state_change(iid, "evt-r-1")])
    before = Counter(calls)
    notify_env.send([_state_change(iid, "evt-r-2")])  # new event id, same fingerprint
    assert _delta(calls, before)[DESCRIBE_TAGS] == 0
    (msg,) = notify_env.top("#ops")
    assert "web-3" in json.dumps(msg.blocks)  # the re-rendered message keeps the name


@own_account
def test_tags_are_cached_across_invocations_until_the_ttl_passes(notify_env, monkeypatch):
    from bot.routing import tags

    now = [1000.0]
    monkeypatch.setattr(tags, "_clock", lambda: now[0])
    iid = _instance({"Name": "web-4"})
    calls = count_aws_calls(notify_env.rt)
    notify_env.send([_state_change(iid, "evt-c-1")])
    notify_env.send([_state_change(iid, "evt-c-2", state="running")])
    assert calls[DESCRIBE_TAGS] == 1  # two invocations, one lookup
    now[0] += tags.TTL_S + 1
    notify_env.send([_state_change(iid, "evt-c-3", state="stopping")])
    assert calls[DESCRIBE_TAGS] == 2


@own_account
def test_a_failed_lookup_is_cached_for_a_shorter_time(notify_env, monkeypatch):
    from bot.routing import tags

    now = [1000.0]
    monkeypatch.setattr(tags, "_clock", lambda: now[0])
    iid = _instance({"Name": "web-5"})
    calls = count_aws_calls(notify_env.rt)
    client = notify_env.rt.sessions.client("ec2", region="us-east-1", read_only=True)
    refused: list[int] = []

    def throttled(**_kw):
        refused.append(1)
        raise RuntimeError("Throttling")

    client.meta.events.register("before-call.ec2.DescribeTags", throttled)
    notify_env.send([_state_change(iid, "evt-f-1")])
    notify_env.send([_state_change(iid, "evt-f-2", state="running")])
    assert len(refused) == 1  # not asked again while the failure is remembered
    now[0] += tags.FAILED_TTL_S - 1
    notify_env.send([_state_change(iid, "evt-f-3", state="stopping")])
    assert len(refused) == 1
    client.meta.events.unregister("before-call.ec2.DescribeTags", throttled)
    now[0] += 2
    before = calls[DESCRIBE_TAGS]
    notify_env.send([_state_change(iid, "evt-f-4", state="stopped")])
    assert calls[DESCRIBE_TAGS] == before + 1  # asked again, and answered
    assert "web-5" in json.dumps(notify_env.top("#ops")[0].blocks)


def test_the_cache_is_bounded_and_evicts_the_oldest(monkeypatch):
    from bot.routing import tags

    monkeypatch.setattr(tags, "MAX_ENTRIES", 3)
    for i in range(5):
        tags._remember(("AwsEc2Instance", f"i-{i}", "1", "r"), {"n": str(i)}, tags.TTL_S)
    assert tags._cached(("AwsEc2Instance", "i-0", "1", "r")) is None
    assert tags._cached(("AwsEc2Instance", "i-1", "1", "r")) is None
    assert tags._cached(("AwsEc2Instance", "i-4", "1", "r")) == {"n": "4"}
    assert len(tags._cache) == 3


@pytest.mark.config(
    {"accounts": BASE_CONFIG["accounts"], "routing": {"default": {"channel": "#ops", "mode": "propose"}}}
)
def test_a_new_alert_writes_its_proposals_with_its_claim_in_one_transaction(notify_env, monkeypatch):
    calls = count_aws_calls(notify_env.rt)  # before the store's client is made
    store = notify_env.rt.store
    written: list = []
    real = store.claim_message_with_alert
    monkeypatch.setattr(store, "claim_message_with_alert", lambda *a, **kw: (written.extend(a[5]), real(*a, **kw))[1])
    ev = json.loads((EVENTS / "guardduty-ec2-cryptocurrency-critical.json").read_text())
    notify_env.send([ev])
    (msg,) = notify_env.top("#ops")
    assert len(written) >= 3  # several offers
    # one transaction for the message's claim, the alert and its proposals before the post; after it,
    # one for the message's ts, the proposals' message, the schedule, the event's completion and the
    # open-alert index; at the batch's end, one for its figures (latency histogram, scorecard counters)
    assert calls["dynamodb.BatchWriteItem"] == 0 and calls["dynamodb.PutItem"] == 1  # the event's claim
    assert calls["dynamodb.TransactWriteItems"] == 3
    assert calls["dynamodb.UpdateItem"] == 1  # the channel's storm counter; the figures are not written apart
    assert calls["dynamodb.GetItem"] == 0  # the storm counter of the minute before comes with the lookups
    buttons = {
        e.get("value")
        for b in msg.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("eventops:remediate:")
    }
    assert buttons <= {p.id for p in written}
    # as written, then marked with the message (save_proposal: version + 1) once posted
    for p in written:
        got = store.get_proposal(p.id)
        assert got.message_ts == msg.ts and got.version == p.version + 1
        same = {"message_ts", "channel", "version", "updated_at"}
        assert got.model_dump(exclude=same) == p.model_dump(exclude=same)
    assert {p.id for p in store.alert_proposals(written[0].alert_id)} == {p.id for p in written}


@pytest.mark.config(
    {"accounts": BASE_CONFIG["accounts"], "routing": {"default": {"channel": "#ops", "mode": "propose"}}}
)
def test_a_click_between_the_post_and_its_bookkeeping_keeps_the_clickers_state(notify_env, monkeypatch):
    """The post's bookkeeping is one TransactWriteItems; when a proposal moved meanwhile (a
    click on the fresh message), DynamoDB refuses it and every write goes one by one: the
    rest is written, the clicked proposal keeps the clicker's state."""
    from bot.models import ProposalState

    store, slack = notify_env.rt.store, notify_env.rt.slack
    real_post = slack.post

    def post_then_click(payload):
        out = real_post(payload)
        (first, *_rest) = store.alert_proposals(payload["metadata"]["event_payload"]["alert_id"])
        store.save_proposal(first.model_copy(update={"state": ProposalState.DISMISSED}), first.state, first.version)
        return out

    monkeypatch.setattr(slack, "post", post_then_click)
    from bot.store.together import WriteGroup

    groups: list[WriteGroup] = []
    real_commit = WriteGroup.commit
    monkeypatch.setattr(WriteGroup, "commit", lambda g: (groups.append(g), real_commit(g))[1])
    ev = json.loads((EVENTS / "guardduty-ec2-cryptocurrency-critical.json").read_text())
    assert notify_env.send([ev]) == {"batchItemFailures": []}
    (msg,) = notify_env.top("#ops")
    (group,) = groups
    assert not group.together and group.conflicts == 1  # refused together; the clicked one skipped
    alert_id = msg.metadata["event_payload"]["alert_id"]
    states = sorted(p.state.value for p in store.alert_proposals(alert_id))
    assert states.count(ProposalState.DISMISSED.value) == 1
    assert states.count(ProposalState.PROPOSED.value) == len(states) - 1 >= 2
    # the rest of the bookkeeping was written one by one
    stored = store.get_alert(alert_id)
    assert stored.ts == msg.ts
    assert store.get_message(stored.alert.fingerprint).has_message
    assert store.alert_for_message(stored.channel, msg.ts) == alert_id
    assert all(p.message_ts == msg.ts for p in store.alert_proposals(alert_id) if p.state == ProposalState.PROPOSED)
    assert notify_env.send([ev]) == {"batchItemFailures": []}  # the same event again: a duplicate
    assert notify_env.rt.counts["duplicates_suppressed"] == 1


@pytest.mark.config({**BASE_CONFIG, "routing": {"default": {"channel": "#ops", "mode": "notify"}}})
def test_a_batch_counts_a_channels_posts_ahead_and_takes_back_what_it_did_not_post(notify_env, monkeypatch):
    """The storm counter is counted once for the batch's new problems in a channel; one of them
    becomes a reply in its resource's thread (no post of its own), so its count is taken back."""
    clock = 1_800_000_010.0  # one minute throughout: the counter is per minute
    monkeypatch.setattr(table, "_now", lambda: clock)
    monkeypatch.setattr(pipeline, "_now", lambda: clock)
    arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-0aaaaaaaaaaaaaaa"
    notify_env.handle([event(detail_type="Disk Full", resources=[arn])])  # the resource's message
    storm_writes: list[str] = []

    def on_update(params, **_):
        if params["Key"]["pk"]["S"].startswith("STORM#"):
            storm_writes.append(params["ExpressionAttributeValues"][":by"]["N"])

    notify_env.rt.store.client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", on_update)
    batch = [
        event(detail_type="CPU High", resources=[arn]),  # a new problem on the same resource: threaded
        event(detail_type="Disk Full", resources=[arn[:-2] + "bb"]),
        event(detail_type="Disk Full", resources=[arn[:-2] + "cc"]),
    ]
    assert notify_env.handle(batch) == {"batchItemFailures": []}
    top = notify_env.top("#ops")
    assert len(top) == 3 and len(notify_env.replies("#ops", top[0].ts)) == 1
    assert storm_writes == ["3", "-1"]  # three counted ahead at once, the threaded one taken back
    assert notify_env.rt.store.channel_posts_this_minute("#ops") == 3  # the three posts of the minute


@pytest.mark.config({**BASE_CONFIG, "routing": {"default": {"channel": "#ops", "mode": "notify"}}})
def test_a_claim_lost_to_another_invocation_is_a_repeat_and_its_count_is_taken_back(notify_env, monkeypatch):
    """Between this batch's lookup and its claim, another invocation claims one of its new
    problems: that event is a repeat (the other posts), and the storm counter counts only the post made."""
    clock = 1_800_000_010.0
    monkeypatch.setattr(table, "_now", lambda: clock)
    monkeypatch.setattr(pipeline, "_now", lambda: clock)
    store = notify_env.rt.store
    real = store.claim_message_with_alert
    raced: list[str] = []

    def another_invocation_first(fingerprint, channel, alert, *rest, **kw):
        if not raced:  # the first new problem: someone else claims it a moment before us
            raced.append(fingerprint)
            assert store.claim_message(fingerprint, channel, alert.model_copy(update={"id": "other"}), 3600, 600)
        return real(fingerprint, channel, alert, *rest, **kw)

    monkeypatch.setattr(store, "claim_message_with_alert", another_invocation_first)
    arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-0aaaaaaaaaaaaaaa"
    batch = [event(detail_type="Disk Full", resources=[arn[:-2] + s]) for s in ("bb", "cc")]
    assert notify_env.handle(batch) == {"batchItemFailures": []}
    assert len(notify_env.top("#ops")) == 1  # the other invocation posts the raced one
    assert store.get_message(raced[0]).owner_id == "other"
    assert store.channel_posts_this_minute("#ops") == 1
