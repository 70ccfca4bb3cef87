"""Figures: one question per figure, titled in words, dates on the x axis, events marked.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot), so they need no display and
leave no global state behind. Dates go to matplotlib as dates (its units registry converts
them); its type stubs only know numbers, hence the ``type: ignore[arg-type]`` where dates go in.
Only this package imports matplotlib (``tests/test_layers.py``); one module per kind of figure,
what they share in ``common``.
"""

from stances.plots.calibration import calibration_bands_figure, posterior_figure
from stances.plots.common import event_colour, event_list, pairs_to_show, scenario_colour
from stances.plots.compare import (
    comparison_figure,
    difference_figure,
    stance_comparison_figure,
    stances_figure,
    sweep_figure,
)
from stances.plots.discover import discover_figure
from stances.plots.explain import explain_figure
from stances.plots.network import moved_most_figure, network_figure
from stances.plots.relations import matrix_figure, relations_figure
from stances.plots.sensitivity import sensitivity_figure, sensitivity_over_time_figure

__all__ = [
    "calibration_bands_figure",
    "comparison_figure",
    "difference_figure",
    "discover_figure",
    "event_colour",
    "event_list",
    "explain_figure",
    "matrix_figure",
    "moved_most_figure",
    "network_figure",
    "pairs_to_show",
    "posterior_figure",
    "relations_figure",
    "scenario_colour",
    "sensitivity_figure",
    "sensitivity_over_time_figure",
    "stance_comparison_figure",
    "stances_figure",
    "sweep_figure",
]
