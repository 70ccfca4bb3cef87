"""The engine's step against a bare numpy update of an array of the same shape.

    .venv/bin/python benchmarks/step_vs_numpy.py [--members 10000] [--repeat 5]

The floor: one in-place relaxation toward a baseline, R <- B + (R - B) * f, on a (K, N, N) float
array (three passes over memory, the least any step of this model must do). Under the default
rules the baseline moves too, B <- R + (B - R) * g, so their least is six passes: a second floor
row does both (the target is stated against the first). The engine:
StanceModel.step() on benchmarks/article-uncertain.yaml with K members (scripted events, decay,
recording the history), and the same with per-step noise (parameters.noise = 0.02), which adds
N * N normal draws per member per step (drawn a block of steps at a time) and the artanh and
tanh of every score. Also: the floor plus copying the state into a fresh history array each step,
which is what recording costs on its own, and the engine with its history written once before
the clock starts, which takes the operating system's cost of handing over fresh memory out of
the step. Prints milliseconds per step and the ratio to the floor, each the best of --repeat
runs, all in one process; the rows take turns within each repeat, so that a change in the
machine's state (other load, memory the host has taken back) reaches every row alike.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from stances.engine.model import StanceModel
from stances.scenario import load_scenario

HERE = Path(__file__).resolve().parent
# saturating moves, plain observers, a fixed baseline (docs/model.md, "Rule choices")
FIRST_RULES = {
    "parameters.entrenchment": "false",
    "parameters.observers": "plain",
    "parameters.baseline_half_life": "null",
}


def per_step_engine(scenario, members: int, prefault: bool = False) -> float:
    """Seconds per step of StanceModel.run() on a new model (its history written once before
    the clock starts if `prefault`)."""
    model = StanceModel(scenario, members=members, collect=False)
    if prefault:  # the recorded states themselves (``history`` is a new array under entrenchment)
        model.states[1:] = 0.0
    start = time.perf_counter()
    model.run()
    return (time.perf_counter() - start) / model.n_steps


def per_step_floor(R: np.ndarray, B: np.ndarray, steps: int) -> float:
    """Seconds per step of the floor, in place on R."""
    start = time.perf_counter()
    for _ in range(steps):
        R -= B
        R *= 0.97
        R += B
    return (time.perf_counter() - start) / steps


def per_step_floor_following(R: np.ndarray, B: np.ndarray, steps: int) -> float:
    """Seconds per step of the floor under the default rules' moving baseline: the same
    relaxation, then the baseline's toward the state, B <- R + (B - R) * g (six passes)."""
    start = time.perf_counter()
    for _ in range(steps):
        R -= B
        R *= 0.97
        R += B
        B -= R
        B *= 0.993
        B += R
    return (time.perf_counter() - start) / steps


def per_step_floor_recorded(R: np.ndarray, B: np.ndarray, steps: int) -> float:
    """The floor, plus copying the state into a new history array each step, as the engine's
    record does: that cost is writing fresh memory (page faults), not arithmetic."""
    history = np.empty((steps + 1, *R.shape))
    start = time.perf_counter()
    for k in range(steps):
        R -= B
        R *= 0.97
        R += B
        history[k + 1] = R
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    scenario = load_scenario(HERE / "article-uncertain.yaml")
    noisy = load_scenario(HERE / "article-uncertain.yaml", {"parameters.noise": "0.02"})
    first = load_scenario(HERE / "article-uncertain.yaml", FIRST_RULES)
    n = len(scenario.actor_ids)
    steps = len(scenario.step_dates()) - 1
    rng = np.random.default_rng(0)
    R, B = rng.uniform(-1, 1, (args.members, n, n)), rng.uniform(-1, 1, (args.members, n, n))
    R2, B2 = R.copy(), B.copy()  # the baseline moves in this floor: arrays of its own
    rows = {
        "floor": lambda: per_step_floor(R, B, steps),
        "following": lambda: per_step_floor_following(R2, B2, steps),
        "recorded": lambda: per_step_floor_recorded(R, B, steps),
        "engine": lambda: per_step_engine(scenario, args.members),
        "prefaulted": lambda: per_step_engine(scenario, args.members, prefault=True),
        "noise": lambda: per_step_engine(noisy, args.members),
        "first": lambda: per_step_engine(first, args.members),
    }
    # the rows take turns, so that each sees the machine in the same state; best of the repeats
    best = dict.fromkeys(rows, np.inf)
    for _ in range(args.repeat):
        for name, measure in rows.items():
            best[name] = min(best[name], measure())
    floor, following, recorded, engine, prefaulted, with_noise, first_rules = best.values()
    print(
        f"K = {args.members} members, N = {n} actors, {steps} steps; best of {args.repeat}, taking turns"
    )
    print(f"{'':<44}{'ms/step':>10}{'x floor':>9}")
    print(f"{'floor: R <- B + (R - B) * f on (K, N, N)':<44}{floor * 1e3:>10.3f}{1:>9.1f}")
    print(
        f"{'floor, the baseline following (6 passes)':<44}{following * 1e3:>10.3f}"
        f"{following / floor:>9.1f}"
    )
    print(
        f"{'floor + record into a new history array':<44}{recorded * 1e3:>10.3f}{recorded / floor:>9.1f}"
    )
    print(f"{'engine step (events, decay, record)':<44}{engine * 1e3:>10.3f}{engine / floor:>9.1f}")
    print(
        f"{'  the same, history memory faulted in first':<44}{prefaulted * 1e3:>10.3f}"
        f"{prefaulted / floor:>9.1f}"
    )
    print(f"{'engine step with noise 0.02':<44}{with_noise * 1e3:>10.3f}{with_noise / floor:>9.1f}")
    print(
        f"{'engine step, the first rules':<44}{first_rules * 1e3:>10.3f}{first_rules / floor:>9.1f}"
    )
    print(
        f"engine step / floor with a baseline that follows: {engine / following:.1f}x "
        f"(faulted in first: {prefaulted / following:.1f}x)"
    )


if __name__ == "__main__":
    main()
