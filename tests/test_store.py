"""Run directories: what is saved reads back as it was written, a damaged one is refused with one
clear line, new numbered directories are claimed atomically, and dead writers' scratch
directories are cleaned.

Expected values come from the scenario text below (its dates, windows and codes), from the
edits each test makes, or from the Result that was saved.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from stances import api, cli, store, store_read
from stances.cli import main
from stances.result import EVENT_COLUMNS, EVENT_DTYPES, Result, as_datetime64, draws_frame

START, END = date(2025, 1, 1), date(2025, 3, 31)
STEPS = math.ceil(((END - START).days + 1) / 7)  # weekly boundaries up to the first after END
HALF_LIFE_DAYS = (13 * 7, 52 * 7)
WINDOW = (date(2025, 1, 5), date(2025, 2, 20))

# Ids pandas reads as missing or as booleans unless told not to; 'visit' is CAMEO 042.
SCENARIO = f"""\
title: Namibia and friends
time: {{start: {START}, end: {END}, step: week}}
seed: 3
actors:
  NA: {{name: Namibia}}
  "NULL": {{name: Nulland}}
  "TRUE": {{name: Trueland}}
relations:
  NA -> NULL: {{normal: [-0.5, 0.1]}}
  TRUE -> NA: 0.2
parameters:
  memory_half_life: {{uniform: [13 weeks, 52 weeks]}}
issues:
  trade:
    description: a trade pact (0 against, 1 for)
    positions:
      NA: {{at: 0.8, susceptibility: 0.3}}
      "TRUE": {{at: 0.2, susceptibility: 0.3}}
events:
  - id: first
    date: {{uniform: [{WINDOW[0]}, {WINDOW[1]}]}}
    type: visit
    actor: NA
    target: "TRUE"
"""
IDS = ["NA", "NULL", "TRUE"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, tuple[Result, Path]]:
    """A single run, an ensemble saved with quantiles only, and one with its members."""
    root = tmp_path_factory.mktemp("store")
    path = root / "namibia.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    single = api.run(path, members=1)
    ensemble = api.run(path, members=6, first_member=2)
    return {
        "single": (single, api.save(single, root / "single", plots=False)),
        "ensemble": (ensemble, api.save(ensemble, root / "ensemble", plots=False)),
        "kept": (ensemble, api.save(ensemble, root / "kept", plots=False, keep_members=True)),
    }


def step_dates() -> list[date]:
    return [START + timedelta(weeks=k) for k in range(STEPS + 1)]


# ---------------------------------------------------------------------------------------------
# Tables read back as written


def assert_same_table(back: pd.DataFrame, ours: pd.DataFrame, exact: bool = False) -> None:
    """Same columns, dtypes and values; numbers to the 6 decimals CSV keeps unless exact."""
    pdt.assert_frame_equal(back, ours, check_exact=exact, rtol=0, atol=0 if exact else 5.1e-7)


@pytest.mark.parametrize("kind", ["single", "ensemble", "kept"])
def test_tables_read_back_as_written(saved, kind):
    ours, directory = saved[kind]
    back = store.load_run(directory)
    assert back.actor_ids == tuple(IDS)
    assert back.actors == {"NA": "Namibia", "NULL": "Nulland", "TRUE": "Trueland"}
    assert back.dates == step_dates()
    assert back.members == ours.members
    if kind != "ensemble":
        assert_same_table(back.relations, ours.relations, exact=kind == "kept")
    assert_same_table(back.quantile_table(), ours.quantile_table(), exact=kind == "kept")
    assert_same_table(back.stance_table(), ours.stance_table())
    assert_same_table(back.events, ours.events)
    assert_same_table(back.draws, ours.draws)
    assert set(back.events["cameo"]) == {"042"}
    assert set(back.events["who"]) == {"NA -> TRUE"}


@pytest.mark.parametrize("kind", ["single", "kept"])
def test_tables_give_dates_as_datetime64(saved, kind):
    """In memory and read back, every table's date is datetime64[ns] at midnight."""
    ours, directory = saved[kind]
    want = np.array(step_dates(), dtype="datetime64[ns]")
    for result in (ours, store.load_run(directory)):
        tables = [result.relations, result.quantile_table(), result.stance_table()]
        for table in tables:
            assert table["date"].dtype == np.dtype("datetime64[ns]")
            assert (table["date"].to_numpy() == want[table["step"].to_numpy()]).all()
        events = result.events
        assert events["date"].dtype == np.dtype("datetime64[ns]")
        # the drawn date is logged on the first day of its step that the window allows
        for row in events.itertuples():
            step_start = START + timedelta(weeks=row.step - 1)
            assert row.date == pd.Timestamp(max(step_start, WINDOW[0]))


