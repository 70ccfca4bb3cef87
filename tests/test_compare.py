"""Comparing runs (stances.compare) and the `compare` and `new` commands end to end.

Expected values come from the inputs: the date of an added event and the step boundaries of the
runs, the actors and windows written in the files, and the runs' own score arrays.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import write

import stances
from stances.analysis.compare import Comparison, parse_dyads
from stances.cli import main
from stances.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
ARTICLE = SCENARIOS / "article.yaml"
PNG = b"\x89PNG\r\n\x1a\n"

STRIKE_DAY = date(2025, 6, 10)
STRIKE = f"""\
title: Another strike
extends: article.yaml
add:
  - id: extra-strike
    date: {STRIKE_DAY.isoformat()}
    type: airstrike
    actor: PAK
    target: AFG
"""


@pytest.fixture(scope="module")
def article_result() -> stances.Result:
    return stances.run(load_scenario(ARTICLE))


@pytest.fixture(scope="module")
def strike_result(tmp_path_factory) -> stances.Result:
    folder = tmp_path_factory.mktemp("strike")
    shutil.copy(ARTICLE, folder / "article.yaml")
    return stances.run(load_scenario(write(folder, "strike.yaml", STRIKE)))


@pytest.fixture(scope="module")
def strike_comparison(article_result, strike_result) -> Comparison:
    return Comparison(["article", "strike"], [article_result, strike_result])


# --------------------------------------------------------------------------------------------
# Comparison


def test_two_runs_of_one_scenario_do_not_differ(article_result):
    again = stances.run(load_scenario(ARTICLE))
    comparison = Comparison(["one", "two"], [article_result, again])
    assert comparison.dates == article_result.dates
    assert len(comparison.all_dyads()) == len(article_result.actors) * (
        len(article_result.actors) - 1
    )
    for dyad in comparison.all_dyads():
        assert np.array_equal(comparison.difference(1, dyad), np.zeros(len(comparison.dates)))
        assert comparison.parting_date(1, dyad, 0.0) is None


def test_an_added_strike_parts_the_runs_at_the_next_step_boundary(strike_comparison, strike_result):
    dates = strike_comparison.dates
    assert dates == strike_result.dates
    first_after = min(d for d in strike_result.dates if d > STRIKE_DAY)
    assert strike_comparison.parting_date(1, ("AFG", "PAK"), 0.05) == first_after
    before = [i for i, d in enumerate(dates) if d <= STRIKE_DAY]
    assert before, "the strike must fall inside the window"
    for dyad in strike_comparison.all_dyads():
        diff = strike_comparison.difference(1, dyad)
        assert np.all(diff[before] == 0.0), dyad
        parted = strike_comparison.parting_date(1, dyad, 0.05)
        assert parted is None or parted >= first_after


def test_the_dyad_moved_most_by_the_added_event_ranks_first(strike_comparison, strike_result):
    rows = strike_result.events[strike_result.events["event"] == "extra-strike"]
    assert not rows.empty
    top = rows.loc[rows["change"].abs().idxmax()]
    ranked = strike_comparison.dyads_that_differ()
    assert ranked[0] == (top["actor"], top["toward"])
    assert len(ranked) <= 6


def test_final_table_has_one_row_per_dyad_and_scenario(strike_comparison, strike_result):
    dyads = [("AFG", "PAK"), ("PAK", "AFG"), ("IND", "CHN")]
    table = strike_comparison.final_table(dyads, 0.05)
    assert len(table) == len(dyads) * 2
    counts = table.groupby(["actor", "toward", "scenario"]).size()
    assert set(counts) == {1}
    assert {(a, b) for a, b, _ in counts.index} == set(dyads)
    reference = table[table["scenario"] == "article"]
    assert len(reference) == len(dyads)
    assert (reference["difference"] == 0.0).all()
    assert (reference["parts_on"] == "").all()
    last = strike_result.dates.index(strike_comparison.dates[-1])
    for a, b in dyads:
        ref = reference[(reference["actor"] == a) & (reference["toward"] == b)].iloc[0]
        var = table[
            (table["scenario"] == "strike") & (table["actor"] == a) & (table["toward"] == b)
        ]
        var = var.iloc[0]
        assert var["final"] == pytest.approx(
            float(np.median(strike_result.score_array(a, b)[last]))
        )
        assert var["difference"] == pytest.approx(var["final"] - ref["final"])
    afg_pak = table[(table["scenario"] == "strike") & (table["actor"] == "AFG")]
    first_after = min(d for d in strike_result.dates if d > STRIKE_DAY)
    assert afg_pak[afg_pak["toward"] == "PAK"].iloc[0]["parts_on"] == first_after.isoformat()


SMALL = """\
title: {title}
time: {{start: {start}, end: {end}, step: {step}}}
actors:
  A: {{name: Alpha}}
  B: {{name: Beta}}
  {third}: {{name: Third}}
