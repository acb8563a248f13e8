"""The maintenance key families (``MAINT#``, ``MAINTHELD#``): named methods round-trip, the
open windows are one Query, a window ends once, and a problem keeps its newest held alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from bot.models import Alert, MaintenanceWindow
from bot.store import Store, create_table

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def store(aws) -> Store:
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_table(client, "eventops-test")
    return Store(client, "eventops-test")


def _window(wid: str, start_min: int, end_min: int) -> MaintenanceWindow:
    return MaintenanceWindow(
        id=wid,
        scope="account:prod",
        reason="patching",
        started_by="U0OPS",
        starts_at=NOW + timedelta(minutes=start_min),
        ends_at=NOW + timedelta(minutes=end_min),
    )


def _alert(alert_id: str, minutes: int, active: bool = True) -> Alert:
    return Alert(
        id=alert_id,
        fingerprint="fp1",
        source="aws.test",
        source_kind="test",
        detail_type="Test",
        title=alert_id,
        time=NOW + timedelta(minutes=minutes),
        active=active,
    )


def test_active_maintenance_is_one_query_of_the_open_windows(store):
    queries = []
    store.client.meta.events.register("before-call.dynamodb.Query", lambda **kw: queries.append(kw))
    a, b, past = _window("a", -10, 30), _window("b", -5, 10), _window("past", -60, -1)
    assert store.start_maintenance(a) and store.start_maintenance(b) and store.start_maintenance(past)
    assert not store.start_maintenance(a), "an id is written once"
    queries.clear()
    assert store.active_maintenance(NOW) == [b, a], "the first to end first"
    assert len(queries) == 1
    assert store.active_maintenance(NOW + timedelta(minutes=20)) == [a]
    assert store.maintenance_due(NOW) == [past]
    assert store.get_maintenance("a") == (a, True)


def test_a_window_ends_once_at_its_actual_end(store):
    store.start_maintenance(_window("a", -10, 30))
    ended = store.end_maintenance("a", NOW)
    assert ended is not None and ended.ends_at == NOW
    assert store.end_maintenance("a", NOW) is None, "a second end (housekeeping racing a person) does nothing"
    assert store.end_maintenance("unknown", NOW) is None
    assert store.active_maintenance(NOW) == [] and store.maintenance_due(NOW + timedelta(hours=1)) == []
    got = store.get_maintenance("a")
    assert got is not None and got[1] is False


def test_a_held_problem_keeps_its_newest_alert_and_counts_every_event(store):
    window = _window("a", -10, 30)
    store.hold_alert(window, _alert("first", 1), "#ops")
    store.hold_alert(window, _alert("resolved", 3, active=False), "#ops")
    store.hold_alert(window, _alert("late-older", 2), "#ops")  # arrives late: only counted
    [held] = store.held_alerts("a")
    assert (held.alert.id, held.alert.active, held.events, held.channel) == ("resolved", False, 3, "#ops")
    assert store.held_alerts("other") == []


def test_the_index_of_windows_not_ended_is_trusted_only_once_complete(store):
    """``maintenance_windows_open``: None (not known: readers Query) until housekeeping's
    ``index_maintenance`` completed the index; then whether any window is not ended."""
    assert store.maintenance_windows_open() is None
    store.index_maintenance()
    assert store.maintenance_windows_open() is False  # complete, and nothing open: no Query needed
    a = _window("a", -10, 30)
    assert store.start_maintenance(a) and store.maintenance_windows_open() is True
    assert not store.start_maintenance(a) and store.maintenance_windows_open() is True
    assert store.end_maintenance("a", NOW) is not None
    assert store.maintenance_windows_open() is False


def test_index_maintenance_adds_windows_stored_before_the_index_and_drops_ended_ones(store):
    old = _window("old", -10, 30)  # stored by a version without the index: the window item alone
    store.client.put_item(
        TableName="eventops-test",
        Item={
            "pk": {"S": "MAINT#old"},
            "sk": {"S": "WINDOW"},
            "data": {"S": old.model_dump_json()},
            "gsi1pk": {"S": "MAINTENANCE"},
            "gsi1sk": {"S": f"{int(old.ends_at.timestamp()):012d}#old"},
        },
    )
    assert store.start_maintenance(_window("new", -5, 10))
    assert store.maintenance_windows_open() is None  # not complete: "old" may be missing, and is
    store.index_maintenance()
    assert store.maintenance_windows_open() is True
    # a window ended whose id stayed listed (a crash between end_maintenance's two writes)
    store.client.update_item(
        TableName="eventops-test",
        Key={"pk": {"S": "MAINT#new"}, "sk": {"S": "WINDOW"}},
        UpdateExpression="SET ended_at = :e REMOVE gsi1pk, gsi1sk",
        ExpressionAttributeValues={":e": {"N": str(NOW.timestamp())}},
    )
    assert store.end_maintenance("old", NOW) is not None
    assert store.maintenance_windows_open() is True  # "new" is still listed
    store.index_maintenance()
    assert store.maintenance_windows_open() is False
