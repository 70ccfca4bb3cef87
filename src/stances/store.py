"""Run directories: written whole or not at all, never over an earlier one, and read back.

A run directory holds relations.csv (one run) or quantiles.csv (an ensemble; members.parquet
with every member's scores on request, relations.csv in directories written without pyarrow),
events.csv, draws.csv, stances.csv, manifest.json and whatever figures the caller hands
``save_run``. Reading it back checks everything (``store_read``); a new numbered directory
(``NextRunDir``) takes its number only when its files are written, under a name that says what
it holds (``run_name``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from stances.result import Result
    from stances.store_read import Manifest

# pandas, the Result and the reading half are imported where they are used, so that writing
# directories (NextRunDir, write_new_directory) needs nothing beyond the standard library


def __getattr__(name: str) -> Any:
    """DamagedRunError and MAX_LOAD_GIB, from the reading half (``store_read``)."""
    if name in ("DamagedRunError", "MAX_LOAD_GIB"):
        from stances import store_read

        return getattr(store_read, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


RELATIONS_CSV = "relations.csv"
MEMBERS_PARQUET = "members.parquet"
QUANTILES_CSV = "quantiles.csv"
DRAWS_CSV = "draws.csv"
STANCES_CSV = "stances.csv"
EVENTS_CSV = "events.csv"
MANIFEST = "manifest.json"


def save_run(
    result: Result,
    directory: Path | str | NextRunDir,
    *,
    keep_members: bool = False,
    figures: Mapping[str, Callable[[Path], None]] | None = None,
) -> Path:
    """Write the run to a new directory, all or nothing, and return its path; FileExistsError
    if it exists (an earlier run is never overwritten). directory: a path, or NextRunDir
    (parent/NAME-NNN with the next free number, taken when the files are written).

    A single run writes relations.csv; an ensemble writes quantiles.csv, and its members'
    scores only with keep_members (members.parquet, dates as Parquet dates). Both write
    events.csv, manifest.json, draws.csv (when the scenario has uncertain values) and
    stances.csv (when it has issues). figures: file name -> a function that writes that file
    at the path it is given (the figures; this room draws none itself).
    """

    def write(scratch: Path) -> None:
        if result.members > 1 and keep_members:
            write_parquet(result.relations, scratch / MEMBERS_PARQUET)
        elif result.members == 1:
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

    return write_new_directory(directory, write)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """A table as Parquet, its `date` column (datetime64) stored as Parquet dates (date32)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    at = table.schema.get_field_index("date")
    table = table.set_column(at, "date", table.column("date").cast(pa.date32()))
    pq.write_table(table, path)


def load_run(directory: Path | str) -> Result:
    """Read a run directory written by ``save_run``, checking everything it reads.

    DamagedRunError (a ValueError; one line naming the file and, where there is one, the line)
    if anything is missing, malformed, out of range or inconsistent with the manifest, before
    anything sized by what was read is allocated (at most MAX_LOAD_GIB).
    """
    from stances.result import EVENT_COLUMNS, Result
    from stances.store_read import (
        QUANTILE_COLUMNS,
        SCORE_COLUMNS,
        SCORE_KINDS,
        DamagedRunError,
        check_size,
        read_csv,
        read_events,
        read_manifest,
        read_member_scores,
        read_parquet,
        read_positions,
        read_quantiles,
    )

    directory = Path(directory)
    if not directory.is_dir():
        raise DamagedRunError(f"{directory}: not a directory")
    m = read_manifest(directory, MANIFEST)
    parquet, relations = directory / MEMBERS_PARQUET, directory / RELATIONS_CSV
    kept = parquet.is_file() or relations.is_file()
    if m.members == 1 and not relations.is_file():
        raise DamagedRunError(f"{relations}: missing (a single run keeps its scores there)")
    check_size(directory, m, members_kept=kept)
    rows = m.members * (m.steps + 1) * len(m.actors) * (len(m.actors) - 1)
    history, stored = None, None
    if parquet.is_file():
        history, dates = read_member_scores(read_parquet(parquet, SCORE_KINDS, rows), m)
    elif relations.is_file():
        history, dates = read_member_scores(read_csv(relations, SCORE_COLUMNS), m)
    else:
        stored, dates = read_quantiles(read_csv(directory / QUANTILES_CSV, QUANTILE_COLUMNS), m)
    # events.csv written before events had labels lacks the last column: the ids stand in
    table = read_csv(directory / EVENTS_CSV, EVENT_COLUMNS, also=EVENT_COLUMNS[:-1])
    events = read_events(table, m, EVENT_COLUMNS)
    draws = _read_draws(directory / DRAWS_CSV, m)
    positions = None
    if m.issues:
        table = read_csv(directory / STANCES_CSV, _stance_columns(m.members))
        positions = read_positions(table, m, dates)
    single = m.members == 1
    return Result(
        m.title,
        m.actors,
        dates,
        history,
        events,
        m.raw,
        draws,
        stored,
        positions if single else None,
        m.issues,
        None if single else positions,
    )


