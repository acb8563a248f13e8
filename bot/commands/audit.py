"""``/ops audit``: recent audit records, optionally for one resource or one user; ``--verify``
checks the hash chain (``bot.store.audit_log``) and says where it breaks."""

from __future__ import annotations

from bot.commands.base import Invocation, Reply, command, user_id_of
from bot.commands.output import ago, code, esc, listing
from bot.store.audit_log import ChainBreak, ChainReport

DEFAULT_N = 10
MAX_N = 50
DEFAULT_DAYS = 7
MAX_DAYS = 90
# Slack clients may turn a typed "--" into an en or em dash.
VERIFY_FLAGS = ("--verify", "—verify", "–verify")

_OUTCOME_EMOJI = {
    "SUCCEEDED": ":white_check_mark:",
    "FAILED": ":x:",
    "NOOP": ":heavy_minus_sign:",
    "UNDONE": ":leftwards_arrow_with_hook:",
    "DENIED": ":no_entry:",
}


@command("audit")  # DynamoDB only: answered inside the ack
def audit(inv: Invocation) -> Reply:
    """audit [resource|@user|--verify] [n]
    Recent audit records (default 10, at most 50) of a resource or a user; `--verify`: check the n last days' hash chain (default 7).

    Example: ``/ops audit i-0abc 20``, ``/ops audit @alice`` or ``/ops audit --verify 30``
    """
    if any(w.lower() in VERIFY_FLAGS for w in inv.args):
        return _verify(inv)
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


def _verify(inv: Invocation) -> Reply:
    days = DEFAULT_DAYS
    for word in inv.args:
        if word.lower() in VERIFY_FLAGS:
            continue
        if not word.isdigit() or not 1 <= int(word) <= MAX_DAYS:
            raise inv.usage_error(f"--verify takes a number of days between 1 and {MAX_DAYS}.")
        days = int(word)
    return verify_reply(inv.rt.store.verify_audit(days), days)


def _break_row(b: ChainBreak) -> str:
    who = f" (entry {code(b.entry_id)})" if b.entry_id != "-" else ""
    return (
        f":x: {esc(b.day)} record {code(f'#{b.seq}')}{who} {esc(b.problem)}:"
        f" expected {code(b.expected)}, found {code(b.found)}"
    )


def verify_reply(report: ChainReport, days: int) -> Reply:
    """The answer to ``/ops audit --verify``: intact, or each break with expected vs found."""
    total = sum(report.days.values())
    span = f"{total} records over {len(report.days)} of the last {days} days"
    if not report.days:
        return listing("Audit chain", [], empty=f"No audit records in the last {days} days.")
    heads = [f"{esc(day)} head {code(h[:16])}…" for day, h in report.heads.items()]
    if report.ok:
        rows = [f":white_check_mark: The chain holds: {span}."] + heads
        return listing("Audit chain intact", rows, limit=len(rows))
    rows = [_break_row(b) for b in report.breaks]
    return listing(
        f"Audit chain broken: {len(report.breaks)} problem" + ("s" if len(report.breaks) != 1 else ""),
        rows,
        intro=f"Checked {span}.",
        notes=[
            "a changed record no longer matches the hash the chain recorded for it: restore it from"
            " point-in-time recovery and find who wrote it in CloudTrail"
        ],
    )
