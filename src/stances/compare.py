"""Comparing runs: align several results on shared actors and dates, find where they part.

The first result is the reference. Results whose actors or time windows differ are compared on
what they share: the actors present in all of them, and the dates of the reference inside the
window common to all. A result with a coarser or shifted time grid is read "as of" each date:
its state at the last step boundary on or before that date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from stances.errors import suggest
from stances.results import Result, write_manifest, write_new_directory

Dyad = tuple[str, str]


def parse_dyads(text: str) -> list[Dyad]:
    """'AFG->PAK, PAK->AFG' -> [('AFG', 'PAK'), ('PAK', 'AFG')]; 'A<->B' gives both directions."""
    out: list[Dyad] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "<->" in part:
            a, b = (x.strip() for x in part.split("<->", 1))
            out += [(a, b), (b, a)]
        elif "->" in part:
            a, b = (x.strip() for x in part.split("->", 1))
            out.append((a, b))
        else:
            raise ValueError(
                f"--dyads: '{part}' is not a dyad; write 'A->B' or 'A<->B', separated by commas"
            )
    if not out:
        raise ValueError("--dyads: no dyad given; write e.g. --dyads 'AFG->PAK,IND<->AFG'")
    return out


@dataclass
class Comparison:
    """Several results side by side; labels name them in plots and tables (first = reference)."""

    labels: list[str]
    results: list[Result]
    note: str = ""  # how the inputs were run (members, --set), for captions

    def __post_init__(self) -> None:
        if len(self.results) < 2:
            raise ValueError("compare needs at least two scenarios or runs")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(f"two inputs have the same name: {self.labels}")

    @cached_property
    def actors(self) -> list[str]:
        """Actors present in every result, in the reference's order."""
        shared = set.intersection(*(set(r.actor_ids) for r in self.results))
        return [a for a in self.results[0].actor_ids if a in shared]

    @cached_property
    def dates(self) -> list[date]:
        """The reference's step dates inside the window every result covers."""
        lo = max(r.dates[0] for r in self.results)
        hi = min(r.dates[-1] for r in self.results)
        return [d for d in self.results[0].dates if lo <= d <= hi]

    def time_notes(self) -> list[str]:
        """Warnings when the results' time windows or step grids are not the same."""
        notes = []
        windows = {(r.dates[0], r.dates[-1]) for r in self.results}
        if len(windows) > 1:
            notes.append(
                f"the windows differ: compared from {self.dates[0]:%d %b %Y} to {self.dates[-1]:%d %b %Y}, the part all share"
            )
        grids = [[d for d in r.dates if self.dates[0] <= d <= self.dates[-1]] for r in self.results]
        if any(g != self.dates for g in grids):
            notes.append(
                "the step grids differ: each scenario is read as of the reference's dates (its state at "
                "its last step boundary on or before each date), so differences up to one step long can "
                "come from the grids alone"
            )
        return notes

    def dropped_actors(self) -> dict[str, list[str]]:
        """For each label, the actors left out because some other result lacks them."""
        return {
            label: [a for a in r.actor_ids if a not in self.actors]
            for label, r in zip(self.labels, self.results, strict=True)
        }

    def _rows(self, index: int) -> np.ndarray:
        """For each shared date, the row of result `index` that holds then (as of that date)."""
        dates = np.array(self.results[index].dates)
        return np.searchsorted(dates, np.array(self.dates), side="right") - 1

    def band(self, index: int, dyad: Dyad) -> np.ndarray:
        """Result `index`'s quantiles (5, 25, 50, 75, 95 %) for a dyad on the shared dates,
        shape (5, T)."""
        return self.results[index].band(*dyad)[:, self._rows(index)]

    def centre(self, index: int, dyad: Dyad) -> np.ndarray:
        """The median over members of one result's scores for a dyad, shape (T,)."""
        return self.band(index, dyad)[2]

    def difference(self, index: int, dyad: Dyad) -> np.ndarray:
        """Median of result `index` minus median of the reference, shape (T,)."""
        return self.centre(index, dyad) - self.centre(0, dyad)

    def p_above(self, index: int, dyad: Dyad) -> float | None:
        """The share of futures in which result `index` ends above the reference on a dyad.

        Members with the same index share their seed, so with equal member counts the
        comparison is member by member (paired); otherwise every pair of members is compared.
        None when either side's member scores were not kept.
        """
        ref, var = self.results[0], self.results[index]
        if not (ref.has_members and var.has_members):
            return None
        a = ref.score(*dyad)[self._rows(0)[-1]]
        b = var.score(*dyad)[self._rows(index)[-1]]
        if a.shape == b.shape:
            return float(np.mean(b > a))
        return float(np.mean(b[:, None] > a[None, :]))

    def parting_date(self, index: int, dyad: Dyad, threshold: float) -> date | None:
        """The first shared date on which result `index` differs from the reference by more
        than threshold (in score units), or None if it never does."""
        apart = np.flatnonzero(np.abs(self.difference(index, dyad)) > threshold)
        return self.dates[apart[0]] if apart.size else None

    def all_dyads(self) -> list[Dyad]:
        return [(a, b) for a in self.actors for b in self.actors if a != b]

    # Issue positions, compared like scores: (issue, actor) instead of a dyad

    @cached_property
    def stance_keys(self) -> list[tuple[str, str]]:
        """(issue, actor) for every issue all results have and every actor taking part in it
        in all of them."""
        issues = [
            name for name in self.results[0].issues if all(name in r.issues for r in self.results)
        ]
        return [
            (name, actor)
            for name in issues
            for actor in self.results[0].issues[name]["actors"]
            if all(actor in r.issues[name]["actors"] for r in self.results)
        ]

    def position_band(self, index: int, key: tuple[str, str]) -> np.ndarray:
        """Result `index`'s position quantiles for (issue, actor) on the shared dates, (5, T)."""
        return self.results[index].position_band(*key)[:, self._rows(index)]

    def stances_that_differ(self, most: int = 6, at_least: float = 0.01) -> list[tuple[str, str]]:
        """The (issue, actor) whose median position departs most from the reference's."""
        spread = {
            key: max(
                float(np.abs(self.position_band(i, key)[2] - self.position_band(0, key)[2]).max())
                for i in range(1, len(self.results))
            )
            for key in self.stance_keys
        }
        return [k for k in sorted(spread, key=lambda k: -spread[k]) if spread[k] >= at_least][:most]

    def stance_table(self, keys: list[tuple[str, str]]) -> pd.DataFrame:
        """One row per (issue, actor) and result: final median position and its difference."""
        rows = []
        for issue, actor in keys:
            reference = float(self.position_band(0, (issue, actor))[2, -1])
            for i, label in enumerate(self.labels):
                final = float(self.position_band(i, (issue, actor))[2, -1])
                rows.append(
                    {
                        "issue": issue,
                        "actor": actor,
                        "scenario": label,
                        "final": final,
                        "difference": final - reference,
                    }
                )
        return pd.DataFrame(rows, columns=["issue", "actor", "scenario", "final", "difference"])

    def dyads_that_differ(self, most: int = 6, at_least: float = 0.01) -> list[Dyad]:
        """The dyads whose largest difference from the reference (any result, any date) is
        greatest, at most `most`, leaving out those that never differ by `at_least`
        (unless none does); ties keep the reference's order."""
        spread = {
            d: max(np.abs(self.difference(i, d)).max() for i in range(1, len(self.results)))
            for d in self.all_dyads()
        }
        ranked = sorted(spread, key=lambda d: -spread[d])
        differing = [d for d in ranked if spread[d] >= at_least]
        return (differing or ranked)[:most]

    def check_dyads(self, dyads: list[Dyad]) -> list[str]:
        """Problems with requested dyads (actors not shared by all results)."""
        problems = []
        for a, b in dyads:
            for x in (a, b):
                if x not in self.actors:
                    problems.append(
                        f"--dyads: actor '{x}' is not in every compared scenario"
                        + suggest(x, self.actors)
                        + f" (shared: {', '.join(self.actors)})"
                    )
            if a == b:
                problems.append(f"--dyads: '{a}->{b}' is an actor's view of itself")
        return list(dict.fromkeys(problems))

    def final_table(self, dyads: list[Dyad], threshold: float) -> pd.DataFrame:
        """One row per dyad and result: final score (median), difference from the reference,
        and the first date they part by more than threshold."""
        rows = []
        for a, b in dyads:
            for i, label in enumerate(self.labels):
                final = float(self.centre(i, (a, b))[-1])
                diff = float(self.difference(i, (a, b))[-1])
                parted = self.parting_date(i, (a, b), threshold) if i else None
                above = self.p_above(i, (a, b)) if i else None
                rows.append(
                    {
                        "actor": a,
                        "toward": b,
                        "scenario": label,
                        "final": final,
                        "difference": diff,
                        "parts_on": parted.isoformat() if parted else "",
                        "p_above": np.nan if above is None else above,
                    }
                )
        return pd.DataFrame(rows)


