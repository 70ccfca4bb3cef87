"""Compare without hiding differences: largest gaps over time, paired ensembles, the share
above the reference without an all-pairs matrix, actors present in only some scenarios, and a
scenario compared with itself.

Expected values come from hand-built member arrays (a gap written in by hand, members chosen
so that the median of differences and the difference of medians disagree) and brute-force
counts over every pair of members.
"""

from __future__ import annotations

import shutil
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import write
from hypothesis import given, settings
from hypothesis import strategies as st

import stances
from stances.analysis.compare import Comparison, share_above, share_above_paired
from stances.cli import main
from stances.result import Result
from stances.scenario import load_scenario
from stances.text import final_text

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

DATES = [date(2025, 1, 1) + timedelta(weeks=t) for t in range(8)]


def fake(
    scores: dict[tuple[str, str], np.ndarray],
    actors: str = "AB",
    seed: int = 1,
    first: int = 0,
) -> Result:
    """A Result holding the given member scores, each (T, K); unset pairs are 0."""
    some = next(iter(scores.values()))
    t, k = some.shape
    ids = list(actors)
    history = np.zeros((t, k, len(ids), len(ids)))
    for (a, b), values in scores.items():
        history[:, :, ids.index(a), ids.index(b)] = values
    events = pd.DataFrame(
        columns=["step", "date", "event", "origin", "who", "type", "intensity", "actor", "toward"]
    )
    return Result(
        title="fake",
        actors={a: a for a in ids},
        dates=DATES[:t],
        history=history,
        events=events,
        manifest={"seed": seed, "first_member": first, "members": k},
    )


def brute_above(variant: np.ndarray, reference: np.ndarray) -> float:
    """Share of all pairs (i, j) with variant[i] > reference[j], counted one pair at a time."""
    hits = sum(1 for v in variant for r in reference if v > r)
    return hits / (len(variant) * len(reference))


# --------------------------------------------------------------------------------------------
# the share above


values = st.lists(st.integers(-3, 3).map(lambda x: x / 4), min_size=1, max_size=30)


@settings(max_examples=200, deadline=None)
@given(values, values)
def test_unpaired_share_above_is_the_all_pairs_count(variant, reference):
    v, r = np.array(variant), np.array(reference)
    assert share_above(v, r) == pytest.approx(brute_above(v, r), abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3)), min_size=1, max_size=30))
def test_paired_share_above_counts_members_strictly_above(pairs):
    v = np.array([p[0] for p in pairs], dtype=float)
    r = np.array([p[1] for p in pairs], dtype=float)
    expected = sum(1 for a, b in pairs if a > b) / len(pairs)  # ties are not above
    assert share_above_paired(v, r) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("paired", [True, False])
def test_share_above_never_builds_the_all_pairs_matrix(paired):
    k = 20_000
    rng = np.random.default_rng(7)
    ref = rng.normal(size=(2, k))
    var = rng.normal(size=(2, k if paired else k - 1))
    comparison = Comparison(["ref", "var"], [fake({("A", "B"): ref}), fake({("A", "B"): var})])
    assert (comparison.pairing(1) == "") is paired
    tracemalloc.start()
    try:
        above = comparison.p_above(1, ("A", "B"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.001 * k * k * 8  # the matrix would take 3.2 GB; this stays under 3.2 MB
    a, b = ref[-1], var[-1]
    if paired:
        assert above == pytest.approx(np.count_nonzero(b > a) / k)
    else:  # an independent count: for each variant member, the reference members below it
        below = sum(int(np.count_nonzero(a < x)) for x in b[:500])
        assert above == pytest.approx(share_above(b, a))
        assert share_above(b[:500], a) == pytest.approx(below / (500 * a.size))


# --------------------------------------------------------------------------------------------
# pairing and the paired difference


def test_paired_members_give_the_median_of_differences_not_the_difference_of_medians():
    # member k: reference 0, 1, 2 and variant 2, 0, 1 on the last date: paired differences
    # +2, -1, -1 (median -1), while both medians are 1 (difference 0)
    ref = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 2.0]])
    var = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 1.0]])
    comparison = Comparison(["ref", "var"], [fake({("A", "B"): ref}), fake({("A", "B"): var})])
    assert comparison.pairing(1) == ""
    assert comparison.difference(1, ("A", "B"))[-1] == pytest.approx(-1.0)
    band = comparison.difference_band(1, ("A", "B"))
    assert band is not None
    assert np.allclose(band[:, -1], np.percentile([2.0, -1.0, -1.0], [5, 25, 50, 75, 95]))
    assert comparison.p_above(1, ("A", "B")) == pytest.approx(1 / 3)  # member 0 only


@pytest.mark.parametrize(
    ("change", "said"),
    [({"seed": 2}, "root seed 2"), ({"first": 5}, "first member 5"), ({"members": 4}, "4 members")],
)
def test_results_not_paired_say_why_and_fall_back_to_all_pairs(change, said):
    k = change.get("members", 3)
    ref = np.array([[0.0] * 3, [0.0, 1.0, 2.0]])
    var = np.array([[0.0] * k, [2.0, 0.0, 1.0, 3.0][:k]])
    variant = fake({("A", "B"): var}, seed=change.get("seed", 1), first=change.get("first", 0))
    comparison = Comparison(["ref", "var"], [fake({("A", "B"): ref}), variant])
    assert said in comparison.pairing(1)
    assert comparison.difference_band(1, ("A", "B")) is None
    # the difference of medians, and every pair of members
    expected = np.median(var[-1]) - np.median(ref[-1])
    assert comparison.difference(1, ("A", "B"))[-1] == pytest.approx(expected)
    assert comparison.p_above(1, ("A", "B")) == pytest.approx(brute_above(var[-1], ref[-1]))
    assert any(said in n and "unpaired" in n for n in comparison.pairing_notes())
    assert "Note: " in final_text(comparison, [("A", "B")], 0.05)


