"""Scenario files: YAML 1.2 with positions, `extends` resolution, validation, the Scenario object.

Data flows one way: file(s) -> ``Doc`` (plain data + where each value stands) -> resolved ``Doc``
(``extends``, ``remove``, ``add``, ``replace``, ``set`` applied) -> validated ``Scenario``.
Every problem found on the way is collected and raised together as a ``ScenarioError``.
"""

from __future__ import annotations

import copy
import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

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
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from stances.catalogue import EventType, Form, cameo_table, cameo_type, named_types
from stances.distributions import KINDS, Distribution, date_number, number_date, parse_distribution
from stances.errors import Position, Problem, ScenarioError, suggest
from stances.timegrid import STEP_PATTERN, StepSpec, parse_step, step_dates

KeyPath = tuple[str | int, ...]

# --------------------------------------------------------------------------------------------
# YAML with positions


class _Constructor(RoundTripConstructor):
    """Round-trip constructor that keeps dates as text, so that we parse (and report) them."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_str)


def _yaml() -> YAML:
    y = YAML(typ="rt")  # ruamel.yaml reads YAML 1.2 by default: `NO` stays a string
    y.Constructor = _Constructor
    return y


@dataclass
class Doc:
    """Plain data read from YAML, with the position of every value and every mapping key."""

    data: dict[str, Any]
    values: dict[KeyPath, Position] = field(default_factory=dict)
    keys: dict[KeyPath, Position] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def position(self, path: KeyPath, *, key: bool = False) -> Position:
        """Where the value (or, with key=True, the key) at path stands; else its nearest parent."""
        if key and path in self.keys:
            return self.keys[path]
        for n in range(len(path), -1, -1):
            if path[:n] in self.values:
                return self.values[path[:n]]
        return Position(str(self.files[0]) if self.files else "<input>")

    def subtree(self, path: KeyPath) -> tuple[dict[KeyPath, Position], dict[KeyPath, Position]]:
        """The positions under path, keyed by the rest of their path."""
        n = len(path)
        return (
            {p[n:]: v for p, v in self.values.items() if p[:n] == path},
            {p[n:]: v for p, v in self.keys.items() if p[:n] == path},
        )

    def graft(self, path: KeyPath, positions: tuple[dict, dict]) -> None:
        """Replace the positions under path by the given subtree positions."""
        self.drop(path)
        values, keys = positions
        self.values.update({path + p: v for p, v in values.items()})
        self.keys.update({path + p: v for p, v in keys.items()})

    def drop(self, path: KeyPath) -> None:
        """Forget the positions under path."""
        n = len(path)
        self.values = {p: v for p, v in self.values.items() if p[:n] != path}
        self.keys = {p: v for p, v in self.keys.items() if p[:n] != path or p == path}
        self.keys.pop(path, None)


def _plain(node: Any, path: KeyPath, file: str, doc: Doc) -> Any:
    """Turn ruamel's node into plain Python, recording positions (1-based) in doc."""
    if isinstance(node, CommentedMap):
        out = {}
        for k in node:
            key = str(k)
            kl, kc = node.lc.key(k)
            # an empty value has no place of its own (ruamel gives the next token's): use the key's
            vl, vc = node.lc.value(k) if node[k] is not None else (kl, kc)
            doc.keys[(*path, key)] = Position(file, kl + 1, kc + 1)
            doc.values[(*path, key)] = Position(file, vl + 1, vc + 1)
            out[key] = _plain(node[k], (*path, key), file, doc)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, item in enumerate(node):
            il, ic = node.lc.item(i)
            doc.values[(*path, i)] = Position(file, il + 1, ic + 1)
            out_list.append(_plain(item, (*path, i), file, doc))
        return out_list
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def parse_yaml(text: str, file: str) -> Doc:
    """Read YAML text into a Doc whose positions name file; ScenarioError on bad YAML."""
    try:
        node = _yaml().load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = " ".join(s for s in (exc.context, exc.problem) if s)
        raise ScenarioError(
            [Problem(Position(file, line, col), "", f"not valid YAML: {what}")]
        ) from None
    except YAMLError as exc:
        raise ScenarioError([Problem(Position(file), "", f"not valid YAML: {exc}")]) from None
    doc = Doc(data={})
    if not isinstance(node, CommentedMap):
        got = (
            "an empty file"
            if node is None
            else "a list"
            if isinstance(node, CommentedSeq)
            else repr(node)
        )
        message = f"expected a mapping of keys (title:, time:, actors:, ...), got {got}"
        raise ScenarioError([Problem(Position(file, 1, 1), "", message)])
    doc.values[()] = Position(file, 1, 1)
    doc.data = _plain(node, (), file, doc)
    return doc


