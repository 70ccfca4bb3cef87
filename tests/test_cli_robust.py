"""The command line under expensive, odd or hostile input, signals and a full disk; its start-up.

Each test reproduces a reported problem: memory refused before a run starts, workers capped
at the cores, dyads de-duplicated, bounds of --member and --runs, non-finite --threshold, a bad
Dask address, `schema --out` onto a file, control characters in titles and ids, messages that
name the file being written, SIGTERM/SIGINT/SIGKILL with worker processes, folders given where
files are expected, `new` in the current folder, --version and --help, and that the quick
commands import neither Mesa nor matplotlib nor pandas.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import signal
import subprocess
import sys
import time
import unicodedata
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest
from conftest import MINIMAL
from hypothesis import given
from hypothesis import strategies as st

from stances import api, load_scenario
from stances.cli import COMMAND_FUNCTIONS, main
from stances.cli_parser import EXAMPLES, build_parser
from stances.engine import ensemble
from stances.engine.model import StanceModel
from stances.errors import printable

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "scenarios" / "article.yaml"
BOUNDARIES_OF_MINIMAL = (
    14  # weeks from 2025-01-01 until past 2025-03-31: 2025-01-01 + 7 k, k = 0 .. 13
)


def refused(capsys, args: list[str]) -> str:
    """Run the CLI, check it refuses the input with one line per problem and no traceback,
    and return what it printed on stderr."""
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip()
    return err


@pytest.fixture
def minimal(tmp_path, monkeypatch) -> Path:
    """MINIMAL written to a fresh working folder, which becomes the current one."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "minimal.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    return path


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------------------------
# memory


def test_member_bytes_and_memory_needed_follow_the_arrays(minimal):
    scenario = load_scenario(minimal)
    assert len(scenario.step_dates()) == BOUNDARIES_OF_MINIMAL
    one = 8 * BOUNDARIES_OF_MINIMAL * 3 * 3  # float64 scores (steps + 1, N, N); no issues
    assert ensemble.member_bytes(scenario) == one
    # one process, one batch of all 10 members: 2 copies of the batch, 3 of the join
    assert ensemble.memory_needed(scenario, 10, batch=10) == (2 * 10 + 3 * 10) * one
    # two workers, batches of 5: two running at a time, and the two worker processes
    assert ensemble.memory_needed(scenario, 10, batch=5, workers=2) == (
        (2 * 2 * 5 + 3 * 10) * one + 2 * ensemble.WORKER_BYTES
    )
    # on Dask no batch runs here
    assert ensemble.memory_needed(scenario, 10, batch=5, on_dask=True) == 3 * 10 * one
    table = ensemble.TABLE_BYTES_PER_SCORE * BOUNDARIES_OF_MINIMAL * 1 * 9
    assert ensemble.memory_needed(scenario, 1, member_table=True) == 5 * one + table


def test_available_memory_is_a_positive_number_of_bytes_here():
    have = ensemble.available_memory()
    meminfo = Path("/proc/meminfo").read_text()
    total = int(next(x for x in meminfo.splitlines() if x.startswith("MemTotal:")).split()[1])
    assert have is not None and 0 < have <= total * 1024


def test_a_run_too_big_for_memory_is_refused_before_it_starts(minimal, monkeypatch, capsys):
    monkeypatch.setattr(ensemble, "available_memory", lambda: 10_000)
    monkeypatch.setattr(ensemble, "run_batch", lambda task: pytest.fail("a batch started"))
    err = refused(capsys, ["run", str(minimal), "--runs", "1000", "--no-plots"])
    need = ensemble.memory_needed(load_scenario(minimal), 1000)
    assert len(err.strip().splitlines()) == 1
    assert f"needs about {ensemble.gib(need)}" in err
    assert f"{ensemble.gib(10_000)} available" in err
    assert listing(minimal.parent) == ["minimal.yaml"]


