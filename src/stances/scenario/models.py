"""The file format: one pydantic model per mapping a scenario file may hold.

These models validate files (``builder``) and generate the JSON Schema (``schema``); positions
come from the ``Doc``, not from here. Every default of the dynamics lives in ``Parameters``.

Longer than the project's ~600 lines: it is the whole file format, one model per mapping,
and the JSON Schema is generated from it, so it stays in one place.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Annotated, Any, Literal, get_args

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    create_model,
)

from stances.catalogue import Form, cameo_table, named_types
from stances.distributions import KINDS, date_number, parse_distribution
from stances.errors import shown, suggest
from stances.scenario.keys import MERGED_SECTIONS, SETTABLE_WHOLE
from stances.scenario.validation import message_of
from stances.timegrid import STEP_PATTERN, StepSpec, parse_step

_DURATION_UNITS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12, "year": 365.25}

# The limits of the format (docs/format.md, "Limits of values"). Numbers of no natural scale (interest
# weights, costs, thresholds, temperatures, capabilities) are bounded by SCALE_MAX so that the
# event log's exact totals (engine.log.fixed_total: below 2**31 in all) hold for over a million
# members: a logged utility is at most 16 x an actor's summed weights <= 1600 in size.
LONGEST_DURATION_DAYS = 1000 * 365.25
"""A duration is at most 1000 years."""
MAX_STEPS = 10_000
"""A time window holds at most this many steps."""
SCALE_MAX = 100.0
"""Bound of an actor's summed interest weights, of costs, |threshold|, temperature, capability."""
MAX_ACTIONS = 100
"""Bound of a policy's max_actions (actions per step)."""


