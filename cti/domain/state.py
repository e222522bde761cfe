"""The live telephony state of one PBX and the pure reducer that keeps it.

:meth:`PbxState.apply` takes one typed event and returns the notices it caused. It does no I/O
and reads no clock: times come from the events. Per-event work is O(1) except where a queue's
waiting list is renumbered (O(callers in that queue)).

Agents and calls move by tables (:data:`AGENT_TRANSITIONS`, :data:`CALL_TRANSITIONS`). A pair
(state, trigger) missing from its table is impossible: the state is left unchanged, the problem is
logged, and :attr:`PbxState.resync_wanted` is set so the AMI layer rebuilds the state from the PBX.
Unknown, duplicated and out-of-order events never raise: a channel event for a channel we did not
see created creates it; events about a channel already hung up are ignored (Uniqueids are never
reused, and we remember the recent ones).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from cti.domain.events import (
    ActionId,
    AgentAnswered,
    AgentCompleted,
    AgentRingStopped,
    AgentRung,
    BridgeCreated,
    BridgeDestroyed,
    BridgeEntered,
    BridgeId,
    BridgeLeft,
    CallerIdChanged,
    ChannelCreated,
    ChannelHungUp,
    ChannelInfo,
    ChannelsListed,
    ChannelState,
    ChannelStateChanged,
    DeviceStatus,
    DialBegan,
    DialEnded,
    DialerAgentReached,
    DialerAmdFinished,
    DialerCallDropped,
    DialerLegEnded,
    DialerMachineFound,
    DialerSignal,
    LinkDown,
    LinkedId,
    LocalPairBridged,
    MemberAdded,
    MemberInfo,
    MemberPauseChanged,
    MemberRemoved,
    MemberStatusChanged,
    OriginateOutcome,
    OriginateResponded,
    PbxEvent,
    QueueCallerAbandoned,
    QueueCallerJoined,
    QueueCallerLeft,
    QueuesListed,
    SummariesListed,
    UniqueId,
)
from cti.domain.notices import (
    AgentCallEnded,
    AgentConnected,
    AgentRingEnded,
    AgentRinging,
    AgentState,
    AgentStateChanged,
    AnyNotice,
    CallEnded,
    CallerAbandoned,
    CallerJoined,
    CallerLeft,
    CallStarted,
    DialerAbandoned,
    DialerAmdDecided,
    DialerConnected,
    DialerMachineHungUp,
    DialerUnanswered,
    MemberChange,
    MemberChanged,
    OriginateFinished,
    StateResynced,
)

log = logging.getLogger(__name__)

ORIGINATE_REASONS: dict[int, OriginateOutcome] = {
    3: OriginateOutcome.NO_ANSWER,
    4: OriginateOutcome.ANSWERED,
    5: OriginateOutcome.BUSY,
    8: OriginateOutcome.CONGESTION,
}

# Channel variable cti sets on every call it originates, to find it again after a reconnect.
ACTION_ID_VARIABLE = "CTI_ACTION_ID"

_TOMBSTONES = 50_000
_OFFLINE_STATUSES = frozenset({DeviceStatus.UNAVAILABLE, DeviceStatus.INVALID})


def originate_outcome(success: bool, reason: int) -> OriginateOutcome:
    """Outcome of an OriginateResponse (reasons 3 no answer, 4 answered, 5 busy, 8 congestion)."""
    if success:
        return OriginateOutcome.ANSWERED
    outcome = ORIGINATE_REASONS.get(reason, OriginateOutcome.FAILED)
    return OriginateOutcome.FAILED if outcome is OriginateOutcome.ANSWERED else outcome


# --- transitions as data -----------------------------------------------------------------------


class AgentTrigger(StrEnum):
    """What can move an agent."""

    LOGGED_IN = "logged_in"  # added to a queue (or another membership changed)
    LOGGED_OUT = "logged_out"  # removed from its last queue
    PAUSED = "paused"
    UNPAUSED = "unpaused"
    AVAILABLE = "available"  # device reachable
    UNAVAILABLE = "unavailable"  # device unreachable/invalid
    RUNG = "rung"
    RING_STOPPED = "ring_stopped"
    CONNECTED = "connected"
    COMPLETED = "completed"
    CALL_GONE = "call_gone"  # the agent's call vanished without AgentComplete
    WRAPUP_ENDED = "wrapup_ended"


class _Rest(StrEnum):
    """Targets resolved from the agent's flags: paused or ready; wrap-up or rest."""

    REST = "rest"
    WRAP = "wrap"


_A = AgentState
_T = AgentTrigger
_REST = _Rest.REST

