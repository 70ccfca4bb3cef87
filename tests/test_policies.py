"""Policies: how actors decide their own events.

In the manner of the Axelrod library's strategy tests, ``PolicyContract`` holds what every policy
must satisfy, and each ``Test...`` subclass only says which policy the generated 3-4 actor
scenarios give their actors. The rules checked (docs/model.md, "Actors that decide"):

    discomfort D = sum weight * gap**2, gap = value - want (at_least: only gap < 0 counts,
                   at_most: only gap > 0)
    utility      = D(now) - D(after the action, event intensity 1) - cost(type)

A reactive actor takes the best candidate (temperature 0) or a softmax draw, if its utility
exceeds the threshold and the type is out of cooldown, at most max_actions a step. Cooperative
meetings, mediations and joint (symmetric) acts need no party with interests to lose (an
indifferent party consents); a refusal is logged with origin 'refused' (reject_mediation,
CAMEO 126, or reject_proposal, 125). Reciprocity (cooperation closed while the other side is
hostile) has its own module, tests/test_reciprocity.py.

Expected numbers are worked by hand from the default coefficients: kappa_target 0.5,
kappa_actor 0.25, kappa_observer 0.15, kappa_parties 0.4, kappa_credit 0.3, and the CAMEO
weights phone_call +1.0, condemn -2.0, mediate +5.0, reject_mediation -5.0.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from helpers import position_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import World, hundredths, small_worlds, worlds_with_interests

import stances
from stances import ScenarioError, StanceModel, api
from stances.catalogue import Form
from stances.engine.dynamics import changes_of
from stances.engine.log import Applied
from stances.engine.policies import POLICIES, Policy, Reactive, Scripted
from stances.plots import event_list
from stances.scenario.models import POLICY_KINDS, REACTIVE_REPERTOIRE

ROOT = Path(__file__).resolve().parents[1]
ARTICLE_REACTIVE = ROOT / "scenarios" / "article-reactive.yaml"

IDS = ("IND", "PAK", "AFG", "CHN")
START = date(2025, 1, 1)
SCRIPTED_TYPES = ("visit", "condemn", "economic_aid", "threaten", "airstrike", "phone_call")

# The contract's tests are inherited by one class per policy, so each runs from several
# executors (classes) by design: every subclass is its own test of the same property.
CONTRACT = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.differing_executors,
    ],
)


# --------------------------------------------------------------------------------------------
# Generated scenarios


# 3-4 actors (the first with at least one interest), relations on every pair in tenths, 4-8
# weeks, up to 3 scripted events of the types above
policy_worlds = worlds_with_interests(
    small_worlds(IDS, start=START, types=SCRIPTED_TYPES, weeks=(4, 8), max_events=3)
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("policies")


def write(directory: Path, text: str) -> Path:
    path = directory / f"{hashlib.sha1(text.encode()).hexdigest()[:16]}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def model_of(directory: Path, text: str, **kwargs) -> StanceModel:
    return StanceModel(stances.load_scenario(write(directory, text)), collect=False, **kwargs)


def decided(model: StanceModel) -> list[Applied]:
    return [a for a in model.applied if a.origin == "decided"]


def refused(model: StanceModel) -> list[Applied]:
    return [a for a in model.applied if a.origin == "refused"]


def repertoire_of(model: StanceModel, actor: str) -> tuple[str, ...]:
    return tuple(model.spec.policies[actor].repertoire or REACTIVE_REPERTOIRE)


def after_of(applied: Applied, model: StanceModel, i: str, j: str) -> float:
    """The score (i -> j) right after the applied event (before decay), as logged: the mean
    over the members where it happened, exact to the log's fixed point (2**-32)."""
    index = model.spec.index
    cells = list(zip(applied.rows.tolist(), applied.cols.tolist(), strict=True))
    return float(applied.tally.mean(applied.tally.after)[cells.index((index(i), index(j)))])


# --------------------------------------------------------------------------------------------
# The contract


