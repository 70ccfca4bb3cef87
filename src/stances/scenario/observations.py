"""Observations: what is known to have happened to the scores, written in a scenario file so a
run can be checked against the record (`stances check`).

```yaml
observations:
  pak-afg-hostile:                 # an id; in a what-if, observations merge by id
    score: PAK -> AFG              # one score, or a difference: AFG -> CHN - AFG -> IND
    below: -0.3                    # or above:; a number, another score ("AFG -> IND"),
                                   # or a score at a date ({score: IND -> AFG, at: 2021-08-15})
    by: 0.0                        # margin it must clear (score units, default 0)
    from: 2023-11-01               # the period it holds over (default: the whole window)
    to: 2024-03-31
    cite: "the source, in words"
  afg-pak-falls:
    score: AFG -> PAK
    falls: {across: pakistan-airstrikes}   # or falls/rises: {from: DATE, to: DATE}
    cite: "..."
  lowest-in-spring:
    score: AFG -> PAK
    lowest_between: [2024-03-01, 2024-06-30]   # or highest_between: the date of the extreme
    cite: "..."
```

A score "at" a date is the state at the start of that day, as everywhere in the project (the
state at the last step boundary on or before it). This module holds the format (the pydantic
model) and the validated ``Observation``; ``analysis.observations`` checks them against a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from stances.errors import Position, Problem, suggest
from stances.scenario.document import Doc, KeyPath, problem
from stances.scenario.models import ObservationSpec, ScoreAt, Window

Dyad = tuple[str, str]

SCORE_EXPRESSION = re.compile(r"\s*(\S+)\s*->\s*(\S+)\s*(?:\s-\s*(\S+)\s*->\s*(\S+)\s*)?")


KINDS = ("above", "below", "rises", "falls", "lowest_between", "highest_between")


@dataclass(frozen=True)
class Observation:
    """A validated observation.

    score: (plus, minus): the value looked at is score[plus] (minus score[minus], if any).
    kind: 'above' or 'below' (a level against `reference`), 'rises' or 'falls' (a change over
    `window`), 'lowest' or 'highest' (the date of the extreme over `period` falls in `window`).
    reference: a number, or (plus, minus) of another score, or (dyad, date) of a score at a date.
    period: (first, last) dates a level must hold over (None: the whole window).
    window: for changes, the dates (before, after); across: True when the change is taken
    across one event (from the state before its step to the state after it).
    by: the margin to clear, in score units. cite, source: where it comes from and where it is
    written.
    """

    id: str
    score: tuple[Dyad, Dyad | None]
    kind: Literal["above", "below", "rises", "falls", "lowest", "highest"]
    reference: float | tuple[Dyad, Dyad | None] | tuple[Dyad, date] | None
    period: tuple[date, date] | None
    window: tuple[date, date] | None
    across: bool
    by: float
    cite: str
    source: Position

    @property
    def label(self) -> str:
        """The observation in words: 'PAK -> AFG below -0.30 from 2023-11-01 to 2024-03-31'."""
        return describe(self)


def describe(o: Observation) -> str:
    """An observation in a few words, for tables and figures."""
    score = _expression(o.score)
    if o.kind in ("above", "below"):
        ref = o.reference
        if isinstance(ref, float):
            what = f"{ref:+.2f}"
        elif isinstance(ref, tuple) and isinstance(ref[1], date):
            what = f"{ref[0][0]} -> {ref[0][1]} on {ref[1].isoformat()}"
        else:
            what = _expression(ref)
        margin = f" by {o.by:g}" if o.by else ""
        when = f" from {o.period[0]} to {o.period[1]}" if o.period else " throughout"
        return f"{score} {o.kind} {what}{margin}{when}"
    if o.kind in ("rises", "falls"):
        assert o.window is not None
        span = (
            f"across the event of {o.window[0]}"
            if o.across
            else f"from {o.window[0]} to {o.window[1]}"
        )
        return f"{score} {o.kind} {span}"
    assert o.window is not None
    return f"{score} is {o.kind} between {o.window[0]} and {o.window[1]}"


def _expression(score: Any) -> str:
    plus, minus = score
    text = f"{plus[0]} -> {plus[1]}"
    return f"{text} - {minus[0]} -> {minus[1]}" if minus else text


class ObservationBuilder:
    """Checks observations against the rest of a scenario (actor ids, event ids and dates, the
    time window) and builds them; problems go to the list it is given."""

    def __init__(
        self,
        doc: Doc,
        ids: list[str],
        event_dates: dict[str, date],
        window: tuple[date, date] | None,
        problems: list[Problem],
    ) -> None:
        self.doc, self.ids, self.event_dates = doc, ids, event_dates
        self.window, self.problems = window, problems

    def _problem(self, path: KeyPath, message: str, *, key: bool = False) -> None:
        self.problems.append(problem(self.doc, path, message, key=key))

    def build(self, specs: dict[str, ObservationSpec]) -> tuple[Observation, ...]:
        out = []
        for ident, spec in specs.items():
            found = len(self.problems)
            observation = self._one(ident, spec, ("observations", ident))
            if observation is not None and len(self.problems) == found:
                out.append(observation)
        return tuple(out)

    def _score(self, path: KeyPath, text: str) -> tuple[Dyad, Dyad | None] | None:
        match = SCORE_EXPRESSION.fullmatch(text)
        if not match:
            self._problem(path, f"'{text}' is not a score: write 'A -> B' or 'A -> B - C -> D'")
            return None
        a, b, c, d = match.groups()
        unknown = [x for x in (a, b, c, d) if x is not None and x not in self.ids]
        for x in unknown:
            self._problem(
                path,
                f"unknown actor '{x}'" + suggest(x, self.ids) + f" (actors: {', '.join(self.ids)})",
            )
        if unknown:
            return None
        if a == b or (c is not None and c == d):
            self._problem(path, f"'{text}': an actor's view of itself is not modelled")
            return None
        return (a, b), ((c, d) if c is not None else None)

    def _inside(self, path: KeyPath, when: date) -> bool:
        if self.window and not self.window[0] <= when <= self.window[1]:
            self._problem(
                path,
                f"{when} is outside the time window {self.window[0]} to {self.window[1]}",
            )
            return False
        return True

    def _one(self, ident: str, spec: ObservationSpec, path: KeyPath) -> Observation | None:
        kinds = [k for k in KINDS if getattr(spec, k) is not None]
        if len(kinds) != 1:
            self._problem(
                path,
                "give exactly one of "
                + ", ".join(KINDS)
                + (f" (got {', '.join(kinds)})" if kinds else ""),
            )
            return None
        kind = kinds[0]
        score = self._score((*path, "score"), spec.score)
        period = None
        if spec.from_ is not None or spec.to is not None:
            first = spec.from_ or (self.window[0] if self.window else spec.to)
            last = spec.to or (self.window[1] if self.window else spec.from_)
            assert first is not None and last is not None
            for name, when in (("from", spec.from_), ("to", spec.to)):
                if when is not None:
                    self._inside((*path, name), when)
            if last < first:
                self._problem((*path, "to"), f"{last} is before {first}")
            period = (first, last)
        reference: Any = None
        window = None
        across = False
        if kind in ("above", "below"):
            reference = self._reference((*path, kind), getattr(spec, kind))
        elif kind in ("rises", "falls"):
            change: Window = getattr(spec, kind)
            window, across = self._window((*path, kind), change)
        else:
            first, last = getattr(spec, kind)
            for n, when in enumerate((first, last)):
                self._inside((*path, kind, n), when)
            if last < first:
                self._problem((*path, kind), f"{last} is before {first}")
            window = (first, last)
        if score is None:
            return None
        return Observation(
            id=ident,
            score=score,
            kind=kind.removesuffix("_between"),  # type: ignore[arg-type]
            reference=reference,
            period=period,
            window=window,
            across=across,
            by=spec.by,
            cite=spec.cite,
            source=self.doc.position(path),
        )

    def _reference(self, path: KeyPath, value: float | str | ScoreAt) -> Any:
        if isinstance(value, float):
            return value
        if isinstance(value, str):
            return self._score(path, value)
        at = self._score((*path, "score"), value.score)
        self._inside((*path, "at"), value.at)
        if at is None:
            return None
        if at[1] is not None:
            self._problem((*path, "score"), "a score at a date is one score 'A -> B'")
            return None
        return (at[0], value.at)

    def _window(self, path: KeyPath, change: Window) -> tuple[tuple[date, date] | None, bool]:
        if change.across is not None:
            if change.from_ is not None or change.to is not None:
                self._problem(path, "give 'across:' an event id, or 'from:' and 'to:', not both")
                return None, False
            when = self.event_dates.get(change.across)
            if when is None:
                self._problem(
                    (*path, "across"),
                    f"no event has id '{change.across}'" + suggest(change.across, self.event_dates),
                )
                return None, False
            return (when, when), True
        if change.from_ is None or change.to is None:
            self._problem(path, "give 'across:' an event id, or both 'from:' and 'to:'")
            return None, False
        for name, when in (("from", change.from_), ("to", change.to)):
            self._inside((*path, name), when)
        if change.to <= change.from_:
            self._problem((*path, "to"), f"{change.to} is not after {change.from_}")
        return (change.from_, change.to), False
