"""An agent on a call no queue gave them (one dialled from the desk, a consultation, a call
transferred to them) is on a call, not in wrap-up: the live state says so from the bridge their
phone is in, fed with real captures of Asterisk 22 (``tests/captures``) and, for the consultation,
the events Asterisk's attended transfer sends (``tests/pbx/test_transfer.py`` shows its bridges).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cti.ami.frames import FrameParser
from cti.ami.translate import TRANSLATED_EVENTS, translate
from cti.domain.events import (
    BridgeEntered,
    BridgeId,
    ChannelCreated,
    ChannelHungUp,
    ChannelInfo,
    ChannelsListed,
    ChannelState,
    DeviceStatus,
    LinkedId,
    ListedChannel,
    MemberAdded,
    MemberInfo,
    MemberPauseChanged,
    PbxEvent,
    QueuesListed,
    UniqueId,
)
from cti.domain.notices import AgentCallEnded, AgentState, AgentStateChanged, CallKind
from cti.domain.state import PbxState, invariant_violations
from cti.domain.stats import WallboardFigures
from cti.domain.wrapup import WRAPUP_REASON

CAPTURES = Path(__file__).resolve().parents[1] / "captures"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def capture(name: str) -> list[PbxEvent]:
    parser = FrameParser(wanted_events=TRANSLATED_EVENTS)
    out = []
    for i, frame in enumerate(parser.feed((CAPTURES / f"{name}.ami").read_bytes())):
        ev = translate(frame, T0 + timedelta(milliseconds=100 * i))
        if ev is not None:
            out.append(ev)
    return out


def member(interface: str, *, paused: bool = False, reason: str = "") -> MemberInfo:
    return MemberInfo(
        queue="support",
        interface=interface,
        name=interface,
        status=DeviceStatus.NOT_IN_USE,
        paused=paused,
        paused_reason=reason,
    )


def states(notices: Iterable[object], interface: str) -> list[tuple[AgentState, CallKind | None]]:
    return [
        (n.state, n.call_kind)
        for n in notices
        if isinstance(n, AgentStateChanged) and n.interface == interface
    ]


def test_a_call_transferred_to_an_agent_is_a_call_from_its_bridge_to_its_end() -> None:
    # The real blind transfer: the caller is redirected to agent2, who answers; the carrier hangs
    # up. Agent2 is made a member of support first (in the capture only agent1 is).
    events = capture("blind_transfer")
    state = PbxState("pbx1", strict=True)
    seen: list[object] = list(state.apply(MemberAdded(at=T0, member=member("PJSIP/agent2"))))
    agent = state.agents["PJSIP/agent2"]
    talking_at = None
    for ev in events:
        seen += state.apply(ev)
        if talking_at is None and agent.state is AgentState.IN_CALL:
            talking_at = ev.at
            assert isinstance(ev, BridgeEntered)
            assert agent.call_kind is CallKind.DIRECT and agent.connected_at == ev.at
            assert agent.channel is not None
            assert state.channels[agent.channel].name.startswith("PJSIP/agent2-")
        assert invariant_violations(state) == []
    assert talking_at is not None
    assert states(seen, "PJSIP/agent2") == [
        (AgentState.READY, None),
        (AgentState.IN_CALL, CallKind.DIRECT),
        (AgentState.READY, None),
    ]
    assert agent.call is None and agent.call_kind is None
    assert state.anomalies == 0 and not state.resync_wanted


def test_paused_for_wrap_up_since_the_connect_the_agent_is_on_the_call_then_in_wrap_up() -> None:
    # The desk pauses the member for the wrap-up to come as the call connects: the wallboard's
    # wrap-up begins when the call ends, and counts none of the talk.
    events = capture("blind_transfer")
    state = PbxState("pbx1", strict=True)
    stats = WallboardFigures(service_level_seconds=20)
    for n in state.apply(MemberAdded(at=T0, member=member("PJSIP/agent2"))):
        stats.apply(n)
    agent = state.agents["PJSIP/agent2"]
    hung_up = None
    paused = False
    for ev in events:
        for n in state.apply(ev):
            stats.apply(n)
        if agent.state is AgentState.IN_CALL and not paused:
            paused = True
            hold = member("PJSIP/agent2", paused=True, reason=WRAPUP_REASON)
            for n in state.apply(MemberPauseChanged(at=ev.at, member=hold)):
                stats.apply(n)
            assert (agent.state, agent.reason) == (AgentState.IN_CALL, WRAPUP_REASON)
        if hung_up is None and agent.state is AgentState.WRAP_UP:
            hung_up = ev.at
            assert isinstance(ev, ChannelHungUp) and ev.chan.channel.startswith("PJSIP/agent2-")
            assert agent.since == ev.at
    assert paused and hung_up is not None
    done = hung_up + timedelta(seconds=7)
    for n in state.apply(MemberPauseChanged(at=done, member=member("PJSIP/agent2"))):
        stats.apply(n)
    assert agent.state is AgentState.READY
    day = stats.agent_day("pbx1", "PJSIP/agent2", done)
    assert (day.wrapups, day.wrapup_seconds) == (1, 7)


def test_a_call_dialled_from_the_desk_is_an_outbound_call() -> None:
    # The real agent-first preview (the desk's click-to-call places the same call, with no
    # campaign): agent1's phone is rung, answers, the customer answers, talks, hangs up.
    state = PbxState("pbx1", strict=True)
    seen: list[object] = []
    for ev in capture("dialer_preview"):
        seen += state.apply(ev)
        assert invariant_violations(state) == []
    changes = states(seen, "PJSIP/agent1")
    talk = changes.index((AgentState.IN_CALL, CallKind.OUTBOUND))
    assert changes[talk + 1] == (AgentState.READY, None)  # (then removed from its queue)
    assert state.anomalies == 0


# --- a consultation: Asterisk's attended transfer (AMI Atxfer) --------------------------------


def chan(uid: str, name: str, linkedid: str = "100.1") -> ChannelInfo:
    return ChannelInfo(
        uniqueid=UniqueId(uid), linkedid=LinkedId(linkedid), channel=name, state=ChannelState.UP
    )


CALLER = chan("100.1", "PJSIP/carrier-in-00000001")
ANA = chan("100.2", "PJSIP/agent1-00000002")
LOCAL_1 = chan("100.3", "Local/agent@cti-transfer-00000001;1")
LOCAL_2 = chan("100.4", "Local/agent@cti-transfer-00000001;2")
BRUNO = chan("100.5", "PJSIP/agent2-00000003")


def consulting(state: PbxState, at: datetime) -> list[object]:
    """Bruno (ready) answers the consultation: his phone is bridged with the transfer's Local."""
    out: list[object] = []
    for c in (CALLER, LOCAL_1, LOCAL_2, BRUNO):
        out += state.apply(ChannelCreated(at=at, chan=c))
    out += state.apply(BridgeEntered(at=at, bridge_id=BridgeId("b-caller"), chan=CALLER))
    out += state.apply(BridgeEntered(at=at, bridge_id=BridgeId("b-consult"), chan=LOCAL_2))
    out += state.apply(BridgeEntered(at=at, bridge_id=BridgeId("b-consult"), chan=BRUNO))
    return out


