"""StanceModel: the Mesa model. It holds the state, runs the step order and records history.

Step order (each step of length dt days): (1) scripted events dated in the step, in file order,
with the positions they shift, and the re-presses of the lasting events still lasting; (2)
actors' own decisions, in a seeded random order; (3) decay toward the baseline; (4)
structural-balance drift and (5) homophily, when turned on; (6) noise, when the scenario has
any; (7) one Friedkin-Johnsen step of the issue positions; (8) record.
The state has a leading ensemble-member axis: a single run is K = 1, and an ensemble is the same
code with K > 1 (see ``sampling`` for member seeds).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from dataclasses import fields
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from stances.catalogue import Form, named_types
from stances.engine import dynamics
from stances.engine.log import Applied, Chunk, Tally
from stances.engine.policies import Policy, Stakes, make_policy
from stances.engine.sampling import draw, member_rngs, noise_rngs
from stances.errors import Problem
from stances.scenario.builder import load_scenario
from stances.scenario.design import Design, columns_of, parse_design
from stances.scenario.library import ARTICLE
from stances.scenario.types import (
    Event,
    EventValue,
    ParameterError,
    Scenario,
    keyword_problem,
)
from stances.timegrid import step_lengths

# noise is drawn a block of steps at a time: about this many values per block (16 MiB)
NOISE_BLOCK_VALUES = 2**21
KAPPAS = tuple(f.name for f in fields(dynamics.Coefficients))


def _score_cell(score: float) -> str:
    """One table cell for a score in [-1, 1]: the number on a red (hostile) or blue (friendly)
    background whose strength grows with the size."""
    colour = "178, 24, 43" if score < 0 else "33, 102, 172"
    return f'<td style="background: rgba({colour}, {abs(score) * 0.6:.2f})">{score:+.2f}</td>'


class ScoresOf:
    """The scores of a state, tanh(state), kept for as long as the state stays the same bit
    for bit: a decision reads the scores once per candidate, and comparing the state with a
    copy of it costs a fraction of its tanh. Whoever changes the state (the model, or a test
    writing into it) needs to tell nobody: every call compares. The scores handed out are
    read-only, since the next caller gets the same array; a new state gives a new array."""

    def __init__(self) -> None:
        self._state: np.ndarray | None = None  # a copy of the state the scores are of
        self._scores: np.ndarray | None = None

    def __call__(self, state: np.ndarray) -> np.ndarray:
        """np.tanh(state), shape and layout of state, read-only."""
        kept, scores = self._state, self._scores
        if kept is not None and scores is not None and kept.shape == state.shape:
            if (kept.view(np.uint64) == state.view(np.uint64)).all():
                return scores
            np.copyto(kept, state)
        else:
            kept = self._state = state.copy(order="K")
        scores = self._scores = np.tanh(state)
        scores.flags.writeable = False
        return scores


def _dyad_score(i: int, j: int, model: StanceModel) -> float:
    return float(model.rules.scores(model.state[0, i, j]))


def _events_in_problems(events_in: np.ndarray | None, events: int, members: int) -> list[Problem]:
    """A problem if ``events_in`` is given and is not a bool array of shape (events, members)."""
    if events_in is None:
        return []
    shape = np.shape(events_in)
    array = np.asarray(events_in)
    if shape != (events, members) or array.dtype != bool:
        message = f"expected a bool array of shape ({events}, {members}) (events, members), got "
        return [keyword_problem("StanceModel", "events_in", f"{message}{array.dtype} {shape}")]
    return []


def _option_problems(**options: int | None) -> list[Problem]:
    """A problem for each option that is not a whole number at least its least value (rng and
    first_member 0, members 1; rng may be None), in the file loader's words."""
    least = {"rng": 0, "members": 1, "first_member": 0, "copies_of": 0}
    problems = []
    for name, value in options.items():
        if value is None and name in ("rng", "copies_of"):
            continue
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            message = f"expected a whole number, got {value!r}"
        elif value < least[name]:
            message = f"must be at least {least[name]}, got {value}"
        else:
            continue
        problems.append(keyword_problem("StanceModel", name, message))
    return problems


