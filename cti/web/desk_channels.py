"""Which channels of the live PBX state are a desk agent's call: their own, and the caller's.

A queue call names both (the queue's AgentConnect: the agent's channel, the call's Uniqueid the
caller's). A call put straight through to the agent (a transfer to them) names neither: their
channel is the one of the call's Linkedid on their interface, and the caller is whoever shares its
bridge.
"""

from __future__ import annotations

from typing import Any

from cti.domain.live.entities import Channel
from cti.domain.state import PbxState


def call_channels(
    state: PbxState, interface: str, call: dict[str, Any] | None
) -> tuple[Channel | None, Channel | None]:
    """The agent's own channel and the caller's (None: not there)."""
    live = state.agents.get(interface)
    mine = state.channels.get(live.channel) if live is not None and live.channel else None
    if mine is None and call is not None:
        mine = next(
            (
                ch
                for ch in state.channels.values()
                if ch.linkedid == call["linkedid"] and ch.name.startswith(interface + "-")
            ),
            None,
        )
    caller = state.channels.get(call["uniqueid"]) if call is not None else None
    if mine is not None and (caller is None or caller is mine) and mine.bridge_id is not None:
        caller = next(
            (
                ch
                for ch in state.channels.values()
                if ch.bridge_id == mine.bridge_id and ch is not mine
            ),
            None,
        )
    return mine, caller
