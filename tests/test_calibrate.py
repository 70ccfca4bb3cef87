"""Calibration: weighted quantiles against a brute-force count, the effective sample size in
closed form, the likelihood against the normal distribution function, recovery of known
kappas from observations the model itself generated, the calibrated file, and the command."""

from __future__ import annotations

import math
import warnings
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from stances import api, load_scenario
from stances.analysis.calibrate import (
    CalibrationError,
    calibrate,
    effective_sample_size,
    log_normal_cdf,
    normalised_weights,
    observation_log_likelihoods,
    weighted_quantiles,
)
from stances.analysis.calibrated_file import extends_path
from stances.analysis.observations import Verdict
from stances.cli import main
from stances.result import Result
from stances.store import NextRunDir

# -------------------------------------------------------------------------------------------
# (a) the numbers, against independent computations


def brute_quantile(values: list[float], weights: list[int], percent: int) -> float:
    """The percent-% quantile of the list with values[k] repeated weights[k] times: element
    ceil(percent * n / 100) of the sorted list (counted from 1), in integer arithmetic."""
    repeated = sorted(v for v, w in zip(values, weights, strict=True) for _ in range(w))
    n = len(repeated)
    rank = (percent * n + 99) // 100  # ceil(percent * n / 100), at least 1 for percent >= 1
    return repeated[rank - 1]


@settings(max_examples=200, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.integers(-5, 5).map(float), st.integers(0, 4)), min_size=1, max_size=30
    ).filter(lambda ps: sum(w for _, w in ps) > 0),
    percents=st.lists(st.integers(1, 100), min_size=1, max_size=4),
)
def test_weighted_quantiles_are_those_of_the_replicated_list(pairs, percents):
    values = [v for v, _ in pairs]
    weights = [w for _, w in pairs]
    got = weighted_quantiles(
        np.array(values), np.array(weights, float), tuple(p / 100 for p in percents)
    )
    expected = [brute_quantile(values, weights, p) for p in percents]
    assert got.tolist() == expected


def test_weighted_quantiles_work_column_by_column():
    rng = np.random.default_rng(1)
    values = rng.integers(0, 20, size=(40, 3)).astype(float)
    weights = rng.integers(0, 3, size=40)
    weights[0] = 1
    got = weighted_quantiles(values, weights.astype(float), (0.05, 0.5, 0.95))
    for column in range(3):
        for i, percent in enumerate((5, 50, 95)):
            assert got[i, column] == brute_quantile(
                values[:, column].tolist(), weights.tolist(), percent
            )


def test_weighted_quantiles_refuse_a_level_outside_0_1():
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        weighted_quantiles(np.arange(3.0), np.ones(3), (0.0,))


@given(st.integers(1, 500))
def test_equal_weights_give_an_effective_sample_size_of_k(k):
    assert math.isclose(effective_sample_size(np.full(k, 1 / k)), k, rel_tol=1e-12)
    assert math.isclose(effective_sample_size(np.full(k, 3.7)), k, rel_tol=1e-12)


@given(st.integers(1, 500), st.integers(0, 499))
def test_one_nonzero_weight_gives_an_effective_sample_size_of_1(k, where):
    w = np.zeros(k)
    w[where % k] = 0.25
    assert effective_sample_size(w) == 1.0


@given(st.integers(1, 50), st.integers(1, 50), st.floats(0.01, 100), st.floats(0.01, 100))
def test_effective_sample_size_of_two_weight_levels(m, n, a, b):
    w = np.array([a] * m + [b] * n)
    expected = (m * a + n * b) ** 2 / (m * a * a + n * b * b)
    assert math.isclose(effective_sample_size(w), expected, rel_tol=1e-9)


def log_phi_by_erfc(z: float) -> float:
    return math.log(0.5 * math.erfc(-z / math.sqrt(2)))


def test_log_normal_cdf_matches_erfc_wherever_erfc_is_representable():
    z = np.linspace(-37.0, 6.0, 4301)  # below -37.5 erfc underflows; the series takes over at -20
    expected = np.array([log_phi_by_erfc(x) for x in z])
    assert np.allclose(log_normal_cdf(z), expected, rtol=1e-9, atol=1e-15)


def test_log_normal_cdf_stays_finite_and_increasing_far_out():
    z = np.concatenate([-np.logspace(4, 0, 200), np.linspace(-1, 40, 200)])
    out = log_normal_cdf(z)
    assert np.isfinite(out).all()
    assert (np.diff(out) >= 0).all()
    assert out[-1] == 0.0  # Phi(40) is 1 to double precision
    # far out, log Phi(z) -> -z^2/2 - log(-z sqrt(2 pi)) (the leading terms, by hand)
    assert math.isclose(
        float(log_normal_cdf(np.array([-1e4]))[0]),
        -0.5e8 - math.log(1e4 * math.sqrt(2 * math.pi)),
        rel_tol=1e-12,
    )


