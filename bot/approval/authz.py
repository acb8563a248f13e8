"""Who may act, decided from the config's policy. Fails closed.

A missing policy, a missing tier, or a tier with nobody in it means nobody may act at that
risk. The actor's Slack team (and enterprise, when configured) must be the organization's, so
an outsider in a Slack Connect channel is refused even if a user id were listed.

Example::

    verdict = may_act(config.policy, actor, Risk.MEDIUM, channel="C0OPS")
    if not verdict.allowed:
        reply_ephemeral(verdict.reason)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.config import Policy, Tier, Triage, UndoRule
from bot.models import Actor, Proposal, Risk

# Resolves a Slack user group id to its member ids (usergroups.users.list, cached).
GroupResolver = Callable[[str], list[str]]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def _members(policy: Policy, group: str, resolve: GroupResolver | None) -> list[str]:
    if group in policy.group_members:
        return policy.group_members[group]
    if resolve is None:
        return []
    try:
        return resolve(group)
    except Exception:  # noqa: BLE001 - an unresolvable group grants nothing
        return []


def in_org(policy: Policy | None, actor: Actor) -> Verdict:
    """Is ``actor`` in the organization's Slack team (and enterprise)? Every decision needs
    this first; a missing policy or an empty ``teams`` list trusts nobody."""
    if policy is None:
        return Verdict(False, "no authorization policy is configured, so nobody may change anything")
    if actor.is_system:
        return Verdict(True)
    if not policy.teams:
        return Verdict(False, "policy.teams is empty, so no Slack team is trusted (fail closed)")
    # An Enterprise Grid member may carry the org id as their team: ours only when configured.
    grid_member = bool(policy.enterprise_id) and actor.team_id == policy.enterprise_id
    if actor.team_id not in policy.teams and not grid_member:
        return Verdict(False, "you are not a member of this organization's Slack team")
    if policy.enterprise_id and actor.enterprise_id != policy.enterprise_id:
        return Verdict(False, "you are not a member of this organization's Slack enterprise")
    return Verdict(True)


def _listed(policy: Policy, users: list[str], groups: list[str], actor: Actor, resolve: GroupResolver | None) -> bool:
    if actor.user_id in users:
        return True
    return any(actor.user_id in _members(policy, g, resolve) for g in groups)


def tier_for(policy: Policy | None, risk: Risk) -> Tier | None:
    if policy is None:
        return None
    return policy.tiers.get(risk)


def may_act(
    policy: Policy | None,
    actor: Actor,
    risk: Risk,
    channel: str | None = None,
    resolve: GroupResolver | None = None,
) -> Verdict:
    """May ``actor`` request (and, at one-approval tiers, run) a ``risk`` action in ``channel``?"""
    if actor.is_system:
        return Verdict(True)
    if policy is None:
        return Verdict(False, "no authorization policy is configured, so nobody may change anything")
    org = in_org(policy, actor)
    if not org:
        return org
    tier = policy.tiers.get(risk)
    if tier is None or (not tier.users and not tier.user_groups):
        return Verdict(False, f"nobody is allowed to run {risk.value}-risk remediations (policy.tiers.{risk.value})")
    if tier.channels and channel not in tier.channels:
        return Verdict(False, f"{risk.value}-risk remediations may not be run from this channel")
    if not _listed(policy, tier.users, tier.user_groups, actor, resolve):
        return Verdict(False, f"you are not allowed to run {risk.value}-risk remediations")
    return Verdict(True)


def may_approve(
    policy: Policy | None,
    actor: Actor,
    proposal: Proposal,
    channel: str | None = None,
    resolve: GroupResolver | None = None,
) -> Verdict:
    """May ``actor`` add an approval to ``proposal``? Never the requester, never twice."""
    if policy is None:
        return Verdict(False, "no authorization policy is configured, so nobody may approve")
    org = in_org(policy, actor)
    if not org:
        return org
    tier = policy.tiers.get(proposal.risk)
    if tier is None:
        return Verdict(False, f"nobody is allowed to approve {proposal.risk.value}-risk remediations")
    approvers = tier.approvers or tier.users
    if not approvers and not tier.user_groups:
        return Verdict(False, f"no approvers are configured for {proposal.risk.value}-risk remediations")
    if tier.channels and channel not in tier.channels:
        return Verdict(False, "approvals may not be given from this channel")
    if proposal.requester and proposal.requester.user_id == actor.user_id:
        return Verdict(False, "you requested this change, so you cannot approve it")
    if any(a.actor.user_id == actor.user_id for a in proposal.approvals):
        return Verdict(False, "you already approved this change; a second person must approve")
    if not _listed(policy, approvers, tier.user_groups, actor, resolve):
        return Verdict(False, f"you are not an approver for {proposal.risk.value}-risk remediations")
    return Verdict(True)


def approvals_needed(policy: Policy | None, risk: Risk) -> int:
    """Approvals needed from people other than the requester. HIGH always needs two."""
    tier = tier_for(policy, risk)
    needed = tier.approvals if tier else 0
    return max(needed, 2) if risk == Risk.HIGH else max(needed, 0)


def allowed_risks(policy: Policy | None, actor: Actor, resolve: GroupResolver | None = None) -> list[Risk]:
    return [r for r in Risk if may_act(policy, actor, r, None, resolve)]


def undo_approvals_needed(policy: Policy | None, risk: Risk) -> int:
    """Approvals an Undo needs from people other than its requester: what the action it reverses
    needs (``same_as_action``), or ``policy.undo.approvals`` when that is more."""
    needed = approvals_needed(policy, risk)
    rule = policy.undo if policy is not None else "same_as_action"
    return max(needed, rule.approvals) if isinstance(rule, UndoRule) else needed


# --- triage: Acknowledge, Snooze, Dismiss, /ops snooze, /ops unsnooze ---------------------------


def triage_of(policy: Policy) -> Triage:
    """``policy.triage``, or the default: everyone listed in any risk tier (users, user groups,
    approvers), from any channel, snoozing for at most 24 hours."""
    if policy.triage is not None:
        return policy.triage
    users: list[str] = []
    groups: list[str] = []
    for tier in policy.tiers.values():
        users += [u for u in [*tier.users, *tier.approvers] if u not in users]
        groups += [g for g in tier.user_groups if g not in groups]
    return Triage(users=users, user_groups=groups)


def may_triage(
    policy: Policy | None, actor: Actor, channel: str | None = None, resolve: GroupResolver | None = None
) -> Verdict:
    """May ``actor`` acknowledge, snooze, dismiss or unsnooze (from ``channel``, when given)?"""
    if actor.is_system:
        return Verdict(True)
    org = in_org(policy, actor)
    if not org or policy is None:
        return org
    triage = triage_of(policy)
    if not triage.users and not triage.user_groups:
        return Verdict(False, "nobody is allowed to acknowledge, snooze or dismiss alerts (policy.triage)")
    if triage.channels and channel is not None and channel not in triage.channels:
        return Verdict(False, "alerts may not be acknowledged, snoozed or dismissed from this channel (policy.triage)")
    if not _listed(policy, triage.users, triage.user_groups, actor, resolve):
        return Verdict(False, "you are not allowed to acknowledge, snooze or dismiss alerts (policy.triage)")
    return Verdict(True)


def snooze_refusal(policy: Policy | None, seconds: float) -> str | None:
    """Why a snooze of ``seconds`` is too long (``policy.triage.max_snooze_hours``), or None."""
    if policy is None:
        return "no authorization policy is configured, so nobody may snooze"
    hours = triage_of(policy).max_snooze_hours
    if seconds <= hours * 3600:
        return None
    return f"a snooze may last at most {hours:g} hours (policy.triage.max_snooze_hours); {seconds / 3600:g} hours asked"
