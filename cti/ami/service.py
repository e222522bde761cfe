"""``AmiService``: the one object the rest of cti uses to reach its PBXes.

One :class:`~cti.ami.link.PbxLink` per PBX pushes typed events into one bounded, ordered queue;
one consumer task applies them to each PBX's :class:`~cti.domain.state.PbxState` and hands the
resulting notices to subscribers, in order. When the queue reaches ``queue_size`` the links stop
reading their sockets (TCP backpressure) until it has drained to half.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from cti.ami.actions import action_for
from cti.ami.frames import DEFAULT_MAX_FRAME
from cti.ami.link import PbxLink
from cti.clock import Clock, SystemClock
from cti.config import AmiServerSettings
from cti.domain.commands import Command, Originate, OriginateResult, Response
from cti.domain.events import ActionId, ChannelState, OriginateOutcome, PbxEvent, UniqueId
from cti.domain.notices import AnyNotice, LinkChanged, LinkStatus, OriginateFinished, StateResynced
from cti.domain.softphone import PbxWarning
from cti.domain.state import ACTION_ID_VARIABLE, PbxState
from cti.errors import AmiError, AmiRemoteError, AmiUsageError

log = logging.getLogger(__name__)

Listener = Callable[[AnyNotice], None]

# An anomaly-triggered resync at most this often per PBX.
RESYNC_COOLDOWN_SECONDS = 5.0
# At most this many channels are asked for CTI_ACTION_ID when reconciling one originate.
RECONCILE_GETVARS = 50


@dataclass(slots=True)
class _Marker:
    future: asyncio.Future[None]


class _Tick:
    __slots__ = ()


_TICK = _Tick()

# What the one consumer reads: a PBX's event, a link going up or down, a flush marker, a tick.
_Item = PbxEvent | LinkChanged | _Marker | _Tick


@dataclass(slots=True)
class _PendingOriginate:
    pbx: str
    request: Originate
    future: asyncio.Future[OriginateResult]
    session: int
    deadline: float


class AmiService:
    """Links to every configured PBX, their live state, commands and notices.

    Args:
        servers: the PBXes to reach.
        clock: where event times come from (``SystemClock`` by default).
        queue_size: events held before the links stop reading their sockets.
    """

    def __init__(
        self,
        servers: Sequence[AmiServerSettings],
        *,
        clock: Clock | None = None,
        queue_size: int = 10000,
        max_frame: int = DEFAULT_MAX_FRAME,
    ) -> None:
        names = [s.name for s in servers]
        if len(set(names)) != len(names):
            raise AmiUsageError(f"PBX names must be unique, got {names}")
        if queue_size < 2:
            raise AmiUsageError("queue_size must be at least 2")
        self._clock: Clock = clock or SystemClock()
        self._settings = {s.name: s for s in servers}
        self._queue_size = queue_size
        self._max_frame = max_frame
        self._states = {s.name: PbxState(s.name) for s in servers}
        self._links: dict[str, PbxLink] = {}
        self._queue: deque[tuple[str, _Item]] = deque()
        self._wakeup: asyncio.Event | None = None
        self._paused = False
        self._listeners: list[Listener] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._helpers: set[asyncio.Task[None]] = set()
        self._originates: dict[ActionId, _PendingOriginate] = {}
        self._last_anomaly_resync: dict[str, float] = {}
        self._running = False

    # --- lifecycle ----------------------------------------------------------------------------------

    async def __aenter__(self) -> AmiService:
        if self._running:
            raise AmiUsageError("AmiService is already running")
        self._running = True
        loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        for name, settings in self._settings.items():
            link = PbxLink(
                settings,
                clock=self._clock,
                sink=self._enqueue,
                on_status=self._on_status,
                max_frame=self._max_frame,
            )
            self._links[name] = link
            self._tasks.append(loop.create_task(link.run(), name=f"ami-link-{name}"))
        self._tasks.append(loop.create_task(self._consume(), name="ami-consumer"))
        self._tasks.append(loop.create_task(self._ticker(), name="ami-ticker"))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tasks = self._tasks + list(self._helpers)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._helpers.clear()
        for pending in self._originates.values():
            if not pending.future.done():
                pending.future.cancel()
        self._originates.clear()
        self._running = False

    # --- queries ------------------------------------------------------------------------------------

    def status(self) -> dict[str, Literal["connected", "disconnected"]]:
        """Each PBX's link status."""
        return {
            name: "connected"
            if (link := self._links.get(name)) is not None and link.connected
            else "disconnected"
            for name in self._settings
        }

    def warnings(self) -> dict[str, tuple[PbxWarning, ...]]:
        """What is wrong with each PBX's own configuration, by PBX (none: empty)."""
        return {name: link.warnings for name, link in self._links.items() if link.warnings}

    def state(self, pbx: str) -> PbxState:
        """The current reduced state of ``pbx``; read it, never change it."""
        try:
            return self._states[pbx]
        except KeyError:
            raise AmiUsageError(
                f"unknown PBX {pbx!r}; configured: {', '.join(self._settings)}"
            ) from None

    def snapshot(self) -> dict[str, Any]:
        """Everything cti believes about its PBXes, JSON-ready."""
        status = self.status()
        return {
            "pbxs": [
                {**self._states[name].snapshot(), "status": status[name]} for name in self._settings
            ]
        }

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every notice, in order; returns the unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    # --- commands -----------------------------------------------------------------------------------

    def _link(self, pbx: str) -> PbxLink:
        if not self._running:
            raise AmiUsageError("AmiService is not running (use 'async with')")
        link = self._links.get(pbx)
        if link is None:
            raise AmiUsageError(f"unknown PBX {pbx!r}; configured: {', '.join(self._settings)}")
        return link

    async def send(self, pbx: str, command: Command) -> Response:
        """Send a command and return the PBX's answer.

        Raises:
            AmiRemoteError: the PBX refused it (the message says why) or the link is down.
            AmiTimeoutError: no answer within the PBX's ``action_timeout``.
        """
        if isinstance(command, Originate):
            response, _ = await self._start_originate(pbx, command)
            return response
        return await self._link(pbx).send(command)

    async def originate(self, pbx: str, req: Originate) -> OriginateResult:
        """Place a call and wait for its outcome. Never sent twice, even across reconnects."""
        _, pending = await self._start_originate(pbx, req)
        return await asyncio.shield(pending.future)

    async def _start_originate(
        self, pbx: str, req: Originate
    ) -> tuple[Response, _PendingOriginate]:
        link = self._link(pbx)
        if not link.connected:
            raise AmiRemoteError(f"PBX {pbx!r} is not connected; the call was not placed")
        aid = link.next_action_id("orig")
        loop = asyncio.get_running_loop()
        pending = _PendingOriginate(
            pbx=pbx,
            request=req,
            future=loop.create_future(),
            session=link.session,
            deadline=loop.time() + req.timeout + 2 * self._settings[pbx].action_timeout + 5,
        )
        self._originates[aid] = pending
        try:
            frames = await link.request(action_for(req, aid))
        except AmiRemoteError as exc:
            if "refused" in str(exc):
                self._originates.pop(aid, None)
                raise
            # Sent, but the answer was lost with the link: its fate is reconciled after the resync.
            log.warning(
                "PBX %r: originate %s sent, answer lost (%s); will reconcile", pbx, aid, exc
            )
            return (
                Response(ok=True, message="answer lost; reconciling", headers={}, action_id=aid),
                pending,
            )
        first = frames[0]
        return Response(
            ok=True, message=first.get("Message", ""), headers=dict(first), action_id=aid
        ), pending

    async def flush(self, pbx: str | None = None) -> None:
        """Wait until every event the PBX(es) sent before now has been applied."""
        names = [pbx] if pbx is not None else list(self._settings)
        for name in names:
            link = self._link(name)
            if link.connected:
                with contextlib.suppress(AmiError):
                    await link.request({"Action": "Ping", "ActionID": link.next_action_id("flush")})
        loop = asyncio.get_running_loop()
        marker = _Marker(loop.create_future())
        self._put(("", marker))
        await marker.future

    async def resync(self, pbx: str) -> None:
        """Rebuild ``pbx``'s state from its lists now, and wait until it is applied."""
        await self._link(pbx).resync()
        await self.flush(pbx)

    # --- the queue ------------------------------------------------------------------------------------

    def _put(self, item: tuple[str, _Item]) -> None:
        self._queue.append(item)
        if self._wakeup is not None:
            self._wakeup.set()
        if not self._paused and len(self._queue) >= self._queue_size:
            self._paused = True
            for link in self._links.values():
                link.pause_reading(True)

    def _enqueue(self, pbx: str, event: PbxEvent) -> None:
        self._put((pbx, event))

    def _on_status(self, pbx: str, up: bool) -> None:
        status = LinkStatus.CONNECTED if up else LinkStatus.DISCONNECTED
        self._put((pbx, LinkChanged(pbx=pbx, at=self._clock.now(), status=status)))

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self._put(("", _TICK))
            now = asyncio.get_running_loop().time()
            for aid, pending in list(self._originates.items()):
                if now >= pending.deadline:
                    log.warning("PBX %r: originate %s got no outcome in time", pending.pbx, aid)
                    self._resolve(aid, OriginateOutcome.UNKNOWN)

    async def _consume(self) -> None:
        assert self._wakeup is not None
        wakeup = self._wakeup
        queue = self._queue
        states = self._states
        while True:
            if not queue:
                wakeup.clear()
                await wakeup.wait()
                continue
            pbx, item = queue.popleft()
            if self._paused and len(queue) <= self._queue_size // 2:
                self._paused = False
                for link in self._links.values():
                    link.pause_reading(False)
            try:
                if isinstance(item, _Marker):
                    if not item.future.done():
                        item.future.set_result(None)
                    continue
                if isinstance(item, _Tick):
                    now = self._clock.now()
                    for state in states.values():
                        self._deliver(state.tick(now))
                    continue
                if isinstance(item, LinkChanged):
                    self._deliver([item])
                    continue
                state = states[pbx]
                notices = state.apply(item)
                if notices:
                    self._deliver(notices)
                if state.resync_wanted:
                    self._maybe_resync(pbx)
            except Exception:
                log.exception("PBX %r: handling %s failed", pbx, type(item).__name__)
            # Let the links and other tasks run between large batches.
            if len(queue) > 0 and len(queue) % 1024 == 0:
                await asyncio.sleep(0)

    def _deliver(self, notices: list[AnyNotice]) -> None:
        for notice in notices:
            if isinstance(notice, OriginateFinished):
                self._originate_finished(notice)
            elif isinstance(notice, StateResynced):
                self._spawn(self._reconcile(notice.pbx))
            for listener in tuple(self._listeners):
                try:
                    listener(notice)
                except Exception:
                    log.exception(
                        "notice listener %r failed on %s", listener, type(notice).__name__
                    )

    def _maybe_resync(self, pbx: str) -> None:
        link = self._links.get(pbx)
        if link is None or not link.connected or link.resyncing:
            return
        now = self._clock.monotonic()
        if now - self._last_anomaly_resync.get(pbx, -1e9) < RESYNC_COOLDOWN_SECONDS:
            return
        self._last_anomaly_resync[pbx] = now
        link.request_resync()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._helpers.add(task)
        task.add_done_callback(self._helpers.discard)

    # --- originate outcomes ---------------------------------------------------------------------------

    def _originate_finished(self, notice: OriginateFinished) -> None:
        pending = self._originates.pop(notice.action_id, None)
        if pending is None or pending.future.done():
            return
        pending.future.set_result(
            OriginateResult(
                action_id=notice.action_id,
                outcome=notice.outcome,
                reason_code=notice.reason_code,
                uniqueid=notice.uniqueid,
            )
        )

    def _resolve(
        self, aid: ActionId, outcome: OriginateOutcome, uniqueid: UniqueId | None = None
    ) -> None:
        pending = self._originates.pop(aid, None)
        if pending is None or pending.future.done():
            return
        log.info("PBX %r: originate %s settled without its answer: %s", pending.pbx, aid, outcome)
        pending.future.set_result(
            OriginateResult(
                action_id=aid, outcome=outcome, reason_code=None, uniqueid=uniqueid, reconciled=True
            )
        )

    async def _reconcile(self, pbx: str) -> None:
        """After a resync: settle originates sent on an earlier session whose outcome never came."""
        link = self._links[pbx]
        state = self._states[pbx]
        for aid, pending in list(self._originates.items()):
            if pending.pbx != pbx or pending.session == link.session or pending.future.done():
                continue
            found = [c for c in state.channels.values() if c.action_id == aid]
            if not found:
                prefix = pending.request.channel + "-"
                candidates = [
                    c
                    for c in state.channels.values()
                    if c.action_id is None and c.name.startswith(prefix)
                ][:RECONCILE_GETVARS]
                for ch in candidates:
                    try:
                        value = await link.getvar(ch.name, ACTION_ID_VARIABLE)
                    except AmiError:
                        value = None
                    if value == aid:
                        ch.action_id = aid
                        found.append(ch)
                        break
            if any(c.state is ChannelState.UP for c in found):
                self._resolve(aid, OriginateOutcome.ANSWERED, found[0].uniqueid)
            # Otherwise it is still ringing or not yet started: Asterisk broadcasts its
            # OriginateResponse to this session too; past its deadline it is reported UNKNOWN.
