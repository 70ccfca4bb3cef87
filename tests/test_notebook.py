"""The example notebook (docs/notebook.ipynb) runs from top to bottom, and a Result, a
Scenario and their figures show themselves in a notebook."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import HEADER
from nbclient import NotebookClient

import stances

ROOT = Path(__file__).resolve().parents[1]


def test_the_example_notebook_runs_and_shows_its_figures():
    notebook = nbformat.read(ROOT / "docs" / "notebook.ipynb", as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "docs")}},
    ).execute()
    code = [c for c in notebook.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # the dyad, the comparison and the waterfall
    shown = " ".join(o.get("data", {}).get("text/html", "") for c in code for o in c.outputs)
    assert "AFG -&gt; PAK" in shown  # the Result's table of largest changes


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def test_a_result_shows_a_table_and_its_figure_and_a_one_line_repr():
    result = stances.run()
    text = repr(result)
    assert text.startswith("<Result ") and "\n" not in text and len(text) < 300
    assert "largest change AFG -> PAK -0.30 -> -0.55" in text
    parser = Tags()
    parser.feed(result._repr_html_())
    assert parser.tags.count("tr") == 7 and "img" in parser.tags  # header + six changes


def test_scores_as_xarray_have_dims_member_date_actor_toward():
    result = stances.run(members=3, scenario=ROOT / "benchmarks" / "article-uncertain.yaml")
    scores = result.to_xarray()
    assert scores.dims == ("member", "date", "actor", "toward")
    assert np.issubdtype(scores["date"].dtype, np.datetime64)
    np.testing.assert_array_equal(
        scores.sel(actor="AFG", toward="PAK").values.T, result.score_array("AFG", "PAK")
    )


def test_an_unknown_actor_gets_the_loaders_did_you_mean():
    result = stances.run()
    with pytest.raises(KeyError, match=r"unknown actor 'PAKI' \(did you mean 'PAK'\?\)"):
        result.score("AFG", "PAKI")
    with pytest.raises(ValueError, match="did you mean"):
        result.plot.dyad("AFGH", "PAK")


def test_plot_accessor_returns_the_cli_figures():
    result = stances.run()
    for figure in (result.plot(), result.plot.matrix(), result.plot.dyad("AFG", "PAK")):
        assert figure.axes
    assert len(result.plot.dyad("AFG", "PAK").axes) == 2  # the pair's panel and the timeline


def _from_relations(result: stances.Result, a: str, b: str) -> pd.DataFrame:
    """The tidy relations table's rows of one dyad, wide: date x member."""
    rows = result.relations[(result.relations["actor"] == a) & (result.relations["toward"] == b)]
    return rows.pivot(index="date", columns="member", values="score")


def test_a_one_member_score_is_a_series_indexed_by_date():
    result = stances.run()
    series = result.score("PAK", "AFG")
    assert isinstance(series, pd.Series) and series.name == "PAK -> AFG"
    assert series.index.name == "date" and series.index.dtype == "datetime64[ns]"
    expected = _from_relations(result, "PAK", "AFG")[0]
    np.testing.assert_array_equal(series.to_numpy(), expected.to_numpy())
    assert list(series.index) == list(expected.index)
    # the Paktika strike (24 Dec 2024 in the article scenario) lowers the score on that step
    before = series[: pd.Timestamp("2024-12-24")].iloc[-1]
    after = series[pd.Timestamp("2024-12-25") :].iloc[0]
    assert after < before


def test_an_ensemble_score_is_a_frame_of_members_or_one_members_series():
    result = stances.run(ROOT / "benchmarks" / "article-uncertain.yaml", members=3, first_member=5)
    frame = result.score("AFG", "PAK")
    assert isinstance(frame, pd.DataFrame)
    assert frame.columns.name == "member" and list(frame.columns) == [5, 6, 7]
    wide = _from_relations(result, "AFG", "PAK")
    np.testing.assert_array_equal(frame.to_numpy(), wide.to_numpy())
    member = result.score("AFG", "PAK", member=6)
    np.testing.assert_array_equal(member.to_numpy(), wide[6].to_numpy())
    with pytest.raises(KeyError, match=r"no member 4: this run has members 5\.\.7"):
        result.score("AFG", "PAK", member=4)


SCENARIOS = ROOT / "src" / "stances" / "scenarios"


