"""The reducer's state and the steps every handler shares: create a channel, move an agent
or a call by its table, remember hung-up channels."""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import datetime, timedelta

from cti.domain.events import BridgeId, ChannelInfo, ChannelState, LinkedId, UniqueId
from cti.domain.live.entities import (
    Agent,
    AgentIndex,
    Bridge,
    Call,
    Channel,
    Member,
    Queue,
    Spy,
    WaitingCaller,
)
from cti.domain.live.transitions import (
    AGENT_TRANSITIONS,
    CALL_TRANSITIONS,
    AgentTrigger,
    CallState,
    CallTrigger,
    Rest,
)
from cti.domain.notices import (
    AgentState,
    AgentStateChanged,
    AnyNotice,
    CallerLeft,
    CallKind,
    CallStarted,
    SpyEnded,
)
from cti.domain.wrapup import WRAPUP_REASON

# One logger for the whole reducer, whichever of its parts logs.
log = logging.getLogger("cti.domain.state")

# Channel variable cti sets on every call it originates, to find it again after a reconnect.
ACTION_ID_VARIABLE = "CTI_ACTION_ID"
# The cause text of the hangups a resync applies to channels the PBX no longer lists.
GONE_AT_RESYNC = "gone at resync"

_TOMBSTONES = 50_000
# An agent who goes on being paused after these states: its pause's time counts from the pause's
# start (offline: its phone dropped mid-pause and came back, or cti has just learnt of it).
_PAUSE_GOES_ON = frozenset({AgentState.OFFLINE, AgentState.PAUSED})


def elapsed(since: datetime, at: datetime) -> int:
    """Whole seconds from ``since`` to ``at`` (0 if ``at`` came first)."""
    return max(0, int((at - since).total_seconds()))


