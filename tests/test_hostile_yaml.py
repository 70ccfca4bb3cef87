"""Hostile scenario files: each is refused quickly with one problem `file:line:col: message`
(exit code 2 on the command line, no traceback, nothing written).

Positions are found by hand in the text each test writes (``position_of``); the sizes the alias
and nesting limits compare against are computed here from the shape of the generated text.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import pytest
from conftest import MINIMAL
from helpers import assert_at, only_problem, plain_yaml, position_of, problems_of, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from stances import ScenarioError
from stances.cli import main
from stances.scenario import document, whatif
from stances.scenario.document import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, parse_yaml
from stances.scenario.whatif import MAX_EXTENDS

QUICK = 1.0  # seconds: every refusal below must come well within this

# A valid what-if of MINIMAL (written as parent.yaml), to which tests add one mistake.
CHILD = """\
extends: parent.yaml
title: Child
"""


def refused_quickly(path: Path) -> list:
    start = time.perf_counter()
    problems = problems_of(path)
    assert time.perf_counter() - start < QUICK
    return problems


def cli_problem(capsys, *argv: str) -> str:
    """The one line the command line prints for a refused input (exit code 2)."""
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


# --- 1. aliases that expand exponentially ----------------------------------------------------


def alias_bomb(levels: int, fanout: int) -> str:
    """a0 is a list of `fanout` scalars; each later level lists `fanout` aliases of the one before."""
    lines = [f"a0: &a0 [{', '.join(['x'] * fanout)}]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fanout)}]")
    return "\n".join(lines) + "\n"


def expanded_size(levels: int, fanout: int) -> int:
    """Values and keys of alias_bomb once every alias is written out: the root mapping, and for
    each level its key and its list (1 + fanout items, each of the level below's size)."""
    size, total = 1 + fanout, 1
    for level in range(levels + 1):
        if level:
            size = 1 + fanout * size
        total += 1 + size
    return total


def nodes_of(data) -> int:
    """Keys and values under data (not data itself), read with an independent YAML reader."""
    if isinstance(data, dict):
        return sum(1 + 1 + nodes_of(v) for v in data.values())
    if isinstance(data, list):
        return sum(1 + nodes_of(v) for v in data)
    return 0


def overflow_at(levels: int, fanout: int, before: int) -> tuple[int, int] | None:
    """(level, k): the k-th alias on the line of level a{level} is the first to bring the
    values read, in the order they are read (keys, items, then their list), past MAX_NODES;
    None when the whole of alias_bomb fits. before: the values read ahead of it."""
    total = before + 1 + fanout + 1  # key a0, its scalars, its list
    size = 1 + fanout
    for level in range(1, levels + 1):
        total += 1  # the key a{level}
        for k in range(1, fanout + 1):
            total += size
            if total > MAX_NODES:
                return level, k
        total += 1
        size = 1 + fanout * size
    return None


def assert_at_alias(problem, text: str, first_line: int, where: tuple[int, int]) -> None:
    level, k = where
    line = first_line + level
    row = text.splitlines()[line - 1]
    col = [i for i in range(len(row)) if row.startswith(f"*a{level - 1}", i)][k - 1] + 1
    assert (problem.pos.line, problem.pos.col) == (line, col), str(problem)
    assert f"*a{level - 1}" in problem.message and f"{MAX_NODES:,}" in problem.message


def test_alias_bomb_is_refused_at_the_alias_that_overflows(tmp_path):
    # the attack: 560 bytes, 7 levels of nine aliases, took 28 s and 2 GB
    text = MINIMAL + alias_bomb(7, 9)
    path = write(tmp_path, "bomb.yaml", text)
    [problem] = refused_quickly(path)
    assert problem.pos.file == str(path)
    where = overflow_at(7, 9, nodes_of(plain_yaml(MINIMAL)))
    assert where is not None
    assert_at_alias(problem, text, len(MINIMAL.splitlines()) + 1, where)


def test_nine_levels_of_aliases_are_refused_without_a_memory_error(tmp_path):
    path = write(tmp_path, "bomb.yaml", MINIMAL + alias_bomb(9, 9))
    [problem] = refused_quickly(path)
    assert problem.pos.file == str(path) and problem.pos.line > 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(levels=st.integers(0, 9), fanout=st.integers(1, 9))
def test_alias_expansion_is_refused_exactly_beyond_the_budget(levels, fanout):
    text = alias_bomb(levels, fanout)
    start = time.perf_counter()
    where = overflow_at(levels, fanout, 0)
    if expanded_size(levels, fanout) > MAX_NODES:
        with pytest.raises(ScenarioError) as info:
            parse_yaml(text, "bomb.yaml")
        [problem] = info.value.problems
        if where is None:  # the last value read, the root mapping itself, tips it over
            assert (problem.pos.line, problem.pos.col) == (1, 1)
        else:
            assert_at_alias(problem, text, 1, where)
    else:
        assert where is None
        doc = parse_yaml(text, "bomb.yaml")
        flat = doc.data[f"a{levels}"]
        for _ in range(levels):
            flat = [x for item in flat for x in item]
        assert flat == ["x"] * fanout ** (levels + 1)
    assert time.perf_counter() - start < QUICK


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("&r {a: *r}\n", "*r"),  # a root that aliases itself
        ("title: T\nx: &r [1, *r]\n", "*r"),
        ("title: T\nx: &r {y: [*r]}\n", "*r"),
    ],
)
def test_a_structure_that_contains_itself_is_refused_at_the_alias(tmp_path, text, needle):
    path = write(tmp_path, "self.yaml", text)
    [problem] = refused_quickly(path)
    assert_at(problem, path, text, needle)
    assert "contains itself" in problem.message


