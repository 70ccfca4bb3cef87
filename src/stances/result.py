"""Result: the outcome of a run as tables (scores, quantiles, events, draws, positions).

A Result is built from the chunks the engine's batches produce (``from_chunks``) or read back
from a run directory (``store.load_run``); it knows nothing of the model that made it, nor of
files or figures.
"""

from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from importlib import import_module, metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stances.engine.log import Applied, Chunk, merge_chunks
from stances.errors import shown, suggest
from stances.scenario.design import EPOCH_ORDINAL, Design
from stances.scenario.types import Scenario

EVENT_COLUMNS = [
    "step",
    "date",
    "event",
    "origin",
    "members",
    "type",
    "cameo",
    "goldstein",
    "intensity",
    "strength",
    "who",
    "actor",
    "toward",
    "before",
    "after",
    "change",
    "utility",
    "alternatives",
    "cite",
    "source",
    "label",
]
# the dtype of each events column (text columns: str)
EVENT_DTYPES = {
    **{c: str for c in EVENT_COLUMNS},
    "step": "int64",
    "date": "datetime64[ns]",
    "members": "int64",
    **dict.fromkeys(
        ["goldstein", "intensity", "strength", "before", "after", "change", "utility"], "float64"
    ),
}


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages a run depends on."""
    names = ["stances", "mesa", "numpy", "pandas", "matplotlib", "ruamel.yaml", "pydantic"]
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


QUANTILES = (5, 25, 50, 75, 95)  # percent; the bands drawn are 25-75 and 5-95 around the median

DRAW_COLUMNS = ["member", "value_of", "value", "unit", "as_written"]
# a distribution's unit -> the unit of the number draws.csv gives in `value`
DRAW_UNITS = {"number": "number", "days": "days", "date": "day number"}


def as_datetime64(days: list[date]) -> np.ndarray:
    """Dates as a datetime64[ns] array (midnight of each day), the dtype of the tables' `date`."""
    return np.array([d.isoformat() for d in days], dtype="datetime64[D]").astype("datetime64[ns]")


class UnknownActor(KeyError, ValueError):
    """An actor id a run does not have; the message names the nearest ones."""

    def __str__(self) -> str:  # KeyError would show the message quoted
        return str(self.args[0])


