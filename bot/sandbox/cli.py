"""``python -m bot sandbox | fire | dev``: the local ways to run EventOps.

- ``sandbox [--port 3000] [--aws-port 4566] [--no-demo] [--socket-mode]``: the whole bot on this
  machine (``bot.sandbox.runner``); prints the console URL, stops on Ctrl-C. With
  ``--socket-mode`` the bot connects to the local Slack over Socket Mode and the console's clicks
  and commands reach it as envelopes, not signed POSTs.
- ``fire EVENT [--port 3000]``: a sample name (``fire list`` lists them) or a JSON file, into the
  running sandbox; ``--bus NAME`` puts it on a real EventBridge bus with your credentials.
- ``dev --socket-mode``: the same Bolt app against a real Slack workspace over Socket Mode
  (``SLACK_APP_TOKEN``, ``SLACK_BOT_TOKEN``), no public URL needed.

Each returns an exit code: 0 OK, 1 the action failed, 2 a usage or environment problem.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.errors import ConfigError


def _err(message: str) -> None:
    print(message, file=sys.stderr)


# --- sandbox -----------------------------------------------------------------------------------


def sandbox(args: argparse.Namespace) -> int:
    """Run the sandbox until SIGINT/SIGTERM."""
    # deferred: the sandbox loads moto, the fake and the handlers only when it starts
    import logging
    import os

    # Lambda-style JSON logs and EMF metrics would bury the console URL; opt back in with env.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("EVENTOPS_LOG_LEVEL", "WARNING")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    # deferred: the sandbox loads moto, the fake and the handlers only when it starts
    from bot.sandbox.runner import Sandbox, SandboxOptions
    from bot.sandbox.server import PortInUseError

    settings = Settings.from_env()
    options = SandboxOptions(
        port=args.port,
        aws_port=args.aws_port,
        demo=not getattr(args, "no_demo", False),
        signing_secret=settings.slack_signing_secret,
        socket_mode=bool(getattr(args, "socket_mode", False)),
        housekeeping_interval_s=float(getattr(args, "housekeeping_interval", 60.0)),
    )
    print("EventOps sandbox: starting moto and seeding the demo estate…", flush=True)
    try:
        sb = Sandbox(options).start()
    except PortInUseError as exc:
        _err(f"error: {exc}")
        return 2
    except ConfigError as exc:
        _err(f"config error: {exc}")
        return 2

    stop = threading.Event()

    def _on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        _banner(sb, "SLACK_SIGNING_SECRET" if settings.slack_signing_secret else "a generated secret")
        while not stop.wait(0.5):
            pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        print("stopping…", flush=True)
        sb.stop()
    return 0


def _banner(sb: Any, secret_from: str) -> None:
    """What is running where, printed once the sandbox is up."""
    # deferred: the sandbox loads moto, the fake and the handlers only when it starts
    from bot.sandbox.runner import DEMO_USERS

    print(f"\n  Console:   {sb.url}")
    assert sb.server is not None, "Sandbox.start() runs the console server"
    print(f"  Slack API: {sb.server.api_url}   front door: {sb.server.base}/slack/events (signed with {secret_from})")
    if sb.server.socket_mode is not None:
        print(
            f"  Socket Mode: the bot is connected to ws://127.0.0.1:{sb.server.socket_mode.port}/link/ "
            "(apps.connections.open, app-level token); clicks and commands travel as envelopes"
        )
    print(f"  AWS:       {sb.aws_url} (moto; accounts 123456789012 prod, 210987654321 staging)")
    print("  Act as:    " + ", ".join(uid for uid, *_ in DEMO_USERS))
    for name, why in sb.missing.items():
        print(f"  Not wired: {name}: {why}")
    print("\n  Fire more: python -m bot fire list   |   Stop: Ctrl-C\n", flush=True)


# --- fire --------------------------------------------------------------------------------------


def _read_events(path: Path) -> list[Any]:
    data = json.loads(path.read_text())
    return data if isinstance(data, list) else [data]


def _post(url: str, body: dict[str, Any] | None = None, timeout: float = 10) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            return json.loads(exc.read() or b"{}") | {"ok": False}
        except ValueError:
            return {"ok": False, "error": f"HTTP {exc.code}"}


def fire(args: argparse.Namespace) -> int:
    """Send a sample or a file's event(s) into the running sandbox, or onto a real bus."""
    path = Path(args.event)
    if args.bus:
        return _fire_to_bus(args.bus, path, args.event)
    base = f"http://127.0.0.1:{args.port}"
    try:
        if args.event == "list":
            for s in _post(base + "/console/samples").get("samples", []):
                print(f"{s['name']:<40} {s['help']}")
            return 0
        if path.suffix == ".json" or path.is_file():
            try:
                body: dict[str, Any] = {"events": _read_events(path)}
            except OSError as exc:
                _err(f"{path}: cannot read: {exc.strerror}")
                return 2
            except ValueError as exc:
                _err(f"{path}: not valid JSON: {exc}")
                return 2
        else:
            body = {"sample": args.event}
        result = _post(base + "/console/fire", body)
    except (urllib.error.URLError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        _err(f"no sandbox answers on port {args.port} ({reason}); start one with `make run` or pass --port")
        return 2
    if not result.get("ok"):
        _err(f"fire failed: {result.get('error', 'unknown error')}")
        return 1
    print(f"fired {len(result['fired'])} event(s) onto the sandbox's alerts queue; watch {base}/")
    return 0


def _fire_to_bus(bus: str, path: Path, name: str) -> int:
    """PutEvents onto a real bus. Built-in samples name sandbox resources, so only files are sent."""
    if not path.is_file():
        # deferred: the sandbox loads moto, the fake and the handlers only when it starts
        from bot.sandbox.estate import SAMPLES_DIR

        candidate = SAMPLES_DIR / f"{name}.json"
        if not candidate.is_file():
            _err(f"{name}: with --bus, give a JSON file (or a tests/events sample name)")
            return 2
        path = candidate
    try:
        events = _read_events(path)
    except (OSError, ValueError) as exc:
        _err(f"{path}: cannot read an event: {exc}")
        return 2
    # deferred: the sandbox loads moto, the fake and the handlers only when it starts
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    settings = Settings.from_env()
    client = boto3.client("events", region_name=settings.aws_region)
    entries = [
        {
            "EventBusName": bus,
            "Source": e.get("source", "eventops.custom"),
            "DetailType": e.get("detail-type", "EventOps test"),
            "Detail": json.dumps(e.get("detail", {})),
            "Resources": list(e.get("resources") or []),
        }
        for e in events
    ]
    if any(str(e["Source"]).startswith("aws.") for e in entries):
        print("note: EventBridge reserves aws.* sources for AWS; PutEvents may refuse these entries", file=sys.stderr)
    try:
        failed = 0
        for start in range(0, len(entries), 10):
            resp = client.put_events(Entries=entries[start : start + 10])
            for entry in resp.get("Entries", []):
                if entry.get("ErrorCode"):
                    failed += 1
                    _err(f"refused: {entry['ErrorCode']}: {entry.get('ErrorMessage', '')}")
    except (BotoCoreError, ClientError) as exc:
        _err(f"PutEvents on {bus} failed: {exc}")
        return 1
    print(f"put {len(entries) - failed} of {len(entries)} event(s) on bus {bus}")
    return 1 if failed else 0


# --- dev --socket-mode ----------------------------------------------------------------------


def dev(args: argparse.Namespace) -> int:
    """The Bolt app over Socket Mode against a real workspace (needs SLACK_APP_TOKEN and SLACK_BOT_TOKEN).

    Long because each missing or wrong setting gets its own start-up message, in order.
    """
    settings = Settings.from_env()
    missing = [
        name
        for name, value in (
            ("SLACK_APP_TOKEN", settings.slack_app_token),
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
        )
        if not value
    ]
    if missing:
        _err(
            f"dev --socket-mode needs {' and '.join(missing)} in the environment: an app-level token "
            "(xapp-…, scope connections:write) and the bot token (xoxb-…) of a Slack app with Socket Mode "
            "enabled. `python -m bot manifest --socket-mode` prints a manifest to create one."
        )
        return 2
    if not (settings.slack_app_token or "").startswith("xapp-"):
        _err("SLACK_APP_TOKEN must be an app-level token (xapp-…), not a bot or user token")
        return 2
    try:
        # deferred: the sandbox loads moto, the fake and the handlers only when it starts
        from handlers import slack as slack_handler
    except ImportError as exc:
        _err(f"cannot load the Bolt app: {exc}")
        return 2
    # deferred: the sandbox loads moto, the fake and the handlers only when it starts
    import dataclasses
    import secrets

    # deferred: the sandbox loads moto, the fake and the handlers only when it starts
    from bot.runtime import Runtime, load_checked_config

    try:
        config = load_checked_config(settings.config_path)
    except ConfigError as exc:
        _err(f"config error: {exc}")
        return 2
    # Socket Mode requests are not signed (Bolt skips the check for them), but the shared app
    # refuses to build without a secret: a random one stands in when none is set.
    settings = dataclasses.replace(
        settings, slack_signing_secret=settings.slack_signing_secret or secrets.token_hex(16)
    )
    slack_handler.set_runtime(Runtime(settings=settings, config=config))
    pollers = _dev_pollers(settings, config)
    try:
        slack_handler.app()  # a config error shows before connecting
        print("EventOps over Socket Mode: connecting with SLACK_APP_TOKEN; Ctrl-C to stop", flush=True)
        for p in pollers:
            print(f"  polling {p.queue_url} → handlers.{p.name}", flush=True)
        return _serve_socket_mode(slack_handler, settings.slack_app_token or "")
    except ConfigError as exc:
        _err(f"config error: {exc}")
        return 2
    finally:
        for p in pollers:
            p.stop()


def _serve_socket_mode(slack_handler: Any, app_token: str) -> int:
    """Connect over Socket Mode (``apps.connections.open``, then the WebSocket) and serve until
    SIGINT/SIGTERM. 1 when Slack cannot be reached or refuses the token."""
    # deferred: the sandbox loads moto, the fake and the handlers only when it starts
    from slack_sdk.errors import SlackApiError

    handler = slack_handler.socket_mode_handler(app_token)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        handler.connect()
        if not handler.client.is_connected():
            _err("the Socket Mode connection failed (the WebSocket handshake was refused); see the log above")
            return 1
        print(f"  connected (session {handler.client.session_id()})", flush=True)
        while not stop.wait(0.5):
            pass
    except SlackApiError as exc:
        _err(f"Slack refused apps.connections.open: {exc.response.get('error')} (is SLACK_APP_TOKEN right?)")
        return 1
    except (urllib.error.URLError, OSError) as exc:
        _err(f"cannot reach Slack to open the Socket Mode connection: {getattr(exc, 'reason', exc)}")
        return 1
    finally:
        for s, previous_handler in previous.items():
            signal.signal(s, previous_handler)
        handler.close()
    return 0


def _dev_pollers(settings: Settings, config: Any) -> list[Any]:
    """Clicks queue jobs: with no Lambda behind the queues, poll the configured ones here."""
    # deferred: the sandbox loads moto, the fake and the handlers only when it starts
    import importlib

    # deferred: the sandbox loads moto, the fake and the handlers only when it starts
    import boto3

    # deferred: the sandbox loads moto, the fake and the handlers only when it starts
    from bot.runtime import Runtime
    from bot.sandbox.pollers import SqsPoller

    pollers: list[SqsPoller] = []
    queues = (("notify", settings.alerts_queue_url), ("worker", settings.jobs_queue_url))
    if not any(url for _, url in queues):
        return pollers
    sqs = boto3.client("sqs", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
    for name, url in queues:
        if url:
            module = importlib.import_module(f"handlers.{name}")
            module.set_runtime(Runtime(settings=settings, config=config))
            pollers.append(SqsPoller(name, sqs, url, module.handler, region=settings.aws_region).start())
    return pollers