def read_yaml(path: Path) -> Doc:
    """Read one YAML file into a Doc; ScenarioError if it is missing or not valid YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem(Position(str(path)), "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            [Problem(Position(str(path)), "", f"cannot read the file: {exc}")]
        ) from None
    doc = parse_yaml(text, str(path))
    doc.files = [path]
    return doc


# --------------------------------------------------------------------------------------------
# extends / remove / add / replace / set

WHAT_IF_KEYS = ("extends", "remove", "add", "replace", "set")
MERGED_SECTIONS = ("time", "actors", "relations", "baseline", "parameters", "event_types", "issues")
SETTABLE = ("title", "description", "seed", *MERGED_SECTIONS)


def _where(doc: Doc, path: KeyPath) -> str:
    """A key path in words: events[paktika-strike].date, relations['CHN <-> PAK']."""
    out = ""
    node: Any = doc.data
    for part in path:
        if isinstance(part, int):
            ident = (
                node[part].get("id")
                if isinstance(node, list) and part < len(node) and isinstance(node[part], dict)
                else None
            )
            out += f"[{ident}]" if isinstance(ident, str) else f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}" if out else part
        else:
            out += f"['{part}']"
        node = (
            node.get(part)
            if isinstance(node, dict)
            else (
                node[part]
                if isinstance(node, list) and isinstance(part, int) and part < len(node)
                else None
            )
        )
    return out


def _problem(doc: Doc, path: KeyPath, message: str, *, key: bool = False) -> Problem:
    return Problem(doc.position(path, key=key), _where(doc, path), message)


def _event_index(doc: Doc) -> dict[str, int]:
    events = doc.data.get("events")
    if not isinstance(events, list):
        return {}
    return {
        e["id"]: i
        for i, e in enumerate(events)
        if isinstance(e, dict) and isinstance(e.get("id"), str)
    }


def resolve(
    path: Path | str,
    cli_sets: Mapping[str, str] | None = None,
    flags: Mapping[str, str] | None = None,
) -> Doc:
    """Read path and every file it extends, apply the what-if keys, then command-line sets."""
    doc = _resolve(Path(path), ())
    if cli_sets:
        _apply_cli_sets(doc, cli_sets, flags or {})
    return doc


def _resolve(path: Path, chain: tuple[Path, ...]) -> Doc:
    child = read_yaml(path)
    parent_ref = child.data.get("extends")
    if parent_ref is None:
        problems = [
            _problem(child, (k,), f"'{k}:' only makes sense in a file with 'extends:'", key=True)
            for k in WHAT_IF_KEYS[1:]
            if k in child.data
        ]
        if problems:
            raise ScenarioError(problems)
        return child
    if not isinstance(parent_ref, str):
        raise ScenarioError([_problem(child, ("extends",), "expected the path of a scenario file")])
    parent_path = path.parent / parent_ref
    here = path.resolve()
    if parent_path.resolve() in (*chain, here):
        names = " -> ".join(p.name for p in (*chain, here, parent_path.resolve()))
        raise ScenarioError([_problem(child, ("extends",), f"extends makes a cycle: {names}")])
    if not parent_path.is_file():
        raise ScenarioError(
            [
                _problem(
                    child,
                    ("extends",),
                    f"no such file: {parent_path} (paths are relative to this file)",
                )
            ]
        )
    parent = _resolve(parent_path, (*chain, here))
    return _merge(parent, child)


def _merge(parent: Doc, child: Doc) -> Doc:
    """The parent with the child's keys and what-if operations applied."""
    doc = Doc(
        copy.deepcopy(parent.data),
        dict(parent.values),
        dict(parent.keys),
        [*child.files, *parent.files],
    )
    problems: list[Problem] = []
    for key, value in child.data.items():
        if key in WHAT_IF_KEYS:
            continue
        if key == "events":
            problems.append(
                _problem(
                    child,
                    (key,),
                    "a file that extends another adds events with 'add:' (and drops them with 'remove:')",
                    key=True,
                )
            )
        elif (
            key in MERGED_SECTIONS
            and isinstance(value, dict)
            and isinstance(doc.data.get(key), dict)
        ):
            for sub, subvalue in value.items():
                doc.data[key].pop(sub, None)  # re-inserted last: later files apply after
                doc.data[key][sub] = subvalue
                doc.graft((key, sub), child.subtree((key, sub)))
                doc.keys[(key, sub)] = child.keys[(key, sub)]
        else:
            doc.data[key] = value
            doc.graft((key,), child.subtree((key,)))
            doc.keys[(key,)] = child.keys[(key,)]
    problems += _remove(doc, child)
    problems += _replace(doc, child)
    problems += _add(doc, child)
    problems += _apply_file_sets(doc, child)
    if problems:
        raise ScenarioError(problems)
    return doc


def _id_list(child: Doc, key: str) -> tuple[list[tuple[int, Any]], list[Problem]]:
    value = child.data.get(key)
    if value is None:
        return [], []
    if not isinstance(value, list):
        return [], [_problem(child, (key,), "expected a list")]
    return list(enumerate(value)), []


