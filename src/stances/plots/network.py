"""The app's figures (``stances app``), sized for one of its cards: the scores as a network
(actors as nodes on a circle, one arrow per ordered pair, coloured and made thicker by how the
first regards the second) and the scores that moved most so far, on one panel."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch


def circle_layout(count: int) -> np.ndarray:
    """Node positions, shape (count, 2): evenly on the unit circle, the first at the top."""
    angles = np.pi / 2 - 2 * np.pi * np.arange(count) / max(count, 1)
    return np.column_stack([np.cos(angles), np.sin(angles)])


def network_figure(scores: np.ndarray, ids: list[str], title: str = "") -> Figure:
    """Directed graph of one score matrix.

    Args:
        scores: shape (N, N) in [-1, 1]; scores[i, j] is how actor i regards actor j (the
            diagonal is ignored).
        ids: the N actor ids, in the matrix's order.
        title: the figure's title (e.g. the date).
    Returns:
        A Figure: arrow i -> j coloured on RdBu (red hostile, blue friendly), width
        0.5 + 4 |score| points.
    """
    n = len(ids)
    xy = circle_layout(n)
    fig = Figure(figsize=(4.8, 4.0), layout="constrained")
    ax = fig.subplots()
    norm = Normalize(-1.0, 1.0)
    colours = mpl.colormaps["RdBu"]
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            value = float(scores[i, j])
            ax.add_patch(
                FancyArrowPatch(
                    tuple(xy[i]),
                    tuple(xy[j]),
                    connectionstyle="arc3,rad=0.15",  # i -> j and j -> i bend apart
                    arrowstyle="-|>",
                    mutation_scale=12,
                    linewidth=0.5 + 4 * abs(value),
                    color=colours(norm(value)),
                    shrinkA=14,
                    shrinkB=14,
                )
            )
    ax.scatter(xy[:, 0], xy[:, 1], s=900, color="white", edgecolors="black", zorder=3)
    for (x, y), name in zip(xy, ids, strict=True):
        ax.text(x, y, name, ha="center", va="center", fontsize=9, zorder=4)
    ax.set_xlim(-1.3, 1.3)
    ax.set_ylim(-1.3, 1.3)
    ax.set_aspect("equal")
    ax.axis("off")
    mappable = mpl.cm.ScalarMappable(norm=norm, cmap=colours)
    fig.colorbar(mappable, ax=ax, shrink=0.6, label="score (−1 hostile … +1 friendly)")
    ax.set_title(title or "How each actor regards each other (arrow: from → to)", fontsize=10)
    return fig


def moved_most_figure(
    dates: list, history: np.ndarray, ids: list[str], most: int = 6, until: object = None
) -> Figure:
    """The `most` directed scores whose median moved most so far, one line each on one panel,
    with a legend 'AFG → PAK' beside it: a figure that stays readable in a small card.

    Args:
        dates: the T step boundaries so far (datetime.date).
        history: median scores, shape (T, N, N), in [-1, 1].
        ids: the N actor ids, in the matrix's order.
        most: how many scores to draw (at most N (N - 1)).
        until: the last date of the axis (default the last of `dates`): the window's end, so
            that the lines grow across a fixed axis as the app steps.
    """
    n = len(ids)
    span = history.max(axis=0) - history.min(axis=0)
    cells = [(i, j) for i in range(n) for j in range(n) if i != j]
    cells.sort(key=lambda c: -span[c])
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.add_subplot()
    colours = mpl.colormaps["tab10"]
    for k, (i, j) in enumerate(cells[:most]):
        ax.plot(
            dates, history[:, i, j], color=colours(k % 10), lw=1.8, label=f"{ids[i]} → {ids[j]}"
        )
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("score (−1 hostile … +1 friendly)", fontsize=8)
    end = until if until is not None else dates[-1]
    if end != dates[0]:
        ax.set_xlim(dates[0], end)  # type: ignore[arg-type]
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))
    ax.tick_params(labelsize=8)
    ax.grid(axis="y", color="#dddddd", lw=0.5)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    ax.set_title(
        f"The {min(most, len(cells))} scores that moved most so far", fontsize=10, loc="left"
    )
    return fig
