"""Global sensitivity (analysis.sensitivity, `stances sensitivity`): SALib's indices through
the same code path on functions with known indices, structural zeros of the engine, and bad
requests refused before anything runs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import stances
from stances import api
from stances.analysis.sensitivity import (
    Factor,
    SensitivityError,
    factors_of,
    parse_outcome,
    parse_range,
    sensitivity,
)
from stances.cli import main
from tests.helpers import write

ROOT = Path(__file__).resolve().parents[1]
UNCERTAIN = ROOT / "benchmarks" / "article-uncertain.yaml"

SMALL = """\
title: A visit, with two uncertain weights
actors: {A: {name: Alpha}, B: {name: Beta}, C: {name: Gamma}}
time: {start: 2025-01-05, end: 2025-03-30, step: week}
parameters:
  kappa_target: {uniform: [0.2, 0.8]}
  kappa_observer: {uniform: [0.0, 0.4]}
relations:
  A <-> B: 0.1
  A <-> C: 0.5
  B <-> C: 0.3
events:
  - {id: visit, date: 2025-01-20, type: visit, actor: A, target: B}
"""


def unit_factors(names, lo=-math.pi, hi=math.pi):
    return [Factor(name, "uniform", (lo, hi), "number", (lo, hi)) for name in names]


def ishigami(design, a=7.0, b=0.1):
    x1, x2, x3 = design["x1"], design["x2"], design["x3"]
    return {"y": np.sin(x1) + a * np.sin(x2) ** 2 + b * x3**4 * np.sin(x1)}


def ishigami_indices(a=7.0, b=0.1):
    """The closed form (Ishigami & Homma 1990; Sobol & Levitan 1999)."""
    pi = math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / total, np.array([v1 + v13, v2, v13]) / total


def test_sobol_indices_of_the_ishigami_function_are_its_closed_form():
    S1, ST = ishigami_indices()
    assert pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4) == S1  # the published values
    result = sensitivity(
        "ishigami", unit_factors(["x1", "x2", "x3"]), ["y"], "sobol", 2048, 1, ishigami
    )
    assert result.rows == 2048 * (2 * 3 + 2)
    s1, s1_conf = result.indices["y"]["S1"]
    st, st_conf = result.indices["y"]["ST"]
    assert np.all(np.abs(s1 - S1) <= np.maximum(2 * s1_conf, 0.03)), (s1, S1)
    assert np.all(np.abs(st - ST) <= np.maximum(2 * st_conf, 0.03)), (st, ST)


def test_morris_elementary_effects_of_a_linear_function_are_its_slopes():
    slopes = np.array([2.0, 0.0, -0.5])
    factors = unit_factors(["x1", "x2", "x3"], 0.0, 1.0)

    def linear(design):
        return {"y": sum(s * design[f"x{i + 1}"] for i, s in enumerate(slopes))}

    result = sensitivity("linear", factors, ["y"], "morris", 40, 3, linear)
    assert result.rows == 40 * 4
    mu_star, _ = result.indices["y"]["mu_star"]
    sigma, _ = result.indices["y"]["sigma"]
    np.testing.assert_allclose(mu_star, np.abs(slopes), atol=1e-9)
    np.testing.assert_allclose(sigma, 0.0, atol=1e-9)


def test_delta_finds_the_one_factor_that_matters():
    factors = unit_factors(["x1", "x2", "x3"], 0.0, 1.0)
    result = sensitivity("one", factors, ["y"], "delta", 1000, 5, lambda d: {"y": d["x2"] ** 2})
    delta, _ = result.indices["y"]["delta"]
    s1, _ = result.indices["y"]["S1"]
    assert delta[1] > 0.5 and max(delta[0], delta[2]) < 0.1
    assert s1[1] > 0.9 and max(abs(s1[0]), abs(s1[2])) < 0.05


def test_the_engine_outcome_of_an_untouched_view_owes_nothing_to_the_observer_weight(tmp_path):
    # B's view of A after A's visit to B moves by kappa_target alone: no third party judges it
    scenario = stances.load_scenario(write(tmp_path, "small.yaml", SMALL))
    result = api.sensitivity(scenario, "sobol", 256, ["B->A"])
    s1, _ = result.indices["B -> A at end"]["S1"]
    st, _ = result.indices["B -> A at end"]["ST"]
    keys = [f.key for f in result.factors]
    target, observer = (
        keys.index("parameters.kappa_target"),
        keys.index("parameters.kappa_observer"),
    )
    assert st[observer] == pytest.approx(0.0, abs=1e-12)
    assert s1[target] == pytest.approx(1.0, abs=0.05)
    # C's view of A moves with the observer weight only (C observes A helping its friend B)
    result = api.sensitivity(scenario, "sobol", 256, ["C->A"])
    st = result.indices["C -> A at end"]["ST"][0]
    assert st[target] == pytest.approx(0.0, abs=1e-12) and st[observer] > 0.9


def test_each_sampled_row_is_the_run_with_its_values_set(tmp_path):
    path = write(tmp_path, "small.yaml", SMALL)
    result = api.sensitivity(
        stances.load_scenario(path), "delta", 20, ["B->A", "C->A at 2025-02-02"]
    )
    design = result.design()
    for r in (0, 7, 19):
        sets = {
            "parameters.kappa_target": repr(float(design["parameters.kappa_target"][r])),
            "parameters.kappa_observer": repr(float(design["parameters.kappa_observer"][r])),
        }
        run = stances.run(stances.load_scenario(path, sets))
        assert design["B -> A at end"][r] == pytest.approx(
            run.score_array("B", "A")[-1, 0], abs=1e-12
        )
        k = run.dates.index(pd.Timestamp("2025-02-02").date())
        assert design["C -> A at 2025-02-02"][r] == pytest.approx(
            run.score_array("C", "A")[k, 0], abs=1e-12
        )


def test_the_file_uncertain_values_are_the_factors_in_design_keys_and_written_units():
    factors = {f.key: f for f in factors_of(stances.load_scenario(UNCERTAIN))}
    assert set(factors) == {
        "parameters.kappa_observer",
        "parameters.memory_half_life",
        "relations.AFG -> PAK",
        "events.beijing-trilateral.date",
        "events.paktika-strike.intensity",
    }
    assert factors["parameters.memory_half_life"].args == pytest.approx((13.0, 52.0))
    assert factors["relations.AFG -> PAK"].kind == "normal"
    assert factors["relations.AFG -> PAK"].bounds == (-1.0, 1.0)
    assert (
        factors["events.beijing-trilateral.date"].describe() == "uniform 2025-05-01 .. 2025-06-15"
    )


def test_ranges_and_outcomes_from_the_command_line(tmp_path):
    scenario = stances.load_scenario(UNCERTAIN)
    f = parse_range(scenario, "events.paktika-strike.date=2024-12-01..2025-01-31")
    assert f.unit == "date" and f.args[1] - f.args[0] == 61
    assert parse_range(scenario, "parameters.memory_half_life=10..60").unit == "weeks"
    assert parse_outcome(scenario, "AFG->PAK at 2025-03-02").label == "AFG -> PAK at 2025-03-02"
    assert parse_outcome(scenario, " AFG -> PAK ").label == "AFG -> PAK at end"


@pytest.mark.parametrize(
    "text, message",
    [
        ("parameters.kappa_observer", "expected KEY=LO..HI"),
        ("parameters.kappa_observer=0.3..0.1", "expected LO < HI"),
        ("parameters.kappa_observer=0.1..1.5", "within what the value allows"),
        ("parameters.kappa_obsrver=0.1..0.2", "kappa_observer"),
        ("events.paktika-strike.date=2024-12-01..soon", "dates YYYY-MM-DD"),
    ],
)
def test_bad_ranges_are_one_problem_each(text, message):
    with pytest.raises(SensitivityError) as info:
        parse_range(stances.load_scenario(UNCERTAIN), text)
    assert len(info.value.problems) == 1 and message in str(info.value.problems[0])


def test_a_choice_cannot_be_a_factor(tmp_path):
    text = SMALL.replace(
        "kappa_observer: {uniform: [0.0, 0.4]}", "kappa_observer: {choice: [0.1, 0.2]}"
    )
    scenario = stances.load_scenario(write(tmp_path, "choice.yaml", text))
    with pytest.raises(SensitivityError, match="a choice cannot be a factor"):
        factors_of(scenario)


def test_cli_writes_indices_design_and_figures(tmp_path, capsys):
    out = tmp_path / "s"
    code = main(
        [
            "sensitivity",
            str(UNCERTAIN),
            "--runs",
            "64",
            "--outcome",
            "AFG->PAK",
            "--over-time",
            "AFG->PAK",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "design.csv",
        "manifest.json",
        "sensitivity-over-time.png",
        "sensitivity.csv",
        "sensitivity.png",
    ]
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table["index"]) == {"S1", "ST"}
    assert len(pd.read_csv(out / "design.csv")) == 64 * (2 * 5 + 2)
    assert "AFG -> PAK at end" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--runs", "100"], "power of 2"),
        (["--outcome", "AFG->XYZ"], "unknown actor 'XYZ'"),
        (["--outcome", "AFG->PAK at 2031-01-01"], "outside the window"),
        (["--vary", "parameters.kappa_target=0.9..0.1"], "expected LO < HI"),
    ],
)
def test_cli_refuses_bad_requests_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "s"
    code = main(["sensitivity", str(UNCERTAIN), "--out", str(out), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not out.exists()


def test_an_unknown_method_is_an_argparse_error_with_exit_code_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["sensitivity", str(UNCERTAIN), "--method", "fast"])
    assert info.value.code == 2
    assert "invalid choice: 'fast'" in capsys.readouterr().err
