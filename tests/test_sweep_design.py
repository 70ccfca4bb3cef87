"""Sweeps over event fields and sampled designs (Latin hypercube, Sobol).

Expected values come from the definitions of the designs (a Latin hypercube puts one point in
each of N equal slices of every range; the first 2^m points of a scrambled Sobol sequence put
one in each of 2^m equal slices of every coordinate), hand-computed ends of ranges, and runs of
the same scenario with the value set by --set.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import write

import stances
from stances.analysis.sweep import (
    Design,
    Range,
    check_varied,
    design_points,
    parse_design,
    parse_range,
    unit_points,
)
from stances.cli import main
from stances.scenario import load_scenario

SMALL = """\
title: small
seed: 11
time: {start: 2025-01-01, end: 2025-04-30, step: week}
actors:
  A: {name: Alpha}
  B: {name: Beta}
  C: {name: Gamma}
relations:
  A <-> B: 0.2
  A -> C: -0.3
events:
  - {id: hit.one, date: 2025-02-15, type: condemn, actor: A, target: B}
"""


@pytest.fixture
def small(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write(tmp_path, "small.yaml", SMALL)


# --------------------------------------------------------------------------------------------
# the designs


@pytest.mark.parametrize("n", [1, 7, 50])
def test_a_latin_hypercube_puts_one_point_in_each_slice_of_every_range(n):
    varied = [("parameters.kappa_target", Range(0.2, 0.8, "number")), ("x", Range(-1, 1, "number"))]
    points = design_points(varied, Design("lhs", n), seed=5)
    assert len(points) == n
    for key, (lo, hi) in (("parameters.kappa_target", (0.2, 0.8)), ("x", (-1.0, 1.0))):
        values = np.array([float(v[key]) for v, _ in points])
        assert np.all((values >= lo - 1e-9) & (values <= hi + 1e-9))
        # six significant digits: allow a rounding step at the slice edges
        slices = np.floor((values - lo) / (hi - lo) * n + 1e-7 * n).clip(0, n - 1)
        assert sorted(slices.astype(int)) == list(range(n))


def test_a_sobol_design_balances_every_coordinate():
    cube = unit_points(Design("sobol", 16), 3, seed=2)
    assert cube.shape == (16, 3)
    for d in range(3):
        assert sorted(np.floor(cube[:, d] * 16).astype(int)) == list(range(16))


def test_designs_are_drawn_from_the_root_seed():
    assert np.array_equal(unit_points(Design("lhs", 9), 2, 3), unit_points(Design("lhs", 9), 2, 3))
    assert not np.array_equal(
        unit_points(Design("lhs", 9), 2, 3), unit_points(Design("lhs", 9), 2, 4)
    )


def test_ranges_map_the_unit_coordinate_onto_their_values():
    number = parse_range("k", "0.2..0.8")
    assert isinstance(number, Range)
    assert number.at(0.0) == "0.2" and float(number.at(0.5)) == pytest.approx(0.5)
    days = parse_range("d", "2025-01-01..2025-01-31")  # 31 days, both ends included
    assert isinstance(days, Range)
    assert days.at(0.0) == "2025-01-01"
    assert days.at(0.999) == "2025-01-31"
    assert days.at(15 / 31) == "2025-01-16"
    weeks = parse_range("m", "26 weeks..104 weeks")
    assert isinstance(weeks, Range)
    assert weeks.at(0.5) == "65 weeks"
    assert isinstance(parse_range("m", "26 weeks..2 years"), str)  # units differ
    assert isinstance(parse_range("k", "0.8..0.2"), str)
    assert isinstance(parse_range("k", "a..b"), str)


def test_listed_values_in_a_sampled_design_are_picked_evenly():
    varied = [("parameters.entrenchment", ["true", "false"])]
    points = design_points(varied, Design("lhs", 10), seed=1)
    values = [v["parameters.entrenchment"] for v, _ in points]
    assert values.count("true") == values.count("false") == 5  # one per slice: five in each half


def test_parse_design():
    assert parse_design("grid") == Design()
    assert parse_design("lhs:200") == Design("lhs", 200)
    assert parse_design("sobol:256") == Design("sobol", 256)
    for bad in ("sobol:200", "lhs:0", "lhs", "lhs:x", "halton:8", "grid:4"):
        assert isinstance(parse_design(bad), str), bad


def test_a_range_in_a_grid_and_a_key_varied_twice_are_problems():
    _, problems = check_varied([("k", ["0.1..0.5"]), ("j", ["1", "2"]), ("j", ["3"])], Design())
    assert [str(p).split(":")[0] for p in problems] == ["--vary k", "--vary j"]


# --------------------------------------------------------------------------------------------
# the sweep command


def test_sweep_varies_an_event_field_by_id(small, capsys):
    dates = ["2025-02-01", "2025-03-15"]
    code = main(
        [
            "sweep",
            "small.yaml",
            "--vary",
            f"events.hit.one.date={','.join(dates)}",
            "--dyads",
            "B->A",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert "hit.one.date=2025-03-15" in capsys.readouterr().out
    table = pd.read_csv(small.parent / "results" / "sweep-small-date-001" / "sweep.csv")
    for when in dates:  # each point is the run with the value set by --set
        run = stances.run(load_scenario(small, {"events.hit.one.date": when}))
        assert run.events.loc[run.events["event"] == "hit.one", "date"].iloc[0] == pd.Timestamp(
            when
        )
        row = table[table["events.hit.one.date"] == when].iloc[0]
        assert row["final_median"] == pytest.approx(
            float(run.score_array("B", "A")[-1, 0]), abs=1e-6
        )


def test_sweep_over_a_latin_hypercube(small, capsys):
    code = main(
        [
            "sweep",
            "small.yaml",
            "--vary",
            "events.hit.one.intensity=0.2..1",
            "--vary",
            "events.hit.one.date=2025-02-01..2025-03-31",
            "--design",
            "lhs:6",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "rank correlation with hit.one.intensity" in out
    folder = small.parent / "results" / "sweep-small-intensity-date-001"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["design"] == "lhs:6"
    assert manifest["vary"]["events.hit.one.intensity"] == "0.2..1"
    table = pd.read_csv(folder / "sweep.csv")
    assert table.groupby(["actor", "toward"]).size().unique().tolist() == [6]
    # the same points as the design drawn from the file's root seed (11)
    varied = [
        ("events.hit.one.intensity", parse_range("", "0.2..1")),
        ("events.hit.one.date", parse_range("", "2025-02-01..2025-03-31")),
    ]
    expected = design_points(varied, Design("lhs", 6), seed=11)  # type: ignore[arg-type]
    first = table.drop_duplicates(["events.hit.one.intensity", "events.hit.one.date"])
    assert [float(v) for v in first["events.hit.one.intensity"]] == pytest.approx(
        [float(v["events.hit.one.intensity"]) for v, _ in expected]
    )
    assert list(first["events.hit.one.date"]) == [v["events.hit.one.date"] for v, _ in expected]
    for png in folder.glob("sweep-*.png"):
        assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--vary", "parameters.kappa_target=0.2..0.8"], "--vary parameters.kappa_target: a range"),
        (["--vary", "parameters.kappa_target=0.8..0.2", "--design", "lhs:4"], "is not a range"),
        (["--vary", "parameters.kappa_target=0.1,0.2", "--design", "sobol:6"], "power of two"),
        (["--vary", "parameters.kappa_target=0..5", "--design", "lhs:4"], "at most 1"),
        (["--vary", "events.nope.intensity=1,2"], "no event has id 'nope'"),
        (["--vary", "events.hit.one.date=2025-02-01,tomorrow"], "--vary events.hit.one.date"),
    ],
)
def test_bad_vary_values_exit_2_and_write_nothing(small, capsys, args, said):
    code = main(["sweep", "small.yaml", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert said in err
    assert "Traceback" not in err
    assert not (small.parent / "results").exists()


def test_every_vary_fault_is_reported_once(small, capsys):
    code = main(
        [
            "sweep",
            "small.yaml",
            "--vary",
            "parameters.kappa_target=a..b",
            "--vary",
            "parameters.kappa_target=0.1,0.2",
            "--vary",
            "parameters.kappa_actor=0..5",
            "--design",
            "sobol:6",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 3, err  # the design, the range, the key twice (values wait for those)
    assert not (small.parent / "results").exists()


def test_rank_correlation_finds_the_value_that_moves_a_score(small):
    from stances.analysis.sweep import sensitivity, sweep

    varied = [
        ("events.hit.one.intensity", parse_range("", "0.1..1")),
        ("parameters.entrenchment", ["true", "false"]),
    ]
    points = sweep(
        small,
        varied,
        run_one=stances.run,
        design=Design("lhs", 8),
        seed=3,  # type: ignore[arg-type]
    )
    # a condemnation of B by A: the harder it is, the lower B's view of A, all else equal
    finals = [float(p.result.score_array("B", "A")[-1, 0]) for p in points]
    strength = [float(p.values["events.hit.one.intensity"]) for p in points]
    same_rules = [p.values["parameters.entrenchment"] for p in points]
    for rule in ("true", "false"):
        picked = sorted(
            (s, f) for s, f, r in zip(strength, finals, same_rules, strict=True) if r == rule
        )
        assert all(a[1] >= b[1] for a, b in itertools.pairwise(picked)), picked
    rho = sensitivity(points, ("B", "A"))
    # Spearman by hand: the correlation of the ranks
    ranks = lambda xs: np.argsort(np.argsort(xs))  # noqa: E731
    by_hand = np.corrcoef(ranks(strength), ranks(finals))[0, 1]
    assert rho["events.hit.one.intensity"] == pytest.approx(by_hand)
    assert rho["events.hit.one.intensity"] < 0