relations:
  A <-> B: 0.2
  A -> {third}: -0.3
events:
  - {{id: e1, date: {when}, type: condemn, actor: A, target: B}}
"""


def small(tmp_path: Path, name: str, **fields: str) -> stances.Result:
    values = {
        "title": name,
        "start": "2025-01-01",
        "end": "2025-03-31",
        "step": "week",
        "third": "C",
        "when": "2025-02-15",
        **fields,
    }
    return stances.run(load_scenario(write(tmp_path, f"{name}.yaml", SMALL.format(**values))))


def test_scenarios_with_different_actors_compare_on_the_shared_ones(tmp_path):
    base = small(tmp_path, "base", third="C")
    variant = small(tmp_path, "variant", third="D")
    comparison = Comparison(["base", "variant"], [base, variant])
    assert comparison.actors == ["A", "B"]
    assert comparison.dropped_actors() == {"base": ["C"], "variant": ["D"]}
    assert comparison.all_dyads() == [("A", "B"), ("B", "A")]
    assert comparison.check_dyads([("A", "B"), ("A", "C"), ("D", "B")]) == []  # some have them
    assert comparison.check_dyads([("C", "D")])  # no scenario has both
    assert comparison.check_dyads([("A", "X")])  # in none
    pairs = {(x, y) for x in "AB" for y in "CD"}
    assert set(comparison.absent_dyads()) == pairs | {(y, x) for x, y in pairs}
    median = comparison.band(1, ("A", "B"))[2]  # one member: the median is the member
    assert np.array_equal(median, variant.score_array("A", "B")[:, 0])


def test_scenarios_with_different_windows_compare_on_the_overlap(tmp_path):
    base = small(tmp_path, "base")
    variant = small(tmp_path, "shifted", start="2025-02-03", end="2025-05-31", step="2 weeks")
    comparison = Comparison(["base", "shifted"], [base, variant])
    lo = max(base.dates[0], variant.dates[0])
    hi = min(base.dates[-1], variant.dates[-1])
    assert comparison.dates == [d for d in base.dates if lo <= d <= hi]
    assert len(comparison.dates) >= 2
    for d in comparison.dates:
        assert variant.dates[0] <= d <= variant.dates[-1]
        assert base.dates[0] <= d <= base.dates[-1]
    # the shifted run is read "as of" each date: its last boundary on or before it
    expected = np.array(
        [
            variant.score_array("A", "B")[max(i for i, v in enumerate(variant.dates) if v <= d)]
            for d in comparison.dates
        ]
    )
    assert np.array_equal(comparison.band(1, ("A", "B"))[2], expected[:, 0])


def test_parse_dyads():
    assert parse_dyads("A->B, B<->C") == [("A", "B"), ("B", "C"), ("C", "B")]
    assert parse_dyads("AFG -> PAK") == [("AFG", "PAK")]
    with pytest.raises(ValueError):
        parse_dyads("AB")


def test_a_comparison_needs_two_results(article_result):
    with pytest.raises(ValueError):
        Comparison(["only"], [article_result])


# --------------------------------------------------------------------------------------------
# the compare command


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """tmp_path with a copy of scenarios/, as the working directory."""
    shutil.copytree(SCENARIOS, tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_compare_writes_a_new_directory(project, capsys):
    code = main(["compare", "scenarios/article.yaml", "scenarios/no-mediation.yaml"])
    out, err = capsys.readouterr()
    assert code == 0, err
    folder = project / "results" / "compare-article-vs-no-mediation-001"  # the issue's example
    assert sorted(p.name for p in folder.iterdir()) == [
        "comparison.png",
        "difference.png",
        "final.csv",
        "manifest.json",
    ]
    for name in ("comparison.png", "difference.png"):
        assert (folder / name).read_bytes()[:8] == PNG
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["labels"] == ["article", "no-mediation"]
    table = pd.read_csv(folder / "final.csv", keep_default_na=False)
    assert set(table["scenario"]) == {"article", "no-mediation"}
    assert "compare-article-vs-no-mediation-001" in out
    # the removed mediation leaves PAK and AFG apart: those dyads are shown
    shown = set(zip(table["actor"], table["toward"], strict=True))
    assert ("PAK", "AFG") in shown and ("AFG", "PAK") in shown


def test_compare_accepts_an_earlier_run_directory(project, capsys, article_result):
    assert main(["run", "scenarios/article.yaml", "--no-plots"]) == 0
    run_dir = project / "results" / "article-001"
    assert (run_dir / "manifest.json").is_file()
    dyads = "PAK<->AFG,IND<->AFG,CHN->PAK"
    assert main(["compare", str(run_dir), "scenarios/no-mediation.yaml", "--dyads", dyads]) == 0
    capsys.readouterr()
    from_run = pd.read_csv(
        project / "results" / "compare-article-001-vs-no-mediation-001" / "final.csv",
        keep_default_na=False,
    )
    # the same comparison of the two files, worked out in memory (compare's default threshold)
    no_mediation = stances.run(load_scenario(project / "scenarios" / "no-mediation.yaml"))
    from_yaml = Comparison(["article", "no-mediation"], [article_result, no_mediation])
    from_yaml = from_yaml.final_table(parse_dyads(dyads), 0.05)
    assert len(from_run) == len(from_yaml) == len(parse_dyads(dyads)) * 2
    assert list(from_run["scenario"].unique()) == ["article-001", "no-mediation"]
    for column in ("actor", "toward", "parts_on"):
        assert list(from_run[column]) == list(from_yaml[column])
    # run directories keep six decimals
    assert np.allclose(from_run["final"], from_yaml["final"], atol=2e-6)
    assert np.allclose(from_run["difference"], from_yaml["difference"], atol=2e-6)


def test_compare_with_an_unknown_dyad_actor_writes_nothing(project, capsys):
    code = main(
        ["compare", "scenarios/article.yaml", "scenarios/no-mediation.yaml", "--dyads", "AFG->XYZ"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "XYZ" in err
    assert "Traceback" not in err
    assert not (project / "results").exists()


def test_compare_with_a_malformed_dyad_exits_2(project, capsys):
    code = main(
        ["compare", "scenarios/article.yaml", "scenarios/no-mediation.yaml", "--dyads", "AB"]
    )
    assert code == 2
    assert "AB" in capsys.readouterr().err
    assert not (project / "results").exists()


def test_compare_never_writes_into_an_existing_directory(project, capsys):
    taken = project / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine", encoding="utf-8")
    code = main(
        ["compare", "scenarios/article.yaml", "scenarios/no-mediation.yaml", "--out", "taken"]
    )
    assert code == 2
    assert "taken" in capsys.readouterr().err
    assert [p.name for p in taken.iterdir()] == ["keep.txt"]
    assert (taken / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert not (project / "results").exists()


def test_compare_reports_every_bad_input_and_writes_nothing(project, capsys):
    bad_type = "title: T\nextends: article.yaml\nadd:\n  - {id: x, date: 2025-02-01, type: airstrik, actor: PAK, target: AFG}\n"
    write(project / "scenarios", "bad-type.yaml", bad_type)
    write(project / "scenarios", "orphan.yaml", "title: O\nextends: nowhere.yaml\n")
    code = main(
        [
            "compare",
            "scenarios/article.yaml",
            "scenarios/bad-type.yaml",
            "scenarios/orphan.yaml",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    line = bad_type.splitlines().index(next(x for x in bad_type.splitlines() if "airstrik" in x))
    col = bad_type.splitlines()[line].index("airstrik") + 1
    assert f"scenarios/bad-type.yaml:{line + 1}:{col}:" in err
    assert "scenarios/orphan.yaml:2:10:" in err and "nowhere.yaml" in err
    assert not (project / "results").exists()


def test_compare_needs_two_inputs(project, capsys):
    assert main(["compare", "scenarios/article.yaml"]) == 2
    assert "two" in capsys.readouterr().err
    assert not (project / "results").exists()


# --------------------------------------------------------------------------------------------
# the new command


def test_new_writes_a_what_if_that_runs_as_it_is(project, capsys):
    assert main(["new", "scenarios/late", "--from", "scenarios/article.yaml"]) == 0
    capsys.readouterr()
    path = project / "scenarios" / "late.yaml"
    text = path.read_text(encoding="utf-8")
    child, parent = load_scenario(path), load_scenario(project / "scenarios" / "article.yaml")
    assert child.resolved["events"] == parent.resolved["events"]
    assert [e.id for e in child.events] == [e.id for e in parent.events]
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    for event in parent.events:
        assert any(event.id in line.split() for line in comments), event.id
    result = stances.run(child)
    assert result.dates == child.step_dates()


def test_new_in_the_current_folder_when_given_a_bare_name(project, capsys):
    assert main(["new", "bare", "--from", "scenarios/article.yaml"]) == 0
    capsys.readouterr()
    path = project / "bare.yaml"
    assert not (project / "scenarios" / "bare.yaml").exists()
    assert load_scenario(path).resolved["events"] == load_scenario(ARTICLE).resolved["events"]


def test_new_never_overwrites(project, capsys):
    assert main(["new", "scenarios/late", "--from", "scenarios/article.yaml"]) == 0
    path = project / "scenarios" / "late.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# my edit\n", encoding="utf-8")
    before = path.read_bytes()
    capsys.readouterr()
    assert main(["new", "scenarios/late", "--from", "scenarios/article.yaml"]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err
    assert path.read_bytes() == before


def test_new_into_a_missing_folder_gives_no_traceback(project, capsys):
    # Bad input never produces a traceback: either the file is written and valid, or exit 2.
    code = main(["new", "drafts/late", "--from", "scenarios/article.yaml"])
    capsys.readouterr()
    assert code in (0, 2)
    written = project / "drafts" / "late.yaml"
    if code == 0:
        assert (
            load_scenario(written).resolved["events"] == load_scenario(ARTICLE).resolved["events"]
        )
    else:
        assert not written.exists()


def test_compare_handles_issue_positions_like_scores(tmp_path, monkeypatch, capsys):
    issues = ARTICLE.parent / "article-issues.yaml"
    variant = write(
        tmp_path,
        "recognises.yaml",
        f"title: India recognises\nextends: {issues}\n"
        "add:\n  - {id: india-recognises, date: 2025-06-01, type: grant_recognition, "
        "actor: IND, target: AFG}\n",
    )
    base, changed = stances.run(issues), stances.run(variant)
    comparison = Comparison(["base", "recognises"], [base, changed])
    assert ("recognition", "IND") in comparison.stance_keys
    assert ("corridor", "IND") in comparison.stance_keys
    assert ("refugee_returns", "IND") not in comparison.stance_keys  # India takes no part
    assert comparison.stances_that_differ()[0] == ("recognition", "IND")
    i, a = list(base.issues).index("recognition"), base.actor_ids.index("IND")
    table = comparison.stance_table([("recognition", "IND")])
    expected = changed.positions[-1, 0, i, a] - base.positions[-1, 0, i, a]
    assert table.loc[table.scenario == "recognises", "difference"].item() == pytest.approx(expected)
    # granting recognition moved the granter to 1; here it listens only to itself and Kabul, both at 1
    assert changed.positions[-1, 0, i, a] == pytest.approx(1.0, abs=1e-12)

    monkeypatch.chdir(tmp_path)
    assert main(["compare", str(issues), str(variant), "--out", "cmp"]) == 0
    assert (tmp_path / "cmp" / "stances.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    written = pd.read_csv(tmp_path / "cmp" / "final-stances.csv")
    assert set(written.columns) == {"issue", "actor", "scenario", "final", "difference"}
    assert "IND on recognition" in capsys.readouterr().out


def test_what_differs_names_removed_events_by_their_labels(article_result):
    from stances.analysis.compare import what_differs

    text = (SCENARIOS / "article.yaml").read_text(encoding="utf-8")
    labels = dict(re.findall(r"- id: ([\w-]+)\n\s+label: (.+)\n", text))
    removed = ["beijing-trilateral", "ambassadors-agreed"]  # what no-mediation.yaml removes
    assert all(k in labels for k in removed)
    variant = stances.run(SCENARIOS / "no-mediation.yaml")
    said = what_differs(article_result, variant)
    assert said == "removed " + ", ".join(f"{labels[k]} (21 May)" for k in removed)
