"""The supervisor part against the real thing: cti over TCP to the PBX simulator, real PostgreSQL.

``service`` here replaces the web tests' unreachable-PBX service, so the imported ``users`` and
``client_factory`` fixtures sign in to a cti that is connected to ``sim``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from cti.app import RunningService, running_service
from cti.db.engine import Database
from cti.db.models import PauseReason
from cti.db.users import add_user
from cti.sim import PbxSimulator
from tests.web.conftest import Client, client_factory, service_settings, users

__all__ = ["Client", "WallboardSocket", "client_factory", "users"]

# How long a wait may take before the test fails: generous, since CI machines have 2 busy cores
# (a wait ends as soon as its condition holds; nothing here times the product).
TIMEOUT = 15.0


async def until(condition: Callable[[], Any], within: float = TIMEOUT, what: str = "") -> Any:
    """Poll ``condition`` until it is truthy; fail after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = condition()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.01)


class WallboardSocket:
    """A wallboard WebSocket that records every frame it gets."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.closed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                self.frames.append(json.loads(msg.data))
        self.closed.set()

    @property
    def last(self) -> dict[str, Any]:
        return [f for f in self.frames if f["type"] == "wallboard"][-1]

    async def next(
        self,
        where: Callable[[dict[str, Any]], bool] = lambda m: True,
        within: float = TIMEOUT,
        *,
        since: int | None = None,
    ) -> dict[str, Any]:
        """The first wallboard frame (from now on, or from frame number ``since``) for which
        ``where`` holds."""
        start = len(self.frames) if since is None else since
        found: dict[str, Any] = await until(
            lambda: next(
                (m for m in self.frames[start:] if m["type"] == "wallboard" and where(m)), None
            ),
            within=within,
            what="a matching wallboard frame",
        )
        return found

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


async def open_wallboard(client: Client, origin: str | None = None) -> WallboardSocket:
    """Open /ws/wallboard with the client's cookie and the server's own Origin; wait for the snapshot."""
    ws = await client.http.ws_connect(
        f"{client.base}ws/wallboard", headers={"Origin": origin or client.base.rstrip("/")}
    )
    sock = WallboardSocket(ws)
    await until(lambda: sock.frames, what="the snapshot")
    return sock


def queue_of(frame: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(q for q in frame["queues"] if q["name"] == name)
    return found


def agent_of(frame: dict[str, Any], interface: str) -> dict[str, Any] | None:
    return next((a for a in frame["agents"] if a["interface"] == interface), None)


@pytest.fixture
async def sim() -> AsyncIterator[PbxSimulator]:
    """The PBX simulator on a free port; time moves only when a test advances it."""
    async with PbxSimulator(manual_time=True) as simulator:
        yield simulator


class SimClock:
    """cti's clock reads the simulator's (manual) time, so waits and times in state follow it."""

    def __init__(self, sim: PbxSimulator) -> None:
        self._sim = sim

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._sim.pbx.now_epoch(), UTC)

    def monotonic(self) -> float:
        return time.monotonic()


@pytest.fixture
async def service(migrated_database: str, sim: PbxSimulator) -> AsyncIterator[RunningService]:
    """cti connected to the simulator, on the simulator's clock."""
    settings = service_settings(ami_port=sim.port, remote_answer=True)
    async with running_service(
        settings, clock=SimClock(sim), database_url=migrated_database, migrate=False
    ) as svc:
        await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="AMI login")
        await svc.runtime.ami.flush("pbx1")
        yield svc


@pytest.fixture
async def supervisor(
    service: RunningService,
    users: dict[str, str],
    client_factory: Callable[[], Awaitable[Client]],
) -> Client:
    """Vera, a supervisor with personal_data, signed in; her phone is a simulated one
    (``Local/900@sim-agent``)."""
    db: Database = service.runtime.db
    await add_user(
        db,
        username="vera",
        password="vera-secret-1",
        role="supervisor",
        full_name="Vera Supervisor",
        interface="Local/900@sim-agent",
        personal_data=True,
    )
    async with db.sessions.begin() as s:
        s.add(PauseReason(name="coaching"))
    client = await client_factory()
    resp = await client.login("vera", "vera-secret-1")
    assert resp.status == 200, await resp.text()
    return client


@pytest.fixture
async def operator(
    users: dict[str, str], client_factory: Callable[[], Awaitable[Client]]
) -> Client:
    """Ana, an operator, signed in."""
    client = await client_factory()
    resp = await client.login("ana", users["ana"])
    assert resp.status == 200, await resp.text()
    return client
