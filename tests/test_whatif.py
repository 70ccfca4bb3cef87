"""What-ifs: `extends`, `remove`, `add`, `replace`, `set`, `--set`, and the shipped scenarios.

Every expectation is derived from the YAML text the test writes: event lists from the parent's
list (read with a plain YAML reader, not with stances), positions by searching the text.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_at, only_problem, plain_yaml, position_of, problems_of, write

import stances
from stances.cli import main
from stances.scenario import load_scenario
from stances.scenario.keys import parse_cli_set

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
WHAT_IF_KEYS = {"extends", "remove", "add", "replace", "set"}

BASE = """\
title: Base
description: the parent of every what-if in this file
time: {start: 2025-01-01, end: 2025-03-31, step: week}
seed: 3
actors:
  IND: {name: India}
  PAK: {name: Pakistan}
  AFG: {name: Afghanistan}
relations:
  IND -> PAK: -0.5
  AFG -> PAK: -0.2
parameters:
  kappa_target: 0.5
events:
  - {id: visit-1, date: 2025-01-05, type: visit, actor: IND, target: AFG}
  - {id: strike-1, date: 2025-01-12, type: airstrike, actor: PAK, target: AFG}
  - {id: visit-2, date: 2025-01-20, type: visit, actor: AFG, target: IND, intensity: 2}
  - {id: condemn-1, date: 2025-02-01, type: condemn, actor: IND, target: PAK}
  - {id: call-1, date: 2025-02-10, type: phone_call, actor: PAK, target: IND}
"""


BASE_EVENTS = plain_yaml(BASE)["events"]
BASE_IDS = [e["id"] for e in BASE_EVENTS]


def child_of_base(tmp_path: Path, text: str, name: str = "child.yaml") -> Path:
    write(tmp_path, "base.yaml", BASE)
    return write(tmp_path, name, text)


def resolved_ids(sc: stances.Scenario) -> list[str]:
    return [e["id"] for e in sc.resolved["events"]]


# --------------------------------------------------------------------------------------------
# remove / add / replace


def test_remove_drops_exactly_the_named_events_and_keeps_order(tmp_path):
    removed = ["condemn-1", "visit-1"]  # not in file order, on purpose
    path = child_of_base(tmp_path, "title: C\nextends: base.yaml\nremove: [condemn-1, visit-1]\n")
    sc = load_scenario(path)
    expected = [i for i in BASE_IDS if i not in removed]
    assert [e.id for e in sc.events] == expected
    assert resolved_ids(sc) == expected
    kept = {e["id"]: e for e in BASE_EVENTS}
    assert sc.resolved["events"] == [kept[i] for i in expected]


def test_add_appends_after_the_inherited_events_in_file_order(tmp_path):
    text = """\
title: C
extends: base.yaml
add:
  - {id: late-one, date: 2025-03-20, type: condemn, actor: AFG, target: PAK}
  - {id: early-one, date: 2025-01-02, type: visit, actor: PAK, target: IND}
"""
    sc = load_scenario(child_of_base(tmp_path, text))
    added = [e["id"] for e in plain_yaml(text)["add"]]
    assert [e.id for e in sc.events] == [*BASE_IDS, *added]
    assert sc.resolved["events"][: len(BASE_EVENTS)] == BASE_EVENTS
    assert sc.resolved["events"][len(BASE_EVENTS) :] == plain_yaml(text)["add"]
    assert sc.events[-1].date == date(2025, 1, 2)


def test_replace_patches_only_the_named_fields_and_keeps_the_position(tmp_path):
    text = "title: C\nextends: base.yaml\nreplace:\n  - {id: strike-1, date: 2025-02-20, intensity: 0.5}\n"
    sc = load_scenario(child_of_base(tmp_path, text))
    assert resolved_ids(sc) == BASE_IDS
    i = BASE_IDS.index("strike-1")
    expected = {**BASE_EVENTS[i], "date": "2025-02-20", "intensity": 0.5}
    assert sc.resolved["events"][i] == expected
    others = [e for j, e in enumerate(sc.resolved["events"]) if j != i]
    assert others == [e for j, e in enumerate(BASE_EVENTS) if j != i]
    event = sc.events[i]
    assert (event.id, event.date, event.intensity) == ("strike-1", date(2025, 2, 20), 0.5)
    assert (event.type.name, event.actor, event.target) == ("airstrike", "PAK", "AFG")


def test_replace_with_null_removes_the_field(tmp_path):
    text = """\
title: C
extends: base.yaml
replace:
  - {id: visit-2, type: meet, target: null, parties: [PAK]}
