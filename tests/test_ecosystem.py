"""docs/ecosystem.md runs as written: its EMA Workbench model (one run per experiment, then
every experiment as one ensemble through design=) and its SALib Sobol analysis.

SALib and EMA Workbench are in the `test` extra (and `ensemble-tools`), so they are imported
here outright: a missing one fails the tests instead of skipping them. The agreement of the
two EMA paths is asserted inside the documented code itself (to 1e-12); here the outcomes are
also checked against the runs of the experiments' values given by --set, one at a time.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import ema_workbench
import numpy as np
import SALib

from stances import api, load_scenario

ROOT = Path(__file__).resolve().parents[1]
ECOSYSTEM = (ROOT / "docs" / "ecosystem.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", ECOSYSTEM, re.S)


def run_blocks(monkeypatch, blocks: list[str]) -> dict:
    """Execute code blocks of the page in order, in one namespace, from the project folder."""
    monkeypatch.chdir(ROOT)
    space: dict = {"__name__": "ecosystem"}
    for block in blocks:
        exec(compile(block, "docs/ecosystem.md", "exec"), space)
    return space


def test_the_page_has_the_three_examples():
    assert len(BLOCKS) == 3
    assert "perform_experiments" in BLOCKS[0] and "DesignEvaluator" in BLOCKS[1]
    assert "sobol.analyze" in BLOCKS[2]
    assert ema_workbench and SALib and version("ema_workbench") and version("SALib")


def test_ema_workbench_model_and_its_vectorised_evaluator(monkeypatch):
    space = run_blocks(monkeypatch, BLOCKS[:2])
    experiments, outcomes, fast = space["experiments"], space["outcomes"], space["fast"]
    assert len(experiments) == 20 and len(fast["afg_pak"]) == 20
    # the first three experiments, each run alone from the file with its values --set
    keys = space["KEYS"]
    for k in range(3):
        sets = {keys[name]: repr(float(experiments[name].iloc[k])) for name in keys}
        alone = api.run(load_scenario(ROOT / "scenarios" / "article.yaml", sets))
        final = alone.history[-1, 0]
        ids = alone.actor_ids
        assert abs(final[ids.index("AFG"), ids.index("PAK")] - outcomes["afg_pak"][k]) <= 1e-12
        assert abs(final[ids.index("PAK"), ids.index("AFG")] - fast["pak_afg"][k]) <= 1e-12


def test_salib_sobol_analysis_over_a_design(monkeypatch):
    space = run_blocks(monkeypatch, BLOCKS[2:])
    X, result, indices = space["X"], space["result"], space["indices"]
    assert X.shape == (64 * (2 * 6 + 2), 6)
    np.testing.assert_allclose(result.experiments().to_numpy(dtype=float), X, rtol=1e-15)
    assert np.isfinite(indices["S1"]).all() and np.isfinite(indices["ST"]).all()
    # the half-life moves the final score most (a strong, stable first-order effect)
    names = space["problem"]["names"]
    assert names[int(np.argmax(indices["ST"]))] == "parameters.memory_half_life"
