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

import numpy as np
import pandas as pd

from stances.errors import suggest
from stances.result import Result

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


# ---------------------------------------------------------------------------------------------
# What differs between two scenarios, in words


def _event_keys(result: Result) -> dict[str, tuple]:
    """Each applied event's id -> (date, who, type, intensity, the last step a lasting event
    pressed in or None), to tell what differs."""
    events = result.events
    lasting = events["origin"] == "lasting"
    held = events[lasting].groupby("event")["step"].max().to_dict()
    ev = events[~lasting].drop_duplicates(["step", "event"])
    return {
        str(r["event"]): (
            r["date"],
            r["who"],
            r["type"],
            round(float(r["intensity"]), 6),
            held.get(r["event"]),
        )
        for r in ev.to_dict("records")
    }


SECTIONS_COMPARED = ("time", "actors", "relations", "baseline", "parameters", "issues", "seed")


def what_differs(reference: Result, variant: Result) -> str:
    """'removed a (21 May); added b (10 Jun); changed c; parameters differ' in words, from the
    applied events and the resolved scenarios in the manifests."""
    ref, var = _event_keys(reference), _event_keys(variant)
    removed = [k for k in ref if k not in var]
    added = [k for k in var if k not in ref]
    changed = [k for k in var if k in ref and var[k] != ref[k]]

    def when(keys: dict[str, tuple], k: str) -> str:
        return f"{k} ({pd.Timestamp(keys[k][0]):%d %b})"

    parts = []
    if removed:
        parts.append("removed " + ", ".join(when(ref, k) for k in removed))
    if added:
        parts.append("added " + ", ".join(when(var, k) for k in added))
    if changed:
        parts.append("changed " + ", ".join(when(var, k) for k in changed))
    a = reference.manifest.get("resolved_scenario", {})
    b = variant.manifest.get("resolved_scenario", {})
    differ = [key for key in SECTIONS_COMPARED if a.get(key) != b.get(key)]
    if differ:
        parts.append(", ".join(differ) + (" differ" if len(differ) > 1 else " differs"))
    return "; ".join(parts) or "the same scenario"
