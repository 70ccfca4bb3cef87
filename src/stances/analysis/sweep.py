"""Sweeps: the same scenario over values of dotted keys (``--vary``), each point run with the
same root seed (common random numbers), and the tables that summarise them.

Points come from a design: the full grid of listed values (the default), or a Latin hypercube
(``lhs:N``) or scrambled Sobol sequence (``sobol:N``, N a power of two) over the unit cube,
mapped onto each key's range ``LO..HI`` (numbers, dates to the day, or durations such as
``26 weeks..104 weeks``; continuous) or onto its listed values (a coordinate u picks value
floor(u * count)). The designs draw from the root seed, so the same command gives the same
points (scipy.stats.qmc; McKay, Beckman and Conover 1979 for the hypercube, Sobol 1967 and
Owen 1998 for the scrambled sequence).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from stances.errors import Position, Problem, ScenarioError
from stances.result import Result
from stances.scenario.builder import load_scenario
from stances.scenario.types import Scenario

Dyad = tuple[str, str]

DESIGNS = ("grid", "lhs", "sobol")
DESIGN_STREAM = 0x5EED_DE51  # mixed with the root seed: the design's draws, apart from members'


@dataclass(frozen=True)
class Range:
    """A continuous range LO..HI of one key: kind 'number', 'date' (whole days, both ends
    included) or 'duration' (a number and its unit). Whole numbers are listed instead
    (KEY=1,2,3): a sampled design picks among listed values."""

    lo: float
    hi: float
    kind: str
    unit: str = ""
    text: str = ""

    def at(self, u: float) -> str:
        """The value at unit coordinate u in [0, 1), as written on the command line: LO + u
        (HI - LO), six significant digits; a date to the whole day."""
        if self.kind == "date":
            days = int(self.hi - self.lo) + 1
            day = date.fromordinal(int(self.lo)) + timedelta(days=min(int(u * days), days - 1))
            return day.isoformat()
        number = f"{self.lo + u * (self.hi - self.lo):.6g}"
        return f"{number} {self.unit}" if self.kind == "duration" else number


Values = list[str] | Range


@dataclass(frozen=True)
class Design:
    """How the points are chosen: 'grid' (every combination), 'lhs' or 'sobol' with n points."""

    kind: str = "grid"
    n: int = 0

    def __str__(self) -> str:
        return self.kind if self.kind == "grid" else f"{self.kind}:{self.n}"


@dataclass
class SweepPoint:
    """One point of a sweep: the values set, the run they gave, and (for a sampled design)
    the point's unit-cube coordinates, one per key in [0, 1)."""

    values: dict[str, str]
    result: Result
    coords: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return ", ".join(f"{short_key(k)}={v}" for k, v in self.values.items())


def short_key(key: str) -> str:
    """'parameters.kappa_target' -> 'kappa_target'; 'events.ID.FIELD' -> 'ID.FIELD'."""
    if key.startswith("events."):
        return key.removeprefix("events.")
    return key.split(".")[-1]


NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
DURATION = re.compile(rf"({NUMBER})\s*([A-Za-z]+)")


def parse_range(key: str, text: str) -> Range | str:
    """'LO..HI' as a Range, or the reason it is not one (LO below HI, both of one kind)."""
    lo, _, hi = (x.strip() for x in text.partition(".."))
    bad = f"'{text}' is not a range: write LO..HI with LO below HI, e.g. 0.1..0.9, 2025-01-01..2025-03-01 or '26 weeks..104 weeks'"
    if re.fullmatch(NUMBER, lo) and re.fullmatch(NUMBER, hi):
        a, b, kind = float(lo), float(hi), "number"
    elif (da := _date(lo)) and (db := _date(hi)):
        a, b, kind = float(da.toordinal()), float(db.toordinal()), "date"
    elif (ma := DURATION.fullmatch(lo)) and (mb := DURATION.fullmatch(hi)):
        if ma.group(2) != mb.group(2):
            return (
                f"'{text}': both ends need the same unit, got '{ma.group(2)}' and '{mb.group(2)}'"
            )
        a, b, kind = float(ma.group(1)), float(mb.group(1)), "duration"
        if not (math.isfinite(a) and math.isfinite(b)) or a >= b:
            return bad
        return Range(a, b, kind, ma.group(2), text)
    else:
        return bad
    if not (math.isfinite(a) and math.isfinite(b)) or a >= b:
        return bad
    return Range(a, b, kind, "", text)


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_design(text: str) -> Design | str:
    """'grid', 'lhs:N' or 'sobol:N' (N a power of two) as a Design, or the reason not."""
    kind, sep, count = text.strip().partition(":")
    if kind == "grid" and not sep:
        return Design()
    if kind not in ("lhs", "sobol") or not re.fullmatch(r"\d+", count.strip()):
        return f"'{text}': expected grid, lhs:N or sobol:N (N points), e.g. --design lhs:200"
    n = int(count)
    if n < 1:
        return f"'{text}': N must be at least 1"
    if kind == "sobol" and n & (n - 1):
        low = 1 << (n.bit_length() - 1)
        return f"'{text}': a Sobol design needs a power of two points (its balance); try {low} or {low * 2}"
    return Design(kind, n)


