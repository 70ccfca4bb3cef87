"""Lasting events (`until:` or `for:`): read and refused as files say, held against memory decay
as closed forms say, logged re-press by re-press, drawn as spans; and the re-press rate itself.

Every scenario here sets the rules it needs (entrenchment, observers, a fixed baseline and the
kappas) explicitly, so that no expected value depends on the defaults. The expected scores are
worked out by hand from docs/model.md: a move of rate r on a score at its baseline b, then
decay over each step keeping f = 2 ** (-7 / 182) of the departure (weekly steps, 26 weeks).
"""

from __future__ import annotations

import json
import math
import tempfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import position_of
from hypothesis import given, settings
from hypothesis import strategies as st

from stances import api, load_scenario
from stances.cli import main
from stances.engine.dynamics import FIRST_RULES, Rules, held_rates, saturating_move
from stances.engine.model import StanceModel
from stances.store import load_run

START = date(2024, 1, 1)  # a Monday: weekly steps run Monday to Sunday
DATE = date(2024, 2, 5)  # the event's day: step 6 (boundaries t5 = 5 Feb, t6 = 12 Feb)
F = 2 ** (-7 / 182)  # share of a departure one weekly step of decay keeps (half-life 26 weeks)
IDS = ("A", "B", "C")
A, B, C = range(3)


def text(entrenchment: bool, event: str, extra: str = "") -> str:
    """Three actors; C likes A (0.5) and B (0.3); one event A -> B written as `event`."""
    return f"""\
title: lasting
time: {{start: {START}, end: 2024-12-29, step: week}}
actors: {{A: {{name: A}}, B: {{name: B}}, C: {{name: C}}}}
relations: {{A <-> C: 0.5, B <-> C: 0.3}}
parameters:
  memory_half_life: 26 weeks
  kappa_target: 0.5
  kappa_actor: 0.25
  kappa_observer: 0.15
  entrenchment: {str(entrenchment).lower()}
  observers: plain
  baseline_half_life: null
{extra}events:
  - {{id: closure, date: {DATE}, type: airstrike, actor: A, target: B{event}}}
"""


