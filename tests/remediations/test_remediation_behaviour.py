"""Every moto-backed remediation, through run()/run_undo(), against real moto state:
happy path, already compliant, resource gone, a lying OK, the exempt tag, undo and drift."""

from __future__ import annotations

import pytest
from remediation_fakes import fake_success, make_ctx
from remediation_scenarios import MOTO_BACKED, SCENARIOS

from bot.models import ProposalState
from bot.remediations import remediations, run, run_undo

CASES = [pytest.param(name, build, id=f"{name}-{build.__name__}") for name in MOTO_BACKED for build in SCENARIOS[name]]
FIRST = [pytest.param(name, SCENARIOS[name][0], id=name) for name in MOTO_BACKED]


@pytest.mark.parametrize(("name", "build"), CASES)
def test_happy_path_changes_real_state(factory, ctx, name, build):
    sc = build(factory)
    outcome = run(remediations[name], ctx, sc.params)
    assert outcome.state == ProposalState.SUCCEEDED, outcome.message
    assert outcome.verification and outcome.pre_state and outcome.post_state
    sc.changed()


@pytest.mark.parametrize(("name", "build"), FIRST)
def test_already_compliant_is_noop_without_mutation(factory, ctx, name, build):
    sc = build(factory)
    if sc.comply is None:
        pytest.skip(f"{name} has no 'already done' state (each run is a new action)")
    sc.comply()
    outcome = run(remediations[name], ctx, sc.params)
    assert outcome.state == ProposalState.NOOP, outcome.message
    assert factory.mutations() == []


@pytest.mark.parametrize(("name", "build"), FIRST)
def test_resource_gone_fails_clearly(factory, ctx, name, build):
    sc = build(factory)
    assert sc.gone_params is not None
    outcome = run(remediations[name], ctx, sc.gone_params)
    assert outcome.state == ProposalState.FAILED
    assert outcome.message.startswith("Resource gone:") and "does not exist" in outcome.message
    assert factory.mutations() == []


@pytest.mark.parametrize(("name", "build"), FIRST)
def test_ok_that_changed_nothing_is_failed(factory, ctx, name, build):
    sc = build(factory)
    if sc.silence is None:
        pytest.skip(f"{name}: see its own verification test in test_remediation_<service>.py")
    service, operation, response = sc.silence
    fake_success(factory.client(service), operation, response)
    outcome = run(remediations[name], ctx, sc.params)
    assert outcome.state == ProposalState.FAILED, outcome.message
    assert "verification" in outcome.message
    with pytest.raises(AssertionError):
        sc.changed()


@pytest.mark.parametrize(("name", "build"), FIRST)
def test_exempt_tag_is_refused_without_mutation(factory, ctx, name, build):
    sc = build(factory)
    assert sc.exempt_params is not None
    outcome = run(remediations[name], ctx, sc.exempt_params)
    assert outcome.state == ProposalState.FAILED
    assert "eventops:exempt=true" in outcome.message
    assert factory.mutations() == []


REVERSIBLE = [p for p in FIRST if remediations[p.values[0]].reversible]
IRREVERSIBLE = [p for p in FIRST if not remediations[p.values[0]].reversible]


@pytest.mark.parametrize(("name", "build"), REVERSIBLE)
def test_undo_restores(factory, ctx, name, build):
    sc = build(factory)
    rem = remediations[name]
    done = run(rem, ctx, sc.params)
    assert done.state == ProposalState.SUCCEEDED, done.message
    undone = run_undo(rem, make_ctx(factory), sc.params, done.pre_state, done.post_state)
    assert undone.state == ProposalState.UNDONE, undone.message
    assert sc.restored is not None
    sc.restored()


@pytest.mark.parametrize(("name", "build"), REVERSIBLE)
def test_undo_refused_after_drift(factory, ctx, name, build):
    sc = build(factory)
    rem = remediations[name]
    done = run(rem, ctx, sc.params)
    assert done.state == ProposalState.SUCCEEDED, done.message
    assert sc.drift is not None
    sc.drift()
    before = len(factory.mutations())
    undone = run_undo(rem, make_ctx(factory), sc.params, done.pre_state, done.post_state)
    assert undone.state == ProposalState.FAILED
    assert "Undo refused" in undone.message or "resource gone" in undone.message
    assert len(factory.mutations()) == before


@pytest.mark.parametrize(("name", "build"), IRREVERSIBLE)
def test_irreversible_undo_is_refused(factory, ctx, name, build):
    sc = build(factory)
    outcome = run_undo(remediations[name], ctx, sc.params, {}, None)
    assert outcome.state == ProposalState.FAILED and "cannot be undone" in outcome.message


@pytest.mark.parametrize(("name", "build"), REVERSIBLE)
def test_undo_refused_when_tagged_exempt_since(factory, ctx, name, build):
    """Tagged eventops:exempt=true after the change: undo changes nothing, as run() would not."""
    sc = build(factory)
    rem = remediations[name]
    done = run(rem, ctx, sc.params)
    assert done.state == ProposalState.SUCCEEDED, done.message
    assert sc.make_exempt is not None
    sc.make_exempt()
    before = len(factory.mutations())
    undone = run_undo(rem, make_ctx(factory), sc.params, done.pre_state, done.post_state)
    assert undone.state == ProposalState.FAILED
    assert undone.message == "Undo refused: the resource is now tagged eventops:exempt=true; nothing was changed"
    assert len(factory.mutations()) == before
    sc.changed()  # the change is still in place