# --- 2. size and nesting ----------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(tmp_path):
    text = "title: T\ndescription: " + "x" * MAX_FILE_BYTES + "\n"  # one long line
    path = write(tmp_path, "big.yaml", text)
    [problem] = refused_quickly(path)
    assert problem.pos.file == str(path)
    assert f"{len(text.encode()):,} bytes" in problem.message
    assert f"{MAX_FILE_BYTES:,}" in problem.message


@settings(max_examples=30, deadline=None)
@given(depth=st.integers(1, 400), flow=st.booleans())
def test_nesting_is_refused_exactly_beyond_the_limit(depth, flow):
    # `x:` holds depth nested lists under the root mapping: depth + 1 levels in all
    if flow:
        text = "x: " + "[" * depth + "]" * depth + "\n"
        deepest = (1, 4 + MAX_DEPTH - 1)  # the bracket that opens level MAX_DEPTH + 1
    else:
        text = "x:\n" + "".join("  " * i + "-\n" for i in range(depth - 1))
        text += "  " * (depth - 1) + "- end\n"  # the dash on line i + 2 opens level i + 2
        deepest = (MAX_DEPTH + 1, 2 * (MAX_DEPTH - 1) + 1)
    start = time.perf_counter()
    if depth + 1 > MAX_DEPTH:
        with pytest.raises(ScenarioError) as info:
            parse_yaml(text, "deep.yaml")
        [problem] = info.value.problems
        assert (problem.pos.line, problem.pos.col) == deepest
        assert f"{MAX_DEPTH} levels" in problem.message
    else:
        node = parse_yaml(text, "deep.yaml").data["x"]
        for _ in range(depth - 1):
            [node] = node
        assert node == (["end"] if not flow else [])
    assert time.perf_counter() - start < QUICK


def test_an_alias_that_nests_too_deep_is_refused_at_the_alias(tmp_path):
    inner = MAX_DEPTH - 10  # a valid anchor, then an alias of it 20 levels down
    text = f"a: &a {'[' * inner}{']' * inner}\nb: {'[' * 20}*a{']' * 20}\n"
    path = write(tmp_path, "deep.yaml", text)
    [problem] = refused_quickly(path)
    assert_at(problem, path, text, "*a")
    assert f"{MAX_DEPTH} levels" in problem.message


def chain(tmp_path: Path, links: int) -> Path:
    """f0.yaml extends f1.yaml ... extends f{links}.yaml, which is MINIMAL."""
    for i in range(links):
        write(tmp_path, f"f{i}.yaml", f"extends: f{i + 1}.yaml\n")
    write(tmp_path, f"f{links}.yaml", MINIMAL)
    return tmp_path / "f0.yaml"


def test_an_extends_chain_of_a_thousand_files_is_refused_at_the_limit(tmp_path):
    top = chain(tmp_path, 1000)
    start = time.perf_counter()
    [problem] = problems_of(top)
    assert time.perf_counter() - start < 3 * QUICK  # reads MAX_EXTENDS + 1 small files
    far = tmp_path / f"f{MAX_EXTENDS}.yaml"
    assert_at(problem, far, far.read_text(), f"f{MAX_EXTENDS + 1}.yaml")
    assert f"more than {MAX_EXTENDS} files" in problem.message


