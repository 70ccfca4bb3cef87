"""Comparing scenarios: scores side by side, their differences, sweeps, and issue positions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from stances.result import Result

from stances.plots.common import (
    PALETTE,
    REFERENCE,
    dyad_grid,
    event_list,
    finish,
    line_with_band,
    scenario_colour,
    touches,
)


def comparison_figure(comparison, dyads: list[tuple[str, str]]) -> Figure:
    """One panel per dyad, one line per scenario; each scenario's events marked in its colour.
    A pair that some scenarios lack is drawn for those that have it, its title saying so."""
    fig = Figure(layout="constrained")
    axes, ncols = dyad_grid(fig, len(dyads), extra_rows=0.25 * len(comparison.results))
    x = comparison.dates
    names = comparison.names
    n = len(comparison.results)
    for ax, (a, b) in zip(axes, dyads, strict=True):
        ax.axhline(0, color="black", lw=0.6)
        for i, label in enumerate(comparison.labels):
            if not comparison.has(i, (a, b)):
                ax.plot([], [], color=scenario_colour(i), lw=1.8, label=label)  # in the legend
                continue
            colour = scenario_colour(i)
            bands = comparison.results[i].members > 1
            line_with_band(ax, x, comparison.band(i, (a, b)), colour, label, "-", bands)
            events = event_list(comparison.results[i])
            touching = events[events["event"].isin(touches(comparison.results[i], a, b))]
            touching = touching[
                (touching["date"] >= pd.Timestamp(x[0])) & (touching["date"] <= pd.Timestamp(x[-1]))
            ]
            _event_rug(ax, touching["date"], colour, n - 1 - i)
        ax.set_ylim(-1.05, 1.05)
        absent = comparison.absent_from((a, b))
        where = f"\n(absent from {', '.join(absent)})" if absent else ""
        ax.set_title(
            f"how {names[a]} regards {names[b]}{where}", fontsize=9, loc="left", pad=rug_pad(n)
        )
    axes[0].plot(
        [], [], ls="none", marker="v", ms=4.5, color="#555555", label="event (above the panel)"
    )
    title = f"{_versus(comparison)}: how each state regards another\n{_titles(comparison)}"
    note = (
        "Triangles above each panel, one row per scenario in its colour: the events that moved "
        "that pair, at their dates (markers, not scores)."
    )
    finish(fig, axes[::ncols], comparison, "score (−1 hostile … +1 friendly)", title, note)
    return fig


RUG_ROW = 5.5  # pt between the rows of event markers above a panel, one row per scenario


def rug_pad(rows: int) -> float:
    """Points between a panel's top and its title that leave room for `rows` rows of events."""
    return 4.0 + rows * RUG_ROW + 3.0


def _event_rug(ax, dates: pd.Series, colour: str, row: int) -> None:
    """The events at `dates` as downward triangles in a row above the panel's top edge,
    outside the score range (row 0 nearest the edge, RUG_ROW points per row)."""
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    if dates.empty:
        return
    lift = ScaledTranslation(0, (4.0 + row * RUG_ROW) / 72, ax.figure.dpi_scale_trans)
    ax.plot(
        mdates.date2num(dates.to_numpy()),
        [1.0] * len(dates),
        transform=blended_transform_factory(ax.transData, ax.transAxes) + lift,
        ls="none",
        marker="v",
        ms=4.5,
        color=colour,
        alpha=0.9,
        clip_on=False,
    )


def _versus(comparison) -> str:
    """'article vs no-mediation': the scenarios' labels."""
    return " vs ".join(comparison.labels)


def _titles(comparison) -> str:
    """Each scenario's label with its title, one line each for up to three scenarios
    ('article: India's outreach' / 'no-mediation: What if ...'), else joined by '; '."""
    return ("\n" if len(comparison.labels) <= 3 else "; ").join(
        f"{label}: {result.title}"
        for label, result in zip(comparison.labels, comparison.results, strict=True)
    )


