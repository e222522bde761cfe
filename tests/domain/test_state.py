"""The reducer fed with the real captures: in order, and mangled by Hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cti.ami.frames import FrameParser
from cti.ami.translate import TRANSLATED_EVENTS, translate
from cti.domain.events import (
    ChannelHungUp,
    DeviceStatus,
    MemberInfo,
    MemberStatusChanged,
    PbxEvent,
)
from cti.domain.notices import AgentState, AgentStateChanged
from cti.domain.state import (
    AGENT_TRANSITIONS,
    AgentTrigger,
    PbxState,
    invariant_violations,
    was_hung_up,
)

TRANSCRIPTS = Path(__file__).resolve().parents[3] / "shared" / "ami-transcripts"
CAPTURES = sorted(p.stem for p in TRANSCRIPTS.glob("*.ami"))
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def events_of(name: str) -> list[PbxEvent]:
    parser = FrameParser(wanted_events=TRANSLATED_EVENTS)
    out = []
    for i, frame in enumerate(parser.feed((TRANSCRIPTS / f"{name}.ami").read_bytes())):
        ev = translate(frame, T0 + timedelta(milliseconds=100 * i))
        if ev is not None:
            out.append(ev)
    return out


STREAMS = {name: events_of(name) for name in CAPTURES}
CALL_STREAMS = [n for n in CAPTURES if STREAMS[n]]


def check(state: PbxState, applied: list[PbxEvent]) -> None:
    assert invariant_violations(state) == []
    # every channel whose Hangup we applied is gone and stays gone
    for ev in applied:
        if isinstance(ev, ChannelHungUp):
            assert ev.chan.uniqueid not in state.channels
            assert was_hung_up(state, ev.chan.uniqueid)
    for agent in state.agents.values():
        if agent.state is AgentState.IN_CALL and agent.call is not None:
            assert sum(1 for a in state.agents.values() if a.call == agent.call) == 1
    for q in state.queues.values():
        assert len(q.waiting) >= 0 and q.abandoned >= 0 and q.completed >= 0


@pytest.mark.parametrize("name", CAPTURES)
def test_each_capture_in_order_is_consistent_and_ends_clean(name: str) -> None:
    state = PbxState("pbx1")
    for ev in STREAMS[name]:
        state.apply(ev)
        assert invariant_violations(state) == []
    assert state.anomalies == 0 and not state.resync_wanted
    for q in state.queues.values():
        assert not q.waiting


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_order_duplication_or_truncation_keeps_the_invariants(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(CALL_STREAMS))
    stream = STREAMS[name]
    picks = data.draw(st.lists(st.integers(0, len(stream) - 1), max_size=3 * len(stream)))
    state = PbxState("pbx1")
    applied: list[PbxEvent] = []
    for i in picks:
        state.apply(stream[i])
        applied.append(stream[i])
        check(state, applied)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_interleaved_captures_with_drops_and_repeats(data: st.DataObject) -> None:
    a, b = data.draw(st.lists(st.sampled_from(CALL_STREAMS), min_size=2, max_size=2))
    streams = [list(STREAMS[a]), list(STREAMS[b])]
    state = PbxState("pbx1")
    applied: list[PbxEvent] = []
    pos = [0, 0]
    while pos[0] < len(streams[0]) or pos[1] < len(streams[1]):
        which = data.draw(st.integers(0, 1))
        if pos[which] >= len(streams[which]):
            which = 1 - which
        ev = streams[which][pos[which]]
        action = data.draw(st.sampled_from(["apply", "apply", "apply", "drop", "repeat"]))
        if action != "drop":
            for _ in range(2 if action == "repeat" else 1):
                state.apply(ev)
                applied.append(ev)
        pos[which] += 1
        check(state, applied)


def test_every_agent_state_has_a_way_out_and_rest_targets_resolve() -> None:
    reachable = {s for (s, _), _ in AGENT_TRANSITIONS.items()}
    assert reachable == set(AgentState)
    for state in AgentState:
        assert (state, AgentTrigger.LOGGED_OUT) in AGENT_TRANSITIONS


def test_impossible_transition_leaves_state_and_asks_for_resync() -> None:
    state = PbxState("pbx1")
    for ev in STREAMS["inbound_queue_call"]:
        state.apply(ev)
        if type(ev).__name__ == "AgentAnswered":
            break
    agent = state.agents["Local/100@sim-agent/n"]
    assert agent.state is AgentState.IN_CALL
    rung = next(e for e in STREAMS["resync_busy_queue"] if type(e).__name__ == "AgentRung")
    notices = state.apply(rung)  # rung for another caller while in a call: cannot be
    assert agent.state is AgentState.IN_CALL
    assert not [n for n in notices if isinstance(n, AgentStateChanged)]
    assert state.resync_wanted and state.anomalies == 1


def test_unavailable_device_takes_the_agent_offline_with_since() -> None:
    state = PbxState("pbx1")
    info = MemberInfo(
        queue="sales", interface="PJSIP/agent1", name="Ana", status=DeviceStatus.NOT_IN_USE
    )
    state.apply(MemberStatusChanged(at=T0, member=info))
    assert state.agents["PJSIP/agent1"].state is AgentState.READY
    later = T0 + timedelta(seconds=30)
    gone = MemberInfo(
        queue="sales", interface="PJSIP/agent1", name="Ana", status=DeviceStatus.UNAVAILABLE
    )
    (changed,) = [
        n
        for n in state.apply(MemberStatusChanged(at=later, member=gone))
        if isinstance(n, AgentStateChanged)
    ]
    assert (changed.state, changed.previous, changed.since) == (
        AgentState.OFFLINE,
        AgentState.READY,
        later,
    )


def test_wrap_up_ends_on_tick() -> None:
    state = PbxState("pbx1")
    iface = "Local/100@sim-agent/n"
    for ev in STREAMS["inbound_queue_call"]:
        state.apply(ev)
        member = state.queues["support"].members.get(iface) if "support" in state.queues else None
        if member is not None:
            member.wrapup_time = 5  # as if the queue had wrapuptime=5
        if type(ev).__name__ == "AgentCompleted":
            break
    agent = state.agents[iface]
    assert agent.state is AgentState.WRAP_UP
    assert state.tick(agent.since + timedelta(seconds=4)) == []
    (changed,) = state.tick(agent.since + timedelta(seconds=5))
    assert isinstance(changed, AgentStateChanged) and changed.state is AgentState.READY
