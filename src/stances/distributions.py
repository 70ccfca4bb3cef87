"""Uncertain values in scenario files: {normal: [mean, sd]}, {uniform: [lo, hi]}, {choice: [...]}.

Each ensemble member draws its own value from its own random generator. Values are numbers
(scores, coefficients, intensities), durations ("26 weeks", drawn in days) or dates (drawn as
whole days). Draws outside the range a value allows are clipped to it; the file format says
which range that is for each key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from stances.errors import shown, suggest

KINDS = ("normal", "uniform", "choice")


@dataclass(frozen=True)
class Distribution:
    """One uncertain value: kind ('normal', 'uniform', 'choice') and its numeric arguments.

    For durations and dates the arguments are in days (dates: days since 0001-01-01), and
    `unit` says how to turn a draw back into a value ('number', 'days' or 'date').
    """

    kind: str
    args: tuple[float, ...]
    unit: str = "number"

    @property
    def centre(self) -> float:
        """A representative value: the mean, the midpoint, or the first choice."""
        if self.kind == "normal":
            return self.args[0]
        if self.kind == "uniform":
            return (self.args[0] + self.args[1]) / 2
        return self.args[0]

    @property
    def support(self) -> tuple[float, float]:
        """Smallest and largest value a draw can take before clipping (inf for a normal)."""
        if self.kind == "normal":
            return (-np.inf, np.inf) if self.args[1] > 0 else (self.args[0], self.args[0])
        return (min(self.args), max(self.args))

    def draw(self, rng: np.random.Generator) -> float:
        """One draw, in the distribution's numeric units."""
        if self.kind == "normal":
            return float(rng.normal(self.args[0], self.args[1]))
        if self.kind == "uniform":
            lo, hi = self.args
            if self.unit == "date":  # every day in the window equally likely, ends included
                return float(rng.integers(int(lo), int(hi) + 1))
            return float(rng.uniform(lo, hi))
        return float(self.args[int(rng.integers(len(self.args)))])


def parse_distribution(
    value: Any, parse_one: Callable[[Any], float], unit: str = "number"
) -> Distribution:
    """Read {kind: [args]}; parse_one turns each argument into a number (ValueError if wrong).

    Every argument must come out a finite number: NaN and infinities are refused, whatever the
    key (the caller checks that the values lie in the key's range).
    """
    if not (isinstance(value, dict) and len(value) == 1):
        raise ValueError(
            f"expected one of {{normal: [mean, sd]}}, {{uniform: [lo, hi]}}, {{choice: [...]}}, got {shown(value)}"
        )
    kind, args = next(iter(value.items()))
    if kind not in KINDS:
        raise ValueError(
            f"unknown distribution '{kind}'"
            + suggest(kind, KINDS)
            + f"; use one of {', '.join(KINDS)}"
        )
    if not isinstance(args, list) or not args:
        raise ValueError(f"{kind}: expected a list of values, e.g. {{{kind}: [0.1, 0.3]}}")
    if kind == "normal" and unit == "date":
        raise ValueError("a date can be {uniform: [first, last]} or {choice: [...]}, not normal")
    if kind in ("normal", "uniform") and len(args) != 2:
        what = "[mean, sd]" if kind == "normal" else "[lo, hi]"
        raise ValueError(f"{kind}: expected two values {what}, got {len(args)}")
    numbers = tuple(parse_one(a) for a in args)
    for arg, number in zip(args, numbers, strict=True):
        if not np.isfinite(number):
            raise ValueError(f"{kind}: every value must be a finite number, got {shown(arg)}")
    if kind == "normal" and numbers[1] < 0:
        raise ValueError(f"normal: the standard deviation must be >= 0, got {shown(args[1])}")
    if kind == "uniform" and numbers[0] > numbers[1]:
        raise ValueError(f"uniform: lo must not exceed hi, got {shown(args)}")
    return Distribution(kind, numbers, unit)


def date_number(value: date) -> float:
    """A date as a number of days (its proleptic ordinal)."""
    return float(value.toordinal())


def number_date(value: float) -> date:
    """The inverse of date_number (rounded to the day)."""
    return date.fromordinal(round(value))
