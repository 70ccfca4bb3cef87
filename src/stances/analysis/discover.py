"""Scenario discovery: under which combinations of assumptions an outcome holds.

The *inputs* are each member's uncertain values (``Result.experiments()``, in design units:
numbers, durations in weeks, dates as day numbers here); the *outcome* is a condition on a score
written ``'A->B < 0 at end'``, ``'A->B > 0.2 at 2025-03-01'`` or ``'A->B < C->D'`` (``--where``).
PRIM (Friedman & Fisher 1999), as EMA Workbench implements it for scenario discovery (Bryant &
Lempert 2010; Kwakkel 2017), peels the box of all inputs toward the members where the condition
holds; every box on its peeling trajectory has a *coverage* (the share of the members where it
holds that lie in the box), a *density* (the share of the box's members where it holds) and a
*mass* (the box's share of all members).

The box reported is chosen by one rule: the box of highest coverage among those of density at
least ``density`` (default 0.8); ties go to the higher density, then to fewer restricted inputs.
Limits are read from ``PrimBox.box_lims``, not from ``Prim.boxes_to_dataframe()``: EMA Workbench
2.5.3 under pandas 3 writes zeros there (a chained assignment). Feature scores are EMA's extra
trees importances (Jaxa-Rozen & Kwakkel 2018). EMA Workbench is an optional extra
(``pip install -e ".[ensemble-tools]"``), imported when first needed; both its 2.5 and 3.x APIs
are supported.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stances.analysis.sensitivity import Outcome
from stances.errors import Position, Problem, ScenarioError
from stances.scenario.design import target_of
from stances.scenario.types import Scenario

OPERATORS = ("<=", ">=", "<", ">")
PEEL_ALPHA = 0.05
"""The share of a box's members each peel removes (EMA Workbench's default)."""
INSTALL = 'discover needs ema-workbench, an optional extra: pip install -e ".[ensemble-tools]"'


class DiscoverError(ScenarioError, ValueError):
    """A discovery that cannot be made as asked: one problem per reason."""


@dataclass(frozen=True)
class Condition:
    """`left` OP `right`: right a number or another score at the same time."""

    text: str
    left: Outcome
    op: str
    right: float | Outcome

    @property
    def when(self) -> dt.date | None:
        return self.left.at

    @property
    def label(self) -> str:
        right = self.right.column if isinstance(self.right, Outcome) else f"{self.right:g}"
        when = "end" if self.when is None else self.when.isoformat()
        return f"{self.left.column} {self.op} {right} at {when}"

    def holds(self, scores: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(the left score per member, whether the condition holds per member) from a table
        of member scores (``Result.outcomes``)."""
        left = scores[self.left.column].to_numpy(dtype=float)
        if isinstance(self.right, Outcome):
            right = scores[self.right.column].to_numpy(dtype=float)
        else:
            right = np.full_like(left, self.right)
        compare = {"<": np.less, ">": np.greater, "<=": np.less_equal, ">=": np.greater_equal}
        return left, compare[self.op](left, right)


def parse_where(scenario: Scenario, text: str) -> Condition:
    """A condition from 'A->B < x [at end | at YYYY-MM-DD]' (or 'A->B < C->D ...'; the 'at'
    may also follow the left score). DiscoverError naming the --where text otherwise."""
    from stances.analysis.sensitivity import SensitivityError, parse_outcome

    def problem(message: str) -> DiscoverError:
        return DiscoverError([Problem(Position("command line"), f"--where {text}", message)])

    body, when = text, "end"
    head, sep, tail = text.rpartition(" at ")
    if sep and not re.search(r"<(?!->)|(?<!-)>", tail):
        body, when = head, tail.strip()
    found = re.search(r"<=|>=|<(?!->)|(?<!-)>", body)  # not the arrow of 'A->B'
    if found is None:
        raise problem("expected 'A->B < x at end', 'A->B > x at YYYY-MM-DD' or 'A->B < C->D'")
    op = found.group()
    left_text, right_text = body[: found.start()], body[found.end() :]
    left_text, right_text = left_text.strip(), right_text.strip()
    if " at " in left_text:  # 'A->B at DATE < x'
        left_text, _, when = left_text.partition(" at ")
        when = when.strip()

    def score(dyad: str) -> Outcome:
        try:
            return parse_outcome(scenario, f"{dyad} at {when}")
        except SensitivityError as exc:
            raise problem(exc.problems[0].message) from None

    left = score(left_text)
    right: float | Outcome
    if "->" in right_text:
        right = score(right_text)
    else:
        try:
            right = float(right_text)
        except ValueError:
            raise problem(f"expected a number or a score 'C->D' after {op!r}") from None
        if not math.isfinite(right):
            raise problem(f"expected a finite number after {op!r}, got {right_text!r}")
    return Condition(text, left, op, right)


