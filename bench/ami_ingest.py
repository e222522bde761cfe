"""AMI ingest throughput: parse + translate + reduce, next to stock panoramisk, same bytes, same run.

A child process serves a real capture, repeated many times (Uniqueids renumbered each time, so
every repetition is a new set of calls), over loopback TCP. This process reads it on one core:

- cti: ``FrameParser`` → ``translate`` → ``PbxState.apply`` (the AmiService path, minus the queue);
- stock: panoramisk's ``AMIProtocol.data_received`` (decode, split, ``Message`` per frame,
  dispatch), with no typed events and no state at all.

Run: ``.venv/bin/python bench/ami_ingest.py [--capture inbound_queue_call] [--repeat 2000]``
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from panoramisk.ami_protocol import AMIProtocol

from cti.ami.frames import FrameParser
from cti.ami.translate import LIST_EVENTS, TRANSLATED_EVENTS, translate
from cti.domain.state import PbxState

TRANSCRIPTS = Path(__file__).resolve().parent.parent.parent / "shared" / "ami-transcripts"
BANNER = b"Asterisk Call Manager/11.0.0\r\n"


def payload(capture: str, repeat: int) -> tuple[bytes, int]:
    raw = (TRANSCRIPTS / f"{capture}.ami").read_bytes()
    body = raw.split(b"\r\n", 1)[1]
    prefix = body.split(b"Uniqueid: ", 1)[1][:8] if b"Uniqueid: " in body else b"17953564"
    base = int(prefix)
    parts = [BANNER]
    for r in range(repeat):
        parts.append(body.replace(prefix, b"%08d" % (base + r + 1)))
    data = b"".join(parts)
    return data, data.count(b"\r\n\r\nEvent: ") + data.startswith(b"Event: ")


def serve(data: bytes, port_out: Any, rounds: int) -> None:
    with socket.create_server(("127.0.0.1", 0)) as srv:
        port_out.send(srv.getsockname()[1])
        for _ in range(rounds):
            conn, _ = srv.accept()
            with conn:
                conn.sendall(data)
                conn.shutdown(socket.SHUT_WR)
                conn.recv(1)


class CtiPipeline(asyncio.Protocol):
    def __init__(self, done: asyncio.Future[None]) -> None:
        self.parser = FrameParser(wanted_events=TRANSLATED_EVENTS | LIST_EVENTS)
        self.state = PbxState("bench")
        self.done = done
        self.applied = 0
        self.at = datetime.now(UTC)

    def data_received(self, data: bytes) -> None:
        at = self.at
        apply = self.state.apply
        n = 0
        for frame in self.parser.feed(data):
            if "Event" in frame:
                ev = translate(frame, at)
                if ev is not None:
                    apply(ev)
                    n += 1
        self.applied += n

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


class _CountingFactory:
    forgetable_actions = ()

    def __init__(self) -> None:
        self.awaiting_actions: list[Any] = []
        self.dispatched = 0

    def dispatch(self, message: Any) -> None:
        self.dispatched += 1

    def connection_lost(self, exc: Any) -> None:
        pass


class StockPipeline(AMIProtocol):  # type: ignore[misc]
    def __init__(self, done: asyncio.Future[None]) -> None:
        super().__init__()
        self.done = done

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self.factory = _CountingFactory()
        self.encoding = "utf8"

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def run_once(kind: str, port: int) -> tuple[float, Any]:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    factory = (lambda: CtiPipeline(done)) if kind == "cti" else (lambda: StockPipeline(done))
    start = time.perf_counter()
    transport, protocol = await loop.create_connection(factory, "127.0.0.1", port)
    await done
    elapsed = time.perf_counter() - start
    transport.close()
    return elapsed, protocol


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--capture", default="inbound_queue_call")
    ap.add_argument("--repeat", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3, help="runs per pipeline; the best is kept")
    args = ap.parse_args()
    data, events = payload(args.capture, args.repeat)
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=serve, args=(data, child, 2 * args.rounds), daemon=True)
    proc.start()
    port = parent.recv()

    async def bench() -> dict[str, tuple[float, Any]]:
        best: dict[str, tuple[float, Any]] = {}
        for _ in range(args.rounds):
            for kind in ("stock", "cti"):
                elapsed, protocol = await run_once(kind, port)
                if kind not in best or elapsed < best[kind][0]:
                    best[kind] = (elapsed, protocol)
        return best

    best = asyncio.run(bench())
    proc.join(timeout=10)
    cti_t, cti_p = best["cti"]
    stock_t, stock_p = best["stock"]
    assert stock_p.factory.dispatched == events, (stock_p.factory.dispatched, events)
    print(f"capture {args.capture} x{args.repeat}: {len(data) / 1e6:.1f} MB, {events} AMI events")
    print(
        f"cti   parse+translate+reduce: {events / cti_t:>10,.0f} events/s "
        f"({cti_t:.2f} s; {cti_p.applied} typed events applied, "
        f"{cti_p.parser.skipped} unused events dropped unread)"
    )
    print(f"stock panoramisk parse only : {events / stock_t:>10,.0f} events/s ({stock_t:.2f} s)")
    print(f"ratio cti / stock           : {stock_t / cti_t:.2f}x")
    state = cti_p.state
    print(
        f"final state: {len(state.calls)} calls, {len(state.channels)} channels, "
        f"anomalies {state.anomalies}"
    )


if __name__ == "__main__":
    main()
