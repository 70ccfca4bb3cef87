"""Designs: the values each ensemble member takes, chosen by the user instead of drawn.

A design is a table with one row per member and one column per value, each column named by
the dotted key ``--set`` takes (``scenario.keys``): ``parameters.kappa_observer``,
``parameters.memory_half_life`` (in weeks, as a plain number in a file), ``relations.A -> B``,
``baseline.A -> B``, ``events.ID.intensity``, ``events.ID.date``, ``events.ID.until``. Row r
gives member first + r its values; a designed value replaces whatever the file has for it (a
number or a distribution, which is then not drawn at all, as with ``--set``), and every other
uncertain value is drawn from the member's own seed as without a design.

``parse_design`` checks a table against a scenario and returns a ``Design`` of plain numpy
columns in the engine's units (durations in days, dates as day numbers): no pandas here. A
table is a mapping of column name -> sequence of values, or anything with ``.columns`` whose
``table[name].to_numpy()`` gives a column (a pandas DataFrame), read by ``columns_of``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from stances.errors import Position, Problem, ScenarioError, shown, suggest
from stances.scenario.models import LONGEST_DURATION_DAYS, RELATION_KEY, Parameters
from stances.scenario.types import (
    EventValue,
    ParameterValue,
    Scenario,
    ScoreValue,
    Target,
)

RULE_FORMS = ("entrenchment", "observers")  # parameters naming a rule's form, not a number
DURATIONS = ("memory_half_life", "baseline_half_life")  # designed in weeks, kept in days
EVENT_FIELDS = ("date", "until", "intensity")
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()  # day number of numpy's datetime64 day 0
PROBLEMS_PER_COLUMN = 10  # cells reported per column; the rest are counted in one more line

# the range of each kind of value: (lo, hi) in the units the design is written in
SHARE, SCORE, INTENSITY = (0.0, 1.0), (-1.0, 1.0), (0.0, 10.0)
WEEKS = (1.0 / 7.0, LONGEST_DURATION_DAYS / 7.0)  # 1 day to 1000 years


@dataclass(frozen=True)
class Column:
    """One designed value: `key` as the table names it, what it sets (`target`), its `unit`
    ('number', 'days': written in weeks, or 'date') and `values` (rows,) float in the engine's
    units (days; dates as day numbers, 0001-01-01 = 1). `lowest`: the smallest value over the
    whole design, kept when the design is cut into batches (a designed date's events are
    logged from the same day in every batch)."""

    key: str
    target: Target
    unit: str
    values: np.ndarray
    lowest: float


@dataclass(frozen=True)
class Design:
    """Chosen values for `rows` members: one Column per designed value, in table order."""

    columns: tuple[Column, ...]
    rows: int

    def part(self, start: int, count: int) -> Design:
        """Rows start .. start + count - 1 (a batch's members), `lowest` kept whole."""
        return Design(
            tuple(replace(c, values=c.values[start : start + count]) for c in self.columns),
            min(count, max(self.rows - start, 0)),
        )

    def covers(self, target: Target) -> bool:
        """Whether a column sets `target` (or, for scores, any cell of it): the file's value
        for it, uncertain or not, is then not used."""
        return any(overlaps(c.target, target) for c in self.columns)

    @property
    def keys(self) -> list[str]:
        """The column names, in table order."""
        return [c.key for c in self.columns]


class DesignError(ScenarioError, ValueError):
    """A design that does not fit its scenario: one problem per bad column or cell."""


def overlaps(a: Target, b: Target) -> bool:
    """Whether two targets set the same value (scores: share a cell of the same section)."""
    if isinstance(a, ScoreValue) and isinstance(b, ScoreValue):
        return a.section == b.section and bool(set(a.cells) & set(b.cells))
    return a == b


def columns_of(table: Any) -> dict[str, np.ndarray]:
    """A table's columns as numpy arrays: a mapping name -> values, or a DataFrame-like with
    ``.columns`` and ``table[name].to_numpy()`` (DesignError if a name is given twice).
    TypeError for anything else."""
    if hasattr(table, "columns") and hasattr(table, "__getitem__"):
        names = [str(name) for name in table.columns]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            where = Position("design")
            raise DesignError([Problem(where, f"column {n!r}", "is given twice") for n in twice])
        return {str(name): np.asarray(table[name].to_numpy()) for name in table.columns}
    if isinstance(table, Mapping):
        return {str(name): np.atleast_1d(np.asarray(values)) for name, values in table.items()}
    raise TypeError(
        f"a design is a pandas DataFrame or a mapping of column -> values, got {shown(table)}"
    )


def designable_keys(spec: Scenario) -> list[str]:
    """Every key a design of this scenario may name (for suggestions)."""
    ids = spec.actor_ids
    pairs = [f"{a} -> {b}" for a in ids for b in ids if a != b]
    return [
        *(f"parameters.{name}" for name in Parameters.model_fields if name not in RULE_FORMS),
        *(f"relations.{p}" for p in pairs),
        *(f"baseline.{p}" for p in pairs),
        *(f"events.{e.id}.{f}" for e in spec.events for f in EVENT_FIELDS),
    ]


def target_of(spec: Scenario, key: str) -> tuple[Target, str] | str:
    """What column `key` sets and its unit, or why it cannot be designed."""
    section, _, rest = key.partition(".")
    if section == "parameters":
        return _parameter(spec, key, rest)
    if section in ("relations", "baseline"):
        return _score(spec, key, section, rest)
    if section == "events":
        return _event(spec, key, rest)
    return f"unknown column {shown(key)}" + _hint(spec, key)


def _hint(spec: Scenario, key: str) -> str:
    found = suggest(key, designable_keys(spec))
    return found or (
        ": a column is a dotted key such as 'parameters.kappa_observer', "
        "'relations.A -> B' or 'events.ID.intensity'"
    )


def _parameter(spec: Scenario, key: str, name: str) -> tuple[Target, str] | str:
    if name in RULE_FORMS:
        return f"'{key}' names a rule's form, not a number: set it in the file or with --set"
    if name not in Parameters.model_fields:
        return f"unknown parameter {shown(name)}" + _hint(spec, key)
    return ParameterValue(name), "days" if name in DURATIONS else "number"


def _score(spec: Scenario, key: str, section: str, pair: str) -> tuple[Target, str] | str:
    match = RELATION_KEY.fullmatch(pair)
    if not match:
        return f"{shown(key)} is not a score: write '{section}.A -> B' or '{section}.A <-> B'"
    a, arrow, b = match.groups()
    for x in (a, b):
        if x not in spec.actor_ids:
            return f"unknown actor {shown(x)}" + suggest(x, spec.actor_ids)
    if a == b:
        return f"{shown(key)}: an actor's view of itself is not modelled"
    i, j = spec.index(a), spec.index(b)
    cells = ((i, j), (j, i)) if arrow == "<->" else ((i, j),)
    return ScoreValue(section, cells), "number"  # type: ignore[arg-type]


def _event(spec: Scenario, key: str, rest: str) -> tuple[Target, str] | str:
    ident, _, field = rest.rpartition(".")
    ids = [e.id for e in spec.events]
    if not ident or ident not in ids:
        ident = ident or rest
        return f"no event has id {shown(ident)}" + (suggest(key, designable_keys(spec)))
    if field not in EVENT_FIELDS:
        return f"{shown(field)} is not a field a design can set" + suggest(field, EVENT_FIELDS)
    index = ids.index(ident)
    if field == "until" and spec.events[index].span_days is not None:
        return f"event {shown(ident)} lasts for a length ('for:'): design its date, not its until"
    return EventValue(field, index), "date" if field != "intensity" else "number"  # type: ignore[arg-type]


# --- cells -----------------------------------------------------------------------------


Where = Callable[[int | None, int], tuple[Position, str]]
"""(row or None for the header, column index) -> the position and key of a problem there."""


def python_where(keys: list[str]) -> Where:
    """Positions of a design given in Python: ``design: row 3, column 'parameters.x'``, rows
    counted from 0 by position (a DataFrame's fourth row, whatever its index label)."""

    def where(row: int | None, col: int) -> tuple[Position, str]:
        place = f"column {keys[col]!r}" if row is None else f"row {row}, column {keys[col]!r}"
        return Position("design"), place

    return where


def _numbers(values: np.ndarray, text: bool) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Floats of a column (NaN where a cell is not a number) and each bad cell's reason."""
    if values.dtype.kind in "iuf":
        return values.astype(float), []
    out, bad = np.full(len(values), np.nan), []
    for r, value in enumerate(values):
        try:
            out[r] = _number(value, text)
        except ValueError as exc:
            bad.append((r, str(exc)))
    return out, bad


def _number(value: Any, text: bool) -> float:
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"expected a number, got {shown(value)}")
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if text and isinstance(value, str):
        if not value.strip():
            raise ValueError("expected a number, got an empty cell")
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"expected a number, got {shown(value)}") from None
    raise ValueError(f"expected a number, got {shown(value)}")


