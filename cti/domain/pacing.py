"""How many calls a campaign places now: pure pacing maths, fed with what a real dialer can measure.

Nothing here reads a clock, a socket or a database: times come in as plain seconds (any epoch, the
same for one campaign). The async dialer measures (answer outcomes and delays of dial attempts, handle
times of finished calls, who is ready, who is busy and since when, what is ringing and for how long, the
abandon ledger), builds a :class:`PacingInput` and calls :func:`calls_to_place` on every change and on
a tick.

Predictive pacing adds calls one at a time while the next call's risk of being abandoned stays under
the risk the abandon ledger allows (:func:`allowed_risk`). A call answered ``t`` seconds from now (``t``
drawn from the measured answer-delay profile) is abandoned, or steals the agent of a call answered
later, when at ``t`` or any later point of the ring period the answers so far outnumber the agents free
by then plus the grace period. Every busy agent counts by its probability of being free by then: from
the measured handle-time hazard at its call's age, a wrap-up of known length when it ends, or a
memoryless guess from an expected remaining time.

The estimates start carefully and learn fast (see bench/pacing_grid.py for what each choice buys):

- the answer rate is a Beta posterior from a cautious prior (more answers than most lists give, worth a
  few attempts); calls still ringing count as partial evidence (a call ringing for ``a`` seconds is
  answered later with the probability the rate and the delay profile give), so answers, which arrive
  before ring-outs, do not make the rate look high; the delay profile learns an answer's delay only
  once its attempt's ring period is over, from a prior spread over the whole ring time, so quick
  answers, which arrive first, do not make answers look quick and silent ringing calls look lost
  (which made a new campaign's rate look low and its first calls burst); a short-memory estimate takes over when it differs
  significantly from the long one (a list going stale, or fresh); its uncertainty widens the spread of
  the answers expected, so a young estimate dials few calls ahead;
- handle times are a hazard per age band (ends ÷ seconds lived in the band), counting calls still in
  progress as seconds lived without an end, so the short calls that end first do not make calls look
  short; a cautious prior (long calls) carries the cold start;
- both are weighted by when the attempt or the call started, with a memory of about an hour of
  running, and can be saved as plain numbers (:func:`snapshot`, :func:`restore`) so that a restart or
  a rebuild resumes them.

The allowed risk spends the abandon budget evenly: it rises when the ledger is under its target and
falls when over, smoothly; it is zero without room under the cap and grows smoothly with the room
(a new campaign starts progressive and dials ahead a little as soon as its first answers give it a
fraction of an abandon to spare, fully once the room reaches ``full_room`` or, for a bigger team,
``1.5 √agents`` abandons), and at or over the cap no mode places more calls than progressive dialing
would.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from enum import StrEnum

from cti.domain.pacing_estimates import (
    CAUTION_SIGMAS,
    DELAY_BIN,
    AnswerProfile,
    HandleProfile,
    by_age,
)
from cti.domain.texts import _
from cti.errors import UserInputError

# The share of the abandon cap the dialer aims at unless a supervisor sets a target: 2.4 % under a
# 3 % cap. The rate a run ends with scatters around the target by a few tenths of a percent, more
# over a campaign's first minutes (bench/pacing_grid.py); aiming closer to the cap broke it.
DEFAULT_TARGET_SHARE = 0.8


class DialMode(StrEnum):
    """How a campaign is paced. Values match ``CampaignMode`` plus the benchmark's fixed ratio."""

    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"
    FIXED_RATIO = "fixed_ratio"


