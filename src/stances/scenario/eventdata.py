"""`stances import`: event-data exports (GDELT 2.0 events, ICEWS coded events) read row by row
into dated, cited events between chosen actors, aggregated by one stated rule.

Layouts (the only facts taken from elsewhere here):

- GDELT 2.0 events: one record per line, tab-separated, no header, the 61 columns of the GDELT
  Event Database Data Format Codebook V2.0 (2/19/2015, http://data.gdeltproject.org/
  documentation/GDELT-Event_Codebook-V2.0.pdf) in its order (``GDELT_COLUMNS``). The BigQuery
  table ``gdelt-bq.gdeltv2.events`` has the same columns; its CSV export (commas, a header
  line of those names) is read too.
- ICEWS coded event data (Harvard Dataverse, doi:10.7910/DVN/28075): tab-separated with a
  header line naming the columns of ``ICEWS_COLUMNS``; "Event ID" with "Event Date" identifies
  a record (an Event ID recurs with another date: Beger, "ICEWS event data", the icews R
  package's vignette).

Rows are checked cell by cell: every fault is a `Problem` at ``FILE:line:col: column NAME``
and its row is skipped (or, with ``strict``, the whole import refused). Only the standard
library is used (csv): nothing under scenario/ imports pandas.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from stances.catalogue import cameo_table
from stances.errors import Position, Problem, ScenarioError, shown, suggest
from stances.scenario.builder import load_scenario
from stances.scenario.document import MAX_FILE_BYTES, file_problem, problem, read_yaml
from stances.scenario.models import ACTOR_ID

_ACTOR_FIELDS = (
    "Code",
    "Name",
    "CountryCode",
    "KnownGroupCode",
    "EthnicCode",
    "Religion1Code",
    "Religion2Code",
    "Type1Code",
    "Type2Code",
    "Type3Code",
)
_GEO_FIELDS = (
    "Type",
    "FullName",
    "CountryCode",
    "ADM1Code",
    "ADM2Code",
    "Lat",
    "Long",
    "FeatureID",
)
GDELT_COLUMNS: tuple[str, ...] = (
    "GLOBALEVENTID",
    "SQLDATE",
    "MonthYear",
    "Year",
    "FractionDate",
    *(f"Actor1{f}" for f in _ACTOR_FIELDS),
    *(f"Actor2{f}" for f in _ACTOR_FIELDS),
    "IsRootEvent",
    "EventCode",
    "EventBaseCode",
    "EventRootCode",
    "QuadClass",
    "GoldsteinScale",
    "NumMentions",
    "NumSources",
    "NumArticles",
    "AvgTone",
    *(f"Actor1Geo_{f}" for f in _GEO_FIELDS),
    *(f"Actor2Geo_{f}" for f in _GEO_FIELDS),
    *(f"ActionGeo_{f}" for f in _GEO_FIELDS),
    "DATEADDED",
    "SOURCEURL",
)
"""The 61 columns of a GDELT 2.0 events record, in the codebook's order."""

ICEWS_COLUMNS: tuple[str, ...] = (
    "Event ID",
    "Event Date",
    "Source Name",
    "Source Sectors",
    "Source Country",
    "Event Text",
    "CAMEO Code",
    "Intensity",
    "Target Name",
    "Target Sectors",
    "Target Country",
    "Story ID",
    "Sentence Number",
    "Publisher",
    "City",
    "District",
    "Province",
    "Country",
    "Latitude",
    "Longitude",
)
"""The columns an ICEWS events file's header names (Harvard Dataverse layout)."""

SOURCES = ("gdelt", "icews")
INTENSITY_CAP = 3.0
"""The largest intensity an aggregated event gets: log2(1 + 7) = 3, reached at 7 records."""

# States by ISO 3166-1 alpha-3 code (which CAMEO uses for states) and the name ICEWS gives them.
COUNTRIES: dict[str, str] = {
    "AFG": "Afghanistan",
    "BGD": "Bangladesh",
    "BTN": "Bhutan",
    "CHN": "China",
    "IND": "India",
    "IRN": "Iran",
    "LKA": "Sri Lanka",
    "MMR": "Myanmar",
    "NPL": "Nepal",
    "PAK": "Pakistan",
    "RUS": "Russian Federation",
    "TJK": "Tajikistan",
    "TKM": "Turkmenistan",
    "USA": "United States",
    "UZB": "Uzbekistan",
}


@dataclass(frozen=True)
class Record:
    """One usable row: who did what to whom on which day, and where it is written."""

    key: tuple[int, date]  # what identifies the record (GDELT: the id alone, date ignored)
    line: int
    day: date
    actor: str  # scenario ids
    target: str
    code: str  # a CAMEO code of the catalogue
    source: str  # GDELT: SOURCEURL; ICEWS: Story ID
    mentions: int  # GDELT: NumMentions; ICEWS: 1


