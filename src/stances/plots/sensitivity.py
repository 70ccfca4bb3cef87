"""Global sensitivity: each factor's indices as bars with confidence intervals, and a dyad's
first-order and total indices over time."""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure

from stances.analysis.sensitivity import INDICES
from stances.plots.common import PALETTE

if TYPE_CHECKING:
    from stances.analysis.sensitivity import Sensitivity

WHAT = {
    "sobol": "Sobol indices: S1 the share of the outcome's variance due to the factor alone, "
    "ST including its interactions",
    "morris": "Morris screening: mu* the mean absolute elementary effect (score units), sigma "
    "its spread (interactions or nonlinearity)",
    "delta": "Borgonovo's delta (moment-independent) and the first-order S1",
}


def _caption(analysis: Sensitivity) -> str:
    factors = "; ".join(f"{f.key}: {f.describe()}" for f in analysis.factors)
    text = (
        f"{WHAT[analysis.method]}. Bars: 95 % confidence intervals (bootstrap). "
        f"{analysis.rows:,} members (n = {analysis.n}). Factors: {factors}."
    )
    return "\n".join(textwrap.wrap(text, 180))


def sensitivity_figure(analysis: Sensitivity) -> Figure:
    """One panel per outcome: the factors (ranked by the method's first index) with each index
    as a bar and its confidence interval."""
    outcomes = [o for o in analysis.outcomes if o.endswith(" at end")] or list(analysis.outcomes)
    outcomes = outcomes[:6]
    names = INDICES[analysis.method]
    count = len(outcomes)
    ncols = 2 if count > 1 else 1
    nrows = -(-count // ncols)
    height = max(2.2, 0.38 * len(analysis.factors) + 1.2)
    fig = Figure(figsize=(6.2 * ncols, height * nrows + 1.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[count:]:
        ax.set_visible(False)
    for ax, outcome in zip(axes, outcomes, strict=False):
        indices = analysis.indices[outcome]
        order = np.argsort(-np.nan_to_num(indices[names[0]][0]), kind="stable")
        y = np.arange(len(order))
        width = 0.8 / len(names)
        for i, name in enumerate(names):
            values, conf = indices[name]
            ax.barh(
                y + (i - (len(names) - 1) / 2) * width,
                values[order],
                height=width,
                xerr=np.where(np.isfinite(conf[order]), conf[order], 0.0),
                color=PALETTE[i],
                label=name,
                error_kw={"lw": 0.8, "capsize": 2},
            )
        ax.set_yticks(y, [analysis.factors[f].key for f in order], fontsize=7)
        ax.invert_yaxis()
        ax.axvline(0, color="black", lw=0.6)
        ax.grid(axis="x", alpha=0.25)
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title(outcome, fontsize=9, loc="left")
        ax.legend(fontsize=7, frameon=False, loc="lower right")
    fig.suptitle(
        f"{analysis.title}\nWhich uncertain values the scores hinge on ({analysis.method})",
        fontsize=10,
        x=0.01,
        ha="left",
    )
    fig.supxlabel(_caption(analysis), fontsize=7, x=0.01, ha="left")
    return fig


def sensitivity_over_time_figure(analysis: Sensitivity, dyad: str) -> Figure:
    """The method's indices of one dyad ('A -> B') at every step boundary it was analysed at:
    one line per factor and index, with its confidence band."""
    prefix = f"{dyad} at "
    points = []
    for label in analysis.outcomes:
        if label.startswith(prefix) and label != f"{dyad} at end":
            points.append((dt.date.fromisoformat(label[len(prefix) :]), label))
    points.sort()
    names = INDICES[analysis.method]
    fig = Figure(figsize=(11, 3.6), layout="constrained")
    axes = fig.subplots(1, len(names), sharex=True, squeeze=False)[0]
    dates = [d for d, _ in points]
    for ax, name in zip(axes, names, strict=True):
        for f, factor in enumerate(analysis.factors):
            values = np.array([analysis.indices[label][name][0][f] for _, label in points])
            conf = np.array([analysis.indices[label][name][1][f] for _, label in points])
            colour = PALETTE[f % len(PALETTE)]
            ax.plot(dates, values, color=colour, lw=1.4, label=factor.key)
            if np.isfinite(conf).any():
                ax.fill_between(dates, values - conf, values + conf, color=colour, alpha=0.15)
        ax.set_title(name, fontsize=9, loc="left")
        ax.axhline(0, color="black", lw=0.6)
        ax.grid(alpha=0.25)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    axes[0].legend(fontsize=7, frameon=False)
    fig.suptitle(
        f"{analysis.title}\nWhat {dyad} hinges on, week by week ({analysis.method})",
        fontsize=10,
        x=0.01,
        ha="left",
    )
    fig.supxlabel(_caption(analysis), fontsize=7, x=0.01, ha="left")
    return fig
