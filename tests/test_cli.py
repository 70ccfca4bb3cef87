"""The command line end to end: run directories, manifests, plots, exit codes, error output."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import MINIMAL

from stances.cli import main
from stances.engine.model import ARTICLE, StanceModel

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DYADS = 4 * 3  # four actors, ordered pairs


@pytest.fixture(scope="module")
def article_run(tmp_path_factory) -> Path:
    """One full `stances run` of the article (with plots), in a fresh working directory."""
    work = tmp_path_factory.mktemp("article-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        assert main(["run", str(ARTICLE)]) == 0
    return work / "results" / "article-001"


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


def test_run_writes_a_complete_run_directory(article_run):
    assert article_run.is_dir()
    names = {p.name for p in article_run.iterdir()}
    assert {"relations.csv", "events.csv", "manifest.json", "relations.png", "matrix.png"} <= names
    assert not [n for n in names if n.startswith(".")]  # no scratch left behind


def test_relations_csv_is_tidy(article_run):
    relations = pd.read_csv(article_run / "relations.csv")
    assert list(relations.columns) == ["member", "step", "date", "actor", "toward", "score"]
    manifest = json.loads((article_run / "manifest.json").read_text())
    steps = manifest["steps"]
    assert steps == relations["step"].max()
    assert len(relations) == DYADS * (steps + 1)
    assert relations["score"].between(-1, 1).all()
    assert not (relations["actor"] == relations["toward"]).any()
    assert relations.groupby("step").size().eq(DYADS).all()


def test_relations_csv_scores_are_the_model_history(article_run):
    relations = pd.read_csv(article_run / "relations.csv")
    model = StanceModel()
    model.run()
    ids = model.spec.actor_ids
    expected = model.history[
        relations["step"].to_numpy(),
        relations["member"].to_numpy(),
        relations["actor"].map(ids.index).to_numpy(),
        relations["toward"].map(ids.index).to_numpy(),
    ]
    np.testing.assert_allclose(relations["score"], expected, rtol=0, atol=5e-7)  # 6 decimals
    dates = [d.isoformat() for d in model.dates]
    assert (relations["date"] == relations["step"].map(dates.__getitem__)).all()


def test_events_csv_records_the_strike_effect(article_run):
    events = pd.read_csv(article_run / "events.csv", keep_default_na=False)
    row = events[
        (events["event"] == "paktika-strike")
        & (events["actor"] == "AFG")
        & (events["toward"] == "PAK")
    ]
    assert len(row) == 1
    # first event of the run: AFG -> PAK is still its initial -0.3; strength 1 * -10 / 10 = -1,
    # target rate 0.5 * -1 = -0.5 added to the latent affinity artanh(-0.3) (entrenchment)
    assert row["before"].item() == pytest.approx(-0.3, abs=1e-6)
    assert row["after"].item() == pytest.approx(math.tanh(math.atanh(-0.3) - 0.5), abs=1e-6)
    assert row["step"].item() == 4  # 2024-12-24 lies in 22-29 Dec, the 4th week from 1 Dec


def test_events_csv_lists_the_article_events(article_run):
    events = pd.read_csv(article_run / "events.csv", keep_default_na=False)
    assert "paktika-strike" in set(events["event"])
    strike = events[events["event"] == "paktika-strike"]
    assert set(strike["cameo"].astype(str).str.zfill(3)) == {"195"}
    assert (strike["goldstein"] == -10.0).all()


def test_manifest_records_seed_hash_versions_and_scenario(article_run):
    manifest = json.loads((article_run / "manifest.json").read_text())
    assert manifest["seed"] == 7  # the file's seed
    assert len(manifest["input_hash"]) == 64
    assert int(manifest["input_hash"], 16) >= 0
    assert {"python", "stances", "mesa", "numpy"} <= set(manifest["versions"])
    resolved = manifest["resolved_scenario"]
    assert list(resolved["actors"]) == ["IND", "CHN", "PAK", "AFG"]
    assert "paktika-strike" in [e["id"] for e in resolved["events"]]


@pytest.mark.parametrize("name", ["relations.png", "matrix.png"])
def test_plots_are_png(article_run, name):
    data = (article_run / name).read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000


def test_second_run_gets_a_new_directory_and_leaves_the_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(ARTICLE), "--no-plots"]) == 0
    first = tmp_path / "results" / "article-001"
    before = snapshot(first)
    assert main(["run", str(ARTICLE), "--no-plots"]) == 0
    second = tmp_path / "results" / "article-002"
    assert second.is_dir()
    assert snapshot(first) == before
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == [
        "article-001",
        "article-002",
    ]


def test_out_onto_existing_directory_exits_2_and_changes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    before = snapshot(out)
    assert main(["run", str(ARTICLE), "--out", str(out), "--no-plots"]) == 2
    assert snapshot(out) == before
    assert "already exists" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_seed_is_recorded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(ARTICLE), "--seed", "3", "--out", "s3", "--no-plots"]) == 0
    manifest = json.loads((tmp_path / "s3" / "manifest.json").read_text())
    assert manifest["seed"] == 3


def test_same_seed_same_relations_csv(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for out in ("a", "b"):
        assert main(["run", str(ARTICLE), "--seed", "4", "--out", out, "--no-plots"]) == 0
    assert (tmp_path / "a" / "relations.csv").read_bytes() == (
        tmp_path / "b" / "relations.csv"
    ).read_bytes()


def test_run_of_a_small_scenario(tmp_path, monkeypatch, write_scenario):
    path = write_scenario(MINIMAL, name="mini.yaml")
    monkeypatch.chdir(tmp_path)
    assert main([str(path), "--no-plots"]) == 0  # `stances FILE` means `stances run FILE`
    relations = pd.read_csv(tmp_path / "results" / "mini-001" / "relations.csv")
    assert len(relations) == 6 * (relations["step"].max() + 1)


BAD = MINIMAL.replace("type: visit", "type: vist").replace("seed: 1", "seeds: 1")


def test_bad_scenario_exits_2_with_positions_and_writes_nothing(
    tmp_path, monkeypatch, capsys, write_scenario
):
    path = write_scenario(BAD, name="bad.yaml")
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(path)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 2
    assert f"{path}:3:1: " in captured.err  # seeds
    assert f"{path}:14:11: " in captured.err  # vist
    assert all(line.startswith(f"{path}:") for line in lines)
    assert not (tmp_path / "results").exists()


def test_validate(tmp_path, capsys, write_scenario):
    assert main(["validate", str(ARTICLE)]) == 0
    assert "ok" in capsys.readouterr().out
    bad = write_scenario(BAD, name="bad.yaml")
    assert main(["validate", str(ARTICLE), str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:14:11: " in err
    assert "Traceback" not in err


def test_events_lists_the_catalogue(capsys):
    assert main(["events"]) == 0
    out = capsys.readouterr().out
    airstrike = [line for line in out.splitlines() if line.split()[:1] == ["airstrike"]]
    assert len(airstrike) == 1
    fields = airstrike[0].split()
    assert fields[1] == "195"
    assert float(fields[2]) == -10.0


def test_bad_set_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(ARTICLE), "--set", "nonsense"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_run_py_help_as_a_subprocess():
    done = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "usage" in done.stdout.lower()
    for command in ("run", "validate", "events"):
        assert command in done.stdout


# Bad input on the command line: one clear line, exit code 2, no traceback, nothing written.


def refused(capsys, args: list[str]) -> str:
    """Run the CLI, check it refuses the input, and return what it printed on stderr."""
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip()
    return err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", str(ARTICLE), "--seed", "-1"], "--seed must be 0 or more"),
        (["run", str(ARTICLE), "--runs", "3", "--member", "1"], "--member runs one member alone"),
        (["compare", str(ARTICLE), str(ARTICLE), "--dyads", ""], "no dyad given"),
        (["compare", str(ARTICLE), str(ARTICLE), "--dyads", "pak->afg"], "did you mean 'PAK'"),
        (["sweep", str(ARTICLE), "--vary", "parameters.kappa_target=0.1,0.1"], "0.1 listed twice"),
        (["new", ""], "give the new file a name"),
        (["new", "what-if.txt"], "ends in .yaml"),
        (["runn", str(ARTICLE)], "unknown command 'runn' (did you mean 'run'?)"),
    ],
)
def test_bad_command_lines_are_refused_cleanly(tmp_path, monkeypatch, capsys, args, words):
    monkeypatch.chdir(tmp_path)
    assert words in refused(capsys, args)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written


def test_unwritable_output_paths_are_refused_cleanly(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    refused(capsys, ["schema", "--out", str(tmp_path / "missing" / "schema.json")])
    refused(capsys, ["schema", "--out", str(tmp_path)])  # a directory
    refused(capsys, ["run", str(ARTICLE), "--out", str(tmp_path / "a-file" / "run")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


@pytest.mark.parametrize("damage", ["manifest", "missing-table", "wrong-table"])
def test_a_damaged_run_directory_is_refused_cleanly(
    article_run, tmp_path, monkeypatch, capsys, damage
):
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in article_run.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    if damage == "manifest":
        (copy / "manifest.json").write_text("{bad", encoding="utf-8")
    elif damage == "missing-table":
        (copy / "relations.csv").unlink()
    else:
        (copy / "relations.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    err = refused(capsys, ["compare", str(ARTICLE), str(copy)])
    assert "not a readable run directory" in err
    assert not (tmp_path / "results").exists()


def test_run_dyads_draws_only_those_pairs_and_refuses_an_unknown_actor(tmp_path, capsys):
    from PIL import Image

    from stances.cli import main as stances_main

    one, many = tmp_path / "one", tmp_path / "many"
    article = str(Path(__file__).resolve().parents[1] / "scenarios" / "article.yaml")
    assert stances_main(["run", article, "--dyads", "AFG<->PAK,PAK->AFG", "--out", str(one)]) == 0
    assert stances_main(["run", article, "--out", str(many)]) == 0
    small, big = (Image.open(d / "relations.png").size for d in (one, many))
    assert small[1] < big[1]  # one panel row against two
    capsys.readouterr()
    bad = tmp_path / "bad"
    assert stances_main(["run", article, "--dyads", "AFG<->PAKI", "--out", str(bad)]) == 2
    assert "unknown actor 'PAKI' (did you mean 'PAK'?)" in capsys.readouterr().err
    assert not bad.exists()
