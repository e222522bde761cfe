"""The PBX model's primitives: the AMI events Asterisk 22 emits for channels, and the state they
describe. :class:`cti.sim.pbx.Pbx` builds the dialplan, app_queue and ChanSpy on top.

Event names, header names and their order follow the captures in ``shared/ami-transcripts`` and
``tests/captures``. The model is synchronous: every method runs to completion on the event loop and
writes events to the listeners; time only passes through the scheduler.
"""

from __future__ import annotations

import fnmatch
import functools
import math
import random
import struct
import uuid
import wave
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from cti.sim.devices import Phones
from cti.sim.flows import (
    ANSWER,
    BUSY_OUT,
    CONGESTION,
    NOANSWER,
    AgentBehaviour,
    CustomerPlan,
    Hdrs,
    Listener,
    Originated,
    PhoneCall,
    QueueCaller,
    Spy,
    Transferred,
    stat_line,
)
from cti.sim.model import (
    CALL,
    CATEGORY_NAME,
    DIALPLAN,
    DOWN,
    RING,
    USER,
    AgentMode,
    Bridge,
    Channel,
    Member,
    Queue,
)
from cti.sim.scheduler import Scheduler, Timer

# What a simulated recording holds: 2 s of a quiet 440 Hz tone, 8 kHz 16-bit mono.
_TONE = b"".join(
    struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(16000)
)