@dataclass(repr=False)
class Result:
    """A finished run.

    history: scores of every member at every step boundary, shape (steps + 1, K, N, N), in
        [-1, 1]; None for an ensemble read back from a directory saved without its members.
    stored_quantiles: (5, steps + 1, N, N) at QUANTILES, used when history is None.
    dates: the date of each step boundary (the state at the start of that day). The tables
        (relations, quantile_table, stance_table, events) give it as datetime64[ns] at midnight,
        which pandas writes to CSV as YYYY-MM-DD.
    events: one row per score an applied event changed (the member mean when K > 1).
    draws: member, value_of, value, unit, as_written: what each member drew for the scenario's
        uncertain values; `value` is in `unit` (DRAW_UNITS: 'number', 'days' for a duration
        however the file wrote it, 'day number' for a date: its proleptic ordinal, 0001-01-01
        = 1), `as_written` the value as a file would write it.
    positions: issue positions (steps + 1, K, I, N) in [0, 1], issues in the order of `issues`
        (name -> description and the actors taking part); None when read back from quantiles.
    """

    title: str
    actors: dict[str, str]
    dates: list[date]
    history: np.ndarray | None
    events: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    draws: pd.DataFrame | None = None
    stored_quantiles: np.ndarray | None = None
    positions: np.ndarray | None = None
    issues: dict[str, dict] = field(default_factory=dict)
    stored_position_quantiles: np.ndarray | None = None

    @classmethod
    def from_chunks(
        cls,
        spec: Scenario,
        seed: int,
        dates: list[date],
        chunks: list[Chunk],
        design: Design | None = None,
    ) -> Result:
        """Join the batches of members of one run (any batching gives the same Result); with
        the design the members ran (its values are in `draws`, under its column names)."""
        joined = merge_chunks(chunks)
        history, records, draws = joined.history, joined.records, joined.draws
        steps = history.shape[0] - 1
        manifest = {
            "title": spec.title,
            "scenario": str(spec.path),
            "files": [{"path": str(p), "sha256": _sha256(p)} for p in spec.files],
            "input_hash": spec.input_hash(),
            "seed": seed,
            "members": history.shape[1],
            "first_member": min(c.first for c in chunks),
            "member_seeds": f"member k draws from numpy SeedSequence({seed}, spawn_key=(k,)), "
            f"its noise from SeedSequence({seed}, spawn_key=(k, 0))",
            "steps": steps,
            "step": str(spec.time.step),
            "start": spec.time.start.isoformat(),
            "end": spec.time.end.isoformat(),
            "versions": package_versions(),
            "resolved_scenario": spec.resolved,
            "issues": {
                name: {
                    "description": i.description,
                    "actors": [a for a, t in zip(spec.actor_ids, i.takes_part, strict=True) if t],
                }
                for name, i in spec.issues.items()
            },
        }
        if design is not None:
            manifest["design"] = {"rows": design.rows, "columns": design.keys}
        first = manifest["first_member"]
        units = {u.label: u.distribution.unit for u in spec.uncertain}
        units.update({c.key: c.unit for c in design.columns} if design else {})
        draws_table = draws_frame(
            [
                {
                    "member": first + m,
                    "value_of": label,
                    "value": float(v),
                    "unit": DRAW_UNITS[units.get(label, "number")],
                    "as_written": _as_written(v, units.get(label)),
                }
                for label, values in draws.items()
                for m, v in enumerate(values)
            ]
        )
        return cls(
            title=spec.title,
            actors=dict(spec.actors),
            dates=list(dates[: steps + 1]),
            history=history,
            events=events_table(records, spec.actor_ids),
            manifest=manifest,
            draws=draws_table,
            positions=joined.positions,
            issues={
                name: {
                    "description": i.description,
                    "actors": [a for a, t in zip(spec.actor_ids, i.takes_part, strict=True) if t],
                }
                for name, i in spec.issues.items()
            },
        )

    @property
    def actor_ids(self) -> tuple[str, ...]:
        return tuple(self.actors)

    def index(self, actor: str) -> int:
        """The array index of an actor id; KeyError with "did you mean" for an unknown one
        (also a ValueError, as ``tuple.index`` raised before)."""
        ids = self.actor_ids
        if actor not in ids:
            raise UnknownActor(
                f"unknown actor {shown(actor)}{suggest(str(actor), ids)}; actors: {' '.join(ids)}"
            )
        return ids.index(actor)

    @property
    def plot(self) -> Any:
        """This run's figures, drawn as the command line draws them (``stances.plots``):
        ``result.plot()`` (relations over time), ``.plot.matrix()``, ``.plot.dyad('AFG',
        'PAK')``, ``.plot.stances()``; each a matplotlib Figure (``notebook.PlotAccessor``).
        The figures are loaded by name when first asked for, as pandas loads its plotting
        backend: a Result needs no matplotlib until something is drawn."""
        return import_module("stances.notebook").PlotAccessor(self)

    def _repr_html_(self) -> str:
        """A notebook's display: the largest changes and the relations figure."""
        return str(import_module("stances.notebook").result_html(self))

    def to_xarray(self) -> Any:
        """Member scores as an xarray DataArray with dims (member, date, actor, toward), dates
        as datetime64; needs xarray (``pip install xarray``) and member scores."""
        import xarray as xr

        if self.history is None:
            raise ValueError(
                f"{self.title}: member scores were not kept (save with --keep-members)"
            )
        first = int(self.manifest.get("first_member", 0))
        return xr.DataArray(
            np.moveaxis(self.history, 1, 0),
            dims=("member", "date", "actor", "toward"),
            coords={
                "member": np.arange(first, first + self.members),
                "date": as_datetime64(self.dates),
                "actor": list(self.actor_ids),
                "toward": list(self.actor_ids),
            },
            name="score",
            attrs={"title": self.title, "units": "score, -1 hostile to +1 friendly"},
        )

    def __repr__(self) -> str:
        """One line: title, actors, window, members and the largest change of a score."""
        ids, dates = self.actor_ids, self.dates
        who = f"{self.members} members" if self.members != 1 else "1 member"
        change = ""
        if len(dates) > 1 and len(ids) > 1:
            median = self.median()
            moved = np.abs(median[-1] - median[0])
            np.fill_diagonal(moved, -1.0)
            i, j = np.unravel_index(int(np.argmax(moved)), moved.shape)
            change = (
                f"; largest change {ids[i]} -> {ids[j]} {median[0, i, j]:+.2f} -> "
                f"{median[-1, i, j]:+.2f}"
            )
        return (
            f"<Result {self.title!r}: {' '.join(ids)}; {dates[0]} to {dates[-1]}, "
            f"{len(dates)} dates; {who}{change}>"
        )

    @property
    def members(self) -> int:
        """Number of ensemble members K."""
        return (
            self.history.shape[1]
            if self.history is not None
            else int(self.manifest.get("members", 0))
        )

    @property
    def has_members(self) -> bool:
        """Whether member-level scores are at hand (not only quantiles)."""
        return self.history is not None

    @cached_property
    def quantiles(self) -> np.ndarray:
        """Scores at the QUANTILES over members, shape (5, steps + 1, N, N)."""
        if self.history is None:
            assert self.stored_quantiles is not None, "a Result holds members or quantiles"
            return self.stored_quantiles
        return np.percentile(self.history, QUANTILES, axis=1)

    @cached_property
    def position_quantiles(self) -> np.ndarray:
        """Issue positions at the QUANTILES over members, shape (5, steps + 1, I, N)."""
        if self.positions is None:
            assert self.stored_position_quantiles is not None, "positions or their quantiles"
            return self.stored_position_quantiles
        return np.percentile(self.positions, QUANTILES, axis=1)

    def position_band(self, issue: str, actor: str) -> np.ndarray:
        """One actor's position on one issue over time, quantiles (5, steps + 1)."""
        return self.position_quantiles[:, :, list(self.issues).index(issue), self.index(actor)]

    def stance_table(self) -> pd.DataFrame:
        """Tidy positions: step, date, issue, actor, then the position (one member) or its
        quantiles q05 .. q95 (an ensemble); only actors taking part in each issue."""
        q = self.position_quantiles
        single = self.members == 1
        rows = []
        for i, (name, info) in enumerate(self.issues.items()):
            for actor in info["actors"]:
                a = self.index(actor)
                for t in range(len(self.dates)):
                    values = [q[2, t, i, a]] if single else list(q[:, t, i, a])
                    rows.append([t, name, actor, *values])
        columns = ["position"] if single else [f"q{p:02d}" for p in QUANTILES]
        table = pd.DataFrame(rows, columns=["step", "issue", "actor", *columns])
        table.insert(1, "date", self._dates_of(table["step"]))
        return table

    def band(self, actor: str, toward: str) -> np.ndarray:
        """One dyad's quantiles over time, shape (5, steps + 1); row 2 is the median."""
        return self.quantiles[:, :, self.index(actor), self.index(toward)]

    def median(self) -> np.ndarray:
        """Median scores, shape (steps + 1, N, N)."""
        return self.quantiles[2]

    def quantile_table(self) -> pd.DataFrame:
        """Tidy quantiles: step, date, actor, toward, q05, q25, q50, q75, q95."""
        q = self.quantiles
        ids = self.actor_ids
        rows = []
        for t in range(len(self.dates)):
            for i, a in enumerate(ids):
                for j, b in enumerate(ids):
                    if i != j:
                        rows.append([t, a, b, *q[:, t, i, j]])
        table = pd.DataFrame(
            rows, columns=["step", "actor", "toward", *(f"q{p:02d}" for p in QUANTILES)]
        )
        table.insert(1, "date", self._dates_of(table["step"]))
        return table

    def _dates_of(self, steps: pd.Series) -> np.ndarray:
        """The datetime64[ns] date of each step number in `steps`."""
        return as_datetime64(self.dates)[steps.to_numpy(dtype=np.int64)]

    @cached_property
    def relations(self) -> pd.DataFrame:
        """Tidy scores: member, step, date, actor, toward, score (one row per ordered pair)."""
        if self.history is None:
            raise ValueError(
                f"{self.title}: member scores were not kept (save with --keep-members)"
            )
        t, k, n, _ = self.history.shape
        ids = np.array(self.actor_ids)
        step, member, i, j = np.meshgrid(
            np.arange(t), np.arange(k), np.arange(n), np.arange(n), indexing="ij"
        )
        keep = (i != j).ravel()
        dates = as_datetime64(self.dates)
        first = int(self.manifest.get("first_member", 0))
        return pd.DataFrame(
            {
                "member": first + member.ravel()[keep],
                "step": step.ravel()[keep],
                "date": dates[step.ravel()[keep]],
                "actor": ids[i.ravel()[keep]],
                "toward": ids[j.ravel()[keep]],
                "score": self.history.ravel()[keep],
            }
        ).sort_values(["member", "step", "actor", "toward"], kind="stable", ignore_index=True)

    def score(self, actor: str, toward: str, member: int | None = None) -> pd.Series | pd.DataFrame:
        """How `actor` regards `toward` over time, in [-1, 1], indexed by date (datetime64[ns],
        index name 'date'): a Series named 'A -> B' for a one-member run or for the member
        given (its number, as in ``relations``); otherwise a DataFrame with one column per
        member (columns named 'member'). KeyError with "did you mean" for an unknown actor or
        member; ValueError for a run read back without its members."""
        values = self.score_array(actor, toward)
        index = pd.DatetimeIndex(as_datetime64(self.dates), name="date")
        name = f"{actor} -> {toward}"
        first = int(self.manifest.get("first_member", 0))
        if member is None and self.members == 1:
            member = first
        if member is None:
            columns = pd.RangeIndex(first, first + self.members, name="member")
            return pd.DataFrame(values, index=index, columns=columns)
        if not first <= member < first + self.members:
            raise KeyError(
                f"no member {member}: this run has members {first}..{first + self.members - 1}"
            )
        return pd.Series(values[:, member - first], index=index, name=name)

    def score_array(self, actor: str, toward: str) -> np.ndarray:
        """One dyad over time for every member as an array, shape (steps + 1, K), in [-1, 1];
        row t is the date ``dates[t]``, column k member first_member + k."""
        if self.history is None:
            raise ValueError(
                f"{self.title}: member scores were not kept (save with --keep-members)"
            )
        return self.history[:, :, self.index(actor), self.index(toward)]

    def experiments(self) -> pd.DataFrame:
        """The inputs of every member, one row per member (index `member`) and one column per
        designed or drawn value, named by its dotted key (``events.ID.date``, as a design
        names it), in the units a design is written in: numbers, durations in weeks, dates as
        datetime64[ns]. The columns of the design first, in its order, then the drawn values.
        With EMA Workbench's words: the experiments; ``outcomes`` gives the outcomes."""
        first = int(self.manifest.get("first_member", 0))
        index = pd.RangeIndex(first, first + self.members, name="member")
        draws = self.draws
        if draws is None or draws.empty:
            return pd.DataFrame(index=index)
        labels = list(dict.fromkeys(draws["value_of"]))
        wide = draws.pivot(index="member", columns="value_of", values="value")
        wide = wide.reindex(index=index, columns=labels)
        units = draws.groupby("value_of", sort=False)["unit"].first()
        table = pd.DataFrame(index=index)
        for label in labels:
            table[_dotted(label)] = _written(wide[label].to_numpy(), units[label])
        table.columns.name = None
        return table

    def outcomes(self, at: date | str | np.datetime64 | None = None) -> pd.DataFrame:
        """Every member's scores at the end (or at the last step boundary on or before the
        date `at`): one row per member (index `member`), one column per dyad 'A -> B', in
        [-1, 1]. ValueError for a date outside the run, or a run without member scores."""
        if self.history is None:
            raise ValueError(
                f"{self.title}: member scores were not kept (save with --keep-members)"
            )
        step = len(self.dates) - 1 if at is None else self._step_at(at)
        ids = self.actor_ids
        first = int(self.manifest.get("first_member", 0))
        scores = self.history[step]
        return pd.DataFrame(
            {
                f"{a} -> {b}": scores[:, i, j]
                for i, a in enumerate(ids)
                for j, b in enumerate(ids)
                if i != j
            },
            index=pd.RangeIndex(first, first + self.members, name="member"),
        )

    def _step_at(self, at: date | str | np.datetime64) -> int:
        """The last step boundary on or before a date."""
        day = pd.Timestamp(at).date()
        if not self.dates[0] <= day:
            raise ValueError(f"{day} is before the run's start, {self.dates[0]}")
        if day > self.dates[-1]:
            raise ValueError(f"{day} is after the run's last step boundary, {self.dates[-1]}")
        return sum(d <= day for d in self.dates) - 1  # the dates are in order

    def changes(self) -> pd.DataFrame:
        """Each dyad's initial and final score (median over members) and the change, largest
        first."""
        ids = self.actor_ids
        first, last = self.median()[0], self.median()[-1]
        rows = [
            {
                "actor": a,
                "toward": b,
                "initial": first[i, j],
                "final": last[i, j],
                "change": last[i, j] - first[i, j],
            }
            for i, a in enumerate(ids)
            for j, b in enumerate(ids)
            if i != j
        ]
        table = pd.DataFrame(rows)
        order = table["change"].abs().sort_values(ascending=False, kind="stable").index
        return table.loc[order].reset_index(drop=True)

    def drivers(self, actor: str, toward: str, n: int = 2) -> list[tuple[str, float]]:
        """The n events that moved one dyad most (by absolute immediate change, averaged over
        all members: zero in a member where the event did not happen), with that change."""
        ev = self.events
        rows = ev[(ev["actor"] == actor) & (ev["toward"] == toward)]
        if rows.empty:
            return []
        weighted = rows["change"] * rows["members"] / max(self.members, 1)
        total = weighted.groupby(rows["event"], sort=False).sum()
        top = total.reindex(total.abs().sort_values(ascending=False, kind="stable").index)[:n]
        return [(str(e), float(c)) for e, c in top.items()]


