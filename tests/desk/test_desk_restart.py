"""cti stopped and started again mid-shift: the desks come back as they were (signed in to their
phone, paused with their reason, on the same call with its pop, timer and attention), on the
same sessions, and the call goes on being handled and logged. A session ended at another
instance ends the desk here too."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg
import pytest

from cti.app import RunningService, running_service
from cti.db.users import add_user, ensure_group
from cti.sim import PbxSimulator
from cti.web import session_api
from tests.web.conftest import Client, service_settings

from .conftest import DeskSocket, open_desk, until


class Cti:
    """cti connected to the simulator, stopped and started again on the same database."""

    def __init__(self, database_url: str, sim: PbxSimulator) -> None:
        self.settings = service_settings(ami_port=sim.port, remote_answer=True)
        self.database_url = database_url
        self._stack: AsyncExitStack | None = None

    async def start(self) -> RunningService:
        self._stack = AsyncExitStack()
        svc = await self._stack.enter_async_context(
            running_service(self.settings, database_url=self.database_url, migrate=False)
        )
        await until(lambda: svc.runtime.ami.status()["pbx1"] == "connected", what="AMI login")
        await svc.runtime.ami.flush("pbx1")
        return svc

    async def stop(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None


async def test_a_restart_gives_each_desk_back_as_it_was(
    migrated_database: str, sim: PbxSimulator
) -> None:
    cti = Cti(migrated_database, sim)
    svc = await cti.start()
    jars = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in range(2)]
    try:
        db = svc.runtime.db
        await ensure_group(db, "Fast", 5)
        for name, phone in (("ana", "PJSIP/agent1"), ("bruno", "PJSIP/agent2")):
            await add_user(
                db,
                username=name,
                password=f"{name}-secret-1",
                role="operator",
                routines=["telemarketing"],
                group="Fast",
                extension=phone,
                full_name=name.capitalize(),
            )
        ana, bruno = (Client(http=jar, base=svc.url) for jar in jars)
        for client, name in ((ana, "ana"), (bruno, "bruno")):
            assert (await client.login(name, f"{name}-secret-1")).status == 200
            assert (await client.post("/api/v1/desk/signin", json={})).status == 200
        assert (await bruno.post("/api/v1/desk/pause", json={"reason": "lunch"})).status == 200
        ws = await open_desk(ana)
        sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=None)
        await sim.advance(0.2)
        await ws.next("pop")
        assert sim.answer("PJSIP/agent1")
        connected = await ws.next("connected")
        attention = (await ws.next("attention"))["attention"]
        await ws.close()

        stopped_at = datetime.now(UTC)
        await cti.stop()
        # The PBX keeps its members and the call while cti is away.
        assert {"PJSIP/agent1", "PJSIP/agent2"} <= set(sim.pbx.queues["support"].members)
        svc = await cti.start()

        # The same cookies and CSRF tokens; the desks as they were.
        ana = Client(http=ana.http, base=svc.url, csrf=ana.csrf)
        bruno = Client(http=bruno.http, base=svc.url, csrf=bruno.csrf)
        again = await open_desk(ana)
        desk = again.of("snapshot")[0]["desk"]
        if not desk["signed_in"] or desk["attention"] is None:
            # The desk is rebuilt once cti has resynchronised with the PBX; it is pushed then.
            desk = (
                await again.next(
                    "snapshot", lambda m: m["desk"]["signed_in"] and m["desk"]["attention"]
                )
            )["desk"]
        assert desk["state"] == "in_call"
        assert desk["interface"] == "PJSIP/agent1"
        assert desk["queues"] == ["support"]
        assert desk["pop"]["id"] == connected["pop"]["id"]
        assert desk["pop"]["caller_num"] == connected["pop"]["caller_num"]
        assert desk["pop"]["status"] == "answered"
        assert desk["timer"] == connected["timer"]
        assert desk["attention"]["id"] == attention["id"]
        assert desk["attention"]["status"] == "pending"
        # Each desk is made again on its own after the resync: Bruno's may come after Ana's.
        bruno_desk = await desk_back(bruno)
        assert (bruno_desk["signed_in"], bruno_desk["state"]) == (True, "paused")
        assert bruno_desk["reason"] == "lunch"
        # His lunch's time counts from when the PBX paused him, not from cti's return.
        assert datetime.fromisoformat(bruno_desk["since"]) < stopped_at
        assert sim.pbx.queues["support"].members["PJSIP/agent2"].paused

        # The call goes on: hung up from the desk, it ends there and in the call log.
        assert (await ana.post("/api/v1/desk/hangup")).status == 200
        ended = await again.next("call_ended")
        assert ended["call"]["uniqueid"] == connected["call"]["uniqueid"]
        await again.close()
        conn = await asyncpg.connect(migrated_database)
        try:
            rows = await until_rows(conn)
            pauses = await conn.fetch(
                "SELECT p.reason, p.started_at, p.ended_at FROM agent_pauses p"
                " JOIN operators o ON o.id = p.operator_id WHERE o.username = 'bruno'"
            )
        finally:
            await conn.close()
        assert [(r["outcome"], r["attention_id"]) for r in rows] == [("answered", attention["id"])]
        # For the pauses report, Bruno's lunch across the restart is one pause, still going on.
        assert [(p["reason"], p["ended_at"]) for p in pauses] == [("lunch", None)]
        assert pauses[0]["started_at"] < stopped_at
    finally:
        for jar in jars:
            await jar.close()
        await cti.stop()


async def test_a_call_answered_while_cti_was_away_opens_its_attention_when_it_is_back(
    migrated_database: str, sim: PbxSimulator
) -> None:
    """cti is down when a queue call reaches Ana and she answers: back up, her desk shows the
    call, its caller and a new attention, and the call log names her."""
    cti = Cti(migrated_database, sim)
    svc = await cti.start()
    jar = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    try:
        db = svc.runtime.db
        await ensure_group(db, "Fast", 5)
        await add_user(
            db,
            username="ana",
            password="ana-secret-1",
            role="operator",
            routines=["telemarketing"],
            group="Fast",
            extension="PJSIP/agent1",
            full_name="Ana",
        )
        ana = Client(http=jar, base=svc.url)
        assert (await ana.login("ana", "ana-secret-1")).status == 200
        assert (await ana.post("/api/v1/desk/signin", json={})).status == 200

        await cti.stop()
        sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=None)
        await sim.advance(0.2)
        assert sim.answer("PJSIP/agent1")
        await sim.advance(1)
        svc = await cti.start()

        ana = Client(http=ana.http, base=svc.url, csrf=ana.csrf)
        again = await open_desk(ana)
        # The desk is rebuilt once cti has resynchronised with the PBX; the call then pops and
        # connects as if it had just been answered: pushed to a desk already open, or in the
        # snapshot of one opened after that.
        pop, attention = await until(lambda: call_shown(again), what="the call on Ana's desk")
        assert pop["caller_num"] == "+12025****01"  # masked: Ana may not see it
        assert attention["status"] == "pending"
        desk = (await (await ana.get("/api/v1/desk")).json())["desk"]
        assert (desk["state"], desk["attention"]["id"]) == ("in_call", attention["id"])
        await again.close()
        conn = await asyncpg.connect(migrated_database)
        try:
            row = await conn.fetchrow("SELECT operator_id, attention_id FROM calls")
        finally:
            await conn.close()
        assert row is not None and row["attention_id"] == attention["id"]
        assert row["operator_id"] is not None
    finally:
        await jar.close()
        await cti.stop()


async def desk_back(client: Client) -> dict[str, Any]:
    """The operator's desk once it is made again after a restart (signed in to the phone)."""
    desk: dict[str, Any] = {}
    for _ in range(300):
        desk = (await (await client.get("/api/v1/desk")).json())["desk"]
        if desk["signed_in"]:
            break
        await asyncio.sleep(0.05)
    return desk


