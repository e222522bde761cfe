"""Typed, immutable telephony events: what a PBX told us, in our words.

The AMI layer turns each AMI message into one of these the moment it arrives (``cti.ami.translate``);
nothing downstream reads raw AMI headers. Every event carries ``at``, the instant cti received it
(Asterisk's captures carry no timestamps), so the reducer stays a pure function of its input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NewType

UniqueId = NewType("UniqueId", str)
LinkedId = NewType("LinkedId", str)
BridgeId = NewType("BridgeId", str)
ActionId = NewType("ActionId", str)


class ChannelState(StrEnum):
    """Asterisk's ``ChannelState`` (``ast_state``), by name."""

    DOWN = "down"
    RESERVED = "reserved"
    OFFHOOK = "offhook"
    DIALING = "dialing"
    RING = "ring"
    RINGING = "ringing"
    UP = "up"
    BUSY = "busy"
    DIALING_OFFHOOK = "dialing_offhook"
    PRERING = "prering"
    UNKNOWN = "unknown"


CHANNEL_STATES: tuple[ChannelState, ...] = (
    ChannelState.DOWN,
    ChannelState.RESERVED,
    ChannelState.OFFHOOK,
    ChannelState.DIALING,
    ChannelState.RING,
    ChannelState.RINGING,
    ChannelState.UP,
    ChannelState.BUSY,
    ChannelState.DIALING_OFFHOOK,
    ChannelState.PRERING,
)


class DeviceStatus(StrEnum):
    """A queue member's device status (app_queue ``Status`` 0–8)."""

    UNKNOWN = "unknown"
    NOT_IN_USE = "not_in_use"
    IN_USE = "in_use"
    BUSY = "busy"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"
    RINGING = "ringing"
    RING_IN_USE = "ring_in_use"
    ON_HOLD = "on_hold"


DEVICE_STATUSES: tuple[DeviceStatus, ...] = tuple(DeviceStatus)


class OriginateOutcome(StrEnum):
    """How an originated call ended its dialling phase."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    FAILED = "failed"
    # The link dropped before Asterisk told us; the resync found no trace of the call.
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelInfo:
    """A channel's identity and caller data as carried by most call events."""

    uniqueid: UniqueId
    linkedid: LinkedId
    channel: str
    state: ChannelState
    caller_num: str = ""
    caller_name: str = ""
    connected_num: str = ""
    connected_name: str = ""
    context: str = ""
    exten: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberInfo:
    """A queue member row (``QueueMemberAdded``/``Status``/``Pause``/``Removed``, ``QueueMember``)."""

    queue: str
    interface: str
    name: str
    state_interface: str = ""
    membership: str = ""
    penalty: int = 0
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0
    login_time: int = 0
    in_call: bool = False
    status: DeviceStatus = DeviceStatus.UNKNOWN
    paused: bool = False
    paused_reason: str = ""
    wrapup_time: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every PBX event."""

    at: datetime


# --- channels, bridges ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelCreated(Event):
    """``Newchannel``."""

    chan: ChannelInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelStateChanged(Event):
    """``Newstate``."""

    chan: ChannelInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerIdChanged(Event):
    """``NewCallerid`` or ``NewConnectedLine``."""

    chan: ChannelInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelHungUp(Event):
    """``Hangup``."""

    chan: ChannelInfo
    cause: int
    cause_text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalPairBridged(Event):
    """``LocalBridge``: the two halves (``;1``, ``;2``) of a Local channel."""

    one: ChannelInfo
    two: ChannelInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class DialBegan(Event):
    """``DialBegin``; ``caller`` is ``None`` for an originated call."""

    caller: ChannelInfo | None
    dest: ChannelInfo
    dial_string: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DialEnded(Event):
    """``DialEnd``: ``dial_status`` ANSWER, BUSY, NOANSWER, CANCEL, CONGESTION…"""

    caller: ChannelInfo | None
    dest: ChannelInfo
    dial_status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeCreated(Event):
    """``BridgeCreate``."""

    bridge_id: BridgeId
    bridge_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeEntered(Event):
    """``BridgeEnter``."""

    bridge_id: BridgeId
    chan: ChannelInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeLeft(Event):
    """``BridgeLeave``."""

    bridge_id: BridgeId
    chan: ChannelInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeDestroyed(Event):
    """``BridgeDestroy``."""

    bridge_id: BridgeId


# --- queues ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallerJoined(Event):
    """``QueueCallerJoin``."""

    chan: ChannelInfo
    queue: str
    position: int
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallerLeft(Event):
    """``QueueCallerLeave``: the caller left the waiting list (answered, abandoned or timed out)."""

    chan: ChannelInfo
    queue: str
    position: int
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallerAbandoned(Event):
    """``QueueCallerAbandon``: the caller hung up while waiting."""

    chan: ChannelInfo
    queue: str
    position: int
    original_position: int
    hold_time: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRung(Event):
    """``AgentCalled``: app_queue rings a member for a waiting caller."""

    caller: ChannelInfo
    dest: ChannelInfo | None
    queue: str
    interface: str
    member_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRingStopped(Event):
    """``AgentRingNoAnswer`` or ``AgentDump``: the member stopped ringing without taking the call."""

    caller: ChannelInfo
    queue: str
    interface: str
    member_name: str
    ring_time: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentAnswered(Event):
    """``AgentConnect``."""

    caller: ChannelInfo
    dest: ChannelInfo | None
    queue: str
    interface: str
    member_name: str
    hold_time: int
    ring_time: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentCompleted(Event):
    """``AgentComplete``: the queue call ended; ``reason`` is ``caller``, ``agent`` or ``transfer``."""

    caller: ChannelInfo
    dest: ChannelInfo | None
    queue: str
    interface: str
    member_name: str
    hold_time: int
    talk_time: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberAdded(Event):
    """``QueueMemberAdded``."""

    member: MemberInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberStatusChanged(Event):
    """``QueueMemberStatus``."""

    member: MemberInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberPauseChanged(Event):
    """``QueueMemberPause``."""

    member: MemberInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberRemoved(Event):
    """``QueueMemberRemoved``."""

    member: MemberInfo


# --- originate -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginateResponded(Event):
    """``OriginateResponse``: the fate of an ``Async`` Originate, matched by ``action_id``."""

    action_id: ActionId
    success: bool
    reason: int
    uniqueid: UniqueId | None
    channel: str
    caller_num: str
    caller_name: str


# --- the dialer's dialplan (UserEvents of config/asterisk/extensions.conf [cti-dialer]) -------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DialerSignal(Event):
    """Base of the ``UserEvent``s ``[cti-dialer]`` sends; each echoes the call's ``CTI_CAMPAIGN``,
    ``CTI_LEAD`` and ``CTI_ATTEMPT`` (as sent: strings, possibly empty)."""

    chan: ChannelInfo
    campaign: str
    lead: str
    attempt: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DialerLegEnded(DialerSignal):
    """``CtiDialerResult``: the customer leg did not answer (``dial_status`` BUSY, NOANSWER,
    CONGESTION, CHANUNAVAIL...)."""

    dial_status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DialerAmdFinished(DialerSignal):
    """``CtiDialerAmd``: answering-machine detection ran (``amd_status`` HUMAN, MACHINE, NOTSURE,
    HANGUP)."""

    amd_status: str
    amd_cause: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DialerMachineFound(DialerSignal):
    """``CtiDialerMachine``: a machine answered; the dialplan hung up."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DialerCallDropped(DialerSignal):
    """``CtiDialerAbandoned``: a person answered and no agent took the call within the connect
    limit; the abandon message was played. ``agent`` is set for a preview call (``CTI_AGENT``)."""

    queue: str
    queue_status: str
    agent: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DialerAgentReached(DialerSignal):
    """``CtiDialerConnected``: the preview agent (``CTI_AGENT``) answered the dialer call."""

    agent: str


