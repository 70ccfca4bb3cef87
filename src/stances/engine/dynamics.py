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
than once by the same event (an observer of a meeting of three) takes its moves in turn. The
moves of an act depend only on its form, actor, others and N: ``plan_of`` works them out once,
and ``changes_of`` then computes them for every member with a few whole-array operations.

Longer than the project's ~600 lines: it is the one implementation of every update rule
(events in two forms, decay, a moving baseline, noise, balance, Friedkin-Johnsen, homophily),
kept together so that no rule has a second copy elsewhere.
"""

from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass, fields

import numpy as np

from stances.catalogue import Form


@dataclass(frozen=True)
class Coefficients:
    """How strongly each party to an event responds (dimensionless, each in [0, 1]); their
    defaults are those of ``scenario.models.Parameters``, the one place defaults live.

    Each is one number, or one per ensemble member (shape (K,)). They are read when first used
    (``matrix`` keeps them): change an array afterwards and the change is not seen.

    kappa_target: the target's view of the actor moves by this share of the strength.
    kappa_actor: the actor's view of the target (acting shapes the actor too).
    kappa_observer: a third party's view of the actor, signed by its view of the target.
    kappa_parties: each pair of parties to a meeting or mediation, both directions.
    kappa_credit: the parties' view of a mediator.
    """

    kappa_target: float | np.ndarray
    kappa_actor: float | np.ndarray
    kappa_observer: float | np.ndarray
    kappa_parties: float | np.ndarray
    kappa_credit: float | np.ndarray

    @functools.cached_property
    def matrix(self) -> np.ndarray:
        """The coefficients as rows, in field order: shape (5, K), or (5, 1) when every one
        is a single number."""
        values = [
            np.atleast_1d(np.asarray(getattr(self, f.name), dtype=float)) for f in fields(self)
        ]
        width = max(len(v) for v in values)
        return np.stack([np.broadcast_to(v, (width,)) for v in values])

    @functools.cached_property
    def bound(self) -> float:
        """A bound on every coefficient's magnitude: the largest, over every member (of the
        whole ensemble, for coefficients taken ``of_members``)."""
        return float(np.abs(self.matrix).max())

    def of_members(self, members: np.ndarray) -> Coefficients:
        """The coefficients of some members only (`members`: bool (K,) or indices)."""
        if self.matrix.shape[1] == 1:
            return self  # the same numbers in every member
        matrix = self.matrix[:, members]
        part = Coefficients(*matrix)
        part.__dict__.update(matrix=matrix, bound=self.bound)  # known already: not worked out again
        return part


@dataclass(frozen=True)
class Rules:
    """Which form of each rule the dynamics uses: named choices, each explained in
    docs/model.md (the defaults are in ``scenario.models.Parameters``).

    entrenchment: False, a move takes a share of the room left to +-1 on the score itself
        (``saturating_move``); True, the score is the bounded image tanh(a) of a latent
        affinity a that events move by adding their rate, and that memory decays: the state
        the model keeps is then a, and near +-1 the same act moves the score less, in both
        directions, while still deepening (or easing) the affinity beneath it.
    relative_observers: False, a third party's view of the actor moves by its view of the one
        acted on; True, that move is also weighted by the share of the observer's concern that
        lies with the one acted on, |R[o, b]| / (|R[o, a]| + |R[o, b]|), and cooperation is
        judged only by the friendship it expresses: its observer moves are weighted by the
        pair's mean score before the act, clipped to [0, 1] (a truce between enemies aligns
        nobody).
    """

    entrenchment: bool
    relative_observers: bool

    def scores(self, state: np.ndarray) -> np.ndarray:
        """The scores in [-1, 1] of a state (the state itself without entrenchment: no copy)."""
        return np.tanh(state) if self.entrenchment else state

    def state(self, scores: np.ndarray) -> np.ndarray:
        """The state that has these scores (the scores themselves without entrenchment)."""
        if not self.entrenchment:
            return scores
        return np.arctanh(np.clip(scores, -LATENT_EDGE, LATENT_EDGE))


# a score this close to +-1 stands for any larger affinity (artanh(1 - 1e-15) is about 17.6)
LATENT_EDGE = 1.0 - 1e-15
FIRST_RULES = Rules(entrenchment=False, relative_observers=False)
"""The rules of the first version: saturating moves, observers judging by their view alone."""


@dataclass(frozen=True)
class Act:
    """One event as the dynamics sees it.

    form: who is affected (see ``catalogue.Form``).
    actor: index of the acting actor (the mediator, for a mediation).
    others: index of the target (directed, symmetric) or indices of the parties.
    strength: s = intensity * goldstein / 10, per member: shape (K,) (0 = no event there).
    hold: None for an event as it happens; for the re-press of a lasting event, the share f
        in (0, 1) of a departure that the last step's decay left, per member (K,): each move
        then gives back what that decay took of the move the event made (``held_rates``).
    """

    form: Form
    actor: int
    others: tuple[int, ...]
    strength: np.ndarray
    hold: np.ndarray | None = None

    @property
    def participants(self) -> tuple[int, ...]:
        """Every actor taking part; the others are the observers."""
        return (self.actor, *self.others)


@dataclass(frozen=True)
class Changes:
    """The scores an event changes: cells (rows[m], cols[m]) go from before[:, m] to after[:, m].

    before and after have shape (K, M), in [-1, 1]; a cell appears once, in the order first
    touched. state: the new state of those cells, (K, M) (``Rules.state`` of after; the same
    array as after without entrenchment).
    """

    rows: np.ndarray
    cols: np.ndarray
    before: np.ndarray
    after: np.ndarray
    state: np.ndarray

    @property
    def delta(self) -> np.ndarray:
        """after - before, shape (K, M)."""
        return self.after - self.before


def saturating_move(x: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Move scores x toward +1 (rate > 0) or -1 (rate < 0) by |rate| of the remaining room.

    rate is clipped to [-1, 1], so the result stays in [-1, 1] whenever x does. Returns a new
    array shaped like x and rate broadcast together.
    """
    r = np.clip(np.broadcast_arrays(x, rate)[1], -1.0, 1.0)
    return _move_clipped(x, r)


