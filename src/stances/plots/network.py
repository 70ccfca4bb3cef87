"""The scores as a network: actors as nodes on a circle, one arrow per ordered pair, coloured
and made thicker by how the first regards the second (used by the app, ``stances app``)."""

from __future__ import annotations

import matplotlib as mpl
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
