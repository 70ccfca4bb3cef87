"""Checking a run against observations: does each hold, by how much, and in an ensemble in
what share of the members.

The value an observation looks at is one score (or a difference of two) of every member at
every step boundary, read "as of" a date as everywhere in the project: the state at the last
step boundary on or before that date. Each check gives a margin per member, in score units:
positive when the observation holds, the more so the larger it is (for the date of an extreme,
in days: 0 inside the window, minus the days outside it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from stances.result import Result
from stances.scenario.observations import Dyad, Observation

COLUMNS = ["observation", "kind", "holds", "share", "margin", "unit", "what", "cite", "source"]


def as_of(dates: list[date], when: date) -> int:
    """The index of the last step boundary on or before `when` (0 if none is)."""
    index = (
        int(
            np.searchsorted(
                np.array(dates, dtype="datetime64[D]"), np.datetime64(when, "D"), side="right"
            )
        )
        - 1
    )
    return max(index, 0)


def after(dates: list[date], when: date) -> int:
    """The index of the first step boundary after `when` (the last one if none is)."""
    index = int(
        np.searchsorted(
            np.array(dates, dtype="datetime64[D]"), np.datetime64(when, "D"), side="right"
        )
    )
    return min(index, len(dates) - 1)


def series(result: Result, score: tuple[Dyad, Dyad | None]) -> np.ndarray:
    """The value of a score (or difference) for every step and member, shape (T + 1, K)."""
    plus, minus = score
    value = result.score_array(*plus).astype(float)
    if minus is not None:
        value = value - result.score_array(*minus)
    return value


@dataclass(frozen=True)
class Verdict:
    """One observation checked: margin per member (K,), in `unit` ('score' or 'days')."""

    observation: Observation
    margins: np.ndarray
    unit: str

    @property
    def share(self) -> float:
        """The share of members in which it holds (margin > 0; for the date of an extreme,
        margin >= 0), in [0, 1]."""
        holds = self.margins >= 0 if self.unit == "days" else self.margins > 0
        return float(np.mean(holds))

    @property
    def holds(self) -> bool:
        """Whether it holds in at least half the members (in a single run: whether it holds)."""
        return self.share >= 0.5

    @property
    def margin(self) -> float:
        """The median margin over the members."""
        return float(np.median(self.margins))


def check(result: Result, observation: Observation) -> Verdict:
    """Check one observation against every member of a run."""
    o, dates = observation, result.dates
    value = series(result, o.score)
    if o.kind in ("above", "below"):
        rows = _period_rows(dates, o.period)
        reference = _reference(result, o.reference)[rows]
        gap = value[rows] - reference if o.kind == "above" else reference - value[rows]
        return Verdict(o, gap.min(axis=0) - o.by, "score")
    assert o.window is not None
    if o.kind in ("rises", "falls"):
        first = as_of(dates, o.window[0])
        last = after(dates, o.window[1]) if o.across else as_of(dates, o.window[1])
        change = value[last] - value[first]
        return Verdict(o, (change if o.kind == "rises" else -change) - o.by, "score")
    rows = _period_rows(dates, o.period)
    pick = np.argmin if o.kind == "lowest" else np.argmax
    at = np.array(dates, dtype="datetime64[D]")[rows][pick(value[rows], axis=0)]
    lo, hi = np.datetime64(o.window[0], "D"), np.datetime64(o.window[1], "D")
    early = (lo - at).astype(int)
    late = (at - hi).astype(int)
    return Verdict(o, -np.maximum(np.maximum(early, late), 0).astype(float), "days")


def _period_rows(dates: list[date], period: tuple[date, date] | None) -> np.ndarray:
    """The step boundaries a level is checked at: those inside the period, or, when none
    falls inside it, the state as of its first day."""
    if period is None:
        return np.arange(len(dates))
    inside = [i for i, d in enumerate(dates) if period[0] <= d <= period[1]]
    return np.array(inside or [as_of(dates, period[0])])


def _reference(result: Result, reference: object) -> np.ndarray:
    """What a level is compared with, for every step and member: shape (T + 1, K) or scalar."""
    if isinstance(reference, float):
        return np.full((len(result.dates), result.members), reference)
    assert isinstance(reference, tuple)
    if isinstance(reference[1], date):
        dyad, when = reference
        level = result.score_array(*dyad)[as_of(result.dates, when)]
        return np.broadcast_to(level, (len(result.dates), result.members))
    return series(result, reference)


def check_all(result: Result, observations: tuple[Observation, ...]) -> list[Verdict]:
    """Check every observation of a scenario against a run."""
    return [check(result, o) for o in observations]


def table(verdicts: list[Verdict]) -> pd.DataFrame:
    """One row per observation: id, kind, holds, share of members, median margin, unit, the
    observation in words, its citation and where it is written."""
    rows = [
        {
            "observation": v.observation.id,
            "kind": v.observation.kind,
            "holds": v.holds,
            "share": v.share,
            "margin": v.margin,
            "unit": v.unit,
            "what": v.observation.label,
            "cite": v.observation.cite,
            "source": str(v.observation.source),
        }
        for v in verdicts
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def share_holding(verdicts: list[Verdict]) -> float:
    """The share of observations that hold (NaN when there are none)."""
    return float(np.mean([v.holds for v in verdicts])) if verdicts else float("nan")


@dataclass(frozen=True)
class Mark:
    """How to draw one checked observation on the panel of its score, in data units.

    number: its place among the scenario's observations (1, 2, ...); holds: its verdict.
    dyad: the score (actor, toward) it is about; None for a difference of scores, which no
    one panel shows. shape: 'level' (the line must stay above or below `y0` from `start` to
    `end`; `at`: the date of the score it is compared with, if it is a score at a date),
    'period' (compared with another score over `start` to `end`), 'change' (from (start, y0),
    the median as of the window's first day, a rise or fall to be read against the line) or
    'window' (the date of the lowest or highest value falls from `start` to `end`).
    direction: +1 for above, rises and highest; -1 for below, falls and lowest.
    """

    number: int
    observation: Observation
    holds: bool
    dyad: Dyad | None
    shape: str
    start: date
    end: date
    y0: float
    direction: int
    at: date | None = None


def marks(result: Result, verdicts: list[Verdict]) -> list[Mark]:
    """The marks of checked observations, numbered in their order (``Mark``); values are
    the medians over the members, as the figures draw the scores."""
    return [_mark(result, n, v) for n, v in enumerate(verdicts, start=1)]


def _median_of(result: Result, dyad: Dyad, row: int) -> float:
    """The median over the members of one score at step boundary `row`."""
    ids = result.actor_ids
    return float(result.median()[row, ids.index(dyad[0]), ids.index(dyad[1])])


def _mark(result: Result, number: int, verdict: Verdict) -> Mark:
    o, dates = verdict.observation, result.dates
    plus, minus = o.score
    up = 1 if o.kind in ("above", "rises", "highest") else -1
    start, end = o.period or (dates[0], dates[-1])

    def mark(shape: str, start: date, end: date, y0: float, at: date | None = None) -> Mark:
        dyad = plus if minus is None else None
        return Mark(number, o, verdict.holds, dyad, shape, start, end, y0, up, at)

    if o.kind in ("above", "below"):
        ref = o.reference
        if isinstance(ref, float):
            return mark("level", start, end, ref + up * o.by)
        assert isinstance(ref, tuple)
        if isinstance(ref[1], date):
            level = _median_of(result, ref[0], as_of(dates, ref[1]))
            return mark("level", start, end, level + up * o.by, at=ref[1])
        return mark("period", start, end, 0.0)
    assert o.window is not None
    if o.kind in ("rises", "falls"):
        first = as_of(dates, o.window[0])
        last = after(dates, o.window[1]) if o.across else as_of(dates, o.window[1])
        return mark("change", dates[first], dates[last], _median_of(result, plus, first))
    return mark("window", o.window[0], o.window[1], float(up))
