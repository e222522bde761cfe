"""The reducer fed with the real captures: in order, and mangled by Hypothesis."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cti.ami.frames import FrameParser
from cti.ami.translate import TRANSLATED_EVENTS, translate
from cti.domain.events import (
    ChannelHungUp,
    ChannelInfo,
    DeviceStatus,
    LinkedId,
    MemberAdded,
    MemberInfo,
    MemberPauseChanged,
    MemberStatusChanged,
    PbxEvent,
    UniqueId,
)
from cti.domain.live.entities import Channel
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
    state = PbxState("pbx1", strict=True)
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
    state = PbxState("pbx1", strict=True)
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
    state = PbxState("pbx1", strict=True)
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
    state = PbxState("pbx1", strict=True)
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
    state = PbxState("pbx1", strict=True)
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
    state = PbxState("pbx1", strict=True)
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


def _member(status: DeviceStatus, *, queue: str = "sales", paused: bool = False) -> MemberInfo:
    return MemberInfo(
        queue=queue,
        interface="PJSIP/agent1",
        name="Ana",
        status=status,
        paused=paused,
        paused_reason="lunch" if paused else "",
    )


def _changes(notices: list[object]) -> list[tuple[AgentState, bool]]:
    return [(n.state, n.unavailable) for n in notices if isinstance(n, AgentStateChanged)]


def test_a_phone_added_while_unregistered_is_offline_until_it_registers() -> None:
    # What a real Asterisk sends for a QueueAdd of a phone that is not registered: Status 5.
    state = PbxState("pbx1", strict=True)
    added = state.apply(MemberAdded(at=T0, member=_member(DeviceStatus.UNAVAILABLE)))
    agent = state.agents["PJSIP/agent1"]
    assert agent.state is AgentState.OFFLINE and agent.unavailable
    assert _changes(added) == [(AgentState.OFFLINE, True)]  # the desk hears why
    second = state.apply(
        MemberAdded(at=T0, member=_member(DeviceStatus.UNAVAILABLE, queue="support"))
    )
    assert agent.state is AgentState.OFFLINE and _changes(second) == []
    back = T0 + timedelta(seconds=5)
    registered = state.apply(MemberStatusChanged(at=back, member=_member(DeviceStatus.NOT_IN_USE)))
    # Asterisk reports the device once per queue; the first report brings the agent back.
    assert _changes(registered) == [(AgentState.READY, False)] and agent.since == back
    both = state.apply(
        MemberStatusChanged(at=back, member=_member(DeviceStatus.NOT_IN_USE, queue="support"))
    )
    assert agent.state is AgentState.READY and _changes(both) == []


def test_a_paused_agent_whose_phone_drops_is_offline_and_comes_back_paused() -> None:
    state = PbxState("pbx1", strict=True)
    state.apply(MemberAdded(at=T0, member=_member(DeviceStatus.NOT_IN_USE, paused=True)))
    agent = state.agents["PJSIP/agent1"]
    assert agent.state is AgentState.PAUSED
    state.apply(MemberStatusChanged(at=T0, member=_member(DeviceStatus.UNAVAILABLE, paused=True)))
    assert agent.state is AgentState.OFFLINE
    state.apply(MemberStatusChanged(at=T0, member=_member(DeviceStatus.NOT_IN_USE, paused=True)))
    assert (agent.state, agent.reason) == (AgentState.PAUSED, "lunch")


def test_a_pause_counts_from_its_start_through_a_dropped_phone_and_a_new_reason() -> None:
    state = PbxState("pbx1", strict=True)
    state.apply(MemberAdded(at=T0, member=_member(DeviceStatus.NOT_IN_USE, paused=True)))
    agent = state.agents["PJSIP/agent1"]
    dropped = T0 + timedelta(minutes=20)
    state.apply(
        MemberStatusChanged(at=dropped, member=_member(DeviceStatus.UNAVAILABLE, paused=True))
    )
    assert (agent.state, agent.since) == (AgentState.OFFLINE, dropped)
    # Her phone is back: the same lunch, timed from its start, not from the phone's return.
    back = dropped + timedelta(minutes=25)
    returned = state.apply(
        MemberStatusChanged(at=back, member=_member(DeviceStatus.NOT_IN_USE, paused=True))
    )
    assert [(n.state, n.reason, n.since) for n in _states(returned)] == [
        (AgentState.PAUSED, "lunch", T0)
    ]
    # Another reason is another pause: its time starts then.
    other = back + timedelta(minutes=1)
    member = replace(_member(DeviceStatus.NOT_IN_USE, paused=True), paused_reason="break")
    changed = state.apply(MemberPauseChanged(at=other, member=member))
    assert [(n.state, n.reason, n.since) for n in _states(changed)] == [
        (AgentState.PAUSED, "break", other)
    ]


def test_a_pause_cti_learns_of_at_a_resync_counts_from_when_the_pbx_paused_the_member() -> None:
    from cti.domain.events import ChannelsListed, ListedQueue, QueuesListed

    at = T0 + timedelta(minutes=30)
    began = T0 + timedelta(minutes=3)
    ahead = at + timedelta(seconds=40)  # a PBX clock ahead of cti's
    for last_pause, since in ((began, began), (None, at), (ahead, at)):
        state = PbxState("pbx1", strict=True)
        member = replace(
            _member(DeviceStatus.NOT_IN_USE, paused=True),
            last_pause=0 if last_pause is None else int(last_pause.timestamp()),
        )
        state.apply(ChannelsListed(at=at, channels=()))
        listed = state.apply(
            QueuesListed(at=at, queues=(ListedQueue(queue="sales"),), members=(member,), entries=())
        )
        assert [(n.state, n.reason, n.since) for n in _states(listed)] == [
            (AgentState.PAUSED, "lunch", since)
        ]


def test_a_pause_through_a_pbx_restart_goes_on_from_its_start_when_put_back_paused() -> None:
    from cti.domain.events import ChannelsListed, ListedQueue, QueuesListed

    state = PbxState("pbx1", strict=True)
    state.apply(MemberAdded(at=T0, member=_member(DeviceStatus.NOT_IN_USE, paused=True)))
    agent = state.agents["PJSIP/agent1"]
    # The PBX restarts: at the resync it knows no member; cti puts hers back, paused for lunch.
    restarted = T0 + timedelta(minutes=10)
    state.apply(ChannelsListed(at=restarted, channels=()))
    gone = state.apply(
        QueuesListed(at=restarted, queues=(ListedQueue(queue="sales"),), members=(), entries=())
    )
    assert [n.state for n in _states(gone)] == [AgentState.OFFLINE]
    back = restarted + timedelta(seconds=20)
    put_back = state.apply(
        MemberAdded(at=back, member=_member(DeviceStatus.NOT_IN_USE, paused=True))
    )
    assert [(n.state, n.reason, n.since) for n in _states(put_back)] == [
        (AgentState.PAUSED, "lunch", T0)
    ]
    # Put back ready, the pause is over; paused again later, a new one begins.
    state.apply(ChannelsListed(at=back, channels=()))
    state.apply(QueuesListed(at=back, queues=(ListedQueue(queue="sales"),), members=(), entries=()))
    later = back + timedelta(minutes=1)
    state.apply(MemberAdded(at=later, member=_member(DeviceStatus.NOT_IN_USE)))
    assert (agent.state, agent.pause) == (AgentState.READY, None)
    again = later + timedelta(minutes=1)
    paused = state.apply(
        MemberPauseChanged(at=again, member=_member(DeviceStatus.NOT_IN_USE, paused=True))
    )
    assert [(n.state, n.since) for n in _states(paused)] == [(AgentState.PAUSED, again)]


def _states(notices: list[object]) -> list[AgentStateChanged]:
    return [n for n in notices if isinstance(n, AgentStateChanged)]


def test_a_phone_lost_mid_call_leaves_the_agent_offline_when_the_call_ends() -> None:
    state = PbxState("pbx1", strict=True)
    iface = "Local/100@sim-agent/n"
    for ev in STREAMS["inbound_queue_call"]:
        state.apply(ev)
        if type(ev).__name__ == "AgentAnswered":
            break
    agent = state.agents[iface]
    assert agent.state is AgentState.IN_CALL
    lost = MemberInfo(queue="support", interface=iface, name="x", status=DeviceStatus.UNAVAILABLE)
    state.apply(MemberStatusChanged(at=T0, member=lost))
    assert agent.state is AgentState.IN_CALL and not state.resync_wanted
    for ev in STREAMS["inbound_queue_call"]:
        if type(ev).__name__ == "AgentCompleted":
            state.apply(ev)
    assert agent.state is AgentState.OFFLINE


def test_only_a_ready_agent_with_a_reachable_phone_may_dial() -> None:
    from cti.domain.readiness import why_cannot_dial

    state = PbxState("pbx1", strict=True)
    assert why_cannot_dial(None) is not None
    state.apply(MemberAdded(at=T0, member=_member(DeviceStatus.UNAVAILABLE)))
    agent = state.agents["PJSIP/agent1"]
    assert "not registered" in (why_cannot_dial(agent) or "")
    state.apply(MemberStatusChanged(at=T0, member=_member(DeviceStatus.NOT_IN_USE)))
    assert why_cannot_dial(agent) is None
    state.apply(MemberPauseChanged(at=T0, member=_member(DeviceStatus.NOT_IN_USE, paused=True)))
    assert "paused" in (why_cannot_dial(agent) or "")


def _info(ch: Channel) -> ChannelInfo:
    """What an AMI event (or a channel list) says of a channel cti already holds."""
    return ChannelInfo(
        uniqueid=ch.uniqueid,
        linkedid=ch.linkedid,
        channel=ch.name,
        state=ch.state,
        caller_num=ch.caller_num,
        caller_name=ch.caller_name,
    )


def _connected_state() -> PbxState:
    """The agent talking to the caller, both in a bridge."""
    state = PbxState("pbx1", strict=True)
    answered = False
    for ev in STREAMS["inbound_queue_call"]:
        state.apply(ev)
        answered = answered or type(ev).__name__ == "AgentAnswered"
        if answered and state.bridges and all(b.channels for b in state.bridges.values()):
            break
    assert invariant_violations(state) == [] and state.bridges
    return state


def _forge_two_calls(state: PbxState) -> None:
    call = next(c for c in state.calls.values() if c.agent)
    other = copy.copy(call)
    other.linkedid, other.channels = LinkedId("999.5"), set()
    state.calls[other.linkedid] = other


def _forge_missing_channel(state: PbxState) -> None:
    next(iter(state.calls.values())).channels.add(UniqueId("999.1"))


def _forge_foreign_channel(state: PbxState) -> None:
    ch = next(iter(state.channels.values()))
    ch.linkedid = LinkedId("999.2")


def _forge_empty_call(state: PbxState) -> None:
    call = next(iter(state.calls.values()))
    for uid in call.channels:
        state.channels.pop(uid, None)
    call.channels.clear()


def _forge_agent_in_ended_call(state: PbxState) -> None:
    next(a for a in state.agents.values() if a.call).call = LinkedId("999.3")


def _forge_in_call_without_call(state: PbxState) -> None:
    next(a for a in state.agents.values() if a.call).call = None


def _forge_ready_unreachable(state: PbxState) -> None:
    agent = next(iter(state.agents.values()))
    agent.state, agent.unavailable = AgentState.READY, True


def _forge_hung_up_present(state: PbxState) -> None:
    state._gone[next(iter(state.channels))] = None


def _forge_bridge_missing_channel(state: PbxState) -> None:
    next(iter(state.bridges.values())).channels.add(UniqueId("999.4"))


def _forge_negative_counter(state: PbxState) -> None:
    next(iter(state.queues.values())).abandoned = -1


def _forge_unindexed_channel(state: PbxState) -> None:
    agent = next(a for a in state.agents.values() if a.channel is not None)
    object.__setattr__(agent, "channel", UniqueId("999.5"))  # past the agent index


FORGERIES = {
    "not indexed by its channel": _forge_unindexed_channel,
    "indexed by a stale channel": _forge_unindexed_channel,
    "in two calls": _forge_two_calls,
    "holds missing channel": _forge_missing_channel,
    "but linked to": _forge_foreign_channel,
    "has no channel": _forge_empty_call,
    "in ended call": _forge_agent_in_ended_call,
    "with a channel but no call": _forge_in_call_without_call,
    "with an unreachable phone": _forge_ready_unreachable,
    "hung-up channel": _forge_hung_up_present,
    "bridge": _forge_bridge_missing_channel,
    "negative counters": _forge_negative_counter,
}


@pytest.mark.parametrize("problem", sorted(FORGERIES))
def test_each_invariant_catches_a_forged_bad_state(problem: str) -> None:
    state = _connected_state()
    FORGERIES[problem](state)
    assert any(problem in found for found in invariant_violations(state)), problem


def test_a_reducer_bug_raises_in_strict_mode_and_asks_for_a_resync_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cti.domain import state as module

    def broken(self: PbxState, ev: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setitem(module._HANDLERS, ChannelHungUp, broken)
    hangup = next(e for e in STREAMS["inbound_queue_call"] if isinstance(e, ChannelHungUp))
    with pytest.raises(RuntimeError):
        PbxState("pbx1", strict=True).apply(hangup)
    lenient = PbxState("pbx1")
    assert lenient.apply(hangup) == [] and lenient.resync_wanted


def test_a_refused_ring_changes_nothing() -> None:
    state = _connected_state()
    rung = next(e for e in STREAMS["resync_busy_queue"] if type(e).__name__ == "AgentRung")
    before = (set(state.channels), set(state.calls), set(state.agents))
    stranger = replace(rung, interface="PJSIP/nobody")  # offline: cannot be rung
    state.apply(stranger)
    assert (set(state.channels), set(state.calls), set(state.agents)) == before
    assert state.resync_wanted


def test_a_call_the_pbx_lost_ends_as_lost_whichever_channel_the_resync_drops_first() -> None:
    from cti.domain.events import ChannelsListed
    from cti.domain.notices import AgentCallEnded

    for order in (1, -1):
        state = _connected_state()
        agent = next(a for a in state.agents.values() if a.call)
        # The resync drops gone channels in the order it meets them: the agent's leg first here.
        state.channels = dict(
            sorted(state.channels.items(), key=lambda kv: (kv[0] != agent.channel) * order)
        )
        notices = state.apply(ChannelsListed(at=T0 + timedelta(minutes=5), channels=()))
        (ended,) = [n for n in notices if isinstance(n, AgentCallEnded)]
        assert ended.reason == "lost"


def test_an_agent_whose_leg_hung_up_is_no_longer_the_agent_of_that_call() -> None:
    # A blind transfer: the agent's own leg ends, the caller goes on elsewhere. The agent takes
    # the next call; the first one must not still count them (an agent is never in two calls).
    state = _connected_state()
    agent = next(a for a in state.agents.values() if a.call)
    first = agent.call
    assert agent.channel is not None
    leg = state.channels[agent.channel]
    state.apply(ChannelHungUp(at=T0, chan=_info(leg), cause=16, cause_text="Normal Clearing"))
    assert agent.state is not AgentState.IN_CALL
    if first in state.calls:
        assert state.calls[first].agent is None
    for ev in STREAMS["resync_busy_queue"]:
        state.apply(ev)
        if type(ev).__name__ == "AgentAnswered":
            break
    assert invariant_violations(state) == []


def test_a_call_found_by_a_resync_ends_for_its_agent_whichever_event_comes_first() -> None:
    """cti started (or reconnected) while an agent was on a queue call: the resync finds the call.
    When it ends, the agent's call must end for their desk, whether Asterisk's AgentComplete or
    the channels' hang-ups come first (on a real PBX the hang-ups can: then the AgentComplete
    comes to an agent no longer in the call, and only the hang-up can end it)."""
    from cti.domain.events import (
        ChannelsListed,
        ListedChannel,
        ListedQueue,
        ListedSummary,
        QueuesListed,
        SummariesListed,
    )
    from cti.domain.notices import AgentCallEnded

    before = _connected_state()
    busy = next(a for a in before.agents.values() if a.call)
    member = MemberInfo(
        queue="support",
        interface=busy.interface,
        name=busy.name,
        in_call=True,
        status=DeviceStatus.IN_USE,
    )
    listed = tuple(
        ListedChannel(
            chan=_info(ch),
            bridge_id=ch.bridge_id,
            application="",
            application_data="",
            duration=30,
        )
        for ch in before.channels.values()
    )
    at = T0 + timedelta(minutes=1)
    completed = next(
        e for e in STREAMS["inbound_queue_call"] if type(e).__name__ == "AgentCompleted"
    )
    for hangups_first in (True, False):
        state = PbxState("pbx1", strict=True)
        state.apply(ChannelsListed(at=at, channels=listed))
        state.apply(
            QueuesListed(
                at=at, queues=(ListedQueue(queue="support"),), members=(member,), entries=()
            )
        )
        state.apply(
            SummariesListed(
                at=at,
                summaries=(
                    ListedSummary(
                        queue="support",
                        logged_in=1,
                        available=0,
                        callers=0,
                        hold_time=0,
                        talk_time=0,
                        longest_hold_time=0,
                    ),
                ),
            )
        )
        agent = state.agents[busy.interface]
        assert agent.state is AgentState.IN_CALL and agent.call == busy.call
        hangups = [
            ChannelHungUp(
                at=at + timedelta(seconds=5),
                chan=_info(ch),
                cause=16,
                cause_text="Normal Clearing",
            )
            for ch in list(state.channels.values())
        ]
        order = [*hangups, completed] if hangups_first else [completed, *hangups]
        notices = [n for ev in order for n in state.apply(ev)]
        ended = [n for n in notices if isinstance(n, AgentCallEnded)]
        assert len(ended) == 1, (hangups_first, notices)
        assert ended[0].interface == busy.interface and ended[0].linkedid == busy.call
        assert agent.state is not AgentState.IN_CALL
