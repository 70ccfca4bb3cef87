"""The update rules on arrays: exact single-event effects worked by hand, and properties.

Published rules (DESIGN.md): strength s = intensity * goldstein / 10; a move of rate r on a score
x gives x + r * (1 - x) if r > 0 and x + r * (1 + x) otherwise, with r = kappa * s clipped to
[-1, 1]; an observer o of "a acts on b" moves its view of a at rate kappa_observer * s * R[o, b].
"""

from __future__ import annotations

import threading
from dataclasses import fields, replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    acts_with_coefficients,
    coefficients,
    histories,
    histories_with_coefficients,
    states,
)

from stances.catalogue import Form
from stances.engine.dynamics import (
    FIRST_RULES,
    Act,
    Coefficients,
    Scratch,
    apply_act,
    changes_of,
    decay,
    decay_factor,
    saturating_move,
)
from stances.scenario.models import Parameters

DEFAULTS = Coefficients(
    kappa_target=0.5, kappa_actor=0.25, kappa_observer=0.15, kappa_parties=0.4, kappa_credit=0.3
)


def state(n: int, cells: dict[tuple[int, int], float], fill: float = 0.0) -> np.ndarray:
    """A (1, n, n) state: every off-diagonal score is fill, except the given cells."""
    R = np.full((1, n, n), fill)
    np.fill_diagonal(R[0], 0.0)
    for (i, j), v in cells.items():
        R[0, i, j] = v
    return R


def act(form: Form, actor: int, others: tuple[int, ...], s: float) -> Act:
    return Act(form, actor, others, np.array([s]))


def assert_only_changed(before: np.ndarray, after: np.ndarray, expected: dict) -> None:
    """The cells in expected have those values (to 1e-12); every other cell is unchanged."""
    want = before.copy()
    for (i, j), v in expected.items():
        want[0, i, j] = v
    np.testing.assert_allclose(after, want, rtol=0, atol=1e-12)


def test_defaults_are_the_published_ones():
    # the design's starting values; the one place defaults live is the file format's Parameters
    defaults = Parameters()
    assert Coefficients(**{f.name: getattr(defaults, f.name) for f in fields(Coefficients)}) == (
        DEFAULTS
    )


def test_saturating_move_by_hand():
    x = np.array([0.2, 0.2, -0.6, 0.9])
    r = np.array([0.5, -0.5, 0.25, 3.0])  # the last rate is clipped to 1
    expected = np.array(
        [
            0.2 + 0.5 * (1 - 0.2),  # r > 0: a share of the room up to +1
            0.2 - 0.5 * (1 + 0.2),  # r < 0: a share of the room down to -1
            -0.6 + 0.25 * (1 + 0.6),
            1.0,  # rate 1 takes all the room
        ]
    )
    np.testing.assert_allclose(saturating_move(x, r), expected, rtol=0, atol=1e-15)


