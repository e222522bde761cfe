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
    "campaigns": [...] | null}`` — always the whole board (first a ``snapshot: true`` one on
    connect, then one per tick). ``tick_ms`` is the server's clock when the tick fired (epoch ms).
    ``{"type": "pong", "now": …}`` answers a ping.
client → server
    ``{"type": "resync"}`` (a fresh snapshot), ``{"type": "ping"}``.

The campaign section is filled by a provider registered as ``WebState.parts["campaigns"]`` that
implements :class:`cti.domain.stats.CampaignFigures` (``campaign_figures()``) or
:class:`cti.domain.stats.CampaignFigureDicts` (``figures()``, the dialer's dicts); without one it
is ``null``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType, web

from cti.domain.notices import AnyNotice
from cti.domain.stats import CampaignFigure, WallboardFigures, campaigns_of
from cti.runtime import Runtime
from cti.web.api import ROLE_LEVEL, json_error
from cti.web.auth import origin_allowed
from cti.web.hub import Client, Hub
from cti.web.state import WEB, WebState, web_state

log = logging.getLogger("cti.web.supervisor")

WALLBOARD = "wallboard"
WALLBOARD_TOPIC = "wallboard"
CLOSE_SESSION_ENDED = 4001
CLOSE_FORBIDDEN = 4003


def local_tz(name: str = "") -> tzinfo:
    """The configured zone (``supervisor.timezone``), else the server's own."""
    if name:
        return ZoneInfo(name)
    tz = datetime.now().astimezone().tzinfo
    assert tz is not None
    return tz


class WallboardService:
    """Figures from the notices, one frame per tick for every wallboard."""

    def __init__(
        self,
        runtime: Runtime,
        web_st: WebState,
        *,
        interval: float = 1.0,
        tz: tzinfo | None = None,
    ) -> None:
        self._rt = runtime
        self._web = web_st
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
        self.clients: set[Client] = set()

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._unsubscribe = self._rt.ami.subscribe(self._on_notice)
        self._task = asyncio.get_running_loop().create_task(self._ticker(), name="wallboard-tick")

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

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
                self.tick()
            except Exception:
                log.exception("wallboard tick failed")

    def tick(self) -> int:
        """Build and publish one frame to every wallboard; returns how many got it."""
        self.ticks += 1
        if not self.clients:
            return 0
        frame = self.frame()
        self.frames_published += 1
        return self._hub.publish(WALLBOARD_TOPIC, frame)

    # --- the view --------------------------------------------------------------------------------

    def campaigns(self) -> list[CampaignFigure] | None:
        """The dialer's campaign figures, when a provider is registered."""
        provider = self._web.parts.get("campaigns")
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
        body["type"] = "wallboard"
        body["seq"] = next(self._seq)
        body["tick_ms"] = round(tick_ms, 1)
        body["snapshot"] = snapshot
        return body

    def _operators(self) -> dict[tuple[str, str], tuple[int, str]]:
        desk = self._web.parts.get("desk")
        if desk is None or not hasattr(desk, "agents"):
            return {}
        return {(a.pbx, a.interface): (a.user.id, a.user.full_name) for a in desk.agents()}


def service_of(st: WebState) -> WallboardService:
    service: WallboardService = st.parts[WALLBOARD]
    return service


async def wallboard_socket(request: web.Request) -> web.StreamResponse:
    """``/ws/wallboard``: the live board, for supervisors and admins."""
    st = web_state(request)
    session = st.user_of(request)
    if session is None:
        return json_error(401, "sign in first")
    if ROLE_LEVEL.get(session.role, 0) < ROLE_LEVEL["supervisor"]:
        return json_error(403, "the wallboard needs the role supervisor")
    if not origin_allowed(request, st.runtime.settings.server.allowed_origins):
        return json_error(403, "this page may not open the wallboard (Origin)")
    ws = web.WebSocketResponse(heartbeat=25.0, max_msg_size=16 * 1024)
    await ws.prepare(request)
    service = service_of(st)
    client = st.hub.attach(
        ws,
        user_id=session.id,
        role=session.role,
        session=session.token,
        topics=(WALLBOARD_TOPIC,),
    )
    service.clients.add(client)
    st.hub.send_to_client(client, service.frame(snapshot=True))
    try:
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            live = st.sessions.get(session.token)
            if live is None:
                st.hub.close_client(client, CLOSE_SESSION_ENDED, "signed out")
                break
            _on_message(st.hub, service, client, msg.data)
    finally:
        service.clients.discard(client)
        st.hub.detach(client)
    return ws


def _on_message(hub: Hub, service: WallboardService, client: Client, data: str) -> None:
    try:
        message = json.loads(data)
    except json.JSONDecodeError:
        hub.send_to_client(client, {"type": "error", "error": "not JSON"})
        return
    kind = message.get("type") if isinstance(message, dict) else None
    if kind == "resync":
        hub.send_to_client(client, service.frame(snapshot=True))
    elif kind == "ping":
        hub.send_to_client(client, {"type": "pong", "now": int(time.time() * 1000)})
    else:
        hub.send_to_client(client, {"type": "error", "error": f"unknown message type {kind!r}"})


def setup_stream(app: web.Application) -> None:
    """The WebSocket route, and the service started and stopped with the app."""
    app.router.add_get("/ws/wallboard", wallboard_socket)

    async def start(app: web.Application) -> None:
        st = app[WEB]
        service = WallboardService(st.runtime, st)
        st.parts[WALLBOARD] = service
        service.start()

    async def stop(app: web.Application) -> None:
        service = app[WEB].parts.pop(WALLBOARD, None)
        if service is not None:
            await service.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


__all__ = ["WALLBOARD", "WALLBOARD_TOPIC", "WallboardService", "setup_stream"]
