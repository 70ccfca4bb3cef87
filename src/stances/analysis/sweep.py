"""Sweeps: the same scenario over a grid of values of dotted keys (``--vary``), each point run
with the same root seed (common random numbers), and the tables that summarise them."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from stances.result import Result
from stances.scenario.builder import load_scenario
from stances.scenario.types import Scenario

Dyad = tuple[str, str]


@dataclass
class SweepPoint:
    """One point of a sweep grid: the values set, and the run they gave."""

    values: dict[str, str]
    result: Result

    @property
    def label(self) -> str:
        return ", ".join(f"{k.split('.')[-1]}={v}" for k, v in self.values.items())


def grid(varied: Sequence[tuple[str, list[str]]]) -> list[dict[str, str]]:
    """Every combination of the varied values (the first key varies slowest)."""
    keys = [k for k, _ in varied]
    return [
        dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in varied))
    ]


def sweep(
    path: Path,
    varied: Sequence[tuple[str, list[str]]],
    *,
    sets: dict[str, str] | None = None,
    run_one: Callable[[Scenario], Result],
) -> list[SweepPoint]:
    """Run the scenario at every grid point (each with the same root seed: common random
    numbers, so differences come from the varied values, not from different draws)."""
    points = []
    for values in grid(varied):
        flags = dict.fromkeys(values, "--vary")  # problems name the option they came from
        scenario = load_scenario(path, {**(sets or {}), **values}, flags)
        points.append(SweepPoint(values, run_one(scenario)))
    return points


def sweep_dyads(points: list, most: int = 4) -> list[Dyad]:
    """The dyads whose final median moves most across the sweep's points."""
    ids = points[0].result.actor_ids
    finals = np.stack([p.result.median()[-1] for p in points])  # (P, N, N)
    spread = finals.max(axis=0) - finals.min(axis=0)
    dyads = [(a, b) for i, a in enumerate(ids) for j, b in enumerate(ids) if i != j]
    return sorted(dyads, key=lambda d: -spread[ids.index(d[0]), ids.index(d[1])])[:most]


def sweep_table(points: list, dyads: list[Dyad]) -> pd.DataFrame:
    """One row per point and dyad: the varied values, then the final median and 5-95 % range."""
    rows = []
    for point in points:
        for a, b in dyads:
            q05, q50, q95 = np.percentile(point.result.score(a, b)[-1], (5, 50, 95))
            rows.append(
                {
                    **point.values,
                    "actor": a,
                    "toward": b,
                    "final_q05": q05,
                    "final_median": q50,
                    "final_q95": q95,
                }
            )
    return pd.DataFrame(rows)