def _remove(doc: Doc, child: Doc) -> list[Problem]:
    items, problems = _id_list(child, "remove")
    seen: set[str] = set()
    for i, ident in items:
        index = _event_index(doc)
        if not isinstance(ident, str):
            problems.append(_problem(child, ("remove", i), "expected an event id"))
        elif ident in seen:
            problems.append(_problem(child, ("remove", i), f"'{ident}' is listed twice"))
        elif ident not in index:
            problems.append(
                _problem(
                    child,
                    ("remove", i),
                    f"no inherited event has id '{ident}'" + suggest(ident, index),
                )
            )
        else:
            seen.add(ident)
            _delete_event(doc, index[ident])
    return problems


def _delete_event(doc: Doc, i: int) -> None:
    events = doc.data["events"]
    later = [doc.subtree(("events", j)) for j in range(i + 1, len(events))]
    del events[i]
    for j in range(i, len(events) + 1):
        doc.drop(("events", j))
    for offset, positions in enumerate(later):
        doc.graft(("events", i + offset), positions)
        doc.values[("events", i + offset)] = positions[0].get((), doc.position(("events",)))


def _replace(doc: Doc, child: Doc) -> list[Problem]:
    items, problems = _id_list(child, "replace")
    for i, patch in items:
        index = _event_index(doc)
        ident = patch.get("id") if isinstance(patch, dict) else None
        if not isinstance(ident, str):
            problems.append(
                _problem(
                    child,
                    ("replace", i),
                    "expected a mapping with the 'id' of an inherited event and the fields to change",
                )
            )
            continue
        if ident not in index:
            problems.append(
                _problem(
                    child,
                    ("replace", i, "id"),
                    f"no inherited event has id '{ident}'" + suggest(ident, index),
                )
            )
            continue
        j = index[ident]
        # a problem with the patched event as a whole points at the patch the user wrote
        doc.values[("events", j)] = child.position(("replace", i))
        for key, value in patch.items():
            if key == "id":
                continue
            if value is None:
                doc.data["events"][j].pop(key, None)
                doc.drop(("events", j, key))
            else:
                doc.data["events"][j][key] = value
                doc.graft(("events", j, key), child.subtree(("replace", i, key)))
                doc.keys[("events", j, key)] = child.keys[("replace", i, key)]
    return problems


def _add(doc: Doc, child: Doc) -> list[Problem]:
    items, problems = _id_list(child, "add")
    events = doc.data.setdefault("events", [])
    for i, event in items:
        events.append(event)
        doc.graft(("events", len(events) - 1), child.subtree(("add", i)))
    return problems


def _set_path(doc: Doc, dotted: str) -> tuple[KeyPath | None, str]:
    """The key path a dotted `set:` key names, or None and the reason."""
    section, _, rest = dotted.partition(".")
    if section not in SETTABLE:
        return (
            None,
            f"cannot set '{dotted}': '{section}' is not a section that can be set"
            + suggest(section, SETTABLE),
        )
    if section in ("title", "description", "seed"):
        return ((section,), "") if not rest else (None, f"'{section}' has no keys inside it")
    if not rest:
        return None, f"say which key of '{section}' to set, e.g. '{section}.<key>'"
    if section in ("relations", "baseline"):
        return (section, rest), ""
    return (section, *rest.split(".")), ""