def test_the_difference_figure_draws_paired_bands(tmp_path):
    from stances import plots

    rng = np.random.default_rng(3)
    ref = rng.normal(size=(8, 50))
    comparison = Comparison(
        ["ref", "var"], [fake({("A", "B"): ref}), fake({("A", "B"): ref + 0.3})]
    )
    fig = plots.difference_figure(comparison, [("A", "B")], 0.05)
    assert fig._suptitle is not None and "paired differences" in fig._suptitle.get_text().replace(
        "\n", " "
    )
    ax = fig.axes[0]
    assert len(ax.collections) == 2  # the 50 % and 90 % bands around the median difference
    line = next(x for x in ax.get_lines() if x.get_label() == "var")
    assert np.allclose(np.asarray(line.get_ydata(), dtype=float), 0.3)
    fig.savefig(tmp_path / "d.png")


# --------------------------------------------------------------------------------------------
# the largest gap


def test_the_largest_gap_and_its_date_beside_the_end_difference():
    gap = np.zeros((8, 1))
    gap[2:6, 0] = -0.5  # a removed strike: half a point apart for four weeks
    gap[-1, 0] = 0.02  # and nearly the same at the end
    small = np.zeros((8, 1))
    small[-1, 0] = 0.1  # a pair that differs more at the end, less at its largest
    ref = fake({("A", "B"): np.zeros((8, 1)), ("B", "A"): np.zeros((8, 1))})
    var = fake({("A", "B"): gap, ("B", "A"): small})
    comparison = Comparison(["ref", "var"], [ref, var])
    assert comparison.largest_gap(1, ("A", "B")) == (pytest.approx(-0.5), DATES[2])
    assert comparison.largest_gap(1, ("B", "A")) == (pytest.approx(0.1), DATES[-1])
    assert comparison.dyads_that_differ() == [("A", "B"), ("B", "A")]  # by the largest gap
    table = comparison.final_table([("A", "B")], 0.05)
    row = table[table["scenario"] == "var"].iloc[0]
    assert row["difference"] == pytest.approx(0.02)
    assert row["largest_gap"] == pytest.approx(-0.5)
    assert row["largest_gap_on"] == DATES[2].isoformat()
    assert row["parts_on"] == DATES[2].isoformat()
    text = final_text(comparison, [("A", "B")], 0.05)
    assert "largest gap (date)" in text
    line = next(x for x in text.splitlines() if x.strip().startswith("A -> B"))
    assert "+0.02" in line and f"-0.50 ({DATES[2]:%d %b %Y})" in line


# --------------------------------------------------------------------------------------------
# actors present in only some scenarios, and a scenario compared with itself


def test_an_added_actor_is_shown_against_absent():
    scores = {("A", "B"): np.zeros((8, 1)), ("C", "A"): np.linspace(0, -0.6, 8)[:, None]}
    ref = fake({("A", "B"): np.zeros((8, 1))})
    var = fake(scores, actors="ABC")
    comparison = Comparison(["ref", "var"], [ref, var])
    assert comparison.actors == ["A", "B"]
    shown = comparison.dyads_that_differ()
    assert shown[0] == ("C", "A")  # the only pair that moves: C's view of A
    assert comparison.absent_from(("C", "A")) == ["ref"]
    assert not comparison.no_score_differs()
    table = comparison.final_table([("C", "A")], 0.05)
    ref_row, var_row = table.iloc[0], table.iloc[1]
    assert not ref_row["present"] and np.isnan(ref_row["final"])
    assert var_row["present"] and var_row["final"] == pytest.approx(-0.6)
    assert np.isnan(var_row["difference"])
    line = next(
        x
        for x in final_text(comparison, shown, 0.05).splitlines()
        if "C -> A" in x and "absent" in x
    )
    assert "-0.60" in line
    assert "ref has no C" in final_text(comparison, shown, 0.05)


def test_a_scenario_compared_with_itself_says_no_score_differs(tmp_path, monkeypatch, capsys):
    shutil.copytree(SCENARIOS, tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    code = main(["compare", "scenarios/article.yaml", "scenarios/article.yaml"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "No score differs" in out
    assert "who -> whom" not in out


def test_compare_draws_an_added_actor(tmp_path, monkeypatch, capsys):
    base = SCENARIOS / "article.yaml"
    added = write(
        tmp_path,
        "turkey.yaml",
        f"title: Turkey joins\nextends: {base}\nactors:\n  TUR: {{name: Türkiye}}\n"
        "relations:\n  TUR <-> PAK: 0.5\n  TUR -> AFG: 0.1\n"
        "add:\n  - {id: tur-condemns, date: 2025-03-01, type: condemn, actor: TUR, target: AFG}\n",
    )
    monkeypatch.chdir(tmp_path)
    assert main(["compare", str(base), str(added), "--out", "cmp"]) == 0
    out = capsys.readouterr().out
    assert "TUR -> AFG" in out and "absent" in out
    table = pd.read_csv(tmp_path / "cmp" / "final.csv", keep_default_na=False)
    tur = table[(table["actor"] == "TUR") & (table["toward"] == "AFG")]
    assert list(tur["present"]) == [False, True]
    turkey = stances.run(load_scenario(added))
    assert float(tur["final"].iloc[1]) == pytest.approx(
        float(turkey.score_array("TUR", "AFG")[-1, 0]), abs=2e-6
    )
