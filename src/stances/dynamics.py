"""The update rules, on numpy arrays. No I/O, no Mesa.

State: ``R`` of shape (K, N, N): K ensemble members, N actors. ``R[k, i, j]`` is how actor i
regards actor j in member k, in [-1, 1]; the diagonal is unused and stays 0. Every function
here works whatever the memory layout of R; the model keeps the member axis last in memory
(``member_last``), so that an event, which reads and writes a few scores in every member,
touches a few contiguous runs of memory instead of one value per member everywhere.

An event of Goldstein weight g in [-10, 10] and intensity w >= 0 has strength s = w * g / 10.
Every score moves by a *saturating* step: a move of rate r in [-1, 1] on a score x gives
x + r * (1 - x) when r > 0 and x + r * (1 + x) when r < 0, so no score ever leaves [-1, 1]
(the rate is the product of a coefficient and the strength, clipped to [-1, 1]).

All rates of one event are computed from the state before the event; a score touched more
than once by the same event (an observer of a meeting of three) takes its moves in turn.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from stances.catalogue import Form


@dataclass(frozen=True)
class Coefficients:
    """How strongly each party to an event responds (dimensionless, each in [0, 1]).

    Each is one number, or one per ensemble member (shape (K,)).

    kappa_target: the target's view of the actor moves by this share of the strength.
    kappa_actor: the actor's view of the target (acting shapes the actor too).
    kappa_observer: a third party's view of the actor, signed by its view of the target.
    kappa_parties: each pair of parties to a meeting or mediation, both directions.
    kappa_credit: the parties' view of a mediator.
    """

    kappa_target: float | np.ndarray = 0.5
    kappa_actor: float | np.ndarray = 0.25
    kappa_observer: float | np.ndarray = 0.15
    kappa_parties: float | np.ndarray = 0.4
    kappa_credit: float | np.ndarray = 0.3

    def of_members(self, members: np.ndarray) -> Coefficients:
        """The coefficients of some members only (`members`: bool (K,) or indices)."""
        values = [getattr(self, f.name) for f in fields(self)]
        return Coefficients(*(v[members] if np.ndim(v) else v for v in values))


@dataclass(frozen=True)
class Act:
    """One event as the dynamics sees it.

    form: who is affected (see ``catalogue.Form``).
    actor: index of the acting actor (the mediator, for a mediation).
    others: index of the target (directed, symmetric) or indices of the parties.
    strength: s = intensity * goldstein / 10, per member: shape (K,) (0 = no event there).
    """

    form: Form
    actor: int
    others: tuple[int, ...]
    strength: np.ndarray

    @property
    def participants(self) -> tuple[int, ...]:
        """Every actor taking part; the others are the observers."""
        return (self.actor, *self.others)


@dataclass(frozen=True)
class Changes:
    """The scores an event changes: cells (rows[m], cols[m]) go from before[:, m] to after[:, m].

    before and after have shape (K, M); a cell appears once, in the order first touched.
    """

    rows: np.ndarray
    cols: np.ndarray
    before: np.ndarray
    after: np.ndarray

    @property
    def delta(self) -> np.ndarray:
        """after - before, shape (K, M)."""
        return self.after - self.before


def saturating_move(x: np.ndarray, rate: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Move scores x toward +1 (rate > 0) or -1 (rate < 0) by |rate| of the remaining room.

    rate is clipped to [-1, 1], so the result stays in [-1, 1] whenever x does. out: where
    to write the result (may be x itself), shaped like x and rate broadcast together.
    """
    r = np.maximum(rate, -1.0)
    np.minimum(r, 1.0, out=r)
    # x + r (1 - x) for r > 0 and x + r (1 + x) for r < 0 are both x (1 - |r|) + r
    keep = np.abs(r)
    np.subtract(1.0, keep, out=keep)
    out = np.multiply(x, keep, out=out)
    out += r
    return out


def member_last(shape: tuple[int, ...], axis: int) -> np.ndarray:
    """An uninitialised float array of `shape` whose `axis` (the member axis) is last in
    memory: the K values of one score are contiguous."""
    order = [i for i in range(len(shape)) if i != axis] + [axis]
    return np.empty([shape[i] for i in order]).transpose(np.argsort(order))


def _by_cell(R: np.ndarray) -> np.ndarray:
    """R (K, N, N) seen as (N, N, K): a view, contiguous when R is member-last."""
    return np.moveaxis(R, 0, -1)


# A move: scores R[:, rows, col] take a saturating step of the given rate, shape (len(rows), K),
# or (1, K) when every row takes the same rate.
_Move = tuple[np.ndarray, int, np.ndarray]


@functools.lru_cache(maxsize=1024)
def _observers(n: int, participants: tuple[int, ...]) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    mask[list(participants)] = False
    observers = np.flatnonzero(mask)
    observers.flags.writeable = False  # shared by every call: cached
    return observers


