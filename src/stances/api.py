"""The Python entry points: run a scenario, save and load run directories, write comparison and
sweep directories, calibrate a scenario on its observations. They tie the rooms together
(scenario -> engine -> Result -> store, analysis and plots); the command line is a thin layer
over them.

Mesa and matplotlib are imported where they are first needed, so that reading and validating
scenarios stays quick.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from stances.analysis.compare import Comparison, Dyad
from stances.analysis.sweep import SweepPoint
from stances.result import Result
from stances.scenario.builder import load_scenario
from stances.scenario.design import Design, columns_of, parse_design
from stances.scenario.library import ARTICLE
from stances.scenario.types import ParameterError, Scenario, keyword_problem
from stances.store import NextRunDir, load_run, save_run, write_manifest, write_new_directory

if TYPE_CHECKING:
    from stances.analysis.calibrate import Calibration
    from stances.analysis.discover import Discovery
    from stances.analysis.explain import Explanation
    from stances.analysis.observations import Verdict
    from stances.analysis.sensitivity import Sensitivity
    from stances.engine.model import StanceModel


def run(
    scenario: Scenario | str | Path | None = None,
    seed: int | None = None,
    members: int | None = None,
    workers: int = 1,
    *,
    first_member: int = 0,
    batch: int | None = None,
    dask: str | None = None,
    progress: bool | None = False,
    design: pd.DataFrame | Mapping[str, Any] | Design | None = None,
) -> Result:
    """Run a scenario (default: the article) to the end of its time window.

    seed: the root seed (default: the scenario's); members: ensemble members, each drawing
    from its own seed (root seed, member index), members first_member, first_member + 1, ...
    (default 1, or one per row of the design); workers: processes to spread them over on this
    machine, or dask: the address of a Dask scheduler; batch: members per batch (default:
    about four batches per worker). progress: a progress bar on standard error (None: only on
    a terminal).

    design: chosen values, one row per member (row r is member first_member + r), a column
    per value named by its dotted key as for ``--set``: ``parameters.kappa_observer``,
    ``parameters.memory_half_life`` (weeks), ``relations.A -> B``, ``baseline.A -> B``,
    ``events.ID.intensity``, ``events.ID.date`` (dates, datetime64 or YYYY-MM-DD),
    ``events.ID.until``. A designed value replaces the file's (a distribution too: it is not
    drawn); the others are drawn as without a design. Raises DesignError (a ValueError and a
    ScenarioError) with one problem per unknown column (did you mean ...) and per bad cell
    (row, column); ParameterError when `members` is given and is not the number of rows.
    ``Result.experiments()`` gives the inputs back, ``Result.outcomes()`` the scores.
    """
    from stances.engine import ensemble

    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or ARTICLE)
    checked = design_of(spec, design)
    count = _members_of(checked, members)
    root, chunks = ensemble.run_chunks(
        spec,
        members=count,
        seed=seed,
        first_member=first_member,
        workers=workers,
        batch=batch,
        dask=dask,
        progress=progress,
        design=checked,
    )
    return Result.from_chunks(spec, root, spec.step_dates(), chunks, design=checked)


def design_of(
    spec: Scenario, design: pd.DataFrame | Mapping[str, Any] | Design | None
) -> Design | None:
    """A design (a DataFrame, a mapping of column -> values) checked against the scenario as
    plain numpy columns (``scenario.design.parse_design``); a ``Design`` as it is."""
    if design is None or isinstance(design, Design):
        return design
    if isinstance(design, pd.DataFrame | Mapping):  # as plain numpy columns, then checked
        return parse_design(spec, columns_of(design))
    raise ParameterError(
        [
            keyword_problem(
                "run",
                "design",
                f"expected a pandas DataFrame or a mapping of column -> values, got {type(design).__name__}",
            )
        ]
    )


def _members_of(design: Design | None, members: int | None) -> int:
    """The number of members: `members` (default 1), or the design's rows."""
    if design is None:
        return 1 if members is None else members
    if members is not None and members != design.rows:
        message = f"the design has {design.rows} rows, one per member; got members={members}"
        raise ParameterError([keyword_problem("run", "members", message)])
    return design.rows


