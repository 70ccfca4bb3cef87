"""This engine against Mesa's batch_run on the same model and seeds.

    .venv/bin/python benchmarks/batch_run_vs_engine.py [--members 10000]

Runs benchmarks/article-uncertain.yaml (the article with uncertain weights, dates and initial
scores, so that members differ) for K members twice in one process: once as one StanceModel
advancing all members together (stances.run), once as K single-member StanceModels
through mesa.batch_run with the same root seed and member indices. Prints both times, the
throughput ratio, and whether every member's score of every dyad agrees at every step batch_run
reports.
"""

from __future__ import annotations

import argparse
import inspect
import time
from pathlib import Path

import mesa
import numpy as np

from stances import api
from stances.engine.model import StanceModel
from stances.scenario import load_scenario

HERE = Path(__file__).resolve().parent


def run_batch_run(scenario, members: int, seed: int) -> tuple[float, list[dict]]:
    parameters = {"scenario": [scenario], "first_member": range(members)}
    kwargs = {"number_processes": 1, "data_collection_period": 1, "display_progress": False}
    if "rng" in inspect.signature(mesa.batch_run).parameters:  # Mesa >= 3.5
        kwargs["rng"] = [seed]
    else:
        parameters["rng"] = [seed]
    start = time.perf_counter()
    rows = mesa.batch_run(StanceModel, parameters=parameters, max_steps=10_000, **kwargs)
    return time.perf_counter() - start, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    args = parser.parse_args()
    scenario = load_scenario(HERE / "article-uncertain.yaml")
    seed = scenario.seed

    start = time.perf_counter()
    result = api.run(scenario, members=args.members, seed=seed)
    engine = time.perf_counter() - start

    mesa_time, rows = run_batch_run(scenario, args.members, seed)

    ids = scenario.actor_ids
    dyads = [(i, j) for i in range(len(ids)) for j in range(len(ids)) if i != j]
    checked = mismatched = 0
    seen = set()
    for row in rows:
        key = (row["first_member"], row["Step"])
        if key in seen:  # one row per agent: the model columns repeat
            continue
        seen.add(key)
        member, step = key
        for i, j in dyads:
            checked += 1
            if row[f"{ids[i]} -> {ids[j]}"] != result.history[int(step), member, i, j]:
                mismatched += 1
    steps_reported = len({k[1] for k in seen})

    print(
        f"scenario: {scenario.title}; {args.members} members; {len(result.dates) - 1} weekly steps; Mesa {mesa.__version__}"
    )
    print(f"{'':<34}{'seconds':>10}{'members/s':>12}")
    print(f"{'engine (one model, member axis)':<34}{engine:>10.2f}{args.members / engine:>12.0f}")
    print(
        f"{'mesa.batch_run (one model each)':<34}{mesa_time:>10.2f}{args.members / mesa_time:>12.0f}"
    )
    print(f"throughput ratio engine / batch_run: {mesa_time / engine:.1f}x")
    print(
        f"member-by-member check: {checked} scores ({args.members} members x {steps_reported} steps x "
        f"{len(dyads)} dyads), {mismatched} differ"
    )
    spread = float(np.ptp(result.history[-1], axis=0).max())
    print(f"(members do differ: largest spread of a final score across members {spread:.2f})")


if __name__ == "__main__":
    main()
