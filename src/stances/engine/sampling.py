"""Ensemble members: their random generators and the values each draws for itself.

Member k of a run with root seed r has the generator ``default_rng(SeedSequence(r, spawn_key=(k,)))``:
it depends on r and k only, so a member gives the same trajectory whatever the size of its batch,
the number of workers, or whether it runs alone. Each member first draws its uncertain values
(in the order the scenario lists them), then its actors' random choices step by step, from that
generator. A design (``scenario.design``) gives members chosen values instead: a value it sets
is not drawn at all (as if ``--set`` had fixed it), and the member draws the others as it
would from the file with that value fixed. Its noise comes from a second generator of its own, seeded by the first child of the
same seed (``spawn_key=(k, 0)``), so that the noise can be drawn many steps at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stances.distributions import Distribution
from stances.scenario.design import Design
from stances.scenario.models import Parameters
from stances.scenario.types import ParameterValue, Scenario, ScoreValue

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
    values: label -> (K,) every designed and drawn value, for the record (designed ones
    first, under their column's key).
    """

    initial: np.ndarray
    baseline: np.ndarray
    parameters: dict[str, np.ndarray]
    intensity: np.ndarray
    day: np.ndarray
    last_day: np.ndarray
    values: dict[str, np.ndarray]


def draw(spec: Scenario, rngs: list[np.random.Generator], design: Design | None = None) -> Draws:
    """Every member's values: the scenario's own, with each uncertain one drawn per member,
    and those the design sets (one row per member, len(rngs) rows) taken from it."""
    k = len(rngs)
    uncertain = [u for u in spec.uncertain if design is None or not design.covers(u.target)]
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
    values = {u.label: np.empty(k) for u in uncertain}
    for m, rng in enumerate(rngs):
        for u in uncertain:
            values[u.label][m] = u.distribution.draw(rng)
    start, end = spec.time.start.toordinal(), spec.time.end.toordinal()
    untils: dict[int, np.ndarray] = {}
    for u in uncertain:
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
            untils[target.index] = values[u.label] = np.round(values[u.label])
    if design is not None:
        baseline_fixed = baseline_fixed.copy()
        designed = _apply_design(design, parameters, initial, baseline, intensity, day, untils)
        baseline_fixed |= designed
        values = {**{c.key: c.values for c in design.columns}, **values}
    # an unset baseline pair is the member's own initial score
    baseline = np.where(baseline_fixed[None], baseline, initial)
    return Draws(
        initial, baseline, parameters, intensity, day, _last_days(spec, day, untils), values
    )


def _apply_design(
    design: Design,
    parameters: dict[str, np.ndarray],
    initial: np.ndarray,
    baseline: np.ndarray,
    intensity: np.ndarray,
    day: np.ndarray,
    untils: dict[int, np.ndarray],
) -> np.ndarray:
    """Write the design's values (checked by ``parse_design``) into the members' arrays, in
    place; returns the baseline cells it sets (bool (N, N))."""
    fixed = np.zeros(initial.shape[1:], dtype=bool)
    for column in design.columns:
        target, v = column.target, column.values.astype(float)
        if isinstance(target, ParameterValue):
            parameters[target.name] = v
        elif isinstance(target, ScoreValue):
            scores = initial if target.section == "relations" else baseline
            for i, j in target.cells:
                scores[:, i, j] = v
                fixed[i, j] |= target.section == "baseline"
        elif target.field == "intensity":
            intensity[target.index] = v
        elif target.field == "date":
            day[target.index] = v
        else:
            untils[target.index] = v
    return fixed


def _last_days(spec: Scenario, day: np.ndarray, drawn: dict[int, np.ndarray]) -> np.ndarray:
    """The last day each event lasts in each member, (E, K) ordinals: its date plus its
    `for:` (its first day counted), its `until:` (as drawn or designed, if so), or its date."""
    last = day.copy()
    for e, event in enumerate(spec.events):
        if event.span_days is not None:
            last[e] = day[e] + event.span_days - 1
        elif e in drawn:
            last[e] = drawn[e]
        elif event.until is not None:
            last[e] = event.until.toordinal()
    return np.maximum(last, day)
