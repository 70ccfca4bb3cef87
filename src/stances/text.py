"""Summaries printed on the terminal: the largest changes of a run, the final scores of a
comparison, the final medians of a sweep, a calibration's posterior, an attribution's top events, a discovery's box. Plain text, one table each."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from stances.analysis.compare import SAME, Comparison, Dyad
from stances.analysis.sweep import SweepPoint, sensitivity, short_key
from stances.result import Result

if TYPE_CHECKING:
    from stances.analysis.calibrate import Calibration
    from stances.analysis.discover import Discovery
    from stances.analysis.explain import Explanation
    from stances.analysis.sensitivity import Sensitivity


def change_table(result: Result, rows: int = 8) -> str:
    """The dyads that changed most, with the events that moved them most at the time."""
    d0, d1 = result.dates[0], result.dates[-1]
    lines = [
        f"Largest changes, {d0:%d %b %Y} -> {d1:%d %b %Y} (scores from -1 hostile to +1 friendly)",
        f"  {'who -> whom':<12} {'start':>6} {'end':>6} {'change':>7}   events that moved it most (immediate effect)",
    ]
    for row in result.changes().head(rows).to_dict("records"):
        actor, toward = str(row["actor"]), str(row["toward"])
        drivers = ", ".join(f"{e} {c:+.2f}" for e, c in result.drivers(actor, toward))
        lines.append(
            f"  {actor + ' -> ' + toward:<12} {row['initial']:>+6.2f} {row['final']:>+6.2f} {row['change']:>+7.2f}   {drivers or 'none (observer effects only)'}"
        )
    return "\n".join(lines)


def final_text(comparison: Comparison, dyads: list[Dyad], threshold: float) -> str:
    """A printed table: final scores per dyad and scenario, differences at the end and at
    their largest (with its date), when they part and, for ensembles, the share of futures in
    which each variant ends above the reference. A pair a scenario lacks reads "absent".
    When no score differs, says so instead of printing a table of zeros."""
    labels = comparison.labels
    notes = [f"Note: {n}" for n in [*comparison.time_notes(), *comparison.pairing_notes()]]
    if comparison.no_score_differs():
        return "\n".join(
            [
                *notes,
                f"No score differs: {', '.join(labels[1:])} and {labels[0]} give the same scores "
                f"(within {SAME:g}) for every pair on every date from "
                f"{comparison.dates[0]:%d %b %Y} to {comparison.dates[-1]:%d %b %Y}.",
            ]
        )
    end = comparison.dates[-1]
    ensemble = any(r.members > 1 for r in comparison.results)
    many = len(labels) > 2
    table = [_final_row(comparison, dyad, threshold, ensemble, many) for dyad in dyads]
    width = max(len(c) for _, cells, _, _ in table for c in [*cells, *labels]) + 2
    note = "; then the share of futures ending above it" if ensemble else ""
    labels = [labels[0], *(f"{label} (share above)" if ensemble else label for label in labels[1:])]
    width = max(width, *(len(label) + 2 for label in labels))
    gap_width = max(len("largest gap (date)"), *(len(g) for _, _, g, _ in table))
    lines = [
        *notes,
        f"Final scores on {end:%d %b %Y} (median; in brackets the difference from {labels[0]}{note})",
        f"('largest gap': the difference at its largest over time; "
        f"'apart from': the first date they are more than {threshold:g} apart)",
        f"  {'who -> whom':<12}"
        + "".join(f"{label:>{width}}" for label in labels)
        + f"   {'largest gap (date)':<{gap_width}}   apart from",
    ]
    for name, row, gap, parting in table:
        lines.append(
            f"  {name:<12}"
            + "".join(f"{c:>{width}}" for c in row)
            + f"   {gap:<{gap_width}}   {parting}"
        )
    if any(comparison.absent_from(d) for d in dyads):
        lacks = [
            f"{label} has no {', '.join(a for a in comparison.every_actor if a not in r.actor_ids)}"
            for label, r in zip(comparison.labels, comparison.results, strict=True)
            if set(r.actor_ids) != set(comparison.every_actor)
        ]
        lines.append(f"  absent: {'; '.join(lacks)} (no difference without both sides)")
    return "\n".join(lines)


def _final_row(
    comparison: Comparison, dyad: Dyad, threshold: float, ensemble: bool, many: bool
) -> tuple[str, list[str], str, str]:
    """One dyad's cells: name, a cell per scenario, the largest gaps, the parting dates."""
    labels = comparison.labels
    cells: list[str] = []
    gaps: list[str] = []
    parts: list[str] = []
    for i in range(len(labels)):
        if not comparison.has(i, dyad):
            cells.append("absent")
            continue
        final = comparison.centre(i, dyad)[-1]
        if i == 0 or not comparison.has(0, dyad):
            cells.append(f"{final:+.2f}")
            continue
        cell = f"{final:+.2f} ({comparison.difference(i, dyad)[-1]:+.2f})"
        if ensemble:
            above = comparison.p_above(i, dyad)
            cell += f" {above:4.0%}" if above is not None else "  n/a"
        cells.append(cell)
        who = f"{labels[i]} " if many else ""
        gap, on = comparison.largest_gap(i, dyad)
        gaps.append(f"{who}{gap:+.2f} ({on:%d %b %Y})" if on else f"{who}none")
        parted = comparison.parting_date(i, dyad, threshold)
        if parted:
            parts.append(f"{who}{parted:%d %b %Y}")
    return f"{dyad[0]} -> {dyad[1]}", cells, "; ".join(gaps) or "-", "; ".join(parts) or "-"


