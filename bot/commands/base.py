"""The /ops command registry, the reply type, and the one dispatcher every sub-command goes through.

A sub-command is a function registered where it is defined; its docstring is its help line
(first line: usage, second line: description), so ``/ops help`` and the README table can never
drift from the code::

    @command("alarms", deferred=True, check=alarms_scope)
    def alarms(inv: Invocation) -> Reply:
        \"\"\"alarms [account] [region]
        CloudWatch alarms in ALARM across the configured accounts and regions.
        \"\"\"

Deferral is the command's own declaration: ``deferred=True`` only for commands that query AWS
across accounts × regions (too slow for Slack's 3-second ack). Commands that only read DynamoDB
answer inside the ack. A deferred command's ``check`` (its argument parsing, no AWS call) runs
before the ack, so a usage error is the one answer and no "Looking up …" line follows it.

``dispatch()`` never raises: an unknown sub-command or bad arguments give an ephemeral usage
message with the closest match, any other failure a one-line explanation (the stack trace goes
to the log, never to Slack).
"""

from __future__ import annotations

import difflib
import html
import inspect
import logging
import re
import shlex
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bot.approval import audit
from bot.approval.authz import Verdict, allowed_risks, in_org, may_act, may_triage
from bot.errors import CommandError, EventOpsError
from bot.models import Actor, Risk
from bot.registry import Registry
from bot.runtime import Runtime
from bot.slack import blocks as bk

log = logging.getLogger("eventops.commands")

PUBLIC_FLAG = "--public"
# Slack accepts at most 5 posts to one response_url, within 30 minutes of the slash command.
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_S = 30 * 60


@dataclass
class Reply:
    """What a sub-command answers. Ephemeral (only the caller sees it) unless ``public``.

    Example::

        Reply("3 alarms in ALARM", blocks=[...], public=True).payload()
        # → {"response_type": "in_channel", "text": "3 alarms in ALARM", "blocks": [...]}
    """

    text: str
    blocks: list[dict[str, Any]] | None = None
    public: bool = False

    def payload(self) -> dict[str, Any]:
        """The body for ``respond()`` / a POST to response_url (blocks fitted to Slack's limits)."""
        body: dict[str, Any] = {
            "response_type": "in_channel" if self.public else "ephemeral",
            "text": bk.truncate(self.text, bk.MAX_FALLBACK_TEXT) or " ",
            "replace_original": False,
        }
        if self.blocks:
            body["blocks"] = bk.fit(self.blocks)
        return body


@dataclass
class Invocation:
    """One /ops call: who, where, the arguments (``--public`` already removed), and the runtime."""

    rt: Runtime
    actor: Actor
    channel: str
    args: list[str]
    public: bool = False
    response_url: str | None = None
    command: Command | None = None
    # The slash command's trigger_id: lets a command open a form (views.open, within 3 s, once).
    trigger_id: str | None = None

    @property
    def slash(self) -> str:
        return slash_name(self.rt)

    def usage_error(self, message: str) -> CommandError:
        """A CommandError whose text ends with this command's usage."""
        usage = f"`{self.slash} {self.command.usage}`" if self.command else ""
        return CommandError(f"{message}\nUsage: {usage}" if usage else message)


Handler = Callable[[Invocation], Reply]


@dataclass(frozen=True)
class Command:
    """A registered sub-command. ``usage`` and ``description`` come from the docstring."""

    name: str
    handler: Handler
    usage: str
    description: str
    # Changes state (snooze, run): shown in help only to people allowed to act, refused otherwise.
    mutates: bool = False
    # Triage (snooze, unsnooze): "allowed to act" means ``policy.triage`` (``may_triage``), and a
    # refusal writes one DENIED audit record; the command audits what it did itself.
    triage: bool = False
    # Queries AWS across accounts × regions: ack with "Looking up …", answer through
    # response_url. Never for commands that only read DynamoDB: those answer inside the ack.
    deferred: bool = False
    min_args: int = 0
    aliases: tuple[str, ...] = field(default=())
    # A deferred command's argument validation, run before the ack (no AWS call): a usage
    # error it raises is answered in the ack, and nothing is deferred.
    check: Callable[[Invocation], object] | None = None
    # A deferred command's ack line, when "Looking up … across N account(s)" would mislead.
    ack: str = ""
    # A refusal by the dispatcher writes one DENIED audit record, as for triage commands
    # (``maintenance``: it starts and ends windows, and checks ``may_mutate`` itself).
    audit_refusals: bool = False
    # Deferred only for some arguments (``maintenance end``: it posts summaries, which Slack's
    # one-post-per-second pacing makes too slow for the ack); ``check`` then runs for those.
    defer_when: Callable[[list[str]], bool] | None = None

    def defers(self, args: list[str]) -> bool:
        """Is this invocation answered by the worker (``deferred``, or ``defer_when(args)``)?"""
        return self.deferred or (self.defer_when is not None and self.defer_when(args))


