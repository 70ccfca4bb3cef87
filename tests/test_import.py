"""`stances import gdelt|icews`: exports in the published layouts read cell by cell, bad rows
reported at their line and column, the aggregation checked against a count by hand, the
output a scenario that validates and runs."""

from __future__ import annotations

import csv
import math
import random
import re
from datetime import date
from pathlib import Path

import pytest
from helpers import position_of
from hypothesis import given, settings
from hypothesis import strategies as st

from stances import load_scenario
from stances.cli import main
from stances.scenario import eventdata as ed

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GDELT = FIXTURES / "gdelt-events.tsv"
ICEWS = FIXTURES / "icews-events.tab"
ACTORS = "IND,CHN,PAK,AFG"


def test_the_layouts_have_the_published_number_of_columns():
    assert len(ed.GDELT_COLUMNS) == 61 and len(set(ed.GDELT_COLUMNS)) == 61
    assert ed.GDELT_COLUMNS[:2] == ("GLOBALEVENTID", "SQLDATE")
    assert ed.GDELT_COLUMNS[-2:] == ("DATEADDED", "SOURCEURL")
    assert ed.GDELT_COLUMNS.index("EventCode") == 26  # 0-based, as the codebook counts
    assert len(ed.ICEWS_COLUMNS) == 20