def _set_value(doc: Doc, path: KeyPath, value: Any) -> None:
    node = doc.data
    for part in path[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node
        if not isinstance(node, dict):
            return
    node.pop(path[-1], None)  # re-inserted last: a set applies after what it overrides
    node[path[-1]] = value


def _apply_file_sets(doc: Doc, child: Doc) -> list[Problem]:
    sets = child.data.get("set")
    if sets is None:
        return []
    if not isinstance(sets, dict):
        return [
            _problem(
                child,
                ("set",),
                "expected a mapping of dotted keys to values, e.g. parameters.memory_half_life: 52 weeks",
            )
        ]
    problems = []
    for dotted, value in sets.items():
        path, why = _set_path(doc, dotted)
        if path is None:
            problems.append(_problem(child, ("set", dotted), why, key=True))
            continue
        _set_value(doc, path, value)
        doc.graft(path, child.subtree(("set", dotted)))
        doc.keys[path] = child.keys[("set", dotted)]
    return problems


def parse_cli_set(text: str) -> tuple[str, str]:
    """Split 'KEY=VALUE' from the command line; ValueError with the reason if it is not."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(
            f"--set {text!r}: expected KEY=VALUE, e.g. --set parameters.memory_half_life='52 weeks'"
        )
    return key.strip(), value.strip()


def _apply_cli_sets(doc: Doc, sets: Mapping[str, str], flags: Mapping[str, str]) -> None:
    """Apply command-line KEY=VALUE overrides; a problem names the option it came from
    (`flags[KEY]`, default '--set')."""
    problems = []
    for dotted, text in sets.items():
        where = Position(f"{flags.get(dotted, '--set')} {dotted}")
        path, why = _set_path(doc, dotted)
        if path is None:
            problems.append(Problem(where, "", why))
            continue
        try:
            value = _yaml().load(io.StringIO(f"v: {text}"))["v"] if text else None
        except YAMLError as exc:
            problems.append(Problem(where, "", f"cannot read the value {text!r}: {exc}"))
            continue
        scratch = Doc({"v": None})
        _set_value(doc, path, _plain(value, ("v",), where.file, scratch))
        doc.drop(path)
        doc.values[path] = where
        doc.keys[path] = where
    if problems:
        raise ScenarioError(problems)


# --------------------------------------------------------------------------------------------
# The file format (pydantic models mirror the YAML; positions come from the Doc)

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
            raise ValueError(_message(exc.errors()[0])) from None

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

    kind: Literal["scripted", "reactive"] = "reactive"
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


def _fields_at(tp: Any, loc: Iterable[str | int]) -> list[str]:
    """The keys a mapping at loc (inside type tp) may hold, for suggestions."""
    for part in (*loc, None):
        while get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        if (
            get_origin(tp) in (Union, type(None) | int)
            or str(get_origin(tp)) == "<class 'types.UnionType'>"
        ):
            models = [a for a in get_args(tp) if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models[0] if models else tp
        if part is None:
            break
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            info = tp.model_fields.get(str(part))
            tp = info.annotation if info else None
        elif get_origin(tp) in (dict, list):
            tp = get_args(tp)[-1]
        else:
            return []
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _as_written(doc: Doc, loc: KeyPath) -> KeyPath:
    """The key path as it stands in the file: a `[0]` that validation added to a single value
    written where a list is also allowed (stance_shift: {...}) is dropped."""
    out: list[str | int] = []
    node: Any = doc.data
    for part in loc:
        if isinstance(part, int) and isinstance(node, dict):
            continue
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


def _declared(doc: Doc, section: str) -> set[str]:
    """Names a section of the file declares, valid or not (so a broken declaration is
    reported once, not again by everything that uses it)."""
    raw = doc.data.get(section)
    return set(raw) if isinstance(raw, dict) else set()


def _pydantic_problems(doc: Doc, prefix: KeyPath, tp: Any, exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = _as_written(doc, (*prefix, *err["loc"]))
        if err["type"] == "extra_forbidden":
            options = _fields_at(tp, err["loc"][:-1])
            problems.append(
                _problem(
                    doc, loc, f"unknown key '{loc[-1]}'" + suggest(str(loc[-1]), options), key=True
                )
            )
        elif err["type"] == "missing":
            problems.append(_problem(doc, loc[:-1], f"missing required key '{loc[-1]}'"))
        else:
            problems.append(_problem(doc, loc, _message(err)))
    return problems


def _message(err: dict[str, Any]) -> str:
    """pydantic's message, in the words of this format where they differ."""
    ctx, got = err.get("ctx") or {}, err.get("input")
    if err["type"] in ("less_than_equal", "greater_than_equal", "greater_than", "less_than"):
        bound = next(iter(ctx.values()))
        word = {
            "less_than_equal": "at most",
            "greater_than_equal": "at least",
            "greater_than": "more than",
            "less_than": "less than",
        }[err["type"]]
        return f"must be {word} {bound}, got {got}"
    if err["type"] in ("float_type", "int_type", "float_parsing", "int_parsing"):
        kind = "a whole number" if err["type"].startswith("int") else "a number"
        return f"expected {kind}, got {got!r}"
    if err["type"] == "string_type":
        return f"expected text, got {got!r}"
    if err["type"] in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping (key: value lines), got {got!r}"
    if err["type"] == "list_type":
        return f"expected a list, got {got!r}"
    if err["type"] == "enum":
        return f"expected one of {ctx.get('expected')}, got {got!r}"
    return str(err["msg"]).removeprefix("Value error, ")


def _validate(doc: Doc, path: KeyPath, tp: Any, value: Any, problems: list[Problem]) -> Any:
    """Validate value as tp; on failure record the problems and return None.

    A mapping with unknown keys is validated again without them, so that the checks that
    need the rest of it (actor ids, dates, types) still run and every problem shows at once.
    """
    try:
        return TypeAdapter(tp).validate_python(value)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(doc, path, tp, exc))
        unknown = {
            e["loc"][0]
            for e in exc.errors()
            if e["type"] == "extra_forbidden" and len(e["loc"]) == 1
        }
        if isinstance(value, dict) and unknown and len(unknown) == len(exc.errors()):
            try:
                return TypeAdapter(tp).validate_python(
                    {k: v for k, v in value.items() if k not in unknown}
                )
            except ValidationError:
                return None
        return None