commands: Registry[Command] = Registry("command")


def command(
    name: str,
    *,
    mutates: bool = False,
    deferred: bool = False,
    min_args: int = 0,
    aliases: tuple[str, ...] = (),
    check: Callable[[Invocation], object] | None = None,
    triage: bool = False,
    ack: str = "",
    audit_refusals: bool = False,
    defer_when: Callable[[list[str]], bool] | None = None,
) -> Callable[[Handler], Handler]:
    """Register a sub-command; its docstring's first line is the usage, the second the description.

    ``deferred``: it queries AWS across accounts (ack first, answer through response_url);
    ``check``: the deferred command's argument validation, run before the ack;
    ``triage``: a triage command (``mutates`` judged by ``policy.triage``, refusals audited);
    ``ack``: a deferred command's own ack line instead of "Looking up …";
    ``audit_refusals``: the dispatcher's refusals write a DENIED audit record (as for triage);
    ``defer_when``: deferred only when it says so for the arguments (``check`` runs then).
    """

    def deco(fn: Handler) -> Handler:
        doc = inspect.cleandoc(fn.__doc__ or "")
        lines = [ln.strip() for ln in doc.splitlines() if ln.strip()]
        if len(lines) < 2 or not lines[0].startswith(name):
            raise ValueError(f"/ops {name}: the docstring must start with '{name} ...' and a description line")
        if check is not None and not deferred and defer_when is None:
            raise ValueError(f"/ops {name}: check= is for deferred commands (the others validate as they run)")
        cmd = Command(
            name,
            fn,
            lines[0],
            lines[1],
            mutates,
            triage,
            deferred,
            min_args,
            aliases,
            check,
            ack,
            audit_refusals,
            defer_when,
        )
        commands.add(name, cmd)
        return fn

    return deco


def slash_name(rt: Runtime) -> str:
    try:
        return str(rt.config.slash_command or "/ops")
    except AttributeError:
        return "/ops"


# --- arguments ----------------------------------------------------------------------------------

_USER_MENTION_RE = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL_MENTION_RE = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")


_CURLY_QUOTES = str.maketrans("“”‘’", "\"\"''")


def split_args(text: str) -> list[str]:
    """Words of the slash text; quotes group words ("a reason with spaces").

    Slack sends ``&``, ``<`` and ``>`` as entities; mentions (``<@U123|bob>``) are kept as
    one token for the sub-command to read.
    """
    text = (text or "").replace("\u00a0", " ").strip()
    # Slack clients turn straight quotes into curly ones.
    text = text.translate(_CURLY_QUOTES)
    try:
        words = shlex.split(text)
    except ValueError:  # unbalanced quote: take the words as typed
        words = text.split()
    out = []
    for w in words:
        if _USER_MENTION_RE.match(w) or _CHANNEL_MENTION_RE.match(w):
            out.append(w)
        else:
            out.append(html.unescape(w))
    return out


def user_id_of(word: str) -> str | None:
    """``<@U123|bob>`` or ``U0123ABC`` → ``U123``; anything else → None."""
    m = _USER_MENTION_RE.match(word)
    if m:
        return m.group(1)
    if re.fullmatch(r"[UW][A-Z0-9]{6,20}", word):
        return word
    return None


# --- permissions --------------------------------------------------------------------------------


def may_mutate(rt: Runtime, actor: Actor, channel: str | None = None) -> bool:
    """True when the actor may act at some risk (in ``channel`` when given)."""
    policy = rt.config.policy
    if channel is None:
        return bool(allowed_risks(policy, actor))
    return any(may_act(policy, actor, r, channel) for r in Risk)


def may_use(rt: Runtime, cmd: Command, actor: Actor, channel: str | None = None) -> Verdict:
    """May ``actor`` use ``cmd`` (from ``channel``, when given)? ``help``: anyone; other
    read-only commands: a member of the organization (``policy.teams``, as for actions: they
    show account ids, resources and who did what); triage commands: ``policy.triage``; other
    mutating ones: acting at some risk."""
    policy = rt.config.policy
    if not cmd.mutates:
        return Verdict(True) if cmd.name == "help" else in_org(policy, actor)
    if cmd.triage:
        return may_triage(policy, actor, channel)
    if may_mutate(rt, actor, channel):
        return Verdict(True)
    reasons = [may_act(policy, actor, r, channel).reason for r in Risk]
    return Verdict(False, reasons[0] if reasons else "not allowed")


