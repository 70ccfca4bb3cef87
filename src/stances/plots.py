"""Figures: one question per figure, titled in words, dates on the x axis, events marked.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot), so they need no display and
leave no global state behind.
"""

from __future__ import annotations

from datetime import date
from itertools import combinations
from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from stances.results import Result

CONFLICT = "#b2182b"
COOPERATION = "#2166ac"
NEUTRAL = "#7f7f7f"
FORWARD = "#1b7837"  # how the first actor of a pair regards the second
BACKWARD = "#762a83"  # and the other way round
MOVED = 0.005  # an event "touches" a dyad in the plots when it moves it by more than this


def event_colour(goldstein: float) -> str:
    """Red for conflict, blue for cooperation, grey for neutral events."""
    return CONFLICT if goldstein < 0 else COOPERATION if goldstein > 0 else NEUTRAL


def event_list(result: Result) -> pd.DataFrame:
    """One row per applied event, numbered in the order applied: n, date, event, who, type, ..."""
    ev = result.events
    if ev.empty:
        return pd.DataFrame(columns=["n", "date", "event", "who", "type", "goldstein", "origin"])
    first = ev.drop_duplicates(["step", "event"]).reset_index(drop=True)
    first = first[["date", "event", "who", "type", "goldstein", "origin"]].copy()
    first.insert(0, "n", np.arange(1, len(first) + 1))
    first["date"] = pd.to_datetime(first["date"])
    return first


def pairs_to_show(result: Result, most: int = 12) -> list[tuple[str, str]]:
    """Unordered pairs of actors, those that moved most first, at most `most` of them."""
    ids = result.actor_ids
    history = result.history.mean(axis=1)
    span = history.max(axis=0) - history.min(axis=0)
    pairs = list(combinations(range(len(ids)), 2))
    pairs.sort(key=lambda p: -(span[p[0], p[1]] + span[p[1], p[0]]))
    chosen = sorted(pairs[:most])
    return [(ids[i], ids[j]) for i, j in chosen]


def _line_with_band(
    ax: Axes, x: list[date], series: np.ndarray, colour: str, label: str, style: str
) -> None:
    """Median line; with more than one member, 25-75 % and 5-95 % bands around it."""
    if series.shape[1] > 1:
        q05, q25, q50, q75, q95 = np.percentile(series, [5, 25, 50, 75, 95], axis=1)
        ax.fill_between(x, q05, q95, color=colour, alpha=0.12, linewidth=0)
        ax.fill_between(x, q25, q75, color=colour, alpha=0.25, linewidth=0)
        ax.plot(x, q50, color=colour, lw=1.8, ls=style, label=label)
    else:
        ax.plot(x, series[:, 0], color=colour, lw=1.8, ls=style, label=label)


def _touches(result: Result, a: str, b: str) -> set[str]:
    ev = result.events
    moved = ev[
        (((ev["actor"] == a) & (ev["toward"] == b)) | ((ev["actor"] == b) & (ev["toward"] == a)))
        & (ev["change"].abs() > MOVED)
    ]
    return set(moved["event"])


def _levels(
    starts: np.ndarray, widths: np.ndarray, hi: float, pad: float
) -> tuple[list[int], list[bool]]:
    """Stack labels in rows: each goes in the lowest row free at its date.

    A label reads rightwards from its date, or leftwards when it would run past `hi`.
    Returns each label's row and whether it reads leftwards.
    """
    ends: list[float] = []
    rows, leftwards = [], []
    for x, w in zip(starts, widths, strict=True):
        left = x + w > hi
        lo_edge, hi_edge = (x - w, x) if left else (x, x + w)
        row = next((r for r, end in enumerate(ends) if end + pad < lo_edge), len(ends))
        if row == len(ends):
            ends.append(hi_edge)
        else:
            ends[row] = hi_edge
        rows.append(row)
        leftwards.append(left)
    return rows, leftwards


def _event_strip(ax: Axes, events: pd.DataFrame, x0: date, x1: date) -> None:
    """The events on the time axis: a marker at each date, its label stacked so none overlap."""
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if events.empty:
        return
    lo, hi = mdates.date2num(x0), mdates.date2num(x1)
    xs = np.asarray(mdates.date2num(events["date"].to_numpy()))
    labels = [f"{r.n} {r.event}: {r.who}, {r.type}" for r in events.itertuples()]
    width_in = ax.get_position().width * ax.figure.get_figwidth()
    per_char = (hi - lo) * (7 * 0.52 / 72) / max(width_in, 1.0)  # 7 pt text, about 0.52 em a char
    widths = np.array([len(t) * per_char for t in labels])
    rows, leftwards = _levels(xs, widths, hi, pad=2 * per_char)
    depth = max(rows) + 1
    ax.set_ylim(-depth - 0.3, 0.6)
    for x, label, row, left, g, origin in zip(
        xs, labels, rows, leftwards, events["goldstein"], events["origin"], strict=True
    ):
        colour = event_colour(g)
        y = -row - 0.6
        ax.plot([x, x], [0.35, y], color=colour, lw=0.6, alpha=0.7)
        ax.plot(
            [x],
            [0.35],
            marker="v",
            ms=6,
            color=colour,
            mfc="white" if origin == "decided" else colour,
        )
        ax.text(
            x,
            y,
            (label + " ") if left else (" " + label),
            ha="right" if left else "left",
            va="center",
            fontsize=7,
            color=colour,
        )


