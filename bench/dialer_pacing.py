"""Pacing benchmark: a discrete-event simulation of an outbound campaign under several dial strategies.

20 agents, 25% answer rate, exponential handle time of mean 120 s, answers 4-16 s after dialling
(uniform), unanswered calls ring out at 20 s, 8 simulated hours, several seeds. An answered call waits
at most 2 s for an agent, else it is abandoned. Prints occupancy (talk time ÷ logged-in time) and the
abandon rate (abandoned ÷ live answers) per strategy and seed.

The predictive strategy runs exactly the service's code: ``cti.dialer.pacing`` decides, fed only with
what a real dialer measures (answer outcomes and delays of finished attempts, handle times of finished
calls, who is ready or busy and for how long, the ages of ringing calls), and
``cti.dialer.compliance.AbandonLedger`` keeps the abandon rate it reacts to. The simulation draws each
call's fate when the call is placed, but the dialer only learns it when the event happens.

Run: ``.venv/bin/python bench/dialer_pacing.py [--seeds 5] [--hours 8]``
"""

from __future__ import annotations

import argparse
import heapq
import random
import statistics
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cti.dialer.compliance import AbandonLedger
from cti.dialer.pacing import (
    AnswerProfile,
    AnswerStats,
    DialMode,
    HandleStats,
    PacingInput,
    PacingSettings,
    calls_to_place,
    expected_remaining,
)

AGENTS = 20
ANSWER_RATE = 0.25
MEAN_HANDLE = 120.0
ANSWER_MIN, ANSWER_MAX = 4.0, 16.0
RING_TIMEOUT = 20.0
CONNECT_WITHIN = 2.0
TICK = 1.0
PROFILE_REFRESH = 10.0  # seconds between refreshes of the answer profile, as the service does
EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# Event kinds, ordered so that at equal times agents free up before answers are judged.
AGENT_FREE, ANSWER, RING_OUT, GIVE_UP, TICK_EVENT = 0, 1, 2, 3, 4


@dataclass(slots=True)
class Result:
    occupancy: float
    abandon_rate: float
    live_answers: int
    abandoned: int
    dialled: int


def simulate(settings: PacingSettings, seed: int, hours: float) -> Result:
    """One campaign run of ``hours`` simulated hours with ``settings``."""
    rng = random.Random(seed)
    end = hours * 3600.0
    events: list[tuple[float, int, int, int]] = []  # (time, kind, sequence, subject)
    seq = 0

    def push(at: float, kind: int, subject: int) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (at, kind, seq, subject))

    ready: list[int] = list(range(AGENTS))
    busy_since: dict[int, float] = {}  # agent -> when its current call started
    ringing: dict[int, float] = {}  # call -> when it was placed
    waiting: deque[tuple[int, float]] = deque()  # (call, answered at), oldest first
    waiting_ids: set[int] = set()
    talk = 0.0
    dialled = 0
    next_call = 0

    answers = AnswerStats(ring_timeout_seconds=RING_TIMEOUT)
    profile: AnswerProfile = answers.profile()
    profiled_at = 0.0
    handles = HandleStats()
    residual = handles.residual_table()
    ledger = AbandonLedger(connect_within_seconds=CONNECT_WITHIN)

    def connect(agent: int, now: float) -> None:
        nonlocal talk, handles, residual
        duration = rng.expovariate(1.0 / MEAN_HANDLE)
        talk += max(0.0, min(now + duration, end) - now)
        busy_since[agent] = now
        push(now + duration, AGENT_FREE, agent)

    def decide(now: float) -> None:
        nonlocal next_call, dialled
        at = EPOCH + timedelta(seconds=now)
        live, abandoned = ledger.counts(at)
        inputs = PacingInput(
            agents_ready=len(ready),
            busy_remaining_seconds=tuple(
                expected_remaining(residual, now - since) for since in busy_since.values()
            ),
            ringing_ages_seconds=tuple(now - placed for placed in ringing.values()),
            answered_waiting=len(waiting),
            answers=profile,
            ledger_live_answers=live,
            ledger_abandoned=abandoned,
        )
        for _ in range(calls_to_place(settings, inputs).calls):
            call = next_call
            next_call += 1
            dialled += 1
            ringing[call] = now
            if rng.random() < ANSWER_RATE:
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
            if now - profiled_at >= PROFILE_REFRESH:
                profile, profiled_at = answers.profile(), now
        elif kind == AGENT_FREE:
            handles = handles.observe(now - busy_since.pop(subject))
            residual = handles.residual_table()
            if waiting:
                call, answered_at = waiting.popleft()
                waiting_ids.discard(call)
                ledger.record(EPOCH + timedelta(seconds=answered_at), now - answered_at)
                connect(subject, now)
            else:
                ready.append(subject)
        elif kind == ANSWER:
            answers = answers.observe_answer(now - ringing.pop(subject))
            if ready:
                ledger.record(EPOCH + timedelta(seconds=now), 0.0)
                connect(ready.pop(), now)
            else:
                waiting.append((subject, now))
                waiting_ids.add(subject)
                push(now + CONNECT_WITHIN, GIVE_UP, subject)
        elif kind == RING_OUT:
            del ringing[subject]
            answers = answers.observe_unanswered()
        elif kind == GIVE_UP:
            if subject in waiting_ids:
                waiting_ids.discard(subject)
                for i, (call, answered_at) in enumerate(waiting):
                    if call == subject:
                        del waiting[i]
                        ledger.record(EPOCH + timedelta(seconds=answered_at), None)
                        break
            continue
        decide(now)

    live, abandoned = ledger.counts(EPOCH + timedelta(seconds=end))
    return Result(
        occupancy=talk / (AGENTS * end),
        abandon_rate=abandoned / live if live else 0.0,
        live_answers=live,
        abandoned=abandoned,
        dialled=dialled,
    )


