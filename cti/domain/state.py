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

The state lives in :class:`cti.domain.live.core.StateCore` (entities in
:mod:`cti.domain.live.entities`, tables in :mod:`cti.domain.live.transitions`); the handlers come
in one mixin per subject (:mod:`~cti.domain.live.channels`, :mod:`~cti.domain.live.queues`,
:mod:`~cti.domain.live.members`, :mod:`~cti.domain.live.signals`,
:mod:`~cti.domain.live.resync`), and :data:`_HANDLERS` routes each event type to one of them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from cti.domain.events import (
    AgentAnswered,
    AgentCompleted,
    AgentRingStopped,
    AgentRung,
    BridgeCreated,
    BridgeDestroyed,
    BridgeEntered,
    BridgeLeft,
    CallerIdChanged,
    ChannelCreated,
    ChannelHungUp,
    ChannelsListed,
    ChannelStateChanged,
    DialBegan,
    DialEnded,
    DialerAgentReached,
    DialerAmdFinished,
    DialerCallDropped,
    DialerLegEnded,
    DialerMachineFound,
    LinkDown,
    LocalPairBridged,
    MemberAdded,
    MemberPauseChanged,
    MemberRemoved,
    MemberStatusChanged,
    OriginateResponded,
    PbxEvent,
    QueueCallerAbandoned,
    QueueCallerJoined,
    QueueCallerLeft,
    QueuesListed,
    SpyStarted,
    SpyStopped,
    SummariesListed,
)
from cti.domain.live.core import ACTION_ID_VARIABLE, GONE_AT_RESYNC
from cti.domain.live.entities import (
    Agent,
    Bridge,
    Call,
    Channel,
    Member,
    Queue,
    Spy,
    WaitingCaller,
)
from cti.domain.live.invariants import invariant_violations, was_hung_up
from cti.domain.live.members import MemberHandlers
from cti.domain.live.queues import QueueHandlers
from cti.domain.live.resync import ResyncHandlers
from cti.domain.live.signals import ORIGINATE_REASONS, SignalHandlers, originate_outcome
from cti.domain.live.snapshot import snapshot_of
from cti.domain.live.transitions import (
    AGENT_TRANSITIONS,
    CALL_TRANSITIONS,
    AgentTrigger,
    CallState,
    CallTrigger,
)
from cti.domain.notices import AgentState, AnyNotice

__all__ = [
    "ACTION_ID_VARIABLE",
    "AGENT_TRANSITIONS",
    "CALL_TRANSITIONS",
    "GONE_AT_RESYNC",
    "ORIGINATE_REASONS",
    "Agent",
    "AgentTrigger",
    "Bridge",
    "Call",
    "CallState",
    "CallTrigger",
    "Channel",
    "Member",
    "PbxState",
    "Queue",
    "Spy",
    "WaitingCaller",
    "invariant_violations",
    "originate_outcome",
    "was_hung_up",
]

log = logging.getLogger(__name__)


class PbxState(ResyncHandlers, QueueHandlers, MemberHandlers, SignalHandlers):
    """The reduced state of one PBX. Mutated only through :meth:`apply` and :meth:`tick`."""

    def apply(self, event: PbxEvent) -> list[AnyNotice]:
        """Apply one event; return the notices it caused (possibly none). Never raises unless
        ``strict`` (then a reducer bug raises)."""
        out: list[AnyNotice] = []
        self._out = out
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            try:
                handler(self, event)
            except Exception:
                if self.strict:
                    raise
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

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON-ready data: queues (waiting callers, members), agents, calls."""
        return snapshot_of(self)


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
    SpyStarted: PbxState._on_spy_started,
    SpyStopped: PbxState._on_spy_stopped,
    ChannelsListed: PbxState._on_channels_listed,
    QueuesListed: PbxState._on_queues_listed,
    SummariesListed: PbxState._on_summaries_listed,
    LinkDown: PbxState._on_link_down,
}
