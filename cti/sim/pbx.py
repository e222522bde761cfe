"""The PBX model: channels, dialplan, queues and the AMI events Asterisk 22 emits for them.

Event names, header names and their order follow the captures in ``shared/ami-transcripts``. The
model is synchronous: every method runs to completion on the event loop and writes events to the
listeners; time only passes through the scheduler.

The dialer context follows ``config/asterisk/extensions.conf`` ``[cti-dialer]``: see
``_dial_customer`` (the carrier leg), ``_dialer_connect`` (AMD, queue or preview agent, connect
limit) and ``_dialer_abandon``; the ``CtiDialer*`` UserEvents carry the same names and headers.
"""

from __future__ import annotations

import fnmatch
import random
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from cti.sim.model import (
    AGENT,
    BUSY,
    CALL,
    CATEGORY_NAME,
    CAUSE_TEXT,
    DIALPLAN,
    DOWN,
    RING,
    RINGING,
    UP,
    USER,
    AgentMode,
    Bridge,
    Channel,
    Member,
    Queue,
)
from cti.sim.scheduler import Scheduler, Timer

Listener = Callable[[int, bytes], None]
Hdrs = list[tuple[str, str]]

# Outcomes of dialling a customer.
ANSWER, BUSY_OUT, CONGESTION, NOANSWER = "answer", "busy", "congestion", "noanswer"


@dataclass(frozen=True, slots=True)
class CustomerPlan:
    """What a dialled customer does: the outcome, seconds of ringing, seconds of talk, and whether
    an answer is a machine (which answering-machine detection, when asked for, recognises)."""

    outcome: str
    ring_seconds: float = 0.0
    talk_seconds: float = 4.0
    machine: bool = False


@dataclass(frozen=True, slots=True)
class AgentBehaviour:
    """How simulated agents behave. ``handle_seconds`` None: the agent never hangs up first."""

    ring_seconds: Callable[[], float] = lambda: 0.0
    handle_seconds: Callable[[], float | None] = lambda: None
    wrapup_seconds: Callable[[], float] = lambda: 0.0


@dataclass(eq=False, slots=True)
class Originated:
    """An ``Originate`` of a Local channel: ``one`` is the originated side, ``two`` runs the dialplan."""

    action_id: str
    dial_string: str
    one: Channel
    two: Channel
    app: str
    data: str
    context: str
    exten: str
    priority: str
    timeout: float
    answered: bool = False
    done: bool = False
    timers: list[Timer] = field(default_factory=list)
    spy: Spy | None = None
    # A dialer call (``Local/NUMBER@cti-dialer``): the carrier leg ``two`` dials, and its bridge.
    carrier: Channel | None = None
    carrier_bridge: Bridge | None = None
    plan: CustomerPlan | None = None
    # A preview call put straight through to its agent (``CTI_AGENT``).
    direct: DirectLeg | None = None


@dataclass(eq=False, slots=True)
class DirectLeg:
    """The dialer's ``Dial(${CTI_AGENT})``: an agent's phone rung for, or talking to, a dialer call."""

    origin: Originated
    interface: str
    one: Channel
    two: Channel | None
    members: list[Member]
    started: float
    answered_at: float | None = None
    bridge: Bridge | None = None
    timers: list[Timer] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class QueueCaller:
    """A channel sitting in ``Queue()``; ``partner`` is the other half of its call, if any."""

    chan: Channel
    queue: Queue
    kind: (
        str  # "local" (Originate into from-carrier), "pjsip" (trunk), "dialer" (answered outbound)
    )
    partner: Channel | None
    joined: float
    original_position: int
    talk_seconds: float | None = None
    patience: float | None = None
    leg: AgentLeg | None = None
    state: str = "waiting"  # waiting, ringing, bridged, done
    connected_at: float = 0.0
    hold_seconds: int = 0
    timers: list[Timer] = field(default_factory=list)
    tried: set[str] = field(default_factory=set)
    origin: Originated | None = None


@dataclass(eq=False, slots=True)
class AgentLeg:
    """A queue member's phone being rung for, or talking to, a caller."""

    caller: QueueCaller
    member: Member
    one: Channel
    two: Channel | None
    started: float
    answered_at: float | None = None
    timers: list[Timer] = field(default_factory=list)
    spies: list[Spy] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class Spy:
    """A supervisor's ChanSpy on a channel-name prefix."""

    origin: Originated
    target: str
    spyee: Channel | None = None


def _cancel(timers: list[Timer]) -> None:
    for t in timers:
        t.cancel()
    timers.clear()


def _stat_line(kind: str, pad: int) -> str:
    sp = " " * pad
    parts = [
        f"{sp}{a}{d}{kind}=000.000000;"
        for d in ("rx", "tx")
        for a in ("min", "max", "avg", "stdev")
    ]
    return "".join(parts)


_LOCAL = re.compile(r"^Local/([^@/]+)@([^/]+)(/n)?$", re.IGNORECASE)
_NUMBER = re.compile(r"^\+?[0-9]+$")
ABANDON_SOUND = "/var/lib/asterisk/sounds/cti/abandon"


