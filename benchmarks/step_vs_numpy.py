"""The engine's step against a bare numpy update of an array of the same shape.

    .venv/bin/python benchmarks/step_vs_numpy.py [--members 10000] [--repeat 5]

The floor: one in-place relaxation toward a baseline, R <- B + (R - B) * f, on a (K, N, N)
float array (three passes over memory, the least any step of this model must do). The engine:
StanceModel.step() on benchmarks/article-uncertain.yaml with K members (scripted events, decay,
recording the history), and the same with per-step noise (parameters.noise = 0.02), which adds
K draws of N x N normals per step. Also: the floor plus copying the state into a
fresh history array each step, which is what recording costs on its own, and the engine with its
history written once before the clock starts, which takes the operating system's cost of
handing over fresh memory out of the step. Prints milliseconds per step and the ratio to the
floor, each the best of --repeat runs, all in one process.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from stances.model import StanceModel
from stances.scenario import load_scenario

HERE = Path(__file__).resolve().parent


def per_step_engine(scenario, members: int, repeat: int, prefault: bool = False) -> float:
    best = np.inf
    for _ in range(repeat):
        model = StanceModel(scenario, members=members, collect=False)
        if prefault:
            model.history[1:] = 0.0
        start = time.perf_counter()
        model.run()
        best = min(best, (time.perf_counter() - start) / model.n_steps)
    return best


def per_step_floor(shape: tuple[int, ...], steps: int, repeat: int) -> float:
    rng = np.random.default_rng(0)
    R, B = rng.uniform(-1, 1, shape), rng.uniform(-1, 1, shape)
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(steps):
            R -= B
            R *= 0.97
            R += B
        best = min(best, (time.perf_counter() - start) / steps)
    return best


def per_step_floor_recorded(shape: tuple[int, ...], steps: int, repeat: int) -> float:
    """The floor, plus copying the state into a new history array each step, as the engine's
    record does: that cost is writing fresh memory (page faults), not arithmetic."""
    rng = np.random.default_rng(0)
    R, B = rng.uniform(-1, 1, shape), rng.uniform(-1, 1, shape)
    best = np.inf
    for _ in range(repeat):
        history = np.empty((steps + 1, *shape))
        start = time.perf_counter()
        for k in range(steps):
            R -= B
            R *= 0.97
            R += B
            history[k + 1] = R
        best = min(best, (time.perf_counter() - start) / steps)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    scenario = load_scenario(HERE / "article-uncertain.yaml")
    noisy = load_scenario(HERE / "article-uncertain.yaml", {"parameters.noise": "0.02"})
    n = len(scenario.actor_ids)
    steps = len(scenario.step_dates()) - 1
    floor = per_step_floor((args.members, n, n), steps, args.repeat)
    recorded = per_step_floor_recorded((args.members, n, n), steps, args.repeat)
    engine = per_step_engine(scenario, args.members, args.repeat)
    prefaulted = per_step_engine(scenario, args.members, args.repeat, prefault=True)
    with_noise = per_step_engine(noisy, args.members, args.repeat)
    print(f"K = {args.members} members, N = {n} actors, {steps} steps; best of {args.repeat}")
    print(f"{'':<44}{'ms/step':>10}{'x floor':>9}")
    print(f"{'floor: R <- B + (R - B) * f on (K, N, N)':<44}{floor * 1e3:>10.3f}{1:>9.1f}")
    print(
        f"{'floor + record into a new history array':<44}{recorded * 1e3:>10.3f}{recorded / floor:>9.1f}"
    )
    print(f"{'engine step (events, decay, record)':<44}{engine * 1e3:>10.3f}{engine / floor:>9.1f}")
    print(
        f"{'  the same, history memory faulted in first':<44}{prefaulted * 1e3:>10.3f}"
        f"{prefaulted / floor:>9.1f}"
    )
    print(f"{'engine step with noise 0.02':<44}{with_noise * 1e3:>10.3f}{with_noise / floor:>9.1f}")


if __name__ == "__main__":
    main()
