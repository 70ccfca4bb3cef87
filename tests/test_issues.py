"""Issue stances: positions in [0, 1] moved each step by Friedkin-Johnsen influence, events
that shift them, homophily, the loader's checks, the outputs and the shipped scenario.

Expectations are worked out by hand (or with numpy) from the formulas in the brief:
x(t+1) = L W x(t) + (I - L) x(0), W row-normalised from max(R, 0) times capability, each
actor regarding itself at +1; a stance shift moves both x and the anchor x(0), clipped.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import assert_at, only_problem, problems_of
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import fractions, hundredths, scenario_text, small_worlds

import stances
from stances import StanceModel, api
from stances.engine.dynamics import friedkin_johnsen_limit

ROOT = Path(__file__).resolve().parents[1]
ARTICLE_ISSUES = ROOT / "scenarios" / "article-issues.yaml"
PERCENTS = (5, 25, 50, 75, 95)
START = date(2025, 1, 6)  # a Monday; weekly steps start here


# ---------------------------------------------------------------------------------------------
# Friedkin-Johnsen by hand


def hand_weights(R: np.ndarray, capability: np.ndarray, takes_part: np.ndarray) -> np.ndarray:
    """W[i, j] proportional to max(R[i, j], 0) * capability[j] over the actors taking part,
    with R[i, i] read as +1; a row without any weight listens only to itself."""
    n = len(capability)
    W = np.zeros((n, n))
    for i in range(n):
        raw = np.array(
            [
                (1.0 if j == i else max(R[i, j], 0.0)) * capability[j] * float(takes_part[j])
                for j in range(n)
            ]
        )
        if raw.sum() > 0:
            W[i] = raw / raw.sum()
        else:
            W[i, i] = 1.0
    return W


def replay(issues: dict, history: np.ndarray, shifts: dict[int, list]) -> np.ndarray:
    """Positions (T+1, I, N) by hand: at step k, first the shifts of events dated in it (x and
    the anchor, each clipped to [0, 1]), then one FJ step with W from the scores history[k].

    issues: name -> dict of arrays takes_part, x0, susceptibility, capability (N,).
    shifts: step -> [(issue index, actor index, by)] in the order the events apply.
    """
    specs = list(issues.values())
    x = np.array([s["x0"] for s in specs], dtype=float)
    anchor = x.copy()
    out = [x.copy()]
    for k in range(1, history.shape[0]):
        for i, a, by in shifts.get(k, []):
            x[i, a] = min(max(x[i, a] + by, 0.0), 1.0)
            anchor[i, a] = min(max(anchor[i, a] + by, 0.0), 1.0)
        new = x.copy()
        for i, s in enumerate(specs):
            W = hand_weights(history[k], s["capability"], s["takes_part"])
            lam = s["susceptibility"]
            moved = lam * (W @ x[i]) + (1.0 - lam) * anchor[i]
            new[i] = np.where(s["takes_part"], moved, x[i])
        x = new
        out.append(x.copy())
    return np.array(out)


def issue_arrays(raw_issues: dict, ids: list[str]) -> dict:
    """The arrays of each issue, from the data as written (defaults 0.5 and 1 filled in)."""
    n = len(ids)
    out = {}
    for name, spec in raw_issues.items():
        takes_part, x0 = np.zeros(n, dtype=bool), np.zeros(n)
        sus, cap = np.zeros(n), np.ones(n)
        for actor, p in spec["positions"].items():
            a = ids.index(actor)
            takes_part[a], x0[a] = True, p["at"]
            sus[a] = p.get("susceptibility", 0.5)
            cap[a] = p.get("capability", 1.0)
        out[name] = {"takes_part": takes_part, "x0": x0, "susceptibility": sus, "capability": cap}
    return out


def week_step(day: date, start: date = START) -> int:
    """The (1-based) weekly step an event dated `day` falls in."""
    return (day - start).days // 7 + 1


def own_shifts(data: dict) -> tuple[dict[int, list], set[tuple[str, str]]]:
    """From scenario data as written: the shifts per step (issue index, actor index, by), and
    every (issue, actor) that some event shifts (grant_recognition included)."""
    ids = list(data["actors"])
    names = list(data["issues"])
    per_step: dict[int, list] = {}
    shifted: set[tuple[str, str]] = set()
    for event in data["events"]:
        k = week_step(date.fromisoformat(event["date"]))
        raw = event.get("stance_shift")
        items = [raw] if isinstance(raw, dict) else list(raw or [])
        moves = [(s["issue"], s.get("actor", event["actor"]), s["by"]) for s in items]
        recognition = data["issues"].get("recognition", {"positions": {}})["positions"]
        if raw is None and event["type"] == "grant_recognition" and event["actor"] in recognition:
            moves = [("recognition", event["actor"], 1.0)]
        for issue, actor, by in moves:
            per_step.setdefault(k, []).append((names.index(issue), ids.index(actor), by))
            shifted.add((issue, actor))
    return per_step, shifted


def run_model(path: Path, **parameters) -> StanceModel:
    model = StanceModel(path, collect=False, **parameters)
    model.run()
    return model


# ---------------------------------------------------------------------------------------------
# Random small scenarios (written as JSON, which is YAML 1.2)

ACTOR_IDS = ("AA", "BB", "CC", "DD", "EE")
TYPES = (
    "statement",
    "praise",
    "condemn",
    "visit",
    "grant_recognition",
    "airstrike",
    "trade_cooperation",
    "border_clash",
)
rate = st.one_of(st.just(0.0), fractions)


@st.composite
def random_scenario(draw, *, negative: bool = False, shifts: bool = True) -> dict:
    """A small world (``strategies.small_worlds``) of 3-5 actors from START, 2-8 weekly steps,
    0-4 events, random relations in hundredths (every pair, all below 0, with negative=True;
    each pair kept or not otherwise), with 1-2 issues with random participants,
    susceptibilities and capabilities, random stance shifts on the events (none with
    shifts=False, and then no issue is named 'recognition'), random homophily, balance_rate
    and noise."""
    world = draw(
        small_worlds(
            ACTOR_IDS,
            start=START,
            types=TYPES,
            score=hundredths(-100, -10) if negative else hundredths(-100, 100),
            every_pair=negative,
            weeks=(2, 8),
            max_events=4,
        )
    )
    data = world.data()
    ids, n = world.ids, len(world.ids)
    names = ["recognition", "trade"] if shifts else ["trade", "water"]
    issues = {}
    for name in names[: draw(st.integers(1, 2))]:
        part = draw(st.lists(st.booleans(), min_size=n, max_size=n).filter(any))
        positions = {}
        for actor, takes_part in zip(ids, part, strict=True):
            if not takes_part:
                continue
            p = {"at": draw(fractions)}
            if draw(st.booleans()):
                p["susceptibility"] = draw(st.one_of(st.just(0.0), fractions))
            if draw(st.booleans()):
                p["capability"] = draw(st.one_of(st.just(0.0), hundredths(0, 300)))
            positions[actor] = p
        issues[name] = {"description": f"the {name} issue", "positions": positions}
    for event in data["events"]:
        items = []
        for _ in range(draw(st.integers(0, 2)) if shifts else 0):
            issue = draw(st.sampled_from(list(issues)))
            who = draw(st.sampled_from(list(issues[issue]["positions"])))
            item = {"issue": issue, "by": draw(hundredths(-100, 100))}
            if who != event["actor"] or draw(st.booleans()):
                item["actor"] = who
            items.append(item)
        if len(items) == 1 and draw(st.booleans()):
            event["stance_shift"] = items[0]
        elif items:
            event["stance_shift"] = items
    data["parameters"] = {
        "homophily": draw(rate),
        "balance_rate": draw(rate),
        "noise": draw(st.one_of(st.just(0.0), hundredths(0, 20))),
    }
    data["issues"] = issues
    return data


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("issues")


def write(directory: Path, data: dict) -> Path:
    path = directory / "random.yaml"
    path.write_text(scenario_text(data), encoding="utf-8")
    return path


def weeks_of(data: dict) -> int:
    end = date.fromisoformat(data["time"]["end"])
    return ((end - START).days + 1) // 7


@settings(max_examples=40, deadline=None)
@given(data=random_scenario())
def test_positions_stay_in_unit_interval_and_follow_friedkin_johnsen(workdir, data):
    model = run_model(write(workdir, data))
    X = model.positions[:, 0]
    assert X.shape == (weeks_of(data) + 1, len(data["issues"]), len(data["actors"]))
    assert np.all(X >= 0.0)
    assert np.all(X <= 1.0)
    # every step: the step's shifts, then x = L W x + (I - L) x(0) with W from that step's scores
    shifts, _ = own_shifts(data)
    expected = replay(
        issue_arrays(data["issues"], list(data["actors"])), model.history[:, 0], shifts
    )
    np.testing.assert_allclose(X, expected, rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(data=random_scenario())
def test_actor_with_susceptibility_zero_and_no_shifts_of_its_own_never_moves(workdir, data):
    model = run_model(write(workdir, data))
    _, shifted = own_shifts(data)
    ids = list(data["actors"])
    for i, (name, spec) in enumerate(data["issues"].items()):
        for actor, p in spec["positions"].items():
            if p.get("susceptibility", 0.5) == 0.0 and (name, actor) not in shifted:
                track = model.positions[:, 0, i, ids.index(actor)]
                assert np.all(track == p["at"]), (name, actor, track)


@settings(max_examples=40, deadline=None)
@given(data=random_scenario(negative=True, shifts=False))
def test_nobody_moves_while_every_score_is_negative(workdir, data):
    # all relations start below 0 and no event shifts a position: nobody regards anyone well,
    # so every actor listens only to itself and stays where it is, for as long as every score
    # stays below 0 (events, balance, homophily or noise may later lift one above 0)
    model = run_model(write(workdir, data))
    H = model.history[:, 0].copy()
    n = H.shape[1]
    H[:, np.arange(n), np.arange(n)] = -1.0
    positive = [k for k in range(1, H.shape[0]) if (H[k] > 0).any()]
    until = positive[0] if positive else H.shape[0]
    x0 = np.array([s["x0"] for s in issue_arrays(data["issues"], list(data["actors"])).values()])
    for k in range(until):
        np.testing.assert_allclose(model.positions[k, 0], x0, rtol=0, atol=1e-12)


def test_nobody_moves_with_all_relations_negative_and_no_events(write_scenario):
    # the same, where the scores cannot change: no events, no balance, homophily or noise
    path = write_scenario(
        """\
