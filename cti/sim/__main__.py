"""``python -m cti.sim``: run the simulated PBX standalone, as a demo PBX or a load generator."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from cti.sim.simulator import PbxSimulator
from cti.sim.traffic import TrafficModel


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m cti.sim", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5038)
    p.add_argument("--rate", type=float, default=4.0, help="inbound calls per minute, per queue")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--agents", type=int, default=0, help="simulated agents added to every queue")
    p.add_argument("--queues", default="collections,support,sales")
    return p.parse_args(argv)


async def run(ns: argparse.Namespace) -> None:
    queues = [q for q in ns.queues.split(",") if q]
    traffic = TrafficModel(inbound_per_minute=dict.fromkeys(queues, ns.rate))
    async with PbxSimulator(
        host=ns.host, port=ns.port, seed=ns.seed, speed=ns.speed, traffic=traffic, queues=queues
    ) as sim:
        for qi, queue in enumerate(queues):
            for i in range(ns.agents):
                ext = 100 + qi * 100 + i
                sim.add_simulated_agent(queue, f"Local/{ext}@sim-agent/n", f"SimAgent{ext}")
        print(
            f"cti.sim: Asterisk 22 simulator listening on {ns.host}:{sim.port} (AMI user cti / ctisecret)",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(_args(argv)))


if __name__ == "__main__":
    main()
