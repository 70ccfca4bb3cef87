"""The named rule choices (docs/model.md): entrenchment, relative observers and a baseline that
moves, each checked against the rule written out by hand here in plain Python (math.tanh), and
the first rules left exactly as they were when the choices are off."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stances import StanceModel
from stances.catalogue import Form
from stances.engine import dynamics
from stances.engine.dynamics import FIRST_RULES, Act, Coefficients, Rules
from stances.engine.sampling import NUMERIC
from stances.scenario.models import Parameters

KAPPA = Coefficients(
    kappa_target=0.5, kappa_actor=0.25, kappa_observer=0.15, kappa_parties=0.4, kappa_credit=0.3
)
LATENT = Rules(entrenchment=True, relative_observers=False)
RELATIVE = Rules(entrenchment=False, relative_observers=True)
SCORE = st.floats(-0.95, 0.95)


def scores(values: dict[tuple[int, int], float], n: int = 3) -> np.ndarray:
    R = np.zeros((1, n, n))
    for (i, j), v in values.items():
        R[0, i, j] = v
    return R


def applied(R: np.ndarray, form: Form, actor: int, others: tuple, s: float, rules: Rules):
    """The scores after the act (applying it to the state the rules keep)."""
    state = rules.state(R.copy())
    dynamics.apply_act(state, Act(form, actor, others, np.array([s])), KAPPA, rules=rules)
    return rules.scores(state)


@settings(max_examples=50, deadline=None)
@given(ab=SCORE, ba=SCORE, ca=SCORE, cb=SCORE, s=st.floats(-1, 1))
def test_entrenched_directed_act_adds_its_rates_to_the_latent_affinity(ab, ba, ca, cb, s):
    R = scores({(0, 1): ab, (1, 0): ba, (2, 0): ca, (2, 1): cb})
    after = applied(R, Form.DIRECTED, 0, (1,), s, LATENT)
    assert after[0, 1, 0] == pytest.approx(math.tanh(math.atanh(ba) + 0.5 * s), abs=1e-12)
    assert after[0, 0, 1] == pytest.approx(math.tanh(math.atanh(ab) + 0.25 * s), abs=1e-12)
    # the observer C judges A by its view of B
    assert after[0, 2, 0] == pytest.approx(math.tanh(math.atanh(ca) + 0.15 * s * cb), abs=1e-12)
    assert after[0, 2, 1] == pytest.approx(cb, abs=1e-12)  # C's view of B is not moved


def test_one_truce_does_not_make_enemies_friends():
    # two states at war (-0.9 both ways) declare a truce (symmetric, Goldstein +9, s = 0.9)
    R = scores({(0, 1): -0.9, (1, 0): -0.9})
    latent = applied(R, Form.SYMMETRIC, 0, (1,), 0.9, LATENT)
    first = applied(R, Form.SYMMETRIC, 0, (1,), 0.9, FIRST_RULES)
    # by hand: each view takes kappa_target + kappa_actor = 0.75 of s in latent terms
    expected = math.tanh(math.atanh(-0.9) + (0.5 + 0.25) * 0.9)
    assert latent[0, 0, 1] == pytest.approx(expected, abs=1e-12)
    assert latent[0, 0, 1] < -0.5 and latent[0, 1, 0] < -0.5  # still hostile
    assert first[0, 0, 1] > 0.0  # the first rule makes them friends at once


def test_a_new_strike_on_an_enemy_still_deepens_the_grievance():
    R = scores({(1, 0): -0.9})
    state = LATENT.state(R.copy())
    before = state[0, 1, 0]
    dynamics.apply_act(state, Act(Form.DIRECTED, 0, (1,), np.array([-1.0])), KAPPA, rules=LATENT)
    assert state[0, 1, 0] - before == pytest.approx(-0.5, abs=1e-12)  # the whole kappa * s


@settings(max_examples=50, deadline=None)
@given(ab=SCORE, ba=SCORE, ca=SCORE, cb=SCORE, s=st.floats(-1, 1))
def test_relative_observer_weighs_by_its_share_of_concern(ab, ba, ca, cb, s):
    R = scores({(0, 1): ab, (1, 0): ba, (2, 0): ca, (2, 1): cb})
    after = applied(R, Form.DIRECTED, 0, (1,), s, RELATIVE)
    total = abs(ca) + abs(cb)
    care = abs(cb) / total if total > 0 else 0.0
    friendship = min(max((ab + ba) / 2, 0.0), 1.0) if s > 0 else 1.0
    rate = max(-1.0, min(1.0, 0.15 * s * cb * care * friendship))
    expected = ca + rate * (1 - ca) if rate > 0 else ca + rate * (1 + ca)
    assert after[0, 2, 0] == pytest.approx(expected, abs=1e-12)
    # the parties' own moves are those of the first rules
    first = applied(R, Form.DIRECTED, 0, (1,), s, FIRST_RULES)
    np.testing.assert_allclose(after[0, :2, :2], first[0, :2, :2], atol=1e-15)


def test_a_partners_strike_on_a_mild_friend_barely_dents_an_alliance():
    # China (2) regards Pakistan (0) +0.8 and Afghanistan (1) +0.3; Pakistan strikes Afghanistan
    R = scores({(2, 0): 0.8, (2, 1): 0.3, (0, 1): -0.3, (1, 0): -0.3})
    plain = applied(R, Form.DIRECTED, 0, (1,), -1.0, FIRST_RULES)[0, 2, 0]
    relative = applied(R, Form.DIRECTED, 0, (1,), -1.0, RELATIVE)[0, 2, 0]
    assert 0.8 - relative == pytest.approx((0.8 - plain) * 0.3 / 1.1, rel=1e-12)


def test_cooperation_between_enemies_aligns_no_observer():
    # India (2) regards Pakistan (0) -0.7 and Kabul (1) +0.1; Pakistan and Kabul meet at -0.6
    R = scores({(2, 0): -0.7, (2, 1): 0.1, (0, 1): -0.6, (1, 0): -0.6})
    after = applied(R, Form.MEETING, 0, (1,), 0.4, RELATIVE)
    assert after[0, 2, 0] == -0.7 and after[0, 2, 1] == 0.1
    lowered = applied(R, Form.MEETING, 0, (1,), 0.4, FIRST_RULES)
    assert lowered[0, 2, 1] < 0.1  # the first rule: Kabul loses Indian goodwill


def test_entrenched_noise_moves_the_scores_as_the_first_rule_does():
    rng = np.random.default_rng(1)
    R = rng.uniform(-0.9, 0.9, (4, 3, 3))
    eps = rng.standard_normal((4, 3, 3))
    sd = np.full(4, 0.1)
    first, latent = R.copy(), LATENT.state(R.copy())
    dynamics.jitter(first, sd, eps, FIRST_RULES)
    dynamics.jitter(latent, sd, eps, LATENT)
    np.testing.assert_allclose(LATENT.scores(latent), first, atol=1e-12)


def test_moving_baseline_follows_the_state_by_hand():
    f, g = 2 ** (-7 / 182), 2 ** (-7 / 728)
    S, B = np.full((1, 2, 2), -0.8), np.full((1, 2, 2), -0.2)
    s, b = -0.8, -0.2
    for _ in range(30):
        dynamics.decay(S, B, f)
        dynamics.follow(B, S, np.array([g]))
        s = b + (s - b) * f
        b = s + (b - s) * g
    assert S[0, 0, 1] == pytest.approx(s, abs=1e-14) and B[0, 0, 1] == pytest.approx(b, abs=1e-14)
    assert b < -0.2  # the baseline moved toward the lasting hostility


TEXT = """\
title: Two
time: {start: 2025-01-01, end: 2025-12-31, step: week}
actors: {A: {name: A}, B: {name: B}}
relations: {A <-> B: -0.6}
parameters: {entrenchment: true, baseline_half_life: 52 weeks, memory_half_life: 13 weeks}
events:
  - {id: strike, date: 2025-01-10, type: airstrike, actor: A, target: B}
"""


def test_model_with_every_rule_on_matches_a_hand_loop(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(TEXT)
    model = StanceModel(path)
    model.run()
    f, g = 2 ** (-1 / 13), 2 ** (-1 / 52)
    a = b = math.atanh(-0.6)  # B's view of A, as a latent affinity, and its baseline
    expected = [math.tanh(a)]
    for k in range(1, model.n_steps + 1):
        if k == 2:  # the strike falls in the second week (8 to 14 January)
            a += 0.5 * -1.0
        a = b + (a - b) * f
        b = a + (b - a) * g
        expected.append(math.tanh(a))
    np.testing.assert_allclose(model.history[:, 0, 1, 0], expected, atol=1e-12)


def test_every_numeric_parameter_is_drawn_and_only_rule_forms_are_not():
    assert set(Parameters.model_fields) - set(NUMERIC) == {"entrenchment", "observers"}
