"""StanceModel's public face as Mesa sees it: the constructor's signature (SolaraViz),
keyword errors in the file loader's words, keyword overrides of uncertain parameters,
``mesa.batch_run``'s final row on Mesa 3.3 and 3.5, and the one-line repr."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest
from conftest import HEADER

import stances
from stances import StanceModel
from stances.engine.model import ARTICLE
from stances.errors import ScenarioError
from stances.scenario.types import ParameterError

# What SolaraViz may pass when it builds the model again from its controls: a scenario, the
# seed, options and parameter overrides.
SOLARA_PARAMS = {
    "scenario": str(ARTICLE),
    "rng": 3,
    "members": 1,
    "collect": True,
    "kappa_observer": 0.2,
    "memory_half_life": "26 weeks",
}


def mesa_solara_functions() -> dict:
    """Mesa's own checks and rebuild helpers, taken from the installed
    mesa/visualization/solara_viz.py: ``_check_model_params`` (Mesa 3.3: ``(init_func,
    model_params)``; 3.5: ``(model_or_func, model_params)``) and, in Mesa 3.5,
    ``_build_model_init_kwargs`` and ``_get_scenario_defaults`` (what Reset passes). That
    module imports solara, which the project does not install, so these functions' source is
    compiled on its own; they need only inspect and Mesa 3.5's Scenario class."""
    names = ("_check_model_params", "_build_model_init_kwargs", "_get_scenario_defaults")
    path = Path(mesa.__file__).parent / "visualization" / "solara_viz.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = [
        node
        for node in tree.body
        if (isinstance(node, ast.ImportFrom) and node.module == "__future__")
        or (isinstance(node, ast.FunctionDef) and node.name in names)
    ]
    namespace: dict = {"inspect": inspect}
    exec(compile(ast.Module(nodes, type_ignores=[]), str(path), "exec"), namespace)
    if "_build_model_init_kwargs" in namespace:
        namespace["Scenario"] = importlib.import_module("mesa.experimental.scenarios").Scenario
    return {name: namespace[name] for name in names if name in namespace}


def mesa_check_model_params():
    """The installed Mesa's ``_check_model_params``."""
    return mesa_solara_functions()["_check_model_params"]


def solara_reset_kwargs(model: StanceModel, params: dict) -> dict:
    """The keywords SolaraViz's Reset builds the model again with: Mesa 3.5's
    ``_build_model_init_kwargs`` as its ``do_reset`` calls it; Mesa 3.3's ``do_reset`` passes
    the parameters as they are (``model.value.__class__(**model_parameters.value)``)."""
    build = mesa_solara_functions().get("_build_model_init_kwargs")
    if build is None:  # Mesa 3.3
        return dict(params)
    return build(model, params, add_scenario_when_empty=True, require_model_accepts_scenario=True)


def mesa33_check(init_func, model_params: dict) -> None:
    """Mesa 3.3.1's check, rewritten from mesa/visualization/solara_viz.py,
    ``_check_model_params``: ValueError at the first refusal. The stricter of 3.3 and 3.5: a
    var-keyword argument exempts a parameter only when it is named ``kwargs`` (mesa#2462);
    3.5 exempts any."""
    params = inspect.signature(init_func).parameters
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params.values()):
        raise ValueError("Mesa's visualization requires the use of keyword arguments")
    for name, p in params.items():
        if (
            p.default is inspect.Parameter.empty
            and name not in model_params
            and name not in ("self", "kwargs")
        ):
            raise ValueError(f"Missing required model parameter: {name}")
    for name in model_params:
        if name not in params and "kwargs" not in params:
            raise ValueError(f"Invalid model parameter: {name}")


def test_signature_keeps_the_named_options_and_a_catch_all_called_kwargs():
    params = inspect.signature(StanceModel.__init__).parameters
    kinds = {name: p.kind for name, p in params.items()}
    assert kinds["scenario"] is inspect.Parameter.POSITIONAL_OR_KEYWORD
    for name in ("rng", "members", "first_member", "collect"):
        assert kinds[name] is inspect.Parameter.KEYWORD_ONLY
    assert kinds["kwargs"] is inspect.Parameter.VAR_KEYWORD


def catch_all_named_otherwise(self, scenario=None, **parameters): ...


def positional_catch_all(self, *args, kwargs=None): ...


def required(self, n): ...