def write(tmp_path: Path, content: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def step_of(day: date) -> int:
    """The weekly step holding `day` (1-based), counted by hand."""
    return (day - START).days // 7 + 1


def one_off_and_decay(b: float, r: float, entrenchment: bool, keeps: float) -> float:
    """A score at baseline b after a move of rate r whose departure decay then shrank to the
    share `keeps`: saturating, b + (x1 - b) keeps; entrenched, tanh(artanh b + r keeps)."""
    if entrenchment:
        return math.tanh(math.atanh(b) + r * keeps)
    x1 = b + r * (1 - b) if r > 0 else b + r * (1 + b)
    return b + (x1 - b) * keeps


# the cells an airstrike of A on B (strength -1) moves, their baseline and their rate
CELLS = {
    (B, A): (0.0, -0.5),  # the target's view of the actor: kappa_target * s
    (A, B): (0.0, -0.25),  # the actor's view of the target: kappa_actor * s
    (C, A): (0.5, -0.15 * 0.3),  # C observes: kappa_observer * s * R[C, B]
}


@pytest.mark.parametrize("entrenchment", [False, True])
def test_a_lasting_event_holds_its_scores_then_they_decay_with_the_half_life(
    tmp_path, entrenchment
):
    last_day = DATE + timedelta(weeks=12) - timedelta(days=1)  # for: 12 weeks
    first, last = step_of(DATE), step_of(last_day)
    assert (first, last) == (6, 17)
    history = api.run(write(tmp_path, text(entrenchment, ", for: 12 weeks"))).history[:, 0]
    for (i, j), (b, r) in CELLS.items():
        for t in range(40):
            if t < first:
                expected = b
            elif t <= last:  # held at the level of the boundary after the event's step
                expected = one_off_and_decay(b, r, entrenchment, F)
            else:  # t - last steps of decay after the last re-press
                expected = one_off_and_decay(b, r, entrenchment, F ** (t - last + 1))
            assert history[t, i, j] == pytest.approx(expected, abs=1e-12), (i, j, t)
    assert history[:, C, B] == pytest.approx(0.3)  # no event moves C's view of B


@pytest.mark.parametrize("entrenchment", [False, True])
def test_for_and_until_give_the_same_run(tmp_path, entrenchment):
    until = api.run(write(tmp_path, text(entrenchment, ", until: 2024-04-28"), "u.yaml"))
    lasting = api.run(write(tmp_path, text(entrenchment, ", for: 12 weeks"), "f.yaml"))
    np.testing.assert_array_equal(until.history, lasting.history)
    columns = [c for c in until.events.columns if c != "source"]
    pd.testing.assert_frame_equal(until.events[columns], lasting.events[columns])


@pytest.mark.parametrize(
    "ending",
    [", until: 2024-02-05", ", for: 1 day", ", until: 2024-02-11", ", for: 6 days"],
    ids=["until its day", "for one day", "until the end of its step", "for the rest of its step"],
)
def test_an_event_that_ends_in_its_own_step_is_a_one_off(tmp_path, ending):
    one_off = api.run(write(tmp_path, text(False, ""), "o.yaml"))
    lasting = api.run(write(tmp_path, text(False, ending), "l.yaml"))
    np.testing.assert_array_equal(one_off.history, lasting.history)
    columns = [c for c in one_off.events.columns if c != "source"]
    pd.testing.assert_frame_equal(one_off.events[columns], lasting.events[columns])
    assert set(lasting.events["origin"]) == {"scripted"}


def test_until_past_the_window_lasts_to_its_end_and_says_nothing(tmp_path, capsys):
    path = write(tmp_path, text(True, ", until: 2031-01-01"))
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().err == ""
    history = api.run(path).history[:, 0]
    held = math.tanh(-0.5 * F)
    assert history[step_of(DATE) :, B, A] == pytest.approx(held, abs=1e-12)


def test_each_re_press_is_logged_with_origin_lasting_at_strength_s_times_one_minus_f(tmp_path):
    events = api.run(write(tmp_path, text(False, ", for: 12 weeks"))).events
    presses = events[events["origin"] == "lasting"]
    steps = list(range(step_of(DATE) + 1, 18))
    assert sorted(set(presses["step"])) == steps
    assert len(presses) == len(steps) * len(CELLS)  # one row per re-press and touched score
    first_days = {pd.Timestamp(START + timedelta(weeks=k - 1)) for k in steps}
    assert set(presses["date"]) == first_days
    assert presses["strength"].to_numpy() == pytest.approx(-(1 - F))
    assert presses["intensity"].to_numpy() == pytest.approx(1 - F)
    target = presses[(presses["actor"] == "B") & (presses["toward"] == "A")]
    # each re-press takes the target from the decayed level back to the event's level, -0.5
    assert target["before"].to_numpy() == pytest.approx(-0.5 * F)
    assert target["after"].to_numpy() == pytest.approx(-0.5)
    scripted = events[events["origin"] == "scripted"]
    assert list(scripted["step"].unique()) == [step_of(DATE)]
    assert scripted["strength"].to_numpy() == pytest.approx(-1.0)


def test_a_run_with_re_presses_reads_back_from_its_directory(tmp_path):
    result = api.run(write(tmp_path, text(True, ", for: 8 weeks")))
    back = load_run(api.save(result, tmp_path / "run", plots=False))
    pd.testing.assert_frame_equal(back.events, result.events, check_exact=False, atol=1e-6)


def test_a_re_press_shifts_no_position(tmp_path):
    issue = """\
issues:
  trade:
    description: open trade (0 closed, 1 open)
    positions:
      A: {at: 0.5, susceptibility: 0.0}
      B: {at: 0.5, susceptibility: 0.0}
"""
    event = ", for: 12 weeks, stance_shift: {issue: trade, by: -0.1}"
    model = StanceModel(write(tmp_path, text(False, event, issue)))
    model.run()
    assert model.X[0, 0, A] == pytest.approx(0.4)  # moved once by -0.1, not once a step


def test_an_ensemble_with_drawn_ends_holds_each_member_to_its_own_end(tmp_path):
    path = write(tmp_path, text(False, ", until: {choice: [2024-03-03, 2024-04-28, 2024-06-30]}"))
    result = api.run(path, members=9)
    draws = result.draws[result.draws["value_of"] == "events[closure].until"]
    assert len(set(draws["value"])) > 1
    for member, day in zip(draws["member"], draws["value"], strict=True):
        last = step_of(date.fromordinal(int(day)))
        history = result.history[:, member, B, A]
        assert history[step_of(DATE) : last + 1] == pytest.approx(-0.5 * F, abs=1e-12)
        assert history[last + 1] == pytest.approx(-0.5 * F * F, abs=1e-12)


def test_with_a_drawn_date_a_for_lasts_from_each_members_own_date(tmp_path):
    event = ", for: 4 weeks"
    path = write(
        tmp_path,
        text(False, event).replace(f"date: {DATE}", "date: {uniform: [2024-02-01, 2024-03-31]}"),
    )
    result = api.run(path, members=6)
    days = result.draws[result.draws["value_of"] == "events[closure].date"]
    for member, day in zip(days["member"], days["value"], strict=True):
        start = date.fromordinal(int(day))
        first, last = step_of(start), step_of(start + timedelta(days=27))
        history = result.history[:, member, B, A]
        assert history[first : last + 1] == pytest.approx(-0.5 * F, abs=1e-12)
        assert history[last + 1] == pytest.approx(-0.5 * F * F, abs=1e-12)


def test_batches_of_members_log_the_same_re_presses(tmp_path):
    event = ", until: {uniform: [2024-03-01, 2024-05-31]}"
    path = write(
        tmp_path,
        text(True, event).replace(f"date: {DATE}", "date: {uniform: [2024-02-01, 2024-02-29]}"),
    )
    whole = api.run(path, members=8, batch=8)
    parts = api.run(path, members=8, batch=3)
    np.testing.assert_array_equal(whole.history, parts.history)
    pd.testing.assert_frame_equal(whole.events, parts.events)
    assert (whole.events["origin"] == "lasting").any()


# ---------------------------------------------------------------------------------------------
# The re-press rate


@settings(max_examples=300, deadline=None)
@given(
    b=st.floats(-0.999, 0.999),
    r=st.floats(-1.0, 1.0),
    f=st.floats(0.01, 0.999),
)
def test_a_saturating_re_press_brings_a_decayed_score_back_to_the_events_level(b, r, f):
    x1 = saturating_move(np.array([b]), np.array([r]))[0]
    decayed = b + (x1 - b) * f
    rates = np.array([[r]])
    held_rates(rates, np.array([f]), FIRST_RULES)
    rho = rates[0, 0]
    assert abs(r) * (1 - f) - 1e-15 <= abs(rho) <= abs(r) + 1e-15
    assert saturating_move(np.array([decayed]), np.array([rho]))[0] == pytest.approx(x1, abs=1e-12)


def test_an_entrenched_re_press_gives_back_r_times_one_minus_f():
    rates = np.array([[0.4, -2.0], [0.0, 3.0]])
    held_rates(rates, np.array([0.9, 0.5]), Rules(entrenchment=True, relative_observers=False))
    assert rates == pytest.approx(np.array([[0.04, -1.0], [0.0, 1.5]]))


@settings(max_examples=25, deadline=None)
@given(
    entrenchment=st.booleans(),
    observers=st.sampled_from(["plain", "relative"]),
    half_lives=st.tuples(st.integers(1, 52), st.one_of(st.none(), st.integers(1, 104))),
    relations=st.lists(st.integers(-10, 10), min_size=6, max_size=6),
    events=st.lists(
        st.tuples(
            st.sampled_from(["airstrike", "border_clash", "meet", "mediate", "economic_aid"]),
            st.integers(0, 100),  # intensity, tenths: 0 to 10
            st.integers(0, 150),  # day offset
            st.integers(1, 40),  # weeks it lasts
            st.permutations(IDS),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_scores_stay_in_bounds_whatever_lasting_events_press(
    entrenchment, observers, half_lives, relations, events
):
    pairs = [(a, b) for a in IDS for b in IDS if a != b]
    data = {
        "title": "bounds",
        "time": {"start": "2024-01-01", "end": "2024-08-31", "step": "week"},
        "actors": {a: {"name": a} for a in IDS},
        "relations": {f"{a} -> {b}": v / 10 for (a, b), v in zip(pairs, relations, strict=True)},
        "parameters": {
            "memory_half_life": half_lives[0],
            "baseline_half_life": half_lives[1],
            "entrenchment": entrenchment,
            "observers": observers,
        },
        "events": [],
    }
    for n, (kind, intensity, offset, weeks, (x, y, z)) in enumerate(events):
        who = {"target": y} if kind in ("airstrike", "border_clash", "economic_aid") else {}
        who = {"parties": [y, z]} if kind == "mediate" else who or {"parties": [y]}
        data["events"].append(
            {
                "id": f"e{n}",
                "date": (START + timedelta(days=offset)).isoformat(),
                "for": f"{weeks} weeks",
                "type": kind,
                "actor": x,
                "intensity": intensity / 10,
                **who,
            }
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bounds.yaml"
        path.write_text(json.dumps(data), encoding="utf-8")
        result = api.run(path)
    assert np.isfinite(result.history).all()
    assert (np.abs(result.history) <= 1.0).all()
    assert (result.events[["before", "after"]].abs() <= 1.0).all().all()


# ---------------------------------------------------------------------------------------------
# Files: validation, what-ifs


@pytest.mark.parametrize(
    ("event", "needle", "message"),
    [
        (", until: 2024-01-15", "2024-01-15", "2024-01-15 is before the event's date 2024-02-05"),
        (
            ", until: 2024-03-01, for: 2 weeks",
            "{id: closure",
            "give 'until:' (its last day) or 'for:'",
        ),
        (", for: .nan", ".nan", "a duration must be longer than zero"),
        (", until: .inf", ".inf", "expected a date as YYYY-MM-DD"),
        (", for: -3 weeks", "-3 weeks", "expected a duration such as '26 weeks'"),
        (", for: 1001 years", "1001 years", "a duration must be at most 1000 years"),
        (", for: 1e400", "1e400", "a duration must be"),
        (", until: 2024-02-30", "2024-02-30", "2024-02-30 is not a date"),
        (", until: {uniform: [2024-01-20, 2024-03-01]}", "{uniform", "until can be 2024-01-20"),
        (", for: {uniform: [1 week, 2 weeks]}", "{uniform", "expected a duration"),
    ],
    ids=[
        "before-date",
        "both",
        "nan",
        "inf",
        "negative",
        "too-long",
        "overflow",
        "not-a-date",
        "drawn-before-date",
        "drawn-for",
    ],
)
def test_bad_ends_exit_2_with_one_line_at_their_place(tmp_path, capsys, event, needle, message):
    content = text(False, event)
    path = write(tmp_path, content)
    assert main(["validate", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    line, col = position_of(content, needle)
    assert lines[0].startswith(f"{path}:{line}:{col}: events[closure]"), lines[0]
    assert message in lines[0], lines[0]


def test_a_drawn_until_on_or_after_every_drawn_date_is_fine(tmp_path):
    content = text(False, ", until: {uniform: [2024-03-01, 2024-04-01]}").replace(
        f"date: {DATE}", "date: {uniform: [2024-02-01, 2024-03-01]}"
    )
    scenario = load_scenario(write(tmp_path, content))
    assert [u.label for u in scenario.uncertain] == [
        "events[closure].date",
        "events[closure].until",
    ]


def parent(tmp_path: Path) -> Path:
    return write(tmp_path, text(False, ", for: 12 weeks"), "parent.yaml")


@pytest.mark.parametrize(
    ("child", "until"),
    [
        ("title: inherited\n", date(2024, 4, 28)),
        ("replace:\n  - {id: closure, for: null, until: 2024-03-10}\n", date(2024, 3, 10)),
        ("replace:\n  - {id: closure, for: 2 weeks}\n", date(2024, 2, 18)),
        ("set:\n  events.closure.for: 3 weeks\n", date(2024, 2, 25)),
        (
            "set:\n  events.closure.for: null\n  events.closure.until: 2024-06-02\n",
            date(2024, 6, 2),
        ),
        ("replace:\n  - {id: closure, for: null}\n", None),
        (
            "remove: [closure]\nadd:\n  - {id: again, date: 2024-03-04, until: 2024-03-17, "
            "type: airstrike, actor: A, target: B}\n",
            date(2024, 3, 17),
        ),
    ],
    ids=["inherited", "replace-until", "replace-for", "set-for", "set-until", "one-off", "add"],
)
def test_what_ifs_inherit_and_change_how_long_an_event_lasts(tmp_path, child, until):
    parent(tmp_path)
    path = write(tmp_path, f"extends: parent.yaml\n{child}", "child.yaml")
    (event,) = load_scenario(path).events
    assert event.until == until


def test_set_on_the_command_line_changes_how_long_it_lasts(tmp_path):
    (event,) = load_scenario(parent(tmp_path), {"events.closure.for": "'4 weeks'"}).events
    assert (event.until, event.span_days) == (date(2024, 3, 3), 28)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("events.closre.for", "no event has id 'closre' (did you mean 'closure'?)"),
        ("events.closure", "say which field of which event to set"),
    ],
)
def test_set_keys_into_events_say_what_is_wrong(tmp_path, capsys, key, message):
    parent(tmp_path)
    content = f"extends: parent.yaml\nset:\n  {key}: 2 weeks\n"
    path = write(tmp_path, content, "child.yaml")
    assert main(["validate", str(path)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    row, col = position_of(content, key)
    assert line.startswith(f"{path}:{row}:{col}: ") and message in line, line


# ---------------------------------------------------------------------------------------------
# Plots


def test_the_event_list_folds_re_presses_into_their_event_with_the_end_it_held_to(tmp_path):
    from stances.plots import event_list

    content = text(False, ", for: 12 weeks") + (
        "  - {id: later, date: 2024-06-03, type: condemn, actor: C, target: A}\n"
    )
    result = api.run(write(tmp_path, content))
    listed = event_list(result)
    assert list(listed["event"]) == ["closure", "later"]
    closure, later = listed.itertuples()
    assert closure.lasts_until == pd.Timestamp(START + timedelta(weeks=17))  # boundary t17
    assert pd.isna(later.lasts_until)


def test_a_lasting_event_is_a_band_over_the_days_it_held_on_the_panels_it_moved(tmp_path):
    import matplotlib.dates as mdates

    from stances.plots import relations_figure

    result = api.run(write(tmp_path, text(False, ", for: 12 weeks")))
    figure = relations_figure(result)
    held = (mdates.date2num(DATE), mdates.date2num(START + timedelta(weeks=17)))
    bands = [
        (ax.get_title(loc="left"), p.get_x(), p.get_x() + p.get_width())
        for ax in figure.axes
        for p in ax.patches
    ]
    spans = {title for title, x0, x1 in bands if (x0, x1) == pytest.approx(held)}
    # A and B, and A and C (C's view of A moved); B and C did not move
    assert spans == {"A and B", "A and C"}
    strip = figure.axes[-1]
    labels = [t.get_text() for t in strip.texts]
    assert any("closure" in t and "held to 28 Apr 2024" in t for t in labels), labels
