"""What a campaign's pacing has measured: the answer rate and answer delays of its dial attempts,
and the handle times of its calls, as estimates that start carefully and learn fast (see
:mod:`cti.domain.pacing` for how the decision uses them).

- the answer rate is a Beta posterior from a cautious prior; calls still ringing count as partial
  evidence, so answers, which arrive before ring-outs, do not make the rate look high; a
  short-memory estimate takes over when it differs significantly from the long one;
- answer delays are learnt once the attempt's ring period is over (every attempt placed with it has
  then shown its answer), from a prior spread over the whole ring time, so the quick answers, which
  arrive first, do not make answers look quick and a call still ringing look lost;
- handle times are a hazard per age band counting calls still in progress, so the short calls that
  end first do not make calls look short; a cautious prior carries the cold start;
- both fade with a memory of about an hour of running and are saved as plain numbers
  (:func:`snapshot`, :func:`restore`) so that a restart or a rebuild resumes them.

Pure: times come in as plain seconds.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from cti.domain.texts import _
from cti.errors import UserInputError


def _fade(elapsed: float, memory: float) -> float:
    """The weight an observation keeps after ``elapsed`` seconds with a memory of ``memory``."""
    return math.exp(-elapsed / memory) if elapsed > 0.0 else 1.0


# --------------------------------------------------------------------------------------------------
# Answers

DELAY_BIN = 1.0  # seconds per answer-delay bin
_CHECKPOINT_STEP = 2  # answer-delay bins per pacing checkpoint
_PRIOR_DELAY_WEIGHT = 5.0  # answers the prior delay shape is worth
_SWITCH_SIGMAS = 3.0  # how far apart (in standard deviations) the short and long memories must be
CAUTION_SIGMAS = 2.0  # pacing takes the answer rate this many standard deviations above its mean


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerStats:
    """A campaign's answer rate and answer-delay distribution, weighted by when attempts were placed.

    Each attempt counts with the weight ``exp(-(now - placed) / memory)``: an attempt placed an hour
    ago counts a third as much as one placed now. Two memories are kept: the long one
    (``memory_seconds``) for precision, the short one (``recent_seconds``) to see a list change. The
    counts are valued at ``at`` (seconds); :meth:`rebased` moves ``at`` without fading them (after a
    restart or a pause, time without dialling teaches nothing).

    Attributes:
        ring_timeout_seconds: an unanswered call is given up after this long.
        at: when the counts were last valued.
        attempts: weighted number of finished attempts (long memory).
        answered: weighted number of those a person answered.
        recent_attempts: the same with the short memory.
        recent_answered: the same with the short memory.
        delay_bins: weighted counts of answer delays, one bin per second from 0 (long memory), of
            the attempts whose ring period is over.
        pending: (placed at, delay) of the answers whose attempt was placed less than a ring timeout
            before ``at``: they join ``delay_bins`` once every attempt placed with them has had its
            whole ring period, so that the quick answers, which arrive first, do not make answers look
            quick (and a call still ringing look unlikely to be answered).
        prior_rate: the answer rate assumed before any measurement (cautious: high).
        prior_weight: how many attempts the prior is worth.
        memory_seconds: the long memory.
        recent_seconds: the short memory.
    """

    ring_timeout_seconds: float = 20.0
    at: float = 0.0
    attempts: float = 0.0
    answered: float = 0.0
    recent_attempts: float = 0.0
    recent_answered: float = 0.0
    delay_bins: tuple[float, ...] = ()
    pending: tuple[tuple[float, float], ...] = ()
    prior_rate: float = 0.4
    prior_weight: float = 4.0
    memory_seconds: float = 3600.0
    recent_seconds: float = 120.0

    def __post_init__(self) -> None:
        if not self.ring_timeout_seconds >= 1.0:
            raise UserInputError("ring_timeout_seconds", _("must be at least 1 second"))
        if not 0.0 < self.prior_rate < 1.0:
            raise UserInputError("prior_rate", _("must be in (0, 1)"))
        if not self.prior_weight > 0.0:
            raise UserInputError("prior_weight", _("must be positive"))
        if not (self.memory_seconds > 0.0 and self.recent_seconds > 0.0):
            raise UserInputError("memory_seconds", _("must be positive"))
        if not (0.0 <= self.answered <= self.attempts + 1e-9):
            raise UserInputError("answered", _("must be between 0 and attempts"))
        if not (0.0 <= self.recent_answered <= self.recent_attempts + 1e-9):
            raise UserInputError("recent_answered", _("must be between 0 and recent_attempts"))
        bins = math.ceil(self.ring_timeout_seconds / DELAY_BIN)
        if not self.delay_bins:
            object.__setattr__(self, "delay_bins", (0.0,) * bins)
        elif len(self.delay_bins) != bins:
            raise UserInputError(
                "delay_bins", _("needs {bins} bins for the ring timeout"), bins=bins
            )

    @property
    def rate(self) -> float:
        """The posterior mean of the answer rate from finished attempts (long memory, prior in)."""
        w = self.prior_weight
        return (self.answered + self.prior_rate * w) / (self.attempts + w)

    @property
    def measured(self) -> float | None:
        """The share of finished attempts a person answered (long memory, no prior): what a
        supervisor reads as the campaign's answer rate; ``None`` before the first attempt ends."""
        return self.answered / self.attempts if self.attempts > 1e-9 else None

    def rebased(self, at: float) -> AnswerStats:
        """The same counts, valued at ``at`` (nothing fades)."""
        return replace(self, at=at)

    def _moved(self, at: float) -> tuple[float, float, float]:
        """(new ``at``, long fade, short fade) to value the counts at ``max(at, self.at)``."""
        if at <= self.at:
            return self.at, 1.0, 1.0
        gap = at - self.at
        return at, _fade(gap, self.memory_seconds), _fade(gap, self.recent_seconds)

    def _observe(self, placed_at: float, at: float, answered: bool, delay: float) -> AnswerStats:
        now, long_fade, short_fade = self._moved(at)
        age = now - placed_at
        w = _fade(age, self.memory_seconds)
        wr = _fade(age, self.recent_seconds)
        pending = (*self.pending, (placed_at, delay)) if answered else self.pending
        bins, pending = self._settled(now, long_fade, pending)
        hit = 1.0 if answered else 0.0
        return replace(
            self,
            at=now,
            attempts=self.attempts * long_fade + w,
            answered=self.answered * long_fade + hit * w,
            recent_attempts=self.recent_attempts * short_fade + wr,
            recent_answered=self.recent_answered * short_fade + hit * wr,
            delay_bins=bins,
            pending=pending,
        )

    def _settled(
        self,
        now: float,
        long_fade: float,
        pending: tuple[tuple[float, float], ...],
        *,
        everything: bool = False,
    ) -> tuple[tuple[float, ...], tuple[tuple[float, float], ...]]:
        """The delay bins valued at ``now`` with the pending answers whose ring period is over by
        then (all of them with ``everything``), and the answers still pending."""
        timeout = self.ring_timeout_seconds
        due = [p for p in pending if everything or p[0] + timeout <= now]
        if not due and long_fade == 1.0:
            return self.delay_bins, pending
        bins = [c * long_fade for c in self.delay_bins]
        for placed, delay in due:
            index = min(len(bins) - 1, max(0, int(delay / DELAY_BIN)))
            bins[index] += _fade(now - placed, self.memory_seconds)
        if due:
            pending = tuple(p for p in pending if not everything and p[0] + timeout > now)
        return tuple(bins), pending

    def observe_answer(self, placed_at: float, answered_at: float) -> AnswerStats:
        """An attempt placed at ``placed_at`` was answered by a person at ``answered_at``."""
        return self._observe(placed_at, answered_at, True, max(0.0, answered_at - placed_at))

    def observe_unanswered(self, placed_at: float, ended_at: float) -> AnswerStats:
        """An attempt ended without a person (no answer, busy, congestion, machine, failure)."""
        return self._observe(placed_at, ended_at, False, 0.0)

    def profile(self, now: float) -> AnswerProfile:
        """The figures pacing needs at ``now``, computed once per change rather than per decision."""
        at, long_fade, short_fade = self._moved(now)
        bins, _ = self._settled(at, long_fade, self.pending)
        n = len(bins)
        # Prior shape: answers spread evenly over the ring time (a call still ringing stays likely
        # to be answered until the measured delays say otherwise).
        prior = [_PRIOR_DELAY_WEIGHT / n] * n
        counts = [c + p for c, p in zip(bins, prior, strict=True)]
        total = sum(counts)
        return AnswerProfile.build(
            [c / total for c in counts],
            self.ring_timeout_seconds,
            pools=(
                (self.answered * long_fade, self.attempts * long_fade),
                (self.recent_answered * short_fade, self.recent_attempts * short_fade),
            ),
            prior_rate=self.prior_rate,
            prior_weight=self.prior_weight,
            memories=(self.memory_seconds, self.recent_seconds),
        )