def run_figures(
    result: Result,
    verdicts: list[Verdict] | None = None,
    pairs: list[tuple[str, str]] | None = None,
) -> dict[str, Callable[[Path], None]]:
    """The figures of a run directory: file name -> a function writing it at a path. With
    the verdicts of checked observations, relations.png draws each on its score's panel;
    pairs: the pairs relations.png draws (default: those that moved most)."""
    from stances import plots

    def relations(result: Result) -> Any:
        if not verdicts:
            return plots.relations_figure(result, pairs=pairs)
        from stances.analysis.observations import marks

        return plots.relations_figure(result, marks(result, verdicts), pairs=pairs)

    figures: dict[str, Callable[[Result], Any]] = {
        "relations.png": relations,
        "matrix.png": plots.matrix_figure,
    }
    if result.issues:
        figures["stances.png"] = plots.stances_figure
    return {name: _writer(draw, result) for name, draw in figures.items()}


def _writer(draw: Callable[[Result], Any], result: Result) -> Callable[[Path], None]:
    """A function that draws the figure of `result` and writes it (150 dpi) at a path."""

    def write(path: Path) -> None:
        draw(result).savefig(path, dpi=150)

    return write


def save(
    result: Result,
    directory: Path | str | NextRunDir,
    *,
    plots: bool = True,
    keep_members: bool = False,
    extra: dict[str, Callable[[Path], None]] | None = None,
    verdicts: list[Verdict] | None = None,
    pairs: list[tuple[str, str]] | None = None,
) -> Path:
    """Write a run to a new directory with its tables, manifest and (with plots) figures; all
    or nothing, and FileExistsError rather than overwrite anything (``store.save_run``).
    extra: more files (name -> a function writing it at a path), e.g. observations.csv;
    verdicts: checked observations, drawn on relations.png; pairs: the pairs it draws."""
    figures = {**(run_figures(result, verdicts, pairs) if plots else {}), **(extra or {})}
    return save_run(result, directory, keep_members=keep_members, figures=figures)


def load(directory: Path | str) -> Result:
    """Read a run directory back (``store.load_run``)."""
    return load_run(directory)


def save_comparison(
    comparison: Comparison,
    dyads: list[Dyad],
    threshold: float,
    out: Path | NextRunDir,
    manifest: dict,
) -> Path:
    """A new directory with comparison.png, difference.png, final.csv and manifest.json; with
    issues the results share, also stances.png and final-stances.csv (the positions that
    differ most)."""
    from stances import plots

    stances = comparison.stances_that_differ()

    def write(scratch: Path) -> None:
        comparison.final_table(dyads, threshold).to_csv(
            scratch / "final.csv", index=False, float_format="%.6f"
        )
        if stances:
            comparison.stance_table(stances).to_csv(
                scratch / "final-stances.csv", index=False, float_format="%.6f"
            )
            plots.stance_comparison_figure(comparison, stances).savefig(
                scratch / "stances.png", dpi=150
            )
        plots.comparison_figure(comparison, dyads).savefig(scratch / "comparison.png", dpi=150)
        plots.difference_figure(comparison, dyads, threshold).savefig(
            scratch / "difference.png", dpi=150
        )
        write_manifest(scratch, manifest)

    return write_new_directory(out, write)


def save_sweep(
    points: list[SweepPoint],
    dyads: list[Dyad],
    table: pd.DataFrame,
    out: Path | NextRunDir,
    manifest: dict,
) -> Path:
    """A new directory with sweep.csv, one figure per dyad and manifest.json."""
    from stances import plots

    def write(scratch: Path) -> None:
        table.to_csv(scratch / "sweep.csv", index=False, float_format="%.6f")
        for a, b in dyads:
            plots.sweep_figure(points, (a, b)).savefig(scratch / f"sweep-{a}-{b}.png", dpi=150)
        write_manifest(scratch, manifest)

    return write_new_directory(out, write)


