"""StanceModel as a Mesa model: construction, stepping, history, seeds, members, batch_run,
and the article replay showing the directions the article reports."""

from __future__ import annotations

import bisect
import inspect
import itertools
import threading
from datetime import date, timedelta

import mesa
import numpy as np
import pandas as pd
import pytest
from conftest import HEADER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import scores

import stances
from stances import StanceModel, api


@pytest.fixture(scope="module")
def article() -> stances.Result:
    return stances.run()


def test_no_argument_constructor_builds_the_article():
    model = StanceModel()
    assert isinstance(model, mesa.Model)
    assert model.spec.actor_ids == ("IND", "CHN", "PAK", "AFG")
    assert sorted(agent.actor_id for agent in model.agents) == ["AFG", "CHN", "IND", "PAK"]
    assert model.members == 1


def test_running_turns_false_on_the_call_after_the_last_step():
    model = StanceModel()
    assert model.n_steps == len(model.dates) - 1
    assert model.n_steps > 0
    calls = 0
    while model.running:
        assert calls <= model.n_steps  # asks for one call past the end, no more
        model.step()
        calls += 1
        assert model.running == (calls <= model.n_steps)
        assert model.step_index == min(calls, model.n_steps)
    assert calls == model.n_steps + 1
    # the dates cover the window: t_0 = start, t_K is the first boundary after the end
    sc = model.spec
    assert model.dates[0] == sc.time.start
    assert model.dates[-2] <= sc.time.end < model.dates[-1]


def test_step_zero_is_the_initial_state():
    # to rounding: with entrenchment the model keeps artanh of the scores and reports tanh of it
    model = StanceModel()
    np.testing.assert_allclose(model.history[0, 0], model.spec.initial, rtol=0, atol=1e-15)
    model.run()
    np.testing.assert_allclose(model.history[0, 0], model.spec.initial, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(model.history[-1], model.R)


def test_history_stays_in_range(article):
    assert np.all(np.abs(article.history) <= 1.0)
    assert article.history.shape == (len(article.dates), 1, 4, 4)


def test_event_on_a_step_boundary_lands_in_the_step_that_starts_that_day(write_scenario):
    # weekly steps from 2025-01-01: boundaries 01-01, 01-08, 01-15, ...
    text = (
        HEADER + "events:\n"
        "  - {id: on-start, date: 2025-01-01, type: visit, actor: IND, target: AFG}\n"
        "  - {id: day-before, date: 2025-01-07, type: visit, actor: IND, target: AFG}\n"
        "  - {id: on-boundary, date: 2025-01-08, type: visit, actor: IND, target: AFG}\n"
        "  - {id: mid-step, date: 2025-01-10, type: visit, actor: IND, target: AFG}\n"
        "  - {id: on-later, date: 2025-01-29, type: visit, actor: IND, target: AFG}\n"
        "  - {id: last-day, date: 2025-03-31, type: visit, actor: IND, target: AFG}\n"
    )
    model = StanceModel(stances.load_scenario(write_scenario(text)))
    model.run()
    steps = {a.event.id: a.step for a in model.applied}
    # step k covers t_{k-1} <= d < t_k, so an event dated t_j happens in step j + 1
    assert model.dates[:2] == [date(2025, 1, 1), date(2025, 1, 8)]
    assert steps["on-start"] == 1
    assert steps["day-before"] == 1
    assert steps["on-boundary"] == 2
    assert steps["mid-step"] == 2
    assert steps["on-later"] == 5  # 2025-01-29 = t_4
    last = steps["last-day"]
    assert model.dates[last - 1] <= date(2025, 3, 31) < model.dates[last]


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.dates(date(2000, 1, 1), date(2030, 12, 31)),
    length=st.integers(1, 120),
    offset=st.floats(0, 1),
    step=st.sampled_from(["day", "3 days", "week", "2 weeks", "month", "2 months"]),
)
def test_every_event_lands_in_the_step_containing_its_date(tmp_path, start, length, offset, step):
    end = start + timedelta(days=length)
    day = start + timedelta(days=round(offset * length))
    text = (
        "title: t\n"
        f"time: {{start: {start}, end: {end}, step: {step}}}\n"
        "actors: {AAA: {name: A}, BBB: {name: B}}\n"
        f"events:\n  - {{id: e, date: {day}, type: visit, actor: AAA, target: BBB}}\n"
    )
    path = tmp_path / "t.yaml"
    path.write_text(text)
    model = StanceModel(stances.load_scenario(path))
    model.run()
    assert model.dates[0] == start and model.dates[-2] <= end < model.dates[-1]
    assert all(a < b for a, b in itertools.pairwise(model.dates))
    (applied,) = model.applied
    assert model.dates[applied.step - 1] <= day < model.dates[applied.step]


