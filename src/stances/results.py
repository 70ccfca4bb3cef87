"""Result: the outcome of a run as tables, and run directories written whole or not at all."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from stances.dynamics import Changes
    from stances.model import StanceModel
    from stances.scenario import Event, Scenario

RELATIONS_CSV = "relations.csv"
MEMBERS_PARQUET = "members.parquet"
QUANTILES_CSV = "quantiles.csv"
DRAWS_CSV = "draws.csv"
STANCES_CSV = "stances.csv"
EVENTS_CSV = "events.csv"
MANIFEST = "manifest.json"

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
]


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


@dataclass
class Result:
    """A finished run.

    history: scores of every member at every step boundary, shape (steps + 1, K, N, N), in
        [-1, 1]; None for an ensemble read back from a directory saved without its members.
    stored_quantiles: (5, steps + 1, N, N) at QUANTILES, used when history is None.
    dates: the date of each step boundary (the state at the start of that day).
    events: one row per score an applied event changed (the member mean when K > 1).
    draws: member, value_of, value, as_written: what each member drew for the scenario's
        uncertain values (value: a number, days for a duration, the day number of a date).
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
    def from_model(cls, model: StanceModel) -> Result:
        """Collect a model's history and applied events."""
        return cls.from_chunks(model.spec, model.seed, model.dates, [chunk_of(model)])

    @classmethod
    def from_chunks(
        cls, spec: Scenario, seed: int, dates: list[date], chunks: list[Chunk]
    ) -> Result:
        """Join the batches of members of one run (any batching gives the same Result)."""
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
        first = manifest["first_member"]
        units = {u.label: u.distribution.unit for u in spec.uncertain}
        draws_table = pd.DataFrame(
            [
                {
                    "member": first + m,
                    "value_of": label,
                    "value": float(v),
                    "as_written": _as_written(v, units.get(label)),
                }
                for label, values in draws.items()
                for m, v in enumerate(values)
            ],
            columns=["member", "value_of", "value", "as_written"],
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
            return self.stored_quantiles
        return np.percentile(self.history, QUANTILES, axis=1)

    @cached_property
    def position_quantiles(self) -> np.ndarray:
        """Issue positions at the QUANTILES over members, shape (5, steps + 1, I, N)."""
        if self.positions is None:
            return self.stored_position_quantiles
        return np.percentile(self.positions, QUANTILES, axis=1)

    def position_band(self, issue: str, actor: str) -> np.ndarray:
        """One actor's position on one issue over time, quantiles (5, steps + 1)."""
        return self.position_quantiles[
            :, :, list(self.issues).index(issue), self.actor_ids.index(actor)
        ]

    def stance_table(self) -> pd.DataFrame:
        """Tidy positions: step, date, issue, actor, then the position (one member) or its
        quantiles q05 .. q95 (an ensemble); only actors taking part in each issue."""
        q = self.position_quantiles
        single = self.members == 1
        rows = []
        for i, (name, info) in enumerate(self.issues.items()):
            for actor in info["actors"]:
                a = self.actor_ids.index(actor)
                for t, day in enumerate(self.dates):
                    values = [q[2, t, i, a]] if single else list(q[:, t, i, a])
                    rows.append([t, day.isoformat(), name, actor, *values])
        columns = ["position"] if single else [f"q{p:02d}" for p in QUANTILES]
        return pd.DataFrame(rows, columns=["step", "date", "issue", "actor", *columns])

    def band(self, actor: str, toward: str) -> np.ndarray:
        """One dyad's quantiles over time, shape (5, steps + 1); row 2 is the median."""
        return self.quantiles[:, :, self.actor_ids.index(actor), self.actor_ids.index(toward)]

    def median(self) -> np.ndarray:
        """Median scores, shape (steps + 1, N, N)."""
        return self.quantiles[2]

    def quantile_table(self) -> pd.DataFrame:
        """Tidy quantiles: step, date, actor, toward, q05, q25, q50, q75, q95."""
        q = self.quantiles
        ids = self.actor_ids
        rows = []
        for t, day in enumerate(self.dates):
            for i, a in enumerate(ids):
                for j, b in enumerate(ids):
                    if i != j:
                        rows.append([t, day.isoformat(), a, b, *q[:, t, i, j]])
        return pd.DataFrame(
            rows, columns=["step", "date", "actor", "toward", *(f"q{p:02d}" for p in QUANTILES)]
        )

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
        dates = np.array([d.isoformat() for d in self.dates])
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

    def score(self, actor: str, toward: str) -> np.ndarray:
        """One dyad over time for every member, shape (steps + 1, K)."""
        if self.history is None:
            raise ValueError(
                f"{self.title}: member scores were not kept (save with --keep-members)"
            )
        return self.history[:, :, self.actor_ids.index(actor), self.actor_ids.index(toward)]

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

    def save(self, directory: Path | str, plots: bool = True, keep_members: bool = False) -> Path:
        """Write the run to a new directory, all or nothing; FileExistsError if it exists (an
        earlier run is never overwritten).

        A single run writes relations.csv; an ensemble writes quantiles.csv, and its members'
        scores only with keep_members (members.parquet if pyarrow is installed, else
        relations.csv). Both write events.csv, manifest.json, draws.csv (when the scenario has
        uncertain values) and the plots.
        """

        def write(scratch: Path) -> None:
            if self.members == 1 or keep_members:
                if self.members > 1 and _has_pyarrow():
                    self.relations.to_parquet(scratch / MEMBERS_PARQUET, index=False)
                else:
                    self.relations.to_csv(scratch / RELATIONS_CSV, index=False, float_format="%.6f")
            if self.members > 1:
                self.quantile_table().to_csv(
                    scratch / QUANTILES_CSV, index=False, float_format="%.6f"
                )
            self.events.to_csv(scratch / EVENTS_CSV, index=False, float_format="%.6f")
            if self.issues:
                self.stance_table().to_csv(scratch / STANCES_CSV, index=False, float_format="%.6f")
            if self.draws is not None and not self.draws.empty:
                self.draws.to_csv(scratch / DRAWS_CSV, index=False, float_format="%.6f")
            write_manifest(scratch, self.manifest)
            if plots:
                from stances import plots as plotting

                plotting.relations_figure(self).savefig(scratch / "relations.png", dpi=150)
                plotting.matrix_figure(self).savefig(scratch / "matrix.png", dpi=150)
                if self.issues:
                    plotting.stances_figure(self).savefig(scratch / "stances.png", dpi=150)

        return write_new_directory(Path(directory), write)

    @classmethod
    def load(cls, directory: Path | str) -> Result:
        """Read a run directory written by ``save``."""
        directory = Path(directory)
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        events = pd.read_csv(directory / EVENTS_CSV, keep_default_na=False)
        draws = pd.read_csv(directory / DRAWS_CSV) if (directory / DRAWS_CSV).is_file() else None
        resolved = manifest.get("resolved_scenario", {})
        names = {k: v.get("name", k) for k, v in resolved.get("actors", {}).items()}
        history, stored = None, None
        if (directory / MEMBERS_PARQUET).is_file():
            table = pd.read_parquet(directory / MEMBERS_PARQUET)
        elif (directory / RELATIONS_CSV).is_file():
            table = pd.read_csv(directory / RELATIONS_CSV, keep_default_na=False)
        else:
            table = pd.read_csv(directory / QUANTILES_CSV, keep_default_na=False)
        ids = list(names) or sorted(set(table["actor"]) | set(table["toward"]))
        at = {a: n for n, a in enumerate(ids)}
        steps = sorted(table["step"].unique())
        i, j = table["actor"].map(at).to_numpy(), table["toward"].map(at).to_numpy()
        if "score" in table:
            member = table["member"].to_numpy() - table["member"].min()
            history = np.zeros((len(steps), member.max() + 1, len(ids), len(ids)))
            history[table["step"].to_numpy(), member, i, j] = table["score"].to_numpy()
        else:
            stored = np.zeros((len(QUANTILES), len(steps), len(ids), len(ids)))
            for q, p in enumerate(QUANTILES):
                stored[q, table["step"].to_numpy(), i, j] = table[f"q{p:02d}"].to_numpy()
        dates = [
            date.fromisoformat(d) for d in table.drop_duplicates("step").sort_values("step")["date"]
        ]
        issues = manifest.get("issues", {})
        positions, stored_positions = _read_stances(directory, issues, ids, len(dates))
        return cls(
            manifest.get("title", directory.name),
            {a: names.get(a, a) for a in ids},
            dates,
            history,
            events,
            manifest,
            draws,
            stored,
            positions,
            issues,
            stored_positions,
        )


def _as_written(value: float, unit: str | None) -> str:
    """A drawn value as a user would write it: a date as YYYY-MM-DD (`value` holds its day
    number), a duration in days, a number as it is."""
    if unit == "date":
        return date.fromordinal(round(value)).isoformat()
    if unit == "days":
        return f"{value:.1f} days"
    return f"{value:.6g}"


def _read_stances(directory: Path, issues: dict, ids: list[str], steps: int):
    """Positions (steps, 1, I, N) of a single run, or their quantiles (5, steps, I, N)."""
    if not issues or not (directory / STANCES_CSV).is_file():
        return None, None
    table = pd.read_csv(directory / STANCES_CSV)
    i = table["issue"].map({name: n for n, name in enumerate(issues)}).to_numpy()
    a = table["actor"].map({actor: n for n, actor in enumerate(ids)}).to_numpy()
    t = table["step"].to_numpy()
    if "position" in table:
        positions = np.zeros((steps, 1, len(issues), len(ids)))
        positions[t, 0, i, a] = table["position"].to_numpy()
        return positions, None
    stored = np.zeros((len(QUANTILES), steps, len(issues), len(ids)))
    for q, p in enumerate(QUANTILES):
        stored[q, t, i, a] = table[f"q{p:02d}"].to_numpy()
    return None, stored


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


FIXED_POINT = 2.0**32  # member totals are kept in units of 2**-32 (about 2.3e-10)


def fixed_total(values: np.ndarray) -> np.ndarray:
    """The sum over members of `values` (K, ...), along axis 0.

    Exact: each value is cut to a multiple of 2**-32 and the multiples are added as int64,
    so the totals of the batches of a run add up to the same number in any grouping (a float
    sum would depend on the grouping in its last bits). The sum of |values| must stay below
    2**31: two billion members at scores in [-1, 1], two hundred million at strengths <= 10.
    """
    by_member = values.transpose(*range(1, values.ndim), 0)  # contiguous for the model's state
    units = np.empty(by_member.shape, dtype=np.int64)
    np.multiply(by_member, FIXED_POINT, out=units, casting="unsafe")  # truncates toward 0
    return units.sum(axis=-1)


@dataclass(frozen=True)
class Tally:
    """One applied event summed over the members where it happened (see ``fixed_total``):
    O(cells) to keep whatever the number of members, and exact to add across batches.

    count: members where it happened; before, after: int64 (M,) totals of the scores of the
    M cells it touched; strength: total strength; utility: total utility (decided events).
    """

    count: int
    before: np.ndarray
    after: np.ndarray
    strength: np.int64
    utility: np.int64 | None

    @classmethod
    def of(cls, changes: Changes, strength: np.ndarray, utility: np.ndarray | None = None) -> Tally:
        """Sum an event's changes (k, M), strengths (k,) and utilities (k,) over the k members
        where it happened."""
        return cls(
            len(strength),
            fixed_total(changes.before),
            fixed_total(changes.after),
            fixed_total(strength),
            None if utility is None else fixed_total(utility),
        )

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.count + other.count,
            self.before + other.before,
            self.after + other.after,
            self.strength + other.strength,
            None if self.utility is None else self.utility + other.utility,
        )

    def mean(self, total: np.ndarray | np.int64 | None) -> np.ndarray | float:
        """A total as a mean over the members where the event happened (NaN for None)."""
        if total is None:
            return np.nan
        if self.count == 0:
            return np.full(np.shape(total), np.nan)
        return total / FIXED_POINT / self.count