def result_of(model: StanceModel) -> Result:
    """A model's run so far (steps taken, events applied) as a Result."""
    return Result.from_chunks(
        model.spec, model.seed, model.dates, [model.chunk()], design=model.design
    )


def check(result: Result, scenario: Scenario) -> tuple[list[Verdict], pd.DataFrame]:
    """Check a run of `scenario` against the scenario's observations: the verdicts and their
    table (one row per observation: holds, share of members, median margin, ...)."""
    from stances.analysis.observations import check_all, table

    verdicts = check_all(result, scenario.observations)
    return verdicts, table(verdicts)


def calibrate(
    scenario: Scenario | str | Path | None = None,
    members: int = 2000,
    seed: int | None = None,
    tolerance: float = 0.05,
    *,
    tolerance_days: float | None = None,
    workers: int = 1,
    batch: int | None = None,
    dask: str | None = None,
    progress: bool | None = False,
) -> Calibration:
    """Calibrate a scenario (default: the article): its uncertain values are the priors, its
    observations what the members are weighted by (``analysis.calibrate``).

    Runs `members` members (seed, workers, batch, dask, progress as for ``run``), then weighs
    each by the product over the observations of Phi(margin / tolerance): tolerance in score
    units (default 0.05), tolerance_days for the dates of extremes (default one step). Returns
    the Calibration: posterior_table(), weights_table(), band_table(), ess, warnings (also
    issued as Python warnings, CalibrationWarning). CalibrationError (a ScenarioError) when the
    scenario has no uncertain values or no observations (checked before anything runs), or
    when every weight underflows.
    """
    import warnings

    from stances.analysis.calibrate import CalibrationError, problems_with
    from stances.analysis.calibrate import calibrate as weigh

    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or ARTICLE)
    problems = problems_with(spec)
    if problems:
        raise CalibrationError(problems)
    result = run(
        spec,
        seed=seed,
        members=members,
        workers=workers,
        batch=batch,
        dask=dask,
        progress=progress,
    )
    calibration = weigh(result, spec, tolerance, tolerance_days)
    for text in calibration.warnings:
        warnings.warn(text, CalibrationWarning, stacklevel=2)
    return calibration


class CalibrationWarning(UserWarning):
    """A calibration that rests on few members (a small effective sample size)."""


def save_calibration(
    calibration: Calibration,
    out: Path | NextRunDir,
    *,
    form: str = "median",
    sets: dict[str, Any] | None = None,
    manifest: dict | None = None,
    plots: bool = True,
) -> Path:
    """A new directory with posterior.csv, weights.csv, bands.csv, observations.csv,
    calibrated.yaml (a what-if extending the calibrated file: form 'median' or 'distribution',
    with the overrides `sets`), manifest.json and, with plots, posterior.png and bands.png."""
    from stances.analysis.calibrated_file import calibrated_text

    spec = calibration.scenario

    def write(scratch: Path) -> None:
        tables = {
            "posterior.csv": calibration.posterior_table(),
            "weights.csv": calibration.weights_table(),
            "observations.csv": calibration.observation_table(),
        }
        for name, table in tables.items():
            table.to_csv(scratch / name, index=False, float_format="%.10g")
        calibration.band_table().to_csv(scratch / "bands.csv", index=False, float_format="%.6f")
        text = calibrated_text(calibration, spec.path, scratch, form, sets)
        (scratch / "calibrated.yaml").write_text(text, encoding="utf-8")
        if plots:
            from stances import plots as figures

            figures.posterior_figure(calibration).savefig(scratch / "posterior.png", dpi=150)
            dyads = calibration.observed_dyads()[:12]
            figures.calibration_bands_figure(calibration, dyads).savefig(
                scratch / "bands.png", dpi=150
            )
        write_manifest(
            scratch,
            {
                **(manifest or {}),
                "scenario": str(spec.path),
                "members": calibration.members,
                "seed": calibration.result.manifest.get("seed"),
                "tolerance": calibration.tolerance,
                "tolerance_days": calibration.tolerance_days,
                "effective_sample_size": calibration.ess,
                "calibrated_as": form,
                "sets": sets or {},
                "warnings": calibration.warnings,
                "run": calibration.result.manifest,
            },
        )

    return write_new_directory(out, write)


