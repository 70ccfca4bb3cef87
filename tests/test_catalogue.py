"""The event catalogue: CAMEO codes, Goldstein weights, and what every named type must do."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import stances
from stances.catalogue import Form, cameo_table, cameo_type, named_types

TSV = Path(stances.__file__).parent / "data" / "cameo-goldstein.tsv"
SHARED_TSV = Path("/work/shared/data/cameo-goldstein.tsv")

REQUIRED_TYPES = (
    "statement",
    "condemn",
    "phone_call",
    "visit",
    "host_visit",
    "meet",
    "negotiate",
    "mediate",
    "sign_agreement",
    "grant_recognition",
    "upgrade_relations",
    "reduce_relations",
    "humanitarian_aid",
    "economic_aid",
    "trade_cooperation",
    "security_cooperation",
    "threaten",
    "deport",
    "mass_expulsion",
    "border_clash",
    "airstrike",
)


def read_tsv() -> dict[str, float]:
    """CAMEO code -> Goldstein weight, read here with the csv module, not with the package."""
    with TSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    header, body = rows[0], rows[1:]
    assert header == ["cameo_code", "goldstein", "description"]
    return {code: float(weight) for code, weight, _ in body}


def test_packaged_table_is_the_source_file():
    packaged = resources.files("stances").joinpath("data/cameo-goldstein.tsv").read_bytes()
    assert packaged == TSV.read_bytes()
    if SHARED_TSV.exists():  # the table as published with the design, where it is available
        assert packaged == SHARED_TSV.read_bytes()


def test_table_size_and_known_weights():
    weights = read_tsv()
    assert len(weights) == 311
    assert weights["195"] == -10.0  # employ aerial weapons
    assert weights["045"] == 5.0  # mediate
    assert weights["0871"] == 9.0  # declare truce, ceasefire
    assert weights["010"] == 0.0  # make statement
    assert all(-10.0 <= w <= 10.0 for w in weights.values())


def test_package_reads_the_table_as_the_file_says():
    weights = read_tsv()
    table = cameo_table()
    assert set(table) == set(weights)
    for code, weight in weights.items():
        assert table[code].goldstein == weight, code
        assert table[code].code == code


def test_codes_keep_leading_zeros():
    table = cameo_table()
    assert "045" in table and "45" not in table
    assert "0871" in table and "871" not in table


@pytest.mark.parametrize("name", REQUIRED_TYPES)
def test_required_named_type_exists(name):
    assert name in named_types()


@pytest.mark.parametrize("name", sorted(named_types()))
def test_named_type_weight_is_its_cameo_weight(name):
    kind = named_types()[name]
    weights = read_tsv()
    assert kind.cameo in weights, f"{name}: CAMEO code {kind.cameo!r} not in the table"
    assert kind.goldstein == weights[kind.cameo]


def test_named_types_have_expected_forms():
    types = named_types()
    assert types["mediate"].form is Form.MEDIATION
    assert types["meet"].form is Form.MEETING
    assert types["border_clash"].form is Form.SYMMETRIC
    assert types["airstrike"].form is Form.DIRECTED
    assert types["airstrike"].cameo == "195"


def test_every_cameo_code_usable_in_a_scenario(write_scenario):
    weights = read_tsv()
    lines = [
        "title: every code",
        "time: {start: 2025-01-01, end: 2025-01-31, step: week}",
        "actors:",
        "  AAA: {name: A}",
        "  BBB: {name: B}",
        "events:",
    ]
    for n, code in enumerate(weights):
        lines.append(
            f'  - {{id: e{n}, date: 2025-01-10, cameo: "{code}", actor: AAA, target: BBB}}'
        )
    sc = stances.load_scenario(write_scenario("\n".join(lines) + "\n"))
    assert [e.type.cameo for e in sc.events] == list(weights)
    assert [e.type.goldstein for e in sc.events] == list(weights.values())
    assert all(e.type.form is Form.DIRECTED for e in sc.events)


def test_cameo_type_unknown_code_raises():
    with pytest.raises(KeyError):
        cameo_type("999")


# ---------------------------------------------------------------------------------------------
# One generic test class that every named type must pass (as Axelrod does for strategies).
#
# Four actors: ACT acts, TGT is the target (or first party), PRT the second party, OBS watches.

RELATIONS = """\
relations:
  ACT -> TGT: 0.1
  TGT -> ACT: -0.2
  ACT -> PRT: 0.3
  PRT -> ACT: 0.4
  TGT -> PRT: -0.5
  PRT -> TGT: 0.5
  OBS -> ACT: 0.6
  OBS -> TGT: -0.6
  OBS -> PRT: 0.7
  ACT -> OBS: -0.1
  TGT -> OBS: 0.2
  PRT -> OBS: -0.3
"""


def one_event_scenario(name: str, intensity: float = 1.0) -> str:
    kind = named_types()[name]
    who = "parties: [TGT, PRT]" if kind.form.takes_parties else "target: TGT"
    return (
        f"title: one {name}\n"
        "time: {start: 2025-01-01, end: 2025-01-31, step: week}\n"
        "actors:\n"
        "  ACT: {name: Actor}\n"
        "  TGT: {name: Target}\n"
        "  PRT: {name: Party}\n"
        "  OBS: {name: Observer}\n"
        f"{RELATIONS}"
        "events:\n"
        f"  - {{id: it, date: 2025-01-09, type: {name}, actor: ACT, {who},"
        f" intensity: {intensity}}}\n"
    )


def touched_pairs(name: str) -> list[tuple[str, str]]:
    """The views the event must move in its own direction: (holder, about)."""
    form = named_types()[name].form
    if form is Form.DIRECTED:
        return [("TGT", "ACT")]
    if form is Form.SYMMETRIC:
        return [("TGT", "ACT"), ("ACT", "TGT")]
    if form is Form.MEETING:
        people = ("ACT", "TGT", "PRT")
        return [(p, q) for p in people for q in people if p != q]
    return [("TGT", "PRT"), ("PRT", "TGT")]  # mediation: the parties' views of each other


@pytest.mark.parametrize("name", sorted(named_types()))
class TestEveryNamedType:
    @pytest.fixture
    def result(self, name, write_scenario):
        path = write_scenario(one_event_scenario(name), name=f"{name}.yaml")
        return stances.run(stances.load_scenario(path))

    def test_event_is_applied_once(self, name, result):
        assert list(result.events.drop_duplicates("event")["event"]) == ["it"]

    def test_scores_stay_in_range(self, name, result):
        assert np.all(result.history >= -1.0)
        assert np.all(result.history <= 1.0)

    def test_direction_of_effect(self, name, result):
        weight = named_types()[name].goldstein
        if weight == 0:  # a neutral event changes nothing at all
            assert np.array_equal(
                result.history, np.broadcast_to(result.history[0], result.history.shape)
            )
            return
        for holder, about in touched_pairs(name):
            series = result.score_array(holder, about)[:, 0]
            start = series[0]
            if weight > 0:  # cooperation never lowers these views, and raises them
                assert np.all(series >= start), (holder, about, series)
                assert series[-1] > start, (holder, about, series)
            else:  # conflict never raises them, and lowers them
                assert np.all(series <= start), (holder, about, series)
                assert series[-1] < start, (holder, about, series)

    def test_strong_event_stays_in_range(self, name, write_scenario):
        # intensity up to 10 gives strengths up to 10: rates must be clipped, scores bounded
        path = write_scenario(one_event_scenario(name, intensity=10), name=f"{name}-10.yaml")
        result = stances.run(stances.load_scenario(path))
        assert np.all(np.abs(result.history) <= 1.0)
