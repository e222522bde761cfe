"""What a consistent state never shows."""

from __future__ import annotations

from cti.domain.events import LinkedId, UniqueId
from cti.domain.live.core import StateCore
from cti.domain.live.entities import ENGAGEMENTS
from cti.domain.live.transitions import CallState
from cti.domain.notices import AgentState


def invariant_violations(state: StateCore) -> list[str]:
    """What is wrong with ``state`` (empty when consistent). Used by tests and the resync check.

    Each rule here is one a forged state breaks in ``tests/domain/test_state.py``.
    """
    problems: list[str] = []
    connected: dict[str, list[LinkedId]] = {}
    for call in state.calls.values():
        if call.agent is not None and call.state is CallState.CONNECTED:
            connected.setdefault(call.agent, []).append(call.linkedid)
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
    for interface, linked in connected.items():
        if len(linked) > 1:
            problems.append(f"agent {interface} in two calls: {', '.join(sorted(linked))}")
    for agent in state.agents.values():
        if agent.call is not None and agent.call not in state.calls:
            problems.append(f"agent {agent.interface} in ended call {agent.call}")
        if agent.state is AgentState.IN_CALL and agent.call is None and agent.channel is not None:
            problems.append(f"agent {agent.interface} in call with a channel but no call")
        if agent.unavailable and agent.state in (AgentState.READY, AgentState.PAUSED):
            problems.append(f"agent {agent.interface} {agent.state} with an unreachable phone")
        for name in ENGAGEMENTS:
            value = getattr(agent, name)
            held = state.engaged.find((name, value)) if value is not None else []
            if value is not None and not any(a is agent for a in held):
                problems.append(f"agent {agent.interface} not indexed by its {name} {value}")
    for name, value, agent in state.engaged.entries():
        if getattr(agent, name) != value or state.agents.get(agent.interface) is not agent:
            problems.append(f"agent {agent.interface} indexed by a stale {name} {value}")
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


def was_hung_up(state: StateCore, uid: UniqueId) -> bool:
    """Whether ``uid`` is a channel this state saw hang up (and still remembers)."""
    return uid in state._gone
