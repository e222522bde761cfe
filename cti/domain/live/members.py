"""Queue members: added, changed, paused, removed; an agent's flags over its memberships."""

from __future__ import annotations

from datetime import datetime

from cti.domain.events import (
    MemberAdded,
    MemberInfo,
    MemberPauseChanged,
    MemberRemoved,
    MemberStatusChanged,
)
from cti.domain.live.core import StateCore
from cti.domain.live.direct import member_device
from cti.domain.live.entities import Agent, Member, member_flags
from cti.domain.live.transitions import AgentTrigger
from cti.domain.notices import AgentState, MemberChange, MemberChanged


class MemberHandlers(StateCore):
    """QueueMemberAdded, QueueMemberStatus, QueueMemberPause, QueueMemberRemoved."""

    def _store_member(self, info: MemberInfo) -> tuple[Member, bool]:
        q = self._queue(info.queue)
        m = q.members.get(info.interface)
        added = m is None
        if m is None:
            m = q.members[info.interface] = Member.of(info)
        else:
            m.name = info.name or m.name
            m.state_interface = info.state_interface or m.state_interface
            m.status, m.paused, m.paused_reason = info.status, info.paused, info.paused_reason
            m.in_call, m.calls_taken, m.last_call = info.in_call, info.calls_taken, info.last_call
            m.last_pause = info.last_pause or m.last_pause
            m.penalty, m.wrapup_time = info.penalty, info.wrapup_time
            m.membership = info.membership or m.membership
        if (device := member_device(m)) != m.interface:
            self.devices[device] = m.interface
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
        paused, unavailable, reason = member_flags(self._memberships(agent))
        return paused, unavailable, reason if paused else ""

    def _on_member(self, ev: MemberAdded | MemberStatusChanged | MemberPauseChanged) -> None:
        info = ev.member
        m, added = self._store_member(info)
        agent = self._agent(info.interface, info.name, ev.at)
        new_membership = info.queue not in agent.queues
        agent.queues.add(info.queue)
        was_paused, was_unavailable = agent.paused, agent.unavailable
        agent.paused, agent.unavailable, reason = self._agent_flags(agent)
        self._follow_pause(agent, reason, ev.at)
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
            self._follow_pause(agent, reason, ev.at)
            self._move(agent, AgentTrigger.LOGGED_IN, ev.at, reason)
        else:
            agent.paused = agent.unavailable = False
            agent.pause = None
            self._move(agent, AgentTrigger.LOGGED_OUT, ev.at, "")

    def _store_member_removed_notice(self, m: Member, info: MemberInfo, at: datetime) -> None:
        m.calls_taken, m.status, m.in_call = info.calls_taken, info.status, info.in_call
        self._member_notice(m, MemberChange.REMOVED, at)
