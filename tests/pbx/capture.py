"""Record an AMI capture from a real Asterisk, in the format of ``../shared/ami-transcripts``.

``NAME.ami`` gets every byte the client received, CRLF intact, in arrival order (a reconnect
appends the new session's banner and traffic to the same file). ``NAME.ami.sent`` gets the actions
the client sent, each after a ``--- t=+S.SSSs`` line (seconds since the first connect), and one
marker line for each step taken outside AMI::

    --- t=+1.503s SIP: agent1 register
    --- t=+2.004s SIP: carrier call 5000 from 2025550199 "Dora"
    --- t=+9.010s ASTERISK: core restart now
    --- t=+9.950s RECONNECT

The recorder logs in as ``cti`` with no ``Events`` filter, as the shared captures did, so it sees
the dialplan (``Newexten``, ``VarSet``) too. ``tests/captures/record.py`` drives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from cti.sim.protocol import FrameParser, Headers, encode, get

Action = Sequence[tuple[str, str]]


class CaptureError(AssertionError):
    """What the recording expected did not happen."""


class AmiRecorder:
    """One capture: an AMI client that writes what it receives and what it sends.

    Args:
        path: the capture's ``.ami`` file (``.ami.sent`` goes next to it); both are overwritten.
        port: the AMI port on 127.0.0.1.
        username, secret: the AMI user (``cti``).
    """

    def __init__(self, path: Path, *, port: int, username: str, secret: str) -> None:
        self.path = path
        self.sent_path = path.with_name(path.name + ".sent")
        self.port = port
        self.username = username
        self.secret = secret
        self.messages: list[Headers] = []  # every message received, all sessions, in order
        self.session_starts: list[int] = []  # index in ``messages`` where each session begins
        self._ami: IO[bytes] = path.open("wb")
        self._sent: IO[str] = self.sent_path.open("w", newline="\n")
        self._loop = asyncio.get_running_loop()
        self._t0: float | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._parser = FrameParser()
        self._changed = asyncio.Event()
        self._closed = asyncio.Event()
        self._ids = itertools.count(1)

    # --- life ---------------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path, *, port: int, username: str, secret: str) -> AmiRecorder:
        """Connect and log in (``login-1``)."""
        rec = cls(path, port=port, username=username, secret=secret)
        await rec.connect()
        await rec.login()
        return rec

    async def __aenter__(self) -> AmiRecorder:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def now(self) -> float:
        """Seconds since the first connect."""
        return 0.0 if self._t0 is None else self._loop.time() - self._t0

    async def connect(self, *, within: float = 60.0, retry: float = 0.05) -> None:
        """Open the socket (retrying while Asterisk refuses connections) and wait for the banner."""
        deadline = self._loop.time() + within
        while True:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                break
            except OSError:
                if self._loop.time() > deadline:
                    raise CaptureError(f"AMI port {self.port} refused for {within:g} s") from None
                await asyncio.sleep(retry)
        if self._t0 is None:
            self._t0 = self._loop.time()
        self._reader, self._writer = reader, writer
        self._parser = FrameParser()  # a new session starts a new byte stream
        self._closed = asyncio.Event()
        self.session_starts.append(len(self.messages))
        self._task = self._loop.create_task(self._read(reader), name=f"capture-{self.path.stem}")
        await self.wait_for(lambda m: m[0][0].startswith("Asterisk Call Manager"), within=10)

    async def reconnect(self, *, within: float = 60.0) -> None:
        """After the PBX dropped the socket: ``RECONNECT`` in ``.sent``, connect again, log in."""
        await self.wait_closed(within)
        while True:
            # Connection refused while Asterisk is down: connect() retries. The marker is written
            # once a banner came (a stopping Asterisk may still accept and drop a connection).
            await self.connect(within=within)
            self._mark("RECONNECT")
            try:
                await self.login()
                return
            except CaptureError:
                if not self._closed.is_set():
                    raise
                await asyncio.sleep(0.05)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._ami.close()
        self._sent.close()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                self._ami.write(data)
                self._ami.flush()
                self.messages.extend(self._parser.feed(data))
                self._changed.set()
        except ConnectionError:
            pass
        finally:
            self._closed.set()
            self._changed.set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def wait_closed(self, within: float = 30.0) -> None:
        """Wait until the PBX closes the socket."""
        try:
            async with asyncio.timeout(within):
                await self._closed.wait()
        except TimeoutError:
            raise CaptureError(f"the AMI socket is still open after {within:g} s") from None

    # --- what is sent -------------------------------------------------------------------------

    def _mark(self, what: str = "") -> None:
        suffix = f" {what}" if what else ""
        self._sent.write(f"--- t=+{self.now():.3f}s{suffix}\n")
        self._sent.flush()

    def note(self, kind: str, text: str) -> None:
        """A step outside AMI: ``note("SIP", "agent1 register")``, ``note("ASTERISK", "kill")``."""
        self._mark(f"{kind}: {text}")

    def send(self, action: str, *headers: tuple[str, str], action_id: str = "") -> str:
        """Send one action (its ActionID second, as the shared captures have it); the ActionID."""
        if self._writer is None or self.closed:
            raise CaptureError(f"cannot send {action}: the AMI socket is closed")
        aid = action_id or f"{action.lower()}-{next(self._ids)}"
        frame: list[tuple[str, str]] = [("Action", action), ("ActionID", aid), *headers]
        self._mark()
        self._sent.write("".join(f"{k}: {v}\n" for k, v in frame) + "\n")
        self._sent.flush()
        self._writer.write(encode(frame))
        return aid

    async def login(self) -> Headers:
        aid = self.send(
            "Login",
            ("Username", self.username),
            ("Secret", self.secret),
            action_id=f"login-{len(self.session_starts)}",
        )
        response = await self.response(aid)
        if get(response, "Response") != "Success":
            raise CaptureError(f"login refused: {response}")
        return response

    async def action(
        self, action: str, *headers: tuple[str, str], action_id: str = "", within: float = 10.0
    ) -> list[Headers]:
        """Send an action and wait for its answer: the response, and for a list every item up
        to the ``*Complete`` event."""
        start = len(self.messages)
        aid = self.send(action, *headers, action_id=action_id)
        response = await self.response(aid, within=within, since=start)
        if get(response, "EventList").lower() != "start":
            return [response]
        done = await self.wait_for(
            lambda m: get(m, "ActionID") == aid and get(m, "EventList").lower() == "complete",
            within=within,
            since=start,
        )
        items: list[Headers] = []
        for m in self.messages[start:]:
            if get(m, "ActionID") == aid:
                items.append(m)
                if m is done:
                    break
        return items

    async def response(self, aid: str, *, within: float = 10.0, since: int = 0) -> Headers:
        return await self.wait_for(
            lambda m: bool(get(m, "Response")) and get(m, "ActionID") == aid,
            within=within,
            since=since,
        )

    # --- what is received ---------------------------------------------------------------------

    def mark(self) -> int:
        """The position in ``messages`` now: pass it as ``since`` to wait for what comes next."""
        return len(self.messages)

    async def wait_for(
        self, test: Callable[[Headers], bool], *, within: float = 10.0, since: int | None = None
    ) -> Headers:
        """The first message (from ``since``; default: the current session) that passes ``test``."""
        first = self.session_starts[-1] if since is None else since
        try:
            async with asyncio.timeout(within):
                while True:
                    for m in self.messages[first:]:
                        if test(m):
                            return m
                    first = len(self.messages)
                    if self.closed:
                        raise CaptureError("the AMI socket closed while waiting")
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise CaptureError(f"nothing matched within {within:g} s") from None

    async def event(
        self, name: str, *, within: float = 10.0, since: int | None = None, **headers: str
    ) -> Headers:
        """The first ``name`` event (with those header values) from ``since``."""

        def test(m: Headers) -> bool:
            return get(m, "Event") == name and all(get(m, k) == v for k, v in headers.items())

        return await self.wait_for(test, within=within, since=since)

    async def quiet(self, seconds: float = 0.5, *, within: float = 30.0) -> None:
        """Wait until nothing arrived for ``seconds`` (or the socket closed)."""
        deadline = self._loop.time() + within
        while self._loop.time() < deadline and not self.closed:
            self._changed.clear()
            try:
                async with asyncio.timeout(seconds):
                    await self._changed.wait()
            except TimeoutError:
                return
