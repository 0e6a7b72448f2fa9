"""What the priors say before the data, and how much they move the estimates.

Prior predictive checks (draws from ``pm.sample_prior_predictive``):

prior_lines                 the regression line of every prior draw, on a grid of the predictor
prior_predictive_summary    shares of simulated answers and prior lines outside the answer scale
group_spread_summary        the prior of a between-group sd against the spread the data show

Prior sensitivity (one fit per prior scale of ``sigma_alpha``):

prior_scale_table           each group's estimate and weight under every prior scale
sigma_table                 the posterior of ``sigma_alpha`` under every prior scale

Every function takes ArviZ ``DataTree`` objects (or plain arrays) and returns pandas objects
or NumPy arrays; the figures are in :mod:`pooling.plots.priors`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pooling.columns import PREDICTOR_MEAN
from pooling.summaries import SAMPLE_DIMS, intercept_table, posterior_var, predictor_centre

__all__ = [
    "check_scale",
    "group_spread_summary",
    "prior_draws",
    "prior_lines",
    "prior_predictive_summary",
    "prior_scale_table",
    "sigma_table",
]


def prior_draws(prior_idata: Any, var: str, func: str = "prior_draws") -> np.ndarray:
    """The prior draws of ``var`` as an array of shape ``(draws, *var's own dims)``.

    ``prior_idata`` is what ``pm.sample_prior_predictive`` returns: a DataTree with a
    ``prior`` group (parameters) and a ``prior_predictive`` group (simulated outcomes);
    ``var`` is looked up in both. Chains and draws are flattened into one axis.
    """
    for group in ("prior", "prior_predictive"):
        node = getattr(prior_idata, group, None) if hasattr(prior_idata, group) else None
        if node is not None and var in node.data_vars:
            da = node[var]
            sample_dims = [d for d in da.dims if d in SAMPLE_DIMS]
            other = [d for d in da.dims if d not in sample_dims]
            return da.stack(_sample=sample_dims).transpose("_sample", *other).values
    raise ValueError(f"{func}: the prior draws have no variable {var!r} in their prior or "
                     f"prior_predictive groups (pass the result of pm.sample_prior_predictive)")


def _center(prior_idata: Any, predictor_mean: float | None, func: str) -> float:
    if predictor_mean is not None:
        return float(predictor_mean)
    centre = predictor_centre(prior_idata)
    if centre is not None and centre.ndim == 0:
        return float(centre.values)
    raise ValueError(f"{func}: the prior draws hold no {PREDICTOR_MEAN!r} container; "
                     f"pass predictor_mean= (the centring constant of the model)")


def prior_lines(
    prior_idata: Any,
    grid: Sequence[float] | np.ndarray,
    *,
    intercept: str = "alpha",
    slope: str = "beta",
    predictor_mean: float | None = None,
) -> np.ndarray:
    """The regression line ``intercept + slope * (grid - predictor_mean)`` of every prior draw.

    Parameters
    ----------
    prior_idata : result of ``pm.sample_prior_predictive`` for a model with scalar
        ``intercept`` and ``slope`` variables (complete pooling: ``alpha``; partial
        pooling: ``mu_alpha``, the line of an average group).
    grid : predictor values (predictor units), shape ``(k,)``.
    predictor_mean : the centring constant; by default the model's ``predictor_mean``
        container.

    Returns
    -------
    Array of shape ``(draws, k)`` in outcome units.
    """
    func = "prior_lines"
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 1 or grid.size == 0 or not np.isfinite(grid).all():
        raise ValueError(f"{func}: `grid` must be a non-empty 1-d array of finite predictor values")
    a, b = (prior_draws(prior_idata, v, func) for v in (intercept, slope))
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"{func}: {intercept!r} and {slope!r} must be scalar parameters "
                         f"(they have shapes {a.shape[1:]} and {b.shape[1:]} per draw)")
    center = _center(prior_idata, predictor_mean, func)
    return a[:, None] + b[:, None] * (grid[None, :] - center)


def check_scale(scale: Sequence[float], func: str) -> tuple[float, float]:
    """``(lowest, highest)`` possible answer as floats; ValueError naming ``func`` unless finite and ordered."""
    low, high = (float(v) for v in scale)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"{func}: `scale` must be (lowest, highest) possible answer with lowest < highest, "
                         f"got {tuple(scale)}")
    return low, high


def prior_predictive_summary(
    prior_idata: Any,
    *,
    outcome: str = "china",
    scale: Sequence[float] = (1.0, 5.0),
    grid: Sequence[float] | np.ndarray = (0.0, 4.0),
    intercept: str = "alpha",
    slope: str = "beta",
    predictor_mean: float | None = None,
) -> pd.Series:
    """How much of what the priors imply lies outside the possible answers.

    Parameters
    ----------
    prior_idata : result of ``pm.sample_prior_predictive``.
    outcome : the simulated outcome variable (one value per respondent and draw).
    scale : the lowest and highest possible answer (the survey's 1-5 score).
    grid : predictor values at which the prior lines are evaluated (the ends of the
        predictor's range, 0 and 4 for ``antiauth``).

    Returns
    -------
    Series with
    ``answers below scale`` / ``answers above scale`` (shares of simulated answers),
    ``answers 3%`` / ``answers 97%`` (central 94% interval of the simulated answers),
    ``intercepts outside scale`` (share of prior draws whose line at ``predictor_mean``
    lies outside the scale) and ``lines leaving scale`` (share of lines outside the scale
    somewhere on ``grid``).
    """
    func = "prior_predictive_summary"
    low, high = check_scale(scale, func)
    answers = prior_draws(prior_idata, outcome, func).ravel()
    center = _center(prior_idata, predictor_mean, func)
    lines = prior_lines(prior_idata, grid, intercept=intercept, slope=slope, predictor_mean=center)
    at_center = prior_draws(prior_idata, intercept, func)
    outside = (lines < low) | (lines > high)
    return pd.Series({
        "answers below scale": float(np.mean(answers < low)),
        "answers above scale": float(np.mean(answers > high)),
        "answers 3%": float(np.quantile(answers, 0.03)),
        "answers 97%": float(np.quantile(answers, 0.97)),
        "intercepts outside scale": float(np.mean((at_center < low) | (at_center > high))),
        "lines leaving scale": float(np.mean(outside.any(axis=1))),
    }, name="prior")


def group_spread_summary(
    prior_idata: Any,
    observed_means: pd.Series | np.ndarray,
    *,
    sd_var: str = "sigma_alpha",
    group_var: str = "alpha",
    scale: Sequence[float] = (1.0, 5.0),
) -> pd.Series:
    """The prior of a between-group sd next to the spread of the observed group means.

    Parameters
    ----------
    prior_idata : result of ``pm.sample_prior_predictive`` for a partial-pooling model.
    observed_means : the groups' raw means of the outcome (outcome units), one per group.
    sd_var, group_var : the between-group sd (scalar) and the group intercepts (one per group).
    scale : the lowest and highest possible answer.

    Returns
    -------
    Series with ``observed sd of group means``, the prior median and 3% / 97% quantiles
    of ``sd_var``, ``prior P(sd below observed)`` and ``group intercepts outside scale``
    (share of simulated group intercepts outside the scale).
    """
    func = "group_spread_summary"
    low, high = check_scale(scale, func)
    means = np.asarray(observed_means, dtype=float)
    if means.ndim != 1 or means.size < 2 or not np.isfinite(means).all():
        raise ValueError(f"{func}: `observed_means` must hold at least two finite group means")
    sd = prior_draws(prior_idata, sd_var, func)
    intercepts = prior_draws(prior_idata, group_var, func)
    observed_sd = float(np.std(means, ddof=1))
    return pd.Series({
        "observed sd of group means": observed_sd,
        f"prior median of {sd_var}": float(np.median(sd)),
        f"prior 3% of {sd_var}": float(np.quantile(sd, 0.03)),
        f"prior 97% of {sd_var}": float(np.quantile(sd, 0.97)),
        f"prior P({sd_var} below observed)": float(np.mean(sd < observed_sd)),
        "group intercepts outside scale": float(np.mean((intercepts < low) | (intercepts > high))),
    }, name="prior")


def _check_fits(fits: Any, func: str) -> list[tuple[float, Any]]:
    if not isinstance(fits, Mapping) or not fits:
        raise ValueError(f"{func}: `fits` must be a non-empty dict {{prior scale: fitted result}}")
    scales = []
    for scale, idata in fits.items():
        if isinstance(scale, bool) or not isinstance(scale, (int, float, np.number)) or not scale > 0:
            raise ValueError(f"{func}: every key of `fits` must be a prior scale > 0, got {scale!r}")
        scales.append((float(scale), idata))
    return sorted(scales, key=lambda pair: pair[0])


def prior_scale_table(
    fits: Mapping[float, Any],
    groups: Sequence[Any],
    *,
    no_pooling: Mapping[Any, float] | pd.Series,
    complete_pooling: float,
    var: str = "alpha",
    group_dim: str = "country",
    hdi_prob: float = 0.94,
) -> pd.DataFrame:
    """Each group's estimate under every prior scale, and the weight it keeps.

    Parameters
    ----------
    fits : ``{prior scale of sigma_alpha: fitted result}`` (outcome units).
    groups : the groups to tabulate (e.g. ``["Zudan", "Zudania"]``).
    no_pooling : each group's no-pooling estimate (outcome units), indexed by group.
    complete_pooling : the complete-pooling estimate (outcome units).

    Returns
    -------
    DataFrame with one row per (prior scale, group), sorted by scale, columns
    ``prior_scale``, ``group``, ``mean``, ``hdi_low``, ``hdi_high`` (outcome units) and
    ``weight = (mean - complete_pooling) / (no_pooling - complete_pooling)``: 1 keeps the
    group's own estimate, 0 is complete pooling.
    """
    func = "prior_scale_table"
    pairs = _check_fits(fits, func)
    no_pooling = pd.Series(no_pooling, dtype=float)
    groups = list(groups)
    missing = [g for g in groups if g not in no_pooling.index]
    if not groups or missing:
        raise ValueError(f"{func}: every group needs a no-pooling estimate; missing for {missing}"
                         if missing else f"{func}: `groups` is empty")
    rows = []
    for scale, idata in pairs:
        table = intercept_table(idata, var, group_dim=group_dim, hdi_prob=hdi_prob)
        absent = [g for g in groups if str(g) not in table.index]
        if absent:
            raise ValueError(f"{func}: the fit for prior scale {scale:g} has no {group_dim} {absent}")
        for g in groups:
            row = table.loc[str(g)]
            gap = no_pooling[g] - complete_pooling
            rows.append({"prior_scale": scale, "group": g, "mean": row["mean"], "hdi_low": row["hdi_low"],
                         "hdi_high": row["hdi_high"],
                         "weight": (row["mean"] - complete_pooling) / gap if gap != 0 else np.nan})
    return pd.DataFrame(rows)


def sigma_table(fits: Mapping[float, Any], *, var: str = "sigma_alpha", hdi_prob: float = 0.94) -> pd.DataFrame:
    """The posterior of a scalar (by default ``sigma_alpha``) under every prior scale.

    Returns
    -------
    DataFrame indexed by ``prior_scale`` (sorted) with columns ``mean``, ``hdi_low``,
    ``hdi_high`` (outcome units).
    """
    import arviz_stats as azs

    func = "sigma_table"
    rows = {}
    for scale, idata in _check_fits(fits, func):
        da = posterior_var(idata, var, func)
        if set(da.dims) - set(SAMPLE_DIMS):
            raise ValueError(f"{func}: {var!r} must be a scalar parameter, it has dims {da.dims}")
        hdi = np.asarray(azs.hdi(da, prob=hdi_prob, dim=list(SAMPLE_DIMS))).ravel()
        rows[scale] = {"mean": float(da.mean()), "hdi_low": float(hdi[0]), "hdi_high": float(hdi[1])}
    table = pd.DataFrame(rows).T
    table.index.name = "prior_scale"
    return table
