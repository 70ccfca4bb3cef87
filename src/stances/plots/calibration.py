"""Calibration: priors against posteriors, and the posterior bands of the scores."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from stances.analysis.calibrate import Calibration

from stances.plots.common import (
    dyad_grid,
)

# ---------------------------------------------------------------------------------------------
# Calibration

PRIOR = "#9e9e9e"
POSTERIOR = "#d95f02"


def _calibration_note(calibration: Calibration) -> str:
    return (
        f"{calibration.members} members drawn from the priors, weighted by "
        f"{len(calibration.verdicts)} observations (tolerance {calibration.tolerance:g} score, "
        f"{calibration.tolerance_days:g} days); effective sample size {calibration.ess:.0f}"
    )


def posterior_figure(calibration: Calibration) -> Figure:
    """One panel per uncertain value: the prior (the members' draws) and the posterior (the
    same draws, weighted) as histograms of density, with the posterior's 90 % interval."""
    count = len(calibration.labels)
    ncols = 3 if count > 4 else 2 if count > 1 else 1
    nrows = -(-count // ncols)
    fig = Figure(figsize=(4.6 * ncols, 2.9 * nrows + 1.0), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[count:]:
        ax.set_visible(False)
    epoch = date(1970, 1, 1).toordinal()  # matplotlib counts dates in days from 1970-01-01
    for u, ax in enumerate(axes[:count]):
        unit = calibration.units[u]
        shift = epoch if unit == "date" else 0
        x = calibration.draws[:, u] - shift
        bins = np.histogram_bin_edges(x, bins=40)
        ax.hist(x, bins=bins, density=True, color=PRIOR, alpha=0.5, label="prior")
        ax.hist(
            x,
            bins=bins,
            weights=calibration.weights,
            density=True,
            color=POSTERIOR,
            histtype="step",
            lw=1.6,
            label="posterior",
        )
        q = calibration.posterior_quantiles[:, u] - shift
        for value, style in zip(q, (":", "-", ":"), strict=True):
            ax.axvline(value, color=POSTERIOR, lw=1.2, ls=style)
        if unit == "date":
            ax.xaxis_date()
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        ax.set_title(calibration.labels[u], fontsize=9, loc="left")
        ax.set_xlabel({"days": "days", "date": "date"}.get(unit, "value"), fontsize=7)
        ax.set_yticks([])
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, frameon=False, loc="best")
    fig.suptitle(
        f"{calibration.scenario.title}\nWhat the observations say about each uncertain value: "
        "prior and posterior (lines: posterior median and 90 % interval)",
        fontsize=10,
    )
    fig.supxlabel(_calibration_note(calibration), fontsize=7.5)
    return fig


def calibration_bands_figure(calibration: Calibration, dyads: list[tuple[str, str]]) -> Figure:
    """One panel per dyad: its 90 % band and median before weighting (prior) and after
    (posterior), with the periods the observations of that dyad look at shaded."""
    fig = Figure(layout="constrained")
    axes, ncols = dyad_grid(fig, len(dyads))
    x = list(calibration.result.dates)
    names = calibration.result.actors
    for ax, (a, b) in zip(axes, dyads, strict=True):
        for band, colour, label in zip(
            calibration.band(a, b), (PRIOR, POSTERIOR), ("prior", "posterior"), strict=True
        ):
            ax.fill_between(x, band[0], band[2], color=colour, alpha=0.25, linewidth=0)
            ax.plot(x, band[1], color=colour, lw=1.6, label=label)
        for v in calibration.verdicts:
            o = v.observation
            if (a, b) not in (o.score[0], o.score[1]):
                continue
            span = o.period or o.window or (x[0], x[-1])
            if span[0] == span[1]:  # a change across one event: its date
                ax.axvline(span[0], color="#e6ab02", lw=2, alpha=0.6)
            else:
                ax.axvspan(span[0], span[1], color="#e6ab02", alpha=0.15, lw=0)
            if isinstance(o.reference, float):
                ax.hlines(o.reference, span[0], span[1], color="black", lw=1, ls="--")
        ax.axhline(0, color="black", lw=0.6)
        ax.set_ylim(-1.05, 1.05)
        ax.set_title(f"how {names[a]} regards {names[b]}", fontsize=9, loc="left")
        ax.legend(fontsize=7, frameon=False, loc="best")
    for ax in axes[::ncols]:
        ax.set_ylabel("score (−1 hostile … +1 friendly)", fontsize=7)
    fig.suptitle(
        f"{calibration.scenario.title}\nThe observed scores before and after calibration: "
        "median and 90 % band\n(yellow: the periods and events observed; dashed: a level "
        "observed)",
        fontsize=10,
    )
    fig.supxlabel(_calibration_note(calibration), fontsize=7.5)
    return fig
