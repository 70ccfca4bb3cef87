"""Ensembles: member seeds, uncertain values, noise, batching, outputs, sweeps, comparisons, Dask.

Expectations come from the inputs and from numpy on the members' own data: quantiles with
np.percentile over result.history, step numbers and dates from the time window written in the
files, member generators rebuilt from numpy's SeedSequence, shares counted member by member.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from conftest import HEADER
from helpers import position_of, write
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from strategies import root_seeds, shares

import stances
from stances import ScenarioError, api
from stances.analysis.compare import Comparison
from stances.analysis.sweep import grid
from stances.cli import main
from stances.engine import ensemble
from stances.engine.model import StanceModel
from stances.engine.sampling import draw, member_rngs
from stances.result import Result
from stances.scenario.keys import parse_vary

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "scenarios" / "article.yaml"
REACTIVE = ROOT / "scenarios" / "article-reactive.yaml"
PNG = b"\x89PNG\r\n\x1a\n"
PERCENTS = [5, 25, 50, 75, 95]

WINDOW = (date(2025, 5, 1), date(2025, 6, 15))  # the drawn date of beijing-trilateral
WHATIF = f"""\
title: Uncertain article
extends: {ARTICLE}
parameters:
  kappa_observer: {{uniform: [0.05, 0.25]}}
  memory_half_life: {{uniform: [13 weeks, 52 weeks]}}
  noise: 0.02
relations:
  AFG -> PAK: {{normal: [-0.3, 0.1]}}
replace:
  - id: beijing-trilateral
    date: {{uniform: [{WINDOW[0]}, {WINDOW[1]}]}}
  - id: paktika-strike
    intensity: {{uniform: [0.5, 1.5]}}
"""
# label of each uncertain value -> the range its draws must lie in (dates as ordinals, the
# half-life in days: 13 and 52 weeks)
WHATIF_RANGES = {
    "parameters.kappa_observer": (0.05, 0.25),
    "parameters.memory_half_life": (13 * 7, 52 * 7),
    "relations.AFG -> PAK": (-1.0, 1.0),
    "events[beijing-trilateral].date": (WINDOW[0].toordinal(), WINDOW[1].toordinal()),
    "events[paktika-strike].intensity": (0.5, 1.5),
}

REACTIVE_WHATIF = f"""\
title: Uncertain reactive article
extends: {REACTIVE}
parameters:
  kappa_observer: {{uniform: [0.05, 0.25]}}
  noise: 0.02
relations:
  AFG -> PAK: {{normal: [-0.3, 0.1]}}
set:
  actors.CHN.policy.temperature: 0.05
"""

# normals whose draws often leave the allowed range, so that clipping matters
CLIPPED = f"""\
title: Clipped draws
extends: {ARTICLE}
parameters:
  kappa_target: {{normal: [0.9, 0.3]}}
  memory_half_life: {{normal: [2 days, 3 days]}}
  noise: {{normal: [0.0, 0.05]}}
relations:
  CHN -> PAK: {{normal: [0.9, 0.3]}}
replace:
  - id: paktika-strike
    intensity: {{normal: [1.0, 2.0]}}
