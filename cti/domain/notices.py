"""Notices: what changed in the live telephony state, for the agent desk, dialer, wallboard and DB.

The reducer (:mod:`cti.domain.state`) yields these as it applies PBX events; ``AmiService``
delivers them, in order, to its subscribers. Each names its PBX; times are the instants cti
received the underlying AMI events; durations are whole seconds as Asterisk counts them where
Asterisk gives them (``HoldTime``, ``TalkTime``), else measured between our own receive times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cti.domain.events import ActionId, DeviceStatus, LinkedId, OriginateOutcome, UniqueId


class AgentState(StrEnum):
    """What an agent (a queue member interface) is doing."""

    OFFLINE = "offline"
    READY = "ready"
    PAUSED = "paused"
    RINGING = "ringing"
    IN_CALL = "in_call"
    WRAP_UP = "wrap_up"


class CallKind(StrEnum):
    """Which call an agent in :attr:`AgentState.IN_CALL` is on: one a queue gave them, or one no
    queue did (after it, wrap-up, as after a queue call, but never during it)."""

    QUEUE = "queue"  # a queue connected a caller (AgentConnect): the dialer's progressive calls too
    OUTBOUND = "outbound"  # they dialled it from the desk, or a preview call (agent first)
    CONSULT = "consult"  # they are consulted by another agent's attended transfer
    DIRECT = "direct"  # any other call their phone is bridged in: a transfer, a call to or from it


class MemberChange(StrEnum):
    """Why a :class:`MemberChanged` notice was sent."""

    ADDED = "added"
    UPDATED = "updated"
    REMOVED = "removed"


class LinkStatus(StrEnum):
    """State of cti's AMI link to one PBX."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """Base of every notice."""

    pbx: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRinging(Notice):
    """A queue rings an agent for a waiting caller (screen-pop material)."""

    queue: str
    interface: str
    member_name: str
    caller_num: str
    caller_name: str
    uniqueid: UniqueId
    linkedid: LinkedId


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRingEnded(Notice):
    """An agent stopped ringing without taking the call (no answer, or the caller left)."""

    queue: str
    interface: str
    member_name: str
    uniqueid: UniqueId
    linkedid: LinkedId
    ring_seconds: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentConnected(Notice):
    """An agent took a queue call; start the talk timer."""

    queue: str
    interface: str
    member_name: str
    caller_num: str
    caller_name: str
    uniqueid: UniqueId
    linkedid: LinkedId
    hold_seconds: int
    ring_seconds: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentCallEnded(Notice):
    """A queue call an agent was talking on ended."""

    queue: str
    interface: str
    member_name: str
    caller_num: str
    caller_name: str
    uniqueid: UniqueId
    linkedid: LinkedId
    talk_seconds: int
    hold_seconds: int
    # ``caller`` or ``agent`` hung up first, or ``transfer``; ``hangup`` when the call ended
    # without Asterisk saying how (no AgentComplete), ``lost`` when the PBX lost it.
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerJoined(Notice):
    """A caller started waiting in a queue."""

    queue: str
    uniqueid: UniqueId
    linkedid: LinkedId
    caller_num: str
    caller_name: str
    position: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerLeft(Notice):
    """A caller stopped waiting in a queue (answered by an agent, or gone: see CallerAbandoned)."""

    queue: str
    uniqueid: UniqueId
    linkedid: LinkedId
    caller_num: str
    caller_name: str
    position: int
    waited_seconds: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerAbandoned(Notice):
    """A waiting caller hung up before any agent answered."""

    queue: str
    uniqueid: UniqueId
    linkedid: LinkedId
    caller_num: str
    caller_name: str
    position: int
    original_position: int
    waited_seconds: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberChanged(Notice):
    """A queue member was added, removed, paused, unpaused or changed device status."""

    change: MemberChange
    queue: str
    interface: str
    member_name: str
    status: DeviceStatus
    paused: bool
    paused_reason: str
    in_call: bool
    calls_taken: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentStateChanged(Notice):
    """An agent's state (or pause reason) changed; ``since`` is when the new state began."""

    interface: str
    member_name: str
    state: AgentState
    previous: AgentState
    reason: str
    since: datetime
    # The agent's phone cannot take a call (unregistered or unreachable: member Status 4/5). Such
    # an agent is offline whatever else it is (in its queues, paused or not).
    unavailable: bool = False
    # In a call (``state`` IN_CALL): which. A direct call may begin in wrap-up (the agent's
    # after-call work goes on after it); a queue call ends it.
    call_kind: CallKind | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallStarted(Notice):
    """A new call (a new Linkedid) appeared."""

    linkedid: LinkedId
    caller_num: str
    caller_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded(Notice):
    """The last channel of a call hung up."""

    linkedid: LinkedId
    caller_num: str
    caller_name: str
    queue: str | None
    agent: str | None
    duration_seconds: int
    # Q.850 cause of the last channel to hang up (16 normal, 17 busy, 19 no answer…).
    cause: int
    # No hangup was seen: the PBX no longer had the call when cti resynchronised (a restart or
    # a crash of the PBX, or events lost while the link was down).
    lost: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginateFinished(Notice):
    """An Originate cti sent has an outcome. ``reason_code`` is Asterisk's (4 answered, 5 busy…)."""

    action_id: ActionId
    outcome: OriginateOutcome
    reason_code: int
    uniqueid: UniqueId | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DialerNotice(Notice):
    """Base of what the dialer's dialplan reported about one of its calls. The ids are those cti
    set as channel variables (``CTI_CAMPAIGN``, ``CTI_LEAD``, ``CTI_ATTEMPT``), None if unreadable."""

    uniqueid: UniqueId
    linkedid: LinkedId
    campaign_id: int | None
    lead_id: int | None
    attempt_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DialerUnanswered(DialerNotice):
    """The customer leg did not answer (``dial_status`` BUSY, NOANSWER, CONGESTION, ...)."""

    dial_status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DialerAmdDecided(DialerNotice):
    """Answering-machine detection decided (``amd_status`` HUMAN, MACHINE, NOTSURE, HANGUP)."""

    amd_status: str
    amd_cause: str

    @property
    def machine(self) -> bool:
        return self.amd_status == "MACHINE"