@dataclass
class Reading:
    """What reading an export gave: its usable records and problems, and how many rows went
    where (rows = records + problems' rows + duplicates + others + outside)."""

    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    bad_rows: int = 0
    duplicates: int = 0
    others: int = 0  # not between two kept actors
    outside: int = 0  # before `start` or after `end`


@dataclass(frozen=True)
class Imported:
    """An aggregated scenario event: the records of one (actor, target, code, week)."""

    id: str
    day: date
    actor: str
    target: str
    code: str
    intensity: float
    records: tuple[Record, ...]
    cite: str


class _Layout:
    """Where a layout keeps the cells the import reads (0-based field indices)."""

    def __init__(self, source: str, columns: Sequence[str]) -> None:
        self.source = source
        self.columns = tuple(columns)
        at = {name: i for i, name in enumerate(self.columns)}
        gdelt = ("GLOBALEVENTID", "SQLDATE", "Actor1CountryCode", "Actor2CountryCode")
        icews = ("Event ID", "Event Date", "Source Country", "Target Country")
        names: tuple[str, ...] = (
            (*gdelt, "EventCode", "NumMentions", "SOURCEURL")
            if source == "gdelt"
            else (*icews, "CAMEO Code", "Intensity", "Story ID")
        )
        self.id, self.date, self.actor, self.target, self.code, self.number, self.source_col = (
            at[n] for n in names
        )


def intensity_of(count: int) -> float:
    """The intensity of an event aggregating `count` ≥ 1 records: min(3, log2(1 + count)),
    rounded to 3 decimals (1 record: 1.0, the intensity of one scripted event)."""
    return round(min(INTENSITY_CAP, math.log2(1 + count)), 3)


# ------------------------------------------------------------------------------------------
# reading


