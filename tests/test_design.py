"""Designs: chosen values per member (``design=``, ``--design FILE.csv``), and the tables of
inputs and outcomes member by member (``Result.experiments``, ``Result.outcomes``).

The reference for a designed member is the same member run alone from the file with the same
values given by ``--set`` (the loader's path, not the design's): both must agree to 1e-12.
Positions of problems in design files are found by hand in the text written.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import position_of, write
from hypothesis import given, settings
from hypothesis import strategies as st

import stances
from stances import api, load_scenario
from stances.cli import main
from stances.engine.model import StanceModel
from stances.scenario.design import DesignError, parse_design
from stances.scenario.types import ParameterError

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "scenarios" / "article.yaml"
REACTIVE = ROOT / "scenarios" / "article-reactive.yaml"
# uncertain values, noise and an actor that decides: every member draws from its own seed
WHATIF = f"""\
title: Uncertain reactive article
extends: {REACTIVE}
parameters:
  kappa_observer: {{uniform: [0.05, 0.25]}}
  kappa_actor: {{uniform: [0.1, 0.4]}}
  noise: 0.02
relations:
  AFG -> PAK: {{normal: [-0.3, 0.1]}}
replace:
  - id: paktika-strike
    intensity: {{uniform: [0.5, 1.5]}}
  - id: dubai-meeting
    until: 2025-02-20
"""


@pytest.fixture
def whatif(tmp_path: Path) -> Path:
    return write(tmp_path, "whatif.yaml", WHATIF)


def as_set(key: str, value: object) -> str:
    """A design's value as --set writes it (exactly the same float: repr round-trips)."""
    if isinstance(value, pd.Timestamp | np.datetime64 | date):
        return pd.Timestamp(value).date().isoformat()
    return repr(float(value))  # type: ignore[arg-type]


def assert_members_match_set_runs(path: Path, design: pd.DataFrame, seed: int = 3) -> None:
    """Each row of the design gives exactly the member run alone with its values --set."""
    result = stances.run(path, seed=seed, design=design)
    assert result.members == len(design)
    for k in range(len(design)):
        sets = {key: as_set(key, design[key].iloc[k]) for key in design.columns}
        alone = stances.run(load_scenario(path, sets), seed=seed, first_member=k)
        assert np.abs(alone.history[:, 0] - result.history[:, k]).max() <= 1e-12, k
        drawn = alone.draws.set_index("value_of")["value"]
        mine = result.draws[result.draws["member"] == k].set_index("value_of")["value"]
        for label, value in drawn.items():  # the values the file leaves uncertain
            assert mine[label] == value, (k, label)


def test_each_row_is_the_member_run_alone_with_its_values_set(whatif):
    design = pd.DataFrame(
        {
            "parameters.kappa_target": [0.3, 0.5, 0.8],
            "parameters.kappa_observer": [0.9, 0.0, 0.33],  # over the file's distribution
            "parameters.memory_half_life": [13.0, 26.5, 104.0],  # weeks
            "relations.IND -> PAK": [-0.9, 0.0, 0.4],
            "baseline.PAK -> AFG": [-0.2, 0.1, 0.7],
            "events.paktika-strike.intensity": [0.25, 2.0, 1.0],
            "events.jaishankar-muttaqi.date": pd.to_datetime(
                ["2025-05-01", "2025-05-20", "2025-06-15"]
            ),
            "events.dubai-meeting.until": pd.to_datetime(
                ["2025-01-08", "2025-03-01", "2025-06-30"]
            ),
        }
    )
    assert_members_match_set_runs(whatif, design)