title: Enemies
time: {start: 2025-01-06, end: 2025-03-30, step: week}
actors:
  IND: {name: India}
  PAK: {name: Pakistan}
  AFG: {name: Afghanistan}
relations:
  IND <-> PAK: -0.6
  IND <-> AFG: -0.1
  PAK <-> AFG: -0.9
issues:
  trade:
    description: more trade
    positions:
      IND: {at: 0.1, susceptibility: 1.0}
      PAK: {at: 0.9, susceptibility: 0.5, capability: 3}
      AFG: {at: 0.4}
"""
    )
    model = run_model(path)
    assert model.positions.shape[0] == 13
    for k in range(13):
        np.testing.assert_allclose(model.positions[k, 0, 0], [0.1, 0.9, 0.4], rtol=0, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(data=random_scenario())
def test_stance_table_lists_only_participants(workdir, data):
    model = run_model(write(workdir, data))
    result = api.result_of(model)
    ids = list(data["actors"])
    steps = weeks_of(data) + 1
    table = result.stance_table()
    assert list(table.columns) == ["step", "date", "issue", "actor", "position"]
    taking_part = {(name, a) for name, spec in data["issues"].items() for a in spec["positions"]}
    assert set(zip(table["issue"], table["actor"], strict=True)) == taking_part
    assert len(table) == len(taking_part) * steps
    for name, spec in data["issues"].items():
        assert result.issues[name]["actors"] == [a for a in ids if a in spec["positions"]]
    names = list(data["issues"])
    for row in table.itertuples():
        i, a = names.index(row.issue), ids.index(row.actor)
        assert row.position == model.positions[row.step, 0, i, a]


# ---------------------------------------------------------------------------------------------
# One Friedkin-Johnsen step by hand

FJ3 = """\
title: One step by hand
time: {start: 2025-01-06, end: 2025-03-30, step: week}
actors:
  IND: {name: India}
  PAK: {name: Pakistan}
  AFG: {name: Afghanistan}