class Duration(str):
    """A length of time as written ("26 weeks"); ``.days`` is its length in days.

    Months are 365.25/12 days and years 365.25 days. It is a str, so it prints and serialises
    as written (a plain number of weeks prints as "52 weeks").
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
    """'26 weeks', '182 days', '6 months', '1 year', or a plain number of weeks (52) -> Duration,
    longer than zero and at most LONGEST_DURATION_DAYS; ValueError otherwise."""
    if isinstance(value, Duration):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            text, days = f"{value:g} weeks", float(value) * _DURATION_UNITS["week"]
        except OverflowError:  # an integer too large for a float
            text, days = str(value), math.inf
    else:
        match = re.fullmatch(DURATION_PATTERN, value) if isinstance(value, str) else None
        if not match:
            raise ValueError(
                "expected a duration such as '26 weeks' or a number of weeks "
                f"(units: days, weeks, months, years), got {shown(value)}"
            )
        text, days = value.strip(), float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if math.isnan(days) or days <= 0:
        raise ValueError(f"a duration must be longer than zero, got {shown(value)}")
    if days > LONGEST_DURATION_DAYS:
        raise ValueError(f"a duration must be at most 1000 years, got {shown(value)}")
    return Duration(text, days)


def _iso_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError(f"expected a date as YYYY-MM-DD, got {shown(value)}")
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"{value} is not a date: {exc}") from None


def _cameo_code(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML reads 0871 as the number 871: the zeros are gone, so offer the codes it could be
        codes = [c for c in cameo_table() if c.lstrip("0") == str(value)] or [f"{value:03d}"]
        shown_codes = " or ".join(f'"{c}"' for c in codes[:4])
        raise ValueError(
            f"write CAMEO codes as quoted text, e.g. {shown_codes}: leading zeros matter"
        )
    if not isinstance(value, str):
        raise ValueError(f"expected a CAMEO code as quoted text, got {shown(value)}")
    if value not in cameo_table():
        raise ValueError(
            f"{shown(value)} is not a CAMEO code in the table" + suggest(value, cameo_table())
        )
    return value


class _Alternative:
    """Schema marker: the value may also be written in a short form (`policy: reactive`), or,
    with `one_or_list`, as one item instead of a list (`stance_shift: {...}`); the JSON Schema
    then offers both. Validation is unchanged (a BeforeValidator turns the short form into the
    long one)."""

    def __init__(self, short: dict[str, Any] | None = None, *, one_or_list: bool = False):
        self.short, self.one_or_list = short, one_or_list

    def __get_pydantic_json_schema__(self, core: Any, handler: GetJsonSchemaHandler) -> Any:
        schema = handler(core)
        short = schema["items"] if self.one_or_list else self.short
        return {"anyOf": [short, schema]}


class _ClosedKeys:
    """Schema marker: a mapping holds only keys that match its key pattern (the JSON Schema's
    patternProperties, and no other keys)."""

    def __get_pydantic_json_schema__(self, core: Any, handler: GetJsonSchemaHandler) -> Any:
        return {**handler(core), "additionalProperties": False}


def keyed(pattern: re.Pattern[str], value: Any) -> Any:
    """A mapping whose keys match `pattern`. The loader checks the keys itself (with messages in
    this format's words); the JSON Schema states the pattern."""
    key = Annotated[str, WithJsonSchema({"type": "string", "pattern": f"^(?:{pattern.pattern})$"})]
    return Annotated[dict[key, value], _ClosedKeys()]


def finite(lo: float, hi: float) -> Any:
    """A finite number in [lo, hi] (a whole number is taken as a float; NaN, inf refused)."""
    return Annotated[float, Field(strict=True, ge=lo, le=hi, allow_inf_nan=False)]


ACTOR_ID = re.compile(r"[A-Z][A-Z0-9_]{0,15}")
EVENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
RELATION_KEY = re.compile(r"\s*(\S+)\s*(<->|->)\s*(\S+)\s*")
INTEREST_KEY = re.compile(r"\s*(\S+)\s*(<->|->)\s*(\S+)\s*(?:\s-\s*(\S+)\s*->\s*(\S+)\s*)?")

IsoDate = Annotated[
    date, BeforeValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})
]
DurationField = Annotated[
    Duration,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN, "examples": ["26 weeks"]},
                {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "maximum": LONGEST_DURATION_DAYS / 7,
                    "description": "weeks",
                },
            ]
        }
    ),
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
Text = Annotated[str, Field(strict=True)]
ActorRef = Annotated[
    str, Field(strict=True), WithJsonSchema({"type": "string", "pattern": f"^{ACTOR_ID.pattern}$"})
]
EventId = Annotated[
    str, Field(strict=True), WithJsonSchema({"type": "string", "pattern": f"^{EVENT_ID.pattern}$"})
]
EventTypeName = Annotated[
    str,
    Field(strict=True),
    WithJsonSchema(
        {
            "anyOf": [{"enum": sorted(named_types())}, {"type": "string"}],
            "description": "A named type (`stances events`) or one defined under event_types:",
        }
    ),
]
Score = finite(-1.0, 1.0)
Share = finite(0.0, 1.0)
Scaled = finite(0.0, SCALE_MAX)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {shown(value)}")
    return float(value)


def _distribution_schema(one: dict[str, Any], unit: str) -> dict[str, Any]:
    """The JSON Schema of a distribution over values of schema `one`."""
    spread = {"type": "number", "minimum": 0} if unit == "number" else one
    kinds = {
        "normal": {"type": "array", "prefixItems": [one, spread], "minItems": 2, "maxItems": 2},
        "uniform": {"type": "array", "items": one, "minItems": 2, "maxItems": 2},
        "choice": {"type": "array", "items": one, "minItems": 1},
    }
    return {
        "type": "object",
        "description": "{normal: [mean, sd]}, {uniform: [lo, hi]} or {choice: [...]}: each member draws its own",
        "minProperties": 1,
        "maxProperties": 1,
        "properties": {k: kinds[k] for k in KINDS if not (k == "normal" and unit == "date")},
        "additionalProperties": False,
    }