class PolicyContract:
    """What every policy must do. Subclasses set ``policy``: the `policy:` value of the file."""

    policy: ClassVar[object]

    def model(self, scratch: Path, world: World, **kwargs) -> StanceModel:
        return model_of(scratch, world.yaml(self.policy), **kwargs)

    @CONTRACT
    @given(world=policy_worlds)
    def test_same_seed_gives_the_same_run(self, scratch, world):
        runs = []
        for _ in range(2):
            model = self.model(scratch, world, rng=world.seed + 1)
            model.run()
            runs.append(model)
        first, second = runs
        log = [
            [(a.step, a.event.id, a.origin, a.members.tolist()) for a in m.applied] for m in runs
        ]
        assert log[0] == log[1]
        np.testing.assert_array_equal(first.history, second.history)
        for a, b in zip(first.applied, second.applied, strict=True):
            assert (a.utility is None) == (b.utility is None)
            if a.utility is not None:
                np.testing.assert_array_equal(a.utility, b.utility)
            assert a.alternatives == b.alternatives

    @CONTRACT
    @given(world=policy_worlds)
    def test_cooldown_is_respected(self, scratch, world):
        model = self.model(scratch, world)
        model.run()
        dates = defaultdict(list)
        for a in decided(model):
            dates[(a.event.actor, a.event.type.name)].append(a.event.date)
        for (actor, _), used in dates.items():
            cooldown = model.spec.policies[actor].cooldown.days
            used.sort()
            for earlier, later in itertools.pairwise(used):
                assert (later - earlier).days >= cooldown, (actor, used)

    @CONTRACT
    @given(world=policy_worlds)
    def test_never_acts_at_or_below_its_threshold(self, scratch, world):
        model = self.model(scratch, world)
        model.run()
        for a in decided(model):
            spec = model.spec.policies[a.event.actor]
            assert a.utility is not None
            chosen = a.utility[a.members]
            assert np.all(np.isfinite(chosen))
            assert np.all(chosen > spec.threshold), (a.event.id, chosen, spec.threshold)

    @CONTRACT
    @given(world=policy_worlds)
    def test_acts_only_from_its_repertoire_on_others(self, scratch, world):
        model = self.model(scratch, world)
        model.run()
        ids = model.spec.actor_ids
        for a in decided(model):
            ev = a.event
            assert ev.type.name in repertoire_of(model, ev.actor)
            others = ev.others
            assert ev.actor not in others
            assert set(others) <= set(ids)
            assert len(set(others)) == len(others)
            if ev.type.form is Form.MEDIATION:
                assert ev.target is None and len(ev.parties) == 2
            elif ev.type.form is Form.MEETING:
                assert ev.target is None and len(ev.parties) == 1
            else:
                assert ev.target is not None and ev.parties == ()
            assert ev.intensity == 1.0
            # alternatives: at most three, best first, other candidates of the repertoire
            alternatives = a.alternatives
            assert len(alternatives) <= 3
            values = [u for _, u in alternatives]
            assert values == sorted(values, reverse=True)
            label = f"{ev.type.name} {'+'.join(others)}"
            for name, _ in alternatives:
                assert name != label
                kind, who = name.split(" ")
                assert kind in repertoire_of(model, ev.actor)
                assert ev.actor not in who.split("+")
            if model.spec.policies[ev.actor].temperature == 0 and alternatives:
                assert float(a.utility[a.members].mean()) >= alternatives[0][1]
        for a in refused(model):
            ev = a.event
            assert ev.type.name in ("reject_mediation", "reject_proposal")
            assert ev.target in ids and ev.target != ev.actor

    @CONTRACT
    @given(world=policy_worlds)
    def test_at_most_max_actions_per_actor_per_step(self, scratch, world):
        model = self.model(scratch, world)
        model.run()
        count: Counter = Counter()
        for a in decided(model):
            count[(a.step, a.event.actor)] += int(a.members.sum())
        for (_, actor), n in count.items():
            assert n <= model.spec.policies[actor].max_actions * model.members

    @CONTRACT
    @given(world=policy_worlds, steps=st.integers(0, 8))
    def test_prediction_equals_application(self, scratch, world, steps):
        model = self.model(scratch, world)
        for _ in range(min(steps, model.n_steps)):
            model.step()
        ids = model.spec.actor_ids
        R0, S0 = model.R.copy(), model.state.copy()  # the scores and the state they are read from
        stakes = [model.actor_at(i).stakes for i in range(len(ids))]
        for i in range(len(ids)):
            actor = model.actor_at(i)
            candidates = getattr(actor.policy, "candidates", [])
            assert bool(candidates) == bool(actor.policy.classifier["acts"])
            if not candidates:
                continue
            utilities = actor.policy.utilities(actor)
            for c, cand in enumerate(candidates):
                act = model.act(cand.type.form, i, cand.others, cand.type.goldstein / 10)
                predicted = changes_of(S0, act, model.coefficients, rules=model.rules)
                event = cand.event(actor.actor_id, ids, model.decision_date, "test")
                applied = model.apply(event, origin="test")
                # the changed cells hold exactly the predicted values, the others are untouched
                cells = (slice(None), predicted.rows, predicted.cols)
                np.testing.assert_array_equal(model.R[cells], predicted.after)
                untouched = np.ones(R0.shape, dtype=bool)
                untouched[cells] = False
                np.testing.assert_array_equal(model.R[untouched], R0[untouched])
                # and the log names the same cells, with their mean after the event
                np.testing.assert_array_equal(applied.rows, predicted.rows)
                np.testing.assert_array_equal(applied.cols, predicted.cols)
                np.testing.assert_allclose(
                    applied.tally.mean(applied.tally.after),
                    predicted.after.mean(axis=0),
                    rtol=0,
                    atol=2.0**-31,
                )
                for s in stakes:
                    if s:
                        np.testing.assert_allclose(
                            s.discomfort_after(s.values(R0), predicted),
                            s.discomfort(model.R),
                            rtol=0,
                            atol=1e-12,
                        )
                # and the policy's utility is the fall in its discomfort minus the cost
                me = actor.stakes
                np.testing.assert_allclose(
                    utilities[:, c],
                    me.discomfort(R0) - me.discomfort(model.R) - cand.cost,
                    rtol=0,
                    atol=1e-12,
                )
                model.state[...] = S0
                model.applied.pop()

    @CONTRACT
    @given(world=policy_worlds)
    def test_decides_only_if_its_classifier_says_it_acts(self, scratch, world):
        model = self.model(scratch, world)
        model.run()
        deciders = {a.event.actor for a in decided(model)}
        for actor in model.agents:
            if not actor.policy.classifier["acts"]:
                assert actor.actor_id not in deciders
                assert actor.policy.decide(actor) == []