def call_shown(ws: DeskSocket) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The pop and attention of the call the desk shows, however it was told of each: in a
    snapshot, as the call connected, or the attention pushed after a snapshot that showed the
    call before its attention was opened (None: not both shown yet)."""
    pop: dict[str, Any] | None = None
    attention: dict[str, Any] | None = None
    for m in ws.messages:
        if m["type"] == "snapshot":
            desk = m.get("desk") or {}
            pop, attention = desk.get("pop") or pop, desk.get("attention") or attention
        elif m["type"] == "connected":
            pop = m["pop"]
        elif m["type"] == "attention":
            attention = m["attention"]
    return (pop, attention) if pop and attention else None


async def until_rows(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    found: list[asyncpg.Record] = []

    async def ended() -> bool:
        nonlocal found
        found = list(await conn.fetch("SELECT outcome, ended_at, attention_id FROM calls"))
        return bool(found) and all(r["ended_at"] is not None for r in found)

    for _ in range(100):
        if await ended():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"the call never ended in the log: {found}")


async def test_signing_out_at_another_instance_closes_the_desk_and_takes_the_phone_out(
    migrated_database: str, sim: PbxSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_api, "SWEEP_SECONDS", 0.1)
    a = Cti(migrated_database, sim)
    svc_a = await a.start()
    jar = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    try:
        await add_user(
            svc_a.runtime.db,
            username="ana",
            password="ana-secret-1",
            role="operator",
            routines=["telemarketing"],
            extension="PJSIP/agent1",
        )
        # Another instance on the same database (it serves the API; no PBX of its own here).
        async with running_service(
            service_settings(), database_url=migrated_database, migrate=False
        ) as svc_b:
            ana = Client(http=jar, base=svc_a.url)
            assert (await ana.login("ana", "ana-secret-1")).status == 200
            assert (await ana.post("/api/v1/desk/signin", json={})).status == 200
            ws = await open_desk(ana)
            assert "PJSIP/agent1" in sim.pbx.queues["support"].members

            at_b = Client(http=jar, base=svc_b.url, csrf=ana.csrf)
            assert (await at_b.post("/api/v1/logout")).status == 200
            await asyncio.wait_for(ws.closed.wait(), 5)
            assert ws.ws.close_code == 4001
            await until(
                lambda: "PJSIP/agent1" not in sim.pbx.queues["support"].members,
                what="ana's phone out of the queue",
            )
            assert (await Client(http=jar, base=svc_a.url).get("/api/v1/desk")).status == 401
    finally:
        await jar.close()
        await a.stop()