def _uncertain(base: Any, lo: float, hi: float, span: str, unit: str, parse_one: Any) -> Any:
    """A field that takes a plain value (checked as `base`) or a distribution: a uniform's or a
    choice's values, and a normal's mean, lie in [lo, hi] (`span`, in words); a normal's draws
    are clipped to [lo, hi]."""
    adapter = TypeAdapter(base, config=ConfigDict(arbitrary_types_allowed=True))

    def check(value: Any) -> Any:
        if isinstance(value, dict):
            dist = parse_distribution(value, parse_one, unit)
            a, b = (dist.args[0],) * 2 if dist.kind == "normal" else dist.support
            if a < lo or b > hi:
                what = "the mean" if dist.kind == "normal" else "every value a draw can take"
                raise ValueError(f"{what} must lie in {span}, got {shown(value)}")
            return dist
        try:
            return adapter.validate_python(value)
        except ValidationError as exc:
            raise ValueError(message_of(exc.errors()[0])) from None

    one = adapter.json_schema()
    schema = {"anyOf": [one, _distribution_schema(one, unit)]}
    return Annotated[Any, BeforeValidator(check), WithJsonSchema(schema)]


UncertainScore = _uncertain(Score, -1.0, 1.0, "[-1, 1]", "number", _number)
UncertainShare = _uncertain(Share, 0.0, 1.0, "[0, 1]", "number", _number)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class TimeSpec(_Strict):
    """The window simulated: from start to end (inclusive), in steps of a day, week or month
    (at most MAX_STEPS steps, all ending by 9999-12-31: the builder checks)."""

    start: IsoDate
    end: IsoDate
    step: StepField = parse_step("week")


