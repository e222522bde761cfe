"""The supervisors' live stream: ``/ws/wallboard``.

``WallboardService`` subscribes to the AMI notices with a synchronous, O(1) listener that only
feeds :class:`~cti.domain.stats.WallboardFigures`. A ticker task builds the whole view once per
``interval`` (about a second), encodes it once and hands the same frame to every wallboard
through :meth:`Hub.publish` (bounded per-client queues; a client that falls behind is closed and
gets a fresh snapshot when it reconnects). Nothing is built per client except the snapshot a
client gets when it connects.

Protocol (JSON text frames):

server → client
    ``{"type": "wallboard", "seq": n, "tick_ms": …, "now": …, "day": "YYYY-MM-DD",
    "service_level_seconds": 20, "service_level_target": 0.8, "pbx": {name: status},
    "totals": {…}, "queues": [...], "agents": [...], "hourly": {...}, "trend": [...],
    "campaigns": [...] | null, "campaign_day": [{id, attempts, answered, connected, abandoned}],
    "spies": [...]}`` — always the whole board (first a ``snapshot: true`` one on
    connect, then one per tick). ``tick_ms`` is the server's clock when the tick fired (epoch ms).
    ``{"type": "pong", "now": …}`` answers a ping.
client → server
    ``{"type": "resync"}`` (a fresh snapshot), ``{"type": "ping"}``.

Personal data: an agent's current call shows its caller id, masked (:data:`WALLBOARD_SPEC`) for a
supervisor without ``personal_data``; a tick is encoded once for those who may see it and once
for the others. Each call's caller id shown to a wallboard is audited once per wallboard
(``personal.read`` / ``personal.masked``, purpose ``wallboard``), when it first appears there.

Who may watch is checked against the database at every tick: a user demoted below supervisor
(or deactivated) has their wallboards closed within a second (close code 4003), and a change of
their personal-data permission applies from the next frame.

The campaign section is filled by the dialer (``app[DIALER_SERVICE]``), a provider that
implements :class:`cti.domain.stats.CampaignFigures` (``campaign_figures()``) or
:class:`cti.domain.stats.CampaignFigureDicts` (``figures()``, the dialer's dicts); without one it
is ``null``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from datetime import time as dt_time
from typing import Any

from aiohttp import web

from cti.clock import local_tz
from cti.db.backoffice.personal import Viewer, read_rows, standing_of, write_reads
from cti.db.calllog import queue_calls_between
from cti.db.desk.pauses import desk_pauses
from cti.db.desk.wrapups import wrapups_between
from cti.db.reports import campaign_attempts
from cti.domain.backoffice import CALLER_FIELDS, WALLBOARD_SPEC
from cti.domain.notices import AnyNotice
from cti.domain.reporting import Period
from cti.domain.stats import CampaignFigure, WallboardFigures, campaigns_of
from cti.runtime import Runtime
from cti.web.api import ROLE_LEVEL
from cti.web.desk_holding import DESK_HOLDING
from cti.web.desk_service import DESK_SERVICE
from cti.web.dialer import DIALER_SERVICE
from cti.web.hub import CLOSE_FORBIDDEN, Client, Hub
from cti.web.personal import Part, permission, render
from cti.web.sockets import answer_messages, close_ended, open_socket
from cti.web.state import WEB, WebState, web_state
from cti.web.supervisor_spy import SPY_SESSIONS

log = logging.getLogger("cti.web.supervisor")

WALLBOARD_TOPIC = "wallboard"
# How often today's campaign attempts and ended pauses are read again while someone watches.
READ_AGAIN_SECONDS = 5.0
PURPOSE = "wallboard"


def wallboard_parts(frame: dict[str, Any]) -> list[Part]:
    """Whose personal data a wallboard frame shows: each agent's current call's caller id."""
    return [
        (f"call:{a['call']['linkedid']}", a["call"], CALLER_FIELDS)
        for a in frame.get("agents", ())
        if a.get("call")
    ]


@dataclass(eq=False)
class Watcher:
    """One open wallboard: who watches, whether they may see personal data, what they were shown."""

    client: Client
    viewer: Viewer
    allowed: bool
    seen: set[str] = field(default_factory=set)


class WallboardService:
    """Figures from the notices, one frame per tick for every wallboard."""

    def __init__(
        self,
        runtime: Runtime,
        web_st: WebState,
        app: web.Application,
        *,
        interval: float = 1.0,
        tz: tzinfo | None = None,
    ) -> None:
        self._rt = runtime
        self._web = web_st
        # Where the other parts are, under their keys (the dialer, the desk, the spy sessions).
        self._app = app
        self._hub: Hub = web_st.hub
        self.interval = interval
        sup = runtime.settings.supervisor
        self.figures = WallboardFigures(
            service_level_seconds=sup.service_level_seconds,
            tz=tz or local_tz(sup.timezone),
            service_level_target=sup.service_level_target,
        )
        self._seq = itertools.count(1)
        self._unsubscribe: Any = None
        self._task: asyncio.Task[None] | None = None
        self.ticks = 0
        self.frames_published = 0
        self.watchers: dict[Client, Watcher] = {}
        self._reads: list[dict[str, Any]] = []
        # Today's attempts per campaign, read from the database (every instance's dialling).
        self.campaign_day: list[dict[str, Any]] = []
        self._campaign_day_read = -1e18
        self._pauses_read = -1e18

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._unsubscribe = self._rt.ami.subscribe(self._on_notice)
        self._task = asyncio.get_running_loop().create_task(self._ticker(), name="wallboard-tick")

    async def load_today(self) -> int:
        """Seed today's figures from the call log (after ``start``: a call both logged and
        noticed counts once). Returns how many logged calls were counted."""
        now = self._rt.clock.now()
        tz = self.figures.tz
        day = now.astimezone(tz).date()
        start = datetime.combine(day, dt_time(0), tzinfo=tz)
        end = datetime.combine(day + timedelta(days=1), dt_time(0), tzinfo=tz)
        calls = await queue_calls_between(self._rt.db, start, end)
        counted = self.figures.seed(calls, now)
        wrapped = self.figures.seed_wrapups(await wrapups_between(self._rt.db, start, end), now)
        paused = await self.read_pauses()
        log.info(
            "wallboard: %d calls, %d wrap-ups and %d operators' pauses of %s counted from the"
            " database",
            counted,
            wrapped,
            paused,
            day,
        )
        await self.read_campaign_day()
        return counted

    async def read_pauses(self) -> int:
        """Today's pauses at a desk that ended, as the database holds them (every instance's desks,
        those closed for what the PBX did while cti was away); how many operators had one."""
        now = self._rt.clock.now()
        tz = self.figures.tz
        start = datetime.combine(now.astimezone(tz).date(), dt_time(0), tzinfo=tz)
        pauses = await desk_pauses(self._rt.db, start, now)
        self.figures.seed_pauses(pauses, read_at=now)
        self._pauses_read = asyncio.get_running_loop().time()
        return len(pauses)

    async def fresh(self) -> None:
        """Read again what the board takes from the database when it is older than a few seconds
        (before a snapshot: a board nobody watched reads nothing meanwhile)."""
        loop = asyncio.get_running_loop()
        if loop.time() - self._campaign_day_read >= READ_AGAIN_SECONDS:
            await self.read_campaign_day()
        if loop.time() - self._pauses_read >= READ_AGAIN_SECONDS:
            await self.read_pauses()

    async def fresh_or_log(self) -> None:
        """:meth:`fresh`, the board served as it stands if the database does not answer."""
        try:
            await self.fresh()
        except Exception:
            log.exception("wallboard: today's figures could not be read again from the database")

    async def read_campaign_day(self) -> None:
        """Today's dial attempts per campaign, as the campaigns report counts them."""
        day = self._rt.clock.now().astimezone(self.figures.tz).date()
        counts = await campaign_attempts(self._rt.db, Period.of(day, day, self.figures.tz))
        self.campaign_day = [
            {
                "id": cid,
                "attempts": attempts,
                "answered": answered,
                "connected": connected,
                "abandoned": abandoned,
            }
            for cid, (attempts, answered, connected, abandoned) in sorted(counts.items())
        ]
        self._campaign_day_read = asyncio.get_running_loop().time()

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # What the wallboards were last shown is audited before cti stops.
        try:
            await self.write_reads()
        except Exception:
            log.exception("wallboard: the last readings shown could not be audited")

    # --- the hot path ----------------------------------------------------------------------------

    def _on_notice(self, notice: AnyNotice) -> None:
        # Called by the one AMI consumer for every notice: count, never block.
        self.figures.apply(notice)

    async def _ticker(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            next_at += self.interval
            delay = next_at - loop.time()
            if delay < 0:  # fell behind (a long pause): skip the missed ticks
                next_at = loop.time()
                delay = 0
            await asyncio.sleep(delay)
            try:
                if self.watchers:
                    await self.fresh()
                await self.check_watchers()
                self.tick()
                await self.write_reads()
            except Exception:
                log.exception("wallboard tick failed")

    @property
    def clients(self) -> set[Client]:
        return set(self.watchers)

    async def watch(self, client: Client, viewer: Viewer) -> Watcher:
        """Start a wallboard for ``viewer``: its snapshot, as they may see it."""
        allowed = await permission(self._rt.db, viewer.id)
        watcher = self.watchers[client] = Watcher(client, viewer, allowed)
        await self.fresh_or_log()
        self.send_snapshot(watcher)
        await self.write_reads()
        return watcher

    def unwatch(self, client: Client) -> None:
        self.watchers.pop(client, None)

    def send_snapshot(self, watcher: Watcher) -> None:
        """A fresh whole board for one wallboard (on connect, on ``resync``)."""
        frame = self.frame(snapshot=True)
        self._note_reads(watcher, frame)
        self._hub.send_to_client(
            watcher.client, render(frame, WALLBOARD_SPEC, allowed=watcher.allowed)
        )

    async def check_watchers(self) -> None:
        """Close the wallboards of users no longer allowed one; follow permission changes."""
        if not self.watchers:
            return
        # Role, activity and personal-data permission of the users watching, read every tick.
        # Only the wallboards open when the reading began are judged by it: one opened while it
        # runs was checked as it opened (``watch``), and the next tick reads its viewer too.
        watching = list(self.watchers.items())
        found = await standing_of(self._rt.db, sorted({w.viewer.id for _, w in watching}))
        ended = await self._web.sessions.ended_among({c.session for c, _ in watching})
        for client, watcher in watching:
            if self.watchers.get(client) is not watcher:
                continue  # closed meanwhile
            role, active, allowed = found.get(watcher.viewer.id, ("", False, False))
            if client.session in ended:
                self.unwatch(client)
                close_ended(self._hub, client, ended[client.session])
            elif not active or ROLE_LEVEL.get(role, 0) < ROLE_LEVEL["supervisor"]:
                self.unwatch(client)
                self._hub.close_client(
                    client, CLOSE_FORBIDDEN, "the wallboard needs the role supervisor"
                )
            else:
                watcher.allowed = allowed

    def tick(self) -> int:
        """Build and publish one frame to every wallboard; returns how many got it."""
        self.ticks += 1
        if not self.watchers:
            return 0
        frame = self.frame()
        self.frames_published += 1
        for watcher in self.watchers.values():
            self._note_reads(watcher, frame)
        shown = [c for c, w in self.watchers.items() if w.allowed]
        masked = [c for c, w in self.watchers.items() if not w.allowed]
        sent = self._hub.send_to_clients(shown, frame) if shown else 0
        if masked:
            sent += self._hub.send_to_clients(masked, render(frame, WALLBOARD_SPEC, allowed=False))
        return sent

    def _note_reads(self, watcher: Watcher, frame: dict[str, Any]) -> None:
        new = [p for p in wallboard_parts(frame) if p[0] not in watcher.seen]
        if not new:
            return
        watcher.seen.update(p[0] for p in new)
        self._reads.extend(read_rows(watcher.viewer, new, allowed=watcher.allowed, purpose=PURPOSE))

    async def write_reads(self) -> None:
        """Write the audit lines of what the wallboards were shown since the last write."""
        rows, self._reads = self._reads, []
        if rows:
            try:
                await write_reads(self._rt.db, rows)
            except BaseException:
                # Not written (the database away, or cti stopping): kept for the next write, so
                # that no reading shown goes unaudited.
                self._reads[:0] = rows
                raise

    # --- the view --------------------------------------------------------------------------------

    def campaigns(self) -> list[CampaignFigure] | None:
        """The dialer's campaign figures, when a provider is registered."""
        provider = self._app.get(DIALER_SERVICE)
        if provider is None:
            return None
        try:
            return campaigns_of(provider)
        except Exception:
            log.exception("the campaign figures provider failed")
            return None

    def frame(self, *, snapshot: bool = False) -> dict[str, Any]:
        """The whole board now."""
        tick_ms = time.time() * 1000
        ami = self._rt.ami
        states = {name: ami.state(name) for name in ami.status()}
        body = self.figures.view(
            self._rt.clock.now(),
            states,
            operators=self._operators(),
            campaigns=self.campaigns(),
            links=ami.status(),
        )
        spies = self._app.get(SPY_SESSIONS)
        body["spies"] = spies.sessions() if spies is not None else []
        body["campaign_day"] = self.campaign_day
        body["type"] = "wallboard"
        body["seq"] = next(self._seq)
        body["tick_ms"] = round(tick_ms, 1)
        body["snapshot"] = snapshot
        return body

    def _operators(self) -> dict[tuple[str, str], tuple[int, str]]:
        holding = self._app.get(DESK_HOLDING)
        if holding is not None:
            return holding.seats()  # the desks of every instance
        desk = self._app.get(DESK_SERVICE)
        if desk is None:
            return {}
        return {(a.pbx, a.interface): (a.user.id, a.user.full_name) for a in desk.agents()}


async def wallboard_socket(request: web.Request) -> web.StreamResponse:
    """``/ws/wallboard``: the live board, for supervisors and admins."""
    opened = await open_socket(
        request,
        topic=WALLBOARD_TOPIC,
        least_role="supervisor",
        page="the wallboard",
        max_msg_size=16 * 1024,
    )
    if isinstance(opened, web.Response):
        return opened
    st = web_state(request)
    service = request.app[WALLBOARD_SERVICE]
    user = opened.session.user
    watcher = await service.watch(opened.client, Viewer(user.id, user.username))
    try:
        # The role is checked at every tick, against the database (check_watchers).
        await answer_messages(
            st,
            opened,
            resync=lambda _: service.send_snapshot(watcher),
            now_ms=lambda: int(time.time() * 1000),
        )
    finally:
        service.unwatch(opened.client)
        st.hub.detach(opened.client)
    return opened.ws


def setup_stream(app: web.Application) -> None:
    """The WebSocket route, and the service started and stopped with the app."""
    app.router.add_get("/ws/wallboard", wallboard_socket)

    async def wallboard(app: web.Application) -> AsyncIterator[None]:
        service = WallboardService(app[WEB].runtime, app[WEB], app)
        app[WALLBOARD_SERVICE] = service
        service.start()
        try:
            await service.load_today()
        except Exception:  # the board still counts from now on; the log says what is missing
            log.exception("wallboard: today's calls could not be read from the call log")
        yield
        await service.stop()

    app.cleanup_ctx.append(wallboard)


__all__ = [
    "WALLBOARD_SERVICE",
    "WALLBOARD_TOPIC",
    "WallboardService",
    "Watcher",
    "setup_stream",
    "wallboard_parts",
]


WALLBOARD_SERVICE = web.AppKey("cti.wallboard", WallboardService)