class StateCore:
    """The reduced state of one PBX and the steps its handlers share (the handlers live in one
    mixin per subject; :class:`cti.domain.state.PbxState` puts them together)."""

    def __init__(self, pbx: str, *, strict: bool = False) -> None:
        self.pbx = pbx
        # Tests run strict: a reducer bug raises instead of being logged and resynchronised.
        self.strict = strict
        self.channels: dict[UniqueId, Channel] = {}
        self.calls: dict[LinkedId, Call] = {}
        self.bridges: dict[BridgeId, Bridge] = {}
        self.queues: dict[str, Queue] = {}
        self.agents: dict[str, Agent] = {}
        self.engaged = AgentIndex()  # the agents by their call, channel and ringing caller
        self.spies: dict[UniqueId, Spy] = {}
        # The device a member's channels are named after -> its interface (when they differ).
        self.devices: dict[str, str] = {}
        self.resync_wanted = False
        self.anomalies = 0
        self.last_resync: datetime | None = None
        self._gone: OrderedDict[UniqueId, None] = OrderedDict()
        self._out: list[AnyNotice] = []

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

    # --- shared steps ---------------------------------------------------------------------------

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

    def _may(self, interface: str, trigger: AgentTrigger) -> bool:
        """Whether the agent (offline if unknown) may take ``trigger``; refuses (resync) if not.

        Checked before a handler changes anything, so a refused step leaves the state as it was.
        """
        agent = self.agents.get(interface)
        state = agent.state if agent is not None else AgentState.OFFLINE
        if (state, trigger) in AGENT_TRANSITIONS:
            return True
        self._impossible(f"agent {interface}: {trigger} while {state}")
        return False

    def _agent(self, interface: str, name: str, at: datetime) -> Agent:
        agent = self.agents.get(interface)
        if agent is None:
            agent = Agent(interface=interface, name=name, state=AgentState.OFFLINE, since=at)
            self.agents[interface] = agent
            self.engaged.add(agent)
        elif name and not agent.name:
            agent.name = name
        return agent

    def _move(
        self,
        agent: Agent,
        trigger: AgentTrigger,
        at: datetime,
        reason: str | None = None,
        *,
        kind: CallKind | None = None,
    ) -> bool:
        """Move the agent by its table; ``kind``: the call it is now in, if it is in one."""
        target = AGENT_TRANSITIONS.get((agent.state, trigger))
        if target is None:
            self._impossible(f"agent {agent.interface}: {trigger} while {agent.state}")
            return False
        if target is Rest.WRAP:
            wrap = max((m.wrapup_time for m in self._memberships(agent)), default=0)
            if wrap > 0:
                agent.wrapup_until = at + timedelta(seconds=wrap)
                target = AgentState.WRAP_UP
            else:
                target = Rest.REST
        if target is Rest.REST:
            target = self._rest(agent, agent.reason if reason is None else reason, at)
        assert isinstance(target, AgentState)
        if target in (AgentState.READY, AgentState.PAUSED, AgentState.OFFLINE):
            self._release_call(agent, at)
            agent.call = agent.channel = agent.caller = agent.connected_at = None
            agent.call_queue = ""
            agent.ringing_for = agent.ringing_queue = agent.ringing_since = None
        if target is not AgentState.WRAP_UP:
            agent.wrapup_until = None
        if target is not AgentState.IN_CALL:
            agent.call_kind = None
        elif kind is not None:
            agent.call_kind = kind
        self._announce(agent, target, agent.reason if reason is None else reason, at)
        return True

    @staticmethod
    def _follow_pause(agent: Agent, reason: str, began: datetime) -> None:
        """Keep the agent's pause (``agent.paused`` and ``reason`` just set from its memberships):
        a new one, or one of another reason, begins at ``began``; one going on keeps its start."""
        if not agent.paused:
            agent.pause = None
        elif agent.pause is None or agent.pause[0] != reason:
            agent.pause = (reason, began)

    @staticmethod
    def _rest(agent: Agent, reason: str, at: datetime) -> AgentState:
        """Where an agent rests, by its flags."""
        # A phone that cannot take a call never makes its agent ready (nor paused-but-there).
        if agent.unavailable:
            return AgentState.OFFLINE
        if agent.paused:
            return AgentState.WRAP_UP if reason == WRAPUP_REASON else AgentState.PAUSED
        if agent.wrapup_until is not None and at < agent.wrapup_until:
            return AgentState.WRAP_UP  # Asterisk's own wrap-up time still runs
        return AgentState.READY

    def _announce(self, agent: Agent, target: AgentState, reason: str, at: datetime) -> None:
        """The agent is now ``target`` for ``reason``: an AgentStateChanged when that (or whether
        its phone is reachable) is news."""
        previous = agent.state
        if (
            target is previous
            and reason == agent.reason
            and agent.unavailable == agent.announced_unavailable
        ):
            return
        agent.announced_unavailable = agent.unavailable
        if target is not previous or (target is AgentState.PAUSED and reason != agent.reason):
            agent.since = at
            if (
                target is AgentState.PAUSED
                and agent.pause is not None
                and previous in _PAUSE_GOES_ON
            ):
                # Paused all along (its phone came back, another reason, a pause cti did not see
                # begin): the pause's time counts from its start, not from the news of it.
                agent.since = min(at, agent.pause[1])
        agent.state, agent.reason = target, reason
        self._out.append(
            AgentStateChanged(
                pbx=self.pbx,
                at=at,
                interface=agent.interface,
                member_name=agent.name,
                state=target,
                previous=previous,
                reason=reason,
                since=agent.since,
                unavailable=agent.unavailable,
                call_kind=agent.call_kind,
            )
        )

    def _release_call(self, agent: Agent, at: datetime) -> None:
        """The agent leaves a call still connected to them (no AgentComplete: a transfer, a
        logout, lost events): the call goes on without them, so they are never in two calls."""
        call = self.calls.get(agent.call) if agent.call is not None else None
        if call is not None and call.agent == agent.interface and call.state is CallState.CONNECTED:
            call.agent = None
            self._call_move(call, CallTrigger.AGENT_COMPLETED, at)

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

    def _caller_left(self, queue: str, caller: WaitingCaller, position: int, at: datetime) -> None:
        self._out.append(
            CallerLeft(
                pbx=self.pbx,
                at=at,
                queue=queue,
                uniqueid=caller.uniqueid,
                linkedid=caller.linkedid,
                caller_num=caller.caller_num,
                caller_name=caller.caller_name,
                position=position,
                waited_seconds=elapsed(caller.joined_at, at),
            )
        )

    def _remove_waiting(self, q: Queue, uid: UniqueId) -> WaitingCaller | None:
        caller = q.waiting.pop(uid, None)
        if caller is not None:
            for other in q.waiting.values():
                if other.position > caller.position:
                    other.position -= 1
        return caller

    def _spy_ended(self, spyer: UniqueId, at: datetime) -> None:
        spy = self.spies.pop(spyer)
        self._out.append(
            SpyEnded(
                pbx=self.pbx,
                at=at,
                spyer=spyer,
                spyer_channel=spy.spyer_channel,
                agent=spy.agent,
                since=spy.since,
            )
        )
