"""AMI message → typed domain event, at once on arrival.

:func:`translate` looks the event name up in a table; an event cti does not use costs one dict
lookup and yields ``None``. Missing headers become typed defaults here, so nothing downstream ever
sees panoramisk's ``''`` for a missing header or a raw AMI dictionary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from cti.domain.events import (
    CHANNEL_STATES,
    DEVICE_STATUSES,
    ActionId,
    AgentAnswered,
    AgentCompleted,
    AgentRingStopped,
    AgentRung,
    BridgeCreated,
    BridgeDestroyed,
    BridgeEntered,
    BridgeId,
    BridgeLeft,
    CallerIdChanged,
    ChannelCreated,
    ChannelHungUp,
    ChannelInfo,
    ChannelState,
    ChannelStateChanged,
    DeviceStatus,
    DialBegan,
    DialEnded,
    DialerAgentReached,
    DialerAmdFinished,
    DialerCallDropped,
    DialerLegEnded,
    DialerMachineFound,
    LinkedId,
    ListedChannel,
    ListedEntry,
    ListedQueue,
    ListedSummary,
    LocalPairBridged,
    MemberAdded,
    MemberInfo,
    MemberPauseChanged,
    MemberRemoved,
    MemberStatusChanged,
    OriginateResponded,
    PbxEvent,
    QueueCallerAbandoned,
    QueueCallerJoined,
    QueueCallerLeft,
    SpyStarted,
    SpyStopped,
    UniqueId,
)

Headers = Mapping[str, str]

# Event classes asked for at login (``Events:``): channel/bridge/dial events are ``call``,
# queue and agent events are ``agent``, the dialer dialplan's UserEvents are ``user``.
# ``dialplan`` (Newexten, VarSet: half the traffic) is not.
# system: FullyBooted (resync only once Asterisk's modules are loaded) and Shutdown.
LOGIN_EVENT_CLASSES = "system,call,agent,user"


def _int(value: str | None, default: int = 0) -> int:
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        try:
            return int(float(value))
        except ValueError:
            return default


def _float(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        return float(value)
    except ValueError:
        return 0.0


def _cid(value: str | None) -> str:
    return "" if value is None or value == "<unknown>" else value


def _state(value: str | None) -> ChannelState:
    n = _int(value, -1)
    return CHANNEL_STATES[n] if 0 <= n < len(CHANNEL_STATES) else ChannelState.UNKNOWN


def channel_info(h: Headers, p: str = "") -> ChannelInfo | None:
    """The channel snapshot under prefix ``p`` (``""``, ``Dest``, ``LocalOne``…), if present."""
    uid = h.get(p + "Uniqueid")
    if not uid or uid == "<unknown>":
        return None
    return ChannelInfo(
        uniqueid=UniqueId(uid),
        linkedid=LinkedId(h.get(p + "Linkedid") or uid),
        channel=h.get(p + "Channel", ""),
        state=_state(h.get(p + "ChannelState")),
        caller_num=_cid(h.get(p + "CallerIDNum")),
        caller_name=_cid(h.get(p + "CallerIDName")),
        connected_num=_cid(h.get(p + "ConnectedLineNum")),
        connected_name=_cid(h.get(p + "ConnectedLineName")),
        context=h.get(p + "Context", ""),
        exten=h.get(p + "Exten", ""),
    )


def member_info(h: Headers) -> MemberInfo:
    """A queue member row; ``QueueMember`` (list) rows name the interface ``Location``."""
    status = _int(h.get("Status"))
    return MemberInfo(
        queue=h.get("Queue", ""),
        interface=h.get("Interface") or h.get("Location", ""),
        name=h.get("MemberName") or h.get("Name", ""),
        state_interface=h.get("StateInterface", ""),
        membership=h.get("Membership", ""),
        penalty=_int(h.get("Penalty")),
        calls_taken=_int(h.get("CallsTaken")),
        last_call=_int(h.get("LastCall")),
        last_pause=_int(h.get("LastPause")),
        login_time=_int(h.get("LoginTime")),
        in_call=h.get("InCall") == "1",
        status=DEVICE_STATUSES[status]
        if 0 <= status < len(DEVICE_STATUSES)
        else DeviceStatus.UNKNOWN,
        paused=h.get("Paused") == "1",
        paused_reason=h.get("PausedReason", ""),
        wrapup_time=_int(h.get("Wrapuptime")),
    )


def _chan_event(cls: Callable[..., PbxEvent]) -> Callable[[Headers, datetime], PbxEvent | None]:
    def build(h: Headers, at: datetime) -> PbxEvent | None:
        chan = channel_info(h)
        return None if chan is None else cls(at=at, chan=chan)

    return build


def _hangup(h: Headers, at: datetime) -> PbxEvent | None:
    chan = channel_info(h)
    if chan is None:
        return None
    return ChannelHungUp(
        at=at, chan=chan, cause=_int(h.get("Cause")), cause_text=h.get("Cause-txt", "")
    )


def _local_bridge(h: Headers, at: datetime) -> PbxEvent | None:
    one, two = channel_info(h, "LocalOne"), channel_info(h, "LocalTwo")
    if one is None or two is None:
        return None
    return LocalPairBridged(at=at, one=one, two=two)


def _dial_begin(h: Headers, at: datetime) -> PbxEvent | None:
    dest = channel_info(h, "Dest")
    if dest is None:
        return None
    return DialBegan(at=at, caller=channel_info(h), dest=dest, dial_string=h.get("DialString", ""))


def _dial_end(h: Headers, at: datetime) -> PbxEvent | None:
    dest = channel_info(h, "Dest")
    if dest is None:
        return None
    return DialEnded(at=at, caller=channel_info(h), dest=dest, dial_status=h.get("DialStatus", ""))


def _bridge_create(h: Headers, at: datetime) -> PbxEvent | None:
    bid = h.get("BridgeUniqueid")
    if not bid:
        return None
    return BridgeCreated(at=at, bridge_id=BridgeId(bid), bridge_type=h.get("BridgeType", ""))


def _bridge_destroy(h: Headers, at: datetime) -> PbxEvent | None:
    bid = h.get("BridgeUniqueid")
    return None if not bid else BridgeDestroyed(at=at, bridge_id=BridgeId(bid))


def _bridge_enter(h: Headers, at: datetime) -> PbxEvent | None:
    bid, chan = h.get("BridgeUniqueid"), channel_info(h)
    if not bid or chan is None:
        return None
    return BridgeEntered(at=at, bridge_id=BridgeId(bid), chan=chan)


def _bridge_leave(h: Headers, at: datetime) -> PbxEvent | None:
    bid, chan = h.get("BridgeUniqueid"), channel_info(h)
    if not bid or chan is None:
        return None
    return BridgeLeft(at=at, bridge_id=BridgeId(bid), chan=chan)


def _caller(
    cls: type[QueueCallerJoined] | type[QueueCallerLeft],
) -> Callable[[Headers, datetime], PbxEvent | None]:
    """``QueueCallerJoin`` and ``QueueCallerLeave`` carry the same fields."""

    def make(h: Headers, at: datetime) -> PbxEvent | None:
        chan = channel_info(h)
        if chan is None or not h.get("Queue"):
            return None
        return cls(
            at=at,
            chan=chan,
            queue=h["Queue"],
            position=_int(h.get("Position")),
            count=_int(h.get("Count")),
        )

    return make


def _caller_abandon(h: Headers, at: datetime) -> PbxEvent | None:
    chan = channel_info(h)
    if chan is None or not h.get("Queue"):
        return None
    return QueueCallerAbandoned(
        at=at,
        chan=chan,
        queue=h["Queue"],
        position=_int(h.get("Position")),
        original_position=_int(h.get("OriginalPosition")),
        hold_time=_int(h.get("HoldTime")),
    )


def _agent_called(h: Headers, at: datetime) -> PbxEvent | None:
    caller = channel_info(h)
    if caller is None or not h.get("Interface"):
        return None
    return AgentRung(
        at=at,
        caller=caller,
        dest=channel_info(h, "Dest"),
        queue=h.get("Queue", ""),
        interface=h["Interface"],
        member_name=h.get("MemberName", ""),
    )


def _agent_ring_stopped(h: Headers, at: datetime) -> PbxEvent | None:
    caller = channel_info(h)
    if caller is None or not h.get("Interface"):
        return None
    return AgentRingStopped(
        at=at,
        caller=caller,
        queue=h.get("Queue", ""),
        interface=h["Interface"],
        member_name=h.get("MemberName", ""),
        ring_time=_int(h.get("RingTime")),
    )


def _agent_connect(h: Headers, at: datetime) -> PbxEvent | None:
    caller = channel_info(h)
    if caller is None or not h.get("Interface"):
        return None
    return AgentAnswered(
        at=at,
        caller=caller,
        dest=channel_info(h, "Dest"),
        queue=h.get("Queue", ""),
        interface=h["Interface"],
        member_name=h.get("MemberName", ""),
        hold_time=_int(h.get("HoldTime")),
        ring_time=_int(h.get("RingTime")),
    )


def _agent_complete(h: Headers, at: datetime) -> PbxEvent | None:
    caller = channel_info(h)
    if caller is None or not h.get("Interface"):
        return None
    return AgentCompleted(
        at=at,
        caller=caller,
        dest=channel_info(h, "Dest"),
        queue=h.get("Queue", ""),
        interface=h["Interface"],
        member_name=h.get("MemberName", ""),
        hold_time=_int(h.get("HoldTime")),
        talk_time=_int(h.get("TalkTime")),
        reason=h.get("Reason", ""),
    )


def _member(cls: Callable[..., PbxEvent]) -> Callable[[Headers, datetime], PbxEvent | None]:
    def build(h: Headers, at: datetime) -> PbxEvent | None:
        if not h.get("Queue") or not h.get("Interface"):
            return None
        return cls(at=at, member=member_info(h))

    return build


def _spy_start(h: Headers, at: datetime) -> PbxEvent | None:
    spyer, spyee = channel_info(h, "Spyer"), channel_info(h, "Spyee")
    if spyer is None or spyee is None:
        return None
    return SpyStarted(at=at, spyer=spyer, spyee=spyee)


def _spy_stop(h: Headers, at: datetime) -> PbxEvent | None:
    spyer = channel_info(h, "Spyer")
    if spyer is None:
        return None
    return SpyStopped(at=at, spyer=spyer, spyee=channel_info(h, "Spyee"))


def _originate_response(h: Headers, at: datetime) -> PbxEvent | None:
    aid = h.get("ActionID")
    if not aid:
        return None
    uid = h.get("Uniqueid", "")
    return OriginateResponded(
        at=at,
        action_id=ActionId(aid),
        success=h.get("Response") == "Success",
        reason=_int(h.get("Reason")),
        uniqueid=None if not uid or uid == "<unknown>" else UniqueId(uid),
        channel=h.get("Channel", ""),
        caller_num=_cid(h.get("CallerIDNum")),
        caller_name=_cid(h.get("CallerIDName")),
    )


def _dialer_ids(h: Headers) -> dict[str, str]:
    return {
        "campaign": h.get("Campaign", ""),
        "lead": h.get("Lead", ""),
        "attempt": h.get("Attempt", ""),
    }


def _dialer_result(h: Headers, at: datetime, chan: ChannelInfo) -> PbxEvent:
    return DialerLegEnded(at=at, chan=chan, dial_status=h.get("DialStatus", ""), **_dialer_ids(h))


def _dialer_amd(h: Headers, at: datetime, chan: ChannelInfo) -> PbxEvent:
    return DialerAmdFinished(
        at=at,
        chan=chan,
        amd_status=h.get("AmdStatus", "").upper(),
        amd_cause=h.get("AmdCause", ""),
        **_dialer_ids(h),
    )


def _dialer_machine(h: Headers, at: datetime, chan: ChannelInfo) -> PbxEvent:
    return DialerMachineFound(at=at, chan=chan, **_dialer_ids(h))


def _dialer_abandoned(h: Headers, at: datetime, chan: ChannelInfo) -> PbxEvent:
    return DialerCallDropped(
        at=at,
        chan=chan,
        queue=h.get("Queue", ""),
        queue_status=h.get("QueueStatus", ""),
        agent=h.get("Agent", ""),
        **_dialer_ids(h),
    )


def _dialer_connected(h: Headers, at: datetime, chan: ChannelInfo) -> PbxEvent:
    return DialerAgentReached(at=at, chan=chan, agent=h.get("Agent", ""), **_dialer_ids(h))


# The dialer dialplan's UserEvents (config/asterisk/extensions.conf [cti-dialer]), by name.
_USER_EVENTS: dict[str, Callable[[Headers, datetime, ChannelInfo], PbxEvent]] = {
    "CtiDialerResult": _dialer_result,
    "CtiDialerAmd": _dialer_amd,
    "CtiDialerMachine": _dialer_machine,
    "CtiDialerAbandoned": _dialer_abandoned,
    "CtiDialerConnected": _dialer_connected,
}


def _user_event(h: Headers, at: datetime) -> PbxEvent | None:
    """``UserEvent``: only the dialer's (on a channel); anyone else's is ignored."""
    build = _USER_EVENTS.get(h.get("UserEvent", ""))
    if build is None:
        return None
    chan = channel_info(h)
    return None if chan is None else build(h, at, chan)


_TABLE: dict[str, Callable[[Headers, datetime], PbxEvent | None]] = {
    "Newchannel": _chan_event(ChannelCreated),
    "Newstate": _chan_event(ChannelStateChanged),
    "NewCallerid": _chan_event(CallerIdChanged),
    "NewConnectedLine": _chan_event(CallerIdChanged),
    "Hangup": _hangup,
    "LocalBridge": _local_bridge,
    "DialBegin": _dial_begin,
    "DialEnd": _dial_end,
    "BridgeCreate": _bridge_create,
    "BridgeDestroy": _bridge_destroy,
    "BridgeEnter": _bridge_enter,
    "BridgeLeave": _bridge_leave,
    "QueueCallerJoin": _caller(QueueCallerJoined),
    "QueueCallerLeave": _caller(QueueCallerLeft),
    "QueueCallerAbandon": _caller_abandon,
    "AgentCalled": _agent_called,
    "AgentRingNoAnswer": _agent_ring_stopped,
    "AgentDump": _agent_ring_stopped,
    "AgentConnect": _agent_connect,
    "AgentComplete": _agent_complete,
    "QueueMemberAdded": _member(MemberAdded),
    "QueueMemberStatus": _member(MemberStatusChanged),
    "QueueMemberPause": _member(MemberPauseChanged),
    "QueueMemberRemoved": _member(MemberRemoved),
    "OriginateResponse": _originate_response,
    "ChanSpyStart": _spy_start,
    "ChanSpyStop": _spy_stop,
    "UserEvent": _user_event,
}

#: The event names :func:`translate` understands; the frame parser drops every other event unread.
TRANSLATED_EVENTS: frozenset[str] = frozenset(_TABLE)

#: Rows of the resync lists (they carry the ActionID of our request).
LIST_EVENTS: frozenset[str] = frozenset(
    {
        "CoreShowChannel",
        "CoreShowChannelsComplete",
        "QueueParams",
        "QueueMember",
        "QueueEntry",
        "QueueStatusComplete",
        "QueueSummary",
        "QueueSummaryComplete",
    }
)


def translate(h: Headers, at: datetime) -> PbxEvent | None:
    """The typed event for one AMI event message, or ``None`` if cti does not use it."""
    build = _TABLE.get(h.get("Event", ""))
    return None if build is None else build(h, at)


# --- resync list rows --------------------------------------------------------------------------


def _duration(value: str | None) -> int:
    if not value:
        return 0
    if ":" in value:
        total = 0
        for part in value.split(":"):
            total = total * 60 + _int(part)
        return total
    return _int(value)


def listed_channel(h: Headers) -> ListedChannel | None:
    """A ``CoreShowChannel`` row (``ChanVariable`` headers are read when ``channelvars`` is set)."""
    chan = channel_info(h)
    if chan is None:
        return None
    variables: list[tuple[str, str]] = []
    raw = h.get("ChanVariable")
    if raw:
        for item in raw.split("\n"):
            name, _, value = item.partition("=")
            variables.append((name, value))
    bid = h.get("BridgeId", "")
    return ListedChannel(
        chan=chan,
        bridge_id=BridgeId(bid) if bid else None,
        application=h.get("Application", ""),
        application_data=h.get("ApplicationData", ""),
        duration=_duration(h.get("Duration")),
        variables=tuple(variables),
    )


def listed_queue(h: Headers) -> ListedQueue:
    """A ``QueueParams`` row."""
    return ListedQueue(
        queue=h.get("Queue", ""),
        strategy=h.get("Strategy", ""),
        calls=_int(h.get("Calls")),
        hold_time=_int(h.get("Holdtime")),
        talk_time=_int(h.get("TalkTime")),
        completed=_int(h.get("Completed")),
        abandoned=_int(h.get("Abandoned")),
        service_level=_int(h.get("ServiceLevel")),
        service_level_perf=_float(h.get("ServicelevelPerf")),
        weight=_int(h.get("Weight")),
        max=_int(h.get("Max")),
    )


def listed_entry(h: Headers) -> ListedEntry | None:
    """A ``QueueEntry`` row."""
    uid = h.get("Uniqueid")
    if not uid or not h.get("Queue"):
        return None
    linked = h.get("Linkedid")
    return ListedEntry(
        queue=h["Queue"],
        position=_int(h.get("Position")),
        channel=h.get("Channel", ""),
        uniqueid=UniqueId(uid),
        linkedid=LinkedId(linked) if linked else None,
        caller_num=_cid(h.get("CallerIDNum")),
        caller_name=_cid(h.get("CallerIDName")),
        wait=_int(h.get("Wait")),
    )


def listed_summary(h: Headers) -> ListedSummary:
    """A ``QueueSummary`` row."""
    return ListedSummary(
        queue=h.get("Queue", ""),
        logged_in=_int(h.get("LoggedIn")),
        available=_int(h.get("Available")),
        callers=_int(h.get("Callers")),
        hold_time=_int(h.get("HoldTime")),
        talk_time=_int(h.get("TalkTime")),
        longest_hold_time=_int(h.get("LongestHoldTime")),
    )


def rows_of(frames: Iterable[Headers], event: str) -> list[Headers]:
    """The rows named ``event`` among a list answer's frames."""
    return [f for f in frames if f.get("Event") == event]
