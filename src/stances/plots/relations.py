"""How each pair regards the other over time (with the marks of checked observations), and
the matrix of scores at the start and the end."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.text import Text

    from stances.analysis.observations import Mark
    from stances.result import Result

from stances.plots.common import (
    BACKWARD,
    FAILS,
    FORWARD,
    HOLDS,
    YLIM,
    event_colour,
    event_list,
    event_strip,
    line_with_band,
    number_groups,
    pairs_to_show,
    stack_above,
    touches,
    wrap_to,
)

NUMBER_SIZE = 6.5  # pt, the event numbers above the panels


def relations_figure(
    result: Result,
    marks: list[Mark] | None = None,
    pairs: list[tuple[str, str]] | None = None,
) -> Figure:
    """How each pair of actors regards the other over time, with the events that moved them
    (a lasting event as a light band over the days it held) and, given the marks of checked
    observations (``analysis.observations.marks``), each observation on its score's panel,
    coloured by whether it holds, listed by number under the figure. pairs: the pairs to
    draw, (a, b) for a and b's views of each other, in that order (default: those that moved
    most, up to 12); one pair makes a figure wide enough for a slide."""
    marks = marks or []
    if pairs is None:
        pairs = pairs_to_show(result, first=tuple(m.dyad for m in marks if m.dyad is not None))
    else:
        for a, b in pairs:
            result.index(a), result.index(b)  # unknown actors: the "did you mean" message
    ncols = 3 if len(pairs) > 4 else 2 if len(pairs) > 1 else 1
    nrows = -(-len(pairs) // ncols)
    n_events = len(event_list(result))
    strip_height = 0.6 + 0.16 * min(n_events, 14)
    caption_height = 0.3 + 0.13 * -(-len(marks) // 2) if marks else 0.0
    heights = [2.7] * nrows + [strip_height] + ([caption_height] if marks else [])
    width = 4.6 * ncols if len(pairs) > 1 else 9.0
    fig = Figure(figsize=(width, sum(heights) + 1.0), layout="constrained")
    grid = fig.add_gridspec(len(heights), ncols, height_ratios=heights)
    x = list(result.dates)
    events = event_list(result)
    names = result.actors
    axes: list[Axes] = []
    numbers: dict[Axes, list[Text]] = {}
    for n, (a, b) in enumerate(pairs):
        ax = fig.add_subplot(grid[n // ncols, n % ncols], sharex=axes[0] if axes else None)
        axes.append(ax)
        ax.axhline(0, color="black", lw=0.6)
        touching = events[events["event"].isin(touches(result, a, b))]
        for _, row in touching.iterrows():
            colour = event_colour(row["goldstein"])
            ax.axvline(row["date"], color=colour, lw=0.8, alpha=0.45, ls=":")
            if not pd.isna(row["lasts_until"]):
                ax.axvspan(
                    row["date"], row["lasts_until"], color=colour, alpha=0.07, lw=0, zorder=0
                )
        numbers[ax] = [
            ax.text(
                float(mdates.date2num(when)),
                1.0,
                text,
                transform=ax.get_xaxis_transform(),
                fontsize=NUMBER_SIZE,
                ha="center",
                va="bottom",
                color=colour,
            )
            for when, text, colour in number_groups(touching)
        ]
        bands = result.members > 1
        line_with_band(ax, x, result.band(a, b), FORWARD, f"{a} → {b}", "-", bands)
        line_with_band(ax, x, result.band(b, a), BACKWARD, f"{b} → {a}", "--", bands)
        mine = [m for m in marks if m.dyad in ((a, b), (b, a))]
        ax.set_ylim(-YLIM, YLIM)
        _label_marks(ax, mine, [_draw_mark(ax, m) for m in mine])
        ax.set_yticks([-1, -0.5, 0, 0.5, 1])
        ax.grid(axis="y", alpha=0.25)
        ax.set_title(f"{names[a]} and {names[b]}", fontsize=10, loc="left")
        ax.legend(fontsize=7, loc="best", frameon=False)
        ax.tick_params(labelsize=7, labelbottom=False)
        if n % ncols == 0:
            ax.set_ylabel("score (−1 hostile … +1 friendly)", fontsize=7)
    for ax in axes:  # the panels' dates line up with the strip's
        ax.set_xlim(x[0], x[-1])  # type: ignore[arg-type]
    for ax in axes[-ncols:]:
        ax.tick_params(labelbottom=True)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    strip = fig.add_subplot(grid[nrows, :])
    strip.xaxis_date()
    strip.tick_params(labelsize=7)
    strip.xaxis.set_major_formatter(mdates.ConciseDateFormatter(strip.xaxis.get_major_locator()))
    strip.set_xlim(x[0], x[-1])  # type: ignore[arg-type]
    strip.tick_params(labeltop=True, top=True)  # its own dates, next to its markers
    strip.set_title("All events, by date", fontsize=9, loc="left", pad=14)
    event_strip(strip, events, x[0], x[-1])
    legend = (
        "timeline of all events, on the same dates as the panels above, numbered by date (a date "
        "drawn per member by the middle of its window: its marker at the members' median, a "
        "whisker over their dates); the numbers "
        "above each panel are the events that moved that pair, at their dates (red: conflict, blue: "
        "cooperation; hollow: decided by an actor)"
    )
    strip.set_xlabel(wrap_to(legend, 8, width - 1.4), fontsize=8)  # centred under the strip
    if marks:
        _mark_caption(fig.add_subplot(grid[nrows + 1, :]), marks, set(pairs))
    members = result.members
    what = "median and 50 % / 90 % bands of " + f"{members} members" if members > 1 else "one run"
    title = f"{result.title}\nHow each state regards the other, {x[0]:%d %b %Y} – {x[-1]:%d %b %Y} ({what})"
    fig.suptitle(wrap_to(title, 12, width - 0.4), fontsize=12)
    stack_above(fig, list(numbers.items()), NUMBER_SIZE)
    return fig


def _draw_mark(ax: Axes, mark: Mark) -> tuple[float, float, str]:
    """One observation on its score's panel (``Mark``): a level as a dashed segment at its
    bound with a triangle pointing to the side the score must stay on (and a ring at the
    score it is compared with, for a score at a date), a comparison with another score as a
    solid bar over its period near the panel's edge, a change as a dotted line at the level
    its window starts from and an arrow at its end toward the side it must end on, the date
    of an extreme as a bracket over its window. Returns where its label goes (x as a
    matplotlib date number, score, and va: 'bottom', 'top' or 'center')."""
    c = HOLDS if mark.holds else FAILS
    up = mark.direction
    x0, x1 = float(mdates.date2num(mark.start)), float(mdates.date2num(mark.end))
    triangle = "^" if up > 0 else "v"
    if mark.shape == "period":  # no level to draw: an interval bar near the edge
        y = up * 0.9
        ax.plot([x0, x1], [y, y], color=c, lw=1.0, marker="|", ms=6, zorder=5)
        ax.plot([x1], [y], color=c, marker=triangle, ms=4.5, zorder=5)
        return x0, y + up * 0.05, "bottom" if up > 0 else "top"
    if mark.shape == "level":
        y = mark.y0
        ax.plot([x0, x1], [y, y], color=c, lw=1.5, ls=(0, (4, 2)), zorder=5)
        ax.plot([x1], [y], color=c, marker=triangle, ms=4.5, zorder=5)
        if mark.at is not None:
            ring = y - up * mark.observation.by
            at = float(mdates.date2num(mark.at))
            ax.plot([at], [ring], color=c, marker="o", ms=4, mfc="white", zorder=5)
        return x0, y + up * 0.05, "bottom" if up > 0 else "top"
    if mark.shape == "change":
        tip = float(np.clip(mark.y0 + up * (0.3 + mark.observation.by), -1.02, 1.02))
        ax.plot([x0, x1], [mark.y0, mark.y0], color=c, lw=1.0, ls=":", zorder=5)
        ax.annotate(
            "",
            xy=(x1, tip),
            xytext=(x1, mark.y0),
            arrowprops={"arrowstyle": "-|>", "color": c, "lw": 1.5, "shrinkA": 0, "shrinkB": 0},
            zorder=5,
        )
        return x1, tip, "center"
    y = up * 0.99
    tick = -0.1 * up
    ax.plot([x0, x0, x1, x1], [y + tick, y, y, y + tick], color=c, lw=1.5, zorder=5)
    return x1, y + tick, "center"


def _label_marks(ax: Axes, marks: list[Mark], labels: list[tuple[float, float, str]]) -> None:
    """The numbers of the marks of one panel, each with a tick if it holds and a cross if it
    does not, moved past the labels it would cover (labels within about 4 % of the window and
    0.09 in score of each other): rightwards, or leftwards near the panel's right edge, where
    they read leftwards too."""
    x_lo, x_hi = (float(v) for v in ax.get_xlim())
    wide = 0.04 * (x_hi - x_lo)
    placed: list[tuple[float, float]] = []
    for mark, (x, y, va) in zip(marks, labels, strict=True):
        leftwards = x > x_hi - 1.5 * wide
        step = -wide if leftwards else wide
        x += 0.2 * step if va == "center" else 0.0
        while any(abs(x - px) < wide and abs(y - py) < 0.09 for px, py in placed):
            x += step
        placed.append((x, y))
        ax.text(
            x,
            y,
            f"{mark.number}{'✓' if mark.holds else '✗'}",
            ha="right" if leftwards else "left",
            va=va,
            fontsize=6.5,
            fontweight="bold",
            color=HOLDS if mark.holds else FAILS,
            zorder=6,
        )


def _mark_caption(ax: Axes, marks: list[Mark], pairs: set[tuple[str, str]]) -> None:
    """The observations by number, in two columns, with the legend of their colours."""
    ax.set_axis_off()
    lines = []
    for m in marks:
        drawn = m.dyad is not None and (m.dyad in pairs or m.dyad[::-1] in pairs)
        why = "" if drawn else (" (a difference: not drawn)" if m.dyad is None else " (not drawn)")
        verdict = "✓ holds" if m.holds else "✗ fails"
        lines.append(
            (f"{m.number:>2} {verdict}  {m.observation.id}: {m.observation.label}{why}", m)
        )
    half = -(-len(lines) // 2)
    for column, part in enumerate((lines[:half], lines[half:])):
        for row, (line, m) in enumerate(part):
            ax.text(
                0.5 * column,
                1.0 - row / max(half, 1),
                line,
                transform=ax.transAxes,
                fontsize=6.5,
                va="top",
                color=HOLDS if m.holds else FAILS,
            )
    held = sum(m.holds for m in marks)
    width = ax.figure.get_figwidth() - 0.4  # type: ignore[union-attr]
    ax.set_title(
        wrap_to(
            f"Observations, {held} of {len(marks)} hold (blue ✓: holds, vermilion ✗: does not). On "
            "the panels: a level is a dashed line at its bound (▲ the score must stay above it, ▼ "
            "below; ○ the score it is compared with),\na change an arrow from the level at the start "
            "of its window (dotted) to the side it must end on, the date of an extreme a bracket "
            "over its window, a comparison with another score a solid bar |—| over its period at the panel's edge",
            7.5,
            width,
        ),
        fontsize=7.5,
        loc="left",
    )


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
    first, last = result.median()[0], result.median()[-1]
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
    what = f" (median of {result.members} members)" if result.members > 1 else ""
    fig.suptitle(
        f"{result.title}\nHow each actor (row) regards each other actor (column){what}", fontsize=12
    )
    return fig