# every registered kind runs the contract with its defaults (a new kind needs no new line here)
for _kind in POLICIES:
    _name = f"TestDefault{_kind.title()}"
    globals()[_name] = type(_name, (PolicyContract,), {"policy": {"kind": _kind}})


def test_the_format_names_exactly_the_registered_kinds():
    assert set(POLICY_KINDS) == set(POLICIES)
    for kind, cls in POLICIES.items():
        assert cls.name == kind and issubclass(cls, Policy)
        assert set(cls.classifier) >= {"acts", "stochastic"}


class TestScriptedShorthand(PolicyContract):
    policy = "scripted"


class TestReactiveGreedy(PolicyContract):
    policy: ClassVar[object] = {"kind": "reactive", "cost": 0.02}


class TestReactiveWarm(PolicyContract):
    policy: ClassVar[object] = {"kind": "reactive", "cost": 0.02, "temperature": 0.05}


class TestReactiveTwoActions(PolicyContract):
    policy: ClassVar[object] = {
        "kind": "reactive",
        "repertoire": [
            "phone_call",
            "visit",
            "condemn",
            "threaten",
            "meet",
            "upgrade_relations",
            "mediate",
        ],
        "cost": 0.01,
        "costs": {"mediate": 0.03},
        "cooldown": "2 weeks",
        "max_actions": 2,
    }


class TestReactiveThreshold(PolicyContract):
    policy: ClassVar[object] = {
        "kind": "reactive",
        "cost": 0,
        "threshold": 0.02,
        "temperature": 0.05,
        "cooldown": "10 days",
    }


# --------------------------------------------------------------------------------------------
# A three-actor case worked by hand

# The hand computations below use the first rules (saturating moves, plain observers, a fixed
# baseline), whose moves are simplest to work out; test_hand_computed_choice_under_the_default_rules
# repeats one under the default rules.
FIRST_RULES_YAML = "parameters: {entrenchment: false, observers: plain, baseline_half_life: null}\n"

THREE = """\
title: Three
time: {{start: 2025-01-01, end: 2025-01-07, step: week}}
actors:
  A:
    name: Alpha
{a_extra}  B:
    name: Beta
{b_extra}  C:
    name: Gamma
{c_extra}relations:
{relations}""" + FIRST_RULES_YAML.replace("{", "{{").replace("}", "}}")


def test_scripted_is_the_default_and_reactive_is_the_shorthand(tmp_path):
    text = THREE.format(a_extra="    policy: reactive\n", b_extra="", c_extra="", relations="")
    model = model_of(tmp_path, text)
    assert isinstance(model.actor_at(0).policy, Reactive)
    assert isinstance(model.actor_at(1).policy, Scripted)
    assert Scripted.classifier["acts"] is False
    assert Reactive.classifier["acts"] is True


def hand_case(tmp_path: Path, b_to_a: float, costs: str = "", side: str = "exact") -> StanceModel:
    """A wants B -> A = 1 (weight 1) and may phone or condemn B or C; B -> C = -1."""
    return model_of(tmp_path, hand_case_text(b_to_a, costs, side))


def hand_case_text(
    b_to_a: float, costs: str = "", side: str = "exact", reciprocity: bool = False
) -> str:
    """The file of ``hand_case``. These cases work out the arithmetic of utilities, so by
    default they turn reciprocity off: a hostile B (B -> A < 0) would close phone_call -> B
    (tests/test_reciprocity.py works the same case out with it on)."""
    switch = "" if reciprocity else ", reciprocity: false"
    a_extra = (
        "    interests:\n"
        f"      B -> A: {{want: 1, weight: 1, side: {side}}}\n"
        f"    policy: {{kind: reactive, repertoire: [phone_call, condemn]{costs}{switch}}}\n"
    )
    relations = f"  B -> A: {b_to_a}\n  B -> C: -1\n  C -> B: 0.4\n  A -> C: 0.3\n"
    return THREE.format(a_extra=a_extra, b_extra="", c_extra="", relations=relations)


