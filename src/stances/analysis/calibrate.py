"""Calibration: a scenario's uncertain values are the priors; each ensemble member is weighted
by how well it satisfies the scenario's observations; the weighted members are the posterior.

The likelihood. An observation is read as a report, made with an error, of whether it held.
Member k's margin m (``analysis.observations``: score units, positive when it holds; for the
date of an extreme minus the days outside the window) is what an error-free record would show;
the record is taken to show m + e with e normal of standard deviation tau (the tolerance), and
to say "holds" when m + e > 0. The chance of that is Phi(m / tau), Phi the standard normal
distribution function, and with the observations' errors independent

    log L_k = sum over observations of log Phi(m_k / tau).

Members drew their values from the priors, so weighting member k by L_k (normalised to sum 1)
turns the prior sample into a posterior sample (self-normalised importance sampling with the
prior as proposal). This is approximate Bayesian computation with a soft acceptance kernel,
which gives exact inference under the model "observations carry this error" (Wilkinson 2013);
weighting members rather than accepting or rejecting them is the ABC of Beaumont et al.
(2002). The effective sample size is Kish's (sum w)^2 / sum w^2. ``docs/model.md``,
"Calibration", says the same in words.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from stances.analysis.observations import Verdict, check_all
from stances.errors import Position, Problem, ScenarioError
from stances.result import DRAW_UNITS, Result, as_datetime64
from stances.scenario.types import Scenario

TOLERANCE = 0.05
"""Default tolerance of a margin in score units: a level or a change missed by 0.05 (a
twentieth of the way from neither to hostile) keeps Phi(-1), 16 %, of a member's weight."""
SMALL_ESS = 50.0
"""Below this effective sample size the posterior rests on too few members: a warning."""
LEVELS = (0.05, 0.5, 0.95)
"""The quantiles reported: 5 %, 50 % and 95 % (the 90 % interval and the median)."""
# the smallest positive normal double: a likelihood below it underflows to 0 as a number
_UNDERFLOW = math.log(sys.float_info.min)
# relative slack of a cumulative weight against a quantile's level, for rounding in the sums
_GUARD = 1e-9
# below this z, log Phi(z) comes from the asymptotic series (erfc is still exact there)
_SERIES_BELOW = -20.0


class CalibrationError(ScenarioError, ValueError):
    """A calibration that cannot be made (no uncertain values, no observations, every weight
    zero): one problem per reason, placed at the scenario file."""


def problems_with(scenario: Scenario) -> list[Problem]:
    """Why a scenario cannot be calibrated: no uncertain values, no observations (or [])."""
    where = Position(str(scenario.path))
    problems = []
    if not scenario.uncertain:
        problems.append(
            Problem(
                where,
                "",
                "no uncertain values to calibrate: give some a distribution, e.g. "
                "parameters.kappa_target: {uniform: [0.2, 0.8]} (docs/format.md, "
                "'Uncertain values')",
            )
        )
    if not scenario.observations:
        problems.append(
            Problem(
                where,
                "",
                "no observations: to weigh the members by (docs/format.md, 'Observations')",
            )
        )
    return problems


# ---------------------------------------------------------------------------------------------
# The numbers: the likelihood, weights, effective sample size, weighted quantiles

_erfc = np.vectorize(math.erfc, otypes=[float])


def log_normal_cdf(z: np.ndarray) -> np.ndarray:
    """log Phi(z), elementwise, accurate for every finite z (no underflow to -inf).

    Above 0: log1p(-Phi(-z)); down to -20: log(erfc(-z / sqrt 2) / 2); below: the asymptotic
    series log Phi(z) = -z^2/2 - log(-z sqrt(2 pi)) + log(1 - 1/z^2 + 3/z^4 - 15/z^6 + 105/z^8)
    (Abramowitz & Stegun 1964, section 26.2), whose next term is below 1e-10 there.
    """
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    high = z >= 0
    mid = (z < 0) & (z >= _SERIES_BELOW)
    low = z < _SERIES_BELOW
    out[high] = np.log1p(-0.5 * _erfc(z[high] / math.sqrt(2)))
    out[mid] = np.log(0.5 * _erfc(-z[mid] / math.sqrt(2)))
    zl = z[low]
    u = 1.0 / zl**2
    series = 1 - u + 3 * u**2 - 15 * u**3 + 105 * u**4
    out[low] = -0.5 * zl**2 - np.log(-zl * math.sqrt(2 * math.pi)) + np.log(series)
    return out