@dataclass(frozen=True, slots=True, kw_only=True)
class PacingSettings:
    """What a supervisor may change live, and the controller's constants.

    Attributes:
        mode: the dial mode.
        max_dial_ratio: at most this many lines ringing per staffed agent (ready or busy).
        abandon_cap: the legal cap on abandoned ÷ live answers (0.03 = 3%).
        target_abandon: the rate the dialer aims at; under it the allowed risk per call rises, over it
            the risk falls. Lower it to make the dialer more careful.
        max_call_risk: the abandon risk a predictive call may carry when the ledger is on target (the
            aggressiveness). The risk is a model figure; the ledger's feedback calibrates it.
        about_to_free_seconds: kept so that stored settings stay valid; busy agents now count by their
            probability of being free within the answer horizon, whatever their expected remaining time.
        fixed_ratio: lines per free agent in ``FIXED_RATIO`` mode.
        connect_within_seconds: an answered call waits this long for an agent before it counts as
            abandoned; agents freeing within it still take the call.
        risk_gain: how fast the risk follows the ledger: the risk is multiplied by ``e`` for every
            ``1 / risk_gain`` standard deviations of abandons the ledger is under its target.
        max_risk_boost: the most the risk may be multiplied by while the ledger is under target;
            a young ledger gets less of it (all once it expects ten abandons at its target).
        full_room: abandons to spare under the cap from which the full risk is allowed (at least: a
            team of ``n`` staffed agents needs ``1.5 √n``); with none to spare no risk is, in between
            it rises smoothly from zero.
    """

    mode: DialMode
    max_dial_ratio: float = 4.0
    abandon_cap: float = 0.03
    target_abandon: float = 0.03 * DEFAULT_TARGET_SHARE  # 2.4 % under the default 3 % cap
    max_call_risk: float = 0.05
    about_to_free_seconds: float = 20.0
    fixed_ratio: float = 2.0
    connect_within_seconds: float = 2.0
    risk_gain: float = 1.0
    max_risk_boost: float = 6.0
    full_room: float = 6.0

    def __post_init__(self) -> None:
        if not self.max_dial_ratio >= 1.0:
            raise UserInputError("max_dial_ratio", _("must be at least 1"))
        if not 0.0 < self.abandon_cap < 1.0:
            raise UserInputError("abandon_cap", _("must be between 0 and 1"))
        if not 0.0 <= self.target_abandon < self.abandon_cap:
            raise UserInputError(
                "target_abandon", _("must be at least 0 and below the abandon cap")
            )
        if not 0.0 <= self.max_call_risk <= 1.0:
            raise UserInputError("max_call_risk", _("must be between 0 and 1"))
        if not self.about_to_free_seconds >= 0.0:
            raise UserInputError("about_to_free_seconds", _("must not be negative"))
        if not self.fixed_ratio >= 1.0:
            raise UserInputError("fixed_ratio", _("must be at least 1"))
        if not self.connect_within_seconds >= 0.0:
            raise UserInputError("connect_within_seconds", _("must not be negative"))
        if not self.risk_gain >= 0.0:
            raise UserInputError("risk_gain", _("must not be negative"))
        if not self.max_risk_boost >= 1.0:
            raise UserInputError("max_risk_boost", _("must be at least 1"))
        if not self.full_room > 0.0:
            raise UserInputError("full_room", _("must be positive"))


# --------------------------------------------------------------------------------------------------
# Decision


