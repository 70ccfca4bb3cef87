"""The hypothesis strategies the test modules share: numbers, arrays for the update rules, and
small generated scenarios.

Three families:

- numbers: scores, shares, strengths and seeds, as floats for the arrays and on a decimal grid
  (tenths, hundredths) where they are written into a scenario file, so that the file's text
  reads back as exactly the number drawn;
- arrays for ``stances.engine.dynamics``: states of K members over N actors, acts on them and
  coefficients;
- scenarios: a ``World`` of 3-5 actors with relations, dated events and, for actors that decide,
  interests; test modules add their own sections (issues, policies) to its data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import numpy as np
from hypothesis import strategies as st

from stances.catalogue import Form
from stances.engine.dynamics import Act, Coefficients

# ---------------------------------------------------------------------------------------------
# Numbers

scores = st.floats(-1.0, 1.0, allow_nan=False)
"""Any score in [-1, 1] (a float, both ends included)."""

shares = st.floats(0.0, 1.0, allow_nan=False)
"""Any rate, coefficient or noise level in [0, 1] (a float, both ends included)."""

strengths = st.floats(-10.0, 10.0, allow_nan=False)
"""Any event strength in [-10, 10] (intensity times Goldstein weight over 10 lies in it)."""

root_seeds = st.integers(0, 2**32 - 1)
"""A root seed of an ensemble run: any unsigned 32-bit integer."""

file_seeds = st.integers(0, 2**16)
"""The seed: written in a generated scenario file, 0..65536."""


def hundredths(low: int, high: int) -> st.SearchStrategy[float]:
    """k / 100 for integers k in [low, high]: a number that reads back exactly from a file."""
    return st.integers(low, high).map(lambda k: k / 100)


def tenths(low: int, high: int) -> st.SearchStrategy[float]:
    """k / 10 for integers k in [low, high]: a coarse grid, so that equal values recur."""
    return st.integers(low, high).map(lambda k: k / 10)


score_tenths = tenths(-10, 10)
"""A score in [-1, 1] in steps of 0.1."""

fractions = hundredths(0, 100)
"""A number in [0, 1] in steps of 0.01."""


# ---------------------------------------------------------------------------------------------
# Arrays for the update rules


@st.composite
def states(draw, n: int | None = None, k: int | None = None) -> np.ndarray:
    """A state R of shape (k, n, n): scores in [-1, 1], each member's diagonal 0. n is drawn
    from 2..5 and k from 1..3 unless given."""
    n = draw(st.integers(2, 5)) if n is None else n
    k = draw(st.integers(1, 3)) if k is None else k
    values = draw(st.lists(scores, min_size=k * n * n, max_size=k * n * n))
    R = np.array(values).reshape(k, n, n)
    for m in range(k):
        np.fill_diagonal(R[m], 0.0)
    return R


@st.composite
def acts(draw, n: int, k: int, strength: st.SearchStrategy[float] = strengths) -> Act:
    """One act among n actors in k members: directed, symmetric, a meeting of 2..n actors or
    (n >= 3) a mediation of two parties, by distinct actors; strength (k,) drawn from
    strength (default: any in [-10, 10])."""
    forms = [Form.DIRECTED, Form.SYMMETRIC, Form.MEETING] + ([Form.MEDIATION] if n >= 3 else [])
    form = draw(st.sampled_from(forms))
    people = draw(st.permutations(range(n)))
    actor = people[0]
    if form is Form.MEDIATION:
        others = tuple(people[1:3])
    elif form is Form.MEETING:
        others = tuple(people[1 : 1 + draw(st.integers(1, n - 1))])
    else:
        others = (people[1],)
    s = np.array(draw(st.lists(strength, min_size=k, max_size=k)))
    return Act(form, actor, others, s)


coefficients = st.builds(
    Coefficients,
    kappa_target=shares,
    kappa_actor=shares,
    kappa_observer=shares,
    kappa_parties=shares,
    kappa_credit=shares,
)
"""Coefficients shared by every member: each of the five kappas any float in [0, 1]."""


per_member_coefficients = st.integers(1, 3).flatmap(
    lambda k: st.tuples(
        st.just(k),
        st.builds(
            Coefficients,
            *(st.one_of(shares, st.lists(shares, min_size=k, max_size=k).map(np.array)),) * 5,
        ),
    )
)
"""(k, coefficients) for k in 1..3 members: each kappa in [0, 1], either one number for every
member or an array (k,) of one per member."""


@st.composite
def histories(draw, strength: st.SearchStrategy[float] = strengths) -> tuple[np.ndarray, list[Act]]:
    """(R, acts): a state (see ``states``) and 1..12 acts on it, strengths from strength."""
    R = draw(states())
    k, n, _ = R.shape
    sequence = draw(st.lists(acts(n, k, strength), min_size=1, max_size=12))
    return R, sequence


@st.composite
def histories_with_coefficients(draw) -> tuple[np.ndarray, list[Act], Coefficients]:
    """(R, acts, coefficients): a state of k members (1..3), 1..6 acts on it and coefficients
    (see ``per_member_coefficients``) of the same k."""
    k, c = draw(per_member_coefficients)
    R = draw(states(k=k))
    n = R.shape[1]
    return R, draw(st.lists(acts(n, k), min_size=1, max_size=6)), c


@st.composite
def acts_with_coefficients(draw) -> tuple[np.ndarray, Act, Coefficients]:
    """(R, act, coefficients): like ``histories_with_coefficients``, with a single act (for
    properties of one act, where a longer history would only cost drawing time)."""
    k, c = draw(per_member_coefficients)
    R = draw(states(k=k))
    return R, draw(acts(R.shape[1], k)), c


# ---------------------------------------------------------------------------------------------
# Scenarios

Interest = tuple[str, float, float, str]  # (key, want, weight, side)
Dated = tuple[int, str, str, str]  # (day offset from the start, type, actor, target)


@dataclass(frozen=True)
class World:
    """A small generated scenario: actors, relations, dated events on a weekly grid and, for
    actors that decide, interests. ``data`` gives it as the mapping a scenario file holds."""

    ids: tuple[str, ...]
    relations: dict[str, float]  # "A -> B" -> score
    events: tuple[Dated, ...]
    weeks: int  # the time window: weeks * 7 days from start
    seed: int
    start: date
    interests: dict[str, tuple[Interest, ...]] = field(default_factory=dict)

    @property
    def end(self) -> date:
        """The last day of the time window."""
        return self.start + timedelta(days=7 * self.weeks - 1)

    def data(self, policy: object = None) -> dict:
        """The scenario as JSON-like data; every actor gets `policy:` unless it is None."""
        actors = {}
        for a in self.ids:
            actor: dict = {"name": f"Actor {a}"}
            if self.interests.get(a):
                actor["interests"] = {
                    key: {"want": want, "weight": weight, "side": side}
                    for key, want, weight, side in self.interests[a]
                }
            if policy is not None:
                actor["policy"] = policy
            actors[a] = actor
        events = [
            {
                "id": f"e{n}",
                "date": (self.start + timedelta(days=offset)).isoformat(),
                "type": kind,
                "actor": actor,
                "target": target,
            }
            for n, (offset, kind, actor, target) in enumerate(self.events)
        ]
        return {
            "title": "Generated",
            "time": {"start": self.start.isoformat(), "end": self.end.isoformat(), "step": "week"},
            "seed": self.seed,
            "actors": actors,
            "relations": dict(self.relations),
            "events": events,
        }

    def yaml(self, policy: object = None) -> str:
        """The scenario file's text (JSON, which is YAML 1.2)."""
        return scenario_text(self.data(policy))