def draws_frame(rows: list[dict[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """The draws table (DRAW_COLUMNS) of these rows, typed even when there are none."""
    types: dict[str, Any] = {
        "member": "int64",
        "value_of": str,
        "value": "float64",
        "unit": str,
        "as_written": str,
    }
    return pd.DataFrame(rows, columns=DRAW_COLUMNS).astype(types)


def _dotted(label: str) -> str:
    """A drawn value's label as a dotted key: 'events[ID].date' -> 'events.ID.date'."""
    if label.startswith("events[") and "]." in label:
        ident, _, field = label[len("events[") :].rpartition("].")
        return f"events.{ident}.{field}"
    return label


def _written(values: np.ndarray, unit: str) -> np.ndarray:
    """Values of draws.csv in the units a design is written in: day numbers as datetime64[ns]
    dates, days as weeks, numbers as they are."""
    if unit == DRAW_UNITS["date"]:
        days = np.round(values).astype("int64") - EPOCH_ORDINAL
        return days.astype("datetime64[D]").astype("datetime64[ns]")
    if unit == DRAW_UNITS["days"]:
        return values / 7.0
    return values


def _as_written(value: float, unit: str | None) -> str:
    """A drawn value as a user would write it: a date as YYYY-MM-DD (`value` holds its day
    number), a duration in days, a number as it is."""
    if unit == "date":
        return date.fromordinal(round(value)).isoformat()
    if unit == "days":
        return f"{value:.1f} days"
    return f"{value:.6g}"


def events_table(records: list[Applied], ids: tuple[str, ...]) -> pd.DataFrame:
    """One row per record and touched score: the member means where the event happened."""
    rows = []
    for r in records:
        ev, tally = r.event, r.tally
        before, after = tally.mean(tally.before), tally.mean(tally.after)
        strength = float(tally.mean(tally.strength))
        weight = ev.type.goldstein
        intensity = strength * 10.0 / weight if weight else ev.intensity
        utility = float(tally.mean(tally.utility))
        alternatives = "; ".join(f"{label} {u:+.3f}" for label, u in r.alternatives)
        for m, (i, j) in enumerate(zip(r.rows.tolist(), r.cols.tolist(), strict=True)):
            rows.append(
                {
                    "step": r.step,
                    "date": r.date,
                    "event": ev.id,
                    "origin": r.origin,
                    "members": tally.count,
                    "type": ev.type.name,
                    "cameo": ev.type.cameo,
                    "goldstein": weight,
                    "intensity": intensity,
                    "strength": strength,
                    "who": ev.who,
                    "actor": ids[i],
                    "toward": ids[j],
                    "before": before[m],
                    "after": after[m],
                    "change": after[m] - before[m],
                    "utility": utility,
                    "alternatives": alternatives,
                    "cite": ev.cite or "",
                    "source": str(ev.source),
                    "label": ev.label or ev.id,
                }
            )
    table = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    table["date"] = as_datetime64(list(table["date"]))
    return table.astype(EVENT_DTYPES)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