def by_age(ages_seconds: Sequence[float], ring_timeout: float) -> dict[int, int]:
    """How many ringing calls of each age (whole delay bins), those past the ring timeout left out."""
    out: dict[int, int] = {}
    for age in ages_seconds:
        if age < ring_timeout:
            key = int(age / DELAY_BIN) if age > 0.0 else 0
            out[key] = out.get(key, 0) + 1
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """One point of the ring period at which pacing balances answers against agents.

    Attributes:
        seconds: how far ahead of now.
        weight: the share of a new call's answers (if answered) that fall in this checkpoint's slice.
        answered_share: the share of answers given by ``seconds`` after the call was placed.
    """

    seconds: float
    weight: float
    answered_share: float


@dataclass(frozen=True, slots=True, kw_only=True)
class RateEstimate:
    """The answer rate a decision uses: its posterior mean and variance."""

    rate: float
    variance: float


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerProfile:
    """Answer-rate evidence and answer-delay distribution, precomputed for pacing.

    Build it with :meth:`AnswerStats.profile`.

    Attributes:
        survival: ``survival[i]`` is the share of answered calls answered at or after second ``i``.
        ring_timeout_seconds: when an unanswered call is given up.
        checkpoints: the pacing checkpoints over the ring period.
        pools: (answered, attempts) of finished attempts, long memory then short memory, weighted.
        prior_rate: the prior answer rate.
        prior_weight: how many attempts the prior is worth.
        memories: the long and the short memory, in seconds.
    """

    survival: tuple[float, ...]
    ring_timeout_seconds: float
    checkpoints: tuple[Checkpoint, ...]
    pools: tuple[tuple[float, float], tuple[float, float]]
    prior_rate: float
    prior_weight: float
    memories: tuple[float, float]

    @classmethod
    def build(
        cls,
        delay_shares: Sequence[float],
        ring_timeout: float,
        *,
        pools: tuple[tuple[float, float], tuple[float, float]],
        prior_rate: float,
        prior_weight: float,
        memories: tuple[float, float] = (3600.0, 120.0),
    ) -> AnswerProfile:
        """From the share of answers in each one-second delay bin and the rate evidence."""
        survival: list[float] = []
        remaining = 1.0
        for share in delay_shares:
            # Rounding leaves crumbs after the last answer bin; they are no answers.
            survival.append(remaining if remaining > 1e-9 else 0.0)
            remaining -= share
        n = len(survival)

        def survival_at(index: int) -> float:
            return survival[index] if index < n else 0.0

        points: list[Checkpoint] = []
        previous = 0.0
        for start in range(0, n, _CHECKPOINT_STEP):
            end = min(n, start + _CHECKPOINT_STEP)
            cdf = 1.0 - survival_at(end)
            weight = cdf - previous
            previous = cdf
            if weight <= 1e-9:
                continue
            points.append(Checkpoint(seconds=end * DELAY_BIN, weight=weight, answered_share=cdf))
        return cls(
            survival=tuple(survival),
            ring_timeout_seconds=ring_timeout,
            checkpoints=tuple(points),
            pools=pools,
            prior_rate=prior_rate,
            prior_weight=prior_weight,
            memories=memories,
        )

    @property
    def rate(self) -> float:
        """The answer rate from finished attempts only (long memory, prior included)."""
        answered, attempts = self.pools[0]
        w = self.prior_weight
        return (answered + self.prior_rate * w) / (attempts + w)

    def survival_at(self, seconds: float) -> float:
        """The share of answered calls answered at or after ``seconds``."""
        index = int(seconds / DELAY_BIN)
        return self.survival[index] if 0 <= index < len(self.survival) else 0.0

    def answered_within(
        self, age_seconds: float, seconds: float, rate: float | None = None
    ) -> float:
        """The probability that a call ringing for ``age_seconds`` is answered in ``seconds``."""
        if age_seconds >= self.ring_timeout_seconds:
            return 0.0
        r = self.rate if rate is None else rate
        head = r * self.survival_at(age_seconds)
        still_ringing = head + (1.0 - r)
        if still_ringing <= 0.0:
            return 0.0
        later = r * self.survival_at(age_seconds + seconds)
        return (head - later) / still_ringing

    def answer_probability(self, age_seconds: float, rate: float | None = None) -> float:
        """The probability that a call still ringing at ``age_seconds`` will be answered."""
        return self.answered_within(age_seconds, self.ring_timeout_seconds, rate)

    def estimate(self, ringing_ages_seconds: Sequence[float] = ()) -> RateEstimate:
        """The answer rate to pace with, counting calls still ringing as partial evidence.

        For each memory: the posterior mean solves ``r = (prior + answered + Σ p_i(r)) / (prior +
        attempts + Σ 1)`` over the calls ringing (``p_i(r)``: the chance a call ringing for ``a_i`` is
        still answered), the fixed point of expectation-maximisation for a rate whose negatives are
        only known at the ring timeout. The variance counts a ringing call as the share of its
        answer chance already past. The short memory is used when it differs from the long one by
        more than three standard deviations.
        """
        return self._estimate(by_age(ringing_ages_seconds, self.ring_timeout_seconds))

    def _estimate(self, ages: Mapping[int, int]) -> RateEstimate:
        survival, n = self.survival, len(self.survival)
        heads = [(survival[k] if k < n else 0.0, count) for k, count in ages.items()]
        long = self._solve(*self.pools[0], heads, self.memories[0])
        short = self._solve(*self.pools[1], heads, self.memories[1])
        gap = short.rate - long.rate
        if gap * gap > _SWITCH_SIGMAS**2 * (long.variance + short.variance):
            return short
        return long

    def _solve(
        self, answered: float, attempts: float, heads: list[tuple[float, int]], memory: float
    ) -> RateEstimate:
        w = self.prior_weight
        base_hits = answered + self.prior_rate * w
        # Ringing calls were placed within the ring timeout: they weigh (nearly) one each.
        weight = _fade(self.ring_timeout_seconds / 2, memory)
        ringing = sum(count for _, count in heads) * weight
        total = attempts + w + ringing
        r = min(0.999, max(0.001, (base_hits + 0.5 * ringing * self.rate) / total))
        for _round in range(4):
            hits = base_hits
            for s, count in heads:
                hits += count * weight * (r * s / (r * s + 1.0 - r))
            r = min(0.999, max(0.001, hits / total))
        informed = attempts + w + sum(count * weight * (1.0 - s) for s, count in heads)
        return RateEstimate(rate=r, variance=r * (1.0 - r) / (informed + 1.0))


