"""Comparing runs: align several results on shared actors and dates, find where they part.

The first result is the reference. Results whose actors or time windows differ are compared on
what they share: the actors present in all of them, and the dates of the reference inside the
window common to all. A result with a coarser or shifted time grid is read "as of" each date:
its state at the last step boundary on or before that date. Pairs of actors that only some
results have (a what-if that adds an actor) are kept apart: they are shown against "absent".

Members with the same index and root seed share their random draws, so two ensembles of the
same size, root seed and first member are *paired*: member k of a variant is compared with
member k of the reference (the difference of each pair, its quantiles, the share of pairs in
which the variant is above). Otherwise the comparison is unpaired (difference of medians, and
the share above estimated over all pairs of members by sorting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from importlib import import_module
from typing import Any

import numpy as np
import pandas as pd

from stances.errors import suggest
from stances.result import QUANTILES, Result

Dyad = tuple[str, str]

SAME = 1e-6  # scores closer than this count as equal (a stored run keeps six decimals)


def share_above(variant: np.ndarray, reference: np.ndarray) -> float:
    """The share of all pairs (i, j) with variant[i] > reference[j], shapes (K1,) and (K2,).

    Sorting the reference and counting, for each variant member, the reference members
    strictly below it (searchsorted): O((K1 + K2) log K2) time, O(K1 + K2) memory, never
    the K1 x K2 matrix. Ties (equal values) count as not above.
    """
    below = np.searchsorted(np.sort(reference), variant, side="left")
    return float(below.sum(dtype=np.int64) / (variant.size * reference.size))


def share_above_paired(variant: np.ndarray, reference: np.ndarray) -> float:
    """The share of members k with variant[k] > reference[k], both shape (K,); O(K) memory.
    Ties (variant[k] == reference[k], e.g. a member the what-if did not move) count as not
    above."""
    return float(np.count_nonzero(variant > reference) / variant.size)


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


@dataclass(repr=False)
class Comparison:
    """Several results side by side; labels name them in plots and tables (first = reference)."""

    labels: list[str]
    results: list[Result]
    note: str = ""  # how the inputs were run (members, --set), for captions
    _bands: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.results) < 2:
            raise ValueError("compare needs at least two scenarios or runs")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(f"two inputs have the same name: {self.labels}")

    def __repr__(self) -> str:
        """One line: the labels, shared actors and window, members, and the largest gap."""
        members = sorted({r.members for r in self.results})
        each = " or ".join(str(k) for k in members)
        who = f"{each} member{'s' if members != [1] else ''} each"
        gap = ""
        if self.actors and len(self.dates) > 0:
            found = self.largest_gaps(1)
            if len(found):
                top = found.iloc[0]
                gap = (
                    f"; largest gap {top['actor']} -> {top['toward']} {top['gap']:+.2f} on "
                    f"{top['on']:%Y-%m-%d} ({top['scenario']})"
                )
        return (
            f"<Comparison {' vs '.join(self.labels)}: {' '.join(self.actors)}; "
            f"{self.dates[0]} to {self.dates[-1]}; {who}{gap}>"
        )

    def _repr_html_(self) -> str:
        """A notebook's display: the largest gaps and the comparison figure
        (``notebook.comparison_html``, loaded by name as a Result loads its display)."""
        return str(import_module("stances.notebook").comparison_html(self))

    def largest_gaps(self, most: int = 6) -> pd.DataFrame:
        """The variants' largest differences from the reference over the shared dyads and
        dates, largest first, at most `most` rows: scenario (the variant's label), actor,
        toward, gap (signed, variant minus reference, score units), on (its first date,
        datetime64), reference and scenario (each's final score, median over members).
        Gaps no larger than SAME are left out."""
        rows = []
        for i in range(1, len(self.results)):
            for a, b in self.all_dyads():
                size, on = self.largest_gap(i, (a, b))
                if on is not None:
                    rows.append(
                        {
                            "scenario": self.labels[i],
                            "actor": a,
                            "toward": b,
                            "gap": size,
                            "on": pd.Timestamp(on),
                            "final_reference": float(self.centre(0, (a, b))[-1]),
                            "final_scenario": float(self.centre(i, (a, b))[-1]),
                        }
                    )
        columns = ["scenario", "actor", "toward", "gap", "on", "final_reference", "final_scenario"]
        table = pd.DataFrame(rows, columns=columns).astype({"on": "datetime64[ns]"})
        order = table["gap"].abs().sort_values(ascending=False, kind="stable").index
        return table.loc[order].head(most).reset_index(drop=True)

    @property
    def plot(self) -> Any:
        """The figures ``stances compare`` writes, drawn by the same code: ``comparison.plot()``
        (scores side by side), ``.plot.difference()``, ``.plot.stances()``; each takes the
        dyads to draw (default: those that differ most) and returns a matplotlib Figure
        (``notebook.ComparisonPlots``, loaded by name as a Result loads its figures)."""
        return import_module("stances.notebook").ComparisonPlots(self)

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
        """For each label, its actors that some other result lacks (their pairs are shown
        against "absent", not dropped: see absent_dyads)."""
        return {
            label: [a for a in r.actor_ids if a not in self.actors]
            for label, r in zip(self.labels, self.results, strict=True)
        }

    @cached_property
    def every_actor(self) -> list[str]:
        """Actors present in any result: the reference's, then the others' in their order."""
        return list(dict.fromkeys(a for r in self.results for a in r.actor_ids))

    @cached_property
    def names(self) -> dict[str, str]:
        """Every actor's name (the first result that has it names it)."""
        out: dict[str, str] = {}
        for r in reversed(self.results):
            out.update(r.actors)
        return {a: out[a] for a in self.every_actor}

    def has(self, index: int, dyad: Dyad) -> bool:
        """Whether result `index` has both actors of the dyad."""
        ids = self.results[index].actor_ids
        return dyad[0] in ids and dyad[1] in ids

    def absent_from(self, dyad: Dyad) -> list[str]:
        """The labels of the results that lack an actor of the dyad."""
        return [label for i, label in enumerate(self.labels) if not self.has(i, dyad)]

    def absent_dyads(self) -> list[Dyad]:
        """Pairs that some results have and others lack (an actor added or missing)."""
        return [
            (a, b)
            for a in self.every_actor
            for b in self.every_actor
            if a != b
            and any(self.has(i, (a, b)) for i in range(len(self.results)))
            and (a not in self.actors or b not in self.actors)
        ]

    def pairing(self, index: int) -> str:
        """'' when result `index` is paired with the reference member by member (both keep
        member scores, with the same member count, root seed and first member); otherwise
        why not, in words."""
        ref, var = self.results[0], self.results[index]
        label = self.labels[index]
        if not (ref.has_members and var.has_members):
            return f"{label}: member scores were not kept, so members cannot be paired"
        if ref.members != var.members:
            return f"{label} has {var.members} members, {self.labels[0]} {ref.members}"
        for key, what in (("seed", "root seed"), ("first_member", "first member")):
            a, b = ref.manifest.get(key, 0), var.manifest.get(key, 0)
            if a != b:
                return f"{label} has {what} {b}, {self.labels[0]} {a}"
        return ""

    def pairing_notes(self) -> list[str]:
        """For ensembles, a note for each variant not paired with the reference."""
        if all(r.members <= 1 for r in self.results):
            return []
        return [
            f"{why}: compared unpaired (difference of medians; the share above over all pairs "
            "of members)"
            for i in range(1, len(self.results))
            if (why := self.pairing(i))
        ]

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

    def difference_band(self, index: int, dyad: Dyad) -> np.ndarray | None:
        """Quantiles (5, 25, 50, 75, 95 %) over k of member k of result `index` minus member k
        of the reference, on the shared dates, shape (5, T); None when not paired."""
        key = (index, dyad)
        if key not in self._bands:
            band = None
            if not self.pairing(index):
                gaps = (
                    self.results[index].score_array(*dyad)[self._rows(index)]
                    - self.results[0].score_array(*dyad)[self._rows(0)]
                )  # (T, K)
                band = np.percentile(gaps, QUANTILES, axis=1)
            self._bands[key] = band
        return self._bands[key]

    def difference(self, index: int, dyad: Dyad) -> np.ndarray:
        """How far result `index` is from the reference on a dyad, shape (T,): the median over
        members of the paired differences when paired, else the difference of the medians
        (for one member each, both are the difference of the runs)."""
        band = self.difference_band(index, dyad)
        if band is not None:
            return band[2]
        return self.centre(index, dyad) - self.centre(0, dyad)

    def largest_gap(self, index: int, dyad: Dyad) -> tuple[float, date | None]:
        """The difference (signed) with the largest size over the shared dates, and its first
        date (None when it never exceeds SAME): a strike removed can leave -0.5 for months and
        +0.02 at the end."""
        diff = self.difference(index, dyad)
        k = int(np.argmax(np.abs(diff)))
        return float(diff[k]), self.dates[k] if abs(diff[k]) > SAME else None

    def p_above(self, index: int, dyad: Dyad) -> float | None:
        """The share of futures in which result `index` ends above the reference on a dyad.

        Paired (see pairing): the share of members k with variant_k > reference_k. Unpaired:
        the share of all pairs of members (i, j) with variant_i > reference_j, counted by
        sorting. Ties count as not above. None when either side's member scores were not kept.
        """
        ref, var = self.results[0], self.results[index]
        if not (ref.has_members and var.has_members):
            return None
        a = ref.score_array(*dyad)[self._rows(0)[-1]]
        b = var.score_array(*dyad)[self._rows(index)[-1]]
        if not self.pairing(index):
            return share_above_paired(b, a)
        return share_above(b, a)

    def no_score_differs(self) -> bool:
        """Whether every result has the reference's actors and, on the shared dates, the same
        scores for every pair (member by member when both keep members of equal count, else
        their quantiles), within SAME."""
        if self.absent_dyads():
            return False
        for i in range(1, len(self.results)):
            ref, var = self.results[0], self.results[i]
            members = ref.has_members and var.has_members and ref.members == var.members
            for dyad in self.all_dyads():
                if members:
                    a = ref.score_array(*dyad)[self._rows(0)]
                    b = var.score_array(*dyad)[self._rows(i)]
                else:
                    a, b = self.band(0, dyad), self.band(i, dyad)
                if np.abs(b - a).max() > SAME:
                    return False
        return True

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

    def dyads_that_differ(
        self, most: int = 6, at_least: float = 0.01, absent: int = 4
    ) -> list[Dyad]:
        """The shared dyads whose largest gap from the reference (any result, any date, not
        only the end) is greatest, at most `most`, leaving out those that never differ by
        `at_least` (unless none does and no pair is absent anywhere); ties keep the reference's
        order. Then at most `absent` pairs that some results lack (an added actor's), those
        whose median moves most from its start first."""
        spread = {
            d: max(np.abs(self.difference(i, d)).max() for i in range(1, len(self.results)))
            for d in self.all_dyads()
        }
        ranked = sorted(spread, key=lambda d: -spread[d])
        differing = [d for d in ranked if spread[d] >= at_least]
        moved = {
            d: max(
                float(np.abs(self.centre(i, d) - self.centre(i, d)[0]).max())
                for i in range(len(self.results))
                if self.has(i, d)
            )
            for d in self.absent_dyads()
        }
        extra = sorted(moved, key=lambda d: -moved[d])[:absent]
        return (differing or ([] if extra else ranked))[:most] + extra

    def check_dyads(self, dyads: list[Dyad]) -> list[str]:
        """Problems with requested dyads (an actor in no compared result, a pair no result
        has, an actor's view of itself)."""
        problems = []
        for a, b in dyads:
            unknown = [x for x in (a, b) if x not in self.every_actor]
            for x in unknown:
                problems.append(
                    f"--dyads: actor '{x}' is in no compared scenario"
                    + suggest(x, self.every_actor)
                    + f" (actors: {', '.join(self.every_actor)})"
                )
            if a == b:
                problems.append(f"--dyads: '{a}->{b}' is an actor's view of itself")
            elif not unknown and not any(self.has(i, (a, b)) for i in range(len(self.results))):
                problems.append(f"--dyads: no compared scenario has both '{a}' and '{b}'")
        return list(dict.fromkeys(problems))

    def final_table(self, dyads: list[Dyad], threshold: float) -> pd.DataFrame:
        """One row per dyad and result: whether the result has the pair (present), its final
        score (median), the difference from the reference at the end and at its largest
        (largest_gap, on largest_gap_on), the first date they part by more than threshold,
        and the share of futures ending above (p_above). A result lacking the pair, or a
        variant whose reference lacks it, leaves what it cannot have empty."""
        rows = []
        for a, b in dyads:
            for i, label in enumerate(self.labels):
                present = self.has(i, (a, b))
                both = present and bool(i) and self.has(0, (a, b))
                gap, gap_on = self.largest_gap(i, (a, b)) if both else (np.nan, None)
                parted = self.parting_date(i, (a, b), threshold) if both else None
                above = self.p_above(i, (a, b)) if both else None
                diff = float(self.difference(i, (a, b))[-1]) if both else np.nan
                rows.append(
                    {
                        "actor": a,
                        "toward": b,
                        "scenario": label,
                        "present": present,
                        "final": float(self.centre(i, (a, b))[-1]) if present else np.nan,
                        "difference": 0.0 if present and not i else diff,
                        "largest_gap": 0.0 if present and not i else gap,
                        "largest_gap_on": gap_on.isoformat() if gap_on else "",
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
    applied events (named by their labels where they have one) and the resolved scenarios in
    the manifests."""
    ref, var = _event_keys(reference), _event_keys(variant)
    removed = [k for k in ref if k not in var]
    added = [k for k in var if k not in ref]
    changed = [k for k in var if k in ref and var[k] != ref[k]]

    labels = {
        str(r["event"]): str(r["label"])
        for events in (reference.events, variant.events)
        if "label" in events.columns  # a table written before labels has none
        for r in events[["event", "label"]].to_dict("records")
        if isinstance(r["label"], str) and r["label"]
    }

    def when(keys: dict[str, tuple], k: str) -> str:
        return f"{labels.get(k, k)} ({pd.Timestamp(keys[k][0]):%d %b})"

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
