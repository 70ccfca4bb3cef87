"""The store's reading half: a run directory's manifest and tables, every value checked.

A run directory may have been edited by hand, cut short, or damaged in some other way. Nothing
read from it is trusted: the manifest's keys and types, each table's columns, the type and range
of every value, and the shape of the whole (steps 0..T, members first..first+K-1 and the
manifest's actors, each cell exactly once, dates rising with the steps) are checked, and the
first problem is raised as one ``DamagedRunError``, a single line that names the directory, the
file and, in a CSV table, the line: ``results/x/relations.csv:17: step -5 is not one of 0..31``.
Sizes are checked before anything sized by what was read is allocated.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

MAX_LOAD_GIB = 8.0  # the most memory (GiB) the arrays of a run directory read back may take
# the days datetime64[ns], the dtype of the tables' dates, can hold
FIRST_DAY, LAST_DAY = np.datetime64("1678-01-01"), np.datetime64("2262-04-11")


class DamagedRunError(ValueError):
    """A run directory that cannot be read back as written. Its message is one line:
    'DIR/FILE:LINE: what is wrong' (no line where there is none; 'row N' in Parquet)."""


@dataclass(frozen=True)
class Manifest:
    """The parts of manifest.json that reading the tables depends on, checked.

    actors: id -> display name, in the manifest's order; issues: name -> {'description',
    'actors': the ids taking part}; raw: the whole manifest as read.
    """

    raw: dict[str, Any]
    title: str
    members: int
    first_member: int
    steps: int
    start: date
    actors: dict[str, str]
    issues: dict[str, dict[str, Any]]

    @property
    def ids(self) -> list[str]:
        return list(self.actors)


# ---------------------------------------------------------------------------------------------
# manifest.json


def read_manifest(directory: Path, name: str = "manifest.json") -> Manifest:
    """manifest.json of a run directory, with the keys and types the tables depend on."""
    path = directory / name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DamagedRunError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DamagedRunError(f"{path}: cannot be read ({_why(exc)})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DamagedRunError(f"{path}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise DamagedRunError(f"{path}: expected a JSON object, got {_json_kind(data)}")

    def fail(what: str) -> NoReturn:
        raise DamagedRunError(f"{path}: {what}")

    def whole(key: str, least: int) -> int:
        value = data.get(key)
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= least):
            fail(f"'{key}' should be a whole number >= {least}, got {_json_kind(value)}")
        return value

    title = data.get("title")
    if not isinstance(title, str):
        fail(f"'title' should be text, got {_json_kind(title)}")
    try:
        start = date.fromisoformat(data.get("start"))  # type: ignore[arg-type]  # TypeError: refused
    except (TypeError, ValueError):
        fail(f"'start' should be a date written YYYY-MM-DD, got {_json_kind(data.get('start'))}")
    resolved = data.get("resolved_scenario")
    if not isinstance(resolved, dict):
        fail(f"'resolved_scenario' should be an object, got {_json_kind(resolved)}")
    actors = resolved.get("actors")
    if not (isinstance(actors, dict) and len(actors) >= 2):
        fail(f"'resolved_scenario.actors' should map two or more ids, got {_json_kind(actors)}")
    names: dict[str, Any] = {}
    for actor, spec in actors.items():
        shown_as = spec.get("name", actor) if isinstance(spec, dict) else None
        if not isinstance(shown_as, str):
            fail(f"'resolved_scenario.actors.{actor}' should be an object with a text 'name'")
        names[actor] = shown_as
    return Manifest(
        raw=data,
        title=title,
        members=whole("members", 1),
        first_member=whole("first_member", 0),
        steps=whole("steps", 0),
        start=start,
        actors=names,
        issues=_issues(data.get("issues", {}), names, fail),
    )


def _issues(issues: Any, ids: dict[str, str], fail) -> dict[str, dict[str, Any]]:
    if not isinstance(issues, dict):
        fail(f"'issues' should be an object, got {_json_kind(issues)}")
    for name, info in issues.items():
        taking_part: Any = info.get("actors") if isinstance(info, dict) else None
        if not (isinstance(taking_part, list) and all(a in ids for a in taking_part)):
            fail(f"'issues.{name}.actors' should list ids of the manifest's actors")
        if len(set(taking_part)) != len(taking_part):
            fail(f"'issues.{name}.actors' names an actor twice")
        if not isinstance(info.get("description"), str | None):
            fail(f"'issues.{name}.description' should be text")
    return issues


def check_size(directory: Path, m: Manifest, *, members_kept: bool) -> None:
    """Refuse a manifest whose arrays would take more than MAX_LOAD_GIB when read back: the
    scores (steps + 1, K, N, N) when the members' scores are kept, else their quantiles, and
    the issue positions."""
    t, k, n, issues = m.steps + 1, m.members, len(m.actors), len(m.issues)
    per_score = k if members_kept else 5
    floats = t * n * n * (per_score + 5) + t * issues * n * (k if members_kept else 5)
    gib = floats * 8 / 2**30
    if gib > MAX_LOAD_GIB:
        raise DamagedRunError(
            f"{directory / 'manifest.json'}: {k} members x {t} steps x {n}^2 actor pairs would "
            f"take {gib:,.1f} GiB in memory, more than the {MAX_LOAD_GIB:g} GiB a run directory "
            "may take when read back"
        )


# ---------------------------------------------------------------------------------------------
# Tables


@dataclass
class Table:
    """A table as read: its values as text (CSV) or typed (Parquet), and where it came from.

    Each accessor checks a column and returns it as numbers, or raises DamagedRunError naming
    the first row that is wrong (by its line in the file for a CSV table).
    """

    path: Path
    frame: pd.DataFrame
    is_csv: bool

    def __len__(self) -> int:
        return len(self.frame)

    def line(self, row: int) -> str:
        """Where data row `row` (0-based) stands: 'line N' (CSV) or 'row N' (Parquet)."""
        return f"line {_line_of(self.path, row)}" if self.is_csv else f"row {row + 1}"

    def fail(self, row: int | None, what: str) -> NoReturn:
        """Raise DamagedRunError for data row `row` (None: the table as a whole)."""
        if row is None:
            raise DamagedRunError(f"{self.path}: {what}")
        if self.is_csv:
            raise DamagedRunError(f"{self.path}:{_line_of(self.path, row)}: {what}")
        raise DamagedRunError(f"{self.path}: row {row + 1}: {what}")

    def _refuse_first(self, column: str, ok: np.ndarray, what: str) -> None:
        """Fail at the first row where `ok` is False: '<column> <value as read> <what>'."""
        bad = np.flatnonzero(~ok)
        if bad.size:
            row = int(bad[0])
            if self._empty(column)[row]:
                self.fail(row, f"no {column}" + (" (a line cut short?)" if self.is_csv else ""))
            self.fail(row, f"{column} {self.frame[column].iloc[row]} {what}")

    def numbers(self, column: str) -> np.ndarray:
        return pd.to_numeric(self.frame[column], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )

    def ints(self, column: str, lo: int, hi: int) -> np.ndarray:
        """Whole numbers in lo..hi, as int64."""
        x = self.numbers(column)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(x) & (x == np.round(x)) & (x >= lo) & (x <= hi)
        self._refuse_first(column, ok, f"is not one of {lo}..{hi}")
        return x.astype(np.int64)

    def floats(self, column: str, lo: float = -np.inf, hi: float = np.inf, *, empty=False):
        """Finite numbers in [lo, hi]; with `empty`, a missing value is NaN."""
        x = self.numbers(column)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(x) & (x >= lo) & (x <= hi)
        if empty:
            ok |= self._empty(column)
        what = (
            "is not a finite number" if np.isinf([lo, hi]).all() else f"is not in [{lo:g}, {hi:g}]"
        )
        self._refuse_first(column, ok, what)
        return x

    def _empty(self, column: str) -> np.ndarray:
        values = self.frame[column]
        if self.is_csv:
            return (values == "").to_numpy(dtype=bool)
        return values.isna().to_numpy(dtype=bool)

    def days(self, column: str) -> np.ndarray:
        """Dates, as datetime64[D]: written YYYY-MM-DD (CSV), or typed as dates (Parquet)."""
        values = self.frame[column]
        if not pd.api.types.is_datetime64_any_dtype(values):
            text = values.astype(str)
            written = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").to_numpy(dtype=bool)
            values = pd.to_datetime(text.where(written, ""), format="%Y-%m-%d", errors="coerce")
        self._refuse_first(
            column, values.notna().to_numpy(dtype=bool), "is not a date (YYYY-MM-DD)"
        )
        day = values.to_numpy(dtype="datetime64[D]")
        ok = (day >= FIRST_DAY) & (day <= LAST_DAY)
        self._refuse_first(
            column, ok, f"is outside {FIRST_DAY}..{LAST_DAY}, the dates a table holds"
        )
        return day

    def codes(self, column: str, allowed: list[str], of: str) -> np.ndarray:
        """Each value's index in `allowed`, as int64."""
        index = self.frame[column].map({v: n for n, v in enumerate(allowed)})
        ok = index.notna().to_numpy(dtype=bool)
        shown = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
        self._refuse_first(column, ok, f"is not one of {of} ({shown})")
        return index.to_numpy(dtype=float, na_value=np.nan).astype(np.int64)

    def texts(self, column: str, *, empty: bool = True) -> pd.Series:
        """Text as written; refused when empty unless `empty`."""
        values = self.frame[column]
        if not empty:
            missing = np.flatnonzero(self._empty(column))
            if missing.size:
                self.fail(int(missing[0]), f"no {column} (a line cut short?)")
        return values.astype(str)

    def each_once(self, key: np.ndarray, describe) -> None:
        """Refuse two rows with the same key (describe(key) says which cell it is)."""
        again = pd.Series(key).duplicated().to_numpy()
        if again.any():
            row = int(np.flatnonzero(again)[0])
            first = int(np.flatnonzero(key == key[row])[0])
            self.fail(row, f"{describe(int(key[row]))} again (first on {self.line(first)})")


