"""Faster formulations of the two benchmark models, measured but not (yet) in the library.

Both models are Gaussian all the way down, so the group effects can be
integrated out of the likelihood in closed form. The sampler then explores
only the handful of hyperparameters, whose posterior is low-dimensional and
close to Gaussian, and the group effects are drawn afterwards, for every
posterior draw, from their exact conditional distribution. The posterior is
the same as that of :func:`pooling.models.partial_pooling` and
:func:`pooling.models.varying_slopes` (same priors, same likelihood); only
the way it is computed changes. The likelihood uses the per-group sufficient
statistics of :func:`pooling.models.sufficient_statistics`, so its cost does
not grow with the number of rows.

Varying intercepts (group j, ``n_j`` rows, centred predictor ``c``)::

    ybar_j - beta * cbar_j ~ Normal(mu_alpha, sqrt(sigma_alpha^2 + sigma_y^2 / n_j))
    within-group residuals: sum (y - ybar_j - beta (c - cbar_j))^2 / sigma_y^2 ~ chi^2(n_j - 1)

Varying intercepts and slopes: ``y_j ~ MvNormal(X_j m, sigma_y^2 I + X_j S X_j')``
with ``X_j = [1, c]``, evaluated with the 2 x 2 matrices ``X_j'X_j`` (the
Woodbury identity), and the LKJ(2) prior on the 2 x 2 correlation matrix
written as its exact equivalent ``(rho + 1) / 2 ~ Beta(2, 2)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from pooling.columns import Columns

from pooling.blocks import prepare
from pooling.likelihood import sufficient_statistics


def _prepared(df: pd.DataFrame, spec: Columns):
    prep = prepare(df, spec)
    stats = sufficient_statistics(prep.y, prep.x - prep.x_mean, prep.codes, len(prep.names))
    return prep, stats


def marginal_partial_pooling(df: pd.DataFrame, spec):
    """Varying-intercept model with the intercepts integrated out.

    Returns ``(model, complete)``: sample ``model``, then call
    ``complete(idata, seed)`` to add the exact conditional draws of ``alpha``.
    Priors as in :func:`pooling.models.partial_pooling`.
    """
    prep, st = _prepared(df, spec)
    s = prep.scales
    n = st["n"]
    n_total = float(n.sum())
    with pm.Model(coords={spec.group_dim: prep.names}) as model:
        mu_alpha = pm.Normal("mu_alpha", mu=s.outcome_mean, sigma=s.intercept_sd)
        sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=s.outcome_sd)
        beta = pm.Normal("beta", mu=0.0, sigma=s.slope_sd)
        sigma_y = pm.Exponential("sigma_y", lam=1.0 / s.outcome_sd)
        within = st["ss_yy"] - 2.0 * beta * st["ss_xy"] + beta**2 * st["ss_xx"]
        var_mean = sigma_alpha**2 + sigma_y**2 / n
        resid = st["y_bar"] - mu_alpha - beta * st["x_bar"]
        loglik = (
            -0.5 * n_total * np.log(2.0 * np.pi)
            - (n_total - len(n)) * pt.log(sigma_y)
            - pt.sum(within) / (2.0 * sigma_y**2)
            - 0.5 * pt.sum(pt.log(var_mean))
            - pt.sum(resid**2 / (2.0 * var_mean))
        )
        pm.Potential(f"{spec.outcome}_marginal_loglik", loglik)

    def complete(idata, seed: int):
        post = idata.posterior
        mu, tau, b, sig = (post[v].values[..., None] for v in ("mu_alpha", "sigma_alpha", "beta", "sigma_y"))
        precision = n / sig**2 + 1.0 / tau**2
        mean = (n / sig**2 * (st["y_bar"] - b * st["x_bar"]) + mu / tau**2) / precision
        draws = mean + np.random.default_rng(seed).standard_normal(mean.shape) / np.sqrt(precision)
        post["alpha"] = xr.DataArray(
            draws, dims=("chain", "draw", spec.group_dim), coords={spec.group_dim: prep.names}
        )
        return idata

    return model, complete


def marginal_varying_slopes(df: pd.DataFrame, spec):
    """Correlated varying intercepts and slopes with both integrated out.

    Returns ``(model, complete)``; ``complete(idata, seed)`` adds exact
    conditional draws of ``alpha`` and ``beta``. Priors as in
    :func:`pooling.models.varying_slopes` (LKJ(2) on a 2 x 2 correlation
    matrix is ``(rho + 1) / 2 ~ Beta(2, 2)``).
    """
    prep, st = _prepared(df, spec)
    s = prep.scales
    n, cbar, ybar = st["n"], st["x_bar"], st["y_bar"]
    # X'X, X'y and y'y per group, from the centred statistics
    a11 = n
    a12 = n * cbar
    a22 = st["ss_xx"] + n * cbar**2
    xy1 = n * ybar
    xy2 = st["ss_xy"] + n * cbar * ybar
    yy = st["ss_yy"] + n * ybar**2
    n_total = float(n.sum())
    with pm.Model(coords={spec.group_dim: prep.names}) as model:
        mu_alpha = pm.Normal("mu_alpha", mu=s.outcome_mean, sigma=s.intercept_sd)
        mu_beta = pm.Normal("mu_beta", mu=0.0, sigma=s.slope_sd)
        sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=s.outcome_sd)
        sigma_beta = pm.HalfNormal("sigma_beta", sigma=s.outcome_sd / s.predictor_sd)
        rho_half = pm.Beta("rho_half", alpha=2.0, beta=2.0)
        rho = pm.Deterministic("rho", 2.0 * rho_half - 1.0)
        sigma_y = pm.Exponential("sigma_y", lam=1.0 / s.outcome_sd)
        s11 = sigma_alpha**2
        s22 = sigma_beta**2
        s12 = rho * sigma_alpha * sigma_beta
        sig2 = sigma_y**2
        # residual r = y - X m: r'r and v = X'r
        v1 = xy1 - (a11 * mu_alpha + a12 * mu_beta)
        v2 = xy2 - (a12 * mu_alpha + a22 * mu_beta)
        rr = yy - 2.0 * (mu_alpha * xy1 + mu_beta * xy2) + (
            a11 * mu_alpha**2 + 2.0 * a12 * mu_alpha * mu_beta + a22 * mu_beta**2
        )
        # M = sig2 I + A S ; log|sig2 I + X S X'| = (n - 2) log sig2 + log det M
        m11 = sig2 + a11 * s11 + a12 * s12
        m12 = a11 * s12 + a12 * s22
        m21 = a12 * s11 + a22 * s12
        m22 = sig2 + a12 * s12 + a22 * s22
        det = m11 * m22 - m12 * m21
        u1 = (m22 * v1 - m12 * v2) / det
        u2 = (-m21 * v1 + m11 * v2) / det
        w1 = s11 * u1 + s12 * u2
        w2 = s12 * u1 + s22 * u2
        quad = (rr - (v1 * w1 + v2 * w2)) / sig2
        loglik = (
            -0.5 * n_total * np.log(2.0 * np.pi)
            - 0.5 * pt.sum((n - 2.0) * pt.log(sig2) + pt.log(det))
            - 0.5 * pt.sum(quad)
        )
        pm.Potential(f"{spec.outcome}_marginal_loglik", loglik)

    def complete(idata, seed: int):
        post = idata.posterior
        get = {v: post[v].values[..., None] for v in ("mu_alpha", "mu_beta", "sigma_alpha", "sigma_beta", "rho", "sigma_y")}
        sa, sb, r, sy = get["sigma_alpha"], get["sigma_beta"], get["rho"], get["sigma_y"]
        # prior precision (inverse of S), elementwise 2 x 2
        det_s = sa**2 * sb**2 * (1.0 - r**2)
        p11, p22, p12 = sb**2 / det_s, sa**2 / det_s, -r * sa * sb / det_s
        # posterior precision Q = S^-1 + A / sy^2 and Q * mean = S^-1 m + X'y / sy^2
        q11, q12, q22 = p11 + a11 / sy**2, p12 + a12 / sy**2, p22 + a22 / sy**2
        b1 = p11 * get["mu_alpha"] + p12 * get["mu_beta"] + xy1 / sy**2
        b2 = p12 * get["mu_alpha"] + p22 * get["mu_beta"] + xy2 / sy**2
        det_q = q11 * q22 - q12**2
        mean1 = (q22 * b1 - q12 * b2) / det_q
        mean2 = (-q12 * b1 + q11 * b2) / det_q
        # draw from N(mean, Q^-1) through the Cholesky factor of Q^-1
        c11 = np.sqrt(q22 / det_q)
        c21 = (-q12 / det_q) / c11
        c22 = np.sqrt(q11 / det_q - c21**2)
        rng = np.random.default_rng(seed)
        z1 = rng.standard_normal(mean1.shape)
        z2 = rng.standard_normal(mean1.shape)
        coords = {spec.group_dim: prep.names}
        dims = ("chain", "draw", spec.group_dim)
        post["alpha"] = xr.DataArray(mean1 + c11 * z1, dims=dims, coords=coords)
        post["beta"] = xr.DataArray(mean2 + c21 * z1 + c22 * z2, dims=dims, coords=coords)
        return idata

    return model, complete


PROTOTYPES = {
    "partial_pooling": marginal_partial_pooling,
    "varying_slopes": marginal_varying_slopes,
}