class InterestSpec(_Strict):
    """What an actor wants of one dyad (or of the difference of two), and how much it cares.

    want: the desired score (or difference of scores), in [-1, 1] (differences in [-2, 2]).
    weight: how much this interest counts (>= 0, dimensionless; an actor's weights add up to
        at most SCALE_MAX, which the builder checks).
    side: 'exact' (any gap hurts), 'at_least' (only falling short hurts), 'at_most'.
    why: the reason or the source, in words.
    """

    want: finite(-2.0, 2.0)
    weight: Scaled = 1.0
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
    cost: cost of any action, in discomfort units (score squared), in [0, SCALE_MAX]; costs:
        per type.
    threshold: acts only when the best utility (gain minus cost) exceeds this, in
        [-SCALE_MAX, SCALE_MAX].
    cooldown: how long before the same type can be used again.
    temperature: 0 picks the best action; above 0 (up to SCALE_MAX), a softmax draw over
        utilities / temperature.
    max_actions: at most this many actions per step (0 to MAX_ACTIONS).
    reciprocity: true (the default): a cooperative act that needs the other side is open only
        where every other side regards the actor at 0 or above (docs/model.md, "Reciprocity");
        false: every candidate is open.
    """

    kind: PolicyKind = "reactive"
    repertoire: list[EventTypeName] | None = None
    cost: Scaled = 0.05
    costs: dict[str, Scaled] = Field(default_factory=dict)
    threshold: finite(-SCALE_MAX, SCALE_MAX) = 0.0
    cooldown: DurationField = parse_duration("4 weeks")
    temperature: Scaled = 0.0
    max_actions: Annotated[int, Field(strict=True, ge=0, le=MAX_ACTIONS)] = 1
    reciprocity: Annotated[bool, Field(strict=True)] = True


def policy_shorthand(value: Any) -> Any:
    """`policy: reactive` is short for `policy: {kind: reactive}`."""
    return {"kind": value} if isinstance(value, str) else value


def expand_shorthand(path: tuple[str | int, ...], value: Any) -> Any:
    """The mapping a short form at `path` stands for (`actors.X.policy: reactive` is
    `{kind: reactive}`), or `value` itself where there is no short form."""
    if len(path) == 3 and path[0] == "actors" and path[2] == "policy":
        return policy_shorthand(value)
    return value


# Event types a reactive actor may choose from when its file gives no repertoire.
REACTIVE_REPERTOIRE = ("phone_call", "host_visit", "condemn", "mediate")


class ActorSpec(_Strict):
    """An actor: display name, note, interests and policy (default: scripted)."""

    name: Text
    note: Text | None = None
    interests: keyed(INTEREST_KEY, InterestSpec) = Field(default_factory=dict)
    policy: Annotated[
        PolicySpec,
        BeforeValidator(policy_shorthand),
        _Alternative({"enum": list(POLICY_KINDS), "description": "short for {kind: ...}"}),
    ] = PolicySpec(kind="scripted")


UncertainDuration = _uncertain(
    DurationField,
    1.0,
    LONGEST_DURATION_DAYS,
    "[1 day, 1000 years]",
    "days",
    lambda v: parse_duration(v).days,
)
UncertainIntensity = _uncertain(finite(0.0, 10.0), 0.0, 10.0, "[0, 10]", "number", _number)
UncertainDate = _uncertain(
    IsoDate, 1.0, np.inf, "the calendar", "date", lambda v: date_number(_iso_date(v))
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
        description="Time for half of any departure from the baseline to fade, e.g. '26 weeks' "
        "(a plain number counts weeks).",
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
        True,
        description="true: each score is the bounded image tanh(a) of a latent affinity a that "
        "events move by adding their rate and memory decays, so extremes are sticky both ways; "
        "false: a move takes a share of the room left to -1 or +1 on the score itself.",
    )
    observers: Literal["plain", "relative"] = Field(
        "relative",
        description="relative: a third party weighs an act by the share of its concern that lies "
        "with the one acted on, and judges cooperation only by the friendship it expresses; "
        "plain: by its view of the one acted on alone.",
    )
    baseline_half_life: UncertainDuration | None = Field(
        parse_duration("104 weeks"),
        description="Time for half of any lasting departure from the baseline to become the new "
        "baseline (a slow second memory); null: the baseline never moves.",
    )
    noise: UncertainShare = Field(
        0.0,
        description="Each step every score moves at random: R <- tanh(artanh(R) + noise * e), "
        "e standard normal; near 0 the move's standard deviation is about noise. 0 = no noise.",
    )


class EventTypeSpec(_Strict):
    """A scenario's own event type: a CAMEO code (weight from the table) and/or its own weight."""

    cameo: CameoCode | None = None
    goldstein: finite(-10.0, 10.0) | None = None
    form: Form = Form.DIRECTED
    description: Text = ""


class StanceShiftSpec(_Strict):
    """An event's direct effect on a position: `actor` (default: the event's actor) moves by
    `by` on `issue` (positions stay in [0, 1])."""

    issue: Text
    actor: ActorRef | None = None
    by: finite(-1.0, 1.0)


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


class EventSpec(_Strict):
    """One dated event as written in a file. A lasting event also has `until` (the last day
    it lasts, on or after `date`) or `for` (how long it lasts, counting its first day): it
    presses every step until then (docs/model.md, "Lasting events")."""

    model_config = ConfigDict(
        **_Strict.model_config, json_schema_extra={"not": {"required": ["until", "for"]}}
    )

    id: EventId
    date: UncertainDate
    until: UncertainDate | None = Field(
        None,
        description="The last day a lasting event lasts (on or after its date; the same day: a "
        "one-off). Past the end of the time window it lasts to the end.",
    )
    for_: DurationField | None = Field(
        None,
        alias="for",
        description="How long a lasting event lasts, its first day included (e.g. '26 weeks'); "
        "instead of until.",
    )
    type: EventTypeName | None = None
    cameo: CameoCode | None = None
    form: Form | None = None
    actor: ActorRef
    target: ActorRef | None = None
    parties: list[ActorRef] | None = None
    intensity: UncertainIntensity = 1.0
    stance_shift: (
        Annotated[
            list[StanceShiftSpec], BeforeValidator(_one_or_many), _Alternative(one_or_list=True)
        ]
        | None
    ) = None
    cite: Text | None = None
    note: Text | None = None
    label: Text | None = Field(
        None,
        description="A short name for figures and reports, e.g. 'Paktika airstrike' "
        "(default: the id).",
    )