def _number_groups(events: pd.DataFrame, days: int = 6) -> list[tuple[pd.Timestamp, str, str]]:
    """Event numbers grouped when their dates are within `days`: (date, '10-13', colour)."""
    groups: list[list] = []
    for row in events.itertuples():
        if groups and (row.date - groups[-1][-1].date).days <= days:
            groups[-1].append(row)
        else:
            groups.append([row])
    out = []
    for g in groups:
        numbers = [r.n for r in g]
        consecutive = numbers == list(range(numbers[0], numbers[-1] + 1))
        text = (
            f"{numbers[0]}–{numbers[-1]}"
            if consecutive and len(numbers) > 2
            else ",".join(map(str, numbers))
        )
        colours = {event_colour(r.goldstein) for r in g}
        out.append((g[0].date, text, colours.pop() if len(colours) == 1 else "black"))
    return out


def relations_figure(result: Result) -> Figure:
    """How each pair of actors regards the other over time, with the events that moved them."""
    pairs = pairs_to_show(result)
    ncols = 3 if len(pairs) > 4 else 2 if len(pairs) > 1 else 1
    nrows = -(-len(pairs) // ncols)
    n_events = len(event_list(result))
    strip_height = 0.6 + 0.16 * min(n_events, 14)
    fig = Figure(figsize=(4.6 * ncols, 2.7 * nrows + strip_height + 1.0), layout="constrained")
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[2.7] * nrows + [strip_height])
    x = list(result.dates)
    events = event_list(result)
    names = result.actors
    axes = []
    for n, (a, b) in enumerate(pairs):
        ax = fig.add_subplot(grid[n // ncols, n % ncols], sharex=axes[0] if axes else None)
        axes.append(ax)
        ax.axhline(0, color="black", lw=0.6)
        touching = events[events["event"].isin(_touches(result, a, b))]
        for _, row in touching.iterrows():
            ax.axvline(
                row["date"], color=event_colour(row["goldstein"]), lw=0.8, alpha=0.45, ls=":"
            )
        for when, text, colour in _number_groups(touching):
            ax.text(
                when,
                1.0,
                text,
                transform=ax.get_xaxis_transform(),
                fontsize=6,
                ha="center",
                va="bottom",
                color=colour,
            )
        _line_with_band(ax, x, result.score(a, b), FORWARD, f"{a} → {b}", "-")
        _line_with_band(ax, x, result.score(b, a), BACKWARD, f"{b} → {a}", "--")
        ax.set_ylim(-1.05, 1.05)
        ax.set_yticks([-1, -0.5, 0, 0.5, 1])
        ax.grid(axis="y", alpha=0.25)
        ax.set_title(f"{names[a]} and {names[b]}", fontsize=10, loc="left")
        ax.legend(fontsize=7, loc="best", frameon=False)
        ax.tick_params(labelsize=7, labelbottom=False)
        if n % ncols == 0:
            ax.set_ylabel("score (−1 hostile … +1 friendly)", fontsize=7)
    for ax in axes[-ncols:]:
        ax.tick_params(labelbottom=True)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    strip = fig.add_subplot(grid[nrows, :])
    strip.xaxis_date()
    strip.tick_params(labelsize=7)
    strip.xaxis.set_major_formatter(mdates.ConciseDateFormatter(strip.xaxis.get_major_locator()))
    strip.set_xlim(x[0], x[-1])
    _event_strip(strip, events, x[0], x[-1])
    strip.set_xlabel(
        "events, numbered in the order applied; the numbers above each panel are the events that moved that pair (red: conflict, blue: cooperation; hollow: decided by an actor)",
        fontsize=8,
    )
    members = result.members
    what = "median and 50 % / 90 % bands of " + f"{members} members" if members > 1 else "one run"
    fig.suptitle(
        f"{result.title}\nHow each state regards the other, {x[0]:%d %b %Y} – {x[-1]:%d %b %Y} ({what})",
        fontsize=12,
    )
    return fig


def _heatmap(ax: Axes, matrix: np.ndarray, labels: list[str], title: str, vmax: float, cmap: str):
    shown = np.ma.masked_where(np.eye(len(labels), dtype=bool), matrix)
    image = ax.imshow(shown, cmap=cmap, vmin=-vmax, vmax=vmax)
    ax.set_facecolor("#dddddd")
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("… regards this actor", fontsize=8)
    ax.set_ylabel("how this actor …", fontsize=8)
    ax.set_title(title, fontsize=10)
    if len(labels) <= 12:
        for i in range(len(labels)):
            for j in range(len(labels)):
                if i != j:
                    value = matrix[i, j]
                    ink = "white" if abs(value) > 0.6 * vmax else "black"
                    ax.text(j, i, f"{value:+.2f}", ha="center", va="center", fontsize=8, color=ink)
    return image


def matrix_figure(result: Result) -> Figure:
    """Initial and final scores, and the change, as annotated heatmaps."""
    ids = list(result.actor_ids)
    first, last = result.history[0].mean(axis=0), result.history[-1].mean(axis=0)
    change = last - first
    fig = Figure(figsize=(14, 4.8), layout="constrained")
    axes = fig.subplots(1, 3)
    d0, d1 = result.dates[0], result.dates[-1]
    _heatmap(axes[0], first, ids, f"At the start ({d0:%d %b %Y})", 1.0, "RdBu")
    image = _heatmap(axes[1], last, ids, f"At the end ({d1:%d %b %Y})", 1.0, "RdBu")
    fig.colorbar(image, ax=axes[:2], shrink=0.8, label="score (−1 hostile … +1 friendly)")
    off = ~np.eye(len(ids), dtype=bool)
    span = max(float(np.abs(change[off]).max()) if off.any() else 0.0, 0.05)
    image = _heatmap(axes[2], change, ids, "Change (end − start)", span, "PuOr")
    fig.colorbar(image, ax=axes[2], shrink=0.8, label="change in score")
    fig.suptitle(
        f"{result.title}\nHow each actor (row) regards each other actor (column)", fontsize=12
    )
    return fig
