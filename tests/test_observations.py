"""Observations checked against runs: margins, shares and dates, against brute-force counts
written here in plain Python over hand-made histories."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from helpers import observation
from hypothesis import given, settings
from hypothesis import strategies as st

import stances
from stances.analysis.observations import after, as_of, check, share_holding, table
from stances.result import Result

ROOT = Path(__file__).resolve().parents[1]

IDS = ("A", "B", "C")
START = date(2024, 1, 1)


def weekly(steps: int) -> list[date]:
    return [START + timedelta(days=7 * t) for t in range(steps + 1)]


def result_of(history: np.ndarray) -> Result:
    """A Result around a hand-made history (T + 1, K, 3, 3)."""
    return Result(
        title="hand",
        actors={a: a for a in IDS},
        dates=weekly(history.shape[0] - 1),
        history=history,
        events=pd.DataFrame(),
    )


def history_with(values: list[float], other: list[float] | None = None) -> np.ndarray:
    """A one-member history whose A -> B follows `values` (and C -> B `other`)."""
    h = np.zeros((len(values), 1, 3, 3))
    h[:, 0, 0, 1] = values
    if other is not None:
        h[:, 0, 2, 1] = other
    return h


def test_as_of_and_after_by_hand():
    dates = weekly(3)  # 1, 8, 15, 22 January
    assert as_of(dates, date(2024, 1, 1)) == 0
    assert as_of(dates, date(2024, 1, 7)) == 0
    assert as_of(dates, date(2024, 1, 8)) == 1
    assert as_of(dates, date(2023, 12, 1)) == 0
    assert after(dates, date(2024, 1, 1)) == 1
    assert after(dates, date(2024, 1, 9)) == 2
    assert after(dates, date(2025, 1, 1)) == 3


def test_level_margin_is_the_worst_step_of_the_period():
    res = result_of(history_with([0.5, -0.2, -0.4, -0.1, 0.3]))
    below = observation("below", reference=-0.3, period=(date(2024, 1, 8), date(2024, 1, 22)))
    verdict = check(res, below)
    # steps 1..3 (-0.2, -0.4, -0.1) against -0.3: worst is -0.1, margin -0.3 - (-0.1) = -0.2
    assert np.isclose(verdict.margin, -0.2)
    assert not verdict.holds
    above = observation("above", reference=-0.5, period=(date(2024, 1, 8), date(2024, 1, 22)))
    assert np.isclose(check(res, above).margin, 0.1) and check(res, above).holds


def test_a_margin_to_clear_is_subtracted():
    res = result_of(history_with([0.5, 0.6]))
    assert np.isclose(check(res, observation("above", reference=0.2, by=0.1)).margin, 0.2)
    assert not check(res, observation("above", reference=0.2, by=0.4)).holds


def test_level_against_another_score_and_against_a_past_level():
    res = result_of(history_with([0.1, 0.2, 0.5], other=[0.0, 0.3, 0.1]))
    versus = observation("above", reference=(("C", "B"), None))
    assert np.isclose(check(res, versus).margin, -0.1)  # 0.2 - 0.3 at step 1
    past = observation(
        "above",
        reference=(("A", "B"), date(2024, 1, 1)),
        period=(date(2024, 1, 8), date(2024, 1, 15)),
    )
    assert np.isclose(check(res, past).margin, 0.1)  # min(0.2, 0.5) - 0.1


def test_difference_of_two_scores():
    res = result_of(history_with([0.4, 0.4], other=[0.1, 0.5]))
    o = observation("above", score=(("A", "B"), ("C", "B")), reference=0.0)
    assert np.isclose(check(res, o).margin, -0.1)


def test_change_across_an_event_spans_its_step():
    res = result_of(history_with([0.0, 0.2, -0.3, -0.2]))
    # an event on 10 January falls in the step from 8 to 15 January: before 0.2, after -0.3
    falls = observation("falls", window=(date(2024, 1, 10), date(2024, 1, 10)), across=True)
    assert np.isclose(check(res, falls).margin, 0.5)
    rises = observation("rises", window=(date(2024, 1, 1), date(2024, 1, 22)))
    assert np.isclose(check(res, rises).margin, -0.2)


def test_date_of_the_lowest_point():
    res = result_of(history_with([0.0, -0.5, -0.2, -0.6, 0.1]))  # lowest on 22 January
    inside = observation("lowest", window=(date(2024, 1, 20), date(2024, 1, 25)))
    assert check(res, inside).margin == 0 and check(res, inside).holds
    early = observation("lowest", window=(date(2024, 1, 1), date(2024, 1, 8)))
    assert check(res, early).margin == -14  # 14 days after the window's last day
    assert not check(res, early).holds


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.lists(st.floats(-1, 1), min_size=3, max_size=3), min_size=2, max_size=8),
    threshold=st.floats(-1, 1),
    by=st.floats(0, 0.5),
    kind=st.sampled_from(["above", "below"]),
)
def test_share_of_members_matches_a_brute_force_count(values, threshold, by, kind):
    """values[t][k]: member k's A -> B at step t; the share is counted here member by member."""
    steps, members = len(values), 3
    h = np.zeros((steps, members, 3, 3))
    for t in range(steps):
        for k in range(members):
            h[t, k, 0, 1] = values[t][k]
    verdict = check(result_of(h), observation(kind, reference=threshold, by=by))
    count = 0
    for k in range(members):
        column = [values[t][k] for t in range(steps)]
        ok = (
            all(v > threshold + by for v in column)
            if kind == "above"
            else all(v < threshold - by for v in column)
        )
        count += ok
    assert verdict.share == count / members


