"""``/ops audit``: recent audit records, optionally for one resource or one user."""

from __future__ import annotations

from bot.commands.base import Invocation, Reply, command, user_id_of
from bot.commands.output import ago, code, esc, listing

DEFAULT_N = 10
MAX_N = 50

_OUTCOME_EMOJI = {
    "SUCCEEDED": ":white_check_mark:",
    "FAILED": ":x:",
    "NOOP": ":heavy_minus_sign:",
    "UNDONE": ":leftwards_arrow_with_hook:",
    "DENIED": ":no_entry:",
}


@command("audit")  # DynamoDB only: answered inside the ack
def audit(inv: Invocation) -> Reply:
    """audit [resource|@user] [n]
    Recent audit records (default 10, at most 50), for one resource or one user when given.

    Example: ``/ops audit i-0abc 20`` or ``/ops audit @alice``
    """
    n = DEFAULT_N
    resource: str | None = None
    user: str | None = None
    for word in inv.args:
        if word.isdigit():
            n = int(word)
            if not 1 <= n <= MAX_N:
                raise inv.usage_error(f"n must be between 1 and {MAX_N}.")
        elif (uid := user_id_of(word)) is not None and user is None:
            user = uid
        elif resource is None:
            resource = word
        else:
            raise inv.usage_error(f"Unexpected `{esc(word)}`.")
    entries = inv.rt.store.recent_audit(limit=n + 1, resource=resource, user=user)
    rows = []
    for e in entries[:n]:
        who = f"<@{e.actor.user_id}>" if not e.actor.is_system else "EventOps (auto)"
        what = e.remediation or e.action
        rows.append(
            f"{_OUTCOME_EMOJI.get(e.outcome.upper(), ':small_blue_diamond:')} {ago(e.at)} · {code(what)}"
            f" *{esc(e.outcome)}* by {who}"
            + (f" on {code(e.resource)}" if e.resource else "")
            + (f"\n      {esc(e.result)}" if e.result else "")
        )
    scope = " ".join(p for p in (resource or "", f"user {user}" if user else "") if p)
    more = len(entries) > n
    again = " ".join([inv.slash, "audit", *(esc(w) for w in inv.args if not w.isdigit()), str(MAX_N)])
    return listing(
        "Audit" + (f" for {esc(scope)}" if scope else ""),
        rows,
        limit=n,
        empty="No audit records.",
        notes=[f"more records exist — ask for up to {MAX_N}: `{again}`"] if more else [],
    )
