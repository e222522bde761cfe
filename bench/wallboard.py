"""The wallboard stream under load: 200 wallboards while the simulator makes 20 calls a second.

Three processes, so each one's CPU is its own: the PBX simulator (``python -m cti.sim``, real
time, inbound traffic on three queues with simulated agents), the cti server (this file with
``--serve``: AMI link, reducer, wallboard ticker, aiohttp) and this process, the wallboards
(``websockets`` clients signed in as a supervisor).

Two phases in the same run: a baseline with 1 wallboard, then N wallboards. For each it prints
the server's CPU time per delivered update (server process CPU ÷ frames received by all
wallboards), the server CPU per tick, and the update lag (the frame's ``tick_ms``, stamped by the
server when the tick fired, to its arrival here; same host clock) p50/p99.

Run: .venv/bin/python bench/wallboard.py [--clients 200] [--cps 20] [--seconds 15]
(needs PostgreSQL at CTI_TEST_PG or postgresql://postgres@127.0.0.1:5432/test; else an embedded one)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import asyncpg  # type: ignore[import-untyped]
from websockets.asyncio.client import connect
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("CTI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
QUEUES = ("collections", "support", "sales")
TICKS = b'"tick_ms":'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def spawn(cmd: list[str], *, stdin: bool = False) -> subprocess.Popen[str]:
    """A child process whose stdout we read (and whose stdin, closed, tells the server to stop)."""
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdin=subprocess.PIPE if stdin else None,
        stdout=subprocess.PIPE,
        text=True,
    )


# --- the server process -------------------------------------------------------------------------


async def serve(ami_port: int, database_url: str | None) -> None:
    from cti.app import running_service
    from cti.config import AmiServerSettings, Secret, load_settings
    from cti.db.users import add_user

    base = load_settings(environ={})
    ami = AmiServerSettings(
        name="pbx1", host="127.0.0.1", port=ami_port, username="cti", secret=Secret("ctisecret")
    )
    settings = dataclasses.replace(
        base,
        ami=(ami,),
        server=dataclasses.replace(base.server, port=0),
        logging=dataclasses.replace(base.logging, level="WARNING"),
    )
    async with running_service(settings, database_url=database_url) as svc:
        with contextlib.suppress(Exception):
            await add_user(
                svc.runtime.db,
                username="boss",
                password="boss-secret-1",
                role="supervisor",
                full_name="Bench Supervisor",
            )
        print(f"URL {svc.url}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_reader(sys.stdin.fileno(), stop.set)
        await stop.wait()


async def make_database() -> str | None:
    try:
        conn = await asyncpg.connect(ADMIN_URL, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    name = f"cti_bench_wallboard_{os.getpid()}"
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


async def drop_database(url: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


# --- the wallboards -------------------------------------------------------------------------------


@dataclasses.dataclass
class Board:
    frames: int = 0
    lags: list[float] = dataclasses.field(default_factory=list)
    recording: bool = False


async def wallboard(url: str, cookie: str, board: Board, ready: asyncio.Event) -> None:
    ws_url = url.replace("http://", "ws://") + "ws/wallboard"
    async with connect(
        ws_url,
        additional_headers={"Cookie": cookie},
        origin=Origin(url.rstrip("/")),
        max_size=None,
        compression=None,
    ) as ws:
        ready.set()
        async for frame in ws:
            arrived = time.time() * 1000
            data = frame if isinstance(frame, bytes) else frame.encode()
            at = data.rfind(TICKS)
            if at < 0 or not board.recording:
                continue
            end = data.find(b",", at)
            board.frames += 1
            board.lags.append(arrived - float(data[at + len(TICKS) : end]))


async def phase(
    url: str, cookie: str, clients: int, seconds: float, server_pid: int
) -> dict[str, float]:
    boards = [Board() for _ in range(clients)]
    readies = [asyncio.Event() for _ in range(clients)]
    tasks = [
        asyncio.create_task(wallboard(url, cookie, b, r))
        for b, r in zip(boards, readies, strict=True)
    ]
    await asyncio.gather(*(r.wait() for r in readies))
    await asyncio.sleep(2.0)  # let the snapshots go out
    cpu0 = cpu_seconds(server_pid)
    for b in boards:
        b.recording = True
    t0 = time.perf_counter()
    await asyncio.sleep(seconds)
    for b in boards:
        b.recording = False
    elapsed = time.perf_counter() - t0
    cpu = cpu_seconds(server_pid) - cpu0
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    frames = sum(b.frames for b in boards)
    lags = sorted(lag for b in boards for lag in b.lags)
    ticks = max(b.frames for b in boards)
    return {
        "clients": clients,
        "seconds": elapsed,
        "frames": frames,
        "ticks": ticks,
        "cpu": cpu,
        "cpu_per_update_us": 1e6 * cpu / frames if frames else float("nan"),
        "cpu_per_tick_ms": 1e3 * cpu / ticks if ticks else float("nan"),
        "cpu_share": cpu / elapsed,
        "lag_p50": statistics.median(lags) if lags else float("nan"),
        "lag_p99": lags[int(0.99 * (len(lags) - 1))] if lags else float("nan"),
        "dropped_clients": sum(1 for t in tasks if t.done() and not t.cancelled()),
    }


async def main(ns: argparse.Namespace) -> None:
    py = sys.executable
    sim_port = free_port()
    per_queue_per_minute = ns.cps * 60 / len(QUEUES)
    sim = spawn(
        [
            *(py, "-m", "cti.sim", "--port", str(sim_port)),
            *("--rate", str(per_queue_per_minute), "--agents", str(ns.agents), "--seed", "7"),
        ]
    )
    assert sim.stdout is not None
    sim.stdout.readline()
    db_url = await make_database()
    server = spawn(
        [
            *(py, __file__, "--serve", "--ami-port", str(sim_port)),
            *(("--database", db_url) if db_url else ()),
        ],
        stdin=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("URL "):
            raise SystemExit(f"the server did not start: {line!r}")
        url = line.split()[1]
        async with aiohttp.ClientSession() as http:
            resp = await http.post(
                f"{url}api/v1/login", json={"username": "boss", "password": "boss-secret-1"}
            )
            assert resp.status == 200, await resp.text()
            cookie = f"cti_session={resp.cookies['cti_session'].value}"
        await asyncio.sleep(ns.warmup)  # the queues fill up, agents get busy
        print(
            f"simulator: {ns.cps:g} calls/s on {len(QUEUES)} queues, {ns.agents} agents per queue;"
            f" {ns.seconds:g} s per phase"
        )
        print(
            f"{'wallboards':>10} {'updates':>8} {'ticks':>6} {'server CPU':>11}"
            f" {'CPU/update':>11} {'CPU/tick':>9} {'lag p50':>8} {'lag p99':>8}"
        )
        results = []
        for clients in (1, ns.clients):
            r = await phase(url, cookie, clients, ns.seconds, server.pid)
            results.append(r)
            print(
                f"{clients:>10} {r['frames']:>8.0f} {r['ticks']:>6.0f} {100 * r['cpu_share']:>10.1f}%"
                f" {r['cpu_per_update_us']:>9.1f}µs {r['cpu_per_tick_ms']:>7.1f}ms"
                f" {r['lag_p50']:>6.1f}ms {r['lag_p99']:>6.1f}ms"
            )
        base, load = results
        marginal = (load["cpu"] - base["cpu"] * load["seconds"] / base["seconds"]) / max(
            1.0, load["frames"] - base["frames"]
        )
        print(
            f"marginal server CPU per extra delivered update: {1e6 * marginal:.1f}µs;"
            f" CPU/update ratio {ns.clients} vs 1: "
            f"{load['cpu_per_update_us'] / base['cpu_per_update_us']:.3f};"
            f" lag p99 ratio: {load['lag_p99'] / base['lag_p99']:.2f}"
        )
    finally:
        for proc in (server, sim):
            with contextlib.suppress(Exception):
                if proc is server and server.stdin is not None:
                    server.stdin.close()
                proc.terminate()
                proc.wait(timeout=15)
        if db_url:
            await drop_database(db_url)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--cps", type=float, default=20.0, help="inbound calls per second, in total")
    p.add_argument("--agents", type=int, default=60, help="simulated agents per queue")
    p.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    p.add_argument("--warmup", type=float, default=5.0)
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--ami-port", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--database", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    if args.serve:
        asyncio.run(serve(args.ami_port, args.database))
    else:
        asyncio.run(main(args))