def _read_draws(path: Path, m: Manifest) -> pd.DataFrame:
    from stances.result import DRAW_COLUMNS, DRAW_UNITS, draws_frame
    from stances.store_read import read_csv, read_draws

    if not path.is_file():
        return draws_frame([])
    old = [c for c in DRAW_COLUMNS if c != "unit"]  # draws.csv before it had a unit column
    table = read_csv(path, DRAW_COLUMNS, also=old)
    return draws_frame(read_draws(table, m, list(DRAW_UNITS.values())))


def _stance_columns(members: int) -> list[str]:
    from stances.store_read import Q_COLUMNS

    return ["step", "date", "issue", "actor", *(["position"] if members == 1 else Q_COLUMNS)]


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """manifest.json with a creation time added."""
    stamped = {**manifest, "created": datetime.now(UTC).isoformat(timespec="seconds")}
    text = json.dumps(stamped, indent=2, default=str) + "\n"
    (directory / MANIFEST).write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class NextRunDir:
    """parent/NAME-NNN with NNN one more than the highest there when the directory is
    finished (the next free number if another writer takes that one first)."""

    parent: Path
    name: str


NAME_LIMIT = 80  # the longest run name (characters, before its -NNN)
_ARROWS = (("<->", "-and-"), ("->", "-to-"), ("<-", "-from-"))  # relations.AFG -> PAK
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+,-]+")  # all else: control, <>:"/\\|?* and spaces
_SPARE = re.compile(r"_*([-=,])_*")  # '_' beside a separator: {uniform: [1, 2]} as uniform_1,2
# names Windows keeps for devices, with or without an ending (CON, CON.txt)
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"{d}{n}" for d in ("COM", "LPT") for n in range(10))}


