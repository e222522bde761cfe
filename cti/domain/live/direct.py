"""Calls no queue gave an agent: their phone bridged with another party on a call they dialled,
a consultation of another agent's attended transfer, a call transferred to them, one to or from
their phone.

Asterisk says nothing of these in queue terms (no ``AgentConnect``, no ``AgentComplete``): the
agent's own channel entering a bridge with someone says they talk, its hangup (or the call's end)
that they stopped (:mod:`cti.domain.live.channels`). Without this an agent on such a call would
show as ready, or, paused by cti since the call's connect for the wrap-up to come, as in wrap-up.
"""

from __future__ import annotations

from datetime import datetime

from cti.domain.events import UniqueId
from cti.domain.live.core import StateCore
from cti.domain.live.entities import Agent, Bridge, Channel, Member
from cti.domain.live.transitions import AGENT_TRANSITIONS, AgentTrigger
from cti.domain.notices import AgentState, CallKind
from cti.domain.transfer import TRANSFER_CONTEXT

# A consultation's other end: the Local channel Asterisk's attended transfer dials
# (``Local/<exten>@cti-transfer-…;1`` and ``;2``).
_CONSULT_MARK = f"@{TRANSFER_CONTEXT}-"


def device_of(interface: str, state_interface: str = "") -> str:
    """The device a member's channels are named after (``PJSIP/agent1`` of ``PJSIP/agent1-0000002a``;
    a Local member's without its ``/n``)."""
    device = state_interface or interface
    return device[:-2] if device.endswith("/n") else device


def member_device(m: Member) -> str:
    """The device of a queue member."""
    return device_of(m.interface, m.state_interface)


def is_consultation(ch: Channel) -> bool:
    """Whether a channel is the other end of an attended transfer's consultation."""
    return ch.name.startswith("Local/") and _CONSULT_MARK in ch.name


class DirectCalls(StateCore):
    """Which agent a channel belongs to; an agent's phone bridged on a call no queue gave."""

    def _interface_of_channel(self, ch: Channel) -> str | None:
        """The member interface whose phone a channel is (maybe no agent's)."""
        device, sep, _ = ch.name.rpartition("-")
        return self.devices.get(device, device) if sep else None

    def _agent_of_channel(self, ch: Channel) -> Agent | None:
        interface = self._interface_of_channel(ch)
        return None if interface is None else self.agents.get(interface)

    def _bridged_phones(self) -> dict[str, Channel]:
        """Each interface's phone channel that is in a bridge with another party (at a resync)."""
        out: dict[str, Channel] = {}
        for ch in self.channels.values():
            bridge = None if ch.bridge_id is None else self.bridges.get(ch.bridge_id)
            if bridge is None or len(bridge.channels) < 2:
                continue
            interface = self._interface_of_channel(ch)
            if interface is not None:
                out.setdefault(interface, ch)
        return out

    def _kind_in(self, bridge: Bridge, own: UniqueId) -> CallKind:
        """What a call is to the agent whose channel ``own`` is in ``bridge``."""
        for uid in bridge.channels:
            other = self.channels.get(uid)
            if uid != own and other is not None and is_consultation(other):
                return CallKind.CONSULT
        return CallKind.DIRECT

    def _note_bridged(self, bridge: Bridge, at: datetime) -> None:
        """Someone entered ``bridge``: an agent's phone in it with another party is on a call.

        O(channels in the bridge): two, or a few.
        """
        if len(bridge.channels) < 2:
            return
        for uid in list(bridge.channels):
            ch = self.channels.get(uid)
            agent = None if ch is None else self._agent_of_channel(ch)
            if ch is None or agent is None:
                continue
            kind = self._kind_in(bridge, uid)
            if agent.state is AgentState.IN_CALL:
                if agent.channel == uid and agent.call_kind in (CallKind.DIRECT, CallKind.CONSULT):
                    # A consultation completed: the transferred caller is theirs now.
                    agent.call_kind = kind
                continue  # a queue's call (AgentConnect came first), or one already known
            talks = AGENT_TRANSITIONS.get((agent.state, AgentTrigger.BRIDGED)) is AgentState.IN_CALL
            if self._move(agent, AgentTrigger.BRIDGED, at, kind=kind) and talks:
                self._on_direct_call(agent, ch, at)

    @staticmethod
    def _on_direct_call(agent: Agent, ch: Channel, at: datetime) -> None:
        agent.call, agent.channel, agent.connected_at = ch.linkedid, ch.uniqueid, at
        # No queue caller: no AgentCallEnded for it (the desk follows its end by the call's).
        agent.caller, agent.call_queue = None, ""
        agent.ringing_for = agent.ringing_queue = agent.ringing_since = None
