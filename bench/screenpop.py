"""Screen-pop latency: from the ``AgentCalled`` frame leaving the simulator to the pop at the agent.

One process runs the PBX simulator and cti (real PostgreSQL, real AMI over TCP), or with
``--pbx-process`` the simulator runs in a process of its own, as Asterisk does beside a real cti
(then cti's event loop does only cti's work); 500 operators are signed in and sit at their desks
(each phone added to the ``support`` queue by a desk sign-in). Another process holds the 500 desk
WebSockets (the ``websockets`` client) and notes when each pop arrives. All read
``time.monotonic()`` (CLOCK_MONOTONIC, shared by the processes of one machine): the simulator
notes when it writes each ``AgentCalled``, the client when the pop arrives.

Inbound calls arrive at ``--rate`` per second; the agents' phones are simulated (they answer at
once, so each call also opens an attention and writes the call log, as in production), but every
``AgentCalled`` goes to one of the 500 desk interfaces.

Baseline, in the same run: the AMI part alone (``AgentCalled`` written → ``AgentRinging`` notice
delivered inside cti), so the ratio shows what the desk adds (lookup, push, WebSocket).

By default an agent's after-call work never ends, so each agent takes one call and a run has at
most as many calls as agents (2,000 agents at 50 calls/s: 40 s). With ``--wrapup S`` cti ends each
wrap-up after ``S`` seconds (the group's maximum; the agent's queue pause is lifted) and agents take
call after call: the steady state of a long run, with the collections that come every so often
and the work of ending each wrap-up.

Run: .venv/bin/python bench/screenpop.py [--agents 500] [--rate 20] [--seconds 15] [--garbage]
    [--pbx-process] [--wrapup 5]
PostgreSQL: ``CTI_TEST_PG`` (default postgresql://postgres@127.0.0.1:5432/test); a scratch
database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import datetime
import gc
import itertools
import json
import statistics
import sys
import time
from typing import Any

import aiohttp
from scratch import drop_database, scratch_database

PASSWORD = "bench-secret-1"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- the client process ---------------------------------------------------------------------


async def clients_main() -> None:
    """Open one desk WebSocket per token read on stdin; print when each pop arrives."""
    from websockets.asyncio.client import connect

    setup = json.loads(sys.stdin.readline())
    base, tokens = setup["base"], setup["tokens"]
    arrivals: list[tuple[str, float]] = []

    async def desk(token: str, ready: asyncio.Event, counter: list[int]) -> None:
        async with opening:
            ws = await connect(
                base.replace("http://", "ws://") + "ws/desk",
                additional_headers={"Cookie": f"cti_session={token}"},
                origin=base.rstrip("/"),  # type: ignore[arg-type]
                max_queue=None,
            )
        async with ws:
            counter[0] += 1
            if counter[0] == len(tokens):
                ready.set()
            async for frame in ws:
                if '"type":"pop"' in frame:
                    t = time.monotonic()
                    msg = json.loads(frame)
                    arrivals.append((msg["pop"]["id"], t))

    # Thousands of handshakes at once time out (10 s each) on a small machine: a few at a time.
    opening = asyncio.Semaphore(64)
    ready = asyncio.Event()
    counter = [0]
    tasks = [asyncio.create_task(desk(t, ready, counter)) for t in tokens]
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait([waiting, *tasks], return_when=asyncio.FIRST_COMPLETED)
    if not ready.is_set():  # a desk's socket failed or closed before all were open
        failed = next(t for t in tasks if t.done())
        raise SystemExit(f"a desk WebSocket did not stay open: {failed.exception()!r}")
    # This one process stands for thousands of browsers, each on its own machine: a pause here
    # would delay noting a pop that had arrived (its young collections took up to 99 ms at 2,000
    # desks). So its collector is off while the calls come in (what it would free waits for the
    # end); any collection still made is reported with the pops.
    gc.freeze()
    gc.disable()
    pauses = gc_pauses()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"arrivals": arrivals, "gc": pauses}), flush=True)


# --- the PBX simulator (in the server's process, or in its own as Asterisk would be) -----------


def note_agent_called(sent: dict[str, float]) -> Any:
    """A frame listener noting when each ``AgentCalled`` is written (monotonic), by uniqueid."""

    def on_frame(cat: int, frame: bytes) -> None:
        if frame.startswith(b"Event: AgentCalled\r\n"):
            t = time.monotonic()
            start = frame.index(b"\r\nUniqueid: ") + 12
            sent[frame[start : frame.index(b"\r\n", start)].decode()] = t

    return on_frame


async def place_calls(sim: Any, plan: dict[str, Any]) -> float:
    """The inbound calls of ``plan`` at its rate (one caller in ten unknown); when they began."""
    phones, interval = plan["phones"], 1.0 / plan["rate"]
    t0 = time.monotonic()
    for i in range(plan["calls"]):
        delay = t0 + i * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sim.inbound_call(
            "support",
            phones[i % len(phones)] if i % 10 else "+15550009999",
            f"Caller {i}",
            talk_seconds=plan["talk"],
        )
    return t0


async def pbx_main() -> None:
    """The simulator alone (``--pbx``): says its port, places the calls it is sent, then says
    when each ``AgentCalled`` left it."""
    from cti.sim import PbxSimulator

    sent: dict[str, float] = {}
    loop = asyncio.get_running_loop()
    async with PbxSimulator(seed=3, simulated_interfaces=("PJSIP/b*",)) as sim:
        sim.pbx.listeners.insert(0, note_agent_called(sent))
        print(json.dumps({"port": sim.port}), flush=True)
        plan = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
        await place_calls(sim, plan)
        await asyncio.sleep(1.0)
        print(json.dumps({"sent": sent}), flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)  # held up until the server is done


async def this_bench(part: str) -> asyncio.subprocess.Process:
    """This bench's ``part`` (``--pbx``, ``--clients``) in a process of its own, spoken to over
    its standard input and output (lines of JSON)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        part,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=1 << 26,
    )


