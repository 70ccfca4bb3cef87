"""The time grid: step lengths ("week", "2 weeks", "month") and the dates that bound steps.

Step k covers the days t_{k-1} <= d < t_k; the state reported at t_k is the state at the start of
that day, after every event dated before it. Months are calendar months counted from the start
date (31 January + 1 month = 28 or 29 February).
"""

from __future__ import annotations

import calendar
import itertools
import re
from datetime import date, timedelta
from typing import Any

from stances.errors import shown

UNITS = ("day", "week", "month")


STEP_PATTERN = r"^(?:(-?\d+)\s+)?(day|week|month)s?$"


class StepSpec(str):
    """A step length as written ('week', '2 weeks'); ``.number`` (>= 1) of ``.unit``."""

    number: int
    unit: str

    def __new__(cls, text: str, count: int, unit: str) -> StepSpec:
        obj = super().__new__(cls, text)
        obj.number, obj.unit = count, unit
        return obj

    def __getnewargs__(self) -> tuple[str, int, str]:  # type: ignore[override]  # copy, pickle
        return str(self), self.number, self.unit


def parse_step(value: Any) -> StepSpec:
    """'week', '2 weeks', 'month', '10 days' -> StepSpec; ValueError otherwise."""
    if isinstance(value, StepSpec):
        return value
    text = value.strip() if isinstance(value, str) else ""
    match = re.fullmatch(STEP_PATTERN, text)
    if not match:
        raise ValueError(
            f"expected a step such as 'day', 'week', 'month' or '2 weeks', got {shown(value)}"
        )
    count = int(match.group(1) or 1)
    if count <= 0:
        raise ValueError(
            f"a step must be a positive number of days, weeks or months, got {shown(value)}"
        )
    return StepSpec(text, count, match.group(2))


def add_months(start: date, months: int) -> date:
    """start plus a number of calendar months, the day clamped to the month's length."""
    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def boundary(start: date, step: StepSpec, k: int) -> date:
    """t_k: the start of step k + 1 (t_0 = start)."""
    if step.unit == "month":
        return add_months(start, k * step.number)
    days = {"day": 1, "week": 7}[step.unit] * step.number
    return start + timedelta(days=k * days)


def step_dates(start: date, end: date, step: StepSpec) -> list[date]:
    """t_0 = start, t_1, ..., t_K where t_K is the first boundary after end."""
    dates = [start]
    while dates[-1] <= end:
        dates.append(boundary(start, step, len(dates)))
    return dates


def step_lengths(dates: list[date]) -> list[float]:
    """Length in days of each step: t_k - t_{k-1} for k = 1..K."""
    return [float((b - a).days) for a, b in itertools.pairwise(dates)]


STEP_ADJECTIVES = {"day": "daily", "week": "weekly", "month": "monthly"}


def steps_in_words(n: int, step: object) -> str:
    """'31 weekly steps', '1 daily step', '12 steps of 2 weeks': n steps of a time step as
    written (``str(step)``: 'week', '2 weeks', '14 days')."""
    written = str(step)
    plural = "" if n == 1 else "s"
    if written in STEP_ADJECTIVES:
        return f"{n} {STEP_ADJECTIVES[written]} step{plural}"
    return f"{n} step{plural} of {written}"
