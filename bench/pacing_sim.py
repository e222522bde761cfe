"""A discrete-event model of one outbound campaign, shared by the pacing benchmarks.

``agents`` agents work one campaign. A call placed at ``t`` is answered by a person with the
scenario's answer rate at ``t``, ``ANSWER_MIN``-``ANSWER_MAX`` seconds later (uniform); otherwise it rings
out at ``RING_TIMEOUT``. An answered call waits at most ``CONNECT_WITHIN`` seconds for an agent, else it
is abandoned; a connected call keeps its agent for a handle time drawn from the scenario. The model
draws each call's fate when the call is placed; the dialer only learns it when the event happens.

Strategies:

- ``cti``: exactly the service's code: :mod:`cti.domain.pacing` decides, fed only with what the
  dialer measures (answer outcomes and delays of attempts by when they were placed, handle times of
  finished calls, the ages of the calls in progress, who is ready, the ages of ringing calls), and
  :class:`cti.domain.compliance.AbandonLedger` keeps the abandon rate it reacts to. The answer profile
  is rebuilt at each outcome and the handle-time profile every ``HANDLE_REFRESH`` seconds, as
  ``cti.dialer`` does; with ``restart_every`` the estimates are saved every ``SAVE_EVERY`` seconds
  and a restart rebuilds them from the last save (the ledger comes back whole, from the database).
- ``before``: the pacing maths before issue #19 (``bench/pacing_before.py``) fed as the service fed
  it then (a restart rebuilds the estimates from the priors).
- ``fixed``: ``ratio`` lines per free agent, ringing calls included (``DialMode.FIXED_RATIO``).
- ``progressive``: one line per free agent (``DialMode.PROGRESSIVE``).
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pacing_before as old

from cti.domain.compliance import AbandonLedger
from cti.domain.pacing import (
    DialMode,
    PacingInput,
    PacingSettings,
    calls_to_place,
)
from cti.domain.pacing_estimates import (
    AnswerStats,
    HandleStats,
    restore,
    snapshot,
)

ANSWER_MIN, ANSWER_MAX = 4.0, 16.0
RING_TIMEOUT = 20.0
CONNECT_WITHIN = 2.0
TICK = 1.0
HANDLE_REFRESH = 5.0  # seconds between handle-time profiles, as the service does
SAVE_EVERY = 10.0  # seconds between saved estimates, as the service does (SAVE_SECONDS)
FIRST = 900.0  # the first 15 minutes
EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# Event kinds, ordered so that at equal times agents free up before answers are judged.
AGENT_FREE, ANSWER, RING_OUT, GIVE_UP, TICK_EVENT = 0, 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class Scenario:
    """One campaign: its team, its list and its calls.

    Attributes:
        name: shown in the tables.
        agents: agents logged in all along.
        rate: the answer rate of calls placed in the first half of the run.
        rate_after: the answer rate of calls placed in the second half.
        handle: ``exp`` (exponential) or ``lognormal``.
        mean_handle: the mean handle time, seconds.
        sigma: the lognormal's shape.
        hours: simulated hours.
    """

    name: str
    agents: int
    rate: float
    rate_after: float
    handle: str
    mean_handle: float
    hours: float
    sigma: float = 1.0

    def draw_handle(self, rng: random.Random) -> float:
        if self.handle == "exp":
            return rng.expovariate(1.0 / self.mean_handle)
        mu = math.log(self.mean_handle) - self.sigma**2 / 2
        return rng.lognormvariate(mu, self.sigma)


@dataclass(frozen=True, slots=True)
class Strategy:
    """How the campaign is paced: ``kind`` is ``cti``, ``before``, ``fixed`` or ``progressive``."""

    kind: str
    ratio: float = 1.0
    restart_every: float = 0.0


@dataclass(slots=True)
class Result:
    occupancy: float
    live_answers: int
    abandoned: int
    first_answers: int
    first_abandoned: int
    dialled: int
    first_decision: int
    seconds: float = 0.0
    # Occupancy over each whole 15 minutes of the run, in order (where a strategy gains or loses),
    # and the live answers and abandoned calls answered in each.
    slices: tuple[float, ...] = ()
    answers_by_slice: tuple[int, ...] = ()
    abandoned_by_slice: tuple[int, ...] = ()

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.live_answers if self.live_answers else 0.0

    @property
    def first_rate(self) -> float:
        return self.first_abandoned / self.first_answers if self.first_answers else 0.0


class _Cti:
    """The service's pacing: current maths and estimators."""

    def __init__(self, settings: PacingSettings, restart_every: float) -> None:
        self.settings = settings
        self.answers = AnswerStats(ring_timeout_seconds=RING_TIMEOUT)
        self.handle = HandleStats()
        self.profile = self.answers.profile(0.0)
        self.handle_profile = self.handle.profile(0.0)
        self.handle_at = -1e9
        self.restart_every = restart_every
        self.next_restart = restart_every if restart_every > 0 else math.inf
        self.saved: dict[str, float] = snapshot(self.answers, self.handle)
        self.saved_at = 0.0

    def answered(self, placed: float, now: float) -> None:
        self.answers = self.answers.observe_answer(placed, now)
        self.profile = self.answers.profile(now)

    def unanswered(self, placed: float, now: float) -> None:
        self.answers = self.answers.observe_unanswered(placed, now)
        self.profile = self.answers.profile(now)

    def ended(self, duration: float, now: float) -> None:
        self.handle = self.handle.observe(duration, now)

    def tick(self, now: float) -> None:
        if now >= self.next_restart:
            self.next_restart += self.restart_every
            self.answers, self.handle = restore(
                self.saved, ring_timeout_seconds=RING_TIMEOUT, now=now
            )
            self.profile = self.answers.profile(now)
            self.handle_at = -1e9
        if now - self.saved_at >= SAVE_EVERY:
            self.saved, self.saved_at = snapshot(self.answers, self.handle), now

    def decide(
        self,
        now: float,
        ready: int,
        busy_since: dict[int, float],
        ringing: dict[int, float],
        waiting: int,
        ledger: AbandonLedger,
    ) -> int:
        if now - self.handle_at >= HANDLE_REFRESH:
            self.handle_profile = self.handle.profile(
                now, [now - since for since in busy_since.values()]
            )
            self.handle_at = now
        live, abandoned = ledger.counts(EPOCH + timedelta(seconds=now))
        inputs = PacingInput(
            agents_ready=ready,
            busy_ages_seconds=tuple(now - since for since in busy_since.values()),
            handle=self.handle_profile,
            ringing_ages_seconds=tuple(now - placed for placed in ringing.values()),
            answered_waiting=waiting,
            answers=self.profile,
            ledger_live_answers=live,
            ledger_abandoned=abandoned,
        )
        return calls_to_place(self.settings, inputs).calls