def explain(
    scenario: Scenario | str | Path | None = None,
    dyads: list[tuple[str, str]] | None = None,
    *,
    at: date | None = None,
    member: int = 0,
    seed: int | None = None,
    orders: int | None = None,
    most: int = 4,
) -> Explanation:
    """Which events made each chosen score (default: the article; ``analysis.explain``).

    dyads: (actor, toward) pairs, e.g. ``[("AFG", "PAK")]``; default: the `most` scores all
    the events together move furthest. at: explain this date instead of the window's end.
    member: the ensemble member whose draws every coalition copies; seed: the root seed
    (default the file's); orders: sample this many random orders of the events instead of
    all 2**n coalitions (the default up to 13 events). Returns an Explanation: Shapley values
    of every event at every step boundary, leave-one-out effects, and ``table()``.
    """
    from stances.analysis.explain import explain as attribute

    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or ARTICLE)
    return attribute(spec, dyads, at=at, member=member, seed=seed, orders=orders, most=most)


def save_explanation(
    explanation: Explanation,
    out: Path | NextRunDir,
    *,
    manifest: dict | None = None,
    plots: bool = True,
) -> Path:
    """A new directory with explain.csv (``Explanation.table``), manifest.json and, with
    plots, one waterfall figure per dyad (explain-A-B.png)."""

    def write(scratch: Path) -> None:
        explanation.table().to_csv(scratch / "explain.csv", index=False, float_format="%.10g")
        if plots:
            from stances import plots as figures

            for d, (a, b) in enumerate(explanation.dyads):
                figure = figures.explain_figure(explanation, d)
                figure.savefig(scratch / f"explain-{a}-{b}.png", dpi=130)
        write_manifest(
            scratch,
            {
                **(manifest or {}),
                "title": explanation.title,
                "method": explanation.method,
                "member": explanation.member,
                "dyads": [f"{a} -> {b}" for a, b in explanation.dyads],
                "explained_date": explanation.dates[explanation.explained].isoformat(),
                "events": [event.id for event in explanation.events],
            },
        )

    return write_new_directory(out, write)


def sensitivity(
    scenario: Scenario | str | Path | None = None,
    method: str = "sobol",
    n: int = 256,
    outcomes: list[str] | None = None,
    *,
    vary: list[str] | None = None,
    seed: int | None = None,
    over_time: str | None = None,
    most: int = 4,
) -> Sensitivity:
    """Global sensitivity of scores to the uncertain values (``analysis.sensitivity``).

    method: 'sobol' (S1, ST; n (2D + 2) members for D factors), 'morris' (mu*, sigma; n
    trajectories, n (D + 1) members) or 'delta' (delta, S1; n members). outcomes: 'A->B',
    'A->B at end' or 'A->B at YYYY-MM-DD' (default: the `most` end scores that vary most over
    the sample). vary: ranges 'KEY=LO..HI' as factors instead of the file's uncertain values.
    over_time: a dyad 'A->B' whose indices are also worked out at every step boundary. The
    sample runs as one ensemble through ``design=``; seed: its root seed and SALib's.
    """
    from stances.analysis.sensitivity import (
        Outcome,
        SensitivityError,
        factors_of,
        parse_outcome,
        parse_range,
    )
    from stances.analysis.sensitivity import (
        sensitivity as analyse,
    )
    from stances.errors import Position, Problem

    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or ARTICLE)
    factors = [parse_range(spec, text) for text in vary] if vary else factors_of(spec)
    if not factors:
        where = Position(str(spec.path))
        raise SensitivityError(
            [
                Problem(
                    where,
                    "uncertain values",
                    "nothing to vary: the file has no uncertain "
                    "values; give ranges with --vary KEY=LO..HI",
                )
            ]
        )
    asked = [parse_outcome(spec, text) for text in outcomes or []]
    timed = parse_outcome(spec, over_time) if over_time else None
    dates = spec.step_dates()
    root = spec.seed if seed is None else seed
    if timed is not None:
        asked_or_end = asked or [Outcome(timed.actor, timed.toward)]
        over = [Outcome(timed.actor, timed.toward, d) for d in dates[1:-1] if d <= spec.time.end]
        asked = asked_or_end + [o for o in over if o not in asked_or_end]

    def evaluate(design: dict) -> dict:
        result = run(spec, seed=root, design=design)
        ends = result.outcomes()
        values = {f"{c} at end": ends[c].to_numpy() for c in ends.columns}
        for o in asked:
            if o.at is not None:
                values[o.label] = result.outcomes(at=o.at)[o.column].to_numpy()
        return values

    labels = [o.label for o in asked] or None
    return analyse(spec.title, factors, labels, method, n, root, evaluate, most)


