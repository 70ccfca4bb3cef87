"""stances: an agent-based model of how states regard each other as dated events happen.

import stances
sc = stances.load_scenario("scenarios/article.yaml")
res = stances.run(sc, seed=7)
res.relations      # member, step, date, actor, toward, score
res.save("results/article")
"""

from __future__ import annotations

from pathlib import Path

from stances.errors import ScenarioError
from stances.model import StanceModel
from stances.results import Result
from stances.scenario import Scenario, load_scenario

__all__ = ["Result", "Scenario", "ScenarioError", "StanceModel", "load_scenario", "run"]


def run(
    scenario: Scenario | str | Path | None = None, seed: int | None = None, members: int = 1
) -> Result:
    """Run a scenario (default: the article) to the end of its time window."""
    model = StanceModel(scenario, rng=seed, members=members)
    model.run()
    return model.result()