def _validate_entries(doc: Doc, key: str, tp: Any, problems: list[Problem]) -> dict[str, Any]:
    """Validate a mapping section entry by entry; the valid entries, in file order."""
    raw = doc.data.get(key)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(_problem(doc, (key,), "expected a mapping"))
        return {}
    out = {}
    for name, value in raw.items():
        checked = _validate(doc, (key, name), tp, value, problems)
        if checked is not None:
            out[name] = checked
    return out


# --------------------------------------------------------------------------------------------
# The validated scenario


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
class Uncertain:
    """A value each ensemble member draws for itself.

    target: ('parameters', name), ('relations' | 'baseline', (i, j), ...), ('date', event index)
    or ('intensity', event index). label: the key as a user writes it.
    """

    target: tuple
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


ACTOR_ID = re.compile(r"[A-Z][A-Z0-9_]{0,15}")
EVENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
RELATION_KEY = re.compile(r"\s*(\S+)\s*(<->|->)\s*(\S+)\s*")


def load_scenario(
    path: Path | str,
    sets: Mapping[str, str] | None = None,
    flags: Mapping[str, str] | None = None,
) -> Scenario:
    """Read, resolve and validate a scenario file; ScenarioError lists every problem found.

    sets: extra 'dotted.key' -> 'value' overrides, as given with --set on the command line;
    flags: the option each of them came from, named in problems (default '--set').
    """
    doc = resolve(path, sets, flags)
    return build_scenario(doc, Path(path))


def build_scenario(doc: Doc, path: Path) -> Scenario:
    """Validate a resolved Doc and build the Scenario; ScenarioError lists every problem."""
    problems: list[Problem] = []
    data = doc.data
    for key in data:
        if key not in SECTIONS:
            problems.append(
                _problem(doc, (key,), f"unknown key '{key}'" + suggest(key, SECTIONS), key=True)
            )
    for key, (_, required, _) in SECTIONS.items():
        if required and key not in data:
            problems.append(Problem(doc.position(()), "", f"missing required key '{key}'"))
    parts = {
        key: _validate_entries(doc, key, tp, problems)
        if by_entry
        else _validate(doc, (key,), tp, data[key], problems)
        for key, (tp, _, by_entry) in SECTIONS.items()
        if key in data and key != "events"
    }
    actors = parts.get("actors") or {}
    raw_actors = data.get("actors") if isinstance(data.get("actors"), dict) else {}
    for ident in raw_actors:
        if not ACTOR_ID.fullmatch(ident):
            problems.append(
                _problem(
                    doc,
                    ("actors", ident),
                    f"actor id '{ident}' should be 1-16 upper-case letters, digits or _ starting with a letter, e.g. IND",
                    key=True,
                )
            )
    if isinstance(data.get("actors"), dict) and len(raw_actors) < 2:
        problems.append(_problem(doc, ("actors",), "a scenario needs at least two actors"))
    ids = list(raw_actors)
    time: TimeSpec | None = parts.get("time")
    if time is not None and time.end <= time.start:
        problems.append(
            _problem(doc, ("time", "end"), f"end {time.end} is not after start {time.start}")
        )
        time = None
    uncertain: list[Uncertain] = []
    parameters = parts.get("parameters") or Parameters()
    uncertain += [
        Uncertain(("parameters", name), value, f"parameters.{name}")
        for name, value in parameters
        if isinstance(value, Distribution)
    ]
    relations = parts.get("relations") or {}
    initial, _ = _relation_matrix(doc, "relations", relations, ids, None, problems, uncertain)
    baseline, baseline_set = _relation_matrix(
        doc, "baseline", parts.get("baseline") or {}, ids, initial, problems, uncertain
    )
    custom = _custom_types(doc, parts.get("event_types") or {}, problems)
    interests = {a: _interests(doc, a, spec, ids, problems) for a, spec in actors.items()}
    for a, spec in actors.items():
        _check_policy(doc, a, spec.policy, custom, problems)
    issues = _issues(doc, parts.get("issues") or {}, ids, problems)
    events = _events(doc, data.get("events", []), ids, custom, time, problems, uncertain, issues)
    if problems:
        raise ScenarioError(problems)
    return Scenario(
        title=parts["title"],
        description=parts.get("description"),
        path=path,
        files=tuple(dict.fromkeys(doc.files)),
        seed=parts.get("seed") or 0,
        time=time,
        actors={k: v.name for k, v in actors.items()},
        interests=interests,
        policies={k: v.policy for k, v in actors.items()},
        initial=initial,
        baseline=baseline,
        parameters=parameters,
        event_types=custom,
        events=tuple(events),
        resolved=data,
        uncertain=tuple(uncertain),
        baseline_set=baseline_set,
        issues=issues,
    )


