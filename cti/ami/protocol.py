"""panoramisk, kept for what it does well, hardened where it does not (GUIDE §5).

Kept: its ``Manager`` (configuration, opening the connection through ``protocol_factory``), its
``AMIProtocol`` (the transport, the registry of actions awaiting an answer) and its ``Action``
(ActionIDs, serialisation, one future per action).

Replaced:
- parsing: :class:`~cti.ami.frames.FrameParser` (incremental UTF-8, bounded frames, malformed
  frames skipped, unused events dropped unread) instead of decoding each read with ``'ignore'``;
- answer matching: by ActionID, a list ends at its ``*Complete`` event, anything else at its
  ``Response``. panoramisk's heuristics wait for a follow-up event after ``Added interface to
  queue`` that Asterisk 22 never sends, so a QueueAdd would hang;
- connection loss: pending actions fail at once and are never re-sent (panoramisk re-sends them
  after reconnecting, which could dial a customer twice); no automatic reconnect (the link does
  it, with backoff);
- keepalive: panoramisk's Ping never checks the answer; ours (in the link) does;
- the boundary: an exception while handling one frame is logged and never drops the connection,
  and nothing is logged with an action's content (a Login carries the secret).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from panoramisk import Manager
from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol

from cti.ami.frames import Frame, FrameParser

log = logging.getLogger(__name__)


class _Everything(tuple[str, ...]):
    """``forgetable_actions`` holding every action name: panoramisk must re-send none."""

    def __contains__(self, item: object) -> bool:
        return True


class CtiProtocol(AMIProtocol):  # type: ignore[misc]
    """panoramisk's protocol with our parser and our answer matching."""

    def __init__(self, parser: FrameParser, on_frame: Callable[[Frame], None]) -> None:
        super().__init__()
        self.version: str | None = None
        self.closed = False
        self.parser = parser
        self.on_frame = on_frame
        self.on_lost: Callable[[Exception | None], None] | None = None

    def send(self, data: Any, as_list: bool = False) -> asyncio.Future[Any]:
        action = data if isinstance(data, Action) else Action(data, as_list=as_list)
        self.responses[action.id] = action
        self.transport.write(str(action).encode("utf-8"))
        future: asyncio.Future[Any] = action.future
        return future

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.parser.feed(data)
        except Exception:
            log.exception("AMI parser failed; bytes dropped")
            return
        if self.version is None and self.parser.banner:
            self.version = self.parser.banner.partition("/")[2].strip()
        on_frame = self.on_frame
        for frame in frames:
            try:
                on_frame(frame)
            except Exception:
                log.exception("handling an AMI frame failed (%s)", frame.get("Event") or "response")

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.close()
            if self.on_lost is not None:
                self.on_lost(exc)

    def close(self) -> None:
        pending = list({id(a): a for a in self.responses.values()}.values())
        self.responses.clear()
        for action in pending:
            if not action.future.done():
                action.future.set_exception(ConnectionResetError("AMI link lost before an answer"))
        if not self.closed:
            self.closed = True
            self.transport.close()


class CtiManager(Manager):  # type: ignore[misc]
    """panoramisk's Manager without its own login, keepalive, reconnect and re-send."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        parser_factory: Callable[[], FrameParser],
        on_frame: Callable[[Frame], None],
    ) -> None:
        self._parser_factory = parser_factory
        self._on_frame = on_frame
        super().__init__(
            host=host,
            port=port,
            loop=asyncio.get_running_loop(),
            protocol_factory=self._make_protocol,
            forgetable_actions=_Everything(),
            encoding="utf-8",
            events="off",
        )

    def _make_protocol(self) -> CtiProtocol:
        return CtiProtocol(self._parser_factory(), self._on_frame)

    async def open(self, within: float) -> CtiProtocol:
        """Open the TCP connection; raises ``OSError`` or ``TimeoutError``."""
        self.protocol = None
        async with asyncio.timeout(within):
            _transport, protocol = await self.connect()
        self._wire(protocol)
        assert isinstance(protocol, CtiProtocol)
        return protocol

    def _wire(self, protocol: Any) -> None:
        if self.protocol is protocol:
            return
        protocol.factory = self
        protocol.encoding = self.encoding = "utf-8"
        protocol.config = self.config
        self.protocol = protocol
        self.responses = protocol.responses

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if f.cancelled() or f.exception() is not None:
            return  # the link awaiting open() sees the error and schedules the retry
        self._wire(f.result()[1])

    def connection_lost(self, exc: Exception | None) -> None:
        """Called by panoramisk's protocol on a ``Shutdown`` event; the link reconnects."""
        if self.protocol is not None:
            self.protocol.connection_lost(exc)

    def ping(self) -> None:
        """Disabled: the link's watchdog pings and checks the answer."""

    def close(self) -> None:
        if self.protocol is not None:
            self.protocol.close()