class Pbx:
    """The simulator the bench's cti talks to: in cti's own process, or in a process of its own
    (``pbx_main``), as a real PBX is; either places the calls and notes when each
    ``AgentCalled`` left it."""

    def __init__(self, own_process: bool) -> None:
        self.own_process = own_process
        self.sent: dict[str, float] = {}
        self.port = 0
        self._sim: Any = None
        self._child: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Pbx:
        if self.own_process:
            self._child = await this_bench("--pbx")
            assert self._child.stdout is not None
            self.port = json.loads(await self._child.stdout.readline())["port"]
        else:
            from cti.sim import PbxSimulator

            self._sim = PbxSimulator(seed=3, simulated_interfaces=("PJSIP/b*",))
            await self._sim.__aenter__()
            self._sim.pbx.listeners.insert(0, note_agent_called(self.sent))
            self.port = self._sim.port
        return self

    async def calls(self, plan: dict[str, Any]) -> float:
        """Place the calls, wait a second for the last pops; when the calls began."""
        if self._child is None:
            t0 = await place_calls(self._sim, plan)
            await asyncio.sleep(1.0)
            return t0
        assert self._child.stdin is not None and self._child.stdout is not None
        t0 = time.monotonic()
        self._child.stdin.write((json.dumps(plan) + "\n").encode())
        await self._child.stdin.drain()
        self.sent.update(json.loads(await self._child.stdout.readline())["sent"])
        return t0

    async def __aexit__(self, *exc: object) -> None:
        if self._child is not None:
            assert self._child.stdin is not None
            self._child.stdin.write(b"stop\n")
            await self._child.stdin.drain()
            await self._child.wait()
        else:
            await self._sim.__aexit__(*exc)


# --- the server process ---------------------------------------------------------------------


