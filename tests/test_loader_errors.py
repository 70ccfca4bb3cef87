"""Bad scenario files: one table of files with one mistake each, pinned to line and column.

Expected positions are found by hand in the YAML text of each row (``position_of``): a bad value
is reported where the value stands, an unknown or misplaced key where the key stands, a file
without a mapping at its start. Files with several mistakes, or whose problem may stand at one of
a few places, are plain tests after the table.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from conftest import MINIMAL
from helpers import only_problem, position_of, problems_of

import stances
from stances import ScenarioError


@dataclass(frozen=True)
class At:
    """Where a problem must stand: the nth occurrence of needle in the file's text, or, with
    value=True, the start of the value in the occurrence of the line 'key: value'."""

    needle: str
    nth: int = 0
    value: bool = False

    def find(self, text: str) -> tuple[int, int]:
        """1-based (line, column) in text, found by hand."""
        line, col = position_of(text, self.needle, self.nth)
        if self.value:
            col += self.needle.index(": ") + 2
        return line, col


def at(needle: str, nth: int = 0) -> At:
    """At the nth occurrence of needle."""
    return At(needle, nth)


def value_of(key_value: str) -> At:
    """Where the value of the line 'key: value' starts."""
    return At(key_value, value=True)


START = At("")  # line 1, column 1: the empty needle occurs first at the file's start


def replaced(old: str, new: str) -> str:
    """MINIMAL with its one occurrence of old replaced by new."""
    assert MINIMAL.count(old) == 1, old
    return MINIMAL.replace(old, new)


def with_parameters(*lines: str) -> str:
    """MINIMAL with a parameters: block of the given lines after the seed."""
    return replaced("seed: 1\n", "seed: 1\nparameters:\n" + "".join(f"  {x}\n" for x in lines))


@dataclass(frozen=True)
class Case:
    """A file with one mistake: its text, where the one problem stands, the words its message
    must contain (and must not: internal names), and, where it matters, the problem's dotted
    place and a needle whose file:line:col the message must also cite."""

    id: str
    text: str
    at: At
    words: tuple[str, ...]
    absent: tuple[str, ...] = ()
    where: str | None = None
    cites: At | None = None


def case(id: str, text: str, place: At, *words: str, **more) -> Case:
    """A row of the table: id, file text, where its problem stands, the words of its message."""
    return Case(id, text, place, words, **more)


CASES = [
    # the file itself
    case(
        "malformed-yaml",  # the parser trips over the second ':' on line 1
        replaced("title: Minimal", "title: India: a view"),
        at(": a view"),
        "not valid YAML",
        "mapping values are not allowed",
    ),
    case(
        "duplicate-key",  # the second occurrence is the mistake
        replaced("seed: 1\n", "seed: 1\nseed: 2\n"),
        at("seed: 2"),
        "duplicate key",
        "seed",
    ),
    case("empty-file", "", START, "expected a mapping", "empty"),
    case("empty-line", "\n", START, "expected a mapping", "empty"),
    case("only-a-comment", "# only a comment\n", START, "expected a mapping", "empty"),
    # the user wrote a list: say so in YAML's words, not the parser's class name
    case(
        "root-is-a-list",
        "- IND\n- PAK\n",
        START,
        "expected a mapping",
        "list",
        absent=("Commented",),
    ),
    case("root-is-text", "just a title\n", START, "expected a mapping"),
    # values of the wrong type
    case(
        "wrong-type-score",
        replaced("AFG -> PAK: 0.2", "AFG -> PAK: friendly"),
        value_of("AFG -> PAK: friendly"),
        "expected a number",
        "friendly",
    ),
    case(
        "wrong-type-seed",
        replaced("seed: 1", "seed: seven"),
        value_of("seed: seven"),
        "expected a whole number",
        "seven",
    ),
    case(
        "wrong-type-title",
        replaced("title: Minimal", "title: 5"),
        value_of("title: 5"),
        "expected text",
        "5",
    ),
    case(
        "wrong-type-intensity",
        replaced("    target: AFG", "    target: AFG\n    intensity: high"),
        value_of("intensity: high"),
        "expected a number",
        "high",
    ),
    case(
        "wrong-type-name",
        replaced("{name: Afghanistan}", "{name: 5}"),
        value_of("name: 5}"),
        "expected text",
        "5",
    ),
    case(
        "event-not-a-mapping",
        MINIMAL + "  - just text\n",
        at("just text"),
        "mapping",
        absent=("EventSpec",),
    ),
    # unknown and missing keys
    case(
        "unknown-top-level-key",
        replaced("seed: 1", "seeds: 1"),
        at("seeds"),
        "unknown key 'seeds'",
        "did you mean 'seed'",
    ),
    case(
        "unknown-nested-key",
        replaced("    target: AFG\n", "    target: AFG\n    intensty: 0.5\n"),
        at("intensty"),
        "unknown key 'intensty'",
        "did you mean 'intensity'",
        where="events[first].intensty",
    ),
    case(
        "unknown-parameter",
        with_parameters("kappa_targt: 0.3"),
        at("kappa_targt"),
        "unknown key 'kappa_targt'",
        "did you mean 'kappa_target'",
    ),
    case(
        "missing-top-level-key",
        replaced("title: Minimal\n", ""),
        START,
        "missing required key 'title'",
    ),
    case(
        "missing-nested-key",  # at the mapping that lacks the key
        replaced(", end: 2025-03-31", ""),
        at("{start"),
        "missing required key 'end'",
    ),
    # actors and relations
    case(
        "unknown-actor-in-event",
        replaced("target: AFG", "target: PKA"),
        value_of("target: PKA"),
        "unknown actor 'PKA'",
        "did you mean 'PAK'",
    ),
    case(
        "unknown-actor-in-relation-key",
        replaced("AFG -> PAK: 0.2", "AFG -> PKA: 0.2"),
        at("AFG -> PKA"),
        "unknown actor 'PKA'",
        "did you mean 'PAK'",
    ),
    case(
        "malformed-relation-key",
        replaced("AFG -> PAK: 0.2", "AFG => PAK: 0.2"),
        at("AFG => PAK"),
        "'AFG => PAK' is not a relation",
        "A -> B",
        "A <-> B",
    ),
    case(
        "self-relation", replaced("AFG -> PAK: 0.2", "AFG -> AFG: 0.2"), at("AFG -> AFG"), "itself"
    ),
    *(
        case(
            f"relation-score-{score}",
            replaced("AFG -> PAK: 0.2", f"AFG -> PAK: {score}"),
            value_of(f"AFG -> PAK: {score}"),
            words,
            score,
        )
        for score, words in [("1.5", "at most 1"), ("-1.01", "at least -1")]
    ),
    case(
        "lowercase-actor-id",
        replaced(
            "  AFG: {name: Afghanistan}\n", "  AFG: {name: Afghanistan}\n  chn: {name: China}\n"
        ),
        at("chn"),
        "'chn'",
        "upper-case",
    ),
    # event types
    case(
        "unknown-event-type",
        replaced("type: visit", "type: vist"),
        value_of("type: vist"),
        "unknown event type 'vist'",
        "did you mean 'visit'",
    ),
    # the message says to quote the code, and shows the code the user wrote, quoted
    *(
        case(
            f"cameo-unquoted-{code}",
            replaced("type: visit", f"cameo: {code}"),
            value_of(f"cameo: {code}"),
            "quoted",
            f'"{code}"',
        )
        for code in ("195", "045", "0871")
    ),
    case(
        "cameo-not-in-table",
        replaced("type: visit", 'cameo: "999"'),
        value_of('cameo: "999"'),
        "'999'",
        "not a CAMEO code",
    ),
    # dates and time
    case(
        "impossible-date",
        replaced("date: 2025-01-10", "date: 2025-02-30"),
        value_of("date: 2025-02-30"),
        "2025-02-30",
        "not a date",
    ),
    *(
        case(
            f"date-not-iso-{written}",
            replaced("date: 2025-01-10", f"date: {written}"),
            value_of(f"date: {written}"),
            "YYYY-MM-DD",
        )
        for written in ("10/01/2025", "2025-1-10", "20250110", "January 10")
    ),
    case(
        "event-outside-time-window",
        replaced("date: 2025-01-10", "date: 2025-05-10"),
        value_of("date: 2025-05-10"),
        "outside the time window",
        "2025-01-01",
        "2025-03-31",
    ),
    *(
        case(
            f"end-not-after-start-{end}",
            replaced("end: 2025-03-31", f"end: {end}"),
            value_of(f"end: {end}"),
            "not after start",
        )
        for end in ("2024-12-01", "2025-01-01")
    ),
    *(
        case(
            f"non-positive-step-{step}",
            replaced("step: week", f"step: {step}"),
            value_of(f"step: {step}"),
            "positive",
            step,
        )
        for step in ("0 weeks", "-1 week", "0 days")
    ),
    case(
        "unknown-step-unit",
        replaced("step: week", "step: fortnight"),
        value_of("step: fortnight"),
        "fortnight",
        "week",
    ),
    # parameters
    case(
        "duration-without-unit",
        with_parameters("memory_half_life: 26 fortnights"),
        value_of("memory_half_life: 26 fortnights"),
        "duration",
        "26 weeks",
    ),
    case(
        "duration-of-zero",
        with_parameters("memory_half_life: 0 weeks"),
        value_of("memory_half_life: 0 weeks"),
        "longer than zero",
    ),
    case(
        "parameter-above-range",
        with_parameters("kappa_target: 2"),
        value_of("kappa_target: 2"),
        "at most 1",
    ),
    case(
        "parameter-below-range",
        with_parameters("kappa_observer: -0.1"),
        value_of("kappa_observer: -0.1"),
        "at least 0",
    ),
    # events
    case(
        "actor-is-its-own-target",
        replaced("target: AFG", "target: IND"),
        value_of("target: IND"),
        "IND",
        "own target",
    ),
    case(
        "duplicate-event-id",  # the message also says where the id was first used
        MINIMAL + "  - {id: first, date: 2025-01-11, type: visit, actor: IND, target: PAK}\n",
        value_of("id: first, date: 2025-01-11"),
        "duplicate event id 'first'",
        cites=at("first"),
    ),
    case(
        "mediation-with-one-party",
        MINIMAL + "  - {id: med, date: 2025-01-11, type: mediate, actor: IND, parties: [PAK]}\n",
        value_of("parties: [PAK]"),
        "mediate",
        "exactly two parties",
    ),
    case(
        "target-on-a-mediation",
        MINIMAL + "  - {id: med, date: 2025-01-11, type: mediate, actor: IND, target: PAK,"
        " parties: [PAK, AFG]}\n",
        at("target: PAK"),
        "parties:",
        "not 'target:'",
    ),
    # what-if keys in a file that extends nothing
    *(
        case(
            f"{key.split(':')[0]}-without-extends",
            MINIMAL + key + "\n",
            at(key),
            key.split(":")[0],
            "extends:",
        )
        for key in ("remove: [first]", "add: []", "replace: []", "set: {seed: 2}")
    ),
]


def test_minimal_scenario_is_valid(write_scenario):
    # the baseline every other test breaks in one place
    sc = stances.load_scenario(write_scenario(MINIMAL))
    assert sc.actor_ids == ("IND", "PAK", "AFG")
    assert [e.id for e in sc.events] == ["first"]


def test_every_case_has_its_own_id():
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_one_mistake_is_reported_once_where_it_stands(write_scenario, case):
    path = write_scenario(case.text)
    problem = only_problem(path)
    line, col = case.at.find(case.text)
    assert problem.pos.file == str(path), str(problem)
    assert (problem.pos.line, problem.pos.col) == (line, col), str(problem)
    assert str(problem).startswith(f"{path}:{line}:{col}: "), str(problem)
    for word in case.words:
        assert word in problem.message, f"{word!r} not in {problem.message!r}"
    for word in case.absent:
        assert word not in problem.message, f"{word!r} in {problem.message!r}"
    if case.where is not None:
        assert problem.where == case.where, str(problem)
    if case.cites is not None:
        first_line, first_col = case.cites.find(case.text)
        assert f"{path}:{first_line}:{first_col}" in problem.message, str(problem)


# ---------------------------------------------------------------------------------------------
# Files that do not fit the table: a problem that may stand at one of a few places, a section
# whose one problem is among others, several mistakes at once, the error's text


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
    assert "mapping" in problem.message, str(problem)
    for internal in ("TimeSpec", "Parameters", "instance of"):
        assert internal not in problem.message


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