def visible_commands(rt: Runtime, actor: Actor) -> list[Command]:
    """Commands the actor may use, in registration order; mutating ones only for people allowed."""
    return [c for c in commands.values() if _allowed(rt, c, actor)]


def _allowed(rt: Runtime, cmd: Command, actor: Actor) -> bool:
    try:
        return bool(may_use(rt, cmd, actor))
    except Exception:  # noqa: BLE001 - permissions fail closed
        return False


# --- dispatch -----------------------------------------------------------------------------------


def _usage_reply(text: str) -> Reply:
    return Reply(text=text, blocks=[bk.section(text)])


def _closest(word: str, names: list[str]) -> str | None:
    match = difflib.get_close_matches(word.lower(), names, n=1, cutoff=0.5)
    if match:
        return match[0]
    prefixed = [n for n in names if n.startswith(word.lower()[:3])] if len(word) >= 3 else []
    return prefixed[0] if prefixed else None


def parse(text: str) -> tuple[str, list[str], bool]:
    """``"alarms prod --public"`` → ``("alarms", ["prod"], True)``. Empty text means help."""
    words = split_args(text)
    public = any(w.lower() == PUBLIC_FLAG for w in words)
    words = [w for w in words if w.lower() != PUBLIC_FLAG]
    if not words:
        return "help", [], public
    return words[0].lower(), words[1:], public


def resolve(name: str) -> Command | None:
    cmd = commands.get(name)
    if cmd is not None:
        return cmd
    for c in commands.values():
        if name in c.aliases:
            return c
    return None


def dispatch(
    text: str, actor: Actor, channel: str, rt: Runtime, response_url: str | None = None, trigger_id: str | None = None
) -> Reply:
    """Run one ``/ops`` text and return the reply. Never raises.

    Example::

        reply = dispatch("alarms prod eu-west-1 --public", actor, "C0OPS", rt)
        respond(reply.payload())
    """
    try:
        reply = _dispatch(text, actor, channel, rt, response_url, defer=False, trigger_id=trigger_id)
    except Exception:  # the last resort: even a broken reply path answers
        log.exception("/ops dispatch failed")
        return Reply(":warning: That command failed; the details are in the bot's log.")
    assert reply is not None  # defer=False always answers
    return reply


def answer_or_defer(
    text: str, actor: Actor, channel: str, rt: Runtime, response_url: str | None = None, trigger_id: str | None = None
) -> Reply | None:
    """The answer inside the ack, or None when the command must be deferred. Never raises.

    Everything that can be decided without AWS is decided here: unknown commands, help,
    permissions, missing arguments, and a deferred command's ``check`` (a bad account or region).
    None means all of that passed and the command queries AWS across accounts.

    Example::

        reply = answer_or_defer("instances eu-west-9", actor, "C0OPS", rt)   # the usage error
        answer_or_defer("instances", actor, "C0OPS", rt)                     # None: defer it
    """
    try:
        return _dispatch(text, actor, channel, rt, response_url, defer=True, trigger_id=trigger_id)
    except Exception:  # the last resort: even a broken reply path answers
        log.exception("/ops dispatch failed")
        return Reply(":warning: That command failed; the details are in the bot's log.")


def _dispatch(
    text: str,
    actor: Actor,
    channel: str,
    rt: Runtime,
    response_url: str | None,
    *,
    defer: bool,
    trigger_id: str | None = None,
) -> Reply | None:
    slash = slash_name(rt)
    try:
        name, args, public = parse(text)
    except Exception:
        log.exception("could not parse /ops text")
        return _usage_reply(f"Could not read that. Try `{slash} help`.")
    cmd = resolve(name)
    if cmd is None:
        visible = _safe(lambda: visible_commands(rt, actor)) or [c for c in commands.values() if not c.mutates]
        names = [c.name for c in visible]
        guess = _closest(name, [str(n) for n in names])
        hint = f" Did you mean `{slash} {commands[guess].usage}`?" if guess else ""
        return _usage_reply(f"Unknown command `{bk.escape(name)}`.{hint} Try `{slash} help` for the list.")
    inv = Invocation(rt, actor, channel, args, public, response_url, cmd, trigger_id)
    if any(a in ("-h", "--help") for a in args) or (args[:1] == ["help"] and cmd.name != "help"):
        return _usage_reply(f"`{slash} {cmd.usage}`\n{cmd.description}")
    verdict = _permission(rt, cmd, actor, channel)
    if not verdict:
        if cmd.triage or cmd.audit_refusals:
            _audit_refusal(rt, cmd, actor, channel, args, verdict.reason)
        return _usage_reply(f"You are not allowed to use `{slash} {cmd.name}`: {bk.escape(verdict.reason)}")
    if len(args) < cmd.min_args:
        return _usage_reply(f"`{slash} {cmd.name}` needs more arguments.\nUsage: `{slash} {cmd.usage}`")
    started = time.monotonic()
    try:
        if defer and cmd.defers(args):
            if cmd.check is not None:
                cmd.check(inv)
            return None
        reply = cmd.handler(inv)
        reply.public = reply.public or public
        return reply
    except CommandError as exc:
        return _usage_reply(str(exc))
    except EventOpsError as exc:
        return _usage_reply(f":warning: `{slash} {cmd.name}`: {bk.escape(exc)}")
    except ClientError as exc:
        err = exc.response.get("Error", {})
        msg = f"{err.get('Code', 'Error')}: {err.get('Message', '')}"
        return _usage_reply(f":warning: `{slash} {cmd.name}`: AWS refused: {bk.escape(msg)}")
    except BotoCoreError as exc:
        return _usage_reply(f":warning: `{slash} {cmd.name}`: AWS could not be reached: {bk.escape(exc)}")
    except Exception as exc:
        log.exception("/ops %s failed", cmd.name)
        return _usage_reply(
            f":warning: `{slash} {cmd.name}` failed ({type(exc).__name__}); the details are in the bot's log."
        )
    finally:
        if not (defer and cmd.defers(args)):
            log.info("/ops %s by %s took %.2fs", cmd.name, actor.user_id, time.monotonic() - started)


