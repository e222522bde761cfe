"""Two ``cti serve`` processes behind a real HAProxy serve one call center: agents spread over
both; one instance killed with ``kill -9`` mid-call, its desks are served by the other within 5 s
with the pop, the timer and the attention as they were; no call is missing from the call log; a
campaign running through both dials no lead twice; a rolling restart signs nobody out."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import asyncpg
import pytest

from cti.db.engine import Database
from cti.db.users import add_user, ensure_group
from cti.domain.model import CampaignMode
from cti.sim import PbxSimulator
from tests.desk.conftest import DeskSocket, until
from tests.dialer_service.conftest import Dials, add_leads, make_campaign, traffic
from tests.web.conftest import Client

from .desks import open_desk, served_again
from .harness import CtiProcess, Haproxy, haproxy_missing, server_of

OPERATORS = ("ana", "bruno", "carla", "davi")
DAY = 86400


@pytest.fixture
async def sim() -> AsyncIterator[PbxSimulator]:
    """The simulator in real time: customers answer the dialer, simulated agents take them."""
    model = traffic(p_answer=0.5, p_busy=0.2, p_noanswer=0.3, ring=2.0, handle=6.0, wrapup=1.0)
    async with PbxSimulator(traffic=model) as simulator:
        for i in range(4):
            simulator.add_simulated_agent("sales", f"Local/36{i}@sim-agent/n", f"S{i}")
        yield simulator


class Cluster:
    def __init__(self, database_url: str, sim: PbxSimulator) -> None:
        self.a = CtiProcess("a", database_url=database_url, ami_port=sim.port)
        self.b = CtiProcess("b", database_url=database_url, ami_port=sim.port)
        self.proxy = Haproxy([self.a, self.b])

    def of(self, name: str) -> CtiProcess:
        return self.a if name == "a" else self.b

    def logs(self) -> str:
        return f"{self.a.tail()}\n{self.b.tail()}"


@pytest.fixture
async def cluster(migrated_database: str, sim: PbxSimulator) -> AsyncIterator[Cluster]:
    if (missing := haproxy_missing()) is not None:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    c = Cluster(migrated_database, sim)
    c.a.start()
    c.b.start()
    try:
        await c.a.wait_ready()
        await c.b.wait_ready()
        await c.proxy.start()
        yield c
    finally:
        c.proxy.stop()
        c.a.kill()
        c.b.kill()


async def _operators(database_url: str) -> None:
    db = Database(database_url)
    async with db:
        await ensure_group(db, "Fast", 5)
        for i, name in enumerate(OPERATORS, start=1):
            await add_user(
                db,
                username=name,
                password=f"{name}-secret-1",
                role="operator",
                routines=["telemarketing"],
                group="Fast",
                extension=f"PJSIP/agent{i}",
                full_name=name.capitalize(),
            )


async def test_a_killed_instance_costs_no_desk_call_or_lead_and_a_rolling_restart_no_session(
    cluster: Cluster, sim: PbxSimulator, migrated_database: str
) -> None:
    await _operators(migrated_database)
    dials = Dials(sim)
    jars = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in OPERATORS]
    clients = {
        n: Client(http=jar, base=cluster.proxy.url) for n, jar in zip(OPERATORS, jars, strict=True)
    }
    conn = await asyncpg.connect(migrated_database)
    socks: dict[str, DeskSocket] = {}
    try:
        for name, client in clients.items():
            assert (await client.login(name, f"{name}-secret-1")).status == 200
            assert (await client.post("/api/v1/desk/signin", json={})).status == 200
        server = {n: server_of(c.http.cookie_jar) for n, c in clients.items()}
        assert set(server.values()) == {"a", "b"}, f"agents not spread over both: {server}"
        for name, client in clients.items():
            socks[name] = await open_desk(client)
            await socks[name].next("snapshot", lambda m: m["desk"]["signed_in"])
        # Each desk is held by the instance its browser is kept on (one row each).
        pids = {"a": cluster.a.proc.pid, "b": cluster.b.proc.pid}  # type: ignore[union-attr]
        await _poll(lambda: _holders_match(conn, server, pids), "each desk held by its instance")

        # A campaign runs through both instances (each lead may be dialled once in the test).
        db = Database(migrated_database)
        async with db:
            rules = {"after": {k: DAY for k in ("busy", "no_answer", "congestion", "abandoned")}}
            cid = await make_campaign(
                db, mode=CampaignMode.PROGRESSIVE, ring_seconds=15, retry_rules=rules
            )
            await add_leads(db, cid, [(f"+1312555{i:04d}", None) for i in range(200)])

        # A queue call reaches an agent kept on instance a (the others are paused), answered.
        victim = next(n for n in OPERATORS if server[n] == "a")
        iface = f"PJSIP/agent{OPERATORS.index(victim) + 1}"
        for name, client in clients.items():
            if name != victim:
                resp = await client.post("/api/v1/desk/pause", json={"reason": "lunch"})
                assert resp.status == 200, await resp.text()
        sim.inbound_call("support", "+12025550101", "ACME", talk_seconds=None)
        pop = (await socks[victim].next("pop"))["pop"]
        assert await until(lambda: sim.answer(iface), what="the phone answered")
        connected = await socks[victim].next("connected")
        attention = (await socks[victim].next("attention"))["attention"]
        await until(lambda: dials.total >= 3, what="the campaign dialling")

        # kill -9 instance a mid-call: its desks are served by b within 5 s, as they were.
        on_a = [n for n in OPERATORS if server[n] == "a"]
        cluster.a.kill()
        killed = time.monotonic()
        back: dict[str, float] = {}
        for name in on_a:
            socks[name] = await served_again(clients[name], name == victim, killed + 5.0)
            back[name] = time.monotonic() - killed
        assert max(back.values()) <= 5.0, back
        desk = socks[victim].of("snapshot")[-1]["desk"]
        assert desk["state"] == "in_call"
        assert desk["pop"]["id"] == pop["id"]
        assert desk["pop"]["caller_num"] == pop["caller_num"] == "+12025****01"
        assert desk["timer"] == connected["timer"]
        assert desk["attention"]["id"] == attention["id"]
        assert desk["attention"]["status"] == "pending"

        # The call goes on at b: hung up from the desk, it is in the call log once, with its
        # one attention.
        assert (await clients[victim].post("/api/v1/desk/hangup")).status == 200
        await socks[victim].next("call_ended")
        rows = await _ended_calls(conn, pop["id"])
        assert [(r["outcome"], r["attention_id"]) for r in rows] == [("answered", attention["id"])]
        opened = await conn.fetchval(
            "SELECT count(*) FROM attentions WHERE operator_id = $1", clients[victim].user["id"]
        )
        assert opened == 1

        # b runs the scheduled jobs now (callbacks, upkeep): it led already, or took over.
        await _poll(lambda: _leads(cluster.b), "b leading the scheduled jobs", within=10.0)

        # The campaign goes on through b; no lead dialled twice, none lost to a dead instance.
        before = dials.total
        await until(lambda: dials.total >= before + 3, what="b dialling on")
        twice = {n: c for n, c in dials.per_number.items() if c > 1}
        assert twice == {}, f"dialled more than once: {twice}"

        # A rolling restart, one instance at a time: nobody is signed out, every desk comes back.
        cluster.a.start()
        await cluster.a.wait_ready()
        for proc in (cluster.b, cluster.a):
            assert await proc.stop() == 0
            proc.start()
            await proc.wait_ready()
            for name, client in clients.items():
                me = await client.get("/api/v1/me")
                assert me.status == 200, f"{name} signed out by the restart of {proc.name}"
                await socks[name].close()
                socks[name] = await served_again(client, False, time.monotonic() + 10.0)
        twice = {n: c for n, c in dials.per_number.items() if c > 1}
        assert twice == {}, f"dialled more than once: {twice}"
        # For the pauses report, each lunch is one pause still going on, through the kill and
        # the rolling restart (a desk served by another instance keeps its pause).
        lunches = await conn.fetch(
            "SELECT o.username, p.ended_at FROM agent_pauses p"
            " JOIN operators o ON o.id = p.operator_id WHERE p.reason = 'lunch'"
        )
        assert sorted((r["username"], r["ended_at"]) for r in lunches) == [
            (n, None) for n in sorted(OPERATORS) if n != victim
        ]
    except BaseException:
        print(cluster.logs())
        raise
    finally:
        for sock in socks.values():
            await sock.close()
        await conn.close()
        for jar in jars:
            await jar.close()


async def _poll(condition: Callable[[], Awaitable[bool]], what: str, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def _leads(proc: CtiProcess) -> bool:
    return "this instance runs the scheduled jobs" in proc.log.read_text(errors="replace")


async def _holders_match(
    conn: asyncpg.Connection, server: dict[str, str | None], pids: dict[str, int]
) -> bool:
    rows = await conn.fetch(
        "SELECT o.username, h.instance FROM desk_holders h JOIN operators o ON o.id = h.user_id"
        " WHERE h.held_until > now()"
    )
    held = {r["username"]: r["instance"] for r in rows}
    return all(f":{pids[s]}:" in held.get(name, "") for name, s in server.items() if s is not None)


async def _ended_calls(conn: asyncpg.Connection, uniqueid: str) -> list[asyncpg.Record]:
    for _ in range(100):
        rows = list(
            await conn.fetch(
                "SELECT outcome, ended_at, attention_id FROM calls WHERE uniqueid = $1", uniqueid
            )
        )
        if rows and all(r["ended_at"] is not None for r in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"the call never ended in the log: {rows}")