def test_a_consulted_agent_is_on_a_consultation_then_on_the_transferred_call() -> None:
    state = PbxState("pbx1", strict=True)
    state.apply(MemberAdded(at=T0, member=member("PJSIP/agent2")))
    bruno = state.agents["PJSIP/agent2"]
    at = T0 + timedelta(seconds=30)
    seen = consulting(state, at)
    assert states(seen, "PJSIP/agent2") == [(AgentState.IN_CALL, CallKind.CONSULT)]
    assert bruno.call == LinkedId("100.1") and bruno.channel == BRUNO.uniqueid
    assert bruno.connected_at == at  # his talk, not the caller's whole call
    # Completed: the Local pair goes, the caller is bridged with bruno.
    done = at + timedelta(seconds=20)
    for c in (LOCAL_1, LOCAL_2):
        state.apply(ChannelHungUp(at=done, chan=c, cause=16, cause_text="Normal Clearing"))
    state.apply(BridgeEntered(at=done, bridge_id=BridgeId("b-consult"), chan=CALLER))
    assert (bruno.state, bruno.call_kind) == (AgentState.IN_CALL, CallKind.DIRECT)
    assert bruno.connected_at == at
    later = done + timedelta(minutes=2)
    seen = state.apply(ChannelHungUp(at=later, chan=BRUNO, cause=16, cause_text="Normal Clearing"))
    assert states(seen, "PJSIP/agent2") == [(AgentState.READY, None)]
    assert invariant_violations(state) == []


