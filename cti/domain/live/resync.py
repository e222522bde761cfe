"""Resync: the state rebuilt from the PBX's own lists (CoreShowChannels, QueueStatus,
QueueSummary)."""

from __future__ import annotations

from datetime import datetime, timedelta

from cti.domain.events import (
    ActionId,
    BridgeId,
    ChannelHungUp,
    ChannelInfo,
    ChannelsListed,
    ChannelState,
    DeviceStatus,
    LinkDown,
    LinkedId,
    QueuesListed,
    SummariesListed,
    UniqueId,
)
from cti.domain.live.channels import ChannelHandlers
from cti.domain.live.core import ACTION_ID_VARIABLE, GONE_AT_RESYNC
from cti.domain.live.direct import member_device
from cti.domain.live.entities import (
    Agent,
    Bridge,
    Channel,
    Member,
    Queue,
    WaitingCaller,
    member_flags,
    pause_began,
)
from cti.domain.live.transitions import CallState
from cti.domain.notices import AgentState, CallKind, StateResynced
from cti.domain.wrapup import WRAPUP_REASON


class ResyncHandlers(ChannelHandlers):
    """The lists a (re)login asks for replace what the state believed; what they no longer hold
    ends (hangups, callers who left) as if the events had come."""

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
            self._on_hangup(ChannelHungUp(at=at, chan=info, cause=0, cause_text=GONE_AT_RESYNC))
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
            m = q.members[info.interface] = Member.of(info)
            if (device := member_device(m)) != m.interface:
                self.devices[device] = m.interface
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
                    self._caller_left(qname, caller, caller.position, at)
            if old_q.name not in queues:
                queues[old_q.name] = Queue(name=old_q.name)
        self.queues = queues
        self._rebuild_agents(at)

    def _rebuild_agents(self, at: datetime) -> None:
        by_interface: dict[str, list[Member]] = {}
        for q in self.queues.values():
            for m in q.members.values():
                by_interface.setdefault(m.interface, []).append(m)
        bridged = self._bridged_phones()
        for interface in set(self.agents) | set(by_interface):
            members = by_interface.get(interface, [])
            agent = self.agents.get(interface)
            if agent is None:
                agent = self._agent(interface, members[0].name, at)
            agent.queues = {m.queue for m in members}
            agent.paused, agent.unavailable, reason = member_flags(members)
            if members:
                # A pause cti did not see begin counts from when the PBX paused the member.
                self._follow_pause(agent, reason, pause_began(members, at))
            # With no membership left (the PBX restarted and forgot them) the pause is kept: put
            # back paused for the same reason (what cti does), the same pause goes on, as the
            # desk counts it; back for another reason or none, it ends then.
            if not members or agent.unavailable:
                target = AgentState.OFFLINE
            elif any(m.in_call for m in members):
                target = AgentState.IN_CALL
            elif any(m.status in (DeviceStatus.RINGING, DeviceStatus.RING_IN_USE) for m in members):
                target = AgentState.RINGING
            elif interface in bridged:
                target = AgentState.IN_CALL  # a call no queue gave (dialled, consulted...)
            elif agent.paused and reason == WRAPUP_REASON:
                target = AgentState.WRAP_UP  # cti's after-call work: a pause for wrap-up
            elif agent.state is AgentState.WRAP_UP and not agent.paused:
                target = AgentState.WRAP_UP  # Asterisk's own wrap-up time
            else:
                target = AgentState.PAUSED if agent.paused else AgentState.READY
            direct = bridged.get(interface) if not any(m.in_call for m in members) else None
            if target is AgentState.IN_CALL and direct is not None:
                self._resync_direct(agent, direct, at)
            elif target is AgentState.IN_CALL:
                self._find_agent_call(agent, members, at)
                agent.call_kind = CallKind.QUEUE
                if agent.call is None:
                    # InCall without a channel we can see: trust the PBX's word for the state.
                    agent.channel = None
            else:
                agent.call = agent.channel = agent.call_kind = None
            if target is not AgentState.RINGING:
                agent.ringing_for = agent.ringing_queue = agent.ringing_since = None
            self._announce(agent, target, reason, at)
        # An agent in a call that is gone, or in two calls, cannot be: clear the call link.
        seen: set[LinkedId] = set()
        for agent in self.agents.values():
            if agent.call is not None and agent.call_kind is not CallKind.QUEUE:
                if agent.call not in self.calls:
                    agent.call = None
                continue  # no queue's: the call is not the agent's to claim (a consulted one)
            if agent.call is not None and (agent.call not in self.calls or agent.call in seen):
                agent.call = None
            if agent.call is not None:
                seen.add(agent.call)
                self.calls[agent.call].agent = agent.interface
                if self.calls[agent.call].state is not CallState.QUEUED:
                    self.calls[agent.call].state = CallState.CONNECTED

    def _resync_direct(self, agent: Agent, ch: Channel, at: datetime) -> None:
        """The agent's phone is bridged on a call no queue gave: they are on it."""
        same = agent.state is AgentState.IN_CALL and agent.channel == ch.uniqueid
        bridge = None if ch.bridge_id is None else self.bridges.get(ch.bridge_id)
        agent.call_kind = CallKind.DIRECT if bridge is None else self._kind_in(bridge, ch.uniqueid)
        if not same or agent.connected_at is None:
            agent.connected_at = ch.answered_at or at
        agent.call, agent.channel = ch.linkedid, ch.uniqueid
        agent.caller, agent.call_queue = None, ""

    def _find_agent_call(self, agent: Agent, members: list[Member], at: datetime) -> None:
        if agent.call is not None and agent.call in self.calls:
            return
        prefixes = {m.state_interface for m in members if m.state_interface}
        iface = agent.interface
        prefixes.add(iface[:-2] if iface.endswith("/n") else iface)
        for ch in self.channels.values():
            base, sep, _ = ch.name.rpartition("-")
            if sep and base in prefixes:
                agent.call, agent.channel = ch.linkedid, ch.uniqueid
                self._found_caller(agent, ch, members, at)
                return
        agent.call = None

    def _found_caller(self, agent: Agent, ch: Channel, members: list[Member], at: datetime) -> None:
        """A queue call found by the resync: its caller (the call's first channel, whose uniqueid
        is the linkedid), queue and connect time, which end it for the agent when it vanishes
        without AgentComplete (Asterisk may send the hang-ups first: its AgentComplete then finds
        the agent out of the call)."""
        if agent.caller is None or agent.caller not in self.channels:
            first = UniqueId(str(ch.linkedid))
            agent.caller = first if first in self.channels and first != ch.uniqueid else None
        if not agent.call_queue:
            agent.call_queue = next((m.queue for m in members if m.in_call), "")
        if agent.connected_at is None:
            agent.connected_at = ch.answered_at or at

    def _on_summaries_listed(self, ev: SummariesListed) -> None:
        for row in ev.summaries:
            q = self._queue(row.queue)
            q.longest_hold_time, q.available = row.longest_hold_time, row.available
        self.resync_wanted = False
        self.last_resync = ev.at
        self._out.append(StateResynced(pbx=self.pbx, at=ev.at))

    def _on_link_down(self, ev: LinkDown) -> None:
        self.resync_wanted = True
