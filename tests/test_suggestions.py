"""Suggestions in error messages: misspelt event types, lower-case actor ids, missing files.

Each expected message is written out by hand; positions come from position_of in the file's
text. suggest() is checked for its properties with hypothesis.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MINIMAL
from helpers import only_problem, position_of
from hypothesis import given
from hypothesis import strategies as st

import stances
from stances.cli import main
from stances.errors import SUGGESTED_MAX, suggest, suggestions

EVENTS_HINT = "; `stances events` lists them"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("recognise", "grant_recognition"),  # a word inside a snake_case name, by its stem
        ("airstrik", "airstrike"),  # a close match, as before
        ("deportation", "deport"),  # a stem of the name
        ("mediation", "mediate"),  # close
    ],
)
def test_a_misspelt_event_type_names_the_types_meant(write_scenario, typed, meant):
    text = MINIMAL.replace("type: visit", f"type: {typed}")
    path = write_scenario(text)
    line, col = position_of(text, typed)
    assert str(only_problem(path)) == (
        f"{path}:{line}:{col}: events[first].type: unknown event type '{typed}' "
        f"(did you mean '{meant}'?){EVENTS_HINT}"
    )


def test_a_lower_case_actor_id_is_refused_and_names_the_id(write_scenario):
    text = MINIMAL.replace("target: AFG", "target: afg")
    path = write_scenario(text)
    line, col = position_of(text, "afg")
    assert str(only_problem(path)) == (
        f"{path}:{line}:{col}: events[first].target: unknown actor 'afg' (did you mean 'AFG'?)"
    )


def refused(capsys, args: list[str]) -> str:
    """stderr of a CLI call that must exit 2 with one line and no traceback."""
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


def test_lower_case_dyads_name_the_upper_case_ids(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text(MINIMAL, encoding="utf-8")
    err = refused(capsys, ["run", "s.yaml", "--no-plots", "--dyads", "AFG->pak"])
    assert err == "stances: --dyads: unknown actor 'pak' (did you mean 'PAK'?)"


def test_a_missing_scenario_file_names_the_nearest_in_its_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("scenarios").mkdir()
    for name in ("no-mediation.yaml", "article.yaml", "notes.txt"):
        Path("scenarios", name).write_text(MINIMAL, encoding="utf-8")
    err = refused(capsys, ["run", "scenarios/no-mediaton.yaml", "--no-plots"])
    assert err == (
        "scenarios/no-mediaton.yaml: no such file (did you mean 'scenarios/no-mediation.yaml'?)"
    )


def test_a_missing_file_far_from_every_name_gets_no_suggestion(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("article.yaml").write_text(MINIMAL, encoding="utf-8")
    err = refused(capsys, ["run", "zzz.yaml", "--no-plots"])
    assert err == "zzz.yaml: no such file"


# --------------------------------------------------------------------------------------------
# suggest()

NAME = st.text(st.sampled_from("abcdeAB_-xyz"), min_size=1, max_size=12)  # alike names, often
NAMES = st.lists(NAME, max_size=12)


@given(
    word=st.one_of(NAME, st.text(max_size=20)),
    names=st.one_of(NAMES, st.lists(st.text(max_size=20), max_size=12)),
)
def test_suggestions_are_candidates_and_at_most_three(word, names):
    found = suggestions(word, names)
    assert set(found) <= set(names)
    assert len(found) == len(set(found)) <= SUGGESTED_MAX == 3
    assert (suggest(word, names) == "") == (not found)


@given(names=NAMES.filter(bool), data=st.data())
def test_a_candidate_in_other_case_is_the_one_suggestion(names, data):
    name = data.draw(st.sampled_from(names))
    if sum(n.lower() == name.lower() for n in names) == 1:
        assert suggestions(name.swapcase(), names) == [name]
        assert suggest(name.swapcase(), names) == f" (did you mean '{name}'?)"


def test_several_suggestions_read_as_a_list():
    assert suggest("recognise", ["grant_recognition", "recognition_withdrawn"]) == (
        " (did you mean 'grant_recognition' or 'recognition_withdrawn'?)"
    )
    assert suggest("mediation", ["mediate", "reject_mediation"]) == " (did you mean 'mediate'?)"
    assert suggestions("recognise", ["grant_recognition", "airstrike"]) == ["grant_recognition"]
    assert suggest("qqq", ["airstrike"]) == ""


# --------------------------------------------------------------------------------------------
# a list written as target: of a meeting or mediation


def events_of(*lines: str) -> str:
    """MINIMAL with its one event replaced by the given lines (indented under `- `)."""
    head = MINIMAL.split("events:\n")[0]
    return (
        head + "events:\n  - id: e\n    date: 2025-01-10\n" + "".join(f"    {x}\n" for x in lines)
    )


MEDIATION_HINT = "takes parties: [A, B] (a mediation acts on two parties), not target:"
MEETING_HINT = "takes parties: [A, B, ...] (a meeting joins the actor and its parties), not target:"


@pytest.mark.parametrize(
    ("lines", "hint"),
    [
        (("type: mediate", "actor: IND", "target: [PAK, AFG]"), f"mediate {MEDIATION_HINT}"),
        (("type: meet", "actor: IND", "target: [PAK, AFG]"), f"meet {MEETING_HINT}"),
        (("type: sign_agreement", "actor: IND", "target: [PAK]"), f"sign_agreement {MEETING_HINT}"),
        (
            ('cameo: "045"', "form: mediation", "actor: IND", "target: [PAK, AFG]"),
            f"this event {MEDIATION_HINT}",
        ),
    ],
)
def test_a_list_target_of_a_meeting_or_mediation_says_to_write_parties(write_scenario, lines, hint):
    text = events_of(*lines)
    path = write_scenario(text)
    line, col = position_of(text, "target:")
    assert str(only_problem(path)) == f"{path}:{line}:{col}: events[e].target: {hint}"


def test_a_list_target_of_a_directed_event_is_still_not_text(write_scenario):
    text = events_of("type: visit", "actor: IND", "target: [PAK, AFG]")
    path = write_scenario(text)
    line, col = position_of(text, "[PAK")
    assert str(only_problem(path)) == (
        f"{path}:{line}:{col}: events[e].target: expected text, got ['PAK', 'AFG']"
    )


def test_a_list_target_of_a_files_own_meeting_type_says_to_write_parties(write_scenario):
    own = 'event_types:\n  summit: {cameo: "044", form: meeting}\n'
    text = own + events_of("type: summit", "actor: IND", "target: [PAK, AFG]")
    path = write_scenario(text)
    line, col = position_of(text, "target:")
    assert (
        str(only_problem(path)) == f"{path}:{line}:{col}: events[e].target: summit {MEETING_HINT}"
    )


# --------------------------------------------------------------------------------------------
# extends: a missing parent

SHIPPED = Path(stances.__file__).parent / "scenarios"


def test_extends_a_shipped_name_from_elsewhere_says_how_to_reach_the_shipped_file(write_scenario):
    (SHIPPED / "article.yaml").resolve(strict=True)  # the name is that of a shipped scenario
    write_scenario(MINIMAL, "bad-type.yaml")  # a neighbour whose name is not close
    text = "title: w\nextends: article.yaml\n"
    path = write_scenario(text, "what-if.yaml")
    line, col = position_of(text, "article.yaml")
    message = str(only_problem(path))
    head = (
        f"{path}:{line}:{col}: extends: no such file: {path.parent / 'article.yaml'} (paths are "
        "relative to this file); article.yaml is a scenario shipped with stances: write extends: "
    )
    assert message.startswith(head), message
    written = message.removeprefix(head)
    # the advice, followed, reaches the shipped file and the what-if loads
    assert (path.parent / written).resolve() == (SHIPPED / "article.yaml").resolve()
    path.write_text(f"title: w\nextends: {written}\n", encoding="utf-8")
    assert stances.load_scenario(path).title == "w"


def test_extends_a_misspelt_shipped_name_names_the_shipped_file(write_scenario):
    text = "title: w\nextends: no-mediaton.yaml\n"
    path = write_scenario(text, "what-if.yaml")
    message = str(only_problem(path))
    assert " (did you mean the shipped scenario no-mediation.yaml? write extends: " in message
    written = message.split("write extends: ")[1].removesuffix(")")
    assert (path.parent / written).resolve() == (SHIPPED / "no-mediation.yaml").resolve()


def test_extends_a_misspelt_neighbour_names_it_and_a_far_name_nothing(write_scenario):
    write_scenario(MINIMAL, "bad-type.yaml")
    for ref, hint in [("bad-typ.yaml", " (did you mean 'bad-type.yaml'?)"), ("zzz.yaml", "")]:
        text = f"title: w\nextends: {ref}\n"
        path = write_scenario(text, "what-if.yaml")
        line, col = position_of(text, ref)
        assert str(only_problem(path)) == (
            f"{path}:{line}:{col}: extends: no such file: {path.parent / ref} "
            f"(paths are relative to this file){hint}"
        )
