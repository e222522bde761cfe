"""The simulator's flows: what a call is made of while the PBX model runs it.

Plain mutable records owned by :class:`cti.sim.pbx.Pbx`: an originate (``Originated`` for a Local
channel, ``PhoneCall`` for a PJSIP phone), a caller in a queue and the agent leg rung for it, a
ChanSpy session; and what dialled customers and simulated agents do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from cti.sim.model import Bridge, Channel, Member, Queue
from cti.sim.scheduler import Timer

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


@dataclass(eq=False, slots=True, kw_only=True)
class OriginateRequest:
    """An ``Originate`` in flight: what was asked (the Async originate's ActionID, Channel,
    Application/Data or Context/Exten/Priority, Timeout, CallerID) and how far it got. ``one`` is
    the originated channel."""

    action_id: str
    dial_string: str
    one: Channel
    app: str
    data: str
    context: str
    exten: str
    priority: str
    timeout: float
    # The Originate's CallerID (what its OriginateResponse repeats), if it had one.
    caller_id: tuple[str, str] | None = None
    answered: bool = False
    done: bool = False
    timers: list[Timer] = field(default_factory=list)
    spy: Spy | None = None
    # Its Dial() once answered (a preview call), if any.
    dial: DialApp | None = None


@dataclass(eq=False, slots=True, kw_only=True)
class Originated(OriginateRequest):
    """An ``Originate`` of a Local channel: ``one`` is the originated side, ``two`` runs the dialplan."""

    two: Channel
    # A dialer call (``Local/NUMBER@cti-dialer``): the carrier leg ``two`` dials, and its bridge.
    carrier: Channel | None = None
    carrier_bridge: Bridge | None = None
    plan: CustomerPlan | None = None


@dataclass(eq=False, slots=True)
class QueueCaller:
    """A channel sitting in ``Queue()``; ``partner`` is the other half of its call, if any."""

    chan: Channel
    queue: Queue
    kind: (
        str  # "local" (Originate into from-carrier), "pjsip" (trunk), "dialer" (answered outbound)
    )
    partner: Channel | None
    # Set when it joins the queue.
    joined: float = 0.0
    original_position: int = 0
    talk_seconds: float | None = None
    patience: float | None = None
    leg: AgentLeg | None = None
    state: str = "waiting"  # waiting, ringing, bridged, done
    connected_at: float = 0.0
    hold_seconds: int = 0
    timers: list[Timer] = field(default_factory=list)
    tried: set[str] = field(default_factory=set)
    origin: Originated | None = None
    # After a ring no one took, app_queue's caller waits the queue's ``retry`` before its next
    # try, whichever member frees meanwhile: no member is rung for it before this time.
    retry_at: float = 0.0


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


@dataclass(eq=False, slots=True)
class Spy:
    """A supervisor's ChanSpy on a channel-name prefix. With option ``E`` (``ends``) the session
    and the spying channel end when the spied channel hangs up; without it ChanSpy waits for the
    next channel of that name."""

    origin: Originated | PhoneCall
    target: str
    spyee: Channel | None = None
    ends: bool = False


@dataclass(eq=False, slots=True, kw_only=True)
class PhoneCall(OriginateRequest):
    """An ``Originate`` of a PJSIP phone (``PJSIP/agent9``): it rings; once answered it runs an
    application or the dialplan (``cti-spy``, ``cti-dialer`` ``preview``...)."""


@dataclass(eq=False, slots=True)
class DialApp:
    """``Dial()`` run by a channel that is already up (``caller``): it rings ``callee`` and
    bridges them once answered. ``customer``: the callee is a customer behind the carrier (whose
    ``plan`` decides), else a phone (a person or a simulated agent)."""

    caller: Channel
    callee: Channel
    limit: float
    customer: bool
    plan: CustomerPlan | None = None
    answered: bool = False
    done: bool = False
    bridge: Bridge | None = None
    timers: list[Timer] = field(default_factory=list)
    # What the caller's dialplan does once Dial() returns (or the call ends): its flow.
    owner: PhoneCall | Originated | Transferred | Consultation | None = None


@dataclass(eq=False, slots=True)
class Transferred:
    """A queue caller redirected (AMI ``Redirect``) out of its call with an agent to another
    extension. app_queue reports that agent's ``AgentComplete`` only when this channel hangs up."""

    chan: Channel
    kind: str  # as QueueCaller.kind
    partner: Channel | None
    # The agent it was talking to (None: it was redirected while still waiting in the queue).
    queue: Queue | None = None
    member: Member | None = None
    hold_seconds: int = 0
    connected_at: float = 0.0
    origin: Originated | None = None
    dial: DialApp | None = None
    done: bool = False


@dataclass(eq=False, slots=True)
class Consultation:
    """An attended transfer (AMI ``Atxfer``) in progress: the agent's channel left the caller's
    bridge (the caller holds there) for a bridge with the ``;1`` half of a Local pair whose ``;2``
    half dials the target."""

    leg: AgentLeg
    agent: Channel
    caller_bridge: Bridge
    one: Channel
    two: Channel
    bridge: Bridge
    dial: DialApp | None = None
    done: bool = False


def cancel(timers: list[Timer]) -> None:
    """Cancel and forget every timer of a flow."""
    for t in timers:
        t.cancel()
    timers.clear()


def stat_line(kind: str, pad: int) -> str:
    sp = " " * pad
    parts = [
        f"{sp}{a}{d}{kind}=000.000000;"
        for d in ("rx", "tx")
        for a in ("min", "max", "avg", "stdev")
    ]
    return "".join(parts)


LOCAL = re.compile(r"^Local/([^@/]+)@([^/]+)(/n)?$", re.IGNORECASE)
NUMBER = re.compile(r"^\+?[0-9]+$")
ABANDON_SOUND = "/var/lib/asterisk/sounds/cti/abandon"


def whole(text: str | None, default: int) -> int:
    """A dialplan variable as whole seconds (``default`` when empty or not a number)."""
    try:
        return int(text) if text else default
    except ValueError:
        return default


def truthy(text: str | None) -> bool:
    """A dialplan yes (``1``, ``yes``, ``true``)."""
    return (text or "").strip().lower() in ("1", "yes", "true")
