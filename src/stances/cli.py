"""The command line: a thin layer over the Python API. ``stances`` and ``python run.py`` are one.

Exit codes: 0 success, 2 bad input (every problem printed as file:line:col: message).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from stances.catalogue import named_types
from stances.errors import ScenarioError, suggest
from stances.scenario.builder import load_scenario
from stances.scenario.keys import parse_cli_set, parse_vary
from stances.scenario.library import ARTICLE
from stances.scenario.schema import json_schema
from stances.scenario.skeleton import write_skeleton
from stances.scenario.types import Scenario

if TYPE_CHECKING:
    from stances.result import Result

COMMANDS = ("run", "check", "compare", "sweep", "validate", "events", "new", "schema")


def _add_ensemble_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        metavar="K",
        help="ensemble members (default 1); each draws its own uncertain values",
    )
    parser.add_argument("--workers", type=int, default=1, help="processes to spread members over")
    parser.add_argument(
        "--batch", type=int, help="members per batch (default: about 4 batches per worker)"
    )
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="send batches to this Dask scheduler (needs the dask extra)",
    )


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
        help="run member M alone (reproduces member M of an ensemble with the same seed)",
    )

    check = sub.add_parser(
        "check",
        help="run a scenario and check it against its observations (writes observations.csv)",
    )
    check.add_argument("file", type=Path, help="scenario file with observations:")
    check.add_argument("--out", type=Path, help="run directory to create; default results/NAME-NNN")
    check.add_argument("--seed", type=int, help="seed of the run (default: the file's seed)")
    check.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    check.add_argument("--no-plots", action="store_true", help="write tables and manifest only")
    _add_ensemble_options(check)
    check.set_defaults(func=_check, member=None)

    compare = sub.add_parser(
        "compare", help="compare scenarios (files, or earlier run directories) side by side"
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
    compare.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a value in every scenario file (repeatable)",
    )
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

    sweep = sub.add_parser("sweep", help="run a scenario over a grid of values; one band per value")
    sweep.add_argument("file", type=Path, help="scenario file")
    sweep.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="KEY=V1,V2,...",
        help="a key and its values, e.g. parameters.kappa_observer=0.1,0.2 (repeatable: a grid)",
    )
    sweep.add_argument("--out", type=Path, help="directory to create; default results/sweep-NNN")
    sweep.add_argument(
        "--seed", type=int, help="root seed (default: the file's); the same at every point"
    )
    sweep.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    sweep.add_argument(
        "--dyads", help="dyads to draw, e.g. 'AFG->PAK'; default: those the values move most"
    )
    _add_ensemble_options(sweep)

    new = sub.add_parser("new", help="write a commented what-if file that extends another")
    new.add_argument(
        "name", type=Path, help="name or path of the new file (.yaml added if missing)"
    )
    new.add_argument(
        "--from",
        dest="parent",
        type=Path,
        help="scenario to extend (default: scenarios/article.yaml here, else the project's article)",
    )

    schema = sub.add_parser("schema", help="write the JSON Schema of scenario files (for editors)")
    schema.add_argument(
        "--out", type=Path, help="file to write (default: print to standard output)"
    )

    validate = sub.add_parser(
        "validate", help="check scenario files; exit 0 if all are valid, 2 if not"
    )
    validate.add_argument("files", type=Path, nargs="+")

    events = sub.add_parser(
        "events", help="list the named event types (CAMEO code, Goldstein weight, form)"
    )
    run.set_defaults(func=_run)
    compare.set_defaults(func=_compare)
    sweep.set_defaults(func=_sweep)
    new.set_defaults(func=_new)
    schema.set_defaults(func=_schema)
    validate.set_defaults(func=_validate)
    events.set_defaults(func=_events)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        args = ["run", str(ARTICLE)]
    elif args[0] not in COMMANDS and not args[0].startswith("-"):
        looks_like_file = Path(args[0]).suffix in (".yaml", ".yml") or Path(args[0]).exists()
        if not looks_like_file:
            print(
                f"stances: unknown command '{args[0]}'{suggest(args[0], COMMANDS)}; "
                f"commands: {', '.join(COMMANDS)}",
                file=sys.stderr,
            )
            return 2
        args = ["run", *args]  # `stances scenarios/article.yaml` means `stances run ...`
    parser = _parser()
    ns = parser.parse_args(args)
    if not hasattr(ns, "func"):
        parser.print_help()
        return 2
    try:
        return int(ns.func(ns))
    except FileExistsError as exc:  # the store never overwrites: a run directory, a file
        print(f"stances: {exc}", file=sys.stderr)
        return 2
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"stances: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the output went to `head` or similar, which stopped reading
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    except OSError as exc:  # a path that cannot be written: under a file, no permission, ...
        print(f"stances: cannot write {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
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


def _check_ensemble(ns: argparse.Namespace) -> None:
    for name in ("runs", "workers", "batch"):
        value = getattr(ns, name, None)
        if value is not None and value < 1:
            raise InputError(f"--{name} must be at least 1, got {value}")
    if getattr(ns, "member", None) is not None and ns.member < 0:
        raise InputError(f"--member must be 0 or more, got {ns.member}")
    if getattr(ns, "member", None) is not None and ns.runs != 1:
        raise InputError("--member runs one member alone; leave out --runs")
    if getattr(ns, "seed", None) is not None and ns.seed < 0:
        raise InputError(f"--seed must be 0 or more, got {ns.seed}")


def _ensemble(
    ns: argparse.Namespace, scenario: Scenario, members: int | None = None, first: int = 0
) -> Result:
    from stances import api

    try:
        return api.run(
            scenario,
            members=members or ns.runs,
            seed=ns.seed,
            first_member=first,
            workers=ns.workers,
            batch=ns.batch,
            dask=ns.dask,
            progress=None,
        )
    except RuntimeError as exc:  # the dask extra is missing, or its scheduler out of reach
        raise InputError(str(exc)) from None


def _run(ns: argparse.Namespace) -> int:
    _check_ensemble(ns)
    scenario = load_scenario(ns.file, _sets(ns.sets))
    from stances import api
    from stances.store import NextRunDir
    from stances.text import change_table

    out = ns.out or NextRunDir(Path("results"), ns.file.stem)
    if ns.member is not None:
        result = _ensemble(ns, scenario, members=1, first=ns.member)
    else:
        result = _ensemble(ns, scenario)
    out = api.save(result, out, plots=not ns.no_plots, keep_members=ns.keep_members)
    seed = result.manifest["seed"]
    who = (
        f"member {ns.member} of seed {seed}"
        if ns.member is not None
        else (
            f"{result.members} members, root seed {seed}" if result.members > 1 else f"seed {seed}"
        )
    )
    print(f"{scenario.title}: {len(result.dates) - 1} steps of {scenario.time.step}, {who}")
    files = sorted(p.name for p in out.iterdir())
    print(f"wrote {out}/  ({', '.join(files)})")
    print()
    print(change_table(result))
    return 0


def _check(ns: argparse.Namespace) -> int:
    _check_ensemble(ns)
    scenario = load_scenario(ns.file, _sets(ns.sets))
    if not scenario.observations:
        raise InputError(f"{ns.file}: no observations: to check (docs/format.md, 'Observations')")
    from stances import api
    from stances.analysis.observations import share_holding
    from stances.store import NextRunDir

    result = _ensemble(ns, scenario)
    verdicts, table = api.check(result, scenario)

    def write_table(path: Path) -> None:
        table.to_csv(path, index=False, float_format="%.6f")

    out = ns.out or NextRunDir(Path("results"), ns.file.stem)
    out = api.save(result, out, plots=not ns.no_plots, extra={"observations.csv": write_table})
    held = sum(v.holds for v in verdicts)
    print(
        f"{scenario.title}: {held} of {len(verdicts)} observations hold ({share_holding(verdicts):.0%})"
    )
    print(f"wrote {out}/  (observations.csv and the run)")
    for v in verdicts:
        mark = "holds" if v.holds else "FAILS"
        share = f", in {v.share:.0%} of members" if result.members > 1 else ""
        unit = "days" if v.unit == "days" else ""
        print(
            f"  {mark:<5}  {v.observation.id:<34} margin {v.margin:+.2f}{unit}{share}  ({v.observation.label})"
        )
    return 0


def _load_input(path: Path, sets: dict[str, str], ns: argparse.Namespace) -> Result:
    """A run directory is read back; a scenario file is run."""
    from stances.store import load_run

    if path.is_dir():
        if not (path / "manifest.json").is_file():
            raise InputError(f"{path} is a directory but not a run directory (no manifest.json)")
        if sets or ns.seed is not None:
            raise InputError(
                f"{path}: --set and --seed apply to scenario files, not to earlier runs"
            )
        try:
            return load_run(path)
        except (OSError, ValueError, KeyError, IndexError) as exc:
            why = f"{type(exc).__name__}: {exc}"
            raise InputError(f"{path}: not a readable run directory ({why})") from None
    return _ensemble(ns, load_scenario(path, sets))


def _labels(paths: list[Path]) -> list[str]:
    labels = [p.stem if p.suffix in (".yaml", ".yml") else p.name for p in paths]
    return [
        f"{label}#{i + 1}" if labels.count(label) > 1 else label for i, label in enumerate(labels)
    ]


def _compare(ns: argparse.Namespace) -> int:
    if len(ns.inputs) < 2:
        raise InputError("compare needs at least two inputs (scenario files or run directories)")
    if ns.threshold <= 0:
        raise InputError(f"--threshold must be positive, got {ns.threshold}")
    _check_ensemble(ns)
    sets = _sets(ns.sets)
    from stances import api
    from stances.analysis.compare import Comparison, parse_dyads
    from stances.result import package_versions
    from stances.store import NextRunDir
    from stances.text import final_text

    out = ns.out or NextRunDir(Path("results"), "compare")
    problems: list = []
    results = []
    for path in ns.inputs:  # read every input before giving up, so all problems show at once
        try:
            results.append(_load_input(path, sets, ns))
        except ScenarioError as exc:
            problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    runs = (
        f"{ns.runs} members per scenario file (bands: 50 % and 90 % of them)."
        if ns.runs > 1
        else ""
    )
    sets_note = (
        ("Overrides: " + ", ".join(f"{k}={v}" for k, v in sets.items()) + ".") if sets else ""
    )
    comparison = Comparison(_labels(ns.inputs), results, f"{runs} {sets_note}".strip())
    if not comparison.actors or len(comparison.dates) < 2:
        raise InputError("the inputs share no actors or no time window; nothing to compare")
    try:
        dyads = parse_dyads(ns.dyads) if ns.dyads is not None else comparison.dyads_that_differ()
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if ns.dyads is not None and (bad := comparison.check_dyads(dyads)):
        raise InputError("; ".join(bad))
    manifest = {
        "inputs": [str(p) for p in ns.inputs],
        "labels": comparison.labels,
        "sets": sets,
        "seed": ns.seed,
        "threshold": ns.threshold,
        "dyads": [f"{a} -> {b}" for a, b in dyads],
        "runs": [r.manifest for r in results],
        "versions": package_versions(),
    }
    out = api.save_comparison(comparison, dyads, ns.threshold, out, manifest)
    print(f"compared {', '.join(comparison.labels)} (reference: {comparison.labels[0]})")
    print(f"wrote {out}/  ({', '.join(sorted(p.name for p in out.iterdir()))})")
    print()
    print(final_text(comparison, dyads, ns.threshold))
    stances = comparison.stances_that_differ()
    if stances:
        table = comparison.stance_table(stances)
        print()
        print(
            "Final positions on the issues that differ most (median; difference from the reference):"
        )
        for (issue, actor), rows in table.groupby(["issue", "actor"], sort=False):
            cells = "   ".join(
                f"{r.scenario} {r.final:.2f} ({r.difference:+.2f})" for r in rows.itertuples()
            )
            print(f"  {actor} on {issue}: {cells}")
    return 0


def _sweep(ns: argparse.Namespace) -> int:
    _check_ensemble(ns)
    try:
        varied = [parse_vary(v) for v in ns.vary]
    except ValueError as exc:
        raise InputError(str(exc)) from None
    from stances import api
    from stances.analysis.compare import parse_dyads
    from stances.analysis.sweep import sweep, sweep_dyads, sweep_table
    from stances.result import package_versions
    from stances.store import NextRunDir
    from stances.text import sweep_text

    out = ns.out or NextRunDir(Path("results"), "sweep")
    points = sweep(ns.file, varied, sets=_sets(ns.sets), run_one=lambda sc: _ensemble(ns, sc))
    try:
        dyads = parse_dyads(ns.dyads) if ns.dyads is not None else sweep_dyads(points)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    unknown = sorted({x for d in dyads for x in d} - set(points[0].result.actor_ids))
    if unknown:
        raise InputError(f"--dyads: unknown actor(s) {', '.join(unknown)}")
    table = sweep_table(points, dyads)
    manifest = {
        "scenario": str(ns.file),
        "vary": {k: v for k, v in varied},
        "sets": _sets(ns.sets),
        "members": ns.runs,
        "seed": points[0].result.manifest["seed"],
        "dyads": [f"{a} -> {b}" for a, b in dyads],
        "versions": package_versions(),
    }
    out = api.save_sweep(points, dyads, table, out, manifest)
    print(
        f"swept {' x '.join(f'{k} ({len(v)} values)' for k, v in varied)}: {len(points)} runs of {ns.runs} members"
    )
    shown = (
        "the dyads given"
        if ns.dyads is not None
        else f"the {len(dyads)} dyads the values move most; --dyads to choose"
    )
    print(f"wrote {out}/  (sweep.csv, manifest.json, and a sweep-*.png for each of {shown})")
    print()
    print(sweep_text(table))
    return 0


def _new(ns: argparse.Namespace) -> int:
    local = Path("scenarios") / "article.yaml"
    parent_path = ns.parent or (local if local.is_file() else ARTICLE)
    if not ns.name.name:
        raise InputError("give the new file a name, e.g. stances new scenarios/late-strike")
    if ns.name.suffix not in ("", ".yaml", ".yml"):
        raise InputError(
            f"{ns.name}: a scenario file ends in .yaml (or give the name without an ending)"
        )
    parent = load_scenario(parent_path)
    target = ns.name if ns.name.suffix else ns.name.with_suffix(".yaml")
    if target.parent == Path("."):
        target = parent_path.parent / target  # beside the file it extends
    created = not target.parent.exists()
    try:
        write_skeleton(parent, target)
    except FileExistsError:
        raise InputError(f"{target} already exists; choose another name") from None
    if created:
        print(f"created the folder {target.parent}")
    print(f"wrote {target}: it extends {parent_path} and runs as it is; edit it, then")
    print(f"  stances compare {parent_path} {target}")
    return 0


def _schema(ns: argparse.Namespace) -> int:
    text = json.dumps(json_schema(), indent=2) + "\n"
    if ns.out is None:
        sys.stdout.write(text)
        return 0
    ns.out.write_text(text, encoding="utf-8")
    print(f"wrote {ns.out}")
    return 0


def _validate(ns: argparse.Namespace) -> int:
    failed = False
    for file in ns.files:
        try:
            scenario = load_scenario(file)
        except ScenarioError as exc:
            failed = True
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            continue
        print(f"{file}: ok ({len(scenario.actors)} actors, {len(scenario.events)} events)")
    return 2 if failed else 0


def _events(ns: argparse.Namespace) -> int:
    print(f"{'name':<22} {'CAMEO':<6} {'weight':>6}  {'form':<10} description")
    for t in named_types().values():
        print(f"{t.name:<22} {t.cameo:<6} {t.goldstein:>+6.1f}  {t.form.value:<10} {t.description}")
    print(
        '\nAny CAMEO code works too: `cameo: "045"` (weights from Goldstein 1992, as GDELT publishes them).'
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