def test_gdelt_bad_rows_are_reported_at_their_line_and_column(tmp_path, capsys):
    out = tmp_path / "gdelt.yaml"
    assert main(["import", "gdelt", str(GDELT), "--actors", ACTORS, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    text = GDELT.read_text()
    line, col = position_of(text, "13y")
    assert f"{GDELT}:{line}:{col}: column EventCode: '13y' is not a CAMEO code" in err[0]
    line, col = position_of(text, "20251340")
    assert err[1].startswith(f"{GDELT}:{line}:{col}: column SQLDATE: not a date")
    assert (
        err[2].startswith(f"{GDELT}:11:") and "SOURCEURL: missing: the row has 60 of 61" in err[2]
    )
    line, col = position_of(text, "many")
    assert err[3].startswith(f"{GDELT}:{line}:{col}: column NumMentions: expected a whole number")
    assert len(err) == 4
    assert out.is_file() and captured.out.startswith(f"wrote {out}: 14 rows")


def test_gdelt_aggregation_by_hand(tmp_path):
    out = tmp_path / "g.yaml"
    assert main(["import", "gdelt", str(GDELT), "--actors", ACTORS, "--out", str(out)]) == 0
    scenario = load_scenario(out)
    # by hand from the fixture: PAK->AFG 195 on 6, 8, 9 Jan (1002 twice: one record) is one
    # event of 3 records; 15 and 16 Jan fall in the next week from 6 Jan: 2 records
    got = {(e.id, e.date, e.intensity) for e in scenario.events}
    assert got == {
        ("gdelt-2025-01-06-pak-afg-195", date(2025, 1, 6), math.log2(4)),
        ("gdelt-2025-01-15-pak-afg-195", date(2025, 1, 15), round(math.log2(3), 3)),
        ("gdelt-2025-01-07-ind-afg-042", date(2025, 1, 7), 1.0),
        ("gdelt-2025-01-10-chn-pak-045", date(2025, 1, 10), 1.0),
    }
    assert (scenario.time.start, scenario.time.end) == (date(2025, 1, 6), date(2025, 1, 16))
    first = next(e for e in scenario.events if e.id == "gdelt-2025-01-06-pak-afg-195")
    assert "1001, 1002, 1003" in first.cite and "https://news.example/1001" in first.cite
    assert "20 mentions" in first.cite  # 10 + 4 + 6


def test_the_summary_counts_every_row(tmp_path, capsys):
    out = tmp_path / "g.yaml"
    main(["import", "gdelt", str(GDELT), "--actors", ACTORS, "--out", str(out)])
    said = capsys.readouterr().out
    # 14 rows: 7 records, 4 with problems, 1 duplicate (1002), 2 others (USA, AFG->AFG)
    assert "14 rows: 4 events from 7 records; skipped 4 with problems, 1 duplicates, " in said
    assert "2 between other actors, 0 outside the window" in said


def test_icews_rows_and_aggregation(tmp_path, capsys):
    out = tmp_path / "i.yaml"
    assert main(["import", "icews", str(ICEWS), "--actors", ACTORS, "--out", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    text = ICEWS.read_text()
    line, col = position_of(text, "\t42\t")
    assert err[0] == (
        f"{ICEWS}:{line}:{col + 1}: column CAMEO Code: '42' is not a CAMEO code of the catalogue "
        "(`stances events`; data/cameo-goldstein.tsv) (did you mean '042'?)"
    )
    assert "column Event Date: not a date: '2025-13-01'" in err[1]
    assert "column Longitude: missing: the row has 19 of 20 columns" in err[2]
    assert "column Intensity: expected a number, got 'high'" in err[3]
    scenario = load_scenario(out)
    # Event ID 2002 on 7 Jan twice (one record), again on 7 Feb: another record (Beger)
    got = {(e.id, e.intensity) for e in scenario.events}
    assert got == {
        ("icews-2025-01-06-pak-afg-195", round(math.log2(3), 3)),
        ("icews-2025-01-09-chn-pak-045", 1.0),
        ("icews-2025-02-07-pak-afg-195", 1.0),
    }
    assert scenario.actors["AFG"] == "Afghanistan"


@pytest.mark.parametrize("source, path", [("gdelt", GDELT), ("icews", ICEWS)])
def test_strict_refuses_and_writes_nothing(tmp_path, capsys, source, path):
    out = tmp_path / "x.yaml"
    code = main(["import", source, str(path), "--actors", ACTORS, "--out", str(out), "--strict"])
    assert code == 2 and not out.exists() and list(tmp_path.iterdir()) == []
    assert len(capsys.readouterr().err.splitlines()) == 4


def test_an_existing_file_is_never_overwritten(tmp_path, capsys):
    out = tmp_path / "x.yaml"
    out.write_text("mine")
    assert main(["import", "gdelt", str(GDELT), "--actors", ACTORS, "--out", str(out)]) == 2
    assert out.read_text() == "mine" and "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    "source, content, words",
    [
        ("gdelt", b"", "an empty file"),
        ("icews", b"\n\n", "an empty file"),
        ("gdelt", b"1\t2\xff\n", ":1:4: not UTF-8 text: byte 0xff"),
        ("gdelt", ICEWS.read_bytes(), ":1:1: an ICEWS events file"),
        ("icews", GDELT.read_bytes(), ":1:1: this looks like a GDELT events export"),
        ("icews", b"Event ID\tEvent Date\n1\t2025-01-01\n", "header: missing column 'Source Name'"),
    ],
)
def test_a_file_that_is_not_an_export_is_one_problem(tmp_path, capsys, source, content, words):
    path = tmp_path / "export.tsv"
    path.write_bytes(content)
    out = tmp_path / "x.yaml"
    code = main(["import", source, str(path), "--actors", ACTORS, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists() and words in err and "Traceback" not in err


def test_a_map_file_renames_codes_and_its_problems_are_placed(tmp_path, capsys):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("PAK: {id: PK, name: Pakistan}\nAFG: AF\n")
    out = tmp_path / "m.yaml"
    args = ["import", "gdelt", str(GDELT), "--actors", "PK,AF", "--map", str(mapping)]
    assert main([*args, "--out", str(out)]) == 0
    scenario = load_scenario(out)
    assert {e.actor for e in scenario.events} == {"PK"} and scenario.actors["PK"] == "Pakistan"
    mapping.write_text("PAK: pk\n")
    assert main([*args, "--out", str(tmp_path / "n.yaml")]) == 2
    assert f"{mapping}:1:6: PAK: expected an actor id" in capsys.readouterr().err


def test_from_to_bound_the_window_and_the_events(tmp_path, capsys):
    out = tmp_path / "w.yaml"
    args = ["import", "gdelt", str(GDELT), "--actors", ACTORS, "--from", "2025-01-08"]
    assert main([*args, "--to", "2025-01-31", "--out", str(out)]) == 0
    scenario = load_scenario(out)
    assert (scenario.time.start, scenario.time.end) == (date(2025, 1, 8), date(2025, 1, 31))
    # weeks now count from 8 Jan: 8, 9 Jan one event (2 records), 15 Jan starts the next week
    got = {(e.id, e.intensity) for e in scenario.events}
    assert got == {
        ("gdelt-2025-01-08-pak-afg-195", round(math.log2(3), 3)),
        ("gdelt-2025-01-10-chn-pak-045", 1.0),
        ("gdelt-2025-01-15-pak-afg-195", round(math.log2(3), 3)),
    }
    assert "2 outside the window" in capsys.readouterr().out  # 1001 (6 Jan), 1005 (7 Jan)


def test_the_add_block_pastes_into_a_what_if_that_runs(tmp_path, capsys):
    block = tmp_path / "add.yaml"
    args = ["import", "gdelt", str(GDELT), "--actors", ACTORS, "--add", "--out", str(block)]
    assert main(args) == 0
    parent = tmp_path / "parent.yaml"
    parent.write_text(
        "title: parent\ntime: {start: 2025-01-01, end: 2025-03-31}\nactors:\n"
        + "".join(f"  {a}: {{name: {a}}}\n" for a in ACTORS.split(","))
    )
    what_if = tmp_path / "what-if.yaml"
    what_if.write_text("title: with GDELT\nextends: parent.yaml\n" + block.read_text())
    assert len(load_scenario(what_if).events) == 4
    assert main(["run", str(what_if), "--no-plots", "--out", str(tmp_path / "run")]) == 0


def test_the_imported_scenario_validates_and_runs(tmp_path, capsys):
    out = tmp_path / "g.yaml"
    main(["import", "gdelt", str(GDELT), "--actors", ACTORS, "--out", str(out)])
    assert main(["validate", str(out)]) == 0
    assert main(["run", str(out), "--no-plots", "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "events.csv").is_file()


def test_intensity_rule_by_hand():
    assert [ed.intensity_of(n) for n in (1, 3, 7, 100)] == [1.0, 2.0, 3.0, 3.0]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), source=st.sampled_from(["gdelt", "icews"]))
def test_any_order_of_the_rows_gives_the_same_scenario(tmp_path_factory, seed, source):
    original = GDELT if source == "gdelt" else ICEWS
    lines = original.read_text().splitlines(keepends=True)
    head, rows = (lines[:1], lines[1:]) if source == "icews" else ([], lines)
    random.Random(seed).shuffle(rows)
    folder = tmp_path_factory.mktemp("perm")
    shuffled = folder / original.name
    shuffled.write_text("".join(head + rows))
    texts = []
    for path in (original, shuffled):
        reading = ed.read_export(path, source, _ids(source), ACTORS.split(","))
        window = ed.window_of(reading.records, None, None)
        header = ed.Header(source, "export", "stances import", {a: a for a in ACTORS.split(",")})
        texts.append(
            ed.scenario_text(ed.aggregate(reading.records, window[0], source), window, header)
        )
    assert texts[0] == texts[1]


def _ids(source: str) -> dict[str, str]:
    if source == "gdelt":
        return {a: a for a in ACTORS.split(",")}
    return {name: code for code, name in ed.COUNTRIES.items()}


def test_a_bigquery_csv_export_with_its_header_reads_as_the_tab_file(tmp_path):
    rows = [line.rstrip("\n").split("\t") for line in GDELT.read_text().splitlines()]
    csv_file = tmp_path / "bq.csv"
    with csv_file.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ed.GDELT_COLUMNS)
        writer.writerows(rows)
    keep = ACTORS.split(",")
    ids = _ids("gdelt")
    a, b = (ed.read_export(p, "gdelt", ids, keep) for p in (GDELT, csv_file))
    assert [(r.key, r.actor, r.code) for r in a.records] == [
        (r.key, r.actor, r.code) for r in b.records
    ]
    assert len(b.problems) == len(a.problems) == 4


@pytest.mark.parametrize("source", ["gdelt", "icews"])
def test_a_citation_counts_its_records_in_words(source):
    path = GDELT if source == "gdelt" else ICEWS
    reading = ed.read_export(path, source, _ids(source), ACTORS.split(","))
    window = ed.window_of(reading.records, None, None)
    header = ed.Header(source, "export", "stances import", {a: a for a in ACTORS.split(",")})
    text = ed.scenario_text(ed.aggregate(reading.records, window[0], source), window, header)
    counts = [int(n) for n in re.findall(r"\((\d+) records?[,)]", text)]
    assert counts and sum(counts) == len(reading.records)  # every record, once (duplicates dropped)
    assert not re.search(r"\b1 records\b|\b1 mentions\b", text)
    assert "(1 record" in text
