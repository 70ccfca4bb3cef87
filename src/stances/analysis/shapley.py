"""Shapley values of the events of a run: the arithmetic, on arrays of outcomes.

A *coalition* is a set of the scenario's n events (the others left out); v(S) is an outcome of
the run with the events of S only, e.g. one score at one date. The Shapley value of event i
(Shapley 1953) is its marginal contribution averaged over every order in which the events
could be added:

    phi_i = sum over S not holding i of |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S)),

and the values add up to v(all) - v(none) (efficiency). Exact values need all 2**n coalitions;
beyond that, ``permutation_rows`` and ``sampled`` estimate them from P random orders (each order
gives n + 1 coalitions, its prefixes; Castro, Gómez & Tejada 2009), with a standard error from
the spread of the marginal contributions over the orders. Each sampled order telescopes, so the
sampled values still add up to v(all) - v(none) exactly.

Everything here works on numpy arrays; the outcomes may carry any trailing shape (dates,
dyads): ``values`` has shape (coalitions, ...) and every result (n, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EXACT_UP_TO = 13
"""The most events whose 2**n coalitions are run in full (8,192 members); beyond, sampled."""


def all_coalitions(n: int) -> np.ndarray:
    """Every subset of n events, shape (2**n, n) bool: row r holds event i when bit i of r
    is set (row 0 is no event, the last row every event)."""
    rows = np.arange(2**n)[:, None]
    return ((rows >> np.arange(n)) & 1).astype(bool)


def exact(values: np.ndarray, n: int) -> np.ndarray:
    """Exact Shapley values from the outcomes of ``all_coalitions(n)``, in its row order.

    values: shape (2**n, ...). Returns shape (n, ...), in the outcomes' units.
    """
    values = np.asarray(values, dtype=float)
    if values.shape[0] != 2**n:
        raise ValueError(f"expected {2**n} coalitions' outcomes, got {values.shape[0]}")
    rows = np.arange(2**n)
    sizes = np.array([bin(r).count("1") for r in range(2**n)])
    weight = np.array(
        [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]
    )
    out = np.empty((n, *values.shape[1:]))
    for i in range(n):
        without = rows[(rows >> i) & 1 == 0]  # the coalitions S not holding i
        gains = values[without | (1 << i)] - values[without]
        w = weight[sizes[without]].reshape(-1, *([1] * (values.ndim - 1)))
        out[i] = (w * gains).sum(axis=0)
    return out


def leave_one_out(values: np.ndarray, n: int) -> np.ndarray:
    """v(all) - v(all but i) for each event, from the outcomes of ``all_coalitions(n)``:
    what removing that event alone from the full run would change. Shape (n, ...)."""
    values = np.asarray(values, dtype=float)
    full = 2**n - 1
    return np.stack([values[full] - values[full ^ (1 << i)] for i in range(n)])


def random_orders(n: int, orders: int, rng: np.random.Generator) -> np.ndarray:
    """``orders`` random permutations of the n events, shape (orders, n)."""
    return np.stack([rng.permutation(n) for _ in range(orders)]) if orders else np.empty((0, n))


def permutation_rows(orders: np.ndarray) -> np.ndarray:
    """The coalitions to run for sampled orders: for each order, its n + 1 prefixes (none,
    the first event, the first two, ..., all). Shape (orders * (n + 1), n) bool, order by
    order."""
    count, n = orders.shape
    rows = np.zeros((count, n + 1, n), dtype=bool)
    for j in range(1, n + 1):
        rows[np.arange(count), j] = rows[np.arange(count), j - 1]
        rows[np.arange(count), j, orders[:, j - 1]] = True
    return rows.reshape(count * (n + 1), n)


@dataclass(frozen=True)
class Estimate:
    """Shapley values estimated from sampled orders: ``value`` and its standard error
    ``stderr`` (both (n, ...)), from ``orders`` orders."""

    value: np.ndarray
    stderr: np.ndarray
    orders: int


def sampled(values: np.ndarray, orders: np.ndarray) -> Estimate:
    """Shapley values from the outcomes of ``permutation_rows(orders)``, in its row order.

    values: shape (orders * (n + 1), ...). The standard error is the standard deviation of an
    event's marginal contributions over the orders divided by the square root of their number
    (0 with a single order, which cannot show its own spread).
    """
    count, n = orders.shape
    values = np.asarray(values, dtype=float).reshape(count, n + 1, *np.shape(values)[1:])
    steps = np.diff(values, axis=1)  # (orders, n, ...): the gain of the j-th event added
    gains = np.empty_like(steps)
    for j in range(n):
        gains[np.arange(count), orders[:, j]] = steps[:, j]
    value = gains.mean(axis=0)
    spread = gains.std(axis=0, ddof=1) if count > 1 else np.zeros_like(value)
    return Estimate(value, spread / math.sqrt(count), count)