relations:
  IND -> PAK: 0.6
  IND -> AFG: -0.4
  PAK -> IND: 0.2
  PAK -> AFG: 0.5
  AFG -> IND: 0.8
  AFG -> PAK: -0.1
issues:
  trade:
    description: more trade (0 none, 1 free trade)
    positions:
      IND: {at: 0.1, susceptibility: 0.3, capability: 1.5}
      PAK: {at: 0.9, susceptibility: 0.7, capability: 0.5}
      AFG: {at: 0.4, susceptibility: 1.0}
"""

# Ties max(R, 0) with +1 on the diagonal, times capability (1.5, 0.5, 1) column by column:
#   IND: 1 * 1.5, 0.6 * 0.5, 0        -> 1.5, 0.3, 0    (sum 1.8)
#   PAK: 0.2 * 1.5, 1 * 0.5, 0.5 * 1  -> 0.3, 0.5, 0.5  (sum 1.3)
#   AFG: 0.8 * 1.5, 0, 1 * 1          -> 1.2, 0, 1.0    (sum 2.2)
FJ3_W = np.array([[1.5, 0.3, 0.0], [0.3, 0.5, 0.5], [1.2, 0.0, 1.0]]) / np.array(
    [[1.8], [1.3], [2.2]]
)
FJ3_X0 = np.array([0.1, 0.9, 0.4])
FJ3_L = np.diag([0.3, 0.7, 1.0])


def test_one_friedkin_johnsen_step_by_hand(write_scenario):
    model = StanceModel(write_scenario(FJ3), collect=False)
    model.step()
    # no events: decay keeps the scores at the baseline (= the initial scores; to rounding, as
    # the model keeps artanh of them)
    R = np.array([[0.0, 0.6, -0.4], [0.2, 0.0, 0.5], [0.8, -0.1, 0.0]])
    np.testing.assert_allclose(model.history[1, 0], R, rtol=0, atol=1e-15)
    np.testing.assert_allclose(hand_weights(R, np.array([1.5, 0.5, 1.0]), np.ones(3)), FJ3_W)
    x1 = FJ3_L @ FJ3_W @ FJ3_X0 + (np.eye(3) - FJ3_L) @ FJ3_X0
    np.testing.assert_allclose(model.positions[1, 0, 0], x1, rtol=0, atol=1e-12)
    # the anchor stays x(0): the second step pulls back toward it
    model.step()
    x2 = FJ3_L @ FJ3_W @ x1 + (np.eye(3) - FJ3_L) @ FJ3_X0
    np.testing.assert_allclose(model.positions[2, 0, 0], x2, rtol=0, atol=1e-12)


def test_positions_converge_to_the_friedkin_johnsen_limit(write_scenario):
    text = FJ3.replace("end: 2025-03-30", "end: 2027-01-03").replace(
        "AFG: {at: 0.4, susceptibility: 1.0}", "AFG: {at: 0.4, susceptibility: 0.6}"
    )
    model = run_model(write_scenario(text))  # 104 weekly steps
    assert model.positions.shape[0] == 105
    L = np.diag([0.3, 0.7, 0.6])
    limit = np.linalg.solve(np.eye(3) - L @ FJ3_W, (np.eye(3) - L) @ FJ3_X0)
    np.testing.assert_allclose(model.positions[-1, 0, 0], limit, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        friedkin_johnsen_limit(FJ3_X0, FJ3_W, np.array([0.3, 0.7, 0.6])), limit, atol=1e-12
    )


# ---------------------------------------------------------------------------------------------
# stance_shift and grant_recognition

# Statements (Goldstein 0) leave every score as it is, so only the shifts act.
SHIFT = """\
title: Shifts
time: {start: 2025-01-06, end: 2025-03-30, step: week}
actors:
  IND: {name: India}
  PAK: {name: Pakistan}
  AFG: {name: Afghanistan}
