"""What the reducer keeps of one PBX: channels, calls, bridges, queues, members, agents, spies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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
        )


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


@dataclass(slots=True)
class Agent:
    """A queue member interface seen across its queues."""

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
