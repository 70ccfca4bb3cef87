"""The calibrated scenario file: a what-if that `extends:` the calibrated file and sets each
uncertain value to what the observations say of it, so that a calibrated model is a file one
can read, run and compare like any other.

``--as median`` sets each value to its posterior median (a fixed value). ``--as distribution``
gives each a distribution fitted to its posterior in the format's grammar: a number or a
duration {normal: [posterior mean, posterior sd]} (its draws clipped to the key's range, as
for any normal), a date {uniform: [5 %, 95 % quantiles]} (a date cannot be normal), and a
value whose prior was a choice its median (the format has no weighted choice). Parameters and
scores are set with `set:`, event dates and intensities with `replace:`.
"""

from __future__ import annotations

import json
import os
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stances.analysis.calibrate import Calibration, as_written, short_value, weighted_mean_sd
from stances.errors import printable
from stances.scenario.types import EventValue, Uncertain

FORMS = ("median", "distribution")
# a duration's standard deviation as written keeps 6 decimals of a day; below that it is 0
_SMALLEST_SD_DAYS = 1e-6


def extends_path(scenario_file: Path, directory: Path) -> str:
    """The scenario file's path relative to `directory` (where the calibrated file is written;
    the run directory's scratch folder and the run directory share a parent, so either gives
    the same path), with '/' between parts."""
    relative = os.path.relpath(scenario_file.resolve(), directory.resolve())
    return Path(relative).as_posix()


def _quoted(text: str) -> str:
    """A text as a YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def _fixed(value: float, unit: str) -> str:
    """A value as YAML: a date or duration quoted, a number as Python's round-trip repr."""
    text = as_written(value, unit)
    return text if unit == "number" else _quoted(text)


def _fitted(calibration: Calibration, u: int, uncertain: Uncertain) -> tuple[str, str]:
    """The YAML of value u fitted to its posterior, and how it was fitted (for a comment)."""
    unit, draws = uncertain.distribution.unit, calibration.draws[:, u]
    median = calibration.posterior_quantiles[1, u]
    if uncertain.distribution.kind == "choice":
        return _fixed(median, unit), "the posterior median (the prior was a choice)"
    if unit == "date":
        lo, hi = calibration.posterior_quantiles[0, u], calibration.posterior_quantiles[2, u]
        if lo == hi:
            return _fixed(lo, unit), "the posterior's 5 % and 95 % quantiles coincide"
        return (
            f"{{uniform: [{_fixed(lo, unit)}, {_fixed(hi, unit)}]}}",
            "uniform over the posterior's 5 % .. 95 % quantiles",
        )
    mean, sd = weighted_mean_sd(draws, calibration.weights)
    mean = min(max(mean, float(draws.min())), float(draws.max()))  # rounding at a clipped end
    if unit == "days" and sd < _SMALLEST_SD_DAYS:
        return _fixed(median, unit), "the posterior median (the posterior sd is 0)"
    return (
        f"{{normal: [{_fixed(mean, unit)}, {_fixed(sd, unit)}]}}",
        "normal with the posterior mean and sd",
    )


def _header(
    calibration: Calibration, scenario_file: Path, form: str, sets: dict[str, Any]
) -> list[str]:
    """The comment lines at the top: what the file is, how it was made, how far to trust it."""
    run = calibration.result.manifest
    when = datetime.now(UTC).date().isoformat()
    observed = len(calibration.verdicts)
    what = (
        "its posterior median"
        if form == "median"
        else "a distribution fitted to its posterior (the comment beside each says which)"
    )
    overrides = f" With the command line's overrides (--set): {', '.join(sets)}." if sets else ""
    text = (
        f"Calibrated from {scenario_file} by `stances calibrate` on {when}. "
        f"{calibration.members} members (root seed {run.get('seed')}) drew the uncertain values "
        f"from their priors and were weighted by {observed} observation"
        f"{'s' if observed != 1 else ''}, with tolerance {calibration.tolerance:g} (score units) "
        f"and {calibration.tolerance_days:g} days (a member's weight: the product over the "
        f"observations of Phi(margin / tolerance)); effective sample size "
        f"{calibration.ess:.1f}. Each uncertain value is set to {what}.{overrides}"
    )
    lines = textwrap.wrap(printable(text), 96, initial_indent="# ", subsequent_indent="# ")
    lines.append("# Posterior 90 % intervals (5 % .. 95 %), beside each value's prior one:")
    prior, post = calibration.prior_quantiles, calibration.posterior_quantiles
    for u, (label, unit) in enumerate(zip(calibration.labels, calibration.units, strict=True)):
        lines.append(
            printable(
                f"#   {label}: {short_value(post[0, u], unit)} .. {short_value(post[2, u], unit)}"
                f"  (prior {short_value(prior[0, u], unit)} .. {short_value(prior[2, u], unit)})"
            )
        )
    return lines


def calibrated_text(
    calibration: Calibration,
    scenario_file: Path,
    directory: Path,
    form: str = "median",
    sets: dict[str, Any] | None = None,
) -> str:
    """The calibrated scenario file, to be written in `directory`: it extends `scenario_file`
    (by a path relative to `directory`), carries the command line's overrides `sets` (dotted
    key -> plain value, as read from --set) and sets every uncertain value (form 'median' or
    'distribution')."""
    if form not in FORMS:
        raise ValueError(f"form must be one of {', '.join(FORMS)}, got {form!r}")
    spec = calibration.scenario
    values: dict[str, tuple[str, str]] = {}
    replaced: dict[str, dict[str, str]] = {}
    for u, uncertain in enumerate(spec.uncertain):
        unit = uncertain.distribution.unit
        median = calibration.posterior_quantiles[1, u]
        text, how = (
            (_fixed(median, unit), "posterior median")
            if form == "median"
            else _fitted(calibration, u, uncertain)
        )
        if isinstance(uncertain.target, EventValue):
            event = spec.events[uncertain.target.index].id
            replaced.setdefault(event, {})[uncertain.target.field] = text
        else:
            values[uncertain.label] = (text, how)
    lines = _header(calibration, scenario_file, form, sets or {})
    lines += [
        f"title: {_quoted(spec.title + ' (calibrated)')}",
        f"extends: {_quoted(extends_path(scenario_file, directory))}",
    ]
    # the title is the calibrated scenario's own (it already holds an overridden one)
    overrides = {k: v for k, v in (sets or {}).items() if k not in values and k != "title"}
    if overrides or values:
        lines.append("set:")
    for key, value in overrides.items():
        lines.append(f"  {_quoted(key)}: {json.dumps(value, ensure_ascii=False, default=str)}")
    for key, (text, how) in values.items():
        lines.append(f"  {_quoted(key)}: {text}    # {how}")
    if replaced:
        lines.append("replace:")
    for event, fields in replaced.items():
        inner = ", ".join(f"{name}: {text}" for name, text in fields.items())
        lines.append(f"  - {{id: {_quoted(event)}, {inner}}}")
    return "\n".join(lines) + "\n"
