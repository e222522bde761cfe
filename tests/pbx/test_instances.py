"""Two ``cti serve`` processes behind a real HAProxy, on a real Asterisk: the agents spread over
both; the instance of an agent on a call is killed with ``kill -9`` and the other serves their desk
within 5 s, on the same call with its pop, timer and attention; the call is in the call log once;
a rolling restart of both, one at a time, signs nobody out."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import pytest

from tests.cluster.desks import served_again
from tests.cluster.harness import Haproxy, haproxy_missing, server_of
from tests.pbx.asterisk import Asterisk
from tests.pbx.conftest import PASSWORDS, make_users
from tests.pbx.cti_server import CtiServer
from tests.pbx.helpers import PBX_WAIT, Phones, sign_in_to_phone, wait_desk
from tests.pbx.sipua import Answer, Phone
from tests.pbx.test_dialer import campaign, rows, start, until_rows
from tests.web.conftest import Client


class Pair:
    def __init__(self, database_url: str, ami_port: int) -> None:
        self.a, self.b = (
            CtiServer(name, database_url=database_url, ami_port=ami_port) for name in ("a", "b")
        )
        self.proxy = Haproxy([self.a, self.b])

    def of(self, name: str | None) -> CtiServer:
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


def _busy(number: str) -> Answer:
    """Every lead is busy at once: the campaign keeps dialling and never takes an agent."""
    return Answer("busy", after=0.2)


def _dialled(carrier: Phone) -> Counter[str]:
    return Counter(c.number for c in carrier.calls if c.direction == "in")


async def test_a_killed_instance_hands_its_desks_to_the_other_on_the_same_call(
    pbx: Asterisk, pair: Pair, phones: Phones, migrated_database: str
) -> None:
    agents = {"ana": await phones("agent1"), "bruno": await phones("agent2")}
    carrier = await phones("carrier")
    carrier.on_invite(_busy)
    jars = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in range(3)]
    clients = {
        name: Client(http=jar, base=pair.proxy.url)
        for name, jar in zip((*agents, "sofia"), jars, strict=True)
    }
    socks = {}
    try:
        for name, client in clients.items():
            assert (await client.login(name, PASSWORDS[name])).status == 200
        for name in agents:
            await sign_in_to_phone(clients[name])
            await wait_desk(clients[name], "ready", lambda d: d["state"] == "ready")
            socks[name] = await served_again(clients[name], False, time.monotonic() + 10.0)
        server = {name: server_of(clients[name].http.cookie_jar) for name in agents}
        assert sorted(server.values()) == ["a", "b"], f"agents not spread: {server}"

        # A campaign runs through both instances: every lead is busy (retried only in ten
        # minutes), so it keeps dialling while an agent is free.
        leads = [f"+1202555{i:04d}" for i in range(2000, 2200)]
        cid = await campaign(clients["sofia"], name="Renewals", mode="progressive", phones=leads)
        await start(clients["sofia"], cid)
        await until_rows(migrated_database, "SELECT id FROM attempts", 4)

        # A carrier call into support, answered by whichever agent rings first.
        caller = await carrier.call("5000", caller="2025550123", target=pbx.trunk_address)
        rung = {
            asyncio.ensure_future(phone.incoming(PBX_WAIT)): name for name, phone in agents.items()
        }
        done, pending = await asyncio.wait(rung, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        first = next(iter(done))
        victim, leg = rung[first], first.result()
        await leg.answer()
        sock = socks[victim]
        connected = await sock.next("connected")
        attention = (await sock.next("attention"))["attention"]

        # kill -9 the instance that holds the victim's desk, mid-call.
        dying = pair.of(server[victim])
        dying.kill()
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

        # The campaign goes on at the instance left: no lead dialled twice.
        placed = len(await rows(migrated_database, "SELECT id FROM attempts"))
        await until_rows(migrated_database, "SELECT id FROM attempts", placed + 3)
        twice = {n: c for n, c in _dialled(carrier).items() if c > 1}
        assert twice == {}, f"dialled more than once: {twice}"

        await caller.hangup()
        assert await leg.ended(PBX_WAIT) == "bye-received"
        await again.next("call_ended")
        conn = await asyncpg.connect(migrated_database)
        try:
            found: list[asyncpg.Record] = []
            for _ in range(100):
                found = list(
                    await conn.fetch(
                        "SELECT outcome, ended_at, attention_id FROM calls WHERE uniqueid = $1",
                        connected["pop"]["id"],
                    )
                )
                if found and all(r["ended_at"] is not None for r in found):
                    break
                await asyncio.sleep(0.1)
            assert [(r["outcome"], r["attention_id"]) for r in found] == [
                ("answered", attention["id"])
            ]
            assert await conn.fetchval("SELECT count(*) FROM attentions") == 1
        finally:
            await conn.close()

        # A rolling restart, one instance at a time: nobody is signed out.
        dying.start()
        await dying.wait_ready()
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
        twice = {n: c for n, c in _dialled(carrier).items() if c > 1}
        assert twice == {}, f"dialled more than once: {twice}"
    finally:
        for s in socks.values():
            await s.close()
        for jar in jars:
            await jar.close()
