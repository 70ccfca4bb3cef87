"""Sobol sensitivity of the article end to end: N = 1024 over six factors (14,336 members).

    .venv/bin/python benchmarks/sensitivity.py [--n 1024]

The factors are the six of benchmarks/design.py (three kappas, the memory half-life in weeks,
the Paktika strike's and the Beijing meeting's intensities), given as --vary ranges; the
outcomes are the four end scores that vary most. Times, in one process: the whole analysis as
``stances sensitivity`` does it (SALib's sample, the sample as one ensemble through design=,
SALib's analysis of each outcome with its bootstrap, then the directory with the tables and
figures), and beside it one plain ensemble run of the same number of members, the engine
and the Result alone. A run of 2000 members warms the process up first.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from stances import api
from stances.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
VARY = [
    "parameters.kappa_target=0.3..0.7",
    "parameters.kappa_actor=0.1..0.4",
    "parameters.kappa_observer=0.05..0.3",
    "parameters.memory_half_life=13..52",
    "events.paktika-strike.intensity=0.5..1.5",
    "events.beijing-trilateral.intensity=0.5..1.5",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024)
    args = parser.parse_args()
    scenario = load_scenario(ROOT / "scenarios" / "article.yaml")
    api.run(scenario, members=2000)  # warm up
    members = args.n * (2 * len(VARY) + 2)

    start = time.perf_counter()
    api.run(scenario, members=members)
    plain = time.perf_counter() - start

    start = time.perf_counter()
    analysis = api.sensitivity(scenario, "sobol", args.n, vary=VARY)
    analysed = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        api.save_sensitivity(analysis, Path(scratch) / "s")
        saved = time.perf_counter() - start

    print(
        f"scenario: {scenario.title}; Sobol, N = {args.n}, {len(VARY)} factors: {members} members"
    )
    print(f"{'':48}{'seconds':>9}")
    print(f"{'plain ensemble run of as many members':48}{plain:9.2f}")
    print(f"{'sensitivity: sample, run, analyse (4 outcomes)':48}{analysed:9.2f}")
    print(f"{'  + tables and figures (save_sensitivity)':48}{saved:9.2f}")
    print(f"{'= end to end':48}{analysed + saved:9.2f}")
    top = analysis.outcomes[0]
    st = analysis.indices[top]["ST"][0]
    ranked = sorted(zip(st, (f.key for f in analysis.factors), strict=True), reverse=True)
    print(f"{top}: largest total index {ranked[0][1]} ST = {ranked[0][0]:.3f}")


if __name__ == "__main__":
    main()
