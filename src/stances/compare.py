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
    return out


@dataclass
class Comparison:
    """Several results side by side; labels name them in plots and tables (first = reference)."""

    labels: list[str]
    results: list[Result]

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

    def dropped_actors(self) -> dict[str, list[str]]:
        """For each label, the actors left out because some other result lacks them."""
        return {
            label: [a for a in r.actor_ids if a not in self.actors]
            for label, r in zip(self.labels, self.results, strict=True)
        }

    def series(self, index: int, dyad: Dyad) -> np.ndarray:
        """Result `index`'s scores for a dyad on the shared dates, shape (T, K)."""
        result = self.results[index]
        scores = result.score(*dyad)
        rows = np.searchsorted(np.array(result.dates), np.array(self.dates), side="right") - 1
        return scores[rows]

    def centre(self, index: int, dyad: Dyad) -> np.ndarray:
        """The median over members of one result's scores for a dyad, shape (T,)."""
        return np.median(self.series(index, dyad), axis=1)

    def difference(self, index: int, dyad: Dyad) -> np.ndarray:
        """Median of result `index` minus median of the reference, shape (T,)."""
        return self.centre(index, dyad) - self.centre(0, dyad)

    def parting_date(self, index: int, dyad: Dyad, threshold: float) -> date | None:
        """The first shared date on which result `index` differs from the reference by more
        than threshold (in score units), or None if it never does."""
        apart = np.flatnonzero(np.abs(self.difference(index, dyad)) > threshold)
        return self.dates[apart[0]] if apart.size else None

    def all_dyads(self) -> list[Dyad]:
        return [(a, b) for a in self.actors for b in self.actors if a != b]

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
                        f"--dyads: actor '{x}' is not in every compared scenario (shared: {', '.join(self.actors)})"
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
                rows.append(
                    {
                        "actor": a,
                        "toward": b,
                        "scenario": label,
                        "final": final,
                        "difference": diff,
                        "parts_on": parted.isoformat() if parted else "",
                    }
                )
        return pd.DataFrame(rows)


def save_comparison(
    comparison: Comparison, dyads: list[Dyad], threshold: float, out: Path, manifest: dict
) -> Path:
    """A new directory with comparison.png, difference.png, final.csv and manifest.json."""
    from stances import plots

    def write(scratch: Path) -> None:
        comparison.final_table(dyads, threshold).to_csv(
            scratch / "final.csv", index=False, float_format="%.6f"
        )
        plots.comparison_figure(comparison, dyads).savefig(scratch / "comparison.png", dpi=150)
        plots.difference_figure(comparison, dyads, threshold).savefig(
            scratch / "difference.png", dpi=150
        )
        write_manifest(scratch, manifest)

    return write_new_directory(out, write)


def final_text(comparison: Comparison, dyads: list[Dyad], threshold: float) -> str:
    """A printed table: final scores per dyad and scenario, differences, and when they part."""
    labels = comparison.labels
    end = comparison.dates[-1]
    width = max(14, *(len(label) + 2 for label in labels))
    lines = [
        f"Final scores on {end:%d %b %Y} (median; in brackets the difference from {labels[0]}; "
        f"'parts' = first date more than {threshold:g} apart)",
        f"  {'who -> whom':<12}" + "".join(f"{label:>{width}}" for label in labels) + "   parts",
    ]
    for dyad in dyads:
        cells, parts = [], []
        for i in range(len(labels)):
            final = comparison.centre(i, dyad)[-1]
            if i == 0:
                cells.append(f"{final:+.2f}")
            else:
                cells.append(f"{final:+.2f} ({comparison.difference(i, dyad)[-1]:+.2f})")
                parted = comparison.parting_date(i, dyad, threshold)
                if parted:
                    parts.append(
                        f"{labels[i]} {parted:%d %b %Y}"
                        if len(labels) > 2
                        else f"{parted:%d %b %Y}"
                    )
        lines.append(
            f"  {dyad[0] + ' -> ' + dyad[1]:<12}"
            + "".join(f"{c:>{width}}" for c in cells)
            + "   "
            + ("; ".join(parts) or "-")
        )
    return "\n".join(lines)
