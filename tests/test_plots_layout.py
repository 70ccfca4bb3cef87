"""The figures an analyst pastes as they are: measured with the figure's own renderer, the
event numbers above each panel overlap neither each other nor the panel's title, no snake_case
id reaches a figure, and the comparison's event markers sit outside the score range."""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path

import pytest
from conftest import HEADER
from matplotlib.backends.backend_agg import FigureCanvasAgg

from stances import api, plots
from stances.analysis.compare import Comparison

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
NUMBERS = re.compile(r"^\d+([,–]\d+)*$")  # '3', '1,2', '10–12'


def drawn(figure):
    """The figure laid out and drawn on an Agg canvas, and its renderer."""
    if not isinstance(figure.canvas, FigureCanvasAgg):
        FigureCanvasAgg(figure)
    figure.canvas.draw()
    return figure.canvas.get_renderer()


def intersect(a, b) -> bool:
    """Whether two display boxes share some area (touching edges do not count)."""
    return min(a.x1, b.x1) > max(a.x0, b.x0) and min(a.y1, b.y1) > max(a.y0, b.y0)


def panels(figure):
    """The score panels: the axes whose left title names a pair ('X and Y')."""
    return [ax for ax in figure.axes if " and " in ax.get_title(loc="left")]


def check_numbers(figure) -> int:
    """Assert the geometry of the event numbers of every panel; return how many there are."""
    renderer = drawn(figure)
    count = 0
    for ax in panels(figure):
        box = ax.get_window_extent(renderer)
        title = ax._left_title.get_window_extent(renderer)
        numbers = [t for t in ax.texts if NUMBERS.match(t.get_text())]
        boxes = [t.get_window_extent(renderer) for t in numbers]
        count += len(boxes)
        for a, b in combinations(boxes, 2):
            assert not intersect(a, b), (ax.get_title(loc="left"), a, b)
        for t, b in zip(numbers, boxes, strict=True):
            assert not intersect(b, title), (ax.get_title(loc="left"), t.get_text())
            assert b.y0 >= box.y1 - 0.5, t.get_text()  # above the axes, not on the data
            assert b.y1 <= title.y0 + 0.5, t.get_text()  # under the title
            assert box.x0 - 0.5 <= b.x0 and b.x1 <= box.x1 + 0.5, t.get_text()  # over the panel
    return count


@pytest.fixture(scope="module")
def article():
    return api.run(SCENARIOS / "article.yaml")


def test_the_article_numbers_overlap_neither_each_other_nor_the_titles(article):
    assert check_numbers(plots.relations_figure(article)) >= 10


def crowded(path: Path) -> Path:
    """A 20-week scenario with 24 events: a weekly one alternating conflict and cooperation
    around every pair, and clusters of several on consecutive days."""
    pairs = [("IND", "PAK"), ("AFG", "PAK"), ("IND", "AFG")]
    lines = ["events:"]
    start = date(2025, 1, 8)
    days = [7 * k for k in range(12)] + [40, 41, 42, 43, 44, 60, 61, 62, 80, 81, 82, 83]
    for n, day in enumerate(days):
        a, b = pairs[n % 3]
        kind = "border_clash" if n % 2 else "visit"
        lines += [
            f"  - id: e{n}",
            f"    label: event number {n}",
            f"    date: {start + timedelta(days=day)}",
            f"    type: {kind}",
            f"    actor: {a}",
            f"    target: {b}",
        ]
    text = HEADER.replace("end: 2025-03-31", "end: 2025-05-31") + "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def test_crowded_numbers_are_stacked_apart_and_below_the_titles(tmp_path):
    result = api.run(crowded(tmp_path / "crowded.yaml"))
    figure = plots.relations_figure(result)
    assert check_numbers(figure) >= 12
    # crowded enough that one row would not hold them: some panel stacks numbers
    tops = {
        round(t.get_window_extent().y0)
        for ax in panels(figure)
        for t in ax.texts
        if NUMBERS.match(t.get_text())
    }
    assert len(tops) >= 2
    # one pair, the slide-wide layout
    assert check_numbers(plots.relations_figure(result, pairs=[("IND", "PAK")])) >= 4


def words(figure) -> list[str]:
    """Every piece of text a figure shows: texts, titles, axis labels, tick labels, legends."""
    found = [t.get_text() for t in figure.texts]
    if figure._suptitle is not None:
        found.append(figure._suptitle.get_text())
    if figure._supxlabel is not None:
        found.append(figure._supxlabel.get_text())
    for ax in figure.axes:
        found += [t.get_text() for t in ax.texts]
        found += [ax.get_title(loc=loc) for loc in ("left", "center", "right")]
        found += [ax.get_xlabel(), ax.get_ylabel()]
        legend = ax.get_legend()
        if legend is not None:
            found += [t.get_text() for t in legend.get_texts()]
    for legend in figure.legends:
        found += [t.get_text() for t in legend.get_texts()]
    return found