def _days(values: np.ndarray) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Day numbers of a column of dates (datetime64, dates or YYYY-MM-DD text; NaN where a
    cell is not a date) and each bad cell's reason."""
    if values.dtype.kind == "M":
        days = values.astype("datetime64[D]")
        out = days.astype("int64").astype(float) + EPOCH_ORDINAL
        bad = [
            (int(r), "expected a date, got NaT (no date)") for r in np.flatnonzero(np.isnat(days))
        ]
        late = np.flatnonzero(~np.isnat(days) & (days.astype(values.dtype) != values))
        bad += [(int(r), f"expected a date, got {values[r]} (a time of day)") for r in late]
        out[[r for r, _ in bad]] = np.nan
        return out, bad
    out, bad = np.full(len(values), np.nan), []
    for r, value in enumerate(values):
        try:
            out[r] = _day(value)
        except ValueError as exc:
            bad.append((r, str(exc)))
    return out, bad


def _day(value: Any) -> float:
    if isinstance(value, np.datetime64):
        (day,), bad = _days(np.array([value]))
        if bad:
            raise ValueError(bad[0][1])
        return float(day)
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise ValueError(f"expected a date, got {value} (a time of day)")
        return float(value.date().toordinal())
    if isinstance(value, dt.date):
        return float(value.toordinal())
    if isinstance(value, str):
        try:
            return float(dt.date.fromisoformat(value.strip()).toordinal())
        except ValueError:
            pass
    raise ValueError(f"expected a date as YYYY-MM-DD, got {shown(value)}")


