"""Reciprocity and consent: a reactive actor's cooperation respects the other side's state.

The rules checked (docs/model.md, "Reciprocity" and "Consent"):

    reciprocity  a cooperative act that needs the other side (a meeting, a mediation, a joint
                 (symmetric) act, or a directed act of CAMEO root 04 consult, 06 material
                 cooperation or 07 provide aid) is open to actor a, in a member, only if every
                 other side o it names regards a at R[o, a] >= 0 there: the target, each party
                 of a meeting, each party of a mediation (judging the mediator). A closed
                 candidate is left out (utility -inf): no refusal, not among the alternatives.
    consent      a party with interests refuses a joint act only if its discomfort strictly
                 rises (gain < 0); an indifferent party (gain exactly 0) consents.

Which named types need the other side is worked out below by hand from the CAMEO table; which
candidates are open, from the scores written in the file (or the values each member drew).
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import score_tenths, small_worlds, worlds_with_interests
from test_policies import THREE, hand_case_text

import stances
from stances import StanceModel
from stances.catalogue import named_types
from stances.engine.log import Applied
from stances.engine.policies import needs_the_other_side

IDS = ("A", "B", "C")

# By hand from the CAMEO table (code, weight, form in the catalogue): cooperative (weight > 0)
# and a meeting, a mediation, a joint act, or directed with root 04, 06 or 07.
NEED_THE_OTHER_SIDE = {
    "phone_call",  # 041 +1.0 directed, consult
    "visit",  # 042 +1.9 directed, consult
    "host_visit",  # 043 +2.8 directed, consult
    "meet",  # 044 +2.5 meeting
    "mediate",  # 045 +5.0 mediation
    "negotiate",  # 046 +7.0 meeting
    "sign_agreement",  # 057 +8.0 meeting
    "upgrade_relations",  # 050 +3.5 symmetric
    "trade_cooperation",  # 061 +6.4 symmetric
    "security_cooperation",  # 062 +7.4 symmetric
    "economic_aid",  # 071 +7.4 directed, provide aid
    "humanitarian_aid",  # 073 +7.4 directed, provide aid
    "ceasefire",  # 0871 +9.0 symmetric
}
# the others: statement 010 (weight 0), sympathy 018 and praise 051, grant_recognition 054 and
# accept_envoy 050 (directed, roots 01 and 05: the actor's own word or act), and every
# conflictual type (condemn, threaten, reject_*, reduce_relations, deport, border_clash, ...)

REPERTOIRE = (
    "phone_call",
    "visit",
    "host_visit",
    "economic_aid",
    "upgrade_relations",
    "meet",
    "mediate",
    "praise",
    "statement",
    "condemn",
)


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


def three(
    a: str = "", b: str = "", c: str = "", relations: dict[str, float | str] | None = None
) -> str:
    """The three-actor file of tests/test_policies.py (one weekly step, the first rules)."""
    lines = "".join(f"  {key}: {value}\n" for key, value in (relations or {}).items())
    return THREE.format(a_extra=a, b_extra=b, c_extra=c, relations=lines)


def reactive(wants: str, repertoire: tuple[str, ...] | list[str], extra: str = "") -> str:
    """An actor's interests (one line, `KEY: {...}`) and a reactive policy."""
    return (
        f"    interests:\n      {wants}\n"
        f"    policy: {{kind: reactive, repertoire: [{', '.join(repertoire)}]{extra}}}\n"
    )


def open_by_hand(name: str, others: tuple[str, ...], actor: str, R: dict[str, float | str]) -> bool:
    """Reciprocity worked out from the written scores (an unwritten score is 0)."""
    if name not in NEED_THE_OTHER_SIDE:
        return True
    return all(R.get(f"{o} -> {actor}", 0.0) >= 0 for o in others)


def labels(model: StanceModel, actor: int = 0) -> list[str]:
    policy = model.actor_at(actor).policy
    return [c.label(model.spec.actor_ids) for c in policy.candidates]


# --------------------------------------------------------------------------------------------
# Which acts need the other side


def test_the_types_that_need_the_other_side_are_those_worked_out_by_hand():
    types = named_types()
    assert {name for name, kind in types.items() if needs_the_other_side(kind)} == (
        NEED_THE_OTHER_SIDE
    )


# --------------------------------------------------------------------------------------------
# Which candidates are open: the closed form


