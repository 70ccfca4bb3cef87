"""Scenario discovery (analysis.discover, `stances discover`): PRIM finds a planted box, the
engine's threshold found by bisection lies where the box says, and bad conditions are refused
before anything runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import stances
from stances import api
from stances.analysis.discover import (
    PEEL_ALPHA,
    DiscoverError,
    Input,
    discover,
    parse_where,
)
from stances.cli import main
from tests.helpers import write

pytest.importorskip("ema_workbench")

ROOT = Path(__file__).resolve().parents[1]
UNCERTAIN = ROOT / "benchmarks" / "article-uncertain.yaml"

STRIKE = """\
title: A strike of uncertain intensity
actors: {A: {name: Alpha}, B: {name: Beta}, C: {name: Gamma}}
time: {start: 2025-01-05, end: 2025-03-30, step: week}
parameters:
  kappa_observer: {uniform: [0.0, 0.4]}
relations:
  A <-> B: 0.3
  A <-> C: 0.2
  B <-> C: 0.1
events:
  - {id: strike, date: 2025-01-20, type: airstrike, actor: A, target: B,
     intensity: {uniform: [0.2, 2.0]}}
"""


def test_prim_finds_a_planted_box_of_two_inputs_among_four(tmp_path):
    rng = np.random.default_rng(7)
    n = 2000
    X = pd.DataFrame(rng.uniform(0.0, 1.0, (n, 4)), columns=["a", "b", "c", "d"])
    y = ((X["a"] >= 0.3) & (X["b"] <= 0.6)).to_numpy()
    condition = parse_where(
        stances.load_scenario(write(tmp_path, "strike.yaml", STRIKE)), "A->B < 0"
    )
    inputs = [Input(k, "number") for k in X.columns]
    found = discover("planted", condition, inputs, X, y.astype(float), y, density=0.8, seed=1)
    box = found.box_table().set_index("input")
    assert set(box.index[box["restricted"]]) == {"a", "b"}
    # a box's limit moves by one peel (PEEL_ALPHA of the members in the box, here of a range
    # of 1) at a time, and can only sit on a sampled value: a few sample spacings around it
    tolerance = PEEL_ALPHA * 1.0 + 5.0 / (n * 0.7 * 0.6)
    assert abs(box.loc["a", "lower"] - 0.3) <= tolerance
    assert abs(box.loc["b", "upper"] - 0.6) <= tolerance
    # the reported numbers are what the box holds, counted by hand
    inside = (X["a"] >= box.loc["a", "lower"]) & (X["b"] <= box.loc["b", "upper"])
    row = found.trajectory_table().iloc[found.chosen]
    assert row["density"] == pytest.approx(y[inside].mean())
    assert row["coverage"] == pytest.approx(y[inside].sum() / y.sum())
    assert row["density"] >= 0.8
    assert found.features["input"].iloc[:2].tolist() in (["a", "b"], ["b", "a"])


def end_score(path: Path, intensity: float) -> float:
    run = stances.run(stances.load_scenario(path, {"events.strike.intensity": repr(intensity)}))
    return float(run.score_array("B", "A")[-1, 0])


def test_the_box_brackets_the_threshold_found_by_bisection(tmp_path):
    path = write(tmp_path, "strike.yaml", STRIKE)
    lo, hi = 0.2, 2.0
    assert end_score(path, lo) > 0 > end_score(path, hi)
    for _ in range(40):  # B's view of A ends below 0 exactly above one intensity
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if end_score(path, mid) > 0 else (lo, mid)
    threshold = (lo + hi) / 2
    found = api.discover(stances.load_scenario(path), "B->A < 0 at end", 400, seed=3)
    box = found.box_table().set_index("input")
    assert box.index[box["restricted"]].tolist() == ["events.strike.intensity"]
    lower = box.loc["events.strike.intensity", "lower"]
    above = found.X["events.strike.intensity"][found.X["events.strike.intensity"] > threshold]
    # the box reaches down to the first member above the threshold, and at most one peel below
    assert threshold - PEEL_ALPHA * (2.0 - 0.2) <= lower <= above.min() + 1e-12
    assert found.y.tolist() == (found.X["events.strike.intensity"] > threshold).tolist()


@pytest.mark.parametrize(
    "text, message",
    [
        ("A->B", "expected 'A->B < x at end'"),
        ("A->Q < 0", "unknown actor"),
        ("A->B < zero", "expected a number"),
        ("A->B < 0 at 2030-01-01", "outside the window"),
        ("A->B < 0 at soon", "expected 'end' or a date"),
    ],
)
def test_bad_conditions_are_one_problem_each(tmp_path, text, message):
    scenario = stances.load_scenario(write(tmp_path, "strike.yaml", STRIKE))
    with pytest.raises(DiscoverError) as info:
        parse_where(scenario, text)
    assert len(info.value.problems) == 1 and message in str(info.value.problems[0])


def test_conditions_parse_with_dates_and_scores_on_both_sides(tmp_path):
    scenario = stances.load_scenario(write(tmp_path, "strike.yaml", STRIKE))
    assert parse_where(scenario, "A->B < 0 at end").label == "A -> B < 0 at end"
    c = parse_where(scenario, "A->B > -0.2 at 2025-02-02")
    assert c.label == "A -> B > -0.2 at 2025-02-02" and c.right == -0.2
    assert parse_where(scenario, "A->B at 2025-02-02 > -0.2") == c.__class__(
        "A->B at 2025-02-02 > -0.2", c.left, ">", -0.2
    )
    assert parse_where(scenario, "A->B<-0.1").label == "A -> B < -0.1 at end"
    both = parse_where(scenario, "A->B < C->B")
    assert both.label == "A -> B < C -> B at end"


def test_cli_writes_the_files_and_prints_the_box(tmp_path, capsys):
    out = tmp_path / "d"
    args = ["discover", str(UNCERTAIN), "--where", "AFG->PAK < -0.5 at end", "--runs", "300"]
    assert main([*args, "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"boxes.csv", "box.csv", "features.csv", "discover.png", "manifest.json"} <= names
    printed = capsys.readouterr().out
    assert "of the members where" in printed
    boxes = pd.read_csv(out / "boxes.csv")
    assert boxes["chosen"].sum() == 1
    chosen = boxes[boxes["chosen"]].iloc[0]
    assert chosen["density"] >= 0.8
    assert chosen["coverage"] == boxes.loc[boxes["density"] >= 0.8, "coverage"].max()


def test_cli_varies_ranges_by_a_latin_hypercube(tmp_path):
    out = tmp_path / "v"
    path = write(tmp_path, "strike.yaml", STRIKE)
    args = ["discover", str(path), "--where", "B->A < 0", "--runs", "200", "--no-plots"]
    vary = ["--vary", "events.strike.intensity=0.2..2.0", "--vary", "relations.A -> C=-0.5..0.5"]
    assert main([*args, *vary, "--out", str(out)]) == 0
    box = pd.read_csv(out / "box.csv").set_index("input")
    assert box.index[box["restricted"]].tolist() == ["events.strike.intensity"]
    x = pd.read_csv(out / "experiments.csv")["events.strike.intensity"]
    counts, _ = np.histogram(x, bins=10, range=(0.2, 2.0))
    assert counts.tolist() == [20] * 10  # a Latin hypercube: one member per 1/N of the range


@pytest.mark.parametrize("where", ["AFG->PAK << 0", "AFG->XYZ < 0", "AFG->PAK < 0 at 1990-01-01"])
def test_cli_refuses_a_bad_condition_with_exit_2_and_writes_nothing(tmp_path, capsys, where):
    out = tmp_path / "bad"
    code = main(["discover", str(UNCERTAIN), "--where", where, "--out", str(out)])
    assert code == 2 and not out.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--where" in err[0]