def test_an_extends_chain_at_the_limit_is_read(tmp_path):
    from stances.scenario import load_scenario

    assert load_scenario(chain(tmp_path, MAX_EXTENDS)).title == "Minimal"


def test_the_files_of_a_chain_are_limited_together(tmp_path, monkeypatch):
    monkeypatch.setattr(whatif, "MAX_CHAIN_BYTES", len(MINIMAL) + 10)
    write(tmp_path, "parent.yaml", MINIMAL)
    path = write(tmp_path, "child.yaml", CHILD)
    [problem] = problems_of(path)
    assert_at(problem, path, CHILD, "parent.yaml")
    assert "bytes" in problem.message


# --- 3. merge keys and tags -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "needle", "words"),
    [
        ("base: &b {kappa_target: 0.5}\nparameters: {<<: *b}\n", "<<", "merge keys"),
        ("description: !!omap [{a: 1}]\n", "!!omap", "'!!omap'"),
        ("description: !!python/object/apply:os.system [ls]\n", "!!python", "not supported"),
        ("description: !!binary aGVsbG8=\n", "!!binary", "not supported"),
        ("description: !mine x\n", "!mine", "the tag '!mine' is not supported"),
        ("description: !!int abc\n", "!!int", "'abc' as a whole number"),
        ("description: !!float abc\n", "!!float", "'abc' as a number"),
        ("description: " + "1" * 5000 + "\n", "1111", "whole number (it has more than 4,300"),
        ("? [a, b]\n: 1\n", "[a, b]", "a key must be a plain value"),
    ],
)
def test_tags_and_merge_keys_are_refused_at_their_place(tmp_path, extra, needle, words):
    text = MINIMAL + extra
    path = write(tmp_path, "tagged.yaml", text)
    [problem] = refused_quickly(path)
    assert_at(problem, path, text, needle)
    assert words in problem.message
    assert len(str(problem)) < 300


def test_a_merge_key_inside_replace_is_refused(tmp_path):
    write(tmp_path, "parent.yaml", MINIMAL)
    text = CHILD + "replace:\n  - &p {id: first, intensity: 2}\n  - {<<: *p}\n"
    path = write(tmp_path, "child.yaml", text)
    [problem] = refused_quickly(path)
    assert_at(problem, path, text, "<<")


def test_validate_goes_on_after_a_merge_key(tmp_path, capsys):
    bad = write(tmp_path, "bad.yaml", MINIMAL + "base: &b {x: 1}\nparameters: {<<: *b}\n")
    good = write(tmp_path, "good.yaml", MINIMAL)
    assert main(["validate", str(bad), str(good)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"{bad}:") and len(err.splitlines()) == 1
    assert out.startswith(f"{good}: ok")


# --- 4. characters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "needle", "words"),
    [
        ("title: Minimal", r'title: "\ud800"', '"', "lone surrogate U+D800"),
        ("title: Minimal", r'title: "a\0b"', '"', "U+0000 (NUL)"),
        ("title: Minimal", r'title: "\e[31m"', '"', "U+001B"),
        ("{name: India}", r'{name: "\udfff"}', '"', "lone surrogate"),
        ("target: AFG", 'target: AFG\n    cite: "\\ud83d"', '"', "lone surrogate"),
        ("IND -> PAK", r'"IND\n-> PAK"', '"', "a key holds the control character U+000A"),
    ],
)
def test_bad_characters_in_values_are_refused_at_the_value(tmp_path, old, new, needle, words):
    text = MINIMAL.replace(old, new)
    path = write(tmp_path, "chars.yaml", text)
    [problem] = refused_quickly(path)
    assert_at(problem, path, text, needle, nth=0)
    assert words in problem.message


def test_a_lone_surrogate_writes_no_run_directory(tmp_path, capsys):
    path = write(tmp_path, "s.yaml", MINIMAL.replace("title: Minimal", r'title: "\ud800"'))
    out = tmp_path / "run"
    line = cli_problem(capsys, "run", str(path), "--out", str(out), "--no-plots")
    assert line.startswith(f"{path}:1:8: ")
    assert not out.exists()