def read_csv(path: Path, columns: list[str], *, also: list[str] | None = None) -> Table:
    """A CSV table with exactly these columns (or exactly `also`), every value as text."""
    if not path.is_file():
        raise DamagedRunError(f"{path}: missing")
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8"
        )
    except pd.errors.EmptyDataError:
        raise DamagedRunError(f"{path}: empty (not even a header line)") from None
    except pd.errors.ParserError as exc:
        raise DamagedRunError(f"{path}{_parser_problem(exc)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DamagedRunError(f"{path}: cannot be read ({_why(exc)})") from None
    if list(frame.columns) not in (columns, also):
        raise DamagedRunError(
            f"{path}:1: the columns are {', '.join(map(str, frame.columns))}; "
            f"expected {', '.join(columns)}"
        )
    _check_ends_with_newline(path)
    return Table(path, frame.fillna(""), is_csv=True)


def read_parquet(path: Path, columns: dict[str, str], rows: int) -> Table:
    """A Parquet table with exactly these columns of these kinds ('int', 'float', 'text',
    'date') and this number of rows (checked before its data is read)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = {
        "int": pa.types.is_integer,
        "float": pa.types.is_floating,
        "text": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
        "date": lambda t: (
            pa.types.is_date32(t) or pa.types.is_string(t) or pa.types.is_large_string(t)
        ),
    }
    try:
        file = pq.ParquetFile(path)
        schema = file.schema_arrow
        if schema.names != list(columns):
            raise DamagedRunError(
                f"{path}: the columns are {', '.join(schema.names)}; expected {', '.join(columns)}"
            )
        for name, kind in columns.items():
            if not kinds[kind](schema.field(name).type):
                raise DamagedRunError(
                    f"{path}: column {name} holds {schema.field(name).type}, not {kind}"
                )
        if file.metadata.num_rows != rows:
            raise DamagedRunError(
                f"{path}: {file.metadata.num_rows} rows; the manifest's members, steps and "
                f"actors make {rows}"
            )
        frame = file.read().to_pandas(date_as_object=False)
    except (pa.ArrowException, OSError) as exc:
        raise DamagedRunError(f"{path}: not a readable Parquet file ({_why(exc)})") from None
    return Table(path, frame, is_csv=False)


def _check_ends_with_newline(path: Path) -> None:
    """A table written whole ends with a line break; one that does not was cut short."""
    with path.open("rb") as f:
        f.seek(0, 2)
        if f.tell() == 0:
            return
        f.seek(-1, 2)
        if f.read(1) != b"\n":
            lines = path.read_bytes().count(b"\n") + 1
            raise DamagedRunError(f"{path}:{lines}: the file ends inside a line (cut short?)")


def _line_of(path: Path, row: int) -> int:
    """The line (1-based) where data row `row` (0-based, after the header) starts; quoted
    values may span lines. Blank lines are skipped, as pandas skips them."""
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.reader(f)
        start, n = 1, -1
        for record in reader:
            if record:
                if n == row:
                    return start
                n += 1
            start = reader.line_num + 1
    return start


def _parser_problem(exc: Exception) -> str:
    text = str(exc)
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if fields:
        want, line, got = fields.groups()
        return f":{line}: {got} values, but the header has {want} columns"
    return f": not a readable CSV table ({text.removeprefix('Error tokenizing data. C error: ')})"


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return repr(value) if len(repr(value)) <= 40 else f"{type(value).__name__}"


def _why(exc: BaseException) -> str:
    """An exception's reason on one line."""
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


# ---------------------------------------------------------------------------------------------
# The tables of a run directory

QUANTILES = (5, 25, 50, 75, 95)  # as in result.QUANTILES (this module does not import Result)
Q_COLUMNS = [f"q{p:02d}" for p in QUANTILES]
SCORE_COLUMNS = ["member", "step", "date", "actor", "toward", "score"]
SCORE_KINDS = dict(zip(SCORE_COLUMNS, ["int", "int", "date", "text", "text", "float"], strict=True))
QUANTILE_COLUMNS = ["step", "date", "actor", "toward", *Q_COLUMNS]
ORIGINS = ["scripted", "decided", "refused", "lasting"]
ORDER_SLACK = 1e-6  # quantiles written to 6 decimals may be out of order by a rounding step


def read_member_scores(table: Table, m: Manifest) -> tuple[np.ndarray, list[date]]:
    """Every member's scores: history (steps + 1, K, N, N) (0 on the diagonal) and the step
    dates, from a table with one row per member, step and ordered pair."""
    k_all, t_all, n = m.members, m.steps + 1, len(m.actors)
    k = table.ints("member", m.first_member, m.first_member + k_all - 1) - m.first_member
    t = table.ints("step", 0, m.steps)
    i, j = _pairs(table, m)
    score = table.floats("score", -1.0, 1.0)
    shape = (k_all, t_all, n, n)

    def describe(cell: int) -> str:
        mk, mt, mi, mj = np.unravel_index(cell, shape)
        return f"member {m.first_member + mk}, step {mt}, {m.ids[mi]} -> {m.ids[mj]}"

    _check_cells(table, ((k * t_all + t) * n + i) * n + j, _off_diagonal(shape), describe)
    dates = _step_dates(table, t, m)
    history = np.zeros((t_all, k_all, n, n))
    history[t, k, i, j] = score
    return history, dates


def read_quantiles(table: Table, m: Manifest) -> tuple[np.ndarray, list[date]]:
    """Stored score quantiles (5, steps + 1, N, N) at QUANTILES and the step dates."""
    t_all, n = m.steps + 1, len(m.actors)
    t = table.ints("step", 0, m.steps)
    i, j = _pairs(table, m)
    q = _ordered_quantiles(table, -1.0, 1.0)
    shape = (t_all, n, n)

    def describe(cell: int) -> str:
        mt, mi, mj = np.unravel_index(cell, shape)
        return f"step {mt}, {m.ids[mi]} -> {m.ids[mj]}"

    _check_cells(table, (t * n + i) * n + j, _off_diagonal(shape), describe)
    dates = _step_dates(table, t, m)
    stored = np.zeros((len(QUANTILES), t_all, n, n))
    stored[:, t, i, j] = q
    return stored, dates


def read_positions(table: Table, m: Manifest, dates: list[date]) -> np.ndarray:
    """Issue positions of the actors taking part: (steps + 1, 1, I, N) of a single run, or
    their quantiles (5, steps + 1, I, N) of an ensemble; 0 for actors not taking part."""
    issues, ids, t_all = list(m.issues), m.ids, m.steps + 1
    t = table.ints("step", 0, m.steps)
    i = table.codes("issue", issues, "the manifest's issues")
    a = table.codes("actor", ids, "the manifest's actors")
    part = np.zeros((len(issues), len(ids)), dtype=bool)
    for n, info in enumerate(m.issues.values()):
        part[n, [ids.index(x) for x in info["actors"]]] = True
    outside = np.flatnonzero(~part[i, a])
    if outside.size:
        r = int(outside[0])
        table.fail(r, f"{ids[a[r]]} does not take part in {issues[i[r]]} (manifest.json)")
    shape = (t_all, len(issues), len(ids))

    def describe(cell: int) -> str:
        mt, mi, ma = np.unravel_index(cell, shape)
        return f"step {mt}, {issues[mi]}, {ids[ma]}"

    allowed = np.broadcast_to(part, shape).ravel()
    _check_cells(table, (t * len(issues) + i) * len(ids) + a, allowed, describe)
    want = np.array(dates, dtype="datetime64[D]")[t]
    wrong = np.flatnonzero(table.days("date") != want)
    if wrong.size:
        r = int(wrong[0])
        table.fail(r, f"date {table.frame['date'].iloc[r]} is not step {t[r]}'s date ({want[r]})")
    if m.members == 1:
        positions = np.zeros((t_all, 1, len(issues), len(ids)))
        positions[t, 0, i, a] = table.floats("position", 0.0, 1.0)
        return positions
    stored = np.zeros((len(QUANTILES), t_all, len(issues), len(ids)))
    stored[:, t, i, a] = _ordered_quantiles(table, 0.0, 1.0)
    return stored


def read_events(table: Table, m: Manifest, columns: list[str]) -> pd.DataFrame:
    """The events table, typed as Result.events_table makes it (date datetime64[ns])."""
    ids = m.ids
    typed = {
        "step": table.ints("step", 1, max(m.steps, 1)),
        "date": table.days("date").astype("datetime64[ns]"),
        "event": table.texts("event", empty=False),
        "origin": table.texts("origin", empty=False),
        "members": table.ints("members", 1, m.members),
        "type": table.texts("type", empty=False),
        "cameo": table.texts("cameo", empty=False),
        "goldstein": table.floats("goldstein", -10.0, 10.0),
        "intensity": table.floats("intensity"),
        "strength": table.floats("strength"),
        "who": table.texts("who"),
        "actor": table.texts("actor"),
        "toward": table.texts("toward"),
        "before": table.floats("before", -1.0, 1.0),
        "after": table.floats("after", -1.0, 1.0),
        "change": table.floats("change", -2.0, 2.0),
        "utility": table.floats("utility", empty=True),
        "alternatives": table.texts("alternatives"),
        "cite": table.texts("cite"),
        "source": table.texts("source", empty=False),
    }
    typed["label"] = table.texts("label") if "label" in table.frame.columns else typed["event"]
    table.codes("origin", ORIGINS, "the origins")
    table.codes("actor", ids, "the manifest's actors")
    table.codes("toward", ids, "the manifest's actors")
    return pd.DataFrame({c: typed[c] for c in columns})


def read_draws(table: Table, m: Manifest, units: list[str]) -> pd.DataFrame:
    """What each member drew: member, value_of, value, unit, as_written; each member once for
    each value. A table written before draws.csv had its `unit` column gets it from
    `as_written` ('182.0 days', a date, or a number)."""
    member = table.ints("member", m.first_member, m.first_member + m.members - 1)
    label = table.texts("value_of", empty=False)
    value = table.floats("value")
    written = table.texts("as_written", empty=False)
    if "unit" in table.frame:
        unit = table.texts("unit")
        table.codes("unit", units, "the units")
    else:
        unit = written.map(_unit_of_written(units))
    labels = list(dict.fromkeys(label))
    key = table.codes("value_of", labels, "the values") * m.members + member - m.first_member
    table.each_once(
        key, lambda c: f"member {m.first_member + c % m.members}, {labels[c // m.members]}"
    )
    counts = pd.Series(label).value_counts()
    short = counts[counts != m.members]
    if len(short):
        table.fail(
            None, f"{short.index[0]} was drawn by {short.iloc[0]} of the {m.members} members"
        )
    return pd.DataFrame(
        {"member": member, "value_of": label, "value": value, "unit": unit, "as_written": written}
    )


def _unit_of_written(units: list[str]):
    number, days, day_number = units

    def unit(text: str) -> str:
        if text.endswith(" days"):
            return days
        return day_number if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else number

    return unit


def _pairs(table: Table, m: Manifest) -> tuple[np.ndarray, np.ndarray]:
    """The actor and toward columns as indices into the manifest's actors, never equal."""
    i = table.codes("actor", m.ids, "the manifest's actors")
    j = table.codes("toward", m.ids, "the manifest's actors")
    same = np.flatnonzero(i == j)
    if same.size:
        r = int(same[0])
        table.fail(r, f"actor and toward are both {m.ids[i[r]]}")
    return i, j


def _off_diagonal(shape: tuple[int, ...]) -> np.ndarray:
    """Flat mask of the cells of an (..., N, N) array off the last two axes' diagonal."""
    n = shape[-1]
    return np.broadcast_to(~np.eye(n, dtype=bool), shape).ravel()


def _check_cells(table: Table, key: np.ndarray, allowed: np.ndarray, describe) -> None:
    """Every allowed cell (flat index) has exactly one row; `key` is each row's cell, all of
    them allowed already."""
    table.each_once(key, describe)
    if len(key) != int(allowed.sum()):
        seen = np.zeros(allowed.shape, dtype=bool)
        seen[key] = True
        missing = int(np.flatnonzero(allowed & ~seen)[0])
        table.fail(None, f"no row for {describe(missing)}")


def _step_dates(table: Table, t: np.ndarray, m: Manifest) -> list[date]:
    """The date of each step, the same on every row of the step and rising with the steps,
    step 0 on the manifest's start."""
    day = table.days("date")
    _, first = np.unique(t, return_index=True)  # every step 0..T is there (checked)
    of_step = day[first]
    wrong = np.flatnonzero(day != of_step[t])
    if wrong.size:
        r = int(wrong[0])
        table.fail(
            r,
            f"date {day[r]} for step {t[r]}, which is dated {of_step[t[r]]} "
            f"on {table.line(int(first[t[r]]))}",
        )
    back = np.flatnonzero(np.diff(of_step) <= np.timedelta64(0, "D"))
    if back.size:
        s = int(back[0]) + 1
        table.fail(
            int(first[s]),
            f"step {s} is dated {of_step[s]}, not after step {s - 1} ({of_step[s - 1]})",
        )
    if of_step[0] != np.datetime64(m.start):
        table.fail(
            int(first[0]), f"step 0 is dated {of_step[0]}, but the manifest's start is {m.start}"
        )
    return [d.item() for d in of_step]


def _ordered_quantiles(table: Table, lo: float, hi: float) -> np.ndarray:
    """The q05 .. q95 columns (5, rows), each in [lo, hi], each row's rising."""
    q = np.stack([table.floats(c, lo, hi) for c in Q_COLUMNS])
    for a in range(len(Q_COLUMNS) - 1):
        down = np.flatnonzero(q[a + 1] < q[a] - ORDER_SLACK)
        if down.size:
            r = int(down[0])
            table.fail(r, f"{Q_COLUMNS[a + 1]} {q[a + 1, r]:g} is below {Q_COLUMNS[a]} {q[a, r]:g}")
    return q