_Pick = Callable[[np.ndarray, int], np.ndarray]


def _everything(rows: np.ndarray, col: int) -> np.ndarray:
    return rows


def _directed_moves(
    R: np.ndarray, a: int, b: int, s: np.ndarray, c: Coefficients, obs, pick: _Pick
):
    """Actor a acts on target b with strength s: the target, the actor and the observers move."""
    one = np.ones(1, dtype=np.intp)
    watching = pick(obs, a)
    return [
        (pick(one * b, a), a, (c.kappa_target * s)[None]),
        (pick(one * a, b), b, (c.kappa_actor * s)[None]),
        # helping my friend raises my view of you; attacking my friend lowers it
        (watching, a, c.kappa_observer * s * _by_cell(R)[watching, b]),
    ]


def _pair_moves(R: np.ndarray, p: int, q: int, s: np.ndarray, c: Coefficients, obs, pick: _Pick):
    """A joint act of parties p and q: both directions move, observers judge each by the other."""
    one = np.ones(1, dtype=np.intp)
    of_p, of_q = pick(obs, p), pick(obs, q)
    by_cell = _by_cell(R)
    return [
        (pick(one * p, q), q, (c.kappa_parties * s)[None]),
        (pick(one * q, p), p, (c.kappa_parties * s)[None]),
        (of_p, p, c.kappa_observer * s * by_cell[of_p, q]),
        (of_q, q, c.kappa_observer * s * by_cell[of_q, p]),
    ]


def moves_for(R: np.ndarray, act: Act, c: Coefficients, pick: _Pick = _everything) -> list[_Move]:
    """Every saturating move the act causes, all rates computed from the state R.

    pick(rows, col) keeps the rows of column col worth working out (default: all); a rate is
    worked out only for the cells kept. A move's rate has one row of K per row kept, except the
    single-cell moves of target, actor and parties, whose rate has one row (it broadcasts).
    """
    s = np.asarray(act.strength, dtype=float)
    obs = _observers(R.shape[1], act.participants)
    a = act.actor
    if act.form is Form.DIRECTED:
        return _directed_moves(R, a, act.others[0], s, c, obs, pick)
    if act.form is Form.SYMMETRIC:
        b = act.others[0]
        return _directed_moves(R, a, b, s, c, obs, pick) + _directed_moves(R, b, a, s, c, obs, pick)
    if act.form is Form.MEETING:
        people = act.participants
        return [
            move
            for i, p in enumerate(people)
            for q in people[i + 1 :]
            for move in _pair_moves(R, p, q, s, c, obs, pick)
        ]
    if act.form is Form.MEDIATION:
        p, q = act.others
        one = np.ones(1, dtype=np.intp)
        credit = (c.kappa_credit * s)[None]
        return [
            *_pair_moves(R, p, q, s, c, obs, pick),
            (pick(one * p, a), a, credit),
            (pick(one * q, a), a, credit),
        ]
    raise ValueError(f"unknown form {act.form!r}")


def picker(only: np.ndarray, n: int) -> _Pick:
    """pick(rows, col) keeping the rows whose cell (row, col) is among `only` (flat ids)."""
    wanted: dict[int, np.ndarray] = {}
    for cell in np.unique(only).tolist():
        wanted.setdefault(cell % n, []).append(cell // n)
    wanted = {col: np.array(rows, dtype=np.intp) for col, rows in wanted.items()}
    none = np.empty(0, dtype=np.intp)

    def pick(rows: np.ndarray, col: int) -> np.ndarray:
        keep = wanted.get(col)
        return none if keep is None else rows[np.isin(rows, keep)]

    return pick


def changes_of(R: np.ndarray, act: Act, c: Coefficients, pick: _Pick = _everything) -> Changes:
    """What applying the act to R would change, without changing R.

    pick: from ``picker(cells, N)``, to work out only those cells (exactly as in the full
    computation: every rate comes from R, and a cell's moves are applied in turn), so a
    prediction that looks at a few scores costs little. Cost grows with the number of cells
    touched (about 2N for a directed event), not with N².
    """
    k, n = R.shape[0], R.shape[1]
    moves = [move for move in moves_for(R, act, c, pick) if len(move[0])]
    if not moves:
        empty = np.empty((k, 0))
        return Changes(np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp), empty, empty)
    # worked out cell by cell: (cells, K) arrays, each row one score in every member
    ids = np.concatenate([rows * n + col for rows, col, _ in moves])
    rates = np.concatenate([np.broadcast_to(rate, (len(rows), k)) for rows, _, rate in moves])
    cells, place, turn = _cells_in_turn(tuple(ids.tolist()))
    rows, cols = np.divmod(cells, n)
    before = _by_cell(R)[rows, cols]
    if len(cells) == len(ids):  # each cell moved once: the cells are the ids, in order
        return Changes(rows, cols, before.T, saturating_move(before, rates).T)
    # every cell's first move (in the order the cells were first touched), then the second, ...
    after = saturating_move(before, rates[turn == 0])
    for t in range(1, int(turn.max()) + 1):
        now = turn == t
        after[place[now]] = saturating_move(after[place[now]], rates[now])
    return Changes(rows, cols, before.T, after.T)


