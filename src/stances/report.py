"""A report for the brief: one self-contained HTML file made from a run or comparison directory.

The file holds everything an analyst attaches to an email: the question (the scenario's title,
description and leading comment), the assumptions (parameters, initial scores and events, each
with the reason written beside it in the scenario file, and every event's CAMEO code, Goldstein
weight and citation), the figures the directory already has (embedded as base64 PNG: no
network, no external CSS or JavaScript), the largest changes or differences with the events
behind them, the observations and whether they hold, and, for ensembles, the bands and the
share of members ending above the reference. A print stylesheet makes it a PDF through the
browser (one section per page, figures the width of the page).

Nothing read is trusted: run directories are read by ``store.load_run`` (``DamagedRunError``
names the file and line), comparison directories are checked here the same way, every text is
escaped, and reasons are taken from a scenario file only when its SHA-256 is the one the
manifest recorded. The report is written atomically and never over an existing file.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import html
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from stances.catalogue import cameo_table, named_types
from stances.result import Result
from stances.scenario.models import Parameters
from stances.store import load_run
from stances.store_read import DamagedRunError, read_csv
from stances.timegrid import steps_in_words

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_FIGURE_BYTES = 32 * 2**20  # the largest figure embedded (bytes); the shipped ones are < 1 MB
MAX_SCENARIO_BYTES = 262_144  # scenario files read for their comments (document.MAX_FILE_BYTES)
ROWS = 8  # largest changes or differences shown
RUN_FIGURES = ("relations.png", "matrix.png", "stances.png")
COMPARE_FIGURES = ("comparison.png", "difference.png", "stances.png")
FINAL_COLUMNS = [
    "actor",
    "toward",
    "scenario",
    "present",
    "final",
    "difference",
    "largest_gap",
    "largest_gap_on",
    "parts_on",
    "p_above",
]
# final.csv as compare wrote it before the largest gaps and "present" (read too)
FINAL_COLUMNS_BEFORE = ["actor", "toward", "scenario", "final", "difference", "parts_on", "p_above"]
OBSERVATION_COLUMNS = [
    "observation",
    "kind",
    "holds",
    "share",
    "margin",
    "unit",
    "what",
    "cite",
    "source",
]
SECTIONS = ("question", "assumptions", "figures", "changes", "observations", "ensemble")


class ReportError(ValueError):
    """A directory the report cannot be made from (not a run or comparison directory); one
    line naming it."""


# ---------------------------------------------------------------------------------------------
# What is read


@dataclass
class Figure:
    """One figure of the directory: its file name and PNG bytes (None: not in the directory)."""

    name: str
    png: bytes | None


@dataclass
class Scenario:
    """One scenario as its run recorded it: the resolved file (plain data, untrusted), the
    files it came from, and the reasons (comments) written in them.

    reasons: (section, key) -> the end-of-line comment, e.g. ('relations', 'IND <-> PAK');
    events' comments are under ('events', ID) as 'date: fairly certain; ...'. notes: why some
    reasons could not be read (a file moved or changed since the run)."""

    label: str
    manifest: dict[str, Any]
    resolved: dict[str, Any]
    leading: str = ""
    reasons: dict[tuple[str, str], str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Source:
    """A run or comparison directory, read and checked. kind: 'run' or 'compare'."""

    directory: Path
    kind: str
    scenarios: list[Scenario]
    figures: list[Figure]
    manifest: dict[str, Any]
    result: Result | None = None
    observations: list[dict[str, str]] | None = None
    final: list[dict[str, Any]] | None = None


def read_source(directory: Path | str) -> Source:
    """The directory read and checked: ReportError if it is not a run or comparison directory,
    DamagedRunError (one line, file and line) if it is one but damaged."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ReportError(f"{directory}: not a directory (give a run or comparison directory)")
    if not (directory / "manifest.json").is_file():
        raise ReportError(
            f"{directory}: not a run or comparison directory (no manifest.json); "
            "stances run, check or compare write one"
        )
    raw = _json_object(directory / "manifest.json")
    if "labels" in raw and "runs" in raw:
        return _read_comparison(directory, raw)
    if "resolved_scenario" not in raw:
        made_by = raw.get("command") or ("sweep" if "vary" in raw else "another command")
        raise ReportError(
            f"{directory}: a directory of `stances {made_by}`; a report reads run directories "
            "(stances run, check) and comparison directories (stances compare)"
        )
    result = load_run(directory)
    scenario = _scenario(directory.name, result.manifest)
    observations = None
    if (directory / "observations.csv").is_file():
        observations = _read_observations(directory / "observations.csv")
    figures = [_figure(directory, name) for name in RUN_FIGURES]
    figures = [f for f in figures if f.png is not None or f.name != "stances.png"]
    return Source(
        directory, "run", [scenario], figures, result.manifest, result, observations=observations
    )


