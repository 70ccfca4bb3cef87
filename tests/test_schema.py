"""The JSON Schema (`stances schema`) accepts what the loader accepts and the format documents, and
rejects what it refuses: every YAML block of docs/format.md, the README's and the tutorial's
what-ifs and every shipped scenario validate; unknown keys, out-of-range numbers and malformed
distributions do not. Shipped scenarios and `stances new` name the schema in a modeline.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers import plain_yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stances import ScenarioError, load_scenario
from stances.cli import main
from stances.scenario import schema as schema_module
from stances.scenario.builder import Builder
from stances.scenario.document import parse_yaml
from stances.scenario.models import SECTIONS, WHAT_IF_FIELDS
from stances.scenario.schema import MODELINE, json_schema
from stances.scenario.whatif import WHAT_IF_KEYS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SCENARIOS = ROOT / "scenarios"
SCHEMA = json_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

# The file a snippet of docs/format.md is wrapped into: the article's window and actors.
BASE: dict[str, Any] = {
    "title": "Snippet",
    "time": {"start": "2024-12-01", "end": "2025-06-30"},
    "actors": {
        "IND": {"name": "India"},
        "PAK": {"name": "Pakistan"},
        "AFG": {"name": "Afghanistan"},
        "CHN": {"name": "China"},
    },
}
# What an event elided with `...` in the documentation gets for the keys it does not show.
ELIDED_EVENT = {"date": "2025-03-03", "type": "phone_call", "actor": "CHN", "target": "PAK"}


def schema_errors(data: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(data)]


def yaml_blocks(markdown: str) -> list[str]:
    """The text of every ```yaml block."""
    return re.findall(r"^```yaml\n(.*?)^```", markdown, flags=re.S | re.M)


def wrapped(snippet: str) -> dict[str, Any]:
    """A documentation snippet as a whole file: a what-if (it has `extends:`) as it is; anything
    else merged section by section into BASE, `...` lines dropped and each event of a snippet
    that elides some completed from ELIDED_EVENT."""
    elided = any(line.strip() == "..." for line in snippet.splitlines())
    text = "\n".join(line for line in snippet.splitlines() if line.strip() != "...")
    data = plain_yaml(text) or {}
    if "extends" in data:
        return data
    out = copy.deepcopy(BASE)
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    if elided:
        out["events"] = [{**ELIDED_EVENT, **event} for event in out.get("events", [])]
    return out


FORMAT_BLOCKS = yaml_blocks((DOCS / "format.md").read_text(encoding="utf-8"))
README_WHAT_IFS = [
    b for b in yaml_blocks((ROOT / "README.md").read_text(encoding="utf-8")) if "extends:" in b
]
TUTORIAL_WHAT_IFS = [
    b for b in yaml_blocks((DOCS / "tutorial.md").read_text(encoding="utf-8")) if "extends:" in b
]
FILES = [
    *sorted(SCENARIOS.glob("*.yaml")),
    DOCS / "reactive-no-outreach.yaml",
    ROOT / "benchmarks" / "article-uncertain.yaml",
]


def test_the_documents_have_the_blocks_these_tests_read():
    assert len(FORMAT_BLOCKS) >= 8
    assert len(README_WHAT_IFS) == 1
    assert len(TUTORIAL_WHAT_IFS) == 2  # the late strike, and a lasting closure
    documented = "".join(FORMAT_BLOCKS)
    for construct in ("interests:", "policy:", "normal:", "uniform:", "choice:", "issues:"):
        assert construct in documented, construct
    for key in WHAT_IF_KEYS:
        assert f"{key}:" in documented, key


@pytest.mark.parametrize("block", FORMAT_BLOCKS, ids=lambda b: b.split("\n")[0][:40])
def test_every_yaml_block_of_the_format_validates_against_the_schema(block):
    assert schema_errors(wrapped(block)) == []


@pytest.mark.parametrize("block", FORMAT_BLOCKS, ids=lambda b: b.split("\n")[0][:40])
def test_the_loader_accepts_what_the_format_shows(block, tmp_path):
    # the other side of the same coin: a wrapped snippet the schema accepts, the loader accepts
    shutil.copy(SCENARIOS / "article.yaml", tmp_path / "article.yaml")
    path = tmp_path / "snippet.yaml"
    path.write_text(json.dumps(wrapped(block)), encoding="utf-8")
    load_scenario(path)


@pytest.mark.parametrize("block", README_WHAT_IFS + TUTORIAL_WHAT_IFS)
def test_the_readme_and_tutorial_what_ifs_validate(block):
    assert schema_errors(plain_yaml(block)) == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_shipped_file_validates(path):
    assert schema_errors(plain_yaml(path.read_text(encoding="utf-8"))) == []


def article() -> dict[str, Any]:
    return plain_yaml((SCENARIOS / "article.yaml").read_text(encoding="utf-8"))


def with_(data: dict[str, Any], *path_and_value: Any) -> dict[str, Any]:
    """A deep copy of data with the value at path (keys, then the value) replaced."""
    *path, value = path_and_value
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


SCORE_KEY = "AFG -> PAK"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("titel",), "x"),  # unknown top-level key
        (("events", 0, "intensty"), 1),  # unknown key of an event
        (("actors", "CHN", "nmae"), "China"),  # unknown key of an actor
        (("parameters", "kappa_targt"), 0.5),  # unknown parameter
        (("relations", SCORE_KEY), 1.5),  # score out of range
        (("baseline", SCORE_KEY), -1.5),
        (("relations", SCORE_KEY), {"normal": [0.0]}),  # too few arguments
        (("relations", SCORE_KEY), {"gauss": [0.0, 0.1]}),  # unknown distribution
        (("relations", SCORE_KEY), {"uniform": [0.0, 2.0]}),  # outside the range
        (("relations", SCORE_KEY), {"normal": [0.0, -0.1]}),  # negative spread
        (("relations", SCORE_KEY), {"normal": [0.0, 0.1], "choice": [0.2]}),  # two kinds
        (("relations", SCORE_KEY), {"choice": []}),
        (("relations", "AFG PAK"), 0.1),  # not a relation key
        (("actors", "afg"), {"name": "lower case"}),  # not an actor id
        (("actors", "CHN", "policy"), "clever"),  # no such policy kind
        (("actors", "CHN", "interests"), {"PAK -> AFG": {"want": 0.3, "weight": -1}}),
        (("actors", "CHN", "interests"), {"PAK and AFG": {"want": 0.3}}),
        (("events", 0, "date"), {"normal": ["2025-01-01", "2025-01-10"]}),  # no normal dates
        (("events", 0, "intensity"), 11),
        (("events", 0, "cameo"), "9999"),  # not in the CAMEO table
        (("parameters", "memory_half_life"), "26 weks"),
        (("parameters", "memory_half_life"), -1),
        (("parameters", "noise"), {"uniform": [0.0, 1.5]}),
        (("time", "step"), "fortnight"),
        (("seed",), -1),
    ],
)
def test_the_schema_rejects_what_the_loader_refuses(path, value):
    data = article()
    data.setdefault("baseline", {})
    data.setdefault("parameters", {})
    bad = with_(data, *path, value)
    assert schema_errors(bad), (path, value)
    # and the loader refuses it too (the schema does not invent rules of its own)
    with pytest.raises(ScenarioError):
        Builder(parse_yaml(json.dumps(bad), "bad.yaml")).scenario(Path("bad.yaml"))


def test_short_forms_validate():
    data = article()
    data["actors"]["CHN"]["policy"] = "reactive"  # short for {kind: reactive}
    data["events"][0]["stance_shift"] = {"issue": "recognition", "by": 0.1}  # one, not a list
    data["parameters"]["memory_half_life"] = 52  # weeks
    assert schema_errors(data) == []


def test_a_file_without_extends_is_complete_and_has_no_what_if_keys():
    data = article()
    assert schema_errors({k: v for k, v in data.items() if k != "time"})
    assert schema_errors(with_(data, "time", {"end": "2025-06-30"}))  # no start
    assert schema_errors({**data, "remove": ["paktika-strike"]})
    assert schema_errors({**data, "set": {"parameters.noise": 0.1}})


def test_a_what_if_may_write_part_of_the_window_but_no_events():
    what_if = {"title": "t", "extends": "article.yaml", "time": {"end": "2025-09-30"}}
    assert schema_errors(what_if) == []
    assert schema_errors({**what_if, "events": []})
    assert schema_errors({**what_if, "set": {"paramters.noise": 0.1}})  # not a settable key
    assert schema_errors({**what_if, "replace": [{"id": "x", "target": None}]}) == []
    assert schema_errors({**what_if, "replace": [{"intensity": 0.5}]})  # no id


def test_the_schema_lists_every_section_and_every_what_if_key():
    assert set(SCHEMA["properties"]) == set(SECTIONS) | set(WHAT_IF_KEYS)
    assert set(WHAT_IF_FIELDS) == set(WHAT_IF_KEYS)


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        st.floats(-3, 3, allow_nan=False),
        st.builds(lambda a, b: {"uniform": [a, b]}, st.floats(-2, 2), st.floats(-2, 2)),
        st.builds(lambda a: {"choice": a}, st.lists(st.floats(-2, 2), min_size=1, max_size=3)),
        st.builds(lambda m, s: {"normal": [m, s]}, st.floats(-2, 2), st.floats(-1, 1)),
    )
)
def test_schema_and_loader_agree_on_finite_scores(value):
    data = with_(article(), "relations", SCORE_KEY, value)
    try:
        Builder(parse_yaml(json.dumps(data), "x.yaml")).scenario(Path("x.yaml"))
        loads = True
    except ScenarioError:
        loads = False
    # a uniform with lo > hi is the one thing a JSON Schema cannot see
    if isinstance(value, dict) and "uniform" in value and value["uniform"][0] > value["uniform"][1]:
        assert not loads
        return
    assert (schema_errors(data) == []) == loads, value


# --------------------------------------------------------------------------------------------
# the modeline


def modeline_target(path: Path) -> Path:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(MODELINE), first
    return (path.parent / first[len(MODELINE) :].strip()).resolve()


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_names_the_schema_on_its_first_line(path):
    assert modeline_target(path) == (DOCS / "stances.schema.json").resolve()


def test_new_writes_the_modeline(tmp_path, capsys):
    shutil.copy(SCENARIOS / "article.yaml", tmp_path / "article.yaml")
    target = tmp_path / "deep" / "er" / "what-if.yaml"
    assert main(["new", str(target), "--from", str(tmp_path / "article.yaml")]) == 0
    capsys.readouterr()
    assert modeline_target(target) == (DOCS / "stances.schema.json").resolve()
    relative = target.read_text(encoding="utf-8").splitlines()[0][len(MODELINE) :]
    assert relative == os.path.relpath(DOCS / "stances.schema.json", target.parent)
    load_scenario(target)  # and the file still runs as it is


def test_new_without_the_projects_copy_names_a_schema_beside_the_file(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(schema_module, "schema_copy", lambda: None)
    monkeypatch.setattr("stances.scenario.skeleton.schema_copy", lambda: None)
    shutil.copy(SCENARIOS / "article.yaml", tmp_path / "article.yaml")
    target = tmp_path / "what-if.yaml"
    assert main(["new", str(target), "--from", str(tmp_path / "article.yaml")]) == 0
    capsys.readouterr()
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"{MODELINE}stances.schema.json"
    assert "stances schema --out stances.schema.json" in lines[1]
