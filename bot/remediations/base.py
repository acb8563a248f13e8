"""The remediation plugin interface and the one runner every remediation goes through.

A remediation is declared as data and registered by name::

    @remediations.register("ec2.stop-instance")
    class StopInstance(Remediation):
        \"\"\"Stop an EC2 instance (EBS-backed; instance store data is lost).\"\"\"
        name = "ec2.stop-instance"
        title = "Stop instance"
        risk = Risk.MEDIUM
        permissions = ("ec2:DescribeInstances", "ec2:StopInstances", "ec2:StartInstances")
        resource_types = ("AwsEc2Instance",)
        reversible = True
        dry_run = True

        class Params(RemediationParams):
            instance_id: str

        def applies_to(self, alert): ...      # -> params dict or None
        def plan(self, params): ...           # -> ["Would stop i-0abc in eu-west-1"]
        def read_state(self, ctx, params): ...  # -> dict; raise NotFoundError when gone
        def is_compliant(self, state, params): ...
        def execute(self, ctx, params, pre_state): ...
        def undo(self, ctx, params, pre_state): ...

``run()`` then does: read live state → already compliant: NOOP → capture pre-state →
execute (dry run first where the API has one) → read again and verify (an OK that changed
nothing is FAILED). ``run_undo()`` re-reads the resource and refuses when it is now exempt or
drifted from the state the change left (``undo_drifted``). A resource tagged
``eventops:exempt=true`` is never changed, neither by a run nor by an undo.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, ClassVar, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.aws import AUTO_SOURCE_IDENTITY
from bot.errors import NotFoundError, RemediationError
from bot.models import Actor, Alert, Outcome, ProposalState, Risk
from bot.registry import Registry

EXEMPT_TAG = "eventops:exempt"
OFFER_PREFIX = "offer:"  # a problem asking for a remediation by name (custom events): offer:<name>
_WILDCARDS = frozenset("*?[")
# How run_undo's refusals start (the resource is exempt now, or drifted): nothing was changed.
UNDO_REFUSED = "Undo refused"


class ClientFactory(Protocol):
    def client(
        self, service: str, region: str | None = None, account: str | None = None, identity: str | None = None
    ) -> Any: ...


@dataclass
class RemediationContext:
    """Where and as whom a remediation runs. ``client("ec2")`` is scoped to all three."""

    sessions: ClientFactory
    account: str
    region: str
    actor: Actor
    now_iso: str | None = None

    def client(self, service: str) -> Any:
        # Always names the account, so AwsSessions makes it through that account's role or
        # refuses (never the bot's own credentials); auto mode is named in CloudTrail too.
        identity = AUTO_SOURCE_IDENTITY if self.actor.is_system else self.actor.user_id
        return self.sessions.client(service, region=self.region, account=self.account, identity=identity)


def fits(rem: Remediation, alert: Alert) -> bool:
    """Is ``rem`` a fix for what ``alert`` reports? Never for a resolved alert; otherwise when a
    problem matches one of its ``fixes`` and none of its ``!`` exclusions, or the event asked for
    it by name (``offer:<name>``, custom events).

    >>> class Revoke(Remediation):
    ...     name, fixes = "ec2.revoke-ingress", ("securityhub-control:EC2.1[89]", "!config-rule:*-exempt")
    >>> fits(Revoke(), Alert(id="e", fingerprint="f", source_kind="securityhub", source="aws.securityhub",
    ...                      detail_type="d", title="t", problems=["securityhub-control:EC2.19"]))
    True
    """
    if not alert.active:
        return False
    if f"{OFFER_PREFIX}{rem.name}" in alert.problems:
        return True
    wanted = [p for p in rem.fixes if not p.startswith("!")]
    unwanted = [p[1:] for p in rem.fixes if p.startswith("!")]
    hit = any(matches_problem(problem, p) for problem in alert.problems for p in wanted)
    return hit and not any(matches_problem(problem, p) for problem in alert.problems for p in unwanted)


def problem_family(pattern: str) -> str:
    """The family of a problem or a ``fixes`` pattern: its text up to the first ":"; "*" for a
    pattern whose family is itself a wildcard (it may match a problem of any family).

    >>> problem_family("guardduty:*:EC2/*"), problem_family("!config-rule:*-exempt"), problem_family("*")
    ('guardduty', 'config-rule', '*')
    """
    head = pattern.removeprefix("!").partition(":")[0]
    return "*" if _WILDCARDS & set(head) else head


def matches_problem(problem: str, pattern: str) -> bool:
    """``fnmatchcase(problem, pattern)``, without compiling a pattern that cannot match or
    needs no matching (each compiled pattern costs a cold start about 0.2 ms): a pattern of
    another family is a miss, one without wildcards an equality test."""
    family = problem_family(pattern)
    if family != "*" and family != problem.partition(":")[0]:
        return False
    if not _WILDCARDS & set(pattern):
        return problem == pattern
    return fnmatchcase(problem, pattern)


class RemediationParams(BaseModel):
    """Base of every remediation's Params: extra fields are forbidden. Built on first use
    (``defer_build``): the notify cold path offers remediations without validating params."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class Remediation:
    """Base class; see the module docstring for an example."""

    name: ClassVar[str]
    title: ClassVar[str]
    risk: ClassVar[Risk] = Risk.MEDIUM
    permissions: ClassVar[tuple[str, ...]] = ()
    resource_types: ClassVar[tuple[str, ...]] = ()
    reversible: ClassVar[bool] = False
    dry_run: ClassVar[bool] = False
    # Shown next to the result, e.g. "established connections may survive".
    caveat: ClassVar[str | None] = None
    # The problems this remediation fixes, as patterns over ``Alert.problems`` (``fnmatch``;
    # a leading ``!`` excludes): e.g. ("securityhub-control:EC2.18", "config-rule:*restricted-ssh*").
    # It is offered only on an active alert with a matching problem (``fits``); ``/ops run``
    # names a remediation itself and needs no fit.
    fixes: ClassVar[tuple[str, ...]] = ()
    Params: ClassVar[type[RemediationParams]] = RemediationParams

    # --- declared behaviour -------------------------------------------------------------
    def applies_to(self, alert: Alert) -> dict[str, Any] | None:
        """Params to offer this remediation with, or None when it does not apply."""
        raise NotImplementedError

    def plan(self, params: Any, account: str = "", region: str = "") -> list[str]:
        """Sentences saying what would happen: ``["Would stop i-0abc in eu-west-1"]``."""
        raise NotImplementedError

    def example_params(self) -> dict[str, Any]:
        """Params for the registry meta test and the README table."""
        raise NotImplementedError

    # --- run time -------------------------------------------------------------------------
    def read_state(self, ctx: RemediationContext, params: Any) -> dict[str, Any]:
        """The live state this remediation cares about. Raise NotFoundError when gone.

        Include ``"tags"`` when the resource has tags, so the exempt tag is honoured.
        """
        raise NotImplementedError

    def is_compliant(self, state: dict[str, Any], params: Any) -> bool:
        """True when the state is already what this remediation would make it."""
        raise NotImplementedError

    def execute(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        """Make the change (dry run first where the API has one). Returns a sentence."""
        raise NotImplementedError

    def check_dry_run(self, ctx: RemediationContext, params: Any) -> str:
        """Ask AWS whether the call would succeed, without changing anything."""
        return "no dry run for this API"

    def undo(self, ctx: RemediationContext, params: Any, pre_state: dict[str, Any]) -> str:
        raise RemediationError(f"{self.name} cannot be undone")

    def undo_drifted(self, current: dict[str, Any], post_state: dict[str, Any]) -> str | None:
        """A reason to refuse undo because the resource changed since our change, else None.

        ``post_state`` is what ``read_state`` returned when the run verified its change,
        ``current`` what it returns now. Default: any difference in a recorded key is drift
        (undo would overwrite someone else's change). Tags are left out here (the exempt tag is
        checked by ``run_undo`` itself; other tags do not change what undo does). Override to
        compare only the part of the state undo would put back, and say why the rest is harmless.
        """
        changed = sorted(k for k, v in post_state.items() if k != "tags" and current.get(k) != v)
        if changed:
            return f"the resource changed since the remediation ran ({', '.join(changed)})"
        return None

    def parse_params(self, params: dict[str, Any]) -> Any:
        try:
            return self.Params.model_validate(params)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"]) or "params"
            raise RemediationError(f"{self.name}: bad parameter {loc}: {first['msg']}") from None


remediations: Registry[Remediation] = Registry("remediation")


def register(cls: type[Remediation]) -> type[Remediation]:
    """Class decorator: instantiate and register under ``cls.name``."""
    remediations.add(cls.name, cls())
    return cls


def _exempt(state: dict[str, Any]) -> bool:
    tags = state.get("tags") or {}
    return str(tags.get(EXEMPT_TAG, "")).lower() == "true"


def _aws_failure(exc: Exception, doing: str, pre: dict[str, Any] | None = None) -> Outcome:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        text = f"AWS refused while {doing}: {err.get('Code', 'Error')}: {err.get('Message', '')}".strip()
    else:
        text = f"AWS call failed while {doing}: {exc}"
    return Outcome(state=ProposalState.FAILED, message=text, pre_state=pre)


def run(rem: Remediation, ctx: RemediationContext, raw_params: dict[str, Any]) -> Outcome:
    """Read, no-op if compliant, capture, act, verify. Never raises for AWS failures."""
    params = rem.parse_params(raw_params)
    try:
        pre = rem.read_state(ctx, params)
    except NotFoundError as exc:
        return Outcome(state=ProposalState.FAILED, message=f"Resource gone: {exc}")
    except (ClientError, BotoCoreError) as exc:
        return _aws_failure(exc, "reading the resource")
    if _exempt(pre):
        return Outcome(
            state=ProposalState.FAILED,
            message=f"Refused: the resource is tagged {EXEMPT_TAG}=true",
            pre_state=pre,
        )
    if rem.is_compliant(pre, params):
        return Outcome(state=ProposalState.NOOP, message="Already compliant: nothing to do", pre_state=pre)
    try:
        result = rem.execute(ctx, params, pre)
    except (RemediationError, NotFoundError) as exc:
        return Outcome(state=ProposalState.FAILED, message=str(exc), pre_state=pre)
    except (ClientError, BotoCoreError) as exc:
        return _aws_failure(exc, "making the change", pre)
    try:
        post = rem.read_state(ctx, params)
    except (ClientError, BotoCoreError) as exc:
        failed = _aws_failure(exc, "verifying the change", pre)
        return failed.model_copy(update={"verification": "FAILED: could not read the resource back"})
    except NotFoundError as exc:
        post = {"gone": True}
        if not rem.is_compliant(post, params):
            return Outcome(
                state=ProposalState.FAILED,
                message=f"{result}; verification could not read the resource: {exc}",
                pre_state=pre,
            )
    if not rem.is_compliant(post, params):
        return Outcome(
            state=ProposalState.FAILED,
            message=f"{result}, but verification shows no change",
            pre_state=pre,
            post_state=post,
            verification="FAILED: state unchanged after an OK response",
        )
    return Outcome(
        state=ProposalState.SUCCEEDED,
        message=result + (f" ({rem.caveat})" if rem.caveat else ""),
        pre_state=pre,
        post_state=post,
        verification="verified by reading the resource again",
        reversible=rem.reversible,
    )


def _undo_refusal(rem: Remediation, params: Any, current: dict[str, Any], post: dict[str, Any] | None) -> str | None:
    """Why undo must not touch the resource as it is now (exempt since, or drifted), else None.

    Without a recorded post-state (a run from before it was kept) the only drift we can see is
    that the change itself is no longer in place.
    """
    if _exempt(current):
        return f"the resource is now tagged {EXEMPT_TAG}=true"
    if post is None:
        return None if rem.is_compliant(current, params) else "the change is no longer in place"
    return rem.undo_drifted(current, post)


def run_undo(
    rem: Remediation,
    ctx: RemediationContext,
    raw_params: dict[str, Any],
    pre_state: dict[str, Any],
    post_state: dict[str, Any] | None,
) -> Outcome:
    """Undo a successful run. Re-reads the resource first and refuses, changing nothing, when it
    is now tagged ``eventops:exempt=true`` or drifted from the post-state the run left
    (``Remediation.undo_drifted`` decides what counts)."""
    if not rem.reversible:
        return Outcome(state=ProposalState.FAILED, message=f"{rem.name} cannot be undone")
    params = rem.parse_params(raw_params)
    try:
        current = rem.read_state(ctx, params)
    except NotFoundError as exc:
        return Outcome(state=ProposalState.FAILED, message=f"Cannot undo, resource gone: {exc}")
    except (ClientError, BotoCoreError) as exc:
        return _aws_failure(exc, "reading the resource before undo")
    refusal = _undo_refusal(rem, params, current, post_state)
    if refusal:
        message = f"{UNDO_REFUSED}: {refusal}; nothing was changed"
        return Outcome(state=ProposalState.FAILED, message=message, pre_state=current)
    try:
        result = rem.undo(ctx, params, pre_state)
    except RemediationError as exc:
        return Outcome(state=ProposalState.FAILED, message=str(exc), pre_state=current)
    except (ClientError, BotoCoreError) as exc:
        return _aws_failure(exc, "undoing the change", current)
    try:
        after = rem.read_state(ctx, params)
    except (ClientError, BotoCoreError, NotFoundError) as exc:
        return Outcome(
            state=ProposalState.FAILED,
            message=f"Undo was sent but could not be verified: {exc}",
            pre_state=current,
        )
    if rem.is_compliant(after, params) and not rem.is_compliant(pre_state, params):
        return Outcome(
            state=ProposalState.FAILED,
            message=f"Undo of {rem.name} reported OK but the change is still in place",
            pre_state=current,
            post_state=after,
        )
    return Outcome(state=ProposalState.UNDONE, message=result, pre_state=current, post_state=after)