@pytest.mark.parametrize("check", [mesa33_check, mesa_check_model_params()])
def test_solara_check_accepts_the_model(check):
    check(StanceModel.__init__, SOLARA_PARAMS)  # ValueError on a refusal
    check(StanceModel.__init__, {})
    if "model_or_func" in inspect.signature(check).parameters:  # Mesa 3.5 passes the model
        check(StanceModel(), SOLARA_PARAMS)


@pytest.mark.parametrize("check", [mesa33_check, mesa_check_model_params()])
def test_solara_check_is_live(check):
    with pytest.raises(ValueError, match="keyword arguments"):
        check(positional_catch_all, {})
    with pytest.raises(ValueError, match="Missing required model parameter: n"):
        check(required, {})
    check(required, {"n": 1})


def test_mesa_33_refuses_a_catch_all_named_otherwise():
    with pytest.raises(ValueError, match="Missing required model parameter: parameters"):
        mesa33_check(catch_all_named_otherwise, {"kappa_observer": 0.2})
    own = mesa_check_model_params()  # the installed Mesa's: 3.3 refuses too, 3.5 accepts
    if mesa.__version__.startswith("3.3"):
        with pytest.raises(ValueError, match="Missing required model parameter: parameters"):
            own(catch_all_named_otherwise, {"kappa_observer": 0.2})
    else:
        own(catch_all_named_otherwise, {"kappa_observer": 0.2})


@pytest.mark.parametrize("scenario", ["article.yaml", "long-memory.yaml"])
def test_solara_reset_builds_the_model_again_from_its_parameters(scenario):
    path = Path(ARTICLE).parent / scenario
    params = {**SOLARA_PARAMS, "scenario": str(path)}
    model = StanceModel(**params)
    again = type(model)(**solara_reset_kwargs(model, params))
    assert again.spec.path == model.spec.path == path
    assert again.seed == 3
    assert again.coefficients.kappa_observer == pytest.approx(0.2)
    # Mesa 3.5's Model keeps a mesa Scenario in `scenario`; SolaraViz would pass an empty one
    # as `scenario=` on Reset, in place of the file (solara_viz.py, _build_model_init_kwargs)
    assert model.scenario is None


def test_a_scenario_of_another_kind_is_one_line():
    with pytest.raises(ParameterError) as caught:
        StanceModel(scenario=object())
    assert str(caught.value).startswith(
        "StanceModel(scenario=...): expected a scenario file's path or a stances Scenario, got "
    )


def test_rng_is_the_scenarios_seed(write_scenario):
    # noise makes the run depend on the seed
    noisy = f"extends: {ARTICLE}\nparameters:\n  noise: 0.05\n"
    seeded = write_scenario(noisy + "seed: 5\n", "seeded.yaml")
    unseeded = write_scenario(noisy, "noisy.yaml")
    assert_same_run(StanceModel(seeded), StanceModel(unseeded, rng=5))
    assert_same_run(StanceModel(seeded), StanceModel(unseeded, rng=np.int64(5)))
    other = StanceModel(unseeded, rng=6)
    other.run()
    assert not np.array_equal(other.history, StanceModel(seeded).history)


# ---------------------------------------------------------------------------------------------
# Errors: one line per bad keyword, in the file loader's words


def test_unknown_parameter_is_one_line_with_a_suggestion():
    with pytest.raises(ParameterError) as caught:
        StanceModel(kappa_obsrver=0.1)
    assert str(caught.value) == (
        "StanceModel(kappa_obsrver=...): unknown parameter 'kappa_obsrver' "
        "(did you mean 'kappa_observer'?)"
    )
    assert isinstance(caught.value, ScenarioError) and isinstance(caught.value, ValueError)


def loader_message(write_scenario, name: str, value) -> str:
    """The file loader's message for `parameters: {name: value}` (the value as YAML flow)."""
    path = write_scenario(HEADER + f"parameters:\n  {name}: {json.dumps(value)}\n")
    with pytest.raises(ScenarioError) as caught:
        stances.load_scenario(path)
    (problem,) = caught.value.problems
    return problem.message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("kappa_target", 2),
        ("kappa_observer", -0.5),
        ("noise", 1.5),
        ("kappa_actor", "high"),
        ("balance_rate", True),
        ("kappa_credit", {"uniform": [0.5, 2]}),
        ("memory_half_life", "soon"),
    ],
)
def test_bad_value_gets_the_loaders_words(write_scenario, name, value):
    with pytest.raises(ParameterError) as caught:
        StanceModel(**{name: value})
    text = str(caught.value)
    assert text == f"StanceModel({name}=...): {loader_message(write_scenario, name, value)}"
    assert "\n" not in text and "validation error" not in text and "pydantic" not in text