@dataclass(frozen=True, slots=True, kw_only=True)
class DialerMachineHungUp(DialerNotice):
    """A machine answered; the dialplan hung up (not a live answer)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DialerAbandoned(DialerNotice):
    """A person answered and got no agent within the connect limit: abandon message, hung up."""

    queue: str
    queue_status: str
    agent: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DialerConnected(DialerNotice):
    """The preview agent the call was dialled for answered it."""

    agent: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SpyBegan(Notice):
    """A phone started listening (whispering, barging) on a channel through ChanSpy.

    ``spyer`` is the Uniqueid of the listening phone's channel; ``agent`` the queue member whose
    channel is spied on, when the spied channel is one (else ``None``).
    """

    spyer: UniqueId
    spyer_channel: str
    spyee_channel: str
    spyee_linkedid: LinkedId
    agent: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SpyEnded(Notice):
    """A ChanSpy session ended: ChanSpyStop, the listening phone hung up, or the PBX lost it."""

    spyer: UniqueId
    spyer_channel: str
    agent: str | None
    since: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StateResynced(Notice):
    """The state was rebuilt from the PBX's own lists after a (re)login or an inconsistency."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkChanged(Notice):
    """cti's AMI link to a PBX went up or down."""

    status: LinkStatus


AnyNotice = (
    AgentRinging
    | AgentRingEnded
    | AgentConnected
    | AgentCallEnded
    | CallerJoined
    | CallerLeft
    | CallerAbandoned
    | MemberChanged
    | AgentStateChanged
    | CallStarted
    | CallEnded
    | OriginateFinished
    | DialerUnanswered
    | DialerAmdDecided
    | DialerMachineHungUp
    | DialerAbandoned
    | DialerConnected
    | SpyBegan
    | SpyEnded
    | StateResynced
    | LinkChanged
)
