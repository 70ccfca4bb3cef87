"""StanceModel: the Mesa model. It holds the state, runs the step order and records history.

Step order (each step of length dt days): (1) scripted events dated in the step, in file order;
(2) actors' own decisions, in a seeded random order; (3) decay toward the baseline;
(4) record. The state has a leading ensemble-member axis: a single run is K = 1.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from stances import dynamics
from stances.actors import Actor, make_policy
from stances.catalogue import Form, named_types
from stances.results import Result
from stances.scenario import Event, Scenario, load_scenario
from stances.timegrid import step_lengths

ARTICLE = Path(__file__).resolve().parents[2] / "scenarios" / "article.yaml"


@dataclass(frozen=True)
class Applied:
    """An event as it happened: in which step, from where, in which members, what it changed.

    origin: 'scripted' (from the file), 'decided' (an actor's choice) or 'refused' (a party's
    refusal of a proposed action). members: bool (K,), where it happened. utility: the
    decider's utility per member; alternatives: the best other actions (label, mean utility).
    """

    step: int
    event: Event
    origin: str
    changes: dynamics.Changes
    members: np.ndarray
    utility: np.ndarray | None = None
    alternatives: tuple[tuple[str, float], ...] = ()


def _dyad_score(i: int, j: int, model: StanceModel) -> float:
    return float(model.R[0, i, j])


class StanceModel(mesa.Model):
    """How states regard each other as dated events happen.

    Args:
        scenario: a Scenario, or the path of a scenario file; default: the article scenario.
        rng: seed of the run; default: the scenario's ``seed``.
        members: ensemble members advanced together (K >= 1).
        collect: fill Mesa's DataCollector (one model reporter per dyad, member 0).
        **parameters: overrides of the scenario's ``parameters:``, e.g. kappa_observer=0.2.

    Attributes:
        R: scores, shape (K, N, N), in [-1, 1]; R[k, i, j] is how actor i regards actor j.
        history: R at every step boundary, shape (steps + 1, K, N, N).
        applied: every event applied so far, with the changes it made.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        *,
        rng: int | None = None,
        members: int = 1,
        collect: bool = True,
        **parameters: Any,
    ) -> None:
        spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or ARTICLE)
        if parameters:
            spec = spec.with_parameters(**parameters)
        self.seed = spec.seed if rng is None else int(rng)
        super().__init__(rng=self.seed)
        self.spec = spec
        self.dates = spec.step_dates()
        self.n_steps = len(self.dates) - 1
        p = spec.parameters
        self.coefficients = dynamics.Coefficients(
            p.kappa_target, p.kappa_actor, p.kappa_observer, p.kappa_parties, p.kappa_credit
        )
        self.decay_factors = dynamics.decay_factor(
            step_lengths(self.dates), p.memory_half_life.days
        )
        n = len(spec.actor_ids)
        self.R = np.repeat(spec.initial[None].astype(float), members, axis=0)
        self.B = spec.baseline.astype(float)
        self.history = np.empty((self.n_steps + 1, members, n, n))
        self.history[0] = self.R
        self.step_index = 0
        self.applied: list[Applied] = []
        self._scripted = self._events_by_step(spec.events)
        types = {**named_types(), **spec.event_types}
        self._actors = [
            Actor(self, actor_id, name, make_policy(spec.policies[actor_id], types))
            for actor_id, name in spec.actors.items()
        ]
        self.datacollector = mesa.DataCollector(
            model_reporters={
                f"{a} -> {b}": partial(_dyad_score, i, j)
                for i, a in enumerate(spec.actor_ids)
                for j, b in enumerate(spec.actor_ids)
                if i != j
            }
            if collect
            else {},
            agent_reporters={
                "actor": "actor_id",
                "regard_given": "regard_given",
                "regard_received": "regard_received",
            }
            if collect
            else {},
        )
        self._collect = collect
        if collect:
            self.datacollector.collect(self)
        self.running = self.n_steps > 0

    @property
    def members(self) -> int:
        """Number of ensemble members K."""
        return self.R.shape[0]

    @property
    def date(self):
        """The date of the current state (the start of the next step)."""
        return self.dates[self.step_index]

    def _events_by_step(self, events: tuple[Event, ...]) -> list[list[Event]]:
        """Scripted events grouped by the step whose days contain their date (file order kept)."""
        by_step: list[list[Event]] = [[] for _ in range(self.n_steps + 1)]
        for event in events:
            by_step[bisect.bisect_right(self.dates, event.date)].append(event)
        return by_step

    @property
    def decision_date(self):
        """The date given to decisions taken in the current step: its last day."""
        return self.dates[min(self.step_index + 1, self.n_steps)] - timedelta(days=1)

    def actor_at(self, index: int) -> Actor:
        """The Actor agent of array index `index`."""
        return self._actors[index]

    def act(self, form: Form, actor: int, others: tuple[int, ...], strength: float) -> dynamics.Act:
        """An act of the given strength in every member."""
        return dynamics.Act(form, actor, others, np.full(self.members, strength))

    def act_of(self, event: Event, members: np.ndarray | None = None) -> dynamics.Act:
        """The event as the dynamics sees it: indices and a strength per member (0 outside
        `members`)."""
        index = self.spec.index
        act = self.act(
            event.type.form,
            index(event.actor),
            tuple(index(o) for o in event.others),
            event.strength,
        )
        if members is not None:
            act.strength[~members] = 0.0
        return act

    def apply(
        self,
        event: Event,
        origin: str = "scripted",
        members: np.ndarray | None = None,
        utility: np.ndarray | None = None,
        alternatives: list[tuple[str, float]] | tuple = (),
    ) -> dynamics.Changes:
        """Apply one event now, in every member or only in `members` (bool, (K,)), and log it."""
        mask = np.ones(self.members, dtype=bool) if members is None else members
        changes = dynamics.apply_act(self.R, self.act_of(event, mask), self.coefficients)
        self.applied.append(
            Applied(
                self.step_index + 1,
                event,
                origin,
                changes,
                mask.copy(),
                utility,
                tuple(alternatives),
            )
        )
        return changes

    def step(self) -> None:
        """Advance one step: scripted events, decisions, decay, record."""
        if self.step_index >= self.n_steps:
            self.running = False
            return
        k = self.step_index + 1
        for event in self._scripted[k]:
            self.apply(event)
        self.agents.shuffle_do("step")
        dynamics.decay(self.R, self.B, self.decay_factors[k - 1])
        self.history[k] = self.R
        self.step_index = k
        if self._collect:
            self.datacollector.collect(self)
        self.running = k < self.n_steps

    def run(self) -> None:
        """Step until the end of the time window."""
        while self.running:
            self.step()

    def result(self) -> Result:
        """The run so far as a Result (tables, manifest, plots)."""
        return Result.from_model(self)
