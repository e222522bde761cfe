"""Queue callers (join, leave, abandon) and the agents app_queue rings and connects."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from cti.domain.events import (
    AgentAnswered,
    AgentCompleted,
    AgentRingStopped,
    AgentRung,
    ChannelInfo,
    LinkedId,
    QueueCallerAbandoned,
    QueueCallerJoined,
    QueueCallerLeft,
    UniqueId,
)
from cti.domain.live.core import StateCore
from cti.domain.live.entities import Agent, Channel, WaitingCaller
from cti.domain.live.transitions import AgentTrigger, CallTrigger
from cti.domain.notices import (
    AgentCallEnded,
    AgentConnected,
    AgentRingEnded,
    AgentRinging,
    AgentState,
    CallerAbandoned,
    CallerJoined,
    CallKind,
)

AgentQueueEvent = AgentRung | AgentRingStopped | AgentAnswered | AgentCompleted


class _AgentAndCaller(TypedDict):
    pbx: str
    at: datetime
    queue: str
    interface: str
    member_name: str
    uniqueid: UniqueId
    linkedid: LinkedId


class QueueHandlers(StateCore):
    """Callers joining, leaving and abandoning queues; agents rung, connected and done."""

    # --- queue callers --------------------------------------------------------------------------

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
        self._caller_left(ev.queue, caller, ev.position, ev.at)

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

    def _agent_and_caller(
        self, ev: AgentQueueEvent, agent: Agent, caller: Channel | ChannelInfo
    ) -> _AgentAndCaller:
        """The fields every notice about an agent and a queue caller starts with."""
        return {
            "pbx": self.pbx,
            "at": ev.at,
            "queue": ev.queue,
            "interface": ev.interface,
            "member_name": ev.member_name or agent.name,
            "uniqueid": caller.uniqueid,
            "linkedid": caller.linkedid,
        }

    def _on_agent_rung(self, ev: AgentRung) -> None:
        if ev.caller.uniqueid in self._gone:
            return  # the caller already hung up: a stale event
        known = self.agents.get(ev.interface)
        if (
            known is not None
            and known.state is AgentState.RINGING
            and known.ringing_for not in (None, ev.caller.uniqueid)
        ):
            self._impossible(f"agent {ev.interface}: rung for two callers")
            return
        if not self._may(ev.interface, AgentTrigger.RUNG):
            return
        caller = self._channel(ev.caller, ev.at)
        if caller is None:
            return  # the caller already hung up: a stale event
        agent = self._agent(ev.interface, ev.member_name, ev.at)
        self._move(agent, AgentTrigger.RUNG, ev.at)
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
                    **self._agent_and_caller(ev, agent, caller),
                    caller_num=caller.caller_num,
                    caller_name=caller.caller_name,
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
                **self._agent_and_caller(ev, agent, ev.caller), ring_seconds=ev.ring_time
            )
        )

    def _on_agent_answered(self, ev: AgentAnswered) -> None:
        if ev.caller.uniqueid in self._gone:
            return  # stale
        known = self.agents.get(ev.interface)
        if (
            known is not None
            and known.state is AgentState.IN_CALL
            and known.call_kind is CallKind.QUEUE
        ):
            if known.call != ev.caller.linkedid:
                self._impossible(f"agent {ev.interface}: connected while in another call")
            return  # a duplicate
        # (In a call no queue gave, as far as we knew: this one is a queue's after all.)
        if not self._may(ev.interface, AgentTrigger.CONNECTED):
            return
        caller = self._channel(ev.caller, ev.at)
        if caller is None:
            return
        agent = self._agent(ev.interface, ev.member_name, ev.at)
        self._move(agent, AgentTrigger.CONNECTED, ev.at, kind=CallKind.QUEUE)
        agent.call = caller.linkedid
        agent.caller, agent.call_queue, agent.connected_at = caller.uniqueid, ev.queue, ev.at
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
                **self._agent_and_caller(ev, agent, caller),
                caller_num=caller.caller_num,
                caller_name=caller.caller_name,
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
                **self._agent_and_caller(ev, agent, ev.caller),
                caller_num=ev.caller.caller_num,
                caller_name=ev.caller.caller_name,
                talk_seconds=ev.talk_time,
                hold_seconds=ev.hold_time,
                reason=ev.reason,
            )
        )
