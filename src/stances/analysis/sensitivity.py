"""Global sensitivity: which uncertain values an outcome hinges on, with SALib.

The *factors* are uncertain values of a scenario, named by their dotted keys as a design
names them (``parameters.kappa_observer``, ``events.ID.intensity``, ...): the file's own
uncertain values (a uniform or a normal each; a choice cannot be a factor), or ranges given as
``KEY=LO..HI``. An *outcome* is one score at the end of the window or at a date. SALib draws
the sample (Saltelli's scheme through ``SALib.sample.sobol``, Morris trajectories, or a Latin
hypercube for the delta method), the whole sample runs as one ensemble through ``design=``,
and SALib's analyzers give the indices with bootstrap confidence intervals:

- ``sobol``: first-order S1 and total ST (and second-order S2) of each factor (Sobol 2001;
  Saltelli et al. 2010); the sample has N (2D + 2) rows for D factors.
- ``morris``: mu* (the mean absolute elementary effect) and sigma (Morris 1991; Campolongo et al.
  2007); N trajectories of D + 1 rows.
- ``delta``: Borgonovo's moment-independent delta and a first-order S1 (Borgonovo 2007; Plischke
  et al. 2013); N rows.

The analysis runs nothing itself: it is given ``evaluate``, a function from a design (column ->
values) to the outcomes (one array per outcome, a value per row), so the same code analyses the
engine and, in the tests, a function with known indices. SALib is an optional extra
(``pip install -e ".[ensemble-tools]"``); it is imported when first needed.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from stances.errors import Position, Problem, ScenarioError, suggest
from stances.scenario.design import allowed_range, target_of
from stances.scenario.types import Scenario

METHODS = ("sobol", "morris", "delta")
INDICES = {
    "sobol": ("S1", "ST"),
    "morris": ("mu_star", "sigma"),
    "delta": ("delta", "S1"),
}
"""The indices each method reports (the first is the one figures rank factors by)."""
MORRIS_LEVELS = 4


class SensitivityError(ScenarioError, ValueError):
    """A sensitivity analysis that cannot be made as asked: one problem per reason."""


@dataclass(frozen=True)
class Factor:
    """One uncertain value: `key` (a design column), `kind` 'uniform' (args lo, hi) or
    'normal' (args mean, sd), in the units a design is written in: numbers, weeks for
    durations, day numbers (0001-01-01 = 1) for dates (`unit` 'number', 'weeks', 'date').
    `bounds`: the range the value allows, where draws of a normal are clipped."""

    key: str
    kind: str
    args: tuple[float, float]
    unit: str
    bounds: tuple[float, float]

    def written(self, values: np.ndarray) -> np.ndarray:
        """Sampled values as a design column: clipped to the value's range; dates as
        datetime64[D] (whole days)."""
        values = np.clip(values, *self.bounds)
        if self.unit == "date":
            days = np.round(values).astype("int64") - dt.date(1970, 1, 1).toordinal()
            return days.astype("datetime64[D]")
        return values

    def describe(self) -> str:
        """'uniform 0.05 .. 0.25' or 'normal 0.3 sd 0.1', dates as dates, weeks in weeks."""
        a, b = (self._show(v) for v in self.args)
        if self.kind == "normal":
            return f"normal {a} sd {self._show(self.args[1], spread=True)}"
        return f"uniform {a} .. {b}"

    def _show(self, value: float, spread: bool = False) -> str:
        if self.unit == "date" and not spread:
            return dt.date.fromordinal(round(value)).isoformat()
        suffix = " weeks" if self.unit == "weeks" else " days" if self.unit == "date" else ""
        return f"{value:.4g}{suffix}"


@dataclass(frozen=True)
class Outcome:
    """A score (actor, toward) at the end of the window (`at` None) or at a date."""

    actor: str
    toward: str
    at: dt.date | None = None

    @property
    def column(self) -> str:
        """The dyad as a column of ``Result.outcomes``: 'A -> B'."""
        return f"{self.actor} -> {self.toward}"

    @property
    def label(self) -> str:
        when = "end" if self.at is None else self.at.isoformat()
        return f"{self.actor} -> {self.toward} at {when}"


def _where(scenario: Scenario) -> Position:
    return Position(str(scenario.path))


def factors_of(scenario: Scenario) -> list[Factor]:
    """The file's uncertain values as factors (SensitivityError for a choice, which has no
    range to sample, and for a value whose draw is not a design column)."""
    factors, problems = [], []
    for u in scenario.uncertain:
        key = u.label
        if key.startswith("events[") and "]." in key:  # draws' label -> the design's key
            ident, _, field = key[len("events[") :].rpartition("].")
            key = f"events.{ident}.{field}"
        d = u.distribution
        if d.kind == "choice":
            problems.append(
                Problem(
                    _where(scenario),
                    key,
                    "a choice cannot be a factor of a sensitivity analysis (no range to "
                    "sample): make it uniform, or give a range with --vary KEY=LO..HI",
                )
            )
            continue
        unit = {"days": "weeks", "date": "date"}.get(d.unit, "number")
        scale = 7.0 if unit == "weeks" else 1.0
        args = (d.args[0] / scale, d.args[1] / scale)
        factors.append(Factor(key, d.kind, args, unit, _bounds(scenario, key)))
    if problems:
        raise SensitivityError(problems)
    return factors


def _bounds(scenario: Scenario, key: str) -> tuple[float, float]:
    lo, hi = allowed_range(scenario, key)
    return (lo, hi)


def parse_range(scenario: Scenario, text: str) -> Factor:
    """A factor from 'KEY=LO..HI': a uniform range, numbers (durations in weeks) or dates
    YYYY-MM-DD. SensitivityError naming the --vary text for anything else."""

    def problem(message: str) -> SensitivityError:
        return SensitivityError([Problem(Position("command line"), f"--vary {text}", message)])

    key, sep, span = text.partition("=")
    key = key.strip()
    lo_text, dots, hi_text = span.partition("..")
    if not sep or not dots:
        raise problem("expected KEY=LO..HI, e.g. parameters.kappa_observer=0.05..0.25")
    found = target_of(scenario, key)
    if isinstance(found, str):
        raise problem(found)
    _, unit = found
    try:
        if unit == "date":
            lo = float(dt.date.fromisoformat(lo_text.strip()).toordinal())
            hi = float(dt.date.fromisoformat(hi_text.strip()).toordinal())
        else:
            lo, hi = float(lo_text), float(hi_text)
    except ValueError:
        what = "dates YYYY-MM-DD" if unit == "date" else "numbers"
        raise problem(f"expected {what} on both sides of '..'") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise problem(f"expected LO < HI, both finite, got {lo_text.strip()}..{hi_text.strip()}")
    bounds = _bounds(scenario, key)
    if lo < bounds[0] or hi > bounds[1]:
        raise problem(
            f"the range must lie within what the value allows, {bounds[0]:g} .. {bounds[1]:g}"
        )
    kind_unit = "weeks" if unit == "days" else unit
    return Factor(key, "uniform", (lo, hi), kind_unit, bounds)


def parse_outcome(scenario: Scenario, text: str) -> Outcome:
    """An outcome from 'A->B', 'A->B at end' or 'A->B at YYYY-MM-DD'."""

    def problem(message: str) -> SensitivityError:
        return SensitivityError([Problem(Position("command line"), f"--outcome {text}", message)])

    dyad, _, when = text.partition(" at ")
    actor, arrow, toward = dyad.partition("->")
    actor, toward = actor.strip(), toward.strip()
    if not arrow or not actor or not toward:
        raise problem("expected 'A->B', 'A->B at end' or 'A->B at YYYY-MM-DD'")
    for name in (actor, toward):
        if name not in scenario.actor_ids:
            raise problem(f"unknown actor {name!r}{suggest(name, scenario.actor_ids)}")
    if actor == toward:
        raise problem("an actor's view of itself is not a score")
    when = when.strip()
    if not when or when == "end":
        return Outcome(actor, toward)
    try:
        at = dt.date.fromisoformat(when)
    except ValueError:
        raise problem(f"expected 'end' or a date YYYY-MM-DD after 'at', got {when!r}") from None
    if not scenario.time.start <= at <= scenario.time.end:
        raise problem(f"{at} is outside the window {scenario.time.start} .. {scenario.time.end}")
    return Outcome(actor, toward, at)


def problem_of(factors: list[Factor]) -> dict[str, Any]:
    """The SALib problem: names, bounds (lo, hi for a uniform; mean, sd for a normal), dists."""
    return {
        "num_vars": len(factors),
        "names": [f.key for f in factors],
        "bounds": [list(f.args) for f in factors],
        "dists": ["unif" if f.kind == "uniform" else "norm" for f in factors],
    }


def sample(problem: dict[str, Any], method: str, n: int, seed: int) -> np.ndarray:
    """SALib's sample for `method`: rows x factors, in the factors' units."""
    if method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, n, calc_second_order=True, seed=seed)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)
    from SALib.sample import latin

    return latin.sample(problem, n, seed=seed)


def analyse(
    problem: dict[str, Any], method: str, X: np.ndarray, Y: np.ndarray, seed: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """SALib's indices of one outcome Y (rows,): index name -> (values, 95 % confidence
    half-widths), one per factor."""
    if method == "sobol":
        from SALib.analyze import sobol

        r = sobol.analyze(problem, Y, calc_second_order=True, seed=seed)
        return {"S1": (r["S1"], r["S1_conf"]), "ST": (r["ST"], r["ST_conf"])}
    if method == "morris":
        from SALib.analyze import morris

        r = morris.analyze(problem, X, Y, num_levels=MORRIS_LEVELS, seed=seed)
        nan = np.full(len(r["sigma"]), np.nan)
        return {
            "mu_star": (np.asarray(r["mu_star"]), np.asarray(r["mu_star_conf"])),
            "sigma": (np.asarray(r["sigma"]), nan),
        }
    from SALib.analyze import delta

    # SALib 1.5+ reports three bootstrap schemes of Plischke et al.'s (2013) estimator; the
    # 'balanced' one resamples evenly across the factor's range (SALib's reading: "how
    # important variation in that input is on the output")
    with warnings.catch_warnings():  # its bin-merge and bias notices are about the bootstrap
        warnings.simplefilter("ignore")
        r = delta.analyze(problem, X, Y, seed=seed, method="all")
    return {
        "delta": (r["delta_balanced"], r["delta_balanced_conf"]),
        "S1": (r["S1"], r["S1_conf"]),
    }


Evaluate = Callable[[dict[str, np.ndarray]], Mapping[str, np.ndarray]]
"""A design (column -> values, one per row) -> each outcome's value per row, by label."""


