"""``eventops`` (or ``python -m bot``): render, fire, sandbox, dev, manifest, check-config, config-schema, redrive.

- ``render FILE...`` prints the chat.postMessage payload each event would produce, one JSON
  object per line, offline: no credentials, nothing posted. An unreadable file: exit 2 and one
  line saying which and why.
- ``check-config [FILE]`` validates the YAML config (default: $EVENTOPS_CONFIG) as the runtime
  loads it: exit 1 and the key and reason (approvals no one can give, unknown remediations).
- ``manifest --url URL`` prints the Slack app manifest with the request URL filled in;
  ``manifest --socket-mode`` the one for ``dev --socket-mode`` (Socket Mode on, no URL).
- ``config-schema`` prints the config file's JSON Schema (docs/eventops.schema.json).
- ``redrive --queue alerts|jobs [--max N] [--dry-run]`` moves records that exhausted their
  retries from a dead-letter queue back to its queue (``bot.redrive``), with the deployed
  functions' environment (``EVENTOPS_*_QUEUE_URL``, ``EVENTOPS_*_DLQ_URL``, ``EVENTOPS_TABLE``)
  and the caller's AWS credentials; one audit record names the local user. Exit 1 when a send
  failed, 2 when the queues are not configured.
- ``--version`` prints ``eventops X.Y.Z``: ``bot.__version__``, which is also the installed
  distribution's version (pyproject.toml reads it), so a checkout and an install agree.
- ``sandbox``, ``fire``, ``dev`` run the local bot (see README "Try it locally").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import __version__
from bot.errors import ConfigError, EventOpsError

if TYPE_CHECKING:
    from bot.runtime import Runtime


def _render_one(raw: Any, rt: Runtime) -> dict[str, Any]:
    # deferred: each sub-command loads only what it uses (render runs offline, fast)
    from bot.messages import alert_buttons
    from bot.pipeline import new_proposals, offers_for, route_alert
    from bot.slack.render import render_alert
    from bot.sources import parse_event

    alert = parse_event(raw)
    alias = rt.config.alias(alert.account)
    if alias:
        alert = alert.model_copy(update={"account_alias": alias})
    route = route_alert(alert, rt.config)
    if route.drop:
        return {"channel": None, "dropped": route.drop_reason}
    offers = offers_for(alert, route, rt)
    alert = alert.model_copy(update={"remediations": offers})
    # Offline: proposal ids are placeholders; deployed, each is stored in DynamoDB first.
    proposals = [
        p.model_copy(update={"id": f"preview-{i}"})
        for i, p in enumerate(new_proposals(alert, offers, route.channel, rt))
    ]
    return render_alert(
        alert,
        channel=route.channel,
        mentions=route.mentions,
        buttons=alert_buttons(alert.id, proposals),
        link_hosts=rt.config.link_hosts,
    )


def cmd_render(args: argparse.Namespace) -> int:
    # deferred: each sub-command loads only what it uses (render runs offline, fast)
    from bot.config import Settings
    from bot.runtime import Runtime, load_checked_config

    try:
        config = load_checked_config(args.config)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    # Offline: never read an SSM kill switch or assume roles while rendering.
    config = config.model_copy(update={"kill_switch_parameter": None})
    rt = Runtime(settings=Settings(), config=config)
    status = 0
    for name in args.files:
        try:
            data = json.loads(Path(name).read_text())
        except OSError as exc:
            print(f"{name}: cannot read: {exc.strerror}", file=sys.stderr)
            status = 2
            continue
        except (UnicodeDecodeError, ValueError) as exc:
            print(f"{name}: not valid JSON: {exc}", file=sys.stderr)
            status = 2
            continue
        events = data if isinstance(data, list) else [data]
        for raw in events:
            print(json.dumps(_render_one(raw, rt), ensure_ascii=False, default=str))
    return status


def cmd_check_config(args: argparse.Namespace) -> int:
    # deferred: each sub-command loads only what it uses (render runs offline, fast)
    from bot.config import Settings
    from bot.runtime import load_checked_config

    path = args.file or Settings.from_env().config_path
    if not path:
        print("EVENTOPS_CONFIG is not set and no file was given", file=sys.stderr)
        return 2
    try:
        cfg = load_checked_config(path)
    except ConfigError as exc:
        print(f"invalid: {exc}", file=sys.stderr)
        return 1
    print(f"{path}: OK ({len(cfg.routing.rules)} rules, {len(cfg.accounts)} accounts)")
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    # deferred: each sub-command loads only what it uses (render runs offline, fast)
    from bot.deploy.manifest import render_manifest

    print(render_manifest(args.url, socket_mode=args.socket_mode), end="")
    return 0


def cmd_config_schema(args: argparse.Namespace) -> int:
    # deferred: each sub-command loads only what it uses (render runs offline, fast)
    from bot.config_docs import schema_text

    print(schema_text(), end="")
    return 0


def cmd_redrive(args: argparse.Namespace) -> int:
    # deferred: each sub-command loads only what it uses (render runs offline, fast)
    import getpass

    # deferred: each sub-command loads only what it uses (render runs offline, fast)
    from bot.commands.redrive import record_redrive
    from bot.models import Actor
    from bot.redrive import redrive
    from bot.runtime import Runtime

    rt = Runtime.from_env()
    rt.time_left = lambda: float("inf")  # a terminal has no Lambda deadline
    result = redrive(rt, args.queue, max_messages=args.max, dry_run=args.dry_run)
    record_redrive(rt, Actor(user_id=f"cli:{getpass.getuser()}", user_name="python -m bot redrive"), result)
    print(result.summary())
    for sample in result.samples:
        print(f"  {sample}")
    return 1 if result.error else 0


def _delegate(name: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        # deferred: each sub-command loads only what it uses (render runs offline, fast)
        from bot.sandbox import cli

        return getattr(cli, name)(args)

    return run


def _offline_commands(sub: Any) -> None:
    """The sub-commands that need no AWS and no Slack."""
    p = sub.add_parser("render", help="print the Slack payload each event file would produce (offline)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--config", help="routing config (default: built-in notify-only)")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("check-config", help="validate the YAML config")
    p.add_argument("file", nargs="?")
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("manifest", help="print the Slack app manifest for a request URL, or for Socket Mode")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--url", help="public base URL of the slack function")
    which.add_argument("--socket-mode", action="store_true", help="Socket Mode on, no request URL (dev --socket-mode)")
    p.set_defaults(func=cmd_manifest)

    p = sub.add_parser("config-schema", help="print the config file's JSON Schema")
    p.set_defaults(func=cmd_config_schema)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _queue_commands(sub: Any) -> None:
    """The sub-commands that act on the deployed queues (the caller's AWS credentials)."""
    # deferred: each sub-command loads only what it uses (render runs offline, fast)
    from bot.redrive import DEFAULT_MAX, QUEUES

    p = sub.add_parser("redrive", help="move dead-lettered records back to their queue")
    p.add_argument("--queue", required=True, choices=QUEUES)
    p.add_argument("--max", type=_positive, default=DEFAULT_MAX, help=f"move at most N records (default {DEFAULT_MAX})")
    p.add_argument("--dry-run", action="store_true", help="count and describe them; move nothing")
    p.set_defaults(func=cmd_redrive)


def _local_commands(sub: Any) -> None:
    """The sub-commands that run the bot (bot.sandbox.cli)."""
    p = sub.add_parser("sandbox", help="the whole bot on this machine: moto + a local Slack console")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--aws-port", type=int, default=4566)
    p.add_argument("--no-demo", action="store_true", help="do not fire the demo events at start")
    p.add_argument(
        "--socket-mode",
        action="store_true",
        help="connect the bot to the local Slack over Socket Mode; clicks and commands travel as envelopes",
    )
    p.add_argument(
        "--housekeeping-interval",
        type=float,
        default=60.0,
        help="seconds between housekeeping runs (escalations, reminders, expiries; deployed: 5 minutes); 0: none",
    )
    p.set_defaults(func=_delegate("sandbox"))

    p = sub.add_parser("fire", help="send a sample or file event into the running sandbox")
    p.add_argument("event", help="a sample name, a JSON file, or `list` to show the samples")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--bus", help="put the event on this real EventBridge bus instead")
    p.set_defaults(func=_delegate("fire"))

    p = sub.add_parser("dev", help="run the Bolt app against a real Slack workspace")
    p.add_argument("--socket-mode", action="store_true", required=True)
    p.set_defaults(func=_delegate("dev"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eventops", description="EventOps command line (also `python -m bot`); see README.md"
    )
    parser.add_argument("--version", action="version", version=f"eventops {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _offline_commands(sub)
    _queue_commands(sub)
    _local_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except EventOpsError as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
