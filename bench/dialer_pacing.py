"""Pacing benchmark, one scenario: 20 agents, 25% answer rate, exponential handle time of 120 s.

Answers 4-16 s after dialling (uniform), ring-out at 20 s, an answer waits at most 2 s for an agent,
8 simulated hours, several seeds, in the discrete-event model of ``bench/pacing_sim.py``. Prints
occupancy (talk time ÷ logged-in time) and the abandon rate (abandoned ÷ live answers) per strategy
and seed. ``bench/pacing_grid.py`` runs the whole grid of issue #19.

Run: ``.venv/bin/python bench/dialer_pacing.py [--seeds 5] [--hours 8]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

from pacing_sim import Scenario, Strategy, simulate

STRATEGIES: list[tuple[str, Strategy]] = [
    ("progressive", Strategy(kind="progressive")),
    ("fixed 2:1", Strategy(kind="fixed", ratio=2.0)),
    ("fixed 3:1", Strategy(kind="fixed", ratio=3.0)),
    ("before #19", Strategy(kind="before")),
    ("cti predictive", Strategy(kind="cti")),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--hours", type=float, default=8.0)
    args = parser.parse_args()
    seeds = list(range(1, args.seeds + 1))
    scenario = Scenario(
        name="20 agents 25% exp 120 s",
        agents=20,
        rate=0.25,
        rate_after=0.25,
        handle="exp",
        mean_handle=120.0,
        hours=args.hours,
    )
    started = time.perf_counter()
    print(f"{scenario.name}, {args.hours:g} h x {len(seeds)} seeds")
    header = (
        f"{'strategy':<16}{'seed':>6}{'occupancy':>11}{'abandon':>9}{'first 15m':>11}"
        f"{'answers':>9}{'abandoned':>11}{'dialled':>9}"
    )
    print(header)
    print("-" * len(header))
    summary: dict[str, float] = {}
    with ProcessPoolExecutor() as pool:
        futures = {
            (name, seed): pool.submit(simulate, scenario, strategy, seed)
            for name, strategy in STRATEGIES
            for seed in seeds
        }
    for name, _ in STRATEGIES:
        results = [futures[name, seed].result() for seed in seeds]
        for seed, r in zip(seeds, results, strict=True):
            print(
                f"{name:<16}{seed:>6}{r.occupancy:>10.1%} {r.abandon_rate:>8.2%}"
                f"{r.first_rate:>10.2%} {r.live_answers:>8}{r.abandoned:>11}{r.dialled:>9}"
            )
        occ = statistics.fmean(r.occupancy for r in results)
        ab = statistics.fmean(r.abandon_rate for r in results)
        worst = max(r.abandon_rate for r in results)
        summary[name] = occ
        print(f"{name:<16}{'mean':>6}{occ:>10.1%} {ab:>8.2%}   (worst seed abandon {worst:.2%})")
        print("-" * len(header))
    base = summary["progressive"]
    print(f"predictive occupancy / progressive = {summary['cti predictive'] / base:.2f}x")
    print(f"elapsed {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