def _json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DamagedRunError(f"{path}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise DamagedRunError(f"{path}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise DamagedRunError(f"{path}: expected a JSON object")
    return data


def _read_comparison(directory: Path, raw: dict[str, Any]) -> Source:
    """A comparison directory: its manifest's labels and runs, final.csv and figures."""
    path = directory / "manifest.json"
    labels, runs = raw.get("labels"), raw.get("runs")
    if not (
        isinstance(labels, list) and len(labels) >= 2 and all(isinstance(x, str) for x in labels)
    ):
        raise DamagedRunError(f"{path}: 'labels' should list two or more names")
    if len(set(labels)) != len(labels):
        raise DamagedRunError(f"{path}: 'labels' names a scenario twice")
    if not (isinstance(runs, list) and len(runs) == len(labels)):
        raise DamagedRunError(f"{path}: 'runs' should hold one manifest per label")
    for n, run in enumerate(runs):
        if not (isinstance(run, dict) and isinstance(run.get("resolved_scenario"), dict)):
            raise DamagedRunError(f"{path}: 'runs[{n}]' should be a run's manifest")
        if not isinstance(run.get("title"), str):
            raise DamagedRunError(f"{path}: 'runs[{n}].title' should be text")
    scenarios = [_scenario(label, run) for label, run in zip(labels, runs, strict=True)]
    final = _read_final(directory / "final.csv", labels)
    figures = [_figure(directory, name) for name in COMPARE_FIGURES]
    figures = [f for f in figures if f.png is not None or f.name != "stances.png"]
    return Source(directory, "compare", scenarios, figures, raw, final=final)


def _read_final(path: Path, labels: list[str]) -> list[dict[str, Any]]:
    """final.csv, every value checked: one row per dyad and scenario."""
    table = read_csv(path, FINAL_COLUMNS, also=FINAL_COLUMNS_BEFORE)
    final = table.floats("final", -1.0, 1.0, empty=True)  # empty: the scenario lacks the pair
    difference = table.floats("difference", -2.0, 2.0, empty=True)
    above = table.floats("p_above", 0.0, 1.0, empty=True)
    scenario = table.codes("scenario", labels, "the manifest's labels")
    actor, toward = table.texts("actor", empty=False), table.texts("toward", empty=False)
    parts = table.texts("parts_on")
    for row, text in enumerate(parts):
        if text and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            table.fail(row, f"parts_on {text} is not a date (YYYY-MM-DD)")
    return [
        {
            "actor": actor.iloc[r],
            "toward": toward.iloc[r],
            "scenario": int(scenario[r]),
            "final": float(final[r]),
            "difference": float(difference[r]),
            "parts_on": parts.iloc[r],
            "p_above": float(above[r]),
        }
        for r in range(len(table))
        if np.isfinite(final[r])
    ]


def _read_observations(path: Path) -> list[dict[str, str]]:
    """observations.csv (written by `stances check`), checked: holds is True or False, share
    in [0, 1], margin a number."""
    table = read_csv(path, OBSERVATION_COLUMNS)
    table.codes("holds", ["False", "True"], "True, False")
    table.floats("share", 0.0, 1.0)
    table.floats("margin")
    table.texts("observation", empty=False)
    return [{str(k): str(v) for k, v in row.items()} for row in table.frame.to_dict("records")]


def _figure(directory: Path, name: str) -> Figure:
    """A figure's bytes, checked to be a PNG of at most MAX_FIGURE_BYTES (None if missing)."""
    path = directory / name
    if not path.is_file():
        return Figure(name, None)
    size = path.stat().st_size
    if size > MAX_FIGURE_BYTES:
        raise DamagedRunError(f"{path}: {size:,} bytes, more than a figure takes")
    data = path.read_bytes()
    if not data.startswith(PNG_SIGNATURE):
        raise DamagedRunError(f"{path}: not a PNG image")
    return Figure(name, data)


# ---------------------------------------------------------------------------------------------
# The scenario files' comments: the reasons written beside the values


def _scenario(label: str, manifest: dict[str, Any]) -> Scenario:
    """A run's scenario: the resolved file and, where its files are at hand unchanged, the
    leading comment of the file run and the reasons beside its values (parents first)."""
    resolved = manifest.get("resolved_scenario")
    scenario = Scenario(label, manifest, resolved if isinstance(resolved, dict) else {})
    files = manifest.get("files")
    files = [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []
    for n, entry in enumerate(reversed(files)):
        text = _unchanged(entry, scenario.notes)
        if text is None:
            continue
        try:
            reasons, leading = comments_of(text)
        except Exception:  # a file that reads as a scenario but not here: no reasons
            scenario.notes.append(f"{entry.get('path')}: its comments could not be read")
            continue
        scenario.reasons.update(reasons)
        if n == len(files) - 1:
            scenario.leading = leading
    return scenario


def _unchanged(entry: dict[str, Any], notes: list[str]) -> str | None:
    """The text of a scenario file the manifest names, if it is at hand with the SHA-256 the
    run recorded; else None, with a note saying why."""
    path, digest = entry.get("path"), entry.get("sha256")
    if not (isinstance(path, str) and isinstance(digest, str)):
        return None
    file = Path(path)
    try:
        if not file.is_file() or file.suffix not in (".yaml", ".yml"):
            notes.append(f"{path} is not at hand: the reasons written in it are left out")
            return None
        if file.stat().st_size > MAX_SCENARIO_BYTES:
            return None
        data = file.read_bytes()
    except OSError:
        notes.append(f"{path} cannot be read: the reasons written in it are left out")
        return None
    if hashlib.sha256(data).hexdigest() != digest:
        notes.append(f"{path} has changed since the run: the reasons written in it are left out")
        return None
    return data.decode("utf-8", errors="replace")


def comments_of(text: str) -> tuple[dict[tuple[str, str], str], str]:
    """The reasons written in a scenario file, and its leading comment.

    reasons: (section, key) -> the comment at the end of the key's line, for the entries of
    relations, baseline and parameters (and `set:` keys such as parameters.kappa_actor), and
    ('events', ID) -> 'field: comment; ...' for each event (in events, add and replace).
    The leading comment: the comment lines before the first key, without editor directives
    (yaml-language-server).
    """
    from stances.scenario.document import yaml_reader

    data = yaml_reader().load(text)
    reasons: dict[tuple[str, str], str] = {}
    if not hasattr(data, "ca"):
        return reasons, ""
    for section in ("relations", "baseline", "parameters"):
        for key, comment in _line_comments(data.get(section)).items():
            reasons[(section, key)] = comment
    for key, comment in _line_comments(data.get("set")).items():
        section, _, rest = key.partition(".")
        reasons[(section, rest)] = comment
    for section in ("events", "add", "replace"):
        for event in data.get(section) or []:
            if hasattr(event, "ca") and isinstance(event.get("id"), str):
                said = [f"{k}: {c}" for k, c in _line_comments(event).items()]
                if said:
                    reasons[("events", event["id"])] = "; ".join(said)
    return reasons, _leading_comment(data)


def _line_comments(node: Any) -> dict[str, str]:
    """key -> the comment at the end of its line, for a mapping read by ruamel."""
    out: dict[str, str] = {}
    items = getattr(getattr(node, "ca", None), "items", {})
    for key, tokens in items.items():
        token = tokens[2] if len(tokens) > 2 else None
        value = getattr(token, "value", "")
        if isinstance(value, str) and value.startswith("#"):
            out[str(key)] = value.splitlines()[0].lstrip("#").strip()
    return out


def _leading_comment(data: Any) -> str:
    tokens = data.ca.comment[1] if data.ca.comment and len(data.ca.comment) > 1 else None
    lines = [t.value.strip().lstrip("#").strip() for t in tokens or []]
    return " ".join(line for line in lines if line and not line.startswith("yaml-language-server"))


# ---------------------------------------------------------------------------------------------
# HTML pieces (every text escaped)


class Markup(str):
    """HTML made here from escaped pieces: put in a table as it is (every other cell is
    escaped)."""


def esc(value: Any) -> str:
    """Text as HTML, every character that could start markup escaped (Markup as it is)."""
    return value if isinstance(value, Markup) else html.escape(str(value), quote=True)


def _text(value: Any) -> str:
    """A cell read from a table as text: '' for a missing one (None, NaN)."""
    return (
        "" if value is None or (isinstance(value, float) and not np.isfinite(value)) else str(value)
    )


def event_name(ident: Any, label: Any = "") -> Markup:
    """An event as a reader knows it: its label, with its id after it in a smaller span
    ("Paktika airstrike (paktika-strike)"); the id alone when it has no label."""
    ident, label = _text(ident), _text(label).strip()
    if not label or label == ident:
        return Markup(esc(ident))
    return Markup(f'{esc(label)} <span class="id">({esc(ident)})</span>')


def _table(header: list[str], rows: Iterable[list[Any]], *, numbers: Iterable[int] = ()) -> str:
    """A table: header cells and rows of cells, all escaped; columns in `numbers` aligned right."""
    right = set(numbers)

    def cell(tag: str, n: int, value: Any) -> str:
        kind = ' class="num"' if n in right else ""
        return f"<{tag}{kind}>{esc(value)}</{tag}>"

    head = "".join(cell("th", n, h) for n, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(cell("td", n, v) for n, v in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(ident: str, title: str, body: str) -> str:
    return f'<section id="{ident}"><h2>{esc(title)}</h2>\n{body}\n</section>'


def _p(text: str) -> str:
    return f"<p>{esc(text)}</p>"


def _written(value: Any) -> str:
    """A value as the file wrote it: numbers plainly, a distribution as {normal: [0.1, 0.2]}."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_written(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_written(v) for v in value) + "]"
    return "null" if value is None else str(value)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _signed(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:+.2f}"


STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
  color: #1d1d1f; max-width: 1100px; margin: 2em auto; padding: 0 1.5em; background: #fff; }
header { border-bottom: 3px solid #2b5b84; margin-bottom: 1.5em; }
h1 { font-size: 1.7em; margin: 0 0 .3em; } h2 { color: #2b5b84; margin-top: 1.8em;
  border-bottom: 1px solid #ccd; padding-bottom: .2em; } h3 { margin-bottom: .3em; }
.meta { color: #555; font-size: .9em; } .question { font-size: 1.08em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0 1.2em; font-size: .9em; }
th, td { text-align: left; vertical-align: top; padding: .3em .5em; border-bottom: 1px solid #dde; }
th { background: #eef2f7; } td.num, th.num { text-align: right; white-space: nowrap;
  font-variant-numeric: tabular-nums; }
.events td:nth-child(4) { white-space: nowrap; }
.events td.num { white-space: normal; } /* an uncertain intensity is written out */
.events td:nth-child(1) { min-width: 6.5em; } .events td:nth-child(8) { min-width: 16em; }
@media (max-width: 62em), print { /* a narrow window or a page: let every column wrap */
  .events td:nth-child(8) { min-width: 0; } .events td:nth-child(4) { white-space: normal; }
  td .id { white-space: normal; overflow-wrap: anywhere; } th, td { padding: .25em .3em; }
}
figure { margin: 1em 0 2em; } figure img { max-width: 100%; height: auto; border: 1px solid #dde; }
figcaption { color: #555; font-size: .9em; } .holds { color: #1a7f37; font-weight: 600; }
.fails { color: #b3261e; font-weight: 600; } .note { color: #8a5300; }
.id { color: #555; font-size: .85em; white-space: nowrap; }
@media print {
  * { background: none !important; box-shadow: none !important; }
  body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; color: #000; }
  section { break-before: page; page-break-before: always; }
  figure, tr { break-inside: avoid; page-break-inside: avoid; }
  figure img { max-width: 100%; max-height: 24cm; border: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


# ---------------------------------------------------------------------------------------------
# The report


def report_html(directory: Path | str) -> str:
    """The report of a run or comparison directory as one self-contained HTML document."""
    source = read_source(directory)
    first = source.scenarios[0]
    title = (
        first.resolved.get("title") or first.manifest.get("title")
        if source.kind == "run"
        else "Comparison: " + ", ".join(str(s.manifest.get("title")) for s in source.scenarios)
    )
    parts = [
        _question(source),
        _assumptions(source),
        _figures(source),
        _changes(source) if source.kind == "run" else _differences(source),
        _observations(source),
        _ensemble(source),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{esc(title)}</h1>{_meta(source)}</header>\n"
        + "\n".join(parts)
        + "\n</body>\n</html>\n"
    )


def _meta(source: Source) -> str:
    m = source.manifest
    if source.kind == "compare":
        made = f"Comparison directory {source.directory}, written {m.get('created', '?')}"
        return f'<p class="meta">{esc(made)}; reference: {esc(source.scenarios[0].label)}.</p>'
    members = int(m.get("members", 1))
    who = (
        f"{members} members, root seed {m.get('seed')}" if members > 1 else f"seed {m.get('seed')}"
    )
    versions = ", ".join(f"{k} {v}" for k, v in _mapping(m.get("versions")).items())
    text = (
        f"Run directory {source.directory}: {m.get('scenario')}, {m.get('start')} to "
        f"{m.get('end')} in {steps_in_words(int(m.get('steps') or 0), m.get('step'))}, {who}; written "
        f"{m.get('created', '?')} ({versions})."
    )
    return f'<p class="meta">{esc(text)}</p>'


def _question(source: Source) -> str:
    body = []
    for s in source.scenarios:
        heading = f"<h3>{esc(s.label)}: {esc(s.resolved.get('title', ''))}</h3>"
        said = [str(s.resolved.get("description") or "").strip(), s.leading]
        text = "".join(f'<p class="question">{esc(t)}</p>' for t in said if t)
        body.append(
            (heading if source.kind == "compare" else "") + (text or _p("(no description)"))
        )
    if source.kind == "compare":
        body.append(
            _p(
                f"Compared: {', '.join(s.label for s in source.scenarios)}; the first is the "
                f"reference. Inputs: {', '.join(map(str, source.manifest.get('inputs') or []))}."
            )
        )
    return _section("question", "The question", "\n".join(body))


def _assumptions(source: Source) -> str:
    ref = source.scenarios[0]
    body = [_scenario_assumptions(ref, source.result)]
    for s in source.scenarios[1:]:
        body.append(f"<h3>{esc(s.label)}: what differs from {esc(ref.label)}</h3>")
        body.append(_what_differs(ref, s))
    return _section("assumptions", "Assumptions", "\n".join(body))


def _scenario_assumptions(s: Scenario, result: Result | None) -> str:
    notes = "".join(f'<p class="note">{esc(n)}.</p>' for n in dict.fromkeys(s.notes))
    return "\n".join(
        [
            notes,
            "<h3>Parameters</h3>",
            _parameters_table(s),
            "<h3>Initial scores</h3>",
            _p(
                'From -1 (hostile) to +1 (friendly); "A -> B" is how A regards B; unlisted pairs start at 0.'
            ),
            _scores_table(s, "relations"),
            *(
                ["<h3>Baseline (where memory decays to)</h3>", _scores_table(s, "baseline")]
                if _mapping(s.resolved.get("baseline"))
                else []
            ),
            "<h3>Events</h3>",
            _events_table(s, _events_of(s), result),
        ]
    )


def _parameters_table(s: Scenario) -> str:
    """Every parameter: its value (the file's or the default), what it means and the file's
    reason."""
    written = _mapping(s.resolved.get("parameters"))
    defaults = Parameters().model_dump()
    rows = []
    for name, info in Parameters.model_fields.items():
        value = (
            _written(written[name]) if name in written else f"{_written(defaults[name])} (default)"
        )
        reason = s.reasons.get(("parameters", name), "")
        rows.append([name, value, info.description or "", reason])
    return _table(["parameter", "value", "what it does", "reason given in the file"], rows)


def _scores_table(s: Scenario, section: str) -> str:
    rows = [
        [key, _written(value), s.reasons.get((section, key), "")]
        for key, value in _mapping(s.resolved.get(section)).items()
    ]
    return _table(["who -> whom", "score", "reason given in the file"], rows, numbers=[1])


def _events_of(s: Scenario) -> list[dict[str, Any]]:
    events = s.resolved.get("events")
    return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []


def _events_table(s: Scenario, events: list[dict[str, Any]], result: Result | None) -> str:
    """Each event: date, id, type, who, CAMEO code, Goldstein weight, intensity, citation and
    the file's notes; with a run, the events reactive actors chose as well."""
    rows = [_event_row(s, e) for e in events]
    if result is not None:
        chosen = result.events[result.events["origin"] == "reactive"]
        for r in chosen.drop_duplicates(["step", "event"]).to_dict("records"):
            rows.append(
                [
                    f"{r['date']:%Y-%m-%d}",
                    event_name(r["event"], r.get("label")),
                    str(r["type"]).replace("_", " "),
                    r["who"],
                    r["cameo"],
                    f"{r['goldstein']:+.1f}",
                    f"{r['intensity']:g}",
                    "chosen by the actor (reactive policy)",
                    "",
                ]
            )
    if not rows:
        return _p("No events.")
    header = [
        "date",
        "event",
        "type",
        "who",
        "CAMEO",
        "Goldstein",
        "intensity",
        "citation",
        "notes",
    ]
    return _table(header, rows, numbers=[4, 5, 6]).replace("<table>", '<table class="events">', 1)


def _event_row(s: Scenario, e: dict[str, Any]) -> list[str]:
    """One event of a scenario file as a row of the events table (the event: its label and
    id, event_name)."""
    cameo, goldstein = _cameo_of(s, e)
    date_ = _written(e.get("date"))
    if e.get("until") is not None:
        date_ += f" until {_written(e['until'])}"
    elif e.get("for") is not None:
        date_ += f" for {_written(e['for'])}"
    who = str(e.get("actor", ""))
    if e.get("target") is not None:
        who += f" -> {e['target']}"
    if isinstance(e.get("parties"), list):
        who += " with " + ", ".join(map(str, e["parties"]))
    notes = [str(e["note"])] if e.get("note") else []
    if ("events", str(e.get("id"))) in s.reasons:
        notes.append(s.reasons[("events", str(e.get("id")))])
    return [
        date_,
        event_name(e.get("id", ""), e.get("label")),
        str(e.get("type") or (f"cameo {e['cameo']}" if e.get("cameo") else "")).replace("_", " "),
        who,
        cameo,
        goldstein,
        _written(e.get("intensity", 1.0)),
        str(e.get("cite") or "(no citation)"),
        "; ".join(notes),
    ]


def _cameo_of(s: Scenario, e: dict[str, Any]) -> tuple[str, str]:
    """An event's CAMEO code and Goldstein weight (-10..10): its own code, its scenario's
    type or a named type, weights from the CAMEO table unless the type gives its own."""
    own = _mapping(_mapping(s.resolved.get("event_types")).get(str(e.get("type"))))
    code = e.get("cameo") or own.get("cameo")
    named = named_types().get(str(e.get("type")))
    if code is None and named is not None:
        code = named.cameo
    weight = own.get("goldstein")
    if weight is None and code is not None and str(code) in cameo_table():
        weight = cameo_table()[str(code)].goldstein
    shown = f"{float(weight):+.1f}" if isinstance(weight, int | float) else "?"
    return (str(code) if code is not None else "?"), shown


def _what_differs(ref: Scenario, s: Scenario) -> str:
    """A variant's parameters, scores and events that differ from the reference's."""
    parts = []
    for section in ("parameters", "relations", "baseline", "time", "seed", "actors", "issues"):
        a, b = ref.resolved.get(section), s.resolved.get(section)
        if a == b:
            continue
        if isinstance(a, dict | None) and isinstance(b, dict | None):
            a, b = _mapping(a), _mapping(b)
            rows = [
                [
                    f"{section}: {k}",
                    _written(a.get(k, "-")),
                    _written(b.get(k, "-")),
                    s.reasons.get((section, k), ""),
                ]
                for k in dict.fromkeys([*a, *b])
                if a.get(k) != b.get(k)
            ]
        else:
            rows = [[section, _written(a), _written(b), ""]]
        parts.append(_table(["value", ref.label, s.label, "reason given in the file"], rows))
    removed, added, changed = event_differences(ref, s)
    if removed:
        parts.append("<h4>Events removed</h4>" + _events_table(ref, removed, None))
    if added:
        parts.append("<h4>Events added</h4>" + _events_table(s, added, None))
    if changed:
        parts.append(
            f"<h4>Events changed (as in {esc(s.label)})</h4>" + _events_table(s, changed, None)
        )
    return "\n".join(parts) or _p("The same assumptions.")


def event_differences(
    ref: Scenario, s: Scenario
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The reference's events the variant lacks, the variant's the reference lacks, and the
    variant's events whose id the reference has but written otherwise (matched by id)."""
    a = {str(e.get("id")): e for e in _events_of(ref)}
    b = {str(e.get("id")): e for e in _events_of(s)}
    removed = [e for k, e in a.items() if k not in b]
    added = [e for k, e in b.items() if k not in a]
    changed = [e for k, e in b.items() if k in a and a[k] != e]
    return removed, added, changed


def _figures(source: Source) -> str:
    captions = {
        "relations.png": "Relations over time: each panel one dyad, events marked below.",
        "matrix.png": "Scores at the start and the end of the window.",
        "stances.png": "Positions on the issues over time.",
        "comparison.png": "The scenarios side by side (median; bands: 50 % and 90 % of members).",
        "difference.png": "Each variant minus the reference, and where they part.",
    }
    body = []
    for f in source.figures:
        if f.png is None:
            body.append(
                f'<p class="note">{esc(f.name)} is not in the directory (written with --no-plots?).</p>'
            )
            continue
        data = base64.b64encode(f.png).decode("ascii")
        body.append(
            f'<figure><img alt="{esc(f.name)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{esc(f.name)}: {esc(captions.get(f.name, ''))}</figcaption></figure>"
        )
    return _section("figures", "Figures", "\n".join(body))


def _changes(source: Source) -> str:
    """A run's largest changes, first date to last (median), with the events that moved each
    most at the time; for an ensemble, the final 5-95 % band too."""
    result = source.result
    assert result is not None
    ensemble = result.members > 1
    rows = []
    for row in result.changes().head(ROWS).to_dict("records"):
        a, b = str(row["actor"]), str(row["toward"])
        cells = [
            f"{a} -> {b}",
            _signed(row["initial"]),
            _signed(row["final"]),
            _signed(row["change"]),
        ]
        if ensemble:
            q = result.band(a, b)[:, -1]
            cells.append(f"{q[0]:+.2f} .. {q[4]:+.2f}")
        cells.append(_drivers(result, a, b))
        rows.append(cells)
    header = ["who -> whom", "start", "end", "change"] + (["end, 5-95 %"] if ensemble else [])
    d0, d1 = result.dates[0], result.dates[-1]
    intro = _p(
        f"The scores that moved most from {d0:%d %b %Y} to {d1:%d %b %Y}"
        + (" (median over members)" if ensemble else "")
        + ", and the events that moved each most at the time (their immediate effect, averaged "
        "over members), with their citations."
    )
    table = _table([*header, "events behind it"], rows, numbers=range(1, len(header)))
    return _section("changes", "Largest changes", intro + table)


def _drivers(result: Result, actor: str, toward: str) -> Markup:
    """The events that moved actor -> toward most (each by its label and id, with its date,
    change and citation), as HTML."""
    ev = result.events
    said = []
    for event, change in result.drivers(actor, toward, n=3):
        first = ev[ev["event"] == event].iloc[0]
        cite = _text(first["cite"]).strip()
        name, when = event_name(event, first.get("label")), f"{first['date']:%d %b %Y}"
        said.append(
            f"{name} ({esc(when)}, {change:+.2f})" + (f": &quot;{esc(cite)}&quot;" if cite else "")
        )
    return Markup("; ".join(said) or "none (observer effects and memory only)")


def _differences(source: Source) -> str:
    """A comparison's largest final differences from the reference, when they part, and the
    events that differ involving either actor."""
    assert source.final is not None
    ref = source.scenarios[0]
    reference = {(r["actor"], r["toward"]): r["final"] for r in source.final if r["scenario"] == 0}
    ensemble = any(int(s.manifest.get("members", 1)) > 1 for s in source.scenarios)
    variants = [r for r in source.final if r["scenario"] != 0]
    variants.sort(key=lambda r: -abs(r["difference"]))
    rows = []
    for r in variants[:ROWS]:
        s = source.scenarios[r["scenario"]]
        cells = [
            f"{r['actor']} -> {r['toward']}",
            s.label,
            _signed(reference.get((r["actor"], r["toward"]), np.nan)),
            _signed(r["final"]),
            _signed(r["difference"]),
            r["parts_on"] or "-",
        ]
        if ensemble:
            cells.append("n/a" if not np.isfinite(r["p_above"]) else f"{r['p_above']:.0%}")
        cells.append(_events_involving(ref, s, {r["actor"], r["toward"]}))
        rows.append(cells)
    header = ["who -> whom", "scenario", ref.label, "scenario's", "difference", "parts on"]
    header += ["p(above)"] if ensemble else []
    threshold = source.manifest.get("threshold", "?")
    intro = _p(
        f"Final scores (median) that differ most from the reference ({ref.label}); 'parts on': "
        f"the first date they are more than {threshold} apart"
        + (
            "; p(above): the share of the scenario's members ending above the reference"
            if ensemble
            else ""
        )
        + "; and the events that differ between the two files and involve either actor."
    )
    table = _table([*header, "events behind it"], rows, numbers=range(2, len(header)))
    return _section("changes", "Largest differences", intro + table)


def _events_involving(ref: Scenario, s: Scenario, actors: set[str]) -> Markup:
    """The events that differ between the two scenarios and involve one of the actors (each
    by its label and id, with its date and citation), as HTML."""
    removed, added, changed = event_differences(ref, s)
    said = []
    for what, events in (("removed", removed), ("added", added), ("changed", changed)):
        for e in events:
            involved = {str(e.get("actor")), str(e.get("target"))}
            involved |= set(map(str, e.get("parties") or []))
            if involved & actors:
                cite = str(e.get("cite") or "").strip()
                said.append(
                    f"{what} {event_name(e.get('id'), e.get('label'))} "
                    f"({esc(_written(e.get('date')))})"
                    + (f": &quot;{esc(cite)}&quot;" if cite else "")
                )
    return Markup("; ".join(said) or "none directly (parameters, or effects through third parties)")


def _observations(source: Source) -> str:
    if source.observations is None:
        return _section(
            "observations",
            "Observations",
            _p("Not checked: this directory was not made by `stances check`."),
        )
    ensemble = source.result is not None and source.result.members > 1
    rows = []
    for o in source.observations:
        unit = " days" if o["unit"] == "days" else ""
        cells = [
            "holds" if o["holds"] == "True" else "FAILS",
            o["observation"],
            o["what"],
            f"{float(o['margin']):+.2f}{unit}",
        ]
        if ensemble:
            cells.append(f"{float(o['share']):.0%}")
        rows.append([*cells, o["cite"]])
    held = sum(o["holds"] == "True" for o in source.observations)
    header = ["verdict", "observation", "what was observed", "margin"]
    header += ["members where it holds"] if ensemble else []
    table = _table([*header, "citation"], rows, numbers=range(3, len(header)))
    table = table.replace("<td>holds</td>", '<td class="holds">holds</td>').replace(
        "<td>FAILS</td>", '<td class="fails">FAILS</td>'
    )
    intro = _p(
        f"{held} of {len(source.observations)} observations hold (margin: how far the median "
        "clears the observation, in score units or days; negative: missed)."
    )
    return _section("observations", "Observations", intro + table)


def _ensemble(source: Source) -> str:
    members = [int(s.manifest.get("members", 1)) for s in source.scenarios]
    if max(members) <= 1:
        return _section(
            "ensemble",
            "Ensemble",
            _p("A single run: no bands (run with --runs K for an ensemble)."),
        )
    body = [
        _p(
            f"{', '.join(f'{s.label}: {k} members' for s, k in zip(source.scenarios, members, strict=True))}. "
            "Each member draws its own uncertain values (and noise); the figures' bands hold 50 % "
            "and 90 % of the members, the tables give medians."
        )
    ]
    if (
        source.result is not None
        and source.result.draws is not None
        and not source.result.draws.empty
    ):
        body.append("<h3>Uncertain values drawn</h3>" + _draws_table(source.result))
    if source.final is not None:
        rows = [
            [
                f"{r['actor']} -> {r['toward']}",
                source.scenarios[r["scenario"]].label,
                _signed(r["final"]),
                "n/a" if not np.isfinite(r["p_above"]) else f"{r['p_above']:.0%}",
            ]
            for r in source.final
            if r["scenario"] != 0
        ]
        body.append(
            "<h3>Share of members ending above the reference</h3>"
            + _table(
                ["who -> whom", "scenario", "final (median)", "p(above)"], rows, numbers=[2, 3]
            )
        )
    return _section("ensemble", "Ensemble", "\n".join(body))


def _draws_table(result: Result) -> str:
    """Each drawn value: its 5 %, median and 95 % over members (as numbers, in its unit)."""
    rows = []
    assert result.draws is not None
    for label, group in result.draws.groupby("value_of", sort=False):
        q = np.percentile(group["value"].to_numpy(dtype=float), [5, 50, 95])
        unit = str(group["unit"].iloc[0])
        shown = [_as_unit(x, unit) for x in q]
        rows.append([label, *shown, unit])
    return _table(["value", "5 %", "median", "95 %", "unit"], rows, numbers=[1, 2, 3])


def _as_unit(x: float, unit: str) -> str:
    if unit == "day number":
        return date.fromordinal(round(x)).isoformat()
    return f"{x:.3g}"


# ---------------------------------------------------------------------------------------------
# Writing the file


def default_output(directory: Path, parent: Path = Path("results")) -> Path:
    """Where a report goes by default: results/NAME-report.html in the current folder, NAME
    the directory's name (never inside the directory: an earlier run is left as it was);
    ``write_report`` numbers it NAME-report-NNN.html."""
    return parent / f"{directory.resolve().name}-report.html"


def write_report(text: str, out: Path, *, numbered: bool = False) -> Path:
    """Write the report at `out`, atomically and never over an existing file, and return the
    path written. numbered: `out` is a pattern NAME.html, written as NAME-NNN.html with the
    next free NNN. FileExistsError if `out` exists (not numbered); OSError (with the file's
    name) if it cannot be written; on any error nothing is left behind."""
    parent = out.parent
    for folder in (parent, *parent.parents):  # a file where a folder should be: not "exists"
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(out))
    parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(scratch, 0o644)  # mkstemp makes it private; a report is read by others
        if not numbered:
            _link(Path(scratch), out)
            return out
        return _link_next(Path(scratch), out)
    finally:
        Path(scratch).unlink(missing_ok=True)


def _link_next(scratch: Path, pattern: Path) -> Path:
    stem, suffix = pattern.stem, pattern.suffix
    taken = [
        int(m.group(1))
        for p in pattern.parent.iterdir()
        if (m := re.fullmatch(re.escape(stem) + r"-(\d{3,})" + re.escape(suffix), p.name))
    ]
    number = max(taken, default=0) + 1
    for _ in range(1000):
        target = pattern.with_name(f"{stem}-{number:03d}{suffix}")
        try:
            _link(scratch, target)
        except FileExistsError:
            number += 1
            continue
        return target
    raise FileExistsError(f"{pattern.parent}: no free {stem}-NNN{suffix}")


def _link(scratch: Path, target: Path) -> None:
    """Give the finished scratch file the name `target`, which must not exist (a hard link is
    made atomically or not at all; where links are refused, the name is claimed first)."""
    try:
        os.link(scratch, target)
        return
    except FileExistsError:
        raise FileExistsError(f"{target} already exists; nothing is overwritten") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
    try:
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        raise FileExistsError(f"{target} already exists; nothing is overwritten") from None
    os.replace(scratch, target)