def difference_figure(comparison, dyads: list[tuple[str, str]], threshold: float) -> Figure:
    """Each scenario minus the reference, per dyad, with the date they first part by > threshold.

    Paired ensembles (member k of the variant minus member k of the reference) show the median
    of those differences and their 50 % / 90 % bands; unpaired ones the difference of medians.
    A pair the reference or the variant lacks has no difference: the panel says so."""
    fig = Figure(layout="constrained")
    axes, ncols = dyad_grid(fig, len(dyads), extra_rows=0.25 * len(comparison.results))
    x = comparison.dates
    names = comparison.names
    variants = range(1, len(comparison.results))
    largest = max(
        [threshold]
        + [
            float(np.abs(band[[0, 4]] if band is not None else comparison.difference(i, d)).max())
            for i in variants
            for d in dyads
            if comparison.has(0, d) and comparison.has(i, d)
            for band in [comparison.difference_band(i, d)]
        ]
    )
    for ax, dyad in zip(axes, dyads, strict=True):
        ax.axhspan(-threshold, threshold, color="#eeeeee", lw=0)
        ax.axhline(0, color=REFERENCE, lw=0.8)
        for i in variants:
            colour = scenario_colour(i)
            if not (comparison.has(0, dyad) and comparison.has(i, dyad)):
                ax.plot([], [], color=colour, lw=1.8, label=comparison.labels[i])
                continue
            band = comparison.difference_band(i, dyad)
            bands = band is not None and comparison.results[i].members > 1
            centre = band if band is not None else np.stack([comparison.difference(i, dyad)] * 5)
            line_with_band(ax, x, centre, colour, comparison.labels[i], "-", bands)
            _parting_mark(ax, x, comparison.parting_date(i, dyad, threshold), colour, i)
        absent = comparison.absent_from(dyad)
        if absent:
            ax.text(
                0.5,
                0.5,
                f"absent from {', '.join(absent)}:\nno difference to draw\n(scores in comparison.png)",
                transform=ax.transAxes,
                fontsize=7,
                ha="center",
                va="center",
            )
        shares = [
            f"{comparison.labels[i]}: {p:.0%}"
            for i in variants
            if comparison.has(0, dyad)
            and comparison.has(i, dyad)
            and (p := comparison.p_above(i, dyad)) is not None
            and comparison.results[i].members > 1
        ]
        if shares:
            ax.text(
                0.01,
                0.03,
                "ends above the reference in " + ", ".join(shares) + " of futures",
                transform=ax.transAxes,
                fontsize=6.5,
                va="bottom",
            )
        ax.set_ylim(-1.1 * largest, 1.1 * largest)  # one scale for all panels: sizes compare
        ax.set_title(f"how {names[dyad[0]]} regards {names[dyad[1]]}", fontsize=9, loc="left")
    paired = [i for i in variants if not comparison.pairing(i)]
    ensemble = any(r.members > 1 for r in comparison.results)
    how = (
        "member k minus member k: median and 50 % / 90 % bands of the paired differences"
        if ensemble and len(paired) == len(variants)
        else "difference of medians"
        if ensemble and not paired
        else "paired differences where paired, else difference of medians"
        if ensemble
        else "difference of the runs"
    )
    ref = comparison.labels[0]
    minus = ", ".join(comparison.labels[1:])
    title = (
        f"{_versus(comparison)}: how far {minus} departs from {ref}\n"
        f"({minus} minus {ref}; {how})\n{_titles(comparison)}"
    )
    note = (
        f"Grey band: ±{threshold:g}, inside which two scenarios count as the same; "
        "'parts': the first date the median difference leaves it."
        + "".join(f" Note: {n}." for n in comparison.pairing_notes())
    )
    ylabel = f"difference from {ref}\n(+ friendlier, − more hostile)"
    finish(fig, axes[::ncols], comparison, ylabel, title, note)
    return fig


def _parting_mark(ax, x: list, parted, colour: str, i: int) -> None:
    """A dashed line on the parting date, labelled (left of the line when late)."""
    if not parted:
        return
    ax.axvline(parted, color=colour, ls="--", lw=0.9)
    late = (parted - x[0]).days > 0.7 * (x[-1] - x[0]).days  # label left of the line
    ax.text(
        parted,
        0.98 - 0.09 * (i - 1),
        f"parts {parted:%d %b} " if late else f" parts {parted:%d %b}",
        transform=ax.get_xaxis_transform(),
        fontsize=6.5,
        color=colour,
        va="top",
        ha="right" if late else "left",
    )


def design_figure(points: list, dyad: tuple[str, str]) -> Figure:
    """A sampled sweep (lhs, sobol): one panel per varied key, each point's final median of
    the dyad (with its 5-95 % range over members) against the key's value."""
    from stances.analysis.sweep import short_key

    keys = list(points[0].values)
    fig = Figure(figsize=(4.2 * len(keys), 4.0), layout="constrained")
    axes = fig.subplots(1, len(keys), squeeze=False, sharey=True)[0]
    names = points[0].result.actors
    finals = np.array([p.result.band(*dyad)[[0, 2, 4], -1] for p in points])  # (P, 3)
    for ax, key in zip(axes, keys, strict=True):
        x, ticks = _axis_values([p.values[key] for p in points])
        ax.errorbar(
            x,
            finals[:, 1],
            yerr=[finals[:, 1] - finals[:, 0], finals[:, 2] - finals[:, 1]],
            fmt="o",
            ms=3,
            lw=0.6,
            alpha=0.7,
            color=PALETTE[0],
        )
        if ticks:
            ax.set_xticks(range(len(ticks)), ticks, fontsize=7)
            ax.set_xlim(-0.5, len(ticks) - 0.5)
        ax.set_xlabel(short_key(key), fontsize=8)
        ax.grid(alpha=0.25)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("final score (median; bars: 5-95 %)", fontsize=8)
    members = points[0].result.members
    fig.suptitle(
        f"{points[0].result.title}\nhow {names[dyad[0]]} regards {names[dyad[1]]} at the end, "
        f"over {len(points)} sampled points\n{members} member{'s' * (members > 1)} per point "
        "(the same seeds for every point)",
        fontsize=10,
    )
    return fig