def scenario_text(data: dict) -> str:
    """Scenario data as a file's text: JSON, which is YAML 1.2."""
    return json.dumps(data, indent=2) + "\n"


@st.composite
def relation_maps(
    draw, ids: tuple[str, ...], score: st.SearchStrategy[float], every_pair: bool = True
) -> dict[str, float]:
    """{"A -> B": score} over ordered pairs of distinct actors of ids: every pair, or (every_pair
    False) each pair kept or left out at random."""
    pairs = [(a, b) for a in ids for b in ids if a != b]
    return {f"{a} -> {b}": draw(score) for a, b in pairs if every_pair or draw(st.booleans())}


@st.composite
def dated_events(
    draw, ids: tuple[str, ...], weeks: int, types: tuple[str, ...], max_size: int
) -> tuple[Dated, ...]:
    """0..max_size events (day offset in 0..7*weeks-1, type from types, actor, another actor as
    target)."""
    one = st.tuples(
        st.integers(0, 7 * weeks - 1), st.sampled_from(types), st.permutations(ids)
    ).map(lambda e: (e[0], e[1], e[2][0], e[2][1]))
    return tuple(draw(st.lists(one, max_size=max_size)))


@st.composite
def small_worlds(
    draw,
    pool: tuple[str, ...],
    *,
    start: date,
    types: tuple[str, ...],
    sizes: tuple[int, int] | None = None,
    score: st.SearchStrategy[float] = score_tenths,
    every_pair: bool = True,
    weeks: tuple[int, int] = (2, 8),
    max_events: int = 3,
) -> World:
    """A World without interests: the first n actor ids of pool (n in sizes, both ends
    included; default 3..len(pool)), relations with scores from score (see ``relation_maps``),
    a window of weeks in the range weeks, up to max_events dated events of the given types
    (``dated_events``), a file seed (``file_seeds``)."""
    n = draw(st.integers(*(sizes or (3, len(pool)))))
    ids = pool[:n]
    relations = draw(relation_maps(ids, score, every_pair))
    span = draw(st.integers(*weeks))
    events = draw(dated_events(ids, span, types, max_events))
    return World(ids, relations, events, span, draw(file_seeds), start)


@st.composite
def interest_entries(draw, ids: tuple[str, ...]) -> Interest:
    """One interest of an actor: a key on one relation ("A -> B"), both ways ("A <-> B") or a
    difference of two ("A -> B - C -> D") among ids; want a score in tenths, weight 0, 0.5, 1 or
    2, side exact, at_least or at_most."""
    pairs = [(a, b) for a in ids for b in ids if a != b]
    a, b = draw(st.sampled_from(pairs))
    form = draw(st.sampled_from(["one", "both", "difference"]))
    if form == "one":
        key = f"{a} -> {b}"
    elif form == "both":
        key = f"{a} <-> {b}"
    else:
        c, d = draw(st.sampled_from(pairs))
        key = f"{a} -> {b} - {c} -> {d}"
    want = draw(score_tenths)
    weight = draw(st.sampled_from([0, 0.5, 1, 2]))
    side = draw(st.sampled_from(["exact", "at_least", "at_most"]))
    return key, want, weight, side


@st.composite
def worlds_with_interests(draw, world: st.SearchStrategy[World]) -> World:
    """A World drawn from world, whose actors have 0..3 interests each with distinct keys (the
    first actor at least one, so that someone has a reason to act)."""
    w = draw(world)
    interests = {
        a: tuple(
            draw(
                st.lists(
                    interest_entries(w.ids),
                    min_size=1 if k == 0 else 0,
                    max_size=3,
                    unique_by=lambda entry: entry[0],
                )
            )
        )
        for k, a in enumerate(w.ids)
    }
    return replace(w, interests=interests)