"""
CLIPPED_RANGES = {
    "parameters.kappa_target": (0.0, 1.0),
    "parameters.memory_half_life": (1.0, np.inf),
    "parameters.noise": (0.0, 1.0),
    "relations.CHN -> PAK": (-1.0, 1.0),
    "events[paktika-strike].intensity": (0.0, 10.0),
}


def plain_yaml(path: Path) -> dict:
    """A YAML file as plain data, read without stances."""
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


ARTICLE_DATA = plain_yaml(ARTICLE)


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


ARTICLE_START = as_date(ARTICLE_DATA["time"]["start"])
ARTICLE_END = as_date(ARTICLE_DATA["time"]["end"])
ARTICLE_SEED = ARTICLE_DATA["seed"]
assert ARTICLE_DATA["time"]["step"] == "week"  # the step arithmetic below assumes weeks


def weekly_boundaries(start: date, end: date) -> list[date]:
    """start, start + 1 week, ... up to the first boundary after end."""
    out = [start]
    while out[-1] <= end:
        out.append(out[-1] + timedelta(weeks=1))
    return out


def step_of(day: date, start: date) -> int:
    """The weekly step (1-based) whose days [t_{k-1}, t_k) hold `day`."""
    return (day - start).days // 7 + 1


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("scenarios")
    return {
        "whatif": write(d, "whatif.yaml", WHATIF),
        "reactive": write(d, "reactive.yaml", REACTIVE_WHATIF),
        "clipped": write(d, "clipped.yaml", CLIPPED),
    }


@pytest.fixture(scope="module")
def whatif(files):
    return stances.load_scenario(files["whatif"])


@pytest.fixture(scope="module")
def reactive(files):
    return stances.load_scenario(files["reactive"])


@pytest.fixture(scope="module")
def article():
    return stances.load_scenario(ARTICLE)


def assert_same_result(a: Result, b: Result) -> None:
    """Identical scores, quantiles, event log and draws."""
    assert np.array_equal(a.history, b.history)
    pdt.assert_frame_equal(a.quantile_table(), b.quantile_table(), check_exact=True)
    pdt.assert_frame_equal(a.events, b.events, check_exact=True)
    pdt.assert_frame_equal(a.draws, b.draws, check_exact=True)


def cell(result: Result, actor: str, toward: str) -> tuple[int, int]:
    ids = list(result.actors)
    return ids.index(actor), ids.index(toward)


# ---------------------------------------------------------------------------------------------
# The fixture files themselves


def test_whatif_fixture_has_every_uncertain_value(whatif):
    assert {u.label for u in whatif.uncertain} == set(WHATIF_RANGES)
    assert whatif.parameters.noise == 0.02


def test_reactive_variant_sets_a_temperature_through_set(reactive):
    parent = plain_yaml(REACTIVE)["actors"]["CHN"]["policy"]
    chn = reactive.policies["CHN"]
    assert chn.kind == "reactive"
    assert chn.temperature == 0.05
    # `set` changed the temperature only: the rest of China's policy is the parent's
    assert chn.repertoire == parent["repertoire"]
    assert chn.costs == parent["costs"]
    assert all(p.temperature == 0 for a, p in reactive.policies.items() if a != "CHN")


# ---------------------------------------------------------------------------------------------
# A member is the same alone and in its ensemble


@pytest.mark.parametrize(
    ("name", "members", "checked"),
    [
        ("whatif", 30, range(30)),
        ("noise", 20, range(20)),
        ("reactive", 12, (0, 5, 11)),
    ],
)
def test_member_alone_equals_its_trajectory_in_the_ensemble(
    whatif, reactive, name, members, checked
):
    scenario = {
        "whatif": whatif,
        "noise": stances.load_scenario(ARTICLE, {"parameters.noise": "0.03"}),
        "reactive": reactive,
    }[name]
    seed = 11
    whole = api.run(scenario, members=members, seed=seed)
    # the members do differ, so the comparison below can tell them apart
    assert not all(np.array_equal(whole.history[:, 0], whole.history[:, m]) for m in checked)
    for m in checked:
        alone = api.run(scenario, members=1, first_member=m, seed=seed)
        assert np.array_equal(alone.history[:, 0], whole.history[:, m]), f"member {m}"
        mine = whole.draws[whole.draws["member"] == m].reset_index(drop=True)
        pdt.assert_frame_equal(alone.draws, mine, check_exact=True)
    if name == "reactive":
        decided = whole.events[whole.events["origin"] == "decided"]
        assert not decided.empty
        # temperature > 0: some decisions are taken in some members only
        assert (decided["members"] < members).any()


@settings(max_examples=10, deadline=None)
@given(seed=root_seeds, members=st.integers(2, 12), data=st.data())
def test_any_member_alone_equals_its_trajectory(whatif, seed, members, data):
    m = data.draw(st.integers(0, members - 1), label="member")
    whole = api.run(whatif, members=members, seed=seed)
    alone = api.run(whatif, members=1, first_member=m, seed=seed)
    assert np.array_equal(alone.history[:, 0], whole.history[:, m])


def _reactive_variant(files, name: str, text: str):
    path = write(files["whatif"].parent, name, text)
    return stances.load_scenario(path)


@pytest.mark.parametrize("block_values", [None, 100])
def test_member_alone_when_the_drawn_noise_is_zero_in_some_members(
    files, monkeypatch, block_values
):
    """Noise drawn around 0 is clipped to 0 in about half the members; a member's random
    choices must still not depend on the noise of the other members of its batch. With 100
    values a block, the batch draws its noise a step at a time and a member alone six steps
    at a time: many blocks, of other lengths."""
    if block_values:
        monkeypatch.setattr(stances.engine.model, "NOISE_BLOCK_VALUES", block_values)
    scenario = _reactive_variant(
        files,
        "noise-around-zero.yaml",
        f"""\
title: Noise around zero
extends: {REACTIVE}
parameters:
  noise: {{normal: [0.0, 0.02]}}
set:
  actors.CHN.policy.temperature: 0.05
""",
    )
    seed, members = 1, 8
    noise = draw(scenario, member_rngs(seed, np.arange(members))).parameters["noise"]
    assert (noise == 0).any() and (noise > 0).any()
    whole = api.run(scenario, members=members, seed=seed)
    for m in range(members):
        alone = api.run(scenario, members=1, first_member=m, seed=seed)
        assert np.array_equal(alone.history[:, 0], whole.history[:, m]), f"member {m}"


def test_member_alone_with_several_random_actions_per_step(files):
    """max_actions: 2 and temperature > 0: whether a second round is drawn in a member must
    not depend on what the other members of its batch chose."""
    scenario = _reactive_variant(
        files,
        "two-actions.yaml",
        f"""\
title: Two actions a step
extends: {REACTIVE}
set:
  actors.CHN.policy.temperature: 0.05
  actors.CHN.policy.max_actions: 2