"""
    sc = load_scenario(child_of_base(tmp_path, text))
    i = BASE_IDS.index("visit-2")
    raw = sc.resolved["events"][i]
    assert "target" not in raw
    assert raw["parties"] == ["PAK"]
    assert raw["intensity"] == BASE_EVENTS[i]["intensity"]  # untouched field kept
    event = sc.events[i]
    assert event.type.name == "meet"
    assert event.target is None
    assert event.parties == ("PAK",)
    assert event.actor == BASE_EVENTS[i]["actor"]


def test_remove_then_add_of_the_same_id_moves_the_event_to_the_end(tmp_path):
    # remove runs before add, so the id is free again
    text = """\
title: C
extends: base.yaml
remove: [visit-1]
add:
  - {id: visit-1, date: 2025-03-01, type: visit, actor: IND, target: AFG}
"""
    sc = load_scenario(child_of_base(tmp_path, text))
    assert [e.id for e in sc.events] == [*BASE_IDS[1:], "visit-1"]
    assert sc.events[-1].date == date(2025, 3, 1)


def test_replace_cannot_reach_an_event_added_in_the_same_file(tmp_path):
    # replace runs before add: only inherited events can be replaced
    text = """\
title: C
extends: base.yaml
replace:
  - {id: brand-new, intensity: 2}
add:
  - {id: brand-new, date: 2025-03-01, type: visit, actor: IND, target: AFG}
"""
    path = child_of_base(tmp_path, text)
    problem = only_problem(path)
    assert_at(problem, path, text, "brand-new")
    assert "brand-new" in problem.message


# --------------------------------------------------------------------------------------------
# set, plain keys, chains, resolved data


def test_set_on_parameters_relations_time_and_actors(tmp_path):
    text = """\
title: C
extends: base.yaml
set:
  parameters.memory_half_life: 52 weeks
  relations.AFG -> PAK: 0.4
  time.end: 2025-04-30
  actors.CHN.name: China
"""
    sc = load_scenario(child_of_base(tmp_path, text))
    assert sc.parameters.memory_half_life.days == 52 * 7
    assert sc.parameters.kappa_target == 0.5  # the parent's other parameters stay
    afg, pak, ind = sc.index("AFG"), sc.index("PAK"), sc.index("IND")
    assert sc.initial[afg, pak] == 0.4
    assert sc.initial[ind, pak] == -0.5
    assert sc.time.end == date(2025, 4, 30)
    assert sc.time.start == date(2025, 1, 1)
    assert sc.actor_ids == ("IND", "PAK", "AFG", "CHN")
    assert sc.actors["CHN"] == "China"
    assert resolved_ids(sc) == BASE_IDS


def test_set_on_title_and_seed(tmp_path):
    text = "extends: base.yaml\nset:\n  title: Set title\n  seed: 11\n"
    sc = load_scenario(child_of_base(tmp_path, text))
    assert sc.title == "Set title"
    assert sc.seed == 11


def test_set_applies_after_plain_keys(tmp_path):
    text = """\
title: C
extends: base.yaml
parameters: {kappa_target: 0.6, kappa_actor: 0.1}
set:
  parameters.kappa_target: 0.7
"""
    sc = load_scenario(child_of_base(tmp_path, text))
    assert sc.parameters.kappa_target == 0.7
    assert sc.parameters.kappa_actor == 0.1


def test_plain_keys_override_and_sections_merge_key_by_key(tmp_path):
    text = """\
title: Child title
extends: base.yaml
seed: 9
time: {end: 2025-04-15}
relations:
  AFG -> IND: 0.3
  AFG -> PAK: 0.1
"""
    sc = load_scenario(child_of_base(tmp_path, text))
    assert sc.title == "Child title"
    assert sc.description == plain_yaml(BASE)["description"]
    assert sc.seed == 9
    assert (sc.time.start, sc.time.end) == (date(2025, 1, 1), date(2025, 4, 15))
    assert sc.resolved["relations"] == {"IND -> PAK": -0.5, "AFG -> PAK": 0.1, "AFG -> IND": 0.3}
    afg, ind, pak = sc.index("AFG"), sc.index("IND"), sc.index("PAK")
    assert sc.initial[afg, ind] == 0.3
    assert sc.initial[afg, pak] == 0.1
    assert sc.initial[ind, pak] == -0.5


def test_a_chain_applies_each_file_in_order(tmp_path):
    child = """\
title: Child
extends: base.yaml
remove: [strike-1]
add:
  - {id: new-1, date: 2025-03-01, type: visit, actor: IND, target: PAK}
  - {id: new-2, date: 2025-03-02, type: visit, actor: PAK, target: IND}