def test_no_snake_case_id_in_the_relations_figure_and_the_strip_tells_the_truth(article):
    figure = plots.relations_figure(article)
    shown = words(figure)
    assert not [t for t in shown if re.search(r"[a-z]_[a-z]", t)]
    strip = " ".join(t.get_text() for t in figure.axes[-1].texts)
    assert "border clash" in strip  # the type in words where the label does not say it
    assert "agree to exchange ambassadors" in strip
    caption = figure.axes[-1].get_xlabel().replace("\n", " ")
    assert "own date axis" not in caption and "same dates as the panels" in caption
    # the strip and the panels span the same dates
    assert figure.axes[-1].get_xlim() == pytest.approx(panels(figure)[0].get_xlim())


@pytest.fixture(scope="module")
def comparison(article):
    variant = api.run(SCENARIOS / "no-mediation.yaml")
    return Comparison(["article", "no-mediation"], [article, variant])


def test_comparison_markers_sit_above_each_panel_outside_the_scores(comparison):
    dyads = comparison.dyads_that_differ(most=6)
    figure = plots.comparison_figure(comparison, dyads)
    renderer = drawn(figure)
    markers = 0
    for ax in figure.axes[: len(dyads)]:
        box = ax.get_window_extent(renderer)
        title = ax._left_title.get_window_extent(renderer)
        hi = ax.get_ylim()[1]
        for line in ax.get_lines():
            if line.get_marker() != "v" or not len(line.get_xdata()):
                continue
            xy = line.get_transform().transform(line.get_xydata())
            in_data = ax.transData.inverted().transform(xy)[:, 1]
            assert (in_data > hi).all()  # above the score range
            assert (xy[:, 1] > box.y1).all() and (xy[:, 1] + 3 < title.y0).all()
            assert (xy[:, 0] >= box.x0).all() and (xy[:, 0] <= box.x1).all()
            markers += len(xy)
        assert ax.get_ylabel() == "" or (
            "hostile" in ax.get_ylabel() and "friendly" in ax.get_ylabel()
        )
    assert markers >= 4
    shown = " ".join(words(figure))
    title = figure._suptitle.get_text().replace("\n", " ")
    assert "article vs no-mediation" in title and "regards" in title
    for result in comparison.results:
        assert result.title.split()[0] in title
    assert "event" in " ".join(t.get_text() for t in figure.legends[0].get_texts())
    assert "Triangles above each panel" in shown
    assert "hostile" in figure.axes[0].get_ylabel() and "friendly" in figure.axes[0].get_ylabel()


def test_the_difference_figure_says_what_is_compared_and_which_way(comparison):
    dyads = comparison.dyads_that_differ(most=4)
    figure = plots.difference_figure(comparison, dyads, 0.05)
    drawn(figure)
    title = figure._suptitle.get_text().replace("\n", " ")
    assert "article vs no-mediation" in title and "no-mediation minus article" in title
    label = figure.axes[0].get_ylabel()
    assert "hostile" in label and "friendlier" in label
    for ax in figure.axes[: len(dyads)]:  # no marker rides on the data as if it were one
        assert not [line for line in ax.get_lines() if line.get_marker() in ("^", "v")]


BENCHMARKS = SCENARIOS.parent / "benchmarks"


def texts_of(figure):
    """Every Text the figure draws: its own texts, titles and legends, and for each shown
    axes its texts, titles, axis labels, tick labels (those drawn) and legend."""
    found = [*figure.texts, figure._suptitle, figure._supxlabel, figure._supylabel]
    for legend in figure.legends:
        found += legend.get_texts()
    for ax in figure.axes:
        if not ax.get_visible():
            continue
        found += [*ax.texts, ax.title, ax._left_title, ax._right_title]
        if ax.axison:
            found += [ax.xaxis.label, ax.yaxis.label]
            found += ax.xaxis.get_majorticklabels() + ax.yaxis.get_majorticklabels()
        if ax.get_legend() is not None:
            found += ax.get_legend().get_texts()
    return [t for t in found if t is not None and t.get_visible() and t.get_text().strip()]


def check_inside(figure) -> int:
    """Assert every drawn text lies inside the figure (measured with its renderer, half a
    pixel of slack); return how many texts were measured."""
    renderer = drawn(figure)
    box = figure.bbox
    texts = texts_of(figure)
    for t in texts:
        b = t.get_window_extent(renderer)
        assert box.x0 - 0.5 <= b.x0 and b.x1 <= box.x1 + 0.5, (t.get_text(), b, box)
        assert box.y0 - 0.5 <= b.y0 and b.y1 <= box.y1 + 0.5, (t.get_text(), b, box)
    return len(texts)