relations:
  IND <-> PAK: 0.5
  IND <-> AFG: 0.3
  PAK <-> AFG: 0.4
issues:
  trade:
    description: more trade
    positions:
      IND: {at: 0.2, susceptibility: 0.0}
      PAK: {at: 0.6}
      AFG: {at: 0.9, susceptibility: 0.4, capability: 2}
events:
  - id: talks
    date: 2025-01-22
    type: statement
    actor: IND
    target: PAK
"""
SHIFT_STEP = 3  # 2025-01-22 is 16 days after the start: the third weekly step
SHIFT_R = np.array([[0.0, 0.5, 0.3], [0.5, 0.0, 0.4], [0.3, 0.4, 0.0]])
SHIFT_ISSUE = {
    "trade": {
        "takes_part": np.ones(3, dtype=bool),
        "x0": np.array([0.2, 0.6, 0.9]),
        "susceptibility": np.array([0.0, 0.5, 0.4]),
        "capability": np.array([1.0, 1.0, 2.0]),
    }
}


def test_stance_shift_moves_the_actor_at_the_events_step(write_scenario):
    model = run_model(write_scenario(SHIFT + "    stance_shift: {issue: trade, by: 0.3}\n"))
    for k in range(model.history.shape[0]):  # a statement changes no score
        np.testing.assert_array_equal(model.history[k, 0], SHIFT_R)
    ind = model.positions[:, 0, 0, 0]
    assert np.all(ind[:SHIFT_STEP] == 0.2)
    np.testing.assert_allclose(ind[SHIFT_STEP:], 0.2 + 0.3, rtol=0, atol=1e-12)
    history = np.repeat(SHIFT_R[None], 13, axis=0)
    expected = replay(SHIFT_ISSUE, history, {SHIFT_STEP: [(0, 0, 0.3)]})
    np.testing.assert_allclose(model.positions[:, 0], expected, rtol=0, atol=1e-12)


def test_stance_shift_moves_the_anchor_so_influence_pulls_toward_the_new_value(write_scenario):
    # IND is open to influence (0.5) and regards both others well; a year of steps lets the
    # positions settle at the FJ limit of the *shifted* anchors
    text = (
        SHIFT.replace("end: 2025-03-30", "end: 2026-01-04")
        .replace("IND: {at: 0.2, susceptibility: 0.0}", "IND: {at: 0.2, susceptibility: 0.5}")
        .replace("AFG: {at: 0.9, susceptibility: 0.4, capability: 2}", "AFG: {at: 0.9}")
    )
    model = run_model(write_scenario(text + "    stance_shift: {issue: trade, by: 0.3}\n"))
    assert model.positions.shape[0] == 53
    W = hand_weights(SHIFT_R, np.ones(3), np.ones(3, dtype=bool))
    L = np.diag([0.5, 0.5, 0.5])

    def limit(x0):
        return np.linalg.solve(np.eye(3) - L @ W, (np.eye(3) - L) @ x0)

    shifted, unshifted = limit(np.array([0.5, 0.6, 0.9])), limit(np.array([0.2, 0.6, 0.9]))
    final = model.positions[-1, 0, 0]
    np.testing.assert_allclose(final, shifted, rtol=0, atol=1e-12)
    assert abs(final[0] - unshifted[0]) > 0.1  # not pulled back to where IND started


def test_stance_shift_on_an_actor_that_listens_only_to_itself_sticks(write_scenario):
    # IND regards nobody well: x(t+1) = 0.5 x(t) + 0.5 x(0); were the anchor not moved, IND
    # would drift back toward 0.2
    text = SHIFT.replace("IND <-> PAK: 0.5", "IND -> PAK: -0.5\n  PAK -> IND: 0.5").replace(
        "IND <-> AFG: 0.3", "IND -> AFG: -0.3\n  AFG -> IND: 0.3"
    )
    text = text.replace("IND: {at: 0.2, susceptibility: 0.0}", "IND: {at: 0.2}")
    model = run_model(write_scenario(text + "    stance_shift: {issue: trade, by: 0.3}\n"))
    ind = model.positions[:, 0, 0, 0]
    np.testing.assert_array_equal(ind[:SHIFT_STEP], 0.2)
    np.testing.assert_allclose(ind[SHIFT_STEP:], 0.5, rtol=0, atol=1e-12)
    # and the others, who regard IND well, move up after the shift more than without it
    calm = run_model(write_scenario(text, "calm.yaml"))
    assert np.all(model.positions[-1, 0, 0, 1:] > calm.positions[-1, 0, 0, 1:])


@pytest.mark.parametrize(
    ("at", "by", "expected"), [(0.9, 0.5, 1.0), (0.1, -0.4, 0.0), (0.5, -1.0, 0.0), (0.0, 1, 1.0)]
)
def test_stance_shift_is_clipped_to_the_unit_interval(write_scenario, at, by, expected):
    # IND listens only to itself (negative ties), so its position stays at its anchor: both
    # must have been clipped, or it would leave [0, 1]
    text = SHIFT.replace("IND <-> PAK: 0.5", "IND -> PAK: -0.5\n  PAK -> IND: 0.5").replace(
        "IND <-> AFG: 0.3", "IND -> AFG: -0.3\n  AFG -> IND: 0.3"
    )
    text = text.replace("IND: {at: 0.2, susceptibility: 0.0}", f"IND: {{at: {at}}}")
    model = run_model(write_scenario(text + f"    stance_shift: {{issue: trade, by: {by}}}\n"))
    ind = model.positions[:, 0, 0, 0]
    np.testing.assert_array_equal(ind[:SHIFT_STEP], at)
    np.testing.assert_array_equal(ind[SHIFT_STEP:], expected)


SHIFT_LIST = """\
    stance_shift:
      - {issue: trade, by: 0.25}
      - {issue: trade, actor: PAK, by: -0.35}
      - {issue: water, actor: AFG, by: 0.5}