def test_event_effect_shows_at_the_end_of_its_step(write_scenario):
    text = (
        HEADER
        + "events:\n  - {id: hit, date: 2025-01-08, type: airstrike, actor: IND, target: AFG}\n"
    )
    model = StanceModel(stances.load_scenario(write_scenario(text)))
    model.run()
    afg, ind = model.spec.index("AFG"), model.spec.index("IND")
    views = model.history[:, 0, afg, ind]
    assert views[0] == views[1] == 0.0  # step 1 (01-01 to 01-08) has no event
    assert views[2] < 0.0  # the state at 01-15 has the strike of 01-08


@pytest.mark.parametrize("seed", [0, 3, 11])
def test_same_seed_same_relations(seed):
    first = stances.run(seed=seed).relations
    second = stances.run(seed=seed).relations
    pd.testing.assert_frame_equal(first, second)


def test_seed_defaults_to_the_scenario_seed():
    model = StanceModel()
    assert model.seed == model.spec.seed == 7
    assert StanceModel(rng=5).seed == 5


def test_members_without_noise_are_identical():
    model = StanceModel(members=3)
    model.run()
    assert model.history.shape[1] == 3
    single = StanceModel()
    single.run()
    for k in range(3):
        np.testing.assert_array_equal(model.history[:, k], single.history[:, 0])
    relations = api.result_of(model).relations
    assert sorted(relations["member"].unique()) == [0, 1, 2]
    scores = relations.pivot_table(
        index=["step", "actor", "toward"], columns="member", values="score"
    )
    assert (scores[0] == scores[1]).all() and (scores[0] == scores[2]).all()


def test_parameter_override_changes_the_run():
    weak = StanceModel(kappa_observer=0.0)
    assert weak.spec.parameters.kappa_observer == 0.0
    assert weak.coefficients.kappa_observer == 0.0
    with pytest.raises(ValueError):
        StanceModel(kappa_observer=2.0)


def test_mesa_batch_run():
    kwargs = {"kappa_observer": [0.1, 0.2]}
    options = {"number_processes": 1, "data_collection_period": 1, "display_progress": False}
    if "rng" in inspect.signature(mesa.batch_run).parameters:  # Mesa >= 3.5
        options["rng"] = [1, 2]
    else:
        options["iterations"] = 2
    rows = pd.DataFrame(mesa.batch_run(StanceModel, parameters=kwargs, **options))
    assert set(rows["kappa_observer"]) == {0.1, 0.2}
    assert rows["RunId"].nunique() == 4
    ids = ("IND", "CHN", "PAK", "AFG")
    dyads = [f"{a} -> {b}" for a in ids for b in ids if a != b]
    assert set(dyads) <= set(rows.columns)
    for kappa in (0.1, 0.2):
        model = StanceModel(kappa_observer=kappa)
        model.run()
        subset = rows[rows["kappa_observer"] == kappa]
        assert subset["Step"].max() >= model.n_steps - 1
        for _, row in subset.drop_duplicates(["RunId", "Step"]).iterrows():
            s = int(row["Step"])
            for i, a in enumerate(ids):
                for j, b in enumerate(ids):
                    if i != j:
                        assert row[f"{a} -> {b}"] == model.history[s, 0, i, j], (kappa, s, a, b)


# ---------------------------------------------------------------------------------------------
# The article replay: the directions the article reports, read from the run


