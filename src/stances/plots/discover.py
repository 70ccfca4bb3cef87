"""Scenario discovery: PRIM's peeling trajectory (coverage against density) with the chosen box
marked, and the chosen box's limits against each input's full range."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from stances.plots.common import PALETTE

if TYPE_CHECKING:
    from stances.analysis.discover import Discovery


def discover_figure(discovery: Discovery) -> Figure:
    """Left: every box on the trajectory (coverage x, density y), coloured by the number of
    inputs it restricts, the chosen one ringed and the rule's density drawn. Right: each input's
    full range (grey) and the chosen box's limits on it (coloured where restricted), scaled to
    the range."""
    d = discovery
    t = d.trajectory_table()
    height = max(3.6, 0.42 * len(d.inputs) + 1.6)
    fig = Figure(figsize=(11.5, height), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.25])
    most = max(1, int(t["restricted"].max()))
    cmap = colormaps["viridis"].resampled(most + 1)
    dots = left.scatter(
        t["coverage"], t["density"], c=t["restricted"], cmap=cmap, vmin=-0.5, vmax=most + 0.5, s=18
    )
    c = t.iloc[d.chosen]
    left.scatter(
        [c["coverage"]], [c["density"]], s=140, facecolors="none", edgecolors="red", lw=1.5
    )
    left.annotate(
        f"chosen: box {d.chosen}\ncoverage {c['coverage']:.0%}, density {c['density']:.0%}",
        (c["coverage"], c["density"]),
        xytext=(-150, -30),
        textcoords="offset points",
        fontsize=7,
        color="red",
    )
    left.axhline(d.density, color="grey", lw=0.8, ls="--")
    left.set_xlabel("coverage (share of the members where it holds, inside the box)", fontsize=8)
    left.set_ylabel("density (share of the box's members where it holds)", fontsize=8)
    left.set_xlim(-0.02, 1.02)
    left.set_ylim(-0.02, 1.02)
    left.grid(alpha=0.25)
    left.tick_params(labelsize=7)
    bar = fig.colorbar(dots, ax=left, ticks=range(most + 1))
    bar.set_label("inputs restricted", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    left.set_title("PRIM's peeling trajectory", fontsize=9, loc="left")

    table = d.box_table()
    lim, full = d.limits[d.chosen], d.limits[0]
    index = {f.key: j for j, f in enumerate(d.inputs)}
    y = np.arange(len(table))
    for r, row in enumerate(table.to_dict("records")):
        j = index[row["input"]]
        span = full[1, j] - full[0, j]
        lo, hi = ((lim[:, j] - full[0, j]) / span) if span > 0 else (0.0, 1.0)
        right.plot([0, 1], [r, r], color="lightgrey", lw=7, solid_capstyle="butt")
        colour = PALETTE[0] if row["restricted"] else "darkgrey"
        right.plot([lo, hi], [r, r], color=colour, lw=7, solid_capstyle="butt")
        f = d.inputs[j]
        right.text(-0.02, r, f.show(full[0, j]), ha="right", va="center", fontsize=6)
        right.text(1.02, r, f.show(full[1, j]), ha="left", va="center", fontsize=6)
        if row["restricted"]:
            right.text(
                (lo + hi) / 2,
                r + 0.18,
                f"box: {f.show(lim[0, j])} .. {f.show(lim[1, j])}",
                ha="center",
                va="top",
                fontsize=6,
                color=PALETTE[0],
            )
    right.set_yticks(y, list(table["input"]), fontsize=7)
    right.invert_yaxis()
    right.set_xlim(-0.3, 1.3)
    right.set_xticks([])
    right.set_title("the chosen box against each input's full range", fontsize=9, loc="left")
    for side in ("top", "right", "bottom"):
        right.spines[side].set_visible(False)
    fig.suptitle(
        f"{d.title}\nUnder which assumptions {d.condition.label}", fontsize=10, x=0.01, ha="left"
    )
    caption = (
        f"{d.words()}. {d.members:,} members. The box is the one of highest coverage among those "
        f"of density >= {d.density:g} (dashed line)."
    )
    fig.supxlabel("\n".join(textwrap.wrap(caption, 170)), fontsize=7, x=0.01, ha="left")
    return fig