"""


def test_a_list_of_stance_shifts_applies_each(write_scenario):
    text = SHIFT.replace(
        "events:",
        "  water:\n"
        "    description: water sharing\n"
        "    positions:\n"
        "      IND: {at: 0.5, susceptibility: 0}\n"
        "      AFG: {at: 0.3, susceptibility: 0}\n"
        "events:",
    ).replace("PAK: {at: 0.6}", "PAK: {at: 0.6, susceptibility: 0}")
    text = text.replace(
        "AFG: {at: 0.9, susceptibility: 0.4, capability: 2}", "AFG: {at: 0.9, susceptibility: 0}"
    )
    model = run_model(write_scenario(text + SHIFT_LIST))
    X = model.positions[:, 0]  # (steps, issue, actor); nobody is open to influence
    before = np.array([[0.2, 0.6, 0.9], [0.5, 0.0, 0.3]])
    after = np.array([[0.2 + 0.25, 0.6 - 0.35, 0.9], [0.5, 0.0, 0.3 + 0.5]])
    for k in range(X.shape[0]):
        np.testing.assert_allclose(
            X[k], before if k < SHIFT_STEP else after, rtol=0, atol=1e-12, err_msg=f"step {k}"
        )
    assert model.spec.issues["water"].takes_part.tolist() == [True, False, True]


def test_stance_shift_defaults_to_the_events_actor(write_scenario):
    text = SHIFT.replace("actor: IND\n    target: PAK", "actor: PAK\n    target: IND")
    text = text.replace("PAK: {at: 0.6}", "PAK: {at: 0.6, susceptibility: 0}").replace(
        "AFG: {at: 0.9, susceptibility: 0.4, capability: 2}", "AFG: {at: 0.9, susceptibility: 0}"
    )
    model = run_model(write_scenario(text + "    stance_shift: {issue: trade, by: -0.2}\n"))
    X = model.positions[:, 0, 0]
    np.testing.assert_array_equal(X[:, 0], 0.2)  # IND, the target, is not shifted
    np.testing.assert_array_equal(X[:, 2], 0.9)
    np.testing.assert_array_equal(X[:SHIFT_STEP, 1], 0.6)
    np.testing.assert_allclose(X[SHIFT_STEP:, 1], 0.6 - 0.2, rtol=0, atol=1e-12)


RECOGNITION = """\
title: Recognition
time: {start: 2025-01-06, end: 2025-03-30, step: week}
actors:
  IND: {name: India}
  PAK: {name: Pakistan}
  AFG: {name: Afghanistan}
relations:
  IND <-> PAK: -0.5
  IND -> AFG: -0.5
  AFG -> IND: 0.4
  PAK <-> AFG: 0.3
issues:
  recognition:
    description: recognising the Taliban (0 no dealings, 1 formal recognition)
    positions:
      IND: {at: 0.2, susceptibility: 0.4}
      AFG: {at: 1.0, susceptibility: 0.0}
events:
  - id: recognises
    date: 2025-01-22
    type: grant_recognition
    actor: IND
    target: AFG
  - id: pakistan-too
    date: 2025-02-05
    type: grant_recognition
    actor: PAK
    target: AFG
"""


def test_grant_recognition_moves_the_granter_to_one_on_recognition(write_scenario):
    model = run_model(write_scenario(RECOGNITION))
    ind = model.positions[:, 0, 0, 0]
    np.testing.assert_array_equal(ind[:SHIFT_STEP], 0.2)
    # IND still regards nobody well (its view of AFG rises but stays below 0), so with the
    # anchor at 1 it stays at 1
    assert np.all(model.history[:, 0, 0, 1:] < 0)
    np.testing.assert_array_equal(ind[SHIFT_STEP:], 1.0)
    # PAK, which has no position on recognition, grants it too: nothing to move, no error
    issues = issue_arrays(
        {
            "recognition": {
                "positions": {
                    "IND": {"at": 0.2, "susceptibility": 0.4},
                    "AFG": {"at": 1.0, "susceptibility": 0.0},
                }
            }
        },
        ["IND", "PAK", "AFG"],
    )
    expected = replay(issues, model.history[:, 0], {SHIFT_STEP: [(0, 0, 1.0)]})
    np.testing.assert_allclose(model.positions[:, 0], expected, rtol=0, atol=1e-12)
    assert model.spec.issues["recognition"].takes_part.tolist() == [True, False, True]


def test_grant_recognition_without_a_recognition_issue_moves_nothing(write_scenario):
    text = RECOGNITION.replace("  recognition:\n", "  ties:\n")
    model = run_model(write_scenario(text))
    issues = issue_arrays(
        {
            "ties": {
                "positions": {
                    "IND": {"at": 0.2, "susceptibility": 0.4},
                    "AFG": {"at": 1.0, "susceptibility": 0.0},
                }
            }
        },
        ["IND", "PAK", "AFG"],
    )
    np.testing.assert_array_equal(model.positions[:, 0, 0, 0], 0.2)
    expected = replay(issues, model.history[:, 0], {})
    np.testing.assert_allclose(model.positions[:, 0], expected, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Loader errors, each at file:line:col

ERRORS = """\
title: Errors
time: {start: 2025-01-06, end: 2025-03-30, step: week}
actors:
  IND: {name: India}
  PAK: {name: Pakistan}
  AFG: {name: Afghanistan}
