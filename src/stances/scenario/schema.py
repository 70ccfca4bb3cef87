"""`stances schema`: the JSON Schema of scenario files, so editors check them as people type.

Built from the same pydantic models that validate files, so it cannot drift from the format.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from stances.catalogue import named_types
from stances.scenario.builder import RELATION_KEY
from stances.scenario.models import (
    ActorSpec,
    EventSpec,
    EventTypeSpec,
    IssueSpec,
    Parameters,
    Score,
    StanceShiftSpec,
    Text,
    TimeSpec,
    UncertainDate,
    UncertainIntensity,
    _Strict,
)


class EventPatch(_Strict):
    """`replace:` entries: the id of an inherited event and the fields to change."""

    id: Text
    date: UncertainDate = None
    type: Text | None = None
    cameo: Text | None = None
    form: Text | None = None
    actor: Text | None = None
    target: Text | None = None
    parties: list[Text] | None = None
    intensity: UncertainIntensity = None
    stance_shift: StanceShiftSpec | list[StanceShiftSpec] | None = None
    cite: Text | None = None
    note: Text | None = None


class ScenarioFile(_Strict):
    """A stances scenario file (YAML 1.2). A what-if names its parent with `extends:`."""

    title: Text = Field(description="What the scenario asks or shows, in words.")
    description: Text | None = None
    extends: Text | None = Field(None, description="Parent scenario file, relative to this file.")
    time: TimeSpec | None = None
    seed: int = Field(
        0, ge=0, description="Seed of the run; a run is a pure function of file and seed."
    )
    actors: dict[str, ActorSpec] | None = None
    relations: dict[str, Score] = Field(
        default_factory=dict,
        description="Initial scores in [-1, 1]: 'A -> B' (how A regards B) or 'A <-> B'.",
    )
    baseline: dict[str, Score] = Field(
        default_factory=dict,
        description="Scores decay toward these; default: the initial relations.",
    )
    parameters: Parameters | None = None
    event_types: dict[str, EventTypeSpec] = Field(default_factory=dict)
    issues: dict[str, IssueSpec] = Field(
        default_factory=dict, description="Issues actors hold positions on, in [0, 1]."
    )
    events: list[EventSpec] = Field(default_factory=list)
    remove: list[Text] = Field(default_factory=list, description="Ids of inherited events to drop.")
    add: list[EventSpec] = Field(
        default_factory=list, description="Events to add to the inherited ones."
    )
    replace: list[EventPatch] = Field(
        default_factory=list, description="Fields to change in inherited events, by id."
    )
    set: dict[str, Any] = Field(
        default_factory=dict,
        description="Dotted keys into parameters, relations, baseline, time, actors.",
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of scenario files."""
    schema = ScenarioFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "stances scenario"
    relation = {"type": "number", "minimum": -1, "maximum": 1}
    for key in ("relations", "baseline"):
        schema["properties"][key].pop("additionalProperties", None)
        schema["properties"][key]["patternProperties"] = {f"^{RELATION_KEY.pattern}$": relation}
        schema["properties"][key]["additionalProperties"] = False
    names = sorted(named_types())
    for model in ("EventSpec", "EventPatch"):
        schema["$defs"][model]["properties"]["type"] = {
            "anyOf": [{"enum": names}, {"type": "string"}],
            "description": "A named type (`stances events`) or one defined under event_types:",
        }
    schema["if"] = {"not": {"required": ["extends"]}}
    schema["then"] = {"required": ["title", "time", "actors"]}
    return schema