class PbxBase:
    """Output, channels and device state; the parts of the PBX every flow uses."""

    def __init__(
        self,
        scheduler: Scheduler,
        *,
        seed: int = 0,
        epoch: float = 1_795_356_000.0,
        queues: Sequence[str] = ("collections", "support", "sales"),
        dids: dict[str, str] | None = None,
        dialer_context: str = "cti-dialer",
        dialer_queue_variable: str = "CTI_QUEUE",
        simulated_interfaces: Sequence[str] = ("Local/*@sim-agent*",),
        agents: AgentBehaviour | None = None,
        customer_plan: Callable[[str], CustomerPlan] | None = None,
        channelvars: Sequence[str] = (),
        service_level: int = 0,
        music_on_hold: bool = True,
    ) -> None:
        self.scheduler = scheduler
        # Where queue calls are "recorded" (see PbxSimulator's recordings_dir); None: nowhere.
        self.recordings_dir: Path | None = None
        # rtp.conf's rtpstart and rtpend, as `rtp show settings` says them (config/asterisk's).
        self.rtp_ports = (10100, 10199)
        # manager.conf ``channelvars``: every channel snapshot shows these as ChanVariable.
        self.channelvars = tuple(channelvars)
        self.rng = random.Random(seed)
        self.epoch = epoch
        # queues.conf servicelevel (cti's config/asterisk: 20; the capture PBX's: 0).
        self.service_level = service_level
        self.music_on_hold = music_on_hold
        self.queues: dict[str, Queue] = {
            q: Queue(name=q, service_level=service_level) for q in queues
        }
        # Queue members by the device they follow (their state interface), kept by QueueAdd and
        # QueueRemove: a phone's change touches its own members, not every member of every queue.
        self.members_by_device: dict[str, list[tuple[Queue, Member]]] = {}
        self.dids = (
            dids
            if dids is not None
            else {"5000": "support", "5001": "sales", "5002": "collections"}
        )
        self.dialer_context = dialer_context
        self.dialer_queue_variable = dialer_queue_variable
        self.simulated_interfaces = list(simulated_interfaces)
        self.agent_modes: dict[str, AgentMode] = {}
        self.agents = agents or AgentBehaviour()
        self.customer_plan = customer_plan or self.default_customer_plan
        self.listeners: list[Listener] = []
        # How long AMD() listens before it decides, and how long the abandon message plays.
        self.amd_seconds = 2.5
        self.abandon_message_seconds = 4.0
        self.channels: dict[str, Channel] = {}
        # Live channels by device (a phone is BUSY while it has one), kept with ``channels``.
        self.channels_on: dict[str, int] = {}
        self.global_vars: dict[str, str] = {}
        self.processed_calls = 0
        self.events_emitted = 0
        self.phones = Phones(self)
        # False from a restart or crash until the new Asterisk is fully booted.
        self.up = True
        # Bumped by a restart or a crash: timers of the Asterisk that went away never fire.
        self.generation = 0
        self._uid = 0
        self._seq: dict[str, int] = {}
        self._dev_cache: dict[str, str] = self._fresh_device_cache()
        self._pending_spies: list[Spy] = []
        self._spies: list[Spy] = []
        self._call_ids: dict[str, str] = {}
        # Transferred channels whose agent's AgentComplete waits for their hangup.
        self._pending_complete: dict[str, Transferred] = {}

    def _fresh_device_cache(self) -> dict[str, str]:
        # app_queue publishes each queue's "_avail" state when it loads: nobody there, INUSE.
        return {f"Queue:{q}_avail": "INUSE" for q in self.queues}

    # --- output ------------------------------------------------------------------------------

    def now_epoch(self) -> float:
        return self.epoch + self.scheduler.now()

    def emit(self, name: str, cat: int, headers: Iterable[tuple[str, str]]) -> None:
        """Send one event to every listener (each filters by category)."""
        self.events_emitted += 1
        if not self.listeners:
            return
        frame = (
            f"Event: {name}\r\nPrivilege: {CATEGORY_NAME[cat]},all\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers)
            + "\r\n"
        ).encode()
        for listener in self.listeners:
            listener(cat, frame)

    def _ch(self, name: str, ch: Channel, *extra: tuple[str, str], cat: int = CALL) -> None:
        self.emit(name, cat, [*ch.block(), *extra])

    def _two(
        self, name: str, a: Channel, b: Channel, *extra: tuple[str, str], cat: int = CALL
    ) -> None:
        self.emit(name, cat, [*a.block(), *b.block("Dest"), *extra])

    def _exten(self, ch: Channel, priority: int, app: str, data: str) -> None:
        ch.priority = priority
        ch.app = app
        ch.appdata = data
        self._ch(
            "Newexten",
            ch,
            ("Extension", ch.exten),
            ("Application", app),
            ("AppData", data),
            cat=DIALPLAN,
        )

    def _var(self, ch: Channel, name: str, value: str) -> None:
        ch.variables[name] = value
        self._ch("VarSet", ch, ("Variable", name), ("Value", value), cat=DIALPLAN)

    def _state(self, ch: Channel, state: int) -> None:
        ch.state = state
        self._ch("Newstate", ch)

    def _dsc(self, device: str, state: str) -> None:
        self.emit("DeviceStateChange", CALL, [("Device", device), ("State", state)])

    def _dsc_cached(self, device: str, state: str) -> None:
        if self._dev_cache.get(device) != state:
            self._dev_cache[device] = state
            self._dsc(device, state)

    def dsc_cached(self, device: str, state: str) -> None:
        """A device state change, published only when the state is new (Asterisk's cache)."""
        self._dsc_cached(device, state)

    def members_follow(self, device: str, status: int) -> None:
        """Queue members whose state interface is ``device`` take its status (QueueMemberStatus
        for each that changed, then the queues' ``_avail`` state)."""
        touched: dict[str, Queue] = {}
        for q, m in self.members_by_device.get(device, ()):
            if m.status != status:
                m.status = status
                self._member_status(m)
                touched[q.name] = q
        for q in touched.values():
            self._avail_device(q)
            if status == 1:  # a waiting caller's next try rings it
                self.later(0.0, functools.partial(self._distribute, q))

    def _phone_changed(self, device: str) -> None:
        """A phone's channels or registration changed: publish its state (phones only)."""
        self.phones.changed(device)

    def _moh(self, ch: Channel, *, start: bool) -> None:
        """Queue()'s hold music, when the PBX has some (cti's config/asterisk ships none: no
        MusicOnHold events at all on the tier)."""
        if not self.music_on_hold:
            return
        if start:
            self._ch("MusicOnHoldStart", ch, ("Class", "default"))
        else:
            self._ch("MusicOnHoldStop", ch)

    def _record(self, caller: Channel) -> None:
        """MixMonitor's file for a queue call bridged to an agent (a 2 s tone: the simulator has
        no audio), as ``extensions.conf`` ``[cti-record]`` names it."""
        if self.recordings_dir is None:
            return
        self.recordings_dir.mkdir(parents=True, exist_ok=True)
        with wave.open(str(self.recordings_dir / f"{caller.uniqueid}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            out.writeframes(_TONE)

    def _user_event(self, ch: Channel, name: str, *headers: tuple[str, str]) -> None:
        """``UserEvent(name,Header: value,...)`` as app_userevent sends it: snapshot, then headers."""
        self._exten(
            ch, ch.priority + 1, "UserEvent", ",".join([name, *(f"{k}: {v}" for k, v in headers)])
        )
        self._ch("UserEvent", ch, ("UserEvent", name), *headers, cat=USER)

    # --- Originate responses -------------------------------------------------------------------

    def emit_originate_failure(
        self,
        action_id: str,
        channel: str,
        app: str,
        data: str,
        *,
        reason: int,
        cid: tuple[str, str] | None,
        context: str = "",
        exten: str = "",
    ) -> None:
        num, name = cid if cid else ("<unknown>", "<unknown>")
        self.emit(
            "OriginateResponse",
            CALL,
            [
                ("ActionID", action_id),
                ("Response", "Failure"),
                ("Channel", channel),
                *self._app_or_ctx(app, data, context, exten, ""),
                ("Reason", str(reason)),
                ("Uniqueid", "<unknown>"),
                ("CallerIDNum", num),
                ("CallerIDName", name),
            ],
        )

    @staticmethod
    def _app_or_ctx(app: str, data: str, context: str, exten: str, priority: str) -> Hdrs:
        if app:
            return [("Application", app), ("Data", data)]
        return [("Context", context), ("Exten", exten)]

    def _originate_response_ok(self, o: Originated | PhoneCall) -> None:
        self.emit(
            "OriginateResponse",
            CALL,
            [
                ("ActionID", o.action_id),
                ("Response", "Success"),
                ("Channel", o.one.name),
                *self._app_or_ctx(o.app, o.data, o.context, o.exten, o.priority),
                ("Reason", "4"),
                ("Uniqueid", o.one.uniqueid),
                ("CallerIDNum", o.caller_id[0] if o.caller_id else o.one.cid_num),
                ("CallerIDName", o.caller_id[1] if o.caller_id else o.one.cid_name),
                *o.one.chan_variables(),
            ],
        )

    # --- provided by the PBX (app_queue, hangups) ----------------------------------------------

    def _hangup_event(self, ch: Channel, cause: int, *, tech: int | None = None) -> None:
        raise NotImplementedError

    def _member_status(self, m: Member) -> None:
        raise NotImplementedError

    def _avail_device(self, q: Queue) -> None:
        raise NotImplementedError

    def _queue_join(self, c: QueueCaller) -> None:
        raise NotImplementedError

    def _caller_gone(self, c: QueueCaller, *, request_done: bool) -> None:
        raise NotImplementedError

    def _distribute(self, q: Queue) -> None:
        raise NotImplementedError

    def _rtp_stats(self, ch: Channel, bridged: Channel | None) -> None:
        """PJSIP sets its RTP statistics when the call ends, and on the bridged peer too."""
        ssrc = self.rng.randrange(1, 2**31)
        stats = (
            (
                "RTPAUDIOQOS",
                f"ssrc={ssrc};themssrc=0;lp=0;rxjitter=0.000000;rxcount=0;txjitter=0.000000;txcount=0;rlp=0;rtt=0.000000;rxmes=0.000000;txmes=0.000000",
            ),
            ("RTPAUDIOQOSJITTER", stat_line("jitter", 0)),
            ("RTPAUDIOQOSLOSS", stat_line("lost", 2)),
            (
                "RTPAUDIOQOSRTT",
                "     minrtt=000.000000;     maxrtt=000.000000;     avgrtt=000.000000;     stdevrtt=000.000000;",
            ),
            ("RTPAUDIOQOSMES", stat_line("mes", 3)),
        )
        for k, v in stats:
            self._var(ch, k, v)
            if bridged is not None:
                self._var(bridged, k + "BRIDGED", v)

    def _soft(self, ch: Channel, cause: int = 16) -> None:
        self._ch("SoftHangupRequest", ch, ("Cause", str(cause)))

    def _hreq(self, ch: Channel, cause: int | None, *, tech: int | None = None) -> None:
        """``HangupRequest``; ``tech``: the SIP status that ended a PJSIP channel (TechCause)."""
        extra = [("TechCause", str(tech))] if tech is not None else []
        if cause is None:
            self._ch("HangupRequest", ch, *extra)
        else:
            self._ch("HangupRequest", ch, ("Cause", str(cause)), *extra)

    def later(self, delay: float, fn: Callable[[], None]) -> Timer:
        """Run ``fn`` after ``delay`` simulated seconds, unless the PBX restarted meanwhile."""
        generation = self.generation

        def run() -> None:
            if self.generation == generation:
                fn()

        return self.scheduler.call_later(delay, run)

    def _simulated_answer(
        self, device: str, timers: list[Timer], answer: Callable[[], None]
    ) -> bool:
        """A simulated phone (``device``) answers after its ring time, on a timer kept in
        ``timers``; True if it answered at once (no ring time)."""
        if self.mode_of(device) is not AgentMode.SIMULATED:
            return False
        ring = self.agents.ring_seconds()
        if ring <= 0:
            answer()
            return True
        timers.append(self.later(ring, answer))
        return False

    # --- channels ----------------------------------------------------------------------------

    def _next(self, tech: str) -> str:
        n = self._seq.get(tech, 0)
        self._seq[tech] = n + 1
        return f"{n:08x}"

    def _new_channel(
        self,
        name: str,
        context: str,
        exten: str,
        device: str,
        *,
        state: int,
        linkedid: str | None,
        cid: tuple[str, str] | None = None,
    ) -> Channel:
        uid = f"{int(self.now_epoch())}.{self._uid}"
        self._uid += 1
        ch = Channel(
            name=name,
            uniqueid=uid,
            linkedid=linkedid or uid,
            context=context,
            exten=exten,
            device=device,
            created=self.scheduler.now(),
            state=state,
        )
        ch.manager_vars = self.channelvars
        if cid is not None:
            ch.cid_num, ch.cid_name = cid
        self.channels[name] = ch
        self.channels_on[device] = self.channels_on.get(device, 0) + 1
        self._ch("Newchannel", ch)
        return ch

    def _local_pair(
        self, exten: str, context: str, linkedid: str | None = None
    ) -> tuple[Channel, Channel]:
        seq = self._next("Local")
        base = f"Local/{exten}@{context}-{seq}"
        device = f"Local/{exten}@{context}"
        one = self._new_channel(base + ";1", context, exten, device, state=DOWN, linkedid=linkedid)
        two = self._new_channel(
            base + ";2", context, exten, device, state=RING, linkedid=linkedid or one.linkedid
        )
        return one, two

    def _local_bridge(self, one: Channel, two: Channel, optimize: bool) -> None:
        self.emit(
            "LocalBridge",
            CALL,
            [
                *one.block("LocalOne"),
                *two.block("LocalTwo"),
                ("Context", two.context),
                ("Exten", two.exten),
                ("LocalOptimization", "Yes" if optimize else "No"),
            ],
        )

    def _phone_channel(
        self,
        device: str,
        context: str,
        exten: str,
        *,
        linkedid: str | None,
        state: int = DOWN,
    ) -> Channel:
        """A new channel to or from a PJSIP endpoint (``PJSIP/agent1-0000000b``): chan_pjsip
        numbers all its channels with one counter."""
        return self._new_channel(
            f"{device}-{self._next('PJSIP')}",
            context,
            exten,
            device,
            state=state,
            linkedid=linkedid,
        )

    # --- bridges -----------------------------------------------------------------------------

    def _new_bridge(self) -> Bridge:
        bridge = Bridge(uniqueid=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)))
        self.emit("BridgeCreate", CALL, bridge.block())
        return bridge

    def _enter(self, bridge: Bridge, ch: Channel) -> None:
        bridge.channels.append(ch)
        ch.bridge = bridge
        self.emit("BridgeEnter", CALL, [*bridge.block(), *ch.block()])

    def _leave(self, bridge: Bridge, ch: Channel) -> None:
        if ch in bridge.channels:
            bridge.channels.remove(ch)
            ch.bridge = None
            self.emit("BridgeLeave", CALL, [*bridge.block(), *ch.block()])

    def _settle(self, bridge: Bridge) -> None:
        """Two PJSIP channels with no audiohook (ChanSpy) on either: Asterisk moves the media to
        ``native_rtp`` once both are in; a spy's audiohook brings it back to ``simple_bridge``."""
        spied = any(s.spyee in bridge.channels for s in self._spies)
        native = len(bridge.channels) == 2 and all(c.pjsip for c in bridge.channels) and not spied
        bridge.technology = "native_rtp" if native else "simple_bridge"

    def _set_cid(self, ch: Channel, num: str, name: str) -> None:
        ch.cid_num, ch.cid_name = num, name
        self._ch("NewCallerid", ch, ("CID-CallingPres", "0 (Presentation Allowed, Not Screened)"))

    def _set_connected(self, ch: Channel, num: str, name: str) -> None:
        ch.con_num, ch.con_name = num, name
        self._ch("NewConnectedLine", ch)

    def find_channel(self, name: str) -> Channel | None:
        return self.channels.get(name)

    def mode_of(self, interface: str) -> AgentMode:
        if interface in self.agent_modes:
            return self.agent_modes[interface]
        if any(fnmatch.fnmatchcase(interface, p) for p in self.simulated_interfaces):
            return AgentMode.SIMULATED
        return AgentMode.PERSON

    # --- customers (sim-customer) ------------------------------------------------------------

    def default_customer_plan(self, number: str) -> CustomerPlan:
        """The capture PBX's sim-customer: 0000 busy, 0001 congestion, 0002 never answers,
        0003 answers for 300 s, anything else answers and hangs up after 2-8 s."""
        if number == "0000":
            return CustomerPlan(BUSY_OUT)
        if number == "0001":
            return CustomerPlan(CONGESTION)
        if number == "0002":
            return CustomerPlan(NOANSWER)
        if number == "0003":
            return CustomerPlan(ANSWER, 0.0, 300.0)
        return CustomerPlan(ANSWER, 0.0, float(self.rng.randint(2, 8)))
