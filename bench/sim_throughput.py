"""How many realistic AMI events per second the simulator delivers to one client.

One client logs in and reads everything; the simulator runs inbound traffic on three queues with
simulated agents at high speed. The baseline, in the same run, is a plain asyncio server writing the
very bytes the client received, frame by frame: the ratio says what the PBX model costs.

Run: .venv/bin/python bench/sim_throughput.py [--seconds 5] [--speed 400]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from cti.sim import PbxSimulator, TrafficModel

SEP = b"\r\n\r\n"


async def read_all(
    reader: asyncio.StreamReader, seconds: float, sink: bytearray
) -> tuple[int, float]:
    """Count frames until ``seconds`` pass or EOF; return (frames, elapsed)."""
    frames = 0
    tail = b""
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            break
        try:
            data = await asyncio.wait_for(reader.read(1 << 16), remaining)
        except TimeoutError:
            break
        if not data:
            break
        sink += data
        chunk = tail + data
        frames += chunk.count(SEP)
        tail = chunk[-3:]
    return frames, time.perf_counter() - t0


async def simulator_run(
    seconds: float, speed: float, agents: int, rate: float
) -> tuple[int, float, bytes]:
    queues = ("collections", "support", "sales")
    traffic = TrafficModel(inbound_per_minute=dict.fromkeys(queues, rate))
    async with PbxSimulator(seed=1, speed=speed, traffic=traffic) as sim:
        for qi, q in enumerate(queues):
            for i in range(agents):
                sim.add_simulated_agent(
                    q, f"Local/{1000 + qi * 100 + i}@sim-agent/n", f"Agent{qi}{i}"
                )
        reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
        writer.write(b"Action: Login\r\nUsername: cti\r\nSecret: ctisecret\r\nActionID: l\r\n\r\n")
        sink = bytearray()
        frames, elapsed = await read_all(reader, seconds, sink)
        writer.close()
        return frames, elapsed, bytes(sink)


async def baseline_run(payload: bytes) -> tuple[int, float]:
    frames = [f + SEP for f in payload.split(SEP) if f]

    async def serve(_: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        for f in frames:
            w.write(f)
            if w.transport.get_write_buffer_size() > 1 << 20:
                await w.drain()
        await w.drain()
        w.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    got, elapsed = await read_all(reader, 60.0, bytearray())
    writer.close()
    server.close()
    await server.wait_closed()
    return got, elapsed


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--speed", type=float, default=400.0)
    ap.add_argument("--agents", type=int, default=40, help="simulated agents per queue")
    ap.add_argument(
        "--rate", type=float, default=30.0, help="inbound calls per simulated minute per queue"
    )
    ns = ap.parse_args()
    frames, elapsed, payload = await simulator_run(ns.seconds, ns.speed, ns.agents, ns.rate)
    sim_rate = frames / elapsed
    base_frames, base_elapsed = await baseline_run(payload)
    base_rate = base_frames / base_elapsed
    print(
        f"simulator: {frames} AMI events in {elapsed:.2f} s = {sim_rate:,.0f} events/s to one client"
    )
    print(
        f"baseline (raw socket writes of the same {len(payload):,} bytes): {base_rate:,.0f} events/s"
    )
    print(f"ratio simulator/baseline: {sim_rate / base_rate:.3f}")


if __name__ == "__main__":
    asyncio.run(main())