def test_the_member_table_counts_for_a_single_run(minimal, monkeypatch, capsys):
    scenario = load_scenario(minimal)
    without = ensemble.memory_needed(scenario, 1)
    with_table = ensemble.memory_needed(scenario, 1, member_table=True)
    monkeypatch.setattr(ensemble, "available_memory", lambda: (without + with_table) // 2)
    err = refused(capsys, ["run", str(minimal), "--no-plots"])
    assert f"needs about {ensemble.gib(with_table)}" in err
    assert api.run(scenario).members == 1  # the run alone fits; api.run writes no table


def test_api_run_refuses_too_big_a_run(minimal, monkeypatch):
    monkeypatch.setattr(ensemble, "available_memory", lambda: 10_000)
    monkeypatch.setattr(ensemble, "run_batch", lambda task: pytest.fail("a batch started"))
    with pytest.raises(ensemble.NotEnoughMemory, match="available"):
        api.run(minimal, members=1000)


def test_a_finished_batch_leaves_no_model_behind(minimal):
    # Mesa 3.3 keeps every model in Agent._ids; a worker running batch after batch kept them all
    scenario = load_scenario(minimal)
    gc.collect()
    before = sum(isinstance(o, StanceModel) for o in gc.get_objects())
    for first in range(0, 6, 2):
        ensemble.run_batch((scenario, 1, first, 2))
    gc.collect()
    assert sum(isinstance(o, StanceModel) for o in gc.get_objects()) == before


# --------------------------------------------------------------------------------------------
# workers, members, runs, seeds


def spy_run(monkeypatch) -> dict:
    """Replace api.run by a spy that records its arguments and runs one member alone."""
    seen: dict = {}
    real = api.run

    def run(scenario, **kwargs):
        seen.update(kwargs)
        return real(scenario, seed=kwargs.get("seed"), first_member=kwargs["first_member"])

    monkeypatch.setattr(api, "run", run)
    return seen


def test_workers_are_capped_at_the_cores_with_a_note(minimal, monkeypatch, capsys):
    monkeypatch.setattr("stances.cli._cores", lambda: 2)
    seen = spy_run(monkeypatch)
    assert main(["run", str(minimal), "--runs", "4", "--workers", "16", "--no-plots"]) == 0
    err = capsys.readouterr().err
    assert seen["workers"] == 2
    assert err.count("\n") == 1 and "--workers 16 capped at 2" in err


def test_workers_exact_starts_what_was_asked(minimal, monkeypatch, capsys):
    monkeypatch.setattr("stances.cli._cores", lambda: 2)
    seen = spy_run(monkeypatch)
    args = ["run", str(minimal), "--runs", "4", "--workers", "16", "--workers-exact", "--no-plots"]
    assert main(args) == 0
    assert seen["workers"] == 16
    assert "capped" not in capsys.readouterr().err


def test_the_engine_starts_no_more_workers_than_batches(minimal, monkeypatch):
    started = []
    monkeypatch.setattr(
        ensemble,
        "_run_on_workers",
        lambda tasks, workers, label, progress: started.append(workers) or [],
    )
    ensemble.run_chunks(load_scenario(minimal), members=3, workers=16, batch=1)
    assert started == [3]


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--member", "99999999999999999999", "--member must be 0 .. 2**63 - 1"),
        ("--member", str(2**63), "--member must be 0 .. 2**63 - 1"),
        ("--runs", str(2**63 + 1), "--runs must be at most 2**63"),
    ],
)
def test_member_numbers_beyond_int64_are_refused(minimal, capsys, option, value, words):
    assert words in refused(capsys, ["run", str(minimal), option, value, "--no-plots"])
    assert listing(minimal.parent) == ["minimal.yaml"]


def test_the_last_member_number_runs(minimal, capsys):
    last = 2**63 - 1
    assert main(["run", str(minimal), "--member", str(last), "--out", "last", "--no-plots"]) == 0
    relations = pd.read_csv(minimal.parent / "last" / "relations.csv")
    assert set(relations["member"]) == {last}


def test_member_numbers_that_would_wrap_are_refused_by_the_engine(minimal):
    with pytest.raises(ValueError, match="2\\*\\*63 - 1"):
        api.run(minimal, members=3, first_member=2**63 - 2)


def test_a_huge_seed_is_a_seed(minimal, capsys):
    seed = 10**30  # numpy's SeedSequence takes any integer >= 0
    assert main(["run", str(minimal), "--seed", str(seed), "--out", "huge", "--no-plots"]) == 0
    manifest = json.loads((minimal.parent / "huge" / "manifest.json").read_text())
    assert manifest["seed"] == seed


# --------------------------------------------------------------------------------------------
# dyads, threshold, Dask, schema


def test_repeated_dyads_are_shown_once(minimal, capsys):
    dyads = ",".join(["IND->PAK"] * 96 + ["PAK<->IND"])
    assert main(["compare", str(minimal), str(minimal), "--dyads", dyads, "--out", "c"]) == 0
    manifest = json.loads((minimal.parent / "c" / "manifest.json").read_text())
    assert manifest["dyads"] == ["IND -> PAK", "PAK -> IND"]
    final = pd.read_csv(minimal.parent / "c" / "final.csv")
    assert len(final) == len(final.drop_duplicates())