def test_a_comparison_names_its_largest_gap_found_by_brute_force():
    ref, var = stances.run(SCENARIOS / "article.yaml"), stances.run(SCENARIOS / "no-mediation.yaml")
    comparison = stances.compare([ref, var], labels=["article", "<b>no</b>"])
    # brute force: every ordered pair, every shared date (both runs have the same dates here)
    assert ref.dates == var.dates
    gaps = {
        (a, b, t): var.score_array(a, b)[t, 0] - ref.score_array(a, b)[t, 0]
        for a in ref.actor_ids
        for b in ref.actor_ids
        if a != b
        for t in range(len(ref.dates))
    }
    (a, b, t), size = max(gaps.items(), key=lambda kv: abs(kv[1]))
    text = repr(comparison)
    assert (
        text.startswith("<Comparison article vs <b>no</b>: IND CHN PAK AFG;") and "\n" not in text
    )
    assert f"largest gap {a} -> {b} {size:+.2f} on {ref.dates[t]}" in text
    page = comparison._repr_html_()
    assert "<b>no</b>" not in page and "&lt;b&gt;no&lt;/b&gt;" in page  # labels are escaped
    parser = Tags()
    parser.feed(page)
    table = comparison.largest_gaps()
    assert list(table.columns[:5]) == ["scenario", "actor", "toward", "gap", "on"]
    top = table.iloc[0]
    assert (top["actor"], top["toward"], top["on"]) == (a, b, pd.Timestamp(ref.dates[t]))
    assert top["gap"] == pytest.approx(size, abs=1e-12)
    assert top["final_scenario"] == pytest.approx(var.score_array(a, b)[-1, 0], abs=1e-12)
    moved = {(a, b) for (a, b, _), g in gaps.items() if abs(g) > 1e-6}
    assert len(table) == min(6, len(moved))
    assert parser.tags.count("img") == 1 and parser.tags.count("tr") == 1 + min(6, len(moved))


def test_a_comparison_of_a_scenario_with_itself_says_no_score_differs():
    result = stances.run()
    comparison = stances.compare([result, result], labels=["a", "b"])
    assert "largest gap" not in repr(comparison)
    assert "No score differs" in comparison._repr_html_()


def test_a_model_shows_its_current_scores_as_a_table():
    model = stances.StanceModel(SCENARIOS / "article.yaml")
    model.step()
    page = model._repr_html_()
    ids = model.spec.actor_ids
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
    assert len(cells) == len(ids) ** 2
    scores = model.R.mean(axis=0)
    expected = ["" if i == j else f"{scores[i, j]:+.2f}" for i in range(4) for j in range(4)]
    assert cells == expected
    assert f"scores on {model.dates[1]}" in page and "&#x27;" in page  # the title's quote, escaped


def test_a_scenario_shows_its_actors_and_events_in_date_order(write_scenario):
    text = HEADER + (
        "events:\n"
        "  - {id: later, date: 2025-02-10, type: visit, actor: IND, target: AFG,"
        " label: '<script>x</script> visit'}\n"
        "  - {id: sooner, date: 2025-01-05, type: deport, actor: PAK, target: AFG,"
        " until: 2025-01-30}\n"
    )
    scenario = stances.load_scenario(write_scenario(text))
    page = scenario._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt; visit" in page
    rows = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td><td>([^<]*)</td>", page)
    assert rows == [
        ("2025-01-05", "sooner"),
        ("2025-02-10", "&lt;script&gt;x&lt;/script&gt; visit"),
    ]
    assert "<td>2025-01-30</td>" in page  # until, for the lasting deportation
    assert "<b>PAK</b> Pakistan" in page


def test_a_comparison_draws_the_cli_figures_of_the_pairs_that_differ():
    comparison = stances.compare([SCENARIOS / "article.yaml", SCENARIOS / "no-mediation.yaml"])
    differ = comparison.dyads_that_differ()
    for figure in (comparison.plot(), comparison.plot.difference()):
        titles = [ax.get_title(loc="left") for ax in figure.axes if ax.get_title(loc="left")]
        assert len(titles) == len(differ)
    one = comparison.plot([("AFG", "PAK")])
    assert [ax.get_title(loc="left") for ax in one.axes if ax.get_title(loc="left")] == [
        "how Taliban administration (Afghanistan) regards Pakistan"
    ]
    with pytest.raises(ValueError, match=r"actor 'AFGH' is in no compared scenario"):
        comparison.plot([("AFGH", "PAK")])
    with pytest.raises(ValueError, match="no issue position differs"):
        comparison.plot.stances()
