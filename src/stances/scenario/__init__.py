"""Scenario files: YAML with positions -> what-if resolution -> validated ``Scenario``.

Rooms, in the order data flows through them: ``document`` (YAML 1.2 with the position of every
value), ``keys`` (the dotted-key grammar of ``set:``, ``--set`` and ``--vary``), ``whatif``
(``extends``, ``remove``, ``replace``, ``add``, ``set``), ``models`` (the file format as pydantic
models, with every default), ``validation`` (their errors as problems at file:line:col),
``types`` (the validated Scenario and its parts) and ``builder`` (from a resolved Doc to a
Scenario). ``schema`` and ``skeleton`` write the JSON Schema and `stances new` files.
"""

from stances.scenario.builder import load_scenario
from stances.scenario.models import Parameters, PolicySpec
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

__all__ = [
    "Event",
    "EventValue",
    "Interest",
    "Issue",
    "ParameterValue",
    "Parameters",
    "PolicySpec",
    "Scenario",
    "ScoreValue",
    "Uncertain",
    "load_scenario",
]
