"""The Gaussian likelihood of the models, in one place.

Every model in :mod:`pooling.models` says ``y_i ~ Normal(mu_i, sigma_y)``. It is written
either row by row (:func:`row_likelihood`, an observed variable named after the outcome, with
the row-level data containers of :func:`observation_data`) or, for the varying-intercept and
varying-slope models, from per-group sufficient statistics (:func:`sufficient_statistics`,
:func:`sufficient_loglik`): the same log density at a cost that grows with the number of
groups, not rows. :func:`group_likelihood` picks one of the two.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from pooling.blocks import Prepared
from pooling.columns import PREDICTOR_MEAN

__all__ = ["group_likelihood", "observation_data", "row_likelihood", "sufficient_loglik", "sufficient_statistics"]


def observation_data(prep: Prepared, predictor: str, group_dim: str | None):
    """Register the row-level containers; return (x, predictor_mean, group_idx)."""
    x_data = pm.Data(predictor, prep.x, dims="obs_id")
    x_mean = pm.Data(PREDICTOR_MEAN, prep.x_mean)
    idx = None
    if group_dim is not None:
        idx = pm.Data(f"{group_dim}_idx", prep.codes, dims="obs_id")
    return x_data, x_mean, idx


def row_likelihood(outcome: str, mu, sigma_y, y: np.ndarray):
    return pm.Normal(outcome, mu=mu, sigma=sigma_y, observed=y, dims="obs_id")


def sufficient_statistics(y: np.ndarray, x_centered: np.ndarray, codes: np.ndarray, n_groups: int) -> dict:
    """Per-group statistics that the Gaussian likelihood depends on.

    With ``c_i = x_i - predictor_mean`` and, within group j, ``n_j`` rows,
    means ``ybar_j``, ``cbar_j`` and centred sums of squares and products
    ``S_cc = sum (c - cbar_j)^2``, ``S_cy = sum (c - cbar_j)(y - ybar_j)``,
    ``S_yy = sum (y - ybar_j)^2``, the residual sum of squares of the line
    ``a + b c`` is exactly::

        sum_i (y_i - a - b c_i)^2
            = S_yy - 2 b S_cy + b^2 S_cc + n_j (ybar_j - a - b cbar_j)^2

    These are one-to-one functions of the raw sums (n, sum y, sum x, sum x^2,
    sum xy, sum y^2) but are computed around the group means, which avoids
    the cancellation error of the raw-sum formula.

    Returns
    -------
    dict
        Arrays of length ``n_groups``: ``n``, ``y_bar``, ``x_bar`` (group mean of
        the predictor passed in, centred or not), ``ss_xx``, ``ss_xy``, ``ss_yy``
        (which do not depend on where the predictor is centred).
    """
    n = np.bincount(codes, minlength=n_groups).astype(float)
    safe_n = np.where(n > 0, n, 1.0)
    y_bar = np.bincount(codes, weights=y, minlength=n_groups) / safe_n
    x_bar = np.bincount(codes, weights=x_centered, minlength=n_groups) / safe_n
    dy = y - y_bar[codes]
    dx = x_centered - x_bar[codes]
    return {
        "n": n,
        "y_bar": y_bar,
        "x_bar": x_bar,
        "ss_xx": np.bincount(codes, weights=dx * dx, minlength=n_groups),
        "ss_xy": np.bincount(codes, weights=dx * dy, minlength=n_groups),
        "ss_yy": np.bincount(codes, weights=dy * dy, minlength=n_groups),
    }


def sufficient_loglik(name: str, stats: dict, group_dim: str, alpha, beta, sigma_y, predictor_mean):
    """Gaussian log-likelihood of all rows from per-group statistics.

    Returns a :func:`pymc.Potential` equal to the sum over rows of
    ``Normal(y_i | alpha[j] + beta * (x_i - predictor_mean), sigma_y)`` log
    densities, normalising constant included, at cost O(groups) instead of O(rows).

    ``stats`` come from the raw predictor (:func:`sufficient_statistics` of ``x``);
    the centring happens in the model, ``c_bar_j = x_bar_j - predictor_mean``, with
    ``predictor_mean`` a scalar tensor (the model's ``predictor_mean`` data container).
    The sums of squares and products about the group means do not change with the
    centre, so ``pm.set_data({"predictor_mean": ...})`` moves the centre exactly as it
    does in the row-by-row likelihood.
    """
    n = pm.Data("n_obs", stats["n"], dims=group_dim)
    y_bar = pm.Data("y_bar", stats["y_bar"], dims=group_dim)
    x_bar = pm.Data("x_bar", stats["x_bar"], dims=group_dim)
    ss_xx = pm.Data("ss_xx", stats["ss_xx"], dims=group_dim)
    ss_xy = pm.Data("ss_xy", stats["ss_xy"], dims=group_dim)
    ss_yy = pm.Data("ss_yy", stats["ss_yy"], dims=group_dim)
    rss = ss_yy - 2.0 * beta * ss_xy + beta**2 * ss_xx + n * (y_bar - alpha - beta * (x_bar - predictor_mean)) ** 2
    n_total = pt.sum(n)
    loglik = -0.5 * n_total * np.log(2.0 * np.pi) - n_total * pt.log(sigma_y) - pt.sum(rss) / (2.0 * sigma_y**2)
    return pm.Potential(name, loglik)


def group_likelihood(likelihood, prep, outcome, predictor, group_dim, alpha, beta, sigma_y, *,
                      varying_slopes=False):
    """The Gaussian likelihood of all rows, per row (``"full"``) or in sufficient statistics.

    ``alpha`` has dims ``group_dim``; ``beta`` is one common slope, or one slope per group
    (dims ``group_dim``) when ``varying_slopes``.
    """
    if likelihood == "full":
        x_data, x_mean, idx = observation_data(prep, predictor, group_dim)
        slope = beta[idx] if varying_slopes else beta
        row_likelihood(outcome, alpha[idx] + slope * (x_data - x_mean), sigma_y, prep.y)
    else:
        x_mean = pm.Data(PREDICTOR_MEAN, prep.x_mean)
        stats = sufficient_statistics(prep.y, prep.x, prep.codes, len(prep.names))
        sufficient_loglik(f"{outcome}_loglik", stats, group_dim, alpha, beta, sigma_y, x_mean)
