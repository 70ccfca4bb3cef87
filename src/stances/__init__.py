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
    scenario: Scenario | str | Path | None = None,
    seed: int | None = None,
    members: int = 1,
    workers: int = 1,
) -> Result:
    """Run a scenario (default: the article) to the end of its time window.

    seed: the root seed (default: the scenario's); members: ensemble members, each drawing
    from its own seed (root seed, member index); workers: processes to spread them over.
    """
    from stances import ensemble
    from stances.model import ARTICLE

    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or ARTICLE)
    return ensemble.run(spec, members=members, seed=seed, workers=workers)