def test_the_example_bound_in_words():
    with pytest.raises(ParameterError, match=r"must be at most 1(\.0)?, got 2$"):
        StanceModel(kappa_observer=2)


def test_every_bad_keyword_at_once_one_line_each():
    with pytest.raises(ParameterError) as caught:
        StanceModel(kappa_obsrver=0.1, kappa_target=2, members=0, rng=1.5)
    lines = str(caught.value).splitlines()
    assert len(lines) == 4
    named = {re.match(r"StanceModel\((\w+)=\.\.\.\): ", line).group(1) for line in lines}
    assert named == {"kappa_obsrver", "kappa_target", "members", "rng"}
    assert "StanceModel(members=...): must be at least 1, got 0" in lines
    assert "StanceModel(rng=...): expected a whole number, got 1.5" in lines


@pytest.mark.parametrize(
    ("options", "line"),
    [
        ({"rng": -1}, "StanceModel(rng=...): must be at least 0, got -1"),
        ({"rng": "7"}, "StanceModel(rng=...): expected a whole number, got '7'"),
        ({"first_member": -2}, "StanceModel(first_member=...): must be at least 0, got -2"),
        ({"members": True}, "StanceModel(members=...): expected a whole number, got True"),
    ],
)
def test_bad_options(options, line):
    with pytest.raises(ParameterError) as caught:
        StanceModel(**options)
    assert str(caught.value) == line


def test_with_parameters_names_its_caller():
    article = stances.load_scenario(ARTICLE)
    with pytest.raises(ParameterError) as caught:
        article.with_parameters(kappa_obsrver=0.1)
    assert str(caught.value).startswith("with_parameters(kappa_obsrver=...): unknown parameter")


# ---------------------------------------------------------------------------------------------
# Keyword overrides mean what the same values in a file mean

UNCERTAIN_OBSERVER = "extends: {article}\nparameters:\n  kappa_observer: {{uniform: [0.1, 0.2]}}\n"


def uncertain_article(write_scenario, extra: str = "", name: str = "uncertain.yaml") -> Path:
    return write_scenario(UNCERTAIN_OBSERVER.format(article=ARTICLE) + extra, name)


def assert_same_run(a: StanceModel, b: StanceModel) -> None:
    a.run()
    b.run()
    np.testing.assert_array_equal(a.history, b.history)
    assert a.draws.values.keys() == b.draws.values.keys()
    for label in a.draws.values:
        np.testing.assert_array_equal(a.draws.values[label], b.draws.values[label])


def test_overriding_another_parameter_keeps_a_drawn_one(write_scenario):
    drawn = uncertain_article(write_scenario)
    in_file = uncertain_article(write_scenario, "  kappa_target: 0.4\n", "both.yaml")
    by_keyword = StanceModel(drawn, kappa_target=0.4, members=4)
    assert by_keyword.coefficients.kappa_target == pytest.approx(0.4)
    observer = by_keyword.coefficients.kappa_observer
    assert np.all((observer >= 0.1) & (observer <= 0.2)) and np.unique(observer).size == 4
    assert_same_run(by_keyword, StanceModel(in_file, members=4))


def test_a_value_replaces_a_drawn_parameter(write_scenario):
    by_keyword = StanceModel(uncertain_article(write_scenario), kappa_observer=0.3, members=3)
    np.testing.assert_array_equal(by_keyword.coefficients.kappa_observer, [0.3, 0.3, 0.3])
    assert "parameters.kappa_observer" not in by_keyword.draws.values
    assert_same_run(by_keyword, StanceModel(kappa_observer=0.3, members=3))


def test_a_distribution_by_keyword_draws_as_the_file_does(write_scenario):
    by_keyword = StanceModel(kappa_observer={"uniform": [0.1, 0.2]}, members=5)
    assert_same_run(by_keyword, StanceModel(uncertain_article(write_scenario), members=5))