def _range_of(target: Target, unit: str, spec: Scenario) -> tuple[float, float, str]:
    """The range (lo, hi) of a column, in the units it is written in, and in words."""
    if unit == "days":
        return (*WEEKS, "[1 day, 1000 years] in weeks (1/7 to 52178.6)")
    if unit == "date":
        start, end = spec.time.start, spec.time.end
        if isinstance(target, EventValue) and target.field == "until":
            return (1.0, float(dt.date.max.toordinal()), "the calendar")
        return (start.toordinal(), end.toordinal(), f"the time window {start} to {end}")
    if isinstance(target, ScoreValue):
        return (*SCORE, "[-1, 1]")
    if isinstance(target, EventValue):
        return (*INTENSITY, "[0, 10]")
    return (*SHARE, "[0, 1]")


def _checked(
    spec: Scenario, target: Target, unit: str, values: np.ndarray, text: bool
) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """A column in the engine's units, and each bad cell's reason (row, message)."""
    numbers, bad = _days(values) if unit == "date" else _numbers(values, text)
    lo, hi, span = _range_of(target, unit, spec)
    known = {r for r, _ in bad}
    for r in np.flatnonzero(~np.isfinite(numbers)):
        if int(r) not in known:
            bad.append((int(r), f"expected a finite number, got {numbers[r]}"))
    outside = np.flatnonzero(np.isfinite(numbers) & ((numbers < lo) | (numbers > hi)))
    for r in outside:
        value = dt.date.fromordinal(int(numbers[r])) if unit == "date" else f"{numbers[r]:g}"
        bad.append((int(r), f"must lie in {span}, got {value}"))
    return (numbers * 7.0 if unit == "days" else numbers), sorted(bad)