def run_name(
    stems: Sequence[str],
    sets: Mapping[str, str] | None = None,
    *,
    before: str = "",
    after: str = "",
    also: Sequence[str] = (),
) -> str:
    """The name of a new run directory (before its -NNN): what it holds, safe as a file name.

    The parts, joined by '-': `before` (the command, e.g. 'compare'); the stems (scenario files'
    stems or run directories' names) joined by '-vs-'; each --set override as SHORT=VALUE
    (SHORT the key's last dotted part, VALUE as written); `also` (e.g. 'design=lhs', a swept
    key); `after` (e.g. 'calibration'). So ['article'] with parameters.kappa_observer=0.2 is
    'article-kappa_observer=0.2', and ['article', 'no-mediation'] before 'compare' is
    'compare-article-vs-no-mediation'.

    The name is portable (Linux, macOS, Windows): ASCII letters, digits and ``._=+,-`` only
    (accents dropped, arrows spelled out, anything else '_' but none beside '-', '=' or ','),
    not starting with '.' or '-', not ending with '.', never a Windows device name; at most
    NAME_LIMIT characters. A longer one (as given or as made safe) is cut and ends in '-' and
    8 hex digits of the SHA-256 of the whole input (then `after`), so different long inputs
    keep different names.
    """
    shown_sets = [
        f"{key.rpartition('.')[2].strip()}={value}" for key, value in (sets or {}).items()
    ]
    parts = [before, "-vs-".join(stems), *shown_sets, *also, after]
    tail = f"-{_safe(after)}" if after else ""
    if len(tail) <= NAME_LIMIT // 4:  # short enough to keep whole at the end, even when cut
        parts.pop()
    else:
        tail = ""
    given = "-".join(p for p in [*parts, after if tail else ""] if p)
    body = _safe("-".join(p for p in parts if p))
    if max(len(given), len(body) + len(tail)) <= NAME_LIMIT:
        return body + tail
    whole = json.dumps([before, list(stems), list((sets or {}).items()), list(also), after])
    digest = hashlib.sha256(whole.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{body[: NAME_LIMIT - len(tail) - 9]}-{digest}{tail}"


def _safe(text: str) -> str:
    """Text as a portable file name (see run_name), not cut; 'run' if nothing is left."""
    for arrow, word in _ARROWS:
        text = re.sub(rf"\s*{re.escape(arrow)}\s*", word, text)
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    name = _SPARE.sub(r"\1", _UNSAFE.sub("_", folded)).strip("_").lstrip(".-").rstrip(".") or "run"
    return f"_{name}" if name.split(".")[0].upper() in _RESERVED else name


def write_new_directory(target: Path | str | NextRunDir, write: Callable[[Path], None]) -> Path:
    """Create target with the files `write` puts in a scratch directory, all or nothing, and
    return its path.

    target: a path (FileExistsError if it exists: earlier results are never overwritten), or
    NextRunDir (the next free parent/NAME-NNN, claimed once the files are written, so that
    writers running at the same time each get their own). On any error the scratch directory
    is removed and nothing is created. Scratch directories are named .NAME.HOST.PID.XXXXXXXX;
    those of dead processes on this host are removed from the parent first.
    """
    if isinstance(target, NextRunDir):
        parent, label = Path(target.parent), target.name
    else:
        target = Path(target)
        if target.exists():
            raise FileExistsError(f"{target} already exists; results are never overwritten")
        parent, label = target.parent, target.name
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale_scratch(parent)
    scratch = Path(tempfile.mkdtemp(prefix=f".{label}.{_host()}.{os.getpid()}.", dir=parent))
    try:
        write(scratch)
        if isinstance(target, NextRunDir):
            return _rename_to_next(scratch, parent, label)
        _rename_onto(scratch, target, f"{target} appeared while writing")
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return target


def _rename_to_next(scratch: Path, parent: Path, name: str, tries: int = 1000) -> Path:
    """Move scratch to the next free parent/NAME-NNN, trying the following numbers while
    other writers take them first."""
    number = _highest_number(parent, name) + 1
    for _ in range(tries):
        target = parent / f"{name}-{number:03d}"
        try:
            _rename_onto(scratch, target, "")
        except FileExistsError:
            number = max(number, _highest_number(parent, name)) + 1
            continue
        return target
    raise FileExistsError(f"{parent}: no free {name}-NNN after {tries} tries")


def _rename_onto(scratch: Path, target: Path, taken: str) -> None:
    """Move scratch to target, which must not exist: target is claimed by creating it (an
    atomic step only one writer can take; FileExistsError otherwise), then replaced by the
    scratch directory (rename onto an empty directory replaces it, on Linux and macOS)."""
    try:
        os.mkdir(target)
    except FileExistsError:
        raise FileExistsError(f"{taken or target}; results are never overwritten") from None
    try:
        os.rename(scratch, target)
    except BaseException:
        os.rmdir(target)
        raise


# .NAME.HOST.PID.XXXXXXXX, the last part from tempfile.mkdtemp
SCRATCH_NAME = re.compile(r"\.(?P<name>.+)\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)\.[a-z0-9_]{8}")


def remove_stale_scratch(parent: Path) -> list[Path]:
    """Remove the scratch directories in parent that a process of this host left when it died
    (killed while writing); never one of a live process, of another host, or anything else.
    Returns those removed."""
    removed = []
    for path in parent.iterdir() if parent.is_dir() else []:
        match = SCRATCH_NAME.fullmatch(path.name)
        if not match or match["host"] != _host() or path.is_symlink() or not path.is_dir():
            continue
        pid = int(match["pid"])
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, OSError):
        return False
    return True


def _host() -> str:
    """This host's name as it can stand in a scratch directory's name."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:63] or "host"


def next_run_dir(parent: Path, name: str) -> Path:
    """parent/NAME-NNN with NNN one more than the highest already there. Another writer may
    take it before this one is done: write with NextRunDir(parent, name) instead."""
    return parent / f"{name}-{_highest_number(parent, name) + 1:03d}"


def _highest_number(parent: Path, name: str) -> int:
    numbers = [
        int(m.group(1))
        for p in (parent.iterdir() if parent.is_dir() else [])
        if (m := re.fullmatch(re.escape(name) + r"-(\d{3,})", p.name))
    ]
    return max(numbers, default=0)
