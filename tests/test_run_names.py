"""Run directories named after what they hold (store.run_name): the issue's examples exactly,
any input gives a bounded name every common file system accepts, and different over-long
inputs keep different names; the commands use it and number each name on its own.

What a portable name is, is written here from the file systems' rules, not from run_name:
Windows refuses ``<>:"/\\|?*``, the characters 0-31, a name ending in a dot or a space, and
the device names CON, PRN, AUX, NUL, COM0-9, LPT0-9, also with an ending (Microsoft, "Naming
Files, Paths, and Namespaces", learn.microsoft.com/windows/win32/fileio/naming-a-file);
Linux and macOS refuse '/' and NUL and names over 255 bytes. Beyond those, a run name keeps
to ASCII (macOS's HFS+ stores names decomposed, so a non-ASCII name may not read back as it
was written), never starts with '.' (hidden) or '-' (read as an option on a command line),
and is at most 80 characters.
"""

from __future__ import annotations

import shutil
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stances.cli import main
from stances.store import NAME_LIMIT, NextRunDir, run_name, write_new_directory

ROOT = Path(__file__).resolve().parents[1]
WINDOWS_REFUSED = set('<>:"/\\|?*') | {chr(c) for c in range(32)}
DEVICES = {"CON", "PRN", "AUX", "NUL"} | {f"{d}{n}" for d in ("COM", "LPT") for n in range(10)}
ALLOWED = set(string.ascii_letters + string.digits + "._=+,-")


def portable(name: str, limit: int = NAME_LIMIT) -> bool:
    """Whether every common file system takes `name` as a folder's name (the module's rules),
    `name` at most `limit` characters."""
    return (
        0 < len(name) <= limit
        and not set(name) & WINDOWS_REFUSED
        and set(name) <= ALLOWED
        and not name.startswith((".", "-"))
        and not name.endswith((".", " "))
        and name.split(".")[0].upper() not in DEVICES
        and len(name.encode("utf-8")) <= 255
    )


# --------------------------------------------------------------------------------------------
# the issue's examples


def test_the_issues_examples() -> None:
    assert run_name(["article"], {"parameters.kappa_observer": "0.2"}) == (
        "article-kappa_observer=0.2"
    )
    assert run_name(["article", "no-mediation"], before="compare") == (
        "compare-article-vs-no-mediation"
    )


def test_a_plain_run_keeps_its_old_name() -> None:
    assert run_name(["article"]) == "article"
    assert run_name(["article"], after="calibration") == "article-calibration"


def test_keys_are_shortened_and_arrows_spelled_out() -> None:
    sets = {"relations.AFG -> PAK": "0.3", "parameters.memory_half_life": "52 weeks"}
    assert run_name(["article"], sets) == "article-AFG-to-PAK=0.3-memory_half_life=52_weeks"
    assert run_name(["a"], {"relations.IND <-> PAK": "-0.5"}) == "a-IND-and-PAK=-0.5"
    assert run_name(["a"], also=["design=lhs"], after="explain") == "a-design=lhs-explain"
    sets = {"parameters.kappa_observer": "{uniform: [0.05, 0.25]}"}
    assert run_name(["a"], sets) == "a-kappa_observer=uniform_0.05,0.25"


@pytest.mark.parametrize(
    ("stem", "name"),
    [
        ("con", "_con"),
        ("Lpt1.x", "_Lpt1.x"),
        ("..", "run"),
        ("", "run"),
        ('a<>:"/\\|?*b', "a_b"),
        ("tab\there\x00\x1f", "tab_here"),
        ("Sécurité", "Securite"),
        (".hidden", "hidden"),
        ("-rf", "rf"),
        ("ends.", "ends"),
    ],
)
def test_unsafe_stems(stem: str, name: str) -> None:
    assert run_name([stem]) == name
    assert portable(name)


def test_a_long_name_is_cut_with_a_hash_and_keeps_its_ending() -> None:
    name = run_name(["a" * 200], after="calibration")
    assert len(name) == NAME_LIMIT and name.endswith("-calibration")
    assert name.startswith("a" * 50)
    digest = name[-len("-calibration") - 8 : -len("-calibration")]
    assert all(c in string.hexdigits for c in digest)
    assert run_name(["a" * 200], after="calibration") == name  # stable


# --------------------------------------------------------------------------------------------
# properties

texts = st.text(max_size=120)
inputs = st.fixed_dictionaries(
    {
        "stems": st.lists(texts, min_size=1, max_size=4),
        "sets": st.dictionaries(texts, texts, max_size=4),
        "before": st.sampled_from(["", "compare", "sweep"]) | texts,
        "after": st.sampled_from(["", "calibration", "explain"]) | texts,
        "also": st.lists(texts, max_size=3),
    }
)


def _name(parts: dict) -> str:
    return run_name(
        parts["stems"],
        parts["sets"],
        before=parts["before"],
        after=parts["after"],
        also=parts["also"],
    )


@settings(max_examples=400, deadline=None)
@given(inputs)
def test_any_input_gives_a_portable_bounded_name(parts: dict) -> None:
    name = _name(parts)
    assert portable(name), name
    assert portable(f"{name}-001", NAME_LIMIT + 4)  # as the store numbers it


long_inputs = inputs.map(
    lambda parts: {**parts, "stems": ["#" * (NAME_LIMIT + 1), *parts["stems"]]}
)


@settings(max_examples=300, deadline=None)
@given(long_inputs, long_inputs)
def test_different_long_inputs_keep_different_names(a: dict, b: dict) -> None:
    """Long as given: what is left after making them safe may be short ('#' becomes '_')."""
    if a != b:
        assert _name(a) != _name(b)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab-", min_size=NAME_LIMIT, max_size=NAME_LIMIT + 40))
def test_long_names_differing_only_past_the_cut_differ(tail: str) -> None:
    """The cut keeps the first characters alike: only the hash tells them apart."""
    head = "x" * NAME_LIMIT
    assert run_name([head + tail]) != run_name([head + tail + "a"])


def test_a_name_makes_a_folder_on_this_system(tmp_path: Path) -> None:
    hostile = ['a/b\\c:"d"<e>|f?*', "relations.AFG -> PAK", "\x07bell", "é" * 300]
    for stem in hostile:
        out = write_new_directory(NextRunDir(tmp_path, run_name([stem])), lambda d: None)
        assert out.parent == tmp_path and out.is_dir()


# --------------------------------------------------------------------------------------------
# the commands


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_run_numbers_each_name_on_its_own(project: Path, capsys: pytest.CaptureFixture) -> None:
    """The issue's `results/article-kappa_observer=0.2-003`: two earlier runs of that name,
    and a plain article run that does not count."""
    results = project / "results"
    for name in ("article-kappa_observer=0.2-001", "article-kappa_observer=0.2-002", "article-005"):
        (results / name).mkdir(parents=True)
    args = ["run", "scenarios/article.yaml", "--set", "parameters.kappa_observer=0.2"]
    assert main([*args, "--no-plots"]) == 0
    assert (results / "article-kappa_observer=0.2-003" / "manifest.json").is_file()
    assert "wrote results/article-kappa_observer=0.2-003/" in capsys.readouterr().out
    assert main(["run", "scenarios/article.yaml", "--no-plots"]) == 0
    assert (results / "article-006").is_dir()


def test_out_still_wins(project: Path) -> None:
    args = ["run", "scenarios/article.yaml", "--set", "parameters.kappa_observer=0.2"]
    assert main([*args, "--no-plots", "--out", "mine"]) == 0
    assert (project / "mine" / "manifest.json").is_file()
    assert not (project / "results").exists()