def _relation_matrix(
    doc: Doc,
    section: str,
    values: dict[str, float],
    ids: list[str],
    default: np.ndarray | None,
    problems: list[Problem],
    uncertain: list[Uncertain],
) -> tuple[np.ndarray, np.ndarray]:
    """Scores keyed 'A -> B' or 'A <-> B' as an (N, N) array; unset pairs from default (or 0),
    and which pairs the section sets (bool (N, N)).

    An uncertain score enters the array at its centre and is added to `uncertain` (both
    directions of 'A <-> B' take the same draw).
    """
    n = len(ids)
    matrix = np.zeros((n, n)) if default is None else default.copy()
    explicit = np.zeros((n, n), dtype=bool)
    seen: dict[tuple[int, int], str] = {}
    for key, score in values.items():
        match = RELATION_KEY.fullmatch(key)
        if not match:
            problems.append(
                _problem(
                    doc,
                    (section, key),
                    f"'{key}' is not a relation: write 'A -> B' (how A regards B) or 'A <-> B' (both ways)",
                    key=True,
                )
            )
            continue
        a, arrow, b = match.groups()
        bad = [x for x in (a, b) if x not in ids]
        for x in bad:
            problems.append(
                _problem(doc, (section, key), f"unknown actor '{x}'" + suggest(x, ids), key=True)
            )
        if bad:
            continue
        if a == b:
            problems.append(
                _problem(
                    doc,
                    (section, key),
                    f"'{key}': an actor's view of itself is not modelled",
                    key=True,
                )
            )
            continue
        pairs = [(ids.index(a), ids.index(b))]
        if arrow == "<->":
            pairs.append((ids.index(b), ids.index(a)))
        here = doc.position((section, key), key=True).file
        for i, j in pairs:
            # within one file a pair set twice is a mistake; a later file (a what-if) overrides
            if (i, j) in seen and doc.position((section, seen[(i, j)]), key=True).file == here:
                problems.append(
                    _problem(
                        doc,
                        (section, key),
                        f"{ids[i]} -> {ids[j]} is already set by '{seen[(i, j)]}'",
                        key=True,
                    )
                )
            seen[(i, j)] = key
            matrix[i, j] = score.centre if isinstance(score, Distribution) else score
            explicit[i, j] = True
        if isinstance(score, Distribution):
            uncertain.append(Uncertain((section, *pairs), score, f"{section}.{key}"))
    return matrix, explicit


INTEREST_KEY = re.compile(r"\s*(\S+)\s*(<->|->)\s*(\S+)\s*(?:\s-\s*(\S+)\s*->\s*(\S+)\s*)?")


def _interests(
    doc: Doc, actor: str, spec: ActorSpec, ids: list[str], problems: list[Problem]
) -> tuple[Interest, ...]:
    """The actor's interests: 'A -> B', 'A <-> B' (both directions) or 'A -> B - C -> D'."""
    out = []
    for key, value in spec.interests.items():
        path = ("actors", actor, "interests", key)
        match = INTEREST_KEY.fullmatch(key)
        if not match or (match.group(2) == "<->" and match.group(4)):
            problems.append(
                _problem(
                    doc,
                    path,
                    f"'{key}' is not an interest: write 'A -> B', 'A <-> B' or 'A -> B - C -> D' (a difference)",
                    key=True,
                )
            )
            continue
        a, arrow, b, c, d = match.groups()
        names = [x for x in (a, b, c, d) if x is not None]
        unknown = [x for x in names if x not in ids]
        for x in unknown:
            problems.append(_problem(doc, path, f"unknown actor '{x}'" + suggest(x, ids), key=True))
        if unknown:
            continue
        if a == b or (c is not None and c == d):
            problems.append(
                _problem(doc, path, f"'{key}': an actor's view of itself is not modelled", key=True)
            )
            continue
        if c is None and not -1 <= value.want <= 1:
            problems.append(
                _problem(doc, (*path, "want"), f"a score is in [-1, 1], got {value.want}")
            )
            continue
        minus = (c, d) if c is not None else None
        dyads = [(a, b), (b, a)] if arrow == "<->" else [(a, b)]
        out += [
            Interest(key, dyad, minus, value.want, value.weight, value.side, value.why)
            for dyad in dyads
        ]
    return tuple(out)


def _check_policy(
    doc: Doc, actor: str, policy: PolicySpec, custom: dict[str, EventType], problems: list[Problem]
) -> None:
    known = {**named_types(), **custom}
    path = ("actors", actor, "policy")
    for k, name in enumerate(policy.repertoire or ()):
        if name not in known and name not in _declared(doc, "event_types"):
            problems.append(
                _problem(
                    doc,
                    (*path, "repertoire", k),
                    f"unknown event type '{name}'" + suggest(name, known),
                )
            )
    allowed = set(policy.repertoire or REACTIVE_REPERTOIRE)
    for name in policy.costs:
        if name not in allowed:
            problems.append(
                _problem(
                    doc,
                    (*path, "costs", name),
                    f"'{name}' is not in this actor's repertoire ({', '.join(sorted(allowed))})",
                    key=True,
                )
            )


