"""Calibration of the article with 100,000 members, against one plain ensemble run of as many.

    .venv/bin/python benchmarks/calibrate.py [--members 100000] [--tolerance 0.05] [--repeat 2]

Runs benchmarks/article-calibrate.yaml (BENCHMARK ONLY: the article with four kappas uncertain
and six observations written for timing) in one process: a plain ensemble of K members
(``stances.run``, the engine and the Result) and the calibration's own run of the same K
members, taking turns (--repeat times each, the best time counts), then the rest of the
calibration step by step: the weights (every observation checked against every member, the
log-likelihoods, the normalised weights), the tables (posterior, weights, bands of every dyad,
observations), and the files (``save_calibration`` with the figures). Prints each time, the
calibration's time as a ratio to the plain run (the overhead of calibrating), the memory the
run is estimated to need (``engine.ensemble.memory_needed``) against the memory available, and
the peak resident set size of the process. A run of 2000 members warms the process up first.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from stances import api
from stances.analysis.calibrate import calibrate
from stances.engine.ensemble import available_memory, gib, memory_needed
from stances.scenario import load_scenario

HERE = Path(__file__).resolve().parent


def timed(what, *args, **kwargs):
    start = time.perf_counter()
    value = what(*args, **kwargs)
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each kind; the best counts")
    args = parser.parse_args()
    path = HERE / "article-calibrate.yaml"
    scenario = load_scenario(path)
    k = args.members
    need, have = memory_needed(scenario, k), available_memory()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(
        f"scenario: {scenario.title}; {k} members; {len(scenario.step_dates()) - 1} steps; "
        f"{len(scenario.uncertain)} uncertain values; {len(scenario.observations)} observations"
    )
    print(
        f"memory: the run needs about {gib(need)} (engine.ensemble.memory_needed); "
        f"available {gib(have) if have is not None else 'unknown'}"
    )

    api.run(scenario, members=2000)  # warm up: imports, caches, the allocator
    plain_times, run_times = [], []
    for _ in range(args.repeat):  # taking turns, so that each sees the machine alike
        plain, seconds = timed(api.run, scenario, members=k)
        plain_times.append(seconds)
        del plain
        result, seconds = timed(api.run, scenario, members=k)
        run_times.append(seconds)
    t_plain, t_run = min(plain_times), min(run_times)
    calibration, t_weigh = timed(calibrate, result, scenario, args.tolerance)

    def tables() -> None:
        calibration.posterior_table()
        calibration.weights_table()
        calibration.band_table()
        calibration.observation_table()

    _, t_tables = timed(tables)
    with tempfile.TemporaryDirectory() as scratch:
        _, t_files = timed(api.save_calibration, calibration, Path(scratch) / "out")
    calibrated = t_run + t_weigh + t_tables
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux counts in KiB

    print(f"{'':44}seconds   x plain run")
    rows = [
        ("plain ensemble run (stances.run)", t_plain),
        ("calibration: its run (the same members)", t_run),
        ("  + weights (check, log-likelihoods)", t_weigh),
        ("  + tables (posterior, weights, bands)", t_tables),
        ("  = calibration without files", calibrated),
        ("  files and figures (save_calibration)", t_files),
        ("  = calibration with its directory", calibrated + t_files),
    ]
    for label, seconds in rows:
        print(f"{label:<44}{seconds:7.2f}   {seconds / t_plain:9.2f}")
    print(f"effective sample size {calibration.ess:.0f} of {k}; peak resident set size {gib(peak)}")


if __name__ == "__main__":
    main()