""",
    )
    seed, members = 1, 8
    whole = api.run(scenario, members=members, seed=seed)
    for m in range(members):
        alone = api.run(scenario, members=1, first_member=m, seed=seed)
        assert np.array_equal(alone.history[:, 0], whole.history[:, m]), f"member {m}"


def test_cli_member_reproduces_the_member_of_an_ensemble(files, tmp_path, capsys):
    path = files["whatif"]
    whole_dir, alone_dir = tmp_path / "whole", tmp_path / "alone"
    common = ["--no-plots", "--seed", "5"]
    assert (
        main(["run", str(path), "--runs", "30", "--keep-members", "--out", str(whole_dir), *common])
        == 0
    )
    assert main(["run", str(path), "--member", "7", "--out", str(alone_dir), *common]) == 0
    assert "member 7 of seed 5" in capsys.readouterr().out

    whole = pd.read_parquet(whole_dir / "members.parquet")
    whole["date"] = whole["date"].map(date.isoformat)  # Parquet dates; the CSV holds their text
    assert sorted(whole["member"].unique()) == list(range(30))
    alone = pd.read_csv(alone_dir / "relations.csv", keep_default_na=False)
    assert set(alone["member"]) == {7}
    keys = ["step", "actor", "toward"]
    ours = whole[whole["member"] == 7].sort_values(keys, ignore_index=True)
    theirs = alone.sort_values(keys, ignore_index=True)
    assert len(ours) == len(theirs) > 0
    pdt.assert_frame_equal(ours[[*keys, "date"]], theirs[[*keys, "date"]], check_dtype=False)
    np.testing.assert_allclose(theirs["score"], ours["score"], rtol=0, atol=5e-7)
    manifest = json.loads((alone_dir / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["seed"], manifest["members"], manifest["first_member"]) == (5, 1, 7)


# ---------------------------------------------------------------------------------------------
# Batches and workers do not change the result


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batch_size_does_not_change_the_result(whatif, seed):
    members = 30
    whole = api.run(whatif, members=members, seed=seed, batch=members)
    for batch in (1, 7):
        assert_same_result(whole, api.run(whatif, members=members, seed=seed, batch=batch))


@pytest.fixture(scope="module")
def preloaded_forkserver() -> None:
    """Worker processes fork from a forkserver that has imported stances once, instead of each
    importing numpy, pandas and Mesa anew (seconds a pool on this machine). It only changes how
    fast a pool starts: the workers run the same code on the same pickled batches."""
    multiprocessing.set_forkserver_preload(["stances.engine.ensemble"])


@pytest.mark.parametrize("name", ["whatif", "reactive"])
def test_batches_and_workers_give_the_same_result(preloaded_forkserver, whatif, reactive, name):
    scenario, members = (whatif, 30) if name == "whatif" else (reactive, 20)
    seed = 3
    whole = api.run(scenario, members=members, seed=seed, batch=members)
    for batch in (1, 7):
        other = api.run(scenario, members=members, seed=seed, batch=batch)
        assert_same_result(whole, other)
    spread = api.run(scenario, members=members, seed=seed, workers=2, batch=7)
    assert_same_result(whole, spread)


def test_batches_cover_every_member_once():
    for members, first, size in itertools.product((1, 7, 30), (0, 5), (1, 4, 7, 30, 100)):
        got = ensemble.batches(members, first, size)
        covered = [m for start, count in got for m in range(start, start + count)]
        assert covered == list(range(first, first + members))
        assert all(1 <= count <= size for _, count in got)
    for members, workers in itertools.product((1, 10, 1000, 100_000), (1, 2, 8)):
        size = ensemble.default_batch(members, workers)
        assert 1 <= size <= ensemble.DEFAULT_BATCH
        # about four batches per worker at most, unless the batches are already as big as allowed
        count = len(ensemble.batches(members, 0, size))
        assert count <= 4 * workers or size == ensemble.DEFAULT_BATCH


# ---------------------------------------------------------------------------------------------
# The seed and the draws


def test_root_seed_decides_the_draws(whatif):
    a = api.run(whatif, members=20, seed=1)
    again = api.run(whatif, members=20, seed=1)
    b = api.run(whatif, members=20, seed=2)
    pdt.assert_frame_equal(a.draws, again.draws, check_exact=True)
    for label in WHATIF_RANGES:
        va = a.draws.loc[a.draws["value_of"] == label, "value"].to_numpy()
        vb = b.draws.loc[b.draws["value_of"] == label, "value"].to_numpy()
        assert not np.array_equal(va, vb), label
    assert not np.array_equal(a.history, b.history)


def test_default_seed_is_the_files_and_the_manifest_records_it(whatif, tmp_path):
    res = api.run(whatif, members=12)
    assert res.manifest["seed"] == ARTICLE_SEED  # inherited from article.yaml
    assert res.manifest["members"] == 12
    np.testing.assert_array_equal(
        res.history, api.run(whatif, members=12, seed=ARTICLE_SEED).history
    )
    other = api.run(whatif, members=9, seed=123, first_member=4)
    api.save(other, tmp_path / "run", plots=False)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["seed"], manifest["members"], manifest["first_member"]) == (123, 9, 4)


def test_draws_table_has_one_row_per_member_and_value_in_range(whatif):
    first, members = 3, 25
    res = api.run(whatif, members=members, seed=4, first_member=first)
    draws = res.draws
    assert len(draws) == members * len(WHATIF_RANGES)
    for label, (lo, hi) in WHATIF_RANGES.items():
        rows = draws[draws["value_of"] == label]
        assert sorted(rows["member"]) == list(range(first, first + members)), label
        assert rows["value"].between(lo, hi).all(), label
        assert rows["value"].nunique() > 1, label
    # the drawn relation is the member's initial score (to rounding: with entrenchment the
    # model keeps artanh of it and reports tanh of that)
    i, j = cell(res, "AFG", "PAK")
    rel = draws[draws["value_of"] == "relations.AFG -> PAK"].sort_values("member")
    np.testing.assert_allclose(res.history[0, :, i, j], rel["value"].to_numpy(), rtol=0, atol=1e-15)


def test_recorded_draws_lie_in_their_clip_ranges(files):
    scenario = stances.load_scenario(files["clipped"])
    res = api.run(scenario, members=60, seed=2)
    for label, (lo, hi) in CLIPPED_RANGES.items():
        values = res.draws.loc[res.draws["value_of"] == label, "value"]
        assert len(values) == 60, label
        assert values.between(lo, hi).all(), f"{label}: {values.min()} .. {values.max()}"
    # the members start from clipped scores
    i, j = cell(res, "CHN", "PAK")
    assert (np.abs(res.history[0, :, i, j]) <= 1).all()
    assert (res.history[0, :, i, j] >= 1.0 - 1e-15).any()  # a latent affinity stands for 1


def test_drawn_dates_are_whole_days_applied_in_their_step(whatif):
    seed, members = 6, 40
    days = draw(whatif, member_rngs(seed, np.arange(members))).values[
        "events[beijing-trilateral].date"
    ]
    res = api.run(whatif, members=members, seed=seed)
    recorded = (
        res.draws[res.draws["value_of"] == "events[beijing-trilateral].date"]
        .sort_values("member")["value"]
        .to_numpy()
    )
    np.testing.assert_array_equal(recorded, days)
    assert np.array_equal(days, np.round(days))
    assert ((days >= WINDOW[0].toordinal()) & (days <= WINDOW[1].toordinal())).all()
    assert len(np.unique(days)) > 5

    model = StanceModel(whatif, rng=seed, members=members, collect=False)
    model.run()
    applied = [a for a in model.applied if a.event.id == "beijing-trilateral"]
    seen = np.zeros(members, dtype=int)
    for a in applied:
        assert a.origin == "scripted"
        for m in np.flatnonzero(a.members):
            drawn = date.fromordinal(int(days[m]))
            assert a.step == step_of(drawn, ARTICLE_START), (m, drawn, a.step)
            seen[m] += 1
        step_start = ARTICLE_START + timedelta(weeks=a.step - 1)
        assert a.date == max(step_start, WINDOW[0])
    assert (seen == 1).all()  # every member applies it exactly once


def test_drawn_date_event_is_logged_on_the_same_day_alone_and_in_the_ensemble(files):
    """A window inside one step: every member applies the event in that step, and it is
    logged on the first day of the step the window allows, whether a member runs alone or
    with others."""
    first, last = date(2025, 5, 19), date(2025, 5, 21)
    step = step_of(first, ARTICLE_START)
    assert step_of(last, ARTICLE_START) == step
    logged = pd.Timestamp(max(ARTICLE_START + timedelta(weeks=step - 1), first))
    path = write(
        files["whatif"].parent,
        "narrow.yaml",
        f"""\