@dataclass(frozen=True)
class Input:
    """One input: its design key and unit ('number', 'weeks' or 'date')."""

    key: str
    unit: str

    def show(self, value: float) -> str:
        """A limit as written: dates as dates, durations in weeks."""
        if self.unit == "date":
            return dt.date.fromordinal(round(value)).isoformat()
        return f"{value:.4g}" + (" weeks" if self.unit == "weeks" else "")

    def written(self, value: float) -> float | str:
        """A limit as box.csv writes it: a date YYYY-MM-DD, else the number."""
        return self.show(value) if self.unit == "date" else float(value)


def inputs_of(scenario: Scenario, experiments: pd.DataFrame) -> tuple[list[Input], pd.DataFrame]:
    """The inputs of `experiments` (``Result.experiments()``) as numbers: dates as day numbers
    (0001-01-01 = 1); columns that take one value only are left out."""
    inputs, columns = [], {}
    for key in experiments.columns:
        values = experiments[key]
        if pd.api.types.is_datetime64_any_dtype(values):
            days = values.to_numpy().astype("datetime64[D]").astype("int64")
            numbers = days.astype(float) + dt.date(1970, 1, 1).toordinal()
            unit = "date"
        else:
            numbers = values.to_numpy(dtype=float)
            found = target_of(scenario, str(key))
            unit = "weeks" if not isinstance(found, str) and found[1] == "days" else "number"
        if np.unique(numbers).size < 2:
            continue
        inputs.append(Input(str(key), unit))
        columns[str(key)] = numbers
    return inputs, pd.DataFrame(columns)


def _ema() -> tuple[object, object]:
    """EMA Workbench's prim and feature_scoring modules (ImportError with how to install)."""
    try:
        with warnings.catch_warnings():  # its notice that ipyparallel is missing
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import feature_scoring, prim  # type: ignore[import-untyped]
    except ImportError:
        raise ImportError(INSTALL) from None
    return prim, feature_scoring


def peel(X: pd.DataFrame, y: np.ndarray) -> tuple[pd.DataFrame, list[np.ndarray], list[dict]]:
    """PRIM's first box on X (members x inputs, numbers) and y (bool per member): the peeling
    and pasting trajectory (coverage, density, mass, res_dim, n, k per box), each box's limits
    (2 x inputs: lower, upper) and quasi-p-values (input -> [lower, upper], NaN where a side is
    not restricted)."""
    prim, _ = _ema()
    cls = prim.Prim  # type: ignore[attr-defined]
    kwargs = {"peel_alpha": PEEL_ALPHA}
    if "threshold" in inspect.signature(cls).parameters:
        # 2.x counts y >= threshold as of interest and replaces a box of mean below it by
        # the whole box: any threshold in (0, 1) counts the ones, a tiny one keeps every box
        kwargs["threshold"] = 1e-9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runner = cls(X.astype(float), np.asarray(y, dtype=int), **kwargs)
        box = runner.find_box()
    trajectory = box.peeling_trajectory.reset_index(drop=True)
    limits = [lim[list(X.columns)].to_numpy(dtype=float) for lim in box.box_lims]
    raw = getattr(box, "p_values", None) or getattr(box, "qp", [])
    qps = [
        {k: [np.nan if q == -1 else float(q) for q in v] for k, v in entry.items()} for entry in raw
    ]
    return trajectory, limits, qps


def choose(trajectory: pd.DataFrame, density: float) -> int:
    """The box of highest coverage among those of density >= `density`; ties: the denser,
    then the fewer restricted inputs, then the earlier. Without any, the densest box."""
    t = trajectory
    ok = t.index[t["density"] >= density - 1e-12]
    if len(ok) == 0:
        return int(t["density"].to_numpy().argmax())
    rows = t.loc[ok]
    order = rows.sort_values(
        ["coverage", "density", "res_dim"], ascending=[False, False, True], kind="stable"
    )
    return int(order.index[0])


def feature_scores(X: pd.DataFrame, y: np.ndarray, seed: int) -> pd.DataFrame:
    """EMA's extra-trees feature scores of each input for y (input, score; largest first)."""
    _, fs = _ema()
    mode = fs.RuleInductionType.CLASSIFICATION  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores, _ = fs.get_ex_feature_scores(  # type: ignore[attr-defined]
            X.astype(float),
            np.asarray(y, dtype=int),
            mode=mode,
            max_features=max(1, round(X.shape[1] / 3)),
            random_state=seed % 2**32,
        )
    table = scores.reset_index()
    table.columns = ["input", "score"]
    table["score"] = table["score"].astype(float)
    return table


