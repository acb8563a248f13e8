"""The proposal state machine is enforced where proposals are written: ``Store.save_proposal``."""

from __future__ import annotations

import boto3
import pytest

from bot.approval.states import TRANSITIONS, InvalidTransitionError
from bot.models import Proposal, ProposalState
from bot.store import Store, create_table

S = ProposalState


@pytest.fixture
def store(aws) -> Store:
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_table(client, "eventops-test")
    return Store(client, "eventops-test")


def _stored(store: Store, state: ProposalState) -> Proposal:
    p = Proposal(id=f"p-{state.value.lower()}", alert_id="a-1", fingerprint="f", remediation="ec2.stop-instance")
    store.put_proposal(p)
    saved = p
    path = {
        S.PROPOSED: [],
        S.APPROVED: [S.APPROVED],
        S.RUNNING: [S.APPROVED, S.RUNNING],
        S.SUCCEEDED: [S.APPROVED, S.RUNNING, S.SUCCEEDED],
        S.FAILED: [S.APPROVED, S.RUNNING, S.FAILED],
    }[state]
    for nxt in path:
        saved = store.save_proposal(saved.model_copy(update={"state": nxt}), saved.state, saved.version)
    return saved


@pytest.mark.parametrize(
    ("start", "illegal"),
    [(S.RUNNING, S.PROPOSED), (S.FAILED, S.RUNNING), (S.SUCCEEDED, S.RUNNING), (S.PROPOSED, S.RUNNING)],
)
def test_an_illegal_transition_raises_and_writes_nothing(store, start, illegal):
    p = _stored(store, start)
    with pytest.raises(InvalidTransitionError, match=f"from {start.value} to {illegal.value}"):
        store.save_proposal(p.model_copy(update={"state": illegal}), p.state, p.version)
    again = store.get_proposal(p.id)
    assert (again.state, again.version) == (start, p.version)


def test_every_declared_transition_from_running_is_accepted(store):
    for target in TRANSITIONS[S.RUNNING]:
        p = _stored(store, S.RUNNING)
        saved = store.save_proposal(p.model_copy(update={"state": target}), S.RUNNING, p.version)
        assert store.get_proposal(p.id).state == saved.state == target
        store.client.delete_item(TableName=store.table, Key={"pk": {"S": f"PROPOSAL#{p.id}"}, "sk": {"S": "PROPOSAL"}})