# --- resync (answers to CoreShowChannels, QueueStatus, QueueSummary) ----------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SpyStarted(Event):
    """``ChanSpyStart``: a channel (a supervisor's phone) started spying on another."""

    spyer: ChannelInfo
    spyee: ChannelInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class SpyStopped(Event):
    """``ChanSpyStop``: the spying ended (the spied channel may already be gone)."""

    spyer: ChannelInfo
    spyee: ChannelInfo | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListedChannel:
    """A ``CoreShowChannel`` row."""

    chan: ChannelInfo
    bridge_id: BridgeId | None
    application: str
    application_data: str
    duration: int
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ListedQueue:
    """A ``QueueParams`` row, merged with the queue's ``QueueSummary`` row when present."""

    queue: str
    strategy: str = ""
    calls: int = 0
    hold_time: int = 0
    talk_time: int = 0
    completed: int = 0
    abandoned: int = 0
    service_level: int = 0
    service_level_perf: float = 0.0
    weight: int = 0
    max: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ListedEntry:
    """A ``QueueEntry`` row: a caller waiting in a queue."""

    queue: str
    position: int
    channel: str
    uniqueid: UniqueId
    linkedid: LinkedId | None
    caller_num: str
    caller_name: str
    wait: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ListedSummary:
    """A ``QueueSummary`` row."""

    queue: str
    logged_in: int
    available: int
    callers: int
    hold_time: int
    talk_time: int
    longest_hold_time: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelsListed(Event):
    """The complete ``CoreShowChannels`` answer: every live channel, at the moment it completed."""

    channels: tuple[ListedChannel, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuesListed(Event):
    """The complete ``QueueStatus`` answer: queues, members and waiting callers."""

    queues: tuple[ListedQueue, ...]
    members: tuple[MemberInfo, ...]
    entries: tuple[ListedEntry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SummariesListed(Event):
    """The complete ``QueueSummary`` answer; ends a resync."""

    summaries: tuple[ListedSummary, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkDown(Event):
    """cti lost its AMI link to the PBX (not sent by Asterisk; emitted by the AMI layer)."""

    reason: str


PbxEvent = (
    ChannelCreated
    | ChannelStateChanged
    | CallerIdChanged
    | ChannelHungUp
    | LocalPairBridged
    | DialBegan
    | DialEnded
    | BridgeCreated
    | BridgeEntered
    | BridgeLeft
    | BridgeDestroyed
    | QueueCallerJoined
    | QueueCallerLeft
    | QueueCallerAbandoned
    | AgentRung
    | AgentRingStopped
    | AgentAnswered
    | AgentCompleted
    | MemberAdded
    | MemberStatusChanged
    | MemberPauseChanged
    | MemberRemoved
    | OriginateResponded
    | DialerLegEnded
    | DialerAmdFinished
    | DialerMachineFound
    | DialerCallDropped
    | DialerAgentReached
    | SpyStarted
    | SpyStopped
    | ChannelsListed
    | QueuesListed
    | SummariesListed
    | LinkDown
)