def design_text(points: list[SweepPoint], dyads: list[Dyad]) -> str:
    """For a sampled design (lhs, sobol): each dyad's lowest and highest final median over the
    points, and the rank correlation of each varied key with it (which values matter)."""
    lines = [f"Final scores over {len(points)} points: the median over members at each point"]
    for dyad in dyads:
        finals = [float(p.result.band(*dyad)[2, -1]) for p in points]
        lo, hi = finals.index(min(finals)), finals.index(max(finals))
        lines += [
            f"  {dyad[0]} -> {dyad[1]}: from {finals[lo]:+.2f} ({points[lo].label}) "
            f"to {finals[hi]:+.2f} ({points[hi].label})",
            *(
                f"    rank correlation with {short_key(k):<32} {'  n/a' if r != r else f'{r:+.2f}'}"
                for k, r in sensitivity(points, dyad).items()
            ),
        ]
    return "\n".join(lines)


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
            values = ", ".join(f"{short_key(k)}={row[k]}" for k in keys)
            lines.append(
                f"    {values:<40} {row['final_median']:+.2f} [{row['final_q05']:+.2f}, {row['final_q95']:+.2f}]"
            )
    return "\n".join(lines)


def calibration_text(calibration: Calibration) -> str:
    """Each uncertain value's prior and posterior 90 % intervals and posterior median, and the
    share of members (weighted, after calibration) in which each observation holds."""
    from stances.analysis.calibrate import short_value

    prior, post = calibration.prior_quantiles, calibration.posterior_quantiles
    rows = []
    for u, (label, unit) in enumerate(zip(calibration.labels, calibration.units, strict=True)):
        rows.append(
            (
                label,
                f"{short_value(prior[0, u], unit)} .. {short_value(prior[2, u], unit)}",
                f"{short_value(post[1, u], unit)} [{short_value(post[0, u], unit)} .. "
                f"{short_value(post[2, u], unit)}]",
            )
        )
    width = max(len("value"), *(len(r[0]) for r in rows)) + 2
    middle = max(len("prior 5 % .. 95 %"), *(len(r[1]) for r in rows)) + 2
    lines = [
        f"  {'value':<{width}}{'prior 5 % .. 95 %':<{middle}}posterior median [5 % .. 95 %]",
        *(f"  {a:<{width}}{b:<{middle}}{c}" for a, b, c in rows),
        "",
        "Observations: share of members in which each holds, before -> after weighting",
    ]
    for row in calibration.observation_table().to_dict("records"):
        lines.append(
            f"  {row['observation']:<34} {row['prior_share']:>4.0%} -> {row['posterior_share']:>4.0%}"
            f"  ({row['what']})"
        )
    return "\n".join(lines)