def test_table_and_share_holding():
    res = result_of(history_with([0.5, 0.6]))
    verdicts = [
        check(res, observation("above", id="yes", reference=0.0)),
        check(res, observation("below", id="no", reference=0.0)),
    ]
    frame = table(verdicts)
    assert list(frame["observation"]) == ["yes", "no"]
    assert list(frame["holds"]) == [True, False]
    assert share_holding(verdicts) == 0.5


CHECKED = """\
title: Checked
time: {start: 2025-01-01, end: 2025-03-31, step: week}
actors: {A: {name: A}, B: {name: B}}
relations: {A <-> B: 0.2}
events:
  - {id: strike, date: 2025-01-10, type: airstrike, actor: A, target: B}
observations:
  falls:
    score: B -> A
    falls: {across: strike}
    cite: hand
  stays-friendly:
    score: B -> A
    above: 0.0
    cite: hand
"""


def test_check_command_writes_observations_csv(tmp_path, capsys):
    from stances.cli import main

    path = tmp_path / "checked.yaml"
    path.write_text(CHECKED)
    assert main(["check", str(path), "--out", str(tmp_path / "run"), "--no-plots"]) == 0
    out = capsys.readouterr().out
    # an airstrike (s = -1) takes half the room left: B -> A goes from 0.2 to -0.4, so it falls
    # and does not stay above 0
    assert "1 of 2 observations hold" in out
    frame = pd.read_csv(tmp_path / "run" / "observations.csv")
    assert dict(zip(frame["observation"], frame["holds"], strict=True)) == {
        "falls": True,
        "stays-friendly": False,
    }


def test_an_observation_naming_an_unknown_actor_or_event_is_refused_where_it_stands(tmp_path):
    from helpers import position_of, problems_of

    text = CHECKED.replace("across: strike", "across: strke").replace(
        "score: B -> A\n    above", "score: B -> C\n    above"
    )
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    problems = problems_of(path)
    messages = sorted(p.message for p in problems)
    assert any("no event has id 'strke' (did you mean 'strike'?)" in m for m in messages)
    assert any("unknown actor 'C'" in m and "actors: A, B" in m for m in messages)
    line, _ = position_of(text, "strke")
    assert any(p.pos.line == line for p in problems)


def test_a_what_if_that_removes_an_event_drops_the_observations_across_it(tmp_path):
    """no-mediation.yaml removes beijing-trilateral: the article's two rises across it go with
    it, and every other observation is inherited."""
    article = stances.load_scenario(ROOT / "scenarios" / "article.yaml")
    whatif = stances.load_scenario(ROOT / "scenarios" / "no-mediation.yaml")
    across = {o.id for o in article.observations if o.kind == "rises" and "2025-05-21" in o.label}
    assert across == {"pak-afg-rises-across-beijing", "afg-pak-rises-across-beijing"}
    assert {o.id for o in whatif.observations} == {o.id for o in article.observations} - across