def test_hand_computed_choice_utility_and_alternatives(tmp_path):
    model = hand_case(tmp_path, -0.5)
    # D now = (-0.5 - 1)**2 = 2.25 (x = B -> A = -0.5; cost 0.05)
    # phone_call -> B (s = +0.1): B -> A moves at 0.5 * 0.1 = 0.05: -0.5 + 0.05 * 1.5 = -0.425
    #     D after 1.425**2 = 2.030625, utility 2.25 - 2.030625 - 0.05 = 0.169375
    # condemn -> C (s = -0.2): B observes, rate 0.15 * -0.2 * (B -> C = -1) = +0.03:
    #     -0.5 + 0.03 * 1.5 = -0.455, D 1.455**2 = 2.117025, utility 0.082975
    # phone_call -> C: rate 0.15 * 0.1 * -1 = -0.015: -0.5 - 0.015 * 0.5 = -0.5075,
    #     D 1.5075**2 = 2.27255625, utility -0.02255625 - 0.05 = -0.07255625
    # condemn -> B: rate 0.5 * -0.2 = -0.1: -0.5 - 0.1 * 0.5 = -0.55, D 2.4025, utility -0.2025
    model.step()
    (act,) = decided(model)
    assert act.event.type.name == "phone_call" and act.event.target == "B"
    assert act.event.actor == "A"
    assert act.event.date == date(2025, 1, 7)  # the last day of the step
    assert act.utility[0] == pytest.approx(0.169375, abs=1e-9)
    assert [name for name, _ in act.alternatives] == ["condemn C", "phone_call C", "condemn B"]
    np.testing.assert_allclose(
        [u for _, u in act.alternatives], [0.082975, -0.07255625, -0.2025], atol=1e-9
    )
    assert after_of(act, model, "B", "A") == pytest.approx(-0.425, abs=1e-9)
    assert refused(model) == []


def test_hand_computed_choice_follows_the_cost_of_each_type(tmp_path):
    model = hand_case(tmp_path, -0.5, costs=", costs: {phone_call: 0.2}")
    # phone_call now costs 0.2: phone_call -> B 0.219375 - 0.2 = 0.019375,
    # phone_call -> C -0.02255625 - 0.2 = -0.22255625; condemn keeps 0.05:
    # condemn -> C 0.082975 (best), condemn -> B -0.2025
    model.step()
    (act,) = decided(model)
    assert (act.event.type.name, act.event.target) == ("condemn", "C")
    assert act.utility[0] == pytest.approx(0.082975, abs=1e-9)
    assert [name for name, _ in act.alternatives] == ["phone_call B", "condemn B", "phone_call C"]
    np.testing.assert_allclose(
        [u for _, u in act.alternatives], [0.019375, -0.2025, -0.22255625], atol=1e-9
    )
    # B, observing A condemn its enemy C, warms to A at rate 0.03: -0.5 + 0.03 * 1.5 = -0.455
    assert after_of(act, model, "B", "A") == pytest.approx(-0.455, abs=1e-9)


def test_hand_computed_choice_under_the_default_rules(tmp_path):
    text = hand_case_text(-0.5).replace(FIRST_RULES_YAML, "")
    model = model_of(tmp_path, text)
    assert model.rules.entrenchment and model.rules.relative_observers
    # entrenchment: B -> A = tanh(a), a = artanh(-0.5); an act adds its rate to a
    a = math.atanh(-0.5)
    now = (-0.5 - 1) ** 2

    def utility(rate: float) -> float:
        return now - (math.tanh(a + rate) - 1) ** 2 - 0.05

    # phone_call -> B: rate 0.5 * 0.1; condemn -> B: 0.5 * -0.2
    # condemn -> C: B observes, 0.15 * -0.2 * (B -> C = -1), weighted by B's concern for C,
    #     |-1| / (|-0.5| + |-1|) = 2/3 (a hostile act is judged in full otherwise)
    # phone_call -> C: cooperation between A and C, judged by their friendship: the mean of
    #     A -> C = 0.3 and C -> A = 0, clipped to [0, 1], 0.15; rate 0.15 * 0.1 * -1 * 2/3 * 0.15
    expected = {
        "phone_call B": utility(0.05),
        "condemn C": utility(0.03 * 2 / 3),
        "phone_call C": utility(-0.015 * 2 / 3 * 0.15),
        "condemn B": utility(-0.1),
    }
    model.step()
    (act,) = decided(model)
    assert (act.event.type.name, act.event.target) == ("phone_call", "B")
    assert act.utility[0] == pytest.approx(expected["phone_call B"], abs=1e-9)
    ranked = sorted(expected, key=expected.__getitem__, reverse=True)[1:]
    assert [name for name, _ in act.alternatives] == ranked
    np.testing.assert_allclose(
        [u for _, u in act.alternatives], [expected[n] for n in ranked], atol=1e-9
    )
    assert after_of(act, model, "B", "A") == pytest.approx(math.tanh(a + 0.05), abs=1e-9)