@functools.lru_cache(maxsize=4096)
def _cells_in_turn(ids: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For a list of (possibly repeated) cell ids: each cell once, in the order first touched;
    where each id sits in that list; and how many times its cell was touched before it.
    Cached: an event type, actor and target give the same list every time."""
    cells = list(dict.fromkeys(ids))
    at = {cell: m for m, cell in enumerate(cells)}
    place = [at[cell] for cell in ids]
    seen: dict[int, int] = {}
    turn = []
    for cell in ids:
        turn.append(seen.get(cell, 0))
        seen[cell] = turn[-1] + 1
    arrays = tuple(np.array(a, dtype=np.intp) for a in (cells, place, turn))
    for a in arrays:
        a.flags.writeable = False
    return arrays


def apply_changes(R: np.ndarray, changes: Changes) -> None:
    """Write the changes into R in place."""
    _by_cell(R)[changes.rows, changes.cols] = changes.after.T


def apply_act(R: np.ndarray, act: Act, c: Coefficients) -> Changes:
    """Apply the act to R in place and return what it changed."""
    changes = changes_of(R, act, c)
    apply_changes(R, changes)
    return changes


def decay_factor(step_days: float | np.ndarray, half_life_days: float) -> float | np.ndarray:
    """The share of the gap to baseline left after step_days: 2 ** (-step_days / half_life_days)."""
    return np.exp2(-np.asarray(step_days, dtype=float) / half_life_days)


@dataclass(frozen=True)
class Decay:
    """Relaxation toward the baseline B over one step: R <- B + (R - B) f, in place.

    Written R <- f R + (1 - f) B with (1 - f) B worked out once, so a step makes two passes
    over the state instead of three. factor: f in (0, 1], shape (K, 1, 1) or a scalar.
    """

    factor: float | np.ndarray
    pull: np.ndarray

    @classmethod
    def toward(cls, B: np.ndarray, factor: float | np.ndarray) -> Decay:
        """The decay toward B (K, N, N) by factor f, a scalar or one value per member (K,)."""
        f = np.asarray(factor, dtype=float)
        if f.ndim:
            f = f[:, None, None]
        return cls(f, B * (1.0 - f))

    def __call__(self, R: np.ndarray) -> None:
        R *= self.factor
        R += self.pull


def decay(R: np.ndarray, B: np.ndarray, factor: float | np.ndarray) -> None:
    """Relax R toward the baseline B in place: R <- B + (R - B) * factor.

    factor is a scalar or one value per member, shape (K,).
    """
    Decay.toward(B, factor)(R)


def jitter(R: np.ndarray, sd: np.ndarray, eps: np.ndarray) -> None:
    """Random moves in place: R <- tanh(artanh(R) + sd * eps), eps standard normal draws.

    Near 0 a move has standard deviation about sd (score units); near +-1 it shrinks, so no
    score leaves [-1, 1] and there is no first-order pull toward 0 (a saturating move of
    random sign would pull every score toward 0 by about 0.8 * sd * score per step).
    sd: one value per member, shape (K,); eps: shape (K, N, N).
    """
    inner = np.arctanh(np.clip(R, -1 + 1e-12, 1 - 1e-12))
    R[:] = np.tanh(inner + sd[:, None, None] * eps)


# ---------------------------------------------------------------------------------------------
# Structural balance


def balance_drift(R: np.ndarray, rate: float | np.ndarray) -> None:
    """One step of bounded structural-balance drift, in place (Kułakowski et al. 2005):

        R[i, j] += rate * (1 - R[i, j]**2) * sum_k R[i, k] * R[k, j]

    A friend of a friend pulls toward friendship, an enemy of a friend toward enmity; the
    factor (1 - R**2) slows the drift near +-1. The diagonal is 0, so k = i and k = j add
    nothing. rate: one value or one per member (K,); a step that would overshoot is clipped
    to [-1, 1]. Reference: Kułakowski, K., Gawroński, P. & Gronek, P. (2005). The Heider
    balance: a continuous approach. Int. J. Mod. Phys. C 16(5), 707-716.
    """
    pull = R @ R
    r = np.asarray(rate, dtype=float)
    r = r[:, None, None] if r.ndim else r
    R += r * (1.0 - R**2) * pull
    np.clip(R, -1.0, 1.0, out=R)
    n = R.shape[-1]
    R[..., np.arange(n), np.arange(n)] = 0.0


def unbounded_balance(
    X0: np.ndarray, dt: float, limit: float = 1e6, t_max: float = 1e3
) -> tuple[float, np.ndarray]:
    """Integrate the unbounded symmetric form dX/dt = X @ X (Marvel, Kleinberg, Kleinberg &
    Strogatz 2011) from X0 with fourth-order Runge-Kutta until some |X[i, j]| exceeds `limit`.

    Returns the time reached and X then. For symmetric X0 with largest eigenvalue l > 0 the
    exact solution X0 (I - t X0)^-1 blows up at t* = 1 / l. Reference: Marvel, S. A.,
    Kleinberg, J., Kleinberg, R. D. & Strogatz, S. H. (2011). Continuous-time model of
    structural balance. PNAS 108(5), 1771-1776.
    """
    X, t = np.array(X0, dtype=float), 0.0
    while np.abs(X).max() < limit and t < t_max:
        h = dt / max(1.0, float(np.abs(X).max()))  # smaller steps as it speeds up
        k1 = X @ X
        k2 = (X + h / 2 * k1) @ (X + h / 2 * k1)
        k3 = (X + h / 2 * k2) @ (X + h / 2 * k2)
        k4 = (X + h * k3) @ (X + h * k3)
        X = X + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        t += h
    return t, X


# ---------------------------------------------------------------------------------------------
# Issue stances (Friedkin-Johnsen)


def influence_weights(R: np.ndarray, capability: np.ndarray, takes_part: np.ndarray) -> np.ndarray:
    """W: row-normalised positive ties times capability, shape (K, N, N).

    W[k, i, j] is proportional to max(R[k, i, j], 0) * capability[j] over the actors j that
    take part in the issue, with each actor regarding itself at +1 (R[i, i] taken as 1), so a
    weak tie moves an actor little. An actor with no weight at all (capability 0, no positive
    tie) listens only to itself. capability: (N,) >= 0; takes_part: bool (N,).
    """
    n = R.shape[-1]
    ties = np.clip(R, 0.0, None)
    ties[:, np.arange(n), np.arange(n)] = 1.0
    weights = ties * (capability * takes_part)[None, None, :]
    total = weights.sum(axis=2, keepdims=True)
    W = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    alone = total[..., 0] <= 0
    W[:, np.arange(n), np.arange(n)] += alone
    return W


def friedkin_johnsen_step(
    x: np.ndarray, anchor: np.ndarray, W: np.ndarray, susceptibility: np.ndarray
) -> np.ndarray:
    """x(t+1) = L W x(t) + (I - L) x(0), L = diag(susceptibility); for K members at once.

    x, anchor (x(0)): (K, N) positions in [0, 1]; W: (K, N, N) row-stochastic; susceptibility:
    (N,) in [0, 1]. A convex combination of positions, so positions stay in [0, 1]. Reference:
    Friedkin, N. E. & Johnsen, E. C. (1990). Social influence and opinions. J. Math. Sociology
    15(3-4), 193-206.
    """
    heard = np.einsum("kij,kj->ki", W, x)
    return susceptibility * heard + (1.0 - susceptibility) * anchor


def friedkin_johnsen_limit(x0: np.ndarray, W: np.ndarray, susceptibility: np.ndarray) -> np.ndarray:
    """The fixed point (I - L W)^-1 (I - L) x(0) for one member: x0 (N,), W (N, N)."""
    lam = np.diag(susceptibility)
    n = len(x0)
    return np.linalg.solve(np.eye(n) - lam @ W, (np.eye(n) - lam) @ x0)


def homophily(R: np.ndarray, X: np.ndarray, takes_part: np.ndarray, rate: np.ndarray) -> None:
    """Scores move toward friendship where positions agree and toward enmity where they
    differ, in place: a saturating move of rate `rate` * (1 - 2 * mean gap), the mean gap
    |x_i - x_j| taken over the issues both i and j take part in (pairs sharing none stay).

    X: positions (K, I, N) in [0, 1]; takes_part: bool (I, N); rate: (K,) in [0, 1].
    """
    both = takes_part[:, :, None] & takes_part[:, None, :]  # (I, N, N)
    gaps = np.abs(X[:, :, :, None] - X[:, :, None, :]) * both  # (K, I, N, N)
    shared = both.sum(axis=0)
    mean_gap = np.divide(
        gaps.sum(axis=1), shared, out=np.full(gaps.shape[:1] + shared.shape, 0.5), where=shared > 0
    )
    moves = rate[:, None, None] * np.where(shared > 0, 1.0 - 2.0 * mean_gap, 0.0)
    n = R.shape[-1]
    moves[:, np.arange(n), np.arange(n)] = 0.0
    R[:] = saturating_move(R, moves)
