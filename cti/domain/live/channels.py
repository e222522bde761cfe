"""Channels, their hangups and bridges."""

from __future__ import annotations

from datetime import datetime

from cti.domain.events import (
    BridgeCreated,
    BridgeDestroyed,
    BridgeEntered,
    BridgeLeft,
    CallerIdChanged,
    ChannelCreated,
    ChannelHungUp,
    ChannelStateChanged,
    DialBegan,
    DialEnded,
    LocalPairBridged,
)
from cti.domain.live.core import GONE_AT_RESYNC, elapsed
from cti.domain.live.direct import DirectCalls
from cti.domain.live.entities import Agent, Bridge, Call
from cti.domain.live.transitions import AgentTrigger
from cti.domain.notices import AgentCallEnded, AgentState, CallEnded


class ChannelHandlers(DirectCalls):
    """Newchannel, Newstate, NewCallerid, LocalBridge, DialBegin/End, Hangup; Bridge*."""

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
        lost = ev.cause_text == GONE_AT_RESYNC
        if uid in self.spies:
            self._spy_ended(uid, at)
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
        for agent in self.engaged.find(("ringing_for", uid), ("channel", uid)):
            if agent.ringing_for == uid:
                self._move(agent, AgentTrigger.CALL_GONE, at)
            elif agent.channel == uid and agent.state is AgentState.IN_CALL:
                # The agent's own leg ended with no AgentComplete: the caller was sent elsewhere
                # (a Redirect: the blind transfer) and goes on without this agent, or the
                # events that would have said so were lost.
                gone_with = self.calls.get(agent.call) if agent.call is not None else None
                if gone_with is not None:
                    alive = agent.caller is not None and agent.caller in self.channels
                    reason = "lost" if lost else "transfer" if alive else "hangup"
                    self._agent_call_gone(agent, gone_with, at, reason)
        call = self.calls.get(ch.linkedid)
        if call is not None:
            call.channels.discard(uid)
            if not call.channels:
                del self.calls[ch.linkedid]
                for agent in self.engaged.find(("call", call.linkedid)):
                    if agent.call == call.linkedid:
                        self._agent_call_gone(agent, call, at, "lost" if lost else "hangup")
                self._out.append(
                    CallEnded(
                        pbx=self.pbx,
                        at=at,
                        linkedid=call.linkedid,
                        caller_num=call.caller_num,
                        caller_name=call.caller_name,
                        queue=call.queue,
                        agent=call.agent,
                        duration_seconds=elapsed(call.started_at, at),
                        cause=ev.cause,
                        lost=lost,
                    )
                )

    def _agent_call_gone(self, agent: Agent, call: Call, at: datetime, reason: str) -> None:
        """The agent's call ended with no AgentComplete: end it for the agent all the same."""
        was_in_call = agent.state is AgentState.IN_CALL
        caller, queue, connected = agent.caller, agent.call_queue, agent.connected_at
        self._move(agent, AgentTrigger.CALL_GONE, at)
        if not was_in_call or caller is None:
            return
        self._out.append(
            AgentCallEnded(
                pbx=self.pbx,
                at=at,
                queue=queue,
                interface=agent.interface,
                member_name=agent.name,
                caller_num=call.caller_num,
                caller_name=call.caller_name,
                uniqueid=caller,
                linkedid=call.linkedid,
                talk_seconds=elapsed(connected or at, at),
                hold_seconds=0,
                reason=reason,
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
        self._note_bridged(bridge, ev.at)

    def _on_bridge_leave(self, ev: BridgeLeft) -> None:
        bridge = self.bridges.get(ev.bridge_id)
        if bridge is not None:
            bridge.channels.discard(ev.chan.uniqueid)
        ch = self.channels.get(ev.chan.uniqueid)
        if ch is not None and ch.bridge_id == ev.bridge_id:
            ch.bridge_id = None
