"""Values the format refuses or reads in more than one way: non-finite and out-of-range numbers
(plain or inside distributions), time windows past the calendar or with absurdly many steps,
bounded weights, costs and capabilities, shortened echoes; `set:`, `--set` and `--vary` through
short forms and non-mappings; durations as a plain number of weeks.

Every expected position is found by searching the YAML text the test writes.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import MINIMAL
from helpers import assert_at, only_problem, position_of, problems_of, write

import stances
from stances import ScenarioError, load_scenario
from stances.cli import main
from stances.engine.model import StanceModel

BASE = MINIMAL.replace("title: Minimal", "title: Base")  # the shared minimal file

# A parent whose CHN decides for itself (policy written in its short form): it wants Pakistan
# and Afghanistan on good terms and can mediate.
REACTIVE = """\
title: Reactive parent
time: {start: 2025-01-01, end: 2025-03-31, step: week}
actors:
  CHN:
    name: China
    interests:
      PAK <-> AFG: {want: 0.5, side: at_least}
    policy: reactive
  PAK: {name: Pakistan}
  AFG: {name: Afghanistan}
relations:
  PAK <-> AFG: -0.5
"""


def base_with(tmp_path: Path, extra: str, name: str = "scenario.yaml") -> tuple[Path, str]:
    """BASE with `extra` inserted before events: (a `relations:` entry joins BASE's own),
    written to tmp_path/name."""
    if extra.startswith("relations:\n"):
        text = BASE.replace("relations:\n", extra)
    else:
        text = BASE.replace("events:\n", extra + "events:\n")
    return write(tmp_path, name, text), text


def child(tmp_path: Path, text: str, parent: str = BASE) -> Path:
    write(tmp_path, "parent.yaml", parent)
    return write(tmp_path, "child.yaml", text)


# --------------------------------------------------------------------------------------------
# non-finite and out-of-range numbers

BAD_DISTRIBUTIONS = [
    "{choice: [.nan]}",
    "{normal: [.nan, 0.1]}",
    "{normal: [0, .nan]}",
    "{uniform: [.nan, .nan]}",
    "{uniform: [0, .inf]}",
    "{normal: [0, .inf]}",
    "{choice: [0.1, -.inf]}",
]


@pytest.mark.parametrize("dist", BAD_DISTRIBUTIONS)
@pytest.mark.parametrize(
    "where",
    [
        "relations:\n  PAK -> IND: {}\n",
        "baseline:\n  PAK -> IND: {}\n",
        "parameters:\n  kappa_observer: {}\n",
        "parameters:\n  noise: {}\n",
    ],
)
def test_a_non_finite_argument_is_refused_where_it_is_written(tmp_path, dist, where):
    path, text = base_with(tmp_path, where.format(dist))
    problem = only_problem(path)
    assert_at(problem, path, text, dist)
    assert "finite" in problem.message, str(problem)


@pytest.mark.parametrize(
    "dist", ["{choice: [.nan]}", "{uniform: [1 week, .inf]}", "{normal: [26, .nan]}"]
)
def test_a_non_finite_duration_in_a_distribution_is_refused(tmp_path, dist):
    path, text = base_with(tmp_path, f"parameters:\n  memory_half_life: {dist}\n")
    assert_at(only_problem(path), path, text, dist)


@pytest.mark.parametrize("dist", BAD_DISTRIBUTIONS)
def test_a_non_finite_intensity_is_refused(tmp_path, dist):
    text = BASE + f"    intensity: {dist}\n"
    path = write(tmp_path, "scenario.yaml", text)
    problem = only_problem(path)
    assert_at(problem, path, text, dist)
    assert "finite" in problem.message


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("relations:\n  PAK -> IND: {}\n", "{normal: [1.5, 0.1]}"),  # a mean off the scale
        ("parameters:\n  kappa_target: {}\n", "{normal: [-0.2, 0.1]}"),
        ("parameters:\n  noise: {}\n", "{choice: [0.1, 1.01]}"),
        ("parameters:\n  memory_half_life: {}\n", "{choice: [0.5 days, 1 week]}"),
        ("parameters:\n  memory_half_life: {}\n", "{normal: [0.5 days, 1 day]}"),
        ("events", "{uniform: [0.5, 10.5]}"),
    ],
)
def test_a_distribution_outside_the_range_of_its_key_is_refused(tmp_path, where, value):
    if where == "events":
        text = BASE + f"    intensity: {value}\n"
        path = write(tmp_path, "scenario.yaml", text)
    else:
        path, text = base_with(tmp_path, where.format(value))
    problem = only_problem(path)
    assert_at(problem, path, text, value)
    assert "must lie in" in problem.message


def test_a_run_with_a_nan_score_fails_cleanly_and_writes_nothing(tmp_path, capsys):
    path, _ = base_with(tmp_path, "baseline:\n  PAK -> IND: {normal: [.nan, 0.1]}\n")
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out), "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert not out.exists()


POLICY_AND_POSITIONS = """\
  CHN:
    name: China
    interests:
      PAK -> AFG: {{want: 0.3, weight: {weight}}}
    policy: {{kind: reactive, cost: {cost}, threshold: {threshold}, temperature: {temperature}, max_actions: {actions}}}
"""
GOOD = {"weight": 1, "cost": 0.05, "threshold": 0, "temperature": 0, "actions": 1}


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("weight", "1e308", "at most 100"),
        ("weight", ".inf", "finite"),
        ("cost", ".nan", "finite"),
        ("cost", "101", "at most 100"),
        ("threshold", ".nan", "finite"),
        ("threshold", "-1e9", "at least -100"),
        ("temperature", ".inf", "finite"),
        ("actions", "1000", "at most 100"),
    ],
)
def test_policy_and_interest_numbers_are_finite_and_bounded(tmp_path, key, value, words):
    actor = POLICY_AND_POSITIONS.format(**{**GOOD, key: value})
    text = BASE.replace("actors:\n", "actors:\n" + actor)
    path = write(tmp_path, "scenario.yaml", text)
    problem = only_problem(path)
    needle = f"weight: {value}" if key == "weight" else f"{value}"
    line, col = position_of(text, needle)
    col += len(needle) - len(value)  # the value itself
    assert (problem.pos.line, problem.pos.col) == (line, col), str(problem)
    assert words in problem.message, str(problem)


def test_an_actors_interest_weights_add_up_to_at_most_100(tmp_path):
    interests = "    interests:\n      PAK <-> AFG: {want: 0.3, weight: 50}\n"
    text = BASE.replace(
        "  AFG: {name: Afghanistan}\n",
        "  AFG: {name: Afghanistan}\n  CHN:\n    name: China\n" + interests,
    )
    path = write(tmp_path, "scenario.yaml", text)
    load_scenario(path)  # 50 twice: exactly 100
    heavier = write(tmp_path, "heavier.yaml", text.replace("weight: 50", "weight: 50.5"))
    problem = only_problem(heavier)
    assert_at(problem, heavier, text, "PAK <-> AFG")  # the interests mapping starts there
    assert "101" in problem.message and "100" in problem.message


def test_the_logged_utility_stays_exact_at_the_largest_weights(tmp_path):
    # the bound docs/format.md gives: a decided event's utility is at most 16 x 100 in size
    # discomfort 100 x (1.98 - -2)^2, near the largest there is; any action costs 100
    text = REACTIVE.replace(
        "PAK <-> AFG: {want: 0.5, side: at_least}",
        "CHN -> PAK - CHN -> AFG: {want: -2, weight: 100}",
    ).replace("policy: reactive", "policy: {kind: reactive, threshold: -100, cost: 100}")
    text += "  CHN -> PAK: 0.99\n  CHN -> AFG: -0.99\n"
    path = write(tmp_path, "scenario.yaml", text)
    events = stances.run(load_scenario(path), members=3).events
    decided = events[events["origin"] == "decided"]
    assert len(decided) > 0
    assert np.isfinite(decided["utility"]).all()
    assert (decided["utility"].abs() <= 1600).all()
    assert (decided["utility"] > -100).all()  # chosen only above the threshold


def test_an_infinite_capability_is_refused(tmp_path):
    extra = "issues:\n  x:\n    description: d\n    positions:\n      IND: {at: 0.5, capability: .inf}\n"
    path, text = base_with(tmp_path, extra)
    problem = only_problem(path)
    assert_at(problem, path, text, ".inf}")
    assert "finite" in problem.message


def test_a_capability_above_100_is_refused(tmp_path):
    extra = (
        "issues:\n  x:\n    description: d\n    positions:\n      IND: {at: 0.5, capability: 1e6}\n"
    )
    path, _ = base_with(tmp_path, extra)
    assert "at most 100" in only_problem(path).message


@pytest.mark.parametrize(
    ("key", "long_value"),
    [
        ("seed", "'" + "9" * 10_000 + "'"),
        ("title", "[" + ", ".join(["1"] * 5_000) + "]"),
        ("parameters", "{kappa_target: {choice: ['" + "a" * 10_000 + "']}}"),
        ("parameters", "{memory_half_life: " + "9" * 10_000 + " days}"),
        ("parameters", "{memory_half_life: '" + "x" * 10_000 + "'}"),
        ("time", "{start: 2025-01-01, end: 2025-03-31, step: '" + "x" * 10_000 + "'}"),
    ],
)
def test_a_long_value_is_echoed_short(tmp_path, key, long_value):
    lines = [
        f"{key}: {long_value}" if line.startswith(f"{key}:") else line for line in BASE.splitlines()
    ]
    if not any(line.startswith(f"{key}:") for line in BASE.splitlines()):
        lines.insert(1, f"{key}: {long_value}")
    path = write(tmp_path, "scenario.yaml", "\n".join(lines) + "\n")
    for problem in problems_of(path):
        assert len(str(problem)) < 300, str(problem)[:400]


# --------------------------------------------------------------------------------------------
# time windows


def test_a_window_whose_last_step_ends_past_the_calendar_is_refused(tmp_path):
    text = "title: t\ntime: {start: 9999-10-01, end: 9999-12-31}\nactors:\n  A: {name: a}\n  B: {name: b}\n"
    path = write(tmp_path, "scenario.yaml", text)
    problem = only_problem(path)
    assert_at(problem, path, text, "9999-12-31")
    assert "9999-12-31" in problem.message


def test_a_daily_window_may_end_the_day_before_the_last_date(tmp_path):
    text = "title: t\ntime: {start: 9999-12-01, end: 9999-12-30, step: day}\nactors:\n  A: {name: a}\n  B: {name: b}\n"
    sc = load_scenario(write(tmp_path, "ok.yaml", text))
    assert sc.step_dates()[-1] == date(9999, 12, 31)
    late = write(tmp_path, "late.yaml", text.replace("9999-12-30", "9999-12-31"))
    assert "9999-12-31" in only_problem(late).message


def test_a_step_too_long_for_the_calendar_is_refused(tmp_path):
    text = BASE.replace("step: week", "step: 99999999999 days")
    path = write(tmp_path, "scenario.yaml", text)
    problem = only_problem(path)
    assert_at(problem, path, text, "99999999999 days")


def test_a_window_of_more_than_10000_steps_is_refused(tmp_path):
    start = date(2000, 1, 1)
    # steps of a day: boundaries start + k; the last is the first after end
    ok_end = start + timedelta(days=9_999)  # boundaries start+1 .. start+10000: 10000 steps
    text = f"title: t\ntime: {{start: {start}, end: {ok_end}, step: day}}\nactors:\n  A: {{name: a}}\n  B: {{name: b}}\n"
    sc = load_scenario(write(tmp_path, "ok.yaml", text))
    assert len(sc.step_dates()) - 1 == 10_000
    long_text = text.replace(str(ok_end), str(ok_end + timedelta(days=1)))
    path = write(tmp_path, "long.yaml", long_text)
    problem = only_problem(path)
    assert_at(problem, path, long_text, "day}")
    assert "10000" in problem.message


# --------------------------------------------------------------------------------------------
# set:, --set and --vary through short forms and non-mappings


def decided_count(sc: stances.Scenario) -> int:
    events = stances.run(sc).events
    return int((events["origin"] == "decided").sum())


def test_a_file_set_reaches_inside_a_policy_short_form(tmp_path):
    path = child(tmp_path, "extends: parent.yaml\nset:\n  actors.CHN.policy.cost: 99\n", REACTIVE)
    sc = load_scenario(path)
    assert sc.policies["CHN"].kind == "reactive"
    assert sc.policies["CHN"].cost == 99
    cheap = child(tmp_path, "extends: parent.yaml\nset:\n  actors.CHN.policy.cost: 0\n", REACTIVE)
    # with cost 0 China mediates; at 99 nothing is worth doing: the set changes the run
    assert decided_count(load_scenario(cheap)) > 0
    assert decided_count(sc) == 0


@pytest.mark.parametrize("flag", ["--set", "--vary"])
def test_a_command_line_set_reaches_inside_a_policy_short_form(tmp_path, flag):
    path = write(tmp_path, "parent.yaml", REACTIVE)
    key = "actors.CHN.policy.cost"
    sc = load_scenario(path, {key: "99"}, {key: flag})
    assert (sc.policies["CHN"].kind, sc.policies["CHN"].cost) == ("reactive", 99)


def test_sweep_over_a_short_form_policy_gives_different_rows(tmp_path, capsys):
    path = write(tmp_path, "parent.yaml", REACTIVE)
    out = tmp_path / "sweep"
    vary = "actors.CHN.policy.cost=0,99"
    args = ["sweep", str(path), "--vary", vary, "--out", str(out), "--dyads", "PAK->AFG"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    rows = [line.split("cost=")[1].split() for line in printed.splitlines() if "cost=" in line]
    zero = [r[1:] for r in rows if r[0] == "0"]
    high = [r[1:] for r in rows if r[0] == "99"]
    assert zero and len(zero) == len(high)
    assert zero != high, printed


def test_a_short_form_expanded_by_a_set_is_still_reported_where_it_was_written(tmp_path):
    parent = REACTIVE.replace("policy: reactive", "policy: clever")
    path = child(tmp_path, "extends: parent.yaml\nset:\n  actors.CHN.policy.cost: 0.1\n", parent)
    problem = only_problem(path)
    assert_at(problem, tmp_path / "parent.yaml", parent, "clever")


def test_a_file_set_through_a_non_mapping_is_an_error_at_the_key(tmp_path):
    text = "extends: parent.yaml\nset:\n  time.end.year: 2030\n"
    path = child(tmp_path, text)
    problem = only_problem(path)
    assert_at(problem, path, text, "time.end.year")
    assert "time.end" in problem.message and "not a mapping" in problem.message


def test_a_command_line_set_through_a_non_mapping_is_an_error(tmp_path):
    path = write(tmp_path, "base.yaml", BASE)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, {"time.end.year": "2030"})
    [problem] = info.value.problems
    assert str(problem).startswith("--set time.end.year: ")
    assert "not a mapping" in problem.message


def test_a_set_inside_a_plain_parameter_is_reported_at_the_childs_line(tmp_path):
    text = "extends: parent.yaml\nset:\n  parameters.kappa_target.x: 0.3\n"
    path = child(tmp_path, text)
    problem = only_problem(path)
    assert_at(problem, path, text, "parameters.kappa_target.x")


@pytest.mark.parametrize("value", ["!!int x", "!!float x", "[a, b", "!!binary ###"])
def test_a_command_line_value_that_cannot_be_read_is_one_problem(tmp_path, value, capsys):
    path = write(tmp_path, "base.yaml", BASE)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, {"title": value})
    assert len(info.value.problems) == 1
    assert "\n" not in str(info.value.problems[0])
    out = tmp_path / "run"
    assert main(["run", str(path), "--set", f"title={value}", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not out.exists()


# --------------------------------------------------------------------------------------------
# durations: a plain number counts weeks


def test_a_plain_number_is_a_half_life_in_weeks(tmp_path):
    path, _ = base_with(tmp_path, "parameters:\n  memory_half_life: 52\n")
    assert load_scenario(path).parameters.memory_half_life.days == 52 * 7
    halves, _ = base_with(tmp_path, "parameters:\n  memory_half_life: 2.5\n", "halves.yaml")
    assert load_scenario(halves).parameters.memory_half_life.days == 17.5
    plain = write(tmp_path, "plain.yaml", BASE)
    assert (
        load_scenario(plain, {"parameters.memory_half_life": "52"}).parameters.memory_half_life.days
        == 364
    )


def test_a_half_life_in_weeks_runs_as_the_same_written_out(tmp_path):
    path = write(tmp_path, "base.yaml", BASE)
    sc = load_scenario(path)
    as_number = StanceModel(sc, memory_half_life=52, collect=False)
    as_text = StanceModel(sc, memory_half_life="52 weeks", collect=False)
    assert as_number.spec.parameters.memory_half_life.days == 364
    as_number.run_model()
    as_text.run_model()
    assert np.array_equal(as_number.history, as_text.history)


def test_a_distribution_of_plain_numbers_counts_weeks(tmp_path):
    path, _ = base_with(tmp_path, "parameters:\n  memory_half_life: {uniform: [13, 52]}\n")
    dist = load_scenario(path).parameters.memory_half_life
    assert dist.args == (91.0, 364.0)


@pytest.mark.parametrize("value", ["0", "-1", ".nan", ".inf", "true", "1000000", "1e400"])
def test_a_plain_number_of_weeks_must_be_a_positive_length_of_at_most_1000_years(tmp_path, value):
    path, text = base_with(tmp_path, f"parameters:\n  memory_half_life: {value}\n")
    problem = only_problem(path)
    line, col = position_of(text, f"memory_half_life: {value}")
    assert (problem.pos.line, problem.pos.col) == (line, col + len("memory_half_life: ")), str(
        problem
    )


@pytest.mark.parametrize(
    ("n", "step", "words"),
    [
        (31, "week", "31 weekly steps"),
        (1, "day", "1 daily step"),
        (12, "month", "12 monthly steps"),
        (12, "2 weeks", "12 steps of 2 weeks"),
        (1, "14 days", "1 step of 14 days"),
    ],
)
def test_steps_are_said_in_words(n, step, words):
    from stances.timegrid import steps_in_words

    assert steps_in_words(n, step) == words