def parse_design(
    spec: Scenario,
    table: Mapping[str, Any] | Any,
    where: Where | None = None,
    *,
    text: bool = False,
) -> Design:
    """A table of chosen values checked against `spec` (see the module docstring).

    where: the position of a problem at (row, column) (default: ``python_where``); text: the
    cells are text read from a file (numbers are then parsed). Raises DesignError with one
    problem per unknown or repeated column and per bad cell (at most PROBLEMS_PER_COLUMN per
    column, then a count): an empty table, a column of another length, a value that is not a
    finite number or a date, or lies outside its key's range, an event's until before its date.
    """
    columns = columns_of(table)
    keys = list(columns)
    where = where or python_where(keys)
    problems: list[Problem] = []
    rows = {len(v) for v in columns.values()}
    if not columns or rows == {0}:
        pos, _ = where(None, 0) if columns else (Position("design"), "")
        raise DesignError(
            [Problem(pos, "", "the design is empty: give one column per value, one row per member")]
        )
    size = len(next(iter(columns.values())))
    made: list[Column] = []
    for c, key in enumerate(keys):
        found = _column(spec, key, columns[key], size, made, text)
        if isinstance(found, Column):
            made.append(found)
            continue
        for row, message in found:
            pos, place = where(row, c)
            problems.append(Problem(pos, place, message))
    problems += _until_problems(spec, made, size, keys, where)
    if problems:
        raise DesignError(problems)
    return Design(tuple(made), size)


def _column(
    spec: Scenario, key: str, values: np.ndarray, size: int, made: list[Column], text: bool
) -> Column | list[tuple[int | None, str]]:
    """The checked column, or its problems: (None, message) for the header, (row, message)."""
    found = target_of(spec, key)
    if isinstance(found, str):
        return [(None, found)]
    target, unit = found
    twice = [c.key for c in made if overlaps(c.target, target)]
    if twice:
        return [(None, f"sets the same value as column {twice[0]!r}")]
    if values.ndim != 1 or len(values) != size:
        return [(None, f"has {len(values)} values, the first column {size}: one per member")]
    numbers, bad = _checked(spec, target, unit, values, text)
    if bad:
        shown_bad: list[tuple[int | None, str]] = list(bad[:PROBLEMS_PER_COLUMN])
        if len(bad) > PROBLEMS_PER_COLUMN:
            shown_bad.append((None, f"{len(bad) - PROBLEMS_PER_COLUMN} more bad cells"))
        return shown_bad
    return Column(key, target, unit, numbers, float(numbers.min()))


def _until_problems(
    spec: Scenario, made: list[Column], size: int, keys: list[str], where: Where
) -> list[Problem]:
    """A designed date after its event's last day, or a designed until before its date, in
    any row (a drawn date counted at its latest, a drawn until at its earliest)."""
    fields: dict[tuple[int, str], Column] = {
        (c.target.index, c.target.field): c for c in made if isinstance(c.target, EventValue)
    }
    problems = []
    for index in sorted({i for i, f in fields if f != "intensity"}):
        event = spec.events[index]
        date, until = fields.get((index, "date")), fields.get((index, "until"))
        if until is None and (event.until is None or event.span_days is not None):
            continue  # a one-off, or an event lasting `for:` from whatever its date
        first = date.values if date else np.full(size, _support(spec, index, "date", 1))
        last = until.values if until else np.full(size, _support(spec, index, "until", 0))
        column = until or date
        assert column is not None
        for r in np.flatnonzero(last < first)[:PROBLEMS_PER_COLUMN]:
            pos, place = where(int(r), keys.index(column.key))
            a, b = (dt.date.fromordinal(int(x[r])) for x in (first, last))
            problems.append(
                Problem(pos, place, f"event {event.id!r} would end on {b}, before its date {a}")
            )
    return problems


def _support(spec: Scenario, index: int, field: str, end: int) -> float:
    """The earliest (end 0) or latest (end 1) day an event's date or until takes in the file."""
    for u in spec.uncertain:
        if u.target == EventValue(field, index):  # type: ignore[arg-type]
            return float(u.distribution.support[end])
    event = spec.events[index]
    fixed = event.date if field == "date" else event.until
    assert fixed is not None
    return float(fixed.toordinal())


def allowed_range(spec: Scenario, key: str) -> tuple[float, float]:
    """The range a value named by a design key may take, in the units a design is written in
    (durations in weeks, dates as day numbers). KeyError with the reason for an unknown key."""
    found = target_of(spec, key)
    if isinstance(found, str):
        raise KeyError(found)
    target, unit = found
    lo, hi, _ = _range_of(target, unit, spec)
    return lo, hi