def observation_log_likelihoods(
    verdicts: list[Verdict], tolerance: float, tolerance_days: float
) -> np.ndarray:
    """log Phi(margin / tau) of every observation and member, shape (O, K); tau is `tolerance`
    for margins in score units and `tolerance_days` for those in days."""
    rows = [
        log_normal_cdf(v.margins / (tolerance_days if v.unit == "days" else tolerance))
        for v in verdicts
    ]
    return np.array(rows, dtype=float).reshape(len(verdicts), -1)


def normalised_weights(log_likelihood: np.ndarray) -> np.ndarray:
    """Weights proportional to exp(log_likelihood), summing to 1, shape (K,); computed from
    the largest log-likelihood down, so that none overflows and the best never underflows."""
    top = np.max(log_likelihood)
    w = np.exp(log_likelihood - top)
    return w / w.sum()


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2, in [1, K]: K for equal weights, 1
    when one member holds them all (Kish 1965)."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / np.sum(w**2))


def weighted_quantiles(
    values: np.ndarray, weights: np.ndarray, levels: tuple[float, ...] = LEVELS
) -> np.ndarray:
    """Quantiles of `values` (K, ...) along the member axis 0, member k weighing weights[k] >= 0
    (not all 0): shape (len(levels), ...).

    The q-quantile is the smallest value whose cumulative weight reaches q of the total (the
    inverse of the weighted distribution function, numpy's 'inverted_cdf'): with whole-number
    weights, the quantile of the list in which each value is repeated as often as its weight.
    Levels lie in (0, 1].
    """
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, axis=0)  # the order among equal values does not matter
    ordered = np.take_along_axis(values, order, axis=0)
    return quantiles_of_sorted(ordered, np.asarray(weights, dtype=float)[order], levels)


def quantiles_of_sorted(
    ordered: np.ndarray, weights: np.ndarray, levels: tuple[float, ...]
) -> np.ndarray:
    """``weighted_quantiles`` of values already sorted along axis 0, with their weights in the
    same order (the same shape, or (K,) for every column alike)."""
    if any(not 0 < q <= 1 for q in levels):
        raise ValueError(f"quantile levels must lie in (0, 1], got {levels}")
    cumulative = np.cumsum(weights, axis=0)
    if cumulative.ndim < ordered.ndim:
        cumulative = cumulative.reshape(cumulative.shape + (1,) * (ordered.ndim - 1))
    total = cumulative[-1]
    out = []
    for q in levels:
        first = np.argmax(cumulative >= total * (q - _GUARD), axis=0)
        first = np.broadcast_to(first, ordered.shape[1:])
        out.append(np.take_along_axis(ordered, first[None], axis=0)[0])
    return np.stack(out)


