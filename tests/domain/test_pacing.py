"""Pacing: preview never dials, progressive covers free agents, predictive slows near the cap and
starts carefully."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.domain.pacing import (
    DialMode,
    PacingInput,
    PacingSettings,
    allowed_risk,
    calls_to_place,
)
from cti.domain.pacing_estimates import (
    AnswerProfile,
    AnswerStats,
    HandleProfile,
    HandleStats,
    restore,
    snapshot,
)
from cti.errors import UserInputError


def measured_stats(rate: float = 0.25, n: int = 2000, seed: int = 7) -> AnswerStats:
    """``n`` attempts placed one a second, answered 4-16 s later with ``rate``, else ringing out."""
    rng = random.Random(seed)
    stats = AnswerStats(ring_timeout_seconds=20.0)
    for i in range(n):
        placed = float(i)
        stats = (
            stats.observe_answer(placed, placed + rng.uniform(4, 16))
            if rng.random() < rate
            else stats.observe_unanswered(placed, placed + 20.0)
        )
    return stats


def measured_answers(rate: float = 0.25, n: int = 2000, seed: int = 7) -> AnswerProfile:
    return measured_stats(rate, n, seed).profile(n + 20.0)


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
    # What a supervisor reads: nothing before an attempt ends (the prior is no measurement), then
    # the share answered, the prior left out.
    assert cold.measured is None
    one = cold.observe_unanswered(0.0, 20.0).observe_answer(1.0, 9.0)
    assert one.measured == pytest.approx(0.5, abs=0.01)
    assert ANSWERS.rate == pytest.approx(0.25, abs=0.03)
    assert ANSWERS.estimate().rate == pytest.approx(0.25, abs=0.03)


def test_ringing_calls_keep_early_answers_from_making_the_rate_look_high() -> None:
    # The first 20 calls of a campaign at 25%: after 10 s, the 3 answered so far are in, the 17
    # others still ring. Counting only finished attempts, the rate would read 3 / 3.
    stats = AnswerStats(ring_timeout_seconds=20.0)
    for placed in (0.0, 0.0, 0.0):
        stats = stats.observe_answer(placed, 8.0)
    profile = stats.profile(10.0)
    assert profile.estimate((10.0,) * 17).rate < 0.4
    assert profile.estimate((10.0,) * 17).rate < profile.estimate().rate


def test_the_rate_follows_a_list_going_stale_within_minutes() -> None:
    stats = measured_stats(rate=0.4, n=3600)
    rng = random.Random(11)
    for i in range(3600, 3600 + 300):  # five minutes at 15%
        placed = float(i)
        stats = (
            stats.observe_answer(placed, placed + rng.uniform(4, 16))
            if rng.random() < 0.15
            else stats.observe_unanswered(placed, placed + 20.0)
        )
    assert stats.profile(3920.0).estimate().rate < 0.25


def test_an_old_ringing_call_is_less_likely_to_be_answered() -> None:
    assert ANSWERS.answer_probability(0.0) == pytest.approx(ANSWERS.rate)
    assert ANSWERS.answer_probability(12.0) < ANSWERS.answer_probability(4.0)
    # Nobody answers after 16 s: only the prior's crumbs are left there.
    assert ANSWERS.answer_probability(17.0) < 0.001
    assert ANSWERS.answer_probability(20.0) == 0.0


def test_handle_stats_learn_the_average_and_when_a_call_is_about_to_end() -> None:
    rng = random.Random(3)
    stats = HandleStats()
    at = 0.0
    for _ in range(2000):
        at += 2.0
        stats = stats.observe(rng.uniform(100, 140), at)  # calls of 100-140 s
    assert stats.average_seconds == pytest.approx(120, abs=3)
    profile = stats.profile(at)
    assert profile.mean_seconds == pytest.approx(120, rel=0.15)
    (young,) = profile.free_within(30.0, (15.0,))
    (old,) = profile.free_within(125.0, (15.0,))
    assert young < 0.05  # a 30 s old call does not end within 15 s
    assert old > 0.5  # a 125 s old call nearly always does


def test_calls_still_in_progress_keep_short_calls_from_making_calls_look_short() -> None:
    # Ten minutes into a campaign of 10-minute calls, only the few short ones have ended.
    stats = HandleStats()
    for seconds in (20.0, 35.0, 50.0, 80.0):
        stats = stats.observe(seconds, seconds)
    ignoring = stats.profile(600.0)
    counting = stats.profile(600.0, (600.0 - 10.0 * i for i in range(20)))
    assert counting.mean_seconds > 2 * ignoring.mean_seconds


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
        PREDICTIVE,
        inputs(
            agents_ready=4,
            busy_remaining_seconds=(120.0,) * 16,
            ledger_live_answers=5000,
            ledger_abandoned=100,
        ),
    )
    assert decision.reason == "predictive"
    assert decision.calls > 4  # more than progressive: most calls are not answered
    assert decision.calls <= 4 * 20


def regular_calls() -> HandleProfile:
    """Calls of 100-140 s, well measured."""
    rng = random.Random(5)
    stats = HandleStats()
    for i in range(3000):
        stats = stats.observe(rng.uniform(100, 140), float(i))
    return stats.profile(3000.0)


def test_predictive_counts_agents_about_to_be_free() -> None:
    handle = regular_calls()
    calm = {"ledger_live_answers": 5000, "ledger_abandoned": 50, "handle": handle}
    early = inputs(agents_ready=0, busy_ages_seconds=(30.0,) * 20, **calm)
    ending = inputs(agents_ready=0, busy_ages_seconds=(30.0,) * 15 + (125.0,) * 5, **calm)
    wrapping_up = inputs(
        agents_ready=0, busy_ages_seconds=(30.0,) * 15, wrapup_remaining_seconds=(3.0,) * 5, **calm
    )
    assert calls_to_place(PREDICTIVE, early).calls == 0
    assert calls_to_place(PREDICTIVE, ending).calls > 0
    assert calls_to_place(PREDICTIVE, wrapping_up).calls > 0


def test_predictive_counts_memoryless_calls_by_their_chance_to_end_soon() -> None:
    calm = {"ledger_live_answers": 5000, "ledger_abandoned": 50}
    long_calls = calls_to_place(
        PREDICTIVE, inputs(agents_ready=0, busy_remaining_seconds=(600.0,) * 20, **calm)
    )
    short_calls = calls_to_place(
        PREDICTIVE, inputs(agents_ready=0, busy_remaining_seconds=(60.0,) * 20, **calm)
    )
    assert long_calls.calls < short_calls.calls
    assert short_calls.calls > 0


def test_predictive_counts_what_is_already_ringing() -> None:
    calm = {"ledger_live_answers": 5000, "ledger_abandoned": 100}
    idle = calls_to_place(PREDICTIVE, inputs(agents_ready=3, **calm)).calls
    assert idle > 3
    covered = calls_to_place(
        PREDICTIVE, inputs(agents_ready=3, ringing_ages_seconds=(1.0,) * idle, **calm)
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


def test_allowed_risk_follows_the_ledger_smoothly() -> None:
    on_target = allowed_risk(PREDICTIVE, 10_000, round(10_000 * PREDICTIVE.target_abandon))
    assert on_target == pytest.approx(PREDICTIVE.max_call_risk, rel=0.05)
    # Under the target the risk rises (the budget is spent, not saved), over it it falls.
    assert allowed_risk(PREDICTIVE, 10_000, 100) > on_target
    assert 0 < allowed_risk(PREDICTIVE, 10_000, 290) < on_target
    # With no room under the cap, none; with less than one abandon of room, very little.
    assert allowed_risk(PREDICTIVE, 10_000, 300) == 0.0
    assert 0 < allowed_risk(PREDICTIVE, 10_000, 299) < on_target / 100
    assert allowed_risk(PREDICTIVE, 0, 0) == 0.0  # a new ledger dials progressively
    assert 0 < allowed_risk(PREDICTIVE, 20, 0) < on_target / 20
    # A bigger team needs more room for the full risk (its calls in flight overflow by more).
    assert allowed_risk(PREDICTIVE, 300, 3, agents=100) < allowed_risk(PREDICTIVE, 300, 3, agents=5)
    # A young ledger under its target says little: its risk rises less than an old one's.
    assert allowed_risk(PREDICTIVE, 150, 0) < allowed_risk(PREDICTIVE, 10_000, 0)
    # No jump: one more abandon never changes the risk by more than a fifth of its range.
    risks = [allowed_risk(PREDICTIVE, 10_000, a) for a in range(0, 301)]
    top = max(risks)
    assert all(abs(b - a) <= top / 5 for a, b in itertools.pairwise(risks))
    assert risks == sorted(risks, reverse=True)


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
    staffed = given_inputs.agents_ready + given_inputs.agents_busy
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


# --- cold start and restarts ---------------------------------------------------------------------

ledgers = st.integers(0, 20_000).flatmap(
    lambda live: st.tuples(st.just(live), st.integers(0, math.floor(live * 0.03)))
)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 150),
    st.lists(st.floats(0.0, 900.0), max_size=150).map(tuple),
    ledgers,
    st.floats(0.0, 1e9),
)
def test_a_campaign_without_measurements_never_dials_a_burst(
    ready: int, busy_ages: tuple[float, ...], ledger: tuple[int, int], now: float
) -> None:
    """Whatever the ledger allows (a campaign rebuilt with its old ledger included), estimates that
    have measured nothing place no more calls than the ready agents could take were every call
    answered at the prior's rate (the issue's burst: 279 calls for 100 agents at t = 0)."""
    answers = AnswerStats(ring_timeout_seconds=20.0, at=now)
    handle = HandleStats(at=now)
    live, abandoned = ledger
    decision = calls_to_place(
        PREDICTIVE,
        PacingInput(
            agents_ready=ready,
            busy_ages_seconds=busy_ages,
            handle=handle.profile(now, busy_ages),
            answers=answers.profile(now),
            ledger_live_answers=live,
            ledger_abandoned=abandoned,
        ),
    )
    assert decision.calls >= ready  # never fewer than progressive
    assert decision.calls * answers.prior_rate <= ready + 1


def test_a_new_ledger_dials_progressively_and_ahead_only_as_its_answers_back_abandons() -> None:
    risks = []
    calls = []
    for live in (0, 10, 33, 100, 400):
        decision = calls_to_place(
            PREDICTIVE,
            inputs(agents_ready=10, ledger_live_answers=live, ledger_abandoned=0),
        )
        risks.append(decision.allowed_risk)
        calls.append(decision.calls)
    assert calls[0] == 10  # no answer yet: progressive
    assert risks[1] < PREDICTIVE.max_call_risk / 50  # a third of an abandon of room: very little
    assert risks == sorted(risks) and calls == sorted(calls)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([0.1, 0.25, 0.5]),
    st.sampled_from([60.0, 180.0]),
    st.integers(0, 100),
    st.integers(1, 50),
    st.floats(60.0, 7 * 86400.0),
)
def test_a_restart_resumes_the_estimates_without_a_burst(
    rate: float, mean_handle: float, ready: int, busy: int, downtime: float
) -> None:
    """Estimates saved and restored after a restart (or a campaign rebuild) give the decision they
    gave before it, however long the campaign was down."""
    rng = random.Random(int(rate * 100 + mean_handle))
    answers = AnswerStats(ring_timeout_seconds=20.0)
    handle = HandleStats()
    at = 0.0
    for _ in range(1500):
        at += 1.0
        answers = (
            answers.observe_answer(at, at + rng.uniform(4, 16))
            if rng.random() < rate
            else answers.observe_unanswered(at, at + 20.0)
        )
        if rng.random() < 0.3:
            handle = handle.observe(rng.expovariate(1.0 / mean_handle), at)
    at += 20.0
    busy_ages = tuple(rng.uniform(0, 2 * mean_handle) for _ in range(busy))
    ledger = {"ledger_live_answers": 4000, "ledger_abandoned": 60}

    def decide(a: AnswerStats, h: HandleStats, now: float) -> int:
        return calls_to_place(
            PREDICTIVE,
            PacingInput(
                agents_ready=ready,
                busy_ages_seconds=busy_ages,
                handle=h.profile(now, busy_ages),
                answers=a.profile(now),
                **ledger,  # type: ignore[arg-type]
            ),
        ).calls

    before = decide(answers, handle, at)
    later = at + downtime
    saved = snapshot(answers, handle)
    restored_answers, restored_handle = restore(saved, ring_timeout_seconds=20.0, now=later)
    after = decide(restored_answers, restored_handle, later)
    assert abs(after - before) <= 1
    fresh = decide(AnswerStats(ring_timeout_seconds=20.0), HandleStats(), later)
    if rate <= 0.25 and before > ready + 2:
        assert fresh < before  # what a restart without the saved estimates would have lost
