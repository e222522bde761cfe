"""``PbxSimulator``: the PBX model, its AMI server and the traffic driver as one async context manager."""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from cti.sim.model import AgentMode, Channel
from cti.sim.pbx import AgentBehaviour, Pbx
from cti.sim.scheduler import ManualScheduler, RealtimeScheduler
from cti.sim.server import AmiServer, AmiUser, default_users
from cti.sim.traffic import TrafficDriver, TrafficModel

# After a restart: the first qualify's delay, or each phone's (by device; others: the default).
Qualify = float | Mapping[str, float] | None


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
            answer), the answered ``connect`` side takes ``CTI_NUMBER`` as its caller id, runs AMD
            (``CTI_AMD``), then queues in ``dialer_queue_variable``'s queue for
            ``CTI_CONNECT_SECONDS``, else plays the abandon message; an Originate of an agent's
            phone into its ``preview`` exten dials the customer once the agent answered. It sends
            the same ``CtiDialer*`` UserEvents (see :mod:`cti.sim.dialer`).
        manual_time: time moves only through :meth:`advance` (tests).
        epoch: the wall-clock instant (Unix seconds) simulated time 0 stands for.
        channelvars: manager.conf ``channelvars`` (cti's ``config/asterisk`` ships
            ``CTI_ACTION_ID,CTI_CAMPAIGN,CTI_LEAD``): every channel snapshot shows them as
            ``ChanVariable`` headers.
        restart_seconds, boot_seconds, qualify_seconds: after :meth:`restart` or :meth:`crash`,
            how long the manager port refuses connections, then how long Asterisk takes logins
            before it is fully booted (app_queue's actions are unknown commands meanwhile), then
            how long until its first qualify makes registered phones reachable again
            (``qualify_frequency = 10`` in pjsip.conf: up to 10 s on a real PBX).

        phones_registered: whether a phone the simulator was told nothing about is registered.
        service_level: queues.conf ``servicelevel`` (seconds), as QueueStatus reports it.
        music_on_hold: whether Queue() plays hold music (MusicOnHoldStart/Stop); cti's
            ``config/asterisk`` has none.
        recordings_dir: as ``extensions.conf`` ``[cti-record]`` (MixMonitor) does, a queue call
            bridged to an agent leaves ``<dir>/<caller Uniqueid>.wav`` (a short tone: the
            simulator has no audio), so the demo has recordings to play. None: nothing recorded.

    PJSIP phones (``PJSIP/agent1``...) are registered unless :meth:`unregister` says otherwise
    (or ``phones_registered=False``, a PBX where no phone has registered yet); a
    queue member on a phone that is not registered is unavailable (``Status: 5``) and never rung.
    A phone with a call is ``BUSY`` (``device_state_busy_at = 1``): its members show ``Status:
    3`` while it rings and while it talks.
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
        channelvars: Sequence[str] = (),
        phones_registered: bool = True,
        service_level: int = 0,
        music_on_hold: bool = True,
        restart_seconds: float = 0.8,
        boot_seconds: float = 0.4,
        qualify_seconds: float = 2.0,
        recordings_dir: Path | None = None,
        rtp_ports: tuple[int, int] = (10100, 10199),
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
            channelvars=channelvars,
            service_level=service_level,
            music_on_hold=music_on_hold,
        )
        self.pbx.phones.registered_by_default = phones_registered
        self.pbx.recordings_dir = recordings_dir
        self.pbx.rtp_ports = rtp_ports
        self.restart_seconds = restart_seconds
        self.boot_seconds = boot_seconds
        self.qualify_seconds = qualify_seconds
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
        penalty: int = 0,
    ) -> None:
        """What ``QueueAdd`` does, with the interface's phone simulated (answers, talks, wraps up);
        a member with a higher ``penalty`` is rung only while those with a lower one are busy."""
        if ring_seconds is not None:
            base = self.pbx.agents
            self.pbx.agents = AgentBehaviour(
                ring_seconds=lambda: ring_seconds,
                handle_seconds=base.handle_seconds,
                wrapup_seconds=base.wrapup_seconds,
            )
        err = self.pbx.queue_add(
            queue, interface, name=name, paused=paused, penalty=penalty, mode=AgentMode.SIMULATED
        )
        if err is not None:
            raise ValueError(err)

    def register(self, device: str) -> None:
        """The phone ``PJSIP/<endpoint>`` registers (its members become available)."""
        self.pbx.phones.register(device)

    def unregister(self, device: str) -> None:
        """The phone ``PJSIP/<endpoint>`` unregisters (its members become unavailable)."""
        self.pbx.phones.unregister(device)

    def registered(self, device: str) -> bool:
        phone = self.pbx.phones.get(device)
        return phone is None or phone.registered

    def remote_hangup(self, interface_or_channel: str) -> bool:
        """The phone or customer behind a channel (or a phone's interface) hangs up, as a SIP BYE
        does (``HangupRequest``); False if there is no such call."""
        return self.pbx.remote_hangup(interface_or_channel)

    async def restart(
        self,
        *,
        down_seconds: float | None = None,
        boot_seconds: float | None = None,
        qualify_seconds: Qualify = None,
    ) -> None:
        """``core restart now``: every call is hung up and said so (AgentComplete, Hangup...),
        then ``Shutdown``, and every manager socket closes. The new Asterisk has no calls and no
        dynamic queue members; see the class for its boot. ``qualify_seconds`` may also map
        phones (``PJSIP/agent1``) to their own delay after the boot (``inf``: not within the
        test), as a real qualify reaches each at its own time; the others get the default."""
        self.pbx.shutdown(restart=True)
        self._go_down(down_seconds, boot_seconds, qualify_seconds)
        await asyncio.sleep(0)

    async def crash(
        self,
        *,
        down_seconds: float | None = None,
        boot_seconds: float | None = None,
        qualify_seconds: Qualify = None,
    ) -> None:
        """SIGKILL, then a start: the sockets drop without a word, every call and member is gone."""
        self._go_down(down_seconds, boot_seconds, qualify_seconds)
        await asyncio.sleep(0)

    def _go_down(self, down: float | None, boot: float | None, qualify: Qualify) -> None:
        self.server.go_down()
        self.pbx.reset()
        down = self.restart_seconds if down is None else down
        boot = self.boot_seconds if boot is None else boot
        # Timers of the new process (a second restart cancels them).
        self.pbx.later(down, self.server.listen_again)
        self.pbx.later(down + boot, self._fully_booted)
        each: Mapping[str, float] = qualify if isinstance(qualify, Mapping) else {}
        for device, after in each.items():
            if after != float("inf"):
                self.pbx.later(down + boot + after, functools.partial(self.pbx.qualify, device))
        default = qualify if isinstance(qualify, float | int) else self.qualify_seconds
        self.pbx.later(down + boot + float(default), lambda: self.pbx.qualify(skip=set(each)))

    def _fully_booted(self) -> None:
        self.server.fully_booted()
        self.pbx.fully_booted()

    def set_agent_mode(self, interface: str, mode: AgentMode) -> None:
        """Declare an interface's phone simulated or a person's, whatever the patterns say."""
        self.pbx.agent_modes[interface] = mode

    @property
    def events_emitted(self) -> int:
        return self.pbx.events_emitted