@settings(max_examples=12, deadline=None)
@given(
    kappa=st.floats(0.0, 1.0),
    weeks=st.floats(1 / 7, 400.0),
    score=st.floats(-1.0, 1.0),
    intensity=st.floats(0.0, 10.0),
    day=st.dates(date(2024, 12, 1), date(2025, 6, 30)),
)
def test_any_values_in_range_give_the_set_run(
    tmp_path_factory, kappa, weeks, score, intensity, day
):
    path = write(tmp_path_factory.mktemp("design"), "whatif.yaml", WHATIF)
    design = pd.DataFrame(
        {
            "parameters.kappa_parties": [kappa, 1.0 - kappa],
            "parameters.baseline_half_life": [weeks, weeks * 2],
            "relations.AFG <-> IND": [score, -score],
            "events.india-condemns-strike.intensity": [intensity, 10.0 - intensity],
            "events.india-pakistan-clash.date": pd.to_datetime([day, day]),
        }
    )
    assert_members_match_set_runs(path, design, seed=11)


def test_a_column_overrides_the_distribution_and_the_rest_is_drawn_as_from_the_file(whatif):
    values = [0.5, 0.75, 1.0]
    result = stances.run(whatif, design={"parameters.kappa_observer": values}, seed=5)
    table = result.experiments()
    assert table["parameters.kappa_observer"].tolist() == values
    # the other uncertain values: what the file with kappa_observer fixed draws, member by member
    fixed = stances.run(
        load_scenario(whatif, {"parameters.kappa_observer": "0.5"}), seed=5, members=3
    ).experiments()
    for column in ("parameters.kappa_actor", "relations.AFG -> PAK"):
        assert table[column].tolist() == fixed[column].tolist()
    assert table["events.paktika-strike.intensity"].tolist() == (
        fixed["events.paktika-strike.intensity"].tolist()
    )


def test_stance_model_takes_a_dataframe_or_a_mapping(whatif):
    frame = pd.DataFrame(
        {"parameters.kappa_target": [0.2, 0.6], "relations.IND -> PAK": [0.1, 0.2]}
    )
    by_frame = StanceModel(whatif, design=frame, rng=2)
    by_mapping = StanceModel(whatif, design={k: frame[k].tolist() for k in frame}, rng=2)
    assert by_frame.members == by_mapping.members == 2
    for model in (by_frame, by_mapping):
        model.run()
        assert model.draws.parameters["kappa_target"].tolist() == [0.2, 0.6]
        assert model.draws.initial[:, 0, 2].tolist() == [0.1, 0.2]  # IND -> PAK
    assert np.array_equal(by_frame.history, by_mapping.history)


def test_batches_and_first_member_give_the_same_members(whatif):
    design = pd.DataFrame({"parameters.kappa_target": np.linspace(0.1, 0.9, 7)})
    whole = stances.run(whatif, design=design, seed=4)
    batched = stances.run(whatif, design=design, seed=4, batch=2)
    assert np.array_equal(whole.history, batched.history)
    on_workers = stances.run(whatif, design=design, seed=4, batch=3, workers=2)
    assert np.array_equal(whole.history, on_workers.history)
    later = stances.run(whatif, design=design.iloc[3:], seed=4, first_member=3)
    assert np.array_equal(later.history, whole.history[:, 3:])
    assert later.experiments().index.tolist() == [3, 4, 5, 6]


def test_members_must_be_the_rows_of_the_design(whatif):
    with pytest.raises(ParameterError, match=r"run\(members=...\): the design has 2 rows"):
        stances.run(whatif, members=3, design={"parameters.noise": [0.1, 0.2]})
    with pytest.raises(ParameterError, match=r"StanceModel\(members=...\)"):
        StanceModel(whatif, members=3, design={"parameters.noise": [0.1, 0.2]})


# --- problems --------------------------------------------------------------------------


def problems(spec, table) -> list[str]:
    with pytest.raises(DesignError) as info:
        parse_design(spec, table)
    assert isinstance(info.value, ValueError)
    return [str(p) for p in info.value.problems]


