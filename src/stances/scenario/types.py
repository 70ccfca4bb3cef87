"""The validated scenario and its parts, as the engine reads them (no YAML, no pydantic here
except the ``Parameters`` a scenario carries)."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError

from stances.catalogue import EventType, Form
from stances.distributions import Distribution
from stances.errors import Position
from stances.scenario.models import Parameters, PolicySpec, TimeSpec
from stances.timegrid import step_dates


@dataclass(frozen=True)
class Event:
    """One dated event, resolved: its type, who acts on whom, how strongly, and its source."""

    id: str
    date: date
    type: EventType
    actor: str
    target: str | None
    parties: tuple[str, ...]
    intensity: float
    cite: str | None
    note: str | None
    source: Position
    stance_shifts: tuple[tuple[str, str, float], ...] = ()

    @property
    def others(self) -> tuple[str, ...]:
        """The target, or the parties: everyone acted on."""
        return (self.target,) if self.target else self.parties

    @property
    def strength(self) -> float:
        """s = intensity * goldstein / 10, in [-10, 10] (usually [-1, 1])."""
        return self.intensity * self.type.goldstein / 10.0

    @property
    def who(self) -> str:
        """'PAK -> AFG', 'CHN: PAK + AFG' (a mediation), 'IND + AFG' (a meeting)."""
        if self.type.form is Form.MEDIATION:
            return f"{self.actor}: {' + '.join(self.parties)}"
        if self.type.form is Form.MEETING:
            return " + ".join((self.actor, *self.parties))
        arrow = " <-> " if self.type.form is Form.SYMMETRIC else " -> "
        return f"{self.actor}{arrow}{self.target}"


@dataclass(frozen=True)
class Issue:
    """An issue actors hold positions on, in [0, 1]; arrays are indexed like the actors.

    takes_part: bool (N,); position: (N,) (0 where not taking part); susceptibility: (N,) in
    [0, 1], how far an actor moves toward those it regards well (0: never); capability: (N,)
    >= 0, how much its position weighs with others.
    """

    name: str
    description: str
    takes_part: np.ndarray
    position: np.ndarray
    susceptibility: np.ndarray
    capability: np.ndarray


@dataclass(frozen=True)
class ParameterValue:
    """An uncertain parameter: `name` is a key of ``Parameters``."""

    name: str


@dataclass(frozen=True)
class ScoreValue:
    """An uncertain initial (`section` 'relations') or baseline ('baseline') score, for the
    cells (i, j) it sets (two for 'A <-> B', which take the same draw)."""

    section: Literal["relations", "baseline"]
    cells: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class EventValue:
    """An uncertain 'date' or 'intensity' of the event at `index` in ``Scenario.events``."""

    field: Literal["date", "intensity"]
    index: int


Target = ParameterValue | ScoreValue | EventValue


@dataclass(frozen=True)
class Uncertain:
    """A value each ensemble member draws for itself: what it sets, from which distribution,
    and `label`, the key as a user writes it (``parameters.kappa_observer``)."""

    target: Target
    distribution: Distribution
    label: str


@dataclass(frozen=True)
class Interest:
    """One interest of an actor: the score `plus` (minus the score `minus`, if any) should be
    near `want` (side 'exact'), at least `want` ('at_least') or at most `want` ('at_most')."""

    key: str
    plus: tuple[str, str]
    minus: tuple[str, str] | None
    want: float
    weight: float
    side: str
    why: str | None


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: actors, initial and baseline scores, parameters and events.

    initial and baseline are (N, N) arrays in [-1, 1]; ``[i, j]`` is how actor i regards actor j.
    """

    title: str
    description: str | None
    path: Path
    files: tuple[Path, ...]
    seed: int
    time: TimeSpec
    actors: dict[str, str]
    initial: np.ndarray
    baseline: np.ndarray
    parameters: Parameters
    event_types: dict[str, EventType]
    events: tuple[Event, ...]
    resolved: dict[str, Any]
    interests: dict[str, tuple[Interest, ...]] = field(default_factory=dict)
    policies: dict[str, PolicySpec] = field(default_factory=dict)
    uncertain: tuple[Uncertain, ...] = ()
    baseline_set: np.ndarray | None = None
    issues: dict[str, Issue] = field(default_factory=dict)

    @property
    def actor_ids(self) -> tuple[str, ...]:
        """Actor ids in file order; index i of every array is actor_ids[i]."""
        return tuple(self.actors)

    def index(self, actor: str) -> int:
        """The array index of an actor id."""
        return self.actor_ids.index(actor)

    def step_dates(self) -> list[date]:
        """Step boundaries t_0 = start < t_1 < ... < t_K, with t_K the first after end."""
        return step_dates(self.time.start, self.time.end, self.time.step)

    def input_hash(self) -> str:
        """sha256 over the bytes of every file this scenario was read from."""
        digest = hashlib.sha256()
        for path in self.files:
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def with_parameters(self, **overrides: Any) -> Scenario:
        """The same scenario with some parameters changed (validated; ValueError if wrong)."""
        merged = {**dict(self.parameters), **overrides}
        try:
            parameters = Parameters.model_validate(merged)
        except ValidationError as exc:
            raise ValueError(str(exc)) from None
        resolved = copy.deepcopy(self.resolved)
        resolved.setdefault("parameters", {}).update(dict(overrides))
        return replace(self, parameters=parameters, resolved=resolved)