def test_sweep_names_the_valid_actors_before_it_runs(minimal, monkeypatch, capsys):
    monkeypatch.setattr(api, "run", lambda *a, **k: pytest.fail("a sweep point ran"))
    args = ["sweep", str(minimal), "--vary", "parameters.kappa_target=0.2,0.4"]
    err = refused(capsys, [*args, "--dyads", "IDN->PAK"])
    assert "unknown actor 'IDN' (did you mean 'IND'?)" in err
    assert "the actors: IND, PAK, AFG" in err
    assert "an actor's view of itself" in refused(capsys, [*args, "--dyads", "PAK->PAK"])
    assert listing(minimal.parent) == ["minimal.yaml"]


@pytest.mark.parametrize("threshold", ["nan", "inf", "-inf", "0"])
def test_a_threshold_must_be_a_positive_number(minimal, capsys, threshold):
    err = refused(capsys, ["compare", str(minimal), str(minimal), f"--threshold={threshold}"])
    assert "--threshold must be a positive number" in err
    assert listing(minimal.parent) == ["minimal.yaml"]


def test_a_dask_address_that_is_no_address_is_one_line(minimal, capsys):
    err = refused(capsys, ["run", str(minimal), "--runs", "2", "--dask", "not a url::"])
    assert len(err.strip().splitlines()) == 1
    assert "cannot reach the Dask scheduler at 'not a url::'" in err


def test_schema_never_overwrites_a_file(minimal, capsys):
    target = minimal.parent / "schema.json"
    target.write_text("mine\n", encoding="utf-8")
    assert "already exists" in refused(capsys, ["schema", "--out", str(target)])
    assert target.read_text(encoding="utf-8") == "mine\n"
    fresh = minimal.parent / "fresh.json"
    assert main(["schema", "--out", str(fresh)]) == 0
    assert json.loads(fresh.read_text(encoding="utf-8"))["type"] == "object"


# --------------------------------------------------------------------------------------------
# control characters


def is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" or unicodedata.bidirectional(char) in {
        "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI", "LRM", "RLM", "ALM"
    }  # fmt: skip


@given(st.text())
def test_printable_leaves_no_control_character(text):
    out = printable(text)
    assert not any(is_control(c) for c in out)
    if not any(is_control(c) for c in text):
        assert out == text


def test_printable_writes_escapes():
    assert printable("a\x1b[2Jb\u202ec\x7f\x85") == "a\\x1b[2Jb\\u202ec\\x7f\\x85"
    assert printable("two\nlines\tand\x07", keep="\n") == "two\nlines\\x09and\\x07"


