"""Transitions as data: which trigger moves an agent or a call from which state to which.

A pair (state, trigger) missing from its table is impossible (see :mod:`cti.domain.state`).
"""

from __future__ import annotations

from enum import StrEnum

from cti.domain.notices import AgentState


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
    # The agent's phone was bridged with another party on a call no queue gave them: one they
    # dialled, a consultation, a transfer (no AgentConnect will come for it).
    BRIDGED = "bridged"
    WRAPUP_ENDED = "wrapup_ended"


class Rest(StrEnum):
    """Targets resolved from the agent's flags: offline (phone unavailable), wrap-up (paused for
    :data:`~cti.domain.wrapup.WRAPUP_REASON`, or Asterisk's own wrap-up time still running), paused
    or ready; wrap-up (Asterisk's, when its queue has a wrap-up time) or rest."""

    REST = "rest"
    WRAP = "wrap"


_A = AgentState
_T = AgentTrigger
_REST = Rest.REST

AGENT_TRANSITIONS: dict[tuple[AgentState, AgentTrigger], AgentState | Rest] = {
    (_A.OFFLINE, _T.LOGGED_IN): _REST,
    (_A.OFFLINE, _T.AVAILABLE): _REST,
    (_A.OFFLINE, _T.PAUSED): _A.OFFLINE,
    (_A.OFFLINE, _T.UNPAUSED): _A.OFFLINE,
    (_A.OFFLINE, _T.LOGGED_OUT): _A.OFFLINE,
    (_A.OFFLINE, _T.UNAVAILABLE): _A.OFFLINE,
    (_A.OFFLINE, _T.CALL_GONE): _A.OFFLINE,
    # A phone that is no member (or unreachable) is nobody's to show on a call.
    (_A.OFFLINE, _T.BRIDGED): _A.OFFLINE,
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
    (_A.READY, _T.BRIDGED): _A.IN_CALL,
    (_A.PAUSED, _T.LOGGED_IN): _REST,
    # A new reason may be wrap-up's (cti pauses an agent whose call ended for after-call work).
    (_A.PAUSED, _T.PAUSED): _REST,
    (_A.PAUSED, _T.UNPAUSED): _REST,
    (_A.PAUSED, _T.AVAILABLE): _A.PAUSED,
    (_A.PAUSED, _T.UNAVAILABLE): _A.OFFLINE,
    (_A.PAUSED, _T.LOGGED_OUT): _A.OFFLINE,
    (_A.PAUSED, _T.CALL_GONE): _A.PAUSED,
    # Paused while ringing: Asterisk still connects the call that was ringing.
    (_A.PAUSED, _T.CONNECTED): _A.IN_CALL,
    # Paused (for a reason, or by cti since the connect of the call to come): on a call all the same.
    (_A.PAUSED, _T.BRIDGED): _A.IN_CALL,
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
    # Rung by a queue: its AgentConnect (or the ring's end) decides.
    (_A.RINGING, _T.BRIDGED): _A.RINGING,
    (_A.IN_CALL, _T.LOGGED_IN): _A.IN_CALL,
    (_A.IN_CALL, _T.PAUSED): _A.IN_CALL,
    (_A.IN_CALL, _T.UNPAUSED): _A.IN_CALL,
    (_A.IN_CALL, _T.AVAILABLE): _A.IN_CALL,
    # The phone stopped answering qualify mid-call: the call goes on; its end finds the agent offline.
    (_A.IN_CALL, _T.UNAVAILABLE): _A.IN_CALL,
    (_A.IN_CALL, _T.LOGGED_OUT): _A.OFFLINE,
    (_A.IN_CALL, _T.CONNECTED): _A.IN_CALL,
    (_A.IN_CALL, _T.BRIDGED): _A.IN_CALL,
    (_A.IN_CALL, _T.COMPLETED): Rest.WRAP,
    (_A.IN_CALL, _T.CALL_GONE): Rest.WRAP,
    (_A.WRAP_UP, _T.LOGGED_IN): _A.WRAP_UP,
    # cti's wrap-up is a pause: another reason or none ends it (Asterisk's own wrap-up runs on).
    (_A.WRAP_UP, _T.PAUSED): _REST,
    (_A.WRAP_UP, _T.UNPAUSED): _REST,
    # Rung before the wrap-up pause reached the PBX: the ring and the call are the truth.
    (_A.WRAP_UP, _T.RUNG): _A.RINGING,
    (_A.WRAP_UP, _T.CONNECTED): _A.IN_CALL,
    # A call in after-call work (a transfer, one from the phone) is talk, not wrap-up; the pause
    # for wrap-up stays, so its end brings the agent back to wrap-up.
    (_A.WRAP_UP, _T.BRIDGED): _A.IN_CALL,
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
