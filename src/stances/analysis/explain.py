"""Attribution: which events made a score, as Shapley values over the scenario's events.

The players are the file's own events (``events:``, in file order); a coalition is a run in
which only some of them happen. Every coalition is a copy of the same ensemble member (its
drawn values, its noise and the random part of its actors' choices: common random numbers),
so coalitions differ in their events alone; actors that decide re-decide in each coalition,
which is why a coalition's outcome is not the sum of its events' effects. All coalitions go
through the engine as the members of one ensemble (``engine.ensemble.run_copies``).

With n events, the exact values need all 2**n coalitions (13 events: 8,192 members); above
``shapley.EXACT_UP_TO`` events, or when asked, they are estimated from random orders of the
events, with a standard error (``analysis.shapley``). Either way the contributions to a score
at a date add up to (score with every event) - (score with none) at that date.

Two dates are explained for each score: the explained date (the end of the window, or
``at``) and the date of the score's largest departure from the run without events (an event
whose effect has faded by the end can still have made the largest difference on the way).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from stances.analysis import shapley
from stances.engine.ensemble import run_copies
from stances.errors import Position, Problem, ScenarioError
from stances.scenario.types import Event, Scenario

MEMBERS = 2**shapley.EXACT_UP_TO
"""About as many coalitions as an exact attribution of 13 events: the default size of a
sampled one (orders * (n + 1) + n + 1 members)."""


class ExplainError(ScenarioError, ValueError):
    """An attribution that cannot be made (no events, an unknown dyad, a date outside the
    window): one problem per reason."""


@dataclass(frozen=True)
class Explanation:
    """Each event's contribution to chosen scores, at every step boundary.

    events: the players, in file order (n). dyads: the explained scores, (actor, toward) (D).
    dates: the step boundaries (T + 1). none, full: the scores without any event and with
    every event, (T + 1, D), in [-1, 1]. values: Shapley values, (n, T + 1, D), score units;
    stderr: their standard errors when sampled (same shape), None when exact.
    leave_one_out: full minus the run without that event alone, (n, T + 1, D). orders: sampled
    orders (None: exact). explained: the index into dates of the explained date (the end, or
    the `at` asked for). member: the ensemble member all coalitions copy; decided: whether
    actors decide (and so re-decide in every coalition).
    """

    title: str
    events: tuple[Event, ...]
    dyads: tuple[tuple[str, str], ...]
    dates: tuple[dt.date, ...]
    none: np.ndarray
    full: np.ndarray
    values: np.ndarray
    stderr: np.ndarray | None
    leave_one_out: np.ndarray
    orders: int | None
    explained: int
    member: int
    decided: bool

    @property
    def method(self) -> str:
        """'exact' or 'sampled, P orders'."""
        return "exact" if self.orders is None else f"sampled, {self.orders} orders"

    def departure(self, d: int) -> int:
        """Index into dates of dyad d's largest departure |full - none| (the first if tied)."""
        return int(np.argmax(np.abs(self.full[:, d] - self.none[:, d])))

    def moments(self, d: int) -> list[tuple[str, int]]:
        """The dates explained for dyad d: ('end' or 'at', index), ('largest departure', index)."""
        label = "end" if self.explained == len(self.dates) - 1 else "at"
        return [(label, self.explained), ("largest departure", self.departure(d))]

    def table(self) -> pd.DataFrame:
        """One row per dyad, explained date and event: the event's Shapley value, its standard
        error (NaN when exact), its leave-one-out effect, and beside them the scores without
        events and with all events at that date (explain.csv)."""
        rows = []
        for d, (a, b) in enumerate(self.dyads):
            for moment, k in self.moments(d):
                for e, event in enumerate(self.events):
                    rows.append(
                        {
                            "dyad": f"{a} -> {b}",
                            "moment": moment,
                            "date": self.dates[k],
                            "event": event.id,
                            "event_date": event.date,
                            "type": event.type.name,
                            "shapley": self.values[e, k, d],
                            "stderr": np.nan if self.stderr is None else self.stderr[e, k, d],
                            "leave_one_out": self.leave_one_out[e, k, d],
                            "without_events": self.none[k, d],
                            "with_events": self.full[k, d],
                        }
                    )
        table = pd.DataFrame(rows)
        for column in ("date", "event_date"):
            table[column] = pd.to_datetime(table[column])
        return table

    def top(self, d: int, k: int, count: int = 5) -> list[tuple[Event, float]]:
        """The `count` events with the largest |contribution| to dyad d at date index k."""
        order = np.argsort(-np.abs(self.values[:, k, d]), kind="stable")[:count]
        return [(self.events[e], float(self.values[e, k, d])) for e in order]


