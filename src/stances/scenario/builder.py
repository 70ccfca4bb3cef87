"""Building a Scenario from a resolved Doc: every value validated, every problem at its place.

``Builder`` holds what the checks share (the Doc, the actor ids, the problems found, the
uncertain values met, the scenario's own event types and issues); ``load_scenario`` is the one
door in: read, resolve the what-if chain, build.

Longer than the project's ~600 lines because every check of a scenario's cross-references
(actors, events, types, issues, interests) lives here, one method each, beside the Builder
they share.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from stances.catalogue import EventType, Form, cameo_table, cameo_type, named_types
from stances.distributions import Distribution, number_date
from stances.errors import Position, Problem, ScenarioError, shown, suggest
from stances.scenario.document import Doc, KeyPath, problem
from stances.scenario.models import (
    ACTOR_ID,
    EVENT_ID,
    INTEREST_KEY,
    MAX_STEPS,
    REACTIVE_REPERTOIRE,
    RELATION_KEY,
    SCALE_MAX,
    SECTIONS,
    ActorSpec,
    EventSpec,
    EventTypeSpec,
    IssueSpec,
    Parameters,
    PolicySpec,
    TimeSpec,
)
from stances.scenario.observations import ObservationBuilder
from stances.scenario.types import (
    Event,
    EventValue,
    Interest,
    Issue,
    ParameterValue,
    Scenario,
    ScoreValue,
    Uncertain,
)
from stances.scenario.validation import declared, validate_entries, validate_value
from stances.scenario.whatif import resolve
from stances.timegrid import boundary

RECOGNITION_ISSUE = "recognition"


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
    return Builder(doc).scenario(Path(path))


def _window_problem(time: TimeSpec) -> tuple[str, str] | None:
    """What is wrong with a window (the key of time: at fault, and why), or None: it must end
    after it starts, hold at most MAX_STEPS steps, and its last step end by 9999-12-31."""
    if time.end <= time.start:
        return "end", f"end {time.end} is not after start {time.start}"
    for k in range(1, MAX_STEPS + 1):
        try:
            if boundary(time.start, time.step, k) > time.end:
                return None
        except (OverflowError, ValueError):  # step k would end after 9999-12-31
            if k == 1:
                return "step", (
                    f"a step of {time.step} from {time.start} ends after {date.max}, "
                    "the last date there is"
                )
            return "end", (
                f"the step that holds {time.end} would end after {date.max}, the last date "
                "there is: end the window earlier"
            )
    return "step", (
        f"{time.start} to {time.end} in steps of {time.step} is more than {MAX_STEPS} steps: "
        "take longer steps or a shorter window"
    )


class Builder:
    """Validates one resolved Doc and builds its Scenario (``scenario``); collects every
    problem on the way and raises them together."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.problems: list[Problem] = []
        self.uncertain: list[Uncertain] = []
        actors = doc.data.get("actors")
        self.ids: list[str] = list(actors) if isinstance(actors, dict) else []
        self.custom: dict[str, EventType] = {}
        self.issues: dict[str, Issue] = {}

    def _problem(self, path: KeyPath, message: str, *, key: bool = False) -> Problem:
        return problem(self.doc, path, message, key=key)

    def _validate(self, path: KeyPath, tp: Any, value: Any) -> Any:
        return validate_value(self.doc, path, tp, value, self.problems)

    def scenario(self, path: Path) -> Scenario:
        """The validated Scenario read from `path`; ScenarioError lists every problem."""
        doc, data = self.doc, self.doc.data
        for key in data:
            if key not in SECTIONS:
                self.problems.append(
                    self._problem((key,), f"unknown key '{key}'" + suggest(key, SECTIONS), key=True)
                )
        for key, (_, required, _) in SECTIONS.items():
            if required and key not in data:
                self.problems.append(Problem(doc.position(()), "", f"missing required key '{key}'"))
        parts: dict[str, Any] = {
            key: validate_entries(doc, key, tp, self.problems)
            if by_entry
            else self._validate((key,), tp, data[key])
            for key, (tp, _, by_entry) in SECTIONS.items()
            if key in data and key != "events"
        }
        actors = parts.get("actors") or {}
        self._check_actor_ids()
        time = self._time(parts.get("time"))
        parameters = parts.get("parameters") or Parameters()
        self.uncertain += [
            Uncertain(ParameterValue(name), value, f"parameters.{name}")
            for name, value in parameters
            if isinstance(value, Distribution)
        ]
        initial, _ = self._relation_matrix("relations", parts.get("relations") or {}, None)
        baseline, baseline_set = self._relation_matrix(
            "baseline", parts.get("baseline") or {}, initial
        )
        self.custom = self._custom_types(parts.get("event_types") or {})
        interests = {a: self._interests(a, spec) for a, spec in actors.items()}
        for a, spec in actors.items():
            self._check_policy(a, spec.policy)
        self.issues = self._issues(parts.get("issues") or {})
        events = self._events(data.get("events", []), time)
        window = (time.start, time.end) if time is not None else None
        observations = ObservationBuilder(
            doc, self.ids, {e.id: e.date for e in events}, window, self.problems
        ).build(parts.get("observations") or {})
        if self.problems:
            raise ScenarioError(self.problems)
        assert time is not None  # else a problem was recorded
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
            event_types=self.custom,
            events=tuple(events),
            resolved=data,
            uncertain=tuple(self.uncertain),
            baseline_set=baseline_set,
            issues=self.issues,
            observations=observations,
        )

    def _check_actor_ids(self) -> None:
        for ident in self.ids:
            if not ACTOR_ID.fullmatch(ident):
                self.problems.append(
                    self._problem(
                        ("actors", ident),
                        f"actor id '{ident}' should be 1-16 upper-case letters, digits or _ starting with a letter, e.g. IND",
                        key=True,
                    )
                )
        if isinstance(self.doc.data.get("actors"), dict) and len(self.ids) < 2:
            self.problems.append(self._problem(("actors",), "a scenario needs at least two actors"))

    def _time(self, time: TimeSpec | None) -> TimeSpec | None:
        """The time window, or None (with a problem) when _window_problem finds one."""
        found = None if time is None else _window_problem(time)
        if found is not None:
            self.problems.append(self._problem(("time", found[0]), found[1]))
            return None
        return time

    def _relation_matrix(
        self,
        section: str,
        values: dict[str, float],
        default: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores keyed 'A -> B' or 'A <-> B' as an (N, N) array; unset pairs from default (or 0),
        and which pairs the section sets (bool (N, N)).

        An uncertain score enters the array at its centre and is added to `uncertain` (both
        directions of 'A <-> B' take the same draw).
        """
        n = len(self.ids)
        matrix = np.zeros((n, n)) if default is None else default.copy()
        explicit = np.zeros((n, n), dtype=bool)
        seen: dict[tuple[int, int], str] = {}
        for key, score in values.items():
            match = RELATION_KEY.fullmatch(key)
            if not match:
                self.problems.append(
                    self._problem(
                        (section, key),
                        f"'{key}' is not a relation: write 'A -> B' (how A regards B) or 'A <-> B' (both ways)",
                        key=True,
                    )
                )
                continue
            a, arrow, b = match.groups()
            bad = [x for x in (a, b) if x not in self.ids]
            for x in bad:
                self.problems.append(
                    self._problem(
                        (section, key), f"unknown actor '{x}'" + suggest(x, self.ids), key=True
                    )
                )
            if bad:
                continue
            if a == b:
                self.problems.append(
                    self._problem(
                        (section, key),
                        f"'{key}': an actor's view of itself is not modelled",
                        key=True,
                    )
                )
                continue
            pairs = [(self.ids.index(a), self.ids.index(b))]
            if arrow == "<->":
                pairs.append((self.ids.index(b), self.ids.index(a)))
            here = self.doc.position((section, key), key=True).file
            for i, j in pairs:
                # within one file a pair set twice is a mistake; a later file (a what-if) overrides
                if (i, j) in seen and self.doc.position(
                    (section, seen[(i, j)]), key=True
                ).file == here:
                    self.problems.append(
                        self._problem(
                            (section, key),
                            f"{self.ids[i]} -> {self.ids[j]} is already set by '{seen[(i, j)]}'",
                            key=True,
                        )
                    )
                seen[(i, j)] = key
                matrix[i, j] = score.centre if isinstance(score, Distribution) else score
                explicit[i, j] = True
            if isinstance(score, Distribution):
                self.uncertain.append(
                    Uncertain(ScoreValue(section, tuple(pairs)), score, f"{section}.{key}")  # type: ignore[arg-type]
                )
        return matrix, explicit

    def _interests(self, actor: str, spec: ActorSpec) -> tuple[Interest, ...]:
        """The actor's interests: 'A -> B', 'A <-> B' (both directions) or 'A -> B - C -> D';
        their weights (each direction of 'A <-> B' counted) add up to at most SCALE_MAX."""
        out = []
        for key, value in spec.interests.items():
            path = ("actors", actor, "interests", key)
            match = INTEREST_KEY.fullmatch(key)
            if not match or (match.group(2) == "<->" and match.group(4)):
                self.problems.append(
                    self._problem(
                        path,
                        f"'{key}' is not an interest: write 'A -> B', 'A <-> B' or 'A -> B - C -> D' (a difference)",
                        key=True,
                    )
                )
                continue
            a, arrow, b, c, d = match.groups()
            names = [x for x in (a, b, c, d) if x is not None]
            unknown = [x for x in names if x not in self.ids]
            for x in unknown:
                self.problems.append(
                    self._problem(path, f"unknown actor '{x}'" + suggest(x, self.ids), key=True)
                )
            if unknown:
                continue
            if a == b or (c is not None and c == d):
                self.problems.append(
                    self._problem(
                        path, f"'{key}': an actor's view of itself is not modelled", key=True
                    )
                )
                continue
            if c is None and not -1 <= value.want <= 1:
                self.problems.append(
                    self._problem((*path, "want"), f"a score is in [-1, 1], got {value.want}")
                )
                continue
            minus = (c, d) if c is not None else None
            dyads = [(a, b), (b, a)] if arrow == "<->" else [(a, b)]
            out += [
                Interest(key, dyad, minus, value.want, value.weight, value.side, value.why)
                for dyad in dyads
            ]
        total = sum(i.weight for i in out)
        if total > SCALE_MAX:
            self.problems.append(
                self._problem(
                    ("actors", actor, "interests"),
                    f"the weights of {actor}'s interests add up to {total:g} ('A <-> B' counts "
                    f"twice); they may add up to at most {SCALE_MAX:g}",
                )
            )
        return tuple(out)

    def _check_policy(self, actor: str, policy: PolicySpec) -> None:
        known = {**named_types(), **self.custom}
        path = ("actors", actor, "policy")
        for k, name in enumerate(policy.repertoire or ()):
            if name not in known and name not in declared(self.doc, "event_types"):
                self.problems.append(
                    self._problem(
                        (*path, "repertoire", k),
                        f"unknown event type {shown(name)}" + suggest(name, known),
                    )
                )
        allowed = set(policy.repertoire or REACTIVE_REPERTOIRE)
        for name in policy.costs:
            if name not in allowed:
                self.problems.append(
                    self._problem(
                        (*path, "costs", name),
                        f"'{name}' is not in this actor's repertoire ({', '.join(sorted(allowed))})",
                        key=True,
                    )
                )

    def _custom_types(self, specs: dict[str, EventTypeSpec]) -> dict[str, EventType]:
        out = {}
        for name, spec in specs.items():
            path = ("event_types", name)
            if name in named_types():
                self.problems.append(
                    self._problem(
                        path,
                        f"'{name}' is a built-in type; give your own type another name",
                        key=True,
                    )
                )
                continue
            if spec.cameo is None and spec.goldstein is None:
                self.problems.append(
                    self._problem(
                        path,
                        "give a 'cameo:' code (its weight comes from the table) or a 'goldstein:' weight in [-10, 10], or both",
                    )
                )
                continue
            weight = (
                spec.goldstein
                if spec.goldstein is not None
                else cameo_table()[str(spec.cameo)].goldstein
            )
            description = spec.description or (
                cameo_table()[spec.cameo].description if spec.cameo else name
            )
            out[name] = EventType(name, spec.cameo or "", weight, spec.form, description)
        return out

    @staticmethod
    def _date_range(value: date | Distribution) -> tuple[date, date]:
        if isinstance(value, Distribution):
            lo, hi = value.support
            return number_date(lo), number_date(hi)
        return value, value

    def _events(
        self,
        raw: Any,
        time: TimeSpec | None,
    ) -> list[Event]:
        if not isinstance(raw, list):
            self.problems.append(self._problem(("events",), "expected a list of events"))
            return []
        events: list[Event] = []
        first_seen: dict[str, Position] = {}
        for i, item in enumerate(raw):
            path = ("events", i)
            spec: EventSpec | None = self._validate(path, EventSpec, item)
            if spec is None:
                continue
            found = len(self.problems)
            if not EVENT_ID.fullmatch(spec.id):
                self.problems.append(
                    self._problem(
                        (*path, "id"),
                        f"event id '{spec.id}' should be letters, digits, '-', '_' or '.', e.g. paktika-strike",
                    )
                )
            if spec.id in first_seen:
                self.problems.append(
                    self._problem(
                        (*path, "id"),
                        f"duplicate event id '{spec.id}' (first used at {first_seen[spec.id]})",
                    )
                )
            first_seen.setdefault(spec.id, self.doc.position((*path, "id")))
            kind = self._event_type(path, spec)
            self._check_people(path, spec, kind)
            shifts = self._stance_shifts(path, spec, kind)
            first, last = self._date_range(spec.date)
            if time is not None and not time.start <= first <= last <= time.end:
                shown = first if first == last else f"{first} to {last}"
                self.problems.append(
                    self._problem(
                        (*path, "date"),
                        f"{shown} is outside the time window {time.start} to {time.end}",
                    )
                )
            until, span_days = self._end_of(path, spec, (first, last))
            if kind is None or len(self.problems) > found:
                continue
            for name in ("date", "until", "intensity"):
                value = getattr(spec, name)
                if isinstance(value, Distribution):
                    self.uncertain.append(
                        Uncertain(EventValue(name, len(events)), value, f"events[{spec.id}].{name}")
                    )
            events.append(
                Event(
                    id=spec.id,
                    date=_centre_date(spec.date),
                    type=kind,
                    actor=spec.actor,
                    target=spec.target,
                    parties=tuple(spec.parties or ()),
                    intensity=_centre(spec.intensity)
                    if isinstance(spec.intensity, Distribution)
                    else spec.intensity,
                    cite=spec.cite,
                    note=spec.note,
                    label=spec.label,
                    source=self.doc.position(path),
                    stance_shifts=shifts,
                    until=until,
                    span_days=span_days,
                )
            )
        return events

    def _end_of(
        self, path: KeyPath, spec: EventSpec, dates: tuple[date, date]
    ) -> tuple[date | None, int | None]:
        """The last day a lasting event lasts and, with `for:`, its length in whole days (at
        least 1: its own day); (None, None) for a one-off. `until:` may lie past the time
        window (the event then lasts to its end) but not before the event's date, whichever
        dates a member draws."""
        if spec.until is not None and spec.for_ is not None:
            self.problems.append(
                self._problem(
                    path,
                    "give 'until:' (its last day) or 'for:' (how long it lasts), not both (a what-if "
                    "sets the other to null)",
                )
            )
            return None, None
        if spec.for_ is not None:
            days = max(round(spec.for_.days), 1)
            last_day = min(_centre_date(spec.date).toordinal() + days - 1, date.max.toordinal())
            return date.fromordinal(last_day), days
        if spec.until is None:
            return None, None
        first, last = self._date_range(spec.until)
        if first < dates[1]:
            if first == last and dates[0] == dates[1]:
                why = f"{first} is before the event's date {dates[0]} (until: is its last day)"
            else:
                why = (
                    f"until can be {first}, before the latest date the event can take "
                    f"({dates[1]}): every day it can end on must be on or after every day it can "
                    "start on"
                )
            self.problems.append(self._problem((*path, "until"), why))
            return None, None
        return _centre_date(spec.until), None

    def _issues(self, specs: dict[str, IssueSpec]) -> dict[str, Issue]:
        out = {}
        n = len(self.ids)
        for name, spec in specs.items():
            takes_part, position = np.zeros(n, dtype=bool), np.zeros(n)
            susceptibility, capability = np.zeros(n), np.ones(n)
            for actor, p in spec.positions.items():
                if actor not in self.ids:
                    self.problems.append(
                        self._problem(
                            ("issues", name, "positions", actor),
                            f"unknown actor '{actor}'" + suggest(actor, self.ids),
                            key=True,
                        )
                    )
                    continue
                i = self.ids.index(actor)
                takes_part[i], position[i] = True, p.at
                susceptibility[i], capability[i] = p.susceptibility, p.capability
            out[name] = Issue(
                name, spec.description, takes_part, position, susceptibility, capability
            )
        return out

    def _stance_shifts(
        self,
        path: KeyPath,
        spec: EventSpec,
        kind: EventType | None,
    ) -> tuple[tuple[str, str, float], ...]:
        """(issue, actor, by) for each stance_shift; granting recognition moves the granter to 1
        on an issue named 'recognition', unless the event says otherwise."""
        if spec.stance_shift is None:
            if (
                kind is not None
                and kind.name == "grant_recognition"
                and RECOGNITION_ISSUE in self.issues
            ):
                takes_part = (
                    spec.actor in self.ids
                    and self.issues[RECOGNITION_ISSUE].takes_part[self.ids.index(spec.actor)]
                )
                return ((RECOGNITION_ISSUE, spec.actor, 1.0),) if takes_part else ()
            return ()
        out = []
        for k, shift in enumerate(spec.stance_shift):
            where = (
                (*path, "stance_shift", k)
                if len(spec.stance_shift) > 1
                else (*path, "stance_shift")
            )
            actor = shift.actor or spec.actor
            if shift.issue not in self.issues and shift.issue in declared(self.doc, "issues"):
                continue  # its declaration is wrong, and says so
            if shift.issue not in self.issues:
                self.problems.append(
                    self._problem(
                        (*where, "issue"),
                        f"unknown issue '{shift.issue}'" + suggest(shift.issue, self.issues),
                    )
                )
            elif actor not in self.ids:
                self.problems.append(
                    self._problem(
                        (*where, "actor"), f"unknown actor '{actor}'" + suggest(actor, self.ids)
                    )
                )
            elif not self.issues[shift.issue].takes_part[self.ids.index(actor)]:
                self.problems.append(
                    self._problem(
                        where,
                        f"{actor} has no position on '{shift.issue}'; give it one under issues:",
                    )
                )
            else:
                out.append((shift.issue, actor, shift.by))
        return tuple(out)

    def _event_type(self, path: KeyPath, spec: EventSpec) -> EventType | None:
        if (spec.type is None) == (spec.cameo is None):
            self.problems.append(
                self._problem(
                    path,
                    "give exactly one of 'type:' (a name from `stances events` or event_types:) or 'cameo:' (a code)",
                )
            )
            return None
        if spec.cameo is not None:
            return cameo_type(spec.cameo, spec.form or Form.DIRECTED)
        if spec.form is not None:
            self.problems.append(
                self._problem(
                    (*path, "form"),
                    "'form:' goes with 'cameo:'; a named type has its own form",
                    key=True,
                )
            )
        known = {**named_types(), **self.custom}
        if spec.type not in known and spec.type in declared(self.doc, "event_types"):
            return None  # its declaration is wrong, and says so
        if spec.type not in known:
            self.problems.append(
                self._problem(
                    (*path, "type"),
                    f"unknown event type {shown(str(spec.type))}"
                    + suggest(str(spec.type), known)
                    + "; `stances events` lists them",
                )
            )
            return None
        return known[spec.type]

    def _check_people(
        self,
        path: KeyPath,
        spec: EventSpec,
        kind: EventType | None,
    ) -> None:
        def known(key: KeyPath, who: str) -> bool:
            if who in self.ids:
                return True
            self.problems.append(
                self._problem(key, f"unknown actor '{who}'" + suggest(who, self.ids))
            )
            return False

        known((*path, "actor"), spec.actor)
        if kind is None:  # the type is wrong, but the people can still be checked
            if (
                spec.target is not None
                and known((*path, "target"), spec.target)
                and spec.target == spec.actor
            ):
                self.problems.append(
                    self._problem((*path, "target"), f"{spec.actor} cannot be its own target")
                )
            for k, party in enumerate(spec.parties or []):
                known((*path, "parties", k), party)
            return
        if kind.form.takes_parties:
            if spec.target is not None:
                self.problems.append(
                    self._problem(
                        (*path, "target"),
                        f"a '{kind.name}' event ({kind.form}) lists 'parties:', not 'target:'",
                        key=True,
                    )
                )
            parties = spec.parties or []
            needed = "exactly two parties" if kind.form is Form.MEDIATION else "at least one party"
            if (kind.form is Form.MEDIATION and len(parties) != 2) or not parties:
                self.problems.append(
                    self._problem(
                        (*path, "parties") if spec.parties is not None else path,
                        f"a '{kind.name}' event needs {needed}",
                    )
                )
            for k, party in enumerate(parties):
                if known((*path, "parties", k), party) and party == spec.actor:
                    self.problems.append(
                        self._problem(
                            (*path, "parties", k),
                            f"{party} is the actor; list the other parties only",
                        )
                    )
            if len(set(parties)) != len(parties):
                self.problems.append(self._problem((*path, "parties"), "a party is listed twice"))
        else:
            if spec.parties is not None:
                self.problems.append(
                    self._problem(
                        (*path, "parties"),
                        f"a '{kind.name}' event ({kind.form}) has one 'target:', not 'parties:'",
                        key=True,
                    )
                )
            if spec.target is None:
                self.problems.append(
                    self._problem(path, f"a '{kind.name}' event needs a 'target:'")
                )
            elif known((*path, "target"), spec.target) and spec.target == spec.actor:
                self.problems.append(
                    self._problem((*path, "target"), f"{spec.actor} cannot be its own target")
                )


def _centre(value: Any) -> float:
    """A distribution's representative value (``Distribution.centre``)."""
    return float(value.centre)


def _centre_date(value: Any) -> date:
    """An event's date: as written, or the centre of the window it is drawn from."""
    return number_date(value.centre) if isinstance(value, Distribution) else value