set:
  parameters.kappa_target: 0.6
  parameters.kappa_actor: 0.2
"""
    grandchild = """\
title: Grandchild
extends: child.yaml
remove: [new-1]
replace:
  - {id: new-2, intensity: 3}
add:
  - {id: new-3, date: 2025-03-03, type: condemn, actor: AFG, target: PAK}
set:
  parameters.kappa_target: 0.7
"""
    child_of_base(tmp_path, child)
    path = write(tmp_path, "grandchild.yaml", grandchild)
    sc = load_scenario(path)
    expected = [i for i in BASE_IDS if i != "strike-1"] + ["new-2", "new-3"]
    assert [e.id for e in sc.events] == expected
    assert resolved_ids(sc) == expected
    assert sc.events[expected.index("new-2")].intensity == 3
    assert sc.parameters.kappa_target == 0.7
    assert sc.parameters.kappa_actor == 0.2
    assert sc.title == "Grandchild"
    assert {Path(p).name for p in sc.files} == {"base.yaml", "child.yaml", "grandchild.yaml"}


def test_resolved_data_has_no_what_if_keys_and_holds_the_merged_events(tmp_path):
    text = """\
title: C
extends: base.yaml
remove: [call-1]
replace:
  - {id: visit-1, intensity: 4}
add:
  - {id: new-1, date: 2025-03-01, type: visit, actor: IND, target: PAK}
set:
  relations.AFG -> IND: 0.25
"""
    sc = load_scenario(child_of_base(tmp_path, text))
    assert not WHAT_IF_KEYS & set(sc.resolved)
    expected = [*(i for i in BASE_IDS if i != "call-1"), "new-1"]
    assert resolved_ids(sc) == expected
    assert sc.resolved["events"][0]["intensity"] == 4
    assert sc.resolved["relations"]["AFG -> IND"] == 0.25
    manifest = stances.run(sc).manifest["resolved_scenario"]
    assert not WHAT_IF_KEYS & set(manifest)
    assert [e["id"] for e in manifest["events"]] == expected


# --------------------------------------------------------------------------------------------
# errors, each with its file, line and column


def test_missing_parent_file(tmp_path):
    text = "title: C\nextends: nowhere.yaml\n"
    path = write(tmp_path, "child.yaml", text)
    problem = only_problem(path)
    assert_at(problem, path, text, "nowhere.yaml")
    assert "nowhere.yaml" in problem.message


def test_a_cycle_of_extends(tmp_path):
    a_text = "title: A\nextends: b.yaml\n"
    b_text = "title: B\nextends: a.yaml\n"
    a = write(tmp_path, "a.yaml", a_text)
    b = write(tmp_path, "b.yaml", b_text)
    problem = only_problem(a)
    assert_at(problem, b, b_text, "a.yaml")  # b closes the cycle
    assert "cycle" in problem.message
    assert "a.yaml" in problem.message and "b.yaml" in problem.message


def test_a_file_extending_itself(tmp_path):
    text = "title: Me\nextends: me.yaml\n"
    path = write(tmp_path, "me.yaml", text)
    problem = only_problem(path)
    assert_at(problem, path, text, "me.yaml")
    assert "cycle" in problem.message


def test_removing_an_unknown_id_suggests_the_nearest(tmp_path):
    text = "title: C\nextends: base.yaml\nremove:\n  - visit-1\n  - strik-1\n"
    path = child_of_base(tmp_path, text)
    problem = only_problem(path)
    assert_at(problem, path, text, "strik-1")
    assert "'strik-1'" in problem.message
    assert "did you mean 'strike-1'" in problem.message


def test_replacing_an_unknown_id(tmp_path):
    text = "title: C\nextends: base.yaml\nreplace:\n  - {id: no-such-event, intensity: 2}\n"
    path = child_of_base(tmp_path, text)
    problem = only_problem(path)
    assert_at(problem, path, text, "no-such-event")
    assert "no-such-event" in problem.message


def test_a_duplicate_id_introduced_by_add(tmp_path):
    text = """\
title: C
extends: base.yaml
add:
  - id: condemn-1
    date: 2025-03-01
    type: visit
    actor: IND
    target: AFG