def test_an_unknown_column_is_one_problem_with_a_suggestion(whatif):
    spec = load_scenario(whatif)
    assert problems(spec, {"parameters.kappa_obsrver": [0.1, 0.2, 5.0]}) == [
        "design: column 'parameters.kappa_obsrver': unknown parameter 'kappa_obsrver' "
        "(did you mean 'parameters.kappa_observer'?)"
    ]
    (line,) = problems(spec, {"events.paktika-strik.intensity": [1.0]})
    assert "no event has id 'paktika-strik'" in line
    assert "did you mean 'events.paktika-strike.intensity'" in line
    (line,) = problems(spec, {"relation.IND -> PAK": [0.1]})
    assert "did you mean 'relations.IND -> PAK'" in line
    (line,) = problems(spec, {"relations.IND -> PAQ": [0.1]})
    assert "unknown actor 'PAQ' (did you mean 'PAK'?)" in line
    (line,) = problems(spec, {"parameters.entrenchment": [1.0]})
    assert "a rule's form" in line


def test_bad_cells_are_refused_each_at_its_row_and_column(whatif):
    spec = load_scenario(whatif)
    table = {
        "parameters.kappa_target": [0.5, np.nan, 1.5, np.inf],
        "parameters.memory_half_life": [0.0, 26.0, 26.0, -1.0],
        "relations.IND -> PAK": [0.0, -1.0, 1.0, -1.01],
        "events.india-pakistan-clash.date": ["2025-05-01", "2030-01-01", "soon", None],
    }
    found = problems(spec, table)
    expected = {
        (1, "parameters.kappa_target", "expected a finite number, got nan"),
        (2, "parameters.kappa_target", "must lie in [0, 1], got 1.5"),
        (3, "parameters.kappa_target", "expected a finite number, got inf"),
        (0, "parameters.memory_half_life", "must lie in [1 day, 1000 years]"),
        (3, "parameters.memory_half_life", "must lie in [1 day, 1000 years]"),
        (3, "relations.IND -> PAK", "must lie in [-1, 1], got -1.01"),
        (
            1,
            "events.india-pakistan-clash.date",
            "must lie in the time window 2024-12-01 to 2025-06-30",
        ),
        (2, "events.india-pakistan-clash.date", "expected a date as YYYY-MM-DD, got 'soon'"),
        (3, "events.india-pakistan-clash.date", "expected a date as YYYY-MM-DD, got None"),
    }
    assert len(found) == len(expected), found
    for row, key, message in expected:
        assert any(
            line.startswith(f"design: row {row}, column '{key}': ") and message in line
            for line in found
        ), (row, key, message, found)


def test_dates_and_their_last_days_are_checked_together(whatif):
    spec = load_scenario(whatif)
    # dubai-meeting: 2025-01-08 until 2025-02-20 in the file
    (line,) = problems(spec, {"events.dubai-meeting.date": ["2025-01-08", "2025-03-01"]})
    assert line.startswith("design: row 1, column 'events.dubai-meeting.date': ")
    assert "would end on 2025-02-20, before its date 2025-03-01" in line
    (line,) = problems(spec, {"events.dubai-meeting.until": pd.to_datetime(["2025-01-07"])})
    assert "row 0" in line and "before its date 2025-01-08" in line
    # a time of day is not a date; a datetime64 at midnight is
    (line,) = problems(
        spec, {"events.india-pakistan-clash.date": np.array(["2025-05-01T12:00"], "M8[m]")}
    )
    assert "a time of day" in line
    assert parse_design(
        spec, {"events.india-pakistan-clash.date": np.array(["2025-05-01"], "M8[s]")}
    )


def test_other_table_faults(whatif):
    spec = load_scenario(whatif)
    (line,) = problems(spec, {"parameters.noise": [0.1, 0.2], "parameters.kappa_target": [0.3]})
    assert "column 'parameters.kappa_target': has 1 values, the first column 2" in line
    (line,) = problems(spec, {"relations.IND <-> PAK": [0.1], "relations.PAK -> IND": [0.2]})
    assert (
        "column 'relations.PAK -> IND': sets the same value as column 'relations.IND <-> PAK'"
        in line
    )
    (line,) = problems(spec, {})
    assert "the design is empty" in line
    (line,) = problems(spec, {"parameters.noise": [True]})
    assert "expected a number, got True" in line
    with pytest.raises(ParameterError, match="expected a pandas DataFrame"):
        stances.run(whatif, design=[0.1, 0.2])
    twice = pd.DataFrame([[0.1, 0.2]], columns=["parameters.noise", "parameters.noise"])
    (line,) = problems(spec, twice)
    assert line == "design: column 'parameters.noise': is given twice"


