"""Shapley values (analysis.shapley) against a brute force over every order, and the axioms."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stances.analysis import shapley


def brute_force(game, n: int) -> np.ndarray:
    """Average marginal contribution over all n! orders: the definition, nothing shared."""
    total = np.zeros(n)
    for order in itertools.permutations(range(n)):
        held: set[int] = set()
        for i in order:
            before = game(frozenset(held))
            held.add(i)
            total[i] += game(frozenset(held)) - before
    return total / math.factorial(n)


def outcomes(game, rows: np.ndarray) -> np.ndarray:
    return np.array([game(frozenset(np.flatnonzero(r).tolist())) for r in rows])


def random_game(n: int, seed: int):
    """A game with a value drawn at random for every coalition (no structure at all)."""
    table = np.random.default_rng(seed).normal(size=2**n)
    return lambda s: table[sum(1 << i for i in s)]


def test_coalitions_are_every_subset_once():
    rows = shapley.all_coalitions(4)
    assert rows.shape == (16, 4)
    assert len({tuple(r) for r in rows}) == 16
    assert not rows[0].any() and rows[-1].all()
    assert [int(sum(1 << i for i in np.flatnonzero(r))) for r in rows] == list(range(16))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_exact_values_equal_the_average_over_every_order(n, seed):
    game = random_game(n, seed)
    values = outcomes(game, shapley.all_coalitions(n))
    np.testing.assert_allclose(shapley.exact(values, n), brute_force(game, n), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_efficiency_the_values_add_up_to_all_minus_none(n, seed):
    game = random_game(n, seed)
    values = outcomes(game, shapley.all_coalitions(n))
    phi = shapley.exact(values, n)
    assert abs(phi.sum() - (values[-1] - values[0])) < 1e-9


def test_symmetric_events_get_equal_values_and_a_null_event_none():
    # v(S) = (number of events 0 and 1 held)**2 + 3 * [2 in S]; event 3 changes nothing
    def game(s):
        return len(s & {0, 1}) ** 2 + 3.0 * (2 in s)

    phi = shapley.exact(outcomes(game, shapley.all_coalitions(4)), 4)
    assert phi[0] == pytest.approx(phi[1])
    assert phi[0] == pytest.approx(2.0)  # 4 shared equally by two symmetric events
    assert phi[2] == pytest.approx(3.0)
    assert phi[3] == pytest.approx(0.0, abs=1e-15)


def test_an_additive_game_gives_each_event_its_own_part_and_so_does_leaving_it_out():
    a = np.array([0.3, -0.5, 0.05, 1.2, 0.0])
    values = shapley.all_coalitions(5).astype(float) @ a
    np.testing.assert_allclose(shapley.exact(values, 5), a, atol=1e-15)
    np.testing.assert_allclose(shapley.leave_one_out(values, 5), a, atol=1e-15)


def test_leave_one_out_differs_from_shapley_when_events_interact():
    # two events that only matter together: each one's Shapley share is half, and leaving
    # either out removes the whole
    def game(s):
        return 1.0 if {0, 1} <= s else 0.0

    values = outcomes(game, shapley.all_coalitions(2))
    np.testing.assert_allclose(shapley.exact(values, 2), [0.5, 0.5])
    np.testing.assert_allclose(shapley.leave_one_out(values, 2), [1.0, 1.0])


def test_trailing_axes_are_kept_and_each_is_its_own_game():
    n = 3
    games = [random_game(n, seed) for seed in range(6)]
    rows = shapley.all_coalitions(n)
    values = np.stack([outcomes(g, rows) for g in games], axis=1).reshape(2**n, 2, 3)
    phi = shapley.exact(values, n)
    assert phi.shape == (n, 2, 3)
    for g, game in enumerate(games):
        np.testing.assert_allclose(phi.reshape(n, 6)[:, g], brute_force(game, n), atol=1e-12)


def test_sampling_every_order_once_is_the_exact_value():
    n = 4
    game = random_game(n, 11)
    orders = np.array(list(itertools.permutations(range(n))))
    estimate = shapley.sampled(outcomes(game, shapley.permutation_rows(orders)), orders)
    np.testing.assert_allclose(estimate.value, brute_force(game, n), atol=1e-12)
    assert estimate.orders == 24


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 10), st.integers(1, 30), st.integers(0, 2**32 - 1))
def test_sampled_values_add_up_exactly_and_prefixes_grow_by_one_event(n, count, seed):
    rng = np.random.default_rng(seed)
    game = random_game(n, seed)
    orders = shapley.random_orders(n, count, rng)
    rows = shapley.permutation_rows(orders).reshape(count, n + 1, n)
    assert (rows.sum(axis=2) == np.arange(n + 1)).all()
    for c in range(count):  # the j-th prefix adds the order's j-th event
        for j in range(n):
            assert np.flatnonzero(rows[c, j + 1] & ~rows[c, j]).tolist() == [orders[c, j]]
    estimate = shapley.sampled(outcomes(game, rows.reshape(-1, n)), orders)
    assert abs(estimate.value.sum() - (game(frozenset(range(n))) - game(frozenset()))) < 1e-9


def test_the_standard_error_is_zero_for_an_additive_game_and_shrinks_with_orders():
    n = 8
    a = np.linspace(-1, 1, n)
    rng = np.random.default_rng(3)
    orders = shapley.random_orders(n, 50, rng)
    est = shapley.sampled(shapley.permutation_rows(orders).astype(float) @ a, orders)
    np.testing.assert_allclose(est.stderr, 0.0, atol=1e-12)
    np.testing.assert_allclose(est.value, a, atol=1e-12)

    game = random_game(n, 5)
    exact = brute_force(game, n)
    errors = []
    for count in (40, 640):
        orders = shapley.random_orders(n, count, rng)
        est = shapley.sampled(outcomes(game, shapley.permutation_rows(orders)), orders)
        errors.append(float(np.median(est.stderr)))
        # the estimate is within four standard errors of the truth, event by event
        assert (np.abs(est.value - exact) <= 4 * est.stderr + 1e-12).all()
    assert errors[1] < errors[0] / 2.5  # 16 times the orders: about a quarter of the error


def test_wrong_number_of_outcomes_is_refused():
    with pytest.raises(ValueError, match="expected 8"):
        shapley.exact(np.zeros(7), 3)