AGENT_TRANSITIONS: dict[tuple[AgentState, AgentTrigger], AgentState | _Rest] = {
    (_A.OFFLINE, _T.LOGGED_IN): _REST,
    (_A.OFFLINE, _T.AVAILABLE): _REST,
    (_A.OFFLINE, _T.PAUSED): _A.OFFLINE,
    (_A.OFFLINE, _T.UNPAUSED): _A.OFFLINE,
    (_A.OFFLINE, _T.LOGGED_OUT): _A.OFFLINE,
    (_A.OFFLINE, _T.UNAVAILABLE): _A.OFFLINE,
    (_A.OFFLINE, _T.CALL_GONE): _A.OFFLINE,
    (_A.READY, _T.LOGGED_IN): _A.READY,
    (_A.READY, _T.PAUSED): _REST,
    (_A.READY, _T.UNPAUSED): _A.READY,
    (_A.READY, _T.AVAILABLE): _A.READY,
    (_A.READY, _T.UNAVAILABLE): _A.OFFLINE,
    (_A.READY, _T.LOGGED_OUT): _A.OFFLINE,
    (_A.READY, _T.RUNG): _A.RINGING,
    (_A.READY, _T.CALL_GONE): _A.READY,
    # The ring came before our (re)login: a resync cannot see ringing, the connect is the truth.
    (_A.READY, _T.CONNECTED): _A.IN_CALL,
    (_A.PAUSED, _T.LOGGED_IN): _REST,
    (_A.PAUSED, _T.PAUSED): _A.PAUSED,
    (_A.PAUSED, _T.UNPAUSED): _REST,
    (_A.PAUSED, _T.AVAILABLE): _A.PAUSED,
    (_A.PAUSED, _T.UNAVAILABLE): _A.OFFLINE,
    (_A.PAUSED, _T.LOGGED_OUT): _A.OFFLINE,
    (_A.PAUSED, _T.CALL_GONE): _A.PAUSED,
    # Paused while ringing: Asterisk still connects the call that was ringing.
    (_A.PAUSED, _T.CONNECTED): _A.IN_CALL,
    (_A.RINGING, _T.LOGGED_IN): _A.RINGING,
    (_A.RINGING, _T.PAUSED): _A.RINGING,
    (_A.RINGING, _T.UNPAUSED): _A.RINGING,
    (_A.RINGING, _T.AVAILABLE): _A.RINGING,
    (_A.RINGING, _T.UNAVAILABLE): _A.OFFLINE,
    (_A.RINGING, _T.LOGGED_OUT): _A.OFFLINE,
    (_A.RINGING, _T.RUNG): _A.RINGING,
    (_A.RINGING, _T.RING_STOPPED): _REST,
    (_A.RINGING, _T.CONNECTED): _A.IN_CALL,
    (_A.RINGING, _T.CALL_GONE): _REST,
    (_A.IN_CALL, _T.LOGGED_IN): _A.IN_CALL,
    (_A.IN_CALL, _T.PAUSED): _A.IN_CALL,
    (_A.IN_CALL, _T.UNPAUSED): _A.IN_CALL,
    (_A.IN_CALL, _T.AVAILABLE): _A.IN_CALL,
    (_A.IN_CALL, _T.LOGGED_OUT): _A.OFFLINE,
    (_A.IN_CALL, _T.CONNECTED): _A.IN_CALL,
    (_A.IN_CALL, _T.COMPLETED): _Rest.WRAP,
    (_A.IN_CALL, _T.CALL_GONE): _Rest.WRAP,
    (_A.WRAP_UP, _T.LOGGED_IN): _A.WRAP_UP,
    (_A.WRAP_UP, _T.PAUSED): _A.WRAP_UP,
    (_A.WRAP_UP, _T.UNPAUSED): _A.WRAP_UP,
    (_A.WRAP_UP, _T.AVAILABLE): _A.WRAP_UP,
    (_A.WRAP_UP, _T.UNAVAILABLE): _A.OFFLINE,
    (_A.WRAP_UP, _T.LOGGED_OUT): _A.OFFLINE,
    (_A.WRAP_UP, _T.WRAPUP_ENDED): _REST,
    (_A.WRAP_UP, _T.CALL_GONE): _A.WRAP_UP,
}


class CallState(StrEnum):
    """Where a call (all channels sharing a Linkedid) stands."""

    DIALING = "dialing"  # no channel answered yet
    UP = "up"  # answered, not waiting and not with an agent
    QUEUED = "queued"  # a caller waiting in a queue
    CONNECTED = "connected"  # talking to a queue agent


class CallTrigger(StrEnum):
    """What can move a call."""

    ANSWERED = "answered"
    QUEUED = "queued"
    DEQUEUED = "dequeued"
    AGENT_CONNECTED = "agent_connected"
    AGENT_COMPLETED = "agent_completed"


_C = CallState
_CT = CallTrigger

CALL_TRANSITIONS: dict[tuple[CallState, CallTrigger], CallState] = {
    (_C.DIALING, _CT.ANSWERED): _C.UP,
    (_C.DIALING, _CT.QUEUED): _C.QUEUED,
    (_C.UP, _CT.ANSWERED): _C.UP,
    (_C.UP, _CT.QUEUED): _C.QUEUED,
    (_C.UP, _CT.DEQUEUED): _C.UP,
    (_C.UP, _CT.AGENT_CONNECTED): _C.CONNECTED,
    (_C.UP, _CT.AGENT_COMPLETED): _C.UP,
    (_C.QUEUED, _CT.ANSWERED): _C.QUEUED,
    (_C.QUEUED, _CT.QUEUED): _C.QUEUED,
    (_C.QUEUED, _CT.DEQUEUED): _C.UP,
    (_C.QUEUED, _CT.AGENT_CONNECTED): _C.CONNECTED,
    (_C.CONNECTED, _CT.ANSWERED): _C.CONNECTED,
    (_C.CONNECTED, _CT.DEQUEUED): _C.CONNECTED,
    (_C.CONNECTED, _CT.AGENT_CONNECTED): _C.CONNECTED,
    (_C.CONNECTED, _CT.AGENT_COMPLETED): _C.UP,
}


# --- the state -------------------------------------------------------------------------------


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
    unavailable: bool = False


