"""The command line: a thin layer over the Python API. ``stances`` and ``python run.py`` are one.

Exit codes: 0 success, 2 bad input (every problem printed as file:line:col: message), 130
when interrupted by SIGINT (Ctrl-C), 143 by SIGTERM: both end the worker processes and print
one line. Everything printed from the input (titles, ids, paths) has its control characters
escaped.

Longer than the project's ~600 lines: one function per command (nine of them), each only
checking its options, calling ``api`` and printing; splitting them would scatter the shared
option checks (``_check_ensemble``, ``_sets``, ``_scenario_file``) over several files.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from stances.catalogue import named_types
from stances.cli_parser import build_parser
from stances.errors import ScenarioError, printable, suggest
from stances.scenario.builder import load_scenario
from stances.scenario.keys import parse_cli_set, parse_vary
from stances.scenario.library import ARTICLE
from stances.scenario.schema import json_schema
from stances.scenario.skeleton import modeline, write_skeleton
from stances.scenario.types import Scenario
from stances.timegrid import steps_in_words

if TYPE_CHECKING:
    from stances.analysis.compare import Dyad
    from stances.result import Result
    from stances.scenario.design import Design
    from stances.store import NextRunDir

COMMANDS = (
    "run",
    "check",
    "calibrate",
    "explain",
    "sensitivity",
    "discover",
    "compare",
    "sweep",
    "report",
    "validate",
    "events",
    "new",
    "schema",
    "import",
    "app",
)
SCENARIO_SUFFIXES = (".yaml", ".yml")


class InputError(Exception):
    """Bad input found by the CLI itself (not in a scenario file); exit code 2."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; `signum` says which."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = signum


def _say(text: object = "") -> None:
    """Print on standard output, control characters escaped (line breaks kept)."""
    print(printable(str(text), keep="\n"))


def _complain(text: object) -> None:
    """Print one line on standard error, control characters escaped."""
    print(printable(str(text)), file=sys.stderr)