def test_which_candidates_are_open_in_a_hand_built_case(tmp_path):
    # B is hostile to A (-0.2), C neither (0: open); the mediator A is judged by B and C
    relations = {"B -> A": -0.2, "C -> A": 0.0, "A -> B": 0.5, "A -> C": -0.7, "B -> C": -0.9}
    text = three(a=reactive("B -> A: {want: 1}", REPERTOIRE), relations=relations)
    model = model_of(tmp_path, text)
    policy = model.actor_at(0).policy
    closed = dict(zip(labels(model), policy.closed(model.actor_at(0))[0].tolist(), strict=True))
    # every cooperative act needing B is closed; toward C everything is open, whatever A
    # thinks of C (-0.7); the mediation is closed because B judges its mediator below 0 (the
    # parties' views of each other play no part); praise, statement and condemn are A's own
    expected_closed = {
        "phone_call B",
        "visit B",
        "host_visit B",
        "economic_aid B",
        "upgrade_relations B",
        "meet B",
        "mediate B+C",
    }
    assert {label for label, shut in closed.items() if shut} == expected_closed
    assert set(closed) == {f"{t} {o}" for t in REPERTOIRE if t != "mediate" for o in "BC"} | {
        "mediate B+C"
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(score_tenths, min_size=6, max_size=6))
def test_open_exactly_where_every_other_side_regards_the_actor_at_zero_or_above(
    tmp_path_factory, values
):
    pairs = [(i, j) for i in IDS for j in IDS if i != j]
    relations = {f"{i} -> {j}": v for (i, j), v in zip(pairs, values, strict=True)}
    text = three(a=reactive("B -> A: {want: 1}", REPERTOIRE), relations=relations)
    model = model_of(tmp_path_factory.mktemp("open"), text)
    actor = model.actor_at(0)
    closed = actor.policy.closed(actor)[0]
    for c, cand in enumerate(actor.policy.candidates):
        others = tuple(IDS[i] for i in cand.others)
        assert closed[c] == (not open_by_hand(cand.type.name, others, "A", relations)), (
            cand.label(IDS),
            relations,
        )


# --------------------------------------------------------------------------------------------
# A hostile target closes an upgrade


def upgrade_case(b_to_a: float, extra: str = "", events: str = "") -> str:
    """A wants B -> A at least 0.5 and may only upgrade relations; B has no interests."""
    text = three(
        a=reactive("B -> A: {want: 0.5, side: at_least}", ["upgrade_relations"], extra),
        relations={"B -> A": b_to_a},
    )
    return text + events


@pytest.mark.parametrize(("b_to_a", "open_"), [(-0.3, False), (-0.01, False), (0.0, True)])
def test_a_hostile_target_closes_an_upgrade(tmp_path, b_to_a, open_):
    model = model_of(tmp_path, upgrade_case(b_to_a))
    model.step()
    # upgrading with B raises B -> A (A's gain far above the cost 0.05); with C it moves
    # nothing A cares about (utility -0.05): so A upgrades with B exactly when B allows it
    if open_:
        (act,) = decided(model)
        assert (act.event.type.name, act.event.target) == ("upgrade_relations", "B")
    else:
        assert decided(model) == []
    assert refused(model) == []  # a closed candidate is not a refusal


def test_with_reciprocity_off_the_hostile_target_is_courted(tmp_path):
    model = model_of(tmp_path, upgrade_case(-0.3, extra=", reciprocity: false"))
    model.step()
    (act,) = decided(model)
    assert (act.event.type.name, act.event.target) == ("upgrade_relations", "B")
    assert refused(model) == []  # B has no interests: it consents


def test_an_actor_that_strikes_closes_its_own_door(tmp_path):
    # B -> A starts at 0.2 (open); A's airstrike on B on the step's first day moves it, under the
    # first rules, by sat(0.2, 0.5 * -1) = 0.2 - 0.5 * 1.2 = -0.4 before A decides: closed
    strike = "events:\n  - {id: strike, date: 2025-01-01, type: airstrike, actor: A, target: B}\n"
    model = model_of(tmp_path, upgrade_case(0.2, events=strike))
    model.step()
    (hit,) = model.applied
    assert hit.event.id == "strike"
    cells = list(zip(hit.rows.tolist(), hit.cols.tolist(), strict=True))
    assert hit.tally.mean(hit.tally.after)[cells.index((1, 0))] == pytest.approx(-0.4, abs=1e-9)
    assert decided(model) == [] and refused(model) == []
    # without the strike, the same A upgrades
    calm = model_of(tmp_path, upgrade_case(0.2))
    calm.step()
    assert [a.event.type.name for a in decided(calm)] == ["upgrade_relations"]