STRATEGIES: list[tuple[str, PacingSettings]] = [
    ("progressive", PacingSettings(mode=DialMode.PROGRESSIVE)),
    ("fixed 2:1", PacingSettings(mode=DialMode.FIXED_RATIO, fixed_ratio=2.0)),
    ("fixed 3:1", PacingSettings(mode=DialMode.FIXED_RATIO, fixed_ratio=3.0)),
    ("cti predictive", PacingSettings(mode=DialMode.PREDICTIVE)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--hours", type=float, default=8.0)
    args = parser.parse_args()
    seeds = list(range(1, args.seeds + 1))

    started = time.perf_counter()
    print(
        f"{AGENTS} agents, answer rate {ANSWER_RATE:.0%}, handle exp(mean {MEAN_HANDLE:.0f} s), "
        f"answers after {ANSWER_MIN:.0f}-{ANSWER_MAX:.0f} s, ring-out {RING_TIMEOUT:.0f} s, "
        f"abandon after {CONNECT_WITHIN:.0f} s, {args.hours:g} h x {len(seeds)} seeds"
    )
    header = f"{'strategy':<16}{'seed':>6}{'occupancy':>11}{'abandon':>9}{'answers':>9}{'abandoned':>11}{'dialled':>9}"
    print(header)
    print("-" * len(header))
    summary: dict[str, tuple[float, float, float]] = {}
    with ProcessPoolExecutor() as pool:
        futures = {
            (name, seed): pool.submit(simulate, settings, seed, args.hours)
            for name, settings in STRATEGIES
            for seed in seeds
        }
    for name, _ in STRATEGIES:
        results = [futures[name, seed].result() for seed in seeds]
        for seed, r in zip(seeds, results, strict=True):
            print(
                f"{name:<16}{seed:>6}{r.occupancy:>10.1%} {r.abandon_rate:>8.2%}"
                f"{r.live_answers:>9}{r.abandoned:>11}{r.dialled:>9}"
            )
        occ = statistics.fmean(r.occupancy for r in results)
        ab = statistics.fmean(r.abandon_rate for r in results)
        worst = max(r.abandon_rate for r in results)
        summary[name] = (occ, ab, min(r.occupancy for r in results))
        print(f"{name:<16}{'mean':>6}{occ:>10.1%} {ab:>8.2%}   (worst seed abandon {worst:.2%})")
        print("-" * len(header))
    base = summary["progressive"][0]
    pred_occ, _, pred_min = summary["cti predictive"]
    print(
        f"predictive occupancy / progressive occupancy = {pred_occ / base:.2f}x "
        f"(lowest seed {pred_min:.1%})"
    )
    print(f"elapsed {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
