"""Slack's side of Socket Mode, on 127.0.0.1 only: one-time WebSocket URLs and the envelope protocol.

What a Socket Mode app sees (api.slack.com/apis/socket-mode), played locally for the sandbox:

1. ``apps.connections.open`` with the app-level token (``xapp-…``) answers a one-time URL
   ``ws://127.0.0.1:<port>/link/?ticket=…&app_id=…`` (``SocketModeServer.open_url``; the Web API
   method itself is served by ``bot.sandbox.slack_fake``).
2. The app connects (RFC 6455 handshake) and the server says ``{"type": "hello", …}``.
3. ``deliver(kind, payload)`` sends an envelope ``{"envelope_id", "type", "payload",
   "accepts_response_payload"}`` (``events_api`` ones also carry ``retry_attempt`` and
   ``retry_reason``) on the newest connection and, by default, waits for the app's ack
   ``{"envelope_id", "payload"?}``, from any of its connections. Each ``Envelope`` records when it
   was sent and acked (``latency_s``) and the ack's payload (a slash command's reply).
4. ``disconnect(reason)`` sends ``{"type": "disconnect", "reason": "refresh_requested" |
   "warning" | …}``: the app opens a new connection (``apps.connections.open`` again) and the
   server then closes the old one, as Slack does (or after ``RETIRE_GRACE_S``). ``drop()`` closes
   the newest connection (close frame 1001, then the TCP socket).

Frames (RFC 6455 §5): only masked client frames are accepted (else close 1002); pings are
answered with pongs carrying the same data; fragmented text messages are reassembled; a close is
answered with a close. The server's own frames are unmasked. No TLS, extensions or subprotocols.

Example::

    server = SocketModeServer(app_id="A0EVENTOPS").start()
    url = server.open_url()                        # what apps.connections.open answers
    env = server.deliver("slash_commands", {"command": "/ops", "text": "help", …})
    env.acked, env.latency_s, env.ack_payload      # True, 0.02, {"text": "…"}
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.errors import EventOpsError

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
HOST = "127.0.0.1"  # never anything else: the sandbox's Slack is loopback only
ACK_DEADLINE_S = 3.0  # Slack shows an error (or retries an event) when the ack takes longer
TICKET_TTL_S = 30.0
RETIRE_GRACE_S = 10.0  # after a disconnect message, Slack closes the old connection about this late
MAX_MESSAGE = 1 << 20
ENVELOPE_TYPES = ("events_api", "interactive", "slash_commands")
# Interactive payloads whose ack may carry a response (a modal's errors, a menu's options).
_RESPONDING_PAYLOADS = {"view_submission", "block_suggestion"}

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class NotConnectedError(EventOpsError):
    """No app is connected over Socket Mode (Slack would answer ``dispatch_failed``)."""


class ProtocolError(Exception):
    """The client broke RFC 6455; ``code`` is the close code to send (1002, 1007, 1009)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key`` (RFC 6455 §4.2.2).

    >>> accept_key("dGhlIHNhbXBsZSBub25jZQ==")
    's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
    """
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def unmask(data: bytes, key: bytes) -> bytes:
    """XOR ``data`` with the 4-byte masking ``key`` (RFC 6455 §5.3)."""
    n = len(data)
    if n == 0:
        return b""
    pad = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(pad, "big")).to_bytes(n, "big")


def encode_frame(opcode: int, payload: bytes = b"", *, mask: bytes | None = None) -> bytes:
    """One final frame; servers send them unmasked, clients pass a 4-byte ``mask``."""
    n = len(payload)
    bit = 0x80 if mask is not None else 0
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, bit | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, bit | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, bit | 127, n)
    if mask is None:
        return head + payload
    return head + mask + unmask(payload, mask)


class _Reader:
    """Buffered reads from a socket; ``ConnectionError`` at end of stream."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the peer closed the connection")
        self.buf += chunk

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def until(self, marker: bytes, limit: int) -> bytes:
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise ProtocolError(1009, "request headers too large")
            self._fill()
        out, _, self.buf = self.buf.partition(marker)
        return out


@dataclass
class Frame:
    fin: bool
    opcode: int
    data: bytes