@dataclass(frozen=True)
class Sensitivity:
    """A finished analysis: its factors and outcomes, the method and base sample size n, the
    sample X (rows x factors, the factors' units), the outcomes Y (label -> (rows,)), and the
    indices (``table``)."""

    title: str
    method: str
    n: int
    factors: tuple[Factor, ...]
    outcomes: tuple[str, ...]
    X: np.ndarray
    Y: dict[str, np.ndarray]
    indices: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]

    @property
    def rows(self) -> int:
        """The members the sample ran as."""
        return int(self.X.shape[0])

    def table(self) -> pd.DataFrame:
        """One row per outcome, factor and index: value and its 95 % confidence half-width
        (sensitivity.csv)."""
        rows = []
        for outcome in self.outcomes:
            for index, (values, conf) in self.indices[outcome].items():
                for f, factor in enumerate(self.factors):
                    rows.append(
                        {
                            "outcome": outcome,
                            "factor": factor.key,
                            "index": index,
                            "value": float(values[f]),
                            "conf": float(conf[f]),
                        }
                    )
        return pd.DataFrame(rows)

    def design(self) -> pd.DataFrame:
        """The sample as a design table, with the outcomes beside it (design.csv)."""
        table = pd.DataFrame({f.key: f.written(self.X[:, i]) for i, f in enumerate(self.factors)})
        for outcome in self.outcomes:
            table[outcome] = self.Y[outcome]
        return table


