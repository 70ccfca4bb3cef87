"""Attribution: which events made a score, as a waterfall of their contributions."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from stances.analysis.explain import stderr_note
from stances.plots.common import CONFLICT, COOPERATION, NEUTRAL

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from stances.analysis.explain import Explanation

SHOWN = 14
"""At most this many events get a bar of their own; the rest are summed in one bar."""
ENDS = "#555555"  # the bars of the score without events and with all of them


def _signed(value: float) -> str:
    """+0.22, -0.05, and 0.00 for what rounds to zero (never -0.00)."""
    return "0.00" if abs(value) < 0.005 else f"{value:+.2f}"


def _rows(explanation: Explanation, d: int) -> tuple[list[int], list[int]]:
    """The events shown on their own (the SHOWN largest at either date, in date order) and
    the rest."""
    values = explanation.values[:, [k for _, k in explanation.moments(d)], d]
    size = np.abs(values).max(axis=1)
    shown = sorted(np.argsort(-size, kind="stable")[:SHOWN].tolist())
    shown.sort(key=lambda e: (explanation.events[e].date, e))
    rest = [e for e in range(len(explanation.events)) if e not in shown]
    return shown, rest


def _waterfall(
    ax: Axes, explanation: Explanation, d: int, k: int, shown: list[int], rest: list[int]
):
    """One horizontal waterfall: the score without events, each event's contribution from
    where the ones before it left the score, the rest summed, and the score with all events."""
    values, none, full = explanation.values[:, k, d], explanation.none[k, d], explanation.full[k, d]
    err = None if explanation.stderr is None else explanation.stderr[:, k, d]
    steps = [(values[e], None if err is None else err[e]) for e in shown]
    if rest:
        steps.append((float(values[rest].sum()), None))
    y = np.arange(len(steps) + 2)
    ax.barh(y[0], none, color=ENDS, height=0.6)
    level = none
    for row, (value, stderr) in zip(y[1:-1], steps, strict=True):
        colour = COOPERATION if value > 0 else CONFLICT if value < 0 else NEUTRAL
        ax.barh(row, value, left=level, color=colour, height=0.6)
        if stderr is not None:
            ax.errorbar(level + value, row, xerr=1.96 * stderr, color="black", lw=0.8, capsize=2)
        ax.annotate(
            _signed(value),
            (max(level, level + value), row),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
        ax.plot([level + value] * 2, [row - 0.3, row + 1.3], color="#bbbbbb", lw=0.6, zorder=0)
        level += value
    ax.barh(y[-1], full, color=ENDS, height=0.6)
    for row, value in ((y[0], none), (y[-1], full)):
        ax.annotate(
            _signed(value),
            (max(0.0, value), row),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
            weight="bold",
        )
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(y[-1] + 0.6, -0.6)
    ax.grid(axis="x", alpha=0.25)
    ax.tick_params(labelsize=7)
    ax.set_xlabel("score (−1 hostile … +1 friendly)", fontsize=7)


def explain_figure(explanation: Explanation, d: int) -> Figure:
    """Which events made dyad d's score: at the explained date (the end, or the date asked
    for) and at the date of its largest departure from the run without events, each event's
    contribution (its Shapley value; 95 % error bars when sampled) as a step from the score
    without events to the score with all of them."""
    a, b = explanation.dyads[d]
    shown, rest = _rows(explanation, d)
    labels = ["without any event"]
    for e in shown:
        event = explanation.events[e]
        labels.append(f"{event.date:%d %b %Y}  {event.label or event.id}")
    if rest:
        labels.append(f"the other {len(rest)} events")
    labels.append("with every event")
    height = 1.6 + 0.28 * len(labels)
    fig = Figure(figsize=(11, height), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, (moment, k) in zip(axes, explanation.moments(d), strict=True):
        _waterfall(ax, explanation, d, k, shown, rest)
        what = (
            "at the end" if moment == "end" else "on the date asked" if moment == "at" else moment
        )
        ax.set_title(f"{what}: {explanation.dates[k]:%d %b %Y}", fontsize=9, loc="left")
    axes[0].set_yticks(np.arange(len(labels)), labels, fontsize=7)
    fig.suptitle(
        f"{explanation.title}\nWhich events made {a} → {b}: each event's contribution, events in date order",
        fontsize=10,
        x=0.01,
        ha="left",
    )
    note = stderr_note(explanation)
    caption = (
        "Blue: raised the score, red: lowered it; each bar starts where the events before it "
        f"left the score, and together they lead from the score without events to the score "
        f"with all of them. {note[0].upper()}{note[1:]}: each subset of the events (a coalition) "
        f"runs as its own what-if, all with member {explanation.member}'s draws of the uncertain "
        "values."
    )
    fig.supxlabel(
        "\n".join(textwrap.wrap(caption, 190)),
        fontsize=7,
        x=0.01,
        ha="left",
    )
    return fig