WHEN = {"end": "at the end,", "at": "on", "largest departure": "at its largest departure,"}


def explanation_text(explanation: Explanation, top: int = 5) -> str:
    """For each explained score: without events -> with every event at each explained date,
    and the `top` events by the size of their contribution (Shapley value, its standard error
    when sampled, and beside it the score with every event but that one)."""
    from stances.analysis.explain import stderr_note

    lines = [f"{explanation.title}: {stderr_note(explanation)}."]
    for d, (a, b) in enumerate(explanation.dyads):
        for moment, k in explanation.moments(d):
            none, full = explanation.none[k, d], explanation.full[k, d]
            lines += [
                "",
                f"{a} -> {b} {WHEN[moment]} {explanation.dates[k]:%d %b %Y}: {none:+.2f} without "
                f"events, {full:+.2f} with them ({full - none:+.2f})",
            ]
            shown = [(ev, v) for ev, v in explanation.top(d, k, top) if abs(v) >= 0.0005]
            if not shown:
                lines.append("  no event moved it")
            for event, value in shown:
                e = explanation.events.index(event)
                err = "" if explanation.stderr is None else f" ± {explanation.stderr[e, k, d]:.3f}"
                alone = full - explanation.leave_one_out[e, k, d]
                lines.append(
                    f"  {value:+.3f}{err}  {event.id:<30} {event.date:%d %b %Y}  "
                    f"(without it alone: {alone:+.2f})"
                )
    return "\n".join(lines)


def sensitivity_text(analysis: Sensitivity) -> str:
    """Each outcome's factors, ranked by the method's first index, with every index and its
    95 % confidence half-width (the end outcomes only, when indices were worked out over
    time too)."""
    from stances.analysis.sensitivity import INDICES

    names = INDICES[analysis.method]
    lines = [
        f"{analysis.title}: {analysis.method} indices over {len(analysis.factors)} factors, "
        f"{analysis.rows:,} members (n = {analysis.n}); ± is the 95 % confidence half-width"
    ]
    outcomes = [o for o in analysis.outcomes if o.endswith(" at end")] or list(analysis.outcomes)
    width = max(len(f.key) for f in analysis.factors) + 2
    for outcome in outcomes:
        indices = analysis.indices[outcome]
        first = indices[names[0]][0]
        order = sorted(
            range(len(analysis.factors)), key=lambda f: -(first[f] if first[f] == first[f] else 0)
        )
        lines += ["", f"{outcome}", f"  {'factor':<{width}}" + "".join(f"{n:>16}" for n in names)]
        for f in order:
            cells = []
            for name in names:
                value, conf = indices[name][0][f], indices[name][1][f]
                cells.append(f"{value:.3f}" + (f" ± {conf:.3f}" if conf == conf else "        "))
            lines.append(
                f"  {analysis.factors[f].key:<{width}}" + "".join(f"{c:>16}" for c in cells)
            )
    return "\n".join(lines)


def discover_text(discovery: Discovery, rows: int = 8) -> str:
    """The chosen box in words, its limits per restricted input with quasi-p-values, and the
    inputs ranked by feature score."""
    box = discovery.box_table()
    shown = {f.key: f for f in discovery.inputs}
    lines = [discovery.words(), ""]
    chosen = box[box["restricted"]]
    if len(chosen):
        lines.append(f"  {'input':<40} {'lower':>14} {'upper':>14}  quasi-p (lower, upper)")
        for row in chosen.to_dict("records"):
            qp = ", ".join(
                "-" if q != q else f"{q:.2g}" for q in (row["qp_lower"], row["qp_upper"])
            )
            lines.append(
                f"  {row['input']:<40} {_limit(shown, row, 'lower'):>14} "
                f"{_limit(shown, row, 'upper'):>14}  {qp}"
            )
        lines.append("")
    lines.append("Feature scores (extra trees; larger: the input tells the members apart more)")
    for row in discovery.features.head(rows).to_dict("records"):
        lines.append(f"  {row['input']:<40} {row['score']:.3f}")
    return "\n".join(lines)


def _limit(inputs: dict, row: dict, side: str) -> str:
    value = row[side]
    return value if isinstance(value, str) else inputs[row["input"]].show(value)