def test_a_title_with_control_characters_is_refused_and_never_printed_raw(minimal, capsys):
    # the loader refuses control characters in any text (tests/test_hostile_yaml.py); a
    # bidirectional override is printable and reaches the terminal escaped
    text = MINIMAL.replace("title: Minimal", 'title: "Red\\e[31mTitle"')
    minimal.write_text(text, encoding="utf-8")
    err = refused(capsys, ["run", str(minimal), "--no-plots"])
    assert "U+001B" in err and "\x1b" not in err
    minimal.write_text(MINIMAL.replace("title: Minimal", 'title: "Red\\u202eTitle"'))
    assert main(["run", str(minimal), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Red\\u202eTitle: 13 weekly steps") and "\u202e" not in out


def test_problems_are_printed_with_their_control_characters_escaped(minimal, capsys):
    text = MINIMAL.replace("  AFG: {name: Afghanistan}", '  "A\\eF": {name: Afghanistan}')
    minimal.write_text(text, encoding="utf-8")
    err = refused(capsys, ["validate", str(minimal)])
    assert "U+001B" in err and "\x1b" not in err


# --------------------------------------------------------------------------------------------
# messages name the output


def test_a_full_disk_names_the_run_directory(minimal, monkeypatch, capsys):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")  # as a full disk gives it

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    err = refused(capsys, ["run", str(minimal), "--no-plots", "--out", "out"])
    assert err.strip() == "stances: cannot write out: No space left on device"
    assert listing(minimal.parent) == ["minimal.yaml"]


def test_a_full_standard_output_is_named():
    done = subprocess.run(
        [sys.executable, "-m", "stances.cli", "events"],
        stdout=open(os.devnull if not Path("/dev/full").exists() else "/dev/full", "w"),  # noqa: SIM115
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == "stances: cannot write standard output: No space left on device\n"


# --------------------------------------------------------------------------------------------
# folders, new, --version, --help


def test_run_of_a_folder_says_what_it_expects(minimal, capsys):
    (minimal.parent / "more").mkdir()
    (minimal.parent / "more" / "b.yaml").write_text(MINIMAL, encoding="utf-8")
    (minimal.parent / "more" / "a.yml").write_text(MINIMAL, encoding="utf-8")
    (minimal.parent / "more" / "notes.txt").write_text("x", encoding="utf-8")
    err = refused(capsys, ["run", "more"])
    assert err.strip() == (
        "stances: expected a scenario file (.yaml); more is a folder: "
        f"did you mean one of: {Path('more', 'a.yml')}, {Path('more', 'b.yaml')}"
    )
    assert not (minimal.parent / "results").exists()


def test_validate_of_a_folder_validates_every_scenario_in_it(minimal, capsys):
    folder = minimal.parent / "drafts"
    folder.mkdir()
    (folder / "good.yaml").write_text(MINIMAL, encoding="utf-8")
    assert main(["validate", str(folder)]) == 0
    assert capsys.readouterr().out == f"{folder / 'good.yaml'}: ok (3 actors, 1 events)\n"
    (folder / "bad.yaml").write_text(MINIMAL.replace("type: visit", "type: vist"), "utf-8")
    err = refused(capsys, ["validate", str(folder)])
    assert f"{folder / 'bad.yaml'}:" in err and "vist" in err
    empty = minimal.parent / "empty"
    empty.mkdir()
    assert "without scenario files" in refused(capsys, ["validate", str(empty)])


def test_new_writes_in_the_current_folder(minimal, capsys):
    parent_folder = minimal.parent / "elsewhere"
    parent_folder.mkdir()
    parent = parent_folder / "base.yaml"
    parent.write_text(MINIMAL, encoding="utf-8")
    assert main(["new", "what-if", "--from", str(parent)]) == 0
    written = minimal.parent / "what-if.yaml"
    assert written.is_file() and not (parent_folder / "what-if.yaml").exists()
    assert "extends: elsewhere/base.yaml" in written.read_text(encoding="utf-8")
    child = load_scenario(written)
    assert child.resolved["events"] == load_scenario(parent).resolved["events"]


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"stances {version('stances')}\n"


@pytest.mark.parametrize("command", sorted(EXAMPLES))
def test_each_help_names_the_tutorial_and_shows_an_example_that_parses(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "docs/tutorial.md" in out and f"example:\n  {EXAMPLES[command]}" in out
    assert (ROOT / "docs" / "tutorial.md").is_file()
    words = EXAMPLES[command].split("   (")[0].split(" | ")[0]
    parsed = build_parser(COMMAND_FUNCTIONS).parse_args([w.strip("'") for w in words.split()[1:]])
    assert parsed.command == command and parsed.func is COMMAND_FUNCTIONS[command]


# --------------------------------------------------------------------------------------------
# start-up: the quick commands import neither Mesa nor matplotlib nor pandas

QUICK = """
import contextlib, io, os, sys, tempfile
from stances.cli import main
os.chdir(tempfile.mkdtemp())
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["validate", sys.argv[1]]) == 0
    assert main(["new", "what-if", "--from", sys.argv[1]]) == 0
    assert main(["events"]) == 0
    assert main(["schema"]) == 0
    assert main(["schema", "--out", "schema.json"]) == 0
print(sorted(m for m in ("mesa", "matplotlib", "pandas") if m in sys.modules))
"""


def test_quick_commands_import_neither_mesa_nor_matplotlib_nor_pandas():
    done = subprocess.run(
        [sys.executable, "-c", QUICK, str(ARTICLE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --------------------------------------------------------------------------------------------
# signals: a run with two workers, ended from outside


def session_processes(session: int) -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) of the live processes of a session (zombies left out: a
    container's first process may never reap them)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # state ppid pgrp session ...
        if int(fields[3]) == session and fields[0] != "Z":
            found[int(entry.name)] = (int(fields[1]), fields[0])
    return found


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def start_long_run(tmp_path: Path) -> subprocess.Popen:
    """`stances run` of 100,000 article members on two workers (tens of seconds), once both
    workers run: main, resource tracker, forkserver and two workers of its own session."""
    run = [sys.executable, "-m", "stances.cli", "run", str(ARTICLE), "--runs", "100000"]
    process = subprocess.Popen(
        [*run, "--workers", "2", "--workers-exact", "--no-plots", "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    started = wait_for(lambda: len(session_processes(process.pid)) >= 5, 60)
    assert started, session_processes(process.pid)
    time.sleep(0.5)  # into the first batches
    return process


@pytest.mark.parametrize(
    ("signum", "line"),
    [(signal.SIGTERM, "stances: interrupted by SIGTERM"), (signal.SIGINT, "stances: interrupted")],
)
def test_a_signal_ends_the_run_its_workers_and_prints_one_line(tmp_path, signum, line):
    process = start_long_run(tmp_path)
    os.kill(process.pid, signum)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 128 + signum
    assert err == line + "\n"
    assert wait_for(lambda: not session_processes(process.pid), 10), session_processes(process.pid)
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no scratch


def test_workers_end_when_their_parent_is_killed(tmp_path):
    process = start_long_run(tmp_path)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert wait_for(lambda: not session_processes(process.pid), 10), session_processes(process.pid)
