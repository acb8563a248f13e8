"""The whole bot on one machine: moto as AWS, the console as Slack, the handlers fed as Lambda feeds them.

``Sandbox(SandboxOptions(port=0, aws_port=0)).start()`` brings up, in this process:

1. the console server (``bot.sandbox.server``) on ``port``: console, JSON API, the Slack Web
   API fake, response_urls and the bot's front door ``POST /slack/events``;
2. moto's ``ThreadedMotoServer`` on ``aws_port``, reset and seeded with the demo estate
   (``bot.sandbox.estate``) in two accounts;
3. one ``Runtime`` per handler (as each Lambda has its own), with ``aws_endpoint_url`` = moto
   and ``slack_api_url`` = the console server, wired with ``set_runtime``;
4. pollers: alerts queue → ``handlers.notify``, jobs queue → ``handlers.worker``;
5. the demo events, onto the alerts queue (unless ``demo=False``);
6. with ``socket_mode=True``: the fake's Socket Mode server (``bot.sandbox.socket_mode``), and
   the Bolt app connected to it with the app-level token through slack_bolt's
   ``SocketModeHandler`` (``handlers.slack.socket_mode_handler``), as ``dev --socket-mode``
   connects to Slack. The console's clicks and commands then travel as envelopes on that
   connection instead of signed POSTs (``/slack/events`` still answers).

Ports are injectable (0 = any free port), so tests run it in-process. A taken port raises
``PortInUseError`` naming the port and the flag.

Example::

    with Sandbox(SandboxOptions(port=0, aws_port=0, demo=False)) as sb:
        sb.put_events([event])
        sb.wait_for(lambda snap: snap["messages"])
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import secrets
import socket
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from bot.config import Config, Settings
from bot.runtime import Runtime, load_checked_config
from bot.sandbox import estate as demo
from bot.sandbox.cloudtrail_lookup import EventLog
from bot.sandbox.cloudtrail_lookup import install as install_lookup_events
from bot.sandbox.moto_serial import serialize_moto
from bot.sandbox.pollers import Schedule, SqsPoller
from bot.sandbox.server import APP_ID, ConsoleServer, PortInUseError
from bot.sandbox.slack_fake import SlackFake, Workspace
from bot.sources import parse_event
from bot.sources.base import ParseContext

log = logging.getLogger("eventops.sandbox")

DEMO_CONFIG = Path(__file__).parent / "demo-config.yml"
TEAM_ID = "T0EVENTOPS"

# (id, handle, real name, what the demo policy lets them do)
DEMO_USERS = (
    ("U0OPERATOR", "operator", "Olive Operator", "may run LOW and MEDIUM remediations, request HIGH ones"),
    ("U0APPROVER", "approver", "Avery Approver", "may approve HIGH-risk remediations"),
    ("U0APPROVER2", "approver2", "Blake Approver", "second approver: HIGH needs two besides the requester"),
    ("U0OUTSIDER", "outsider", "Oscar Outsider", "may do nothing"),
)


@dataclass
class SandboxOptions:
    """What ``python -m bot sandbox`` flags set; tests use ``port=0, aws_port=0``."""

    port: int = 3000
    aws_port: int = 4566
    host: str = "127.0.0.1"
    demo: bool = True
    signing_secret: str | None = None
    config_path: Path = DEMO_CONFIG
    rate_limit: bool = True
    table_name: str = "eventops"
    extra_env: dict[str, str] = field(default_factory=dict)
    socket_mode: bool = False
    # How often the app pings the Socket Mode server; a dropped connection is replaced within it.
    socket_ping_interval: float = 2.0
    # handlers/housekeeping.py every this many seconds, as the deployed schedule runs it every 5
    # minutes (escalations, reminders, expiries, maintenance ends); 0: never (tests that need it
    # set it, so other tests' sandboxes are not changed under them by a timer).
    housekeeping_interval_s: float = 0.0


class _MotoServer(ThreadedMotoServer):
    """ThreadedMotoServer that reports a failed bind instead of waiting for it forever."""

    error: BaseException | None = None

    def _server_entry(self) -> None:
        serialize_moto()  # its request threads and the bot's lanes: one moto request at a time
        try:
            super()._server_entry()
        except (OSError, SystemExit) as exc:  # werkzeug turns EADDRINUSE into sys.exit(1)
            self.error = exc
            self._server_ready_event.set()


def _port_free(host: str, port: int) -> bool:
    if port == 0:
        return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug binds
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _isolate_credentials() -> None:
    """The sandbox must never reach a real AWS account, whatever the shell has set."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "MOTO_ACCOUNT_ID"):
        os.environ.pop(key, None)  # MOTO_ACCOUNT_ID would pin every call to one account
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    os.environ.setdefault("AWS_DEFAULT_REGION", demo.REGION)


