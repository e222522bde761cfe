"""Pacing: preview never dials, progressive covers free agents, predictive slows near the cap."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.dialer.pacing import (
    AnswerProfile,
    AnswerStats,
    DialMode,
    HandleStats,
    PacingInput,
    PacingSettings,
    allowed_risk,
    calls_to_place,
    expected_remaining,
)
from cti.errors import UserInputError


def measured_answers(rate: float = 0.25, n: int = 2000, seed: int = 7) -> AnswerProfile:
    rng = random.Random(seed)
    stats = AnswerStats(ring_timeout_seconds=20.0)
    for _ in range(n):
        stats = (
            stats.observe_answer(rng.uniform(4, 16))
            if rng.random() < rate
            else stats.observe_unanswered()
        )
    return stats.profile()


ANSWERS = measured_answers()
PREDICTIVE = PacingSettings(mode=DialMode.PREDICTIVE)


def inputs(**overrides: object) -> PacingInput:
    base: dict[str, object] = {"agents_ready": 0, "answers": ANSWERS}
    base.update(overrides)
    return PacingInput(**base)  # type: ignore[arg-type]


# --- measurements --------------------------------------------------------------------------------


def test_answer_rate_starts_at_the_prior_and_learns_the_measured_rate() -> None:
    cold = AnswerStats(prior_rate=0.3)
    assert cold.rate == pytest.approx(0.3)
    assert ANSWERS.rate == pytest.approx(0.25, abs=0.03)


def test_an_old_ringing_call_is_less_likely_to_be_answered() -> None:
    assert ANSWERS.answer_probability(0.0) == pytest.approx(ANSWERS.rate)
    assert ANSWERS.answer_probability(12.0) < ANSWERS.answer_probability(4.0)
    assert ANSWERS.answer_probability(17.0) == 0.0  # nobody answers after 16 s
    assert ANSWERS.answer_probability(20.0) == 0.0


def test_handle_stats_learn_the_average_and_the_remaining_time() -> None:
    rng = random.Random(3)
    stats = HandleStats()
    for _ in range(2000):
        stats = stats.observe(rng.uniform(100, 140))  # calls of 100-140 s
    assert stats.average_seconds == pytest.approx(120, abs=3)
    table = stats.residual_table()
    assert expected_remaining(table, 0) == pytest.approx(120, abs=8)
    assert expected_remaining(table, 125) < 15  # nearly done
    assert expected_remaining(table, 130) < expected_remaining(table, 60)


# --- modes ---------------------------------------------------------------------------------------


def test_preview_never_dials() -> None:
    decision = calls_to_place(PacingSettings(mode=DialMode.PREVIEW), inputs(agents_ready=10))
    assert decision.calls == 0
    assert decision.reason == "preview"


def test_progressive_dials_exactly_the_free_agents_not_covered() -> None:
    progressive = PacingSettings(mode=DialMode.PROGRESSIVE)
    assert calls_to_place(progressive, inputs(agents_ready=5)).calls == 5
    assert (
        calls_to_place(progressive, inputs(agents_ready=5, ringing_ages_seconds=(3.0, 9.0))).calls
        == 3
    )
    assert calls_to_place(progressive, inputs(agents_ready=2, answered_waiting=1)).calls == 1
    assert (
        calls_to_place(progressive, inputs(agents_ready=0, busy_remaining_seconds=(5.0,) * 9)).calls
        == 0
    )


def test_fixed_ratio_keeps_n_lines_per_free_agent() -> None:
    three = PacingSettings(mode=DialMode.FIXED_RATIO, fixed_ratio=3.0)
    assert (
        calls_to_place(three, inputs(agents_ready=2, busy_remaining_seconds=(60.0,) * 8)).calls == 6
    )
    assert calls_to_place(three, inputs(agents_ready=2, ringing_ages_seconds=(1.0,) * 4)).calls == 2


def test_predictive_dials_ahead_of_free_agents() -> None:
    decision = calls_to_place(
        PREDICTIVE, inputs(agents_ready=4, busy_remaining_seconds=(120.0,) * 16)
    )
    assert decision.reason == "predictive"
    assert decision.calls > 4  # more than progressive: most calls are not answered
    assert decision.calls <= 4 * 20


def test_predictive_counts_agents_about_to_be_free() -> None:
    busy_long = inputs(agents_ready=0, busy_remaining_seconds=(120.0,) * 20)
    wrapping_up = inputs(agents_ready=0, busy_remaining_seconds=(3.0,) * 5 + (120.0,) * 15)
    assert calls_to_place(PREDICTIVE, busy_long).calls == 0
    assert calls_to_place(PREDICTIVE, wrapping_up).calls > 0


def test_predictive_counts_what_is_already_ringing() -> None:
    idle = calls_to_place(PREDICTIVE, inputs(agents_ready=3)).calls
    covered = calls_to_place(
        PREDICTIVE, inputs(agents_ready=3, ringing_ages_seconds=(1.0,) * idle)
    ).calls
    assert covered == 0


def test_predictive_slows_down_as_the_rate_nears_the_cap_and_is_progressive_at_it() -> None:
    state = {"agents_ready": 5, "busy_remaining_seconds": (120.0,) * 15}
    calm = calls_to_place(
        PREDICTIVE, inputs(ledger_live_answers=1000, ledger_abandoned=10, **state)
    )
    near = calls_to_place(
        PREDICTIVE, inputs(ledger_live_answers=1000, ledger_abandoned=27, **state)
    )
    nearer = calls_to_place(
        PREDICTIVE, inputs(ledger_live_answers=1000, ledger_abandoned=29, **state)
    )
    at_cap = calls_to_place(
        PREDICTIVE, inputs(ledger_live_answers=1000, ledger_abandoned=30, **state)
    )
    assert calm.calls > near.calls >= nearer.calls
    assert calm.allowed_risk > near.allowed_risk > 0
    assert at_cap.calls == 5
    assert at_cap.reason == "capped"
    assert at_cap.abandon_rate == pytest.approx(0.03)


def test_a_supervisor_can_make_pacing_more_careful_live() -> None:
    state = inputs(
        agents_ready=5,
        busy_remaining_seconds=(120.0,) * 15,
        ledger_live_answers=5000,
        ledger_abandoned=50,
    )
    bold = calls_to_place(PacingSettings(mode=DialMode.PREDICTIVE, max_call_risk=0.3), state)
    careful = calls_to_place(PacingSettings(mode=DialMode.PREDICTIVE, max_call_risk=0.05), state)
    assert bold.calls > careful.calls >= 5
    ratio_one = PacingSettings(mode=DialMode.PREDICTIVE, max_call_risk=0.3, max_dial_ratio=1.0)
    ringing = inputs(
        agents_ready=5,
        busy_remaining_seconds=(120.0,) * 15,
        ringing_ages_seconds=(15.0,) * 18,
        ledger_live_answers=5000,
        ledger_abandoned=50,
    )
    assert (
        calls_to_place(PacingSettings(mode=DialMode.PREDICTIVE, max_call_risk=0.3), ringing).calls
        > 2
    )
    limited = calls_to_place(ratio_one, ringing)
    assert limited.calls == 2  # 20 staffed agents, 18 lines already ringing
    assert limited.reason == "max_ratio"


def test_allowed_risk_shrinks_with_the_spare_abandons() -> None:
    full = allowed_risk(PREDICTIVE, 10_000, 0)
    assert full == PREDICTIVE.max_call_risk
    assert 0 < allowed_risk(PREDICTIVE, 1000, 25) < full
    assert allowed_risk(PREDICTIVE, 1000, 29) == 0.0  # 2.8% of 1000 is 28, plus one spare
    assert 0 < allowed_risk(PREDICTIVE, 0, 0) < full  # a new ledger starts carefully


def test_no_more_calls_than_leads() -> None:
    decision = calls_to_place(PREDICTIVE, inputs(agents_ready=10, leads_available=2))
    assert decision.calls == 2
    assert decision.reason == "no_leads"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_dial_ratio": 0.5},
        {"abandon_cap": 0.0},
        {"target_abandon": 0.05},
        {"max_call_risk": 1.5},
        {"fixed_ratio": 0.5},
        {"connect_within_seconds": -1.0},
    ],
)
def test_nonsense_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(UserInputError):
        PacingSettings(mode=DialMode.PREDICTIVE, **kwargs)  # type: ignore[arg-type]


# --- properties ----------------------------------------------------------------------------------

modes = st.sampled_from(list(DialMode))
states = st.fixed_dictionaries(
    {
        "agents_ready": st.integers(0, 30),
        "busy_remaining_seconds": st.lists(st.floats(0.0, 600.0), max_size=30).map(tuple),
        "ringing_ages_seconds": st.lists(st.floats(0.0, 40.0), max_size=60).map(tuple),
        "answered_waiting": st.integers(0, 5),
        "ledger_live_answers": st.integers(0, 5000),
        "abandon_share": st.floats(0.0, 1.0),
        "answer_rate": st.sampled_from([0.05, 0.25, 0.6, 1.0]),
    }
)
pacings = st.builds(
    lambda mode, ratio, risk, fixed: PacingSettings(
        mode=mode, max_dial_ratio=ratio, max_call_risk=risk, fixed_ratio=fixed
    ),
    modes,
    st.floats(1.0, 6.0),
    st.floats(0.0, 1.0),
    st.floats(1.0, 5.0),
)
PROFILES = {rate: measured_answers(rate, n=400) for rate in (0.05, 0.25, 0.6, 1.0)}


def build(state: dict[str, object]) -> PacingInput:
    live = int(state["ledger_live_answers"])  # type: ignore[call-overload]
    share = float(state["abandon_share"])  # type: ignore[arg-type]
    return PacingInput(
        agents_ready=state["agents_ready"],  # type: ignore[arg-type]
        busy_remaining_seconds=state["busy_remaining_seconds"],  # type: ignore[arg-type]
        ringing_ages_seconds=state["ringing_ages_seconds"],  # type: ignore[arg-type]
        answered_waiting=state["answered_waiting"],  # type: ignore[arg-type]
        answers=PROFILES[state["answer_rate"]],  # type: ignore[index]
        ledger_live_answers=live,
        ledger_abandoned=math.floor(live * share),
    )


@settings(max_examples=300, deadline=None)
@given(pacings, states)
def test_never_negative_and_never_past_the_max_ratio(
    pacing: PacingSettings, state: dict[str, object]
) -> None:
    given_inputs = build(state)
    calls = calls_to_place(pacing, given_inputs).calls
    staffed = given_inputs.agents_ready + len(given_inputs.busy_remaining_seconds)
    assert calls >= 0
    assert calls + len(given_inputs.ringing_ages_seconds) <= max(
        len(given_inputs.ringing_ages_seconds), math.floor(pacing.max_dial_ratio * staffed + 1e-9)
    )


@settings(max_examples=300, deadline=None)
@given(pacings, states)
def test_at_or_over_the_cap_never_more_than_progressive(
    pacing: PacingSettings, state: dict[str, object]
) -> None:
    given_inputs = build(state)
    rate = (
        given_inputs.ledger_abandoned / given_inputs.ledger_live_answers
        if given_inputs.ledger_live_answers
        else 0.0
    )
    progressive = calls_to_place(PacingSettings(mode=DialMode.PROGRESSIVE), given_inputs).calls
    calls = calls_to_place(pacing, given_inputs).calls
    if rate >= pacing.abandon_cap:
        assert calls <= progressive
    if pacing.mode is DialMode.PREDICTIVE:
        assert calls >= progressive  # predictive never leaves a free agent without a call