# --- the command line ------------------------------------------------------------------


def test_design_file_runs_its_members(whatif, tmp_path, capsys):
    csv = write(
        tmp_path,
        "design.csv",
        "parameters.kappa_target,events.india-pakistan-clash.date,parameters.memory_half_life\n"
        "0.25,2025-05-10,13\n"
        '0.75,"2025-06-01",52\n',
    )
    out = tmp_path / "run"
    assert main(["run", str(whatif), "--design", str(csv), "--out", str(out), "--no-plots"]) == 0
    assert "2 members from" in capsys.readouterr().out
    back = api.load(out)
    table = back.experiments()
    assert table["parameters.kappa_target"].tolist() == [0.25, 0.75]
    assert table["events.india-pakistan-clash.date"].tolist() == [
        pd.Timestamp("2025-05-10"),
        pd.Timestamp("2025-06-01"),
    ]
    assert table["parameters.memory_half_life"].tolist() == [13.0, 52.0]
    assert back.manifest["design"]["file"] == str(csv)


BAD_FILES = [
    # (text, needle marking the cell at fault, message)
    (
        "parameters.kappa_targt,parameters.noise\n0.1,0.2\n",
        "parameters.kappa_targt",
        "did you mean 'parameters.kappa_target'",
    ),
    (
        "parameters.noise,parameters.kappa_target\n0.1,0.2\n0.1,abc\n",
        "abc",
        "expected a number, got 'abc'",
    ),
    (
        "parameters.noise,parameters.kappa_target\n0.1,\n",
        ",\n",
        "expected a number, got an empty cell",
    ),
    ("parameters.noise\n0.1\nnan\n", "nan", "expected a finite number, got nan"),
    (
        "parameters.noise,parameters.kappa_target\n0.1,0.2,0.3\n",
        "0.3",
        "3 cells, the header has 2 columns",
    ),
    (
        "parameters.noise,parameters.noise\n0.1,0.2\n",
        "parameters.noise\n",
        "the column is given twice",
    ),
    ("parameters.noise\n", (2, 1), "no members"),  # where the first member's line would be
    ("", (1, 1), "the design file is empty"),
    ('parameters.noise\n"0.1\n', '"0.1', "is not closed on this line"),
    (
        "events.india-pakistan-clash.date\n2025-02-30\n",
        "2025-02-30",
        "expected a date as YYYY-MM-DD",
    ),
]


