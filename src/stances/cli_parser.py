"""The command line's options: one subcommand each for run, check, calibrate, explain, sensitivity,
discover, compare, sweep, new, schema, validate, events and import, each with an example and a
pointer to the tutorial in its --help.

This module imports nothing heavy: parsing the command line must stay quick (``stances
validate`` is run dozens of times while a what-if is written).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

from stances import __version__

TUTORIAL = "docs/tutorial.md"  # in the project's folder: a first what-if in five minutes
MEMBER_LIMIT = "2**63 - 1"  # engine.ensemble.MAX_MEMBER, written out for the help texts

EXAMPLES = {
    "check": "stances check scenarios/history-2021-2024.yaml",
    "calibrate": "stances calibrate benchmarks/article-calibrate.yaml --runs 20000 --as distribution",
    "sensitivity": "stances sensitivity benchmarks/article-uncertain.yaml --method sobol --runs 1024 --outcome 'AFG->PAK'",
    "discover": "stances discover benchmarks/article-uncertain.yaml --where 'AFG->PAK<-0.5' --runs 1000",
    "explain": "stances explain scenarios/article.yaml --dyads 'AFG<->PAK'",
    "run": "stances run scenarios/article.yaml --runs 200 --workers 2",
    "compare": "stances compare scenarios/article.yaml scenarios/no-mediation.yaml --dyads 'PAK<->AFG'",
    "sweep": "stances sweep scenarios/article.yaml --vary parameters.kappa_target=0.3,0.5,0.7 --runs 100",
    "report": "stances report results/article-001 --out article.html",
    "new": "stances new scenarios/late-strike --from scenarios/article.yaml",
    "schema": "stances schema --out stances.schema.json",
    "validate": "stances validate scenarios/late-strike.yaml   (or a folder: stances validate scenarios)",
    "events": "stances events | grep -i strike",
    "import": "stances import gdelt events.tsv --actors IND,CHN,PAK,AFG --out imported.yaml",
    "app": "stances app scenarios/article.yaml --port 8765   (then open http://127.0.0.1:8765)",
}


def _iso_date(text: str) -> date:
    """A date written YYYY-MM-DD (argparse reports anything else as an invalid value)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _epilog(command: str) -> str:
    return f"example:\n  {EXAMPLES[command]}\n\nA first what-if in five minutes: {TUTORIAL}"


def _subparser(sub: argparse._SubParsersAction, name: str, help: str) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=help,
        description=help[0].upper() + help[1:] + ".",
        epilog=_epilog(name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_ensemble_options(parser: argparse.ArgumentParser, runs: int = 1) -> None:
    parser.add_argument(
        "--runs",
        type=int,
        default=runs,
        metavar="K",
        help=f"ensemble members (default {runs}, at most {MEMBER_LIMIT}); each draws its own "
        "uncertain values",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="W",
        help="processes to spread members over (default 1); more than the cores this process "
        "may use are capped at that number, with a note, unless --workers-exact",
    )
    parser.add_argument(
        "--workers-exact",
        action="store_true",
        help="start --workers processes even when there are fewer cores",
    )
    parser.add_argument(
        "--batch", type=int, help="members per batch (default: about 4 batches per worker)"
    )
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="send batches to this Dask scheduler (needs the dask extra)",
    )


