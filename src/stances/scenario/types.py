"""The validated scenario and its parts, as the engine reads them (no YAML, no pydantic here
except the ``Parameters`` a scenario carries)."""

from __future__ import annotations

import copy
import datetime
import hashlib
import html
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError

from stances.catalogue import EventType, Form
from stances.distributions import Distribution
from stances.errors import Position, Problem, ScenarioError, suggest
from stances.scenario.models import Parameters, PolicySpec, TimeSpec
from stances.scenario.observations import Observation
from stances.scenario.validation import message_of
from stances.timegrid import step_dates


@dataclass(frozen=True)
class Event:
    """One dated event, resolved: its type, who acts on whom, how strongly, and its source.

    until: the last day a lasting event lasts (None: a one-off; equal to `date`: a one-off
    too). span_days: with `for:`, its length in whole days, its first day included, so that
    until = date + span_days - 1 day in every member (also when the date is drawn); None when
    the file gives `until:` (or neither).
    """

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
    until: datetime.date | None = None  # `date` is the field above here
    span_days: int | None = None
    label: str | None = None  # a short name for figures (default: the id)

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
    """An uncertain 'date', 'until' or 'intensity' of the event at `index` in
    ``Scenario.events``."""

    field: Literal["date", "until", "intensity"]
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
    observations: tuple[Observation, ...] = ()

    def __repr__(self) -> str:
        """One line: title, file, actors, window and step, and how many events, uncertain
        values, deciding actors and observations it holds."""
        counts = [f"{len(self.events)} events"]
        if self.uncertain:
            counts.append(f"{len(self.uncertain)} uncertain values")
        deciding = sum(p.kind != "scripted" for p in self.policies.values())
        if deciding:
            counts.append(f"{deciding} deciding actors")
        if self.observations:
            counts.append(f"{len(self.observations)} observations")
        return (
            f"<Scenario {self.title!r} ({self.path.name}): {' '.join(self.actor_ids)}; "
            f"{self.time.start} to {self.time.end} by {self.time.step}; {', '.join(counts)}>"
        )

    def _repr_html_(self) -> str:
        """A notebook's display: the one-line repr, the actors with their names and the events
        in date order (date, label, who acts on whom, type with its CAMEO code and Goldstein
        weight, until when for a lasting one)."""
        actors = ", ".join(
            f"<b>{html.escape(a)}</b> {html.escape(name)}" for a, name in self.actors.items()
        )
        rows = "".join(
            f"<tr><td>{e.date}</td><td>{html.escape(e.label or e.id)}</td>"
            f"<td>{html.escape(e.who)}</td><td>{html.escape(e.type.name.replace('_', ' '))} "
            f"(CAMEO {html.escape(e.type.cameo)}, {e.type.goldstein:+g})</td>"
            f"<td>{e.until if e.until and e.until != e.date else ''}</td></tr>"
            for e in sorted(self.events, key=lambda e: e.date)
        )
        return (
            f"<div><code>{html.escape(repr(self))}</code><br>{actors}"
            "<table><thead><tr><th>date</th><th>event</th><th>who</th><th>type</th>"
            f"<th>until</th></tr></thead><tbody>{rows}</tbody></table></div>"
        )

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

    def with_parameters(self, caller: str = "with_parameters", /, **overrides: Any) -> Scenario:
        """The same scenario with some parameters changed, each checked as a file's would be.

        An override is what a file's ``parameters:`` may hold: a value (``kappa_observer=0.2``,
        ``memory_half_life="52 weeks"``) or a distribution (``{"uniform": [0.1, 0.2]}``) each
        member draws from; a value replaces a distribution the scenario had, and the other
        parameters keep theirs. `caller` names the call in messages. Raises ParameterError, one
        line per bad override: ``caller(name=...): message``.
        """
        try:
            checked = Parameters.model_validate(overrides)
        except ValidationError as exc:
            raise ParameterError(_override_problems(caller, exc)) from None
        values = {name: getattr(checked, name) for name in overrides}
        parameters = self.parameters.model_copy(update=values)
        resolved = copy.deepcopy(self.resolved)
        resolved.setdefault("parameters", {}).update(dict(overrides))
        return replace(
            self,
            parameters=parameters,
            resolved=resolved,
            uncertain=_with_drawn_parameters(self.uncertain, parameters),
        )


class ParameterError(ScenarioError, ValueError):
    """Bad keyword arguments (overrides of a scenario's parameters, a model's options): one
    problem per keyword, placed at ``caller(name=...)`` since there is no file position."""


def keyword_problem(caller: str, name: str, message: str) -> Problem:
    """The problem with keyword `name` of a call: ``caller(name=...): message``."""
    return Problem(Position(f"{caller}({name}=...)"), "", message)


def _override_problems(caller: str, exc: ValidationError) -> list[Problem]:
    """Each override's problem in the words of the file loader (an unknown name is an
    'unknown parameter' here: a keyword, not a key of a file)."""
    problems = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "..."
        if err["type"] == "extra_forbidden":
            message = f"unknown parameter '{name}'" + suggest(name, Parameters.model_fields)
        else:
            message = message_of(err)
        problems.append(keyword_problem(caller, name, message))
    return problems


def _with_drawn_parameters(
    uncertain: tuple[Uncertain, ...], parameters: Parameters
) -> tuple[Uncertain, ...]:
    """The uncertain values with the parameters' ones made again from `parameters`: first,
    in field order, as the loader lists them (so the members draw what they would from a file
    with these parameters), then every other uncertain value as it was."""
    drawn = tuple(
        Uncertain(ParameterValue(name), value, f"parameters.{name}")
        for name, value in parameters
        if isinstance(value, Distribution)
    )
    return drawn + tuple(u for u in uncertain if not isinstance(u.target, ParameterValue))
