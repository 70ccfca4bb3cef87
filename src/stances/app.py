"""``stances app``: the model in Mesa's own browser visualisation (SolaraViz).

Sliders for the coupling shares, the memory half-life (weeks) and the noise; SolaraViz's own
Step / Play / Reset; the scores that moved most so far (``plots.moved_most_figure`` on
``api.result_of``),
the scores as a network, the score matrix and the events applied so far. The scenario file
comes from the environment variable ``STANCES_APP_SCENARIO`` (default: the article), set by
``stances app FILE``, which runs ``python -m solara run stances.app:page``.
"""

from __future__ import annotations

import os
from typing import Any

import solara
from mesa.visualization import SolaraViz

from stances import plots
from stances.api import result_of
from stances.engine.model import StanceModel
from stances.scenario.builder import load_scenario
from stances.scenario.library import ARTICLE

SCENARIO_VARIABLE = "STANCES_APP_SCENARIO"


def _slider(label: str, value: float, low: float, high: float, step: float) -> dict[str, Any]:
    return {
        "type": "SliderFloat",
        "label": label,
        "value": value,
        "min": low,
        "max": high,
        "step": step,
    }


def _start(value: Any, default: float) -> float:
    """A slider's start: the file's value if it is one number, else `default`."""
    return float(value) if isinstance(value, int | float) else default


def model_params(scenario: str) -> dict[str, Any]:
    """SolaraViz's model parameters: the scenario file (fixed) and one slider per parameter,
    starting at the file's values; memory_half_life in weeks (a plain number is weeks)."""
    p = load_scenario(scenario).parameters
    weeks = str(p.memory_half_life).split()
    half_life = float(weeks[0]) if len(weeks) == 2 and weeks[1].startswith("week") else 26.0
    return {
        "scenario": scenario,
        "kappa_target": _slider(
            "κ target (the target's view)", _start(p.kappa_target, 0.5), 0.0, 1.0, 0.05
        ),
        "kappa_actor": _slider(
            "κ actor (the actor's view)", _start(p.kappa_actor, 0.25), 0.0, 1.0, 0.05
        ),
        "kappa_observer": _slider(
            "κ observer (third parties)", _start(p.kappa_observer, 0.15), 0.0, 1.0, 0.05
        ),
        "kappa_parties": _slider(
            "κ parties (of a meeting)", _start(p.kappa_parties, 0.4), 0.0, 1.0, 0.05
        ),
        "memory_half_life": _slider("memory half-life (weeks)", half_life, 1.0, 260.0, 1.0),
        "noise": _slider("noise (per step)", _start(p.noise, 0.0), 0.0, 0.1, 0.005),
    }


def StepInfo(model: StanceModel) -> solara.Element:
    """The step reached and its date."""
    return solara.Markdown(
        f"**{model.spec.title}**: step {model.step_index} of {model.n_steps}, {model.date}"
    )


def Relations(model: StanceModel) -> solara.Element:
    """Relations over time, the run so far: the scores that moved most (member median), on
    one panel that stays readable in a card (``stances run`` draws every pair)."""
    result = result_of(model)
    figure = plots.moved_most_figure(
        result.dates, result.median(), list(result.actor_ids), until=model.dates[-1]
    )
    return solara.FigureMatplotlib(figure, format="png")


def Network(model: StanceModel) -> solara.Element:
    """The current scores as a directed network (member 0)."""
    figure = plots.network_figure(model.R[0], list(model.spec.actor_ids), f"Scores on {model.date}")
    return solara.FigureMatplotlib(figure, format="png")


def Matrix(model: StanceModel) -> solara.Element:
    """The score matrix at the start and now."""
    return solara.FigureMatplotlib(plots.matrix_figure(result_of(model)), format="png")


def Events(model: StanceModel) -> solara.Element:
    """The events applied so far, as a table."""
    events = plots.event_list(result_of(model))
    if events.empty:
        return solara.Markdown("No event applied yet.")
    shown = events[["n", "date", "label", "who", "event"]].copy()
    shown["date"] = shown["date"].dt.strftime("%Y-%m-%d")
    shown["label"] = shown["label"].where(shown["label"] != "", shown["event"])
    shown = shown.rename(columns={"label": "event", "event": "id"}).set_index("n")
    return solara.DataFrame(shown, items_per_page=10)  # the index column (#) is the number


COMPONENTS = [StepInfo, Relations, Network, Matrix, Events]


def make_page(scenario: str | None = None) -> solara.Element:
    """The SolaraViz page of a scenario file (default: $STANCES_APP_SCENARIO, else the
    article)."""
    path = scenario or os.environ.get(SCENARIO_VARIABLE) or str(ARTICLE)
    params = model_params(path)
    start = {k: v["value"] if isinstance(v, dict) else v for k, v in params.items()}
    model = StanceModel(**start)
    return SolaraViz(model, components=COMPONENTS, model_params=params, name="stances")


@solara.component
def page() -> None:
    """The app's page (``solara run stances.app:page``)."""
    make_page()
