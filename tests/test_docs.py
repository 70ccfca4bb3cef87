"""The documents say what the code does: the JSON Schema, docs/format.md, the tutorial, README.

Each test reads the document, extracts what it claims (a table, a code block, a printed line) and
checks it against the program.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import plain_yaml

import stances
from stances.cli import main
from stances.scenario import Parameters, load_scenario

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SCENARIOS = ROOT / "scenarios"
README = (ROOT / "README.md").read_text(encoding="utf-8")
FORMAT = (DOCS / "format.md").read_text(encoding="utf-8")
TUTORIAL = (DOCS / "tutorial.md").read_text(encoding="utf-8")
SHIPPED = sorted(SCENARIOS.glob("*.yaml"))
WHAT_IFS = [p for p in SHIPPED if "\nextends:" in p.read_text(encoding="utf-8")]


def fenced_blocks(markdown: str) -> list[tuple[str, str]]:
    """(language, text) of every fenced code block, in order."""
    blocks, lang, lines = [], None, []
    for line in markdown.splitlines():
        if line.startswith("```"):
            if lang is None:
                lang, lines = line[3:].strip(), []
            else:
                blocks.append((lang, "\n".join(lines) + "\n"))
                lang = None
        elif lang is not None:
            lines.append(line)
    assert lang is None, "unclosed code block"
    return blocks


def section(markdown: str, heading: str) -> str:
    """The text under a heading line, up to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = markdown.splitlines()
    start = lines.index(heading) + 1
    out, fenced = [], False
    for line in lines[start:]:
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and re.match(rf"#{{1,{level}}} ", line):
            break
        out.append(line)
    return "\n".join(out)


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the first Markdown table in text, as lists of cells."""
    rows: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break
    assert len(rows) >= 3, text
    return [[c.strip() for c in row.strip("|").split("|")] for row in rows[2:]]


def squash(line: str) -> str:
    return " ".join(line.split())


# --------------------------------------------------------------------------------------------
# JSON Schema


@pytest.fixture(scope="module")
def schema_text(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("schema") / "stances.schema.json"
    assert main(["schema", "--out", str(out)]) == 0
    return out.read_text(encoding="utf-8")


def test_committed_schema_is_up_to_date(schema_text):
    committed = (DOCS / "stances.schema.json").read_bytes()
    assert schema_text.encode("utf-8") == committed


def test_schema_printed_equals_schema_written(schema_text, capsys):
    capsys.readouterr()
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == schema_text


def test_schema_is_json_with_every_top_level_key_of_the_format(schema_text):
    schema = json.loads(schema_text)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    keys = [
        name
        for row in table_rows(section(FORMAT, "## Top-level keys"))
        for name in re.findall(r"`([a-z_]+)`", row[0])
    ]
    assert {"title", "time", "actors", "events", "extends", "set"} <= set(keys)
    assert set(keys) <= set(schema["properties"]), set(keys) - set(schema["properties"])


def schema_errors(schema: dict, value: Any, root: dict, where: str = "$") -> list[str]:
    """A small JSON Schema checker (the keywords stances' schema uses), for when the
    `jsonschema` package is not installed."""
    errors: list[str] = []
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        errors += schema_errors(root["$defs"][name], value, root, where)
    if "anyOf" in schema and all(schema_errors(s, value, root, where) for s in schema["anyOf"]):
        errors.append(f"{where}: matches none of anyOf")
    if "allOf" in schema:
        for sub in schema["allOf"]:
            errors += schema_errors(sub, value, root, where)
    if "not" in schema and not schema_errors(schema["not"], value, root, where):
        errors.append(f"{where}: matches 'not'")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in enum")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        checks = {
            "object": lambda v: isinstance(v, dict),
            "array": lambda v: isinstance(v, list),
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
            "null": lambda v: v is None,
        }
        if not any(checks[k](value) for k in kinds):
            return [*errors, f"{where}: {value!r} is not of type {kinds}"]
    if isinstance(value, dict):
        props = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        for key, item in value.items():
            matched = False
            if key in props:
                matched = True
                errors += schema_errors(props[key], item, root, f"{where}.{key}")
            for pattern, sub in patterns.items():
                if re.search(pattern, key):
                    matched = True
                    errors += schema_errors(sub, item, root, f"{where}.{key}")
            extra = schema.get("additionalProperties", True)
            if not matched and extra is False:
                errors.append(f"{where}: unknown key {key!r}")
            elif not matched and isinstance(extra, dict):
                errors += schema_errors(extra, item, root, f"{where}.{key}")
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{where}: missing {key!r}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            errors += schema_errors(schema["items"], item, root, f"{where}[{i}]")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: {value} > {schema['maximum']}")
    if "if" in schema and not schema_errors(schema["if"], value, root, where):
        errors += schema_errors(schema.get("then", {}), value, root, where)
    return errors


def test_the_small_schema_checker_rejects_bad_files(schema_text):
    schema = json.loads(schema_text)
    good = plain_yaml((SCENARIOS / "article.yaml").read_text(encoding="utf-8"))
    assert schema_errors(schema, good, schema) == []
    assert schema_errors(schema, {**good, "titel": "x"}, schema)
    assert schema_errors(schema, {**good, "relations": {"AFG -> PAK": 2}}, schema)
    assert schema_errors(schema, {k: v for k, v in good.items() if k != "time"}, schema)
    bad_event = {**good["events"][0], "intensty": 1}
    assert schema_errors(schema, {**good, "events": [bad_event]}, schema)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_schema_accepts_every_shipped_scenario(schema_text, path):
    schema = json.loads(schema_text)
    data = plain_yaml(path.read_text(encoding="utf-8"))
    assert schema_errors(schema, data, schema) == []
    if importlib.util.find_spec("jsonschema") is not None:
        import jsonschema

        jsonschema.validate(data, schema)


# --------------------------------------------------------------------------------------------
# docs/format.md


def test_format_parameters_table_lists_every_parameter_with_its_default():
    rows = table_rows(section(FORMAT, "### `parameters`"))
    documented = {row[0].strip("`"): row[2].strip("`") for row in rows}
    assert list(documented) == list(Parameters.model_fields)
    defaults = Parameters()
    for name, text in documented.items():
        value = getattr(defaults, name)
        if isinstance(value, bool) or value is None:
            assert text == {True: "true", False: "false", None: "null"}[value], name
        elif isinstance(value, str):
            assert text == str(value), name
        else:
            assert float(text) == value, name


# --------------------------------------------------------------------------------------------
# docs/tutorial.md


def tutorial_yaml() -> str:
    blocks = [text for lang, text in fenced_blocks(TUTORIAL) if "id: late-strike" in text]
    assert len(blocks) == 1
    return blocks[0]


@pytest.fixture
def tutorial_project(tmp_path, monkeypatch) -> Path:
    (tmp_path / "scenarios").mkdir()
    shutil.copy(SCENARIOS / "article.yaml", tmp_path / "scenarios" / "article.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_tutorial_what_if_validates(tutorial_project):
    path = tutorial_project / "scenarios" / "late-strike.yaml"
    path.write_text(tutorial_yaml(), encoding="utf-8")
    sc = load_scenario(path)
    assert sc.events[-1].id == "late-strike"
    assert [e.id for e in sc.events[:-1]] == [
        e.id for e in load_scenario(SCENARIOS / "article.yaml").events
    ]


def test_tutorial_compare_prints_the_line_it_shows(tutorial_project, capsys):
    (tutorial_project / "scenarios" / "late-strike.yaml").write_text(
        tutorial_yaml(), encoding="utf-8"
    )
    shown = [text for lang, text in fenced_blocks(TUTORIAL) if "Final scores on" in text]
    assert len(shown) == 1
    expected = [squash(line) for line in shown[0].splitlines() if "AFG -> PAK" in line]
    assert len(expected) == 1
    capsys.readouterr()
    code = main(["compare", "scenarios/article.yaml", "scenarios/late-strike.yaml"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert expected[0] in [squash(line) for line in out.splitlines()], out
    section_4 = section(TUTORIAL, "## 4. Compare (one minute)")
    folder = re.search(r"writes `(results/[^`]+)/`", section_4)
    assert folder and (tutorial_project / folder[1] / "final.csv").is_file(), folder


def test_tutorial_explain_prints_the_lines_it_shows(capsys, tmp_path):
    shown = [text for lang, text in fenced_blocks(TUTORIAL) if "without it alone" in text]
    assert len(shown) == 1
    expected = [squash(line) for line in shown[0].splitlines() if line.strip()]
    assert len(expected) == 6
    capsys.readouterr()
    out_dir = tmp_path / "why"
    code = main(
        ["explain", str(SCENARIOS / "article.yaml"), "--dyads", "AFG->PAK", "--out", str(out_dir)]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    printed = [squash(line) for line in out.splitlines()]
    start = printed.index(expected[0])
    assert printed[start : start + 6] == expected, out


@pytest.mark.parametrize(
    ("change", "marker"),
    [
        (("type: airstrike", "type: airstrik"), "airstrik"),
        (("2025-06-25", "2025-07-25"), "2025-07-25"),
    ],
)
def test_tutorial_error_messages_are_what_the_program_prints(tutorial_project, change, marker):
    shown = [
        line
        for lang, text in fenced_blocks(TUTORIAL)
        for line in text.splitlines()
        if line.startswith("scenarios/late-strike.yaml:") and marker in line
    ]
    assert len(shown) == 1
    text = tutorial_yaml().replace(*change)
    assert text != tutorial_yaml()
    path = Path("scenarios") / "late-strike.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(stances.ScenarioError) as info:
        load_scenario(path)
    assert [str(p) for p in info.value.problems] == shown


# --------------------------------------------------------------------------------------------
# README.md


def load_figures():
    spec = importlib.util.spec_from_file_location("stances_docs_figures", DOCS / "figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_claims_table_is_what_the_figure_script_prints():
    figures = load_figures()
    table = figures.claims_table(stances.run(SCENARIOS / "article.yaml"))
    assert table.count("\n") >= 2
    assert table in README


def test_every_image_the_readme_shows_exists():
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", README)
    assert images
    missing = [p for p in images if not (ROOT / p).is_file()]
    assert missing == []


def test_every_shipped_what_if_is_in_the_readme_gallery():
    # the reactive replay, the issues and the history's priors are not what-ifs of the
    # article's events: each has its own section
    sections = {
        "article-reactive.yaml": section(README, "## Actors that decide"),
        "article-issues.yaml": section(README, "## Issue stances"),
        "history-priors.yaml": section(README, "## Checking the model against history"),
    }
    gallery = section(README, "## What-ifs")
    assert WHAT_IFS
    missing = [p.name for p in WHAT_IFS if p.name not in sections.get(p.name, gallery)]
    assert missing == []


def test_readme_python_block_runs_as_written(tmp_path, monkeypatch):
    blocks = [text for lang, text in fenced_blocks(README) if lang == "python"]
    assert len(blocks) == 1
    for folder in ("scenarios", "benchmarks"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], "README.md", "exec"), {})
    assert (tmp_path / "results" / "my-run" / "manifest.json").is_file()


def test_the_readme_names_the_folders_the_commands_write(tmp_path, monkeypatch, capsys):
    """Each `stances ...` writes `results/...` of the README's Commands section, run as
    written in a fresh folder with the scenarios."""
    said = re.findall(
        r"`stances ([^`]+)` writes\s+`(results/[^`]+)`", section(README, "## Commands")
    )
    assert len(said) >= 3, said
    shutil.copytree(SCENARIOS, tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    for command, folder in said:
        assert main(command.split()) == 0, command
        assert (tmp_path / folder / "manifest.json").is_file(), (command, folder)
    capsys.readouterr()


def test_the_import_guides_try_it_commands_run(tmp_path, monkeypatch, capsys):
    """docs/import.md's first commands, on the fixtures, as written (files written to a
    temporary folder instead of the project's): each import reports its bad rows by line and
    writes a scenario that runs."""
    text = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    block = text.split("To try it", 1)[1].split("```", 2)[1]
    lines = [line.split() for line in block.splitlines() if line.startswith("stances ")]
    assert [line[1] for line in lines] == ["import", "import", "run"]
    monkeypatch.chdir(ROOT)
    for words in lines:
        args = [str(tmp_path / w) if w.startswith("try-") else w for w in words[1:]]
        if args[0] == "run":
            args += ["--out", str(tmp_path / "run"), "--no-plots"]
        code = main(args)
        _, err = capsys.readouterr()
        assert code == 0, err
        if args[0] == "import":
            assert re.search(r"tests/fixtures/\w+-events\.\w+:\d+:\d+: column ", err), err
    assert (tmp_path / "run" / "manifest.json").is_file()