def read_frame(reader: _Reader) -> Frame:
    """One client frame, unmasked; ``ProtocolError`` for what RFC 6455 forbids a client to send."""
    b1, b2 = reader.exactly(2)
    fin, rsv, opcode = bool(b1 & 0x80), b1 & 0x70, b1 & 0x0F
    masked, length = bool(b2 & 0x80), b2 & 0x7F
    if rsv:
        raise ProtocolError(1002, "reserved bits set without an extension")
    if opcode not in (OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG):
        raise ProtocolError(1002, f"unknown opcode {opcode:#x}")
    if not masked:
        raise ProtocolError(1002, "client frames must be masked")
    if length == 126:
        (length,) = struct.unpack("!H", reader.exactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", reader.exactly(8))
    if opcode >= OP_CLOSE and (not fin or length > 125):
        raise ProtocolError(1002, "control frames must be final and at most 125 bytes")
    if length > MAX_MESSAGE:
        raise ProtocolError(1009, "message too big")
    key = reader.exactly(4)
    return Frame(fin, opcode, unmask(reader.exactly(length), key))


@dataclass
class Envelope:
    """One envelope the server sent, and its ack."""

    envelope_id: str
    type: str
    payload: dict[str, Any]
    accepts_response_payload: bool
    connection: int
    sent_at: float = field(default_factory=time.monotonic)
    retry_attempt: int | None = None
    acked_at: float | None = None
    ack_payload: dict[str, Any] | None = None
    ack_connection: int | None = None
    _acked: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def acked(self) -> bool:
        return self._acked.is_set()

    @property
    def latency_s(self) -> float | None:
        """Seconds from sending to the ack (None while unacked)."""
        return None if self.acked_at is None else self.acked_at - self.sent_at

    def in_time(self, limit: float = ACK_DEADLINE_S) -> bool:
        return self.latency_s is not None and self.latency_s <= limit

    def wait(self, timeout: float) -> bool:
        return self._acked.wait(timeout)

    def message(self) -> dict[str, Any]:
        """The envelope as sent on the socket."""
        out: dict[str, Any] = {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "payload": self.payload,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.type == "events_api":
            out["retry_attempt"] = self.retry_attempt or 0
            out["retry_reason"] = "timeout" if self.retry_attempt else ""
        return out


class Connection:
    """One app connection: its socket, what came in, and how it ended."""

    def __init__(self, cid: int, sock: socket.socket, peer: str) -> None:
        self.id = cid
        self.sock = sock
        self.peer = peer
        self.opened_at = time.monotonic()
        self.ready = False  # the handshake succeeded and hello was sent
        self.closed = False
        self.retiring = False  # a disconnect message was sent: the app should replace it
        self.close_code: int | None = None  # the code of the first close frame, either way
        self.closed_by: str | None = None  # "server", "client", or "network"
        self.pings = 0
        self.pongs = 0
        self.disconnects: list[str] = []  # reasons sent
        self._send_lock = threading.Lock()

    def send(self, opcode: int, payload: bytes = b"") -> None:
        with self._send_lock:
            if self.closed:
                raise NotConnectedError(f"connection {self.id} is closed")
            self.sock.sendall(encode_frame(opcode, payload))

    def send_json(self, message: dict[str, Any]) -> None:
        self.send(OP_TEXT, json.dumps(message).encode("utf-8"))

    def close(self, code: int = 1000, reason: str = "", *, by: str = "server") -> None:
        """Send a close frame (unless closed already) and drop the TCP connection."""
        with self._send_lock:
            if self.closed:
                return
            self.closed = True
            self.closed_by = self.closed_by or by
            if self.close_code is None:
                self.close_code = code
            try:
                self.sock.sendall(encode_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode()[:120]))
            except OSError:
                pass  # the peer is gone already: nothing to tell it
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # not connected any more
            self.sock.close()


class SocketModeServer:
    """Socket Mode's server side: tickets, connections, envelopes and acks. ``start()``/``stop()``.

    ``on_note(text)`` (optional) hears one line per connection change, for the console's log.
    """

    def __init__(self, app_id: str = "A0EVENTOPS", *, on_note: Callable[[str], None] | None = None) -> None:
        self.app_id = app_id
        self.on_note = on_note
        self.connections: list[Connection] = []
        self.envelopes: list[Envelope] = []
        self.refused: list[str] = []  # handshakes refused, with why
        self.stray: list[str] = []  # messages from the app that were not acks of a sent envelope
        self.tickets_issued = 0
        self._tickets: dict[str, float] = {}
        self._cond = threading.Condition(threading.RLock())
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> SocketModeServer:
        if self._listener is not None:
            return self
        listener = socket.create_server((HOST, 0))
        listener.settimeout(0.2)
        self._listener = listener
        self._spawn(self._accept_loop, "socket-mode-accept")
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._cond:
            conns = list(self.connections)
        for conn in conns:
            conn.close(1001, "server stopping")
        for t in self._threads:
            t.join(timeout=2)
        self._threads.clear()

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("SocketModeServer is not started")
        return int(self._listener.getsockname()[1])

    def open_url(self) -> str:
        """A new one-time WebSocket URL, as ``apps.connections.open`` answers it."""
        ticket = secrets.token_hex(16)
        with self._cond:
            self._tickets[ticket] = time.monotonic()
            self.tickets_issued += 1
        return f"ws://{HOST}:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    # -- what tests and the console look at ----------------------------------------------------

    def live(self) -> list[Connection]:
        """Open connections that said hello, oldest first."""
        with self._cond:
            return [c for c in self.connections if c.ready and not c.closed]

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait (at most ``timeout`` s) until ``predicate()`` holds; checked on every change."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_connected(self, timeout: float = 10.0, *, newer_than: Connection | None = None) -> Connection:
        """The newest ready connection (one opened after ``newer_than``, if given); raise on timeout."""

        def found() -> bool:
            conn = self._current()
            return conn is not None and (newer_than is None or conn.id > newer_than.id)

        if not self.wait_until(found, timeout):
            raise TimeoutError(f"no new Socket Mode connection within {timeout:.0f} s")
        conn = self._current()
        assert conn is not None
        return conn

    def unacked(self) -> list[Envelope]:
        with self._cond:
            return [e for e in self.envelopes if not e.acked]

    # -- sending -------------------------------------------------------------------------------

    def _current(self) -> Connection | None:
        with self._cond:
            live = [c for c in self.connections if c.ready and not c.closed and not c.retiring]
            return live[-1] if live else None

    def deliver(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int | None = None,
        wait: float | None = 30.0,
        connect_timeout: float = 0.0,
    ) -> Envelope:
        """Send one envelope on the newest connection; wait up to ``wait`` s for its ack (None: don't).

        Raises ``NotConnectedError`` when no app is connected within ``connect_timeout`` s.
        """
        if kind not in ENVELOPE_TYPES:
            raise ValueError(f"envelope type must be one of {ENVELOPE_TYPES}, not {kind!r}")
        if connect_timeout > 0:
            self.wait_until(lambda: self._current() is not None, connect_timeout)
        conn = self._current()
        if conn is None:
            raise NotConnectedError("no app is connected over Socket Mode")
        if accepts_response_payload is None:
            accepts_response_payload = kind == "slash_commands" or (
                kind == "interactive" and payload.get("type") in _RESPONDING_PAYLOADS
            )
        env = Envelope(str(uuid.uuid4()), kind, payload, accepts_response_payload, conn.id, retry_attempt=retry_attempt)
        with self._cond:
            self.envelopes.append(env)
        conn.send_json(env.message())
        if wait:
            env.wait(wait)
        return env

    def disconnect(self, reason: str = "refresh_requested", *, grace_s: float = RETIRE_GRACE_S) -> Connection:
        """Ask the app to reconnect (``{"type": "disconnect", "reason": …}``) on its newest connection.

        The connection is closed once the app has a new one, or after ``grace_s``.
        """
        conn = self._current()
        if conn is None:
            raise NotConnectedError("no app is connected over Socket Mode")
        conn.send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-sandbox"}})
        with self._cond:
            conn.retiring = True
            conn.disconnects.append(reason)
            self._cond.notify_all()
        timer = threading.Timer(grace_s, conn.close, args=(1000, "refreshed"))
        timer.daemon = True
        timer.start()
        self._note(f"asked connection #{conn.id} to reconnect ({reason})")
        return conn

    def drop(self, code: int = 1001, reason: str = "going away") -> Connection:
        """Close the newest connection (close frame, then the socket), as a Slack restart would."""
        conn = self._current()
        if conn is None:
            raise NotConnectedError("no app is connected over Socket Mode")
        conn.close(code, reason)
        with self._cond:
            self._cond.notify_all()
        self._note(f"dropped connection #{conn.id}")
        return conn

    # -- serving -------------------------------------------------------------------------------

    def _note(self, text: str) -> None:
        if self.on_note is not None:
            self.on_note(text)

    def _spawn(self, target: Callable[..., None], name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            listener = self._listener
            if listener is None:
                return
            try:
                sock, addr = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed by stop()
            sock.settimeout(None)
            with self._cond:
                conn = Connection(len(self.connections) + 1, sock, f"{addr[0]}:{addr[1]}")
                self.connections.append(conn)
            self._spawn(self._serve, f"socket-mode-{conn.id}", conn)

    def _serve(self, conn: Connection) -> None:
        reader = _Reader(conn.sock)
        try:
            if self._handshake(conn, reader):
                self._read_loop(conn, reader)
        except ProtocolError as exc:
            conn.close(exc.code, exc.reason)
        except (ConnectionError, OSError):
            if not conn.closed:
                conn.closed_by = "network"
        finally:
            conn.close(1000, "")
            with self._cond:
                self._cond.notify_all()

    def _handshake(self, conn: Connection, reader: _Reader) -> bool:
        """Answer the opening handshake (101 + hello) or refuse it (HTTP 400/401). True when open."""
        head = reader.until(b"\r\n\r\n", 16384).decode("latin-1")
        request_line, *lines = head.split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        method, _, rest = request_line.partition(" ")
        target = rest.rpartition(" ")[0]
        parts = urlsplit(target)
        ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
        problem = None
        if method != "GET" or not parts.path.startswith("/link"):
            problem = "400 Bad Request", f"not a Socket Mode URL: {method} {parts.path}"
        elif (
            headers.get("upgrade", "").lower() != "websocket" or "upgrade" not in headers.get("connection", "").lower()
        ):
            problem = "400 Bad Request", "not a WebSocket upgrade"
        elif headers.get("sec-websocket-version") != "13" or not headers.get("sec-websocket-key"):
            problem = "400 Bad Request", "Sec-WebSocket-Version 13 and a Sec-WebSocket-Key are required"
        elif not self._take_ticket(ticket):
            problem = "401 Unauthorized", "unknown, used or expired ticket: call apps.connections.open again"
        if problem is not None:
            status, why = problem
            body = why.encode()
            with self._cond:  # recorded before the answer: whoever reads the answer sees the record
                self.refused.append(why)
            conn.sock.sendall(
                f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n".encode()
                + body
            )
            return False
        conn.sock.sendall(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_key(headers['sec-websocket-key'])}\r\n\r\n".encode()
        )
        hello = {
            "type": "hello",
            "num_connections": len(self.live()) + 1,
            "debug_info": {"host": "applink-sandbox", "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }
        conn.send_json(hello)
        with self._cond:
            conn.ready = True
            retiring = [c for c in self.connections if c.retiring and not c.closed]
            self._cond.notify_all()
        for old in retiring:  # the app has replaced it: close it, as Slack does
            old.close(1000, "refreshed")
        self._note(f"app connected over Socket Mode (connection #{conn.id})")
        return True

    def _take_ticket(self, ticket: str) -> bool:
        with self._cond:
            issued = self._tickets.pop(ticket, None)
        return issued is not None and time.monotonic() - issued <= TICKET_TTL_S

    def _read_loop(self, conn: Connection, reader: _Reader) -> None:
        """Frames until a close; text messages are acks. Long because each opcode has its rule."""
        parts: list[bytes] = []
        while not conn.closed:
            frame = read_frame(reader)
            if frame.opcode == OP_PING:
                conn.pings += 1
                conn.send(OP_PONG, frame.data)
            elif frame.opcode == OP_PONG:
                conn.pongs += 1
            elif frame.opcode == OP_CLOSE:
                code = struct.unpack("!H", frame.data[:2])[0] if len(frame.data) >= 2 else 1005
                if conn.close_code is None:
                    conn.close_code = code
                conn.closed_by = conn.closed_by or "client"
                conn.close(1000 if code == 1005 else code, "")
                return
            elif frame.opcode == OP_CONT and not parts:
                raise ProtocolError(1002, "continuation frame without a message to continue")
            elif frame.opcode in (OP_TEXT, OP_BINARY) and parts:
                raise ProtocolError(1002, "new message before the previous one ended")
            else:
                if frame.opcode == OP_BINARY:
                    raise ProtocolError(1003, "Socket Mode messages are text")
                parts.append(frame.data)
                if sum(len(p) for p in parts) > MAX_MESSAGE:
                    raise ProtocolError(1009, "message too big")
                if frame.fin:
                    data, parts = b"".join(parts), []
                    try:
                        text = data.decode("utf-8")
                    except UnicodeDecodeError:
                        raise ProtocolError(1007, "text message is not UTF-8") from None
                    self._on_text(conn, text)

    def _on_text(self, conn: Connection, text: str) -> None:
        """An ack ``{"envelope_id", "payload"?}`` from the app (anything else is kept in ``stray``)."""
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        eid = message.get("envelope_id") if isinstance(message, dict) else None
        with self._cond:
            env = next((e for e in self.envelopes if e.envelope_id == eid), None)
            if env is None or env.acked or not isinstance(message, dict):
                self.stray.append(text[:500])
                return
            payload = message.get("payload")
            env.ack_payload = payload if isinstance(payload, dict) else None
            env.ack_connection = conn.id
            env.acked_at = time.monotonic()
            env._acked.set()
            self._cond.notify_all()