title: A narrow window
extends: {ARTICLE}
replace:
  - id: beijing-trilateral
    date: {{uniform: [{first}, {last}]}}
""",
    )
    scenario = stances.load_scenario(path)
    seed, members = 2, 20
    whole = api.run(scenario, members=members, seed=seed)
    rows = whole.events[whole.events["event"] == "beijing-trilateral"]
    assert set(rows["date"]) == {logged}
    assert set(rows["step"]) == {step}
    assert set(rows["members"]) == {members}
    for m in range(members):
        alone = api.run(scenario, members=1, first_member=m, seed=seed)
        mine = alone.events[alone.events["event"] == "beijing-trilateral"]
        assert set(mine["date"]) == {logged}, f"member {m}"


# ---------------------------------------------------------------------------------------------
# Quantiles


@settings(max_examples=4, deadline=None)
@given(seed=root_seeds, members=st.integers(2, 40))
def test_quantile_table_is_numpy_percentile_over_members(whatif, seed, members):
    res = api.run(whatif, members=members, seed=seed)
    ids = list(res.actors)
    dates = weekly_boundaries(ARTICLE_START, ARTICLE_END)
    assert res.dates == dates
    rows = []
    for t, day in enumerate(dates):
        for (i, a), (j, b) in itertools.product(enumerate(ids), repeat=2):
            if i != j:
                rows.append(
                    [t, pd.Timestamp(day), a, b, *np.percentile(res.history[t, :, i, j], PERCENTS)]
                )
    expected = pd.DataFrame(
        rows, columns=["step", "date", "actor", "toward", "q05", "q25", "q50", "q75", "q95"]
    ).astype({"date": "datetime64[ns]"})
    table = res.quantile_table()
    pdt.assert_frame_equal(table, expected, check_exact=False, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.median(), np.median(res.history, axis=1), rtol=0, atol=1e-12)
    i, j = cell(res, "PAK", "AFG")
    np.testing.assert_allclose(
        res.band("PAK", "AFG"),
        np.stack([np.percentile(res.history[:, :, i, j], p, axis=1) for p in PERCENTS]),
        rtol=0,
        atol=1e-12,
    )


def test_quantiles_csv_holds_the_quantiles(whatif, tmp_path):
    res = api.run(whatif, members=25, seed=8)
    api.save(res, tmp_path / "run", plots=False)
    csv = pd.read_csv(tmp_path / "run" / "quantiles.csv", keep_default_na=False)
    ids = list(res.actors)
    assert len(csv) == len(res.dates) * len(ids) * (len(ids) - 1)
    for row in csv.itertuples():
        i, j = ids.index(row.actor), ids.index(row.toward)
        assert row.date == res.dates[row.step].isoformat()
        want = np.percentile(res.history[row.step, :, i, j], PERCENTS)
        got = [row.q05, row.q25, row.q50, row.q75, row.q95]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# What an ensemble writes, and reading it back


def test_ensemble_without_members_writes_quantiles_only(whatif, tmp_path):
    res = api.run(whatif, members=20, seed=9)
    out = api.save(res, tmp_path / "run", plots=False)
    names = {p.name for p in out.iterdir()}
    assert {"quantiles.csv", "events.csv", "manifest.json", "draws.csv"} <= names
    assert "relations.csv" not in names
    assert "members.parquet" not in names
    back = api.load(out)
    assert not back.has_members
    assert back.members == 20
    assert back.dates == res.dates
    np.testing.assert_allclose(back.median(), res.median(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(back.quantiles, res.quantiles, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="keep-members"):
        back.score_array("PAK", "AFG")


def test_ensemble_with_members_writes_members_parquet(whatif, tmp_path):
    res = api.run(whatif, members=20, seed=9, first_member=2)
    out = api.save(res, tmp_path / "run", plots=False, keep_members=True)
    names = {p.name for p in out.iterdir()}
    assert {"members.parquet", "quantiles.csv"} <= names
    assert "relations.csv" not in names
    table = pd.read_parquet(out / "members.parquet")
    assert sorted(table["member"].unique()) == list(range(2, 22))
    back = api.load(out)
    assert back.has_members
    np.testing.assert_array_equal(back.history, res.history)
    np.testing.assert_array_equal(back.median(), res.median())


def test_single_run_writes_relations_csv(whatif, tmp_path):
    res = api.run(whatif, members=1, seed=9)
    out = api.save(res, tmp_path / "run", plots=False)
    names = {p.name for p in out.iterdir()}
    assert "relations.csv" in names
    assert "members.parquet" not in names
    assert "quantiles.csv" not in names
    back = api.load(out)
    np.testing.assert_allclose(back.history, res.history, rtol=0, atol=5e-7)
    np.testing.assert_allclose(back.median(), res.median(), rtol=0, atol=5e-7)


# ---------------------------------------------------------------------------------------------
# Distributions in files: clear errors with a position


@pytest.mark.parametrize(
    ("text", "needle", "words"),
    [
        (
            HEADER + "parameters:\n  kappa_observer: {unifrom: [0.1, 0.2]}\n",
            "{unifrom",
            ["unknown distribution 'unifrom'", "did you mean 'uniform'", "normal"],
        ),
        (
            HEADER + "parameters:\n  kappa_target: {normal: [0.1]}\n",
            "{normal",
            ["normal", "two values", "got 1"],
        ),
        (
            HEADER + "parameters:\n  kappa_target: {normal: [0.1, -0.2]}\n",
            "{normal",
            ["standard deviation", ">= 0", "-0.2"],
        ),
        (
            HEADER + "parameters:\n  kappa_target: {uniform: [0.3, 0.1]}\n",
            "{uniform",
            ["uniform", "lo must not exceed hi"],
        ),
        (
            HEADER.replace("IND -> PAK: -0.5", "IND -> PAK: {uniform: [-1.5, 0.0]}"),
            "{uniform",
            ["must lie in [-1, 1]", "-1.5"],
        ),
        (
            HEADER
            + "events:\n  - id: e\n    date: {normal: [2025-01-10, 2025-01-20]}\n"
            + "    type: visit\n    actor: IND\n    target: AFG\n",
            "{normal",
            ["date", "uniform", "choice", "not normal"],
        ),
        (
            HEADER
            + "events:\n  - id: e\n    date: {uniform: [2025-03-01, 2025-04-15]}\n"
            + "    type: visit\n    actor: IND\n    target: AFG\n",
            "{uniform",
            ["outside the time window", "2025-04-15", "2025-03-31"],
        ),
        (
            HEADER + "parameters:\n  memory_half_life: {uniform: [13 weeks, fortnight]}\n",
            "{uniform",
            ["duration", "'fortnight'", "26 weeks"],
        ),
    ],
    ids=[
        "unknown-kind",
        "arg-count",
        "negative-sd",
        "lo-above-hi",
        "score-outside",
        "normal-date",
        "date-window-outside",
        "bad-duration",
    ],
)
def test_bad_distribution_is_reported_with_its_position(write_scenario, text, needle, words):
    path = write_scenario(text)
    with pytest.raises(ScenarioError) as info:
        stances.load_scenario(path)
    problems = info.value.problems
    assert len(problems) == 1
    problem = problems[0]
    line, col = position_of(text, needle)
    assert (problem.pos.line, problem.pos.col) == (line, col)
    assert str(problem).startswith(f"{path}:{line}:{col}:")
    for word in words:
        assert word in problem.message, (word, problem.message)


def test_every_distribution_form_loads(write_scenario):
    text = HEADER.replace("IND -> PAK: -0.5", "IND -> PAK: {choice: [-0.5, -0.2, 0.1]}").replace(
        "  AFG -> PAK: 0.2\n", "  AFG -> PAK: 0.2\n  AFG <-> IND: {normal: [0.1, 0.2]}\n"
    ) + (
        "parameters:\n"
        "  kappa_target: {normal: [0.5, 0.1]}\n"
        "  memory_half_life: {choice: [13 weeks, 1 year]}\n"
        "  noise: {uniform: [0.0, 0.05]}\n"
        "events:\n"
        "  - id: e\n"
        "    date: {choice: [2025-02-03, 2025-01-06]}\n"
        "    type: visit\n"
        "    actor: IND\n"
        "    target: AFG\n"
        "    intensity: {uniform: [0.5, 2]}\n"
    )
    scenario = stances.load_scenario(write_scenario(text))
    got = {u.label: (u.distribution.kind, u.distribution.args) for u in scenario.uncertain}
    assert got == {
        "relations.IND -> PAK": ("choice", (-0.5, -0.2, 0.1)),
        "relations.AFG <-> IND": ("normal", (0.1, 0.2)),
        "parameters.kappa_target": ("normal", (0.5, 0.1)),
        "parameters.memory_half_life": ("choice", (13 * 7.0, 365.25)),
        "parameters.noise": ("uniform", (0.0, 0.05)),
        "events[e].date": (
            "choice",
            (date(2025, 2, 3).toordinal(), date(2025, 1, 6).toordinal()),
        ),
        "events[e].intensity": ("uniform", (0.5, 2.0)),
    }
    res = api.run(scenario, members=30, seed=1)
    draws = res.draws
    rel = draws.loc[draws["value_of"] == "relations.IND -> PAK", "value"]
    assert set(rel) <= {-0.5, -0.2, 0.1} and len(set(rel)) > 1
    days = draws.loc[draws["value_of"] == "events[e].date", "value"]
    assert set(days) == {date(2025, 2, 3).toordinal(), date(2025, 1, 6).toordinal()}
    # 'A <-> B': both directions take the member's one draw
    i, j = cell(res, "AFG", "IND")
    np.testing.assert_array_equal(res.history[0, :, i, j], res.history[0, :, j, i])
    assert len(np.unique(res.history[0, :, i, j])) > 1


# ---------------------------------------------------------------------------------------------
# Noise


FIRST_RULES_YAML = "  entrenchment: false\n  observers: plain\n  baseline_half_life: null\n"


def quiet_scenario(directory, first_rules: bool = False):
    """The minimal scenario with no events and noise 0.05 (under the first rules if asked)."""
    path = directory / ("quiet-first.yaml" if first_rules else "quiet.yaml")
    extra = FIRST_RULES_YAML if first_rules else ""
    path.write_text(HEADER + "parameters:\n  noise: 0.05\n" + extra, encoding="utf-8")
    return stances.load_scenario(path)


@pytest.fixture(scope="module")
def quiet(tmp_path_factory):
    """The minimal scenario with no events and noise 0.05, default rules."""
    return quiet_scenario(tmp_path_factory.mktemp("quiet"))


@settings(max_examples=25, deadline=None)
@given(noise=shares, seed=root_seeds)
def test_noisy_scores_stay_in_range(article, noise, seed):
    model = StanceModel(article.with_parameters(noise=noise), rng=seed, members=3, collect=False)
    model.run()
    h = model.history
    assert np.isfinite(h).all()
    assert (np.abs(h) <= 1.0).all()
    n = h.shape[-1]
    assert (h[:, :, np.arange(n), np.arange(n)] == 0).all()


@pytest.mark.parametrize("first_rules", [False, True])
@pytest.mark.parametrize("block_values", [None, 60])
def test_noise_moves_scores_by_tanh_of_artanh_plus_noise_times_a_normal(
    tmp_path, monkeypatch, block_values, first_rules
):
    """Rebuild two members' trajectories by hand, eps drawn step by step from the member's own
    noise seed, SeedSequence(root, (m, 0)). First rules: decay of the score toward the fixed
    baseline, then R <- tanh(artanh(R) + noise * eps). Default rules: the latent affinity
    a = artanh(R) decays toward the baseline's b, the baseline follows it (half-life 104 weeks),
    then a <- a + noise * eps. The model draws eps many steps at a time: all 13 steps at once,
    or (60 values a block) two at a time."""
    if block_values:
        monkeypatch.setattr(stances.engine.model, "NOISE_BLOCK_VALUES", block_values)
    seed, members, noise = 21, 3, 0.05
    res = api.run(quiet_scenario(tmp_path, first_rules), members=members, seed=seed)
    ids = ["IND", "PAK", "AFG"]  # HEADER's actors, in file order
    assert list(res.actors) == ids
    r0 = np.zeros((3, 3))
    r0[ids.index("IND"), ids.index("PAK")] = -0.5
    r0[ids.index("AFG"), ids.index("PAK")] = 0.2
    dates = weekly_boundaries(date(2025, 1, 1), date(2025, 3, 31))
    half_life, baseline_half_life = 26 * 7, 104 * 7  # the defaults, in days
    for m in (0, 2):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(m, 0)))
        r, a, b = r0.copy(), np.arctanh(r0), np.arctanh(r0)
        expected = [r0.copy()]
        for start, end in itertools.pairwise(dates):
            days = (end - start).days
            eps = rng.standard_normal((3, 3))
            np.fill_diagonal(eps, 0.0)
            if first_rules:
                r = r0 + (r - r0) * 0.5 ** (days / half_life)
                r = np.tanh(np.arctanh(r) + noise * eps)
                expected.append(r.copy())
            else:
                a = b + (a - b) * 0.5 ** (days / half_life)
                b = a + (b - a) * 0.5 ** (days / baseline_half_life)
                a = a + noise * eps
                expected.append(np.tanh(a))
        np.testing.assert_allclose(res.history[:, m], np.array(expected), rtol=0, atol=1e-12)


def test_spread_across_members_grows_without_events(quiet):
    res = api.run(quiet, members=200, seed=4)
    n = res.history.shape[-1]
    off = ~np.eye(n, dtype=bool)
    spread = res.history.std(axis=1)[:, off].mean(axis=1)  # (steps + 1,)
    steps = len(spread) - 1
    assert all(np.array_equal(res.history[0, m], res.history[0, 0]) for m in range(200))
    assert spread[0] < 1e-12
    assert 0 < spread[1] < spread[steps // 2] < spread[steps]
    # near 0 a step's move has standard deviation about `noise`
    i, j = cell(res, "IND", "AFG")
    assert abs(res.history[1, :, i, j].std() / 0.05 - 1) < 0.15


def test_noise_zero_gives_identical_members(article):
    res = api.run(article, members=10, seed=3)
    assert all(np.array_equal(res.history[:, m], res.history[:, 0]) for m in range(10))
    noisy = api.run(article.with_parameters(noise=0.02), members=10, seed=3)
    assert not np.array_equal(noisy.history[:, 1], noisy.history[:, 0])


# ---------------------------------------------------------------------------------------------
# Sweeps


@pytest.mark.parametrize(
    "text",
    [
        "parameters.kappa_observer",
        "=0.1,0.2",
        "parameters.kappa_observer=",
        "parameters.kappa_observer= , ,",
        " =0.1",
    ],
)
def test_parse_vary_rejects_malformed_text(text):
    with pytest.raises(ValueError, match=r"expected KEY=V1,V2"):
        parse_vary(text)


def test_parse_vary_splits_and_strips():
    assert parse_vary(" parameters.noise = 0.1, 0.2,,0.3 ") == (
        "parameters.noise",
        ["0.1", "0.2", "0.3"],
    )


def test_grid_of_two_keys():
    points = grid([("a", ["1", "2", "3"]), ("b", ["x", "y"])])
    assert points == [
        {"a": "1", "b": "x"},
        {"a": "1", "b": "y"},
        {"a": "2", "b": "x"},
        {"a": "2", "b": "y"},
        {"a": "3", "b": "x"},
        {"a": "3", "b": "y"},
    ]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.lists(
            st.text("0123456789.", min_size=1, max_size=4), min_size=1, max_size=4, unique=True
        ),
        min_size=1,
        max_size=3,
    )
)
def test_grid_has_every_combination_once_first_key_slowest(values):
    varied = [(f"key{k}", v) for k, v in enumerate(values)]
    points = grid(varied)
    assert len(points) == int(np.prod([len(v) for v in values]))
    combos = [tuple(p[f"key{k}"] for k in range(len(values))) for p in points]
    assert len(set(combos)) == len(combos)
    # first key slowest: the points are in the lexicographic order of value positions
    positions = [tuple(values[k].index(c[k]) for k in range(len(values))) for c in combos]
    assert positions == sorted(positions)


def test_cli_sweep_writes_table_and_plots(files, tmp_path, capsys):
    path, key, values = files["whatif"], "parameters.kappa_observer", ["0.05", "0.3"]
    out = tmp_path / "sweep"
    code = main(
        [
            "sweep",
            str(path),
            "--vary",
            f"{key}={','.join(values)}",
            "--runs",
            "20",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    capsys.readouterr()
    table = pd.read_csv(out / "sweep.csv", dtype={key: str})
    dyads = list(dict.fromkeys(zip(table["actor"], table["toward"], strict=True)))
    assert len(dyads) >= 1
    assert len(table) == len(values) * len(dyads)
    assert list(table[key]) == [v for v in values for _ in dyads]
    for v in values:
        rows = table[table[key] == v]
        assert list(zip(rows["actor"], rows["toward"], strict=True)) == dyads
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == sorted(f"sweep-{a}-{b}.png" for a, b in dyads)
    assert all((out / name).read_bytes().startswith(PNG) for name in pngs)
    for v in values:
        res = api.run(stances.load_scenario(path, {key: v}), members=20)
        assert res.manifest["seed"] == ARTICLE_SEED
        for row in table[table[key] == v].itertuples():
            i, j = cell(res, row.actor, row.toward)
            finals = res.history[-1, :, i, j]
            assert abs(row.final_median - np.median(finals)) <= 1e-6
            assert abs(row.final_q05 - np.percentile(finals, 5)) <= 1e-6
            assert abs(row.final_q95 - np.percentile(finals, 95)) <= 1e-6
    # the varied value matters: the two points differ on some dyad
    medians = table.pivot_table(index=["actor", "toward"], columns=key, values="final_median")
    assert (medians[values[0]] != medians[values[1]]).any()


def test_cli_sweep_with_bad_vary_exits_2(files, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", str(files["whatif"]), "--vary", "kappa_observer", "--out", str(out)]) == 2
    assert "expected KEY=V1,V2" in capsys.readouterr().err
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# Comparing ensembles


def share_above(ref: np.ndarray, var: np.ndarray, paired: bool) -> float:
    """Count by hand the futures in which var ends above ref."""
    if paired:
        return sum(1 for a, b in zip(ref, var, strict=True) if b > a) / len(ref)
    return sum(1 for a in ref for b in var if b > a) / (len(ref) * len(var))


@pytest.fixture(scope="module")
def variant(files):
    path = write(
        files["whatif"].parent,
        "variant.yaml",
        f"""\
