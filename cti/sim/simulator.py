"""``PbxSimulator``: the PBX model, its AMI server and the traffic driver as one async context manager."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence
from types import TracebackType

from cti.sim.model import AgentMode, Channel
from cti.sim.pbx import AgentBehaviour, Pbx
from cti.sim.scheduler import ManualScheduler, RealtimeScheduler
from cti.sim.server import AmiServer, AmiUser, default_users
from cti.sim.traffic import TrafficDriver, TrafficModel


class PbxSimulator:
    """A simulated Asterisk 22 reachable over AMI on ``host:port`` (port 0: any free port).

    Args:
        users: AMI users by name (default ``cti``/``ctisecret`` read-write, ``readonly``/``ro``).
        seed: makes ids, bridges and the traffic repeatable.
        speed: simulated seconds per wall-clock second (ignored with ``manual_time``).
        traffic: inbound arrivals, customers and simulated agents; None: no generated traffic,
            agents answer at once and never hang up first (as in the captures).
        simulated_interfaces: fnmatch patterns of member interfaces whose phones are simulated;
            any other interface is a person at the agent desk (``answer()`` / ``SimAnswer``).
        queues: queue names, in the order ``QueueStatus`` lists them.
        dialer_context: the dialer's context, run as config/asterisk/extensions.conf
            ``[cti-dialer]`` does: ``Local/NUMBER@<it>`` dials the customer through the carrier
            (outcomes from the traffic model's ``customers``; 0000 busy, 0001 congestion, 0002 no
            answer), the answered ``connect`` side runs AMD (``CTI_AMD``), then rings ``CTI_AGENT``
            or queues in ``dialer_queue_variable``'s queue for ``CTI_CONNECT_SECONDS``, else plays
            the abandon message; it sends the same ``CtiDialer*`` UserEvents.
        manual_time: time moves only through :meth:`advance` (tests).
        epoch: the wall-clock instant (Unix seconds) simulated time 0 stands for.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        users: Mapping[str, AmiUser] | None = None,
        seed: int = 0,
        speed: float = 1.0,
        traffic: TrafficModel | None = None,
        simulated_interfaces: Sequence[str] = ("Local/*@sim-agent*",),
        queues: Sequence[str] = ("collections", "support", "sales"),
        dids: Mapping[str, str] | None = None,
        dialer_context: str = "cti-dialer",
        dialer_queue_variable: str = "CTI_QUEUE",
        manual_time: bool = False,
        epoch: float | None = None,
        login_failure_delay: float = 1.0,
    ) -> None:
        self.host = host
        self.port = port
        self.scheduler: ManualScheduler | RealtimeScheduler = (
            ManualScheduler() if manual_time else RealtimeScheduler(speed)
        )
        rng = random.Random(seed)
        self.pbx = Pbx(
            self.scheduler,
            seed=seed,
            epoch=epoch if epoch is not None else float(int(__import__("time").time())),
            queues=queues,
            dids=dict(dids) if dids is not None else None,
            dialer_context=dialer_context,
            dialer_queue_variable=dialer_queue_variable,
            simulated_interfaces=simulated_interfaces,
        )
        self.traffic: TrafficDriver | None = None
        if traffic is not None:
            self.traffic = TrafficDriver(self.pbx, traffic, rng)
            self.pbx.agents = self.traffic.agent_behaviour()
            self.pbx.customer_plan = self.traffic.customer_plan
        self.server = AmiServer(
            self.pbx,
            dict(users) if users is not None else default_users(),
            login_failure_delay=login_failure_delay,
        )

    async def __aenter__(self) -> PbxSimulator:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start(self) -> None:
        self.scheduler.start(asyncio.get_running_loop())
        self.port = await self.server.start(self.host, self.port)
        if self.traffic is not None:
            self.traffic.start()

    async def close(self) -> None:
        if self.traffic is not None:
            self.traffic.stop()
        await self.server.close()

    # --- driving it from Python ---------------------------------------------------------------

    async def advance(self, seconds: float) -> None:
        """Move manual time forward (only with ``manual_time=True``)."""
        if not isinstance(self.scheduler, ManualScheduler):
            raise RuntimeError("advance() needs manual_time=True")
        await self.scheduler.advance(seconds)

    def inbound_call(
        self,
        queue_or_did: str,
        caller_num: str,
        caller_name: str = "",
        *,
        talk_seconds: float | None = 60.0,
        patience: float | None = None,
    ) -> str:
        """A trunk call for a DID (``5000``) or a queue (``support``); returns its channel name.

        The caller hangs up ``talk_seconds`` after being connected (None: never first), and
        abandons after ``patience`` seconds of waiting (None: waits for ever).
        """
        ch: Channel = self.pbx.inbound_call(
            queue_or_did, caller_num, caller_name, talk_seconds=talk_seconds, patience=patience
        )
        return ch.name

    def answer(self, interface: str) -> bool:
        """The person at ``interface`` (or the ringing channel) accepts the call; False if none rings."""
        return self.pbx.answer(interface)

    def hangup(self, interface_or_channel: str) -> bool:
        """Hang up a channel, or the call on a member interface; False if there is none."""
        return self.pbx.hangup(interface_or_channel)

    def add_simulated_agent(
        self,
        queue: str,
        interface: str,
        name: str = "",
        *,
        paused: bool = False,
        ring_seconds: float | None = None,
    ) -> None:
        """What ``QueueAdd`` does, with the interface's phone simulated (answers, talks, wraps up)."""
        if ring_seconds is not None:
            base = self.pbx.agents
            self.pbx.agents = AgentBehaviour(
                ring_seconds=lambda: ring_seconds,
                handle_seconds=base.handle_seconds,
                wrapup_seconds=base.wrapup_seconds,
            )
        err = self.pbx.queue_add(
            queue, interface, name=name, paused=paused, mode=AgentMode.SIMULATED
        )
        if err is not None:
            raise ValueError(err)

    def set_agent_mode(self, interface: str, mode: AgentMode) -> None:
        """Declare an interface's phone simulated or a person's, whatever the patterns say."""
        self.pbx.agent_modes[interface] = mode

    @property
    def events_emitted(self) -> int:
        return self.pbx.events_emitted