def _whole(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def _truthy(text: str | None) -> bool:
    return (text or "").strip().lower() in ("1", "yes", "true")


class Pbx:
    """The simulated Asterisk: dialplan like the capture PBX, app_queue, Local channels, ChanSpy."""

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
    ) -> None:
        self.scheduler = scheduler
        self.rng = random.Random(seed)
        self.epoch = epoch
        self.queues: dict[str, Queue] = {q: Queue(name=q) for q in queues}
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
        self.global_vars: dict[str, str] = {}
        self.processed_calls = 0
        self.events_emitted = 0
        self._uid = 0
        self._seq: dict[str, int] = {}
        self._dev_cache: dict[str, str] = {}
        self._device_use: dict[str, int] = {}
        self._pending_spies: list[Spy] = []
        self._call_ids: dict[str, str] = {}

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

    def _hangup_event(self, ch: Channel, cause: int) -> None:
        o = ch.owner
        if isinstance(o, QueueCaller):
            o = o.origin
        if isinstance(o, Originated):
            # The Local ;2 half ends its Dial() to the carrier; the ;1 half its Dial() to an agent.
            if ch is o.two and o.carrier is not None and o.carrier.alive:
                self._carrier_down(o, cause)
            elif ch is o.one and o.direct is not None:
                self._direct_down(o.direct)
        for spy in self._spies_on(ch):
            self._spy_stop(spy)
        self._ch(
            "Hangup", ch, ("Cause", str(cause)), ("Cause-txt", CAUSE_TEXT.get(cause, "Unknown"))
        )
        ch.alive = False
        self.channels.pop(ch.name, None)
        self._call_ids.pop(ch.name, None)

    def _rtp_stats(self, ch: Channel, bridged: Channel | None) -> None:
        """PJSIP sets its RTP statistics when the call ends, and on the bridged peer too."""
        ssrc = self.rng.randrange(1, 2**31)
        stats = (
            (
                "RTPAUDIOQOS",
                f"ssrc={ssrc};themssrc=0;lp=0;rxjitter=0.000000;rxcount=0;txjitter=0.000000;txcount=0;rlp=0;rtt=0.000000;rxmes=0.000000;txmes=0.000000",
            ),
            ("RTPAUDIOQOSJITTER", _stat_line("jitter", 0)),
            ("RTPAUDIOQOSLOSS", _stat_line("lost", 2)),
            (
                "RTPAUDIOQOSRTT",
                "     minrtt=000.000000;     maxrtt=000.000000;     avgrtt=000.000000;     stdevrtt=000.000000;",
            ),
            ("RTPAUDIOQOSMES", _stat_line("mes", 3)),
        )
        for k, v in stats:
            self._var(ch, k, v)
            if bridged is not None:
                self._var(bridged, k + "BRIDGED", v)

    def _soft(self, ch: Channel, cause: int = 16) -> None:
        self._ch("SoftHangupRequest", ch, ("Cause", str(cause)))

    def _hreq(self, ch: Channel, cause: int | None) -> None:
        if cause is None:
            self._ch("HangupRequest", ch)
        else:
            self._ch("HangupRequest", ch, ("Cause", str(cause)))

    def later(self, delay: float, fn: Callable[[], None]) -> Timer:
        return self.scheduler.call_later(delay, fn)

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
        if cid is not None:
            ch.cid_num, ch.cid_name = cid
        self.channels[name] = ch
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

    def _set_cid(self, ch: Channel, num: str, name: str) -> None:
        ch.cid_num, ch.cid_name = num, name
        self._ch("NewCallerid", ch, ("CID-CallingPres", "0 (Presentation Allowed, Not Screened)"))

    def _set_connected(self, ch: Channel, num: str, name: str) -> None:
        ch.con_num, ch.con_name = num, name
        self._ch("NewConnectedLine", ch)

    def _spies_on(self, ch: Channel) -> list[Spy]:
        owner = ch.owner
        if isinstance(owner, AgentLeg):
            return [s for s in owner.spies if s.spyee is ch]
        return []

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

    # --- Originate ---------------------------------------------------------------------------

    def originate(
        self,
        *,
        action_id: str,
        channel: str,
        app: str = "",
        data: str = "",
        context: str = "",
        exten: str = "",
        priority: str = "1",
        caller_id: tuple[str, str] | None = None,
        timeout: float = 30.0,
        variables: Sequence[tuple[str, str]] = (),
    ) -> bool:
        """Start an Async originate; False if the channel cannot be requested (the caller answers
        with ``OriginateResponse`` Failure, Reason 0)."""
        m = _LOCAL.match(channel)
        if not m or not self._exists(m.group(2), m.group(1)):
            self.emit_originate_failure(action_id, channel, app, data, reason=0, cid=caller_id)
            return False
        dexten, dctx = m.group(1), m.group(2)
        one, two = self._local_pair(dexten, dctx)
        o = Originated(
            action_id=action_id,
            dial_string=channel,
            one=one,
            two=two,
            app=app,
            data=data,
            context=context,
            exten=exten,
            priority=priority,
            timeout=timeout,
        )
        one.owner = o
        two.owner = o
        self._exten(one, 1, "AppDial2", "(Outgoing Line)")
        one.app, one.appdata = app or "AppDial2", data if app else "(Outgoing Line)"
        for k, v in variables:
            self._var(one, k, v)
        if caller_id is not None:
            self._set_cid(one, *caller_id)
            self._set_connected(one, *caller_id)
            for k, v in variables:
                self._var(two, k, v)
            two.cid_num, two.cid_name = caller_id
            self._set_cid(two, *caller_id)
            self._set_connected(two, *caller_id)
        else:
            for k, v in variables:
                self._var(two, k, v)
        self._local_bridge(one, two, optimize=True)
        self.emit("DialBegin", CALL, [*one.block("Dest"), ("DialString", f"{dexten}@{dctx}")])
        o.timers.append(self.later(timeout, lambda: self._originate_timeout(o)))
        self._run_dialplan(o)
        return True

    def _exists(self, context: str, exten: str) -> bool:
        if context == "from-carrier":
            return exten in self.dids
        return context in ("sim-customer", "sim-agent") or context == self.dialer_context

    def emit_originate_failure(
        self,
        action_id: str,
        channel: str,
        app: str,
        data: str,
        *,
        reason: int,
        cid: tuple[str, str] | None,
    ) -> None:
        num, name = cid if cid else ("<unknown>", "<unknown>")
        self.emit(
            "OriginateResponse",
            CALL,
            [
                ("ActionID", action_id),
                ("Response", "Failure"),
                ("Channel", channel),
                *self._app_or_ctx(app, data, "", "", ""),
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

    def _originate_response_ok(self, o: Originated) -> None:
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
                ("CallerIDNum", o.one.cid_num),
                ("CallerIDName", o.one.cid_name),
            ],
        )

    def _run_dialplan(self, o: Originated) -> None:
        ctx, ext, two = o.two.context, o.two.exten, o.two
        if ctx == self.dialer_context and _NUMBER.match(ext):
            self._dial_customer(o, ext)
        elif ctx == "sim-customer":
            plan = self.customer_plan(ext)
            if plan.outcome == ANSWER:
                self._exten(two, 1, "NoOp", f"sim customer {ext} answers")
                if plan.ring_seconds > 0:
                    o.timers.append(
                        self.later(
                            plan.ring_seconds, lambda: self._customer_answers(o, plan.talk_seconds)
                        )
                    )
                else:
                    self._customer_answers(o, plan.talk_seconds)
            elif plan.outcome in (BUSY_OUT, CONGESTION):
                busy = plan.outcome == BUSY_OUT
                self._exten(
                    two, 1, "NoOp", "sim customer busy" if busy else "sim customer congestion"
                )
                if plan.ring_seconds > 0:
                    self._ringing(o)
                    o.timers.append(
                        self.later(plan.ring_seconds, lambda: self._customer_fails(o, busy))
                    )
                else:
                    self._customer_fails(o, busy)
            else:
                self._exten(two, 1, "NoOp", "sim customer rings, never answers")
                self._ringing(o)
        elif ctx == "from-carrier":
            queue = self.dids[ext]
            self._exten(two, 1, "NoOp", f"Inbound DID {ext} -> queue {queue}")
            self._answer_pair(o)
            self._exten(two, 3, "Queue", queue)
            self._queue_join(
                QueueCaller(
                    chan=two,
                    queue=self.queues[queue],
                    kind="local",
                    partner=o.one,
                    joined=0.0,
                    original_position=0,
                    origin=o,
                )
            )
        elif ctx == "sim-agent":
            self._exten(two, 1, "NoOp", f"sim agent {ext} answers")
            self._answer_pair(o)
            self._exten(two, 3, "Wait", "600")
            o.timers.append(self.later(600.0, lambda: self._two_ends(o, 16)))
        else:  # the dialer context reached directly: straight into the queue named by the variable
            self._answer_pair(o)
            self._enter_dialer(o, o.two)

    def _ringing(self, o: Originated) -> None:
        self._exten(o.two, 2, "Ringing", "")
        self._state(o.one, RINGING)
        self._exten(o.two, 3, "Wait", "60")
        self.emit("DialState", CALL, [*o.one.block("Dest"), ("DialStatus", "RINGING")])
        self._dsc(o.one.device, "INUSE")

    def _customer_answers(self, o: Originated, talk: float) -> None:
        if o.done:
            return
        self._exten(o.two, 2, "Answer", "")
        self._state(o.two, UP)
        self._state(o.one, UP)
        o.answered = True
        _cancel(o.timers)
        self._originate_response_ok(o)
        self.emit("DialEnd", CALL, [*o.one.block("Dest"), ("DialStatus", "ANSWER")])
        self._dsc(o.one.device, "INUSE")
        self._dsc(o.one.device, "INUSE")
        self.processed_calls += 1
        self._exten(o.two, 3, "Wait", f"{talk:g}")
        o.timers.append(self.later(talk, lambda: self._customer_hangs_up(o)))
        self._after_answer(o)

    def _answer_pair(self, o: Originated) -> None:
        """The ;2 side runs Answer(): both halves go Up and the originate succeeds."""
        self._exten(o.two, 2, "Answer", "")
        self._state(o.two, UP)
        self._state(o.one, UP)
        o.answered = True
        _cancel(o.timers)
        self._dsc(o.one.device, "INUSE")
        self._originate_response_ok(o)
        self.emit("DialEnd", CALL, [*o.one.block("Dest"), ("DialStatus", "ANSWER")])
        self._dsc(o.one.device, "INUSE")
        self.processed_calls += 1
        self._after_answer(o)

    def _after_answer(self, o: Originated) -> None:
        """What the originated side (;1) does once answered: an application or the dialplan."""
        if o.app:
            if o.app.lower() == "wait":
                try:
                    secs = float(o.data or "0")
                except ValueError:
                    secs = 0.0
                o.timers.append(self.later(secs, lambda: self._one_ends(o)))
            elif o.app.lower() == "chanspy":
                target = o.data.split(",")[0]
                spy = Spy(origin=o, target=target)
                o.spy = spy
                self._pending_spies.append(spy)
                self._spy_scan()
        elif o.context in (self.dialer_context, "from-carrier"):
            if o.context == "from-carrier" and o.exten in self.dids:
                o.one.context, o.one.exten = o.context, o.exten
                self._exten(o.one, 1, "Queue", self.dids[o.exten])
                self._queue_join(
                    QueueCaller(
                        chan=o.one,
                        queue=self.queues[self.dids[o.exten]],
                        kind="dialer",
                        partner=o.two,
                        joined=0.0,
                        original_position=0,
                        origin=o,
                    )
                )
            else:
                self._dialer_connect(o)

    def _enter_dialer(self, o: Originated, ch: Channel) -> None:
        queue_name = ch.variables.get(self.dialer_queue_variable, "")
        ch.context, ch.exten = self.dialer_context, o.exten or "s"
        self._exten(ch, 1, "Queue", queue_name)
        queue = self.queues.get(queue_name)
        if queue is None:
            self._exten(ch, 2, "Hangup", "")
            if ch is o.one:
                self._one_ends(o)
            else:
                self._two_ends(o, 16)
            return
        partner = o.two if ch is o.one else o.one
        self._queue_join(
            QueueCaller(
                chan=ch,
                queue=queue,
                kind="dialer",
                partner=partner,
                joined=0.0,
                original_position=0,
                origin=o,
            )
        )

    def _customer_fails(self, o: Originated, busy: bool) -> None:
        if o.done:
            return
        o.done = True
        _cancel(o.timers)
        two, one = o.two, o.one
        if busy:
            self._exten(two, 2, "Busy", "")
            self._state(two, BUSY)
        else:
            self._exten(two, 2, "Congestion", "")
        self._dsc(one.device, "INUSE")
        self.emit(
            "DialEnd", CALL, [*one.block("Dest"), ("DialStatus", "BUSY" if busy else "CONGESTION")]
        )
        self._hreq(two, 0)
        self._soft(two, 16)
        self._hangup_event(two, 17 if busy else 34)
        self.emit_originate_failure(
            o.action_id,
            o.dial_string,
            o.app,
            o.data,
            reason=5 if busy else 8,
            cid=(one.cid_num, one.cid_name),
        )
        self._hangup_event(one, 0)
        self._dsc(one.device, "NOT_INUSE")
        self._dsc(one.device, "NOT_INUSE")

    def _originate_timeout(self, o: Originated) -> None:
        if o.done or o.answered:
            return
        o.done = True
        _cancel(o.timers)
        self._hreq(o.two, 19)
        self._hangup_event(o.one, 19)
        self._soft(o.two, 16)
        self._hangup_event(o.two, 19)
        self.emit_originate_failure(
            o.action_id, o.dial_string, o.app, o.data, reason=3, cid=(o.one.cid_num, o.one.cid_name)
        )
        self._dsc(o.one.device, "NOT_INUSE")
        self._dsc(o.one.device, "NOT_INUSE")

    def _customer_hangs_up(self, o: Originated) -> None:
        """The dialled side's Wait() ends and it runs Hangup()."""
        if o.done:
            return
        self._exten(o.two, 4, "Hangup", "")
        self._two_ends(o, 16)

    def _two_ends(self, o: Originated, cause: int) -> None:
        """The ;2 half hangs up; the ;1 half follows (or leaves the queue/bridge it is in)."""
        if o.done:
            return
        if isinstance(o.one.owner, QueueCaller) and o.one.owner.state != "done":
            caller = o.one.owner
            self._soft(o.two, cause)
            self._hreq(o.one, cause)
            self._hangup_event(o.two, cause)
            o.done = True
            _cancel(o.timers)
            self._caller_gone(caller, request_done=True)
            return
        o.done = True
        _cancel(o.timers)
        self._soft(o.two, cause)
        self._hreq(o.one, cause)
        if o.spy is not None:
            self._spy_end(o.spy)
        self._hangup_event(o.two, cause)
        self._hangup_event(o.one, cause)
        self._dsc(o.one.device, "NOT_INUSE")
        self._dsc(o.one.device, "NOT_INUSE")

    def _one_ends(self, o: Originated) -> None:
        """The originated side's application ends (Wait expired): it hangs up."""
        if o.done:
            return
        caller = o.two.owner
        if isinstance(caller, QueueCaller) and caller.state != "done":
            o.done = True
            _cancel(o.timers)
            self._caller_gone(caller, request_done=False)
            return
        o.done = True
        _cancel(o.timers)
        if o.spy is not None:
            self._spy_end(o.spy)
        self._hreq(o.two, 0)
        self._hangup_event(o.one, 0)
        self._soft(o.two, 16)
        self._hangup_event(o.two, 16)
        self._dsc(o.one.device, "NOT_INUSE")
        self._dsc(o.one.device, "NOT_INUSE")

    # --- the dialer context (config/asterisk/extensions.conf [cti-dialer]) ----------------------

    def _user_event(self, ch: Channel, name: str, *headers: tuple[str, str]) -> None:
        """``UserEvent(name,Header: value,...)`` as app_userevent sends it: snapshot, then headers."""
        self._exten(
            ch, ch.priority + 1, "UserEvent", ",".join([name, *(f"{k}: {v}" for k, v in headers)])
        )
        self._ch("UserEvent", ch, ("UserEvent", name), *headers, cat=USER)

    @staticmethod
    def _dialer_ids(ch: Channel) -> list[tuple[str, str]]:
        v = ch.variables
        return [
            ("Campaign", v.get("CTI_CAMPAIGN", "")),
            ("Lead", v.get("CTI_LEAD", "")),
            ("Attempt", v.get("CTI_ATTEMPT", "")),
        ]

    def _dial_customer(self, o: Originated, number: str) -> None:
        """``_X.`` → ``cti-dialer-out``: the ;2 half dials the number through the carrier trunk."""
        two = o.two
        self._exten(two, 1, "Gosub", f"cti-dialer-out,s,1({number})")
        two.context, two.exten = "cti-dialer-out", "s"
        v = two.variables
        self._exten(
            two,
            1,
            "NoOp",
            f"cti dialer: calling {number}, campaign {v.get('CTI_CAMPAIGN', '')}"
            f" lead {v.get('CTI_LEAD', '')}",
        )
        ring_limit = _whole(v.get("CTI_RING_SECONDS"), 30)
        self._exten(two, 2, "Set", f"CTI_RING={ring_limit}")
        self._var(two, "CTI_RING", str(ring_limit))
        self._exten(two, 3, "Dial", f"PJSIP/{number}@carrier,{ring_limit}")
        carrier = self._new_channel(
            f"PJSIP/carrier-{self._next('PJSIP')}",
            "from-carrier",
            "s",
            "PJSIP/carrier",
            state=DOWN,
            linkedid=two.linkedid,
        )
        self._set_cid(carrier, number, number)
        carrier.owner = o
        o.carrier = carrier
        self._two("DialBegin", two, carrier, ("DialString", f"{number}@carrier"))
        plan = self.customer_plan(number)
        o.plan = plan
        if plan.outcome == ANSWER and plan.ring_seconds <= 0:
            self._carrier_answers(o)
            return
        self._carrier_ringing(o)
        if plan.outcome == ANSWER:
            o.timers.append(self.later(plan.ring_seconds, lambda: self._carrier_answers(o)))
        elif plan.outcome in (BUSY_OUT, CONGESTION):
            status = "BUSY" if plan.outcome == BUSY_OUT else "CONGESTION"
            o.timers.append(self.later(plan.ring_seconds, lambda: self._carrier_fails(o, status)))
        if plan.outcome != ANSWER or plan.ring_seconds >= ring_limit:
            o.timers.append(self.later(ring_limit, lambda: self._carrier_fails(o, "NOANSWER")))

    def _carrier_ringing(self, o: Originated) -> None:
        assert o.carrier is not None
        self._state(o.carrier, RINGING)
        self._two("DialState", o.two, o.carrier, ("DialStatus", "RINGING"))
        self._state(o.one, RINGING)
        self._dsc("PJSIP/carrier", "RINGING")

    def _carrier_answers(self, o: Originated) -> None:
        """The customer picks up: the Local pair answers, the originate succeeds, ;1 runs connect."""
        carrier = o.carrier
        if o.done or o.answered or carrier is None:
            return
        _cancel(o.timers)
        self._state(carrier, UP)
        self._dsc("PJSIP/carrier", "INUSE")
        self._two("DialEnd", o.two, carrier, ("DialStatus", "ANSWER"))
        self._state(o.two, UP)
        self._state(o.one, UP)
        o.answered = True
        self._dsc(o.one.device, "INUSE")
        self._originate_response_ok(o)
        self.processed_calls += 1
        bridge = Bridge(uniqueid=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)))
        o.carrier_bridge = bridge
        self.emit("BridgeCreate", CALL, bridge.block())
        for ch in (o.two, carrier):
            bridge.channels.append(ch)
            ch.bridge = bridge
            self.emit("BridgeEnter", CALL, [*bridge.block(), *ch.block()])
        talk = o.plan.talk_seconds if o.plan is not None else 4.0
        o.timers.append(self.later(talk, lambda: self._carrier_hangs_up(o)))
        self._after_answer(o)

    def _carrier_fails(self, o: Originated, status: str) -> None:
        """The carrier leg ends unanswered: ``CtiDialerResult``, then Busy()/Congestion() or hang
        up, so the Originate fails with Reason 5, 8 or 3."""
        carrier = o.carrier
        if o.done or o.answered or carrier is None:
            return
        o.done = True
        _cancel(o.timers)
        two, one = o.two, o.one
        cause = {"BUSY": 17, "CONGESTION": 34}.get(status, 19)
        if status == "BUSY":
            self._state(carrier, BUSY)
        self._hangup_event(carrier, cause)
        self._dsc("PJSIP/carrier", "NOT_INUSE")
        self._two("DialEnd", two, carrier, ("DialStatus", status))
        self._var(two, "DIALSTATUS", status)
        self._user_event(two, "CtiDialerResult", ("DialStatus", status), *self._dialer_ids(two))
        if status == "BUSY":
            self._exten(two, two.priority + 1, "Busy", "3")
            self._state(two, BUSY)
        elif status == "CONGESTION":
            self._exten(two, two.priority + 1, "Congestion", "3")
        self._hreq(two, 0)
        self._soft(two, 16)
        self._hangup_event(two, cause)
        self.emit_originate_failure(
            o.action_id,
            o.dial_string,
            o.app,
            o.data,
            reason={"BUSY": 5, "CONGESTION": 8}.get(status, 3),
            cid=(one.cid_num, one.cid_name),
        )
        self._hangup_event(one, 0)
        self._dsc(one.device, "NOT_INUSE")
        self._dsc(one.device, "NOT_INUSE")

    def _carrier_down(self, o: Originated, cause: int) -> None:
        """The carrier leg leaves its bridge with ;2 and hangs up."""
        carrier = o.carrier
        assert carrier is not None
        bridge, o.carrier_bridge = o.carrier_bridge, None
        if bridge is not None:
            for ch in (o.two, carrier):
                if ch in bridge.channels:
                    bridge.channels.remove(ch)
                    ch.bridge = None
                    self.emit("BridgeLeave", CALL, [*bridge.block(), *ch.block()])
            self.emit("BridgeDestroy", CALL, bridge.block())
        self._hreq(carrier, cause)
        self._hangup_event(carrier, cause)
        self._dsc("PJSIP/carrier", "NOT_INUSE")

    def _carrier_hangs_up(self, o: Originated) -> None:
        """The customer hangs up: ;2's Dial() returns, it hangs up, and ;1 follows."""
        if o.done or o.carrier is None or not o.carrier.alive:
            return
        self._carrier_down(o, 16)
        self._exten(o.two, 4, "GotoIf", '$["ANSWER" = "ANSWER"]?done')
        self._exten(o.two, 5, "Return", "")
        self._two_ends(o, 16)

    def _dialer_connect(self, o: Originated) -> None:
        """``connect``: the answered ;1 half runs AMD if asked, then goes to its agent or queue."""
        one = o.one
        v = one.variables
        one.context, one.exten = self.dialer_context, o.exten or "connect"
        self._exten(
            one,
            1,
            "NoOp",
            f"cti dialer: answered, campaign {v.get('CTI_CAMPAIGN', '')} lead"
            f" {v.get('CTI_LEAD', '')} queue {v.get(self.dialer_queue_variable, '')}",
        )
        limit = max(1, _whole(v.get("CTI_CONNECT_SECONDS"), 2))
        self._exten(one, 2, "Set", f"CTI_CONNECT={limit}")
        self._var(one, "CTI_CONNECT", str(limit))
        if not _truthy(v.get("CTI_AMD")):
            self._dialer_route(o, limit)
            return
        self._exten(one, 5, "AMD", "")
        o.timers.append(self.later(self.amd_seconds, lambda: self._amd_done(o, limit)))

    def _amd_done(self, o: Originated, limit: int) -> None:
        if o.done:
            return
        one = o.one
        machine = o.plan is not None and o.plan.machine
        status, cause = (
            ("MACHINE", "LONGGREETING-1500-1500") if machine else ("HUMAN", "HUMAN-300-600")
        )
        self._var(one, "AMDSTATUS", status)
        self._var(one, "AMDCAUSE", cause)
        self._user_event(
            one, "CtiDialerAmd", ("AmdStatus", status), ("AmdCause", cause), *self._dialer_ids(one)
        )
        if machine:
            self._user_event(one, "CtiDialerMachine", *self._dialer_ids(one))
            self._exten(one, one.priority + 1, "Hangup", "16")
            self._dialer_hangup(o)
            return
        self._dialer_route(o, limit)

    def _dialer_route(self, o: Originated, limit: int) -> None:
        one = o.one
        agent = one.variables.get("CTI_AGENT", "")
        if agent:
            self._dial_agent(o, agent, limit)
            return
        queue_name = one.variables.get(self.dialer_queue_variable, "")
        self._exten(one, 10, "Queue", f"{queue_name},b(cti-dialer-autoanswer^s^1),,,{limit}")
        queue = self.queues.get(queue_name)
        if queue is None:
            self._var(one, "QUEUESTATUS", "JOINUNAVAIL")
            self._dialer_abandon(o, "JOINUNAVAIL")
            return
        c = QueueCaller(
            chan=one,
            queue=queue,
            kind="dialer",
            partner=o.two,
            joined=0.0,
            original_position=0,
            origin=o,
        )
        self._queue_join(c)
        if c.state in ("waiting", "ringing"):
            c.timers.append(self.later(float(limit), lambda: self._queue_timeout(c)))

    def _queue_timeout(self, c: QueueCaller) -> None:
        """Queue()'s timeout (the connect limit) passed with no agent: the caller leaves the queue
        (no QueueCallerAbandon: nobody hung up) and the dialplan plays the abandon message."""
        if c.state not in ("waiting", "ringing") or c.origin is None:
            return
        q, ch, o = c.queue, c.chan, c.origin
        _cancel(c.timers)
        if c.leg is not None:
            leg, c.leg = c.leg, None
            self._drop_leg(leg, "CANCEL")
        c.state = "done"
        self._ch("MusicOnHoldStop", ch)
        pos = q.callers.index(c) + 1
        q.callers.remove(c)
        self._queue_device(q)
        self.emit(
            "QueueCallerLeave",
            AGENT,
            [
                *ch.block(),
                ("Queue", q.name),
                ("Position", str(pos)),
                ("Count", str(len(q.callers))),
            ],
        )
        ch.owner = o
        if c.partner is not None:
            c.partner.owner = o
        self._var(ch, "QUEUESTATUS", "TIMEOUT")
        self._dialer_abandon(o, "TIMEOUT")
        self._distribute(q)

    def _dialer_abandon(self, o: Originated, status: str, agent: str = "") -> None:
        """``abandon``: ``CtiDialerAbandoned``, the abandon message, then Hangup(16)."""
        one = o.one
        self._user_event(
            one,
            "CtiDialerAbandoned",
            ("Queue", one.variables.get(self.dialer_queue_variable, "")),
            ("QueueStatus", status),
            ("Agent", agent),
            *self._dialer_ids(one),
        )
        self._exten(one, one.priority + 1, "Playback", ABANDON_SOUND)

        def done() -> None:
            if not o.done:
                self._exten(one, one.priority + 1, "Hangup", "16")
                self._dialer_hangup(o)

        o.timers.append(self.later(self.abandon_message_seconds, done))

    def _dialer_hangup(self, o: Originated) -> None:
        """The ;1 half's dialplan hangs up: the whole dialer call ends."""
        if o.done:
            return
        o.done = True
        _cancel(o.timers)
        self._soft(o.one, 16)
        self._hreq(o.two, 16)
        self._hangup_event(o.one, 16)
        if o.two.alive:
            self._hangup_event(o.two, 16)
        self._dsc(o.one.device, "NOT_INUSE")
        self._dsc(o.one.device, "NOT_INUSE")

    # --- preview: Dial(${CTI_AGENT}) ------------------------------------------------------------

    def _members_of(self, interface: str) -> list[Member]:
        return [
            m for q in self.queues.values() for m in q.members.values() if m.interface == interface
        ]

    def _dial_agent(self, o: Originated, interface: str, limit: int) -> None:
        """Ring the preview agent's own phone for ``limit`` seconds (not the queue)."""
        one = o.one
        ids = "^".join(v for _, v in self._dialer_ids(one))
        self._exten(
            one,
            7,
            "Dial",
            f"{interface},{limit},b(cti-dialer-autoanswer^s^1)"
            f"U(cti-dialer-connected^{ids}^{interface})",
        )
        members = self._members_of(interface)
        if any(m.in_call or m.ringing for m in members):
            self._var(one, "DIALSTATUS", "BUSY")
            self._var(one, "QUEUESTATUS", "BUSY")
            self._dialer_abandon(o, "BUSY", interface)
            return
        lm = _LOCAL.match(interface)
        if lm:
            a1, a2 = self._local_pair(lm.group(1), lm.group(2), one.linkedid)
            self._local_bridge(a1, a2, optimize=False)
        else:
            a1 = self._new_channel(
                f"{interface}-{self._next(interface)}",
                "from-internal",
                interface.rsplit("/", 1)[-1],
                interface,
                state=DOWN,
                linkedid=one.linkedid,
            )
            a2 = None
        self._set_cid(a1, one.cid_num, one.cid_name)
        leg = DirectLeg(
            origin=o,
            interface=interface,
            one=a1,
            two=a2,
            members=members,
            started=self.scheduler.now(),
        )
        a1.owner = leg
        if a2 is not None:
            a2.owner = leg
        o.direct = leg
        self._two("DialBegin", one, a1, ("DialString", interface))
        self._state(a1, RINGING)
        self._two("DialState", one, a1, ("DialStatus", "RINGING"))
        self._dsc(interface, "RINGING")
        for m in members:
            m.ringing = True
            m.status = 6
            self._member_status(m)
        if self.mode_of(interface) is AgentMode.SIMULATED:
            ring = self.agents.ring_seconds()
            if ring <= 0:
                self._direct_answers(leg)
                return
            leg.timers.append(self.later(ring, lambda: self._direct_answers(leg)))
        leg.timers.append(
            self.later(float(limit), lambda: self._direct_unanswered(leg, "NOANSWER"))
        )

    def _direct_answers(self, leg: DirectLeg) -> None:
        o = leg.origin
        if o.done or o.direct is not leg or leg.answered_at is not None:
            return
        _cancel(leg.timers)
        leg.answered_at = self.scheduler.now()
        one, a1 = o.one, leg.one
        if leg.two is not None:
            self._state(leg.two, UP)
        self._state(a1, UP)
        self._two("DialEnd", one, a1, ("DialStatus", "ANSWER"))
        # Dial's U() option runs on the agent's channel once it answered.
        self._user_event(a1, "CtiDialerConnected", ("Agent", leg.interface), *self._dialer_ids(one))
        for m in leg.members:
            m.ringing = False
            m.in_call = True
            m.status = 2
            self._member_status(m)
        self._dsc(leg.interface, "INUSE")
        bridge = Bridge(uniqueid=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)))
        leg.bridge = bridge
        self.emit("BridgeCreate", CALL, bridge.block())
        for ch in (a1, one):
            bridge.channels.append(ch)
            ch.bridge = bridge
            self.emit("BridgeEnter", CALL, [*bridge.block(), *ch.block()])
        if self.mode_of(leg.interface) is AgentMode.SIMULATED:
            handle = self.agents.handle_seconds()
            if handle is not None:
                leg.timers.append(self.later(handle, lambda: self._direct_agent_hangs_up(leg)))

    def _direct_unanswered(self, leg: DirectLeg, status: str) -> None:
        """The agent's phone did not answer within the limit (or rejected): abandon message."""
        o = leg.origin
        if o.done or o.direct is not leg or leg.answered_at is not None:
            return
        self._direct_down(leg, status)
        self._var(o.one, "DIALSTATUS", status)
        self._var(o.one, "QUEUESTATUS", status)
        self._dialer_abandon(o, status, leg.interface)

    def _direct_agent_hangs_up(self, leg: DirectLeg) -> None:
        o = leg.origin
        if o.done or o.direct is not leg:
            return
        self._direct_down(leg)
        self._exten(o.one, o.one.priority + 1, "Hangup", "")
        self._dialer_hangup(o)

    def _direct_down(self, leg: DirectLeg, status: str = "") -> None:
        """The agent's channels leave the call and hang up; the agent is free again."""
        o = leg.origin
        if o.direct is not leg:
            return
        o.direct = None
        _cancel(leg.timers)
        if leg.answered_at is None:
            self._two("DialEnd", o.one, leg.one, ("DialStatus", status or "CANCEL"))
        bridge, leg.bridge = leg.bridge, None
        if bridge is not None:
            for ch in (leg.one, o.one):
                if ch in bridge.channels:
                    bridge.channels.remove(ch)
                    ch.bridge = None
                    self.emit("BridgeLeave", CALL, [*bridge.block(), *ch.block()])
            self.emit("BridgeDestroy", CALL, bridge.block())
        self._hreq(leg.one, 16)
        self._hangup_event(leg.one, 16)
        if leg.two is not None and leg.two.alive:
            self._soft(leg.two, 16)
            self._hangup_event(leg.two, 16)
        self._dsc(leg.interface, "NOT_INUSE")
        answered = leg.answered_at is not None
        for m in leg.members:
            m.ringing = False
            m.in_call = False
            m.status = 1
            if answered:
                m.calls_taken += 1
                m.last_call = int(self.now_epoch())
                if self.mode_of(m.interface) is AgentMode.SIMULATED:
                    wrap = self.agents.wrapup_seconds()
                    if wrap > 0:
                        m.wrapup_until = self.scheduler.now() + wrap
                        self._distribute_later(wrap, self.queues[m.queue])
            self._member_status(m)
        for name in {m.queue for m in leg.members}:
            self._avail_device(self.queues[name])
            self._distribute(self.queues[name])

    def _distribute_later(self, delay: float, q: Queue) -> None:
        self.later(delay, lambda: self._distribute(q))

    # --- inbound from the trunk --------------------------------------------------------------

    def inbound_call(
        self,
        did_or_queue: str,
        caller_num: str,
        caller_name: str = "",
        *,
        talk_seconds: float | None = None,
        patience: float | None = None,
    ) -> Channel:
        """A call arrives on the carrier trunk (``PJSIP/carrier-in-…``) for a DID or a queue name."""
        if did_or_queue in self.dids:
            did, queue = did_or_queue, self.dids[did_or_queue]
        elif did_or_queue in self.queues:
            queue = did_or_queue
            did = next((d for d, q in self.dids.items() if q == queue), did_or_queue)
        else:
            raise KeyError(did_or_queue)
        name = f"PJSIP/carrier-in-{self._next('PJSIP')}"
        # The snapshot in Newchannel already carries the caller id the SIP INVITE brought.
        ch = self._new_channel(
            name,
            "from-carrier",
            did,
            "PJSIP/carrier-in",
            state=RING,
            linkedid=None,
            cid=(caller_num, caller_name or caller_num),
        )
        self._var(ch, "SIPDOMAIN", "127.0.0.1")
        self._call_ids[ch.name] = (
            f"{self.rng.randrange(1, 10**4)}-{self.rng.randrange(10**4)}@127.0.0.1"
        )
        self._exten(ch, 1, "NoOp", f"Inbound DID {did} -> queue {queue}")
        self._exten(ch, 2, "Answer", "")
        self._state(ch, UP)
        self._dsc("PJSIP/carrier-in", "INUSE")
        self.processed_calls += 1
        self._exten(ch, 3, "Queue", queue)
        self._queue_join(
            QueueCaller(
                chan=ch,
                queue=self.queues[queue],
                kind="pjsip",
                partner=None,
                joined=0.0,
                original_position=0,
                talk_seconds=talk_seconds,
                patience=patience,
            )
        )
        return ch

    # --- app_queue ---------------------------------------------------------------------------

    def _queue_vars(self, ch: Channel, q: Queue) -> None:
        for k, v in (
            ("QUEUENAME", q.name),
            ("QUEUEMAX", "0"),
            ("QUEUESTRATEGY", q.strategy),
            ("QUEUECALLS", str(len(q.callers))),
            ("QUEUEHOLDTIME", str(q.holdtime)),
            ("QUEUETALKTIME", str(q.talktime)),
            ("QUEUECOMPLETED", str(q.completed)),
            ("QUEUEABANDONED", str(q.abandoned)),
            ("QUEUESRVLEVEL", str(q.service_level)),
            ("QUEUESRVLEVELPERF", q.perf()),
        ):
            self._var(ch, k, v)

    def _queue_device(self, q: Queue) -> None:
        self._dsc_cached(f"Queue:{q.name}", "RINGING" if q.callers else "NOT_INUSE")

    def _avail_device(self, q: Queue) -> None:
        free = any(self._available(m) for m in q.members.values())
        self._dsc_cached(f"Queue:{q.name}_avail", "NOT_INUSE" if free else "INUSE")

    def _available(self, m: Member) -> bool:
        return not m.paused and not m.in_call and not m.ringing and m.status == 1

    def _queue_join(self, c: QueueCaller) -> None:
        q = c.queue
        c.chan.owner = c
        if c.partner is not None:
            c.partner.owner = c
        for k in (
            "ANSWEREDTIME",
            "ANSWEREDTIME_MS",
            "DIALEDTIME",
            "DIALEDTIME_MS",
            "QUEUEWAIT",
            "QUEUEWAIT_MS",
        ):
            self._var(c.chan, k, "")
        q.callers.append(c)
        c.joined = self.scheduler.now()
        c.original_position = len(q.callers)
        self._queue_device(q)
        self.emit(
            "QueueCallerJoin",
            AGENT,
            [
                *c.chan.block(),
                ("Queue", q.name),
                ("Position", str(len(q.callers))),
                ("Count", str(len(q.callers))),
            ],
        )
        self._ch("MusicOnHoldStart", c.chan, ("Class", "default"))
        if c.patience is not None:
            c.timers.append(
                self.later(
                    c.patience,
                    lambda: (
                        self._caller_gone(c, request_done=False)
                        if c.state in ("waiting", "ringing")
                        else None
                    ),
                )
            )
        self._distribute(q)

    def _distribute(self, q: Queue) -> None:
        """Ring a free member for the first waiting caller (ringall would be a loop; rrmemory is one)."""
        for c in q.callers:
            if c.state != "waiting":
                continue
            members = list(q.members.values())
            if not members:
                return
            n = len(members)
            for i in range(1, n + 1):
                idx = (q.rr_last + i) % n
                m = members[idx]
                if (
                    self._available(m)
                    and self.scheduler.now() >= m.wrapup_until
                    and not self._busy_elsewhere(m)
                ):
                    q.rr_last = idx
                    self._ring_member(c, m)
                    break
            else:
                return

    def _busy_elsewhere(self, m: Member) -> bool:
        return any(
            (mm.in_call or mm.ringing)
            for qq in self.queues.values()
            for mm in qq.members.values()
            if mm.interface == m.interface and mm is not m
        )

    def _ring_member(self, c: QueueCaller, m: Member) -> None:
        caller = c.chan
        lm = _LOCAL.match(m.interface)
        m.ringing = True
        c.state = "ringing"
        if lm:
            ext, ctx = lm.group(1), lm.group(2)
            one, two = self._local_pair(ext, ctx, caller.linkedid)
            # app_queue gives the agent leg the caller's connected line, else the dialled exten.
            if caller.con_num != "<unknown>":
                num, name = caller.con_num, caller.con_name
            else:
                num, name = caller.exten, "<unknown>"
            one.cid_num, one.cid_name = num, name
            self._exten(one, 1, "AppQueue", "(Outgoing Line)")
            self._set_cid(one, num, name)
            peer = m.interface.split("/", 1)[1]
            self._var(one, "DIALEDPEERNUMBER", peer)
            self._var(two, "DIALEDPEERNUMBER", peer)
            two.con_num, two.con_name = caller.cid_num, caller.cid_name
            self._set_cid(two, caller.cid_num, caller.cid_name)
            self._set_connected(two, caller.cid_num, caller.cid_name)
            self._local_bridge(one, two, optimize=False)
            leg = AgentLeg(caller=c, member=m, one=one, two=two, started=self.scheduler.now())
        else:
            seq = self._next(m.interface)
            one = self._new_channel(
                f"{m.interface}-{seq}",
                "from-internal",
                m.interface.rsplit("/", 1)[-1],
                m.interface,
                state=DOWN,
                linkedid=caller.linkedid,
            )
            self._set_cid(one, caller.cid_num, caller.cid_name)
            self._set_connected(one, caller.cid_num, caller.cid_name)
            leg = AgentLeg(caller=c, member=m, one=one, two=None, started=self.scheduler.now())
        one.owner = leg
        if leg.two is not None:
            leg.two.owner = leg
        c.leg = leg
        self.emit(
            "AgentCalled",
            AGENT,
            [
                *caller.block(),
                *one.block("Dest"),
                ("Queue", c.queue.name),
                ("Interface", m.interface),
                ("MemberName", m.name),
            ],
        )
        self._two("DialBegin", caller, one, ("DialString", m.interface))
        mode = self.mode_of(m.interface)
        if leg.two is not None:
            if mode is AgentMode.SIMULATED:
                self._exten(leg.two, 1, "NoOp", f"sim agent {leg.two.exten} answers")
            else:
                self._exten(leg.two, 1, "NoOp", f"sim agent {leg.two.exten} rings")
        if mode is AgentMode.SIMULATED:
            ring = self.agents.ring_seconds()
            if ring <= 0:
                self._agent_answers(leg)
                return
            self._agent_rings(leg)
            leg.timers.append(self.later(ring, lambda: self._agent_answers(leg)))
        else:
            self._agent_rings(leg)
        leg.timers.append(self.later(c.queue.timeout, lambda: self._ring_timeout(leg)))

    def _agent_rings(self, leg: AgentLeg) -> None:
        if leg.two is not None:
            self._exten(leg.two, 2, "Ringing", "")
        self._state(leg.one, RINGING)
        self._two("DialState", leg.caller.chan, leg.one, ("DialStatus", "RINGING"))
        self._dsc(leg.member.state_interface, "RINGING")
        leg.member.status = 6
        self.emit("QueueMemberStatus", AGENT, self._member_event_fields(leg.member))
        leg.member.status = 1

    def _member_event_fields(self, m: Member) -> Hdrs:
        return [*m.fields(), ("Ringinuse", "0"), ("Wrapuptime", "0")]

    def _member_status(self, m: Member) -> None:
        self.emit("QueueMemberStatus", AGENT, self._member_event_fields(m))

    def ringing_leg(self, interface: str) -> AgentLeg | None:
        for ch in self.channels.values():
            leg = ch.owner
            if (
                isinstance(leg, AgentLeg)
                and leg.answered_at is None
                and leg.caller.state == "ringing"
            ):
                iface = leg.member.interface
                if interface in (iface, leg.member.state_interface, leg.one.name) or (
                    leg.two is not None and interface == leg.two.name
                ):
                    return leg
        return None

    def answer(self, interface: str) -> bool:
        """A person at the desk accepts the call ringing on ``interface`` (or channel name)."""
        leg = self.ringing_leg(interface)
        if leg is None:
            direct = self._ringing_direct(interface)
            if direct is None:
                return False
            self._direct_answers(direct)
            return True
        self._agent_answers(leg)
        return True

    def _ringing_direct(self, interface: str) -> DirectLeg | None:
        for ch in self.channels.values():
            leg = ch.owner
            if isinstance(leg, DirectLeg) and leg.answered_at is None:
                names = (leg.interface, leg.one.name, leg.two.name if leg.two else "")
                if interface in names:
                    return leg
        return None

    def _agent_answers(self, leg: AgentLeg) -> None:
        c, m = leg.caller, leg.member
        if c.state != "ringing" or c.leg is not leg:
            return
        _cancel(leg.timers)
        one, two, caller, q = leg.one, leg.two, c.chan, c.queue
        now = self.scheduler.now()
        if two is not None:
            self._exten(two, 2, "Answer", "")
            self._state(two, UP)
        else:
            self._state(one, UP)
        m.ringing = False
        m.status = 2
        self._dsc(m.state_interface, "INUSE")
        self._member_status(m)
        self._avail_device(q)
        if two is not None:
            one.exten = caller.exten
            self._state(one, UP)
            self._exten(one, 1, "AppQueue", "(Outgoing Line)")
            self._set_connected(one, caller.cid_num, caller.cid_name)
            self._dsc(m.state_interface, "INUSE")
        self._two("DialEnd", caller, one, ("DialStatus", "ANSWER"))
        self._ch("MusicOnHoldStop", caller)
        hold = int(now - c.joined)
        c.hold_seconds = hold
        member_vars = (
            ("MEMBERINTERFACE", m.interface),
            ("MEMBERNAME", m.name),
            ("MEMBERCALLS", str(m.calls_taken)),
            ("MEMBERLASTCALL", str(m.last_call)),
            ("MEMBERPENALTY", str(m.penalty)),
            ("MEMBERDYNAMIC", "1"),
            ("MEMBERREALTIME", "0"),
        )
        for ch in (caller, one):
            for k, v in member_vars:
                self._var(ch, k, v)
        for ch in (caller, one):
            self._var(ch, "QEHOLDTIME", str(hold))
            self._var(ch, "QEORIGINALPOS", str(c.original_position))
        for ch in (caller, one):
            self._queue_vars(ch, q)
        pos = q.callers.index(c) + 1
        q.callers.remove(c)
        self._queue_device(q)
        self.emit(
            "QueueCallerLeave",
            AGENT,
            [
                *caller.block(),
                ("Queue", q.name),
                ("Position", str(pos)),
                ("Count", str(len(q.callers))),
            ],
        )
        self._var(caller, "QUEUEPOSITION", str(pos))
        self._var(caller, "QUEUEWAIT", str(hold))
        self._var(caller, "QUEUEWAIT_MS", str(int((now - c.joined) * 1000)))
        ring = int(now - leg.started)
        self.emit(
            "AgentConnect",
            AGENT,
            [
                *caller.block(),
                *one.block("Dest"),
                ("Queue", q.name),
                ("Interface", m.interface),
                ("MemberName", m.name),
                ("HoldTime", str(hold)),
                ("RingTime", str(ring)),
            ],
        )
        bridge = Bridge(uniqueid=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)))
        self.emit("BridgeCreate", CALL, bridge.block())
        for ch in (one, caller):
            bridge.channels.append(ch)
            ch.bridge = bridge
            self.emit("BridgeEnter", CALL, [*bridge.block(), *ch.block()])
        self._var(one, "BRIDGEPEER", caller.name)
        if caller.name in self._call_ids:
            self._var(one, "BRIDGEPVTCALLID", self._call_ids[caller.name])
        self._var(caller, "BRIDGEPEER", one.name)
        if two is not None:
            self._exten(two, 3, "Wait", "600")
        m.in_call = True
        c.state = "bridged"
        c.connected_at = now
        leg.answered_at = now
        self._remove_timers_patience(c)
        if c.talk_seconds is not None:
            c.timers.append(
                self.later(c.talk_seconds, lambda: self._caller_gone(c, request_done=False))
            )
        if self.mode_of(m.interface) is AgentMode.SIMULATED:
            handle = self.agents.handle_seconds()
            if handle is not None:
                leg.timers.append(self.later(handle, lambda: self.agent_hangup(leg)))
        self._spy_scan()
        self._distribute(q)

    def _remove_timers_patience(self, c: QueueCaller) -> None:
        _cancel(c.timers)

    def _ring_timeout(self, leg: AgentLeg) -> None:
        """Nobody answered within the queue timeout: AgentRingNoAnswer, retry after ``retry`` s."""
        c, m = leg.caller, leg.member
        if c.leg is not leg or c.state != "ringing":
            return
        ring = int(self.scheduler.now() - leg.started)
        self.emit(
            "AgentRingNoAnswer",
            AGENT,
            [
                *c.chan.block(),
                *leg.one.block("Dest"),
                ("Queue", c.queue.name),
                ("Interface", m.interface),
                ("MemberName", m.name),
                ("RingTime", str(ring)),
            ],
        )
        self._drop_leg(leg, "NOANSWER")
        c.state = "waiting"
        c.leg = None
        c.timers.append(self.later(c.queue.retry, lambda: self._distribute(c.queue)))

    def _drop_leg(self, leg: AgentLeg, dialstatus: str) -> None:
        """Stop ringing an agent's phone (no answer, caller gone, rejected)."""
        _cancel(leg.timers)
        m = leg.member
        self._two("DialEnd", leg.caller.chan, leg.one, ("DialStatus", dialstatus))
        if leg.two is not None:
            self._hreq(leg.two, 16)
        self._hangup_event(leg.one, 16)
        if leg.two is not None:
            self._soft(leg.two, 16)
            self._hangup_event(leg.two, 16)
        m.ringing = False
        m.status = 1
        self._dsc(m.state_interface, "NOT_INUSE")
        self._member_status(m)
        self._avail_device(leg.caller.queue)

    def _caller_gone(self, c: QueueCaller, *, request_done: bool) -> None:
        """The caller hangs up: abandon if still waiting or ringing, AgentComplete if bridged."""
        if c.state == "done":
            return
        state = c.state
        _cancel(c.timers)
        if state == "bridged":
            self._caller_hangs_up_bridged(c, request_done)
        else:
            self._abandon(c, request_done)

    def _caller_request(self, c: QueueCaller, request_done: bool) -> None:
        if request_done:
            return
        if c.kind == "pjsip":
            self._rtp_stats(c.chan, None)
            self._hreq(c.chan, None)
        elif c.kind == "local":
            self._hreq(c.chan, 0)
            assert c.partner is not None
            self._hangup_event(c.partner, 0)
        else:
            self._hreq(c.chan, 16)

    def _abandon(self, c: QueueCaller, request_done: bool) -> None:
        q, ch = c.queue, c.chan
        now = self.scheduler.now()
        if c.leg is not None:
            leg, c.leg = c.leg, None
            self._drop_leg(leg, "CANCEL")
        c.state = "done"
        self._caller_request(c, request_done)
        self._ch("MusicOnHoldStop", ch)
        wait = int(now - c.joined)
        self._var(ch, "QUEUEWAIT", str(wait))
        self._var(ch, "QUEUEWAIT_MS", str(int((now - c.joined) * 1000)))
        self._var(ch, "DIALEDTIME", str(int(now - ch.created)))
        self._var(ch, "DIALEDTIME_MS", str(int((now - ch.created) * 1000)))
        self._var(ch, "ANSWEREDTIME", "0")
        self._var(ch, "ANSWEREDTIME_MS", "0")
        self._var(ch, "ABANDONED", "TRUE")
        self._queue_vars(ch, q)
        pos = q.callers.index(c) + 1
        self.emit(
            "QueueCallerAbandon",
            AGENT,
            [
                *ch.block(),
                ("Queue", q.name),
                ("Position", str(pos)),
                ("OriginalPosition", str(c.original_position)),
                ("HoldTime", str(wait)),
            ],
        )
        q.abandoned += 1
        self._queue_vars(ch, q)
        q.callers.remove(c)
        self._queue_device(q)
        self.emit(
            "QueueCallerLeave",
            AGENT,
            [
                *ch.block(),
                ("Queue", q.name),
                ("Position", str(pos)),
                ("Count", str(len(q.callers))),
            ],
        )
        self._var(ch, "QUEUEPOSITION", str(pos))
        self._soft(ch, 16)
        self._end_caller_channel(c, 0 if c.kind == "local" else 16)

    def _end_caller_channel(self, c: QueueCaller, cause: int) -> None:
        ch = c.chan
        self._hangup_event(ch, cause)
        if c.kind == "pjsip":
            self._dsc(
                "PJSIP/carrier-in",
                "UNAVAILABLE" if not self._device_busy("PJSIP/carrier-in") else "INUSE",
            )
        else:
            dev = ch.device
            state = "INUSE" if self._device_busy(dev) else "NOT_INUSE"
            self._dsc(dev, state)
            self._dsc(dev, state)
        if c.origin is not None:
            c.origin.done = True
            _cancel(c.origin.timers)
            if c.kind == "dialer" and c.partner is not None and c.partner.alive:
                self._hangup_event(c.partner, cause)

    def _device_busy(self, device: str) -> bool:
        return any(ch.device == device for ch in self.channels.values())

    def _complete_stats(self, c: QueueCaller) -> int:
        q = c.queue
        talk = int(self.scheduler.now() - c.connected_at)
        q.holdtime = (q.holdtime * q.completed + c.hold_seconds) // (q.completed + 1)
        q.talktime = (q.talktime * q.completed + talk) // (q.completed + 1)
        q.completed += 1
        if c.hold_seconds <= q.service_level:
            q.completed_in_sl += 1
        return talk

    def _end_vars(self, c: QueueCaller) -> None:
        ch, q = c.chan, c.queue
        now = self.scheduler.now()
        self._queue_vars(ch, q)
        self._var(ch, "ANSWEREDTIME", str(int(now - c.connected_at)))
        self._var(ch, "ANSWEREDTIME_MS", str(int((now - c.connected_at) * 1000)))
        self._var(ch, "DIALEDTIME", str(int(now - ch.created)))
        self._var(ch, "DIALEDTIME_MS", str(int((now - ch.created) * 1000)))
        self._queue_vars(ch, q)

    def _member_free(self, leg: AgentLeg) -> None:
        m = leg.member
        m.in_call = False
        m.status = 1
        m.calls_taken += 1
        m.last_call = int(self.now_epoch())
        if self.mode_of(m.interface) is AgentMode.SIMULATED:
            wrap = self.agents.wrapup_seconds()
            if wrap > 0:
                m.wrapup_until = self.scheduler.now() + wrap
                q = leg.caller.queue
                self.later(wrap, lambda: self._distribute(q))

    def _caller_hangs_up_bridged(self, c: QueueCaller, request_done: bool) -> None:
        leg = c.leg
        assert leg is not None and leg.one.bridge is not None
        one, two, ch, m, bridge = leg.one, leg.two, c.chan, leg.member, leg.one.bridge
        _cancel(leg.timers)
        c.state = "done"
        if c.kind == "pjsip" and not request_done:
            self._rtp_stats(ch, one)
            self._hreq(ch, None)
        elif c.kind == "local" and not request_done:
            self._hreq(ch, 0)
        elif not request_done:
            self._hreq(ch, 16)
        self._var(ch, "BRIDGEPEER", "")
        self._var(one, "BRIDGEPEER", "")
        if ch.name in self._call_ids:
            self._var(one, "BRIDGEPVTCALLID", "")
        bridge.channels.remove(ch)
        self.emit("BridgeLeave", CALL, [*bridge.block(), *ch.block()])
        bridge.channels.remove(one)
        self.emit("BridgeLeave", CALL, [*bridge.block(), *one.block()])
        talk = self._complete_stats(c)
        self.emit(
            "AgentComplete",
            AGENT,
            [
                *ch.block(),
                *one.block("Dest"),
                ("Queue", c.queue.name),
                ("Interface", m.interface),
                ("MemberName", m.name),
                ("HoldTime", str(c.hold_seconds)),
                ("TalkTime", str(talk)),
                ("Reason", "caller"),
            ],
        )
        if two is not None:
            self._hreq(two, 16)
        self._hangup_event(one, 16)
        if c.kind == "local" and c.partner is not None and c.partner.alive:
            self._hangup_event(c.partner, 0)
        self._end_vars(c)
        self._soft(ch, 16)
        if two is not None:
            self._soft(two, 16)
            self._hangup_event(two, 16)
        self._hangup_event(ch, 16)
        self.emit("BridgeDestroy", CALL, bridge.block())
        if c.kind == "pjsip":
            self._dsc(
                "PJSIP/carrier-in",
                "UNAVAILABLE" if not self._device_busy("PJSIP/carrier-in") else "INUSE",
            )
        else:
            state = "INUSE" if self._device_busy(ch.device) else "NOT_INUSE"
            self._dsc(ch.device, state)
            self._dsc(ch.device, state)
        if c.origin is not None:
            c.origin.done = True
            _cancel(c.origin.timers)
            if c.kind == "dialer" and c.partner is not None and c.partner.alive:
                self._hangup_event(c.partner, 16)
        self._dsc(m.state_interface, "NOT_INUSE")
        self._member_free(leg)
        self._member_status(m)
        self._avail_device(c.queue)
        self._dsc(m.state_interface, "NOT_INUSE")
        self._distribute(c.queue)

    def agent_hangup(
        self, leg: AgentLeg, *, soft_on: Channel | None = None, reason: str = "agent"
    ) -> None:
        """The agent's side ends a bridged call (hang up at the desk, or a simulated agent is done)."""
        c = leg.caller
        if c.state != "bridged" or c.leg is not leg:
            return
        one, two, ch, m = leg.one, leg.two, c.chan, leg.member
        bridge = one.bridge
        assert bridge is not None
        _cancel(leg.timers)
        _cancel(c.timers)
        c.state = "done"
        if soft_on is not None:
            self._soft(soft_on, 16)
        if two is not None and soft_on is not one:
            self._hreq(one, 16)
        self._var(one, "BRIDGEPEER", "")
        self._var(ch, "BRIDGEPEER", "")
        if ch.name in self._call_ids:
            self._var(one, "BRIDGEPVTCALLID", "")
        bridge.channels.remove(one)
        self.emit("BridgeLeave", CALL, [*bridge.block(), *one.block()])
        talk = self._complete_stats(c)
        self.emit(
            "AgentComplete",
            AGENT,
            [
                *ch.block(),
                *one.block("Dest"),
                ("Queue", c.queue.name),
                ("Interface", m.interface),
                ("MemberName", m.name),
                ("HoldTime", str(c.hold_seconds)),
                ("TalkTime", str(talk)),
                ("Reason", reason),
            ],
        )
        for spy in list(leg.spies):
            if spy.spyee is one:
                self._spy_stop(spy)
        if two is not None:
            self._hreq(two, 16)
            self._hangup_event(one, 16)
            self._soft(two, 16)
            self._hangup_event(two, 16)
        else:
            self._hangup_event(one, 16)
        bridge.channels.remove(ch)
        self.emit("BridgeLeave", CALL, [*bridge.block(), *ch.block()])
        self.emit("BridgeDestroy", CALL, bridge.block())
        ch.bridge = None
        self._end_vars(c)
        self._dsc(m.state_interface, "NOT_INUSE")
        self._member_free(leg)
        self._member_status(m)
        self._avail_device(c.queue)
        if reason == "agent":
            self._caller_dialplan_hangup(c)
        self._distribute(c.queue)

    def _caller_dialplan_hangup(self, c: QueueCaller) -> None:
        """After Queue() returns, the caller's dialplan runs Hangup()."""
        ch = c.chan
        self._exten(ch, ch.priority + 1, "Hangup", "")
        if c.kind == "pjsip":
            self._rtp_stats(ch, None)
        self._soft(ch, 16)
        partner = c.partner if c.partner is not None and c.partner.alive else None
        if partner is not None:
            self._hreq(partner, 16)
        self._hangup_event(ch, 16)
        if partner is not None:
            self._hangup_event(partner, 16)
        if c.origin is not None:
            c.origin.done = True
            _cancel(c.origin.timers)
        if c.kind == "pjsip":
            self._dsc(
                "PJSIP/carrier-in",
                "UNAVAILABLE" if not self._device_busy("PJSIP/carrier-in") else "INUSE",
            )
        else:
            state = "INUSE" if self._device_busy(ch.device) else "NOT_INUSE"
            self._dsc(ch.device, state)
            self._dsc(ch.device, state)

    # --- queue membership --------------------------------------------------------------------

    def queue_add(
        self,
        queue: str,
        interface: str,
        *,
        name: str = "",
        state_interface: str = "",
        penalty: int = 0,
        paused: bool = False,
        reason: str = "",
        mode: AgentMode | None = None,
    ) -> str | None:
        """QueueAdd; returns an error message, or None on success (events already emitted)."""
        q = self.queues.get(queue)
        if q is None:
            return "Unable to add interface to queue: No such queue"
        if interface in q.members:
            return "Unable to add interface: Already there"
        if mode is not None:
            self.agent_modes[interface] = mode
        m = Member(
            queue=queue,
            interface=interface,
            name=name or interface,
            state_interface=state_interface or interface,
            penalty=penalty,
            paused=paused,
            paused_reason=reason if paused else "",
            login_time=int(self.now_epoch()),
            mode=self.mode_of(interface),
        )
        if paused:
            m.last_pause = int(self.now_epoch())
        q.members[interface] = m
        self._dsc_cached(f"Queue:{queue}_pause_{interface}", "INUSE" if paused else "NOT_INUSE")
        self.emit("QueueMemberAdded", AGENT, self._member_event_fields(m))
        self._avail_device(q)
        self.later(0.0, lambda: self._distribute(q))
        return None

    def queue_remove(self, queue: str, interface: str) -> str | None:
        q = self.queues.get(queue)
        if q is None:
            return "Unable to remove interface from queue: No such queue"
        m = q.members.pop(interface, None)
        if m is None:
            return "Unable to remove interface: Not there"
        self.emit("QueueMemberRemoved", AGENT, self._member_event_fields(m))
        self._avail_device(q)
        return None

    def queue_pause(self, queue: str, interface: str, paused: bool, reason: str = "") -> bool:
        found = False
        for q in self.queues.values():
            if queue and q.name != queue:
                continue
            m = q.members.get(interface)
            if m is None:
                continue
            found = True
            m.paused = paused
            m.paused_reason = reason if paused else ""
            if paused:
                m.last_pause = int(self.now_epoch())
            self._dsc_cached(
                f"Queue:{q.name}_pause_{interface}", "INUSE" if paused else "NOT_INUSE"
            )
            self.emit("QueueMemberPause", AGENT, self._member_event_fields(m))
            self._avail_device(q)
            if not paused:
                self._distribute(q)
        return found

    # --- hangup, redirect, variables ---------------------------------------------------------

    def hangup(self, name: str, cause: int = 16) -> bool:
        """Hang up a channel (AMI Hangup), or the call on a member interface; False if none."""
        ch = self.channels.get(name)
        if ch is None:
            for candidate in self.channels.values():
                leg = candidate.owner
                if isinstance(leg, AgentLeg) and name in (
                    leg.member.interface,
                    leg.member.state_interface,
                ):
                    ch = leg.one
                    break
                if isinstance(leg, DirectLeg) and name == leg.interface:
                    ch = leg.one
                    break
        if ch is None:
            return False
        owner = ch.owner
        if isinstance(owner, DirectLeg):
            self._soft(ch, cause)
            if owner.answered_at is None:
                self._direct_unanswered(owner, "BUSY")
            else:
                self._direct_agent_hangs_up(owner)
            return True
        if isinstance(owner, AgentLeg):
            if owner.answered_at is None:
                self._soft(ch, cause)
                c = owner.caller
                c.leg = None
                c.state = "waiting"
                self._drop_leg(owner, "BUSY")
                c.timers.append(self.later(c.queue.retry, lambda: self._distribute(c.queue)))
            else:
                self.agent_hangup(owner, soft_on=ch)
        elif isinstance(owner, QueueCaller):
            self._soft(ch, cause)
            if ch is owner.chan:
                if owner.kind == "pjsip":
                    self._caller_gone(owner, request_done=True)
                elif owner.kind == "local":
                    self._caller_gone(owner, request_done=False)
                else:
                    self._caller_gone(owner, request_done=True)
            elif owner.origin is not None and ch is owner.origin.one:
                owner.origin.done = True
                self._caller_gone(owner, request_done=False)
            else:
                self._caller_gone(owner, request_done=False)
        elif isinstance(owner, Originated):
            if not owner.answered:
                self._soft(ch, cause)
                owner.done = True
                _cancel(owner.timers)
                self._hangup_event(owner.two, cause)
                self._hangup_event(owner.one, cause)
                self.emit_originate_failure(
                    owner.action_id,
                    owner.dial_string,
                    owner.app,
                    owner.data,
                    reason=1,
                    cid=(owner.one.cid_num, owner.one.cid_name),
                )
                self._dsc(owner.one.device, "NOT_INUSE")
            elif ch is owner.two:
                self._soft(ch, cause)
                self._two_ends(owner, cause)
            else:
                self._soft(ch, cause)
                self._one_ends(owner)
        else:
            self._soft(ch, cause)
            self._hangup_event(ch, cause)
        return True

    def redirect(self, name: str, context: str, exten: str, priority: str = "1") -> bool:
        """Blind transfer: the channel leaves its bridge or queue and runs the dialplan there."""
        ch = self.channels.get(name)
        if ch is None:
            return False
        owner = ch.owner
        c: QueueCaller | None = None
        if isinstance(owner, QueueCaller):
            c = owner
        elif isinstance(owner, AgentLeg) and owner.caller.state == "bridged":
            # Redirecting the agent side moves the caller (the usual "transfer" button).
            c = owner.caller
            ch = c.chan
        if c is not None and ch is c.chan:
            if c.state == "bridged" and c.leg is not None:
                self.agent_hangup(c.leg, reason="transfer")
            elif c.state in ("waiting", "ringing"):
                _cancel(c.timers)
                if c.leg is not None:
                    leg, c.leg = c.leg, None
                    self._drop_leg(leg, "CANCEL")
                q = c.queue
                pos = q.callers.index(c) + 1
                q.callers.remove(c)
                c.state = "done"
                self._ch("MusicOnHoldStop", ch)
                self._queue_device(q)
                self.emit(
                    "QueueCallerLeave",
                    AGENT,
                    [
                        *ch.block(),
                        ("Queue", q.name),
                        ("Position", str(pos)),
                        ("Count", str(len(q.callers))),
                    ],
                )
        ch.context, ch.exten = context, exten
        if context == "from-carrier" and exten in self.dids and c is not None:
            queue = self.dids[exten]
            self._exten(ch, 1, "NoOp", f"Inbound DID {exten} -> queue {queue}")
            self._exten(ch, 3, "Queue", queue)
            self._queue_join(
                QueueCaller(
                    chan=ch,
                    queue=self.queues[queue],
                    kind=c.kind,
                    partner=c.partner,
                    joined=0.0,
                    original_position=0,
                    talk_seconds=c.talk_seconds,
                    origin=c.origin,
                )
            )
        elif context == self.dialer_context and c is not None:
            queue_name = ch.variables.get(self.dialer_queue_variable, "")
            if queue_name in self.queues:
                self._exten(ch, 1, "Queue", queue_name)
                self._queue_join(
                    QueueCaller(
                        chan=ch,
                        queue=self.queues[queue_name],
                        kind=c.kind,
                        partner=c.partner,
                        joined=0.0,
                        original_position=0,
                        talk_seconds=c.talk_seconds,
                        origin=c.origin,
                    )
                )
            else:
                self._exten(ch, 1, "Hangup", "")
                self._caller_dialplan_hangup(c)
        elif c is not None:
            self._exten(ch, int(priority) if priority.isdigit() else 1, "Hangup", "")
            self._caller_dialplan_hangup(c)
        else:
            self._exten(
                ch,
                int(priority) if priority.isdigit() else 1,
                "NoOp",
                f"redirected to {exten}@{context}",
            )
        return True

    def setvar(self, name: str, variable: str, value: str) -> bool:
        if not name:
            self.global_vars[variable] = value
            return True
        ch = self.channels.get(name)
        if ch is None:
            return False
        self._var(ch, variable, value)
        return True

    def getvar(self, name: str, variable: str) -> str | None:
        if not name:
            return self.global_vars.get(variable, "")
        ch = self.channels.get(name)
        if ch is None:
            return None
        return ch.variables.get(variable, "")

    # --- ChanSpy -----------------------------------------------------------------------------

    def _spy_scan(self) -> None:
        for spy in list(self._pending_spies):
            if spy.origin.done:
                self._pending_spies.remove(spy)
                continue
            for ch in self.channels.values():
                leg = ch.owner
                if (
                    ch.name.startswith(spy.target + "-")
                    and ch.bridge is not None
                    and isinstance(leg, AgentLeg)
                ):
                    self._pending_spies.remove(spy)
                    self._spy_start(spy, ch, leg)
                    break

    def _spy_start(self, spy: Spy, spyee: Channel, leg: AgentLeg) -> None:
        spy.spyee = spyee
        leg.spies.append(spy)
        self.emit("ChanSpyStart", CALL, [*spy.origin.one.block("Spyer"), *spyee.block("Spyee")])
        # Asterisk re-evaluates the bridge when the spy's audiohook attaches.
        bridge = spyee.bridge
        if bridge is not None:
            peers = [c for c in bridge.channels if c is not spyee]
            if peers:
                self._var(spyee, "BRIDGEPEER", peers[0].name)
                self._var(peers[0], "BRIDGEPEER", spyee.name)

    def _spy_stop(self, spy: Spy) -> None:
        spyee = spy.spyee
        if spyee is None:
            return
        self.emit("ChanSpyStop", CALL, [*spy.origin.one.block("Spyer"), *spyee.block("Spyee")])
        leg = spyee.owner
        if isinstance(leg, AgentLeg) and spy in leg.spies:
            leg.spies.remove(spy)
        spy.spyee = None
        if not spy.origin.done:
            self._pending_spies.append(spy)

    def _spy_end(self, spy: Spy) -> None:
        if spy.spyee is not None:
            self._spy_stop(spy)
        if spy in self._pending_spies:
            self._pending_spies.remove(spy)

    # --- reporting ---------------------------------------------------------------------------

    def channel_rows(self) -> list[Channel]:
        return [ch for ch in self.channels.values() if ch.alive]