def test_csv_dates_are_written_as_days_and_parquet_dates_as_dates(saved):
    _, directory = saved["single"]
    with (directory / "relations.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["date"] for r in rows} == {d.isoformat() for d in step_dates()}
    assert all(r["date"] == step_dates()[int(r["step"])].isoformat() for r in rows)
    _, kept = saved["kept"]
    schema = pq.read_schema(kept / "members.parquet")
    assert str(schema.field("date").type) == "date32[day]"
    table = pq.read_table(kept / "members.parquet").to_pydict()
    assert set(table["date"]) == set(step_dates())
    assert sorted(set(table["member"])) == list(range(2, 8))


def test_draws_give_each_value_in_its_unit(saved):
    ours, directory = saved["ensemble"]
    for draws in (ours.draws, store.load_run(directory).draws):
        assert list(draws.columns) == ["member", "value_of", "value", "unit", "as_written"]
        by = {label: rows for label, rows in draws.groupby("value_of")}
        assert set(by) == {
            "parameters.memory_half_life",
            "relations.NA -> NULL",
            "events[first].date",
        }
        half = by["parameters.memory_half_life"]
        assert set(half["unit"]) == {"days"}
        assert half["value"].between(*HALF_LIFE_DAYS).all()
        for value, written in zip(half["value"], half["as_written"], strict=True):
            assert written == f"{value:.1f} days"
        when = by["events[first].date"]
        assert set(when["unit"]) == {"day number"}
        days = when["value"].to_numpy()
        assert (days == np.round(days)).all()
        assert ((days >= WINDOW[0].toordinal()) & (days <= WINDOW[1].toordinal())).all()
        assert list(when["as_written"]) == [date.fromordinal(int(d)).isoformat() for d in days]
        assert set(by["relations.NA -> NULL"]["unit"]) == {"number"}
        assert sorted(when["member"]) == list(range(2, 8))


def test_a_draws_csv_written_before_its_unit_column_reads(saved, tmp_path):
    ours, directory = saved["ensemble"]
    copy = copy_of(directory, tmp_path)
    old = pd.read_csv(copy / "draws.csv", dtype=str, keep_default_na=False)
    old.drop(columns="unit").to_csv(copy / "draws.csv", index=False)
    assert_same_table(store.load_run(copy).draws, ours.draws)


# ---------------------------------------------------------------------------------------------
# Round trip of random results

# Ids and texts that CSV readers like to turn into missing values, booleans or numbers.
TRICKY = ["NA", "NULL", "None", "nan", "NaN", "TRUE", "false", "N/A", "#N/A", "null", "007", "1.5"]
IDS_ANY = [*TRICKY, "A,B", 'Q"X', "É"]
TEXT = st.one_of(st.sampled_from(["", *TRICKY]), st.text(alphabet="aZ0 ,;\"'\né-", max_size=6))
NONEMPTY = st.one_of(st.sampled_from(TRICKY), st.text(alphabet="aZ0 ,;\"'\né-", min_size=1))
UNIT = st.floats(-1, 1, allow_nan=False)


@st.composite
def results(draw) -> tuple[Result, bool]:
    """A small random Result (one member or several) and whether to keep its members."""
    ids = draw(st.lists(st.sampled_from(IDS_ANY), min_size=2, max_size=4, unique=True))
    n, k = len(ids), draw(st.sampled_from([1, 1, 3]))
    steps, first = draw(st.integers(0, 3)), draw(st.integers(0, 4))
    start = draw(st.dates(date(1990, 1, 1), date(2100, 1, 1)))
    gaps = draw(st.lists(st.integers(1, 40), min_size=steps, max_size=steps))
    dates = [start + timedelta(days=sum(gaps[:i])) for i in range(steps + 1)]
    history = draw(arrays(float, (steps + 1, k, n, n), elements=UNIT))
    issues = {}
    if draw(st.booleans()):
        issues["NA"] = {"description": draw(TEXT), "actors": draw(st.permutations(ids))[:2]}
    positions = draw(arrays(float, (steps + 1, k, len(issues), n), elements=st.floats(0, 1)))
    rows = [
        {
            "step": draw(st.integers(1, steps)),
            "date": draw(st.dates(date(1990, 1, 1), date(2100, 1, 1))),
            "event": draw(NONEMPTY),
            "origin": draw(st.sampled_from(["scripted", "decided", "refused"])),
            "members": draw(st.integers(1, k)),
            "type": draw(NONEMPTY),
            "cameo": draw(st.sampled_from(["041", "0871", "20", "195"])),
            "goldstein": draw(st.floats(-10, 10)),
            "intensity": draw(st.floats(0, 1e3)),
            "strength": draw(st.floats(-1e3, 1e3)),
            "who": draw(TEXT),
            "actor": draw(st.sampled_from(ids)),
            "toward": draw(st.sampled_from(ids)),
            "before": draw(UNIT),
            "after": draw(UNIT),
            "change": draw(st.floats(-2, 2)),
            "utility": draw(st.one_of(st.just(np.nan), st.floats(-1e3, 1e3))),
            "alternatives": draw(TEXT),
            "cite": draw(TEXT),
            "source": draw(NONEMPTY),
            "label": draw(TEXT),
        }
        for _ in range(draw(st.integers(0, 4)) if steps else 0)
    ]
    events = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    events["date"] = as_datetime64(list(events["date"]))
    labels = draw(st.lists(NONEMPTY, max_size=2, unique=True))
    draws = draws_frame(
        [
            {
                "member": first + m,
                "value_of": label,
                "value": draw(st.floats(-1e6, 1e6)),
                "unit": draw(st.sampled_from(["number", "days", "day number"])),
                "as_written": draw(NONEMPTY),
            }
            for label in labels
            for m in range(k)
        ]
    )
    names = {a: draw(NONEMPTY) for a in ids}
    manifest = {
        "title": draw(NONEMPTY),
        "members": k,
        "first_member": first,
        "steps": steps,
        "start": start.isoformat(),
        "resolved_scenario": {"actors": {a: {"name": names[a]} for a in ids}},
        "issues": issues,
    }
    result = Result(
        manifest["title"],
        names,
        dates,
        history,
        events.astype(EVENT_DTYPES),
        manifest,
        draws,
        positions=positions,
        issues=issues,
    )
    return result, draw(st.booleans())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=results())