def save_comparison(
    comparison: Comparison, dyads: list[Dyad], threshold: float, out: Path, manifest: dict
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


def final_text(comparison: Comparison, dyads: list[Dyad], threshold: float) -> str:
    """A printed table: final scores per dyad and scenario, differences, when they part and,
    for ensembles, the share of futures in which each variant ends above the reference."""
    labels = comparison.labels
    end = comparison.dates[-1]
    ensemble = any(r.members > 1 for r in comparison.results)
    table = []
    for dyad in dyads:
        cells, parts = [], []
        for i in range(len(labels)):
            final = comparison.centre(i, dyad)[-1]
            if i == 0:
                cells.append(f"{final:+.2f}")
                continue
            cell = f"{final:+.2f} ({comparison.difference(i, dyad)[-1]:+.2f})"
            above = comparison.p_above(i, dyad)
            if ensemble:
                cell += f" {above:4.0%}" if above is not None else "  n/a"
            cells.append(cell)
            parted = comparison.parting_date(i, dyad, threshold)
            if parted:
                parts.append(
                    f"{labels[i]} {parted:%d %b %Y}" if len(labels) > 2 else f"{parted:%d %b %Y}"
                )
        table.append((f"{dyad[0]} -> {dyad[1]}", cells, "; ".join(parts) or "-"))
    width = max(len(c) for _, cells, _ in table for c in [*cells, *labels]) + 2
    note = "; then the share of futures ending above it" if ensemble else ""
    labels = [labels[0], *(f"{label} (p>ref)" if ensemble else label for label in labels[1:])]
    width = max(width, *(len(label) + 2 for label in labels))
    lines = [f"Note: {n}" for n in comparison.time_notes()] + [
        f"Final scores on {end:%d %b %Y} (median; in brackets the difference from {labels[0]}{note}; "
        f"'parts' = first date more than {threshold:g} apart)",
        f"  {'who -> whom':<12}" + "".join(f"{label:>{width}}" for label in labels) + "   parts",
    ]
    for name, cells, parts in table:
        lines.append(f"  {name:<12}" + "".join(f"{c:>{width}}" for c in cells) + f"   {parts}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Sweeps: the same scenario over a grid of values


def sweep_dyads(points: list, most: int = 4) -> list[Dyad]:
    """The dyads whose final median moves most across the sweep's points."""
    ids = points[0].result.actor_ids
    finals = np.stack([p.result.median()[-1] for p in points])  # (P, N, N)
    spread = finals.max(axis=0) - finals.min(axis=0)
    dyads = [(a, b) for i, a in enumerate(ids) for j, b in enumerate(ids) if i != j]
    return sorted(dyads, key=lambda d: -spread[ids.index(d[0]), ids.index(d[1])])[:most]


def sweep_table(points: list, dyads: list[Dyad]) -> pd.DataFrame:
    """One row per point and dyad: the varied values, then the final median and 5-95 % range."""
    rows = []
    for point in points:
        for a, b in dyads:
            q05, q50, q95 = np.percentile(point.result.score(a, b)[-1], (5, 50, 95))
            rows.append(
                {
                    **point.values,
                    "actor": a,
                    "toward": b,
                    "final_q05": q05,
                    "final_median": q50,
                    "final_q95": q95,
                }
            )
    return pd.DataFrame(rows)


def sweep_text(table: pd.DataFrame) -> str:
    """The final median (5-95 %) of each dyad against the varied values."""
    keys = [
        c
        for c in table.columns
        if c not in ("actor", "toward", "final_q05", "final_median", "final_q95")
    ]
    lines = ["Final scores: median [5 %, 95 %] over members"]
    for (a, b), rows in table.groupby(["actor", "toward"], sort=False):
        lines.append(f"  {a} -> {b}")
        for row in rows.to_dict("records"):
            values = ", ".join(f"{k.split('.')[-1]}={row[k]}" for k in keys)
            lines.append(
                f"    {values:<40} {row['final_median']:+.2f} [{row['final_q05']:+.2f}, {row['final_q95']:+.2f}]"
            )
    return "\n".join(lines)


def save_sweep(
    points: list, dyads: list[Dyad], table: pd.DataFrame, out: Path, manifest: dict
) -> Path:
    """A new directory with sweep.csv, one figure per dyad and manifest.json."""
    from stances import plots

    def write(scratch: Path) -> None:
        table.to_csv(scratch / "sweep.csv", index=False, float_format="%.6f")
        for a, b in dyads:
            plots.sweep_figure(points, (a, b)).savefig(scratch / f"sweep-{a}-{b}.png", dpi=150)
        write_manifest(scratch, manifest)

    return write_new_directory(out, write)