def across(result: stances.Result, day: str, actor: str, toward: str) -> tuple[float, float]:
    """The score at the step boundary before the day and at the one after it."""
    d = date.fromisoformat(day)
    after = bisect.bisect_right(result.dates, d)  # first boundary after the day
    series = result.score_array(actor, toward)[:, 0]
    assert result.dates[after - 1] <= d < result.dates[after]
    return float(series[after - 1]), float(series[after])


def test_paktika_strike_lowers_afghanistans_view_of_pakistan(article):
    before, after = across(article, "2024-12-24", "AFG", "PAK")
    assert after < before


@pytest.mark.parametrize("day", ["2025-01-08", "2025-05-15"])  # Dubai meeting, Jaishankar call
@pytest.mark.parametrize(("actor", "toward"), [("IND", "AFG"), ("AFG", "IND")])
def test_india_afghanistan_outreach_raises_both_views(article, day, actor, toward):
    before, after = across(article, day, actor, toward)
    assert after > before


@pytest.mark.parametrize(
    ("actor", "toward"), [("PAK", "AFG"), ("AFG", "PAK"), ("PAK", "CHN"), ("AFG", "CHN")]
)
def test_beijing_mediation_raises_parties_and_credit(article, actor, toward):
    before, after = across(article, "2025-05-21", actor, toward)
    assert after > before


def test_article_events_all_applied_once(article):
    sc = stances.load_scenario(stances.engine.model.ARTICLE)
    applied = list(article.events.drop_duplicates("event")["event"])
    assert applied == [e.id for e in sc.events]


# --------------------------------------------------------------------------------------------
# The state's layout, events in some members only, and the event log's member totals


def test_state_and_history_keep_the_member_axis_last_in_memory():
    model = StanceModel(members=5)
    for array, member_axis in ((model.R, 0), (model.B, 0), (model.history, 1)):
        strides = np.abs(array.strides)
        assert strides[member_axis] == array.itemsize  # one score across members: contiguous
        assert strides[member_axis] == strides.min()
    assert model.R.shape == (5, 4, 4)
    assert model.history.shape == (model.n_steps + 1, 5, 4, 4)


def test_member_last_allocates_any_axis_last():
    from stances.engine.dynamics import member_last

    a = member_last((3, 7, 2, 5), axis=1)
    assert a.shape == (3, 7, 2, 5)
    assert a.strides[1] == a.itemsize
    assert np.shares_memory(a, a.transpose(0, 2, 3, 1))


UNCERTAIN_KAPPAS = {
    "parameters.kappa_target": "{uniform: [0.1, 0.9]}",
    "parameters.kappa_observer": "{uniform: [0.0, 0.5]}",
}


@pytest.mark.parametrize("event_id", ["paktika-strike", "border-retaliation", "beijing-trilateral"])
def test_an_event_in_some_members_moves_them_exactly_as_in_all_and_leaves_the_rest(event_id):
    """Applied in members 0, 2 and 5 only, an event changes those members exactly as applying
    it in every member does (per-member coefficients included) and no other member at all."""
    spec = stances.load_scenario(stances.engine.model.ARTICLE, UNCERTAIN_KAPPAS)
    event = next(e for e in spec.events if e.id == event_id)
    mask = np.array([True, False, True, False, False, True])
    some, every = (StanceModel(spec, members=6, rng=3, collect=False) for _ in range(2))
    assert not np.all(some.coefficients.kappa_target == some.coefficients.kappa_target[0])
    before = some.R.copy()
    logged = some.apply(event, members=mask)
    every.apply(event)
    np.testing.assert_array_equal(some.R[mask], every.R[mask])
    np.testing.assert_array_equal(some.R[~mask], before[~mask])
    assert not np.array_equal(some.R[mask], before[mask])
    assert some.applied == [logged]
    assert logged.tally.count == 3
    for total, state in ((logged.tally.before, before), (logged.tally.after, every.R)):
        np.testing.assert_allclose(
            logged.tally.mean(total),
            state[mask][:, logged.rows, logged.cols].mean(axis=0),
            rtol=0,
            atol=2.0**-31,
        )


