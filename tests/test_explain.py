"""Attribution (analysis.explain, `stances explain`): each coalition is a real run without the
other events, the contributions add up, symmetric events share equally, and bad requests are
refused before anything runs."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import stances
from stances.analysis.explain import ExplainError, explain
from stances.cli import main
from tests.helpers import write

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "scenarios" / "article.yaml"
REACTIVE = ROOT / "scenarios" / "article-reactive.yaml"
UNCERTAIN = ROOT / "benchmarks" / "article-uncertain.yaml"

SMALL = """\
title: Two equal visits and a strike
actors: {A: {name: Alpha}, B: {name: Beta}, C: {name: Gamma}}
time: {start: 2025-01-05, end: 2025-03-30, step: week}
relations:
  A <-> B: 0.1
  A <-> C: -0.2
  B <-> C: 0.3
events:
  - {id: visit-one, date: 2025-01-20, type: visit, actor: A, target: B}
  - {id: visit-two, date: 2025-01-20, type: visit, actor: A, target: B}
  - {id: strike, date: 2025-02-10, type: airstrike, actor: C, target: B}
  - {id: call, date: 2025-03-03, type: phone_call, actor: B, target: C}
"""


@pytest.fixture(scope="module")
def article():
    return stances.load_scenario(ARTICLE)


@pytest.fixture(scope="module")
def explained(article):
    return explain(article, [("AFG", "PAK"), ("IND", "AFG"), ("CHN", "PAK")])


def without(tmp_path: Path, parent: Path, ids: list[str], name: str) -> Path:
    """A what-if of `parent` that removes the events `ids` (the loader's own path)."""
    text = f"title: without some\nextends: {parent}\n"
    text += "remove: [" + ", ".join(ids) + "]\n" if ids else ""
    return write(tmp_path, name, text)


def scores_of(path: Path, dyads) -> np.ndarray:
    """(T + 1, D) scores of a single run of the file, read off its Result."""
    result = stances.run(stances.load_scenario(path))
    return np.stack([result.score_array(a, b)[:, 0] for a, b in dyads], axis=1)


def test_contributions_add_up_to_all_minus_none_at_every_date(explained):
    gap = explained.full - explained.none
    np.testing.assert_allclose(explained.values.sum(axis=0), gap, rtol=0, atol=1e-9)
    assert np.abs(gap).max() > 0.1  # the events do move these scores


def test_the_full_and_empty_coalitions_are_the_run_and_the_run_without_events(
    explained, article, tmp_path
):
    full = scores_of(ARTICLE, explained.dyads)
    ids = [e.id for e in article.events]
    none = scores_of(without(tmp_path, ARTICLE, ids, "none.yaml"), explained.dyads)
    np.testing.assert_allclose(explained.full, full, atol=1e-12)
    np.testing.assert_allclose(explained.none, none, atol=1e-12)


def test_leaving_one_event_out_is_the_what_if_that_removes_it(explained, article, tmp_path):
    for e in (0, 5, len(article.events) - 1):
        event = article.events[e]
        path = without(tmp_path, ARTICLE, [event.id], f"without-{e}.yaml")
        np.testing.assert_allclose(
            explained.full - explained.leave_one_out[e],
            scores_of(path, explained.dyads),
            atol=1e-12,
        )


def test_exact_values_are_the_brute_force_average_over_orders_of_real_runs(tmp_path):
    # four events: 24 orders of what-if files, each coalition loaded and run on its own
    path = write(tmp_path, "small.yaml", SMALL)
    scenario = stances.load_scenario(path)
    ids = [e.id for e in scenario.events]
    dyads = [("B", "A"), ("B", "C"), ("A", "C")]
    runs = {}
    for size in range(len(ids) + 1):
        for kept in itertools.combinations(range(len(ids)), size):
            gone = [ids[i] for i in range(len(ids)) if i not in kept]
            runs[frozenset(kept)] = scores_of(
                without(tmp_path, path, gone, f"c{len(runs)}.yaml"), dyads
            )[-1]
    brute = np.zeros((len(ids), len(dyads)))
    for order in itertools.permutations(range(len(ids))):
        held: set[int] = set()
        for i in order:
            before = runs[frozenset(held)]
            held.add(i)
            brute[i] += runs[frozenset(held)] - before
    brute /= 24
    x = explain(scenario, dyads)
    np.testing.assert_allclose(x.values[:, -1], brute, atol=1e-12)


def test_two_identical_events_share_equally_and_an_event_that_touches_nothing_gets_zero(
    tmp_path,
):
    scenario = stances.load_scenario(write(tmp_path, "small.yaml", SMALL))
    x = explain(scenario, [("B", "A"), ("A", "B"), ("C", "A")])
    np.testing.assert_allclose(x.values[0], x.values[1], atol=1e-12)
    assert abs(x.values[0, -1, 0]) > 0.01
    # B's call to C changes nothing between A and B before it happens
    before_call = max(k for k, d in enumerate(x.dates) if d <= scenario.events[3].date)
    np.testing.assert_allclose(x.values[3, :before_call], 0.0, atol=1e-15)


def test_sampled_orders_add_up_exactly_and_agree_with_exact_within_their_errors(explained, article):
    sampled = explain(article, list(explained.dyads), orders=300)
    assert sampled.orders == 300 and sampled.stderr is not None
    gap = sampled.full - sampled.none
    np.testing.assert_allclose(sampled.values.sum(axis=0), gap, atol=1e-9)
    np.testing.assert_allclose(sampled.full, explained.full, atol=1e-12)
    np.testing.assert_allclose(sampled.leave_one_out, explained.leave_one_out, atol=1e-12)
    miss = np.abs(sampled.values - explained.values)
    assert (miss <= 4.5 * sampled.stderr + 1e-9).all()


def test_every_coalition_copies_the_chosen_member_of_an_uncertain_file():
    scenario = stances.load_scenario(UNCERTAIN)
    dyads = [("AFG", "PAK"), ("PAK", "AFG")]
    ensemble = stances.run(scenario, members=4)
    x = explain(scenario, dyads, member=3)
    for d, (a, b) in enumerate(dyads):
        np.testing.assert_allclose(x.full[:, d], ensemble.score_array(a, b)[:, 3], atol=1e-12)
    np.testing.assert_allclose(x.values.sum(axis=0), x.full - x.none, atol=1e-9)


def test_actors_that_decide_re_decide_in_every_coalition():
    x = explain(stances.load_scenario(REACTIVE), [("AFG", "PAK")])
    assert x.decided
    np.testing.assert_allclose(x.values.sum(axis=0), x.full - x.none, atol=1e-9)
    run = stances.run(stances.load_scenario(REACTIVE))
    np.testing.assert_allclose(x.full[:, 0], run.score_array("AFG", "PAK")[:, 0], atol=1e-12)


def test_default_dyads_are_those_the_events_move_furthest(article, tmp_path):
    x = explain(article, most=3)
    ids = [e.id for e in article.events]
    dyads = list(itertools.permutations(article.actor_ids, 2))
    full = scores_of(ARTICLE, dyads)
    none = scores_of(without(tmp_path, ARTICLE, ids, "none.yaml"), dyads)
    furthest = np.abs(full - none).max(axis=0)
    ranked = [dyads[i] for i in np.argsort(-furthest, kind="stable")]
    assert list(x.dyads) == ranked[:3]


def test_table_has_a_row_per_dyad_moment_and_event_and_dates_as_datetimes(explained):
    table = explained.table()
    assert len(table) == len(explained.dyads) * 2 * len(explained.events)
    assert set(table["moment"]) == {"end", "largest departure"}
    assert pd.api.types.is_datetime64_any_dtype(table["date"])
    one = table[(table["dyad"] == "AFG -> PAK") & (table["moment"] == "end")]
    assert one["shapley"].sum() == pytest.approx(
        float(one["with_events"].iloc[0] - one["without_events"].iloc[0]), abs=1e-9
    )


def test_unknown_dyads_and_dates_outside_the_window_are_refused(article):
    with pytest.raises(ExplainError) as info:
        explain(article, [("AFG", "XYZ")], at=article.time.end.replace(year=2030))
    messages = [str(p) for p in info.value.problems]
    assert len(messages) == 2
    assert any("unknown actor 'XYZ'" in m for m in messages)
    assert any("outside the window" in m for m in messages)


def test_cli_writes_the_table_and_a_waterfall_per_dyad(tmp_path, capsys):
    out = tmp_path / "why"
    code = main(["explain", str(ARTICLE), "--dyads", "AFG<->PAK", "--out", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "explain-AFG-PAK.png",
        "explain-PAK-AFG.png",
        "explain.csv",
        "manifest.json",
    ]
    printed = capsys.readouterr().out
    assert "exact Shapley values over 13 events (8,192 coalitions)" in printed
    table = pd.read_csv(out / "explain.csv")
    assert set(table["dyad"]) == {"AFG -> PAK", "PAK -> AFG"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dyads", "AFG->XYZ"], "unknown actor 'XYZ'"),
        (["--at", "2031-01-01"], "outside the window"),
        (["--orders", "1"], "--orders must be between 2"),
        (["--member", "-1"], "--member must be between 0"),
        (["--top", "0"], "--top must be at least 1"),
    ],
)
def test_cli_refuses_bad_requests_with_one_line_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "why"
    code = main(["explain", str(ARTICLE), "--out", str(out), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_a_lasting_event_left_out_of_a_coalition_stops_pressing_too(tmp_path):
    text = SMALL.replace(
        "  - {id: strike, date: 2025-02-10, type: airstrike, actor: C, target: B}",
        "  - {id: strike, date: 2025-02-10, until: 2025-03-20, type: airstrike, actor: C, target: B}",
    )
    path = write(tmp_path, "lasting.yaml", text)
    scenario = stances.load_scenario(path)
    dyads = [("B", "C"), ("A", "C")]
    x = explain(scenario, dyads)
    e = [ev.id for ev in scenario.events].index("strike")
    alone_out = scores_of(without(tmp_path, path, ["strike"], "no-strike.yaml"), dyads)
    np.testing.assert_allclose(x.full - x.leave_one_out[e], alone_out, atol=1e-12)
    np.testing.assert_allclose(x.values.sum(axis=0), x.full - x.none, atol=1e-9)
