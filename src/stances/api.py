"""The Python entry points: run a scenario, save and load run directories, write comparison and
sweep directories. They tie the rooms together (scenario -> engine -> Result -> store, analysis
and plots); the command line is a thin layer over them.

Mesa and matplotlib are imported where they are first needed, so that reading and validating
scenarios stays quick.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from stances.analysis.compare import Comparison, Dyad
from stances.analysis.sweep import SweepPoint
from stances.result import Result
from stances.scenario.builder import load_scenario
from stances.scenario.library import ARTICLE
from stances.scenario.types import Scenario
from stances.store import NextRunDir, load_run, save_run, write_manifest, write_new_directory

if TYPE_CHECKING:
    from stances.analysis.observations import Verdict
    from stances.engine.model import StanceModel


def run(
    scenario: Scenario | str | Path | None = None,
    seed: int | None = None,
    members: int = 1,
    workers: int = 1,
    *,
    first_member: int = 0,
    batch: int | None = None,
    dask: str | None = None,
    progress: bool | None = False,
) -> Result:
    """Run a scenario (default: the article) to the end of its time window.

    seed: the root seed (default: the scenario's); members: ensemble members, each drawing
    from its own seed (root seed, member index), members first_member, first_member + 1, ...;
    workers: processes to spread them over on this machine, or dask: the address of a Dask
    scheduler; batch: members per batch (default: about four batches per worker). progress:
    a progress bar on standard error (None: only on a terminal).
    """
    from stances.engine import ensemble

    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or ARTICLE)
    root, chunks = ensemble.run_chunks(
        spec,
        members=members,
        seed=seed,
        first_member=first_member,
        workers=workers,
        batch=batch,
        dask=dask,
        progress=progress,
    )
    return Result.from_chunks(spec, root, spec.step_dates(), chunks)


def run_figures(
    result: Result, verdicts: list[Verdict] | None = None
) -> dict[str, Callable[[Path], None]]:
    """The figures of a run directory: file name -> a function writing it at a path. With
    the verdicts of checked observations, relations.png draws each on its score's panel."""
    from stances import plots

    def relations(result: Result) -> Any:
        if not verdicts:
            return plots.relations_figure(result)
        from stances.analysis.observations import marks

        return plots.relations_figure(result, marks(result, verdicts))

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
) -> Path:
    """Write a run to a new directory with its tables, manifest and (with plots) figures; all
    or nothing, and FileExistsError rather than overwrite anything (``store.save_run``).
    extra: more files (name -> a function writing it at a path), e.g. observations.csv;
    verdicts: checked observations, drawn on relations.png."""
    figures = {**(run_figures(result, verdicts) if plots else {}), **(extra or {})}
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
    return Result.from_chunks(model.spec, model.seed, model.dates, [model.chunk()])


def check(result: Result, scenario: Scenario) -> tuple[list[Verdict], pd.DataFrame]:
    """Check a run of `scenario` against the scenario's observations: the verdicts and their
    table (one row per observation: holds, share of members, median margin, ...)."""
    from stances.analysis.observations import check_all, table

    verdicts = check_all(result, scenario.observations)
    return verdicts, table(verdicts)