def _axis_values(values: list[str]) -> tuple[list, list[str]]:
    """Values to place on an axis: numbers (a duration's number), dates, or else the
    positions of the distinct values (and those values as tick labels)."""
    import re
    from datetime import date

    try:
        return [float(v) for v in values], []
    except ValueError:
        pass
    try:
        return [date.fromisoformat(v) for v in values], []
    except ValueError:
        pass
    numbers = [re.match(r"[-+]?\d+\.?\d*", v) for v in values]
    if all(numbers):
        return [float(m.group(0)) for m in numbers if m], []
    distinct = list(dict.fromkeys(values))
    return [distinct.index(v) for v in values], distinct


def sweep_figure(points: list, dyad: tuple[str, str]) -> Figure:
    """One dyad over time, one median and band per point of a sweep; for a sampled design
    (points with unit coordinates), the final scores against each value (design_figure)."""
    if points[0].coords:
        return design_figure(points, dyad)
    fig = Figure(figsize=(10, 4.8), layout="constrained")
    ax = fig.subplots()
    names = points[0].result.actors
    for i, point in enumerate(points):
        result = point.result
        colour = PALETTE[i % len(PALETTE)]
        line_with_band(
            ax, result.dates, result.band(*dyad), colour, point.label, "-", result.members > 1
        )
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("score (−1 hostile … +1 friendly)")
    ax.grid(axis="y", alpha=0.25)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.legend(fontsize=8, loc="best", frameon=False)
    members = points[0].result.members
    fig.suptitle(
        f"{points[0].result.title}: how {names[dyad[0]]} regards {names[dyad[1]]}, for each value swept\n"
        f"median and 50 % / 90 % bands of {members} members per value (the same seeds for every value)",
        fontsize=10,
    )
    return fig


ACTOR_COLOURS = [
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#666666",
]


def stances_figure(result: Result) -> Figure:
    """Each issue: every taking-part actor's position over time (0 to 1), with bands for an
    ensemble."""
    issues = list(result.issues.items())
    fig = Figure(figsize=(11, 3.0 * len(issues) + 1.0), layout="constrained")
    axes = fig.subplots(len(issues), 1, squeeze=False, sharex=True)[:, 0]
    x = list(result.dates)
    bands = result.members > 1
    for ax, (name, info) in zip(axes, issues, strict=True):
        for actor in info["actors"]:
            colour = ACTOR_COLOURS[result.actor_ids.index(actor) % len(ACTOR_COLOURS)]
            label = f"{result.actors.get(actor, actor)}"
            line_with_band(ax, x, result.position_band(name, actor), colour, label, "-", bands)
        ax.set_ylim(-0.03, 1.03)
        ax.grid(axis="y", alpha=0.25)
        ax.set_ylabel("position (0 … 1)", fontsize=8)
        ax.set_title(f"{name}: {info['description']}", fontsize=9, loc="left")
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
        ax.tick_params(labelsize=7)
    axes[-1].xaxis.set_major_formatter(
        mdates.ConciseDateFormatter(axes[-1].xaxis.get_major_locator())
    )
    what = f"median and 50 % / 90 % bands of {result.members} members" if bands else "one run"
    fig.suptitle(
        f"{result.title}\nPositions on the issues: each actor moves toward those it regards well, "
        f"anchored to where it started (Friedkin–Johnsen; {what})",
        fontsize=10,
    )
    return fig


def stance_comparison_figure(comparison, keys: list[tuple[str, str]]) -> Figure:
    """One panel per (issue, actor): its position over time, one line (and band) per scenario."""
    fig = Figure(layout="constrained")
    axes, ncols = dyad_grid(fig, len(keys), extra_rows=0.25 * len(comparison.results))
    names = comparison.results[0].actors
    for ax, key in zip(axes, keys, strict=True):
        for i, label in enumerate(comparison.labels):
            bands = comparison.results[i].members > 1
            line_with_band(
                ax,
                comparison.dates,
                comparison.position_band(i, key),
                scenario_colour(i),
                label,
                "-",
                bands,
            )
        ax.set_ylim(-0.03, 1.03)
        ax.set_title(f"{names.get(key[1], key[1])} on {key[0]}", fontsize=9, loc="left")
    title = "Scenarios compared: positions on the issues (0 … 1) that differ most"
    finish(fig, axes[::ncols], comparison, "position (0 … 1)", title, "")
    return fig
