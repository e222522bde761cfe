"""What the reducer keeps of one PBX: channels, calls, bridges, queues, members, agents, spies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from cti.domain.events import (
    ActionId,
    BridgeId,
    ChannelState,
    DeviceStatus,
    LinkedId,
    MemberInfo,
    UniqueId,
)
from cti.domain.live.transitions import CallState
from cti.domain.notices import AgentState, CallKind

# Member statuses of a phone that cannot take a call.
OFFLINE_STATUSES = frozenset({DeviceStatus.UNAVAILABLE, DeviceStatus.INVALID})


@dataclass(slots=True)
class Channel:
    """A live channel."""

    uniqueid: UniqueId
    linkedid: LinkedId
    name: str
    state: ChannelState
    caller_num: str
    caller_name: str
    connected_num: str
    connected_name: str
    context: str
    exten: str
    created_at: datetime
    answered_at: datetime | None = None
    bridge_id: BridgeId | None = None
    local_peer: UniqueId | None = None
    action_id: ActionId | None = None


@dataclass(slots=True)
class Call:
    """Every channel sharing one Linkedid (a Local ``;1``/``;2`` pair belongs to the same call)."""

    linkedid: LinkedId
    started_at: datetime
    caller_num: str = ""
    caller_name: str = ""
    state: CallState = CallState.DIALING
    channels: set[UniqueId] = field(default_factory=set)
    answered_at: datetime | None = None
    queue: str | None = None
    agent: str | None = None
    action_id: ActionId | None = None


@dataclass(slots=True)
class Bridge:
    """A bridge and the channels in it."""

    bridge_id: BridgeId
    bridge_type: str = ""
    channels: set[UniqueId] = field(default_factory=set)


@dataclass(slots=True)
class WaitingCaller:
    """A caller waiting in a queue."""

    uniqueid: UniqueId
    linkedid: LinkedId
    channel: str
    caller_num: str
    caller_name: str
    position: int
    joined_at: datetime


@dataclass(slots=True)
class Member:
    """A queue member (one interface in one queue)."""

    queue: str
    interface: str
    name: str
    state_interface: str
    status: DeviceStatus
    paused: bool
    paused_reason: str
    in_call: bool
    calls_taken: int
    last_call: int
    penalty: int
    membership: str
    wrapup_time: int
    # When the PBX last paused the member (Asterisk's LastPause, epoch seconds; 0: never).
    last_pause: int = 0

    @classmethod
    def of(cls, info: MemberInfo) -> Member:
        """The member as the PBX describes it."""
        return cls(
            queue=info.queue,
            interface=info.interface,
            name=info.name,
            state_interface=info.state_interface,
            status=info.status,
            paused=info.paused,
            paused_reason=info.paused_reason,
            in_call=info.in_call,
            calls_taken=info.calls_taken,
            last_call=info.last_call,
            penalty=info.penalty,
            membership=info.membership,
            wrapup_time=info.wrapup_time,
            last_pause=info.last_pause,
        )


def pause_began(members: list[Member], at: datetime) -> datetime:
    """When the PBX paused these memberships (the latest LastPause of those paused), for a pause
    cti did not see begin (it was away, or the link was down); ``at`` when the PBX does not say,
    and never later than ``at`` (the PBX's clock a little ahead of cti's)."""
    latest = max((m.last_pause for m in members if m.paused), default=0)
    if latest <= 0:
        return at
    return min(at, datetime.fromtimestamp(latest, tz=at.tzinfo or UTC))


def member_flags(members: list[Member]) -> tuple[bool, bool, str]:
    """An agent's flags over its memberships: (paused in every queue, phone unreachable in every
    queue, the first pause reason of a queue it is paused in)."""
    paused = bool(members) and all(m.paused for m in members)
    unavailable = bool(members) and all(m.status in OFFLINE_STATUSES for m in members)
    reason = next((m.paused_reason for m in members if m.paused and m.paused_reason), "")
    return paused, unavailable, reason


@dataclass(slots=True)
class Queue:
    """A queue: its waiting callers (by Uniqueid, in arrival order), members and counters."""

    name: str
    waiting: dict[UniqueId, WaitingCaller] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    completed: int = 0
    abandoned: int = 0
    strategy: str = ""
    hold_time: int = 0
    talk_time: int = 0
    service_level: int = 0
    service_level_perf: float = 0.0
    longest_hold_time: int = 0
    available: int = 0


# The fields by which an agent is engaged with a call: kept in its state's :class:`AgentIndex`.
ENGAGEMENTS = ("call", "channel", "ringing_for")


@dataclass(slots=True)
class Agent:
    """A queue member interface seen across its queues.

    Setting ``call``, ``channel`` or ``ringing_for`` keeps the agent's place in its state's
    :class:`AgentIndex` (``index``, once the state holds the agent).
    """

    interface: str
    name: str
    state: AgentState
    since: datetime
    reason: str = ""
    queues: set[str] = field(default_factory=set)
    paused: bool = False
    call: LinkedId | None = None
    channel: UniqueId | None = None
    ringing_for: UniqueId | None = None
    ringing_queue: str | None = None
    ringing_since: datetime | None = None
    wrapup_until: datetime | None = None
    # In a call: a queue's, or one no queue gave them (dialled, consulted, transferred).
    call_kind: CallKind | None = None
    # The queue call the agent took: the caller's channel, its queue and when it was connected
    # (what an AgentCallEnded needs when the call vanishes without AgentComplete).
    caller: UniqueId | None = None
    call_queue: str = ""
    connected_at: datetime | None = None
    unavailable: bool = False
    # What the last AgentStateChanged said of ``unavailable`` (a change alone is news too).
    announced_unavailable: bool = False
    # The pause the agent is in over its memberships, whatever its phone does meanwhile: (its
    # reason, when it began); None when not paused everywhere.
    pause: tuple[str, datetime] | None = None
    index: AgentIndex | None = field(default=None, repr=False, compare=False)

    def __setattr__(self, name: str, value: object) -> None:
        if name in ENGAGEMENTS:
            index = getattr(self, "index", None)  # unset while __init__ runs
            if index is not None:
                index.moved(self, name, getattr(self, name, None), value)
        object.__setattr__(self, name, value)


class AgentIndex:
    """A state's agents by the call (linkedid), own channel or ringing caller (uniqueid) they are
    engaged with, kept as those fields change: a hang-up or a call's end finds its agents without
    visiting every agent (2,000 of them at every hang-up made a tenth of cti's work at 50 calls/s).
    """

    __slots__ = ("_by", "_order")

    def __init__(self) -> None:
        self._by: dict[tuple[str, object], dict[str, Agent]] = {}
        self._order: dict[str, int] = {}

    def add(self, agent: Agent) -> None:
        """Index ``agent`` (new to the state) from now on."""
        self._order.setdefault(agent.interface, len(self._order))
        agent.index = self
        for name in ENGAGEMENTS:
            self.moved(agent, name, None, getattr(agent, name))

    def moved(self, agent: Agent, name: str, old: object, new: object) -> None:
        if old == new:
            return
        if old is not None:
            held = self._by.get((name, old))
            if held is not None:
                held.pop(agent.interface, None)
                if not held:
                    del self._by[(name, old)]
        if new is not None:
            self._by.setdefault((name, new), {})[agent.interface] = agent

    def entries(self) -> list[tuple[str, object, Agent]]:
        """Every ``(field, value, agent)`` the index holds."""
        return [(name, value, a) for (name, value), held in self._by.items() for a in held.values()]

    def find(self, *fields: tuple[str, object]) -> list[Agent]:
        """The agents whose field is the value, for any of the ``(field, value)`` pairs given, in
        the order the state first saw them."""
        found: dict[str, Agent] = {}
        for key in fields:
            found.update(self._by.get(key) or {})
        if len(found) < 2:
            return list(found.values())
        return sorted(found.values(), key=lambda a: self._order[a.interface])


@dataclass(slots=True)
class Spy:
    """A ChanSpy session: a phone (``spyer``) listening on another channel."""

    spyer: UniqueId
    spyer_channel: str
    spyee: UniqueId
    spyee_channel: str
    spyee_linkedid: LinkedId
    agent: str | None
    since: datetime