class _Before:
    """The pacing before issue #19, fed as the service fed it."""

    def __init__(self, restart_every: float) -> None:
        self.settings = old.PacingSettings(mode=old.DialMode.PREDICTIVE)
        self.restart_every = restart_every
        self.next_restart = restart_every if restart_every > 0 else math.inf
        self._fresh()

    def _fresh(self) -> None:
        self.answers = old.AnswerStats(ring_timeout_seconds=RING_TIMEOUT)
        self.handle = old.HandleStats()
        self.profile = self.answers.profile()
        self.residual = self.handle.residual_table()

    def answered(self, placed: float, now: float) -> None:
        self.answers = self.answers.observe_answer(now - placed)
        self.profile = self.answers.profile()

    def unanswered(self, placed: float, now: float) -> None:
        self.answers = self.answers.observe_unanswered()
        self.profile = self.answers.profile()

    def ended(self, duration: float, now: float) -> None:
        self.handle = self.handle.observe(duration)
        self.residual = self.handle.residual_table()

    def tick(self, now: float) -> None:
        if now >= self.next_restart:
            self.next_restart += self.restart_every
            self._fresh()

    def decide(
        self,
        now: float,
        ready: int,
        busy_since: dict[int, float],
        ringing: dict[int, float],
        waiting: int,
        ledger: AbandonLedger,
    ) -> int:
        live, abandoned = ledger.counts(EPOCH + timedelta(seconds=now))
        inputs = old.PacingInput(
            agents_ready=ready,
            busy_remaining_seconds=tuple(
                old.expected_remaining(self.residual, now - since) for since in busy_since.values()
            ),
            ringing_ages_seconds=tuple(now - placed for placed in ringing.values()),
            answered_waiting=waiting,
            answers=self.profile,
            ledger_live_answers=live,
            ledger_abandoned=abandoned,
        )
        return old.calls_to_place(self.settings, inputs).calls


class _Lines:
    """Fixed ratio or progressive: ``ratio`` lines per free agent (``calls_to_place``'s rule)."""

    def __init__(self, ratio: float) -> None:
        self.ratio = ratio

    def answered(self, placed: float, now: float) -> None:
        pass

    def unanswered(self, placed: float, now: float) -> None:
        pass

    def ended(self, duration: float, now: float) -> None:
        pass

    def tick(self, now: float) -> None:
        pass

    def decide(
        self,
        now: float,
        ready: int,
        busy_since: dict[int, float],
        ringing: dict[int, float],
        waiting: int,
        ledger: AbandonLedger,
    ) -> int:
        free = max(0, ready - waiting)
        return max(0, math.floor(self.ratio * free + 1e-9) - len(ringing))


Pacer = _Cti | _Before | _Lines


def make_pacer(strategy: Strategy) -> Pacer:
    if strategy.kind == "cti":
        return _Cti(PacingSettings(mode=DialMode.PREDICTIVE), strategy.restart_every)
    if strategy.kind == "before":
        return _Before(strategy.restart_every)
    if strategy.kind == "fixed":
        return _Lines(strategy.ratio)
    if strategy.kind == "progressive":
        return _Lines(1.0)
    raise ValueError(strategy.kind)