def _add_set(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument(
        "--set", dest="sets", action="append", default=[], metavar="KEY=VALUE", help=help
    )


def _add_design(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--design",
        type=Path,
        metavar="FILE.csv",
        help="chosen values, one member per line: a header of dotted keys as for --set "
        "(e.g. parameters.kappa_observer,events.ID.date; half-lives in weeks), then one "
        "line of values per member; instead of --runs",
    )


def build_parser(
    functions: Mapping[str, Callable[[argparse.Namespace], int]],
) -> argparse.ArgumentParser:
    """The parser of every command; each subcommand sets `command`, and `func`, the function
    of `functions` that carries it out (``set_defaults``)."""
    parser = argparse.ArgumentParser(
        prog="stances",
        description="Replay and vary scenarios of how states regard each other. "
        "With no arguments: run scenarios/article.yaml.",
        epilog=f"`stances COMMAND --help` shows a command's options and an example; "
        f"a first what-if in five minutes: {TUTORIAL}",
    )
    parser.add_argument("--version", action="version", version=f"stances {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = _subparser(sub, "run", "run a scenario file and write a new run directory")
    run.add_argument("file", type=Path, help="scenario file (YAML)")
    run.add_argument(
        "--out",
        type=Path,
        help="run directory to create (must not exist); default results/NAME-NNN",
    )
    run.add_argument("--seed", type=int, help="seed of the run, 0 or more (default: the file's)")
    _add_set(
        run,
        "override a value, e.g. --set parameters.memory_half_life='52 weeks' (repeatable)",
    )
    _add_design(run)
    run.add_argument("--no-plots", action="store_true", help="write tables and manifest only")
    run.add_argument(
        "--dyads",
        help="pairs relations.png draws, e.g. 'AFG<->PAK' (one pair: a figure for a slide); "
        "default: those that moved most",
    )
    _add_ensemble_options(run)
    run.add_argument(
        "--keep-members",
        action="store_true",
        help="also write every member's scores (members.parquet with pyarrow, else relations.csv)",
    )
    run.add_argument(
        "--member",
        type=int,
        metavar="M",
        help=f"run member M (0 .. {MEMBER_LIMIT}) alone: member M of an ensemble with the "
        "same seed",
    )

    check = _subparser(
        sub, "check", "run a scenario and check it against its observations (observations.csv)"
    )
    check.add_argument("file", type=Path, help="scenario file with observations:")
    check.add_argument("--out", type=Path, help="run directory to create; default results/NAME-NNN")
    check.add_argument("--seed", type=int, help="seed of the run, 0 or more (default: the file's)")
    _add_set(check, "override a value, e.g. --set parameters.entrenchment=true (repeatable)")
    check.add_argument("--no-plots", action="store_true", help="write tables and manifest only")
    _add_ensemble_options(check)

    calibrate = _subparser(
        sub,
        "calibrate",
        "weigh an ensemble by the file's observations: the posterior of each uncertain value "
        "and a calibrated scenario file (calibrated.yaml)",
    )
    calibrate.add_argument(
        "file", type=Path, help="scenario file with uncertain values (the priors) and observations:"
    )
    calibrate.add_argument(
        "--out", type=Path, help="directory to create; default results/NAME-calibration-NNN"
    )
    calibrate.add_argument(
        "--seed", type=int, help="root seed of the ensemble, 0 or more (default: the file's)"
    )
    calibrate.add_argument(
        "--tolerance",
        type=float,
        default=0.05,
        metavar="T",
        help="how far (in score units) an observation may be missed: a member's weight is the "
        "product of Phi(margin / T) over the observations (default 0.05)",
    )
    calibrate.add_argument(
        "--tolerance-days",
        type=float,
        metavar="D",
        help="the same for the date of an extreme, in days (default: one step)",
    )
    calibrate.add_argument(
        "--as",
        dest="form",
        choices=("median", "distribution"),
        default="median",
        help="calibrated.yaml sets each value to its posterior median (default), or to a "
        "distribution fitted to its posterior (normal: mean and sd; a date: uniform over 5-95 %%)",
    )
    _add_set(
        calibrate,
        "override a value, e.g. a prior: --set parameters.kappa_target='{uniform: [0.2, 0.8]}' "
        "(repeatable; calibrated.yaml carries it)",
    )
    calibrate.add_argument("--no-plots", action="store_true", help="write tables and manifest only")
    _add_ensemble_options(calibrate, runs=2000)

    explain = _subparser(
        sub,
        "explain",
        "which events made each score: every event's contribution (Shapley values over the "
        "events, and leave-one-out) at the end and at the score's largest departure (explain.csv)",
    )
    explain.add_argument("file", type=Path, help="scenario file")
    explain.add_argument(
        "--dyads",
        help="scores to explain, e.g. 'AFG->PAK,IND<->AFG'; default: the four that the events "
        "move furthest",
    )
    explain.add_argument(
        "--at",
        type=_iso_date,
        metavar="DATE",
        help="explain the scores on this date (YYYY-MM-DD) instead of at the end of the window",
    )
    explain.add_argument(
        "--orders",
        type=int,
        metavar="P",
        help="estimate from P random orders of the events (with standard errors) instead of "
        "all 2**n coalitions; the default is exact up to 13 events, sampled beyond",
    )
    explain.add_argument(
        "--member",
        type=int,
        default=0,
        metavar="M",
        help="the ensemble member whose draws every coalition copies (default 0; matters only "
        "when the file has uncertain values or noise)",
    )
    explain.add_argument(
        "--top", type=int, default=5, metavar="N", help="contributors printed per score (default 5)"
    )
    explain.add_argument(
        "--out", type=Path, help="directory to create; default results/NAME-explain-NNN"
    )
    explain.add_argument("--seed", type=int, help="root seed, 0 or more (default: the file's)")
    _add_set(explain, "override a value (repeatable), e.g. --set parameters.kappa_actor=0.1")
    explain.add_argument("--no-plots", action="store_true", help="write tables and manifest only")

    sens = _subparser(
        sub,
        "sensitivity",
        "which uncertain values the scores hinge on: Sobol, Morris or delta indices with "
        "confidence intervals (SALib; sensitivity.csv)",
    )
    sens.add_argument("file", type=Path, help="scenario file; its uncertain values are the factors")
    sens.add_argument(
        "--method", choices=("sobol", "morris", "delta"), default="sobol", help="default sobol"
    )
    sens.add_argument(
        "--runs",
        type=int,
        default=256,
        metavar="N",
        help="base sample size: sobol runs N (2D + 2) members for D factors (a power of 2), "
        "morris N trajectories of D + 1, delta N (default 256)",
    )
    sens.add_argument(
        "--outcome",
        action="append",
        default=[],
        metavar="'A->B [at DATE]'",
        help="a score to analyse, at the end or 'at YYYY-MM-DD' (repeatable); default: the four "
        "end scores that vary most",
    )
    sens.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=LO..HI",
        help="a factor's range instead of the file's uncertain values, e.g. "
        "parameters.kappa_observer=0.05..0.25 or events.ID.date=2025-05-01..2025-06-15 "
        "(repeatable; durations in weeks)",
    )
    sens.add_argument(
        "--over-time",
        metavar="'A->B'",
        help="also work out that score's indices at every step boundary "
        "(sensitivity-over-time.png)",
    )
    sens.add_argument(
        "--out", type=Path, help="directory to create; default results/NAME-sensitivity-NNN"
    )
    sens.add_argument(
        "--seed", type=int, help="root seed of the run and of SALib (default: the file's)"
    )
    _add_set(sens, "override a value (repeatable)")
    sens.add_argument("--no-plots", action="store_true", help="write tables and manifest only")

    disc = _subparser(
        sub,
        "discover",
        "under which assumptions a condition on a score holds: PRIM boxes with coverage and "
        "density, and feature scores (EMA Workbench; boxes.csv, box.csv)",
    )
    disc.add_argument("file", type=Path, help="scenario file; its uncertain values are the inputs")
    disc.add_argument(
        "--where",
        required=True,
        metavar="'A->B < X at end'",
        help="the condition: 'A->B < X' or 'A->B > X' (or 'A->B < C->D'), at the end or "
        "'at YYYY-MM-DD'",
    )
    disc.add_argument(
        "--runs", type=int, default=1000, metavar="N", help="members to run (default 1000)"
    )
    disc.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=LO..HI",
        help="a range sampled by a Latin hypercube, e.g. parameters.kappa_observer=0.05..0.25 "
        "(repeatable; durations in weeks, dates YYYY-MM-DD); the file's uncertain values are "
        "drawn as well",
    )
    disc.add_argument(
        "--density",
        type=float,
        default=0.8,
        metavar="D",
        help="the box reported is the one of highest coverage among those of density >= D "
        "(default 0.8)",
    )
    disc.add_argument(
        "--out", type=Path, help="directory to create; default results/NAME-discover-NNN"
    )
    disc.add_argument("--seed", type=int, help="root seed of the run and of the sample")
    _add_set(disc, "override a value (repeatable)")
    disc.add_argument("--no-plots", action="store_true", help="write tables and manifest only")

    compare = _subparser(
        sub, "compare", "compare scenarios (files, or earlier run directories) side by side"
    )
    compare.add_argument(
        "inputs",
        type=Path,
        nargs="+",
        metavar="INPUT",
        help="scenario files or run directories; the first is the reference",
    )
    compare.add_argument(
        "--out", type=Path, help="directory to create; default results/compare-NNN"
    )
    compare.add_argument(
        "--seed", type=int, help="seed for every scenario file run (default: each file's)"
    )
    _add_set(compare, "override a value in every scenario file (repeatable)")
    _add_design(compare)
    compare.add_argument(
        "--dyads", help="dyads to show, e.g. 'AFG->PAK,IND<->AFG'; default: those that differ most"
    )
    compare.add_argument(
        "--threshold",
        type=float,
        default=0.05,
        help="difference in score at which two scenarios count as parted (default 0.05)",
    )
    _add_ensemble_options(compare)

    sweep = _subparser(
        sub, "sweep", "run a scenario over a grid or a sampled design of values; one band per value"
    )
    sweep.add_argument("file", type=Path, help="scenario file")
    sweep.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="KEY=V1,V2,...|KEY=LO..HI",
        help="a key and its values, e.g. parameters.kappa_observer=0.1,0.2 or "
        "events.paktika-strike.intensity=0.5,1 (repeatable: a grid); with --design lhs:N or "
        "sobol:N also a range, e.g. parameters.kappa_target=0.2..0.8, events.ID.date="
        "2025-01-01..2025-03-01, parameters.memory_half_life='26 weeks..104 weeks'",
    )
    sweep.add_argument(
        "--design",
        default="grid",
        metavar="grid|lhs:N|sobol:N",
        help="the points: every combination of the listed values (grid, the default), or N "
        "points of a Latin hypercube (lhs:N) or scrambled Sobol sequence (sobol:N, N a power of "
        "two) over the ranges and lists, drawn from the root seed",
    )
    sweep.add_argument("--out", type=Path, help="directory to create; default results/sweep-NNN")
    sweep.add_argument(
        "--seed", type=int, help="root seed (default: the file's); the same at every point"
    )
    _add_set(sweep, "override a value (repeatable)")
    sweep.add_argument(
        "--dyads", help="dyads to draw, e.g. 'AFG->PAK'; default: those the values move most"
    )
    _add_ensemble_options(sweep)

    report = _subparser(
        sub,
        "report",
        "write one self-contained HTML report of a run or comparison directory (question, "
        "assumptions with their reasons, figures, largest changes, observations)",
    )
    report.add_argument(
        "directory", type=Path, help="a run directory (run, check) or a comparison directory"
    )
    report.add_argument(
        "--out",
        type=Path,
        help="HTML file to create (never overwritten); default results/NAME-report-NNN.html",
    )

    new = _subparser(sub, "new", "write a commented what-if file that extends another")
    new.add_argument(
        "name",
        type=Path,
        help="name or path of the new file, from the current folder (.yaml added if missing)",
    )
    new.add_argument(
        "--from",
        dest="parent",
        type=Path,
        help="scenario to extend (default: scenarios/article.yaml here, else the project's article)",
    )

    schema = _subparser(sub, "schema", "write the JSON Schema of scenario files (for editors)")
    schema.add_argument(
        "--out",
        type=Path,
        help="file to create (never overwritten; default: print to standard output)",
    )

    validate = _subparser(
        sub, "validate", "check scenario files; exit 0 if all are valid, 2 if not"
    )
    validate.add_argument(
        "files",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="scenario files, or folders (every .yaml file in them)",
    )

    _subparser(sub, "events", "list the named event types (CAMEO code, Goldstein weight, form)")

    imp = _subparser(
        sub,
        "import",
        "turn a GDELT 2.0 or ICEWS event-data export into a scenario file (docs/import.md)",
    )
    imp.add_argument("source", choices=("gdelt", "icews"), help="the export's layout")
    imp.add_argument("file", type=Path, help="the export (tab-separated)")
    imp.add_argument(
        "--actors",
        required=True,
        metavar="A,B,...",
        help="scenario ids to keep (events between two of them only), e.g. IND,CHN,PAK,AFG",
    )
    imp.add_argument("--from", dest="start", type=_iso_date, metavar="DATE", help="first day")
    imp.add_argument("--to", dest="end", type=_iso_date, metavar="DATE", help="last day")
    imp.add_argument(
        "--out", type=Path, help="file to create (never overwritten; default: standard output)"
    )
    imp.add_argument(
        "--map",
        type=Path,
        metavar="MAP.yaml",
        help="the export's country codes or names to scenario ids: 'CODE: ID' lines",
    )
    imp.add_argument(
        "--strict", action="store_true", help="refuse the export if any row has a problem"
    )
    imp.add_argument(
        "--add", action="store_true", help="write an add: block for a what-if, not a scenario"
    )
    app = _subparser(sub, "app", "explore a scenario in the browser (Mesa's SolaraViz; extra: app)")
    app.add_argument(
        "file", type=Path, nargs="?", help="scenario file (YAML); default: the article"
    )
    app.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")

    for name, command in sub.choices.items():
        command.set_defaults(func=functions[name])
    return parser