class PositionSpec(_Strict):
    """One actor on one issue: its position `at` in [0, 1], how open it is to influence
    (`susceptibility` in [0, 1]), how much it weighs with others (`capability` in
    [0, SCALE_MAX]), and why."""

    at: Share
    susceptibility: Share = 0.5
    capability: Scaled = 1.0
    why: Text | None = None


class IssueSpec(_Strict):
    """An issue: what 0 and 1 mean, and the position of each actor taking part."""

    description: Text
    positions: keyed(ACTOR_ID, PositionSpec)


class ScoreAt(_Strict):
    """A score's level at a date, as a reference: {score: IND -> AFG, at: 2021-08-15}."""

    score: Text
    at: IsoDate


def _number_or_reference(value: Any) -> Any:
    """A plain number stays a float; text is another score; a mapping a ScoreAt."""
    if isinstance(value, bool):
        raise ValueError(
            f"expected a number, a score such as 'A -> B', or {{score, at}}, got {value!r}"
        )
    if isinstance(value, int | float):
        return float(value)
    return value


Reference = Annotated[
    float | Text | ScoreAt,
    BeforeValidator(_number_or_reference),
    Field(description="a number, another score 'A -> B', or {score: 'A -> B', at: DATE}"),
]


class Window(_Strict):
    """A change over a period ({from, to}) or across an event ({across: EVENT_ID})."""

    across: Text | None = None
    from_: IsoDate | None = Field(None, alias="from")
    to: IsoDate | None = None


class ObservationSpec(_Strict):
    """One observation as written: exactly one of above, below, rises, falls, lowest_between,
    highest_between; `by` is the margin in score units; from/to the period a level holds over."""

    score: Text
    above: Reference | None = None
    below: Reference | None = None
    rises: Window | None = None
    falls: Window | None = None
    lowest_between: Annotated[list[IsoDate], Field(min_length=2, max_length=2)] | None = None
    highest_between: Annotated[list[IsoDate], Field(min_length=2, max_length=2)] | None = None
    by: Annotated[float, Field(strict=True, ge=0.0, le=2.0)] = 0.0
    from_: IsoDate | None = Field(None, alias="from")
    to: IsoDate | None = None
    cite: Text
    note: Text | None = None


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
    "observations": (ObservationSpec, False, True),
}

# The pattern of the keys of a section validated entry by entry (the builder checks them).
SECTION_KEYS = {"actors": ACTOR_ID, "relations": RELATION_KEY, "baseline": RELATION_KEY}

SECTION_DESCRIPTIONS = {
    "title": "What the scenario asks or shows, in words.",
    "time": "The window simulated: start, end and step.",
    "seed": "Seed of the run; a run is a pure function of file and seed.",
    "actors": "Actor id -> {name: ..., note: ..., interests: ..., policy: ...}; at least two.",
    "relations": "Initial scores in [-1, 1]: 'A -> B' (how A regards B) or 'A <-> B'.",
    "baseline": "Scores decay toward these; default: the initial relations.",
    "parameters": "Every constant of the dynamics.",
    "event_types": "The scenario's own event types.",
    "issues": "Issues actors hold positions on, in [0, 1].",
    "events": "Dated events.",
    "observations": "What is known to have happened to the scores, by id (stances check).",
    "extends": "Parent scenario file, relative to this file.",
    "remove": "Ids of inherited events to drop.",
    "add": "Events to add to the inherited ones.",
    "replace": "Fields to change in inherited events, by id (null removes a field).",
    "set": "Dotted keys into parameters, relations, baseline, time, actors, ...: values.",
}


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def partial(
    model: type[BaseModel], name: str, doc: str, *, nullable: bool, keep: tuple[str, ...] = ()
) -> type[BaseModel]:
    """`model` with every field optional except those in `keep` (and, with `nullable`, each
    of them may be null): what a what-if may write of it."""
    fields: dict[str, Any] = {}
    for field, info in model.model_fields.items():
        annotation = info.rebuild_annotation()
        if field in keep:
            fields[field] = (annotation, Field(description=info.description))
        else:
            optional = annotation | None if nullable else annotation
            extra = _no_default if info.is_required() or nullable else None
            default = None if info.is_required() or nullable else info.get_default()
            fields[field] = (
                optional,
                Field(
                    default, alias=info.alias, description=info.description, json_schema_extra=extra
                ),
            )
    return create_model(name, __base__=_Strict, __doc__=doc, **fields)


