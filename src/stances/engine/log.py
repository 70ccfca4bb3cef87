"""The event log: a record of each event as it happened, kept as exact member totals, and the
output of a batch of members (``Chunk``), small enough to send between processes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from stances.engine.dynamics import Changes
from stances.scenario.types import Event

FIXED_POINT = 2.0**32  # member totals are kept in units of 2**-32 (about 2.3e-10)


def fixed_total(values: np.ndarray) -> np.ndarray:
    """The sum over members of `values` (K, ...), along axis 0.

    Exact: each value is cut to a multiple of 2**-32 and the multiples are added as int64,
    so the totals of the batches of a run add up to the same number in any grouping (a float
    sum would depend on the grouping in its last bits). The sum of |values| must stay below
    2**31: two billion members at scores in [-1, 1], two hundred million at strengths <= 10.
    """
    by_member = values.transpose(*range(1, values.ndim), 0)  # contiguous for the model's state
    units = np.empty(by_member.shape, dtype=np.int64)
    np.multiply(by_member, FIXED_POINT, out=units, casting="unsafe")  # truncates toward 0
    return units.sum(axis=-1)


@dataclass(frozen=True)
class Tally:
    """One applied event summed over the members where it happened (see ``fixed_total``):
    O(cells) to keep whatever the number of members, and exact to add across batches.

    count: members where it happened; before, after: int64 (M,) totals of the scores of the
    M cells it touched; strength: total strength; utility: total utility (decided events).
    """

    count: int
    before: np.ndarray
    after: np.ndarray
    strength: np.ndarray
    utility: np.ndarray | None

    @classmethod
    def of(cls, changes: Changes, strength: np.ndarray, utility: np.ndarray | None = None) -> Tally:
        """Sum an event's changes (k, M), strengths (k,) and utilities (k,) over the k members
        where it happened."""
        return cls(
            len(strength),
            fixed_total(changes.before),
            fixed_total(changes.after),
            fixed_total(strength),
            None if utility is None else fixed_total(utility),
        )

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.count + other.count,
            self.before + other.before,
            self.after + other.after,
            self.strength + other.strength,
            None if self.utility is None or other.utility is None else self.utility + other.utility,
        )

    def mean(self, total: np.ndarray | None) -> np.ndarray:
        """A total as a mean over the members where the event happened (NaN for None)."""
        if total is None:
            return np.array(np.nan)
        if self.count == 0:
            return np.full(np.shape(total), np.nan)
        return total / FIXED_POINT / self.count


@dataclass
class Chunk:
    """What one batch of members (first .. first + k - 1) produced; small enough to send
    between processes."""

    first: int
    history: np.ndarray
    records: list[Applied]
    draws: dict[str, np.ndarray]
    positions: np.ndarray  # (T+1, k, I, N) issue positions


def merge_chunks(chunks: list[Chunk]) -> Chunk:
    """One Chunk of all K members (history (T+1, K, N, N), records, draws, positions) from
    batches of members.

    Records are matched by (step, order, id, origin) and kept in that order, which is the same
    whatever the batching; a record absent from a batch did not happen in its members.
    """
    chunks = sorted(chunks, key=lambda c: c.first)
    if len(chunks) == 1:
        c = chunks[0]
        return Chunk(
            c.first, c.history, sorted(c.records, key=lambda r: r.key), c.draws, c.positions
        )
    history = np.concatenate([c.history for c in chunks], axis=1)
    merged: dict[tuple, Applied] = {}
    for c in chunks:
        for r in c.records:
            if r.key in merged:  # the earliest batch holding it gave its first member
                merged[r.key] = replace(merged[r.key], tally=merged[r.key].tally + r.tally)
            else:
                merged[r.key] = r
    draws = {label: np.concatenate([c.draws[label] for c in chunks]) for label in chunks[0].draws}
    positions = np.concatenate([c.positions for c in chunks], axis=1)
    return Chunk(chunks[0].first, history, [merged[k] for k in sorted(merged)], draws, positions)


@dataclass(frozen=True)
class Applied:
    """An event as it happened: in which step and where in it, what, from where, on which date,
    the cells it changed and their member totals.

    origin: 'scripted' (from the file), 'decided' (an actor's choice) or 'refused' (a party's
    refusal of a proposed action). order: its place within the step, the same in every member
    and every batch (scripted: (0, file index); decided: (1, turn, round, candidate, ...)).
    rows, cols: the M cells it changed; tally: their scores before and after and its strength,
    summed over the members where it happened (``Tally``). alternatives: the best other actions
    (label, utility) of the first member that took it (decided events).

    Kept by the model only, dropped when a batch sends its records (``without_members``):
    members, bool (K,), where it happened; utility, (K,), the decider's utility per member.
    """

    step: int
    order: tuple[int, ...]
    event: Event
    origin: str
    date: date
    rows: np.ndarray
    cols: np.ndarray
    tally: Tally
    alternatives: tuple[tuple[str, float], ...] = ()
    members: np.ndarray | None = None
    utility: np.ndarray | None = None

    @property
    def key(self) -> tuple:
        """(step, order, event id, origin): the same record in every batch has the same key."""
        return (self.step, self.order, self.event.id, self.origin)

    def without_members(self) -> Applied:
        """The record without its per-member arrays, as a batch of members sends it: its size
        then does not grow with the number of members."""
        return replace(self, members=None, utility=None)
