"""Measurements against published results, shared by the validation tests and the report.

    .venv/bin/python -m tests.validation.published

prints every measured figure that docs/validation.md quotes.
"""

from __future__ import annotations

import numpy as np

from stances.engine.dynamics import (
    balance_drift,
    friedkin_johnsen_limit,
    friedkin_johnsen_step,
    unbounded_balance,
)


def random_influence(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random row-stochastic W, susceptibilities in [0, 0.95] and positions in [0, 1]."""
    W = rng.uniform(0, 1, (n, n)) * (rng.uniform(0, 1, (n, n)) < 0.6)
    W += np.eye(n) * rng.uniform(0.1, 1, n)
    W /= W.sum(axis=1, keepdims=True)
    return W, rng.uniform(0, 0.95, n), rng.uniform(0, 1, n)


def friedkin_johnsen_error(n: int, seed: int, steps: int = 2000) -> float:
    """Largest gap between iterating FJ and its closed-form limit (I - LW)^-1 (I - L) x(0)."""
    rng = np.random.default_rng(seed)
    W, lam, x0 = random_influence(n, rng)
    x = x0[None].copy()
    for _ in range(steps):
        x = friedkin_johnsen_step(x, x0[None], W[None], lam)
    return float(np.abs(x[0] - friedkin_johnsen_limit(x0, W, lam)).max())


def marvel_case(n: int, seed: int) -> tuple[float, float, float]:
    """For a random symmetric X0 (entries uniform in (-1, 1)) with a positive top eigenvalue:
    (relative error of the blow-up time against 1 / lambda_max, share of pairs whose sign at
    blow-up matches the leading eigenvector's outer product, lambda_max)."""
    rng = np.random.default_rng(seed)
    A = rng.uniform(-1, 1, (n, n))
    X0 = (A + A.T) / 2
    values, vectors = np.linalg.eigh(X0)
    t, X = unbounded_balance(X0, dt=1e-3, limit=1e8)
    leading = vectors[:, -1]
    expected = np.sign(np.outer(leading, leading))
    off = ~np.eye(n, dtype=bool)
    agree = float((np.sign(X)[off] == expected[off]).mean())
    return abs(t * values[-1] - 1.0), agree, float(values[-1])


def is_balanced(R: np.ndarray) -> bool:
    """Every triad i, j, k has R[i, j] R[j, k] R[k, i] > 0."""
    S = np.sign(R)
    n = len(R)
    triads = [(a, b, c) for a in range(n) for b in range(a + 1, n) for c in range(b + 1, n)]
    return all(S[a, b] * S[b, c] * S[c, a] > 0 for a, b, c in triads)


def kulakowski_case(n: int, seed: int, rate: float = 0.01, steps: int = 5000) -> tuple[bool, int]:
    """Symmetric scores uniform in (-0.5, 0.5), bounded drift until every triad is balanced:
    (balanced, steps taken)."""
    rng = np.random.default_rng(seed)
    A = np.triu(rng.uniform(-0.5, 0.5, (n, n)), 1)
    R = (A + A.T)[None]
    for step in range(1, steps + 1):
        balance_drift(R, rate)
        if step % 50 == 0 and is_balanced(R[0]):
            return True, step
    return is_balanced(R[0]), steps


def report() -> None:
    fj = max(friedkin_johnsen_error(n, seed) for n in (3, 10, 30) for seed in range(5))
    print(f"Friedkin-Johnsen: largest gap to the closed form over 15 random cases: {fj:.1e}")
    cases = [marvel_case(n, seed) for n in (4, 10, 20, 50) for seed in range(5)]
    print(
        "Marvel et al.: blow-up time, largest relative error over 20 cases (N = 4-50): "
        f"{max(c[0] for c in cases):.1e}; factions from the leading eigenvector, smallest share "
        f"of pairs agreeing: {min(c[1] for c in cases):.3f}"
    )
    runs = [kulakowski_case(n, seed) for n in (5, 10, 20) for seed in range(10)]
    print(
        f"Kułakowski et al.: balanced in {sum(r[0] for r in runs)} of {len(runs)} runs "
        f"(N = 5, 10, 20); at most {max(r[1] for r in runs)} steps of rate 0.01"
    )


if __name__ == "__main__":
    report()