def test_same_action_is_worth_more_further_from_what_is_wanted(tmp_path):
    far, near = hand_case(tmp_path, -0.5), hand_case(tmp_path, 0.5)
    labels = [c.label(far.spec.actor_ids) for c in far.actor_at(0).policy.candidates]
    phone_b = labels.index("phone_call B")
    u_far = far.actor_at(0).policy.utilities(far.actor_at(0))[0, phone_b]
    u_near = near.actor_at(0).policy.utilities(near.actor_at(0))[0, phone_b]
    # the gain of phone_call -> B is (1 - x)**2 * (1 - 0.95**2) = 0.0975 * (1 - x)**2
    assert u_far == pytest.approx(0.0975 * 1.5**2 - 0.05, abs=1e-12)  # 0.169375
    assert u_near == pytest.approx(0.0975 * 0.5**2 - 0.05, abs=1e-12)  # -0.025625
    assert u_far > u_near
    # so the far actor acts and the near one (every utility below 0) does not
    far.step()
    near.step()
    assert len(decided(far)) == 1
    assert decided(near) == []


@pytest.fixture(scope="module")
def hand_model(scratch) -> StanceModel:
    return hand_case(scratch, -0.5)


HUNDREDTHS = hundredths(-100, 99)


@settings(max_examples=30, deadline=None)
@given(x=HUNDREDTHS, y=HUNDREDTHS)
def test_utility_falls_as_the_actor_nears_its_want(hand_model, x, y):
    model = hand_model
    actor = model.actor_at(0)
    labels = [c.label(model.spec.actor_ids) for c in actor.policy.candidates]
    phone_b = labels.index("phone_call B")
    utility = {}
    for value in (x, y):
        model.R[0, 1, 0] = value  # B -> A
        utility[value] = actor.policy.utilities(actor)[0, phone_b]
        assert utility[value] == pytest.approx(0.0975 * (1 - value) ** 2 - 0.05, abs=1e-12)
    if x < y:
        assert utility[x] > utility[y]


def test_one_sided_interest_already_met_means_no_discomfort_and_no_action(tmp_path):
    text = THREE.format(
        a_extra=(
            "    interests:\n"
            "      B -> A: {want: 0.2, side: at_least}\n"
            "    policy: {kind: reactive, repertoire: [phone_call, condemn]}\n"
        ),
        b_extra="",
        c_extra="",
        relations="  B -> A: 0.5\n  B -> C: -1\n",
    )
    model = model_of(tmp_path, text)
    actor = model.actor_at(0)
    assert actor.discomfort()[0] == 0.0
    # every candidate leaves B -> A at or above 0.2 (condemn -> B, the worst: 0.5 - 0.1 * 1.5
    # = 0.35), so every utility is 0 - 0 - cost = -0.05
    np.testing.assert_allclose(actor.policy.utilities(actor), -0.05, rtol=0, atol=1e-15)
    model.run()
    assert decided(model) == []


@pytest.mark.parametrize(
    ("side", "value", "expected"),
    [
        # want 0.2, weight 2: D = 2 * gap**2 where the gap counts
        ("exact", 0.5, 2 * 0.3**2),
        ("exact", -0.5, 2 * 0.7**2),
        ("at_least", 0.5, 0.0),
        ("at_least", -0.5, 2 * 0.7**2),
        ("at_most", 0.5, 2 * 0.3**2),
        ("at_most", -0.5, 0.0),
    ],
)
def test_discomfort_by_side(tmp_path, side, value, expected):
    text = THREE.format(
        a_extra=f"    interests:\n      B -> A: {{want: 0.2, weight: 2, side: {side}}}\n",
        b_extra="",
        c_extra="",
        relations=f"  B -> A: {value}\n",
    )
    assert model_of(tmp_path, text).actor_at(0).discomfort()[0] == pytest.approx(expected)


def test_difference_and_both_way_interests(tmp_path):
    text = THREE.format(
        a_extra=(
            "    interests:\n"
            "      B -> A - B -> C: {want: 0.5, weight: 2}\n"
            "      A <-> C: {want: 1, weight: 0.5}\n"
        ),
        b_extra="",
        c_extra="",
        relations="  B -> A: 0.1\n  B -> C: -0.2\n  A -> C: 0.6\n  C -> A: -0.4\n",
    )
    model = model_of(tmp_path, text)
    # difference 0.1 - (-0.2) = 0.3, gap -0.2: 2 * 0.04 = 0.08;
    # A -> C: 0.5 * (0.6 - 1)**2 = 0.08; C -> A: 0.5 * (-0.4 - 1)**2 = 0.98
    assert model.actor_at(0).discomfort()[0] == pytest.approx(0.08 + 0.08 + 0.98)


