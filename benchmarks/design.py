"""A Saltelli design through design= against EMA Workbench running it one experiment at a time.

    .venv/bin/python benchmarks/design.py [--n 256] [--scenario scenarios/article.yaml]

SALib makes a Saltelli design of N x (2 x 6 + 2) rows (N = 256: 3,584) over six factors of
the article: three kappas, the memory half-life (weeks) and two event intensities. The
design runs twice in one process: once as one stances ensemble, a member per row
(stances.run(scenario, design=table)), and once through EMA Workbench's SequentialEvaluator,
which calls a function per row that runs that row alone (a one-row design for member k, so
that member seeds match in a scenario with noise or drawn values too). Prints both times,
their ratio and the largest difference of any final score between the two, member by member.
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

import stances

ROOT = Path(__file__).resolve().parents[1]
FACTORS = {  # EMA Workbench's name (a Python identifier) -> the design's column, bounds
    "kappa_target": ("parameters.kappa_target", (0.3, 0.7)),
    "kappa_actor": ("parameters.kappa_actor", (0.1, 0.4)),
    "kappa_observer": ("parameters.kappa_observer", (0.05, 0.3)),
    "memory_half_life": ("parameters.memory_half_life", (13.0, 52.0)),
    "strike": ("events.paktika-strike.intensity", (0.5, 1.5)),
    "trilateral": ("events.beijing-trilateral.intensity", (0.5, 1.5)),
}


def saltelli_design(n: int) -> pd.DataFrame:
    """SALib's Saltelli design with second-order terms, columns named by the design's keys."""
    from SALib.sample import sobol

    problem = {
        "num_vars": len(FACTORS),
        "names": [key for key, _ in FACTORS.values()],
        "bounds": [list(bounds) for _, bounds in FACTORS.values()],
    }
    return pd.DataFrame(sobol.sample(problem, n, calc_second_order=True), columns=problem["names"])


def through_design(scenario: stances.Scenario, design: pd.DataFrame) -> tuple[float, np.ndarray]:
    """Seconds and the final scores (K, N, N) of the design run as one ensemble."""
    start = time.perf_counter()
    result = stances.run(scenario, design=design)
    return time.perf_counter() - start, result.history[-1]


def through_ema(scenario: stances.Scenario, design: pd.DataFrame) -> tuple[float, np.ndarray]:
    """Seconds and the final scores (K, N, N) of the design run by EMA Workbench's
    SequentialEvaluator, one stances run per row (member k alone for row k)."""
    from ema_workbench import (
        ArrayOutcome,
        IntegerParameter,
        Model,
        RealParameter,
        SequentialEvaluator,
        perform_experiments,
    )

    try:  # a point of the uncertainties' space: Sample in EMA Workbench 3, Scenario in 2.5
        from ema_workbench import Sample as Point
    except ImportError:
        from ema_workbench import Scenario as Point

    n = len(scenario.actor_ids)

    def one_run(member: int, **values: float) -> dict[str, np.ndarray]:
        row = {FACTORS[name][0]: [v] for name, v in values.items()}
        result = stances.run(scenario, design=row, first_member=int(member))
        return {"final": result.history[-1, 0].ravel()}

    model = Model("article", function=one_run)
    model.uncertainties = [
        IntegerParameter("member", 0, len(design) - 1),
        *(RealParameter(name, *bounds) for name, (_, bounds) in FACTORS.items()),
    ]
    model.outcomes = [ArrayOutcome("final")]  # the N x N final scores, flattened
    rows = design.rename(columns={key: name for name, (key, _) in FACTORS.items()})
    points = [Point(f"row{k}", member=k, **row) for k, row in enumerate(rows.to_dict("records"))]
    start = time.perf_counter()
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = perform_experiments(model, scenarios=points, evaluator=evaluator)
    seconds = time.perf_counter() - start
    order = np.argsort(experiments["member"].to_numpy())
    return seconds, np.asarray(outcomes["final"])[order].reshape(len(design), n, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="SALib's N (rows: N x 14)")
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "article.yaml")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # EMA Workbench's notes on optional packages
    logging.disable(logging.WARNING)
    scenario = stances.load_scenario(args.scenario)
    design = saltelli_design(args.n)
    stances.run(scenario, design=design.iloc[:1])  # warm up: the first run loads Mesa
    fast, ours = through_design(scenario, design)
    slow, theirs = through_ema(scenario, design)
    print(
        f"scenario: {scenario.title}; Saltelli design N = {args.n}, {len(design)} rows x "
        f"{design.shape[1]} factors; SALib {version('SALib')}, "
        f"EMA Workbench {version('ema_workbench')}, stances {version('stances')}"
    )
    print(f"{'':<46}{'seconds':>10}{'rows/s':>10}")
    print(f"{'stances.run(design=...) (one ensemble)':<46}{fast:>10.2f}{len(design) / fast:>10.0f}")
    print(
        f"{'EMA SequentialEvaluator (one run per row)':<46}{slow:>10.2f}{len(design) / slow:>10.0f}"
    )
    print(f"ratio: {slow / fast:.0f}x")
    print(f"max |difference| of a final score, member by member: {np.abs(ours - theirs).max():.3g}")


if __name__ == "__main__":
    main()