@dataclass
class Record:
    """One applied event across the members of a batch.

    rows, cols: the M cells it touched; tally: its member totals; alternatives: the best other
    actions of the first member that took it (decided events).
    """

    step: int
    order: tuple[int, ...]
    event: Event
    origin: str
    date: date
    rows: np.ndarray
    cols: np.ndarray
    tally: Tally
    alternatives: tuple[tuple[str, float], ...]

    @property
    def key(self) -> tuple:
        return (self.step, self.order, self.event.id, self.origin)


@dataclass
class Chunk:
    """What one batch of members (first .. first + k - 1) produced; small enough to send
    between processes."""

    first: int
    history: np.ndarray
    records: list[Record]
    draws: dict[str, np.ndarray]
    positions: np.ndarray  # (T+1, k, I, N) issue positions


def chunk_of(model: StanceModel) -> Chunk:
    """A model's output as a Chunk."""
    records = [
        Record(a.step, a.order, a.event, a.origin, a.date, a.rows, a.cols, a.tally, a.alternatives)
        for a in model.applied
    ]
    steps = model.step_index
    return Chunk(
        model.first_member,
        model.history[: steps + 1].copy(),
        records,
        model.draws.values,
        model.positions[: steps + 1].copy(),
    )


def merge_chunks(chunks: list[Chunk]) -> Chunk:
    """One Chunk of all K members (history (T+1, K, N, N), records, draws, positions) from
    batches of members.

    Records are matched by (step, order, id, origin) and kept in that order, which is the same
    whatever the batching; a record absent from a batch did not happen in its members.
    """
    chunks = sorted(chunks, key=lambda c: c.first)
    if len(chunks) == 1:
        c = chunks[0]
        return Chunk(
            c.first, c.history, sorted(c.records, key=lambda r: r.key), c.draws, c.positions
        )
    history = np.concatenate([c.history for c in chunks], axis=1)
    merged: dict[tuple, Record] = {}
    for c in chunks:
        for r in c.records:
            if r.key in merged:  # the earliest batch holding it gave its first member
                merged[r.key] = replace(merged[r.key], tally=merged[r.key].tally + r.tally)
            else:
                merged[r.key] = r
    draws = {label: np.concatenate([c.draws[label] for c in chunks]) for label in chunks[0].draws}
    positions = np.concatenate([c.positions for c in chunks], axis=1)
    return Chunk(chunks[0].first, history, [merged[k] for k in sorted(merged)], draws, positions)


def events_table(records: list[Record], ids: tuple[str, ...]) -> pd.DataFrame:
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
                    "date": r.date.isoformat(),
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
                }
            )
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """manifest.json with a creation time added."""
    stamped = {**manifest, "created": datetime.now(UTC).isoformat(timespec="seconds")}
    text = json.dumps(stamped, indent=2, default=str) + "\n"
    (directory / MANIFEST).write_text(text, encoding="utf-8")


def write_new_directory(target: Path, write: Callable[[Path], None]) -> Path:
    """Create target with the files `write` puts in a scratch directory, all or nothing.

    FileExistsError if target exists: earlier results are never overwritten. On any error the
    scratch directory is removed and target is not created.
    """
    if target.exists():
        raise FileExistsError(f"{target} already exists; results are never overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write(scratch)
        if target.exists():
            raise FileExistsError(f"{target} appeared while writing; results are never overwritten")
        os.rename(scratch, target)  # atomic on one file system
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return target


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