@pytest.mark.parametrize(
    ("raw", "bad", "words"),
    [
        (b"caf\xe9", 3, "not UTF-8 text: byte 0xe9"),
        (b"a\x00b", 1, "U+0000 (NUL)"),
        (b"a\x1bb", 1, "U+001B"),
    ],
)
def test_bad_bytes_in_the_file_get_a_position(tmp_path, raw, bad, words):
    # after a two-byte character: the column counts characters, not bytes
    data = MINIMAL.encode().replace(b"name: Pakistan", b"name: P\xc3\xa4k" + raw)
    path = tmp_path / "bytes.yaml"
    path.write_bytes(data)
    [problem] = refused_quickly(path)
    line = MINIMAL.splitlines().index("  PAK: {name: Pakistan}") + 1
    col = len("  PAK: {name: P\u00e4k") + bad + 1
    assert (problem.pos.line, problem.pos.col) == (line, col), str(problem)
    assert words in problem.message


# --- 5. extends -------------------------------------------------------------------------------


def test_an_extends_symlink_loop_is_a_problem(tmp_path):
    os.symlink("loop-b.yaml", tmp_path / "loop-a.yaml")
    os.symlink("loop-a.yaml", tmp_path / "loop-b.yaml")
    text = "extends: loop-a.yaml\n"
    path = write(tmp_path, "child.yaml", text)
    [problem] = refused_quickly(path)
    assert_at(problem, path, text, "loop-a.yaml")
    assert "loop of symbolic links" in problem.message


@pytest.mark.parametrize(
    ("ref", "words"), [("/dev/null", "not a regular file"), (".", "not a regular file (a folder)")]
)
def test_extends_of_something_not_a_file(tmp_path, ref, words):
    text = f"extends: {ref}\n"
    path = write(tmp_path, "child.yaml", text)
    [problem] = refused_quickly(path)
    assert_at(problem, path, text, ref)
    assert words in problem.message and "no such file" not in problem.message


def test_extends_through_a_file_is_no_such_file(tmp_path):
    write(tmp_path, "parent.yaml", MINIMAL)
    text = "extends: parent.yaml/other.yaml\n"
    path = write(tmp_path, "child.yaml", text)
    [problem] = refused_quickly(path)
    assert_at(problem, path, text, "parent.yaml/")
    assert "a part of the path is a file" in problem.message


def test_new_in_a_folder_that_is_a_file_says_so(tmp_path, capsys):
    parent = write(tmp_path, "parent.yaml", MINIMAL)
    line = cli_problem(capsys, "new", str(tmp_path / "parent.yaml" / "x"), "--from", str(parent))
    assert line == f"stances: cannot write {parent}: it is a file, not a folder"
    assert parent.read_text() == MINIMAL


def test_add_to_a_parent_whose_events_are_not_a_list(tmp_path):
    parent_text = MINIMAL.split("events:")[0] + "events: 5\n"
    parent = write(tmp_path, "parent.yaml", parent_text)
    add = "add:\n  - {id: e2, date: 2025-01-05, type: visit, actor: IND, target: PAK}\n"
    write(tmp_path, "child.yaml", CHILD + add)
    [problem] = refused_quickly(tmp_path / "child.yaml")
    assert_at(problem, parent, parent_text, "5\n", nth=parent_text.count("5\n") - 1)
    assert "expected a list, got 5" in problem.message


def test_when_a_parent_fails_the_childs_own_problems_are_reported(tmp_path):
    parent_text = MINIMAL + "seed: [\n"
    parent = write(tmp_path, "parent.yaml", parent_text)
    text = CHILD + "remove: 5\nevnts: []\n"
    path = write(tmp_path, "child.yaml", text)
    problems = refused_quickly(path)
    assert len(problems) == 3
    broken, not_a_list, unknown = sorted(problems, key=lambda p: (p.pos.file != str(parent), p.pos))
    assert broken.pos.file == str(parent) and "not valid YAML" in broken.message
    assert_at(not_a_list, path, text, "5\n")
    assert not_a_list.message == "expected a list"
    assert_at(unknown, path, text, "evnts")
    assert unknown.message == "unknown key 'evnts' (did you mean 'events'?)"


@pytest.mark.parametrize(
    "text",
    [
        "extend: parent.yaml\n",
        "extend: parent.yaml\nadd:\n  - {id: e2, date: 2025-01-05, type: visit}\n",
        MINIMAL + "extnds: parent.yaml\n",
    ],
)
def test_a_misspelt_extends_is_named(tmp_path, text):
    write(tmp_path, "parent.yaml", MINIMAL)
    path = write(tmp_path, "child.yaml", text)
    problem = only_problem(path)
    key = "extend:" if "extend:" in text else "extnds:"
    assert_at(problem, path, text, key)
    assert problem.message == f"unknown key '{key[:-1]}' (did you mean 'extends'?)"