def load_demo_config(path: Path) -> Config:
    """The sandbox's config, checked as the deployed runtime checks it (remediation names too)."""
    return load_checked_config(path)


class Sandbox:
    """Everything ``make run`` starts, in one process. ``start()``, ``stop()``, or use ``with``."""

    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        self.signing_secret = self.options.signing_secret or secrets.token_hex(16)
        self.bot_token = "xoxb-sandbox-" + secrets.token_hex(8)
        self.schedules: list[Schedule] = []
        self.cloudtrail = EventLog()  # LookupEvents, which moto lacks (bot.sandbox.cloudtrail_lookup)
        self.app_token = f"xapp-1-{APP_ID}-{secrets.randbelow(10**12):012d}-{secrets.token_hex(16)}"
        self.socket_handler: Any = None  # the app's SocketModeHandler, in socket mode
        self.config = load_demo_config(self.options.config_path)
        self.fake = SlackFake(
            rate_limit=self.options.rate_limit, bot_token=self.bot_token, workspace=Workspace(TEAM_ID)
        )
        self.server: ConsoleServer | None = None
        self.moto: _MotoServer | None = None
        self.estate: demo.Estate | None = None
        self.settings: Settings | None = None
        self.pollers: list[SqsPoller] = []
        self.runtimes: dict[str, Runtime] = {}
        self.missing: dict[str, str] = {}  # handler → why it is not wired
        self._sqs: Any = None

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self.server is not None, "start() first"
        return self.server.url

    @property
    def aws_url(self) -> str:
        assert self.moto is not None, "start() first"
        host, port = self.moto.get_host_and_port()
        return f"http://{host}:{port}"

    def start(self) -> Sandbox:
        _isolate_credentials()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines
        self._seed_workspace()
        self.server = ConsoleServer(
            self.fake,
            signing_secret=self.signing_secret,
            fire=self.fire,
            samples=self.samples,
            host=self.options.host,
            port=self.options.port,
            command=self.config.slash_command,
        )
        self.server.start()
        if self.options.socket_mode:
            socket_mode = self.fake.enable_socket_mode(self.app_token, app_id=APP_ID)
            socket_mode.on_note = self._socket_note
            self.server.socket_mode = socket_mode
        try:
            self._start_moto()
            install_lookup_events(self.cloudtrail)
            self.estate = demo.seed(self.aws_url, table_name=self.options.table_name)
            for past in demo.cloudtrail_history(self.estate):
                self.cloudtrail.seed(**past)
            self._sqs = boto3.client("sqs", region_name=demo.REGION, endpoint_url=self.aws_url)
            self.settings = Settings(
                table_name=self.options.table_name,
                alerts_queue_url=self.estate.alerts_queue_url,
                jobs_queue_url=self.estate.jobs_queue_url,
                alerts_dlq_url=self.estate.alerts_dlq_url,
                jobs_dlq_url=self.estate.jobs_dlq_url,
                slack_api_url=self.server.api_url,
                slack_bot_token=self.bot_token,
                slack_signing_secret=self.signing_secret,
                config_path=str(self.options.config_path),
                aws_endpoint_url=self.aws_url,
                aws_region=demo.REGION,
                extra=dict(self.options.extra_env),
            )
            self._wire_handlers()
            if self.options.socket_mode:
                self._connect_socket_mode()
            if self.options.demo:
                self.put_events(demo.demo_events(self.estate))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for schedule in self.schedules:
            schedule.stop()
        self.schedules.clear()
        for poller in self.pollers:
            poller.request_stop()
        for poller in self.pollers:
            poller.stop()
        self.pollers.clear()
        self._stop_socket_mode()
        if self.server is not None:
            self.server.stop()
        for name in list(self.runtimes):
            module = importlib.import_module(f"handlers.{name}")
            if hasattr(module, "set_runtime"):
                module.set_runtime(None)  # the next user builds its own, as a new cold start would
        self.runtimes.clear()
        if self.moto is not None and self.moto._server is not None:
            self.moto.stop()
        self.moto = None

    def _start_moto(self) -> None:
        if not _port_free(self.options.host, self.options.aws_port):
            raise PortInUseError(self.options.aws_port, "--aws-port")
        self.moto = _MotoServer(self.options.host, self.options.aws_port, verbose=False)
        self.moto.start()
        if self.moto.error is not None:
            err, self.moto = self.moto.error, None
            if isinstance(err, SystemExit) or getattr(err, "errno", None) in (98, 48, 10048):
                raise PortInUseError(self.options.aws_port, "--aws-port") from None  # lost a race for it
            raise err
        # moto's backends live in this process: start from a clean estate every time.
        urllib.request.urlopen(urllib.request.Request(self.aws_url + "/moto-api/reset", method="POST"), timeout=10)

    def _seed_workspace(self) -> None:
        ws = self.fake.workspace
        for uid, handle, real_name, title in DEMO_USERS:
            ws.add_user(uid, handle, real_name=real_name, title=title)
        ws.add_user(ws.bot_user_id, "eventops", real_name="EventOps", is_bot=True)
        routing = self.config.routing
        names = {routing.default.channel, *routing.team_channels.values()}
        names |= {r.channel for r in routing.rules if r.channel}
        for name in sorted(names):
            ws.channel(name)

    # -- the bot -----------------------------------------------------------------------------------

    def runtime(self) -> Runtime:
        """A fresh Runtime, as one Lambda function's cold start builds it."""
        assert self.settings is not None
        return Runtime(settings=self.settings, config=self.config)

    def _handler_module(self, name: str) -> ModuleType | None:
        try:
            module = importlib.import_module(f"handlers.{name}")
        except ImportError as exc:
            self.missing[name] = f"handlers/{name}.py cannot be imported ({exc})"
            log.warning("sandbox: %s", self.missing[name])
            return None
        rt = self.runtime()
        self.runtimes[name] = rt
        if hasattr(module, "set_runtime"):
            module.set_runtime(rt)
        return module

    def _wire_handlers(self) -> None:
        assert self.server is not None and self.estate is not None
        slack = self._handler_module("slack")
        if slack is not None:
            self.server.front_door = slack.handler
        for name, url in (("notify", self.estate.alerts_queue_url), ("worker", self.estate.jobs_queue_url)):
            module = self._handler_module(name)
            if module is None:
                continue
            poller = SqsPoller(name, self._sqs, url, module.handler, region=demo.REGION, on_batch=self._on_batch)
            self.pollers.append(poller.start())
        if self.options.housekeeping_interval_s > 0:
            housekeeping = self._handler_module("housekeeping")
            if housekeeping is not None:
                tick = self._housekeeping_tick(housekeeping)
                self.schedules.append(Schedule("housekeeping", self.options.housekeeping_interval_s, tick).start())

    def _housekeeping_tick(self, module: ModuleType) -> Callable[[], None]:
        def tick() -> None:
            summary = module.handler({"task": "housekeeping"}, None)
            done = {k: v for k, v in summary.items() if v and k != "heartbeat"}
            if done and self.server is not None:
                self.server.note("housekeeping", "housekeeping: " + ", ".join(f"{k} {v}" for k, v in done.items()))

        return tick

    def _connect_socket_mode(self) -> None:
        """Connect the Bolt app to the fake over Socket Mode, as ``dev --socket-mode`` connects to Slack."""
        assert self.server is not None and self.server.socket_mode is not None
        slack = importlib.import_module("handlers.slack")
        self.socket_handler = slack.socket_mode_handler(self.app_token, ping_interval=self.options.socket_ping_interval)
        self.socket_handler.connect()
        self.server.socket_mode.wait_connected(timeout=10)

    def _socket_note(self, text: str) -> None:
        if self.server is not None:
            self.server.note("socket", text)

    def _stop_socket_mode(self) -> None:
        handler, self.socket_handler = self.socket_handler, None
        if handler is not None:
            # then the server's close is final: the app does not reconnect while stopping
            handler.client.default_auto_reconnect_enabled = handler.client.auto_reconnect_enabled = False
        self.fake.stop_socket_mode()
        if handler is not None:
            handler.close()
        if self.server is not None:
            self.server.socket_mode = None

    def _on_batch(self, name: str, delivered: int, failed: int) -> None:
        if self.server is not None:
            more = f", {failed} left for redelivery" if failed else ""
            self.server.note(name, f"{name}: handled a batch of {delivered + failed}{more}")

    # -- events ------------------------------------------------------------------------------------

    def put_events(self, events: list[Any]) -> list[str]:
        """Put events on the alerts queue, as the EventBridge rule's SQS target would."""
        assert self.estate is not None, "start() first"
        ids = []
        for ev in events:
            self._record_api_call(ev)
            body = ev if isinstance(ev, str) else json.dumps(ev)
            ids.append(self._sqs.send_message(QueueUrl=self.estate.alerts_queue_url, MessageBody=body)["MessageId"])
            if self.server is not None and isinstance(ev, dict):
                self.server.note("fire", f"event {ev.get('source')} / {ev.get('detail-type')} → alerts queue")
        return ids

    def _record_api_call(self, event: Any) -> None:
        """An API call sent in as its EventBridge event happened: CloudTrail has it, under the
        resources the bot's own parser names (so "what changed?" finds it)."""
        if not isinstance(event, dict) or event.get("detail-type") != "AWS API Call via CloudTrail":
            return
        try:
            alert = parse_event(event, ParseContext())
        except Exception:  # noqa: BLE001 - a malformed sample is the bot's to report, not the log's
            return
        self.cloudtrail.record_api_call(event, [(r.type, r.id) for r in alert.resources])

    def fire(self, request: dict[str, Any]) -> list[str]:
        """``{"sample": name}`` or ``{"events": [...]}`` (or ``{"event": {...}}``) → the alerts queue."""
        assert self.estate is not None
        if request.get("sample"):
            try:
                events = demo.sample(str(request["sample"]), self.estate)
            except KeyError as exc:
                raise ValueError(exc.args[0]) from None
        elif isinstance(request.get("events"), list):
            events = request["events"]
        elif isinstance(request.get("event"), dict):
            events = [request["event"]]
        else:
            raise ValueError("send {sample: NAME} or {events: [...]}")
        return self.put_events(events)

    def samples(self) -> list[dict[str, str]]:
        return [
            {"name": name, "help": demo.SAMPLES[name][1] if name in demo.SAMPLES else "tests/events/" + name + ".json"}
            for name in demo.sample_names()
        ]

    # -- for tests -------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        assert self.server is not None
        return self.server.snapshot()

    def wait_for(self, predicate: Callable[[dict[str, Any]], Any], timeout: float = 20.0, interval: float = 0.1) -> Any:
        """Poll the workspace snapshot until ``predicate`` returns something truthy; return it."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate(self.snapshot())
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"sandbox: condition not met within {timeout:.0f} s")
            time.sleep(interval)
