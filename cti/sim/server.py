"""The AMI side of the simulator: a TCP server speaking Asterisk 22's manager protocol, its
sessions and logins. The actions a session answers are :mod:`cti.sim.actions`."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

from cti.config import Secret
from cti.sim.actions import ACTIONS, APP_QUEUE_ACTIONS
from cti.sim.model import ALL, SECURITY, SYSTEM, parse_mask
from cti.sim.pbx import Pbx
from cti.sim.protocol import FrameParser, Headers, encode, get

log = logging.getLogger(__name__)

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
# A client that lets this much pile up unread is dropped, as Asterisk drops slow readers.
MAX_BACKLOG = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class AmiUser:
    """A manager.conf user: its secret and read/write permission masks (``all``, ``call,agent``…)."""

    secret: Secret
    read: str = "all"
    write: str = "all"


def default_users() -> dict[str, AmiUser]:
    """The capture PBX's users: ``cti`` (read/write all) and ``readonly`` (read all, write none)."""
    return {
        "cti": AmiUser(Secret("ctisecret")),
        "readonly": AmiUser(Secret("ro"), write=""),
    }


class AmiSession:
    """One manager connection."""

    def __init__(
        self, server: AmiServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.authenticated = False
        self.username = ""
        self.readperm = 0
        self.writeperm = 0
        self.send_events = ALL
        self.session_id = f"0x{id(self):x}"
        self.session_tv = ""
        sock = writer.get_extra_info("sockname") or ("127.0.0.1", 0)
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        self.local = f"IPV4/TCP/{sock[0]}/{sock[1]}"
        self.remote = f"IPV4/TCP/{peer[0]}/{peer[1]}"
        self.closing = False

    # --- output --------------------------------------------------------------------------

    def on_event(self, cat: int, frame: bytes) -> None:
        if self.closing or not self.authenticated or not (cat & self.readperm & self.send_events):
            return
        self.write(frame)

    def write(self, data: bytes) -> None:
        if self.closing:
            return
        self.writer.write(data)
        transport = self.writer.transport
        if transport.get_write_buffer_size() > MAX_BACKLOG:
            log.warning("AMI client %s is not reading; dropping it", self.remote)
            self.close()

    def close(self) -> None:
        if not self.closing:
            self.closing = True
            self.writer.close()

    def respond(
        self, m: Headers, response: str, message: str | None = None, extra: Headers | None = None
    ) -> None:
        out: Headers = [("Response", response)]
        aid = get(m, "ActionID")
        if aid:
            out.append(("ActionID", aid))
        if message is not None:
            out.append(("Message", message))
        if extra:
            out.extend(extra)
        self.write(encode(out))

    def ok(self, m: Headers, message: str) -> None:
        self.respond(m, "Success", message)

    def error(self, m: Headers, message: str) -> None:
        self.respond(m, "Error", message)

    def security_event(self, name: str, severity: str, extra: Headers) -> None:
        now = self.server.tv()
        self.server.pbx.emit(
            name,
            SECURITY,
            [
                ("EventTV", now),
                ("Severity", severity),
                ("Service", "AMI"),
                ("EventVersion", "1"),
                ("AccountID", self.username),
                ("SessionID", self.session_id),
                ("LocalAddress", self.local),
                ("RemoteAddress", self.remote),
                *extra,
            ],
        )

    def request_bad_format(self, action: str) -> None:
        """``RequestBadFormat`` as Asterisk 22 sends it: its AccountID comes last."""
        self.server.pbx.emit(
            "RequestBadFormat",
            SECURITY,
            [
                ("EventTV", self.server.tv()),
                ("Severity", "Error"),
                ("Service", "AMI"),
                ("EventVersion", "1"),
                ("SessionID", self.session_id),
                ("LocalAddress", self.local),
                ("RemoteAddress", self.remote),
                ("RequestType", f"Action: {action}"),
                ("SessionTV", self.session_tv),
                ("AccountID", self.username),
            ],
        )

    # --- input ---------------------------------------------------------------------------

    async def run(self) -> None:
        parser = FrameParser()
        self.write(BANNER)
        try:
            while not self.closing:
                data = await self.reader.read(65536)
                if not data:
                    break
                for message in parser.feed(data):
                    if self.closing:
                        break
                    keep = await self.handle(message)
                    if not keep:
                        await self.writer.drain()
                        self.close()
                        break
        except (ConnectionError, asyncio.IncompleteReadError):
            return  # the client went away; close below
        finally:
            self.close()

    async def handle(self, m: Headers) -> bool:
        action = get(m, "Action").strip()
        if not action:
            self.error(m, "Missing action in request")
            return True
        key = action.lower()
        if not self.authenticated and key not in ("login", "logoff", "challenge"):
            self.error(m, "Permission denied")
            return True
        if key == "login":
            return await self.login(m)
        spec = ACTIONS.get(key)
        if spec is None or (key in APP_QUEUE_ACTIONS and not self.server.booted):
            # While Asterisk boots after a restart, app_queue is not loaded yet: its actions do
            # not exist (capture pbx_restart_idle).
            self.error(
                m,
                f"Invalid/unknown command: {action}. Use Action: ListCommands to show available commands.",
            )
            self.request_bad_format(action)
            return True
        authority, fn = spec
        if authority and not (self.writeperm & authority):
            self.error(m, "Permission denied")
            self.security_event(
                "RequestNotAllowed",
                "Error",
                [("RequestType", f"Action: {action}"), ("SessionTV", self.session_tv)],
            )
            return True
        return fn(self, m)

    async def login(self, m: Headers) -> bool:
        if self.authenticated:
            self.ok(m, "Already authenticated")
            return True
        username = get(m, "Username")
        user = self.server.users.get(username)
        secret = get(m, "Secret")
        if user is None or not hmac.compare_digest(user.secret.reveal().encode(), secret.encode()):
            # Asterisk sleeps a second before refusing, then closes the session.
            await asyncio.sleep(self.server.login_failure_delay)
            self.error(m, "Authentication failed")
            return False
        self.username = username
        self.readperm = parse_mask(user.read) or 0
        self.writeperm = parse_mask(user.write) or 0
        events = get(m, "Events")
        if events:
            mask = parse_mask(events)
            self.send_events = mask if mask is not None else 0
        self.authenticated = True
        self.session_tv = self.server.tv()
        self.ok(m, "Authentication accepted")
        if self.send_events & SYSTEM and self.readperm & SYSTEM and self.server.booted:
            # Logged in while Asterisk still boots: FullyBooted comes later, when it is.
            up = int(self.server.pbx.scheduler.now() - self.server.booted_at)
            self.write(
                encode(
                    [
                        ("Event", "FullyBooted"),
                        ("Privilege", "system,all"),
                        ("Uptime", str(up)),
                        ("LastReload", str(up)),
                        ("Status", "Fully Booted"),
                    ]
                )
            )
        self.security_event(
            "SuccessfulAuth",
            "Informational",
            [("UsingPassword", "0"), ("SessionTV", self.session_tv)],
        )
        return True


class AmiServer:
    """Accepts manager connections and wires each session to the PBX's event stream."""

    def __init__(
        self, pbx: Pbx, users: dict[str, AmiUser], *, login_failure_delay: float = 1.0
    ) -> None:
        self.pbx = pbx
        self.users = users
        self.login_failure_delay = login_failure_delay
        self.sessions: set[AmiSession] = set()
        self.started = datetime.fromtimestamp(pbx.epoch, UTC)
        # Simulated time at which this Asterisk was fully booted (Uptime counts from it).
        self.booted_at = -13.0
        self.booted = True
        self._server: asyncio.Server | None = None
        self._addresses: list[tuple[int, tuple[str, int]]] = []
        self._listening: asyncio.Task[None] | None = None
        self._extra: list[asyncio.Server] = []
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()

    def tv(self) -> str:
        t = datetime.fromtimestamp(self.pbx.now_epoch(), UTC)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._accept, host, port)
        self._addresses = [(sock.family, sock.getsockname()[:2]) for sock in self._server.sockets]
        return int(self._server.sockets[0].getsockname()[1])

    # --- a restart or a crash ----------------------------------------------------------------

    def go_down(self) -> None:
        """The Asterisk process ends: every manager session's socket closes and new connections
        are refused until :meth:`listen_again`."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for session in list(self.sessions):
            session.close()
        self.booted = False

    def listen_again(self) -> None:
        """The new process listens on the same address (logins are accepted at once, before it
        is fully booted)."""
        if self._closed:
            return
        socks = []
        for family, address in self._addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(100)
            sock.setblocking(False)
            socks.append(sock)

        async def serve() -> None:
            servers = [await asyncio.start_server(self._accept, sock=sock) for sock in socks]
            self._server = servers[0]
            self._extra = servers[1:]

        self._listening = asyncio.get_running_loop().create_task(serve())

    def fully_booted(self) -> None:
        self.booted = True
        self.booted_at = self.pbx.scheduler.now()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AmiSession(self, reader, writer)
        self.sessions.add(session)
        self.pbx.listeners.append(session.on_event)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
            with contextlib.suppress(ValueError):
                self.pbx.listeners.remove(session.on_event)
            if task is not None:
                self._tasks.discard(task)

    async def close(self) -> None:
        self._closed = True
        if self._listening is not None:
            with contextlib.suppress(Exception):
                await self._listening
        for extra in self._extra:
            extra.close()
        if self._server is not None:
            self._server.close()
        for s in list(self.sessions):
            s.close()
            s.reader.feed_eof()  # lets each session's read loop end by itself
        tasks = list(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=2.0)
            for t in pending:
                t.cancel()
            for t in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
        if self._server is not None:
            await self._server.wait_closed()