def simulate(scenario: Scenario, strategy: Strategy, seed: int) -> Result:
    """One run of ``scenario`` paced by ``strategy``."""
    rng = random.Random(seed)
    end = scenario.hours * 3600.0
    half = end / 2
    pacer = make_pacer(strategy)
    events: list[tuple[float, int, int, int]] = []  # (time, kind, sequence, subject)
    seq = 0

    def push(at: float, kind: int, subject: int) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (at, kind, seq, subject))

    ready: list[int] = list(range(scenario.agents))
    busy_since: dict[int, float] = {}  # agent -> when its current call started
    ringing: dict[int, float] = {}  # call -> when it was placed
    placed_at: dict[int, float] = {}
    waiting: deque[tuple[int, float]] = deque()  # (call, answered at), oldest first
    waiting_ids: set[int] = set()
    talk = 0.0
    talk_by_slice = [0.0] * (int(end // FIRST) + 1)
    answers_by_slice = [0] * (int(end // FIRST) + 1)
    abandoned_by_slice = [0] * (int(end // FIRST) + 1)
    dialled = 0
    next_call = 0
    first_decision = -1
    answers = abandoned = first_answers = first_abandoned = 0
    ledger = AbandonLedger(connect_within_seconds=CONNECT_WITHIN)

    def record(answered_at: float, after: float | None) -> None:
        nonlocal answers, abandoned, first_answers, first_abandoned
        lost = ledger.record(EPOCH + timedelta(seconds=answered_at), after)
        answers += 1
        abandoned += lost
        answers_by_slice[int(answered_at // FIRST)] += 1
        abandoned_by_slice[int(answered_at // FIRST)] += lost
        if answered_at < FIRST:
            first_answers += 1
            first_abandoned += lost

    def connect(agent: int, now: float) -> None:
        nonlocal talk
        duration = scenario.draw_handle(rng)
        talk += max(0.0, min(now + duration, end) - now)
        start, stop = now, min(now + duration, end)
        while start < stop:
            k = int(start // FIRST)
            edge = min(stop, (k + 1) * FIRST)
            talk_by_slice[k] += edge - start
            start = edge
        busy_since[agent] = now
        push(now + duration, AGENT_FREE, agent)

    def decide(now: float) -> None:
        nonlocal next_call, dialled, first_decision
        calls = pacer.decide(now, len(ready), busy_since, ringing, len(waiting), ledger)
        if first_decision < 0:
            first_decision = calls
        rate = scenario.rate if now < half else scenario.rate_after
        for _ in range(calls):
            call = next_call
            next_call += 1
            dialled += 1
            ringing[call] = now
            placed_at[call] = now
            if rng.random() < rate:
                push(now + rng.uniform(ANSWER_MIN, ANSWER_MAX), ANSWER, call)
            else:
                push(now + RING_TIMEOUT, RING_OUT, call)

    push(0.0, TICK_EVENT, 0)
    while events:
        now, kind, _, subject = heapq.heappop(events)
        if now >= end:
            break
        if kind == TICK_EVENT:
            push(now + TICK, TICK_EVENT, 0)
            pacer.tick(now)
        elif kind == AGENT_FREE:
            pacer.ended(now - busy_since.pop(subject), now)
            if waiting:
                call, answered_at = waiting.popleft()
                waiting_ids.discard(call)
                record(answered_at, now - answered_at)
                connect(subject, now)
            else:
                ready.append(subject)
        elif kind == ANSWER:
            del ringing[subject]
            pacer.answered(placed_at.pop(subject), now)
            if ready:
                record(now, 0.0)
                connect(ready.pop(), now)
            else:
                waiting.append((subject, now))
                waiting_ids.add(subject)
                push(now + CONNECT_WITHIN, GIVE_UP, subject)
        elif kind == RING_OUT:
            del ringing[subject]
            pacer.unanswered(placed_at.pop(subject), now)
        elif kind == GIVE_UP:
            if subject in waiting_ids:
                waiting_ids.discard(subject)
                for i, (call, answered_at) in enumerate(waiting):
                    if call == subject:
                        del waiting[i]
                        record(answered_at, None)
                        break
            continue
        decide(now)

    return Result(
        occupancy=talk / (scenario.agents * end),
        live_answers=answers,
        abandoned=abandoned,
        first_answers=first_answers,
        first_abandoned=first_abandoned,
        dialled=dialled,
        first_decision=first_decision,
        slices=tuple(t / (scenario.agents * FIRST) for t in talk_by_slice[: int(end // FIRST)]),
        answers_by_slice=tuple(answers_by_slice[: int(end // FIRST)]),
        abandoned_by_slice=tuple(abandoned_by_slice[: int(end // FIRST)]),
    )