@dataclass(frozen=True, slots=True, kw_only=True)
class PacingInput:
    """What the dialer knows about one campaign at the moment of decision.

    Attributes:
        agents_ready: agents logged in, not paused, waiting for a call.
        busy_ages_seconds: one entry per agent in a call: how long the call has lasted (they free by
            the ``handle`` hazard).
        handle: the campaign's handle-time hazard; needed with ``busy_ages_seconds``.
        wrapup_remaining_seconds: one entry per agent in a wrap-up of known length: seconds left.
        busy_remaining_seconds: one entry per other busy agent: the expected seconds until it is ready
            again, taken as memoryless.
        ringing_ages_seconds: one entry per call placed and not yet answered or ended: its age.
        answered_waiting: answered calls waiting in the queue for an agent.
        answers: the campaign's answer-rate evidence and answer-delay profile.
        ledger_live_answers: live answers in the abandon ledger's window.
        ledger_abandoned: abandoned calls in the ledger's window.
        leads_available: leads that may be dialled now (after windows, DNC, retries); ``None`` when
            pacing should not cap on it.
    """

    agents_ready: int
    busy_ages_seconds: tuple[float, ...] = ()
    handle: HandleProfile | None = None
    wrapup_remaining_seconds: tuple[float, ...] = ()
    busy_remaining_seconds: tuple[float, ...] = ()
    ringing_ages_seconds: tuple[float, ...] = ()
    answered_waiting: int = 0
    answers: AnswerProfile
    ledger_live_answers: int = 0
    ledger_abandoned: int = 0
    leads_available: int | None = None

    def __post_init__(self) -> None:
        if self.agents_ready < 0:
            raise UserInputError("agents_ready", _("must not be negative"))
        if self.answered_waiting < 0:
            raise UserInputError("answered_waiting", _("must not be negative"))
        if not 0 <= self.ledger_abandoned <= self.ledger_live_answers:
            raise UserInputError("ledger_abandoned", _("must be between 0 and the live answers"))
        if self.busy_ages_seconds and self.handle is None:
            raise UserInputError("handle", _("busy agents by age need the handle-time hazard"))

    @property
    def agents_busy(self) -> int:
        return (
            len(self.busy_ages_seconds)
            + len(self.wrapup_remaining_seconds)
            + len(self.busy_remaining_seconds)
        )


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


def allowed_risk(
    settings: PacingSettings, live_answers: int, abandoned: int, agents: int = 0
) -> float:
    """The abandon risk a new predictive call may carry, given the ledger.

    - Room: ``abandon_cap`` × live answers − abandoned is what the ledger can still take. With no
      room no risk is allowed (a new campaign dials progressively until its first answers); the
      allowed share rises smoothly from zero (a fraction of an abandon of room allows a tiny risk)
      to all of it at ``full_room`` abandons of room, or ``1.5 √agents`` for a team of ``agents``
      staffed agents if more: a bigger team has more calls in flight, which overflow by more at
      once, so it keeps more room in hand.
    - Feedback: the spare abandons under the target (``target_abandon`` × live answers − abandoned),
      in standard deviations of the abandons expected, multiply ``max_call_risk`` by
      ``exp(risk_gain × spare)``, at most ``max_risk_boost`` (less while the ledger expects fewer
      than ten abandons: a young ledger under its target proves little): the risk rises while the
      ledger is under its target and falls when over, so the budget is spent evenly, not saved.
    """
    room = settings.abandon_cap * live_answers - abandoned
    if room <= 0.0:
        return 0.0
    # A bigger team has more calls in flight, which can overflow by more at once.
    full = max(settings.full_room, _ROOM_PER_ROOT_AGENT * math.sqrt(agents))
    x = min(1.0, room / full)
    brake = x * x * (3.0 - 2.0 * x)
    expected = settings.target_abandon * live_answers
    spare = expected - abandoned
    z = settings.risk_gain * spare / math.sqrt(max(1.0, expected))
    # A young ledger under its target says little: the risk may rise only as it fills.
    ceiling = math.log(settings.max_risk_boost) * min(1.0, expected / _BOOST_EVIDENCE)
    boost = math.exp(max(-6.0, min(ceiling, z)))
    return min(1.0, settings.max_call_risk * boost * brake)


# Abandons the ledger must expect at its target before the risk may rise to its full boost.
_BOOST_EVIDENCE = 10.0
# The room from which the full risk is allowed grows with the square root of the staffed agents.
_ROOM_PER_ROOT_AGENT = 1.5


def _progressive(inputs: PacingInput) -> int:
    free = inputs.agents_ready - inputs.answered_waiting
    return max(0, free - len(inputs.ringing_ages_seconds))


def _ratio_room(settings: PacingSettings, inputs: PacingInput) -> int:
    staffed = inputs.agents_ready + inputs.agents_busy
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
        risk = allowed_risk(
            settings,
            inputs.ledger_live_answers,
            inputs.ledger_abandoned,
            inputs.agents_ready + inputs.agents_busy,
        )
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


