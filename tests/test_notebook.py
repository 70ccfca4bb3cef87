"""The example notebook (docs/notebook.ipynb) runs from top to bottom, and a Result, a
Scenario and their figures show themselves in a notebook."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import nbformat
import numpy as np
import pytest
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
        scores.sel(actor="AFG", toward="PAK").values.T, result.score("AFG", "PAK")
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
