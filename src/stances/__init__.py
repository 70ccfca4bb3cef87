"""stances: an agent-based model of how states regard each other as dated events happen.

import stances
sc = stances.load_scenario("scenarios/article.yaml")
res = stances.run(sc, seed=7)
res.relations      # member, step, date, actor, toward, score
stances.save(res, "results/article")
cal = stances.calibrate("benchmarks/article-calibrate.yaml", members=20000)
cal.posterior_table()  # each uncertain value: prior and posterior quantiles
why = stances.explain(sc, [("AFG", "PAK")])  # which events made the score
why.table()        # each event's Shapley value and leave-one-out effect
res = stances.run(sc, design=df)  # a member per row of chosen values (docs/ecosystem.md)
res.experiments(), res.outcomes()  # member x inputs, member x final scores

The names below are loaded when first used, so that ``import stances`` (and reading or
validating scenario files) does not load Mesa, pandas or matplotlib.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from stances.errors import ScenarioError
from stances.scenario.builder import load_scenario
from stances.scenario.types import Scenario

if TYPE_CHECKING:
    from stances.api import calibrate, compare, discover, explain, load, run, save, sensitivity
    from stances.engine.model import StanceModel
    from stances.result import Result

try:
    __version__ = version("stances")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

_LAZY = {
    "run": "stances.api",
    "calibrate": "stances.api",
    "compare": "stances.api",
    "discover": "stances.api",
    "explain": "stances.api",
    "sensitivity": "stances.api",
    "save": "stances.api",
    "load": "stances.api",
    "StanceModel": "stances.engine.model",
    "Result": "stances.result",
}

__all__ = [
    "Result",
    "Scenario",
    "ScenarioError",
    "StanceModel",
    "__version__",
    "calibrate",
    "compare",
    "discover",
    "explain",
    "load",
    "load_scenario",
    "run",
    "save",
    "sensitivity",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'stances' has no attribute {name!r}")