issues:
  trade:
    description: more trade
    positions:
      IND: {at: 0.2}
      PAK: {at: 0.6, susceptibility: 0.3, capability: 2, why: a partner}
events:
  - id: talks
    date: 2025-01-22
    type: statement
    actor: IND
    target: PAK
"""
SHIFT_LINE = "    stance_shift: {issue: trade, by: 0.1}\n"


def test_the_error_base_is_valid(write_scenario):
    sc = stances.load_scenario(write_scenario(ERRORS + SHIFT_LINE))
    assert sc.events[0].stance_shifts == (("trade", "IND", 0.1),)
    trade = sc.issues["trade"]
    assert trade.takes_part.tolist() == [True, True, False]
    assert trade.susceptibility.tolist()[:2] == [0.5, 0.3]  # 0.5 by default
    assert trade.capability.tolist()[:2] == [1.0, 2.0]  # 1 by default


def test_unknown_actor_in_positions(write_scenario):
    text = ERRORS.replace("PAK: {at: 0.6", "PKA: {at: 0.6")
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, "PKA")
    assert "unknown actor 'PKA'" in problem.message
    assert "did you mean 'PAK'" in problem.message


@pytest.mark.parametrize(
    ("old", "new", "value", "words"),
    [
        ("{at: 0.2}", "{at: 1.5}", "1.5", "at most 1"),
        ("{at: 0.2}", "{at: -0.1}", "-0.1", "at least 0"),
        ("susceptibility: 0.3", "susceptibility: 1.2", "1.2", "at most 1"),
        ("susceptibility: 0.3", "susceptibility: -0.3", "-0.3", "at least 0"),
        ("capability: 2", "capability: -1", "-1", "at least 0"),
    ],
)
def test_position_values_out_of_range(write_scenario, old, new, value, words):
    text = ERRORS.replace(old, new)
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, value)
    assert words in problem.message
    assert value in problem.message


def test_stance_shift_naming_an_unknown_issue(write_scenario):
    text = ERRORS + "    stance_shift: {issue: trad, by: 0.1}\n"
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, "trad,")
    assert "unknown issue 'trad'" in problem.message
    assert "did you mean 'trade'" in problem.message


def test_stance_shift_for_an_actor_without_a_position(write_scenario):
    # the event's actor AFG holds no position on trade
    text = ERRORS.replace("actor: IND\n    target: PAK", "actor: AFG\n    target: PAK")
    text += SHIFT_LINE
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, "{issue: trade")
    assert "AFG has no position on 'trade'" in problem.message


def test_stance_shift_list_item_for_an_actor_without_a_position(write_scenario):
    text = ERRORS + (
        "    stance_shift:\n"
        "      - {issue: trade, by: 0.1}\n"
        "      - {issue: trade, actor: AFG, by: 0.1}\n"
    )
    path = write_scenario(text)
    problem = only_problem(path)
    assert_at(problem, path, text, "{issue: trade, actor: AFG")
    assert "AFG has no position on 'trade'" in problem.message


@pytest.mark.parametrize(
    ("shift", "where"),
    [
        ("    stance_shift: {issue: trade, by: 1.5}\n", "events[talks].stance_shift.by"),
        (
            "    stance_shift:\n      - {issue: trade, by: 1.5}\n",
            "events[talks].stance_shift[0].by",
        ),
    ],
    ids=["mapping", "list"],
)
def test_stance_shift_by_out_of_range(write_scenario, shift, where):
    # reported where the bad value stands, under the key path as written in the file (a single
    # mapping has no [0])
    text = ERRORS + shift
    path = write_scenario(text)
    problem = only_problem(path)
    assert "at most 1" in problem.message
    assert problem.where == where, str(problem)
    assert_at(problem, path, text, "1.5}")


@pytest.mark.parametrize(
    ("old", "new", "key", "suggestion"),
    [
        ("IND: {at: 0.2}", "IND: {at: 0.2, sus: 0.1}", "sus", None),
        ("IND: {at: 0.2}", "IND: {at: 0.2, susceptiblity: 0.1}", "susceptiblity", "susceptibility"),
        ("IND: {at: 0.2}", "IND: {postion: 0.2}", "postion", None),
    ],
)
def test_unknown_key_in_a_position(write_scenario, old, new, key, suggestion):
    text = ERRORS.replace(old, new)
    path = write_scenario(text)
    problems = problems_of(path)
    unknown = [p for p in problems if f"unknown key '{key}'" in p.message]
    assert len(unknown) == 1, [str(p) for p in problems]
    assert_at(unknown[0], path, text, key)
    if suggestion:
        assert "did you mean" in unknown[0].message
        assert suggestion in unknown[0].message
    # nothing else is wrong, except (for 'postion') that the position 'at' is then missing
    others = [p for p in problems if p is not unknown[0]]
    assert all("missing required key 'at'" in p.message for p in others), [str(p) for p in others]


def test_misspelt_positions_key_of_an_issue(write_scenario):
    text = ERRORS.replace("    positions:\n", "    postions:\n")
    path = write_scenario(text)
    problems = problems_of(path)
    unknown = [p for p in problems if "unknown key 'postions'" in p.message]
    assert len(unknown) == 1, [str(p) for p in problems]
    assert_at(unknown[0], path, text, "postions")
    assert "did you mean 'positions'" in unknown[0].message


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [("IND: {at: 0.2}", "IND: {at: 0.2, sus: 0.1}", "sus"), ("{at: 0.2}", "{at: 1.5}", "1.5")],
    ids=["unknown-key", "bad-value"],
)
def test_a_mistake_inside_an_issue_is_reported_once(write_scenario, old, new, needle):
    # one mistake in one position: the event shifting IND on 'trade' must not be reported as
    # naming an unknown issue ('trade' is right there), every problem shows once and truly
    text = ERRORS.replace(old, new) + SHIFT_LINE
    path = write_scenario(text)
    problems = problems_of(path)
    assert not [p for p in problems if "unknown issue" in p.message], [str(p) for p in problems]
    assert len(problems) == 1, [str(p) for p in problems]
    assert_at(problems[0], path, text, needle)


# ---------------------------------------------------------------------------------------------
# Homophily

HOMOPHILY = """\
title: Homophily
time: {start: 2025-01-06, end: 2025-03-30, step: week}
actors:
  IND: {name: India}
  PAK: {name: Pakistan}
  AFG: {name: Afghanistan}
  CHN: {name: China}
