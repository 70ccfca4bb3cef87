"""Fuzzing the shipped scenarios: damaged files get clear messages, never a traceback or a hang.

Each example takes one file of scenarios/, applies a few random mutations to its text (lines
deleted, duplicated, swapped or re-indented, a character changed, a key or a value replaced by a
hostile one: non-finite and huge numbers, calendar limits, unknown ids, YAML tags, anchors and
aliases, nesting 60 levels deep), writes it beside copies of the other shipped files (so that
`extends:` still resolves) and calls the command line in process: `validate`, then `run`.

What must hold, for every mutant (the rules of the house for bad input):
- the exit code is 0 or 2, and nothing escapes as an exception;
- on exit 2 every line on standard error is one problem: it starts with a file's path or
  `stances:` and is at most MAX_LINE characters long; the run wrote no run directory;
- no warning reaches the user;
- on exit 0 the run directory holds relations.csv with finite scores in [-1, 1] (and
  stances.csv, where there are issues, with finite positions in [0, 1]);
- each command answers within CASE_SECONDS.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import math
import re
import resource
import signal
import tempfile
import time
import traceback
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from stances import load_scenario
from stances.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {p.name: p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("scenarios/*.yaml"))}

CASE_SECONDS = 5.0  # one command on one mutant
HANG_SECONDS = 30.0  # a command still busy then is stopped, and the case fails as a hang
MEMORY_BYTES = 2 << 30  # more than this for one command fails the case (MemoryError)
MAX_LINE = 1000  # characters in one message: a message quotes a bad value, but not all of it
MAX_STEPS = 3000  # longer windows run legitimately slowly (~0.3 ms a step): see _window_guard

DEPTH = 60
# Six levels of nine aliases: 9**6 elements if anything expands them, which takes seconds and
# about 0.5 GiB (one level more takes a minute and 4 GiB: too much to fail safely).
LAUGHS = (
    "[&l0 [x, x, x, x, x, x, x, x, x], "
    + ", ".join(f"&l{k} [{', '.join([f'*l{k - 1}'] * 9)}]" for k in range(1, 6))
    + "]"
)
SELF = "{self}"  # stands for the mutant's own file name (extends: itself)

HOSTILE_VALUES = [
    # numbers: non-finite, at and past the limits of a double, huge and odd integers
    ".nan",
    ".inf",
    "-.inf",
    "-1e308",
    "1e308",
    "1e309",
    "1e-320",
    "-0.0",
    "-1",
    "0",
    "2",
    "99999999999999999999999999",
    "-99999999999999999999999999",
    str(2**63),
    "0x7fffffffffffffff",
    "0o17",
    "1_000",
    # empty and odd kinds
    "''",
    "~",
    "null",
    "[]",
    "{}",
    "[[]]",
    "{a: 1, a: 2}",
    "true",
    "no",
    # dates at and past the calendar's ends, impossible dates
    "0001-01-01",
    "9999-12-31",
    "0000-00-00",
    "2025-02-29",
    "2025-13-01",
    "2025-06-30T25:00:00",
    "2025-06-30 12:00:00",
    # ids and names that do not exist, or point back at themselves
    "ZZZ",
    "unknown-event-id",
    "IND",
    "missing.yaml",
    SELF,
    ".",
    "/dev/null",
    "article.yaml",
    # durations and steps
    "'0 weeks'",
    "'-5 weeks'",
    "'1e308 weeks'",
    "'nan weeks'",
    "'99999999999999999999 days'",
    "'99999 months'",
    "day",
    # tags, anchors and aliases
    "!!int x",
    "!!float x",
    "!!bool x",
    "!!timestamp 2025-13-45",
    "!!binary ====",
    "!!python/object:os.system ls",
    "!!python/name:os.system",
    "!!set {a, b}",
    "!!omap [a: 1, a: 2]",
    "!custom 1",
    "*undefined",
    "&a",
    "&a [1, *a]",
    LAUGHS,
    # strings: long, right-to-left override, emoji, block indicators, YAML syntax
    "x" * 20_000,
    "'\u202eevil'",
    "'\U0001f642'",
    "'a: b'",
    "|",
    ">-",
    "? x",
    "- x",
    # nesting
    "[" * DEPTH + "]" * DEPTH,
    "{a: " * DEPTH + "1" + "}" * DEPTH,
]

HOSTILE_KEYS = [
    "ZZZ",
    "ZZZ -> PAK",
    "IND -> IND",
    "IND <-> ",
    "<<",
    "? [a, b]",
    "&k title",
    "*k",
    "!!python/object:os.system ls",
    "99999999999999999999",
    ".nan",
    "extends",
    "set",
    "remove",
]

CHARACTERS = [":", "-", " ", "\t", "#", "&", "*", "!", "|", ">", "{", "[", "]", "'", '"', "%", "@"]
CHARACTERS += ["`", "\\", "0", "9", "x", "\u00e9", "\u202e", "\ufeff"]

# A scalar inside a line: after 'key: ', '- ', '[' or ', ', up to a comma, bracket or comment.
SCALAR = re.compile(
    r"(?:(?<=: )|(?<=- )|(?<=\[)|(?<=, ))[^\s,\[\]{}#'\"][^,\[\]{}#\n]*?(?=\s*(?:[,\]}]|\s#|$))"
)
KEY = re.compile(r"^(\s*(?:- )?)([^\s#:'\"-][^:#]*?)(?=:(?:\s|$))", re.MULTILINE)


# Keys whose values matter most: each "field" mutation gives one of them a hostile value.
FIELDS = ["start", "end", "step", "seed", "memory_half_life", "kappa_target", "kappa_actor"]
FIELDS += ["kappa_observer", "kappa_parties", "kappa_credit", "date", "actor", "target", "parties"]
FIELDS += ["type", "cameo", "form", "extends", "id", "want", "side", "weight", "cooldown", "kind"]
FIELDS += ["repertoire", "costs", "mediate", "at", "susceptibility", "capability", "issue", "by"]
FIELDS += ["CHN <-> PAK", "PAK -> AFG"]


def field_values(text: str, key: str) -> list[re.Match[str]]:
    """Where the values of `key` stand (in block or flow style), as matches of group 1."""
    pattern = rf"(?:^|[\s{{,]){re.escape(key)}: *([^\s,}}#][^\n,}}#]*?)(?=\s*(?:[,}}]|\s#|$))"
    return list(re.finditer(pattern, text, re.MULTILINE))


def _pick(matches: list[re.Match[str]], k: int) -> re.Match[str] | None:
    return matches[k % len(matches)] if matches else None


def _replace(text: str, match: re.Match[str] | None, group: int, new: str) -> str:
    if match is None:
        return text
    return text[: match.start(group)] + new + text[match.end(group) :]


def mutate(text: str, mutation: tuple) -> str:
    """Apply one mutation (kind, int, int, str or (key, value)) to the text; the ints pick lines
    or matches (modulo their number)."""
    kind, i, j, new = mutation
    lines = text.splitlines(keepends=True) or ["\n"]
    a, b = i % len(lines), j % len(lines)
    if kind == "delete":
        del lines[a]
    elif kind == "duplicate":
        lines.insert(a, lines[a])
    elif kind == "swap":
        lines[a], lines[b] = lines[b], lines[a]
    elif kind == "indent" and j % 2:
        lines[a] = "  " + lines[a]
    elif kind == "indent" and lines[a].startswith("  "):
        lines[a] = lines[a][2:]
    elif kind == "character":
        line = lines[a]
        at = j % max(len(line), 1)
        lines[a] = line[:at] + new + line[at + 1 :]
    elif kind == "nest":  # a block of mappings DEPTH levels deep under line a
        indent = len(lines[a]) - len(lines[a].lstrip(" ")) + 2
        block = "".join(" " * (indent + 2 * k) + "a:\n" for k in range(DEPTH))
        lines.insert(a + 1, block + " " * (indent + 2 * DEPTH) + "b: 1\n")
    elif kind == "value":
        return _replace(text, _pick(list(SCALAR.finditer(text)), i), 0, new)
    elif kind == "field":
        key, value = new
        return _replace(text, _pick(field_values(text, key), i), 1, value)
    elif kind == "key":
        return _replace(text, _pick(list(KEY.finditer(text)), i), 2, new)
    elif kind == "alias":  # anchor one scalar, and put an alias to it in place of another
        scalars = list(SCALAR.finditer(text))
        first, second = sorted((i % len(scalars), j % len(scalars))) if scalars else (0, 0)
        if first != second:
            text = _replace(text, scalars[second], 0, "*a")
            return _replace(text, scalars[first], 0, "&a " + scalars[first].group(0))
    return "".join(lines)


INDEX = st.integers(0, 10_000)
MUTATION = st.one_of(
    st.tuples(
        st.sampled_from(["delete", "duplicate", "swap", "indent", "nest", "alias"]),
        INDEX,
        INDEX,
        st.just(""),
    ),
    st.tuples(st.just("character"), INDEX, INDEX, st.sampled_from(CHARACTERS)),
    st.tuples(st.just("value"), INDEX, INDEX, st.sampled_from(HOSTILE_VALUES)),
    st.tuples(st.just("key"), INDEX, INDEX, st.sampled_from(HOSTILE_KEYS)),
    st.tuples(
        st.just("field"),
        INDEX,
        INDEX,
        st.tuples(st.sampled_from(FIELDS), st.sampled_from(HOSTILE_VALUES)),
    ),
)


class Hang(BaseException):
    """A command was still busy after HANG_SECONDS (BaseException: nothing in stances catches it)."""


@contextlib.contextmanager
def hang_alarm(seconds: float) -> Iterator[None]:
    """Raise Hang in the main thread if the block runs longer than `seconds`."""

    def ring(signum, frame):
        raise Hang

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def memory_cap(extra_bytes: int) -> Iterator[None]:
    """Let the block take at most `extra_bytes` more address space (MemoryError past that), so
    that a mutant that blows up in memory fails its case instead of the machine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * resource.getpagesize()
    cap = min(
        [used + extra_bytes] + [limit for limit in (soft, hard) if limit != resource.RLIM_INFINITY]
    )
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def call(argv: list[str]) -> tuple[int | None, str, float, list[str]]:
    """Run the command line in process: (exit code or None if it raised, standard error plus any
    traceback, seconds taken, warnings a user would see)."""
    err = io.StringIO()
    start = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with (
                hang_alarm(HANG_SECONDS),
                memory_cap(MEMORY_BYTES),
                contextlib.redirect_stderr(err),
                contextlib.redirect_stdout(io.StringIO()),
            ):
                code: int | None = main(argv)
        except Hang:
            code = None
            err.write(f"(stopped: still busy after {HANG_SECONDS:.0f} s)\n")
        except MemoryError:
            code = None
            err.write(f"(stopped: needed more than {MEMORY_BYTES >> 30} GiB)\n")
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else None
        except Exception:
            code = None
            err.write(traceback.format_exc())
    seconds = time.monotonic() - start
    shown = [
        f"{w.category.__name__}: {w.message}"
        for w in caught
        if not issubclass(w.category, DeprecationWarning | PendingDeprecationWarning)
    ]
    return code, err.getvalue(), seconds, shown