class TestDirected:
    """Actor 0 strikes target 1; observer 2 likes the target, observer 3 dislikes it."""

    def test_airstrike_by_hand(self):
        a, b, friend, foe = 0, 1, 2, 3
        R = state(
            4,
            {
                (b, a): -0.3,
                (a, b): 0.2,
                (friend, a): 0.1,
                (friend, b): 0.6,
                (foe, a): -0.4,
                (foe, b): -0.5,
            },
            fill=0.25,
        )
        before = R.copy()
        s = 1.0 * -10.0 / 10  # intensity 1, Goldstein -10
        apply_act(R, act(Form.DIRECTED, a, (b,), s), DEFAULTS, rules=FIRST_RULES)
        expected = {
            # target's view of the actor: rate 0.5 * -1 = -0.5
            (b, a): -0.3 + (-0.5) * (1 + (-0.3)),  # = -0.65
            # actor's view of the target: rate 0.25 * -1 = -0.25
            (a, b): 0.2 + (-0.25) * (1 + 0.2),  # = -0.1
            # attacking my friend lowers my view of you: rate 0.15 * -1 * 0.6 = -0.09
            (friend, a): 0.1 + (-0.09) * (1 + 0.1),  # = 0.001
            # attacking my enemy raises it: rate 0.15 * -1 * -0.5 = +0.075
            (foe, a): -0.4 + 0.075 * (1 - (-0.4)),  # = -0.295
        }
        assert_only_changed(before, R, expected)

    def test_aid_by_hand(self):
        a, b, friend, foe = 0, 1, 2, 3
        R = state(4, {(b, a): 0.4, (a, b): -0.2, (friend, b): 0.8, (foe, b): -1.0}, fill=-0.1)
        before = R.copy()
        s = 0.5 * 7.4 / 10  # intensity 0.5, Goldstein +7.4
        apply_act(R, act(Form.DIRECTED, a, (b,), s), DEFAULTS, rules=FIRST_RULES)
        expected = {
            (b, a): 0.4 + 0.5 * s * (1 - 0.4),
            (a, b): -0.2 + 0.25 * s * (1 - (-0.2)),
            (friend, a): -0.1 + 0.15 * s * 0.8 * (1 - (-0.1)),  # helping my friend: up
            (foe, a): -0.1 + 0.15 * s * (-1.0) * (1 + (-0.1)),  # helping my enemy: down
        }
        assert_only_changed(before, R, expected)

    def test_strength_above_one_is_clipped(self):
        R = state(2, {(1, 0): 0.3, (0, 1): -0.5})
        apply_act(R, act(Form.DIRECTED, 0, (1,), -5.0), DEFAULTS, rules=FIRST_RULES)
        # target rate 0.5 * -5 = -2.5, clipped to -1: the score goes to -1
        # actor rate 0.25 * -5 = -1.25, clipped to -1: the score goes to -1
        np.testing.assert_allclose(R[0], [[0.0, -1.0], [-1.0, 0.0]], atol=1e-15)


def test_symmetric_by_hand():
    # a and b clash: a -> b then b -> a, every rate from the state before the event
    a, b, o = 0, 1, 2
    R = state(3, {(a, b): 0.2, (b, a): -0.3, (o, a): 0.5, (o, b): -0.4, (a, o): 0.1, (b, o): 0.7})
    before = R.copy()
    s = -0.5
    apply_act(R, act(Form.SYMMETRIC, a, (b,), s), DEFAULTS, rules=FIRST_RULES)
    # R[b, a]: as target of a -> b (rate 0.5 * -0.5 = -0.25), then as actor of b -> a (-0.125)
    ba = -0.3 + (-0.25) * (1 - 0.3)  # -0.475
    ba = ba + (-0.125) * (1 + ba)  # -0.540625
    # R[a, b]: as actor of a -> b (rate -0.125), then as target of b -> a (rate -0.25)
    ab = 0.2 + (-0.125) * (1 + 0.2)  # 0.05
    ab = ab + (-0.25) * (1 + ab)  # -0.2125
    expected = {
        (b, a): ba,
        (a, b): ab,
        # o's view of a, judged by o's view of b before the event: rate 0.15 * -0.5 * -0.4 = 0.03
        (o, a): 0.5 + 0.03 * (1 - 0.5),
        # o's view of b, judged by o's view of a before the event: 0.15 * -0.5 * 0.5 = -0.0375
        (o, b): -0.4 + (-0.0375) * (1 - 0.4),
    }
    assert_only_changed(before, R, expected)
    assert ba == pytest.approx(-0.540625)
    assert ab == pytest.approx(-0.2125)