# --------------------------------------------------------------------------------------------
# Consent


def mediation_case(
    tmp_path: Path,
    a_interest: str,
    b_interest: str,
    weeks: int = 1,
    relations: str = "  C -> B: 0.2\n",
):
    """C (reactive, only mediate, wants A <-> B = 1) may mediate between A and B."""
    end = date(2025, 1, 1) + timedelta(days=7 * weeks - 1)
    text = THREE.format(
        a_extra=a_interest,
        b_extra=b_interest,
        c_extra=(
            "    interests:\n"
            "      A <-> B: {want: 1}\n"
            "    policy: {kind: reactive, repertoire: [mediate]}\n"
        ),
        relations=relations,
    ).replace("end: 2025-01-07", f"end: {end}")
    return model_of(tmp_path, text)


WANTS_B = "    interests:\n      A -> B: {want: 0.5, side: at_least}\n"
WANTS_A = "    interests:\n      B -> A: {want: 0.5, side: at_least}\n"
SHUNS_A = "    interests:\n      B -> A: {want: -0.5, side: at_most}\n"


def test_mediation_happens_when_both_parties_gain(tmp_path):
    model = mediation_case(tmp_path, WANTS_B, WANTS_A)
    model.step()
    # C: D now 2 * (0 - 1)**2 = 2; mediation s = 0.5 moves A -> B and B -> A at 0.4 * 0.5 = 0.2
    # to 0.2: D after 2 * 0.8**2 = 1.28, utility 2 - 1.28 - 0.05 = 0.67.
    # A gains (0.5 - 0)**2 - (0.5 - 0.2)**2 = 0.16 > 0, and so does B.
    (act,) = decided(model)
    assert act.event.actor == "C" and act.event.type.name == "mediate"
    assert act.event.parties == ("A", "B")
    assert act.utility[0] == pytest.approx(0.67, abs=1e-9)
    assert after_of(act, model, "A", "B") == pytest.approx(0.2, abs=1e-9)
    assert after_of(act, model, "B", "A") == pytest.approx(0.2, abs=1e-9)
    # credit to the mediator at 0.3 * 0.5 = 0.15
    assert after_of(act, model, "A", "C") == pytest.approx(0.15, abs=1e-9)
    assert refused(model) == []


def test_mediation_refused_by_a_party_that_would_lose(tmp_path):
    model = mediation_case(tmp_path, WANTS_B, SHUNS_A)
    model.step()
    # B wants B -> A at most -0.5: now excess 0.5 (D 0.25), after 0.7 (D 0.49): it loses 0.24
    assert decided(model) == []
    (no,) = refused(model)
    assert no.event.type.name == "reject_mediation" and no.event.type.cameo == "126"
    assert (no.event.actor, no.event.target) == ("B", "C")
    assert no.members.tolist() == [True]
    assert no.utility is None
    # reject_mediation is -5.0: s = -0.5; C's view of B moves at 0.5 * -0.5 = -0.25:
    # 0.2 - 0.25 * (1 + 0.2) = -0.1; B's view of C at 0.25 * -0.5: 0 - 0.125 * 1 = -0.125
    assert after_of(no, model, "C", "B") == pytest.approx(-0.1, abs=1e-9)
    assert after_of(no, model, "B", "C") == pytest.approx(-0.125, abs=1e-9)
    # the parties were not brought together (A observes with A -> C = 0: no move; decay keeps 0)
    assert model.R[0, 0, 1] == 0.0 and model.R[0, 1, 0] == 0.0


def test_refused_proposal_still_starts_the_cooldown(tmp_path):
    # nine weekly steps; decision dates 01-07, 01-14, ..., 03-04; cooldown 4 weeks = 28 days:
    # C proposes on 01-07, 02-04 and 03-04 (nothing B cares about changes), B refuses each time.
    # B starts warm to C (0.5), so that its refusals (each moves B -> C by 0.25 * -0.5 of the
    # room left: 0.5 -> 0.3125 on 01-07, and back toward 0.5 as memory fades) leave it at 0 or
    # above and the parties still judge the mediator open to them (reciprocity).
    model = mediation_case(
        tmp_path, WANTS_B, SHUNS_A, weeks=9, relations="  C -> B: 0.2\n  B -> C: 0.5\n"
    )
    model.run()
    assert model.n_steps == 9
    assert decided(model) == []
    assert [a.event.date for a in refused(model)] == [
        date(2025, 1, 7),
        date(2025, 2, 4),
        date(2025, 3, 4),
    ]


def test_a_party_without_interests_consents(tmp_path):
    model = mediation_case(tmp_path, WANTS_B, "")
    model.step()
    (act,) = decided(model)
    assert act.event.type.name == "mediate" and act.event.parties == ("A", "B")
    assert refused(model) == []