def save_sensitivity(
    analysis: Sensitivity,
    out: Path | NextRunDir,
    *,
    manifest: dict | None = None,
    plots: bool = True,
    over_time: str | None = None,
) -> Path:
    """A new directory with sensitivity.csv (every index of every factor and outcome),
    design.csv (the sample and its outcomes), manifest.json and, with plots,
    sensitivity.png (the indices as bars with confidence intervals) and, given a dyad
    `over_time` ('A -> B'), sensitivity-over-time.png."""

    def write(scratch: Path) -> None:
        analysis.table().to_csv(scratch / "sensitivity.csv", index=False, float_format="%.6g")
        analysis.design().to_csv(scratch / "design.csv", index=False, float_format="%.10g")
        if plots:
            from stances import plots as figures

            figures.sensitivity_figure(analysis).savefig(scratch / "sensitivity.png", dpi=130)
            if over_time is not None:
                figures.sensitivity_over_time_figure(analysis, over_time).savefig(
                    scratch / "sensitivity-over-time.png", dpi=130
                )
        write_manifest(
            scratch,
            {
                **(manifest or {}),
                "title": analysis.title,
                "method": analysis.method,
                "n": analysis.n,
                "members": analysis.rows,
                "factors": {f.key: f.describe() for f in analysis.factors},
                "outcomes": list(analysis.outcomes),
            },
        )

    return write_new_directory(out, write)


def compare(
    inputs: list[Scenario | str | Path | Result],
    labels: list[str] | None = None,
    *,
    members: int = 1,
    seed: int | None = None,
) -> Comparison:
    """Scenarios side by side (the first is the reference): each input a Scenario, a scenario
    file, a run directory or a Result already run; `members` and `seed` for the ones that run.
    Labels default to the files' names (or the titles). The Comparison's tables are tidy
    DataFrames (``final_table``, ``stance_table``) and its figures those ``stances compare``
    writes (``stances.plots.comparison_figure``, ``difference_figure``)."""
    results, names = [], []
    for item in inputs:
        if isinstance(item, Result):
            results.append(item)
            names.append(item.title)
            continue
        path = None if isinstance(item, Scenario) else Path(item)
        if path is not None and path.is_dir():
            results.append(load_run(path))
            names.append(path.name)
            continue
        spec = item if isinstance(item, Scenario) else load_scenario(item)
        results.append(run(spec, seed=seed, members=members))
        names.append(spec.path.stem)
    if labels is None:
        labels = [f"{n}#{i + 1}" if names.count(n) > 1 else n for i, n in enumerate(names)]
    return Comparison(list(labels), results)


