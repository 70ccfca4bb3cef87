"""Result: the outcome of a run as tables, and run directories written whole or not at all."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from stances.model import StanceModel

RELATIONS_CSV = "relations.csv"
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


@dataclass
class Result:
    """A finished run.

    history: scores at every step boundary, shape (steps + 1, K, N, N), in [-1, 1].
    dates: the date of each step boundary (the state at the start of that day).
    events: one row per score an applied event changed (the member mean when K > 1).
    """

    title: str
    actors: dict[str, str]
    dates: list[date]
    history: np.ndarray
    events: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_model(cls, model: StanceModel) -> Result:
        """Collect a model's history and applied events."""
        spec = model.spec
        ids = spec.actor_ids
        rows = []
        for applied in model.applied:
            ev, ch, where = applied.event, applied.changes, applied.members
            before, after = ch.before[where].mean(axis=0), ch.after[where].mean(axis=0)
            utility = (
                float(applied.utility[where].mean()) if applied.utility is not None else np.nan
            )
            alternatives = "; ".join(f"{label} {u:+.3f}" for label, u in applied.alternatives)
            for m, (i, j) in enumerate(zip(ch.rows.tolist(), ch.cols.tolist(), strict=True)):
                rows.append(
                    {
                        "step": applied.step,
                        "date": applied.date.isoformat(),
                        "event": ev.id,
                        "origin": applied.origin,
                        "members": int(where.sum()),
                        "type": ev.type.name,
                        "cameo": ev.type.cameo,
                        "goldstein": ev.type.goldstein,
                        "intensity": ev.intensity,
                        "strength": ev.strength,
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
        steps = model.step_index
        manifest = {
            "title": spec.title,
            "scenario": str(spec.path),
            "files": [{"path": str(p), "sha256": _sha256(p)} for p in spec.files],
            "input_hash": spec.input_hash(),
            "seed": model.seed,
            "members": model.members,
            "steps": steps,
            "step": str(spec.time.step),
            "start": spec.time.start.isoformat(),
            "end": spec.time.end.isoformat(),
            "versions": package_versions(),
            "resolved_scenario": spec.resolved,
        }
        return cls(
            title=spec.title,
            actors=dict(spec.actors),
            dates=list(model.dates[: steps + 1]),
            history=model.history[: steps + 1].copy(),
            events=pd.DataFrame(rows, columns=EVENT_COLUMNS),
            manifest=manifest,
        )

    @property
    def actor_ids(self) -> tuple[str, ...]:
        return tuple(self.actors)

    @property
    def members(self) -> int:
        return self.history.shape[1]

    @cached_property
    def relations(self) -> pd.DataFrame:
        """Tidy scores: member, step, date, actor, toward, score (one row per ordered pair)."""
        t, k, n, _ = self.history.shape
        ids = np.array(self.actor_ids)
        step, member, i, j = np.meshgrid(
            np.arange(t), np.arange(k), np.arange(n), np.arange(n), indexing="ij"
        )
        keep = (i != j).ravel()
        dates = np.array([d.isoformat() for d in self.dates])
        return pd.DataFrame(
            {
                "member": member.ravel()[keep],
                "step": step.ravel()[keep],
                "date": dates[step.ravel()[keep]],
                "actor": ids[i.ravel()[keep]],
                "toward": ids[j.ravel()[keep]],
                "score": self.history.ravel()[keep],
            }
        ).sort_values(["member", "step", "actor", "toward"], kind="stable", ignore_index=True)

    def score(self, actor: str, toward: str) -> np.ndarray:
        """One dyad over time, shape (steps + 1, K)."""
        return self.history[:, :, self.actor_ids.index(actor), self.actor_ids.index(toward)]

    def changes(self) -> pd.DataFrame:
        """Each dyad's initial and final score (member mean) and the change, largest first."""
        ids = self.actor_ids
        first, last = self.history[0].mean(axis=0), self.history[-1].mean(axis=0)
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
        """The n events that moved one dyad most (by absolute immediate change), with that change."""
        rows = self.events[(self.events["actor"] == actor) & (self.events["toward"] == toward)]
        if rows.empty:
            return []
        total = rows.groupby("event", sort=False)["change"].sum()
        top = total.reindex(total.abs().sort_values(ascending=False, kind="stable").index)[:n]
        return [(str(e), float(c)) for e, c in top.items()]

    def save(self, directory: Path | str, plots: bool = True) -> Path:
        """Write the run to a new directory: CSVs, manifest and plots; all or nothing.

        FileExistsError if the directory exists: an earlier run is never overwritten.
        """

        def write(scratch: Path) -> None:
            self.relations.to_csv(scratch / RELATIONS_CSV, index=False, float_format="%.6f")
            self.events.to_csv(scratch / EVENTS_CSV, index=False, float_format="%.6f")
            write_manifest(scratch, self.manifest)
            if plots:
                from stances import plots as plotting

                plotting.relations_figure(self).savefig(scratch / "relations.png", dpi=150)
                plotting.matrix_figure(self).savefig(scratch / "matrix.png", dpi=150)

        return write_new_directory(Path(directory), write)

    @classmethod
    def load(cls, directory: Path | str) -> Result:
        """Read a run directory written by ``save``."""
        directory = Path(directory)
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        relations = pd.read_csv(directory / RELATIONS_CSV, keep_default_na=False)
        events = pd.read_csv(directory / EVENTS_CSV, keep_default_na=False)
        resolved = manifest.get("resolved_scenario", {})
        names = {k: v.get("name", k) for k, v in resolved.get("actors", {}).items()}
        ids = list(names) or sorted(set(relations["actor"]) | set(relations["toward"]))
        steps = sorted(relations["step"].unique())
        members = sorted(relations["member"].unique())
        history = np.zeros((len(steps), len(members), len(ids), len(ids)))
        idx = {a: n for n, a in enumerate(ids)}
        history[
            relations["step"].to_numpy(),
            relations["member"].to_numpy(),
            relations["actor"].map(idx).to_numpy(),
            relations["toward"].map(idx).to_numpy(),
        ] = relations["score"].to_numpy()
        dates = [
            date.fromisoformat(d)
            for d in relations.drop_duplicates("step").sort_values("step")["date"]
        ]
        return cls(
            manifest.get("title", directory.name),
            {a: names.get(a, a) for a in ids},
            dates,
            history,
            events,
            manifest,
        )


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