"""
    path = child_of_base(tmp_path, text)
    problem = only_problem(path)
    assert_at(problem, path, text, "condemn-1")
    assert "duplicate" in problem.message
    assert "condemn-1" in problem.message


def test_an_unknown_set_section_suggests_parameters(tmp_path):
    text = "title: C\nextends: base.yaml\nset:\n  paramters.kappa_target: 0.6\n"
    path = child_of_base(tmp_path, text)
    problem = only_problem(path)
    assert_at(problem, path, text, "paramters.kappa_target")
    assert "did you mean 'parameters'" in problem.message


def test_an_unknown_parameter_via_set_is_reported_at_the_set_entry(tmp_path):
    text = "title: C\nextends: base.yaml\nset:\n  parameters.kapa_target: 0.6\n"
    path = child_of_base(tmp_path, text)
    problem = only_problem(path)
    assert_at(problem, path, text, "parameters.kapa_target")
    assert "kapa_target" in problem.message
    assert "kappa_target" in problem.message  # the suggestion


def test_events_key_in_a_child_is_an_error(tmp_path):
    text = """\
title: C
extends: base.yaml
events:
  - {id: extra, date: 2025-03-01, type: visit, actor: IND, target: AFG}
"""
    path = child_of_base(tmp_path, text)
    problem = only_problem(path)
    assert_at(problem, path, text, "events:")
    assert "add:" in problem.message


@pytest.mark.parametrize("key", ["remove", "add", "replace", "set"])
def test_what_if_keys_need_extends(tmp_path, key):
    value = {
        "remove": "[first]",
        "add": "[]",
        "replace": "[]",
        "set": "{parameters.kappa_target: 0.6}",
    }[key]
    text = BASE + f"{key}: {value}\n"
    path = write(tmp_path, "lonely.yaml", text)
    problem = only_problem(path)
    assert_at(problem, path, text, f"{key}:")
    assert "extends" in problem.message


def test_an_error_inside_the_parent_is_reported_in_the_parent(tmp_path):
    # the bad event comes after one the child removes: its position must not shift
    bad = BASE.replace("type: condemn,", "type: condem,")
    base = write(tmp_path, "base.yaml", bad)
    text = "title: C\nextends: base.yaml\nremove: [visit-1, strike-1]\n"
    path = write(tmp_path, "child.yaml", text)
    problem = only_problem(path)
    assert_at(problem, base, bad, "condem,")
    assert "did you mean 'condemn'" in problem.message
    assert "condemn-1" in problem.where


def test_an_error_in_an_event_after_a_removed_one_keeps_its_field_position(tmp_path):
    bad = BASE.replace("target: IND}", "target: INX}")  # call-1, the last event
    base = write(tmp_path, "base.yaml", bad)
    path = write(tmp_path, "child.yaml", "title: C\nextends: base.yaml\nremove: [visit-2]\n")
    problem = only_problem(path)
    assert_at(problem, base, bad, "INX")
    assert "'INX'" in problem.message


def test_a_bad_value_from_set_is_reported_at_the_set_line(tmp_path):
    text = "title: C\nextends: base.yaml\nset:\n  parameters.kappa_target: 3\n"
    path = child_of_base(tmp_path, text)
    problem = only_problem(path)
    line, col = position_of(text, "parameters.kappa_target: 3")
    col += len("parameters.kappa_target: ")
    assert problem.pos.file == str(path)
    assert (problem.pos.line, problem.pos.col) == (line, col), str(problem)
    assert "3" in problem.message


def test_a_replaced_date_outside_the_window_is_reported_at_the_replace(tmp_path):
    text = "title: C\nextends: base.yaml\nreplace:\n  - {id: visit-1, date: 2025-07-01}\n"
    path = child_of_base(tmp_path, text)
    problem = only_problem(path)
    assert_at(problem, path, text, "2025-07-01")
    assert "outside the time window" in problem.message


# --------------------------------------------------------------------------------------------
# --set


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("parameters.kappa_target=0.6", ("parameters.kappa_target", "0.6")),
        ("parameters.memory_half_life=52 weeks", ("parameters.memory_half_life", "52 weeks")),
        ("relations.AFG -> PAK=-0.5", ("relations.AFG -> PAK", "-0.5")),
        ("title=a=b", ("title", "a=b")),
    ],
)
def test_parse_cli_set_splits_at_the_first_equals(text, expected):
    assert parse_cli_set(text) == expected


@pytest.mark.parametrize("text", ["novalue", "=3"])
def test_parse_cli_set_rejects_text_without_a_key(text):
    with pytest.raises(ValueError):
        parse_cli_set(text)


def test_cli_sets_change_the_scenario_with_yaml_values(tmp_path):
    path = write(tmp_path, "base.yaml", BASE)
    sc = load_scenario(
        path,
        {
            "parameters.kappa_target": "0.6",
            "parameters.memory_half_life": "52 weeks",
            "relations.AFG -> PAK": "-0.5",
            "time.end": "2025-04-30",
        },
    )
    assert sc.parameters.kappa_target == 0.6
    assert isinstance(sc.resolved["parameters"]["kappa_target"], float)
    assert sc.parameters.memory_half_life.days == 364
    assert sc.initial[sc.index("AFG"), sc.index("PAK")] == -0.5
    assert sc.time.end == date(2025, 4, 30)


def test_cli_sets_apply_after_the_file_sets(tmp_path):
    text = "title: C\nextends: base.yaml\nset:\n  parameters.kappa_target: 0.7\n"
    sc = load_scenario(child_of_base(tmp_path, text), {"parameters.kappa_target": "0.2"})
    assert sc.parameters.kappa_target == 0.2


@pytest.mark.parametrize(
    "sets",
    [{"parameters.kappa_target": "3"}, {"kappa": "1"}, {"paramters.kappa_target": "0.1"}],
)
def test_a_bad_cli_set_is_reported_as_a_set_problem(tmp_path, sets):
    path = write(tmp_path, "base.yaml", BASE)
    problems = problems_of(path, sets)
    (key,) = sets
    assert all(p.pos.file.startswith("--set") for p in problems), [str(p) for p in problems]
    assert any(key in p.pos.file for p in problems)


@pytest.mark.parametrize(
    "sets",
    [["kappa=1"], ["novalue"], ["parameters.kappa_target=3"], ["=3"]],
)
def test_cli_run_with_a_bad_set_exits_2_and_writes_nothing(tmp_path, monkeypatch, capsys, sets):
    write(tmp_path, "base.yaml", BASE)
    monkeypatch.chdir(tmp_path)
    argv = ["run", "base.yaml", "--no-plots"]
    for item in sets:
        argv += ["--set", item]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "--set" in err
    assert not (tmp_path / "results").exists()


def test_cli_run_with_a_good_set_records_it_in_the_manifest(tmp_path, monkeypatch, capsys):
    write(tmp_path, "base.yaml", BASE)
    monkeypatch.chdir(tmp_path)
    code = main(["run", "base.yaml", "--no-plots", "--set", "parameters.kappa_target=0.6"])
    assert code == 0, capsys.readouterr().err
    runs = list((tmp_path / "results").iterdir())
    assert [r.name for r in runs] == ["base-kappa_target=0.6-001"]  # named after its --set
    manifest = json.loads((runs[0] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["resolved_scenario"]["parameters"]["kappa_target"] == 0.6


# --------------------------------------------------------------------------------------------
# the shipped scenarios

SHIPPED = sorted(SCENARIOS.glob("*.yaml"))
WHAT_IFS = [p for p in SHIPPED if "\nextends:" in p.read_text(encoding="utf-8")]


def test_there_are_shipped_what_ifs():
    assert (SCENARIOS / "article.yaml") in SHIPPED
    assert len(WHAT_IFS) >= 1


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenario_validates_and_runs_to_the_end(path):
    sc = load_scenario(path)
    result = stances.run(sc)
    dates = sc.step_dates()
    assert result.dates == dates
    assert result.dates[-1] > sc.time.end
    assert result.history.shape[0] == len(dates)
    assert np.isfinite(result.history).all()
    assert np.abs(result.history).max() <= 1.0


MODELINE = "# yaml-language-server: $schema="


def leading_comment(path: Path) -> list[str]:
    """The comment lines a file starts with, but for its schema modeline."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if not line.startswith(MODELINE):
            lines.append(line.lstrip("#").strip())
    return lines


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenario_starts_with_a_comment(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# ")
    assert first[2:].strip()


@pytest.mark.parametrize("path", WHAT_IFS, ids=lambda p: p.name)
def test_shipped_what_if_asks_its_question_first(path):
    # The question comes first (after the schema modeline): in the leading comment, or, where
    # there is none, in the title; its first sentence ends with '?'.
    comment = (
        " ".join(leading_comment(path)) or plain_yaml(path.read_text(encoding="utf-8"))["title"]
    )
    first_sentence = re.match(r"[^.?!]*[.?!]", comment)
    assert first_sentence and first_sentence.group().endswith("?"), comment


@pytest.mark.parametrize("path", WHAT_IFS, ids=lambda p: p.name)
def test_shipped_what_if_extends_the_article_or_the_history(path):
    # the what-ifs vary the article; a calibration's priors vary the training history
    data = plain_yaml(path.read_text(encoding="utf-8"))
    assert data["extends"] in ("article.yaml", "history-2021-2024.yaml")
    assert "events" not in data
    sc = load_scenario(path)
    assert (SCENARIOS / data["extends"]).resolve() in {Path(p).resolve() for p in sc.files}