# --------------------------------------------------------------------------------------------------
# Handle times

# Age bands of a call, in seconds; the last band is open-ended.
_HANDLE_EDGES = (
    0.0,
    10.0,
    20.0,
    30.0,
    45.0,
    60.0,
    90.0,
    120.0,
    150.0,
    180.0,
    240.0,
    300.0,
    420.0,
    600.0,
    900.0,
    1200.0,
    1800.0,
    2700.0,
    3600.0,
)
_HANDLE_BANDS = len(_HANDLE_EDGES)
_SHRINK_ENDS = 2.0  # a band's hazard is pulled towards the overall one by this many ends' worth


def _lived(seconds: float) -> list[tuple[int, float]]:
    """(band, seconds lived in it) for a call of ``seconds``."""
    out: list[tuple[int, float]] = []
    for i, start in enumerate(_HANDLE_EDGES):
        if seconds <= start:
            break
        end = _HANDLE_EDGES[i + 1] if i + 1 < _HANDLE_BANDS else math.inf
        out.append((i, min(seconds, end) - start))
    return out


def _band(seconds: float) -> int:
    return max(0, bisect_right(_HANDLE_EDGES, seconds) - 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class HandleStats:
    """Handle times (talk + wrap-up) of a campaign's calls as a hazard per age band.

    Each finished call adds an end to the band it ended in and the seconds it lived to every band it
    went through, weighted by when it started (``exp(-(now - start) / memory)``); calls in progress
    add their seconds lived, without an end, when the profile is built. The hazard of a band is its
    ends over its seconds lived, pulled towards the overall hazard where it has few ends.

    Attributes:
        at: when the counts were last valued (seconds).
        ended: weighted calls that ended in each band.
        lived: weighted seconds lived in each band by calls that ended.
        prior_seconds: the handle time assumed before any measurement (cautious: long).
        prior_weight: how many calls the prior is worth.
        memory_seconds: the memory.
    """

    at: float = 0.0
    ended: tuple[float, ...] = ()
    lived: tuple[float, ...] = ()
    prior_seconds: float = 300.0
    prior_weight: float = 3.0
    memory_seconds: float = 3600.0

    def __post_init__(self) -> None:
        if not self.prior_seconds > 0:
            raise UserInputError("prior_seconds", _("must be positive"))
        if not self.prior_weight > 0:
            raise UserInputError("prior_weight", _("must be positive"))
        if not self.memory_seconds > 0:
            raise UserInputError("memory_seconds", _("must be positive"))
        for name in ("ended", "lived"):
            value = getattr(self, name)
            if not value:
                object.__setattr__(self, name, (0.0,) * _HANDLE_BANDS)
            elif len(value) != _HANDLE_BANDS or min(value) < 0.0:
                raise UserInputError(
                    name,
                    _("needs {count} counts, none negative"),
                    count=_HANDLE_BANDS,
                )

    def rebased(self, at: float) -> HandleStats:
        """The same counts, valued at ``at`` (nothing fades)."""
        return replace(self, at=at)

    def observe(self, handle_seconds: float, ended_at: float) -> HandleStats:
        """A call (with its wrap-up) lasted ``handle_seconds`` and ended at ``ended_at``."""
        seconds = max(0.0, handle_seconds)
        now = max(ended_at, self.at)
        fade = _fade(now - self.at, self.memory_seconds)
        w = _fade(now - ended_at + seconds, self.memory_seconds)
        ended = [c * fade for c in self.ended]
        lived = [c * fade for c in self.lived]
        ended[_band(seconds)] += w
        for band, span in _lived(seconds):
            lived[band] += w * span
        return replace(self, at=now, ended=tuple(ended), lived=tuple(lived))

    @property
    def average_seconds(self) -> float:
        """The mean handle time of the calls that ended (prior included), for the wallboard."""
        fade_free_ends = sum(self.ended)
        return (sum(self.lived) + self.prior_seconds * self.prior_weight) / (
            fade_free_ends + self.prior_weight
        )

    def profile(self, now: float, in_progress: Sequence[float] = ()) -> HandleProfile:
        """The hazard per band at ``now``, counting the calls in progress (their ages in seconds)."""
        fade = _fade(now - self.at, self.memory_seconds)
        ended = [c * fade for c in self.ended]
        lived = [c * fade for c in self.lived]
        for age in in_progress:
            w = _fade(age, self.memory_seconds)
            for band, span in _lived(age):
                lived[band] += w * span
        overall = (sum(ended) + self.prior_weight) / (
            sum(lived) + self.prior_weight * self.prior_seconds
        )
        pull = _SHRINK_ENDS / overall  # seconds lived worth _SHRINK_ENDS ends at the overall hazard
        hazards = tuple((e + _SHRINK_ENDS) / (s + pull) for e, s in zip(ended, lived, strict=True))
        return HandleProfile.build(hazards)


@dataclass(frozen=True, slots=True, kw_only=True)
class HandleProfile:
    """Hazard (ends per second) of a call per age band, for pacing.

    Attributes:
        hazards: one hazard per band of ``_HANDLE_EDGES``.
        cumulative: the cumulative hazard at the start of each band.
    """

    hazards: tuple[float, ...]
    cumulative: tuple[float, ...]
    _cache: dict[tuple[int, tuple[float, ...]], tuple[tuple[float, ...], tuple[float, ...]]] = (
        field(default_factory=dict, compare=False, repr=False)
    )

    @classmethod
    def build(cls, hazards: Sequence[float]) -> HandleProfile:
        if len(hazards) != _HANDLE_BANDS or min(hazards) < 0.0:
            raise UserInputError(
                "hazards",
                _("needs {count} hazards, none negative"),
                count=_HANDLE_BANDS,
            )
        cumulative = [0.0]
        for i in range(_HANDLE_BANDS - 1):
            cumulative.append(
                cumulative[-1] + hazards[i] * (_HANDLE_EDGES[i + 1] - _HANDLE_EDGES[i])
            )
        return cls(hazards=tuple(hazards), cumulative=tuple(cumulative))

    @classmethod
    def memoryless(cls, mean_seconds: float) -> HandleProfile:
        """Calls that end at a constant rate, ``mean_seconds`` on average."""
        return cls.build([1.0 / mean_seconds] * _HANDLE_BANDS)

    def cumulative_at(self, seconds: float) -> float:
        band = _band(seconds)
        return self.cumulative[band] + self.hazards[band] * (seconds - _HANDLE_EDGES[band])

    def free_within(self, age_seconds: float, horizons: tuple[float, ...]) -> tuple[float, ...]:
        """For a call ``age_seconds`` old: the probability it has ended within each horizon."""
        return self._free(age_seconds, horizons)[0]

    def _free(
        self, age_seconds: float, horizons: tuple[float, ...]
    ) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """:meth:`free_within` and its squares, cached per whole second of age."""
        key = (int(age_seconds), horizons)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        age = float(int(age_seconds)) + 0.5
        start = self.cumulative_at(age)
        qs = tuple(1.0 - math.exp(start - self.cumulative_at(age + h)) for h in horizons)
        if len(self._cache) > 20_000:
            self._cache.clear()
        pair = (qs, tuple(q * q for q in qs))
        self._cache[key] = pair
        return pair

    @property
    def mean_seconds(self) -> float:
        """The mean handle time this hazard gives."""
        total = 0.0
        for i, h in enumerate(self.hazards):
            alive = math.exp(-self.cumulative[i])
            if i + 1 < _HANDLE_BANDS:
                width = _HANDLE_EDGES[i + 1] - _HANDLE_EDGES[i]
                total += alive * (width if h <= 0.0 else (1.0 - math.exp(-h * width)) / h)
            else:
                total += alive / h if h > 0.0 else 0.0
        return total


# --------------------------------------------------------------------------------------------------
# Saving the estimates

SNAPSHOT_PREFIX = "estimate."


def snapshot(answers: AnswerStats, handle: HandleStats) -> dict[str, float]:
    """The estimates as plain numbers (keys under :data:`SNAPSHOT_PREFIX`), valued at their time."""
    p = SNAPSHOT_PREFIX
    # The answers still pending join their delay bins now: a few recent delays are not worth a
    # format of their own.
    bins, _ = answers._settled(answers.at, 1.0, answers.pending, everything=True)
    out: dict[str, float] = {
        f"{p}answers.at": answers.at,
        f"{p}answers.attempts": answers.attempts,
        f"{p}answers.answered": answers.answered,
        f"{p}answers.recent_attempts": answers.recent_attempts,
        f"{p}answers.recent_answered": answers.recent_answered,
        f"{p}handle.at": handle.at,
    }
    for i, c in enumerate(bins):
        out[f"{p}delay.{i}"] = c
    for i, (e, s) in enumerate(zip(handle.ended, handle.lived, strict=True)):
        out[f"{p}handle.ended.{i}"] = e
        out[f"{p}handle.lived.{i}"] = s
    return {k: round(v, 6) for k, v in out.items()}


def restore(
    data: Mapping[str, float], *, ring_timeout_seconds: float, now: float
) -> tuple[AnswerStats, HandleStats]:
    """The estimates saved with :func:`snapshot`, valued at ``now`` without fading (the time the
    campaign did not dial teaches nothing); fresh estimates where nothing (usable) was saved."""
    p = SNAPSHOT_PREFIX
    answers = AnswerStats(ring_timeout_seconds=ring_timeout_seconds, at=now)
    handle = HandleStats(at=now)
    try:
        if f"{p}handle.at" in data:
            handle = HandleStats(
                at=now,
                ended=tuple(float(data[f"{p}handle.ended.{i}"]) for i in range(_HANDLE_BANDS)),
                lived=tuple(float(data[f"{p}handle.lived.{i}"]) for i in range(_HANDLE_BANDS)),
            )
    except (KeyError, TypeError, ValueError, UserInputError):
        handle = HandleStats(at=now)
    try:
        if f"{p}answers.at" in data:
            bins = len(answers.delay_bins)
            delays = tuple(float(data[f"{p}delay.{i}"]) for i in range(bins))
            if f"{p}delay.{bins}" in data:  # saved with another ring timeout: its delays differ
                delays = ()
            answers = AnswerStats(
                ring_timeout_seconds=ring_timeout_seconds,
                at=now,
                attempts=float(data[f"{p}answers.attempts"]),
                answered=float(data[f"{p}answers.answered"]),
                recent_attempts=float(data[f"{p}answers.recent_attempts"]),
                recent_answered=float(data[f"{p}answers.recent_answered"]),
                delay_bins=delays,
            )
    except (KeyError, TypeError, ValueError, UserInputError):
        answers = AnswerStats(ring_timeout_seconds=ring_timeout_seconds, at=now)
    return answers, handle
