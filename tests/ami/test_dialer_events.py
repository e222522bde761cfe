"""The dialer dialplan's UserEvents become typed events, then notices naming the attempt."""

from __future__ import annotations

from datetime import UTC, datetime

from cti.ami.frames import FrameParser
from cti.ami.translate import LOGIN_EVENT_CLASSES, TRANSLATED_EVENTS, translate
from cti.domain.events import DialerAmdFinished, DialerCallDropped
from cti.domain.notices import (
    DialerAbandoned,
    DialerAmdDecided,
    DialerConnected,
    DialerMachineHungUp,
    DialerNotice,
    DialerUnanswered,
)
from cti.domain.state import PbxState

AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

# As app_userevent sends it: the channel snapshot, then UserEvent, then the dialplan's headers.
_CHANNEL = (
    "Channel: Local/5551234@cti-dialer-00000004;1\r\n"
    "ChannelState: 6\r\nChannelStateDesc: Up\r\n"
    "CallerIDNum: 5550000\r\nCallerIDName: Spring\r\n"
    "ConnectedLineNum: 5550000\r\nConnectedLineName: Spring\r\n"
    "Language: en\r\nAccountCode: \r\n"
    "Context: cti-dialer\r\nExten: connect\r\nPriority: 7\r\n"
    "Uniqueid: 1767625200.12\r\nLinkedid: 1767625200.12\r\n"
)


def _frame(name: str, headers: str) -> bytes:
    return (
        f"Event: UserEvent\r\nPrivilege: user,all\r\n{_CHANNEL}UserEvent: {name}\r\n{headers}\r\n"
    ).encode()


FRAMES = [
    _frame("CtiDialerResult", "DialStatus: BUSY\r\nCampaign: 7\r\nLead: 41\r\nAttempt: 90\r\n"),
    _frame(
        "CtiDialerAmd",
        "AmdStatus: MACHINE\r\nAmdCause: LONGGREETING-1500-1500\r\n"
        "Campaign: 7\r\nLead: 41\r\nAttempt: 90\r\n",
    ),
    _frame("CtiDialerMachine", "Campaign: 7\r\nLead: 41\r\nAttempt: 90\r\n"),
    _frame(
        "CtiDialerAbandoned",
        "Queue: sales\r\nQueueStatus: TIMEOUT\r\nAgent: \r\nCampaign: 7\r\nLead: 41\r\nAttempt: 90\r\n",
    ),
    _frame(
        "CtiDialerConnected",
        "Agent: PJSIP/agent3\r\nCampaign: 7\r\nLead: 41\r\nAttempt: 90\r\n",
    ),
    _frame("CtiSpyRefused", "Reason: CTI_SPY_TARGET is not set\r\n"),
]


def test_cti_asks_for_user_events_at_login() -> None:
    assert "user" in LOGIN_EVENT_CLASSES.split(",")


def test_dialer_user_events_become_notices_for_their_attempt() -> None:
    parser = FrameParser(wanted_events=TRANSLATED_EVENTS)
    frames = parser.feed(b"".join(FRAMES))
    assert len(frames) == len(FRAMES), "UserEvents must survive the frame filter"
    events = [translate(f, AT) for f in frames]
    assert events[-1] is None, "someone else's UserEvent is ignored"
    amd = events[1]
    assert isinstance(amd, DialerAmdFinished) and amd.amd_status == "MACHINE"
    dropped = events[3]
    assert isinstance(dropped, DialerCallDropped)
    assert (dropped.queue, dropped.queue_status, dropped.agent) == ("sales", "TIMEOUT", "")

    state = PbxState("pbx1")
    notices = [n for e in events if e is not None for n in state.apply(e)]
    kinds = [type(n) for n in notices]
    assert kinds == [
        DialerUnanswered,
        DialerAmdDecided,
        DialerMachineHungUp,
        DialerAbandoned,
        DialerConnected,
    ]
    for n in notices:
        assert isinstance(n, DialerNotice)
        assert (n.campaign_id, n.lead_id, n.attempt_id) == (7, 41, 90)
        assert n.linkedid == "1767625200.12"
    decided = notices[1]
    assert isinstance(decided, DialerAmdDecided) and decided.machine
    unanswered = notices[0]
    assert isinstance(unanswered, DialerUnanswered) and unanswered.dial_status == "BUSY"
    connected = notices[4]
    assert isinstance(connected, DialerConnected) and connected.agent == "PJSIP/agent3"


def test_ids_that_are_not_numbers_are_none() -> None:
    frame = FrameParser().feed(
        _frame("CtiDialerMachine", "Campaign: \r\nLead: x\r\nAttempt: 3\r\n")
    )
    event = translate(frame[0], AT)
    assert event is not None
    (notice,) = PbxState("pbx1").apply(event)
    assert isinstance(notice, DialerMachineHungUp)
    assert (notice.campaign_id, notice.lead_id, notice.attempt_id) == (None, None, 3)