title: Strong observers
extends: {files["whatif"]}
parameters:
  kappa_observer: {{uniform: [0.3, 0.5]}}
""",
    )
    return path


def test_p_above_pairs_members_by_index(whatif, variant):
    ref = api.run(whatif, members=30, seed=5)
    var = api.run(stances.load_scenario(variant), members=30, seed=5)
    other = api.run(stances.load_scenario(variant), members=20, seed=5)
    comparison = Comparison(["ref", "var", "other"], [ref, var, other])
    ids = list(ref.actors)
    differs = False
    for a, b in itertools.permutations(ids, 2):
        i, j = ids.index(a), ids.index(b)
        r, v, o = ref.history[-1, :, i, j], var.history[-1, :, i, j], other.history[-1, :, i, j]
        paired = share_above(r, v, paired=True)
        assert comparison.p_above(1, (a, b)) == pytest.approx(paired, abs=1e-12)
        assert comparison.p_above(2, (a, b)) == pytest.approx(
            share_above(r, o, paired=False), abs=1e-12
        )
        differs |= paired != share_above(r, v, paired=False)
    assert differs  # pairing by index is not the same as comparing every pair
    table = comparison.final_table([("PAK", "AFG")], 0.05)
    row = table[table["scenario"] == "var"].iloc[0]
    i, j = ids.index("PAK"), ids.index("AFG")
    assert row["p_above"] == pytest.approx(
        share_above(ref.history[-1, :, i, j], var.history[-1, :, i, j], paired=True)
    )
    assert np.isnan(table[table["scenario"] == "ref"].iloc[0]["p_above"])


def test_p_above_is_none_without_members(whatif, variant, tmp_path):
    saved = api.save(api.run(whatif, members=20, seed=5), tmp_path / "run", plots=False)
    back = api.load(saved)
    var = api.run(stances.load_scenario(variant), members=20, seed=5)
    comparison = Comparison(["ref", "var"], [back, var])
    assert comparison.p_above(1, ("PAK", "AFG")) is None
    table = comparison.final_table([("PAK", "AFG")], 0.05)
    assert table["p_above"].isna().all()


def test_cli_compare_prints_na_for_a_run_saved_without_members(files, variant, tmp_path, capsys):
    run_dir = tmp_path / "run"
    common = ["--runs", "20", "--seed", "5", "--no-plots"]
    assert main(["run", str(files["whatif"]), "--out", str(run_dir), *common]) == 0
    capsys.readouterr()
    out = tmp_path / "compare"
    assert main(["compare", str(run_dir), str(variant), "--runs", "20", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    lines = [line for line in text.splitlines() if re.match(r"\s+[A-Z]+ -> [A-Z]+ ", line)]
    assert lines
    assert all("n/a" in line and "%" not in line for line in lines), text
    final = pd.read_csv(out / "final.csv")
    assert final["p_above"].isna().all()


def test_cli_compare_with_kept_members_writes_p_above(files, variant, tmp_path, capsys):
    run_dir = tmp_path / "run"
    common = ["--runs", "20", "--no-plots", "--keep-members"]
    assert main(["run", str(files["whatif"]), "--out", str(run_dir), *common]) == 0
    out = tmp_path / "compare"
    code = main(
        ["compare", str(run_dir), str(variant), "--runs", "20", "--seed", "5", "--out", str(out)]
    )
    # --seed applies to scenario files only, so the CLI refuses it beside a run directory
    assert code == 2
    assert "--seed" in capsys.readouterr().err
    assert main(["compare", str(run_dir), str(variant), "--runs", "20", "--out", str(out)]) == 0
    capsys.readouterr()
    ref = api.load(run_dir)
    var = api.run(stances.load_scenario(variant), members=20)
    final = pd.read_csv(out / "final.csv")
    ids = list(ref.actors)
    rows = final[final["scenario"] == "variant"]
    assert len(rows) > 0
    for row in rows.itertuples():
        i, j = ids.index(row.actor), ids.index(row.toward)
        want = share_above(ref.history[-1, :, i, j], var.history[-1, :, i, j], paired=True)
        assert row.p_above == pytest.approx(want, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# Dask


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip(
        "dask.distributed", reason="the dask extra sends batches to a Dask cluster"
    )
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        yield cluster
    finally:
        cluster.close()


def test_dask_gives_the_same_result_as_a_local_run(dask_cluster, whatif, reactive):
    address = dask_cluster.scheduler_address
    local = api.run(whatif, members=30, seed=4)
    remote = api.run(whatif, members=30, seed=4, batch=7, dask=address)
    assert np.array_equal(remote.history, local.history)
    pdt.assert_frame_equal(remote.draws, local.draws, check_exact=True)
    pdt.assert_frame_equal(remote.events, local.events, check_exact=True)
    local = api.run(reactive, members=6, seed=4)
    remote = api.run(reactive, members=6, seed=4, batch=2, dask=address)
    assert np.array_equal(remote.history, local.history)


def test_noise_drawn_in_blocks_gives_a_member_the_same_path_in_any_batch(quiet):
    """Noise is drawn many steps at a time, in blocks whose length depends on the batch; over
    two years (more steps than one block) a member still moves exactly as it does alone."""
    spec = stances.load_scenario(quiet.path, {"time.end": "2026-12-31"})
    assert len(spec.step_dates()) - 1 > 64  # longer than the longest block
    batch = StanceModel(spec, members=4000, rng=5, collect=False)
    batch.run()
    for member in (0, 3999):
        alone = StanceModel(spec, members=1, first_member=member, rng=5, collect=False)
        alone.run()
        np.testing.assert_array_equal(alone.history[:, 0], batch.history[:, member])