def weighted_mean_sd(values: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """The weighted mean and standard deviation of values (K,) with weights (K,) summing to 1
    (the standard deviation of the weighted distribution, no small-sample correction)."""
    mean = float(np.sum(weights * values))
    return mean, float(math.sqrt(max(float(np.sum(weights * (values - mean) ** 2)), 0.0)))


# ---------------------------------------------------------------------------------------------
# A calibration


def drawn_values(result: Result, labels: tuple[str, ...]) -> np.ndarray:
    """What each member drew for each uncertain value, shape (K, U), members in run order
    (`value` of ``Result.draws``: durations in days, dates as day numbers)."""
    draws = result.draws
    if draws is None or draws.empty:
        raise ValueError("the run holds no draws of uncertain values")
    wide = draws.pivot(index="member", columns="value_of", values="value").sort_index()
    return wide[list(labels)].to_numpy(dtype=float).reshape(result.members, len(labels))


@dataclass
class Calibration:
    """An ensemble weighted by the observations.

    result: the ensemble (K members, with their scores); verdicts: each observation checked
    against it; log_likelihood (K,); weights (K,), summing to 1; draws (K, U): the members'
    values of the uncertain values `labels`, in `units` ('number', 'days', 'date' as in
    ``Distribution.unit``). tolerance: tau in score units; tolerance_days: tau in days.
    """

    scenario: Scenario
    result: Result
    verdicts: list[Verdict]
    tolerance: float
    tolerance_days: float
    log_likelihood: np.ndarray
    weights: np.ndarray
    draws: np.ndarray
    labels: tuple[str, ...]
    units: tuple[str, ...]
    warnings: list[str] = field(default_factory=list)

    @property
    def members(self) -> int:
        return int(self.weights.shape[0])

    @property
    def ess(self) -> float:
        """Kish's effective sample size of the weights."""
        return effective_sample_size(self.weights)

    @cached_property
    def prior_quantiles(self) -> np.ndarray:
        """The draws' quantiles at LEVELS, members equally weighted: shape (3, U)."""
        return weighted_quantiles(self.draws, np.ones(self.members))

    @cached_property
    def posterior_quantiles(self) -> np.ndarray:
        """The draws' weighted quantiles at LEVELS: shape (3, U)."""
        return weighted_quantiles(self.draws, self.weights)

    def medians(self) -> dict[str, float]:
        """Each uncertain value's posterior median, in the units of the draws."""
        return dict(zip(self.labels, self.posterior_quantiles[1].tolist(), strict=True))

    def posterior_table(self) -> pd.DataFrame:
        """One row per uncertain value: value, unit, prior mean and quantiles, posterior mean,
        standard deviation and quantiles, and the posterior median as a file writes it."""
        prior, post = self.prior_quantiles, self.posterior_quantiles
        rows = []
        for u, (label, unit) in enumerate(zip(self.labels, self.units, strict=True)):
            mean, sd = weighted_mean_sd(self.draws[:, u], self.weights)
            rows.append(
                {
                    "value": label,
                    "unit": DRAW_UNITS[unit],
                    "prior_mean": float(np.mean(self.draws[:, u])),
                    "prior_q05": prior[0, u],
                    "prior_q50": prior[1, u],
                    "prior_q95": prior[2, u],
                    "posterior_mean": mean,
                    "posterior_sd": sd,
                    "posterior_q05": post[0, u],
                    "posterior_q50": post[1, u],
                    "posterior_q95": post[2, u],
                    "median_as_written": as_written(post[1, u], unit),
                }
            )
        return pd.DataFrame(rows)

    def weights_table(self) -> pd.DataFrame:
        """One row per member: member, its drawn values (a column per uncertain value), its
        log-likelihood and its weight (the weights sum to 1)."""
        first = int(self.result.manifest.get("first_member", 0))
        table = pd.DataFrame({"member": np.arange(first, first + self.members)})
        for u, label in enumerate(self.labels):
            table[label] = self.draws[:, u]
        table["log_likelihood"] = self.log_likelihood
        table["weight"] = self.weights
        return table

    def observation_table(self) -> pd.DataFrame:
        """One row per observation: its id, unit, tolerance, the share of members in which it
        holds before weighting (prior) and after (posterior), the posterior median margin."""
        rows = []
        for v in self.verdicts:
            holds = v.margins >= 0 if v.unit == "days" else v.margins > 0
            rows.append(
                {
                    "observation": v.observation.id,
                    "unit": v.unit,
                    "tolerance": self.tolerance_days if v.unit == "days" else self.tolerance,
                    "prior_share": float(np.mean(holds)),
                    "posterior_share": float(np.sum(self.weights * holds)),
                    # + 0.0: a margin of -0.0 days reads 0
                    "posterior_margin": float(weighted_quantiles(v.margins, self.weights)[1]) + 0.0,
                    "what": v.observation.label,
                    "cite": v.observation.cite,
                }
            )
        return pd.DataFrame(rows)

    def band(self, actor: str, toward: str) -> tuple[np.ndarray, np.ndarray]:
        """One dyad's score over time at LEVELS, members equally weighted (the prior band) and
        weighted (the posterior band): two arrays of shape (3, steps + 1)."""
        return self._bands[(actor, toward)]

    @cached_property
    def _bands(self) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
        """Every dyad's prior and posterior bands (``band``), each dyad's scores sorted once."""
        ids = self.result.actor_ids
        equal = np.ones(self.members)
        bands = {}
        for a in ids:
            for b in ids:
                if a == b:
                    continue
                scores = self.result.score_array(a, b).T  # (K, T + 1)
                order = np.argsort(scores, axis=0)
                ordered = np.take_along_axis(scores, order, axis=0)
                prior = quantiles_of_sorted(ordered, equal, LEVELS)
                bands[(a, b)] = (prior, quantiles_of_sorted(ordered, self.weights[order], LEVELS))
        return bands

    def band_table(self) -> pd.DataFrame:
        """Every dyad's prior and posterior bands: step, date, actor, toward, prior_q05,
        prior_q50, prior_q95, posterior_q05, posterior_q50, posterior_q95."""
        ids = self.result.actor_ids
        dates = as_datetime64(self.result.dates)
        frames = []
        for a in ids:
            for b in ids:
                if a == b:
                    continue
                prior, post = self.band(a, b)
                frames.append(
                    pd.DataFrame(
                        {
                            "step": np.arange(len(dates)),
                            "date": dates,
                            "actor": a,
                            "toward": b,
                            **{
                                f"prior_q{round(q * 100):02d}": prior[i]
                                for i, q in enumerate(LEVELS)
                            },
                            **{
                                f"posterior_q{round(q * 100):02d}": post[i]
                                for i, q in enumerate(LEVELS)
                            },
                        }
                    )
                )
        return pd.concat(frames, ignore_index=True)

    def observed_dyads(self) -> list[tuple[str, str]]:
        """The dyads the observations look at (each score of a difference), in file order."""
        dyads: list[tuple[str, str]] = []
        for v in self.verdicts:
            plus, minus = v.observation.score
            dyads += [plus] + ([minus] if minus is not None else [])
            ref = v.observation.reference
            if isinstance(ref, tuple) and isinstance(ref[0], tuple):
                dyads.append(ref[0])
                if isinstance(ref[1], tuple):
                    dyads.append(ref[1])
        return list(dict.fromkeys(dyads))


def as_written(value: float, unit: str) -> str:
    """A drawn value as a file writes it: a date YYYY-MM-DD, a duration in days, a number."""
    from datetime import date

    if unit == "date":
        return date.fromordinal(round(value)).isoformat()
    if unit == "days":
        return f"{value:.6f} days"
    return repr(float(value))


def short_value(value: float, unit: str) -> str:
    """A drawn value for people to read: a date, a duration in days (1 decimal), a number (4
    significant digits)."""
    if unit == "days":
        return f"{value:.1f} days"
    return as_written(value, unit) if unit == "date" else f"{value:.4g}"


def one_step_days(scenario: Scenario) -> float:
    """The mean length of the scenario's steps in days: the default tolerance of a date."""
    dates = scenario.step_dates()
    return (dates[-1] - dates[0]).days / max(len(dates) - 1, 1)


def calibrate(
    result: Result,
    scenario: Scenario,
    tolerance: float = TOLERANCE,
    tolerance_days: float | None = None,
) -> Calibration:
    """Weigh the members of `result`, an ensemble of `scenario` whose members drew its
    uncertain values, by the scenario's observations.

    tolerance: tau for margins in score units (> 0, default TOLERANCE); tolerance_days: tau for
    the dates of extremes, in days (> 0; default one step). CalibrationError when the scenario
    has no uncertain values or no observations, or when no member comes near enough the
    observations for its likelihood to be a number above 0 (every weight would underflow).
    A small effective sample size (below SMALL_ESS) is a warning in ``Calibration.warnings``.
    """
    problems = problems_with(scenario)
    if problems:
        raise CalibrationError(problems)
    days = one_step_days(scenario) if tolerance_days is None else tolerance_days
    for name, tau in (("tolerance", tolerance), ("tolerance_days", days)):
        if not (math.isfinite(tau) and tau > 0):
            raise ValueError(f"{name} must be a positive number, got {tau}")
    verdicts = check_all(result, scenario.observations)
    per_observation = observation_log_likelihoods(verdicts, tolerance, days)
    log_likelihood = per_observation.sum(axis=0)
    best = float(np.max(log_likelihood))
    if not best > _UNDERFLOW:  # also NaN
        worst = min(verdicts, key=lambda v: float(np.max(v.margins)))
        raise CalibrationError(
            [
                Problem(
                    Position(str(scenario.path)),
                    "",
                    f"no member of {result.members} comes near the observations: the best "
                    f"likelihood is below 1e-308 at tolerance {tolerance:g} (score) and "
                    f"{days:g} days (e.g. '{worst.observation.id}' fails in every member, "
                    f"by at least {-float(np.max(worst.margins)):.3g} {worst.unit}); widen the "
                    "priors, add members or raise --tolerance",
                )
            ]
        )
    labels = tuple(u.label for u in scenario.uncertain)
    units = tuple(u.distribution.unit for u in scenario.uncertain)
    weights = normalised_weights(log_likelihood)
    calibration = Calibration(
        scenario=scenario,
        result=result,
        verdicts=verdicts,
        tolerance=tolerance,
        tolerance_days=days,
        log_likelihood=log_likelihood,
        weights=weights,
        draws=drawn_values(result, labels),
        labels=labels,
        units=units,
    )
    ess = calibration.ess
    if ess < SMALL_ESS:
        calibration.warnings.append(
            f"the effective sample size is {ess:.1f} of {result.members} members (below "
            f"{SMALL_ESS:g}): the posterior rests on few members; run more members (--runs), "
            "widen --tolerance, or narrow the priors toward the observations"
        )
    return calibration