def test_an_event_in_no_member_changes_nothing_and_is_logged_without_means():
    model = StanceModel(members=3, collect=False)
    before = model.R.copy()
    logged = model.apply(model.spec.events[0], members=np.zeros(3, dtype=bool))
    assert logged.tally.count == 0 and not logged.members.any()
    np.testing.assert_array_equal(model.R, before)
    rows = api.result_of(model).events
    assert (rows["members"] == 0).all()
    assert rows[["before", "after", "change", "strength"]].isna().all().all()


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.lists(scores, min_size=3, max_size=3),
        min_size=1,
        max_size=40,
    ),
    cuts=st.lists(st.integers(0, 40), max_size=5),
)
def test_member_totals_add_up_exactly_whatever_the_batches(values, cuts):
    """The log's totals of a run split into batches at any points equal those of the whole
    run to the last bit, and their mean is the float mean to within the fixed point."""
    from stances.engine.dynamics import Changes
    from stances.engine.log import FIXED_POINT, Tally

    before = np.array(values)
    after = -before[:, ::-1]
    strength = before[:, 0] * 10.0
    bounds = sorted({0, len(before), *(c for c in cuts if c < len(before))})

    def tally(part: slice) -> Tally:
        cells = np.arange(3)
        changes = Changes(cells, cells, before[part], after[part], after[part])
        return Tally.of(changes, strength[part])

    whole = tally(slice(None))
    pieces = [tally(slice(a, b)) for a, b in itertools.pairwise(bounds)]
    summed = pieces[0]
    for piece in pieces[1:]:
        summed = summed + piece
    assert summed.count == whole.count == len(before)
    np.testing.assert_array_equal(summed.before, whole.before)
    np.testing.assert_array_equal(summed.after, whole.after)
    assert summed.strength == whole.strength
    tolerance = 1.0 / FIXED_POINT
    np.testing.assert_allclose(
        whole.mean(whole.before), before.mean(axis=0), rtol=0, atol=tolerance
    )
    np.testing.assert_allclose(whole.mean(whole.after), after.mean(axis=0), rtol=0, atol=tolerance)
    assert abs(whole.mean(whole.strength) - strength.mean()) <= 10 * tolerance


def test_models_built_in_one_thread_and_run_in_two_keep_to_themselves():
    """Each event works in the scratch memory of the thread running it, so two models run at
    once in two threads end exactly as each does alone, wherever they were built."""
    spec = stances.load_scenario(stances.engine.model.ARTICLE, UNCERTAIN_KAPPAS)

    def build(seed: int) -> StanceModel:
        return StanceModel(spec, members=4000, rng=seed, collect=False)

    alone = {}
    for seed in (1, 2):
        model = build(seed)
        model.run()
        alone[seed] = model.history
    for _ in range(3):
        together = {seed: build(seed) for seed in (1, 2)}
        workers = [threading.Thread(target=m.run) for m in together.values()]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        for seed, model in together.items():
            np.testing.assert_array_equal(model.history, alone[seed])


def test_apply_takes_one_strength_or_one_per_member():
    event = stances.load_scenario(stances.engine.model.ARTICLE).events[0]
    models = [StanceModel(members=3, collect=False) for _ in range(3)]
    models[0].apply(event)
    models[1].apply(event, strength=[event.strength] * 3)
    models[2].apply(event, strength=event.strength, members=np.array([True, False, True]))
    np.testing.assert_array_equal(models[0].R, models[1].R)
    np.testing.assert_array_equal(models[2].R[[0, 2]], models[0].R[[0, 2]])


@settings(max_examples=60, deadline=None)
@given(
    writes=st.lists(
        st.tuples(
            st.integers(0, 3),
            st.integers(0, 3),
            st.floats(-3, 3, allow_nan=False) | st.just(-0.0),
        ),
        max_size=6,
    )
)
def test_the_kept_scores_follow_every_write_into_the_state(writes):
    """R under entrenchment is kept between calls; after any write into the state it is
    tanh of the new state, bit for bit, and it cannot be written to."""
    model = StanceModel()
    for i, j, value in writes:
        first = model.R
        model.state[0, i, j] = value
        scores = model.R
        np.testing.assert_array_equal(scores, np.tanh(model.state))
        assert not scores.flags.writeable
        if np.tanh(value) != first[0, i, j]:
            assert scores is not first
    model.step()
    np.testing.assert_array_equal(model.R, np.tanh(model.state))
