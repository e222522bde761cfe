"""Two ``cti serve`` processes behind a real HAProxy, on a real Asterisk: the agents spread over
both; the instance of an agent on a call is killed with ``kill -9`` and the other serves their desk
within 5 s, on the same call with its pop, timer and attention; the call is in the call log once;
a rolling restart of both, one at a time, signs nobody out."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import pytest

from tests.cluster.desks import served_again
from tests.cluster.harness import CtiProcess, Haproxy, haproxy_missing, server_of
from tests.pbx.asterisk import AMI_SECRET, Asterisk
from tests.pbx.conftest import PASSWORDS, make_users
from tests.pbx.helpers import PBX_WAIT, Phones, sign_in_to_phone, wait_desk
from tests.web.conftest import Client


class Pair:
    def __init__(self, database_url: str, ami_port: int) -> None:
        self.a, self.b = (
            CtiProcess(
                name,
                database_url=database_url,
                ami_port=ami_port,
                ami_secret=AMI_SECRET,
                remote_answer=False,
                extra="[dialer]\nconnect_within_seconds = 3.0\n",
            )
            for name in ("a", "b")
        )
        self.proxy = Haproxy([self.a, self.b])

    def of(self, name: str | None) -> CtiProcess:
        return self.a if name == "a" else self.b


@pytest.fixture
async def pair(pbx: Asterisk, migrated_database: str) -> AsyncIterator[Pair]:
    if (missing := haproxy_missing()) is not None:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    await make_users(migrated_database)
    pair = Pair(migrated_database, pbx.ports.ami)
    pair.a.start()
    pair.b.start()
    try:
        await pair.a.wait_ready()
        await pair.b.wait_ready()
        await pair.proxy.start()
        yield pair
    finally:
        pair.proxy.stop()
        pair.a.kill()
        pair.b.kill()
        print(f"{pair.a.tail()}\n{pair.b.tail()}")


async def test_a_killed_instance_hands_its_desks_to_the_other_on_the_same_call(
    pbx: Asterisk, pair: Pair, phones: Phones, migrated_database: str
) -> None:
    agents = {"ana": await phones("agent1"), "bruno": await phones("agent2")}
    jars = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in agents]
    clients = {
        name: Client(http=jar, base=pair.proxy.url) for name, jar in zip(agents, jars, strict=True)
    }
    socks = {}
    try:
        for name, client in clients.items():
            assert (await client.login(name, PASSWORDS[name])).status == 200
            await sign_in_to_phone(client)
            await wait_desk(client, "ready", lambda d: d["state"] == "ready")
        server = {name: server_of(c.http.cookie_jar) for name, c in clients.items()}
        assert sorted(server.values()) == ["a", "b"], f"agents not spread: {server}"
        victim = next(n for n in agents if server[n] == "a")
        other = next(n for n in agents if n != victim)
        resp = await clients[other].post("/api/v1/desk/pause", json={"reason": "lunch"})
        assert resp.status == 200, await resp.text()

        # A carrier call into support, answered by the agent kept on instance a.
        sock = await served_again(clients[victim], False, time.monotonic() + 10.0)
        socks[victim] = sock
        carrier = await phones("carrier")
        caller = await carrier.call("5000", caller="2025550123", target=pbx.trunk_address)
        leg = await agents[victim].incoming(PBX_WAIT)
        await leg.answer()
        connected = await sock.next("connected")
        attention = (await sock.next("attention"))["attention"]

        pair.a.kill()
        killed = time.monotonic()
        await sock.close()
        again = await served_again(clients[victim], True, killed + 5.0)
        socks[victim] = again
        assert time.monotonic() - killed <= 5.0
        desk = again.of("snapshot")[-1]["desk"]
        assert desk["state"] == "in_call"
        assert desk["pop"]["id"] == connected["pop"]["id"]
        assert desk["timer"] == connected["timer"]
        assert desk["attention"]["id"] == attention["id"]
        assert leg.is_up and caller.is_up  # the PBX kept the call throughout

        await caller.hangup()
        assert await leg.ended(PBX_WAIT) == "bye-received"
        await again.next("call_ended")
        conn = await asyncpg.connect(migrated_database)
        try:
            rows: list[asyncpg.Record] = []
            for _ in range(100):
                rows = list(await conn.fetch("SELECT outcome, ended_at, attention_id FROM calls"))
                if rows and all(r["ended_at"] is not None for r in rows):
                    break
                await asyncio.sleep(0.1)
            assert [(r["outcome"], r["attention_id"]) for r in rows] == [
                ("answered", attention["id"])
            ]
            assert await conn.fetchval("SELECT count(*) FROM attentions") == 1
        finally:
            await conn.close()

        # A rolling restart, one instance at a time: nobody is signed out.
        pair.a.start()
        await pair.a.wait_ready()
        for proc in (pair.b, pair.a):
            assert await proc.stop() == 0
            proc.start()
            await proc.wait_ready()
            for name, client in clients.items():
                me = await client.get("/api/v1/me")
                assert me.status == 200, f"{name} signed out by the restart of {proc.name}"
                if name in socks:
                    await socks[name].close()
                socks[name] = await served_again(client, False, time.monotonic() + 10.0)
        members = await asyncio.to_thread(pbx.queue_interfaces, "support")
        assert members == {"PJSIP/agent1", "PJSIP/agent2"}
    finally:
        for s in socks.values():
            await s.close()
        for jar in jars:
            await jar.close()