def test_memory_half_life_as_written_in_a_file(write_scenario):
    # IND -> PAK starts at -0.5 with a fixed baseline 0 and no events: each weekly step keeps
    # 2 ** (-7 / 14) of its latent affinity artanh(-0.5) when half of it fades in two weeks
    path = write_scenario(HEADER + "baseline:\n  IND -> PAK: 0.0\n")
    model = StanceModel(path, memory_half_life="2 weeks", baseline_half_life=None)
    model.run()
    i, j = model.spec.index("IND"), model.spec.index("PAK")
    steps = np.arange(model.n_steps + 1)
    expected = np.tanh(np.arctanh(-0.5) * 0.5 ** (steps / 2))
    np.testing.assert_allclose(model.history[:, 0, i, j], expected, rtol=1e-12)


def test_long_memory_by_keyword_is_the_long_memory_scenario():
    long_memory = Path(ARTICLE).parent / "long-memory.yaml"  # sets 104 weeks
    assert_same_run(StanceModel(memory_half_life="104 weeks"), StanceModel(long_memory))


# ---------------------------------------------------------------------------------------------
# mesa.batch_run reports the final state on Mesa 3.3 and 3.5


def batch_rows(period: int) -> pd.DataFrame:
    """batch_run over kappa_observer 0.1 and 0.3, one run each, at the scenario's seed."""
    options = {
        "number_processes": 1,
        "data_collection_period": period,
        "display_progress": False,
        "max_steps": 10_000,
    }
    if "rng" in inspect.signature(mesa.batch_run).parameters:  # Mesa >= 3.5
        options["rng"] = [None]
    else:
        options["iterations"] = 1
    rows = mesa.batch_run(StanceModel, parameters={"kappa_observer": [0.1, 0.3]}, **options)
    return pd.DataFrame(rows).drop_duplicates(["RunId", "Step"])  # one row per agent: keep one


def final_scores(kappa: float) -> tuple[StanceModel, dict[str, float]]:
    model = StanceModel(kappa_observer=kappa)
    model.run()
    ids = model.spec.actor_ids
    return model, {
        f"{a} -> {b}": float(model.R[0, i, j])
        for i, a in enumerate(ids)
        for j, b in enumerate(ids)
        if i != j
    }


@pytest.mark.parametrize("period", [1, -1])
def test_batch_run_last_row_is_the_final_state(period):
    rows = batch_rows(period)
    assert sorted(rows["kappa_observer"].unique()) == [0.1, 0.3]
    for kappa, run in rows.groupby("kappa_observer"):
        model, final = final_scores(kappa)
        steps = sorted(int(s) for s in run["Step"])
        expected = list(range(model.n_steps + 1)) if period == 1 else [model.n_steps]
        assert steps == expected
        last = run.loc[run["Step"].astype(int).idxmax()]
        assert {dyad: last[dyad] for dyad in final} == final
    # the two runs differ, so each row is its own run's
    assert rows[rows["kappa_observer"] == 0.1]["AFG -> PAK"].iloc[-1] != pytest.approx(
        rows[rows["kappa_observer"] == 0.3]["AFG -> PAK"].iloc[-1]
    )


def test_running_ends_on_the_call_after_the_last_step_and_that_call_changes_nothing():
    model = StanceModel()
    for _ in range(model.n_steps):
        assert model.running
        model.step()
    final, history = model.R.copy(), model.history.copy()
    rows = len(model.datacollector.model_vars["AFG -> PAK"])
    assert model.running  # the window is used up, but only the next call can say so
    model.step()
    assert not model.running
    assert model.step_index == model.n_steps and model.steps == model.n_steps + 1
    np.testing.assert_array_equal(model.R, final)
    np.testing.assert_array_equal(model.history, history)
    assert len(model.datacollector.model_vars["AFG -> PAK"]) == rows == model.n_steps + 1


# ---------------------------------------------------------------------------------------------
# repr


def test_repr_is_one_short_line():
    model = StanceModel(members=3, first_member=4)
    text = repr(model)
    assert text == (
        "<StanceModel \"India's Taliban outreach and China's mediation\": IND CHN PAK AFG; "
        "2024-12-01 to 2025-06-30 by week; members 4..6; step 0 of 31>"
    )
    model.step()
    assert repr(model).endswith("; step 1 of 31>")
    assert repr(StanceModel()).endswith("; member 0; step 0 of 31>")
