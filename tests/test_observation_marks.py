"""Observations drawn on the relation plots: where each mark goes (worked out by hand on
hand-made histories), which panel holds it, and that `stances check` draws them and `stances
run` does not."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from conftest import MINIMAL
from helpers import observation

from stances.analysis.observations import check, marks
from stances.cli import main
from stances.plots import pairs_to_show, relations_figure
from stances.result import Result
from stances.scenario.observations import Observation

IDS = ("A", "B", "C")
START = date(2024, 1, 1)
STEPS = 10
DATES = [START + timedelta(days=7 * t) for t in range(STEPS + 1)]


def result_of(history: np.ndarray) -> Result:
    """A Result around a hand-made history (T + 1, K, 3, 3)."""
    return Result(
        title="hand",
        actors={a: a for a in IDS},
        dates=DATES,
        history=history,
        events=pd.DataFrame(
            columns=["step", "date", "event", "origin", "actor", "toward", "change"]
        ),
    )


# three members; A -> B falls by 0.1 a step from 0.5 in member 0, and is member 0's value
# plus 0.2 and minus 0.2 in the others: its median is member 0's. C -> B is 0.1 * t.
FALLING = 0.5 - 0.1 * np.arange(STEPS + 1)
HISTORY = np.zeros((STEPS + 1, 3, 3, 3))
for member, shift in enumerate((0.0, 0.2, -0.2)):
    HISTORY[:, member, 0, 1] = FALLING + shift
    HISTORY[:, member, 2, 1] = 0.1 * np.arange(STEPS + 1)
RESULT = result_of(HISTORY)


def mark_of(o: Observation):
    (mark,) = marks(RESULT, [check(RESULT, o)])
    return mark


def test_a_level_is_drawn_at_its_bound_over_its_period():
    period = (DATES[2], DATES[5])
    mark = mark_of(observation("below", reference=0.3, by=0.05, period=period))
    assert (mark.shape, mark.dyad, mark.y0, mark.direction) == ("level", ("A", "B"), 0.25, -1)
    assert (mark.start, mark.end) == period
    # the median is 0.3 at step 2: not below 0.25 there
    assert not mark.holds


def test_a_level_without_a_period_is_a_floor_over_the_whole_window():
    mark = mark_of(observation("above", reference=-0.6))
    assert (mark.shape, mark.y0, mark.direction) == ("level", -0.6, 1)
    assert (mark.start, mark.end) == (DATES[0], DATES[-1])
    assert mark.holds  # members 0 and 1 end at -0.5 and -0.3, member 2 at -0.7: two of three


def test_a_level_against_a_score_at_a_date_is_that_scores_median_then():
    at = DATES[3] + timedelta(days=2)  # as of step 3: C -> B = 0.3 in every member
    mark = mark_of(observation("below", reference=(("C", "B"), at), by=0.1))
    assert (mark.shape, mark.at) == ("level", at)
    assert mark.y0 == pytest.approx(0.3 - 0.1)


def test_a_comparison_with_another_score_is_a_period_bar():
    mark = mark_of(observation("above", reference=(("C", "B"), None), period=(DATES[1], DATES[4])))
    assert (mark.shape, mark.direction, mark.start, mark.end) == ("period", 1, DATES[1], DATES[4])


def test_a_change_starts_at_the_median_as_of_its_first_day():
    window = (DATES[2] + timedelta(days=3), DATES[6])
    mark = mark_of(observation("falls", window=window))
    assert (mark.shape, mark.direction, mark.start, mark.end) == ("change", -1, DATES[2], DATES[6])
    assert mark.y0 == pytest.approx(FALLING[2])
    assert mark.holds


def test_a_change_across_an_event_spans_the_events_step():
    day = DATES[4] + timedelta(days=1)
    mark = mark_of(observation("rises", window=(day, day), across=True))
    assert (mark.start, mark.end, mark.direction) == (DATES[4], DATES[5], 1)
    assert not mark.holds


def test_the_date_of_an_extreme_is_a_bracket_over_its_window():
    window = (DATES[8], DATES[10])
    mark = mark_of(observation("lowest", window=window))
    assert (mark.shape, mark.start, mark.end, mark.direction) == ("window", *window, -1)
    assert mark.holds  # the minimum is at the last step


def test_a_difference_of_scores_has_no_panel():
    mark = mark_of(observation("above", score=(("A", "B"), ("C", "B")), reference=0.0))
    assert mark.dyad is None


def test_marks_are_numbered_in_order():
    os = [observation("above", id=f"o{n}", reference=-1.0) for n in range(3)]
    assert [m.number for m in marks(RESULT, [check(RESULT, o) for o in os])] == [1, 2, 3]


def test_the_pairs_of_observations_are_shown_first():
    assert pairs_to_show(RESULT, most=1) == [("A", "B")]  # the pair that moved most
    assert pairs_to_show(RESULT, most=1, first=(("C", "A"),)) == [("A", "C")]


def test_each_mark_is_numbered_on_its_pair_and_listed_under_the_figure():
    observations = [
        observation("below", id="held", reference=0.6),
        observation("above", id="broken", score=(("C", "B"), None), reference=0.5),
        observation("above", id="gap", score=(("A", "B"), ("C", "B")), reference=-9.0),
    ]
    drawn = marks(RESULT, [check(RESULT, o) for o in observations])
    figure = relations_figure(RESULT, drawn)
    labels = {ax.get_title(loc="left"): {t.get_text() for t in ax.texts} for ax in figure.axes}
    assert "1✓" in labels["A and B"] and "2✗" in labels["B and C"]
    panels = [labels[f"{a} and {b}"] for a, b in (("A", "B"), ("A", "C"), ("B", "C"))]
    assert not any(t.startswith("3") for texts in panels for t in texts)  # no panel for 3
    caption = " ".join(t.get_text() for ax in figure.axes for t in ax.texts)
    for o in observations:
        assert o.id in caption
    assert "a difference: not drawn" in caption
    plain = relations_figure(RESULT)
    assert not any(
        "✓" in t.get_text() or "✗" in t.get_text() for ax in plain.axes for t in ax.texts
    )


def test_check_draws_the_observations_and_run_does_not(tmp_path, monkeypatch):
    content = MINIMAL + (
        "observations:\n  afg-ind-warm:\n    score: AFG -> IND\n    above: 0.0\n    cite: hand\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(content, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", str(path), "--out", "checked"]) == 0
    assert main(["run", str(path), "--out", "ran"]) == 0
    checked = (tmp_path / "checked" / "relations.png").read_bytes()
    ran = (tmp_path / "ran" / "relations.png").read_bytes()
    assert checked != ran
    assert (tmp_path / "checked" / "observations.csv").exists()