def test_closed_candidates_are_not_among_the_alternatives(tmp_path):
    # the hand case of tests/test_policies.py with reciprocity on: B -> A = -0.5 closes
    # phone_call -> B (utility 0.169375 there), so A takes the next best, condemn -> C
    # (0.082975); the alternatives are the open others, phone_call -> C (C -> A = 0: open,
    # -0.07255625) and condemn -> B (-0.2025)
    model = model_of(tmp_path, hand_case_text(-0.5, reciprocity=True))
    model.step()
    (act,) = decided(model)
    assert (act.event.type.name, act.event.target) == ("condemn", "C")
    assert act.utility[0] == pytest.approx(0.082975, abs=1e-9)
    assert [name for name, _ in act.alternatives] == ["phone_call C", "condemn B"]
    np.testing.assert_allclose(
        [u for _, u in act.alternatives], [-0.07255625, -0.2025], rtol=0, atol=1e-9
    )
    assert refused(model) == []


# --------------------------------------------------------------------------------------------
# Mediation: the parties judge the mediator


MEDIATOR = reactive("A <-> B: {want: 1}", ["mediate"])


@pytest.mark.parametrize(
    ("a_to_c", "b_to_c", "open_"),
    [(0.2, 0.0, True), (0.0, 0.0, True), (-0.1, 0.3, False), (0.3, -0.1, False)],
)
def test_mediation_parties_judge_the_mediator(tmp_path, a_to_c, b_to_c, open_):
    # A and B are hostile to each other (-0.6 both ways) and C dislikes A (-0.5): neither plays
    # a part; the mediation is open exactly when A -> C >= 0 and B -> C >= 0
    relations = {"A -> B": -0.6, "B -> A": -0.6, "C -> A": -0.5, "A -> C": a_to_c, "B -> C": b_to_c}
    model = model_of(tmp_path, three(c=MEDIATOR, relations=relations))
    actor = model.actor_at(2)
    (closed,) = actor.policy.closed(actor)[0].tolist()
    assert closed == (not open_)
    model.step()
    # C wants A <-> B = 1 from -0.6: bringing them together (both by 0.4 * 0.5 of the room
    # left, to -0.6 + 0.2 * 1.6 = -0.28) gains 2 * (1.6**2 - 1.28**2) = 1.8432 > cost 0.05,
    # and A and B, without interests, consent
    if open_:
        (act,) = decided(model)
        assert act.event.type.name == "mediate" and act.event.parties == ("A", "B")
        assert act.utility[0] == pytest.approx(2 * (1.6**2 - 1.28**2) - 0.05, abs=1e-9)
    else:
        assert decided(model) == []
    assert refused(model) == []


# --------------------------------------------------------------------------------------------
# Consent: an indifferent party consents


UPGRADER = reactive("B -> C: {want: 1}", ["upgrade_relations"])


@pytest.mark.parametrize(
    "b_interest",
    [
        # untouched: upgrading C <-> B moves B -> C, C -> B and the observer A's views of B
        # and C, never B -> A, so B's gain is exactly 0
        "B -> A: {want: 0.5}",
        # touched but met before and after: B -> C rises from 0, and at_least -0.5 holds
        "B -> C: {want: -0.5, side: at_least}",
    ],
)
def test_an_indifferent_party_consents(tmp_path, b_interest):
    text = three(b=f"    interests:\n      {b_interest}\n", c=UPGRADER)
    model = model_of(tmp_path, text)
    party = model.actor_at(1)
    assert party.discomfort()[0] == pytest.approx(0.25 if "B -> A" in b_interest else 0.0)
    model.step()
    (act,) = decided(model)
    assert (act.event.actor, act.event.type.name, act.event.target) == (
        "C",
        "upgrade_relations",
        "B",
    )
    assert refused(model) == []
    # B's discomfort did not change: it was indifferent (with the old rule, gain <= 0, it
    # would have refused)
    assert party.discomfort()[0] == pytest.approx(0.25 if "B -> A" in b_interest else 0.0)


