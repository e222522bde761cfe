"""One PBX: connect, log in, keep alive, reconnect with backoff, resync after every login."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from cti.ami.actions import ActionHeaders, action_for
from cti.ami.frames import Frame, FrameParser
from cti.ami.protocol import CtiManager, CtiProtocol
from cti.ami.translate import (
    LIST_EVENTS,
    LOGIN_EVENT_CLASSES,
    TRANSLATED_EVENTS,
    listed_channel,
    listed_entry,
    listed_queue,
    listed_summary,
    member_info,
    translate,
)
from cti.clock import Clock
from cti.config import AmiServerSettings
from cti.domain.commands import Command, Response
from cti.domain.events import (
    ActionId,
    ChannelsListed,
    LinkDown,
    ListedChannel,
    ListedEntry,
    MemberInfo,
    PbxEvent,
    QueuesListed,
    SummariesListed,
)
from cti.domain.softphone import PbxWarning, media_ports, media_ports_warning
from cti.errors import AmiError, AmiLoginError, AmiRemoteError, AmiTimeoutError

log = logging.getLogger(__name__)

# While a PBX stays unreachable, remind the log this often (the first failure is always logged).
OUTAGE_REMINDER_SECONDS = 300.0
# Asterisk takes logins while it is still loading its modules (app_queue may not be there yet:
# QueueStatus is then an "Invalid/unknown command"), and says FullyBooted once it is done. The
# resync waits that long for it at most, then goes on.
BOOT_WAIT_SECONDS = 60.0
# A resync that failed (a list refused as an unknown command, a timeout) is tried again this many
# times, this far apart, while the link stays up.
RESYNC_ATTEMPTS = 10
RESYNC_RETRY_SECONDS = 1.0


def _counter() -> Iterator[int]:
    n = 0
    while True:
        n += 1
        yield n


@dataclass(slots=True)
class _ListCollector:
    frames: list[Frame] = field(default_factory=list)
    done: Callable[[list[Frame]], None] | None = None


class PbxLink:
    """The AMI link to one PBX. Frames become events pushed to ``sink`` in arrival order."""

    def __init__(
        self,
        settings: AmiServerSettings,
        *,
        clock: Clock,
        sink: Callable[[str, PbxEvent], None],
        on_status: Callable[[str, bool], None],
        max_frame: int,
    ) -> None:
        self.settings = settings
        self.pbx = settings.name
        self._clock = clock
        self._sink = sink
        self._on_status = on_status
        self._max_frame = max_frame
        self._ids = _counter()
        self._prefix = f"cti-{random.getrandbits(32):08x}"
        self._protocol: CtiProtocol | None = None
        self._lists: dict[str, _ListCollector] = {}
        self.connected = False
        self.session = 0  # bumped at every login; an action's fate is tied to its session
        self._lost: asyncio.Event = asyncio.Event()
        self._resync_task: asyncio.Task[None] | None = None
        self._booted = asyncio.Event()
        self.last_error: str | None = None
        self.resyncing = False
        # What is wrong with the PBX's own configuration, as far as cti can tell (see
        # _check_media_ports); read at every resync.
        self.warnings: tuple[PbxWarning, ...] = ()

    def pause_reading(self, paused: bool) -> None:
        """Stop (or resume) reading the socket while the event queue is full."""
        protocol = self._protocol
        if protocol is not None and not protocol.closed:
            if paused:
                protocol.transport.pause_reading()
            else:
                protocol.transport.resume_reading()

    # --- ids and frames ---------------------------------------------------------------------------

    def next_action_id(self, kind: str = "a") -> ActionId:
        return ActionId(f"{self._prefix}-{kind}-{next(self._ids)}")

    def _on_frame(self, frame: Frame) -> None:
        aid = frame.get("ActionID")
        protocol = self._protocol
        if aid is not None and protocol is not None:
            collector = self._lists.get(aid)
            action = protocol.responses.get(aid)
            if "Response" in frame:
                if action is not None:
                    if collector is not None and frame.get("EventList", "").lower() == "start":
                        collector.frames.append(frame)
                        return  # the rows follow
                    protocol.responses.pop(aid, None)
                    self._lists.pop(aid, None)
                    if not action.future.done():
                        action.future.set_result([frame])
                    return
            elif collector is not None and action is not None:
                collector.frames.append(frame)
                if frame.get("EventList", "").lower() == "complete" or frame["Event"].endswith(
                    "Complete"
                ):
                    protocol.responses.pop(aid, None)
                    self._lists.pop(aid, None)
                    if collector.done is not None:
                        collector.done(collector.frames)  # enqueue in stream order
                    if not action.future.done():
                        action.future.set_result(collector.frames)
                return
        if "Event" in frame:
            if frame["Event"] == "FullyBooted":
                self._booted.set()
                return
            event = translate(frame, self._clock.now())
            if event is not None:
                self._sink(self.pbx, event)

    # --- actions ----------------------------------------------------------------------------------

    async def request(
        self,
        headers: ActionHeaders,
        *,
        within: float | None = None,
        as_list: Callable[[list[Frame]], None] | None = None,
        collect: bool = False,
    ) -> list[Frame]:
        """Send one action; return its answer frames. Raises AmiError subclasses."""
        protocol = self._protocol
        if protocol is None or protocol.closed:
            raise AmiRemoteError(f"PBX {self.pbx!r} is not connected")
        aid = str(headers["ActionID"])
        if as_list is not None or collect:
            self._lists[aid] = _ListCollector(done=as_list)
        future = protocol.send(dict(headers))
        limit = self.settings.action_timeout if within is None else within
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for drops a cancellation that lands in the
            # same loop step as the answer, and a stopping service would then never stop.
            async with asyncio.timeout(limit):
                frames: list[Frame] = await future
        except TimeoutError:
            protocol.responses.pop(aid, None)
            self._lists.pop(aid, None)
            raise AmiTimeoutError(
                f"PBX {self.pbx!r}: no answer to {headers.get('Action')} within {limit:g} s"
            ) from None
        except ConnectionResetError as exc:
            self._lists.pop(aid, None)
            raise AmiRemoteError(f"PBX {self.pbx!r}: {exc}") from None
        first = frames[0]
        if first.get("Response") not in ("Success", "Follows", "Goodbye"):
            raise AmiRemoteError(
                f"PBX {self.pbx!r} refused {headers.get('Action')}: "
                f"{first.get('Message') or first.get('Response') or 'no reason given'}"
            )
        return frames

    async def send(self, command: Command, action_id: ActionId | None = None) -> Response:
        aid = action_id or self.next_action_id()
        frames = await self.request(action_for(command, aid))
        first = frames[0]
        return Response(
            ok=True, message=first.get("Message", ""), headers=dict(first), action_id=aid
        )

    # --- lifecycle --------------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect and stay connected until cancelled."""
        s = self.settings
        attempt = 0
        outage_since: float | None = None
        last_reminder = 0.0
        last_error = ""
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self._session()
                attempt = 0  # the link was up: start the backoff again from the bottom
                error = "connection closed"
            except asyncio.CancelledError:
                raise
            except AmiLoginError as exc:
                error = str(exc)
            except (OSError, TimeoutError, AmiError) as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            self._set_down(error)
            now = loop.time()
            if outage_since is None:
                outage_since = last_reminder = now
                log.warning("PBX %r (%s:%d) unreachable: %s", self.pbx, s.host, s.port, error)
            elif error != last_error:
                log.warning("PBX %r: %s", self.pbx, error)
                last_reminder = now
            elif now - last_reminder >= OUTAGE_REMINDER_SECONDS:
                log.warning(
                    "PBX %r still unreachable after %.0f s: %s", self.pbx, now - outage_since, error
                )
                last_reminder = now
            last_error = error
            delay = min(s.reconnect_max, s.reconnect_min * (2**attempt))
            delay = random.uniform(delay / 2, delay)
            attempt = min(attempt + 1, 30)
            await asyncio.sleep(delay)
            if self.connected:
                outage_since = None

    def _set_down(self, reason: str) -> None:
        self.last_error = reason
        if self._protocol is not None:
            self._protocol.close()
            self._protocol = None
        self._lists.clear()
        if self.connected:
            self.connected = False
            self._sink(self.pbx, LinkDown(at=self._clock.now(), reason=reason))
            self._on_status(self.pbx, False)

    async def _session(self) -> None:
        s = self.settings
        manager = CtiManager(
            host=s.host,
            port=s.port,
            parser_factory=lambda: FrameParser(
                max_frame=self._max_frame,
                wanted_events=TRANSLATED_EVENTS | LIST_EVENTS | {"FullyBooted"},
            ),
            on_frame=self._on_frame,
        )
        self._lost = lost = asyncio.Event()
        self._booted = asyncio.Event()
        protocol = await manager.open(s.action_timeout)
        protocol.on_lost = lambda exc: lost.set()
        self._protocol = protocol
        try:
            await self._login()
            self.session += 1
            self.connected = True
            log.info("PBX %r connected (%s:%d) as %r", self.pbx, s.host, s.port, s.username)
            self._on_status(self.pbx, True)
            self.request_resync()
            await self._watch(lost)
        finally:
            if self._resync_task is not None:
                self._resync_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, AmiError):
                    await self._resync_task
                self._resync_task = None
            protocol.close()

    async def _login(self) -> None:
        s = self.settings
        headers: ActionHeaders = {
            "Action": "Login",
            "ActionID": self.next_action_id("login"),
            "Username": s.username,
            "Secret": s.secret.reveal(),
            "Events": LOGIN_EVENT_CLASSES,
        }
        try:
            await self.request(headers)
        except AmiTimeoutError:
            raise AmiLoginError(self.pbx, s.username, "no answer to Login") from None
        except AmiRemoteError as exc:
            message = str(exc).rpartition(": ")[2]
            raise AmiLoginError(self.pbx, s.username, message) from None

    async def _watch(self, lost: asyncio.Event) -> None:
        """Ping every ``ping_interval``; no answer within ``ping_timeout`` declares the link dead."""
        s = self.settings
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(s.ping_interval):
                    await lost.wait()
                return  # the PBX closed the connection
            try:
                await self.request(
                    {"Action": "Ping", "ActionID": self.next_action_id("ping")},
                    within=s.ping_timeout,
                )
            except AmiTimeoutError:
                raise AmiRemoteError(
                    f"no answer to Ping within {s.ping_timeout:g} s; link declared dead"
                ) from None

    # --- resync -----------------------------------------------------------------------------------

    def request_resync(self) -> None:
        """Rebuild the state from the PBX's lists (once at a time)."""
        if self._resync_task is None or self._resync_task.done():
            self._resync_task = asyncio.get_running_loop().create_task(
                self._resync(), name=f"ami-resync-{self.pbx}"
            )

    async def resync(self) -> None:
        """Resync now and wait until its three lists are in the event queue."""
        self.request_resync()
        assert self._resync_task is not None
        await asyncio.shield(self._resync_task)

    async def _resync(self) -> None:
        self.resyncing = True
        try:
            if not self._booted.is_set():
                try:
                    async with asyncio.timeout(BOOT_WAIT_SECONDS):
                        await self._booted.wait()
                except TimeoutError:
                    log.warning(
                        "PBX %r: no FullyBooted within %.0f s; resynchronising all the same",
                        self.pbx,
                        BOOT_WAIT_SECONDS,
                    )
            for attempt in range(1, RESYNC_ATTEMPTS + 1):
                try:
                    await self._resync_lists()
                    await self._check_media_ports()
                    return
                except AmiError as exc:
                    if attempt == RESYNC_ATTEMPTS or not self.connected:
                        log.warning("PBX %r: resync failed: %s", self.pbx, exc)
                        return
                    log.info("PBX %r: resync failed (%s); trying again", self.pbx, exc)
                await asyncio.sleep(RESYNC_RETRY_SECONDS)
        finally:
            self.resyncing = False

    async def _resync_lists(self) -> None:
        def channels_done(frames: list[Frame]) -> None:
            rows: list[ListedChannel] = []
            for f in frames:
                if f.get("Event") == "CoreShowChannel" and (row := listed_channel(f)) is not None:
                    rows.append(row)
            self._sink(self.pbx, ChannelsListed(at=self._clock.now(), channels=tuple(rows)))

        def queues_done(frames: list[Frame]) -> None:
            members: list[MemberInfo] = []
            entries: list[ListedEntry] = []
            queues = []
            for f in frames:
                name = f.get("Event")
                if name == "QueueParams":
                    queues.append(listed_queue(f))
                elif name == "QueueMember" and f.get("Queue"):
                    members.append(member_info(f))
                elif name == "QueueEntry" and (entry := listed_entry(f)) is not None:
                    entries.append(entry)
            self._sink(
                self.pbx,
                QueuesListed(
                    at=self._clock.now(),
                    queues=tuple(queues),
                    members=tuple(m for m in members if m.interface),
                    entries=tuple(entries),
                ),
            )

        def summaries_done(frames: list[Frame]) -> None:
            rows = tuple(listed_summary(f) for f in frames if f.get("Event") == "QueueSummary")
            self._sink(self.pbx, SummariesListed(at=self._clock.now(), summaries=rows))

        steps: list[tuple[str, Callable[[list[Frame]], None]]] = [
            ("CoreShowChannels", channels_done),
            ("QueueStatus", queues_done),
            ("QueueSummary", summaries_done),
        ]
        # Sent together: Asterisk answers one session's actions in order, and each list goes into
        # the event queue the moment its last row arrives, in order with the live events.
        waits = []
        for action, done in steps:
            headers: ActionHeaders = {"Action": action, "ActionID": self.next_action_id("sync")}
            waits.append(self.request(headers, as_list=done))
        results = await asyncio.gather(*waits, return_exceptions=True)
        for (action, done), result in zip(steps, results, strict=True):
            if isinstance(result, AmiRemoteError) and "unknown command" in str(result).lower():
                # The module that answers it is not loaded (yet): no list is better than a wrong
                # one, so the whole resync is tried again.
                raise result
            if isinstance(result, AmiRemoteError) and "refused" in str(result):
                # e.g. a user without the 'system' write class may not list channels; go on with
                # what we may see, as if the list were empty of news.
                log.warning("PBX %r: resync %s: %s", self.pbx, action, result)
                if action == "QueueSummary":
                    done([])
            elif isinstance(result, BaseException):
                raise result

    async def _check_media_ports(self) -> None:
        """Read the PBX's RTP port range (CLI ``rtp show settings``) and keep a warning when it
        holds a port browsers refuse: a browser phone's call given one has no audio at all."""
        headers: ActionHeaders = {
            "Action": "Command",
            "ActionID": self.next_action_id("rtp"),
            "Command": "rtp show settings",
        }
        try:
            frames = await self.request(headers)
        except AmiError as exc:
            # A user without the 'command' write class, or no RTP module: nothing to judge.
            log.info("PBX %r: its RTP settings could not be read: %s", self.pbx, exc)
            return
        ports = media_ports(frames[0].get("Output", "")) if frames else None
        warning = media_ports_warning(*ports) if ports else None
        warnings = (warning,) if warning else ()
        if warnings != self.warnings:
            for each in warnings:
                log.warning("PBX %r: %s", self.pbx, each.text)
            self.warnings = warnings

    # --- reconciliation helper ----------------------------------------------------------------------

    async def getvar(self, channel: str, variable: str) -> str | None:
        """A channel variable's value, or ``None`` if the channel is gone or it is unset."""
        headers: ActionHeaders = {
            "Action": "Getvar",
            "ActionID": self.next_action_id("getvar"),
            "Channel": channel,
            "Variable": variable,
        }
        try:
            frames = await self.request(headers)
        except AmiRemoteError:
            return None
        return frames[0].get("Value") or None