def test_a_saved_result_loads_with_the_same_tables(tmp_path, case):
    ours, keep = case
    directory = tmp_path / f"run-{time.monotonic_ns()}"
    store.save_run(ours, directory, keep_members=keep)
    back = store.load_run(directory)
    exact = keep and ours.members > 1  # members.parquet keeps every bit
    assert (back.title, back.actors, back.dates) == (ours.title, ours.actors, ours.dates)
    assert back.members == ours.members
    if ours.members == 1 or keep:
        assert_same_table(back.relations, ours.relations, exact)
    assert_same_table(back.quantile_table(), ours.quantile_table(), exact)
    assert_same_table(back.events, ours.events)
    assert_same_table(back.draws, ours.draws)
    if ours.issues:
        assert_same_table(back.stance_table(), ours.stance_table())
    shutil.rmtree(directory)


# ---------------------------------------------------------------------------------------------
# Damaged run directories: one clear line, exit 2, nothing written


def copy_of(directory: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "damaged"
    shutil.copytree(directory, copy)
    return copy


def set_cell(path: Path, line: int, column: str, value: str) -> None:
    """Write value into one column of one line (1-based; line 1 is the header)."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    rows[line - 1][rows[0].index(column)] = value
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def edit_manifest(directory: Path, change) -> None:
    path = directory / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(change(data)), encoding="utf-8")


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def cut_inside_line(path: Path, line: int) -> None:
    """Keep the lines before `line` and the first 12 characters of it."""
    lines = lines_of(path)
    write_lines(path, [*lines[: line - 1], lines[line - 1][:12]])


def swap_lines(path: Path, a: int, b: int) -> None:
    lines = lines_of(path)
    lines[a - 1], lines[b - 1] = lines[b - 1], lines[a - 1]
    write_lines(path, lines)


def duplicate_line(path: Path, line: int) -> None:
    lines = lines_of(path)
    lines[line] = lines[line - 1]
    write_lines(path, lines)


def delete_line(path: Path, line: int) -> None:
    lines = lines_of(path)
    del lines[line - 1]
    write_lines(path, lines)


def relations_row(path: Path, line: int) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))[line - 2]


T = STEPS
DAMAGE = {
    # the issue's reproducers
    "step -5": (
        "single",
        lambda d: set_cell(d / "relations.csv", 17, "step", "-5"),
        f"relations.csv:17: step -5 is not one of 0..{T}",
    ),
    "manifest null": (
        "single",
        lambda d: (d / "manifest.json").write_text("null"),
        "manifest.json: expected a JSON object, got null",
    ),
    "manifest []": (
        "ensemble",
        lambda d: (d / "manifest.json").write_text("[]"),
        "manifest.json: expected a JSON object, got a list",
    ),
    "actors not a mapping": (
        "single",
        lambda d: edit_manifest(d, lambda m: {**m, "resolved_scenario": {"actors": IDS}}),
        "manifest.json: 'resolved_scenario.actors' should map two or more ids, got a list",
    ),
    "truncated events.csv": (
        "single",
        lambda d: cut_inside_line(d / "events.csv", 3),
        "events.csv:3: the file ends inside a line (cut short?)",
    ),
    "non-numeric member": (
        "single",
        lambda d: set_cell(d / "relations.csv", 5, "member", "x"),
        "relations.csv:5: member x is not one of 0..0",
    ),
    "score 1e308": (
        "single",
        lambda d: set_cell(d / "relations.csv", 9, "score", "1e308"),
        "relations.csv:9: score 1e308 is not in [-1, 1]",
    ),
    "quantile 1e308": (
        "ensemble",
        lambda d: set_cell(d / "quantiles.csv", 9, "q50", "1e308"),
        "quantiles.csv:9: q50 1e308 is not in [-1, 1]",
    ),
    "member 999999999": (
        "single",
        lambda d: set_cell(d / "relations.csv", 4, "member", "999999999"),
        "relations.csv:4: member 999999999 is not one of 0..0",
    ),
    "manifest members 999999999": (
        "kept",
        lambda d: edit_manifest(d, lambda m: {**m, "members": 999999999}),
        f"manifest.json: 999999999 members x {T + 1} steps x 3^2 actor pairs would take",
    ),
    "NA as a missing value": (
        "single",
        lambda d: set_cell(d / "stances.csv", 2, "actor", ""),
        "stances.csv:2: no actor (a line cut short?)",
    ),
    # the shape of the whole
    "a cell twice": (
        "single",
        lambda d: duplicate_line(d / "relations.csv", 3),
        "relations.csv:4: member 0, step 0, NA -> TRUE again (first on line 3)",
    ),
    "a missing row": (
        "single",
        lambda d: delete_line(d / "relations.csv", 8),
        "relations.csv: no row for member 0, step 1, NA -> NULL",
    ),
    "a date out of step": (
        "single",
        lambda d: set_cell(d / "relations.csv", 11, "date", "2025-01-02"),
        f"relations.csv:11: date 2025-01-02 for step 1, which is dated {step_dates()[1]} on line 8",
    ),
    "steps out of order": (
        "ensemble",
        lambda d: [set_cell(d / "quantiles.csv", n, "date", "2024-12-01") for n in range(8, 14)],
        f"quantiles.csv:8: step 1 is dated 2024-12-01, not after step 0 ({START})",
    ),
    "start moved": (
        "single",
        lambda d: edit_manifest(d, lambda m: {**m, "start": "2024-01-01"}),
        f"relations.csv:2: step 0 is dated {START}, but the manifest's start is 2024-01-01",
    ),
    "unknown actor": (
        "single",
        lambda d: set_cell(d / "relations.csv", 6, "toward", "ZZZ"),
        "relations.csv:6: toward ZZZ is not one of the manifest's actors (NA, NULL, TRUE)",
    ),
    "actor toward itself": (
        "single",
        lambda d: set_cell(
            d / "relations.csv", 6, "toward", relations_row(d / "relations.csv", 6)["actor"]
        ),
        "relations.csv:6: actor and toward are both",
    ),
    "position 1.5": (
        "single",
        lambda d: set_cell(d / "stances.csv", 4, "position", "1.5"),
        "stances.csv:4: position 1.5 is not in [0, 1]",
    ),
    "a non-participant's position": (
        "single",
        lambda d: set_cell(d / "stances.csv", 4, "actor", "NULL"),
        "stances.csv:4: NULL does not take part in trade (manifest.json)",
    ),
    "quantiles out of order": (
        "ensemble",
        lambda d: set_cell(d / "quantiles.csv", 5, "q25", "-0.99"),
        "quantiles.csv:5: q25 -0.99 is below q05",
    ),
    "a unit that is none": (
        "ensemble",
        lambda d: set_cell(d / "draws.csv", 3, "unit", "weeks"),
        "draws.csv:3: unit weeks is not one of the units (number, days, day number)",
    ),
    "a member who drew twice": (
        "ensemble",
        lambda d: set_cell(d / "draws.csv", 3, "member", "2"),
        "draws.csv:3: member 2, parameters.memory_half_life again (first on line 2)",
    ),
    "an extra value": (
        "single",
        lambda d: write_lines(
            d / "relations.csv", [*lines_of(d / "relations.csv"), "0,1,2,3,4,5,6\n"]
        ),
        f"relations.csv:{1 + (T + 1) * 6 + 1}: 7 values, but the header has 6 columns",
    ),
    "other columns": (
        "ensemble",
        lambda d: (d / "quantiles.csv").write_text("x,y\n1,2\n"),
        "quantiles.csv:1: the columns are x, y; expected step, date, actor, toward, q05",
    ),
    "no events.csv": (
        "single",
        lambda d: (d / "events.csv").unlink(),
        "events.csv: missing",
    ),
    "an origin that is none": (
        "single",
        lambda d: set_cell(d / "events.csv", 2, "origin", "invented"),
        "events.csv:2: origin invented is not one of the origins",
    ),
    "members as text": (
        "single",
        lambda d: edit_manifest(d, lambda m: {**m, "members": "1"}),
        "manifest.json: 'members' should be a whole number >= 1, got '1'",
    ),
    "bad JSON": (
        "single",
        lambda d: (d / "manifest.json").write_text('{"title": '),
        "manifest.json:1:11: not JSON",
    ),
    "not Parquet": (
        "kept",
        lambda d: (d / "members.parquet").write_bytes(b"PAR1 not really"),
        "members.parquet: not a readable Parquet file",
    ),
    "not UTF-8": (
        "single",
        lambda d: (d / "events.csv").write_bytes(b"step,date\n\xff\xfe\n"),
        "events.csv: cannot be read",
    ),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_run_directory_is_refused_with_one_line(
    saved, tmp_path, monkeypatch, capsys, case
):
    kind, damage, message = DAMAGE[case]
    good = saved[kind][1]
    bad = copy_of(good, tmp_path)
    damage(bad)
    with pytest.raises(store.DamagedRunError) as info:
        store.load_run(bad)
    text = str(info.value)
    assert text.startswith(f"{bad}/"), text
    assert f"{bad}/{message}" in text
    assert "\n" not in text
    assert isinstance(info.value, ValueError)
    monkeypatch.chdir(tmp_path)
    assert main(["compare", str(bad), str(good), "--out", str(tmp_path / "cmp")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("stances: "), err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "cmp").exists()
    assert not (tmp_path / "results").exists()


def test_a_step_moved_to_minus_5_no_longer_gives_a_wrong_parting_date(
    saved, tmp_path, monkeypatch, capsys
):
    """The issue's reproducer: the edited run compared with itself was accepted (exit 0)."""
    _, good = saved["single"]
    bad = copy_of(good, tmp_path)
    for line in range(2, 8):  # the six pairs of step 0
        set_cell(bad / "relations.csv", line, "step", "-5")
    monkeypatch.chdir(tmp_path)
    assert main(["compare", str(good), str(bad), "--out", "cmp"]) == 2
    assert f"{bad}/relations.csv:2: step -5 is not one of 0..{T}" in capsys.readouterr().err


def test_the_memory_cap_is_checked_before_reading(saved, tmp_path, monkeypatch):
    """A manifest asking for more than MAX_LOAD_GIB is refused before any table is read."""
    _, good = saved["kept"]
    bad = copy_of(good, tmp_path)
    edit_manifest(bad, lambda m: {**m, "members": 999999999})
    read = []
    monkeypatch.setattr(store_read, "read_parquet", lambda *a, **k: read.append(a))
    with pytest.raises(store.DamagedRunError, match=r"\d GiB in memory, more than the 8 GiB"):
        store.load_run(bad)
    assert read == []
    gib = 999999999 * (T + 1) * 9 * 8 / 2**30  # the scores alone
    with pytest.raises(store.DamagedRunError) as info:
        store.load_run(bad)
    assert float(re.search(r"take ([\d,.]+) GiB", str(info.value))[1].replace(",", "")) >= gib


# ---------------------------------------------------------------------------------------------
# New numbered directories: claimed atomically, never overwriting


def test_two_writers_at_once_each_get_their_own_number(tmp_path):
    (tmp_path / "x-001").mkdir()
    (tmp_path / "x-001" / "mine").write_text("first")
    both_writing = threading.Barrier(2, timeout=10)
    done: dict[str, Path] = {}

    def writer(tag: str) -> None:
        def write(scratch: Path) -> None:
            (scratch / "who").write_text(tag)
            both_writing.wait()  # neither finishes before the other has started

        done[tag] = store.write_new_directory(store.NextRunDir(tmp_path, "x"), write)

    threads = [threading.Thread(target=writer, args=(tag,)) for tag in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p.name for p in done.values()) == ["x-002", "x-003"]
    for tag, path in done.items():
        assert (path / "who").read_text() == tag
    assert (tmp_path / "x-001" / "mine").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x-001", "x-002", "x-003"]


def test_a_number_taken_while_writing_is_never_overwritten(tmp_path):
    """Another writer takes x-001 (empty, as a claim) while this one writes: this one takes
    x-002; a plain rename would have replaced the empty x-001."""

    def write(scratch: Path) -> None:
        (scratch / "table.csv").write_text("a\n")
        (tmp_path / "x-001").mkdir()

    out = store.write_new_directory(store.NextRunDir(tmp_path, "x"), write)
    assert out == tmp_path / "x-002"
    assert (out / "table.csv").read_text() == "a\n"
    assert list((tmp_path / "x-001").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x-001", "x-002"]


def test_a_named_directory_that_appears_while_writing_is_left_alone(tmp_path):
    target = tmp_path / "mine"

    def write(scratch: Path) -> None:
        (scratch / "table.csv").write_text("a\n")
        target.mkdir()

    with pytest.raises(FileExistsError, match="appeared while writing"):
        store.write_new_directory(target, write)
    assert list(target.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]


def test_two_cli_runs_at_once_with_the_default_output_both_succeed(tmp_path, monkeypatch, capsys):
    """The issue's reproducer: both runs chose results/NAME-001 before either had written."""
    path = tmp_path / "namibia.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    both_ran = threading.Barrier(2, timeout=30)
    ensemble = cli._ensemble

    def run_then_wait(*args, **kwargs):
        result = ensemble(*args, **kwargs)
        both_ran.wait()  # both have run before either saves
        return result

    monkeypatch.setattr(cli, "_ensemble", run_then_wait)
    codes = []
    threads = [
        threading.Thread(target=lambda: codes.append(main(["run", str(path), "--no-plots"])))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [0, 0], capsys.readouterr().err
    made = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert made == ["namibia-001", "namibia-002"]
    for name in made:
        files = {p.name for p in (tmp_path / "results" / name).iterdir()}
        assert {"relations.csv", "events.csv", "manifest.json"} <= files
    out = capsys.readouterr().out
    assert "wrote results/namibia-001/" in out and "wrote results/namibia-002/" in out


WRITER = """\
import sys, time
from pathlib import Path
from stances import store
parent, sync, tag, wait_for = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
def write(scratch):
    (scratch / "who").write_text(tag)
    (sync / tag).write_text("")
    deadline = time.monotonic() + 60
    while len(list(sync.iterdir())) < wait_for and time.monotonic() < deadline:
        time.sleep(0.01)
print(store.write_new_directory(store.NextRunDir(parent, "x"), write).name)
"""


def wait_for_files(directory: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while len(list(directory.iterdir())) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(list(directory.iterdir())) == count


def test_writer_processes_racing_and_a_killed_one(tmp_path):
    """Three processes write x-NNN at once; one is killed while writing. The next write in
    the directory removes the killed one's scratch, not the live ones'; the two others then
    finish, each with its own number, never over the other's."""
    parent, sync = tmp_path / "results", tmp_path / "sync"
    parent.mkdir()
    sync.mkdir()
    (parent / ".x-002.abcd1234").mkdir()  # a scratch name without a writer in it
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **TEXT_OUT)
    elsewhere = parent / f".x.another-host.{int(ended.stdout)}.abcd1234"  # of another host
    elsewhere.mkdir()
    command = [sys.executable, "-c", WRITER, str(parent), str(sync)]
    writers = {
        tag: subprocess.Popen([*command, tag, "4"], **TEXT_OUT) for tag in ("a", "b", "killed")
    }
    try:
        wait_for_files(sync, 3)  # all three are writing; the fourth file lets them go on
        scratch = {
            p.name: p for p in parent.iterdir() if re.fullmatch(r"\.x\..+\.\d+\..{8}", p.name)
        }
        of = {tag: [n for n in scratch if f".{w.pid}." in n] for tag, w in writers.items()}
        assert all(len(names) == 1 for names in of.values()), scratch
        writers["killed"].send_signal(signal.SIGKILL)
        writers["killed"].wait(timeout=30)
        before = {p.name for p in parent.iterdir()}
        assert of["killed"][0] in before  # the killed writer left its scratch behind
        out = store.write_new_directory(parent / "y", lambda s: (s / "t").write_text("t"))
        after = {p.name for p in parent.iterdir()}
        assert after == (before - set(of["killed"])) | {out.name}
        (sync / "go").write_text("")
        names = {tag: writers[tag].communicate(timeout=60)[0].strip() for tag in ("a", "b")}
    finally:
        for w in writers.values():
            w.kill()
    assert [writers[tag].returncode for tag in ("a", "b")] == [0, 0]
    assert sorted(names.values()) == ["x-001", "x-002"]
    for tag, name in names.items():
        assert (parent / name / "who").read_text() == tag
    assert sorted(p.name for p in parent.iterdir()) == sorted(
        [".x-002.abcd1234", elsewhere.name, "x-001", "x-002", "y"]
    )


TEXT_OUT = {"stdout": subprocess.PIPE, "text": True}


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["single", "ensemble"]),
    name=st.sampled_from(
        [
            "relations.csv",
            "quantiles.csv",
            "events.csv",
            "stances.csv",
            "draws.csv",
            "manifest.json",
        ]
    ),
    at=st.floats(0, 1, exclude_max=True),
    text=st.text(alphabet='-0123456789.,e"\nNAx:{}[]', max_size=4),
    cut=st.integers(0, 3),
)
def test_any_edit_is_read_or_refused_with_one_line(saved, tmp_path, kind, name, at, text, cut):
    """Whatever a few characters are replaced by, load_run gives a Result or DamagedRunError."""
    source = saved[kind][1] / name
    if not source.is_file():
        return
    bad = tmp_path / f"fuzz-{time.monotonic_ns()}"
    shutil.copytree(saved[kind][1], bad)
    data = (bad / name).read_bytes()
    where = int(at * len(data))
    (bad / name).write_bytes(data[:where] + text.encode() + data[where + cut :])
    try:
        store.load_run(bad)
    except store.DamagedRunError as exc:
        assert str(exc).startswith(f"{bad}/") and "\n" not in str(exc)
    shutil.rmtree(bad)


def test_a_run_saved_before_events_had_labels_reads_back_with_the_ids_as_labels(tmp_path):
    import pandas as pd

    import stances

    out = stances.save(stances.run(), tmp_path / "run")
    events = out / "events.csv"
    table = pd.read_csv(events, dtype=str, keep_default_na=False)
    assert "label" in table.columns and "Paktika airstrike" in set(table["label"])
    table.drop(columns="label").to_csv(events, index=False)  # the layout of earlier runs
    again = stances.load(out)
    assert list(again.events["label"]) == list(again.events["event"])
