"""Scale: generated scenarios of 25 to 200 actors over ten years of weekly steps.

    .venv/bin/python benchmarks/scale.py [--sizes 25 50 100 200] [--years 10]

Each scenario has N actors, five random initial relations per actor, one random event per week
(a type drawn from a mix of cooperative and conflictual ones, between two random actors), and
three reactive actors that decide every week (two interests each; repertoire phone_call and
condemn toward any other actor, so 2 (N - 1) candidates each). A single run (K = 1) for each N, each
in a fresh process: seconds per step (the run, without loading the file), the memory the run
added at its peak (peak resident set size minus the size before the run), and the growth
exponents in N from least-squares fits on log-log.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from stances.engine.model import StanceModel
from stances.scenario import load_scenario

TYPES = [
    "phone_call",
    "visit",
    "condemn",
    "humanitarian_aid",
    "threaten",
    "meet",
    "border_clash",
    "mediate",
]


def scenario_text(n: int, years: int, seed: int = 1) -> str:
    rng = np.random.default_rng(seed)
    ids = [f"A{i:03d}" for i in range(n)]
    lines = [
        f"title: generated, {n} actors",
        f"time: {{start: 2020-01-06, end: {2020 + years}-01-05, step: week}}",
        "actors:",
    ]
    reactive = set(ids[:3])
    for a in ids:
        if a in reactive:
            x, y = rng.choice([b for b in ids if b != a], 2, replace=False)
            lines += [
                f"  {a}:",
                f"    name: actor {a}",
                "    interests:",
                f"      {x} -> {a}: {{want: 0.5, side: at_least}}",
                f"      {y} -> {a}: {{want: 0.5, side: at_least}}",
                "    policy: {kind: reactive, repertoire: [phone_call, condemn]}",
            ]
        else:
            lines.append(f"  {a}: {{name: actor {a}}}")
    lines.append("relations:")
    pairs = set()
    for i in range(n):
        for j in rng.choice([k for k in range(n) if k != i], 5, replace=False):
            pairs.add((i, int(j)))
    lines += [f"  {ids[i]} -> {ids[j]}: {rng.uniform(-0.6, 0.6):.2f}" for i, j in sorted(pairs)]
    lines.append("events:")
    start = np.datetime64("2020-01-06")
    for week in range(years * 52):
        kind = TYPES[rng.integers(len(TYPES))]
        a, b, c = rng.choice(n, 3, replace=False)
        day = str(start + np.timedelta64(7 * week + int(rng.integers(7)), "D"))
        if kind == "mediate":
            who = f"actor: {ids[a]}, parties: [{ids[b]}, {ids[c]}]"
        elif kind == "meet":
            who = f"actor: {ids[a]}, parties: [{ids[b]}]"
        else:
            who = f"actor: {ids[a]}, target: {ids[b]}"
        lines.append(f"  - {{id: e{week}, date: {day}, type: {kind}, {who}}}")
    return "\n".join(lines) + "\n"


def current_rss() -> int:
    """Resident set size now, in bytes (Linux)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure_one(n: int, years: int) -> dict:
    """Run one size in this process; the numbers as a dict."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"scale-{n}.yaml"
        path.write_text(scenario_text(n, years), encoding="utf-8")
        scenario = load_scenario(path)
    before = current_rss()
    start = time.perf_counter()
    model = StanceModel(scenario, collect=False)
    model.run()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
    decided = sum(a.origin == "decided" for a in model.applied)
    return {
        "n": n,
        "steps": model.n_steps,
        "per_step": seconds / model.n_steps,
        "seconds": seconds,
        "added_mb": (peak - before) / 2**20,
        "decided": decided,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 200])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # run one size, print JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one, args.years)))
        return
    rows = []
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--years", str(args.years)],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(out.stdout))
    print(f"{'actors':>7}{'steps':>7}{'ms/step':>10}{'run s':>8}{'added MB':>10}{'decisions':>11}")
    for r in rows:
        print(
            f"{r['n']:>7}{r['steps']:>7}{r['per_step'] * 1e3:>10.2f}{r['seconds']:>8.1f}{r['added_mb']:>10.0f}{r['decided']:>11}"
        )
    if len(rows) > 1:
        sizes = np.log([r["n"] for r in rows])
        time_slope = np.polyfit(sizes, np.log([r["per_step"] for r in rows]), 1)[0]
        memory_slope = np.polyfit(sizes, np.log([max(r["added_mb"], 1e-3) for r in rows]), 1)[0]
        print(
            f"growth exponent in N: time per step {time_slope:.2f}, memory added {memory_slope:.2f}"
        )


if __name__ == "__main__":
    main()
