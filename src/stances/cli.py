"""The command line: a thin layer over the Python API. ``stances`` and ``python run.py`` are one.

Exit codes: 0 success, 2 bad input (every problem printed as file:line:col: message).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from stances.catalogue import named_types
from stances.errors import ScenarioError
from stances.model import ARTICLE, StanceModel
from stances.results import Result
from stances.scenario import Scenario, load_scenario, parse_cli_set

COMMANDS = ("run", "validate", "events")


class InputError(Exception):
    """Bad input found by the CLI itself (not in a scenario file); exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stances",
        description="Replay and vary scenarios of how states regard each other. "
        "With no arguments: run scenarios/article.yaml.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a scenario file and write a new run directory")
    run.add_argument("file", type=Path, help="scenario file (YAML)")
    run.add_argument(
        "--out",
        type=Path,
        help="run directory to create (must not exist); default results/NAME-NNN",
    )
    run.add_argument("--seed", type=int, help="seed of the run (default: the file's seed)")
    run.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a value, e.g. --set parameters.memory_half_life='52 weeks' (repeatable)",
    )
    run.add_argument("--no-plots", action="store_true", help="write tables and manifest only")

    validate = sub.add_parser(
        "validate", help="check scenario files; exit 0 if all are valid, 2 if not"
    )
    validate.add_argument("files", type=Path, nargs="+")

    sub.add_parser("events", help="list the named event types (CAMEO code, Goldstein weight, form)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        args = ["run", str(ARTICLE)]
    elif args[0] not in COMMANDS and not args[0].startswith("-"):
        args = ["run", *args]  # `stances scenarios/article.yaml` means `stances run ...`
    ns = _parser().parse_args(args)
    try:
        if ns.command == "run":
            return _run(ns)
        if ns.command == "validate":
            return _validate(ns.files)
        if ns.command == "events":
            return _events()
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"stances: {exc}", file=sys.stderr)
        return 2
    _parser().print_help()
    return 2


def _sets(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        try:
            key, value = parse_cli_set(item)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        out[key] = value
    return out


def next_run_dir(parent: Path, name: str) -> Path:
    """parent/NAME-NNN with NNN one more than the highest already there."""
    numbers = [
        int(m.group(1))
        for p in (parent.iterdir() if parent.is_dir() else [])
        if (m := re.fullmatch(re.escape(name) + r"-(\d{3,})", p.name))
    ]
    return parent / f"{name}-{max(numbers, default=0) + 1:03d}"


def _run(ns: argparse.Namespace) -> int:
    scenario = load_scenario(ns.file, _sets(ns.sets))
    out = ns.out or next_run_dir(Path("results"), ns.file.stem)
    if out.exists():
        raise InputError(f"{out} already exists; runs are never overwritten (choose another --out)")
    model = StanceModel(scenario, rng=ns.seed)
    model.run()
    result = model.result()
    result.save(out, plots=not ns.no_plots)
    print(f"{scenario.title}: {model.n_steps} steps of {scenario.time.step}, seed {model.seed}")
    print(
        f"wrote {out}/  (relations.csv, events.csv, manifest.json"
        + ("" if ns.no_plots else ", relations.png, matrix.png")
        + ")"
    )
    print()
    print(change_table(result, scenario))
    return 0


def change_table(result: Result, scenario: Scenario, rows: int = 8) -> str:
    """The dyads that changed most, with the events that moved them most at the time."""
    d0, d1 = result.dates[0], result.dates[-1]
    lines = [
        f"Largest changes, {d0:%d %b %Y} -> {d1:%d %b %Y} (scores from -1 hostile to +1 friendly)",
        f"  {'who -> whom':<12} {'start':>6} {'end':>6} {'change':>7}   events that moved it most (immediate effect)",
    ]
    for row in result.changes().head(rows).itertuples():
        drivers = ", ".join(f"{e} {c:+.2f}" for e, c in result.drivers(row.actor, row.toward))
        lines.append(
            f"  {row.actor + ' -> ' + row.toward:<12} {row.initial:>+6.2f} {row.final:>+6.2f} {row.change:>+7.2f}   {drivers or 'none (observer effects only)'}"
        )
    return "\n".join(lines)


def _validate(files: list[Path]) -> int:
    failed = False
    for file in files:
        try:
            scenario = load_scenario(file)
        except ScenarioError as exc:
            failed = True
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            continue
        print(f"{file}: ok ({len(scenario.actors)} actors, {len(scenario.events)} events)")
    return 2 if failed else 0


def _events() -> int:
    print(f"{'name':<22} {'CAMEO':<6} {'weight':>6}  {'form':<10} description")
    for t in named_types().values():
        print(f"{t.name:<22} {t.cameo:<6} {t.goldstein:>+6.1f}  {t.form.value:<10} {t.description}")
    print(
        '\nAny CAMEO code works too: `cameo: "045"` (weights from Goldstein 1992, as GDELT publishes them).'
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
