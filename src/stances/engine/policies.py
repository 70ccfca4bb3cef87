"""Policies: how an actor decides to act. No Mesa here: policies see the model through the
small ``World`` and ``Agent`` protocols below.

A policy is a small class with one method, ``decide(actor)``, in the manner of strategies in the
Axelrod library; ``classifier`` says what kind of policy it is, and ``POLICIES`` lists every
kind by name (a new kind is one subclass). The scripted policy does nothing of its own. The
reactive policy looks one step ahead: for every action in its repertoire it predicts the
change with the same dynamics code that applies events, scores the action as the fall in the
actor's discomfort minus the action's cost, and acts on the best one if it clears the threshold.

Discomfort is the weighted squared distance from what the actor wants (its interests), so the
same action is worth more the further the actor is from what it wants. Cooperation that needs
the other side is open only while the other side is not hostile to the actor (reciprocity,
docs/model.md), and a joint act happens only if no party with interests loses from it (consent).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from itertools import combinations
from typing import Any, ClassVar, Protocol

import numpy as np

from stances.catalogue import EventType, Form, named_types
from stances.engine import dynamics
from stances.engine.log import Applied
from stances.errors import Position
from stances.scenario.models import REACTIVE_REPERTOIRE, PolicySpec
from stances.scenario.types import Event, Interest, Scenario


class World(Protocol):
    """What a policy sees of the model (``StanceModel``)."""

    R: np.ndarray
    state: np.ndarray
    rules: dynamics.Rules
    coefficients: dynamics.Coefficients
    member_rngs: list[np.random.Generator]
    spec: Scenario
    turn: int

    @property
    def members(self) -> int: ...

    @property
    def decision_date(self) -> date: ...

    def act(
        self, form: Form, actor: int, others: tuple[int, ...], strength: float | np.ndarray
    ) -> dynamics.Act: ...

    def apply(
        self,
        event: Event,
        origin: str = ...,
        members: np.ndarray | None = ...,
        utility: np.ndarray | None = ...,
        alternatives: list[tuple[str, float]] | tuple = ...,
        *,
        strength: np.ndarray | None = ...,
        order: tuple[int, ...] = ...,
        when: date | None = ...,
    ) -> Applied: ...

    def actor_at(self, index: int) -> Agent: ...


class Agent(Protocol):
    """What a policy sees of the actor it decides for (``model.Actor``)."""

    actor_id: str
    index: int
    stakes: Stakes

    @property
    def model(self) -> World: ...


SIDES = {"exact": 0, "at_least": 1, "at_most": 2}


class Stakes:
    """An actor's discomfort: sum over its interests of weight * gap**2 (score squared units).

    The gap of an interest is value - want, where value is one score or the difference of two;
    for side 'at_least' only a shortfall counts, for 'at_most' only an excess.
    """

    def __init__(self, interests: tuple[Interest, ...], ids: tuple[str, ...]):
        n = len(ids)
        at = {a: i for i, a in enumerate(ids)}

        def cell(dyad: tuple[str, str] | None) -> int:
            return -1 if dyad is None else at[dyad[0]] * n + at[dyad[1]]

        self.n = n
        self.plus = np.array([cell(i.plus) for i in interests], dtype=np.intp)
        self.minus = np.array([cell(i.minus) for i in interests], dtype=np.intp)
        self.want = np.array([i.want for i in interests], dtype=float)
        self.weight = np.array([i.weight for i in interests], dtype=float)
        self.side = np.array([SIDES[i.side] for i in interests], dtype=int)
        self.cells = np.unique(np.concatenate([self.plus, self.minus[self.minus >= 0]]))
        self.only = tuple(self.cells.tolist())  # predictions work out only these cells

    def __bool__(self) -> bool:
        return bool(self.plus.size)

    def values(self, R: np.ndarray) -> np.ndarray:
        """The value each interest looks at, shape (K, T)."""
        out = R[:, self.plus // self.n, self.plus % self.n]
        has_minus = self.minus >= 0
        minus = self.minus[has_minus]
        out[:, has_minus] -= R[:, minus // self.n, minus % self.n]
        return out

    def of_values(self, values: np.ndarray) -> np.ndarray:
        """Discomfort from interest values, shape (K,)."""
        gap = values - self.want
        gap = np.where(self.side == 1, np.minimum(gap, 0.0), gap)
        gap = np.where(self.side == 2, np.maximum(gap, 0.0), gap)
        return (self.weight * gap**2).sum(axis=1)

    def discomfort(self, R: np.ndarray) -> np.ndarray:
        """Discomfort in state R, shape (K,)."""
        return self.of_values(self.values(R))

    def discomfort_after(self, values: np.ndarray, changes: dynamics.Changes) -> np.ndarray:
        """Discomfort once `changes` are applied, from the current interest values (exact:
        only the changed cells are looked at), shape (K,)."""
        cells = changes.rows * self.n + changes.cols
        delta = changes.delta  # (K, M)
        moved = values + delta @ (cells[:, None] == self.plus[None, :])
        moved -= delta @ (cells[:, None] == self.minus[None, :])
        return self.of_values(moved)


@dataclass(frozen=True)
class Candidate:
    """One possible action: an event type and who it is aimed at (indices)."""

    type: EventType
    others: tuple[int, ...]
    cost: float

    def event(self, actor: str, ids: tuple[str, ...], when, note: str, tag: str = "") -> Event:
        """The candidate as an Event by `actor` on day `when`; `tag` ends its id if given."""
        names = tuple(ids[i] for i in self.others)
        parties = self.type.form.takes_parties
        label = "+".join(names)
        return Event(
            id=f"{actor}-{self.type.name}-{label}-{when.isoformat()}" + (f"-{tag}" if tag else ""),
            date=when,
            type=self.type,
            actor=actor,
            target=None if parties else names[0],
            parties=names if parties else (),
            intensity=1.0,
            cite=None,
            note=note,
            source=Position(f"decided by {actor}"),
        )

    def label(self, ids: tuple[str, ...]) -> str:
        return f"{self.type.name} {'+'.join(ids[i] for i in self.others)}"


def needs_consent(kind: EventType) -> bool:
    """Cooperative meetings, mediations and joint acts need every party to agree."""
    return kind.goldstein > 0 and kind.form in (Form.MEETING, Form.MEDIATION, Form.SYMMETRIC)


RECIPROCAL_ROOTS = ("04", "06", "07")
"""CAMEO roots of directed acts the target takes part in: consult (04), engage in material
cooperation (06), provide aid (07)."""


def needs_the_other_side(kind: EventType) -> bool:
    """Cooperative acts the other side must take part in, so that reciprocity applies: those
    needing consent, and cooperative directed acts whose CAMEO root is 04, 06 or 07 (a call, a
    visit, hosting one, cooperation, aid)."""
    directed = kind.form is Form.DIRECTED and kind.cameo[:2] in RECIPROCAL_ROOTS
    return needs_consent(kind) or (kind.goldstein > 0 and directed)


def reciprocated(R: np.ndarray, actor: int, others: tuple[int, ...]) -> np.ndarray:
    """Reciprocity: where every other side regards the actor at 0 or above, R[k, o, actor] >= 0
    for each o in `others` (the target, the parties of a meeting, the parties judging their
    mediator); R of shape (K, N, N), scores in [-1, 1]. Bool, shape (K,)."""
    return np.asarray((R[:, list(others), actor] >= 0).all(axis=1))


def refusal_type(kind: EventType) -> EventType:
    """How a refusal is logged: 'reject_mediation' (CAMEO 126) or 'reject_proposal' (125)."""
    return named_types()["reject_mediation" if kind.form is Form.MEDIATION else "reject_proposal"]


POLICIES: dict[str, type[Policy]] = {}
"""Every policy kind, by the name a scenario file gives it (``policy: {kind: NAME}``)."""


class Policy(ABC):
    """How an actor chooses its own events each step.

    A kind of policy is one subclass: it sets ``name`` (registering it in ``POLICIES``) and
    ``classifier``, and implements ``decide``. Every policy is made from the actor's
    ``PolicySpec`` and the event types the scenario knows, and set up once the actor knows its
    index (``setup``).
    """

    name: ClassVar[str]
    classifier: ClassVar[dict[str, object]] = {"acts": False, "stochastic": False}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        POLICIES[cls.name] = cls

    def __init__(self, spec: PolicySpec, types: dict[str, EventType]) -> None:
        self.spec = spec

    def setup(self, actor: Agent) -> None:  # noqa: B027 (most kinds need no set-up)
        """Prepare for deciding, once the actor knows its index and the model its size."""

    @abstractmethod
    def decide(self, actor: Agent) -> list[Applied]:
        """Apply the actor's own events this step (after the scripted ones, before decay) and
        return their records."""


class Scripted(Policy):
    """Does nothing of its own: the actor only acts when the scenario file says so."""

    name = "scripted"

    def decide(self, actor: Agent) -> list[Applied]:
        return []


class Reactive(Policy):
    """One-step look-ahead on the actor's interests (see the module docstring).

    Each step, up to ``max_actions`` times: every candidate (repertoire type x target or party
    pair) gets utility = discomfort now - discomfort after it - its cost; candidates in cooldown
    are left out; the best (temperature 0) or a softmax draw (temperature > 0) is taken if its
    utility exceeds the threshold. Reciprocity: a cooperative act that needs the other side
    (``needs_the_other_side``) is open only in the members where every other side regards the
    actor at 0 or above; elsewhere it is left out, as a candidate in cooldown is. Actions needing
    consent happen only where no party with interests loses from them (an indifferent party
    consents); each refusing party's refusal is logged and applied.
    """

    name = "reactive"
    classifier: ClassVar[dict[str, object]] = {"acts": True, "stochastic": "when temperature > 0"}

    def __init__(self, spec: PolicySpec, types: dict[str, EventType]) -> None:
        super().__init__(spec, types)
        self.types = [types[name] for name in (spec.repertoire or REACTIVE_REPERTOIRE)]
        self.candidates: list[Candidate] = []
        self.last_used: dict[str, np.ndarray] = {}

    def setup(self, actor: Agent) -> None:
        """Enumerate the candidates once the actor knows its index and the model its size."""
        others = [i for i in range(len(actor.model.spec.actor_ids)) if i != actor.index]
        for kind in self.types:
            cost = self.spec.costs.get(kind.name, self.spec.cost) or 0.0
            targets: list[tuple[int, ...]] = (
                list(combinations(others, 2))
                if kind.form is Form.MEDIATION
                else [(o,) for o in others]
            )
            self.candidates += [Candidate(kind, t, float(cost)) for t in targets]

    def _blocked(self, actor: Agent) -> np.ndarray:
        """Candidates in cooldown, per member: bool (K, C)."""
        model = actor.model
        today = model.decision_date.toordinal()
        blocked = np.zeros((model.members, len(self.candidates)), dtype=bool)
        for c, cand in enumerate(self.candidates):
            last = self.last_used.get(cand.type.name)
            if last is not None:
                blocked[:, c] = today - last < self.spec.cooldown.days
        return blocked

    def closed(self, actor: Agent) -> np.ndarray:
        """Candidates the other side closes by reciprocity, per member: bool (K, C); none if
        the policy's ``reciprocity`` is off."""
        model = actor.model
        closed = np.zeros((model.members, len(self.candidates)), dtype=bool)
        if not self.spec.reciprocity:
            return closed
        for c, cand in enumerate(self.candidates):
            if needs_the_other_side(cand.type):
                closed[:, c] = ~reciprocated(model.R, actor.index, cand.others)
        return closed

    def utilities(self, actor: Agent) -> np.ndarray:
        """Utility of every candidate for every member, shape (K, C): gain minus cost."""
        model = actor.model
        R = model.R
        values = actor.stakes.values(R)
        now = actor.stakes.of_values(values)
        out = np.empty((R.shape[0], len(self.candidates)))
        for c, cand in enumerate(self.candidates):
            act = model.act(cand.type.form, actor.index, cand.others, cand.type.goldstein / 10)
            # only the scores the actor cares about: exact, and cheap
            changes = dynamics.changes_of(
                model.state, act, model.coefficients, actor.stakes.only, rules=model.rules
            )
            out[:, c] = now - actor.stakes.discomfort_after(values, changes) - cand.cost
        return out

    def choose(
        self, utilities: np.ndarray, rngs: list[np.random.Generator], active: np.ndarray
    ) -> np.ndarray:
        """The chosen candidate per member, or -1 where none clears the threshold (and in the
        members not `active`). Above temperature 0 each active member draws from its own
        generator, so what a member does never depends on the other members."""
        k, count = utilities.shape
        if self.spec.temperature > 0:
            finite = np.isfinite(utilities)
            top = np.where(
                finite.any(axis=1), np.where(finite, utilities, -np.inf).max(axis=1), 0.0
            )
            weights = np.where(
                finite, np.exp((utilities - top[:, None]) / self.spec.temperature), 0.0
            )
            total = weights.sum(axis=1, keepdims=True)
            p = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
            draws = np.array([rngs[m].random() if active[m] else 0.0 for m in range(k)])[:, None]
            chosen = np.minimum((p.cumsum(axis=1) < draws).sum(axis=1), count - 1)
        else:
            chosen = utilities.argmax(axis=1)
        best = utilities[np.arange(k), chosen]
        return np.where(active & (best > self.spec.threshold), chosen, -1)

    def decide(self, actor: Agent) -> list[Applied]:
        if not actor.stakes or not self.candidates:
            return []
        model = actor.model
        decisions: list[Applied] = []
        active = np.ones(model.members, dtype=bool)  # a member that passes stops for the step
        for round_ in range(self.spec.max_actions):
            utilities = self.utilities(actor)
            utilities[self._blocked(actor) | self.closed(actor)] = -np.inf
            chosen = self.choose(utilities, model.member_rngs, active)
            active &= chosen >= 0
            if not active.any():
                break
            for c in np.unique(chosen[chosen >= 0]).tolist():
                order = (1, model.turn, round_, c)
                decisions += self._act(actor, self.candidates[c], chosen == c, utilities, order)
        return decisions

    def _alternatives(self, actor: Agent, utilities: np.ndarray, members: np.ndarray, c: int):
        """The three best other candidates (label, utility) for the first of `members`: the same
        member whatever the batch, so the log does not depend on batching."""
        first = int(np.flatnonzero(members)[0])
        row = utilities[first]
        order = [int(i) for i in np.argsort(-row, kind="stable") if i != c and np.isfinite(row[i])]
        ids = actor.model.spec.actor_ids
        return [(self.candidates[i].label(ids), float(row[i])) for i in order[:3]]

    def _act(
        self,
        actor: Agent,
        cand: Candidate,
        members: np.ndarray,
        utilities: np.ndarray,
        order: tuple[int, ...],
    ) -> list[Applied]:
        """Carry out one chosen candidate in the members that chose it (asking for consent)."""
        model = actor.model
        ids = model.spec.actor_ids
        c = order[-1]
        self.last_used.setdefault(cand.type.name, np.full(model.members, -np.inf))
        self.last_used[cand.type.name][members] = model.decision_date.toordinal()
        utility = utilities[:, c]
        event = cand.event(actor.actor_id, ids, model.decision_date, "decided")
        if not needs_consent(cand.type):
            alternatives = self._alternatives(actor, utilities, members, c)
            return [model.apply(event, "decided", members, utility, alternatives, order=order)]
        act = model.act(cand.type.form, actor.index, cand.others, cand.type.goldstein / 10)
        changes = dynamics.changes_of(model.state, act, model.coefficients, rules=model.rules)
        agree = members.copy()
        refusals: list[tuple[Agent, np.ndarray]] = []
        for i in cand.others:
            party = model.actor_at(i)
            if not party.stakes:
                continue  # nothing to judge by: no objection
            values = party.stakes.values(model.R)
            gains = party.stakes.of_values(values) - party.stakes.discomfort_after(values, changes)
            refuses = members & (gains < 0)  # indifference (a gain of exactly 0) consents
            if refuses.any():
                refusals.append((party, refuses))
            agree &= gains >= 0
        out = []
        if agree.any():  # the alternatives of the first member where it happened
            alternatives = self._alternatives(actor, utilities, agree, c)
            out.append(model.apply(event, "decided", agree, utility, alternatives, order=order))
        for party, refuses in refusals:
            note = f"refuses {cand.label(ids)} proposed by {actor.actor_id}"
            refusal = Candidate(refusal_type(cand.type), (actor.index,), 0.0).event(
                party.actor_id, ids, model.decision_date, note, tag=f"of-{cand.type.name}"
            )
            out.append(model.apply(refusal, "refused", refuses, order=(*order, party.index)))
        return out


def make_policy(spec: PolicySpec, types: dict[str, EventType]) -> Policy:
    """The policy a scenario file asks for (``spec.kind``, a key of ``POLICIES``)."""
    return POLICIES[spec.kind](spec, types)
