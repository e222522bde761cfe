"""cti's pacing maths before issue #19, frozen here as the benchmarks' baseline (do not use elsewhere).

A verbatim copy of ``cti/domain/pacing.py`` at commit 1b44839; bench/pacing_grid.py runs it beside
the current maths in the same run. Its original docstring follows.

How many calls a campaign places now: pure pacing maths, fed with what a real dialer can measure.

Nothing here reads a clock, a socket or a database. The async dialer measures (answer outcomes and
delays of finished attempts, handle times of finished calls, who is ready, who is busy and for how
long, what is ringing and for how long, the abandon ledger), builds a :class:`PacingInput` and calls
:func:`calls_to_place` on every change and on a tick.

Predictive pacing adds calls one at a time while the next call's risk of being abandoned stays under
the risk the abandon ledger allows. A call answered ``t`` seconds from now (``t`` drawn from the measured
answer-delay profile) is abandoned, or steals the agent of a call answered later, when at ``t`` or any
later point of the ring period the answers so far outnumber the agents free by then plus the grace
period. Agents count when ready now or about to be free (expected remaining time within
``about_to_free_seconds``, e.g. in wrap-up); an agent in a call that may end any moment gives too little
notice to dial for (see bench/dialer_pacing.py: counting memoryless calls as supply made the
occupancy-for-abandons trade worse). The allowed risk shrinks as the ledger's rate rises past the
target and is zero at the cap, where the dialer places no more calls than progressive dialing would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum

from cti.errors import UserInputError

# The share of the abandon cap the dialer aims at unless a supervisor sets a target: what
# bench/dialer_pacing.py measures (2.8 % aimed at under a 3 % cap).
DEFAULT_TARGET_SHARE = 14 / 15


class DialMode(StrEnum):
    """How a campaign is paced. Values match ``CampaignMode`` plus the benchmark's fixed ratio."""

    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"
    FIXED_RATIO = "fixed_ratio"


@dataclass(frozen=True, slots=True, kw_only=True)
class PacingSettings:
    """What a supervisor may change live.

    Attributes:
        mode: the dial mode.
        max_dial_ratio: at most this many lines ringing per staffed agent (ready or busy).
        abandon_cap: the legal cap on abandoned ÷ live answers (0.03 = 3%).
        target_abandon: the rate the dialer aims to stay under; between it and the cap the allowed
            risk per call falls to zero. Lower it to make the dialer more careful.
        max_call_risk: the abandon risk a predictive call may carry while the rate is under target
            (the aggressiveness). The risk is a model figure; the ledger's feedback calibrates it.
        about_to_free_seconds: a busy agent counts as about to be free when its expected remaining
            time is at most this.
        fixed_ratio: lines per free agent in ``FIXED_RATIO`` mode.
        connect_within_seconds: an answered call waits this long for an agent before it counts as
            abandoned; agents freeing within it still take the call.
        spare_abandons: abandons granted on top of ``target_abandon`` × live answers, so that a new
            ledger may dial ahead at all.
        full_risk_spare: how many abandons to spare under the target before the full risk is
            allowed; with fewer the risk shrinks in proportion.
    """

    mode: DialMode
    max_dial_ratio: float = 4.0
    abandon_cap: float = 0.03
    target_abandon: float = 0.03 * DEFAULT_TARGET_SHARE  # 2.8 % under the default 3 % cap
    max_call_risk: float = 0.22
    about_to_free_seconds: float = 20.0
    fixed_ratio: float = 2.0
    connect_within_seconds: float = 2.0
    spare_abandons: float = 1.0
    full_risk_spare: float = 12.0

    def __post_init__(self) -> None:
        if not self.max_dial_ratio >= 1.0:
            raise UserInputError("max_dial_ratio", "must be at least 1")
        if not 0.0 < self.abandon_cap < 1.0:
            raise UserInputError("abandon_cap", "must be between 0 and 1")
        if not 0.0 <= self.target_abandon < self.abandon_cap:
            raise UserInputError("target_abandon", "must be at least 0 and below the abandon cap")
        if not 0.0 <= self.max_call_risk <= 1.0:
            raise UserInputError("max_call_risk", "must be between 0 and 1")
        if not self.about_to_free_seconds >= 0.0:
            raise UserInputError("about_to_free_seconds", "must not be negative")
        if not self.fixed_ratio >= 1.0:
            raise UserInputError("fixed_ratio", "must be at least 1")
        if not self.connect_within_seconds >= 0.0:
            raise UserInputError("connect_within_seconds", "must not be negative")
        if not self.spare_abandons >= 0.0:
            raise UserInputError("spare_abandons", "must not be negative")
        if not self.full_risk_spare > 0.0:
            raise UserInputError("full_risk_spare", "must be positive")


