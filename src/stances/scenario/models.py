"""The file format: one pydantic model per mapping a scenario file may hold.

These models validate files (``builder``) and generate the JSON Schema (``schema``); positions
come from the ``Doc``, not from here. Every default of the dynamics lives in ``Parameters``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal, get_args

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

from stances.catalogue import Form, cameo_table
from stances.distributions import KINDS, date_number, parse_distribution
from stances.errors import suggest
from stances.scenario.validation import message_of
from stances.timegrid import STEP_PATTERN, StepSpec, parse_step

_DURATION_UNITS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12, "year": 365.25}


class Duration(str):
    """A length of time as written ("26 weeks"); ``.days`` is its length in days.

    Months are 365.25/12 days and years 365.25 days. It is a str, so it prints and serialises
    as written.
    """

    days: float

    def __new__(cls, text: str, days: float) -> Duration:
        obj = super().__new__(cls, text)
        obj.days = days
        return obj

    def __getnewargs__(self) -> tuple[str, float]:  # for copy and pickle
        return str(self), self.days


DURATION_PATTERN = r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(day|week|month|year)s?\s*$"


def parse_duration(value: Any) -> Duration:
    """'26 weeks', '182 days', '6 months', '1 year' -> Duration; ValueError otherwise."""
    if isinstance(value, Duration):
        return value
    match = re.fullmatch(DURATION_PATTERN, str(value))
    if isinstance(value, bool) or not isinstance(value, str) or not match:
        raise ValueError(
            f"expected a duration such as '26 weeks' (units: days, weeks, months, years), got {value!r}"
        )
    days = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if days <= 0:
        raise ValueError(f"a duration must be longer than zero, got {value!r}")
    return Duration(value.strip(), days)


def _iso_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"{value} is not a date: {exc}") from None


def _cameo_code(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML reads 0871 as the number 871: the zeros are gone, so offer the codes it could be
        codes = [c for c in cameo_table() if c.lstrip("0") == str(value)] or [f"{value:03d}"]
        shown = " or ".join(f'"{c}"' for c in codes)
        raise ValueError(f"write CAMEO codes as quoted text, e.g. {shown}: leading zeros matter")
    if not isinstance(value, str):
        raise ValueError(f"expected a CAMEO code as quoted text, got {value!r}")
    if value not in cameo_table():
        raise ValueError(
            f"'{value}' is not a CAMEO code in the table" + suggest(value, cameo_table())
        )
    return value


IsoDate = Annotated[
    date, BeforeValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})
]
DurationField = Annotated[
    Duration,
    BeforeValidator(parse_duration),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["26 weeks"]}),
]
StepField = Annotated[
    StepSpec,
    BeforeValidator(parse_step),
    WithJsonSchema({"type": "string", "pattern": STEP_PATTERN, "examples": ["week", "2 weeks"]}),
]
CameoCode = Annotated[
    str,
    BeforeValidator(_cameo_code),
    WithJsonSchema({"type": "string", "enum": list(cameo_table())}),
]
Score = Annotated[float, Field(strict=True, ge=-1.0, le=1.0)]
Share = Annotated[float, Field(strict=True, ge=0.0, le=1.0)]
Text = Annotated[str, Field(strict=True)]

_DIST_SCHEMA = {
    "type": "object",
    "description": "{normal: [mean, sd]}, {uniform: [lo, hi]} or {choice: [...]}: each member draws its own",
    "minProperties": 1,
    "maxProperties": 1,
    "properties": {kind: {"type": "array", "minItems": 1} for kind in KINDS},
    "additionalProperties": False,
}


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def _uncertain(base: Any, lo: float, hi: float, unit: str, parse_one: Any, schema: dict) -> Any:
    """A field that takes a plain value (checked as `base`) or a distribution whose draws, if
    it is bounded, all lie in [lo, hi] (a normal's draws are clipped to [lo, hi])."""
    adapter = TypeAdapter(base, config=ConfigDict(arbitrary_types_allowed=True))

    def check(value: Any) -> Any:
        if isinstance(value, dict):
            dist = parse_distribution(value, parse_one, unit)
            a, b = dist.support
            if dist.kind != "normal" and (a < lo or b > hi):
                raise ValueError(
                    f"every value a draw can take must lie in [{lo:g}, {hi:g}], got {value!r}"
                )
            return dist
        try:
            return adapter.validate_python(value)
        except ValidationError as exc:
            raise ValueError(message_of(exc.errors()[0])) from None

    return Annotated[Any, BeforeValidator(check), WithJsonSchema({"anyOf": [schema, _DIST_SCHEMA]})]


UncertainScore = _uncertain(
    Score, -1.0, 1.0, "number", _number, {"type": "number", "minimum": -1, "maximum": 1}
)
UncertainShare = _uncertain(
    Share, 0.0, 1.0, "number", _number, {"type": "number", "minimum": 0, "maximum": 1}
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class TimeSpec(_Strict):
    """The window simulated: from start to end (inclusive), in steps of a day, week or month."""

    start: IsoDate
    end: IsoDate
    step: StepField = parse_step("week")


NonNegative = Annotated[float, Field(strict=True, ge=0.0)]


class InterestSpec(_Strict):
    """What an actor wants of one dyad (or of the difference of two), and how much it cares.

    want: the desired score (or difference of scores), in [-1, 1] (differences in [-2, 2]).
    weight: how much this interest counts (>= 0, dimensionless).
    side: 'exact' (any gap hurts), 'at_least' (only falling short hurts), 'at_most'.
    why: the reason or the source, in words.
    """

    want: Annotated[float, Field(strict=True, ge=-2.0, le=2.0)]
    weight: NonNegative = 1.0
    side: Literal["exact", "at_least", "at_most"] = "exact"
    why: Text | None = None


PolicyKind = Literal["scripted", "reactive"]
POLICY_KINDS: tuple[str, ...] = get_args(PolicyKind)
"""The policy kinds a file may name; each is one class of ``engine.policies.POLICIES`` (a test
checks that the two lists agree)."""


class PolicySpec(_Strict):
    """How an actor decides its own events (see docs/model.md, "Actors that decide").

    kind: 'scripted' (only the file's events) or 'reactive' (one-step look-ahead).
    repertoire: the event types it may choose from (default: REACTIVE_REPERTOIRE).
    cost: cost of any action, in discomfort units (score squared); costs: per type.
    threshold: acts only when the best utility (gain minus cost) exceeds this.
    cooldown: how long before the same type can be used again.
    temperature: 0 picks the best action; above 0, a softmax draw over utilities / temperature.
    max_actions: at most this many actions per step.
    """

    kind: PolicyKind = "reactive"
    repertoire: list[Text] | None = None
    cost: NonNegative = 0.05
    costs: dict[str, NonNegative] = Field(default_factory=dict)
    threshold: Annotated[float, Field(strict=True)] = 0.0
    cooldown: DurationField = parse_duration("4 weeks")
    temperature: NonNegative = 0.0
    max_actions: Annotated[int, Field(strict=True, ge=0)] = 1


def _policy_shorthand(value: Any) -> Any:
    """`policy: reactive` is short for `policy: {kind: reactive}`."""
    return {"kind": value} if isinstance(value, str) else value


# Event types a reactive actor may choose from when its file gives no repertoire.
REACTIVE_REPERTOIRE = ("phone_call", "host_visit", "condemn", "mediate")


class ActorSpec(_Strict):
    """An actor: display name, note, interests and policy (default: scripted)."""

    name: Text
    note: Text | None = None
    interests: dict[str, InterestSpec] = Field(default_factory=dict)
    policy: Annotated[PolicySpec, BeforeValidator(_policy_shorthand)] = PolicySpec(kind="scripted")


UncertainDuration = _uncertain(
    DurationField,
    1.0,
    np.inf,
    "days",
    lambda v: parse_duration(v).days,
    {"type": "string", "pattern": DURATION_PATTERN, "examples": ["26 weeks"]},
)
UncertainNoise = _uncertain(
    Annotated[float, Field(strict=True, ge=0.0, le=1.0)],
    0.0,
    1.0,
    "number",
    _number,
    {"type": "number", "minimum": 0, "maximum": 1},
)
UncertainIntensity = _uncertain(
    Annotated[float, Field(strict=True, ge=0.0, le=10.0)],
    0.0,
    10.0,
    "number",
    _number,
    {"type": "number", "minimum": 0, "maximum": 10},
)
UncertainDate = _uncertain(
    IsoDate,
    1.0,
    np.inf,
    "date",
    lambda v: date_number(_iso_date(v)),
    {"type": "string", "format": "date"},
)


class Parameters(_Strict):
    """Every constant of the dynamics, with its default. Coefficients are dimensionless, in [0, 1].

    memory_half_life: how long until half of any departure from the baseline has faded.
    kappa_target: share of an event's strength by which the target's view of the actor moves.
    kappa_actor: share by which the actor's view of the target moves.
    kappa_observer: share by which a third party's view of the actor moves, signed by how it
        regards the target (helping my friend is good, helping my enemy bad).
    kappa_parties: share by which parties to a meeting or mediation move toward each other.
    kappa_credit: share by which the parties to a mediation credit the mediator.
    """

    memory_half_life: UncertainDuration = Field(
        parse_duration("26 weeks"),
        description="Time for half of any departure from the baseline to fade, e.g. '26 weeks'.",
    )
    kappa_target: UncertainShare = Field(
        0.5,
        description="Share of an event's strength by which the target's view of the actor moves.",
    )
    kappa_actor: UncertainShare = Field(
        0.25,
        description="Share of an event's strength by which the actor's view of the target moves.",
    )
    kappa_observer: UncertainShare = Field(
        0.15,
        description="Share by which a third party's view of the actor moves, times the third "
        "party's view of the target (helping my friend is good, helping my enemy bad).",
    )
    kappa_parties: UncertainShare = Field(
        0.4,
        description="Share by which the parties to a meeting or mediation move toward each other.",
    )
    kappa_credit: UncertainShare = Field(
        0.3, description="Share by which the parties to a mediation credit the mediator."
    )
    balance_rate: UncertainShare = Field(
        0.0,
        description="Structural-balance drift per step: R += rate * (1 - R^2) * sum_k R[i,k] R[k,j] "
        "(Kułakowski et al. 2005); 0 = off.",
    )
    homophily: UncertainShare = Field(
        0.0,
        description="Per step, scores move toward friendship between actors whose issue positions "
        "agree and toward enmity where they differ (rate homophily * (1 - 2 * mean gap)); 0 = off.",
    )
    entrenchment: Annotated[bool, Field(strict=True)] = Field(
        False,
        description="true: each score is the bounded image tanh(a) of a latent affinity a that "
        "events move by adding their rate and memory decays, so extremes are sticky both ways; "
        "false: a move takes a share of the room left to -1 or +1 on the score itself.",
    )
    observers: Literal["plain", "relative"] = Field(
        "plain",
        description="relative: a third party weighs an act by the share of its concern that lies "
        "with the one acted on, and judges cooperation only by the friendship it expresses; "
        "plain: by its view of the one acted on alone.",
    )
    baseline_half_life: UncertainDuration | None = Field(
        None,
        description="Time for half of any lasting departure from the baseline to become the new "
        "baseline (a slow second memory); null: the baseline never moves.",
    )
    noise: UncertainNoise = Field(
        0.0,
        description="Each step every score moves at random: R <- tanh(artanh(R) + noise * e), "
        "e standard normal; near 0 the move's standard deviation is about noise. 0 = no noise.",
    )


class EventTypeSpec(_Strict):
    """A scenario's own event type: a CAMEO code (weight from the table) and/or its own weight."""

    cameo: CameoCode | None = None
    goldstein: Annotated[float, Field(strict=True, ge=-10.0, le=10.0)] | None = None
    form: Form = Form.DIRECTED
    description: Text = ""


class StanceShiftSpec(_Strict):
    """An event's direct effect on a position: `actor` (default: the event's actor) moves by
    `by` on `issue` (positions stay in [0, 1])."""

    issue: Text
    actor: Text | None = None
    by: Annotated[float, Field(strict=True, ge=-1.0, le=1.0)]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


class EventSpec(_Strict):
    """One dated event as written in a file."""

    id: Text
    date: UncertainDate
    type: Text | None = None
    cameo: CameoCode | None = None
    form: Form | None = None
    actor: Text
    target: Text | None = None
    parties: list[Text] | None = None
    intensity: UncertainIntensity = 1.0
    stance_shift: Annotated[list[StanceShiftSpec], BeforeValidator(_one_or_many)] | None = None
    cite: Text | None = None
    note: Text | None = None


class PositionSpec(_Strict):
    """One actor on one issue: its position `at` in [0, 1], how open it is to influence
    (`susceptibility` in [0, 1]), how much it weighs with others (`capability` >= 0), and why."""

    at: Share
    susceptibility: Share = 0.5
    capability: NonNegative = 1.0
    why: Text | None = None


class IssueSpec(_Strict):
    """An issue: what 0 and 1 mean, and the position of each actor taking part."""

    description: Text
    positions: dict[str, PositionSpec]


# section -> (type of the whole section or of each entry, required, validated entry by entry)
SECTIONS: dict[str, tuple[Any, bool, bool]] = {
    "title": (Text, True, False),
    "description": (Text | None, False, False),
    "time": (TimeSpec, True, False),
    "seed": (Annotated[int, Field(strict=True, ge=0)], False, False),
    "actors": (ActorSpec, True, True),
    "relations": (UncertainScore, False, True),
    "baseline": (UncertainScore, False, True),
    "parameters": (Parameters, False, False),
    "event_types": (EventTypeSpec, False, True),
    "issues": (IssueSpec, False, True),
    "events": (EventSpec, False, False),
}