@pytest.mark.parametrize("command", ["run", "compare"])
@pytest.mark.parametrize(("text", "needle", "message"), BAD_FILES)
def test_a_bad_design_file_is_one_problem_at_its_line_and_column(
    whatif, tmp_path, capsys, monkeypatch, command, text, needle, message
):
    monkeypatch.chdir(tmp_path)
    csv = write(tmp_path, "design.csv", text)
    inputs = [str(whatif)] if command == "run" else [str(whatif), str(ARTICLE)]
    assert (
        main(
            [command, *inputs, "--design", str(csv), "--no-plots"][
                : None if command == "run" else -1
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    if isinstance(needle, tuple):
        line, col = needle
    else:
        line, col = position_of(text, needle)
        if needle == ",\n":
            col += 1  # the empty cell after the comma
    assert err[0].startswith(f"{csv}:{line}:{col}: "), err
    assert message in err[0]
    assert not (tmp_path / "results").exists()  # nothing written


def test_missing_design_file_and_conflicting_options(whatif, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(whatif), "--design", "nope.csv"]) == 2
    assert capsys.readouterr().err.strip() == "nope.csv: no such design file"
    csv = write(tmp_path, "d.csv", "parameters.noise\n0.1\n")
    assert main(["run", str(whatif), "--design", str(csv), "--runs", "5"]) == 2
    assert "leave out --runs and --member" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_a_design_does_not_apply_to_earlier_runs(whatif, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    earlier = tmp_path / "earlier"
    assert main(["run", str(whatif), "--out", str(earlier), "--no-plots"]) == 0
    csv = write(tmp_path, "d.csv", "parameters.noise\n0.1\n")
    capsys.readouterr()
    assert main(["compare", str(whatif), str(earlier), "--design", str(csv)]) == 2
    assert "--design apply to scenario files, not to earlier runs" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_compare_runs_each_scenario_file_over_the_design(whatif, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    csv = write(tmp_path, "d.csv", "parameters.kappa_target\n0.2\n0.4\n0.6\n")
    out = tmp_path / "cmp"
    assert (
        main(["compare", str(whatif), str(ARTICLE), "--design", str(csv), "--out", str(out)]) == 0
    )
    import json

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["design"] == str(csv)
    assert [run["members"] for run in manifest["runs"]] == [3, 3]


# --- experiments and outcomes ----------------------------------------------------------


def test_experiments_round_trip_the_design_and_add_the_drawn_values(whatif):
    design = pd.DataFrame(
        {
            "events.jaishankar-muttaqi.date": pd.to_datetime(["2025-05-03", "2025-06-01"]),
            "parameters.memory_half_life": [0.5, 33.3],
            "relations.IND -> PAK": [-0.25, 0.5],
        }
    )
    table = stances.run(whatif, design=design).experiments()
    assert list(table.columns[:3]) == list(design.columns)
    assert table.index.name == "member" and table.index.tolist() == [0, 1]
    assert (
        table["events.jaishankar-muttaqi.date"].tolist()
        == design["events.jaishankar-muttaqi.date"].tolist()
    )
    assert table["relations.IND -> PAK"].tolist() == design["relations.IND -> PAK"].tolist()
    np.testing.assert_allclose(table["parameters.memory_half_life"], [0.5, 33.3], rtol=1e-15)
    drawn = set(table.columns[3:])
    assert drawn == {
        "parameters.kappa_observer",
        "parameters.kappa_actor",
        "relations.AFG -> PAK",
        "events.paktika-strike.intensity",
    }
    assert (
        (table["parameters.kappa_observer"] >= 0.05) & (table["parameters.kappa_observer"] <= 0.25)
    ).all()


def test_drawn_durations_are_given_in_weeks_and_dates_as_dates(tmp_path):
    path = write(
        tmp_path,
        "u.yaml",
        f"title: u\nextends: {ARTICLE}\nparameters:\n  memory_half_life: {{choice: [13 weeks, 6 months]}}\n"
        "replace:\n  - id: india-pakistan-clash\n    date: {choice: [2025-05-02]}\n",
    )
    table = stances.run(path, members=6).experiments()
    assert set(table["parameters.memory_half_life"]) <= {13.0, (365.25 / 2) / 7}
    assert set(table["events.india-pakistan-clash.date"]) == {pd.Timestamp("2025-05-02")}


def test_outcomes_are_the_members_scores_at_the_end_or_a_date(whatif):
    result = stances.run(whatif, design={"parameters.kappa_target": [0.1, 0.5, 0.9]})
    ids = result.actor_ids
    end = result.outcomes()
    assert end.shape == (3, len(ids) * (len(ids) - 1))
    assert end.index.tolist() == [0, 1, 2]
    for i, a in enumerate(ids):
        for j, b in enumerate(ids):
            if i != j:
                assert end[f"{a} -> {b}"].tolist() == result.history[-1, :, i, j].tolist()
    # 2025-01-10 is a Friday; the weekly steps start on Sundays from 2024-12-01: the last
    # boundary on or before it is 2025-01-05, step 5
    assert result.dates[5] == date(2025, 1, 5)
    at = result.outcomes(at="2025-01-10")
    assert (
        at["PAK -> AFG"].tolist()
        == result.history[5, :, ids.index("PAK"), ids.index("AFG")].tolist()
    )
    with pytest.raises(ValueError, match="before the run's start"):
        result.outcomes(at=date(2024, 1, 1))
