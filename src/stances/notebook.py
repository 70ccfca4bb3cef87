"""Notebooks: a run's figures from the Result itself, and rich displays.

``result.plot()`` and its kin draw the figures the command line writes, with the same code
(``stances.plots``); ``result._repr_html_`` shows a run in a notebook as a short table of its
largest changes beside its relations figure. The Result reaches this module by name when a
figure or a display is asked for (as pandas loads its plotting backend), so that the result
layer needs no matplotlib until something is drawn.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING

import numpy as np

from stances import plots

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from stances.analysis.compare import Comparison
    from stances.result import Result

HTML_CHANGES = 6  # rows of the largest-changes table in a notebook


class PlotAccessor:
    """The figures of one run: ``result.plot()`` (relations over time), ``.relations(...)``,
    ``.matrix()``, ``.dyad('AFG', 'PAK')`` (one pair, wide enough for a slide) and
    ``.stances()`` (issue positions). Each returns a matplotlib Figure."""

    def __init__(self, result: Result) -> None:
        self._result = result

    def __call__(self) -> Figure:
        return self.relations()

    def relations(self, pairs: list[tuple[str, str]] | None = None) -> Figure:
        """Every pair that moved (or the `pairs` given), with the events and their timeline."""
        return plots.relations_figure(self._result, pairs=pairs)

    def dyad(self, actor: str, other: str) -> Figure:
        """How two actors regard each other, both ways, with the events that moved them."""
        return plots.relations_figure(self._result, pairs=[(actor, other)])

    def matrix(self) -> Figure:
        """All scores at the start and the end, and the change."""
        return plots.matrix_figure(self._result)

    def stances(self) -> Figure:
        """Issue positions over time (a run with ``issues:``)."""
        return plots.stances_figure(self._result)


def png_of(figure: Figure, dpi: int = 80) -> str:
    """A figure as a base64-encoded PNG, for an <img src="data:..."> (no file, no network)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def largest_changes(result: Result, rows: int = HTML_CHANGES) -> list[tuple[str, float, float]]:
    """The scores whose median moved most from the start to the end: ('A -> B', start, end)."""
    ids, median = result.actor_ids, result.median()
    moved = np.abs(median[-1] - median[0])
    cells = [(i, j) for i in range(len(ids)) for j in range(len(ids)) if i != j]
    cells.sort(key=lambda c: -moved[c])
    return [(f"{ids[i]} -> {ids[j]}", median[0, i, j], median[-1, i, j]) for i, j in cells[:rows]]


def result_html(result: Result) -> str:
    """A run for a notebook: its title, window and members, a table of the largest changes and
    the relations figure (embedded)."""
    dates = result.dates
    members = f"{result.members} members (medians)" if result.members != 1 else "one run"
    rows = "".join(
        f"<tr><td>{html.escape(who)}</td><td>{start:+.2f}</td><td>{end:+.2f}</td>"
        f"<td>{end - start:+.2f}</td></tr>"
        for who, start, end in largest_changes(result)
    )
    figure = png_of(plots.relations_figure(result))
    return (
        f"<div><b>{html.escape(result.title)}</b><br>"
        f"{html.escape(' '.join(result.actor_ids))}; {dates[0]} to {dates[-1]}; {members}"
        "<table><thead><tr><th>who → whom</th><th>start</th><th>end</th><th>change</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
        f'<img src="data:image/png;base64,{figure}" style="max-width:100%"></div>'
    )


class ComparisonPlots:
    """The figures of a comparison: ``comparison.plot()`` (scores side by side, as
    comparison.png), ``.difference()`` (each scenario minus the reference, difference.png)
    and ``.stances()`` (issue positions); dyads default to those that differ most."""

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison

    def __call__(self, dyads: list[tuple[str, str]] | None = None) -> Figure:
        return plots.comparison_figure(self.comparison, self._dyads(dyads))

    def difference(
        self, dyads: list[tuple[str, str]] | None = None, threshold: float = 0.05
    ) -> Figure:
        """Differences from the reference; threshold (score units): the band within which
        two scenarios count as the same, and the date they first part by more."""
        return plots.difference_figure(self.comparison, self._dyads(dyads), threshold)

    def stances(self) -> Figure:
        """Issue positions that differ most; ValueError when no position differs."""
        keys = self.comparison.stances_that_differ()
        if not keys:
            raise ValueError("no issue position differs between these scenarios")
        return plots.stance_comparison_figure(self.comparison, keys)

    def _dyads(self, dyads: list[tuple[str, str]] | None) -> list[tuple[str, str]]:
        if dyads is None:
            return self.comparison.dyads_that_differ()
        problems = self.comparison.check_dyads(dyads)
        if problems:
            raise ValueError("; ".join(problems))
        return dyads


def comparison_html(comparison: Comparison) -> str:
    """A comparison for a notebook: the labels, the largest gaps from the reference (who,
    when, how far, the two final scores) and the comparison figure of the pairs that differ
    most (embedded), as ``stances compare`` draws it."""
    reference = comparison.labels[0]
    rows = "".join(
        f"<tr><td>{html.escape(str(g.scenario))}</td><td>{html.escape(f'{g.actor} -> {g.toward}')}</td>"
        f"<td>{g.gap:+.2f}</td><td>{g.on:%Y-%m-%d}</td>"
        f"<td>{g.final_reference:+.2f}</td><td>{g.final_scenario:+.2f}</td></tr>"
        for g in comparison.largest_gaps(HTML_CHANGES).itertuples()
    )
    if not rows:
        body = "<p>No score differs from the reference.</p>"
    else:
        body = (
            "<table><thead><tr><th>scenario</th><th>who → whom</th><th>largest gap</th>"
            f"<th>on</th><th>end, {html.escape(reference)}</th><th>end, scenario</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
        )
    figure = png_of(plots.comparison_figure(comparison, comparison.dyads_that_differ()))
    dates = comparison.dates
    return (
        f"<div><b>{html.escape(' vs '.join(comparison.labels))}</b> (reference: "
        f"{html.escape(reference)})<br>{html.escape(' '.join(comparison.actors))}; "
        f"{dates[0]} to {dates[-1]}{body}"
        f'<img src="data:image/png;base64,{figure}" style="max-width:100%"></div>'
    )