def test_a_party_that_strictly_loses_still_refuses(tmp_path):
    # B wants B -> C at most -0.5; at 0 it is 0.5 over, and the upgrade raises B -> C: it loses
    text = three(b="    interests:\n      B -> C: {want: -0.5, side: at_most}\n", c=UPGRADER)
    model = model_of(tmp_path, text)
    model.step()
    assert decided(model) == []
    (no,) = refused(model)
    assert (no.event.actor, no.event.type.name, no.event.target) == ("B", "reject_proposal", "C")


# --------------------------------------------------------------------------------------------
# Per member


def test_open_exactly_in_the_members_whose_target_regards_the_actor_at_zero_or_above(tmp_path):
    # B -> A is drawn per member from [-0.5, 0.5]; C -> A = -1 closes phone_call -> C in every
    # member; with cost 0 a call to B gains wherever it is open (A wants B -> A = 1)
    text = three(
        a=reactive("B -> A: {want: 1}", ["phone_call"], ", cost: 0"),
        relations={"B -> A": "{uniform: [-0.5, 0.5]}", "C -> A": -1},
    )
    members = 24
    model = model_of(tmp_path, text, members=members)
    drawn = model.draws.initial[:, 1, 0]  # each member's drawn B -> A
    assert (drawn < 0).any() and (drawn >= 0).any()
    actor = model.actor_at(0)
    closed = actor.policy.closed(actor)
    by_label = dict(zip(labels(model), closed.T, strict=True))
    np.testing.assert_array_equal(by_label["phone_call B"], drawn < 0)
    np.testing.assert_array_equal(by_label["phone_call C"], np.ones(members, dtype=bool))
    model.step()
    (act,) = decided(model)
    assert act.event.target == "B"
    np.testing.assert_array_equal(act.members, drawn >= 0)
    assert refused(model) == []


# --------------------------------------------------------------------------------------------
# Every decided cooperation was open, in generated worlds


COOPERATIVE = (
    "phone_call",
    "visit",
    "host_visit",
    "meet",
    "upgrade_relations",
    "economic_aid",
    "mediate",
    "condemn",
)
HOSTILE_EVENTS = ("condemn", "threaten", "airstrike", "phone_call", "visit")

reciprocity_worlds = worlds_with_interests(
    small_worlds(
        ("IND", "PAK", "AFG", "CHN"),
        start=date(2025, 1, 1),
        types=HOSTILE_EVENTS,
        weeks=(3, 6),
        max_events=3,
    )
)


def the_other_sides_views(applied: Applied, model: StanceModel) -> list[float]:
    """The logged score, just before the event, of each other side's view of the actor."""
    index = model.spec.index
    cells = list(zip(applied.rows.tolist(), applied.cols.tolist(), strict=True))
    before = applied.tally.mean(applied.tally.before)
    actor = index(applied.event.actor)
    return [float(before[cells.index((index(o), actor))]) for o in applied.event.others]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(world=reciprocity_worlds)
def test_every_decided_cooperation_was_open(tmp_path, world):
    policy = {
        "kind": "reactive",
        "repertoire": list(COOPERATIVE),
        "cost": 0.01,
        "cooldown": "1 week",
        "max_actions": 2,
    }
    model = model_of(tmp_path, world.yaml(policy))
    model.run()
    for a in decided(model):
        if needs_the_other_side(a.event.type):
            views = the_other_sides_views(a, model)
            assert min(views) >= 0, (a.event.id, views)


# --------------------------------------------------------------------------------------------
# The switch in a file


def test_reciprocity_that_is_not_true_or_false_is_one_problem_at_its_value(tmp_path):
    text = three(a=reactive("B -> A: {want: 1}", ["phone_call"], ", reciprocity: 1"))
    path = write(tmp_path, text)
    with pytest.raises(stances.ScenarioError) as info:
        stances.load_scenario(path)
    (problem,) = info.value.problems
    assert "reciprocity" in problem.where and "boolean" in problem.message
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "reciprocity" in row)
    col = text.splitlines()[line - 1].index("1}") + 1
    assert (problem.pos.line, problem.pos.col) == (line, col)
    assert str(problem).startswith(f"{path}:{line}:{col}: ")