def member_last(shape: tuple[int, ...], axis: int) -> np.ndarray:
    """An uninitialised float array of `shape` whose `axis` (the member axis) is last in
    memory: the K values of one score are contiguous."""
    order = [i for i in range(len(shape)) if i != axis] + [axis]
    return np.empty([shape[i] for i in order]).transpose(np.argsort(order))


def _by_cell(R: np.ndarray) -> np.ndarray:
    """R (K, N, N) seen as (N, N, K): a view, contiguous when R is member-last."""
    return R.transpose(1, 2, 0)


class Scratch:
    """Working memory for events, kept from one event to the next.

    An event at K = 10,000 members works on a few hundred kB. Taken fresh each time, that
    memory often comes straight from the operating system, page by page, and on the machines
    we measured that costs more than the arithmetic (docs/performance.md). A model applies its
    events with the Scratch of the thread they run in (``of_this_thread``), so that the memory
    stays warm from one model to the next and threads never share it. An array taken under a
    name is valid until the next take under the same name.
    """

    _threads = threading.local()

    def __init__(self) -> None:
        self._memory: dict[tuple[str, type], np.ndarray] = {}

    @classmethod
    def of_this_thread(cls) -> Scratch:
        """The Scratch shared by everything running in the calling thread."""
        if not hasattr(cls._threads, "scratch"):
            cls._threads.scratch = cls()
        return cls._threads.scratch

    def take(self, name: str, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
        """An uninitialised C-contiguous array of `shape` (its memory reused when it fits)."""
        size = math.prod(shape)
        memory = self._memory.get((name, dtype))
        if memory is None or memory.size < size:
            out: np.ndarray = np.empty(shape, dtype)
            self._memory[name, dtype] = out.reshape(-1)
            return out
        return memory[:size].reshape(shape)


class NewArrays(Scratch):
    """Working memory that keeps nothing: every take is a new array (what ``changes_of``
    returns without a Scratch of its own then belongs to the caller)."""

    def take(self, name: str, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
        """A new uninitialised C-contiguous array of `shape`."""
        return np.empty(shape, dtype)


NEW_ARRAYS = NewArrays()

# The coefficient each move's rate uses: rows of ``Coefficients.matrix``.
TARGET, ACTOR, OBSERVER, PARTIES, CREDIT = range(5)


@dataclass(frozen=True)
class Plan:
    """Every saturating move of one act layout (form, actor, others, N), worked out once.

    Cells are flat ids, row * N + col (``rows`` and ``cols`` give them apart). Moves are
    listed parties first, then observers; move m has rate coefficient[kinds[m]] * s, and an
    observer move's rate is further multiplied by the observer's view of the other side, the
    score ``signs[m - direct]`` (and, with relative observers, by its share of concern, from
    that score and the observer's view of the actor, ``cells[judged[m - direct]]``, and for a
    cooperative act by the friendship of the pair it judges, the mean of the scores
    ``pairs[m - direct]``). Each cell changed appears once in ``cells``, in the order
    first touched. A cell touched more than once (an observer of a meeting of three) takes its
    moves in turn: first the moves ``first`` (one per cell, in cell order; None when every cell
    moves once), then for each later turn t the moves ``later[t][0]`` on the cells at
    ``later[t][1]``.

    Every score the act reads is read once: ``seen`` lists the cells read, the changed cells
    first (``seen[:len(cells)]`` is ``cells``), then the signing and pair cells not among them;
    ``sign_at`` (one per observer move) and ``ends`` (P, 2: the distinct pairs judged, each
    (p -> q, q -> p)) are rows of ``seen``, and ``pair_of`` gives each observer move's row of
    ``ends``. So a score's tanh is taken once per event, and a pair's friendship once.
    """

    kinds: np.ndarray
    direct: int
    signs: np.ndarray
    judged: np.ndarray
    pairs: np.ndarray
    cells: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    first: np.ndarray | None
    later: tuple[tuple[np.ndarray, np.ndarray], ...]
    seen: np.ndarray
    sign_at: np.ndarray
    ends: np.ndarray
    pair_of: np.ndarray

    def rates(
        self,
        seen: np.ndarray,
        c: Coefficients,
        strength: np.ndarray,
        work: Scratch,
        rules: Rules,
        hold: np.ndarray | None = None,
    ) -> np.ndarray:
        """The rate of every move, shape (moves, K), from the scores before the act of the
        cells ``seen`` (in [-1, 1], shape (len(seen), K)) and the strength per member (K,).
        Rates are clipped to [-1, 1] unless the scores are entrenched (a latent affinity takes
        any rate). hold: the re-press of a lasting event (``Act.hold``, (K,)): the rates are
        then ``held_rates`` of these."""
        rates = work.take("rates", (len(self.kinds), len(strength)))
        if c.matrix.shape[1] == len(strength):
            c.matrix.take(self.kinds, axis=0, out=rates, mode="clip")  # kinds are 0..4
        else:  # one value shared by every member
            rates[:] = c.matrix[self.kinds]
        np.multiply(rates, strength, out=rates)
        if len(self.signs):
            observers = rates[self.direct :]
            signs = seen.take(
                self.sign_at, axis=0, out=work.take("signs", observers.shape), mode="clip"
            )
            if rules.relative_observers:
                self._weigh_observers(observers, seen, strength, work)
            np.multiply(observers, signs, out=observers)
        if not rules.entrenchment:
            # |kappa * s * score| <= largest |kappa| * largest |s| (also once rounded), so the
            # clip can only change anything when that bound is above 1 (or not a number)
            largest = (
                max(np.maximum.reduce(strength), -np.minimum.reduce(strength))
                if len(strength)
                else 0.0
            )
            if not c.bound * largest <= 1.0:
                np.clip(rates, -1.0, 1.0, out=rates)
        if hold is not None:
            held_rates(rates, hold, rules)
        return rates

    def _weigh_observers(
        self, observers: np.ndarray, seen: np.ndarray, strength: np.ndarray, work: Scratch
    ) -> None:
        """Weigh observer rates (in place) by the observer's share of concern for the one
        acted on, |other| / (|other| + |actor|) (0 where both are 0), and, in the members
        where the act is cooperative (strength > 0), by the friendship of the pair it judges,
        the mean of its two scores clipped to [0, 1]."""
        size = np.abs(seen, out=work.take("size", seen.shape))
        care = size.take(self.sign_at, axis=0, out=work.take("care", observers.shape), mode="clip")
        total = size.take(self.judged, axis=0, out=work.take("total", observers.shape), mode="clip")
        np.add(care, total, out=total)  # |other| + |actor|
        positive = np.greater(total, 0.0, out=work.take("positive", total.shape, np.bool_))
        if positive.all():
            np.divide(care, total, out=care)
        else:  # no concern at all (or not a number): no move
            np.divide(care, total, out=care, where=positive)
            care[~positive] = 0.0
        np.multiply(observers, care, out=observers)
        cooperative = strength > 0
        if not cooperative.any():
            return  # the friendship weighs no member: each rate would be multiplied by 1
        ends = self.ends
        scores = seen.take(
            ends.ravel(),
            axis=0,
            out=work.take("ends", (ends.size, len(strength))),
            mode="clip",
        )
        friendship = np.add(
            scores[0::2], scores[1::2], out=work.take("friendship", (len(ends), len(strength)))
        )
        np.divide(friendship, 2.0, out=friendship)  # the mean of the pair's two scores
        np.clip(friendship, 0.0, 1.0, out=friendship)
        weight = friendship.take(
            self.pair_of, axis=0, out=work.take("weight", observers.shape), mode="clip"
        )
        if not cooperative.all():
            np.copyto(weight, 1.0, where=~cooperative)
        np.multiply(observers, weight, out=observers)

    def move(
        self,
        before: np.ndarray,
        rates: np.ndarray,
        out: np.ndarray,
        rules: Rules,
    ) -> np.ndarray:
        """The state of the changed cells (M, K) after every move, from their state before,
        written to `out`: saturating moves in turn, or, with entrenchment, the sum of the
        rates added to the latent affinity (the order of the moves does not matter then)."""
        step = _add if rules.entrenchment else _move_clipped
        after = step(before, rates if self.first is None else rates[self.first], out)
        for moves, cells in self.later:
            after[cells] = step(after[cells], rates[moves])
        return after


def held_rates(rates: np.ndarray, hold: np.ndarray, rules: Rules) -> None:
    """The rates of a lasting event's re-press, in place, from the rates r (moves, K) the event
    itself makes and the share f (K,) of a departure that the last step's decay left.

    With entrenchment, r (1 - f): decay took (1 - f) of the affinity the move added, and this
    gives it back exactly. With saturating moves, r (1 - f) / (1 - |r| f): a score that stood at
    its baseline b and took the move (to b + r (1 -+ b)) decays to b + r f (1 -+ b); the move
    of this rate brings it back to b + r (1 -+ b), whatever b (docs/model.md, "Lasting
    events"). It lies between r (1 - f) and r, so no score leaves [-1, 1].
    """
    keep = np.asarray(hold, dtype=float)
    give_back = 1.0 - keep
    if rules.entrenchment:
        rates *= give_back
        return
    room = 1.0 - np.abs(rates) * keep  # >= 1 - f > 0; where f = 1 the rate is 0 already
    np.multiply(rates, give_back, out=rates)
    np.divide(rates, room, out=rates, where=room > 0)


def _add(x: np.ndarray, r: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """x + r, written to `out` (default: a new array)."""
    return np.add(x, r, out=out)


def _take_cells(by_cell: np.ndarray, cells: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The scores of `cells` (flat ids, checked by ``plan_of``) in every member, shape (M, K),
    written to `out`."""
    n, k = by_cell.shape[1], by_cell.shape[2]
    if by_cell.flags.c_contiguous:  # member-last, as the model keeps it: one run of K per cell
        return by_cell.reshape(n * n, k).take(cells, axis=0, out=out, mode="clip")
    out[...] = by_cell[cells // n, cells % n]
    return out


def _move_clipped(x: np.ndarray, r: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """x (1 - |r|) + r for rates already in [-1, 1], written to `out` (default: a new array
    shaped like r)."""
    # x + r (1 - x) for r > 0 and x + r (1 + x) for r < 0 are both x (1 - |r|) + r
    out = np.abs(r, out=out)
    np.subtract(1.0, out, out=out)
    np.multiply(out, x, out=out)
    out += r
    return out


def _layout(form: Form, actor: int, others: tuple[int, ...], n: int):
    """The moves of an act, parties first: (row, col, kind) for moves between participants and
    (row, col, kind, sign_row, sign_col, p, q) for observer moves, (p, q) being the pair whose
    act the observer judges (the actor and target, or two parties)."""
    observers = [w for w in range(n) if w != actor and w not in others]
    direct: list[tuple[int, int, int]] = []
    watched: list[tuple[int, int, int, int, int, int, int]] = []

    def directed(a: int, b: int) -> None:
        direct.extend([(b, a, TARGET), (a, b, ACTOR)])
        # helping my friend raises my view of you; attacking my friend lowers it
        watched.extend((w, a, OBSERVER, w, b, a, b) for w in observers)

    def pair(p: int, q: int) -> None:  # a joint act: observers judge each by the other
        direct.extend([(p, q, PARTIES), (q, p, PARTIES)])
        watched.extend((w, p, OBSERVER, w, q, p, q) for w in observers)
        watched.extend((w, q, OBSERVER, w, p, p, q) for w in observers)

    if form is Form.DIRECTED:
        directed(actor, others[0])
    elif form is Form.SYMMETRIC:
        directed(actor, others[0])
        directed(others[0], actor)
    elif form is Form.MEETING:
        people = (actor, *others)
        for i, p in enumerate(people):
            for q in people[i + 1 :]:
                pair(p, q)
    elif form is Form.MEDIATION:
        p, q = others
        pair(p, q)
        direct.extend([(p, actor, CREDIT), (q, actor, CREDIT)])
    else:
        raise ValueError(f"unknown form {form!r}")
    return direct, watched


@functools.lru_cache(maxsize=4096)
def plan_of(
    form: Form, actor: int, others: tuple[int, ...], n: int, only: tuple[int, ...] | None = None
) -> Plan:
    """The plan of an act among n actors (cached: the same layout gives the same plan).

    only: flat cell ids (row * n + col); if given, the plan keeps the moves of those cells
    alone (their rates and turns are exactly those of the full plan).
    """
    people = (actor, *others)
    if len(set(people)) != len(people) or not all(0 <= i < n for i in people):
        raise ValueError(f"an act's participants must be distinct actors 0..{n - 1}: {people}")
    direct, watched = _layout(form, actor, others, n)
    if only is not None:
        keep = set(only)
        direct = [m for m in direct if m[0] * n + m[1] in keep]
        watched = [m for m in watched if m[0] * n + m[1] in keep]
    moves = direct + watched
    ids = [row * n + col for row, col, *_ in moves]
    cells = list(dict.fromkeys(ids))
    place = {cell: m for m, cell in enumerate(cells)}
    seen: dict[int, int] = {}
    turns: list[int] = []
    for cell in ids:
        turns.append(seen.get(cell, 0))
        seen[cell] = turns[-1] + 1

    def array(values) -> np.ndarray:
        out = np.array(values, dtype=np.intp)
        out.flags.writeable = False  # shared by every call: cached
        return out

    def moves_in_turn(t: int) -> np.ndarray:
        return array([m for m, turn in enumerate(turns) if turn == t])

    later = tuple(
        (moves_in_turn(t), array([place[ids[m]] for m in moves_in_turn(t)]))
        for t in range(1, max(turns, default=0) + 1)
    )
    signs = [m[3] * n + m[4] for m in watched]
    pairs = [(m[5] * n + m[6], m[6] * n + m[5]) for m in watched]
    read = list(dict.fromkeys([*cells, *signs, *(cell for pair in pairs for cell in pair)]))
    row_of = {cell: r for r, cell in enumerate(read)}
    ends = list(dict.fromkeys(pairs))
    return Plan(
        kinds=array([m[2] for m in moves]),
        direct=len(direct),
        signs=array(signs),
        judged=array([place[m[0] * n + m[1]] for m in watched]),
        pairs=array(pairs).reshape(-1, 2),
        cells=array(cells),
        rows=array([cell // n for cell in cells]),
        cols=array([cell % n for cell in cells]),
        first=None if len(cells) == len(ids) else moves_in_turn(0),
        later=later,
        seen=array(read),
        sign_at=array([row_of[cell] for cell in signs]),
        ends=array([(row_of[p], row_of[q]) for p, q in ends]).reshape(-1, 2),
        pair_of=array([ends.index(pair) for pair in pairs]),
    )


def changes_of(
    S: np.ndarray,
    act: Act,
    c: Coefficients,
    only: tuple[int, ...] | None = None,
    scratch: Scratch | None = None,
    *,
    rules: Rules,
) -> Changes:
    """What applying the act to the state S would change, without changing S.

    S: the state (K, N, N): the scores themselves, or with entrenchment the latent affinities
    (``Rules.state``). only: flat cell ids (row * N + col) to work out alone, exactly as in the
    full computation (every rate comes from S, and a cell's moves are applied in turn), so a
    prediction that looks at a few scores costs little. Cost grows with the number of cells
    touched (about 2N for a directed event), not with N². scratch: working memory to use; the
    changes returned then live in it (valid until its next use). Default: new arrays.
    """
    k, n = S.shape[0], S.shape[1]
    if only is not None and not isinstance(only, tuple):
        only = tuple(int(cell) for cell in np.ravel(only))
    plan = plan_of(act.form, act.actor, act.others, n, only)
    work = NEW_ARRAYS if scratch is None else scratch
    by_cell = _by_cell(S)
    strength = np.asarray(act.strength, dtype=float)
    if strength.shape != (k,):  # one strength for every member
        strength = np.broadcast_to(strength, (k,))
    read = _take_cells(by_cell, plan.seen, out=work.take("read", (len(plan.seen), k)))
    seen = np.tanh(read, out=work.take("seen", read.shape)) if rules.entrenchment else read
    hold = None if act.hold is None else np.broadcast_to(np.asarray(act.hold, dtype=float), (k,))
    rates = plan.rates(seen, c, strength, work, rules, hold)
    m = len(plan.cells)
    before = read[:m]  # the changed cells come first among those read
    after = plan.move(before, rates, work.take("after", before.shape), rules)
    if not rules.entrenchment:
        return Changes(plan.rows, plan.cols, before.T, after.T, after.T)
    scores = np.tanh(after, out=work.take("scores", after.shape))
    return Changes(plan.rows, plan.cols, seen[:m].T, scores.T, after.T)


def apply_changes(S: np.ndarray, changes: Changes) -> None:
    """Write the changes into the state S in place."""
    _by_cell(S)[changes.rows, changes.cols] = changes.state.T


def apply_act(
    S: np.ndarray,
    act: Act,
    c: Coefficients,
    members: np.ndarray | None = None,
    scratch: Scratch | None = None,
    *,
    rules: Rules,
) -> Changes:
    """Apply the act to the state S in place and return what it changed.

    members: indices of the members where the act happens (default: every member); then
    act.strength and c hold the values of those members only, the returned changes are theirs,
    and the other members are left alone. scratch, rules: as for ``changes_of``.
    """
    if members is None:
        changes = changes_of(S, act, c, scratch=scratch, rules=rules)
        apply_changes(S, changes)
        return changes
    k, n = len(members), S.shape[1]
    part = (scratch or NEW_ARRAYS).take("part", (n, n, k))  # those members, member axis last
    _by_cell(S).take(members, axis=2, out=part)
    changes = changes_of(part.transpose(2, 0, 1), act, c, scratch=scratch, rules=rules)
    _by_cell(S)[changes.rows[:, None], changes.cols[:, None], members] = changes.state.T
    return changes


def decay_factor(
    step_days: float | np.ndarray, half_life_days: float | np.ndarray
) -> float | np.ndarray:
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

    factor is a scalar or one value per member, shape (K,). Three in-place passes and no
    temporary array: with a baseline that moves, B changes every step, and a fresh (K, N, N)
    temporary each step costs more in page faults than a pass over the state.
    """
    f = np.asarray(factor, dtype=float)
    R -= B
    R *= f[:, None, None] if f.ndim else f
    R += B


def jitter(S: np.ndarray, sd: np.ndarray, eps: np.ndarray, rules: Rules) -> None:
    """Random moves in place: scores R <- tanh(artanh(R) + sd * eps), eps standard normal draws
    (with entrenchment the state is artanh(R) already, so it just takes + sd * eps).

    Near 0 a move has standard deviation about sd (score units); near +-1 it shrinks, so no
    score leaves [-1, 1] and there is no first-order pull toward 0 (a saturating move of
    random sign would pull every score toward 0 by about 0.8 * sd * score per step).
    sd: one value per member, shape (K,); eps: shape (K, N, N).
    """
    if rules.entrenchment:
        S += sd[:, None, None] * eps
        return
    inner = np.arctanh(np.clip(S, -1 + 1e-12, 1 - 1e-12))
    S[:] = np.tanh(inner + sd[:, None, None] * eps)


def follow(B: np.ndarray, S: np.ndarray, factor: float | np.ndarray) -> None:
    """A baseline that moves: B <- S + (B - S) * factor in place, so that over a long time the
    state becomes the new normal it relaxes toward. factor: 2 ** (-step / baseline half-life),
    a scalar or one value per member, shape (K,) (1 where the baseline stays put)."""
    f = np.asarray(factor, dtype=float)
    B -= S
    B *= f[:, None, None] if f.ndim else f
    B += S


def shared(factor: np.ndarray) -> float | np.ndarray:
    """One value per member (K,) as the scalar they all share, if they do (else unchanged):
    a multiplication by the scalar gives the same numbers and reads one array less."""
    if factor.ndim == 1 and len(factor) and bool((factor == factor[0]).all()):
        return float(factor[0])
    return factor


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