def _on_signal(signum: int, frame: object) -> None:
    # a second signal must not interrupt the clean-up the first one starts
    for each in (signal.SIGINT, signal.SIGTERM):
        signal.signal(each, signal.SIG_IGN)
    raise Interrupted(signum)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted in the main thread while inside; the handlers
    before are restored after. (Signal handlers can only be set from the main thread.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {each: signal.signal(each, _on_signal) for each in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for each, handler in before.items():
            signal.signal(each, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        with _signals_interrupt():
            return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt as exc:  # the workers have been stopped on the way here
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        by = "" if signum == signal.SIGINT else f" by {signal.Signals(signum).name}"
        print(f"stances: interrupted{by}", file=sys.stderr)
        return 128 + int(signum)


def _main(args: list[str]) -> int:
    if not args:
        args = ["run", str(ARTICLE)]
    elif args[0] not in COMMANDS and not args[0].startswith("-"):
        looks_like_file = Path(args[0]).suffix in SCENARIO_SUFFIXES or Path(args[0]).exists()
        if not looks_like_file:
            _complain(
                f"stances: unknown command '{args[0]}'{suggest(args[0], COMMANDS)}; "
                f"commands: {', '.join(COMMANDS)}"
            )
            return 2
        args = ["run", *args]  # `stances scenarios/article.yaml` means `stances run ...`
    parser = build_parser(COMMAND_FUNCTIONS)
    ns = parser.parse_args(args)
    if ns.command is None:
        parser.print_help()
        return 2
    try:
        code = int(ns.func(ns))
        sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
        return code
    except FileExistsError as exc:  # the store never overwrites: a run directory, a file
        _complain(f"stances: {exc}")
        return 2
    except ScenarioError as exc:
        for problem in exc.problems:
            _complain(problem)
        return 2
    except InputError as exc:
        _complain(f"stances: {exc}")
        return 2
    except BrokenPipeError:  # the output went to `head` or similar, which stopped reading
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    except OSError as exc:  # a path that cannot be written: under a file, no permission, ...
        # every output a command writes names itself (_writing); what is left is stdout
        where = exc.filename if exc.filename is not None else "standard output"
        _complain(f"stances: cannot write {where}: {exc.strerror or exc}")
        if where == "standard output":
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (else the exit flush fails again)
        return 2


@contextmanager
def _writing(output: object) -> Iterator[None]:
    """An OSError inside without a file name (a full disk, say) gets the output's name."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None and not isinstance(exc, FileExistsError):
            raise OSError(exc.errno, exc.strerror or str(exc), str(output)) from exc
        raise


def _sets(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        try:
            key, value = parse_cli_set(item)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        out[key] = value
    return out


def _next_dir(
    stems: Sequence[str],
    ns: argparse.Namespace,
    after: str = "",
    before: str = "",
    also: Sequence[str] = (),
) -> NextRunDir:
    """results/NAME-NNN, NAME saying what the command holds (store.run_name): `before`, the
    stems, the --set overrides, the --design file's stem (where --design names a file),
    `also`, `after`."""
    from stances.store import NextRunDir, run_name

    design = getattr(ns, "design", None)
    files = [f"design={design.stem}"] if isinstance(design, Path) else []
    name = run_name(stems, _sets(ns.sets), before=before, after=after, also=[*files, *also])
    return NextRunDir(Path("results"), name)


def _cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _check_ensemble(ns: argparse.Namespace) -> None:
    """Bounds of the ensemble options; caps --workers at the cores (with a note)."""
    from stances.engine.ensemble import MAX_MEMBER

    for name in ("runs", "workers", "batch"):
        value = getattr(ns, name, None)
        if value is not None and value < 1:
            raise InputError(f"--{name} must be at least 1, got {value}")
    if ns.runs > MAX_MEMBER + 1:
        raise InputError(f"--runs must be at most 2**63, got {ns.runs}")
    member = getattr(ns, "member", None)
    if member is not None and not 0 <= member <= MAX_MEMBER:
        raise InputError(f"--member must be 0 .. 2**63 - 1 ({MAX_MEMBER}), got {member}")
    if member is not None and ns.runs != 1:
        raise InputError("--member runs one member alone; leave out --runs")
    if getattr(ns, "seed", None) is not None and ns.seed < 0:
        raise InputError(f"--seed must be 0 or more, got {ns.seed}")
    cores = _cores()
    if ns.workers > cores and not ns.workers_exact and not ns.dask:
        _complain(
            f"stances: --workers {ns.workers} capped at {cores}, the cores this process may "
            f"use (--workers-exact starts {ns.workers})"
        )
        ns.workers = cores


def _ensemble(
    ns: argparse.Namespace,
    scenario: Scenario,
    members: int | None = None,
    first: int = 0,
    member_table: bool = False,
    design: Design | None = None,
) -> Result:
    """Run the members (the memory they need checked first, with the member table when it
    will be written); with a design, one member per row of it."""
    from stances import api
    from stances.engine import ensemble

    members = design.rows if design is not None else members or ns.runs
    try:
        if member_table:
            need = ensemble.memory_needed(
                scenario, members, ns.batch, ns.workers, on_dask=bool(ns.dask), member_table=True
            )
            ensemble.check_memory(scenario, need, members, member_table=True)
        return api.run(
            scenario,
            members=members,
            seed=ns.seed,
            first_member=first,
            workers=ns.workers,
            batch=ns.batch,
            dask=ns.dask,
            progress=None,
            design=design,
        )
    except ensemble.NotEnoughMemory as exc:
        raise InputError(str(exc)) from None
    except RuntimeError as exc:  # the dask extra is missing, or its scheduler out of reach
        raise InputError(str(exc)) from None


def _scenario_file(path: Path) -> Path:
    """The path, unless it is a folder: then InputError naming the scenario files in it."""
    if not path.is_dir():
        return path
    found = _scenario_files_in(path)
    hint = f": did you mean one of: {', '.join(map(str, found[:8]))}" if found else ""
    more = f" (and {len(found) - 8} more)" if len(found) > 8 else ""
    kind = "a run directory" if (path / "manifest.json").is_file() else "a folder"
    reads = "; `stances compare` reads run directories" if kind == "a run directory" else ""
    raise InputError(f"expected a scenario file (.yaml); {path} is {kind}{reads}{hint}{more}")


def _scenario_files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in SCENARIO_SUFFIXES and p.is_file())


def _unique(dyads: list[Dyad]) -> list[Dyad]:
    """The dyads in the order given, each once."""
    return list(dict.fromkeys(dyads))


def _check_design(ns: argparse.Namespace) -> None:
    """--design gives the members: not with --runs or --member."""
    if ns.design is None:
        return
    if ns.runs != 1 or getattr(ns, "member", None) is not None:
        raise InputError("--design gives one member per line; leave out --runs and --member")


def _design(ns: argparse.Namespace, scenario: Scenario) -> Design | None:
    """The --design file checked against the scenario (None without one)."""
    if ns.design is None:
        return None
    from stances.scenario.design_file import load_design

    return load_design(ns.design, scenario)


def _with_design_file(result: Result, ns: argparse.Namespace) -> Result:
    """The result with the design file named in its manifest."""
    if ns.design is not None:
        result.manifest["design"]["file"] = str(ns.design)
    return result


def _pairs(text: str | None, scenario: Scenario) -> list[tuple[str, str]] | None:
    """The pairs relations.png draws, from --dyads ('AFG<->PAK,IND->AFG': each pair once, in
    the order given); InputError for an unknown actor, before anything runs."""
    if text is None:
        return None
    from stances.analysis.compare import parse_dyads

    try:
        dyads = parse_dyads(text)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    ids = scenario.actor_ids
    for actor in {a for dyad in dyads for a in dyad}:
        if actor not in ids:
            raise InputError(f"--dyads: unknown actor {actor!r}{suggest(actor, ids)}")
    pairs: dict[frozenset[str], tuple[str, str]] = {}
    for a, b in dyads:
        pairs.setdefault(frozenset((a, b)), (a, b))
    return list(pairs.values())


def _run(ns: argparse.Namespace) -> int:
    _check_ensemble(ns)
    _check_design(ns)
    scenario = load_scenario(_scenario_file(ns.file), _sets(ns.sets))
    design = _design(ns, scenario)
    pairs = _pairs(ns.dyads, scenario)
    from stances import api
    from stances.text import change_table

    out = ns.out or _next_dir([ns.file.stem], ns)
    alone = ns.member is not None
    members = design.rows if design is not None else 1 if alone else ns.runs
    result = _ensemble(
        ns,
        scenario,
        members=members,
        first=ns.member or 0,
        member_table=members == 1 or ns.keep_members,
        design=design,
    )
    _with_design_file(result, ns)
    with _writing(out):
        out = api.save(
            result, out, plots=not ns.no_plots, keep_members=ns.keep_members, pairs=pairs
        )
    seed = result.manifest["seed"]
    who = (
        f"member {ns.member} of seed {seed}"
        if alone
        else f"{result.members} members from {ns.design}, root seed {seed}"
        if design is not None
        else (
            f"{result.members} members, root seed {seed}" if result.members > 1 else f"seed {seed}"
        )
    )
    _say(f"{scenario.title}: {steps_in_words(len(result.dates) - 1, scenario.time.step)}, {who}")
    files = sorted(p.name for p in out.iterdir())
    _say(f"wrote {out}/  ({', '.join(files)})")
    _say()
    _say(change_table(result))
    return 0


def _load_input(path: Path, sets: dict[str, str], ns: argparse.Namespace) -> Result:
    """A run directory is read back; a scenario file is run."""
    from stances.store import load_run

    if path.is_dir():
        if not (path / "manifest.json").is_file():
            found = _scenario_files_in(path)
            hint = f"; scenario files in it: {', '.join(map(str, found[:8]))}" if found else ""
            raise InputError(
                f"{path} is a directory but not a run directory (no manifest.json){hint}"
            )
        if sets or ns.seed is not None or ns.design is not None:
            raise InputError(
                f"{path}: --set, --seed and --design apply to scenario files, not to earlier runs"
            )
        try:
            return load_run(path)
        except (OSError, ValueError, KeyError, IndexError) as exc:
            why = f"{type(exc).__name__}: {exc}"
            raise InputError(f"{path}: not a readable run directory ({why})") from None
    scenario = load_scenario(path, sets)
    return _with_design_file(_ensemble(ns, scenario, design=_design(ns, scenario)), ns)


def _labels(paths: list[Path]) -> list[str]:
    labels = [p.stem if p.suffix in SCENARIO_SUFFIXES else p.name for p in paths]
    return [
        f"{label}#{i + 1}" if labels.count(label) > 1 else label for i, label in enumerate(labels)
    ]


def _check(ns: argparse.Namespace) -> int:
    _check_ensemble(ns)
    scenario = load_scenario(_scenario_file(ns.file), _sets(ns.sets))
    if not scenario.observations:
        raise InputError(f"{ns.file}: no observations: to check (docs/format.md, 'Observations')")
    from stances import api
    from stances.analysis.observations import share_holding

    result = _ensemble(ns, scenario, members=ns.runs, first=0, member_table=ns.runs == 1)
    verdicts, table = api.check(result, scenario)

    def write_table(path: Path) -> None:
        table.to_csv(path, index=False, float_format="%.6f")

    out = ns.out or _next_dir([ns.file.stem], ns, "check")
    with _writing(out):
        out = api.save(
            result,
            out,
            plots=not ns.no_plots,
            extra={"observations.csv": write_table},
            verdicts=verdicts,
        )
    held = sum(v.holds for v in verdicts)
    print(
        f"{printable(scenario.title)}: {held} of {len(verdicts)} observations hold "
        f"({share_holding(verdicts):.0%})"
    )
    print(f"wrote {printable(str(out))}/  (observations.csv and the run)")
    for v in verdicts:
        mark = "holds" if v.holds else "FAILS"
        share = f", in {v.share:.0%} of members" if result.members > 1 else ""
        unit = " days" if v.unit == "days" else ""
        print(
            f"  {mark:<5}  {v.observation.id:<34} margin {v.margin:+.2f}{unit}{share}"
            f"  ({printable(v.observation.label)})"
        )
    return 0


def _calibrate(ns: argparse.Namespace) -> int:
    _check_ensemble(ns)
    if ns.runs < 2:
        raise InputError(
            f"--runs must be at least 2 to calibrate (a posterior of members), got {ns.runs}"
        )
    for name, value in (("--tolerance", ns.tolerance), ("--tolerance-days", ns.tolerance_days)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise InputError(f"{name} must be a positive number, got {value}")
    sets = _sets(ns.sets)
    scenario = load_scenario(_scenario_file(ns.file), sets)
    from stances import api
    from stances.analysis.calibrate import CalibrationError, calibrate, problems_with
    from stances.result import package_versions
    from stances.scenario.whatif import read_cli_value
    from stances.text import calibration_text

    problems = problems_with(scenario)  # before anything runs
    if problems:
        raise CalibrationError(problems)
    out = ns.out or _next_dir([ns.file.stem], ns, "calibration")
    result = _ensemble(ns, scenario, members=ns.runs)
    calibration = calibrate(result, scenario, ns.tolerance, ns.tolerance_days)
    manifest = {"command": "calibrate", "versions": package_versions()}
    plain_sets = {key: read_cli_value(text) for key, text in sets.items()}
    with _writing(out):
        out = api.save_calibration(
            calibration,
            out,
            form=ns.form,
            sets=plain_sets,
            manifest=manifest,
            plots=not ns.no_plots,
        )
    _say(
        f"{scenario.title}: {calibration.members} members weighted by "
        f"{len(calibration.verdicts)} observations (tolerance {calibration.tolerance:g} score, "
        f"{calibration.tolerance_days:g} days)"
    )
    _say(
        f"effective sample size {calibration.ess:.1f} "
        f"({calibration.ess / calibration.members:.1%} of the members)"
    )
    for warning in calibration.warnings:
        _complain(f"stances: warning: {warning}")
    _say(f"wrote {out}/  ({', '.join(sorted(p.name for p in out.iterdir()))})")
    _say(f"the calibrated scenario: {out / 'calibrated.yaml'} (stances run it, or compare it)")
    _say()
    _say(calibration_text(calibration))
    return 0


def _explain(ns: argparse.Namespace) -> int:
    from stances import api
    from stances.analysis.compare import parse_dyads
    from stances.analysis.explain import ExplainError, problems_with
    from stances.engine.ensemble import MAX_MEMBER
    from stances.result import package_versions
    from stances.text import explanation_text

    if ns.seed is not None and ns.seed < 0:
        raise InputError(f"--seed must be 0 or more, got {ns.seed}")
    if not 0 <= ns.member <= MAX_MEMBER:
        raise InputError(f"--member must be between 0 and {MAX_MEMBER}, got {ns.member}")
    if ns.orders is not None and not 2 <= ns.orders <= 100_000:
        raise InputError(f"--orders must be between 2 and 100000, got {ns.orders}")
    if ns.top < 1:
        raise InputError(f"--top must be at least 1, got {ns.top}")
    try:  # before anything runs
        dyads = _unique(parse_dyads(ns.dyads)) if ns.dyads is not None else None
    except ValueError as exc:
        raise InputError(str(exc)) from None
    scenario = load_scenario(_scenario_file(ns.file), _sets(ns.sets))
    problems = problems_with(scenario, dyads or [], ns.at)
    if problems:
        raise ExplainError(problems)
    out = ns.out or _next_dir([ns.file.stem], ns, "explain")
    explanation = api.explain(
        scenario, dyads, at=ns.at, member=ns.member, seed=ns.seed, orders=ns.orders
    )
    manifest = {
        "command": "explain",
        "scenario": str(scenario.path),
        "versions": package_versions(),
    }
    with _writing(out):
        out = api.save_explanation(explanation, out, manifest=manifest, plots=not ns.no_plots)
    _say(f"wrote {out}/  ({', '.join(sorted(p.name for p in out.iterdir()))})")
    _say()
    _say(explanation_text(explanation, ns.top))
    return 0


def _sensitivity(ns: argparse.Namespace) -> int:
    from stances import api
    from stances.analysis.sensitivity import parse_outcome
    from stances.result import package_versions
    from stances.text import sensitivity_text

    if ns.seed is not None and ns.seed < 0:
        raise InputError(f"--seed must be 0 or more, got {ns.seed}")
    if not 2 <= ns.runs <= 2**20:
        raise InputError(f"--runs must be between 2 and {2**20}, got {ns.runs}")
    if ns.method == "sobol" and ns.runs & (ns.runs - 1):
        raise InputError(
            f"--runs must be a power of 2 for sobol (Saltelli's scheme), got {ns.runs}"
        )
    scenario = load_scenario(_scenario_file(ns.file), _sets(ns.sets))
    _importable("SALib", "sensitivity")
    over = parse_outcome(scenario, ns.over_time) if ns.over_time else None
    out = ns.out or _next_dir([ns.file.stem], ns, "sensitivity")
    analysis = api.sensitivity(
        scenario,
        ns.method,
        ns.runs,
        ns.outcome or None,
        vary=ns.vary or None,
        seed=ns.seed,
        over_time=ns.over_time,
    )
    manifest = {
        "command": "sensitivity",
        "scenario": str(scenario.path),
        "versions": package_versions(),
    }
    dyad = over.column if over else None
    with _writing(out):
        out = api.save_sensitivity(
            analysis, out, manifest=manifest, plots=not ns.no_plots, over_time=dyad
        )
    _say(f"wrote {out}/  ({', '.join(sorted(p.name for p in out.iterdir()))})")
    _say()
    _say(sensitivity_text(analysis))
    return 0


def _discover(ns: argparse.Namespace) -> int:
    from stances import api
    from stances.analysis.discover import parse_where
    from stances.analysis.sensitivity import parse_range
    from stances.result import package_versions
    from stances.text import discover_text

    if ns.seed is not None and ns.seed < 0:
        raise InputError(f"--seed must be 0 or more, got {ns.seed}")
    if not 10 <= ns.runs <= 2**20:
        raise InputError(f"--runs must be between 10 and {2**20}, got {ns.runs}")
    if not 0 < ns.density <= 1:
        raise InputError(f"--density must be in (0, 1], got {ns.density}")
    scenario = load_scenario(_scenario_file(ns.file), _sets(ns.sets))
    parse_where(scenario, ns.where)  # before anything runs
    for text in ns.vary:
        parse_range(scenario, text)
    _importable("ema_workbench", "discover")
    if ns.vary:
        _importable("SALib", "discover --vary")
    out = ns.out or _next_dir([ns.file.stem], ns, "discover")
    discovery = api.discover(
        scenario, ns.where, ns.runs, vary=ns.vary or None, density=ns.density, seed=ns.seed
    )
    manifest = {
        "command": "discover",
        "scenario": str(scenario.path),
        "versions": package_versions(),
    }
    with _writing(out):
        out = api.save_discover(discovery, out, manifest=manifest, plots=not ns.no_plots)
    _say(f"wrote {out}/  ({', '.join(sorted(p.name for p in out.iterdir()))})")
    _say()
    _say(discover_text(discovery))
    return 0


def _importable(module: str, command: str) -> None:
    """InputError saying how to install an optional extra when `module` is missing."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise InputError(
            f'{command} needs {module}, an optional extra: pip install -e ".[ensemble-tools]"'
        )


def _compare(ns: argparse.Namespace) -> int:
    if len(ns.inputs) < 2:
        raise InputError("compare needs at least two inputs (scenario files or run directories)")
    if not math.isfinite(ns.threshold) or ns.threshold <= 0:
        raise InputError(f"--threshold must be a positive number, got {ns.threshold}")
    _check_ensemble(ns)
    _check_design(ns)
    sets = _sets(ns.sets)
    from stances import api
    from stances.analysis.compare import Comparison, parse_dyads
    from stances.result import package_versions
    from stances.text import final_text

    try:  # before anything runs: a mistake here should not cost the runs
        asked = _unique(parse_dyads(ns.dyads)) if ns.dyads is not None else None
    except ValueError as exc:
        raise InputError(str(exc)) from None
    out = ns.out or _next_dir(_labels(ns.inputs), ns, before="compare")
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
    if ns.design is not None:
        runs = f"Members from the design {ns.design} (bands: 50 % and 90 % of them)."
    sets_note = (
        ("Overrides: " + ", ".join(f"{k}={v}" for k, v in sets.items()) + ".") if sets else ""
    )
    comparison = Comparison(_labels(ns.inputs), results, f"{runs} {sets_note}".strip())
    if not comparison.actors or len(comparison.dates) < 2:
        raise InputError("the inputs share no actors or no time window; nothing to compare")
    dyads = asked if asked is not None else comparison.dyads_that_differ()
    if asked is not None and (bad := comparison.check_dyads(dyads)):
        raise InputError("; ".join(bad))
    manifest = {
        "inputs": [str(p) for p in ns.inputs],
        "labels": comparison.labels,
        "sets": sets,
        "design": None if ns.design is None else str(ns.design),
        "seed": ns.seed,
        "threshold": ns.threshold,
        "dyads": [f"{a} -> {b}" for a, b in dyads],
        "pairing": {  # how each variant's members meet the reference's (p_above, difference)
            label: comparison.pairing(i) or "paired: member k against member k"
            for i, label in enumerate(comparison.labels[1:], start=1)
        },
        "runs": [r.manifest for r in results],
        "versions": package_versions(),
    }
    with _writing(out):
        out = api.save_comparison(comparison, dyads, ns.threshold, out, manifest)
    _say(f"compared {', '.join(comparison.labels)} (reference: {comparison.labels[0]})")
    _say(f"wrote {out}/  ({', '.join(sorted(p.name for p in out.iterdir()))})")
    _say()
    _say(final_text(comparison, dyads, ns.threshold))
    stances = comparison.stances_that_differ()
    if stances:
        table = comparison.stance_table(stances)
        _say()
        _say(
            "Final positions on the issues that differ most (median; difference from the reference):"
        )
        for (issue, actor), rows in table.groupby(["issue", "actor"], sort=False):
            cells = "   ".join(
                f"{r.scenario} {r.final:.2f} ({r.difference:+.2f})" for r in rows.itertuples()
            )
            _say(f"  {actor} on {issue}: {cells}")
    return 0


def _sweep(ns: argparse.Namespace) -> int:
    _check_ensemble(ns)
    from stances import api
    from stances.analysis.compare import parse_dyads
    from stances.analysis.sweep import (
        Design,
        check_varied,
        parse_design,
        sweep,
        sweep_dyads,
        sweep_table,
    )
    from stances.errors import Position, Problem
    from stances.result import package_versions
    from stances.text import design_text, sweep_text

    problems, listed = [], []
    for text in ns.vary:  # every --vary and --design fault at once, before anything runs
        try:
            listed.append(parse_vary(text))
        except ValueError as exc:
            problems.append(
                Problem(Position(str(exc).partition(":")[0]), "", str(exc).partition(": ")[2])
            )
    design = parse_design(ns.design)
    if isinstance(design, str):
        problems.append(Problem(Position(f"--design {ns.design}"), "", design.partition(": ")[2]))
    asked_for = ns.design.partition(":")[0].strip() or "grid"
    varied, more = check_varied(listed, Design("grid" if asked_for == "grid" else "lhs", 1))
    problems += more
    if problems:
        raise ScenarioError(problems)
    assert not isinstance(design, str)
    file = _scenario_file(ns.file)
    try:  # before anything runs: a mistake here should not cost the runs
        asked = _unique(parse_dyads(ns.dyads)) if ns.dyads is not None else None
    except ValueError as exc:
        raise InputError(str(exc)) from None
    base = load_scenario(file, _sets(ns.sets))
    if asked is not None:
        _check_sweep_dyads(asked, base.actor_ids)
    seed = ns.seed if ns.seed is not None else base.seed
    swept = [key.rpartition(".")[2] for key, _ in varied]
    out = ns.out or _next_dir([file.stem], ns, before="sweep", also=swept)
    points = sweep(
        file,
        varied,
        sets=_sets(ns.sets),
        run_one=lambda sc: _ensemble(ns, sc),
        design=design,
        seed=seed,
    )
    dyads = asked if asked is not None else sweep_dyads(points)
    table = sweep_table(points, dyads)
    manifest = {
        "scenario": str(ns.file),
        "design": str(design),
        "vary": {k: v.text if hasattr(v, "text") else v for k, v in varied},
        "sets": _sets(ns.sets),
        "members": ns.runs,
        "seed": points[0].result.manifest["seed"],
        "dyads": [f"{a} -> {b}" for a, b in dyads],
        "versions": package_versions(),
    }
    if design.kind != "grid":
        manifest["design_seed"] = f"numpy SeedSequence([{seed}, DESIGN_STREAM = {0x5EED_DE51}])"
    with _writing(out):
        out = api.save_sweep(points, dyads, table, out, manifest)
    what = (
        " x ".join(f"{k} ({len(v)} values)" for k, v in varied if isinstance(v, list))
        if design.kind == "grid"
        else f"{', '.join(k for k, _ in varied)} ({design})"
    )
    _say(f"swept {what}: {len(points)} runs of {ns.runs} members")
    shown = (
        "the dyads given"
        if ns.dyads is not None
        else f"the {len(dyads)} dyads the values move most; --dyads to choose"
    )
    _say(f"wrote {out}/  (sweep.csv, manifest.json, and a sweep-*.png for each of {shown})")
    _say()
    _say(sweep_text(table) if design.kind == "grid" else design_text(points, dyads))
    return 0


def _check_sweep_dyads(dyads: list[Dyad], actors: Sequence[str]) -> None:
    """InputError for an unknown actor (listing the valid ids) or an actor's view of itself."""
    problems = []
    for a, b in dyads:
        problems += [
            f"--dyads: unknown actor '{x}'{suggest(x, actors)}; the actors: {', '.join(actors)}"
            for x in (a, b)
            if x not in actors
        ]
        if a == b:
            problems.append(f"--dyads: '{a}->{b}' is an actor's view of itself")
    if problems:
        raise InputError("; ".join(dict.fromkeys(problems)))


def _report(ns: argparse.Namespace) -> int:
    from stances import api
    from stances.report import ReportError
    from stances.store_read import DamagedRunError

    try:
        with _writing(ns.out or "results"):
            out = api.save_report(ns.directory, ns.out)
    except (ReportError, DamagedRunError) as exc:
        raise InputError(str(exc)) from None
    _say(f"wrote {out}  (one self-contained HTML file: open it in a browser, print it as PDF)")
    return 0


def _new(ns: argparse.Namespace) -> int:
    local = Path("scenarios") / "article.yaml"
    parent_path = ns.parent or (local if local.is_file() else ARTICLE)
    if not ns.name.name:
        raise InputError("give the new file a name, e.g. stances new scenarios/late-strike")
    if ns.name.suffix not in ("", *SCENARIO_SUFFIXES):
        raise InputError(
            f"{ns.name}: a scenario file ends in .yaml (or give the name without an ending)"
        )
    parent = load_scenario(_scenario_file(parent_path))
    # from the current folder, like every other command; `extends:` is written relative to it
    target = ns.name if ns.name.suffix else ns.name.with_suffix(".yaml")
    created = not target.parent.exists()
    try:
        with _writing(target):
            write_skeleton(parent, target)
    except FileExistsError:
        raise InputError(f"{target} already exists; choose another name") from None
    if created:
        _say(f"created the folder {target.parent}")
    _say(f"wrote {target}: it extends {parent_path} and runs as it is; edit it, then")
    _say(f"  stances compare {parent_path} {target}")
    return 0


def _schema(ns: argparse.Namespace) -> int:
    text = json.dumps(json_schema(), indent=2) + "\n"
    if ns.out is None:
        sys.stdout.write(text)
        return 0
    try:
        with _writing(ns.out), ns.out.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise InputError(
            f"{ns.out} already exists; choose another name (nothing is overwritten)"
        ) from None
    _say(f"wrote {ns.out}")
    return 0


def _validate(ns: argparse.Namespace) -> int:
    failed = False
    for file in _files_to_validate(ns.files):
        if isinstance(file, str):  # a folder without scenario files
            failed = True
            _complain(file)
            continue
        try:
            scenario = load_scenario(file)
        except ScenarioError as exc:
            failed = True
            for problem in exc.problems:
                _complain(problem)
            continue
        _say(f"{file}: ok ({len(scenario.actors)} actors, {len(scenario.events)} events)")
    return 2 if failed else 0


def _files_to_validate(paths: list[Path]) -> list[Path | str]:
    """The files given, with every scenario file of each folder given (in name order); a
    message (str) in place of a folder with none."""
    out: list[Path | str] = []
    for path in paths:
        if not path.is_dir():
            out.append(path)
        elif found := _scenario_files_in(path):
            out += found
        else:
            out.append(f"{path}: a folder without scenario files (.yaml); nothing to validate")
    return out


def _events(ns: argparse.Namespace) -> int:
    _say(f"{'name':<22} {'CAMEO':<6} {'weight':>6}  {'form':<10} description")
    for t in named_types().values():
        _say(f"{t.name:<22} {t.cameo:<6} {t.goldstein:>+6.1f}  {t.form.value:<10} {t.description}")
    _say(
        '\nAny CAMEO code works too: `cameo: "045"` (weights from Goldstein 1992, as GDELT publishes them).'
    )
    return 0


def _import_events(ns: argparse.Namespace) -> int:
    from stances.scenario import eventdata as ed

    keep = [a.strip() for a in ns.actors.split(",") if a.strip()]
    bad = [a for a in keep if not ed.ACTOR_ID.fullmatch(a)]
    if bad or len(set(keep)) < 2:
        raise InputError(
            f"--actors: expected two or more actor ids (upper-case letters, digits, _), got {ns.actors!r}"
        )
    if ns.start and ns.end and ns.end < ns.start:
        raise InputError(f"--to {ns.end} comes before --from {ns.start}")
    if ns.out is not None and ns.out.exists():
        raise InputError(f"{ns.out} already exists; choose another name (nothing is overwritten)")
    given = ed.load_map(ns.map) if ns.map else {}
    defaults = (
        {a: (a, None) for a in keep}
        if ns.source == "gdelt"
        else {name: (code, name) for code, name in ed.COUNTRIES.items()}
    )
    table = {**defaults, **given}
    ids = {code: actor for code, (actor, _) in table.items()}
    names = {a: ed.COUNTRIES.get(a, a) for a in keep}
    for actor, name in table.values():
        if actor in names and name:
            names[actor] = name
    unmapped = [a for a in keep if a not in ids.values()]
    if unmapped:
        raise InputError(
            f"--actors: no {ns.source.upper()} code or name maps to {', '.join(unmapped)}; "
            "give one with --map"
        )
    reading = ed.read_export(ns.file, ns.source, ids, keep, ns.start, ns.end)
    if reading.problems and ns.strict:
        raise ScenarioError(reading.problems)
    for problem in reading.problems:
        _complain(problem)
    window = ed.window_of(reading.records, ns.start, ns.end)
    events = ed.aggregate(reading.records, window[0], ns.source)
    command = " ".join(["stances import", ns.source, str(ns.file), "--actors", ",".join(keep)])
    header = ed.Header(ns.source, str(ns.file), command, names)
    target = ns.out or Path("imported.yaml")
    full = ed.scenario_text(events, window, header, top=modeline(target))
    ed.check_loads(full, str(target))
    text = ed.add_block_text(events, window, header) if ns.add else full
    summary = (
        f"{reading.rows} rows: {len(events)} events from {len(reading.records)} records; "
        f"skipped {reading.bad_rows} with problems, {reading.duplicates} duplicates, "
        f"{reading.others} between other actors, {reading.outside} outside the window"
    )
    if ns.out is None:
        sys.stdout.write(text)
        _complain(summary)
        return 0
    try:
        with _writing(ns.out):
            ed.write_new(text, ns.out)
    except FileExistsError:
        raise InputError(
            f"{ns.out} already exists; choose another name (nothing is overwritten)"
        ) from None
    _say(f"wrote {ns.out}: {summary}")
    return 0


def _app(ns: argparse.Namespace) -> int:
    """Check the file (its problems, exit 2, before any server starts), then serve the app:
    ``python -m solara run stances.app:page`` on 127.0.0.1, the file passed in the
    environment (STANCES_APP_SCENARIO)."""
    import subprocess

    path = _scenario_file(ns.file) if ns.file is not None else ARTICLE
    load_scenario(path)  # a ScenarioError here prints file:line:col problems, exit 2
    env = {**os.environ, "STANCES_APP_SCENARIO": str(Path(path).resolve())}
    command = [sys.executable, "-m", "solara", "run", "stances.app:page"]
    command += ["--host", "127.0.0.1", "--port", str(ns.port), "--no-open", "--production"]
    _say(f"stances app: http://127.0.0.1:{ns.port} (Ctrl-C stops it)")
    return subprocess.call(command, env=env)


COMMAND_FUNCTIONS = {
    "check": _check,
    "calibrate": _calibrate,
    "explain": _explain,
    "sensitivity": _sensitivity,
    "discover": _discover,
    "run": _run,
    "compare": _compare,
    "sweep": _sweep,
    "report": _report,
    "new": _new,
    "schema": _schema,
    "validate": _validate,
    "events": _events,
    "import": _import_events,
    "app": _app,
}


if __name__ == "__main__":
    sys.exit(main())
