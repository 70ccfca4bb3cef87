"""The model against published results (docs/validation.md states each claim and tolerance).

The claims about the decay half-life, the catalogue weights and the article's directions of
change are checked where those parts are tested: tests/test_dynamics.py, tests/test_catalogue.py
and tests/test_model.py (docs/validation.md names the tests).
"""

from __future__ import annotations

import numpy as np
import pytest

from stances.engine.dynamics import friedkin_johnsen_limit, influence_weights
from stances.engine.model import StanceModel
from stances.scenario import load_scenario
from tests.validation.published import friedkin_johnsen_error, kulakowski_case, marvel_case

FJ_TOLERANCE = 1e-9
BLOW_UP_TOLERANCE = 1e-4  # relative error of the blow-up time


@pytest.mark.parametrize("n", [3, 10, 30])
@pytest.mark.parametrize("seed", range(5))
def test_friedkin_johnsen_converges_to_its_closed_form(n, seed):
    # Friedkin & Johnsen (1990): x* = (I - L W)^-1 (I - L) x(0)
    assert friedkin_johnsen_error(n, seed) < FJ_TOLERANCE


FIXED = """
title: positions with relations held fixed
time: {{start: 2025-01-06, end: 2033-01-01, step: week}}
actors:
  A: {{name: A}}
  B: {{name: B}}
  C: {{name: C}}
  D: {{name: D}}
relations:
  A -> B: 0.6
  A -> C: -0.4
  B -> A: 0.3
  B -> D: 0.8
  C -> A: 0.5
  C -> B: 0.2
  D -> C: 0.9
parameters: {{kappa_target: 0, kappa_actor: 0, kappa_observer: 0, kappa_parties: 0, kappa_credit: 0}}
issues:
  x:
    description: a test issue
    positions:
      A: {{at: 0.1, susceptibility: {a}, capability: 1.0}}
      B: {{at: 0.9, susceptibility: {b}, capability: 2.0}}
      C: {{at: 0.4, susceptibility: {c}, capability: 0.5}}
      D: {{at: 0.7, susceptibility: {d}, capability: 1.0}}
"""


@pytest.mark.parametrize("lam", [(0.5, 0.5, 0.5, 0.5), (0.9, 0.1, 0.0, 0.7), (0.3, 0.95, 0.6, 0.2)])
def test_model_positions_reach_the_friedkin_johnsen_limit(tmp_path, lam):
    # With no events the relations stay at their baseline, so W is fixed and the model's
    # positions must converge to the closed form built from that W.
    path = tmp_path / "fixed.yaml"
    path.write_text(FIXED.format(a=lam[0], b=lam[1], c=lam[2], d=lam[3]), encoding="utf-8")
    scenario = load_scenario(path)
    model = StanceModel(scenario)
    model.run()
    issue = scenario.issues["x"]
    W = influence_weights(scenario.initial[None], issue.capability, issue.takes_part)[0]
    expected = friedkin_johnsen_limit(issue.position, W, issue.susceptibility)
    assert np.abs(model.positions[-1, 0, 0] - expected).max() < FJ_TOLERANCE


@pytest.mark.parametrize("n", [4, 5, 8, 12, 20, 30, 50])
@pytest.mark.parametrize("seed", range(3))
def test_unbounded_balance_blows_up_at_one_over_lambda_max_into_two_factions(n, seed):
    # Marvel, Kleinberg, Kleinberg & Strogatz (2011): dX/dt = X^2 from symmetric X0 blows up at
    # t* = 1 / lambda_max(X0), splitting the actors by the signs of the leading eigenvector.
    relative_error, agreeing, lambda_max = marvel_case(n, seed)
    assert lambda_max > 0
    assert relative_error < BLOW_UP_TOLERANCE
    assert agreeing == 1.0


@pytest.mark.parametrize("n", [5, 10, 20])
@pytest.mark.parametrize("seed", range(5))
def test_bounded_balance_reaches_a_balanced_state(n, seed):
    # Kułakowski, Gawroński & Gronek (2005): from scores uniform in (-0.5, 0.5) the bounded
    # dynamics reach a state in which every triad is balanced.
    balanced, _ = kulakowski_case(n, seed)
    assert balanced
