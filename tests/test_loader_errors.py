"""Bad scenario files: one test per kind of mistake, each pinned to its exact line and column.

Expected positions are found by hand in the YAML text the test writes (``position_of``): a bad
value is reported where the value stands, an unknown or misplaced key where the key stands.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MINIMAL
from helpers import assert_at, only_problem, position_of, problems_of

import stances
from stances import ScenarioError
from stances.errors import Problem


def assert_value_at(problem: Problem, path: Path, text: str, key_value: str) -> None:
    """The problem stands where the value of the line 'key: value' starts."""
    line, col = position_of(text, key_value)
    col += key_value.index(": ") + 2
    assert problem.pos.file == str(path)
    assert (problem.pos.line, problem.pos.col) == (line, col), str(problem)


def assert_words(problem: Problem, *words: str) -> None:
    for word in words:
        assert word in problem.message, f"{word!r} not in {problem.message!r}"


def test_minimal_scenario_is_valid(write_scenario):
    # the baseline every other test breaks in one place
    sc = stances.load_scenario(write_scenario(MINIMAL))
    assert sc.actor_ids == ("IND", "PAK", "AFG")
    assert [e.id for e in sc.events] == ["first"]


def test_malformed_yaml(write_scenario):
    text = MINIMAL.replace("title: Minimal", "title: India: a view")
    path = write_scenario(text)
    problem = only_problem(path)
    # the parser trips over the second ':' on line 1
    assert_at(problem, path, text, ": a view")
    assert_words(problem, "not valid YAML", "mapping values are not allowed")


def test_duplicate_key(write_scenario):
    text = MINIMAL.replace("seed: 1\n", "seed: 1\nseed: 2\n")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, "seed: 2")  # the second occurrence is the mistake
    assert_words(problem, "duplicate key", "seed")


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n"])
def test_empty_file(write_scenario, text):
    path = write_scenario(text)
    problem = only_problem(path)
    assert (problem.pos.file, problem.pos.line, problem.pos.col) == (str(path), 1, 1)
    assert_words(problem, "expected a mapping", "empty")


def test_root_is_a_list(write_scenario):
    path = write_scenario("- IND\n- PAK\n")
    problem = only_problem(path)
    assert (problem.pos.file, problem.pos.line, problem.pos.col) == (str(path), 1, 1)
    # the user wrote a list: say so in YAML's words, not the parser's class name
    assert_words(problem, "expected a mapping", "list")
    assert "Commented" not in problem.message


def test_root_is_text(write_scenario):
    path = write_scenario("just a title\n")
    problem = only_problem(path)
    assert (problem.pos.line, problem.pos.col) == (1, 1)
    assert_words(problem, "expected a mapping")


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("AFG -> PAK: 0.2", "AFG -> PAK: friendly", ("expected a number", "friendly")),
        ("seed: 1", "seed: seven", ("expected a whole number", "seven")),
        ("title: Minimal", "title: 5", ("expected text", "5")),
        ("    target: AFG", "    target: AFG\n    intensity: high", ("expected a number", "high")),
        ("{name: Afghanistan}", "{name: 5}", ("expected text", "5")),
    ],
)
def test_wrong_type(write_scenario, old, new, words):
    text = MINIMAL.replace(old, new)
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, new.strip().split("\n")[-1].removeprefix("{"))
    assert_words(problem, *words)


@pytest.mark.parametrize(
    ("old", "new"),
    [("title: Minimal", "title:"), ("AFG -> PAK: 0.2", "AFG -> PAK:")],
)
def test_empty_value_is_reported_on_its_own_line(write_scenario, old, new):
    text = MINIMAL.replace(old, new)
    path = write_scenario(text)
    problem = only_problem(path)
    line, col = position_of(text, new)
    # on the line of the key that lacks a value: at the key, or just after its colon
    assert problem.pos.line == line, str(problem)
    assert col <= problem.pos.col <= col + len(new) + 1, str(problem)


@pytest.mark.parametrize(
    ("old", "new", "section", "value"),
    [
        ("{start: 2025-01-01, end: 2025-03-31, step: week}", "weekly", "time", "weekly"),
        ("seed: 1\n", "seed: 1\nparameters: 5\n", "parameters", "5\n"),
        (
            "  IND: {name: India}\n  PAK: {name: Pakistan}\n  AFG: {name: Afghanistan}\n",
            "  - IND\n  - PAK\n  - AFG\n",
            "actors",
            "- IND",
        ),
    ],
)
def test_section_that_is_not_a_mapping(write_scenario, old, new, section, value):
    text = MINIMAL.replace(old, new)
    path = write_scenario(text)
    problems = [p for p in problems_of(path) if p.where == section]
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    assert problem.pos.file == str(path)
    assert (problem.pos.line, problem.pos.col) == position_of(text, value)
    # said in the words of the file format, without the loader's class names
    assert_words(problem, "mapping")
    for internal in ("TimeSpec", "Parameters", "instance of"):
        assert internal not in problem.message


def test_event_that_is_not_a_mapping(write_scenario):
    text = MINIMAL + "  - just text\n"
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, "just text")
    assert_words(problem, "mapping")
    assert "EventSpec" not in problem.message


def test_unknown_top_level_key_suggests_nearest(write_scenario):
    text = MINIMAL.replace("seed: 1", "seeds: 1")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, "seeds")
    assert_words(problem, "unknown key 'seeds'", "did you mean 'seed'")


def test_unknown_nested_key_suggests_nearest(write_scenario):
    text = MINIMAL.replace("    target: AFG\n", "    target: AFG\n    intensty: 0.5\n")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, "intensty")
    assert problem.where == "events[first].intensty"
    assert_words(problem, "unknown key 'intensty'", "did you mean 'intensity'")


def test_unknown_parameter_suggests_nearest(write_scenario):
    text = MINIMAL.replace("seed: 1\n", "seed: 1\nparameters:\n  kappa_targt: 0.3\n")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, "kappa_targt")
    assert_words(problem, "unknown key 'kappa_targt'", "did you mean 'kappa_target'")


def test_missing_required_top_level_key(write_scenario):
    text = MINIMAL.replace("title: Minimal\n", "")
    path = write_scenario(text)
    problem = only_problem(path)
    assert (problem.pos.file, problem.pos.line, problem.pos.col) == (str(path), 1, 1)
    assert_words(problem, "missing required key 'title'")


def test_missing_required_nested_key(write_scenario):
    text = MINIMAL.replace(", end: 2025-03-31", "")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, "{start")  # the mapping that lacks the key
    assert_words(problem, "missing required key 'end'")


def test_unknown_actor_in_event_suggests_nearest(write_scenario):
    text = MINIMAL.replace("target: AFG", "target: PKA")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, "target: PKA")
    assert_words(problem, "unknown actor 'PKA'", "did you mean 'PAK'")


def test_unknown_actor_in_relation_key(write_scenario):
    text = MINIMAL.replace("AFG -> PAK: 0.2", "AFG -> PKA: 0.2")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, "AFG -> PKA")
    assert_words(problem, "unknown actor 'PKA'", "did you mean 'PAK'")


def test_malformed_relation_key(write_scenario):
    text = MINIMAL.replace("AFG -> PAK: 0.2", "AFG => PAK: 0.2")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, "AFG => PAK")
    assert_words(problem, "'AFG => PAK' is not a relation", "A -> B", "A <-> B")


def test_self_relation(write_scenario):
    text = MINIMAL.replace("AFG -> PAK: 0.2", "AFG -> AFG: 0.2")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, "AFG -> AFG")
    assert_words(problem, "itself")


@pytest.mark.parametrize(("score", "words"), [("1.5", "at most 1"), ("-1.01", "at least -1")])
def test_relation_score_out_of_range(write_scenario, score, words):
    text = MINIMAL.replace("AFG -> PAK: 0.2", f"AFG -> PAK: {score}")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, f"AFG -> PAK: {score}")
    assert_words(problem, words, score)


def test_unknown_event_type_suggests_nearest(write_scenario):
    text = MINIMAL.replace("type: visit", "type: vist")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, "type: vist")
    assert_words(problem, "unknown event type 'vist'", "did you mean 'visit'")


@pytest.mark.parametrize(("written", "code"), [("195", "195"), ("045", "045"), ("0871", "0871")])
def test_cameo_code_as_unquoted_integer(write_scenario, written, code):
    text = MINIMAL.replace("type: visit", f"cameo: {written}")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, f"cameo: {written}")
    # the message says to quote the code, and shows the code the user wrote, quoted
    assert_words(problem, "quoted", f'"{code}"')


def test_cameo_code_not_in_table(write_scenario):
    text = MINIMAL.replace("type: visit", 'cameo: "999"')
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, 'cameo: "999"')
    assert_words(problem, "'999'", "not a CAMEO code")


def test_impossible_date(write_scenario):
    text = MINIMAL.replace("date: 2025-01-10", "date: 2025-02-30")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, "date: 2025-02-30")
    assert_words(problem, "2025-02-30", "not a date")


@pytest.mark.parametrize("written", ["10/01/2025", "2025-1-10", "20250110", "January 10"])
def test_date_not_iso(write_scenario, written):
    text = MINIMAL.replace("date: 2025-01-10", f"date: {written}")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, f"date: {written}")
    assert_words(problem, "YYYY-MM-DD")


def test_event_outside_time_window(write_scenario):
    text = MINIMAL.replace("date: 2025-01-10", "date: 2025-05-10")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, "date: 2025-05-10")
    assert_words(problem, "outside the time window", "2025-01-01", "2025-03-31")


@pytest.mark.parametrize("end", ["2024-12-01", "2025-01-01"])
def test_end_not_after_start(write_scenario, end):
    text = MINIMAL.replace("end: 2025-03-31", f"end: {end}")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, f"end: {end}")
    assert_words(problem, "not after start")


def test_actor_is_its_own_target(write_scenario):
    text = MINIMAL.replace("target: AFG", "target: IND")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, "target: IND")
    assert_words(problem, "IND", "own target")


@pytest.mark.parametrize("step", ["0 weeks", "-1 week", "0 days"])
def test_non_positive_step(write_scenario, step):
    text = MINIMAL.replace("step: week", f"step: {step}")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, f"step: {step}")
    assert_words(problem, "positive", step)


def test_unknown_step_unit(write_scenario):
    text = MINIMAL.replace("step: week", "step: fortnight")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, "step: fortnight")
    assert_words(problem, "fortnight", "week")


@pytest.mark.parametrize(
    ("written", "words"),
    [("26", ("duration", "26 weeks")), ("0 weeks", ("longer than zero",))],
)
def test_bad_duration(write_scenario, written, words):
    text = MINIMAL.replace("seed: 1\n", f"seed: 1\nparameters:\n  memory_half_life: {written}\n")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, f"memory_half_life: {written}")
    assert_words(problem, *words)


@pytest.mark.parametrize(
    ("line", "words"),
    [("kappa_target: 2", "at most 1"), ("kappa_observer: -0.1", "at least 0")],
)
def test_parameter_out_of_range(write_scenario, line, words):
    text = MINIMAL.replace("seed: 1\n", f"seed: 1\nparameters:\n  {line}\n")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, line)
    assert_words(problem, words)


def test_duplicate_event_id(write_scenario):
    text = MINIMAL + "  - {id: first, date: 2025-01-11, type: visit, actor: IND, target: PAK}\n"
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, "id: first, date: 2025-01-11")
    assert_words(problem, "duplicate event id 'first'")
    line, col = position_of(text, "first")
    assert f"{path}:{line}:{col}" in problem.message  # where the id was first used


def test_mediation_with_one_party(write_scenario):
    text = MINIMAL + "  - {id: med, date: 2025-01-11, type: mediate, actor: IND, parties: [PAK]}\n"
    path = write_scenario(text)
    problem = only_problem(path)
    assert_value_at(problem, path, text, "parties: [PAK]")
    assert_words(problem, "mediate", "exactly two parties")


def test_target_on_a_mediation(write_scenario):
    text = MINIMAL + (
        "  - {id: med, date: 2025-01-11, type: mediate, actor: IND, target: PAK,"
        " parties: [PAK, AFG]}\n"
    )
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, "target: PAK")
    assert_words(problem, "parties:", "not 'target:'")


def test_lowercase_actor_id(write_scenario):
    text = MINIMAL.replace(
        "  AFG: {name: Afghanistan}\n", "  AFG: {name: Afghanistan}\n  chn: {name: China}\n"
    )
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, "chn")
    assert_words(problem, "'chn'", "upper-case")


@pytest.mark.parametrize("key", ["remove: [first]", "add: []", "replace: []", "set: {seed: 2}"])
def test_what_if_key_without_extends(write_scenario, key):
    text = MINIMAL + key + "\n"
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, key)
    assert_words(problem, key.split(":")[0], "extends:")


def test_every_mistake_reported_at_once(write_scenario):
    text = MINIMAL.replace("seed: 1", "seeds: 1")  # 1: unknown top-level key
    text = text.replace("AFG -> PAK: 0.2", "AFG -> PAK: 1.5")  # 2: score out of range
    text = text.replace("target: AFG", "target: PKA")  # 3: unknown actor
    text = text.replace("relations:", "parameters: {kappa_target: 2}\nrelations:")  # 4: range
    text += "  - {id: second, date: 2025-01-20, type: vist, actor: IND, target: PAK}\n"  # 5: type
    text += "  - {id: third, date: 2025-02-30, type: visit, actor: IND, target: PAK}\n"  # 6: date
    text += "  - {id: fourth, date: 2025-02-03, type: visit, actor: IND, target: IND}\n"  # 7: self
    path = write_scenario(text)
    problems = problems_of(path)
    assert len(problems) == 7, [str(p) for p in problems]
    found = {(p.pos.line, p.pos.col) for p in problems}
    expected = {
        position_of(text, "seeds"),
        position_of(text, "1.5"),
        position_of(text, "PKA"),
        position_of(text, "2}"),
        position_of(text, "vist"),
        position_of(text, "2025-02-30"),
        position_of(text, "IND}"),
    }
    assert found == expected
    assert all(p.pos.file == str(path) for p in problems)


def test_unknown_actor_reported_even_when_type_is_unknown(write_scenario):
    # two mistakes in one event: both must be reported, not only the first one found
    text = MINIMAL.replace("target: AFG", "target: PKA").replace("type: visit", "type: vist")
    path = write_scenario(text)
    problems = problems_of(path)
    found = sorted((p.pos.line, p.pos.col, p.message.split(" (")[0]) for p in problems)
    assert found == sorted(
        [
            (*position_of(text, "vist"), "unknown event type 'vist'"),
            (*position_of(text, "PKA"), "unknown actor 'PKA'"),
        ]
    )


def test_error_text_is_file_line_col(write_scenario):
    text = MINIMAL.replace("type: visit", "type: vist")
    path = write_scenario(text)
    with pytest.raises(ScenarioError) as info:
        stances.load_scenario(path)
    line, col = position_of(text, "vist")
    assert str(info.value).startswith(f"{path}:{line}:{col}: ")


def test_yaml_1_2_keeps_no_on_y_as_text(write_scenario):
    text = (
        "title: NO\n"
        "time: {start: 2025-01-01, end: 2025-03-31, step: week}\n"
        "actors:\n"
        "  NO: {name: Norway}\n"
        "  ON: {name: 'Yes'}\n"
        "  Y: {name: ON}\n"
        "relations:\n"
        "  NO -> ON: 0.5\n"
        "  Y <-> NO: -0.25\n"
        "events:\n"
        "  - {id: e1, date: 2025-01-03, type: visit, actor: NO, target: Y}\n"
    )
    sc = stances.load_scenario(write_scenario(text))
    assert sc.title == "NO"
    assert sc.actor_ids == ("NO", "ON", "Y")
    assert sc.actors["Y"] == "ON"
    assert sc.initial[sc.index("NO"), sc.index("ON")] == 0.5
    assert sc.initial[sc.index("Y"), sc.index("NO")] == -0.25
    assert sc.initial[sc.index("NO"), sc.index("Y")] == -0.25
    assert (sc.events[0].actor, sc.events[0].target) == ("NO", "Y")