def _custom_types(
    doc: Doc, specs: dict[str, EventTypeSpec], problems: list[Problem]
) -> dict[str, EventType]:
    out = {}
    for name, spec in specs.items():
        path = ("event_types", name)
        if name in named_types():
            problems.append(
                _problem(
                    doc,
                    path,
                    f"'{name}' is a built-in type; give your own type another name",
                    key=True,
                )
            )
            continue
        if spec.cameo is None and spec.goldstein is None:
            problems.append(
                _problem(
                    doc,
                    path,
                    "give a 'cameo:' code (its weight comes from the table) or a 'goldstein:' weight in [-10, 10], or both",
                )
            )
            continue
        weight = (
            spec.goldstein if spec.goldstein is not None else cameo_table()[spec.cameo].goldstein
        )
        description = spec.description or (
            cameo_table()[spec.cameo].description if spec.cameo else name
        )
        out[name] = EventType(name, spec.cameo or "", weight, spec.form, description)
    return out


def _date_range(value: date | Distribution) -> tuple[date, date]:
    if isinstance(value, Distribution):
        lo, hi = value.support
        return number_date(lo), number_date(hi)
    return value, value


def _events(
    doc: Doc,
    raw: Any,
    ids: list[str],
    custom: dict[str, EventType],
    time: TimeSpec | None,
    problems: list[Problem],
    uncertain: list[Uncertain],
    issues: dict[str, Issue],
) -> list[Event]:
    if not isinstance(raw, list):
        problems.append(_problem(doc, ("events",), "expected a list of events"))
        return []
    events, first_seen = [], {}
    for i, item in enumerate(raw):
        path = ("events", i)
        spec: EventSpec | None = _validate(doc, path, EventSpec, item, problems)
        if spec is None:
            continue
        found = len(problems)
        if not EVENT_ID.fullmatch(spec.id):
            problems.append(
                _problem(
                    doc,
                    (*path, "id"),
                    f"event id '{spec.id}' should be letters, digits, '-', '_' or '.', e.g. paktika-strike",
                )
            )
        if spec.id in first_seen:
            problems.append(
                _problem(
                    doc,
                    (*path, "id"),
                    f"duplicate event id '{spec.id}' (first used at {first_seen[spec.id]})",
                )
            )
        first_seen.setdefault(spec.id, doc.position((*path, "id")))
        kind = _event_type(doc, path, spec, custom, problems)
        _check_people(doc, path, spec, kind, ids, problems)
        shifts = _stance_shifts(doc, path, spec, kind, ids, issues, problems)
        first, last = _date_range(spec.date)
        if time is not None and not time.start <= first <= last <= time.end:
            shown = first if first == last else f"{first} to {last}"
            problems.append(
                _problem(
                    doc,
                    (*path, "date"),
                    f"{shown} is outside the time window {time.start} to {time.end}",
                )
            )
        if kind is None or len(problems) > found:
            continue
        for name in ("date", "intensity"):
            value = getattr(spec, name)
            if isinstance(value, Distribution):
                uncertain.append(Uncertain((name, len(events)), value, f"events[{spec.id}].{name}"))
        events.append(
            Event(
                id=spec.id,
                date=number_date(spec.date.centre)
                if isinstance(spec.date, Distribution)
                else spec.date,
                type=kind,
                actor=spec.actor,
                target=spec.target,
                parties=tuple(spec.parties or ()),
                intensity=spec.intensity.centre
                if isinstance(spec.intensity, Distribution)
                else spec.intensity,
                cite=spec.cite,
                note=spec.note,
                source=doc.position(path),
                stance_shifts=shifts,
            )
        )
    return events


def _issues(
    doc: Doc, specs: dict[str, IssueSpec], ids: list[str], problems: list[Problem]
) -> dict[str, Issue]:
    out = {}
    n = len(ids)
    for name, spec in specs.items():
        takes_part, position = np.zeros(n, dtype=bool), np.zeros(n)
        susceptibility, capability = np.zeros(n), np.ones(n)
        for actor, p in spec.positions.items():
            if actor not in ids:
                problems.append(
                    _problem(
                        doc,
                        ("issues", name, "positions", actor),
                        f"unknown actor '{actor}'" + suggest(actor, ids),
                        key=True,
                    )
                )
                continue
            i = ids.index(actor)
            takes_part[i], position[i] = True, p.at
            susceptibility[i], capability[i] = p.susceptibility, p.capability
        out[name] = Issue(name, spec.description, takes_part, position, susceptibility, capability)
    return out


RECOGNITION_ISSUE = "recognition"