def problem_lines_are_clean(stderr: str, folder: Path) -> list[str]:
    """The lines of standard error that are not one-line problems (path... or stances: ...)."""
    return [
        line
        for line in stderr.splitlines()
        if not (line.startswith((str(folder), "stances: ", "--set ")))
    ]


def _column(path: Path, name: str) -> list[float]:
    with path.open(newline="", encoding="utf-8") as f:
        return [float(row[name]) for row in csv.DictReader(f)]


def numbers_are_in_range(run: Path) -> bool:
    """relations.csv has scores, all finite in [-1, 1]; stances.csv (if any) positions in [0, 1]."""
    scores = _column(run / "relations.csv", "score")
    stances = run / "stances.csv"
    positions = _column(stances, "position") if stances.exists() else []
    return (
        bool(scores)
        and all(math.isfinite(s) and -1 <= s <= 1 for s in scores)
        and all(math.isfinite(p) and 0 <= p <= 1 for p in positions)
    )


def _window_guard(path: Path) -> list[str]:
    """--set options that shorten a valid mutant's window to MAX_STEPS or fewer, keeping its end
    (where the calendar's limits are); a window that long runs legitimately slowly."""
    with warnings.catch_warnings(), memory_cap(MEMORY_BYTES):
        warnings.simplefilter("ignore")  # `validate` has shown them
        time_ = load_scenario(path).time
    days = {"day": 1, "week": 7, "month": 31}[time_.step.unit] * time_.step.number
    if (time_.end - time_.start).days <= MAX_STEPS * days:
        return []
    return ["--set", f"time.start={time_.end - timedelta(days=MAX_STEPS * days // 2)}"]