def test_meeting_of_three_by_hand():
    # actor 0 meets parties 1 and 2; actor 3 watches
    a, p, q, o = 0, 1, 2, 3
    views = {(a, p): 0.1, (p, a): -0.2, (a, q): 0.3, (q, a): -0.4, (p, q): 0.5, (q, p): -0.6}
    R = state(4, {**views, (o, a): 0.4, (o, p): 0.2, (o, q): 0.6, (a, o): -0.3}, fill=0.05)
    before = R.copy()
    s = 0.4
    apply_act(R, act(Form.MEETING, a, (p, q), s), DEFAULTS, rules=FIRST_RULES)
    # every pair of participants, both directions: rate 0.4 * 0.4 = 0.16
    expected = {cell: x + 0.16 * (1 - x) for cell, x in views.items()}
    # o judges each pair member by its view of the other; all rates are positive here, so the
    # moves on one score (room left multiplies by 1 - rate each time) commute.
    k = 0.15 * s  # 0.06
    expected[(o, a)] = 1 - (1 - 0.4) * (1 - k * 0.2) * (1 - k * 0.6)  # pairs (a,p), (a,q)
    expected[(o, p)] = 1 - (1 - 0.2) * (1 - k * 0.4) * (1 - k * 0.6)  # pairs (a,p), (p,q)
    expected[(o, q)] = 1 - (1 - 0.6) * (1 - k * 0.4) * (1 - k * 0.2)  # pairs (a,q), (p,q)
    assert_only_changed(before, R, expected)


def test_mediation_by_hand():
    # mediator 0 between parties 1 and 2; actor 3 watches
    m, p, q, o = 0, 1, 2, 3
    R = state(
        4,
        {
            (p, q): -0.3,
            (q, p): -0.5,
            (p, m): 0.8,
            (q, m): 0.3,
            (m, p): 0.7,
            (m, q): 0.2,
            (o, p): 0.5,
            (o, q): -0.4,
            (o, m): 0.1,
        },
        fill=-0.2,
    )
    before = R.copy()
    s = 1.0 * 5.0 / 10  # mediate: Goldstein +5
    apply_act(R, act(Form.MEDIATION, m, (p, q), s), DEFAULTS, rules=FIRST_RULES)
    expected = {
        # the parties move toward each other: rate 0.4 * 0.5 = 0.2
        (p, q): -0.3 + 0.2 * (1 - (-0.3)),  # -0.04
        (q, p): -0.5 + 0.2 * (1 - (-0.5)),  # -0.2
        # credit to the mediator: rate 0.3 * 0.5 = 0.15
        (p, m): 0.8 + 0.15 * (1 - 0.8),  # 0.83
        (q, m): 0.3 + 0.15 * (1 - 0.3),  # 0.405
        # o judges p by its view of q: rate 0.15 * 0.5 * -0.4 = -0.03
        (o, p): 0.5 + (-0.03) * (1 + 0.5),  # 0.455
        # and q by its view of p: rate 0.15 * 0.5 * 0.5 = 0.0375
        (o, q): -0.4 + 0.0375 * (1 - (-0.4)),  # -0.3475
    }
    assert_only_changed(before, R, expected)


def test_changes_of_does_not_mutate_and_matches_apply_act():
    rng = np.random.default_rng(5)
    R = rng.uniform(-1, 1, size=(3, 5, 5))
    for k in range(3):
        np.fill_diagonal(R[k], 0.0)
    the_act = Act(Form.MEETING, 1, (0, 3, 4), np.array([0.3, -0.7, 0.0]))
    original = R.copy()
    changes = changes_of(R, the_act, DEFAULTS, rules=FIRST_RULES)
    assert np.array_equal(R, original)
    applied = R.copy()
    returned = apply_act(applied, the_act, DEFAULTS, rules=FIRST_RULES)
    np.testing.assert_array_equal(applied[:, changes.rows, changes.cols], changes.after)
    np.testing.assert_array_equal(original[:, changes.rows, changes.cols], changes.before)
    np.testing.assert_array_equal(returned.after, changes.after)
    untouched = np.ones((5, 5), dtype=bool)
    untouched[changes.rows, changes.cols] = False
    assert np.array_equal(applied[:, untouched], original[:, untouched])
    assert len(set(zip(changes.rows.tolist(), changes.cols.tolist(), strict=True))) == len(
        changes.rows
    )