def discover(
    scenario: Scenario | str | Path | None = None,
    where: str = "AFG->PAK < 0 at end",
    members: int = 1000,
    *,
    vary: list[str] | None = None,
    density: float = 0.8,
    seed: int | None = None,
    workers: int = 1,
) -> Discovery:
    """Scenario discovery (``analysis.discover``): under which combinations of the uncertain
    values the condition `where` holds ('A->B < 0 at end', 'A->B > 0.2 at YYYY-MM-DD',
    'A->B < C->D').

    Runs `members` members: each draws the file's uncertain values; vary: ranges 'KEY=LO..HI'
    sampled by a Latin hypercube (SALib) as a design, the other uncertain values still drawn.
    The inputs are ``Result.experiments()``. PRIM (EMA Workbench) peels a box; the one reported
    is the box of highest coverage among those of density >= `density`. DiscoverError (a
    ScenarioError) for a bad condition (checked before anything runs), nothing that varies, or
    a condition that holds in no member or in all.
    """
    from stances.analysis.discover import DiscoverError, inputs_of, parse_where
    from stances.analysis.discover import discover as find
    from stances.analysis.sensitivity import parse_range, problem_of
    from stances.analysis.sensitivity import sample as lhs
    from stances.errors import Position, Problem

    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or ARTICLE)
    condition = parse_where(spec, where)
    factors = [parse_range(spec, text) for text in vary or []]
    if not factors and not spec.uncertain:
        raise DiscoverError(
            [
                Problem(
                    Position(str(spec.path)),
                    "uncertain values",
                    "nothing varies: the file has no uncertain values; give ranges with "
                    "--vary KEY=LO..HI",
                )
            ]
        )
    root = spec.seed if seed is None else seed
    design = None
    if factors:
        X = lhs(problem_of(factors), "delta", members, root)
        design = {f.key: f.written(X[:, i]) for i, f in enumerate(factors)}
    result = run(
        spec, seed=root, members=None if design else members, design=design, workers=workers
    )
    inputs, values = inputs_of(spec, result.experiments())
    score, holds = condition.holds(result.outcomes(at=condition.when))
    return find(spec.title, condition, inputs, values, score, holds, density, root)


def save_discover(
    discovery: Discovery,
    out: Path | NextRunDir,
    *,
    manifest: dict | None = None,
    plots: bool = True,
) -> Path:
    """A new directory with boxes.csv (the peeling trajectory), box.csv (the chosen box's
    limits and quasi-p-values), features.csv (feature scores), experiments.csv (every member's
    inputs, score and whether the condition holds), manifest.json and, with plots,
    discover.png."""

    def write(scratch: Path) -> None:
        discovery.trajectory_table().to_csv(scratch / "boxes.csv", index=False, float_format="%.6g")
        discovery.box_table().to_csv(scratch / "box.csv", index=False, float_format="%.10g")
        discovery.features.to_csv(scratch / "features.csv", index=False, float_format="%.6g")
        discovery.experiments_table().to_csv(
            scratch / "experiments.csv", index=False, float_format="%.10g"
        )
        if plots:
            from stances import plots as figures

            figures.discover_figure(discovery).savefig(scratch / "discover.png", dpi=130)
        write_manifest(
            scratch,
            {
                **(manifest or {}),
                "title": discovery.title,
                "where": discovery.condition.label,
                "members": discovery.members,
                "rule": f"the box of highest coverage among those of density >= {discovery.density:g}",
                "chosen_box": discovery.chosen,
                "in_words": discovery.words(),
            },
        )

    return write_new_directory(out, write)


def report(directory: Path | str) -> str:
    """The report of a run or comparison directory as one self-contained HTML document
    (``report.report_html``): ReportError if it is neither, DamagedRunError if it is damaged."""
    from stances.report import report_html

    return report_html(directory)


def save_report(directory: Path | str, out: Path | str | None = None) -> Path:
    """Write the report of a run or comparison directory and return its path: at `out`
    (FileExistsError if it exists), or by default results/NAME-report-NNN.html in the current
    folder (NAME the directory's name, NNN the next free number); atomically, never inside the
    directory and never over an existing file."""
    from stances.report import default_output, report_html, write_report

    text = report_html(directory)
    if out is not None:
        return write_report(text, Path(out))
    return write_report(text, default_output(Path(directory)), numbered=True)