def check_command(argv: list[str], about: str, folder: Path, run: Path) -> int:
    """Run one command on a mutant and check the rules; returns its exit code."""
    code, stderr, seconds, shown = call(argv)
    case = f"stances {' '.join(argv)}\n{about}\n--- stderr:\n{stderr}"
    assert code in (0, 2), f"exit code {code}\n{case}"
    assert "Traceback" not in stderr, case
    assert seconds < CASE_SECONDS, f"took {seconds:.1f} s\n{case}"
    assert not shown, f"warnings reached the user: {shown}\n{case}"
    if code == 2:
        assert stderr.strip(), f"exit 2 without a message\n{case}"
        bad = problem_lines_are_clean(stderr, folder)
        assert not bad, f"not a one-line problem: {bad}\n{case}"
        long = [line[:200] + "..." for line in stderr.splitlines() if len(line) > MAX_LINE]
        assert not long, f"a message longer than {MAX_LINE} characters: {long}\n{case}"
        if argv[0] == "run":
            assert not run.exists(), f"a refused run wrote {run}\n{case}"
    elif argv[0] == "run":
        assert numbers_are_in_range(run), f"scores or positions missing or out of range\n{case}"
    return code


def check_case(name: str, mutations: list[tuple]) -> None:
    """Mutate the shipped file `name` and check `validate` and `run` on the mutant."""
    original = SHIPPED[name]
    text = original
    for mutation in mutations:
        text = mutate(text, mutation).replace(SELF, name)
    diff = "".join(
        difflib.unified_diff(original.splitlines(True), text.splitlines(True), name, "mutant")
    )
    check_text(name, text, f"--- mutations: {mutations}\n{diff}")