# --------------------------------------------------------------------------------------------------
# Measurements

_DELAY_BIN = 1.0  # seconds per answer-delay bin
_CHECKPOINT_STEP = 2  # answer-delay bins per pacing checkpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerStats:
    """Smoothed answer rate and answer-delay distribution of a campaign's recent dial attempts.

    Counts decay geometrically (each observation multiplies the old ones by ``decay``) so the estimate
    follows a changing list; a prior of ``prior_weight`` attempts at ``prior_rate`` carries a cold
    start. Answer delays are kept in one-second bins up to the ring timeout.

    Attributes:
        ring_timeout_seconds: an unanswered call is given up after this long.
        attempts: decayed number of finished attempts.
        answered: decayed number of those a person answered.
        delay_bins: decayed counts of answer delays, one bin per second from 0.
        prior_rate: the answer rate assumed before any measurement.
        prior_weight: how many attempts the prior is worth.
        decay: the weight an old observation keeps each time a new one arrives.
    """

    ring_timeout_seconds: float = 20.0
    attempts: float = 0.0
    answered: float = 0.0
    delay_bins: tuple[float, ...] = ()
    prior_rate: float = 0.3
    prior_weight: float = 20.0
    decay: float = 0.999

    def __post_init__(self) -> None:
        if not self.ring_timeout_seconds >= 1.0:
            raise UserInputError("ring_timeout_seconds", "must be at least 1 second")
        if not 0.0 < self.prior_rate <= 1.0:
            raise UserInputError("prior_rate", "must be in (0, 1]")
        if not self.prior_weight >= 0.0:
            raise UserInputError("prior_weight", "must not be negative")
        if not 0.0 < self.decay <= 1.0:
            raise UserInputError("decay", "must be in (0, 1]")
        if not 0.0 <= self.answered <= self.attempts:
            raise UserInputError("answered", "must be between 0 and attempts")
        bins = math.ceil(self.ring_timeout_seconds / _DELAY_BIN)
        if not self.delay_bins:
            object.__setattr__(self, "delay_bins", (0.0,) * bins)
        elif len(self.delay_bins) != bins:
            raise UserInputError("delay_bins", f"needs {bins} bins for the ring timeout")

    @property
    def rate(self) -> float:
        """The smoothed answer rate, prior included."""
        total = self.attempts + self.prior_weight
        if total <= 0.0:
            return self.prior_rate
        return (self.answered + self.prior_rate * self.prior_weight) / total

    def observe_answer(self, delay_seconds: float) -> AnswerStats:
        """A dial attempt was answered by a person ``delay_seconds`` after it was placed."""
        d = self.decay
        index = min(len(self.delay_bins) - 1, max(0, int(delay_seconds / _DELAY_BIN)))
        bins = [c * d for c in self.delay_bins]
        bins[index] += 1.0
        return replace(
            self,
            attempts=self.attempts * d + 1.0,
            answered=self.answered * d + 1.0,
            delay_bins=tuple(bins),
        )

    def observe_unanswered(self) -> AnswerStats:
        """A dial attempt ended without a person (no answer, busy, congestion, machine, failure)."""
        d = self.decay
        return replace(
            self,
            attempts=self.attempts * d + 1.0,
            answered=self.answered * d,
            delay_bins=tuple(c * d for c in self.delay_bins),
        )

    def profile(self) -> AnswerProfile:
        """The figures pacing needs, computed once per change rather than once per decision."""
        total = sum(self.delay_bins)
        n = len(self.delay_bins)
        if total <= 0.0:
            # No answer seen yet: assume answers spread evenly over the first half of the ring time.
            half = max(1, n // 2)
            shares = [1.0 / half if i < half else 0.0 for i in range(n)]
        else:
            shares = [c / total for c in self.delay_bins]
        return AnswerProfile.build(self.rate, shares, self.ring_timeout_seconds)


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """One point of the ring period at which pacing balances answers against agents.

    Attributes:
        seconds: how far ahead of now.
        weight: the share of a new call's answers that fall in this checkpoint's slice.
        new_answered: the probability that a call placed now is answered by ``seconds``.
        ringing_answered: for a call ringing for ``i`` seconds (index ``i``), the probability that it
            is answered within ``seconds`` from now.
    """

    seconds: float
    weight: float
    new_answered: float
    ringing_answered: tuple[float, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerProfile:
    """Answer rate and answer-delay distribution, precomputed for pacing.

    Build it with :meth:`AnswerStats.profile` (or :meth:`build`).

    Attributes:
        rate: probability that a new call is answered by a person.
        survival: ``survival[i]`` is the share of answered calls answered at or after second ``i``.
        ring_timeout_seconds: when an unanswered call is given up.
        checkpoints: the pacing checkpoints over the ring period.
    """

    rate: float
    survival: tuple[float, ...]
    ring_timeout_seconds: float
    checkpoints: tuple[Checkpoint, ...]

    @classmethod
    def build(cls, rate: float, delay_shares: list[float], ring_timeout: float) -> AnswerProfile:
        """From the answer rate and the share of answers in each one-second delay bin."""
        survival: list[float] = []
        remaining = 1.0
        for share in delay_shares:
            # Rounding leaves crumbs after the last answer bin; they are no answers.
            survival.append(remaining if remaining > 1e-9 else 0.0)
            remaining -= share
        base = cls(
            rate=rate, survival=tuple(survival), ring_timeout_seconds=ring_timeout, checkpoints=()
        )
        n = len(survival)
        points: list[Checkpoint] = []
        previous = 0.0
        for start in range(0, n, _CHECKPOINT_STEP):
            end = min(n, start + _CHECKPOINT_STEP)
            cdf = 1.0 - base.survival_at(end * _DELAY_BIN)
            weight = cdf - previous
            previous = cdf
            if weight <= 1e-9:
                continue
            seconds = end * _DELAY_BIN
            points.append(
                Checkpoint(
                    seconds=seconds,
                    weight=weight,
                    new_answered=rate * cdf,
                    ringing_answered=tuple(
                        base.answered_within(age * _DELAY_BIN, seconds) for age in range(n)
                    ),
                )
            )
        return replace(base, checkpoints=tuple(points))

    def survival_at(self, seconds: float) -> float:
        """The share of answered calls answered at or after ``seconds``."""
        index = int(seconds / _DELAY_BIN)
        return self.survival[index] if index < len(self.survival) else 0.0

    def answered_within(self, age_seconds: float, seconds: float) -> float:
        """The probability that a call ringing for ``age_seconds`` is answered in ``seconds``."""
        if age_seconds >= self.ring_timeout_seconds:
            return 0.0
        head = self.rate * self.survival_at(age_seconds)
        still_ringing = head + (1.0 - self.rate)
        if still_ringing <= 0.0:
            return 0.0
        later = self.rate * self.survival_at(age_seconds + seconds)
        return (head - later) / still_ringing

    def answer_probability(self, age_seconds: float) -> float:
        """The probability that a call still ringing at ``age_seconds`` will be answered."""
        return self.answered_within(age_seconds, self.ring_timeout_seconds)


_HANDLE_BIN = 10.0  # seconds per handle-time bin
_HANDLE_BINS = 360  # one hour; longer calls share the last bin


@dataclass(frozen=True, slots=True, kw_only=True)
class HandleStats:
    """Decayed histogram of handle times (talk + wrap-up) of finished calls.

    It answers the question pacing asks of a busy agent: given how long this call has lasted, how much
    longer is it expected to last (the measured mean residual life; no distribution is assumed).

    Attributes:
        bins: decayed counts per ten-second bin.
        total_seconds: decayed sum of the handle times.
        prior_seconds: the handle time assumed before any measurement.
        prior_weight: how many calls the prior is worth.
        decay: the weight an old observation keeps each time a new one arrives.
    """

    bins: tuple[float, ...] = ()
    total_seconds: float = 0.0
    prior_seconds: float = 180.0
    prior_weight: float = 5.0
    decay: float = 0.995

    def __post_init__(self) -> None:
        if not self.prior_seconds > 0:
            raise UserInputError("prior_seconds", "must be positive")
        if not self.prior_weight > 0:
            raise UserInputError("prior_weight", "must be positive")
        if not 0.0 < self.decay <= 1.0:
            raise UserInputError("decay", "must be in (0, 1]")
        if not self.bins:
            object.__setattr__(self, "bins", (0.0,) * _HANDLE_BINS)
        elif len(self.bins) != _HANDLE_BINS:
            raise UserInputError("bins", f"needs {_HANDLE_BINS} bins")

    def observe(self, handle_seconds: float) -> HandleStats:
        """A call (with its wrap-up) lasted ``handle_seconds``."""
        seconds = max(0.0, handle_seconds)
        index = min(_HANDLE_BINS - 1, int(seconds / _HANDLE_BIN))
        d = self.decay
        bins = [c * d for c in self.bins]
        bins[index] += 1.0
        return replace(self, bins=tuple(bins), total_seconds=self.total_seconds * d + seconds)

    @property
    def average_seconds(self) -> float:
        """The smoothed average handle time, prior included."""
        n = sum(self.bins)
        return (self.total_seconds + self.prior_seconds * self.prior_weight) / (
            n + self.prior_weight
        )

    def residual_table(self) -> tuple[float, ...]:
        """For each bin ``i``: expected remaining seconds of a call that has lasted ``i`` bins.

        Computed once per change; :func:`expected_remaining` reads it per busy agent.
        """
        average = self.average_seconds
        if sum(self.bins) < self.prior_weight:
            # Too little data for a shape: assume memoryless calls of the average length.
            return (average,) * _HANDLE_BINS
        table = [0.0] * _HANDLE_BINS
        tail_count = 0.0
        tail_sum = 0.0
        for i in range(_HANDLE_BINS - 1, -1, -1):
            tail_count += self.bins[i]
            tail_sum += self.bins[i] * (i + 0.5) * _HANDLE_BIN
            if tail_count > 0.0:
                table[i] = max(_HANDLE_BIN / 2, tail_sum / tail_count - i * _HANDLE_BIN)
            else:
                # Longer than any call measured: nothing says it ends soon.
                table[i] = average
        return tuple(table)


def expected_remaining(table: tuple[float, ...], elapsed_seconds: float) -> float:
    """Expected remaining handle time of a call that has lasted ``elapsed_seconds``."""
    index = int(elapsed_seconds / _HANDLE_BIN) if elapsed_seconds > 0.0 else 0
    if index >= len(table):
        index = len(table) - 1
    return max(1.0, table[index] - (elapsed_seconds - index * _HANDLE_BIN) / 2)


# --------------------------------------------------------------------------------------------------
# Decision


@dataclass(frozen=True, slots=True, kw_only=True)
class PacingInput:
    """What the dialer knows about one campaign at the moment of decision.

    Attributes:
        agents_ready: agents logged in, not paused, waiting for a call.
        busy_remaining_seconds: one entry per agent in a call or in wrap-up: the expected seconds
            until that agent is ready again (see :func:`expected_remaining`; a wrap-up of known length
            gives its remaining time).
        ringing_ages_seconds: one entry per call placed and not yet answered or ended: its age.
        answered_waiting: answered calls waiting in the queue for an agent.
        answers: the campaign's answer rate and answer-delay profile.
        ledger_live_answers: live answers in the abandon ledger's window.
        ledger_abandoned: abandoned calls in the ledger's window.
        leads_available: leads that may be dialled now (after windows, DNC, retries); ``None`` when
            pacing should not cap on it.
    """

    agents_ready: int
    busy_remaining_seconds: tuple[float, ...] = ()
    ringing_ages_seconds: tuple[float, ...] = ()
    answered_waiting: int = 0
    answers: AnswerProfile
    ledger_live_answers: int = 0
    ledger_abandoned: int = 0
    leads_available: int | None = None

    def __post_init__(self) -> None:
        if self.agents_ready < 0:
            raise UserInputError("agents_ready", "must not be negative")
        if self.answered_waiting < 0:
            raise UserInputError("answered_waiting", "must not be negative")
        if not 0 <= self.ledger_abandoned <= self.ledger_live_answers:
            raise UserInputError("ledger_abandoned", "must be between 0 and the live answers")


@dataclass(frozen=True, slots=True, kw_only=True)
class PacingDecision:
    """How many calls to place now, and why (shown to supervisors).

    Attributes:
        calls: the number of new calls to place now (never negative).
        reason: ``preview``, ``progressive``, ``fixed_ratio``, ``predictive``, ``capped`` (abandon rate
            at or over the cap: no more than progressive), ``max_ratio`` or ``no_leads``.
        abandon_rate: the ledger's abandon rate, ``None`` before any live answer.
        allowed_risk: the per-call abandon risk predictive pacing allowed (0 in other modes).
    """

    calls: int
    reason: str
    abandon_rate: float | None = None
    allowed_risk: float = 0.0


def abandon_rate(live_answers: int, abandoned: int) -> float | None:
    """Abandoned ÷ live answers, ``None`` before the first live answer."""
    if live_answers <= 0:
        return None
    return abandoned / live_answers


def allowed_risk(settings: PacingSettings, live_answers: int, abandoned: int) -> float:
    """The abandon risk a new predictive call may carry, given the ledger.

    The ledger's spare abandons under the target (``target_abandon`` × live answers − abandoned,
    plus ``spare_abandons``) set it: ``max_call_risk`` with ``full_risk_spare`` or more to spare,
    falling linearly to 0 with none. So the safety margin grows as the rate nears the target, a young
    ledger starts carefully, and the dialer slows down before it would pass the cap.
    """
    spare = settings.target_abandon * live_answers - abandoned + settings.spare_abandons
    if spare <= 0.0:
        return 0.0
    if spare >= settings.full_risk_spare:
        return settings.max_call_risk
    return settings.max_call_risk * spare / settings.full_risk_spare


def _progressive(inputs: PacingInput) -> int:
    free = inputs.agents_ready - inputs.answered_waiting
    return max(0, free - len(inputs.ringing_ages_seconds))


def _ratio_room(settings: PacingSettings, inputs: PacingInput) -> int:
    staffed = inputs.agents_ready + len(inputs.busy_remaining_seconds)
    lines = math.floor(settings.max_dial_ratio * staffed + 1e-9)
    return max(0, lines - len(inputs.ringing_ages_seconds))


def calls_to_place(settings: PacingSettings, inputs: PacingInput) -> PacingDecision:
    """The number of new calls to place now for one campaign.

    - preview: always 0 (the agent presses dial);
    - progressive: one call per ready agent not already covered by a ringing call or a waiting answer;
    - fixed ratio: ``fixed_ratio`` lines per uncovered ready agent, ringing calls included;
    - predictive: see the module docstring; never fewer than progressive.

    Every mode is bounded by ``max_dial_ratio`` lines per staffed agent and by ``leads_available``;
    at or over the abandon cap no mode places more calls than progressive would.
    """
    rate = abandon_rate(inputs.ledger_live_answers, inputs.ledger_abandoned)
    if settings.mode is DialMode.PREVIEW:
        return PacingDecision(calls=0, reason="preview", abandon_rate=rate)
    over_cap = rate is not None and rate >= settings.abandon_cap
    progressive = _progressive(inputs)
    risk = 0.0
    if settings.mode is DialMode.PROGRESSIVE:
        calls, reason = progressive, "progressive"
    elif settings.mode is DialMode.FIXED_RATIO:
        free = max(0, inputs.agents_ready - inputs.answered_waiting)
        lines = math.floor(settings.fixed_ratio * free + 1e-9)
        calls, reason = lines - len(inputs.ringing_ages_seconds), "fixed_ratio"
    elif over_cap:
        calls, reason = progressive, "capped"
    else:
        risk = allowed_risk(settings, inputs.ledger_live_answers, inputs.ledger_abandoned)
        # One past the ratio's room, so that a decision cut by the ratio says so.
        predicted = _predictive(settings, inputs, risk, _ratio_room(settings, inputs) + 1)
        calls, reason = max(predicted, progressive), "predictive"

    calls = max(0, calls)
    room = _ratio_room(settings, inputs)
    if calls > room:
        calls, reason = room, "max_ratio"
    if over_cap and calls > progressive:
        calls, reason = progressive, "capped"
    if inputs.leads_available is not None and calls > inputs.leads_available:
        calls, reason = max(0, inputs.leads_available), "no_leads"
    return PacingDecision(calls=calls, reason=reason, abandon_rate=rate, allowed_risk=risk)


def _normal_tail_above(x: float) -> float:
    """P(Z > x) for a standard normal Z."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def _predictive(settings: PacingSettings, inputs: PacingInput, risk: float, room: int) -> int:
    profile = inputs.answers
    if profile.rate <= 0.0 or not profile.checkpoints or risk <= 0.0:
        return 0
    grace = settings.connect_within_seconds
    last_age = len(profile.survival) - 1

    ages: dict[int, int] = {}
    for age in inputs.ringing_ages_seconds:
        if age < profile.ring_timeout_seconds:
            key = min(last_age, int(age / _DELAY_BIN)) if age > 0.0 else 0
            ages[key] = ages.get(key, 0) + 1
    soon: dict[float, int] = {}
    for remaining in inputs.busy_remaining_seconds:
        if remaining <= settings.about_to_free_seconds:
            rounded = max(1.0, float(round(remaining)))
            soon[rounded] = soon.get(rounded, 0) + 1

    # At each checkpoint: mean and variance of (answers by then - agents free by then + grace),
    # before any new call; then what each new call adds.
    rows: list[tuple[float, float, float, float, float]] = []
    for point in profile.checkpoints:
        gap = float(inputs.answered_waiting - inputs.agents_ready)
        variance = 0.0
        for key, count in ages.items():
            a = point.ringing_answered[key]
            gap += count * a
            variance += count * a * (1.0 - a)
        for remaining, count in soon.items():
            q = 1.0 - math.exp(-(point.seconds + grace) / remaining)
            gap -= count * q
            variance += count * q * (1.0 - q)
        g = point.new_answered
        rows.append((point.weight, gap, variance, g, g * (1.0 - g)))

    total_weight = sum(row[0] for row in rows)
    calls = 0
    while calls < room:
        # With k calls added, the next one costs an abandon if at its answer time or at any later
        # checkpoint the answers so far (its own included) outnumber the agents.
        k = calls
        exposure = 0.0
        worst_after = 0.0
        for weight, gap, variance, g, g_var in reversed(rows):
            overflow = _normal_tail_above(
                (0.5 - (gap + k * g + 1.0)) / math.sqrt(variance + k * g_var + 0.25)
            )
            worst_after = max(worst_after, overflow)
            exposure += weight * worst_after
        if exposure > risk * total_weight:
            break
        calls += 1
    return calls