def _stance_shifts(
    doc: Doc,
    path: KeyPath,
    spec: EventSpec,
    kind: EventType | None,
    ids: list[str],
    issues: dict[str, Issue],
    problems: list[Problem],
) -> tuple[tuple[str, str, float], ...]:
    """(issue, actor, by) for each stance_shift; granting recognition moves the granter to 1
    on an issue named 'recognition', unless the event says otherwise."""
    if spec.stance_shift is None:
        if kind is not None and kind.name == "grant_recognition" and RECOGNITION_ISSUE in issues:
            takes_part = (
                spec.actor in ids and issues[RECOGNITION_ISSUE].takes_part[ids.index(spec.actor)]
            )
            return ((RECOGNITION_ISSUE, spec.actor, 1.0),) if takes_part else ()
        return ()
    out = []
    for k, shift in enumerate(spec.stance_shift):
        where = (
            (*path, "stance_shift", k) if len(spec.stance_shift) > 1 else (*path, "stance_shift")
        )
        actor = shift.actor or spec.actor
        if shift.issue not in issues and shift.issue in _declared(doc, "issues"):
            continue  # its declaration is wrong, and says so
        if shift.issue not in issues:
            problems.append(
                _problem(
                    doc,
                    (*where, "issue"),
                    f"unknown issue '{shift.issue}'" + suggest(shift.issue, issues),
                )
            )
        elif actor not in ids:
            problems.append(
                _problem(doc, (*where, "actor"), f"unknown actor '{actor}'" + suggest(actor, ids))
            )
        elif not issues[shift.issue].takes_part[ids.index(actor)]:
            problems.append(
                _problem(
                    doc,
                    where,
                    f"{actor} has no position on '{shift.issue}'; give it one under issues:",
                )
            )
        else:
            out.append((shift.issue, actor, shift.by))
    return tuple(out)


def _event_type(
    doc: Doc, path: KeyPath, spec: EventSpec, custom: dict[str, EventType], problems: list[Problem]
) -> EventType | None:
    if (spec.type is None) == (spec.cameo is None):
        problems.append(
            _problem(
                doc,
                path,
                "give exactly one of 'type:' (a name from `stances events` or event_types:) or 'cameo:' (a code)",
            )
        )
        return None
    if spec.cameo is not None:
        return cameo_type(spec.cameo, spec.form or Form.DIRECTED)
    if spec.form is not None:
        problems.append(
            _problem(
                doc,
                (*path, "form"),
                "'form:' goes with 'cameo:'; a named type has its own form",
                key=True,
            )
        )
    known = {**named_types(), **custom}
    if spec.type not in known and spec.type in _declared(doc, "event_types"):
        return None  # its declaration is wrong, and says so
    if spec.type not in known:
        problems.append(
            _problem(
                doc,
                (*path, "type"),
                f"unknown event type '{spec.type}'"
                + suggest(spec.type, known)
                + "; `stances events` lists them",
            )
        )
        return None
    return known[spec.type]


def _check_people(
    doc: Doc,
    path: KeyPath,
    spec: EventSpec,
    kind: EventType | None,
    ids: list[str],
    problems: list[Problem],
) -> None:
    def known(key: KeyPath, who: str) -> bool:
        if who in ids:
            return True
        problems.append(_problem(doc, key, f"unknown actor '{who}'" + suggest(who, ids)))
        return False

    known((*path, "actor"), spec.actor)
    if kind is None:  # the type is wrong, but the people can still be checked
        if (
            spec.target is not None
            and known((*path, "target"), spec.target)
            and spec.target == spec.actor
        ):
            problems.append(
                _problem(doc, (*path, "target"), f"{spec.actor} cannot be its own target")
            )
        for k, party in enumerate(spec.parties or []):
            known((*path, "parties", k), party)
        return
    if kind.form.takes_parties:
        if spec.target is not None:
            problems.append(
                _problem(
                    doc,
                    (*path, "target"),
                    f"a '{kind.name}' event ({kind.form}) lists 'parties:', not 'target:'",
                    key=True,
                )
            )
        parties = spec.parties or []
        needed = "exactly two parties" if kind.form is Form.MEDIATION else "at least one party"
        if (kind.form is Form.MEDIATION and len(parties) != 2) or not parties:
            problems.append(
                _problem(
                    doc,
                    (*path, "parties") if spec.parties is not None else path,
                    f"a '{kind.name}' event needs {needed}",
                )
            )
        for k, party in enumerate(parties):
            if known((*path, "parties", k), party) and party == spec.actor:
                problems.append(
                    _problem(
                        doc,
                        (*path, "parties", k),
                        f"{party} is the actor; list the other parties only",
                    )
                )
        if len(set(parties)) != len(parties):
            problems.append(_problem(doc, (*path, "parties"), "a party is listed twice"))
    else:
        if spec.parties is not None:
            problems.append(
                _problem(
                    doc,
                    (*path, "parties"),
                    f"a '{kind.name}' event ({kind.form}) has one 'target:', not 'parties:'",
                    key=True,
                )
            )
        if spec.target is None:
            problems.append(_problem(doc, path, f"a '{kind.name}' event needs a 'target:'"))
        elif known((*path, "target"), spec.target) and spec.target == spec.actor:
            problems.append(
                _problem(doc, (*path, "target"), f"{spec.actor} cannot be its own target")
            )