def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception:  # noqa: BLE001 - permissions fail closed
        return False


def _permission(rt: Runtime, cmd: Command, actor: Actor, channel: str) -> Verdict:
    try:
        return may_use(rt, cmd, actor, channel)
    except Exception:
        log.exception("/ops %s: the authorization policy could not be read", cmd.name)
        return Verdict(False, "the authorization policy could not be read")


def _audit_refusal(rt: Runtime, cmd: Command, actor: Actor, channel: str, args: list[str], reason: str) -> None:
    """One DENIED record for a refused triage command (e.g. ``/ops snooze`` by an outsider)."""
    try:
        audit.record(
            rt,
            key=f"denied:cmd:{cmd.name}:{uuid.uuid4().hex}",
            action=f"command.{cmd.name}",
            outcome="DENIED",
            actor=actor,
            result=reason,
            channel=channel,
            params={"args": " ".join(args)[:300]},
        )
    except Exception:
        log.exception("/ops %s: the DENIED audit record could not be written", cmd.name)


# --- deferred answers through response_url ------------------------------------------------------


def needs_deferral(text: str) -> bool:
    """True when this /ops text names a command declared ``deferred`` (it queries AWS across
    accounts): ack first, answer via response_url. ``answer_or_defer`` also validates it."""
    try:
        name, args, _ = parse(text)
    except Exception:  # noqa: BLE001
        return False
    cmd = resolve(name)
    return bool(cmd and cmd.defers(args) and not any(a in ("-h", "--help") for a in args))


def ack_reply(text: str, rt: Runtime) -> Reply:
    """The immediate answer for a deferred command. Makes no AWS call (Slack wants it < 3 s)."""
    name, _, _ = parse(text)
    cmd = resolve(name)
    if cmd is not None and cmd.ack:
        return Reply(cmd.ack)
    accounts = len(getattr(rt.config, "accounts", []) or []) or 1
    return Reply(f":hourglass_flowing_sand: Looking up `{bk.escape(name)}` across {accounts} account(s)…")


def run_deferred(
    text: str,
    actor: Actor,
    channel: str,
    rt: Runtime,
    response_url: str,
    post: Callable[[str, dict[str, Any]], None],
    acked_at: float | None = None,
) -> Reply:
    """Dispatch and POST the reply to ``response_url`` with the caller's HTTP ``post(url, body)``.

    Uses the URL once (Slack allows 5 within 30 minutes; one more only to say the answer could
    not be delivered). ``acked_at`` (``time.time()`` of the ack) skips posting to an expired URL.

    Example::

        run_deferred(body["text"], actor, body["channel_id"], rt, body["response_url"],
                     post=lambda url, payload: requests.post(url, json=payload, timeout=5))
    """
    reply = dispatch(text, actor, channel, rt, response_url)
    if acked_at is not None and time.time() - acked_at > RESPONSE_URL_TTL_S - 5:
        log.warning("response_url expired before /ops answered; dropping the reply")
        return reply
    try:
        post(response_url, reply.payload())
    except Exception as exc:  # noqa: BLE001 - the HTTP client is the caller's; say what failed
        log.warning("posting the /ops reply failed (%s); sending a short note instead", type(exc).__name__)
        try:
            post(response_url, Reply(":warning: The answer was too large or could not be delivered.").payload())
        except Exception:
            log.exception("response_url unusable")
    return reply