relations:
  IND <-> PAK: 0.2
  IND <-> AFG: 0.2
  PAK <-> AFG: 0.2
  CHN <-> IND: 0.2
issues:
  trade:
    description: more trade
    positions:
      IND: {at: 0.0}
      PAK: {at: 0.0}
      AFG: {at: 1.0}
"""
IND, PAK, AFG, CHN = range(4)


def one_step(path: Path, **parameters) -> np.ndarray:
    model = StanceModel(path, collect=False, **parameters)
    model.step()
    return model.history[1, 0]


def test_homophily_warms_agreeing_actors_and_cools_opposed_ones(write_scenario):
    path = write_scenario(HOMOPHILY)
    plain, h = one_step(path), one_step(path, homophily=0.3)
    assert plain[IND, PAK] == pytest.approx(0.2, abs=1e-15)  # no events: scores stay
    # equal positions (gap 0): rate 0.3 toward +1
    assert h[IND, PAK] > plain[IND, PAK]
    assert h[PAK, IND] > plain[PAK, IND]
    assert h[IND, PAK] == pytest.approx(0.2 + 0.3 * (1 - 0.2), abs=1e-12)  # on the score
    # opposite positions (gap 1): rate 0.3 * (1 - 2) toward -1
    assert h[IND, AFG] < plain[IND, AFG]
    assert h[AFG, PAK] < plain[AFG, PAK]
    assert h[IND, AFG] == pytest.approx(0.2 - 0.3 * (1 + 0.2), abs=1e-12)
    # CHN holds no position: its scores are untouched
    assert h[CHN, IND] == plain[CHN, IND] == pytest.approx(0.2, abs=1e-15)
    assert h[IND, CHN] == plain[IND, CHN] == pytest.approx(0.2, abs=1e-15)


def test_homophily_uses_the_mean_gap_over_shared_issues(write_scenario):
    text = HOMOPHILY + (
        "  water:\n"
        "    description: water sharing\n"
        "    positions:\n"
        "      IND: {at: 0.2}\n"
        "      PAK: {at: 0.7}\n"
        "      AFG: {at: 0.45}\n"
        "      CHN: {at: 0.2}\n"
    )
    h = one_step(write_scenario(text), homophily=0.3)
    # IND-PAK: gaps 0 and 0.5, mean 0.25, rate 0.3 * 0.5
    assert h[IND, PAK] == pytest.approx(0.2 + 0.15 * 0.8, abs=1e-12)
    # IND-AFG: gaps 1 and 0.25, mean 0.625, rate 0.3 * (1 - 1.25) = -0.075
    assert h[IND, AFG] == pytest.approx(0.2 - 0.075 * 1.2, abs=1e-12)
    # CHN-IND share only water, where they agree: rate 0.3
    assert h[CHN, IND] == pytest.approx(0.2 + 0.3 * 0.8, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# Outputs


@pytest.fixture(scope="module")
def saved_article(tmp_path_factory) -> tuple[StanceModel, stances.Result, Path]:
    model = run_model(ARTICLE_ISSUES)
    result = api.result_of(model)
    directory = api.save(result, tmp_path_factory.mktemp("out") / "article-issues")
    return model, result, directory


def test_save_writes_stances_csv_and_png(saved_article):
    model, _, directory = saved_article
    assert (directory / "stances.png").stat().st_size > 0
    table = pd.read_csv(directory / "stances.csv")
    assert list(table.columns) == ["step", "date", "issue", "actor", "position"]
    steps = model.positions.shape[0]
    taking_part = {
        ("recognition", "AFG"),
        ("recognition", "CHN"),
        ("recognition", "IND"),
        ("recognition", "PAK"),
        ("corridor", "CHN"),
        ("corridor", "PAK"),
        ("corridor", "AFG"),
        ("corridor", "IND"),
        ("refugee_returns", "PAK"),
        ("refugee_returns", "AFG"),
        ("refugee_returns", "CHN"),
    }
    assert set(zip(table["issue"], table["actor"], strict=True)) == taking_part
    assert len(table) == len(taking_part) * steps
    assert not table.duplicated(["step", "issue", "actor"]).any()
    dates = [d.isoformat() for d in model.dates]
    assert (table["date"] == [dates[s] for s in table["step"]]).all()
    ids, names = list(model.spec.actor_ids), list(model.spec.issues)
    for row in table.itertuples():
        value = model.positions[row.step, 0, names.index(row.issue), ids.index(row.actor)]
        assert row.position == pytest.approx(value, abs=5e-7)


def test_load_reads_the_same_positions(saved_article):
    model, result, directory = saved_article
    back = stances.load(directory)
    assert list(back.issues) == ["recognition", "corridor", "refugee_returns"]
    assert back.issues == result.issues
    assert back.positions.shape == model.positions.shape
    np.testing.assert_allclose(back.positions, model.positions, rtol=0, atol=5e-7)
    np.testing.assert_allclose(
        back.position_band("corridor", "AFG")[2], model.positions[:, 0, 1, 3], atol=5e-7
    )


def test_ensemble_writes_position_quantiles(tmp_path):
    whatif = tmp_path / "noisy.yaml"
    whatif.write_text(
        f"extends: {ARTICLE_ISSUES}\ntitle: The issues, with noise\nset:\n  parameters.noise: 0.05\n",
        encoding="utf-8",
    )
    result = stances.run(whatif, members=20)
    assert result.positions.shape[1] == 20
    expected = np.percentile(result.positions, PERCENTS, axis=1)  # (5, steps, I, N)
    directory = api.save(result, tmp_path / "out")
    assert (directory / "stances.png").is_file()
    table = pd.read_csv(directory / "stances.csv")
    columns = ["q05", "q25", "q50", "q75", "q95"]
    assert list(table.columns) == ["step", "date", "issue", "actor", *columns]
    names, ids = list(result.issues), list(result.actor_ids)
    steps = result.positions.shape[0]
    assert len(table) == 11 * steps
    for row in table.itertuples(index=False):
        want = expected[:, row.step, names.index(row.issue), ids.index(row.actor)]
        got = [getattr(row, c) for c in columns]
        np.testing.assert_allclose(got, want, rtol=0, atol=5e-7)
    # the noise spreads the members, so the quantiles differ
    assert (table["q95"] - table["q05"]).max() > 1e-3
    back = stances.load(directory)
    np.testing.assert_allclose(back.position_quantiles, expected, rtol=0, atol=5e-7)


# ---------------------------------------------------------------------------------------------
# The shipped scenario


def test_shipped_issue_scenario_gives_a_reason_for_every_position():
    sc = stances.load_scenario(ARTICLE_ISSUES)
    raw = sc.resolved["issues"]
    assert set(raw) == {"recognition", "corridor", "refugee_returns"}
    for name, spec in raw.items():
        assert spec["description"].strip()
        assert spec["positions"]
        for actor, p in spec["positions"].items():
            assert actor in sc.actor_ids
            assert isinstance(p.get("why"), str), (name, actor)
            assert p["why"].strip(), (name, actor)


def test_shipped_issue_scenario_runs_as_friedkin_johnsen(saved_article):
    model, _, _ = saved_article
    sc = model.spec
    start = sc.time.start
    written = {
        "deportations-step-up": [("refugee_returns", "PAK", 0.05)],
        "dar-visits-kabul": [("refugee_returns", "PAK", -0.05)],
        "ambassadors-agreed": [("corridor", "AFG", 0.1), ("recognition", "PAK", 0.1)],
    }
    for event in sc.events:
        assert list(event.stance_shifts) == written.get(event.id, []), event.id
    ids, names = list(sc.actor_ids), list(sc.resolved["issues"])
    shifts: dict[int, list] = {}
    for event in sc.events:
        for issue, actor, by in written.get(event.id, []):
            k = week_step(event.date, start)
            shifts.setdefault(k, []).append((names.index(issue), ids.index(actor), by))
    X = model.positions[:, 0]
    assert X.shape == (len(model.dates), 3, 4)
    assert np.all((X >= 0) & (X <= 1))
    expected = replay(issue_arrays(sc.resolved["issues"], ids), model.history[:, 0], shifts)
    np.testing.assert_allclose(X, expected, rtol=0, atol=1e-12)
    # the shifts show: AFG warms to the corridor at the ambassadors' step
    k = week_step(date(2025, 5, 21), start)
    assert X[k, 1, ids.index("AFG")] > X[k - 1, 1, ids.index("AFG")]