def check_text(name: str, text: str, about: str) -> None:
    """Write `text` as `name` beside copies of the shipped files (so that `extends:` resolves)
    and check `validate`, then `run`, on it; `about` says what the case is, in failures."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for other, other_text in SHIPPED.items():
            (folder / other).write_text(other_text, encoding="utf-8")
        path = folder / name
        path.write_text(text, encoding="utf-8")
        run = folder / "run"
        valid = check_command(["validate", str(path)], about, folder, run) == 0
        guard = _window_guard(path) if valid else []
        check_command(
            ["run", str(path), "--out", str(run), "--no-plots", *guard], about, folder, run
        )


@pytest.fixture(scope="module")
def warmed_up(tmp_path_factory) -> None:
    """One run of the article first, so that no case pays for importing Mesa, pandas, ..."""
    out = tmp_path_factory.mktemp("warm-up") / "run"
    assert (
        main(["run", str(ROOT / "scenarios" / "article.yaml"), "--out", str(out), "--no-plots"])
        == 0
    )


# No shrinking: each case is at most three mutations and its message shows them and the diff;
# shrinking a slow failing case would take minutes (Hypothesis gives up after five).
@settings(
    max_examples=300,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(name=st.sampled_from(sorted(SHIPPED)), mutations=st.lists(MUTATION, min_size=1, max_size=3))
# One known case of each kind of failure found so far, tried first on every run.
@example(name="article.yaml", mutations=[("field", 0, 0, ("start", "!!int x"))])
@example(name="article.yaml", mutations=[("field", 0, 0, ("start", "!!omap [a: 1, a: 2]"))])
@example(name="no-outreach.yaml", mutations=[("key", 1106, 0, "? [a, b]")])
@example(name="deportation-surge.yaml", mutations=[("key", 70, 0, "<<")])
@example(name="long-memory.yaml", mutations=[("key", 3, 0, "&k title"), ("key", 4, 0, "&k title")])
@example(name="article.yaml", mutations=[("field", 0, 0, ("seed", LAUGHS))])
@example(name="article.yaml", mutations=[("field", 0, 0, ("step", "'99999 months'"))])
@example(name="article-reactive.yaml", mutations=[("field", 0, 0, ("weight", ".inf"))])
@example(name="article-issues.yaml", mutations=[("field", 0, 0, ("capability", ".inf"))])
def test_mutated_shipped_scenarios_fail_cleanly(warmed_up, name, mutations):
    check_case(name, mutations)


CALENDAR_END = """\
title: The last weeks of the calendar
time: {start: 9999-06-01, end: 9999-12-31, step: week}
seed: 1
actors:
  IND: {name: India}
  PAK: {name: Pakistan}
relations:
  IND -> PAK: -0.5
events:
  - id: visit
    date: 9999-07-01
    type: visit
    actor: IND
    target: PAK
"""


def test_a_window_at_the_end_of_the_calendar_fails_cleanly(warmed_up):
    # the step after 9999-12-31 has no date: found by the fuzz test, whose window guard moves
    # the start of long windows and so cannot reach it with the shipped events
    check_text("calendar-end.yaml", CALENDAR_END, "--- a window ending on 9999-12-31")


def test_the_mutations_change_the_text():
    # the fuzz test above would prove nothing if the mutations left the files as they are
    article = SHIPPED["article.yaml"]
    assert mutate(article, ("value", 0, 0, ".nan")) != article
    assert mutate(article, ("key", 3, 0, "ZZZ")) != article
    assert mutate(article, ("alias", 1, 5, "")).count("*a") == 1
    nested = mutate(article, ("nest", 10, 0, "")).splitlines()
    assert sum(line.strip() == "a:" for line in nested) == DEPTH
    assert "step: .nan}" in mutate(article, ("field", 0, 0, ("step", ".nan")))
    assert "parties: [ZZZ]" in mutate(article, ("field", 0, 0, ("parties", "[ZZZ]")))
    assert "time: {start: 0001-01-01," in mutate(
        article,
        (
            "value",
            [m.group(0) for m in SCALAR.finditer(article)].index("2024-12-01"),
            0,
            "0001-01-01",
        ),
    )