def test_a_misspelt_parent_suggests_the_nearest_file(tmp_path):
    write(tmp_path, "article.yaml", MINIMAL)
    write(tmp_path, "notes.txt", "not a scenario")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "x.yaml", "extends: ../artcle.yaml\n")
    problem = only_problem(tmp_path / "sub" / "x.yaml")
    assert problem.message.startswith("no such file")
    assert problem.message.endswith("(did you mean '../article.yaml'?)")


def test_a_long_value_is_echoed_shortened(tmp_path, capsys):
    text = MINIMAL.replace("seed: 1", "seed: " + "x" * 20_000)
    path = write(tmp_path, "long.yaml", text)
    line = cli_problem(capsys, "validate", str(path))
    assert line.startswith(f"{path}:3:7: seed: expected a whole number, got 'xxx")
    assert len(line) < len(str(path)) + 120


def test_a_parent_that_is_one_long_scalar_is_echoed_shortened(tmp_path):
    # the attack: `extends: /etc/passwd` echoed the whole file as the value it got
    write(tmp_path, "passwd", "root:x:0:0:root:/root:/bin/bash " * 300 + "\n")
    write(tmp_path, "child.yaml", "extends: passwd\n")
    [problem] = refused_quickly(tmp_path / "child.yaml")
    assert problem.message.startswith("expected a mapping of keys")
    assert "root:x:0:0" in problem.message and len(problem.message) < 200


def test_a_deep_list_is_echoed_shortened(tmp_path):
    depth = MAX_DEPTH - 5
    text = MINIMAL.replace("seed: 1", "seed: " + "[" * depth + "]" * depth)
    [problem] = refused_quickly(write(tmp_path, "deep.yaml", text))
    assert "expected a whole number" in problem.message and len(problem.message) < 100


def test_plain_refuses_data_over_the_limits_from_any_reader():
    # plain is the last guard, for data read without this module's composer (ruamel's own)
    depth = MAX_DEPTH + 5
    node = YAML(typ="rt").load("v: " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(ScenarioError) as info:
        document.plain(node["v"], ("v",), "--set v", document.Doc({}))
    [problem] = info.value.problems
    assert f"{MAX_DEPTH} levels" in problem.message


def test_the_limits_documented_are_the_limits_applied():
    text = (Path(__file__).resolve().parents[1] / "docs" / "format.md").read_text("utf-8")
    section = text.split("## Limits\n")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    values = [int(row.split("|")[2].split()[0].replace(",", "")) for row in rows[1:]]
    assert values == [
        MAX_FILE_BYTES,
        whatif.MAX_CHAIN_BYTES,
        MAX_EXTENDS,
        MAX_DEPTH,
        MAX_NODES,
        document.MAX_KEY_CHARS,
    ]


def test_a_key_longer_than_the_limit_is_refused_at_the_key(tmp_path):
    key = "k" * (document.MAX_KEY_CHARS + 1)
    text = MINIMAL + f'"{key}": 1\n'
    [problem] = refused_quickly(write(tmp_path, "key.yaml", text))
    assert_at(problem, tmp_path / "key.yaml", text, f'"{key}"')
    assert f"{len(key):,} characters" in problem.message and len(problem.message) < 100


def test_an_alias_as_a_key_is_refused(tmp_path):
    text = MINIMAL + "name: &n seed\n*n : 2\n"
    [problem] = refused_quickly(write(tmp_path, "key.yaml", text))
    assert_at(problem, tmp_path / "key.yaml", text, "*n :")
    assert "a key cannot be an alias" in problem.message


def test_aliases_of_whole_values_still_work(tmp_path):
    from stances.scenario import load_scenario

    text = MINIMAL.replace("relations:", "relations: &initial").replace(
        "events:", "baseline: *initial\nevents:"
    )
    sc = load_scenario(write(tmp_path, "alias.yaml", text))
    assert sc.resolved["baseline"] == sc.resolved["relations"] == plain_yaml(MINIMAL)["relations"]


def test_an_anchor_defined_twice_is_one_problem_not_a_warning(tmp_path, capsys):
    # found by the fuzz test: ruamel warns (a Python warning reached the terminal)
    text = MINIMAL.replace("  IND: {name: India}", "  IND: &a {name: India}").replace(
        "  AFG: {name: Afghanistan}", "  AFG: &a {name: Afghanistan}"
    )
    path = tmp_path / "twice.yaml"
    path.write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        problems = problems_of(path)
    [problem] = problems
    line, col = position_of(text, "&a", nth=1)
    assert (problem.pos.line, problem.pos.col) == (line, col)
    assert "'&a' is defined twice" in problem.message