async def fill(db: Any, agents: int, customers: int, wrapup: int | None) -> list[str]:
    """Operators sharing one cheap password hash and customers with history, receivables; their
    group ends each wrap-up after ``wrapup`` seconds (``None``: never)."""
    import sqlalchemy as sa
    from argon2 import PasswordHasher

    from cti.db.models import Attention, AttentionGroup, Customer, Phone, Receivable
    from cti.db.models import Operator as Op
    from cti.domain.model import AttentionKind, AttentionStatus, Direction, Role, Routine

    # Cheap Argon2 parameters, read back from the hash at verify time: 500 sign-ins in seconds.
    pw = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    async with db.sessions.begin() as s:
        group = AttentionGroup(name="Bench", ideal_talk_seconds=120, max_wrapup_seconds=wrapup)
        s.add(group)
        await s.flush()
        await s.execute(
            sa.insert(Op),
            [
                {
                    "username": f"agent{i:03d}",
                    "full_name": f"Agent {i:03d}",
                    "password_hash": pw,
                    "role": Role.OPERATOR,
                    "routines": frozenset({Routine.TELEMARKETING, Routine.COLLECTION}),
                    "group_id": group.id,
                    "extension": f"b{i:03d}",
                    "interface": f"PJSIP/b{i:03d}",
                }
                for i in range(agents)
            ],
        )
        rows = [
            Customer(code=f"K{i:05d}", name=f"Customer {i}", region="US") for i in range(customers)
        ]
        s.add_all(rows)
        await s.flush()
        phones = []
        for i, c in enumerate(rows):
            number = f"+1202555{i:04d}"
            phones.append(number)
            s.add(Phone(phone=number, raw=number, customer_id=c.id))
            for k in range(3):
                s.add(
                    Attention(
                        kind=AttentionKind.TELEMARKETING,
                        direction=Direction.INBOUND,
                        status=AttentionStatus.CLOSED,
                        customer_id=c.id,
                        subject=f"Earlier contact {k}",
                    )
                )
            if i % 3 == 0:
                s.add(
                    Receivable(
                        customer_id=c.id,
                        invoice_number=f"INV-{i}",
                        due_on=datetime.date(2026, 1, 1),
                        amount=100,
                    )
                )
    return phones


async def server_main(args: argparse.Namespace) -> None:
    from cti.app import running_service
    from cti.config import AmiServerSettings, Secret, load_settings
    from cti.domain.notices import AgentRinging

    name, url = await scratch_database("cti_bench")
    pauses = gc_pauses()
    noticed: dict[str, float] = {}
    stages = stage_marks()
    where = "its own process" if args.pbx_process else "cti's process"
    print(f"the PBX simulator runs in {where}", flush=True)

    try:
        async with Pbx(args.pbx_process) as sim:
            sent = sim.sent
            base = load_settings(environ={})
            settings = dataclasses.replace(
                base,
                ami=(
                    AmiServerSettings(
                        name="pbx1", port=sim.port, secret=Secret("ctisecret"), reconnect_min=0.1
                    ),
                ),
                server=dataclasses.replace(base.server, port=0),
                database=dataclasses.replace(base.database, pool_size=20),
                logging=dataclasses.replace(base.logging, level="WARNING"),
            )
            async with running_service(settings, database_url=url) as svc:
                phones = await fill(svc.runtime.db, args.agents, args.customers, args.wrapup)
                await wait_connected(svc.runtime.ami)
                svc.runtime.ami.subscribe(
                    lambda n: (
                        noticed.__setitem__(n.uniqueid, time.monotonic())
                        if isinstance(n, AgentRinging)
                        else None
                    )
                )
                t_login = time.perf_counter()
                tokens = await sign_in_all(svc.url, args.agents)
                print(
                    f"{args.agents} operators signed in and at their desks in "
                    f"{time.perf_counter() - t_login:.1f} s",
                    flush=True,
                )
                child = await this_bench("--clients")
                assert child.stdin is not None and child.stdout is not None
                child.stdin.write((json.dumps({"base": svc.url, "tokens": tokens}) + "\n").encode())
                await child.stdin.drain()
                assert (await child.stdout.readline()).strip() == b"ready"
                print(f"{args.agents} desk WebSockets open", flush=True)

                calls = int(args.rate * args.seconds)
                if args.garbage:
                    # What the set-up left (migrations, 2,000 sign-ins) is not the calls' doing.
                    gc.unfreeze()
                    left = gc.collect()
                    gc.freeze()
                    print(f"garbage left by the set-up, collected before the calls: {left} objects")
                trips = count_round_trips()
                cpu0 = time.process_time()
                plan = {"phones": phones, "calls": calls, "rate": args.rate, "talk": args.talk}
                t0 = await sim.calls(plan)
                cpu, elapsed = time.process_time() - cpu0, time.monotonic() - t0
                done = trips[0]
                child.stdin.write(b"stop\n")
                await child.stdin.drain()
                measured = json.loads(await child.stdout.readline())
                arrivals = measured["arrivals"]
                await child.wait()
                report(sent, noticed, arrivals, calls, args)
                report_stages(sent, noticed, stages, arrivals)
                print(
                    f"work per call in the server process ({'cti' if args.pbx_process else 'cti and the simulator'}): "
                    f"{cpu / calls * 1000:.1f} ms of CPU ({cpu / elapsed:.0%} of"
                    f" one core while calls came in), {done / calls:.1f} round trips to PostgreSQL"
                )
                import resource

                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(f"server process peak memory: {rss:.0f} MB")
                gc_report(pauses, measured["gc"], t0, sent, arrivals)
                frozen_garbage(time.monotonic() - t0)
    finally:
        await drop_database(name)


