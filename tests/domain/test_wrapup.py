"""After-call work: the reducer shows a member paused for wrap-up as its own state, and the
rules say when an agent may leave it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cti.domain.events import DeviceStatus, MemberAdded, MemberInfo, MemberPauseChanged
from cti.domain.model import AttentionStatus
from cti.domain.notices import AgentState, AgentStateChanged
from cti.domain.readiness import about_to_be_free, why_cannot_dial
from cti.domain.state import PbxState
from cti.domain.wrapup import (
    WRAPUP_REASON,
    WrapupNeeds,
    WrapupRule,
    deadline,
    overrun,
    resume_pause,
    seconds_between,
    why_not_disposed,
)
from tests.domain.test_state import STREAMS

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
IFACE = "Local/100@sim-agent/n"


def _member(*, paused: bool, reason: str = "", queue: str = "support") -> MemberInfo:
    return MemberInfo(
        queue=queue,
        interface=IFACE,
        name="Ana",
        status=DeviceStatus.NOT_IN_USE,
        paused=paused,
        paused_reason=reason,
    )


def _after_call(*, paused_before: str = "") -> PbxState:
    """A queue call answered by the agent and completed (a capture of a real Asterisk)."""
    state = PbxState("pbx1", strict=True)
    for ev in STREAMS["inbound_queue_call"]:
        state.apply(ev)
        if type(ev).__name__ == "AgentAnswered" and paused_before:
            state.apply(
                MemberPauseChanged(at=ev.at, member=_member(paused=True, reason=paused_before))
            )
        if type(ev).__name__ == "AgentCompleted":
            break
    return state


def _states(notices: list[object]) -> list[tuple[AgentState, str]]:
    return [(n.state, n.reason) for n in notices if isinstance(n, AgentStateChanged)]


def test_a_member_paused_for_wrap_up_is_in_wrap_up_not_paused_and_not_ready() -> None:
    state = _after_call()
    agent = state.agents[IFACE]
    assert agent.state is AgentState.READY
    at = agent.since + timedelta(seconds=1)
    moved = state.apply(
        MemberPauseChanged(at=at, member=_member(paused=True, reason=WRAPUP_REASON))
    )
    assert _states(moved) == [(AgentState.WRAP_UP, WRAPUP_REASON)]
    assert agent.since == at and not state.resync_wanted
    assert about_to_be_free(agent)
    assert "after-call work" in (why_cannot_dial(agent) or "")
    # The ticker never ends cti's wrap-up: only the agent's disposition (an unpause) does.
    assert state.tick(at + timedelta(hours=1)) == []
    done = state.apply(MemberPauseChanged(at=at, member=_member(paused=False)))
    assert _states(done) == [(AgentState.READY, "")]
    assert not about_to_be_free(agent)


def test_an_agent_paused_before_the_call_goes_back_to_that_pause_after_wrap_up() -> None:
    state = _after_call(paused_before="lunch")
    agent = state.agents[IFACE]
    assert (agent.state, agent.reason) == (AgentState.PAUSED, "lunch")
    wrap = state.apply(MemberPauseChanged(at=T0, member=_member(paused=True, reason=WRAPUP_REASON)))
    assert _states(wrap) == [(AgentState.WRAP_UP, WRAPUP_REASON)]
    back = state.apply(MemberPauseChanged(at=T0, member=_member(paused=True, reason="lunch")))
    assert _states(back) == [(AgentState.PAUSED, "lunch")]
    assert resume_pause("lunch") == "lunch" and resume_pause(WRAPUP_REASON) is None
    assert resume_pause(None) is None


def test_a_resync_finds_an_agent_in_wrap_up_by_its_pause_reason() -> None:
    state = PbxState("pbx1", strict=True)
    state.apply(MemberAdded(at=T0, member=_member(paused=True, reason=WRAPUP_REASON)))
    assert state.agents[IFACE].state is AgentState.WRAP_UP
    state._rebuild_agents(T0)  # what QueueStatus after a reconnect leads to
    assert state.agents[IFACE].state is AgentState.WRAP_UP


def test_a_queue_call_connected_before_the_wrap_up_pause_took_effect_is_followed() -> None:
    state = PbxState("pbx1", strict=True)
    for ev in STREAMS["inbound_queue_call"]:
        if type(ev).__name__ == "AgentRung":
            state.apply(
                MemberPauseChanged(at=ev.at, member=_member(paused=True, reason=WRAPUP_REASON))
            )
            assert state.agents[IFACE].state is AgentState.WRAP_UP
        state.apply(ev)
        if type(ev).__name__ == "AgentAnswered":
            break
    assert state.agents[IFACE].state is AgentState.IN_CALL and not state.resync_wanted


def test_disposition_rules_follow_the_group() -> None:
    status_only = WrapupRule()
    with_reason = WrapupRule(needs=WrapupNeeds.REASON, max_seconds=60)
    pending = AttentionStatus.PENDING
    assert "status" in (why_not_disposed(status_only, pending, None) or "")
    assert "closing reason" in (why_not_disposed(with_reason, pending, None) or "")
    assert why_not_disposed(status_only, AttentionStatus.CLOSED, None) is None
    assert "closing reason" in (why_not_disposed(with_reason, "closed", None) or "")
    assert why_not_disposed(with_reason, "planned", 3) is None
    assert why_not_disposed(with_reason, None, None) is None  # no attention to dispose
    assert deadline(status_only, T0) is None and not overrun(
        status_only, T0, T0 + timedelta(days=1)
    )
    assert deadline(with_reason, T0) == T0 + timedelta(seconds=60)
    assert not overrun(with_reason, T0, T0 + timedelta(seconds=59))
    assert overrun(with_reason, T0, T0 + timedelta(seconds=60))
    assert seconds_between(T0, T0 + timedelta(seconds=12.7)) == 12


def test_a_member_paused_for_wrap_up_during_its_call_goes_straight_into_wrap_up_at_its_end() -> (
    None
):
    # The desk pauses the member for wrap-up when the call connects: the call goes on, and its
    # end leaves no instant in which the agent looks ready (nor the queue may offer a call).
    state = PbxState("pbx1", strict=True)
    seen: list[tuple[AgentState, str]] = []
    for ev in STREAMS["inbound_queue_call"]:
        seen += _states(state.apply(ev))
        if type(ev).__name__ == "AgentAnswered":
            held = state.apply(
                MemberPauseChanged(at=ev.at, member=_member(paused=True, reason=WRAPUP_REASON))
            )
            assert _states(held) == [(AgentState.IN_CALL, WRAPUP_REASON)]
            seen = []
        if type(ev).__name__ == "AgentCompleted":
            break
    assert seen == [(AgentState.WRAP_UP, WRAPUP_REASON)]
    assert not state.resync_wanted