def test_the_likelihood_is_the_product_of_phi_of_margin_over_tolerance():
    score = Verdict(None, np.array([0.1, -0.02, 0.0]), "score")  # type: ignore[arg-type]
    days = Verdict(None, np.array([0.0, -10.0, -3.0]), "days")  # type: ignore[arg-type]
    got = observation_log_likelihoods([score, days], tolerance=0.05, tolerance_days=7.0).sum(0)

    def phi(x: float) -> float:
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    expected = [
        math.log(phi(m / 0.05) * phi(d / 7.0))
        for m, d in zip(score.margins, days.margins, strict=True)
    ]
    assert np.allclose(got, expected, rtol=1e-12)


# (c) properties of the weights


@settings(max_examples=100, deadline=None)
@given(
    log_l=arrays(float, st.integers(1, 60), elements=st.floats(-800, 50)),
    seed=st.integers(0, 2**32 - 1),
)
def test_weights_are_nonnegative_sum_to_1_and_follow_a_permutation_of_members(log_l, seed):
    w = normalised_weights(log_l)
    assert (w >= 0).all() and math.isclose(w.sum(), 1.0, rel_tol=1e-12)
    assert w[np.argmax(log_l)] > 0  # the best member never underflows
    perm = np.random.default_rng(seed).permutation(len(log_l))
    # the same weights, member for member (up to the rounding of a sum taken in another order)
    assert np.allclose(normalised_weights(log_l[perm]), w[perm], rtol=1e-12, atol=0)
    assert math.isclose(effective_sample_size(w[perm]), effective_sample_size(w), rel_tol=1e-12)
    values = np.arange(len(log_l), dtype=float)
    assert np.array_equal(weighted_quantiles(values[perm], w[perm]), weighted_quantiles(values, w))


# -------------------------------------------------------------------------------------------
# (b) recovery of known kappas, from observations the model itself generated

TRUE = {"kappa_target": 0.62, "kappa_observer": 0.27}
PRIOR = {"kappa_target": (0.05, 0.95), "kappa_observer": (0.0, 0.6)}

TRUTH = """\
title: Known kappas
time: {start: 2025-01-06, end: 2025-06-30, step: week}
seed: 3
actors:
  A: {name: Actor A}
  B: {name: Actor B}
  C: {name: Actor C}
relations:
  A <-> B: 0.1
  C -> A: 0.4
  C -> B: 0.6
parameters:            # every rule set here, whatever the defaults
  entrenchment: false
  observers: plain
  baseline_half_life: null
  memory_half_life: 26 weeks
  balance_rate: 0
  homophily: 0
  noise: 0
  kappa_actor: 0.25
  kappa_target: 0.62
  kappa_observer: 0.27
events:
  - {id: strike, date: 2025-02-03, type: airstrike, actor: A, target: B}
  - {id: aid, date: 2025-04-07, type: humanitarian_aid, actor: A, target: C}
"""

HALF_WIDTH = 0.05  # each level is observed to lie within this of the true run's value
TOLERANCE = 0.02