def count_round_trips() -> list[int]:
    """From now on, how many round trips to PostgreSQL the process makes (every connection,
    SQLAlchemy's and cti's own: statements, BEGIN, COMMIT, pings): the work a call costs the
    database path, the same on any machine."""
    from asyncpg.connection import Connection
    from asyncpg.prepared_stmt import PreparedStatement

    count = [0]
    do_execute = Connection._do_execute
    execute = Connection.execute
    bind_execute = PreparedStatement._PreparedStatement__bind_execute  # type: ignore[attr-defined]

    async def counted_do_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return await do_execute(self, *args, **kwargs)

    async def counted_execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if not args:  # a simple query (BEGIN, COMMIT); with arguments it is _do_execute's
            count[0] += 1
        return await execute(self, query, *args, **kwargs)

    async def counted_bind_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return await bind_execute(self, *args, **kwargs)

    Connection._do_execute = counted_do_execute  # type: ignore[method-assign]
    Connection.execute = counted_execute  # type: ignore[method-assign]
    PreparedStatement._PreparedStatement__bind_execute = counted_bind_execute  # type: ignore[attr-defined]
    return count


def stage_marks() -> dict[str, dict[str, float]]:
    """When each pop reached each stage inside cti (monotonic), keyed by stage then call: the
    agent's desk worker starts on the ring; the pop is queued for the socket."""
    from cti.web.desk_service import DeskService

    marks: dict[str, dict[str, float]] = {"worker": {}, "queued": {}}
    handle, push = DeskService._handle, DeskService.push

    async def timed_handle(self: Any, agent: Any, n: Any) -> None:
        if type(n).__name__ == "AgentRinging":
            marks["worker"][str(n.uniqueid)] = time.monotonic()
        await handle(self, agent, n)

    def timed_push(self: Any, user_id: int, message: dict[str, Any]) -> None:
        push(self, user_id, message)
        if message.get("type") == "pop":
            marks["queued"][message["pop"]["id"]] = time.monotonic()

    DeskService._handle = timed_handle  # type: ignore[method-assign]
    DeskService.push = timed_push  # type: ignore[method-assign]
    return marks


