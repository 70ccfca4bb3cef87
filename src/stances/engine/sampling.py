"""Ensemble members: their random generators and the values each draws for itself.

Member k of a run with root seed r has the generator ``default_rng(SeedSequence(r, spawn_key=(k,)))``:
it depends on r and k only, so a member gives the same trajectory whatever the size of its batch,
the number of workers, or whether it runs alone. Each member first draws its uncertain values
(in the order the scenario lists them), then its actors' random choices step by step, from that
generator. Its noise comes from a second generator of its own, seeded by the first child of the
same seed (``spawn_key=(k, 0)``), so that the noise can be drawn many steps at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stances.distributions import Distribution
from stances.scenario.models import Parameters
from stances.scenario.types import EventValue, ParameterValue, Scenario, ScoreValue

# the range each kind of uncertain value is clipped to
PARAMETER_RANGE = {
    "memory_half_life": (1.0, np.inf),
    "baseline_half_life": (1.0, np.inf),
    "noise": (0.0, 1.0),
}
# the parameters every member holds a number of: all but those naming which form a rule takes
RULE_FORMS = ("entrenchment", "observers")
NUMERIC = tuple(name for name in Parameters.model_fields if name not in RULE_FORMS)


def _number(value: object) -> float:
    """A parameter as a number: a duration in days, 'never' (None) as infinitely long."""
    if value is None:
        return np.inf
    days = getattr(value, "days", None)
    return float(days if days is not None else value)  # type: ignore[arg-type]


KAPPA_RANGE = (0.0, 1.0)


def member_seed(root: int, member: int) -> np.random.SeedSequence:
    """The seed of member `member` of a run with root seed `root`."""
    return np.random.SeedSequence(root, spawn_key=(member,))


def member_rngs(root: int, members: np.ndarray) -> list[np.random.Generator]:
    """The generators of the given members (indices in the run), one each, in order."""
    return [np.random.default_rng(member_seed(root, int(k))) for k in members]


def noise_rngs(root: int, members: np.ndarray) -> list[np.random.Generator]:
    """The noise generators of the given members (indices in the run): each seeded by the first
    child of the member's seed, ``SeedSequence(root, spawn_key=(k, 0))``."""
    return [
        np.random.default_rng(np.random.SeedSequence(root, spawn_key=(int(k), 0))) for k in members
    ]


@dataclass
class Draws:
    """What each of K members starts from.

    initial, baseline: (K, N, N) scores; parameters: name -> value per member (K,) (memory
    half-life in days); intensity: (E, K) per event; day: (E, K) event dates as ordinals;
    last_day: (E, K) the last day each event lasts, as ordinals (its own day for a one-off);
    values: label -> (K,) every drawn value, for the record.
    """

    initial: np.ndarray
    baseline: np.ndarray
    parameters: dict[str, np.ndarray]
    intensity: np.ndarray
    day: np.ndarray
    last_day: np.ndarray
    values: dict[str, np.ndarray]


def draw(spec: Scenario, rngs: list[np.random.Generator]) -> Draws:
    """Every member's values: the scenario's own, with each uncertain one drawn per member."""
    k = len(rngs)
    p = spec.parameters
    parameters = {
        name: np.full(k, _number(value), dtype=float)
        for name, value in p
        if name in NUMERIC and not isinstance(value, Distribution)
    }
    initial = np.repeat(spec.initial[None], k, axis=0).astype(float)
    baseline_fixed = (
        spec.baseline_set
        if spec.baseline_set is not None
        else np.zeros_like(spec.initial, dtype=bool)
    )
    baseline = np.repeat(spec.baseline[None], k, axis=0).astype(float)
    intensity = np.array([[e.intensity] * k for e in spec.events], dtype=float).reshape(
        len(spec.events), k
    )
    day = np.array([[e.date.toordinal()] * k for e in spec.events], dtype=float).reshape(
        len(spec.events), k
    )
    values = {u.label: np.empty(k) for u in spec.uncertain}
    for m, rng in enumerate(rngs):
        for u in spec.uncertain:
            values[u.label][m] = u.distribution.draw(rng)
    start, end = spec.time.start.toordinal(), spec.time.end.toordinal()
    for u in spec.uncertain:
        target = u.target
        if isinstance(target, ParameterValue):
            v = values[u.label] = np.clip(
                values[u.label], *PARAMETER_RANGE.get(target.name, KAPPA_RANGE)
            )
            parameters[target.name] = v
        elif isinstance(target, ScoreValue):
            v = values[u.label] = np.clip(values[u.label], -1.0, 1.0)
            scores = initial if target.section == "relations" else baseline
            for i, j in target.cells:
                scores[:, i, j] = v
        elif target.field == "intensity":
            intensity[target.index] = values[u.label] = np.clip(values[u.label], 0.0, 10.0)
        elif target.field == "date":
            day[target.index] = values[u.label] = np.clip(np.round(values[u.label]), start, end)
        else:  # until: its every value is on or after every date (the loader checks)
            values[u.label] = np.round(values[u.label])
    # an unset baseline pair is the member's own initial score
    baseline = np.where(baseline_fixed[None], baseline, initial)
    return Draws(
        initial, baseline, parameters, intensity, day, _last_days(spec, day, values), values
    )


def _last_days(spec: Scenario, day: np.ndarray, values: dict[str, np.ndarray]) -> np.ndarray:
    """The last day each event lasts in each member, (E, K) ordinals: its date plus its
    `for:` (its first day counted), its `until:` (as drawn, if drawn), or its date."""
    last = day.copy()
    drawn = {
        u.target.index: values[u.label]
        for u in spec.uncertain
        if isinstance(u.target, EventValue) and u.target.field == "until"
    }
    for e, event in enumerate(spec.events):
        if event.span_days is not None:
            last[e] = day[e] + event.span_days - 1
        elif e in drawn:
            last[e] = drawn[e]
        elif event.until is not None:
            last[e] = event.until.toordinal()
    return np.maximum(last, day)