def test_a_direct_call_in_wrap_up_is_a_call_and_the_wrap_up_goes_on_after_it() -> None:
    state = PbxState("pbx1", strict=True)
    hold = member("PJSIP/agent2", paused=True, reason=WRAPUP_REASON)
    state.apply(MemberAdded(at=T0, member=hold))
    bruno = state.agents["PJSIP/agent2"]
    assert bruno.state is AgentState.WRAP_UP
    at = T0 + timedelta(seconds=30)
    assert states(consulting(state, at), "PJSIP/agent2") == [(AgentState.IN_CALL, CallKind.CONSULT)]
    later = at + timedelta(seconds=40)
    seen = state.apply(ChannelHungUp(at=later, chan=BRUNO, cause=16, cause_text="Normal Clearing"))
    assert states(seen, "PJSIP/agent2") == [(AgentState.WRAP_UP, None)]
    assert bruno.since == later


def test_a_queue_call_whose_bridge_comes_first_is_the_queues_all_the_same() -> None:
    # Asterisk rings the agent (AgentCalled), connects (AgentConnect), then bridges. A stream
    # that lost the ring and showed the bridge first must still end with a queue call: its
    # caller, its queue and its AgentCallEnded.
    events = [ev for ev in capture("blind_transfer") if type(ev).__name__ != "AgentRung"]
    connect = next(i for i, ev in enumerate(events) if type(ev).__name__ == "AgentAnswered")
    # The caller's and the agent's BridgeEnter (the two after the connect), moved before it.
    enters = [i for i, ev in enumerate(events) if isinstance(ev, BridgeEntered) and i > connect][:2]
    names = [
        ev.chan.channel
        for i, ev in enumerate(events)
        if i in enters and isinstance(ev, BridgeEntered)
    ]
    assert any(name.startswith("PJSIP/agent1-") for name in names)
    rest = [ev for i, ev in enumerate(events[connect:], connect) if i not in enters]
    moved = [*events[:connect], *(events[i] for i in enters), *rest]
    connect += 1  # the agent is on a call once both are in
    state = PbxState("pbx1", strict=True)
    seen: list[object] = []
    for i, ev in enumerate(moved):
        seen += state.apply(ev)
        agent = state.agents.get("PJSIP/agent1")
        if i == connect:
            assert agent is not None
            assert (agent.state, agent.call_kind) == (AgentState.IN_CALL, CallKind.DIRECT)
        if i == connect + 1:
            assert agent is not None
            assert (agent.state, agent.call_kind) == (AgentState.IN_CALL, CallKind.QUEUE)
            assert agent.caller is not None and agent.call_queue == "support"
    ended = [n for n in seen if isinstance(n, AgentCallEnded)]
    assert [(n.interface, n.queue) for n in ended] == [("PJSIP/agent1", "support")]
    assert state.anomalies == 0


def test_a_resync_finds_an_agent_on_a_direct_call_paused_for_wrap_up_on_the_call() -> None:
    state = PbxState("pbx1", strict=True)
    at = T0 + timedelta(minutes=1)
    rows = tuple(
        ListedChannel(
            chan=c, bridge_id=BridgeId(bridge), application="Dial", application_data="", duration=12
        )
        for c, bridge in ((CALLER, "b1"), (BRUNO, "b1"))
    )
    state.apply(ChannelsListed(at=at, channels=rows))
    hold = member("PJSIP/agent2", paused=True, reason=WRAPUP_REASON)
    state.apply(QueuesListed(at=at, queues=(), members=(hold,), entries=()))
    bruno = state.agents["PJSIP/agent2"]
    assert (bruno.state, bruno.call_kind) == (AgentState.IN_CALL, CallKind.DIRECT)
    assert bruno.call == LinkedId("100.1") and bruno.connected_at == at - timedelta(seconds=12)
    assert invariant_violations(state) == []