class PbxState:
    """The reduced state of one PBX. Mutated only through :meth:`apply` and :meth:`tick`."""

    def __init__(self, pbx: str) -> None:
        self.pbx = pbx
        self.channels: dict[UniqueId, Channel] = {}
        self.calls: dict[LinkedId, Call] = {}
        self.bridges: dict[BridgeId, Bridge] = {}
        self.queues: dict[str, Queue] = {}
        self.agents: dict[str, Agent] = {}
        self.resync_wanted = False
        self.anomalies = 0
        self.last_resync: datetime | None = None
        self._gone: OrderedDict[UniqueId, None] = OrderedDict()
        self._out: list[AnyNotice] = []

    # --- entry points ---------------------------------------------------------------------------

    def call_runs_in(self, linkedid: str, context: str) -> bool:
        """Whether a live channel of the call runs in a dialplan context (e.g. the dialer's)."""
        call = self.calls.get(LinkedId(linkedid))
        if call is None:
            return False
        for uid in call.channels:
            channel = self.channels.get(uid)
            if channel is not None and (
                channel.context == context or f"@{context}-" in channel.name
            ):
                return True
        return False

    def apply(self, event: PbxEvent) -> list[AnyNotice]:
        """Apply one event; return the notices it caused (possibly none). Never raises."""
        out: list[AnyNotice] = []
        self._out = out
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            try:
                handler(self, event)
            except Exception:
                # A reducer bug must not stop the consumer; the state may be off, so rebuild it.
                log.exception("PBX %s: applying %s failed", self.pbx, type(event).__name__)
                self._impossible("reducer error")
        return out

    def tick(self, now: datetime) -> list[AnyNotice]:
        """Advance time: end wrap-ups that are over. Call it about once a second."""
        out: list[AnyNotice] = []
        self._out = out
        for agent in list(self.agents.values()):
            until = agent.wrapup_until
            if agent.state is AgentState.WRAP_UP and until is not None and until <= now:
                self._move(agent, AgentTrigger.WRAPUP_ENDED, now)
        return out

    # --- helpers --------------------------------------------------------------------------------

    def _impossible(self, what: str) -> None:
        self.anomalies += 1
        if not self.resync_wanted:
            log.warning("PBX %s: %s; state will be resynchronised", self.pbx, what)
        self.resync_wanted = True

    def _channel(self, info: ChannelInfo, at: datetime) -> Channel | None:
        """The channel of an event, created if unseen; ``None`` if it already hung up."""
        ch = self.channels.get(info.uniqueid)
        if ch is not None:
            if info.caller_num:
                ch.caller_num = info.caller_num
                ch.caller_name = info.caller_name
            if info.connected_num:
                ch.connected_num = info.connected_num
                ch.connected_name = info.connected_name
            if info.state is not ChannelState.UNKNOWN and info.state is not ch.state:
                self._set_channel_state(ch, info.state, at)
            return ch
        if info.uniqueid in self._gone:
            return None
        ch = Channel(
            uniqueid=info.uniqueid,
            linkedid=info.linkedid,
            name=info.channel,
            state=info.state,
            caller_num=info.caller_num,
            caller_name=info.caller_name,
            connected_num=info.connected_num,
            connected_name=info.connected_name,
            context=info.context,
            exten=info.exten,
            created_at=at,
        )
        self.channels[info.uniqueid] = ch
        call = self.calls.get(info.linkedid)
        if call is None:
            call = Call(linkedid=info.linkedid, started_at=at)
            self.calls[info.linkedid] = call
            self._out.append(
                CallStarted(
                    pbx=self.pbx,
                    at=at,
                    linkedid=info.linkedid,
                    caller_num=info.caller_num,
                    caller_name=info.caller_name,
                )
            )
        call.channels.add(info.uniqueid)
        if not call.caller_num and info.caller_num and str(info.linkedid) == str(info.uniqueid):
            call.caller_num, call.caller_name = info.caller_num, info.caller_name
        if info.state is ChannelState.UP:
            ch.answered_at = at
            self._call_move(call, CallTrigger.ANSWERED, at)
        return ch

    def _set_channel_state(self, ch: Channel, state: ChannelState, at: datetime) -> None:
        ch.state = state
        if state is ChannelState.UP and ch.answered_at is None:
            ch.answered_at = at
            call = self.calls.get(ch.linkedid)
            if call is not None:
                self._call_move(call, CallTrigger.ANSWERED, at)

    def _call_move(self, call: Call, trigger: CallTrigger, at: datetime) -> bool:
        target = CALL_TRANSITIONS.get((call.state, trigger))
        if target is None:
            self._impossible(f"call {call.linkedid}: {trigger} while {call.state}")
            return False
        if call.state is not target:
            call.state = target
            if target is not CallState.DIALING and call.answered_at is None:
                call.answered_at = at
        return True

    def _agent(self, interface: str, name: str, at: datetime) -> Agent:
        agent = self.agents.get(interface)
        if agent is None:
            agent = Agent(interface=interface, name=name, state=AgentState.OFFLINE, since=at)
            self.agents[interface] = agent
        elif name and not agent.name:
            agent.name = name
        return agent

    def _move(
        self, agent: Agent, trigger: AgentTrigger, at: datetime, reason: str | None = None
    ) -> bool:
        target = AGENT_TRANSITIONS.get((agent.state, trigger))
        if target is None:
            self._impossible(f"agent {agent.interface}: {trigger} while {agent.state}")
            return False
        if target is _Rest.WRAP:
            wrap = max((m.wrapup_time for m in self._memberships(agent)), default=0)
            if wrap > 0:
                agent.wrapup_until = at + timedelta(seconds=wrap)
                target = AgentState.WRAP_UP
            else:
                target = _REST
        if target is _REST:
            target = AgentState.PAUSED if agent.paused else AgentState.READY
        assert isinstance(target, AgentState)
        if target in (AgentState.READY, AgentState.PAUSED, AgentState.OFFLINE):
            agent.call = agent.channel = None
            agent.ringing_for = agent.ringing_queue = agent.ringing_since = None
        if target is not AgentState.WRAP_UP:
            agent.wrapup_until = None
        new_reason = agent.reason if reason is None else reason
        if target is not agent.state or new_reason != agent.reason:
            previous = agent.state
            if target is not agent.state:
                agent.since = at
            agent.state = target
            agent.reason = new_reason
            self._out.append(
                AgentStateChanged(
                    pbx=self.pbx,
                    at=at,
                    interface=agent.interface,
                    member_name=agent.name,
                    state=target,
                    previous=previous,
                    reason=new_reason,
                    since=agent.since,
                )
            )
        return True

    def _memberships(self, agent: Agent) -> list[Member]:
        out = []
        for qname in agent.queues:
            q = self.queues.get(qname)
            if q is not None and (m := q.members.get(agent.interface)) is not None:
                out.append(m)
        return out

    def _queue(self, name: str) -> Queue:
        q = self.queues.get(name)
        if q is None:
            q = self.queues[name] = Queue(name=name)
        return q

    def _forget_channel(self, uid: UniqueId) -> None:
        self._gone[uid] = None
        if len(self._gone) > _TOMBSTONES:
            self._gone.popitem(last=False)

    # --- channel events -------------------------------------------------------------------------

    def _on_channel(self, ev: ChannelCreated | ChannelStateChanged | CallerIdChanged) -> None:
        ch = self._channel(ev.chan, ev.at)
        if ch is not None and isinstance(ev, CallerIdChanged):
            call = self.calls.get(ch.linkedid)
            if call is not None and str(ch.uniqueid) == str(ch.linkedid) and ev.chan.caller_num:
                call.caller_num, call.caller_name = ev.chan.caller_num, ev.chan.caller_name

    def _on_local_pair(self, ev: LocalPairBridged) -> None:
        one, two = self._channel(ev.one, ev.at), self._channel(ev.two, ev.at)
        if one is not None and two is not None:
            one.local_peer, two.local_peer = two.uniqueid, one.uniqueid

    def _on_dial(self, ev: DialBegan | DialEnded) -> None:
        if ev.caller is not None:
            self._channel(ev.caller, ev.at)
        self._channel(ev.dest, ev.at)

    def _on_hangup(self, ev: ChannelHungUp) -> None:
        uid = ev.chan.uniqueid
        ch = self.channels.pop(uid, None)
        if ch is None:
            self._forget_channel(uid)
            return
        self._forget_channel(uid)
        at = ev.at
        if ch.bridge_id is not None:
            bridge = self.bridges.get(ch.bridge_id)
            if bridge is not None:
                bridge.channels.discard(uid)
        if ch.local_peer is not None:
            peer = self.channels.get(ch.local_peer)
            if peer is not None:
                peer.local_peer = None
        for q in self.queues.values():
            if uid in q.waiting:
                # Gone without QueueCallerLeave: the stream lost it; keep the list truthful.
                self._remove_waiting(q, uid)
        for agent in self.agents.values():
            if agent.ringing_for == uid:
                self._move(agent, AgentTrigger.CALL_GONE, at)
        call = self.calls.get(ch.linkedid)
        if call is not None:
            call.channels.discard(uid)
            if not call.channels:
                del self.calls[ch.linkedid]
                for agent in self.agents.values():
                    if agent.call == call.linkedid:
                        self._move(agent, AgentTrigger.CALL_GONE, at)
                started = call.started_at
                self._out.append(
                    CallEnded(
                        pbx=self.pbx,
                        at=at,
                        linkedid=call.linkedid,
                        caller_num=call.caller_num,
                        caller_name=call.caller_name,
                        queue=call.queue,
                        agent=call.agent,
                        duration_seconds=max(0, int((at - started).total_seconds())),
                        cause=ev.cause,
                    )
                )

    # --- bridges --------------------------------------------------------------------------------

    def _on_bridge_create(self, ev: BridgeCreated) -> None:
        if ev.bridge_id not in self.bridges:
            self.bridges[ev.bridge_id] = Bridge(bridge_id=ev.bridge_id, bridge_type=ev.bridge_type)

    def _on_bridge_destroy(self, ev: BridgeDestroyed) -> None:
        bridge = self.bridges.pop(ev.bridge_id, None)
        if bridge is not None:
            for uid in bridge.channels:
                ch = self.channels.get(uid)
                if ch is not None and ch.bridge_id == ev.bridge_id:
                    ch.bridge_id = None

    def _on_bridge_enter(self, ev: BridgeEntered) -> None:
        ch = self._channel(ev.chan, ev.at)
        if ch is None:
            return
        if ch.bridge_id is not None and ch.bridge_id != ev.bridge_id:
            old = self.bridges.get(ch.bridge_id)
            if old is not None:
                old.channels.discard(ch.uniqueid)
        bridge = self.bridges.get(ev.bridge_id)
        if bridge is None:
            bridge = self.bridges[ev.bridge_id] = Bridge(bridge_id=ev.bridge_id)
        bridge.channels.add(ch.uniqueid)
        ch.bridge_id = ev.bridge_id

    def _on_bridge_leave(self, ev: BridgeLeft) -> None:
        bridge = self.bridges.get(ev.bridge_id)
        if bridge is not None:
            bridge.channels.discard(ev.chan.uniqueid)
        ch = self.channels.get(ev.chan.uniqueid)
        if ch is not None and ch.bridge_id == ev.bridge_id:
            ch.bridge_id = None

    # --- queue callers --------------------------------------------------------------------------

    def _remove_waiting(self, q: Queue, uid: UniqueId) -> WaitingCaller | None:
        caller = q.waiting.pop(uid, None)
        if caller is not None:
            for other in q.waiting.values():
                if other.position > caller.position:
                    other.position -= 1
        return caller

    def _on_caller_join(self, ev: QueueCallerJoined) -> None:
        ch = self._channel(ev.chan, ev.at)
        if ch is None:
            return
        q = self._queue(ev.queue)
        if ch.uniqueid in q.waiting:
            return  # duplicate
        q.waiting[ch.uniqueid] = WaitingCaller(
            uniqueid=ch.uniqueid,
            linkedid=ch.linkedid,
            channel=ch.name,
            caller_num=ch.caller_num,
            caller_name=ch.caller_name,
            position=ev.position or len(q.waiting) + 1,
            joined_at=ev.at,
        )
        call = self.calls.get(ch.linkedid)
        if call is not None:
            call.queue = ev.queue
            if not call.caller_num:
                call.caller_num, call.caller_name = ch.caller_num, ch.caller_name
            self._call_move(call, CallTrigger.QUEUED, ev.at)
        self._out.append(
            CallerJoined(
                pbx=self.pbx,
                at=ev.at,
                queue=ev.queue,
                uniqueid=ch.uniqueid,
                linkedid=ch.linkedid,
                caller_num=ch.caller_num,
                caller_name=ch.caller_name,
                position=ev.position,
            )
        )

    def _on_caller_leave(self, ev: QueueCallerLeft) -> None:
        q = self.queues.get(ev.queue)
        caller = None if q is None else self._remove_waiting(q, ev.chan.uniqueid)
        if caller is None:
            return  # duplicate, or joined before we looked
        call = self.calls.get(caller.linkedid)
        if call is not None:
            self._call_move(call, CallTrigger.DEQUEUED, ev.at)
        self._out.append(
            CallerLeft(
                pbx=self.pbx,
                at=ev.at,
                queue=ev.queue,
                uniqueid=caller.uniqueid,
                linkedid=caller.linkedid,
                caller_num=caller.caller_num,
                caller_name=caller.caller_name,
                position=ev.position,
                waited_seconds=max(0, int((ev.at - caller.joined_at).total_seconds())),
            )
        )

    def _on_caller_abandon(self, ev: QueueCallerAbandoned) -> None:
        q = self._queue(ev.queue)
        q.abandoned += 1
        chan = ev.chan
        self._out.append(
            CallerAbandoned(
                pbx=self.pbx,
                at=ev.at,
                queue=ev.queue,
                uniqueid=chan.uniqueid,
                linkedid=chan.linkedid,
                caller_num=chan.caller_num,
                caller_name=chan.caller_name,
                position=ev.position,
                original_position=ev.original_position,
                waited_seconds=ev.hold_time,
            )
        )

    # --- agents ---------------------------------------------------------------------------------

    def _on_agent_rung(self, ev: AgentRung) -> None:
        caller = self._channel(ev.caller, ev.at)
        if caller is None:
            return  # the caller already hung up: a stale event
        agent = self._agent(ev.interface, ev.member_name, ev.at)
        if agent.state is AgentState.RINGING and agent.ringing_for not in (None, caller.uniqueid):
            self._impossible(f"agent {agent.interface}: rung for two callers")
            return
        if not self._move(agent, AgentTrigger.RUNG, ev.at):
            return
        first = agent.ringing_for is None
        agent.ringing_for = caller.uniqueid
        agent.ringing_queue = ev.queue
        if first:
            agent.ringing_since = ev.at
        if ev.dest is not None:
            agent.channel = ev.dest.uniqueid
        if first:
            self._out.append(
                AgentRinging(
                    pbx=self.pbx,
                    at=ev.at,
                    queue=ev.queue,
                    interface=ev.interface,
                    member_name=ev.member_name or agent.name,
                    caller_num=caller.caller_num,
                    caller_name=caller.caller_name,
                    uniqueid=caller.uniqueid,
                    linkedid=caller.linkedid,
                )
            )

    def _on_agent_ring_stopped(self, ev: AgentRingStopped) -> None:
        agent = self.agents.get(ev.interface)
        if agent is None or agent.state is not AgentState.RINGING:
            return  # stale
        if agent.ringing_for != ev.caller.uniqueid:
            return
        self._move(agent, AgentTrigger.RING_STOPPED, ev.at)
        self._out.append(
            AgentRingEnded(
                pbx=self.pbx,
                at=ev.at,
                queue=ev.queue,
                interface=ev.interface,
                member_name=ev.member_name or agent.name,
                uniqueid=ev.caller.uniqueid,
                linkedid=ev.caller.linkedid,
                ring_seconds=ev.ring_time,
            )
        )

    def _on_agent_answered(self, ev: AgentAnswered) -> None:
        caller = self._channel(ev.caller, ev.at)
        if caller is None:
            return
        agent = self._agent(ev.interface, ev.member_name, ev.at)
        if agent.state is AgentState.IN_CALL:
            if agent.call != caller.linkedid:
                self._impossible(f"agent {agent.interface}: connected while in another call")
            return  # a duplicate
        if not self._move(agent, AgentTrigger.CONNECTED, ev.at):
            return
        agent.call = caller.linkedid
        agent.ringing_for = agent.ringing_queue = agent.ringing_since = None
        if ev.dest is not None:
            agent.channel = ev.dest.uniqueid
        call = self.calls.get(caller.linkedid)
        if call is not None:
            call.agent = ev.interface
            call.queue = ev.queue
            self._call_move(call, CallTrigger.AGENT_CONNECTED, ev.at)
        self._out.append(
            AgentConnected(
                pbx=self.pbx,
                at=ev.at,
                queue=ev.queue,
                interface=ev.interface,
                member_name=ev.member_name or agent.name,
                caller_num=caller.caller_num,
                caller_name=caller.caller_name,
                uniqueid=caller.uniqueid,
                linkedid=caller.linkedid,
                hold_seconds=ev.hold_time,
                ring_seconds=ev.ring_time,
            )
        )

    def _on_agent_completed(self, ev: AgentCompleted) -> None:
        agent = self.agents.get(ev.interface)
        if agent is None or agent.state is not AgentState.IN_CALL:
            return  # stale or duplicate
        if agent.call != ev.caller.linkedid:
            return
        self._queue(ev.queue).completed += 1
        call = self.calls.get(ev.caller.linkedid)
        if call is not None:
            self._call_move(call, CallTrigger.AGENT_COMPLETED, ev.at)
        self._move(agent, AgentTrigger.COMPLETED, ev.at)
        self._out.append(
            AgentCallEnded(
                pbx=self.pbx,
                at=ev.at,
                queue=ev.queue,
                interface=ev.interface,
                member_name=ev.member_name or agent.name,
                caller_num=ev.caller.caller_num,
                caller_name=ev.caller.caller_name,
                uniqueid=ev.caller.uniqueid,
                linkedid=ev.caller.linkedid,
                talk_seconds=ev.talk_time,
                hold_seconds=ev.hold_time,
                reason=ev.reason,
            )
        )

    # --- members --------------------------------------------------------------------------------

    def _store_member(self, info: MemberInfo) -> tuple[Member, bool]:
        q = self._queue(info.queue)
        m = q.members.get(info.interface)
        added = m is None
        if m is None:
            m = Member(
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
            q.members[info.interface] = m
        else:
            m.name = info.name or m.name
            m.state_interface = info.state_interface or m.state_interface
            m.status, m.paused, m.paused_reason = info.status, info.paused, info.paused_reason
            m.in_call, m.calls_taken, m.last_call = info.in_call, info.calls_taken, info.last_call
            m.penalty, m.wrapup_time = info.penalty, info.wrapup_time
            m.membership = info.membership or m.membership
        return m, added

    def _member_notice(self, m: Member, change: MemberChange, at: datetime) -> None:
        self._out.append(
            MemberChanged(
                pbx=self.pbx,
                at=at,
                change=change,
                queue=m.queue,
                interface=m.interface,
                member_name=m.name,
                status=m.status,
                paused=m.paused,
                paused_reason=m.paused_reason,
                in_call=m.in_call,
                calls_taken=m.calls_taken,
            )
        )

    def _agent_flags(self, agent: Agent) -> tuple[bool, bool, str]:
        """(paused everywhere, unavailable, pause reason) over the agent's memberships."""
        members = self._memberships(agent)
        paused = bool(members) and all(m.paused for m in members)
        unavailable = bool(members) and all(m.status in _OFFLINE_STATUSES for m in members)
        reason = next((m.paused_reason for m in members if m.paused and m.paused_reason), "")
        return paused, unavailable, reason if paused else ""

    def _on_member(self, ev: MemberAdded | MemberStatusChanged | MemberPauseChanged) -> None:
        info = ev.member
        m, added = self._store_member(info)
        agent = self._agent(info.interface, info.name, ev.at)
        new_membership = info.queue not in agent.queues
        agent.queues.add(info.queue)
        was_paused, was_unavailable = agent.paused, agent.unavailable
        agent.paused, agent.unavailable, reason = self._agent_flags(agent)
        self._member_notice(m, MemberChange.ADDED if added else MemberChange.UPDATED, ev.at)
        if agent.unavailable and not was_unavailable:
            self._move(agent, AgentTrigger.UNAVAILABLE, ev.at, reason)
        elif was_unavailable and not agent.unavailable:
            self._move(agent, AgentTrigger.AVAILABLE, ev.at, reason)
        elif agent.unavailable:
            return
        if new_membership or added:
            self._move(agent, AgentTrigger.LOGGED_IN, ev.at, reason)
        if agent.paused != was_paused or (
            reason != agent.reason and agent.state is not AgentState.OFFLINE
        ):
            self._move(
                agent, AgentTrigger.PAUSED if agent.paused else AgentTrigger.UNPAUSED, ev.at, reason
            )

    def _on_member_removed(self, ev: MemberRemoved) -> None:
        info = ev.member
        q = self.queues.get(info.queue)
        m = None if q is None else q.members.pop(info.interface, None)
        if m is None:
            return
        self._store_member_removed_notice(m, info, ev.at)
        agent = self.agents.get(info.interface)
        if agent is None:
            return
        agent.queues.discard(info.queue)
        if agent.queues:
            agent.paused, agent.unavailable, reason = self._agent_flags(agent)
            self._move(agent, AgentTrigger.LOGGED_IN, ev.at, reason)
        else:
            agent.paused = agent.unavailable = False
            self._move(agent, AgentTrigger.LOGGED_OUT, ev.at, "")

    def _store_member_removed_notice(self, m: Member, info: MemberInfo, at: datetime) -> None:
        m.calls_taken, m.status, m.in_call = info.calls_taken, info.status, info.in_call
        self._member_notice(m, MemberChange.REMOVED, at)

    # --- originate ------------------------------------------------------------------------------

    def _on_originate(self, ev: OriginateResponded) -> None:
        outcome = originate_outcome(ev.success, ev.reason)
        if ev.uniqueid is not None:
            ch = self.channels.get(ev.uniqueid)
            if ch is not None:
                ch.action_id = ev.action_id
                call = self.calls.get(ch.linkedid)
                if call is not None:
                    call.action_id = ev.action_id
        self._out.append(
            OriginateFinished(
                pbx=self.pbx,
                at=ev.at,
                action_id=ev.action_id,
                outcome=outcome,
                reason_code=ev.reason,
                uniqueid=ev.uniqueid,
            )
        )

    # --- the dialer's dialplan ------------------------------------------------------------------

    def _on_dialer(self, ev: DialerSignal) -> None:
        base: dict[str, Any] = {
            "pbx": self.pbx,
            "at": ev.at,
            "uniqueid": ev.chan.uniqueid,
            "linkedid": ev.chan.linkedid,
            "campaign_id": _id(ev.campaign),
            "lead_id": _id(ev.lead),
            "attempt_id": _id(ev.attempt),
        }
        notice: AnyNotice
        if isinstance(ev, DialerLegEnded):
            notice = DialerUnanswered(dial_status=ev.dial_status, **base)
        elif isinstance(ev, DialerAmdFinished):
            notice = DialerAmdDecided(amd_status=ev.amd_status, amd_cause=ev.amd_cause, **base)
        elif isinstance(ev, DialerMachineFound):
            notice = DialerMachineHungUp(**base)
        elif isinstance(ev, DialerCallDropped):
            notice = DialerAbandoned(
                queue=ev.queue, queue_status=ev.queue_status, agent=ev.agent, **base
            )
        elif isinstance(ev, DialerAgentReached):
            notice = DialerConnected(agent=ev.agent, **base)
        else:
            return
        self._out.append(notice)

    # --- resync ---------------------------------------------------------------------------------

    def _on_channels_listed(self, ev: ChannelsListed) -> None:
        at = ev.at
        old_calls = self.calls
        listed = {row.chan.uniqueid for row in ev.channels}
        # Channels that are gone: hang them up so calls end and agents are released in order.
        for uid in [u for u in self.channels if u not in listed]:
            gone = self.channels[uid]
            info = ChannelInfo(
                uniqueid=uid, linkedid=gone.linkedid, channel=gone.name, state=gone.state
            )
            self._on_hangup(ChannelHungUp(at=at, chan=info, cause=0, cause_text="gone at resync"))
        bridges: dict[BridgeId, Bridge] = {}
        for row in ev.channels:
            self._gone.pop(row.chan.uniqueid, None)
            ch = self._channel(row.chan, at - timedelta(seconds=row.duration))
            if ch is None:
                continue
            ch.bridge_id = row.bridge_id
            if row.bridge_id is not None:
                bridges.setdefault(row.bridge_id, Bridge(bridge_id=row.bridge_id)).channels.add(
                    ch.uniqueid
                )
            for name, value in row.variables:
                if name == ACTION_ID_VARIABLE and value:
                    ch.action_id = ActionId(value)
                    if (call := self.calls.get(ch.linkedid)) is not None:
                        call.action_id = ch.action_id
        for bid, bridge in bridges.items():
            old = self.bridges.get(bid)
            bridge.bridge_type = old.bridge_type if old is not None else ""
        self.bridges = bridges
        # Local pairs: ``…;1`` and ``…;2`` of the same name.
        by_name = {ch.name: ch for ch in self.channels.values()}
        for ch in self.channels.values():
            if ch.name.startswith("Local/") and ch.name.endswith(";1"):
                peer = by_name.get(ch.name[:-1] + "2")
                if peer is not None:
                    ch.local_peer, peer.local_peer = peer.uniqueid, ch.uniqueid
        for call in self.calls.values():
            if call.linkedid not in old_calls:
                continue
            if call.state is CallState.DIALING and any(
                self.channels[u].state is ChannelState.UP
                for u in call.channels
                if u in self.channels
            ):
                call.state = CallState.UP

    def _on_queues_listed(self, ev: QueuesListed) -> None:
        at = ev.at
        queues: dict[str, Queue] = {}
        for row in ev.queues:
            old = self.queues.get(row.queue)
            q = Queue(name=row.queue)
            if old is not None:
                q.longest_hold_time, q.available = old.longest_hold_time, old.available
            q.completed, q.abandoned, q.strategy = row.completed, row.abandoned, row.strategy
            q.hold_time, q.talk_time = row.hold_time, row.talk_time
            q.service_level, q.service_level_perf = row.service_level, row.service_level_perf
            queues[row.queue] = q
        for info in ev.members:
            q = queues.setdefault(info.queue, Queue(name=info.queue))
            q.members[info.interface] = Member(
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
        waiting_now: set[tuple[str, UniqueId]] = set()
        for entry in sorted(ev.entries, key=lambda e: (e.queue, e.position)):
            q = queues.setdefault(entry.queue, Queue(name=entry.queue))
            chan = self.channels.get(entry.uniqueid)
            linkedid = (
                chan.linkedid if chan is not None else (entry.linkedid or LinkedId(entry.uniqueid))
            )
            prior_q = self.queues.get(entry.queue)
            prior = None if prior_q is None else prior_q.waiting.get(entry.uniqueid)
            q.waiting[entry.uniqueid] = WaitingCaller(
                uniqueid=entry.uniqueid,
                linkedid=linkedid,
                channel=entry.channel,
                caller_num=entry.caller_num,
                caller_name=entry.caller_name,
                position=entry.position,
                joined_at=prior.joined_at
                if prior is not None
                else at - timedelta(seconds=entry.wait),
            )
            waiting_now.add((entry.queue, entry.uniqueid))
            call = self.calls.get(linkedid)
            if call is not None:
                call.queue = entry.queue
                call.state = CallState.QUEUED
                if not call.caller_num:
                    call.caller_num, call.caller_name = entry.caller_num, entry.caller_name
        for qname, old_q in self.queues.items():
            for uid, caller in old_q.waiting.items():
                if (qname, uid) not in waiting_now:
                    self._out.append(
                        CallerLeft(
                            pbx=self.pbx,
                            at=at,
                            queue=qname,
                            uniqueid=uid,
                            linkedid=caller.linkedid,
                            caller_num=caller.caller_num,
                            caller_name=caller.caller_name,
                            position=caller.position,
                            waited_seconds=max(0, int((at - caller.joined_at).total_seconds())),
                        )
                    )
            if old_q.name not in queues:
                queues[old_q.name] = Queue(name=old_q.name)
        self.queues = queues
        self._rebuild_agents(at)

    def _rebuild_agents(self, at: datetime) -> None:
        by_interface: dict[str, list[Member]] = {}
        for q in self.queues.values():
            for m in q.members.values():
                by_interface.setdefault(m.interface, []).append(m)
        for interface in set(self.agents) | set(by_interface):
            members = by_interface.get(interface, [])
            agent = self.agents.get(interface)
            if agent is None:
                agent = self._agent(interface, members[0].name, at)
            agent.queues = {m.queue for m in members}
            agent.paused = bool(members) and all(m.paused for m in members)
            agent.unavailable = bool(members) and all(
                m.status in _OFFLINE_STATUSES for m in members
            )
            reason = next((m.paused_reason for m in members if m.paused and m.paused_reason), "")
            if not members or agent.unavailable:
                target = AgentState.OFFLINE
            elif any(m.in_call for m in members):
                target = AgentState.IN_CALL
            elif any(m.status in (DeviceStatus.RINGING, DeviceStatus.RING_IN_USE) for m in members):
                target = AgentState.RINGING
            elif agent.state is AgentState.WRAP_UP:
                target = AgentState.WRAP_UP
            else:
                target = AgentState.PAUSED if agent.paused else AgentState.READY
            if target is AgentState.IN_CALL:
                self._find_agent_call(agent, members)
                if agent.call is None:
                    # InCall without a channel we can see: trust the PBX's word for the state.
                    agent.channel = None
            else:
                agent.call = agent.channel = None
            if target is not AgentState.RINGING:
                agent.ringing_for = agent.ringing_queue = agent.ringing_since = None
            previous = agent.state
            if target is not previous or reason != agent.reason:
                if target is not previous:
                    agent.since = at
                agent.state, agent.reason = target, reason
                self._out.append(
                    AgentStateChanged(
                        pbx=self.pbx,
                        at=at,
                        interface=interface,
                        member_name=agent.name,
                        state=target,
                        previous=previous,
                        reason=reason,
                        since=agent.since,
                    )
                )
        # An agent in a call that is gone, or in two calls, cannot be: clear the call link.
        seen: set[LinkedId] = set()
        for agent in self.agents.values():
            if agent.call is not None and (agent.call not in self.calls or agent.call in seen):
                agent.call = None
            if agent.call is not None:
                seen.add(agent.call)
                self.calls[agent.call].agent = agent.interface
                if self.calls[agent.call].state is not CallState.QUEUED:
                    self.calls[agent.call].state = CallState.CONNECTED

    def _find_agent_call(self, agent: Agent, members: list[Member]) -> None:
        if agent.call is not None and agent.call in self.calls:
            return
        prefixes = {m.state_interface for m in members if m.state_interface}
        iface = agent.interface
        prefixes.add(iface[:-2] if iface.endswith("/n") else iface)
        for ch in self.channels.values():
            base, sep, _ = ch.name.rpartition("-")
            if sep and base in prefixes:
                agent.call, agent.channel = ch.linkedid, ch.uniqueid
                return
        agent.call = None

    def _on_summaries_listed(self, ev: SummariesListed) -> None:
        for row in ev.summaries:
            q = self._queue(row.queue)
            q.longest_hold_time, q.available = row.longest_hold_time, row.available
        self.resync_wanted = False
        self.last_resync = ev.at
        self._out.append(StateResynced(pbx=self.pbx, at=ev.at))

    def _on_link_down(self, ev: LinkDown) -> None:
        self.resync_wanted = True

    # --- views ----------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON-ready data: queues (waiting callers, members), agents, calls."""

        def iso(t: datetime | None) -> str | None:
            return None if t is None else t.isoformat()

        queues = []
        for q in sorted(self.queues.values(), key=lambda q: q.name):
            queues.append(
                {
                    "name": q.name,
                    "strategy": q.strategy,
                    "waiting": [
                        {
                            "uniqueid": c.uniqueid,
                            "linkedid": c.linkedid,
                            "channel": c.channel,
                            "caller_num": c.caller_num,
                            "caller_name": c.caller_name,
                            "position": c.position,
                            "joined_at": iso(c.joined_at),
                        }
                        for c in sorted(q.waiting.values(), key=lambda c: c.position)
                    ],
                    "members": [
                        {
                            "interface": m.interface,
                            "name": m.name,
                            "status": m.status.value,
                            "paused": m.paused,
                            "paused_reason": m.paused_reason,
                            "in_call": m.in_call,
                            "calls_taken": m.calls_taken,
                            "penalty": m.penalty,
                        }
                        for m in sorted(q.members.values(), key=lambda m: m.interface)
                    ],
                    "completed": q.completed,
                    "abandoned": q.abandoned,
                    "hold_time": q.hold_time,
                    "talk_time": q.talk_time,
                    "longest_hold_time": q.longest_hold_time,
                    "service_level": q.service_level,
                    "service_level_perf": q.service_level_perf,
                }
            )
        agents = [
            {
                "interface": a.interface,
                "name": a.name,
                "state": a.state.value,
                "reason": a.reason,
                "since": iso(a.since),
                "queues": sorted(a.queues),
                "paused": a.paused,
                "call": a.call,
                "ringing_for": a.ringing_for,
            }
            for a in sorted(self.agents.values(), key=lambda a: a.interface)
        ]
        calls = [
            {
                "linkedid": c.linkedid,
                "state": c.state.value,
                "caller_num": c.caller_num,
                "caller_name": c.caller_name,
                "started_at": iso(c.started_at),
                "answered_at": iso(c.answered_at),
                "queue": c.queue,
                "agent": c.agent,
                "action_id": c.action_id,
                "channels": [
                    {
                        "uniqueid": ch.uniqueid,
                        "channel": ch.name,
                        "state": ch.state.value,
                        "caller_num": ch.caller_num,
                        "bridge_id": ch.bridge_id,
                    }
                    for ch in (self.channels[u] for u in sorted(c.channels) if u in self.channels)
                ],
            }
            for c in sorted(self.calls.values(), key=lambda c: c.linkedid)
        ]
        return {
            "pbx": self.pbx,
            "queues": queues,
            "agents": agents,
            "calls": calls,
            "bridges": len(self.bridges),
            "resync_wanted": self.resync_wanted,
            "last_resync": iso(self.last_resync),
        }


def invariant_violations(state: PbxState) -> list[str]:
    """What is wrong with ``state`` (empty when consistent). Used by tests and the resync check."""
    problems: list[str] = []
    in_calls: dict[str, LinkedId] = {}
    for call in state.calls.values():
        if call.agent is not None and state.agents.get(call.agent) is not None:
            agent = state.agents[call.agent]
            if agent.call == call.linkedid:
                if call.agent in in_calls:
                    problems.append(f"agent {call.agent} in two calls")
                in_calls[call.agent] = call.linkedid
        for uid in call.channels:
            ch = state.channels.get(uid)
            if ch is None:
                problems.append(f"call {call.linkedid} holds missing channel {uid}")
            elif ch.linkedid != call.linkedid:
                problems.append(
                    f"channel {uid} in call {call.linkedid} but linked to {ch.linkedid}"
                )
        if not call.channels:
            problems.append(f"call {call.linkedid} has no channel")
    for agent in state.agents.values():
        if agent.call is not None and agent.call not in state.calls:
            problems.append(f"agent {agent.interface} in ended call {agent.call}")
        if agent.state is AgentState.IN_CALL and agent.call is None and agent.channel is not None:
            problems.append(f"agent {agent.interface} in call with a channel but no call")
    calls_of: dict[LinkedId, list[str]] = {}
    for agent in state.agents.values():
        if agent.call is not None:
            calls_of.setdefault(agent.call, []).append(agent.interface)
    for uid in state.channels:
        if uid in state._gone:
            problems.append(f"hung-up channel {uid} still present")
    for bridge in state.bridges.values():
        for uid in bridge.channels:
            if uid not in state.channels:
                problems.append(f"bridge {bridge.bridge_id} holds missing channel {uid}")
    for q in state.queues.values():
        if q.completed < 0 or q.abandoned < 0:
            problems.append(f"queue {q.name} has negative counters")
        for uid, caller in q.waiting.items():
            if uid not in state.channels:
                problems.append(f"queue {q.name} waits for missing channel {uid}")
            if caller.position < 1:
                problems.append(f"queue {q.name} caller {uid} at position {caller.position}")
    return problems


def was_hung_up(state: PbxState, uid: UniqueId) -> bool:
    """Whether ``uid`` is a channel this state saw hang up (and still remembers)."""
    return uid in state._gone


def _id(text: str) -> int | None:
    """A CTI_* id as the dialplan echoed it; None when empty or not a number."""
    return int(text) if text.isdigit() else None


_HANDLERS: dict[type, Any] = {
    DialerLegEnded: PbxState._on_dialer,
    DialerAmdFinished: PbxState._on_dialer,
    DialerMachineFound: PbxState._on_dialer,
    DialerCallDropped: PbxState._on_dialer,
    DialerAgentReached: PbxState._on_dialer,
    ChannelCreated: PbxState._on_channel,
    ChannelStateChanged: PbxState._on_channel,
    CallerIdChanged: PbxState._on_channel,
    ChannelHungUp: PbxState._on_hangup,
    LocalPairBridged: PbxState._on_local_pair,
    DialBegan: PbxState._on_dial,
    DialEnded: PbxState._on_dial,
    BridgeCreated: PbxState._on_bridge_create,
    BridgeDestroyed: PbxState._on_bridge_destroy,
    BridgeEntered: PbxState._on_bridge_enter,
    BridgeLeft: PbxState._on_bridge_leave,
    QueueCallerJoined: PbxState._on_caller_join,
    QueueCallerLeft: PbxState._on_caller_leave,
    QueueCallerAbandoned: PbxState._on_caller_abandon,
    AgentRung: PbxState._on_agent_rung,
    AgentRingStopped: PbxState._on_agent_ring_stopped,
    AgentAnswered: PbxState._on_agent_answered,
    AgentCompleted: PbxState._on_agent_completed,
    MemberAdded: PbxState._on_member,
    MemberStatusChanged: PbxState._on_member,
    MemberPauseChanged: PbxState._on_member,
    MemberRemoved: PbxState._on_member_removed,
    OriginateResponded: PbxState._on_originate,
    ChannelsListed: PbxState._on_channels_listed,
    QueuesListed: PbxState._on_queues_listed,
    SummariesListed: PbxState._on_summaries_listed,
    LinkDown: PbxState._on_link_down,
}