def level_observations(truth: Result) -> str:
    """Observations of the true run: B -> A and C -> A within HALF_WIDTH of their values at
    three dates, and B -> A falling across the strike by all but HALF_WIDTH of its fall."""
    lines = ["observations:"]
    for a, b in (("B", "A"), ("C", "A")):
        for when in (date(2025, 2, 17), date(2025, 4, 21), date(2025, 6, 2)):
            t = truth.dates.index(when)
            value = float(truth.score_array(a, b)[t, 0])
            for side, line in (("above", value - HALF_WIDTH), ("below", value + HALF_WIDTH)):
                lines += [
                    f"  {a.lower()}{b.lower()}-{side}-{when}:",
                    f"    score: {a} -> {b}",
                    f"    {side}: {line!r}",
                    f"    from: {when}",
                    f"    to: {when}",
                    "    cite: generated from the true run",
                ]
    before, after = (truth.dates.index(d) for d in (date(2025, 2, 3), date(2025, 2, 10)))
    fall = float(truth.score_array("B", "A")[before, 0] - truth.score_array("B", "A")[after, 0])
    lines += [
        "  ba-falls:",
        "    score: B -> A",
        "    falls: {across: strike}",
        f"    by: {fall - HALF_WIDTH!r}",
        "    cite: generated from the true run",
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def recovery(tmp_path_factory):
    """The true run, the calibration file built from it, and its calibration (3000 members)."""
    folder = tmp_path_factory.mktemp("recovery")
    (folder / "truth.yaml").write_text(TRUTH, encoding="utf-8")
    truth = api.run(folder / "truth.yaml")
    priors = "".join(
        f"  parameters.{name}: {{uniform: [{lo}, {hi}]}}\n" for name, (lo, hi) in PRIOR.items()
    )
    text = (
        "title: Known kappas, calibrated\nextends: truth.yaml\nset:\n"
        + priors
        + level_observations(truth)
    )
    (folder / "calibrate.yaml").write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a small effective sample size would fail the test here
        calibration = api.calibrate(
            folder / "calibrate.yaml", members=3000, seed=11, tolerance=TOLERANCE
        )
    return folder, calibration


def test_the_true_run_satisfies_its_own_observations(recovery):
    folder, _ = recovery
    spec = load_scenario(
        folder / "calibrate.yaml", {f"parameters.{k}": str(v) for k, v in TRUE.items()}
    )
    verdicts, _ = api.check(api.run(spec), spec)
    assert all(v.margins[0] > 0 for v in verdicts)


def test_calibration_recovers_the_true_kappas(recovery):
    _, calibration = recovery
    table = calibration.posterior_table().set_index("value")
    for name, truth in TRUE.items():
        row = table.loc[f"parameters.{name}"]
        assert row.posterior_q05 <= truth <= row.posterior_q95, (name, row.to_dict())
        lo, hi = PRIOR[name]
        # the prior's 90 % interval is 0.9 of its width; the posterior's must be far narrower
        assert row.posterior_q95 - row.posterior_q05 < 0.3 * 0.9 * (hi - lo), row.to_dict()
        assert row.prior_q05 < lo + 0.1 * (hi - lo) and row.prior_q95 > hi - 0.1 * (hi - lo)
    assert calibration.ess >= 50


def test_posterior_bands_are_narrower_where_observed(recovery):
    _, calibration = recovery
    t = calibration.result.dates.index(date(2025, 4, 21))
    prior, post = calibration.band("B", "A")
    assert post[2, t] - post[0, t] < prior[2, t] - prior[0, t]
    bands = calibration.band_table()
    assert len(bands) == 6 * len(calibration.result.dates)  # every ordered pair of 3 actors
    row = bands[(bands["actor"] == "B") & (bands["toward"] == "A") & (bands["step"] == t)]
    assert row["posterior_q05"].item() == post[0, t]


def test_the_calibrated_file_loads_runs_and_holds_the_posterior_medians(recovery, tmp_path):
    _, calibration = recovery
    out = api.save_calibration(calibration, tmp_path / "calibrated", plots=False)
    spec = load_scenario(out / "calibrated.yaml")
    medians = calibration.posterior_table().set_index("value")["posterior_q50"]
    for name in TRUE:
        assert getattr(spec.parameters, name) == medians[f"parameters.{name}"]
    assert not spec.uncertain
    assert [o.id for o in spec.observations] == [o.id for o in calibration.scenario.observations]
    verdicts, _ = api.check(api.run(spec), spec)
    assert sum(v.margins[0] > 0 for v in verdicts) >= len(verdicts) - 2
    text = (out / "calibrated.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Calibrated from ")
    assert "effective sample size" in text


def test_the_calibrated_distributions_are_the_posterior_mean_and_sd(recovery, tmp_path):
    _, calibration = recovery
    out = api.save_calibration(calibration, tmp_path / "dist", form="distribution", plots=False)
    spec = load_scenario(out / "calibrated.yaml")
    w = calibration.weights
    for u, label in enumerate(calibration.labels):
        x = calibration.draws[:, u]
        mean = float(np.sum(w * x))
        sd = math.sqrt(float(np.sum(w * (x - mean) ** 2)))
        drawn = {v.label: v.distribution for v in spec.uncertain}[label]
        assert drawn.kind == "normal"
        assert np.allclose(drawn.args, (mean, sd), rtol=1e-12)


def test_extends_path_reaches_the_input_from_where_it_is_written(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "s").mkdir()
    path = extends_path(tmp_path / "s" / "x.yaml", tmp_path / "a" / "b")
    assert path == "../../s/x.yaml"
    assert ((tmp_path / "a" / "b") / path).resolve() == (tmp_path / "s" / "x.yaml").resolve()


# -------------------------------------------------------------------------------------------
# every kind of uncertain value in the calibrated file

MIXED = """\
title: Mixed priors
time: {start: 2025-01-06, end: 2025-04-28, step: week}
seed: 5
actors:
  A: {name: Actor A}
  B: {name: Actor B}
relations:
  A -> B: {normal: [0.1, 0.2]}
  B -> A: 0.0
parameters:
  entrenchment: false
  observers: plain
  baseline_half_life: null
  memory_half_life: {uniform: [8 weeks, 40 weeks]}
  kappa_target: {choice: [0.3, 0.5, 0.7]}
events:
  - id: strike
    date: {uniform: [2025-01-20, 2025-03-03]}
    type: airstrike
    actor: A
    target: B
    intensity: {uniform: [0.5, 1.5]}
observations:
  ba-low:
    score: B -> A
    below: -0.2
    from: 2025-03-10
    cite: hand
  lowest:
    score: B -> A
    lowest_between: [2025-02-01, 2025-02-20]
    cite: hand
"""


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mixed")
    (folder / "mixed.yaml").write_text(MIXED, encoding="utf-8")
    spec = load_scenario(folder / "mixed.yaml")
    return folder, calibrate(api.run(spec, members=400, seed=2), spec, tolerance=0.1)


def permuted(result: Result, perm: np.ndarray) -> Result:
    """The same run with its members reordered: new member m is old member perm[m]."""
    assert result.history is not None and result.draws is not None
    new_index = np.empty_like(perm)
    new_index[perm] = np.arange(len(perm))
    draws = result.draws.assign(member=new_index[result.draws["member"].to_numpy()])
    return replace(result, history=result.history[:, perm], draws=draws)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_calibration_weights_follow_a_reordering_of_the_members(mixed, seed):
    _, calibration = mixed
    perm = np.random.default_rng(seed).permutation(calibration.members)
    again = calibrate(
        permuted(calibration.result, perm), calibration.scenario, calibration.tolerance
    )
    assert (again.weights >= 0).all()
    assert np.allclose(again.weights, calibration.weights[perm], rtol=1e-12, atol=0)
    assert np.array_equal(again.draws, calibration.draws[perm])
    assert np.allclose(again.posterior_quantiles, calibration.posterior_quantiles, rtol=1e-12)
    assert math.isclose(again.ess, calibration.ess, rel_tol=1e-12)


def test_every_kind_of_value_is_set_to_its_posterior_median(mixed, tmp_path):
    _, calibration = mixed
    out = api.save_calibration(calibration, NextRunDir(tmp_path, "mixed"), plots=False)
    spec = load_scenario(out / "calibrated.yaml")
    m = calibration.medians()
    assert not spec.uncertain
    assert spec.initial[0, 1] == m["relations.A -> B"]
    assert math.isclose(
        spec.parameters.memory_half_life.days, m["parameters.memory_half_life"], abs_tol=1e-6
    )
    assert spec.parameters.kappa_target == m["parameters.kappa_target"]
    assert m["parameters.kappa_target"] in (0.3, 0.5, 0.7)
    (strike,) = spec.events
    assert strike.date == date.fromordinal(int(m["events[strike].date"]))
    assert strike.intensity == m["events[strike].intensity"]
    api.run(spec)  # and it runs


def test_distributions_of_every_kind(mixed, tmp_path):
    _, calibration = mixed
    out = api.save_calibration(calibration, tmp_path / "d", form="distribution", plots=False)
    spec = load_scenario(out / "calibrated.yaml")
    kinds = {u.label: u.distribution for u in spec.uncertain}
    q = dict(zip(calibration.labels, calibration.posterior_quantiles.T, strict=True))
    assert kinds["relations.A -> B"].kind == "normal"
    assert kinds["parameters.memory_half_life"].kind == "normal"
    first, _, last = q["events[strike].date"]
    assert first < last
    assert kinds["events[strike].date"].kind == "uniform"
    assert kinds["events[strike].date"].args == (first, last)
    assert "parameters.kappa_target" not in kinds  # a choice: its median, fixed
    api.run(spec, members=5)


def test_a_scenario_without_priors_or_observations_cannot_be_calibrated(tmp_path):
    text = MIXED.split("observations:")[0]
    (tmp_path / "no-obs.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(CalibrationError, match="no observations"):
        api.calibrate(tmp_path / "no-obs.yaml", members=10)
    (tmp_path / "bare.yaml").write_text(
        "title: bare\ntime: {start: 2025-01-06, end: 2025-02-03}\n"
        "actors: {A: {name: a}, B: {name: b}}\n",
        encoding="utf-8",
    )
    with pytest.raises(CalibrationError) as info:
        api.calibrate(tmp_path / "bare.yaml", members=10)
    assert len(info.value.problems) == 2


# -------------------------------------------------------------------------------------------
# (d) the command


@pytest.fixture
def mixed_file(tmp_path) -> Path:
    path = tmp_path / "mixed.yaml"
    path.write_text(MIXED, encoding="utf-8")
    return path


def test_calibrate_command_writes_its_directory(mixed_file, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["calibrate", str(mixed_file), "--runs", "300", "--seed", "4", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    names = {p.name for p in out.iterdir()}
    assert {
        "posterior.csv",
        "weights.csv",
        "bands.csv",
        "observations.csv",
        "calibrated.yaml",
        "manifest.json",
        "posterior.png",
        "bands.png",
    } <= names
    posterior = pd.read_csv(out / "posterior.csv")
    assert {"value", "unit", "prior_q05", "prior_q50", "prior_q95", "posterior_mean"} <= set(
        posterior.columns
    )
    assert set(posterior["value"]) == {u.label for u in load_scenario(mixed_file).uncertain}
    weights = pd.read_csv(out / "weights.csv")
    assert len(weights) == 300 and math.isclose(weights["weight"].sum(), 1.0, rel_tol=1e-6)
    ess = weights["weight"].sum() ** 2 / (weights["weight"] ** 2).sum()
    assert f"effective sample size {ess:.1f}" in printed.out
    assert (out / "posterior.png").read_bytes()[:4] == b"\x89PNG"
    assert (
        main(["run", str(out / "calibrated.yaml"), "--out", str(tmp_path / "rerun"), "--no-plots"])
        == 0
    )


def test_calibrate_carries_command_line_priors_into_the_calibrated_file(
    mixed_file, tmp_path, capsys
):
    out = tmp_path / "out"
    code = main(
        [
            "calibrate",
            str(mixed_file),
            "--runs",
            "200",
            "--set",
            "parameters.kappa_actor={uniform: [0.1, 0.4]}",
            "--set",
            "title=Renamed",
            "--as",
            "distribution",
            "--out",
            str(out),
            "--no-plots",
        ]
    )
    assert code == 0, capsys.readouterr().err
    spec = load_scenario(out / "calibrated.yaml")
    assert "parameters.kappa_actor" in {u.label for u in spec.uncertain}
    assert spec.title == "Renamed (calibrated)"


def test_a_small_effective_sample_size_is_a_warning(mixed_file, tmp_path, capsys):
    code = main(
        ["calibrate", str(mixed_file), "--runs", "40", "--out", str(tmp_path / "o"), "--no-plots"]
    )
    err = capsys.readouterr().err
    assert code == 0
    assert "stances: warning: the effective sample size is" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--runs", "1"], "--runs must be at least 2"),
        (["--tolerance", "0"], "--tolerance must be a positive number"),
        (["--tolerance", "nan"], "--tolerance must be a positive number"),
        (["--tolerance-days", "-3"], "--tolerance-days must be a positive number"),
        (["--seed", "-1"], "--seed must be 0 or more"),
    ],
)
def test_bad_options_exit_2_with_one_line(mixed_file, tmp_path, capsys, args, message):
    out = tmp_path / "never"
    assert main(["calibrate", str(mixed_file), *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()


def test_files_that_cannot_be_calibrated_exit_2_one_line_per_problem(tmp_path, capsys):
    bare = tmp_path / "bare.yaml"
    bare.write_text(
        "title: bare\ntime: {start: 2025-01-06, end: 2025-02-03}\n"
        "actors: {A: {name: a}, B: {name: b}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "never"
    assert main(["calibrate", str(bare), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert all(line.startswith(f"{bare}: ") for line in err)
    assert "no uncertain values" in err[0] + err[1] and "no observations" in err[0] + err[1]
    assert not out.exists()


def test_observations_no_member_comes_near_exit_2(tmp_path, capsys):
    impossible = MIXED.replace("below: -0.2", "above: 0.99")  # B -> A never rises above 0
    path = tmp_path / "impossible.yaml"
    path.write_text(impossible, encoding="utf-8")
    out = tmp_path / "never"
    assert (
        main(["calibrate", str(path), "--runs", "50", "--tolerance", "0.001", "--out", str(out)])
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no member of 50 comes near the observations" in err[0], err
    assert "'ba-low'" in err[0]
    assert not out.exists()


def test_a_missing_file_and_a_bad_form_exit_2(tmp_path, capsys):
    assert main(["calibrate", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["calibrate", str(tmp_path / "x.yaml"), "--as", "mean"])
    assert info.value.code == 2