def _supply(
    settings: PacingSettings, inputs: PacingInput, horizons: tuple[float, ...]
) -> tuple[list[float], list[float]]:
    """Mean and variance of the agents free by each horizon (ready ones included)."""
    n = len(horizons)
    mean = [float(inputs.agents_ready)] * n
    var = [0.0] * n
    if inputs.busy_ages_seconds:
        assert inputs.handle is not None
        free = inputs.handle._free
        sums = [0.0] * n
        squares = [0.0] * n
        for age in inputs.busy_ages_seconds:
            qs, qq = free(age, horizons)
            sums = list(map(operator.add, sums, qs))
            squares = list(map(operator.add, squares, qq))
        for i in range(n):
            mean[i] += sums[i]
            var[i] += sums[i] - squares[i]
    for left in inputs.wrapup_remaining_seconds:
        for i in range(n):
            if left <= horizons[i]:
                mean[i] += 1.0
    for remaining in inputs.busy_remaining_seconds:
        scale = max(1.0, remaining)
        for i in range(n):
            q = 1.0 - math.exp(-horizons[i] / scale)
            mean[i] += q
            var[i] += q * (1.0 - q)
    return mean, var


def _predictive(settings: PacingSettings, inputs: PacingInput, risk: float, room: int) -> int:
    profile = inputs.answers
    if not profile.checkpoints or risk <= 0.0 or room <= 0:
        return 0
    ages = by_age(inputs.ringing_ages_seconds, profile.ring_timeout_seconds)
    estimate = profile._estimate(ages)
    # Pace with a pessimistic answer rate: the posterior mean plus its uncertainty, so that a young
    # estimate (a new campaign, a list that just changed) places no more calls than it can back.
    r = min(0.999, estimate.rate + CAUTION_SIGMAS * math.sqrt(estimate.variance))
    points = profile.checkpoints
    horizons = tuple(p.seconds + settings.connect_within_seconds for p in points)
    supply_mean, supply_var = _supply(settings, inputs, horizons)
    survival = profile.survival
    n = len(survival)
    heads = [(survival[k] if k < n else 0.0, k, c) for k, c in ages.items()]

    # At each checkpoint: mean and variance of (answers by then - agents free by then), before any
    # new call; then what each new call adds.
    rows: list[tuple[float, float, float, float, float]] = []
    for i, point in enumerate(points):
        gap = float(inputs.answered_waiting) - supply_mean[i]
        variance = supply_var[i]
        ahead = int(point.seconds / DELAY_BIN)
        for head, key, count in heads:
            index = key + ahead
            spent = head - (survival[index] if index < n else 0.0)
            denominator = r * head + 1.0 - r
            a = r * spent / denominator
            gap += count * a
            variance += count * a * (1.0 - a)
        g = r * point.answered_share
        rows.append((point.weight, gap, variance, g, g * (1.0 - g)))
    rows.reverse()
    total_weight = sum(row[0] for row in rows)
    limit = risk * total_weight

    def exposure(k: int) -> float:
        # The (k+1)-th call costs an abandon if at its answer time or at any later checkpoint the
        # answers so far (its own included) outnumber the agents.
        total = 0.0
        worst_after = 0.0
        for weight, gap, variance, g, g_var in rows:
            spread = math.sqrt(variance + k * g_var + 0.25)
            overflow = _normal_tail_above((0.5 - (gap + k * g + 1.0)) / spread)
            worst_after = max(worst_after, overflow)
            total += weight * worst_after
        return total

    if exposure(0) > limit:
        return 0
    # The exposure grows with k: gallop, then bisect for the last k within the limit.
    last = room - 1  # the (k+1)-th call is the last the ratio leaves room for
    good, step, bad = 0, 1, -1
    while good < last:
        probe = min(last, good + step)
        if exposure(probe) <= limit:
            good, step = probe, step * 2
        else:
            bad = probe
            break
    if bad < 0:
        return good + 1
    while bad - good > 1:
        middle = (good + bad) // 2
        if exposure(middle) <= limit:
            good = middle
        else:
            bad = middle
    return good + 1