def _lines(path: Path) -> Iterator[str]:
    """The file's lines as text; ScenarioError at the first byte that is not UTF-8."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                col = len(raw[: exc.start].decode("utf-8", "replace")) + 1
                message = f"not UTF-8 text: byte 0x{raw[exc.start]:02x} (save the export as UTF-8)"
                raise ScenarioError(
                    [Problem(Position(str(path), number, col), "", message)]
                ) from None
            yield text.removeprefix("\ufeff") if number == 1 else text


def _refuse(path: Path, message: str, line: int = 0, col: int = 0) -> ScenarioError:
    return ScenarioError([Problem(Position(str(path), line, col), "", message)])


def _first_line(lines: Iterator[str]) -> tuple[str | None, Iterator[str]]:
    """The first line that is not blank (None in an empty file) and all the lines again."""
    seen: list[str] = []
    for line in lines:
        seen.append(line)
        if line.strip():
            return line, itertools.chain(seen, lines)
    return None, iter(seen)


def _gdelt_layout(path: Path, first: str) -> tuple[str, bool]:
    """(delimiter, has a header) of a GDELT export, from its first line; ScenarioError for an
    ICEWS file or a header that is not the 61 columns in order."""
    delimiter = "\t" if "\t" in first or not first.startswith("GLOBALEVENTID,") else ","
    cells = next(csv.reader([first], delimiter=delimiter))
    if "Event ID" in cells and "CAMEO Code" in cells:
        raise _refuse(
            path,
            "an ICEWS events file (its header names Event ID, CAMEO Code, ...): "
            "use `stances import icews`",
            1,
            1,
        )
    if cells[:1] != ["GLOBALEVENTID"]:
        return delimiter, False
    for i, (got, want) in enumerate(itertools.zip_longest(cells, GDELT_COLUMNS)):
        if got != want:
            what = f"'{got}'" if got is not None else "nothing"
            raise _refuse(
                path,
                f"header: column {i + 1} is {what}, not '{want}': export the "
                "61 columns of the GDELT 2.0 events table in their order (SELECT *)",
                1,
                1,
            )
    return delimiter, True


def _icews_columns(path: Path, first: str) -> list[str]:
    """The header of an ICEWS file; ScenarioError naming what is missing, or for a GDELT file."""
    cells = first.rstrip("\r\n").split("\t")
    if "Event ID" not in cells:
        gdelt = len(cells) in (57, 58, 61) and cells[0].isdigit()
        why = (
            f"this looks like a GDELT events export (no header, {len(cells)} columns): use "
            "`stances import gdelt`"
            if gdelt
            else f"expected the ICEWS header line (Event ID, Event Date, ...), got {shown(first.strip())}"
        )
        raise _refuse(path, why, 1, 1)
    missing = [name for name in ICEWS_COLUMNS if name not in cells]
    if missing:
        raise ScenarioError(
            Problem(Position(str(path), 1, 1), "header", f"missing column '{name}'")
            for name in missing
        )
    return cells


def read_export(
    path: Path,
    source: str,
    ids: Mapping[str, str],
    keep: Iterable[str],
    start: date | None = None,
    end: date | None = None,
) -> Reading:
    """Read a GDELT or ICEWS export: the records between two actors of `keep` (scenario ids;
    `ids` maps the export's country codes or names to them) dated `start`..`end`.

    A row with a fault is skipped and its problem recorded; a row that repeats an earlier one
    (same id, same cells) is dropped and counted. The file as a whole (missing, not UTF-8,
    empty, the other layout, a wrong header) raises ScenarioError with one problem.
    """
    why = file_problem(path)
    if why is not None and not why.startswith("the file has"):  # exports may be large
        raise _refuse(path, why)
    first, lines = _first_line(_lines(path))
    if first is None:
        raise _refuse(path, "an empty file: no rows of events")
    if source == "gdelt":
        delimiter, header = _gdelt_layout(path, first)
        layout = _Layout("gdelt", GDELT_COLUMNS)
    else:
        delimiter, header = "\t", True
        layout = _Layout("icews", _icews_columns(path, first))
    reading = Reading()
    keep = set(keep)
    seen: dict[tuple[int, date] | int, tuple[int, tuple[str, ...]]] = {}
    # tab-separated exports quote nothing; a comma-separated one (BigQuery) quotes as CSV does
    if delimiter == "\t":
        reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(lines, delimiter=",")
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if header:
                header = False
                continue
            reading.rows += 1
            _take_row(path, reader.line_num, cells, layout, ids, keep, (start, end), seen, reading)
    except csv.Error as exc:
        raise _refuse(path, f"not a readable table: {exc}", reader.line_num, 1) from None
    if reading.rows == 0:
        raise _refuse(path, "an empty file: a header and no rows of events")
    return reading


def _take_row(
    path: Path,
    line: int,
    cells: list[str],
    layout: _Layout,
    ids: Mapping[str, str],
    keep: set[str],
    window: tuple[date | None, date | None],
    seen: dict,
    reading: Reading,
) -> None:
    """Check one row; add its record, or its problem, or count why it is left out."""

    def bad(index: int, message: str) -> None:
        col = 1 + sum(len(c) + 1 for c in cells[:index])
        name = layout.columns[index]
        reading.problems.append(Problem(Position(str(path), line, col), f"column {name}", message))
        reading.bad_rows += 1

    want = len(layout.columns)
    if len(cells) < want:
        return bad(len(cells), f"missing: the row has {len(cells)} of {want} columns")
    if len(cells) > want:
        reading.problems.append(
            Problem(
                Position(str(path), line, 1 + sum(len(c) + 1 for c in cells[:want])),
                "row",
                f"{len(cells)} columns, {want} expected",
            )
        )
        reading.bad_rows += 1
        return None
    actor, target = ids.get(cells[layout.actor].strip()), ids.get(cells[layout.target].strip())
    if actor not in keep or target not in keep or actor == target:
        reading.others += 1
        return None
    number = _whole(cells[layout.id])
    if number is None:
        return bad(layout.id, f"expected a whole number, got {shown(cells[layout.id])}")
    day = _day(cells[layout.date], layout.source)
    if isinstance(day, str):
        return bad(layout.date, day)
    code = cells[layout.code].strip()
    if code not in cameo_table():
        hint = suggest(code.zfill(3), [code.zfill(3)]) if code.zfill(3) in cameo_table() else ""
        return bad(
            layout.code,
            f"{shown(code)} is not a CAMEO code of the catalogue "
            f"(`stances events`; data/cameo-goldstein.tsv){hint}",
        )
    extra = _number_problem(cells[layout.number], layout.source)
    if extra:
        return bad(layout.number, extra)
    source = cells[layout.source_col].strip()
    if layout.source == "icews" and _whole(source) is None:
        return bad(layout.source_col, f"expected a whole number, got {shown(source)}")
    key = number if layout.source == "gdelt" else (number, day)
    if key in seen:
        first_line, first_cells = seen[key]
        if first_cells == tuple(cells):
            reading.duplicates += 1
            return None
        what = "GLOBALEVENTID" if layout.source == "gdelt" else "Event ID and Event Date"
        return bad(
            layout.id,
            f"{what} {number} already on line {first_line} with other values; this row is skipped",
        )
    seen[key] = (line, tuple(cells))
    start, end = window
    if (start and day < start) or (end and day > end):
        reading.outside += 1
        return None
    mentions = int(cells[layout.number]) if layout.source == "gdelt" else 1
    reading.records.append(Record((number, day), line, day, actor, target, code, source, mentions))
    return None


def _whole(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None


def _day(text: str, source: str) -> date | str:
    """The date of a cell (GDELT: YYYYMMDD; ICEWS: YYYY-MM-DD), or what is wrong with it."""
    text = text.strip()
    form = "YYYYMMDD" if source == "gdelt" else "YYYY-MM-DD"
    digits = text if source == "gdelt" else text.replace("-", "")
    shaped = len(text) == len(form) and digits.isascii() and digits.isdigit()
    if shaped and source == "icews":
        shaped = text[4] == "-" and text[7] == "-"
    if not shaped:
        return f"expected a date {form}, got {shown(text)}"
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError as exc:
        return f"not a date: {shown(text)} ({exc})"


def _number_problem(text: str, source: str) -> str | None:
    """What is wrong with the numeric cell the import reads (GDELT NumMentions: a whole number;
    ICEWS Intensity: a number in [-10, 10]), or None."""
    if source == "gdelt":
        return None if _whole(text) is not None else f"expected a whole number, got {shown(text)}"
    try:
        value = float(text)
    except ValueError:
        return f"expected a number, got {shown(text)}"
    if not (math.isfinite(value) and -10 <= value <= 10):
        return f"expected a number in [-10, 10], got {shown(text)}"
    return None


# ------------------------------------------------------------------------------------------
# aggregating


def aggregate(records: Iterable[Record], start: date, source: str) -> list[Imported]:
    """One event per (actor, target, CAMEO code, week): weeks are the 7-day steps counted from
    `start` (the scenario's first day), so records that fall in one step of the run make one
    event. Its date is the first day of its records, its intensity `intensity_of` their count.
    Events come sorted by (date, actor, target, code), whatever the order of `records`."""
    groups: dict[tuple[str, str, str, int], list[Record]] = {}
    for r in records:
        groups.setdefault((r.actor, r.target, r.code, (r.day - start).days // 7), []).append(r)
    out = []
    for (actor, target, code, _week), group in groups.items():
        group.sort(key=lambda r: (r.day, r.key))
        first = group[0].day
        event_id = f"{source}-{first.isoformat()}-{actor}-{target}-{code}".lower()
        out.append(
            Imported(
                event_id,
                first,
                actor,
                target,
                code,
                intensity_of(len(group)),
                tuple(group),
                _cite(group, source),
            )
        )
    return sorted(out, key=lambda e: (e.day, e.actor, e.target, e.code))


CITED_IDS = 5


def _listed(values: Sequence[object]) -> str:
    shown_ = ", ".join(str(v) for v in values[:CITED_IDS])
    return shown_ + (f" and {len(values) - CITED_IDS} more" if len(values) > CITED_IDS else "")


def _cite(group: Sequence[Record], source: str) -> str:
    """The records of an event as its citation: their ids and the first source."""
    ids = sorted({r.key[0] for r in group})
    n = len(group)
    records = f"{n} record" if n == 1 else f"{n} records"
    if source == "gdelt":
        mentions = sum(r.mentions for r in group)
        said = f"{mentions} mention" if mentions == 1 else f"{mentions} mentions"
        return (
            f"GDELT 2.0 events, GLOBALEVENTID {_listed(ids)} ({records}, {said}); "
            f"first source: {group[0].source}"
        )
    stories = sorted({int(r.source) for r in group})
    return f"ICEWS coded events, Event ID {_listed(ids)} ({records}); Story ID {_listed(stories)}"


# ------------------------------------------------------------------------------------------
# the scenario file


def _quoted(text: str) -> str:
    """Text as a YAML double-quoted scalar; control characters become spaces (a scenario file
    may hold none)."""
    clean = "".join(
        " " if (ord(c) < 32 or 127 <= ord(c) < 160 or 0xD800 <= ord(c) < 0xE000) else c
        for c in text
    )
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def window_of(records: Sequence[Record], start: date | None, end: date | None) -> tuple[date, date]:
    """The scenario's time window: `start`..`end`, by default the records' first and last day
    (a window of one day is widened to a week: a window must end after it starts)."""
    days = [r.day for r in records]
    first = start or (min(days) if days else end or date.today())
    last = end or (max(days) if days else first)
    return first, last if last > first else first + timedelta(days=6)


@dataclass(frozen=True)
class Header:
    """What the file says about itself: the source, the export, the command."""

    source: str
    export: str
    command: str
    names: Mapping[str, str]  # scenario id -> display name, in the order of --actors


def events_text(events: Sequence[Imported], indent: str = "  ") -> str:
    """The events as the lines of a YAML list (each item at `indent`)."""
    lines = []
    for e in events:
        lines += [
            f"{indent}- id: {e.id}",
            f"{indent}  date: {e.day.isoformat()}",
            f'{indent}  cameo: "{e.code}"',
            f"{indent}  actor: {e.actor}",
            f"{indent}  target: {e.target}",
            f"{indent}  intensity: {e.intensity}",
            f"{indent}  cite: {_quoted(e.cite)}",
        ]
    return "\n".join(lines) + "\n" if lines else ""


def scenario_text(
    events: Sequence[Imported], window: tuple[date, date], header: Header, top: str = ""
) -> str:
    """A whole scenario file: the actors, the window in weeks, the events (`top`: comment lines
    put first, e.g. the schema modeline)."""
    start, end = window
    label = "GDELT 2.0" if header.source == "gdelt" else "ICEWS"
    ids = ", ".join(header.names)
    actors = "\n".join(f"  {a}: {{name: {_quoted(n)}}}" for a, n in header.names.items())
    body = events_text(events)
    return (
        f"{top}# Imported with: {header.command}\n"
        "# One event per actor, target, CAMEO code and week (7-day steps from time.start): its date\n"
        "# the first day of its records, its intensity min(3, log2(1 + records)) (docs/import.md).\n"
        f"title: {_quoted(f'{label} events between {ids}, {start} to {end}')}\n"
        f"description: {_quoted(f'Imported from {header.export}. Initial relations are all 0: set them.')}\n"
        f"time:\n  start: {start.isoformat()}\n  end: {end.isoformat()}\n  step: week\n"
        f"actors:\n{actors}\n" + (f"events:\n{body}" if body else "events: []\n")
    )


def add_block_text(events: Sequence[Imported], window: tuple[date, date], header: Header) -> str:
    """The events as an `add:` block to paste into a what-if."""
    start, end = window
    body = events_text(events)
    return (
        f"# Imported with: {header.command}\n"
        f"# Paste into a what-if whose parent has the actors {', '.join(header.names)} and a time\n"
        f"# window covering {start} to {end} (docs/import.md).\n"
        + (f"add:\n{body}" if body else "add: []\n")
    )


# ------------------------------------------------------------------------------------------
# the map file, checking and writing


def load_map(path: Path) -> dict[str, tuple[str, str | None]]:
    """A --map file: a YAML mapping of the export's codes or names to scenario ids, each
    ``CODE: ID`` or ``CODE: {id: ID, name: NAME}``; code -> (id, name or None). ScenarioError
    with every problem at its place."""
    doc = read_yaml(path)
    out: dict[str, tuple[str, str | None]] = {}
    problems = []
    for code, value in doc.data.items():
        entry = value if isinstance(value, dict) else {"id": value}
        where = (code,) if not isinstance(value, dict) else (code, "id")
        unknown = sorted(set(entry) - {"id", "name"})
        for key in unknown:
            problems.append(problem(doc, (code, key), f"unknown key '{key}' (id, name)", key=True))
        actor, name = entry.get("id"), entry.get("name")
        if not isinstance(actor, str) or not ACTOR_ID.fullmatch(actor):
            message = (
                f"expected an actor id (1-16 upper-case letters, digits or _), got {shown(actor)}"
            )
            problems.append(problem(doc, where, message))
        elif name is not None and not isinstance(name, str):
            problems.append(problem(doc, (code, "name"), f"expected text, got {shown(name)}"))
        elif not unknown:
            out[str(code)] = (actor, name)
    if problems:
        raise ScenarioError(problems)
    return out


def check_loads(text: str, label: str) -> None:
    """Load `text` as a scenario file (as `stances validate` would); ScenarioError, named
    `label`, if it does not (or is larger than a scenario file may be)."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        message = (
            f"the imported scenario would have {size:,} bytes; a scenario file has at most "
            f"{MAX_FILE_BYTES:,}: narrow --from/--to or --actors"
        )
        raise ScenarioError([Problem(Position(label), "", message)])
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder) / "imported.yaml"
        scratch.write_text(text, encoding="utf-8")
        load_scenario(scratch)


def write_new(text: str, target: Path) -> None:
    """Write `text` to `target` whole or not at all, never over an existing file: a scratch
    file beside it, linked to the target's name (an atomic step that fails when the name is
    taken: FileExistsError), then removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.link(scratch, target)
    finally:
        os.unlink(scratch)
