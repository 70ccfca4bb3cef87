"""Run directories: written whole or not at all, never over an earlier one, and read back.

A run directory holds relations.csv (one run) or quantiles.csv (an ensemble; members.parquet
or relations.csv with every member's scores on request), events.csv, draws.csv, stances.csv,
manifest.json and whatever figures the caller hands ``save_run``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stances.result import QUANTILES, Result

RELATIONS_CSV = "relations.csv"
MEMBERS_PARQUET = "members.parquet"
QUANTILES_CSV = "quantiles.csv"
DRAWS_CSV = "draws.csv"
STANCES_CSV = "stances.csv"
EVENTS_CSV = "events.csv"
MANIFEST = "manifest.json"


def save_run(
    result: Result,
    directory: Path | str,
    *,
    keep_members: bool = False,
    figures: Mapping[str, Callable[[Path], None]] | None = None,
) -> Path:
    """Write the run to a new directory, all or nothing; FileExistsError if it exists (an
    earlier run is never overwritten).

    A single run writes relations.csv; an ensemble writes quantiles.csv, and its members'
    scores only with keep_members (members.parquet if pyarrow is installed, else
    relations.csv). Both write events.csv, manifest.json, draws.csv (when the scenario has
    uncertain values). figures: file name -> a function that writes that file at the path
    it is given (the figures; this room draws none itself).
    """

    def write(scratch: Path) -> None:
        if result.members == 1 or keep_members:
            if result.members > 1 and _has_pyarrow():
                result.relations.to_parquet(scratch / MEMBERS_PARQUET, index=False)
            else:
                result.relations.to_csv(scratch / RELATIONS_CSV, index=False, float_format="%.6f")
        if result.members > 1:
            result.quantile_table().to_csv(
                scratch / QUANTILES_CSV, index=False, float_format="%.6f"
            )
        result.events.to_csv(scratch / EVENTS_CSV, index=False, float_format="%.6f")
        if result.issues:
            result.stance_table().to_csv(scratch / STANCES_CSV, index=False, float_format="%.6f")
        if result.draws is not None and not result.draws.empty:
            result.draws.to_csv(scratch / DRAWS_CSV, index=False, float_format="%.6f")
        write_manifest(scratch, result.manifest)
        for name, draw in (figures or {}).items():
            draw(scratch / name)

    return write_new_directory(Path(directory), write)


def load_run(directory: Path | str) -> Result:
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
    return Result(
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


def next_run_dir(parent: Path, name: str) -> Path:
    """parent/NAME-NNN with NNN one more than the highest already there."""
    numbers = [
        int(m.group(1))
        for p in (parent.iterdir() if parent.is_dir() else [])
        if (m := re.fullmatch(re.escape(name) + r"-(\d{3,})", p.name))
    ]
    return parent / f"{name}-{max(numbers, default=0) + 1:03d}"