def test_decay_by_hand():
    R = np.array([[[0.0, 0.9], [-0.8, 0.0]]])
    B = np.array([[0.0, 0.1], [-0.2, 0.0]])
    f = decay_factor(7.0, 14.0)  # one week, two-week half-life
    assert f == pytest.approx(2 ** (-7 / 14))
    decay(R, B, f)
    expected = [[0.0, 0.1 + (0.9 - 0.1) * 2**-0.5], [-0.2 + (-0.8 + 0.2) * 2**-0.5, 0.0]]
    np.testing.assert_allclose(R[0], expected, rtol=0, atol=1e-15)


# ---------------------------------------------------------------------------------------------
# Properties


@settings(max_examples=100, deadline=None)
@given(histories(), coefficients)
def test_scores_stay_in_range(history, c):
    R, sequence = history
    for the_act in sequence:
        changes = apply_act(R, the_act, c, rules=FIRST_RULES)
        assert np.all(R >= -1.0) and np.all(R <= 1.0), (the_act, R)
        assert np.all(np.abs(changes.after) <= 1.0)
    for m in range(R.shape[0]):
        assert np.all(np.diag(R[m]) == 0.0)  # nobody's view of itself is touched


@settings(max_examples=100, deadline=None)
@given(
    states(),
    st.floats(0.01, 5000.0, allow_nan=False),
    st.data(),
)
def test_decay_halves_the_gap_in_one_half_life(R, half_life, data):
    B = data.draw(states(n=R.shape[1], k=1))[0]
    gap = R - B
    decay(R, B, decay_factor(half_life, half_life))
    np.testing.assert_allclose(R - B, gap / 2, rtol=1e-12, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(states(), st.floats(0.01, 5000.0, allow_nan=False), st.floats(0.0, 400.0))
def test_decay_stays_between_score_and_baseline(R, half_life, days):
    B = np.clip(R[0] * 0.5 + 0.1, -1, 1)
    before = R.copy()
    decay(R, B, decay_factor(days, half_life))
    low, high = np.minimum(before, B), np.maximum(before, B)
    assert np.all(R - low >= -1e-12)
    assert np.all(high - R >= -1e-12)


@settings(max_examples=100, deadline=None)
@given(histories(strength=st.just(0.0)), coefficients)
def test_zero_strength_changes_nothing(history, c):
    R, sequence = history
    original = R.copy()
    for the_act in sequence:
        changes = apply_act(R, the_act, c, rules=FIRST_RULES)
        assert np.all(changes.delta == 0.0)
    assert np.array_equal(R, original)


@settings(max_examples=60, deadline=None)
@given(histories(), coefficients)
def test_members_are_independent(history, c):
    # a K-member state advances like K single-member states, each with its own strength
    R, sequence = history
    singles = [R[m : m + 1].copy() for m in range(R.shape[0])]
    for the_act in sequence:
        apply_act(R, the_act, c, rules=FIRST_RULES)
        for m, single in enumerate(singles):
            one = Act(the_act.form, the_act.actor, the_act.others, the_act.strength[m : m + 1])
            apply_act(single, one, c, rules=FIRST_RULES)
    np.testing.assert_array_equal(R, np.concatenate(singles))


# ---------------------------------------------------------------------------------------------
# The engine against the rules as docs/model.md writes them, one member and one move at a time


def moves_by_hand(x: np.ndarray, the_act: Act, kappa: dict[str, float], s: float) -> list:
    """One member's moves (cell, rate before clipping), every rate from the state x before the
    act, in the order the rules list them (a symmetric event is a on b, then b on a; a meeting
    goes pair by pair; a mediation is its pair, then the credit)."""
    people = the_act.participants
    observers = [o for o in range(len(x)) if o not in people]
    moves = []

    def directed(a: int, b: int) -> None:
        moves.append(((b, a), kappa["kappa_target"] * s))
        moves.append(((a, b), kappa["kappa_actor"] * s))
        moves.extend(((o, a), kappa["kappa_observer"] * s * x[o, b]) for o in observers)

    def pair(p: int, q: int) -> None:
        moves.append(((p, q), kappa["kappa_parties"] * s))
        moves.append(((q, p), kappa["kappa_parties"] * s))
        moves.extend(((o, p), kappa["kappa_observer"] * s * x[o, q]) for o in observers)
        moves.extend(((o, q), kappa["kappa_observer"] * s * x[o, p]) for o in observers)

    if the_act.form is Form.DIRECTED:
        directed(the_act.actor, the_act.others[0])
    elif the_act.form is Form.SYMMETRIC:
        directed(the_act.actor, the_act.others[0])
        directed(the_act.others[0], the_act.actor)
    elif the_act.form is Form.MEETING:
        for i, p in enumerate(people):
            for q in people[i + 1 :]:
                pair(p, q)
    else:
        p, q = the_act.others
        pair(p, q)
        moves.append(((p, the_act.actor), kappa["kappa_credit"] * s))
        moves.append(((q, the_act.actor), kappa["kappa_credit"] * s))
    return moves


def rules_by_hand(R: np.ndarray, the_act: Act, c: Coefficients) -> np.ndarray:
    """The state after the act, from the rules as docs/model.md writes them, one member and
    one move at a time (the two-branch saturating step, rates clipped to [-1, 1])."""
    k = R.shape[0]
    out = R.copy()
    for m in range(k):
        kappa = {f.name: float(np.broadcast_to(getattr(c, f.name), (k,))[m]) for f in fields(c)}
        for cell, rate in moves_by_hand(R[m], the_act, kappa, float(the_act.strength[m])):
            r, now = min(max(rate, -1.0), 1.0), out[m][cell]
            out[m][cell] = now + r * (1 - now) if r > 0 else now + r * (1 + now)
    return out


@settings(max_examples=150, deadline=None)
@given(histories_with_coefficients())
def test_the_engine_follows_the_written_rules(drawn):
    R, sequence, c = drawn
    for the_act in sequence:
        expected = rules_by_hand(R, the_act, c)
        apply_act(R, the_act, c, rules=FIRST_RULES)
        np.testing.assert_allclose(R, expected, rtol=0, atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(acts_with_coefficients(), st.data())
def test_working_out_some_cells_only_gives_exactly_their_full_values(drawn, data):
    R, the_act, c = drawn
    n = R.shape[1]
    full = changes_of(R, the_act, c, rules=FIRST_RULES)
    only = tuple(sorted(data.draw(st.sets(st.integers(0, n * n - 1), min_size=1))))
    some = changes_of(R, the_act, c, only=only, rules=FIRST_RULES)
    wanted = [m for m, cell in enumerate((full.rows * n + full.cols).tolist()) if cell in only]
    assert (some.rows * n + some.cols).tolist() == [
        int(full.rows[m] * n + full.cols[m]) for m in wanted
    ]
    np.testing.assert_array_equal(some.after, full.after[:, wanted])
    np.testing.assert_array_equal(some.before, full.before[:, wanted])


@settings(max_examples=100, deadline=None)
@given(acts_with_coefficients(), st.data())
def test_an_act_in_some_members_moves_them_as_alone_and_leaves_the_others(drawn, data):
    R, the_act, c = drawn
    k = R.shape[0]
    members = np.array(sorted(data.draw(st.sets(st.integers(0, k - 1), min_size=1))))
    alone = R[members].copy()
    apply_act(
        alone,
        Act(the_act.form, the_act.actor, the_act.others, the_act.strength[members]),
        c.of_members(members),
        rules=FIRST_RULES,
    )
    some = R.copy()
    part = Act(the_act.form, the_act.actor, the_act.others, the_act.strength[members])
    changes = apply_act(some, part, c.of_members(members), members=members, rules=FIRST_RULES)
    np.testing.assert_array_equal(some[members], alone)
    rest = np.setdiff1d(np.arange(k), members)
    np.testing.assert_array_equal(some[rest], R[rest])
    assert changes.after.shape == (len(members), len(changes.rows))


def test_coefficients_of_some_members():
    shared = DEFAULTS
    assert shared.of_members(np.array([1, 2])) is shared  # the same numbers everywhere
    c = replace(
        DEFAULTS, kappa_target=np.array([0.1, 0.2, 0.9]), kappa_credit=np.array([0.3, 0.0, 0.6])
    )
    part = c.of_members(np.array([0, 2]))
    np.testing.assert_array_equal(part.kappa_target, [0.1, 0.9])
    np.testing.assert_array_equal(part.kappa_credit, [0.3, 0.6])
    np.testing.assert_array_equal(part.matrix[2], [0.15, 0.15])  # a shared one, per member
    assert c.bound == 0.9 and part.bound == 0.9


def test_scratch_reuses_its_memory_and_leaves_results_alone():
    scratch = Scratch()
    first = scratch.take("x", (3, 4))
    smaller = scratch.take("x", (2, 5))
    assert np.shares_memory(first, smaller) and smaller.shape == (2, 5)
    larger = scratch.take("x", (5, 5))
    assert not np.shares_memory(first, larger) and larger.flags.c_contiguous
    assert not np.shares_memory(scratch.take("y", (2, 5)), scratch.take("x", (2, 5)))
    rng = np.random.default_rng(2)
    R = rng.uniform(-1, 1, size=(4, 5, 5))
    the_act = Act(Form.MEETING, 0, (2, 3), rng.uniform(-1, 1, 4))
    fresh = changes_of(R, the_act, DEFAULTS, rules=FIRST_RULES)
    kept = changes_of(R, the_act, DEFAULTS, scratch=scratch, rules=FIRST_RULES)
    np.testing.assert_array_equal(kept.after, fresh.after)
    np.testing.assert_array_equal(kept.before, fresh.before)


def test_each_thread_has_its_own_scratch():
    mine = Scratch.of_this_thread()
    assert Scratch.of_this_thread() is mine
    theirs = []
    worker = threading.Thread(target=lambda: theirs.append(Scratch.of_this_thread()))
    worker.start()
    worker.join()
    assert theirs[0] is not mine


def test_a_member_without_a_number_for_its_strength_does_not_unclip_the_others():
    R = state(2, {(1, 0): 0.3, (0, 1): -0.5})
    R = np.concatenate([R, R])
    apply_act(R, Act(Form.DIRECTED, 0, (1,), np.array([np.nan, 5.0])), DEFAULTS, rules=FIRST_RULES)
    alone = state(2, {(1, 0): 0.3, (0, 1): -0.5})
    apply_act(alone, act(Form.DIRECTED, 0, (1,), 5.0), DEFAULTS, rules=FIRST_RULES)
    np.testing.assert_array_equal(R[1], alone[0])
    assert np.all(np.abs(R[1]) <= 1.0)


@pytest.mark.parametrize("actor, others", [(3, (1,)), (0, (0,)), (-1, (1,)), (0, (1, 1))])
def test_an_act_with_participants_outside_the_state_is_refused(actor, others):
    form = Form.MEETING if len(others) > 1 else Form.DIRECTED
    R = np.zeros((1, 3, 3))
    with pytest.raises(ValueError, match=r"distinct actors 0\.\.2"):
        changes_of(R, Act(form, actor, others, np.array([0.5])), DEFAULTS, rules=FIRST_RULES)


def test_cells_to_work_out_may_be_any_sequence():
    rng = np.random.default_rng(3)
    R = rng.uniform(-1, 1, size=(2, 4, 4))
    the_act = Act(Form.DIRECTED, 0, (1,), np.array([0.4, -0.8]))
    as_tuple = changes_of(R, the_act, DEFAULTS, only=(4, 8), rules=FIRST_RULES)
    for only in ([4, 8], np.array([4, 8])):
        other = changes_of(R, the_act, DEFAULTS, only=only, rules=FIRST_RULES)
        np.testing.assert_array_equal(other.after, as_tuple.after)
