"""The desk against the real thing: cti connected over TCP to the PBX simulator, real PostgreSQL.

``service`` here replaces the web tests' unreachable-PBX service, so the imported ``users`` and
``client_factory`` fixtures sign in to a cti that is connected to ``sim``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from cti.app import RunningService, running_service
from cti.db.engine import Database
from cti.db.models import Contact, Customer, Phone
from cti.db.users import add_user
from cti.sim import PbxSimulator
from cti.sim.traffic import Duration, OutboundCustomers, TrafficModel
from tests.web.conftest import Client, client_factory, service_settings, users

__all__ = ["Client", "DeskSocket", "carla", "client_factory", "users"]

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


class DeskSocket:
    """A desk WebSocket that records every message it gets."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self.closed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                self.messages.append(json.loads(msg.data))
        self.closed.set()

    def state(self) -> str | None:
        """The agent state the desk was last told (by a snapshot or a state message)."""
        for m in reversed(self.messages):
            if m["type"] == "state":
                return str(m["state"])
            if m["type"] == "snapshot":
                return str(m["desk"]["state"])
        return None

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    async def next(
        self, kind: str, where: Callable[[dict[str, Any]], bool] = lambda m: True, after: int = 0
    ) -> dict[str, Any]:
        found: dict[str, Any] = await until(
            lambda: next(
                (m for m in self.messages[after:] if m["type"] == kind and where(m)), None
            ),
            what=f"a {kind!r} message",
        )
        return found

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def answering_customers(ring: float, talk: float) -> TrafficModel:
    """The simulator's dialled customers for a test: every one answers after ``ring`` seconds and
    talks for ``talk`` seconds (no busy, no ring-out); no inbound traffic."""

    def exactly(seconds: float) -> Duration:
        return Duration(mean=seconds, spread=0.0, minimum=seconds, maximum=seconds)

    customers = OutboundCustomers(
        p_answer=1.0,
        p_busy=0.0,
        p_noanswer=0.0,
        p_congestion=0.0,
        ring=exactly(ring),
        talk=exactly(talk),
    )
    return TrafficModel(inbound_per_minute={}, customers=customers)


async def open_desk(client: Client, origin: str | None = None) -> DeskSocket:
    """Open /ws/desk with the client's session cookie and the server's own Origin."""
    ws = await client.http.ws_connect(
        f"{client.base}ws/desk", headers={"Origin": origin or client.base.rstrip("/")}
    )
    sock = DeskSocket(ws)
    await sock.next("snapshot")
    return sock


@pytest.fixture
async def sim() -> AsyncIterator[PbxSimulator]:
    """The PBX simulator on a free port; time moves only when a test advances it."""
    async with PbxSimulator(manual_time=True) as simulator:
        yield simulator


@pytest.fixture
async def service(migrated_database: str, sim: PbxSimulator) -> AsyncIterator[RunningService]:
    """cti connected to the simulator (which can answer desk phones: remote_answer)."""
    settings = service_settings(ami_port=sim.port, remote_answer=True)
    async with running_service(settings, database_url=migrated_database, migrate=False) as svc:
        await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="AMI login")
        await svc.runtime.ami.flush("pbx1")
        yield svc


@pytest.fixture
async def customers(service: RunningService) -> dict[str, int]:
    """Acme (+12025550101) with contact Laura (+12025550111). (A migrated database holds the
    default pause reasons lunch, break, training and backoffice.)"""
    db: Database = service.runtime.db
    async with db.sessions.begin() as s:
        acme = Customer(code="C001", name="Acme Supplies", tax_id="12-3456789", region="US")
        s.add(acme)
        await s.flush()
        laura = Contact(customer_id=acme.id, name="Laura Smith", position="Purchasing")
        s.add(laura)
        await s.flush()
        s.add(Phone(phone="+12025550101", raw="(202) 555-0101", customer_id=acme.id))
        s.add(Phone(phone="+12025550111", raw="(202) 555-0111", contact_id=laura.id))
        ids = {"acme": acme.id, "laura": laura.id}
    return ids


async def add_carla(service: RunningService, *, personal_data: bool = True) -> dict[str, str]:
    """Carla, a collection operator (routine collection, phone PJSIP/agent3, in no attention
    group): her login."""
    await add_user(
        service.runtime.db,
        username="carla",
        password="carla-secret-1",
        role="operator",
        routines=["collection"],
        extension="PJSIP/agent3",
        full_name="Carla Souza",
        personal_data=personal_data,
    )
    return {"username": "carla", "password": "carla-secret-1"}


@pytest.fixture
async def carla(service: RunningService) -> dict[str, str]:
    """A collection operator (routine collection, phone PJSIP/agent3, personal_data)."""
    return await add_carla(service)


async def admin_and_fast_group(
    users: dict[str, str], client_factory: Callable[[], Awaitable[Client]]
) -> tuple[Client, dict[str, Any]]:
    """The admin (root) signed in, and ana's attention group (Fast) as the back office lists it."""
    admin = await client_factory()
    assert (await admin.login("root", users["root"])).status == 200
    groups = await (await admin.get("/api/v1/config/attention-groups")).json()
    fast: dict[str, Any] = next(g for g in groups if g["name"] == "Fast")
    return admin, fast


async def calls_rows(db: Database) -> list[dict[str, Any]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT * FROM calls ORDER BY id"))
        return [dict(r._mapping) for r in rows]


SignedInDesk = tuple[Client, DeskSocket]


@pytest.fixture
async def at_desk(
    users: dict[str, str], client_factory: Callable[[], Awaitable[Client]]
) -> AsyncIterator[Callable[..., Awaitable[SignedInDesk]]]:
    """Sign an operator in, open their desk socket and (by default) sign in to the PBX."""
    sockets: list[DeskSocket] = []

    async def make(username: str, *, pbx: bool = True, password: str = "") -> SignedInDesk:
        client = await client_factory()
        resp = await client.login(username, password or users[username])
        assert resp.status == 200, await resp.text()
        sock = await open_desk(client)
        sockets.append(sock)
        if pbx:
            resp = await client.post("/api/v1/desk/signin", json={})
            assert resp.status == 200, await resp.text()
            await until(lambda: sock.state() == "ready", what=f"{username} ready")
        return client, sock

    yield make
    for sock in sockets:
        await sock.close()