def _design_of(spec: Scenario, design: Any, members: int) -> Design | None:
    """The design checked against the scenario (None without one); ParameterError when
    `members` is neither 1 nor its number of rows."""
    if design is None or isinstance(design, Design):
        checked = design
    else:
        try:
            checked = parse_design(spec, columns_of(design))
        except TypeError as exc:
            raise ParameterError([keyword_problem("StanceModel", "design", str(exc))]) from None
    if checked is not None and members not in (1, checked.rows):
        message = f"the design has {checked.rows} rows, one per member; got members={members}"
        raise ParameterError([keyword_problem("StanceModel", "members", message)])
    return checked


class StanceModel(mesa.Model):
    """How states regard each other as dated events happen.

    Args:
        scenario: a Scenario, or the path of a scenario file; default: the article scenario.
        rng: the root seed of the run: the same number as a scenario file's ``seed:`` (Mesa
            names its seed argument ``rng``), a whole number >= 0; default: the scenario's seed.
        members: ensemble members advanced together (K >= 1).
        first_member: index of the first member (members first_member .. first_member + K - 1);
            a member's draws depend only on the root seed and its index.
        collect: fill Mesa's DataCollector (one model reporter per dyad, member 0).
        copies_of: make every member a copy of member ``copies_of`` (its draws, its noise, the
            random part of its actors' choices), so that members differ only by ``events_in``
            (attribution, ``analysis.explain``); default: members are themselves.
        events_in: which of the file's events happen in which member, bool of shape (E, K),
            E the file's events in file order; default: every event in every member. An event
            left out of a member is not applied there at all (nor pressed again if lasting).
        design: chosen values per member (``scenario.design``): a pandas DataFrame (read
            through its ``.columns`` and ``.to_numpy()``, so the engine imports no pandas), a
            mapping of column -> values, or a checked ``Design``. Row r gives member
            first_member + r its values; columns are dotted keys as for ``--set``
            (``parameters.kappa_observer``, ``parameters.memory_half_life`` in weeks,
            ``relations.A -> B``, ``baseline.A -> B``, ``events.ID.intensity``,
            ``events.ID.date``, ``events.ID.until``). The members are its rows (``members``,
            if given, must be 1 or their number); values it does not set are drawn as usual.
        **kwargs: overrides of the scenario's ``parameters:``, checked as a file's are, e.g.
            ``kappa_observer=0.2``, ``memory_half_life="52 weeks"`` or a distribution
            ``kappa_observer={"uniform": [0.1, 0.2]}``. The name ``kwargs`` is Mesa's: its
            SolaraViz accepts any keyword only when the catch-all is called that (mesa#2462).

    Raises:
        ParameterError (a ValueError): one line per bad keyword, e.g. ``StanceModel(kappa_obsrver=
            ...): unknown parameter 'kappa_obsrver' (did you mean 'kappa_observer'?)``.
        DesignError (a ValueError): one line per bad column or cell of the design.

    Attributes:
        R: scores, shape (K, N, N), in [-1, 1]; R[k, i, j] is how actor i regards actor j.
        history: R at every step boundary, shape (steps + 1, K, N, N).
        state: what the model keeps, (K, N, N): the scores, or with entrenchment their latent
            affinities (``rules``, from the parameters ``entrenchment`` and ``observers``).
        applied: every event applied so far: where, and what it changed (member totals).
        running: True until a call of ``step()`` finds the window used up (that call changes
            nothing). So Mesa counts one more ``steps`` than the window has, which is what
            ``mesa.batch_run`` of Mesa 3.3 needs to report the final state: it reads the
            DataCollector's rows 0 .. ``steps`` - 1 only.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        *,
        rng: int | None = None,
        members: int = 1,
        first_member: int = 0,
        collect: bool = True,
        copies_of: int | None = None,
        events_in: np.ndarray | None = None,
        design: Design | Any = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(scenario, Scenario | str | Path | None):
            raise ParameterError(
                [
                    keyword_problem(
                        "StanceModel",
                        "scenario",
                        f"expected a scenario file's path or a stances Scenario, got {scenario!r}",
                    )
                ]
            )
        spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or ARTICLE)
        problems = _option_problems(
            rng=rng, members=members, first_member=first_member, copies_of=copies_of
        )
        try:
            spec = spec.with_parameters("StanceModel", **kwargs) if kwargs else spec
        except ParameterError as exc:
            problems += exc.problems
        if problems:
            raise ParameterError(problems)
        self.design = _design_of(spec, design, members)
        members = self.design.rows if self.design is not None else members
        if problems := _events_in_problems(events_in, len(spec.events), members):
            raise ParameterError(problems)
        self.seed = spec.seed if rng is None else int(rng)
        super().__init__(rng=self.seed)  # Mesa's own generators: the actors' order each step
        self.spec = spec
        self.first_member = first_member
        self.dates = spec.step_dates()
        self.n_steps = len(self.dates) - 1
        indices = (
            first_member + np.arange(members) if copies_of is None else np.full(members, copies_of)
        )
        self.member_rngs = member_rngs(self.seed, indices)
        self.draws = draw(spec, self.member_rngs, self.design)
        values = self.draws.parameters
        self.coefficients = dynamics.Coefficients(*(values[name] for name in KAPPAS))
        _ = self.coefficients.matrix  # worked out once, here, for every event to share
        self.noise = values["noise"]
        self.balance_rate = values["balance_rate"]
        self.homophily = values["homophily"]
        self._noisy = np.flatnonzero(self.noise > 0)  # the members that draw noise
        self._noise_rngs = noise_rngs(self.seed, indices[self._noisy])
        self._noise_drawn = np.empty((0, 0))  # noise for steps _noise_from, _noise_from + 1, ...
        self._noise_from, self._noise_steps = 1, 0  # ... up to _noise_from + _noise_steps - 1
        self._drifts = bool((self.balance_rate > 0).any())
        issues = list(spec.issues.values())
        self.issue_names = [issue.name for issue in issues]
        start = np.array([issue.position for issue in issues]).reshape(
            len(issues), len(spec.actor_ids)
        )
        self.X = np.repeat(start[None], members, axis=0)  # positions (K, I, N) in [0, 1]
        self.X0 = self.X.copy()  # each actor's own anchor, x(0), moved only by its own shifts
        n = len(spec.actor_ids)
        p = spec.parameters
        self.rules = dynamics.Rules(
            entrenchment=p.entrenchment, relative_observers=p.observers == "relative"
        )
        # the state: the scores, or with entrenchment their latent affinities (Rules.state)
        self.state = dynamics.member_last((members, n, n), axis=0)
        self.state[:] = self.rules.state(self.draws.initial)
        self._scores_of = ScoresOf()  # R, while the state stays the same
        self.B = dynamics.member_last((members, n, n), axis=0)  # the baseline, as a state
        self.B[:] = self.rules.state(self.draws.baseline)
        self._half_life = values["memory_half_life"]
        self._lengths = step_lengths(self.dates)
        self._kept = self._kept_per_step(self._half_life)
        self._decays = self._decay_per_step()
        self._follows = self._baseline_per_step(values["baseline_half_life"])
        self._shared_kept = self._shared(self._kept)  # the decay's factors
        self.states = dynamics.member_last((self.n_steps + 1, members, n, n), axis=1)
        self.states[0] = self.state
        self.positions = np.empty((self.n_steps + 1, *self.X.shape))
        self.positions[0] = self.X
        self.step_index = 0
        self.turn = 0
        self.applied: list[Applied] = []
        self._events_in = (
            np.ones((len(spec.events), members), dtype=bool)
            if events_in is None
            else np.asarray(events_in, dtype=bool).copy()
        )
        self._event_steps, self._last_steps, self._scripted = self._schedule()
        goldstein = np.array([[e.type.goldstein] for e in spec.events]).reshape(-1, 1)
        self._strengths = self.draws.intensity * goldstein / 10.0  # (E, K): s = w g / 10
        self._earliest = self._earliest_dates()
        targets = [u.target for u in spec.uncertain]
        targets += [c.target for c in self.design.columns] if self.design else []
        self._drawn_dates = {
            t.index for t in targets if isinstance(t, EventValue) and t.field == "date"
        }
        types = {**named_types(), **spec.event_types}
        self._actors = [
            Actor(self, actor_id, name, make_policy(spec.policies[actor_id], types))
            for actor_id, name in spec.actors.items()
        ]
        self._collect = collect
        self.datacollector = mesa.DataCollector(**self._reporters() if collect else {})
        if collect:
            self.datacollector.collect(self)

    def _kept_per_step(self, half_life: np.ndarray) -> list[np.ndarray]:
        """The share of a departure from the baseline each step's memory keeps,
        2 ** (-step / half-life) per member (one array per distinct step length, shared)."""
        factors = {days: dynamics.decay_factor(days, half_life) for days in set(self._lengths)}
        return [np.asarray(factors[days]) for days in self._lengths]

    def _decay_per_step(self) -> list[dynamics.Decay]:
        """The decay of each step toward the fixed baseline (one per distinct step length)."""
        decays: dict[float, dynamics.Decay] = {}
        for days, kept in zip(self._lengths, self._kept, strict=True):
            if days not in decays:
                decays[days] = dynamics.Decay.toward(self.B, kept)
        return [decays[days] for days in self._lengths]

    def _baseline_per_step(self, half_life: np.ndarray) -> list[float | np.ndarray] | None:
        """How far the baseline stays put in each step, 2 ** (-step / half-life) per member
        (K,), or the one value every member shares; None when it never moves in any member."""
        if np.all(np.isinf(half_life)):
            return None
        return self._shared(self._kept_per_step(half_life))

    @staticmethod
    def _shared(per_step: list[np.ndarray]) -> list[float | np.ndarray]:
        """Each step's factors (K,) as the scalar every member shares, where they share one
        (``dynamics.shared``; worked out once per distinct array)."""
        done: dict[int, float | np.ndarray] = {}
        for f in per_step:
            if id(f) not in done:
                done[id(f)] = dynamics.shared(f)
        return [done[id(f)] for f in per_step]

    def _decay(self, k: int) -> None:
        """Relax the state toward the baseline over step k; then, if the baseline moves, move
        it toward the state (a lasting departure becomes the new normal)."""
        if self._follows is None:
            self._decays[k - 1](self.state)
            return
        dynamics.decay(self.state, self.B, self._shared_kept[k - 1])
        dynamics.follow(self.B, self.state, self._follows[k - 1])

    def _on_scores(self, change: Callable[[np.ndarray], None]) -> None:
        """Apply a change written for scores (in place) to the state."""
        if not self.rules.entrenchment:
            change(self.state)
            return
        scores = self.rules.scores(self.state)
        before = scores.copy()
        change(scores)
        moved = scores != before  # only these: artanh(tanh(a)) is a to rounding only
        self.state[moved] = self.rules.state(scores[moved])

    def _reporters(self) -> dict[str, dict]:
        ids = self.spec.actor_ids
        return {
            "model_reporters": {
                f"{a} -> {b}": partial(_dyad_score, i, j)
                for i, a in enumerate(ids)
                for j, b in enumerate(ids)
                if i != j
            },
            "agent_reporters": {
                "actor": "actor_id",
                "regard_given": "regard_given",
                "regard_received": "regard_received",
            },
        }

    def _schedule(self) -> tuple[np.ndarray, np.ndarray, list[list[int]]]:
        """Each event's step per member and the step holding its last day (the window's last
        step if it lasts past it), both (E, K), and the events due in each step: to happen,
        or, in a later step up to that last one, to press again (a lasting event)."""
        bounds = np.array([d.toordinal() for d in self.dates])
        steps = np.searchsorted(bounds, self.draws.day, side="right")
        last = np.minimum(np.searchsorted(bounds, self.draws.last_day, side="right"), self.n_steps)
        due: list[list[int]] = [[] for _ in range(self.n_steps + 1)]
        for e in range(len(self.spec.events)):
            lasting = range(int(steps[e].min()), int(last[e].max()) + 1)
            for k in lasting if (last[e] > steps[e]).any() else np.unique(steps[e]).tolist():
                due[k].append(e)
        return steps, last, due

    def _earliest_dates(self) -> list[dt.date]:
        """The earliest date each event can take (its window's start if its date is drawn; the
        earliest in the whole design if designed)."""
        earliest = [e.date for e in self.spec.events]
        for u in self.spec.uncertain:
            if isinstance(u.target, EventValue) and u.target.field == "date":
                earliest[u.target.index] = date.fromordinal(
                    int(max(u.distribution.support[0], self.dates[0].toordinal()))
                )
        for column in self.design.columns if self.design else ():
            if isinstance(column.target, EventValue) and column.target.field == "date":
                earliest[column.target.index] = date.fromordinal(int(column.lowest))
        return earliest

    @property
    def scenario(self) -> None:
        """None: the scenario is ``spec``. Mesa 3.5's Model keeps a Scenario of its own here
        (mesa.experimental.scenarios) and its SolaraViz, finding one, rebuilds the model with
        ``scenario=`` an empty one of those on Reset (solara_viz.py, _build_model_init_kwargs),
        where this model takes a file; without one it passes the keywords alone, as Mesa 3.3
        always does."""
        return None

    @scenario.setter
    def scenario(self, value: Any) -> None:
        """Mesa 3.5's Model.__init__ sets its own Scenario here; it is not kept."""

    @property
    def members(self) -> int:
        """Number of ensemble members K."""
        return self.state.shape[0]

    @property
    def history(self) -> np.ndarray:
        """The scores at every step boundary, shape (steps + 1, K, N, N) (rows past the step
        reached are not yet filled); with entrenchment a new array each time."""
        return self.rules.scores(self.states)

    @property
    def R(self) -> np.ndarray:
        """The scores, shape (K, N, N), in [-1, 1]: the state itself, or with entrenchment
        tanh of it (then read-only, the same array until the state changes: write to
        ``state``, not here)."""
        if not self.rules.entrenchment:
            return self.state
        return self._scores_of(self.state)

    @property
    def date(self) -> date:
        """The date of the current state (the start of the next step)."""
        return self.dates[self.step_index]

    @property
    def decision_date(self) -> dt.date:
        """The date given to decisions taken in the current step: its last day."""
        return self.dates[min(self.step_index + 1, self.n_steps)] - timedelta(days=1)

    def actor_at(self, index: int) -> Actor:
        """The Actor agent of array index `index`."""
        return self._actors[index]

    def act(
        self, form: Form, actor: int, others: tuple[int, ...], strength: float | np.ndarray
    ) -> dynamics.Act:
        """An act of the given strength (one value, or one per member)."""
        return dynamics.Act(form, actor, others, np.full(self.members, strength, dtype=float))

    def apply(
        self,
        event: Event,
        origin: str = "scripted",
        members: np.ndarray | None = None,
        utility: np.ndarray | None = None,
        alternatives: list[tuple[str, float]] | tuple = (),
        *,
        strength: np.ndarray | None = None,
        order: tuple[int, ...] = (),
        when: dt.date | None = None,
        hold: np.ndarray | None = None,
    ) -> Applied:
        """Apply one event now, in every member or only in `members` (bool, (K,)), and log it.

        strength: per member (default: the event's own strength in every member). hold: for
        the re-press of a lasting event, the share of a departure the last step's decay left,
        per member (K,) (``dynamics.Act``); a re-press shifts no positions (its stance shifts
        moved their anchors once, for good) and is logged with strength s (1 - hold). Returns
        the log entry (also appended to ``applied``): the cells changed and the member totals.
        """
        mask = np.ones(self.members, dtype=bool) if members is None else members
        strength = np.asarray(event.strength if strength is None else strength, dtype=float)
        if strength.shape != mask.shape:  # one strength for every member
            strength = np.broadcast_to(strength, mask.shape)
        if hold is not None:
            hold = np.broadcast_to(np.asarray(hold, dtype=float), mask.shape)
        where, coefficients = None, self.coefficients
        if not mask.all():  # the same arithmetic, on the members where it happens only
            where = np.flatnonzero(mask)
            strength, coefficients = strength[where], coefficients.of_members(where)
            hold = None if hold is None else hold[where]
        index = self.spec.index
        act = dynamics.Act(
            event.type.form,
            index(event.actor),
            tuple(index(o) for o in event.others),
            strength,
            hold,
        )
        scratch = dynamics.Scratch.of_this_thread()  # of the thread running this event
        changes = dynamics.apply_act(
            self.state, act, coefficients, where, scratch, rules=self.rules
        )
        if hold is None:
            self._shift_positions(event, mask)
        pressed = act.strength if hold is None else act.strength * (1.0 - hold)
        applied = Applied(
            step=self.step_index + 1,
            event=event,
            origin=origin,
            rows=changes.rows,
            cols=changes.cols,
            members=mask.copy(),
            tally=Tally.of(changes, pressed, None if utility is None else utility[mask]),
            utility=utility,
            alternatives=tuple(alternatives),
            order=order,
            date=when or event.date,
        )
        self.applied.append(applied)
        return applied

    def _apply_scripted(self, k: int) -> None:
        """The file's events of step k, in file order: each where it happens in this step, and
        each lasting event where it happened in an earlier step and lasts into this one."""
        for e in self._scripted[k]:
            event = self.spec.events[e]
            here = (self._event_steps[e] == k) & self._events_in[e]
            if here.any():
                # an event with a drawn date is logged on the first day of this step its
                # window allows (the same whatever the batch)
                drawn = e in self._drawn_dates
                when = max(self.dates[k - 1], self._earliest[e]) if drawn else event.date
                self.apply(
                    event, members=here, strength=self._strengths[e], order=(0, e), when=when
                )
            lasting = (self._event_steps[e] < k) & (k <= self._last_steps[e]) & self._events_in[e]
            if lasting.any():
                self._press_again(k, e, lasting)

    def _press_again(self, k: int, e: int, members: np.ndarray) -> None:
        """Re-press lasting event e at the start of step k, in `members` (bool, (K,)): by what
        the decay of step k - 1 took back of its moves (docs/model.md, "Lasting events");
        logged with origin 'lasting' on the step's first day."""
        kept = self._kept[k - 2]
        self.apply(
            self.spec.events[e],
            origin="lasting",
            members=members,
            strength=self._strengths[e],
            order=(0, e),
            when=self.dates[k - 1],
            hold=np.asarray(kept),
        )

    def _add_noise(self, k: int) -> None:
        """Random moves in the members whose noise is above 0, for step k (a member without
        noise draws nothing, alone or in any batch)."""
        noisy = self._noisy
        if not noisy.size:
            return
        eps = self._noise_of_step(k)
        if len(noisy) == self.members:
            dynamics.jitter(self.state, self.noise, eps, self.rules)
            return
        part = self.state[noisy]
        dynamics.jitter(part, self.noise[noisy], eps, self.rules)
        self.state[noisy] = part

    def _noise_of_step(self, k: int) -> np.ndarray:
        """Standard normal draws (K', N, N) for step k, 0 on the diagonal. Each member draws
        its own in step order, a block of steps at a time: the same numbers as one step at a
        time, with one generator call per member per block instead of per step."""
        if not self._noise_from <= k < self._noise_from + self._noise_steps:
            noisy, n = len(self._noisy), self.state.shape[1]
            # 1 to 64 steps, about NOISE_BLOCK_VALUES values, none past the last step
            block = int(np.clip(NOISE_BLOCK_VALUES // (noisy * n * n), 1, 64))
            if self._noise_drawn.shape[:2] != (noisy, block):  # else refilled in place
                self._noise_drawn = np.empty((noisy, block, n, n))
            steps = min(block, self.n_steps - k + 1)
            drawn = self._noise_drawn[:, :steps]
            for rng, mine in zip(self._noise_rngs, drawn, strict=True):
                rng.standard_normal(out=mine)
            drawn[:, :, np.arange(n), np.arange(n)] = 0.0
            self._noise_from, self._noise_steps = k, steps
        return self._noise_drawn[:, k - self._noise_from]

    def _update_positions(self) -> None:
        """One Friedkin-Johnsen step per issue, with weights from this step's scores."""
        if not self.spec.issues:
            return
        scores = self.R
        for i, issue in enumerate(self.spec.issues.values()):
            W = dynamics.influence_weights(scores, issue.capability, issue.takes_part)
            moved = dynamics.friedkin_johnsen_step(
                self.X[:, i], self.X0[:, i], W, issue.susceptibility
            )
            self.X[:, i] = np.where(issue.takes_part, moved, self.X[:, i])

    def _homophily(self) -> None:
        if self.spec.issues and (self.homophily > 0).any():
            parts = np.array([issue.takes_part for issue in self.spec.issues.values()])
            self._on_scores(lambda R: dynamics.homophily(R, self.X, parts, self.homophily))

    def _shift_positions(self, event: Event, mask: np.ndarray) -> None:
        """An event's direct moves of positions (its actor's own anchor moves with them)."""
        for issue, actor, by in event.stance_shifts:
            i, a = self.issue_names.index(issue), self.spec.index(actor)
            for state in (self.X, self.X0):
                state[mask, i, a] = np.clip(state[mask, i, a] + by, 0.0, 1.0)

    def step(self) -> None:
        """Advance one step in the order the module docstring gives; once the window is used
        up, only set ``running`` to False."""
        if self.step_index >= self.n_steps:  # the window is used up: nothing left to do
            self.running = False
            return
        k = self.step_index + 1
        self._apply_scripted(k)
        self.turn = 0
        self.agents.shuffle_do("step")
        self._decay(k)
        if self._drifts:
            self._on_scores(lambda R: dynamics.balance_drift(R, self.balance_rate))
        self._homophily()
        self._add_noise(k)
        self._update_positions()
        self.states[k] = self.state
        self.positions[k] = self.X
        self.step_index = k
        if self._collect:
            self.datacollector.collect(self)

    def run(self) -> None:
        """Step until the end of the time window."""
        while self.running:
            self.step()

    def __repr__(self) -> str:
        """One line: title, actors, window and step, members, step reached."""
        time, last = self.spec.time, self.first_member + self.members - 1
        members = f"member {last}" if self.members == 1 else f"members {self.first_member}..{last}"
        return (
            f"<StanceModel {self.spec.title!r}: {' '.join(self.spec.actor_ids)}; "
            f"{time.start} to {time.end} by {time.step}; {members}; "
            f"step {self.step_index} of {self.n_steps}>"
        )

    def _repr_html_(self) -> str:
        """A notebook's display: the one-line repr and the current scores (member mean) as a
        table, row = who, column = toward whom, red hostile and blue friendly."""
        ids = self.spec.actor_ids
        scores = self.R.mean(axis=0)
        head = "".join(f"<th>{html.escape(b)}</th>" for b in ids)
        rows = "".join(
            f"<tr><th>{html.escape(a)}</th>"
            + "".join(
                "<td></td>" if i == j else _score_cell(float(scores[i, j])) for j in range(len(ids))
            )
            + "</tr>"
            for i, a in enumerate(ids)
        )
        mean = "" if self.members == 1 else f" (mean of {self.members} members)"
        return (
            f"<div><code>{html.escape(repr(self))}</code><br>scores on {self.date}{mean}, "
            "row regards column, −1 hostile … +1 friendly"
            f"<table><thead><tr><th></th>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
        )

    def chunk(self) -> Chunk:
        """The run so far as a Chunk: its members' history, event records, draws, positions."""
        steps = self.step_index
        states = self.states[: steps + 1]
        return Chunk(
            self.first_member,
            np.tanh(states) if self.rules.entrenchment else states.copy(),
            [a.without_members() for a in self.applied],
            self.draws.values,
            self.positions[: steps + 1].copy(),
        )


class Actor(mesa.Agent):
    """A state: its id (e.g. 'IND'), display name, row/column index, interests and policy."""

    model: StanceModel

    def __init__(self, model: StanceModel, actor_id: str, name: str, policy: Policy) -> None:
        super().__init__(model)
        self.actor_id = actor_id
        self.name = name
        self.index = model.spec.index(actor_id)
        self.stakes = Stakes(model.spec.interests.get(actor_id, ()), model.spec.actor_ids)
        self.policy = policy
        self.policy.setup(self)

    def step(self) -> None:
        """Take this step's own decisions (Mesa calls this through ``shuffle_do``)."""
        self.model.turn += 1
        self.policy.decide(self)

    def discomfort(self) -> np.ndarray:
        """How far the actor is from what it wants, per member (score squared, >= 0)."""
        return self.stakes.discomfort(self.model.R)

    def regard(self, other: str, member: int = 0) -> float:
        """How this actor regards another, in [-1, 1]."""
        return float(self.model.R[member, self.index, self.model.spec.index(other)])

    @property
    def regard_given(self) -> float:
        """Mean of this actor's views of the others (member 0), in [-1, 1]."""
        row = self.model.R[0, self.index]
        return float((row.sum() - row[self.index]) / (len(row) - 1))

    @property
    def regard_received(self) -> float:
        """Mean of the others' views of this actor (member 0), in [-1, 1]."""
        col = self.model.R[0, :, self.index]
        return float((col.sum() - col[self.index]) / (len(col) - 1))