@dataclass(frozen=True)
class Discovery:
    """A finished discovery: the condition, the inputs and their values X (members x inputs,
    numbers), the outcome's score per member and whether it holds (y), PRIM's trajectory and
    each box's limits and quasi-p-values, the chosen box and the rule's density, feature
    scores."""

    title: str
    condition: Condition
    inputs: tuple[Input, ...]
    X: pd.DataFrame
    score: np.ndarray
    y: np.ndarray
    trajectory: pd.DataFrame
    limits: list[np.ndarray]
    qp: list[dict]
    chosen: int
    density: float
    features: pd.DataFrame

    @property
    def members(self) -> int:
        return len(self.y)

    def restricted(self, i: int) -> list[int]:
        """The inputs box i restricts (a limit inside the full range), by position."""
        full, lim = self.limits[0], self.limits[i]
        return [
            j for j in range(len(self.inputs)) if lim[0, j] > full[0, j] or lim[1, j] < full[1, j]
        ]

    def trajectory_table(self) -> pd.DataFrame:
        """boxes.csv: one row per box on the trajectory."""
        t = self.trajectory
        return pd.DataFrame(
            {
                "box": range(len(t)),
                "coverage": t["coverage"].astype(float),
                "density": t["density"].astype(float),
                "mass": t["mass"].astype(float),
                "members": t["n"].astype(int),
                "holds": t["k"].astype(int),
                "restricted": [len(self.restricted(i)) for i in range(len(t))],
                "inputs": [
                    ";".join(self.inputs[j].key for j in self.restricted(i)) for i in range(len(t))
                ],
                "chosen": [i == self.chosen for i in range(len(t))],
            }
        )

    def box_table(self) -> pd.DataFrame:
        """box.csv: the chosen box's limits per input (restricted first), the full range, and
        the quasi-p-values of each restricted side."""
        lim, full = self.limits[self.chosen], self.limits[0]
        qp = self.qp[self.chosen] if self.chosen < len(self.qp) else {}
        chosen = self.restricted(self.chosen)
        order = chosen + [j for j in range(len(self.inputs)) if j not in chosen]
        rows = []
        for j in order:
            f = self.inputs[j]
            q = qp.get(f.key, [np.nan, np.nan])
            rows.append(
                {
                    "input": f.key,
                    "unit": f.unit,
                    "restricted": j in chosen,
                    "lower": f.written(lim[0, j]),
                    "upper": f.written(lim[1, j]),
                    "full_lower": f.written(full[0, j]),
                    "full_upper": f.written(full[1, j]),
                    "qp_lower": q[0],
                    "qp_upper": q[1],
                }
            )
        return pd.DataFrame(rows)

    def experiments_table(self) -> pd.DataFrame:
        """experiments.csv: every member's inputs (as written), its score and whether the
        condition holds."""
        table = pd.DataFrame(
            {
                f.key: [f.written(v) for v in self.X[f.key]] if f.unit == "date" else self.X[f.key]
                for f in self.inputs
            }
        )
        table["score"] = self.score
        table["holds"] = self.y
        return table

    def words(self) -> str:
        """The chosen box in words."""
        i = self.chosen
        row = self.trajectory.iloc[i]
        lim, full = self.limits[i], self.limits[0]
        parts = []
        for j in self.restricted(i):
            f = self.inputs[j]
            lo, hi = lim[0, j] > full[0, j], lim[1, j] < full[1, j]
            if lo and hi:
                parts.append(f"{f.show(lim[0, j])} <= {f.key} <= {f.show(lim[1, j])}")
            elif lo:
                parts.append(f"{f.key} >= {f.show(lim[0, j])}")
            else:
                parts.append(f"{f.key} <= {f.show(lim[1, j])}")
        where = " and ".join(parts) if parts else "(no input restricted)"
        base = float(np.mean(self.y))
        return (
            f"{self.condition.label}: holds in {_pc(base)} of all {self.members:,} members; "
            f"in {_pc(row['density'])} of the members where {where} "
            f"({_pc(row['mass'])} of all members), which hold "
            f"{_pc(row['coverage'])} of all members where it holds"
        )


def _pc(share: float) -> str:
    return f"{100 * float(share):.0f} %"


def discover(
    title: str,
    condition: Condition,
    inputs: list[Input],
    X: pd.DataFrame,
    score: np.ndarray,
    y: np.ndarray,
    density: float = 0.8,
    seed: int = 0,
) -> Discovery:
    """PRIM and feature scores of `y` (bool per member) over the inputs X (members x inputs).
    DiscoverError when y holds in no member or in every one (nothing to tell apart)."""
    y = np.asarray(y, dtype=bool)
    held = int(y.sum())
    if held == 0 or held == len(y) or not inputs:
        why = (
            "no input varies across the members"
            if not inputs
            else f"the condition holds in {'none' if held == 0 else 'every one'} of the "
            f"{len(y):,} members: nothing to tell apart (widen the ranges, or change the condition)"
        )
        raise DiscoverError([Problem(Position("command line"), f"--where {condition.text}", why)])
    trajectory, limits, qp = peel(X, y)
    chosen = choose(trajectory, density)
    features = feature_scores(X, y, seed)
    return Discovery(
        title,
        condition,
        tuple(inputs),
        X,
        np.asarray(score, dtype=float),
        y,
        trajectory,
        limits,
        qp,
        chosen,
        density,
        features,
    )