def test_proposal_to_act_jointly_refused_as_reject_proposal(tmp_path):
    text = THREE.format(
        a_extra="",
        b_extra="    interests:\n      B -> C: {want: -1, side: at_most}\n",
        c_extra=(
            "    interests:\n"
            "      B -> C: {want: 1}\n"
            "    policy: {kind: reactive, repertoire: [upgrade_relations]}\n"
        ),
        relations="",
    )
    model = model_of(tmp_path, text)
    model.step()
    # upgrade_relations C <-> B (+3.5, symmetric) raises B -> C from 0 (C's gain), so B's excess
    # over -1 grows and B refuses. (Upgrading with A leaves B -> C alone: utility -0.05.)
    assert decided(model) == []
    (no,) = refused(model)
    assert no.event.type.name == "reject_proposal" and no.event.type.cameo == "125"
    assert (no.event.actor, no.event.target) == ("B", "C")


def test_two_refusals_in_one_step_are_two_distinct_events(tmp_path):
    # C may propose a meeting and a joint upgrade to B in the same step (max_actions 2); B, who
    # wants to be cold to C, refuses both. Two refusals are two events: they need two ids
    # (ids name events in what-ifs, and the plots tell events apart by (step, id)). B starts
    # warm to C (0.5), so that after the first refusal it still regards C at 0 or above and the
    # second proposal is open (reciprocity).
    text = THREE.format(
        a_extra="",
        b_extra="    interests:\n      B -> C: {want: -1, side: at_most}\n",
        c_extra=(
            "    interests:\n"
            "      B -> C: {want: 1}\n"
            "    policy: {kind: reactive, repertoire: [meet, upgrade_relations], max_actions: 2}\n"
        ),
        relations="  B -> C: 0.5\n",
    )
    model = model_of(tmp_path, text)
    model.step()
    # upgrade_relations -> B (s = 0.35): B -> C 0.5 -> 0.5 + 0.175 * 0.5 = 0.5875 -> 0.5875
    #   + 0.0875 * 0.4125 = 0.62359375, C's utility 0.5**2 - 0.37640625**2 - 0.05 = 0.0583 > 0
    #   (meet B: 0.5 + 0.1 * 0.5 = 0.55, utility 0.25 - 0.45**2 - 0.05 = -0.0025);
    #   refused: reject_proposal (s = -0.5) moves B -> C to 0.5 - 0.125 * 1.5 = 0.3125
    # meet B: B -> C 0.3125 -> 0.3125 + 0.1 * 0.6875 = 0.38125, utility 0.6875**2
    #   - 0.61875**2 - 0.05 = 0.0398046875 > 0; open (0.3125 >= 0), refused again
    refusals = refused(model)
    assert [a.event.type.name for a in refusals] == ["reject_proposal", "reject_proposal"]
    assert after_of(refusals[0], model, "B", "C") == pytest.approx(0.3125, abs=1e-9)
    ids = [a.event.id for a in model.applied]
    assert len(set(ids)) == len(ids), ids
    # the run's event list (used by the plots) keeps both
    assert list(event_list(api.result_of(model)).origin) == ["refused", "refused"]


# --------------------------------------------------------------------------------------------
# Ensemble members