def sensitivity(
    title: str,
    factors: list[Factor],
    outcomes: list[str] | None,
    method: str,
    n: int,
    seed: int,
    evaluate: Evaluate,
    most: int = 4,
) -> Sensitivity:
    """Sample the factors (SALib, `method`, base size `n`), evaluate the whole sample at once,
    and analyse each outcome: the labels `outcomes`, or (None) the `most` of those `evaluate`
    returns whose values vary most over the sample."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    problem = problem_of(factors)
    X = sample(problem, method, n, seed)
    design = {f.key: f.written(X[:, i]) for i, f in enumerate(factors)}
    # the model sees the clipped values: analyse those (a normal's tail clipped to the range)
    X_seen = np.column_stack([np.clip(X[:, i], *f.bounds) for i, f in enumerate(factors)])
    values = evaluate(design)
    if outcomes is None:
        spread = {label: float(np.var(v)) for label, v in values.items()}
        outcomes = sorted(spread, key=lambda label: -spread[label])[: max(1, most)]
    Y = {label: np.asarray(values[label], dtype=float) for label in outcomes}
    indices = {label: analyse(problem, method, X_seen, Y[label], seed) for label in outcomes}
    return Sensitivity(title, method, n, tuple(factors), tuple(outcomes), X, Y, indices)