@pytest.fixture(scope="module")
def uncertain():
    """The benchmark with drawn dates and weights, one member and 20."""
    path = BENCHMARKS / "article-uncertain.yaml"
    return api.run(path, members=1), api.run(path, members=20)


@pytest.mark.parametrize("which", [0, 1])
def test_the_one_pair_figure_keeps_every_text_inside(uncertain, which):
    result = uncertain[which]
    figure = plots.relations_figure(result, pairs=[("AFG", "PAK")])
    assert check_inside(figure) >= 20
    title = figure._suptitle.get_text().replace("\n", " ")
    assert ("20 members" in title) == (which == 1)


def test_the_full_relations_figure_with_its_observations_keeps_every_text_inside(article):
    from stances.analysis.observations import marks
    from stances.scenario import load_scenario

    scenario = load_scenario(SCENARIOS / "article.yaml")
    verdicts, _ = api.check(article, scenario)
    figure = plots.relations_figure(article, marks(article, verdicts))
    assert check_inside(figure) >= 40
    check_numbers(figure)


LONG = (
    "A very long scenario title that goes on about mediation, recognition, border clashes and "
    "the exchange of ambassadors between the parties"
)


@pytest.mark.parametrize("count", [2, 4])
@pytest.mark.parametrize("long", [False, True])
def test_the_comparison_title_and_legend_never_meet(article, comparison, count, long):
    from dataclasses import replace

    results = [
        replace(r, title=f"{LONG} {n}" if long else r.title)
        for n, r in enumerate([*comparison.results, *comparison.results][:count])
    ]
    labels = [f"scenario-with-a-long-name-{n}" if long else f"s{n}" for n in range(count)]
    both = Comparison(labels, results)
    figure = plots.comparison_figure(both, both.dyads_that_differ(most=4))
    renderer = drawn(figure)
    title = figure._suptitle.get_window_extent(renderer)
    (legend,) = figure.legends
    assert not intersect(title, legend.get_window_extent(renderer))
    check_inside(figure)


def test_a_drawn_date_is_numbered_alike_in_one_run_and_an_ensemble_and_sits_at_its_median():
    from statistics import median

    import matplotlib.dates as mdates
    import pandas as pd

    path = BENCHMARKS / "article-uncertain.yaml"
    one, many = api.run(path, members=1), api.run(path, members=30)
    listed = [plots.event_list(r) for r in (one, many)]
    assert list(listed[0]["event"]) == list(listed[1]["event"])
    assert list(listed[0]["n"]) == list(range(1, len(listed[0]) + 1))
    # by hand: the file's dates, the window's middle (23 May) for the drawn one, ties in
    # the file's order: the Beijing meeting comes after the ambassadors' agreement (21 May)
    order = list(listed[1]["event"])
    assert order.index("beijing-trilateral") == order.index("ambassadors-agreed") + 1
    assert order.index("wang-muttaqi") + 1 == order.index("wang-dar")  # both 20 May
    for result, table in zip((one, many), listed, strict=True):
        draws = result.draws[result.draws["value_of"] == "events[beijing-trilateral].date"]
        assert len(draws) == result.members
        days = [date.fromordinal(int(v)) for v in draws["value"]]
        assert all(date(2025, 5, 1) <= d <= date(2025, 6, 15) for d in days)
        # the steps it was applied in, from the events table: each member's day lies in one
        steps = result.events[result.events["event"] == "beijing-trilateral"]
        starts = sorted(pd.to_datetime(steps["date"]).dt.date.unique())
        assert all(any(s <= d < s + timedelta(weeks=1) for s in starts) for d in days)
        centre = median(d.toordinal() for d in days)
        (row,) = table[table["event"] == "beijing-trilateral"].itertuples()
        assert row.date.toordinal() + row.date.hour / 24 == pytest.approx(centre)
        assert row.since.date() == min(days) and row.until.date() == max(days)
        # and the marker in the strip of the figure is drawn there
        figure = plots.relations_figure(result, pairs=[("AFG", "PAK")])
        strip = figure.axes[-1]
        x = mdates.date2num(row.date)
        markers = [
            line.get_xdata()[0]
            for line in strip.get_lines()
            if line.get_marker() == "v" and len(line.get_xdata()) == 1
        ]
        assert any(abs(m - x) < 1e-6 for m in markers)
        label = next(t.get_text() for t in strip.texts if "Beijing" in t.get_text())
        assert label.strip().startswith(f"{row.n} ")
        if result.members > 1:  # the members' range as a whisker on the marker's row
            lo, hi = mdates.date2num(min(days)), mdates.date2num(max(days))
            spans = [tuple(line.get_xdata()) for line in strip.get_lines()]
            assert any(s == pytest.approx((lo, hi)) for s in spans if len(s) == 2)