def report_stages(
    sent: dict[str, float],
    noticed: dict[str, float],
    stages: dict[str, dict[str, float]],
    arrivals: list[tuple[str, float]],
) -> None:
    """Where a pop's time went: each stage's share, p50 and p99, and for the slowest pops."""
    arrived = dict(arrivals)
    steps = (
        ("AMI: AgentCalled written -> notice", sent, noticed),
        ("notice -> the agent's desk worker runs", noticed, stages["worker"]),
        ("worker -> pop queued (lookup, campaign)", stages["worker"], stages["queued"]),
        ("queued -> arrived at the client", stages["queued"], arrived),
    )
    print(f"{'stage':<44}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for label, begin, end in steps:
        values = [(end[k] - begin[k]) * 1000 for k in end if k in begin]
        if values:
            print(
                f"{label:<44}{statistics.median(values):>9.2f}{pct(values, 99):>9.2f}"
                f"{max(values):>9.2f}"
            )
    slow = sorted(arrived, key=lambda k: arrived[k] - sent.get(k, arrived[k]))[-5:]
    for k in slow:
        if k in sent:
            marks = [sent[k], noticed.get(k), stages["worker"].get(k), stages["queued"].get(k)]
            marks.append(arrived[k])
            parts = [
                f"{(b - a) * 1000:.0f}" if a is not None and b is not None else "?"
                for a, b in itertools.pairwise(marks)
            ]
            print(f"  slow pop {(arrived[k] - sent[k]) * 1000:.0f} ms = " + " + ".join(parts))


def frozen_garbage(seconds: float) -> None:
    """What cti's :class:`~cti.gcpolicy.GcPolicy` keeps until its hourly full collection: garbage
    in reference cycles not freed yet, nearly all of it frozen while still alive. Measured by
    that collection, run now: how many objects it frees, and how many memory blocks they held.
    Every such object a second is 3.6 million an hour, visited and freed in one pause."""
    blocks = sys.getallocatedblocks()
    frozen = gc.get_freeze_count()
    started = time.perf_counter()
    gc.unfreeze()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what it finds is kept in gc.garbage, to be counted
    found = gc.collect()
    took = (time.perf_counter() - started) * 1000
    gc.set_debug(0)
    kinds = collections.Counter(type(o).__qualname__ for o in gc.garbage)
    # The PBX simulator runs in this process too; its calls' objects are not cti's.
    simulator = sum(1 for o in gc.garbage if type(o).__module__.startswith("cti.sim"))
    gc.garbage.clear()
    gc.collect()
    gc.freeze()
    freed = blocks - sys.getallocatedblocks()
    print(
        f"cyclic garbage waiting for the hourly full collection after {seconds:.0f} s of calls:"
        f" {found} objects ({found / seconds:.0f}/s), {freed} memory blocks"
        f" ({freed / seconds:.0f}/s); {frozen} objects were frozen; that collection took"
        f" {took:.0f} ms"
    )
    print(
        f"  {simulator} of them are the PBX simulator's own objects; most of it: "
        + ", ".join(f"{n} {kind}" for kind, n in kinds.most_common(12))
    )


def gc_pauses() -> list[tuple[float, int, float]]:
    """When (monotonic), of which generation and how long (ms) each garbage collection from now on
    took: each one stops the whole event loop, AMI included."""
    pauses: list[tuple[float, int, float]] = []
    started = [0.0]

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.monotonic()
        else:
            took = (time.monotonic() - started[0]) * 1000
            pauses.append((started[0], info.get("generation", -1), took))

    gc.callbacks.append(timed)
    return pauses


async def wait_connected(ami: Any) -> None:
    for _ in range(200):
        if ami.status()["pbx1"] == "connected":
            return
        await asyncio.sleep(0.05)
    raise SystemExit("the AMI link did not come up")


async def sign_in_all(base: str, agents: int) -> list[str]:
    sem = asyncio.Semaphore(8)
    tokens: list[str] = [""] * agents

    async def one(i: int) -> None:
        async with sem, aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            r = await http.post(
                f"{base}api/v1/login", json={"username": f"agent{i:03d}", "password": PASSWORD}
            )
            body = await r.json()
            assert r.status == 200, body
            r = await http.post(
                f"{base}api/v1/desk/signin", json={}, headers={"X-CSRF-Token": body["csrf"]}
            )
            assert r.status == 200, await r.text()
            for cookie in http.cookie_jar:
                if cookie.key == "cti_session":
                    tokens[i] = cookie.value

    await asyncio.gather(*(one(i) for i in range(agents)))
    return tokens


def report(
    sent: dict[str, float],
    noticed: dict[str, float],
    arrivals: list[tuple[str, float]],
    calls: int,
    args: argparse.Namespace,
) -> None:
    pops = [(t - sent[uid]) * 1000 for uid, t in arrivals if uid in sent]
    ami = [(t - sent[uid]) * 1000 for uid, t in noticed.items() if uid in sent]
    print(
        f"\n{calls} inbound calls at {args.rate}/s to {args.agents} desk agents; "
        f"{len(sent)} AgentCalled, {len(arrivals)} pops received"
    )
    print(f"{'path':<44}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for label, values in (
        ("baseline: AgentCalled -> AgentRinging notice", ami),
        ("AgentCalled -> pop at the agent's WebSocket", pops),
    ):
        if values:
            print(
                f"{label:<44}{statistics.median(values):>9.2f}{pct(values, 99):>9.2f}{max(values):>9.2f}"
            )
    if ami and pops:
        print(f"ratio p99 pop / p99 AMI baseline: {pct(pops, 99) / pct(ami, 99):.1f}x")
    if arrivals and sent:
        # When the slowest pops happened (seconds into the run): a warm-up, or a stall later on.
        t0 = min(sent.values())
        slow = sorted(
            ((t - sent[uid]) * 1000, sent[uid] - t0) for uid, t in arrivals if uid in sent
        )
        print("slowest pops: " + ", ".join(f"{ms:.0f} ms at {at:.1f} s" for ms, at in slow[-5:]))


def gc_report(
    pauses: list[tuple[float, int, float]],
    client: list[tuple[float, int, float]],
    t0: float,
    sent: dict[str, float],
    arrivals: list[tuple[str, float]],
) -> None:
    """The collections while calls came in, and which of the slowest pops waited for one: where
    the tail's time went."""
    during = [(at, gen, ms) for at, gen, ms in pauses if at >= t0]
    theirs = [(at, gen, ms) for at, gen, ms in client if at >= t0]
    full = sorted((ms for _, gen, ms in during if gen == 2), reverse=True)
    print(
        f"full garbage collections while calls came in: {len(full)}, longest "
        + (", ".join(f"{ms:.0f} ms" for ms in full[:3]) or "-")
    )
    young = sorted((p for p in during if p[1] < 2), key=lambda p: p[2], reverse=True)
    print(
        f"young (generation 0/1) collections while calls came in: {len(young)}, longest "
        + (
            ", ".join(f"{ms:.0f} ms (gen {gen}) at {at - t0:.1f} s" for at, gen, ms in young[:3])
            or "-"
        )
    )
    slow = sorted(((t - sent[uid]), sent[uid], t) for uid, t in arrivals if uid in sent)[-5:]
    longest = max((ms for _, _, ms in theirs), default=0.0)
    print(
        f"collections in the clients' process (the measuring end): {len(theirs)},"
        f" longest {longest:.0f} ms"
    )

    def spent(which: list[tuple[float, int, float]], begin: float, end: float) -> float:
        return sum(ms for at, _, ms in which if begin <= at <= end)

    print(
        "of the 5 slowest pops, ms in cti's collections / the clients' while on their way: "
        + ", ".join(
            f"{spent(during, b, e):.0f}/{spent(theirs, b, e):.0f} of {took * 1000:.0f}"
            for took, b, e in slow
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--talk", type=float, default=3.0, help="seconds each caller talks")
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument(
        "--wrapup",
        type=int,
        default=None,
        help="end each agent's after-call work after this many seconds, so that agents take"
        " call after call (by default it never ends: each agent takes one call, which bounds a"
        " run to as many calls as agents)",
    )
    parser.add_argument(
        "--garbage",
        action="store_true",
        help="collect the set-up's garbage before the calls, so that the cyclic garbage reported"
        " at the end is the calls' alone (the latencies are then not those of a plain run)",
    )
    parser.add_argument(
        "--pbx-process",
        action="store_true",
        help="run the PBX simulator in a process of its own, as a real PBX is (by default it"
        " shares cti's process and event loop)",
    )
    parser.add_argument("--clients", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pbx", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.clients:
        asyncio.run(clients_main())
    elif args.pbx:
        asyncio.run(pbx_main())
    else:
        calls = int(args.rate * args.seconds)
        if args.wrapup is None and calls > args.agents:
            print(
                f"note: {calls} calls for {args.agents} agents whose after-call work never ends:"
                f" only the first {args.agents} reach an agent, the rest wait in the queue"
                " (--wrapup S lets agents take call after call)",
                file=sys.stderr,
            )
        asyncio.run(server_main(args))


if __name__ == "__main__":
    main()