EventPatch = partial(
    EventSpec,
    "EventPatch",
    "A `replace:` entry: the id of an inherited event and the fields to change (null removes one).",
    nullable=True,
    keep=("id",),
)
TimePatch = partial(
    TimeSpec,
    "TimePatch",
    "The window simulated (start, end, step); a what-if's `time:` merges key by key.",
    nullable=False,
)

SET_KEY = re.compile(
    rf"(?:{'|'.join(SETTABLE_WHOLE)})|(?:{'|'.join(MERGED_SECTIONS)})\..+|events\..+\.[^.]+"
)


def _file_field(name: str, tp: Any, by_entry: bool) -> Any:
    """The type of section `name` in the file model: what the loader validates it as."""
    if name == "events":
        return list[tp]
    if name == "time":
        return TimePatch  # complete in a file without `extends:` (the model's schema says so)
    if by_entry:
        return keyed(SECTION_KEYS[name], tp) if name in SECTION_KEYS else dict[str, tp]
    return tp


def _whole_file(schema: dict[str, Any]) -> None:
    """A file without `extends:` has every required section, a complete time window and no
    what-if keys; a what-if (with `extends:`) has no `events:` (it adds them with `add:`)."""
    required = [name for name, (_, needed, _) in SECTIONS.items() if needed]
    what_if = {name: {"not": {}} for name in WHAT_IF_FIELDS if name != "extends"}
    time_required = [n for n, f in TimeSpec.model_fields.items() if f.is_required()]
    schema["if"] = {"not": {"required": ["extends"]}}
    schema["then"] = {
        "required": required,
        "properties": {"time": {"required": time_required}, **what_if},
    }
    schema["else"] = {"properties": {"events": {"not": {}}}}


WHAT_IF_FIELDS: dict[str, Any] = {
    "extends": Text,
    "remove": list[EventId],
    "add": list[EventSpec],
    "replace": list[EventPatch],
    "set": keyed(SET_KEY, Any),
}


class _WholeFile(_Strict):
    model_config = ConfigDict(**_Strict.model_config, json_schema_extra=_whole_file)


ScenarioFile = create_model(
    "ScenarioFile",
    __base__=_WholeFile,
    __doc__="A stances scenario file (YAML 1.2). A what-if names its parent with `extends:`.",
    **{
        name: (
            _file_field(name, tp, by_entry),
            Field(None, description=SECTION_DESCRIPTIONS.get(name), json_schema_extra=_no_default),
        )
        for name, (tp, _, by_entry) in SECTIONS.items()
    },
    **{
        name: (
            tp,
            Field(None, description=SECTION_DESCRIPTIONS[name], json_schema_extra=_no_default),
        )
        for name, tp in WHAT_IF_FIELDS.items()
    },
)
"""The whole file, built from SECTIONS (what the loader validates each section as) and the
what-if keys: the JSON Schema (``schema.json_schema``) is its schema, so it cannot drift from
the loader."""
