"""A minimal AMI client for the simulator tests: raw TCP, the simulator's own frame parser."""

from __future__ import annotations

import asyncio
import contextlib

from cti.sim.protocol import FrameParser, Headers, encode, get


class RawAmi:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.parser = FrameParser()
        self.received: list[Headers] = []
        self._pending: list[Headers] = []
        self.closed = False

    @classmethod
    async def connect(cls, port: int) -> RawAmi:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def send(self, action: Headers) -> None:
        self.writer.write(encode(action))

    async def _fill(self, wait: float) -> bool:
        try:
            data = await asyncio.wait_for(self.reader.read(65536), wait)
        except TimeoutError:
            return False
        if not data:
            self.closed = True
            return False
        for m in self.parser.feed(data):
            self.received.append(m)
            self._pending.append(m)
        return True

    async def next(self, wait: float = 5.0) -> Headers:
        while not self._pending:
            if self.closed or not await self._fill(wait):
                raise AssertionError("no message from the simulator")
        return self._pending.pop(0)

    async def response(self, action_id: str, wait: float = 5.0) -> Headers:
        while True:
            m = await self.next(wait)
            if get(m, "Response") and get(m, "ActionID") == action_id:
                return m

    async def event(self, name: str, wait: float = 5.0) -> Headers:
        while True:
            m = await self.next(wait)
            if get(m, "Event") == name:
                return m

    async def drain(self, quiet: float = 0.05) -> None:
        """Read until the simulator has been quiet for ``quiet`` seconds or closed the socket."""
        while not self.closed and await self._fill(quiet):
            pass

    async def read_to_eof(self, wait: float = 5.0) -> None:
        while not self.closed:
            if not await self._fill(wait):
                break

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()