def problems_with(
    scenario: Scenario, dyads: list[tuple[str, str]], at: dt.date | None
) -> list[Problem]:
    """Why a scenario cannot be explained as asked (or [])."""
    where = Position(str(scenario.path))
    problems = []
    if not scenario.events:
        problems.append(Problem(where, "events", "nothing to explain: the file has no events"))
    known = set(scenario.actor_ids)
    for a, b in dyads:
        for actor in (a, b):
            if actor not in known:
                problems.append(
                    Problem(
                        where,
                        "--dyads",
                        f"unknown actor {actor!r} (actors: {' '.join(scenario.actor_ids)})",
                    )
                )
    if at is not None and not scenario.time.start <= at <= scenario.time.end:
        problems.append(
            Problem(
                where,
                "--at",
                f"{at} is outside the window {scenario.time.start} .. {scenario.time.end}",
            )
        )
    return problems


def explain(
    scenario: Scenario,
    dyads: list[tuple[str, str]] | None = None,
    *,
    at: dt.date | None = None,
    member: int = 0,
    seed: int | None = None,
    orders: int | None = None,
    most: int = 4,
) -> Explanation:
    """Each event's contribution to the scores of `dyads` (default: the `most` scores that
    every event together moves furthest from the run without events, at their largest).

    at: explain this date instead of the window's end (the last step boundary on or before
    it). member: which ensemble member's draws every coalition copies (0 .. ; only matters
    when the file has uncertain values or noise). seed: the run's root seed (default the
    file's). orders: sample this many random orders instead of running all 2**n coalitions
    (default: exact up to ``shapley.EXACT_UP_TO`` events, else about ``MEMBERS`` members'
    worth of orders). Raises ExplainError for what cannot be explained.
    """
    problems = problems_with(scenario, dyads or [], at)
    if problems:
        raise ExplainError(problems)
    root = scenario.seed if seed is None else seed
    n = len(scenario.events)
    exact = orders is None and n <= shapley.EXACT_UP_TO
    if exact:
        rows = shapley.all_coalitions(n)
        sampled_orders = None
    else:
        count = orders if orders is not None else max(2, MEMBERS // (n + 1))
        sampled_orders = shapley.random_orders(n, count, np.random.default_rng(root))
        # the sampled orders' prefixes, then the full run without each event alone
        rows = np.vstack([shapley.permutation_rows(sampled_orders), ~np.eye(n, dtype=bool)])
    history = run_copies(scenario, root, member, np.ascontiguousarray(rows.T))
    scores = np.moveaxis(history, 1, 0).reshape(len(rows), history.shape[0], -1)  # (M, T+1, N*N)
    # the empty and the full coalition: the first and last rows when exact, else the first
    # order's empty and full prefixes
    none, full = scores[0], scores[-1] if exact else scores[n]
    ids = scenario.actor_ids
    cells = _cells(ids, dyads) if dyads else _moved_most(none, full, ids, most)
    flat = [len(ids) * i + j for i, j in cells]
    scores, none, full = scores[:, :, flat], none[:, flat], full[:, flat]
    if exact:
        values, stderr = shapley.exact(scores, n), None
        loo = shapley.leave_one_out(scores, n)
    else:
        assert sampled_orders is not None
        prefixes = len(sampled_orders) * (n + 1)
        estimate = shapley.sampled(scores[:prefixes], sampled_orders)
        values, stderr = estimate.value, estimate.stderr
        loo = full[None] - scores[prefixes:]
    dates = tuple(scenario.step_dates())
    explained = len(dates) - 1 if at is None else max(k for k, d in enumerate(dates) if d <= at)
    return Explanation(
        title=scenario.title,
        events=tuple(scenario.events),
        dyads=tuple((ids[i], ids[j]) for i, j in cells),
        dates=dates,
        none=none,
        full=full,
        values=values,
        stderr=stderr,
        leave_one_out=loo,
        orders=None if sampled_orders is None else len(sampled_orders),
        explained=explained,
        member=member,
        decided=any(p.kind != "scripted" for p in scenario.policies.values()),
    )


def _cells(ids: tuple[str, ...], dyads: list[tuple[str, str]]) -> list[tuple[int, int]]:
    return [(ids.index(a), ids.index(b)) for a, b in dyads]


def _moved_most(
    none: np.ndarray, full: np.ndarray, ids: tuple[str, ...], most: int
) -> list[tuple[int, int]]:
    """The `most` off-diagonal cells with the largest max over dates of |full - none|."""
    n = len(ids)
    gap = np.abs(full - none).max(axis=0).reshape(n, n)
    cells = [(i, j) for i in range(n) for j in range(n) if i != j]
    cells.sort(key=lambda c: -gap[c])
    return cells[: max(1, most)]


def stderr_note(explanation: Explanation) -> str:
    """A sentence on how the values were computed, for tables and captions."""
    n = len(explanation.events)
    if explanation.orders is None:
        how = f"exact Shapley values over {n} events ({2**n:,} coalitions)"
    else:
        how = (
            f"Shapley values over {n} events estimated from {explanation.orders} random orders "
            "of the events (with standard errors)"
        )
    if explanation.decided:
        how += "; actors that decide re-decide in every coalition"
    return how