@CONTRACT
@given(world=policy_worlds)
def test_members_decide_alike_at_temperature_zero(scratch, world):
    text = world.yaml(TestReactiveGreedy.policy)
    single = model_of(scratch, text)
    single.run()
    model = model_of(scratch, text, members=3)
    model.run()
    for a in model.applied:
        assert a.members.tolist() == [True, True, True], a.event.id
        if a.utility is not None:
            assert np.all(a.utility == a.utility[0])
    for k in (1, 2):
        np.testing.assert_array_equal(model.history[:, k], model.history[:, 0])
    assert [(a.event.id, a.origin) for a in model.applied] == [
        (a.event.id, a.origin) for a in single.applied
    ]
    np.testing.assert_allclose(model.history[:, 0], single.history[:, 0], rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Validation

BAD = """\
title: Bad
time: {{start: 2025-01-01, end: 2025-03-31, step: week}}
actors:
  IND: {{name: India}}
  PAK:
    name: Pakistan
{rest}"""


def the_problem(tmp_path: Path, text: str):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        stances.load_scenario(path)
    problems = info.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    (problem,) = problems
    assert problem.pos.file == str(path)
    assert problem.pos.line > 0 and problem.pos.col > 0
    assert str(problem).startswith(f"{path}:{problem.pos.line}:{problem.pos.col}: ")
    return problem


def test_interest_naming_an_unknown_actor_is_reported_with_a_suggestion(tmp_path):
    text = BAD.format(rest="    interests:\n      PAQ -> IND: {want: 0.5}\n")
    problem = the_problem(tmp_path, text)
    assert "unknown actor 'PAQ'" in problem.message
    assert "did you mean 'PAK'?" in problem.message
    assert (problem.pos.line, problem.pos.col) == position_of(text, "PAQ -> IND")


@pytest.mark.parametrize("key", ["PAK => IND", "PAK <-> IND - IND -> PAK", "PAK IND"])
def test_malformed_interest_key(tmp_path, key):
    text = BAD.format(rest=f"    interests:\n      {key}: {{want: 0.5}}\n")
    problem = the_problem(tmp_path, text)
    assert f"'{key}' is not an interest" in problem.message
    assert "A -> B" in problem.message
    assert (problem.pos.line, problem.pos.col) == position_of(text, key)


def test_unknown_type_in_repertoire(tmp_path):
    text = BAD.format(
        rest="    interests:\n      PAK -> IND: {want: 0.5}\n"
        "    policy: {kind: reactive, repertoire: [phone_call, condem]}\n"
    )
    problem = the_problem(tmp_path, text)
    assert "unknown event type 'condem'" in problem.message
    assert "did you mean 'condemn'?" in problem.message
    assert (problem.pos.line, problem.pos.col) == position_of(text, "condem]")


def test_cost_for_a_type_outside_the_repertoire(tmp_path):
    text = BAD.format(
        rest="    interests:\n      PAK -> IND: {want: 0.5}\n"
        "    policy: {kind: reactive, repertoire: [phone_call], costs: {visit: 0.1}}\n"
    )
    problem = the_problem(tmp_path, text)
    assert "'visit' is not in this actor's repertoire" in problem.message
    assert "phone_call" in problem.message
    assert (problem.pos.line, problem.pos.col) == position_of(text, "visit: 0.1")


def test_cost_for_a_type_outside_the_default_repertoire(tmp_path):
    text = BAD.format(
        rest="    interests:\n      PAK -> IND: {want: 0.5}\n"
        "    policy: {kind: reactive, costs: {visit: 0.1, mediate: 0.2}}\n"
    )
    problem = the_problem(tmp_path, text)
    assert "'visit' is not in this actor's repertoire" in problem.message
    for name in REACTIVE_REPERTOIRE:
        assert name in problem.message


def test_negative_interest_weight(tmp_path):
    text = BAD.format(rest="    interests:\n      PAK -> IND: {want: 0.5, weight: -1}\n")
    problem = the_problem(tmp_path, text)
    assert "at least 0" in problem.message and "-1" in problem.message
    line, col = position_of(text, "weight: -1")
    assert (problem.pos.line, problem.pos.col) == (line, col + len("weight: "))


@pytest.mark.parametrize(
    ("policy", "word"), [("reactiv", "reactiv"), ("{kind: reactve}", "reactve")]
)
def test_misspelt_policy_kind(tmp_path, policy, word):
    text = BAD.format(
        rest=f"    interests:\n      PAK -> IND: {{want: 0.5}}\n    policy: {policy}\n"
    )
    problem = the_problem(tmp_path, text)
    assert "'reactive'" in problem.message and "'scripted'" in problem.message
    assert "policy" in problem.where
    assert (problem.pos.line, problem.pos.col) == position_of(text, word)


# --------------------------------------------------------------------------------------------
# The reactive article scenario


def test_reactive_article_runs_and_logs_its_decisions(tmp_path):
    model = StanceModel(ARTICLE_REACTIVE)
    model.run()
    by_actor = defaultdict(list)
    for a in decided(model):
        by_actor[a.event.actor].append(a)
    # China and Kabul decide; Pakistan may not: its repertoire (visit, phone_call,
    # upgrade_relations) is all cooperation Kabul must take part in, closed while Kabul is
    # hostile to it (reciprocity), and not worth its cost once Kabul warms.
    for actor in ("CHN", "AFG"):
        assert by_actor[actor], f"{actor} decided nothing"
    for actor in ("CHN", "PAK", "AFG"):
        for a in by_actor[actor]:
            assert a.utility is not None and np.all(np.isfinite(a.utility[a.members]))
            assert a.alternatives
            assert a.event.type.name in repertoire_of(model, actor)
    assert "IND" not in by_actor
    assert not [a for a in model.applied if a.event.actor == "IND" and a.origin != "scripted"]
    saved = api.save(api.result_of(model), tmp_path / "run", plots=False)
    events = pd.read_csv(saved / "events.csv", keep_default_na=False)
    assert {"origin", "utility", "alternatives", "members"} <= set(events.columns)
    rows = events[events["origin"] == "decided"]
    assert set(rows["event"]) == {a.event.id for a in decided(model)}
    assert all(math.isfinite(float(u)) for u in rows["utility"])
    assert all(text != "" for text in rows["alternatives"])
    assert set(events["members"]) == {1}
    assert set(events["origin"]) <= {"scripted", "decided", "refused"}
