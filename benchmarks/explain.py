"""Exact Shapley attribution over the article's events, against one ensemble of as many members.

    .venv/bin/python benchmarks/explain.py [--repeat 5]

The article has 13 events, so exact attribution runs all 2**13 = 8,192 coalitions. Timed in one
process, taking turns (--repeat times each; the best counts):

- the engine's part of the attribution: ``engine.ensemble.run_copies`` of the 8,192
  coalitions (copies of member 0, each with its events);
- one ensemble of 8,192 members of the same file (``StanceModel(members=8192).run()``), the
  engine alone, the reference;
- the whole attribution (``analysis.explain.explain``: the engine part, the Shapley sums over
  every date and dyad, the tables' inputs).

Prints the times and the ratios to the ensemble. Target: the engine part within 3x of the
ensemble. A run of 2000 members warms the process up first.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from stances.analysis import shapley
from stances.analysis.explain import explain
from stances.engine.ensemble import run_copies
from stances.engine.model import StanceModel
from stances.scenario import load_scenario

ARTICLE = Path(__file__).resolve().parents[1] / "scenarios" / "article.yaml"


def best_of(repeat: int, *jobs):
    """The best time of each job over `repeat` rounds, the jobs taking turns."""
    best = [float("inf")] * len(jobs)
    for _ in range(repeat):
        for i, job in enumerate(jobs):
            start = time.perf_counter()
            job()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    scenario = load_scenario(ARTICLE)
    n = len(scenario.events)
    rows = np.ascontiguousarray(shapley.all_coalitions(n).T)
    members = rows.shape[1]

    def ensemble() -> None:
        StanceModel(scenario, members=members, collect=False).run()

    StanceModel(scenario, members=2000, collect=False).run()  # warm up
    engine, plain, whole = best_of(
        args.repeat,
        lambda: run_copies(scenario, scenario.seed, 0, rows),
        ensemble,
        lambda: explain(scenario),
    )
    steps = len(scenario.step_dates()) - 1
    print(f"scenario: {scenario.title}; {n} events, {members} coalitions; {steps} steps")
    print(f"{'':44}{'seconds':>9}{'x ensemble':>12}")
    print(f"{'one ensemble of as many members':44}{plain:9.3f}{1.0:12.2f}")
    print(f"{'attribution: the engine part (run_copies)':44}{engine:9.3f}{engine / plain:12.2f}")
    print(f"{'attribution: all of explain()':44}{whole:9.3f}{whole / plain:12.2f}")
    print(
        f"target: engine part within 3x of the ensemble: {'met' if engine <= 3 * plain else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