def check_varied(
    varied: Sequence[tuple[str, list[str]]], design: Design
) -> tuple[list[tuple[str, Values]], list[Problem]]:
    """The varied keys with ranges parsed, and one problem per fault: a range in a grid, a
    range that is not one, a key varied twice."""
    out: list[tuple[str, Values]] = []
    problems = []
    seen: set[str] = set()
    for key, items in varied:
        where = Position(f"--vary {key}")
        if key in seen:
            problems.append(Problem(where, "", "the key is varied twice"))
            continue
        seen.add(key)
        if len(items) == 1 and ".." in items[0]:
            if design.kind == "grid":
                problems.append(
                    Problem(
                        where,
                        "",
                        f"a range ({items[0]}) needs --design lhs:N or sobol:N; "
                        "the grid takes listed values V1,V2,...",
                    )
                )
                continue
            parsed = parse_range(key, items[0])
            if isinstance(parsed, str):
                problems.append(Problem(where, "", parsed))
                continue
            out.append((key, parsed))
        else:
            out.append((key, items))
    return out, problems


def grid(varied: Sequence[tuple[str, list[str]]]) -> list[dict[str, str]]:
    """Every combination of the varied values (the first key varies slowest)."""
    keys = [k for k, _ in varied]
    return [
        dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in varied))
    ]


def unit_points(design: Design, dims: int, seed: int) -> np.ndarray:
    """The design's points in the unit cube, shape (n, dims), values in [0, 1); drawn from a
    generator seeded by (root seed, DESIGN_STREAM)."""
    from scipy.stats import qmc  # type: ignore[import-untyped]

    rng = np.random.default_rng(np.random.SeedSequence([seed, DESIGN_STREAM]))
    if design.kind == "lhs":
        engine: qmc.QMCEngine = qmc.LatinHypercube(dims, rng=rng)
    else:
        engine = qmc.Sobol(dims, scramble=True, rng=rng)
    return np.minimum(engine.random(design.n), np.nextafter(1.0, 0.0))


def value_at(values: Values, u: float) -> str:
    """A key's value at unit coordinate u: on its range, or one of its listed values."""
    if isinstance(values, Range):
        return values.at(u)
    return values[min(int(u * len(values)), len(values) - 1)]


def design_points(
    varied: Sequence[tuple[str, Values]], design: Design, seed: int
) -> list[tuple[dict[str, str], dict[str, float]]]:
    """(values, unit coordinates) of every point: the grid's (no coordinates), or the
    sampled design's."""
    if design.kind == "grid":
        lists = [(k, v) for k, v in varied if not isinstance(v, Range)]
        return [(values, {}) for values in grid(lists)]
    keys = [k for k, _ in varied]
    cube = unit_points(design, len(keys), seed)
    return [
        (
            {k: value_at(v, float(u)) for (k, v), u in zip(varied, row, strict=True)},
            dict(zip(keys, map(float, row), strict=True)),
        )
        for row in cube
    ]


def load_points(
    path: Path,
    chosen: list[tuple[dict[str, str], dict[str, float]]],
    sets: dict[str, str] | None = None,
) -> list[Scenario]:
    """Every point's scenario, loaded before any runs; ScenarioError with each problem once
    (the first point's wording, and at how many points it arose)."""
    scenarios: list[Scenario] = []
    found: dict[tuple[Position, str], tuple[Problem, int]] = {}
    for values, _ in chosen:
        flags = dict.fromkeys(values, "--vary")  # problems name the option they came from
        try:
            scenarios.append(load_scenario(path, {**(sets or {}), **values}, flags))
        except ScenarioError as exc:
            for problem in exc.problems:
                first, count = found.get((problem.pos, problem.where), (problem, 0))
                found[(problem.pos, problem.where)] = (first, count + 1)
    if found:
        raise ScenarioError(
            Problem(
                p.pos,
                p.where,
                p.message + (f" (and at {n - 1} other point{'s' * (n > 2)})" if n > 1 else ""),
            )
            for p, n in found.values()
        )
    return scenarios


def sweep(
    path: Path,
    varied: Sequence[tuple[str, Values]],
    *,
    sets: dict[str, str] | None = None,
    run_one: Callable[[Scenario], Result],
    design: Design | None = None,
    seed: int = 0,
) -> list[SweepPoint]:
    """Run the scenario at every point of the design (the grid by default), each with the same
    root seed: common random numbers, so differences come from the varied values, not from
    different draws. Every point is loaded and checked before the first runs."""
    chosen = design_points(varied, design or Design(), seed)
    scenarios = load_points(path, chosen, sets)
    return [
        SweepPoint(values, run_one(scenario), coords)
        for (values, coords), scenario in zip(chosen, scenarios, strict=True)
    ]


def sensitivity(points: list[SweepPoint], dyad: Dyad) -> dict[str, float]:
    """For a sampled design: the rank (Spearman) correlation, over the points, of each key's
    unit coordinate with the dyad's final median, in [-1, 1] (NaN when either is constant)."""
    finals = pd.Series([float(p.result.band(*dyad)[2, -1]) for p in points])
    out = {}
    for key in points[0].coords:
        coords = pd.Series([p.coords[key] for p in points])
        constant = finals.nunique() < 2 or coords.nunique() < 2
        out[key] = np.nan if constant else float(finals.corr(coords, method="spearman"))
    return out


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
            q05, q50, q95 = np.percentile(point.result.score_array(a, b)[-1], (5, 50, 95))
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
