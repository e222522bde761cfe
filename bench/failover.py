"""Failover: two ``cti serve`` processes behind HAProxy, one killed with ``kill -9``.

Set-up (real parts): the PBX simulator in this process (real time), PostgreSQL (a scratch database,
migrated, dropped at the end), two ``cti serve`` processes and Debian's HAProxy in front of them
(``tests/cluster/harness.py``: the proxy config of ``docs/production.md``). ``--agents`` operators
sign in through the proxy (round robin: half on each instance) and open their desk WebSockets.

1. **Plain reconnect** (the baseline): every desk's socket drops and the page opens it again as it
   does (after 250 ms) through the proxy, to the same live instance; time from the drop to the
   desk's snapshot, signed in.
2. **Failover**: instance ``a`` is killed (SIGKILL) and, at the same instant, every agent gets a
   queue call that their phone answers. The desks of ``a`` reconnect as the desk page does (250 ms,
   then doubling); time from the kill to each desk served again by ``b`` (a snapshot, signed in).
   Then every desk must show its call (pop and attention): a call whose pop or attention never
   reached its desk, as a frame or in a snapshot, is a frame lost; an attention opened twice for
   one call is counted too.

Run: .venv/bin/python bench/failover.py [--agents 20] [--rounds 3]
PostgreSQL: ``CTI_TEST_PG`` (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scratch import drop_database, scratch_database

from cti.db import migrate
from cti.db.engine import Database
from cti.db.users import add_user, ensure_group
from cti.sim import PbxSimulator
from cti.sim.traffic import TrafficModel
from tests.cluster.harness import CtiProcess, Haproxy, haproxy_missing, server_of


class Desk:
    """One operator's browser: a cookie jar through the proxy and a desk socket."""

    def __init__(self, base: str, name: str, iface: str) -> None:
        self.base, self.name, self.iface = base, name, iface
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.frames: list[dict[str, Any]] = []
        self.reader: asyncio.Task[None] | None = None

    async def sign_in(self) -> None:
        async with self.http.post(
            f"{self.base}api/v1/login", json={"username": self.name, "password": "pw-secret-1"}
        ) as resp:
            assert resp.status == 200, await resp.text()
            self.csrf = (await resp.json())["csrf"]
        async with self.http.post(
            f"{self.base}api/v1/desk/signin", json={}, headers={"X-CSRF-Token": self.csrf}
        ) as resp:
            assert resp.status == 200, await resp.text()

    @property
    def server(self) -> str | None:
        return server_of(self.http.cookie_jar)

    async def open(self) -> None:
        self.ws = await self.http.ws_connect(
            f"{self.base}ws/desk", headers={"Origin": self.base.rstrip("/")}
        )
        self.reader = asyncio.get_running_loop().create_task(self._read(self.ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                self.frames.append(json.loads(msg.data))

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)

    def signed_in_since(self, start: int) -> bool:
        return any(f["type"] == "snapshot" and f["desk"]["signed_in"] for f in self.frames[start:])

    def closed(self) -> bool:
        return self.reader is None or self.reader.done()

    async def served_again(self, backoff: bool) -> float:
        """Reconnect (as the page does, with ``backoff``) until a signed-in snapshot; when."""
        wait = 0.25 if backoff else 0.0
        while True:
            await asyncio.sleep(wait)
            wait = min(wait * 2, 5.0) if backoff else 0.05
            start = len(self.frames)
            try:
                await self.open()
            except aiohttp.ClientError:
                continue
            await until(lambda: self.closed() or self.signed_in_since(start))  # noqa: B023
            if self.signed_in_since(start):
                return time.monotonic()

    def showed(self, linkedid: str) -> tuple[bool, bool]:
        """Whether the call's pop, and an attention for it, reached the desk."""
        pop = attention = False
        for f in self.frames:
            if f["type"] in ("pop", "connected") and f["pop"]["linkedid"] == linkedid:
                pop = True
            elif (
                f["type"] == "snapshot" and (f["desk"].get("pop") or {}).get("linkedid") == linkedid
            ):
                pop = True
                attention = attention or f["desk"].get("attention") is not None
            elif f["type"] == "attention" and pop:
                attention = True
        return pop, attention


async def until(condition: Callable[[], bool], step: float = 0.005) -> None:
    """Poll ``condition`` until it holds."""
    for _ in itertools.count():
        if condition():
            return
        await asyncio.sleep(step)


async def operators(url: str, count: int) -> list[tuple[str, str]]:
    db = Database(url)
    made = []
    async with db:
        await ensure_group(db, "Bench", 300)
        for i in range(count):
            name, iface = f"op{i:03d}", f"PJSIP/agent{i + 1}"
            await add_user(
                db,
                username=name,
                password="pw-secret-1",
                role="operator",
                routines=["telemarketing"],
                group="Bench",
                extension=iface,
                full_name=f"Operator {i}",
            )
            made.append((name, iface))
    return made


def ms(values: list[float]) -> str:
    if not values:
        return "-"
    return f"p50 {statistics.median(values) * 1000:7.0f} ms   max {max(values) * 1000:7.0f} ms"


async def one_round(url: str, sim: PbxSimulator, people: list[tuple[str, str]]) -> dict[str, Any]:
    a = CtiProcess("a", database_url=url, ami_port=sim.port)
    b = CtiProcess("b", database_url=url, ami_port=sim.port)
    proxy = Haproxy([a, b])
    desks = [Desk(proxy.url, name, iface) for name, iface in people]
    a.start()
    b.start()
    try:
        await a.wait_ready()
        await b.wait_ready()
        await proxy.start()
        for d in desks:
            await d.sign_in()
            await d.open()
        await until(lambda: all(d.signed_in_since(0) for d in desks))
        await asyncio.sleep(1.5)  # every desk's lease written (one beat)

        # 1. Plain reconnects to the same live instance.
        plain = []
        for d in desks:
            await d.close()
            closed = time.monotonic()
            plain.append(await d.served_again(backoff=True) - closed)

        # 2. kill -9 of a, with a call answered at every agent's phone meanwhile.
        on_a = [d for d in desks if d.server == "a"]
        a.kill()
        killed = time.monotonic()
        for i in range(len(desks)):
            sim.inbound_call("support", f"+1202555{i:04d}", f"Caller {i}", talk_seconds=None)
        answering = asyncio.get_running_loop().create_task(answer_all(sim, desks))
        back = await asyncio.gather(*(d.served_again(backoff=True) for d in on_a))
        failover = [t - killed for t in back]
        await answering
        await asyncio.sleep(2.0)  # the pops and attentions pushed after the answers
        lost = 0
        for d in desks:
            linkedid = sim_call_of(sim, d.iface)
            pop, attention = d.showed(linkedid) if linkedid else (False, False)
            lost += (not pop) + (not attention)
        conn = await asyncpg.connect(url)
        try:
            twice = await conn.fetchval(
                "SELECT count(*) FROM (SELECT c.uniqueid FROM calls c JOIN attentions a"
                " ON a.id = c.attention_id GROUP BY c.uniqueid HAVING count(DISTINCT a.id) > 1) t"
            )
            opened = await conn.fetchval("SELECT count(*) FROM attentions")
        finally:
            await conn.close()
        return {
            "plain": plain,
            "failover": failover,
            "moved": len(on_a),
            "calls": len(desks),
            "lost": lost,
            "twice": int(twice or 0),
            "opened": int(opened or 0),
        }
    finally:
        for d in desks:
            await d.close()
            await d.http.close()
        proxy.stop()
        a.kill()
        b.kill()


def sim_call_of(sim: PbxSimulator, iface: str) -> str | None:
    """The linkedid of the call ``iface`` is on, as the PBX has it."""
    for ch in sim.pbx.channels.values():
        if ch.name.startswith(iface + "-") and ch.alive:
            return str(ch.linkedid)
    return None


async def answer_all(sim: PbxSimulator, desks: list[Desk]) -> None:
    pending = {d.iface for d in desks}
    deadline = time.monotonic() + 15.0
    while pending and time.monotonic() < deadline:
        for iface in list(pending):
            if sim.answer(iface):
                pending.discard(iface)
        await asyncio.sleep(0.02)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if (missing := haproxy_missing()) is not None:
        raise SystemExit(missing)
    plain: list[float] = []
    failover: list[float] = []
    lost = twice = calls = moved = 0
    for n in range(args.rounds):
        name, url = await scratch_database("cti_failover")
        try:
            await asyncio.to_thread(migrate.upgrade, url)
            people = await operators(url, args.agents)
            async with PbxSimulator(traffic=TrafficModel(inbound_per_minute={})) as sim:
                r = await one_round(url, sim, people)
        finally:
            await drop_database(name)
        plain += r["plain"]
        failover += r["failover"]
        lost += r["lost"]
        twice += r["twice"]
        calls += r["calls"]
        moved += r["moved"]
        print(
            f"round {n + 1}: {r['moved']} desks moved, failover {ms(r['failover'])}, "
            f"{r['lost']} frames lost, {r['twice']} attentions opened twice",
            flush=True,
        )
    print()
    print(f"{args.agents} agents on 2 instances behind HAProxy, {args.rounds} rounds")
    print(f"plain reconnect (same instance):   {ms(plain)}")
    print(f"kill -9 -> served by the other:    {ms(failover)}")
    ratio = max(failover) / max(plain) if plain and failover else float("nan")
    print(f"failover max / plain reconnect max: {ratio:.1f}x")
    print(f"desks moved: {moved}; calls answered during the failover: {calls}")
    print(f"frames lost (a pop or an attention that never reached its desk): {lost}")
    print(f"attentions opened twice for one call: {twice}")


if __name__ == "__main__":
    asyncio.run(main())
